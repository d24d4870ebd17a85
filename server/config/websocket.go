package config

import (
	"net/url"
	"strings"
	"time"

	"natsd.dev/confparse"
	"natsd.dev/server"
)

// websocket parses the websocket {} block into c.Options.Websocket, with
// upstream's keys and aliases.
func (a *applier) websocket(e *confparse.Entry) {
	v := e.Value
	if v.Kind != confparse.KindMap {
		a.TypeError(e.Key, "a map", v)
		return
	}
	w := &a.c.Options.Websocket
	for i := range v.Map.Entries {
		me := &v.Map.Entries[i]
		mv := me.Value
		key := strings.ToLower(me.Key)
		name := "websocket " + key
		switch key {
		case "listen":
			if host, port, hostSet, ok := a.hostPort(name, mv); ok {
				w.Port = port
				if hostSet {
					w.Host = host
				}
			}
		case "port":
			a.Int(name, mv, &w.Port)
		case "host", "net":
			a.Str(name, mv, &w.Host)
		case "advertise":
			a.Str(name, mv, &w.Advertise)
		case "no_tls":
			a.Bool(name, mv, &w.NoTLS)
		case "tls":
			if ts, ok := a.tlsBlock(name, mv); ok {
				for _, k := range []*confparse.Entry{ts.mapKey, ts.firstKey} {
					if k != nil {
						a.Errorf(k.KeyPos, ErrNotSupported, "websocket tls %s is not supported yet", k.Key)
					}
				}
				if k := ts.rateKey; k != nil {
					// Upstream reads it here too and applies it only to the
					// client listener.
					a.Warnf(k.KeyPos, "websocket tls %s has no effect: only the client listener is rate limited", k.Key)
				}
				w.TLSConfig = server.WithPinnedCerts(ts.Config, ts.Pinned)
			}
		case "same_origin":
			a.Bool(name, mv, &w.SameOrigin)
		case "allowed_origins", "allowed_origin", "allow_origins", "allow_origin", "origins", "origin":
			w.AllowedOrigins = a.origins(name, mv)
		case "handshake_timeout":
			a.handshakeTimeout(name, mv, &w.HandshakeTimeout)
		case "compress", "compression":
			a.Bool(name, mv, &w.Compression)
		case "user_cookie":
			a.Str(name, mv, &w.UsernameCookie)
		case "pass_cookie":
			a.Str(name, mv, &w.PasswordCookie)
		case "token_cookie":
			a.Str(name, mv, &w.TokenCookie)
		case "authorization", "authentication", "jwt_cookie", "no_auth_user":
			// They decide who may connect: refusing beats ignoring.
			a.Errorf(me.KeyPos, ErrNotSupported, "websocket %s is not supported yet", me.Key)
		default:
			if !me.UsedAsVariable {
				a.Errorf(me.KeyPos, ErrUnknownField, "unknown field %q", me.Key)
			}
		}
	}
	if w.Port != 0 && w.TLSConfig == nil && !w.NoTLS {
		a.Errorf(e.KeyPos, ErrBadValue, "websocket requires TLS configuration")
	}
}

// origins takes one origin or an array of them; each must be a URL with a
// scheme and a host, as the listener compares them.
func (a *applier) origins(key string, v *confparse.Value) []string {
	vals, _ := a.StringValues(key, v)
	var out []string
	for _, e := range vals {
		u, err := url.ParseRequestURI(e.Str)
		if err != nil || u.Host == "" {
			a.Errorf(e.Pos, ErrBadValue, "unable to parse allowed origin %q", e.Str)
			continue
		}
		out = append(out, e.Str)
	}
	return out
}

// handshakeTimeout takes a duration string or, as upstream does here
// without a warning, an integer number of seconds.
func (a *applier) handshakeTimeout(key string, v *confparse.Value, dst *time.Duration) {
	if v.Kind == confparse.KindInt {
		*dst = time.Duration(v.Int) * time.Second
		return
	}
	a.StrictDuration(key, v, dst)
}

