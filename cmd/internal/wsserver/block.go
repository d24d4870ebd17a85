package wsserver

import (
	"net/url"
	"strings"
	"time"

	"natsd.dev/confparse"
	"natsd.dev/server/config"
)

// Block returns a config.BlockFunc that parses the websocket {} block (and
// its alias ws) into *o, with upstream's keys and aliases; register it for
// both keys on a config.Parser. The nested tls {} block is the server's
// (config.DecodeTLSBlock) without verify_and_map and handshake_first,
// which are refused, and connection_rate_limit, which has no effect here.
func Block(o *Options) config.BlockFunc {
	return func(d *confparse.Decoder, e *confparse.Entry) { parseBlock(d, e, o) }
}

func parseBlock(d *confparse.Decoder, e *confparse.Entry, w *Options) {
	v := e.Value
	if v.Kind != confparse.KindMap {
		d.TypeError(e.Key, "a map", v)
		return
	}
	for i := range v.Map.Entries {
		me := &v.Map.Entries[i]
		mv := me.Value
		key := strings.ToLower(me.Key)
		name := "websocket " + key
		switch key {
		case "listen":
			if host, port, hostSet, ok := config.HostPort(d, name, mv); ok {
				w.Port = port
				if hostSet {
					w.Host = host
				}
			}
		case "port":
			d.Int(name, mv, &w.Port)
		case "host", "net":
			d.Str(name, mv, &w.Host)
		case "advertise":
			d.Str(name, mv, &w.Advertise)
		case "no_tls":
			d.Bool(name, mv, &w.NoTLS)
		case "tls":
			blockTLS(d, name, mv, w)
		case "same_origin":
			d.Bool(name, mv, &w.SameOrigin)
		case "allowed_origins", "allowed_origin", "allow_origins", "allow_origin", "origins", "origin":
			w.AllowedOrigins = origins(d, name, mv)
		case "handshake_timeout":
			handshakeTimeout(d, name, mv, &w.HandshakeTimeout)
		case "compress", "compression":
			d.Bool(name, mv, &w.Compression)
		case "user_cookie":
			d.Str(name, mv, &w.UsernameCookie)
		case "pass_cookie":
			d.Str(name, mv, &w.PasswordCookie)
		case "token_cookie":
			d.Str(name, mv, &w.TokenCookie)
		case "authorization", "authentication", "jwt_cookie", "no_auth_user":
			// They decide who may connect: refusing beats ignoring.
			d.Errorf(me.KeyPos, config.ErrNotSupported, "websocket %s is not supported yet", me.Key)
		default:
			if !me.UsedAsVariable {
				d.Errorf(me.KeyPos, config.ErrUnknownField, "unknown field %q", me.Key)
			}
		}
	}
	if w.Port != 0 && w.TLSConfig == nil && !w.NoTLS {
		d.Errorf(e.KeyPos, config.ErrBadValue, "%s", errNoTLS)
	}
}

// blockTLS parses the tls {} block of websocket {}.
func blockTLS(d *confparse.Decoder, name string, v *confparse.Value, w *Options) {
	tb, ok := config.DecodeTLSBlock(d, name, v)
	if !ok {
		return
	}
	var mapKey, firstKey, rateKey *confparse.Entry
	for i := range v.Map.Entries {
		te := &v.Map.Entries[i]
		switch strings.ToLower(te.Key) {
		case "verify_and_map":
			mapKey = te
		case "handshake_first", "first", "immediate":
			firstKey = te
		case "connection_rate_limit":
			rateKey = te
		}
	}
	for _, k := range []*confparse.Entry{mapKey, firstKey} {
		if k != nil {
			d.Errorf(k.KeyPos, config.ErrNotSupported, "websocket tls %s is not supported yet", k.Key)
		}
	}
	if rateKey != nil {
		// Upstream reads it here too and applies it only to the client
		// listener.
		d.Warnf(rateKey.KeyPos, "websocket tls %s has no effect: only the client listener is rate limited", rateKey.Key)
	}
	w.TLSConfig = tb.Config
}

// origins takes one origin or an array of them; each must be a URL with a
// scheme and a host, as the listener compares them.
func origins(d *confparse.Decoder, key string, v *confparse.Value) []string {
	vals, _ := d.StringValues(key, v)
	var out []string
	for _, e := range vals {
		u, err := url.ParseRequestURI(e.Str)
		if err != nil || u.Host == "" {
			d.Errorf(e.Pos, config.ErrBadValue, "unable to parse allowed origin %q", e.Str)
			continue
		}
		out = append(out, e.Str)
	}
	return out
}

// handshakeTimeout takes a duration string or, as upstream does here
// without a warning, an integer number of seconds.
func handshakeTimeout(d *confparse.Decoder, key string, v *confparse.Value, dst *time.Duration) {
	if v.Kind == confparse.KindInt {
		*dst = time.Duration(v.Int) * time.Second
		return
	}
	d.StrictDuration(key, v, dst)
}
