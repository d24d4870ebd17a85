package cluster

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
)

// errNameHasSpaces is upstream's text for a cluster name it refuses.
const errNameHasSpaces = "cluster name cannot contain spaces or new lines"

// RouteMaxPingInterval is the longest ping interval upstream uses on a
// route; a longer cluster ping_interval is reset to it (with a warning).
const RouteMaxPingInterval = 30 * time.Second

// DefaultOptions are the Options of a server without a cluster: no
// listener (Port -1) and every other field at its default.
func DefaultOptions() Options {
	return Options{Port: -1}
}

// ParseConfig turns the top-level cluster {} entry of a configuration file
// into Options, layered over DefaultOptions, with upstream's keys,
// aliases and checks. Keys upstream knows that natsd does not implement
// are errors wrapping server.ErrNotSupported; unknown keys wrap
// server.ErrUnknownField, bad values server.ErrBadValue, and warnings
// server.ErrConfigWarning, all as *confparse.Error with the file:line:col
// of the key or value. Every problem is reported: err is a
// confparse.ErrorList.
//
// Ports follow upstream in the file and Options' convention in the
// result: port -1 (a random port) becomes Port 0, and a block without a
// port (or with port 0) leaves Port at -1: clustering stays off, as
// upstream's does, while the other settings are kept for flags to
// complete.
func ParseConfig(e *confparse.Entry) (o *Options, warnings confparse.ErrorList, err error) {
	opts := DefaultOptions()
	p := parser{o: &opts}
	p.block(e)
	if len(p.errs) > 0 {
		return nil, p.warns, p.errs
	}
	return &opts, p.warns, nil
}

type parser struct {
	o     *Options
	errs  confparse.ErrorList
	warns confparse.ErrorList
}

func (p *parser) errorf(pos confparse.Pos, kind error, format string, args ...any) {
	p.errs = append(p.errs, &confparse.Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Err: kind})
}

func (p *parser) warnf(pos confparse.Pos, format string, args ...any) {
	p.warns = append(p.warns, &confparse.Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Err: server.ErrConfigWarning})
}

func (p *parser) typeErr(key, want string, v *confparse.Value) {
	p.errorf(v.Pos, server.ErrBadValue, "%s: expected %s, got %s", key, want, v.Describe())
}

// unsupportedKeys are upstream's cluster keys natsd does not implement:
// refusing them beats running differently from what the file asks.
var unsupportedKeys = map[string]bool{
	"permissions":    true,
	"write_deadline": true,
	"write_timeout":  true,
}

func (p *parser) block(e *confparse.Entry) {
	v := e.Value
	if v.Kind != confparse.KindMap {
		p.typeErr(e.Key, "a map", v)
		return
	}
	o := p.o
	for i := range v.Map.Entries {
		me := &v.Map.Entries[i]
		mv := me.Value
		key := strings.ToLower(me.Key)
		name := "cluster " + key
		switch key {
		case "name":
			if p.str(name, mv, &o.Name) && strings.ContainsAny(o.Name, " \n") {
				p.errorf(mv.Pos, server.ErrBadValue, "%s", errNameHasSpaces)
			}
		case "listen":
			p.listen(name, mv)
		case "port":
			var port int
			if p.port(name, mv, &port) {
				o.Port = upstreamPort(port)
			}
		case "host", "net":
			p.str(name, mv, &o.Host)
		case "advertise", "cluster_advertise":
			p.str(name, mv, &o.Advertise)
		case "no_advertise":
			p.boolean(name, mv, &o.NoAdvertise)
		case "routes":
			p.routes(name, mv)
		case "authorization":
			p.authorization(name, mv)
		case "tls":
			p.tls(name, mv)
		case "connect_retries":
			p.integer(name, mv, &o.ConnectRetries)
		case "pool_size":
			if p.integer(name, mv, &o.PoolSize) && o.PoolSize < -1 {
				p.errorf(mv.Pos, server.ErrBadValue, "%s: %d is not a pool size (-1 turns pooling off)", name, o.PoolSize)
			}
		case "accounts":
			p.accounts(name, mv)
		case "compression":
			p.compression(name, mv)
		case "ping_interval":
			if p.duration(name, mv, &o.PingInterval) && o.PingInterval > RouteMaxPingInterval {
				p.warnf(mv.Pos, "Cluster 'ping_interval' will reset to %v which is the max for routes", RouteMaxPingInterval)
			}
		case "ping_max":
			p.integer(name, mv, &o.MaxPingsOut)
		default:
			switch {
			case unsupportedKeys[key]:
				p.errorf(me.KeyPos, server.ErrNotSupported, "%s is not supported yet", name)
			case !me.UsedAsVariable:
				p.errorf(me.KeyPos, server.ErrUnknownField, "unknown field %q", me.Key)
			}
		}
	}
}

// upstreamPort maps a port as upstream writes it (-1 random, 0 none) to
// Options' convention (0 random, -1 none).
func upstreamPort(port int) int {
	switch port {
	case -1:
		return 0
	case 0:
		return -1
	}
	return port
}

func (p *parser) str(key string, v *confparse.Value, dst *string) bool {
	if v.Kind != confparse.KindString {
		p.typeErr(key, "a string", v)
		return false
	}
	*dst = v.Str
	return true
}

func (p *parser) boolean(key string, v *confparse.Value, dst *bool) bool {
	if v.Kind != confparse.KindBool {
		p.typeErr(key, "a boolean", v)
		return false
	}
	*dst = v.Bool
	return true
}

func (p *parser) integer(key string, v *confparse.Value, dst *int) bool {
	if v.Kind != confparse.KindInt {
		p.typeErr(key, "an integer", v)
		return false
	}
	if v.Int != int64(int32(v.Int)) {
		p.errorf(v.Pos, server.ErrBadValue, "%s value is too big", key)
		return false
	}
	*dst = int(v.Int)
	return true
}

// port takes an integer from -1 (random) to 65535.
func (p *parser) port(key string, v *confparse.Value, dst *int) bool {
	var n int
	if !p.integer(key, v, &n) {
		return false
	}
	if n < -1 || n > 65535 {
		p.errorf(v.Pos, server.ErrBadValue, "%s: %d is not a port number", key, n)
		return false
	}
	*dst = n
	return true
}

// duration takes a duration string or, as upstream does for backward
// compatibility, an integer number of seconds with a warning.
func (p *parser) duration(key string, v *confparse.Value, dst *time.Duration) bool {
	switch v.Kind {
	case confparse.KindString:
		d, err := time.ParseDuration(v.Str)
		if err != nil {
			p.errorf(v.Pos, server.ErrBadValue, "error parsing %s: %v", key, err)
			return false
		}
		*dst = d
		return true
	case confparse.KindInt:
		p.warnf(v.Pos, "invalid use of field %q: %s should be converted to a duration", key, key)
		*dst = time.Duration(v.Int) * time.Second
		return true
	}
	p.typeErr(key, "a duration", v)
	return false
}

// listen takes "host:port", ":port" or a bare port number.
func (p *parser) listen(key string, v *confparse.Value) {
	o := p.o
	if v.Kind == confparse.KindInt {
		var port int
		if p.port(key, v, &port) {
			o.Port = upstreamPort(port)
		}
		return
	}
	if v.Kind != confparse.KindString {
		p.typeErr(key, "host:port", v)
		return
	}
	host, port, err := SplitHostPort(v.Str)
	if err != nil {
		p.errorf(v.Pos, server.ErrBadValue, "%v", err)
		return
	}
	o.Host, o.Port = host, upstreamPort(port)
}

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

// routes takes an array of route URLs; a URL given twice is warned about
// and used once, as upstream does.
func (p *parser) routes(key string, v *confparse.Value) {
	if v.Kind != confparse.KindArray {
		p.typeErr(key, "an array of URLs", v)
		return
	}
	seen := make(map[string]bool)
	routes := make([]*url.URL, 0, len(v.Array))
	for _, rv := range v.Array {
		var s string
		if !p.str(key, rv, &s) {
			continue
		}
		if seen[s] {
			p.warnf(rv.Pos, "Duplicate route entry detected")
			continue
		}
		seen[s] = true
		u, err := ParseRouteURL(s)
		if err != nil {
			p.errorf(rv.Pos, server.ErrBadValue, "%v", err)
			continue
		}
		routes = append(routes, u)
	}
	p.o.Routes = routes
}

// ParseRouteURL parses one route URL (nats-route://[user:pass@]host:port,
// nats:// also works) with upstream's error text. A URL needs a host and
// a port: "host:port" alone parses as a scheme and would never connect.
func ParseRouteURL(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Port() == "" {
		return nil, fmt.Errorf("error parsing route url [%q]", s)
	}
	return u, nil
}

// authorization takes the cluster's single user: user (username),
// password (pass) and timeout in seconds.
func (p *parser) authorization(key string, v *confparse.Value) {
	if v.Kind != confparse.KindMap {
		p.typeErr(key, "a map", v)
		return
	}
	o := p.o
	for i := range v.Map.Entries {
		ae := &v.Map.Entries[i]
		av := ae.Value
		k := strings.ToLower(ae.Key)
		name := key + " " + k
		switch k {
		case "user", "username":
			p.str(name, av, &o.Username)
		case "password", "pass":
			p.str(name, av, &o.Password)
		case "timeout":
			switch av.Kind {
			case confparse.KindInt:
				o.AuthTimeout = time.Duration(av.Int) * time.Second
			case confparse.KindFloat:
				o.AuthTimeout = time.Duration(av.Float * float64(time.Second))
			default:
				p.typeErr(name, "a number of seconds", av)
			}
		case "users", "nkeys":
			p.errorf(v.Pos, server.ErrBadValue, "Cluster authorization does not allow multiple users")
		case "token":
			p.errorf(v.Pos, server.ErrBadValue, "Cluster authorization does not support tokens")
		case "auth_callout", "callout":
			p.errorf(v.Pos, server.ErrBadValue, "Cluster authorization does not support callouts")
		case "permissions", "default_permissions":
			p.errorf(ae.KeyPos, server.ErrNotSupported, "%s is not supported yet", name)
		default:
			if !ae.UsedAsVariable {
				p.errorf(ae.KeyPos, server.ErrUnknownField, "unknown field %q", ae.Key)
			}
		}
	}
}

// tls parses the block with the server's tls {} parser. As upstream does
// for routes, verification is always strict in both directions: peers
// must present a certificate, and ca_file verifies both the certificates
// of accepted routes and those of the servers this one dials.
func (p *parser) tls(key string, v *confparse.Value) {
	tb, errs := server.ParseTLSBlock(key, v)
	if errs != nil {
		p.errs = append(p.errs, errs...)
		return
	}
	for _, k := range []string{"verify_and_map", "handshake_first"} {
		if e := v.Map.Lookup(k); e != nil {
			p.errorf(e.KeyPos, server.ErrNotSupported, "%s %s is not supported yet", key, e.Key)
			return
		}
	}
	cfg := tb.Config
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	cfg.RootCAs = cfg.ClientCAs
	p.o.TLSConfig = cfg
	p.o.TLSTimeout = tb.Timeout
}

// accounts takes the names of the pinned accounts.
func (p *parser) accounts(key string, v *confparse.Value) {
	if v.Kind != confparse.KindArray {
		p.typeErr(key, "an array of account names", v)
		return
	}
	var names []string
	for _, av := range v.Array {
		var s string
		if p.str(key, av, &s) {
			names = append(names, s)
		}
	}
	p.o.PinnedAccounts = names
}

// compression takes a mode as a string, a boolean (true is s2_fast for
// routes, false off) or a map { mode, rtt_thresholds }.
func (p *parser) compression(key string, v *confparse.Value) {
	var c Compression
	switch v.Kind {
	case confparse.KindString:
		c.Mode = v.Str
	case confparse.KindBool:
		c.Mode = CompressionOff
		if v.Bool {
			c.Mode = CompressionS2Fast
		}
	case confparse.KindMap:
		for i := range v.Map.Entries {
			ce := &v.Map.Entries[i]
			k := strings.ToLower(ce.Key)
			name := key + " " + k
			switch k {
			case "mode":
				if !p.str(name, ce.Value, &c.Mode) {
					return
				}
			case "rtt_thresholds", "thresholds", "rtts", "rtt":
				if ce.Value.Kind != confparse.KindArray {
					p.typeErr(name, "an array of durations", ce.Value)
					return
				}
				for _, tv := range ce.Value.Array {
					var s string
					if !p.str(name, tv, &s) {
						return
					}
					d, err := time.ParseDuration(s)
					if err != nil {
						p.errorf(tv.Pos, server.ErrBadValue, "error parsing %s: %v", name, err)
						return
					}
					c.RTTThresholds = append(c.RTTThresholds, d)
				}
			default:
				if !ce.UsedAsVariable {
					p.errorf(ce.KeyPos, server.ErrUnknownField, "unknown field %q", ce.Key)
					return
				}
			}
		}
	default:
		p.errorf(v.Pos, server.ErrBadValue, "field %q should be a boolean or a structure, got %s", "compression", v.Kind)
		return
	}
	if err := c.Normalize(); err != nil {
		p.errorf(v.Pos, server.ErrBadValue, "%v", err)
		return
	}
	p.o.Compression = c
}
