// Package linkconf holds what the configuration parsers of the cluster
// module's link kinds (cluster/route, cluster/leaf, cluster/gateway) read
// alike: a listen address and its port, a link URL, a single-user
// authorization {} block, a tls {} block with both sides verified, an
// int32-range integer, a compression setting (Compression), the refusal
// of keys a parser's switch does not take (Unknown) and ParseConfig's
// result (Result). Each helper reports
// through the caller's confparse.Decoder, with the key names and
// upstream's texts the caller passes, so each kind keeps its own
// messages while the code is written once.
//
// Ports are returned as upstream writes them (-1 random, 0 none);
// UpstreamPort maps them to the Options convention of routes and
// gateways (0 random, -1 none). Leaf nodes keep upstream's.
package linkconf

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"natsd.dev/confparse"
	"natsd.dev/server"
	"natsd.dev/server/config"
)

// SplitHostPort parses a listen address as upstream does ("host:port" or
// ":port"; port -1 asks for a random one) and checks the port's range.
func SplitHostPort(s string) (host string, port int, err error) {
	host, ps, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, fmt.Errorf("could not parse address string %q", s)
	}
	port, err = strconv.Atoi(ps)
	if err != nil {
		return "", 0, fmt.Errorf("could not parse port %q", ps)
	}
	if port < -1 || port > 65535 {
		return "", 0, fmt.Errorf("%d is not a port number", port)
	}
	return host, port, nil
}

// UpstreamPort maps a port as upstream writes it (-1 random, 0 none) to
// the Options convention of routes and gateways (0 random, -1 none).
func UpstreamPort(port int) int {
	switch port {
	case -1:
		return 0
	case 0:
		return -1
	}
	return port
}

// Int takes an integer that fits an int32 into dst.
func Int(d *confparse.Decoder, key string, v *confparse.Value, dst *int) bool {
	var n int32
	if !d.Int32(key, v, &n) {
		return false
	}
	*dst = int(n)
	return true
}

// Port takes an integer from -1 (random) to 65535 into dst.
func Port(d *confparse.Decoder, key string, v *confparse.Value, dst *int) bool {
	var n int
	if !Int(d, key, v, &n) {
		return false
	}
	if n < -1 || n > 65535 {
		d.Errorf(v.Pos, server.ErrBadValue, "%s: %d is not a port number", key, n)
		return false
	}
	*dst = n
	return true
}

// Listen takes "host:port", ":port" or a bare port number: the port into
// port, the host (when the value names one) into host.
func Listen(d *confparse.Decoder, key string, v *confparse.Value, host *string, port *int) bool {
	if v.Kind == confparse.KindInt {
		return Port(d, key, v, port)
	}
	if v.Kind != confparse.KindString {
		d.TypeError(key, "host:port", v)
		return false
	}
	h, n, err := SplitHostPort(v.Str)
	if err != nil {
		d.Errorf(v.Pos, server.ErrBadValue, "%v", err)
		return false
	}
	*host, *port = h, n
	return true
}

// ParseURL parses one link URL (scheme://[user:pass@]host:port) with
// upstream's error text, which names the link kind ("route",
// "gateway"). A URL needs a host and a port: "host:port" alone parses as
// a scheme and would never connect.
func ParseURL(kind, s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Port() == "" {
		return nil, fmt.Errorf("error parsing %s url [%q]", kind, s)
	}
	return u, nil
}

// Authorization takes a single-user authorization {} block: user
// (username), password (pass) and timeout in seconds. kind starts
// upstream's refusals of users/nkeys and token ("Cluster", "Gateway").
// Other keys go to other (which may be nil) with their lowercase name
// and the key for messages; when it returns false they are unknown
// fields (unless used as a variable).
func Authorization(d *confparse.Decoder, kind, key string, v *confparse.Value,
	user, password *string, timeout *time.Duration, other func(ae *confparse.Entry, k, name string) bool) {
	if v.Kind != confparse.KindMap {
		d.TypeError(key, "a map", v)
		return
	}
	for i := range v.Map.Entries {
		ae := &v.Map.Entries[i]
		av := ae.Value
		k := strings.ToLower(ae.Key)
		name := key + " " + k
		switch k {
		case "user", "username":
			d.Str(name, av, user)
		case "password", "pass":
			d.Str(name, av, password)
		case "timeout":
			d.Seconds(name, av, timeout)
		case "users", "nkeys":
			d.Errorf(v.Pos, server.ErrBadValue, "%s authorization does not allow multiple users", kind)
		case "token":
			d.Errorf(v.Pos, server.ErrBadValue, "%s authorization does not support tokens", kind)
		default:
			if other == nil || !other(ae, k, name) {
				Unknown(d, ae, k, name, nil)
			}
		}
	}
}

// StrictTLS parses a tls {} block with the server's parser for a link
// whose verification is strict in both directions, as upstream's routes
// and gateways: peers must present a certificate, and ca_file verifies
// the servers this one dials as well as those it accepts. The first of
// unsupported present in the block is refused (server.ErrNotSupported).
func StrictTLS(d *confparse.Decoder, key string, v *confparse.Value, unsupported ...string) (*tls.Config, time.Duration, bool) {
	tb, errs := config.ParseTLSBlock(key, v)
	if errs != nil {
		d.Errors = append(d.Errors, errs...)
		return nil, 0, false
	}
	for _, k := range unsupported {
		if e := v.Map.Lookup(k); e != nil {
			d.Errorf(e.KeyPos, server.ErrNotSupported, "%s %s is not supported yet", key, e.Key)
			return nil, 0, false
		}
	}
	cfg := tb.Config
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	cfg.RootCAs = cfg.ClientCAs
	return cfg, tb.Timeout, true
}

// Unknown reports a key a parser's switch does not take: one in
// unsupported (by its lowercase k, the map may be nil) is refused as not
// supported yet under name, any other is an unknown field unless it was
// used as a variable. It reports whether it reported an error.
func Unknown(d *confparse.Decoder, e *confparse.Entry, k, name string, unsupported map[string]bool) bool {
	switch {
	case unsupported[k]:
		d.Errorf(e.KeyPos, server.ErrNotSupported, "%s is not supported yet", name)
	case !e.UsedAsVariable:
		d.Errorf(e.KeyPos, server.ErrUnknownField, "unknown field %q", e.Key)
	default:
		return false
	}
	return true
}

// Result is what a kind's ParseConfig returns once d has read the block
// into o: o and the warnings, or the warnings and every error (a
// confparse.ErrorList) when there was one.
func Result[O any](o *O, d *confparse.Decoder) (*O, confparse.ErrorList, error) {
	if len(d.Errors) > 0 {
		return nil, d.Warnings, d.Errors
	}
	return o, d.Warnings, nil
}

// Compression reads a link's compression setting as upstream does for
// routes and leaf nodes alike: a mode string, a boolean (true is
// trueMode, false "off") or a map { mode, rtt_thresholds } (aliases
// thresholds, rtts, rtt: an array of duration strings). The mode is
// returned as written; the caller normalizes it. ok is false when an
// error was reported through d.
func Compression(d *confparse.Decoder, key string, v *confparse.Value, trueMode string) (mode string, rtts []time.Duration, ok bool) {
	switch v.Kind {
	case confparse.KindString:
		return v.Str, nil, true
	case confparse.KindBool:
		if v.Bool {
			return trueMode, nil, true
		}
		return "off", nil, true
	case confparse.KindMap:
	default:
		d.Errorf(v.Pos, server.ErrBadValue, "field %q should be a boolean or a structure, got %T", "compression", v.Interface())
		return "", nil, false
	}
	for i := range v.Map.Entries {
		ce := &v.Map.Entries[i]
		name := key + " " + ce.Key
		switch strings.ToLower(ce.Key) {
		case "mode":
			if ce.Value.Kind != confparse.KindString {
				d.TypeError(name, "a string", ce.Value)
				return "", nil, false
			}
			mode = ce.Value.Str
		case "rtt_thresholds", "thresholds", "rtts", "rtt":
			vals, ok := d.StringValues(name, ce.Value)
			if !ok || ce.Value.Kind != confparse.KindArray {
				if ok {
					d.TypeError(name, "an array of durations", ce.Value)
				}
				return "", nil, false
			}
			for _, tv := range vals {
				dur, err := time.ParseDuration(tv.Str)
				if err != nil {
					d.Errorf(tv.Pos, server.ErrBadValue, "%v", err)
					return "", nil, false
				}
				rtts = append(rtts, dur)
			}
		default:
			if !ce.UsedAsVariable {
				d.Errorf(ce.KeyPos, server.ErrUnknownField, "unknown field %q", ce.Key)
				return "", nil, false
			}
		}
	}
	return mode, rtts, true
}
