package mqtt

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"natsd.dev/confparse"
	"natsd.dev/server"
	"natsd.dev/server/config"
)

// The refusals of Validate, with upstream's texts: nats-server refuses to
// start with the same words.
var (
	// ErrServerNameRequired: a server in a cluster or a super-cluster
	// must have a server_name for MQTT (its sessions are named after it).
	ErrServerNameRequired = errors.New("mqtt requires server name to be explicitly set")
	// ErrUserWithUsers: the block's authorization user next to the
	// server's users or nkeys.
	ErrUserWithUsers = errors.New("mqtt authentication username not compatible with presence of users/nkeys")
	// ErrTokenWithUsers: the block's authorization token next to the
	// server's users or nkeys.
	ErrTokenWithUsers = errors.New("mqtt authentication token not compatible with presence of users/nkeys")
	// ErrAckWaitNegative: ack_wait below zero.
	ErrAckWaitNegative = errors.New("ack wait must be a positive value")
	// ErrJSAPITimeoutNegative: js_api_timeout below zero.
	ErrJSAPITimeoutNegative = errors.New("JS API timeout must be a positive value")
	// ErrJetStreamRequired: a standalone server (no cluster, gateway or
	// leaf node links) keeps MQTT sessions in its own JetStream, which
	// must be on.
	ErrJetStreamRequired = errors.New("mqtt requires JetStream to be enabled if running in standalone mode")
)

// maxAckPendingLimit is the largest max_ack_pending: MQTT packet
// identifiers are 16 bits.
const maxAckPendingLimit = 0xFFFF

// RegisterConfig has p parse nats-server's mqtt {} block into dst, as
// upstream reads it, and set *present when the file has one:
//
//   - host (net), port and listen ("host:port", ":port" or a port);
//     port -1 picks a free port, 0 (the default) leaves MQTT off;
//   - tls {}: the server's tls block (see config.DecodeTLSBlock) with
//     verify_and_map (TLSMap) and pinned_certs; timeout goes to
//     TLSTimeout in seconds. handshake_first is accepted and changes
//     nothing (MQTT over TLS always starts with the handshake);
//     connection_rate_limit is accepted with a warning (upstream rate
//     limits only the client listener);
//   - authorization {} (or authentication {}): user (username), password
//     (pass), token and timeout (seconds), nothing else, as upstream;
//   - no_auth_user;
//   - ack_wait (ackwait), consumer_inactive_threshold
//     (consumer_auto_cleanup) and js_api_timeout (api_timeout):
//     durations, or a number of seconds with upstream's warning;
//   - max_ack_pending (max_pending, max_inflight): 0 to 65535;
//   - js_domain, stream_replicas, consumer_memory_storage,
//     reject_qos2_publish, downgrade_qos2_subscribe;
//   - consumer_replicas, ignored with upstream's warning (ConsumerReplicas
//     stays 0).
//
// Unknown keys and values of the wrong type are reported through the
// parse's decoder at file:line:col, every one of them. What needs the
// rest of the configuration (server_name, JetStream, the server's users)
// is for Validate once the whole file is known.
//
// Register once per parse, with a fresh dst and present.
func RegisterConfig(p *config.Parser, dst *Options, present *bool) {
	p.Register("mqtt", func(d *confparse.Decoder, e *confparse.Entry) {
		if e.Value.Kind != confparse.KindMap {
			d.TypeError(e.Key, "a map", e.Value)
			return
		}
		*present = true
		parseBlock(d, e.Value.Map, dst)
	})
}

// parseBlock parses the entries of the mqtt {} block into o.
func parseBlock(d *confparse.Decoder, m *confparse.Map, o *Options) {
	for i := range m.Entries {
		me := &m.Entries[i]
		v := me.Value
		key := strings.ToLower(me.Key)
		name := "mqtt " + key
		switch key {
		case "listen":
			if host, port, hostSet, ok := config.HostPort(d, name, v); ok {
				o.Port = port
				if hostSet {
					o.Host = host
				}
			}
		case "port":
			d.Int(name, v, &o.Port)
		case "host", "net":
			d.Str(name, v, &o.Host)
		case "tls":
			parseTLS(d, name, v, o)
		case "authorization", "authentication":
			parseAuthorization(d, name, v, o)
		case "no_auth_user":
			d.Str(name, v, &o.NoAuthUser)
		case "ack_wait", "ackwait":
			// Upstream names the key so in its messages, whatever alias.
			duration(d, "ack_wait", me, &o.AckWait)
		case "max_ack_pending", "max_pending", "max_inflight":
			maxAckPending(d, name, me, &o.MaxAckPending)
		case "js_domain":
			d.Str(name, v, &o.JSDomain)
		case "js_api_timeout", "api_timeout":
			duration(d, "js_api_timeout", me, &o.JSAPITimeout)
		case "stream_replicas":
			d.Int(name, v, &o.StreamReplicas)
		case "consumer_replicas":
			// Upstream ignores it, whatever its value, with this
			// warning.
			d.Warnf(me.KeyPos, "invalid use of field %q: consumer replicas setting ignored in this server version", key)
		case "consumer_memory_storage":
			d.Bool(name, v, &o.ConsumerMemoryStorage)
		case "consumer_inactive_threshold", "consumer_auto_cleanup":
			duration(d, "consumer_inactive_threshold", me, &o.ConsumerInactiveThreshold)
		case "reject_qos2_publish":
			d.Bool(name, v, &o.RejectQoS2Pub)
		case "downgrade_qos2_subscribe":
			d.Bool(name, v, &o.DowngradeQoS2Sub)
		default:
			if !me.UsedAsVariable {
				d.Errorf(me.KeyPos, config.ErrUnknownField, "unknown field %q", me.Key)
			}
		}
	}
}

// duration takes a duration string or, with upstream's warning, a number
// of seconds; as upstream, a bad string and the warning are reported at
// the key, named key whatever alias the file used.
func duration(d *confparse.Decoder, key string, e *confparse.Entry, dst *time.Duration) {
	v := e.Value
	switch v.Kind {
	case confparse.KindInt:
		d.Warnf(e.KeyPos, "invalid use of field %q: %s should be converted to a duration", key, key)
		*dst = time.Duration(v.Int) * time.Second
	case confparse.KindString:
		t, err := time.ParseDuration(v.Str)
		if err != nil {
			d.Errorf(e.KeyPos, config.ErrBadValue, "error parsing %s: %v", key, err)
			return
		}
		*dst = t
	default:
		d.TypeError(key, "a duration", v)
	}
}

// maxAckPending takes an integer in [0..65535], with upstream's message
// (at the key, as upstream's) for one outside.
func maxAckPending(d *confparse.Decoder, name string, e *confparse.Entry, dst *int) {
	var n int64
	if !d.Int64(name, e.Value, &n) {
		return
	}
	if n < 0 || n > maxAckPendingLimit {
		d.Errorf(e.KeyPos, config.ErrBadValue, "invalid value %v, should in [0..%d] range", n, maxAckPendingLimit)
		return
	}
	*dst = int(n)
}

// parseTLS parses the block's tls {}: the server's tls block, whose
// verify_and_map and pinned_certs MQTT honours.
func parseTLS(d *confparse.Decoder, name string, v *confparse.Value, o *Options) {
	tb, ok := config.DecodeTLSBlock(d, name, v)
	if !ok {
		return
	}
	for i := range v.Map.Entries {
		te := &v.Map.Entries[i]
		if strings.EqualFold(te.Key, "connection_rate_limit") {
			d.Warnf(te.KeyPos, "mqtt tls %s has no effect: only the client listener is rate limited", te.Key)
		}
	}
	o.TLSConfig = tb.Config
	o.TLSMap = tb.Map
	o.TLSTimeout = tb.Timeout.Seconds()
}

// parseAuthorization parses the block's authorization {}: one user or a
// token for MQTT clients, and the time they have to connect. Upstream
// takes nothing else here (no users, nkeys or permissions).
func parseAuthorization(d *confparse.Decoder, name string, v *confparse.Value, o *Options) {
	if v.Kind != confparse.KindMap {
		d.TypeError(name, "a map", v)
		return
	}
	for i := range v.Map.Entries {
		ae := &v.Map.Entries[i]
		av := ae.Value
		key := strings.ToLower(ae.Key)
		an := name + " " + key
		switch key {
		case "user", "username":
			d.Str(an, av, &o.Username)
		case "pass", "password":
			d.Str(an, av, &o.Password)
		case "token":
			d.Str(an, av, &o.Token)
		case "timeout":
			var t time.Duration
			if d.Seconds(an, av, &t) {
				if t < 0 {
					d.Errorf(av.Pos, config.ErrBadValue, "%s: must not be negative", an)
					continue
				}
				o.AuthTimeout = t.Seconds()
			}
		default:
			if !ae.UsedAsVariable {
				d.Errorf(ae.KeyPos, config.ErrUnknownField, "unknown field %q", ae.Key)
			}
		}
	}
}

// Env is what Validate needs to know of the rest of the configuration.
type Env struct {
	// Server is the server's configuration: its server_name and the
	// users of authorization {} and of the accounts (nil: none).
	Server *server.Options
	// JetStream says whether JetStream is on.
	JetStream bool
	// Clustered says whether the server has a cluster or a gateway
	// listener.
	Clustered bool
	// LeafNodes says whether the server has a leaf node listener or
	// remotes.
	LeafNodes bool
}

// Validate checks o against the rest of the configuration the way
// nats-server does before it starts, and returns the first refusal in
// upstream's order with upstream's text:
//
//  1. a server in a cluster or a super-cluster (clustered) must have a
//     server_name (ErrServerNameRequired);
//  2. the block's no_auth_user must be one of the server's users or
//     nkeys;
//  3. the block's authorization user or token cannot stand next to the
//     server's users or nkeys (ErrUserWithUsers, ErrTokenWithUsers);
//  4. ack_wait and js_api_timeout must not be negative
//     (ErrAckWaitNegative, ErrJSAPITimeoutNegative);
//  5. a standalone server (not clustered, without leaf nodes) needs
//     JetStream (ErrJetStreamRequired);
//  6. consumer_replicas cannot be above stream_replicas.
//
// A zero Port (no MQTT) is always valid.
func (o *Options) Validate(env Env) error {
	if o.Port == 0 {
		return nil
	}
	srv := env.Server
	if srv == nil {
		srv = &server.Options{}
	}
	if srv.ServerName == "" && env.Clustered {
		return ErrServerNameRequired
	}
	var users []string // names and nkeys
	if a := srv.Authorization; a != nil {
		for _, u := range a.Users {
			if u.Nkey != "" {
				users = append(users, u.Nkey)
			} else {
				users = append(users, u.Name)
			}
		}
	}
	if o.NoAuthUser != "" {
		if len(users) == 0 {
			return fmt.Errorf(`no_auth_user: "%s" present, but users/nkeys are not defined`, o.NoAuthUser)
		}
		found := false
		for _, u := range users {
			found = found || u == o.NoAuthUser
		}
		if !found {
			return fmt.Errorf(`no_auth_user: "%s" not present as user or nkey in authorization block or account configuration`, o.NoAuthUser)
		}
	}
	if len(users) > 0 {
		switch {
		case o.Username != "":
			return ErrUserWithUsers
		case o.Token != "":
			return ErrTokenWithUsers
		}
	}
	switch {
	case o.AckWait < 0:
		return ErrAckWaitNegative
	case o.JSAPITimeout < 0:
		return ErrJSAPITimeoutNegative
	case !env.JetStream && !env.Clustered && !env.LeafNodes:
		return ErrJetStreamRequired
	case o.ConsumerReplicas > 0 && o.StreamReplicas > 0 && o.ConsumerReplicas > o.StreamReplicas:
		return fmt.Errorf("mqtt: consumer_replicas (%v) cannot be higher than stream_replicas (%v)", o.ConsumerReplicas, o.StreamReplicas)
	}
	return nil
}
