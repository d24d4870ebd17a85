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
	registerMQTTVarz(s, p.mqttOpts, m.Addr())
	return nil
}

// registerMQTTVarz puts the mqtt section of /varz for o on s's registry,
// at start and after a reload.
func registerMQTTVarz(s *server.Server, o mqtt.Options, addr net.Addr) {
	v := mqttVarz(o, addr)
	s.RegisterVarz("mqtt", server.VarzFunc(func(vz *snapshot.Varz) { vz.MQTT = v }))
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
	p.leafWebsocket(&wo)
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
		// As configured: upstream shows none when the default applies.
		MaxAckPending:   o.MaxAckPending,
		TLSCertNotAfter: server.TLSCertNotAfter(o.TLSConfig),
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

// checkMQTTReload compares two mqtt {} blocks. As upstream, ack_wait,
// max_ack_pending, the replicas, consumer_memory_storage,
// consumer_inactive_threshold and the tls {} certificates reload
// (mqtt.MQTT.Reload: new consumers and handshakes use them); it returns
// those that changed, logged as upstream's "MQTT <key> = <value>". Any
// other change is refused ("config reload not supported for MQTT").
func checkMQTTReload(old, nu mqtt.Options) ([]keyChange, error) {
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
		{"js_domain", old.JSDomain, nu.JSDomain, false},
		{"js_api_timeout", old.JSAPITimeout, nu.JSAPITimeout, false},
		{"reject_qos2_publish", old.RejectQoS2Pub, nu.RejectQoS2Pub, false},
		{"downgrade_qos2_subscribe", old.DowngradeQoS2Sub, nu.DowngradeQoS2Sub, false},
	} {
		if k.old == k.new {
			continue
		}
		if k.secret {
			return nil, fmt.Errorf("config reload not supported for MQTT: %s changed", k.key)
		}
		return nil, fmt.Errorf("config reload not supported for MQTT: %s: old=%v, new=%v", k.key, k.old, k.new)
	}
	if (old.TLSConfig == nil) != (nu.TLSConfig == nil) {
		return nil, errors.New("config reload not supported for MQTT: tls")
	}
	var changed []keyChange
	for _, k := range []struct {
		key      string
		old, new any
	}{
		{"ack_wait", old.AckWait, nu.AckWait},
		{"max_ack_pending", old.MaxAckPending, nu.MaxAckPending},
		{"stream_replicas", old.StreamReplicas, nu.StreamReplicas},
		{"consumer_replicas", old.ConsumerReplicas, nu.ConsumerReplicas},
		{"consumer_memory_storage", old.ConsumerMemoryStorage, nu.ConsumerMemoryStorage},
		{"consumer_inactive_threshold", old.ConsumerInactiveThreshold, nu.ConsumerInactiveThreshold},
	} {
		if k.old != k.new {
			changed = append(changed, keyChange{"MQTT " + k.key, fmt.Sprint(k.new)})
		}
	}
	if !sameTLS(old.TLSConfig, nu.TLSConfig) {
		changed = append(changed, keyChange{"MQTT tls", ""})
	}
	// What the lists above miss (a setting added later) still needs a
	// restart.
	for _, o := range []*mqtt.Options{&old, &nu} {
		o.TLSConfig = nil
		o.AckWait, o.MaxAckPending, o.StreamReplicas, o.ConsumerReplicas = 0, 0, 0, 0
		o.ConsumerMemoryStorage, o.ConsumerInactiveThreshold = false, 0
	}
	if !reflect.DeepEqual(old, nu) {
		return nil, errors.New("config reload not supported for MQTT")
	}
	return changed, nil
}
