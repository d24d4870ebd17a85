package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"reflect"

	"natsd.dev/cluster"
	"natsd.dev/cmd/internal/wsserver"
	"natsd.dev/mqtt"
	"natsd.dev/server"
	"natsd.dev/server/snapshot"
)

// mqttWSPath is where upstream serves MQTT clients on the websocket port.
const mqttWSPath = "/mqtt"

// mqttMessageOverhead is what an MQTT PUBLISH carries next to its payload
// at most, as the mqtt module bounds a packet: a topic of up to 64 KiB, its
// properties and fixed header.
const mqttMessageOverhead = 64 << 10

// loadMQTT checks the mqtt {} block of cfg against the rest of the
// configuration, as nats-server does before it starts (not for -t, which
// upstream answers without these checks either).
func loadMQTT(cfg *fileConfig, jsOn bool, co *cluster.Options) (mqtt.Options, error) {
	o := cfg.mqtt
	err := o.Validate(mqtt.Env{Server: &cfg.Options, JetStream: jsOn, Clustered: clusterOn(co)})
	return o, err
}

// startMQTT starts the MQTT front end on s, from the server's Start,
// after JetStream, where it keeps its sessions.
func (p *process) startMQTT(s *server.Server) error {
	m, err := mqtt.Start(s, p.mqttOpts)
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Op == "listen" {
			// Upstream's words for a port it cannot bind.
			return fmt.Errorf("Unable to listen for MQTT connections: %w", err)
		}
		return err
	}
	p.mq.Store(m)
	v := mqttVarz(p.mqttOpts, m.Addr())
	s.RegisterVarz("mqtt", server.VarzFunc(func(vz *snapshot.Varz) { vz.MQTT = v }))
	return nil
}

// stopMQTT shuts the MQTT front end down once, before JetStream, from
// whichever of shutdown, lame duck mode and a failed start comes first.
func (p *process) stopMQTT(ctx context.Context, log *slog.Logger) {
	p.mqStop.Do(func() {
		m := p.mq.Load()
		if m == nil {
			return
		}
		if err := m.Shutdown(ctx); err != nil {
			log.Error("MQTT shutdown did not complete: " + err.Error())
		}
	})
}

// websocketOptions are the options of the WebSocket listener: the
// websocket {} block with upstream's MQTT path, served by the MQTT front
// end when the file configures one, refused otherwise.
func (p *process) websocketOptions() wsserver.Options {
	wo := p.cfg.websocket
	ep := wsserver.Endpoint{Subprotocol: "mqtt", Refusal: "mqtt websocket endpoint not enabled",
		// A compressed WebSocket message may hold a PUBLISH of
		// max_payload with its topic and properties.
		MessageOverhead: mqttMessageOverhead}
	if p.mqttOpts.Port != 0 {
		// The WebSocket listener starts before MQTT, as upstream's; a
		// client that comes in between is closed.
		ep.Serve = func(nc net.Conn) {
			if m := p.mq.Load(); m != nil {
				m.ServeConn(nc)
				return
			}
			nc.Close()
		}
	}
	wo.Endpoints = map[string]wsserver.Endpoint{mqttWSPath: ep}
	return wo
}

// mqttVarz is the mqtt section of /varz as upstream fills it: the block's
// settings, the bound address and the TLS timeout in effect.
func mqttVarz(o mqtt.Options, addr net.Addr) snapshot.MQTTOptsVarz {
	v := snapshot.MQTTOptsVarz{
		Host:        o.Host,
		Port:        o.Port,
		NoAuthUser:  o.NoAuthUser,
		AuthTimeout: o.AuthTimeout,
		TLSMap:      o.TLSMap,
		TLSTimeout:  o.TLSTimeout,
		JsDomain:    o.JSDomain,
		AckWait:     o.AckWait,
	}
	if v.Host == "" {
		v.Host = server.DefaultHost
	}
	if a, ok := addr.(*net.TCPAddr); ok {
		v.Port = a.Port
	}
	if v.TLSTimeout == 0 {
		v.TLSTimeout = server.DefaultTLSTimeout.Seconds()
	}
	return v
}

// checkMQTTReload refuses a reload that changes the mqtt {} block:
// natsd applies it only at start. Upstream refuses the same way
// ("config reload not supported for MQTT") all but ack_wait,
// max_ack_pending, the replicas, the consumers' storage and inactive
// threshold and the TLS certificates, which it applies.
func checkMQTTReload(old, nu mqtt.Options) error {
	for _, k := range []struct {
		key      string
		old, new any
		secret   bool // not printed
	}{
		{"host", old.Host, nu.Host, false},
		{"port", old.Port, nu.Port, false},
		{"tls verify_and_map", old.TLSMap, nu.TLSMap, false},
		{"tls timeout", old.TLSTimeout, nu.TLSTimeout, false},
		{"authorization user", old.Username, nu.Username, false},
		{"authorization password", old.Password, nu.Password, true},
		{"authorization token", old.Token, nu.Token, true},
		{"authorization timeout", old.AuthTimeout, nu.AuthTimeout, false},
		{"no_auth_user", old.NoAuthUser, nu.NoAuthUser, false},
		{"ack_wait", old.AckWait, nu.AckWait, false},
		{"max_ack_pending", old.MaxAckPending, nu.MaxAckPending, false},
		{"js_domain", old.JSDomain, nu.JSDomain, false},
		{"js_api_timeout", old.JSAPITimeout, nu.JSAPITimeout, false},
		{"stream_replicas", old.StreamReplicas, nu.StreamReplicas, false},
		{"consumer_memory_storage", old.ConsumerMemoryStorage, nu.ConsumerMemoryStorage, false},
		{"consumer_inactive_threshold", old.ConsumerInactiveThreshold, nu.ConsumerInactiveThreshold, false},
		{"reject_qos2_publish", old.RejectQoS2Pub, nu.RejectQoS2Pub, false},
		{"downgrade_qos2_subscribe", old.DowngradeQoS2Sub, nu.DowngradeQoS2Sub, false},
	} {
		if k.old == k.new {
			continue
		}
		if k.secret {
			return fmt.Errorf("config reload not supported for MQTT: %s changed", k.key)
		}
		return fmt.Errorf("config reload not supported for MQTT: %s: old=%v, new=%v", k.key, k.old, k.new)
	}
	if !sameTLS(old.TLSConfig, nu.TLSConfig) {
		return errors.New("config reload not supported for MQTT: tls")
	}
	// What the list above misses (a setting added later) still needs a
	// restart.
	old.TLSConfig, nu.TLSConfig = nil, nil
	if !reflect.DeepEqual(old, nu) {
		return errors.New("config reload not supported for MQTT")
	}
	return nil
}
