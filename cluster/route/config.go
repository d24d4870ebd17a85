package route

import (
	"net/url"
	"strings"
	"time"

	"natsd.dev/cluster/internal/linkconf"
	"natsd.dev/confparse"
	"natsd.dev/server"
	"natsd.dev/sublist"
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
	return linkconf.Result(&opts, &p.Decoder)
}

// parser reads the block with a confparse.Decoder, whose errors wrap
// server.ErrBadValue and warnings server.ErrConfigWarning (the same
// values as confparse's).
type parser struct {
	o *Options
	// authPerms are permissions given inside authorization {}; the
	// cluster block's own permissions win over them, as upstream.
	authPerms *RoutePermissions
	confparse.Decoder
}

// unsupportedKeys are upstream's cluster keys natsd does not implement:
// refusing them beats running differently from what the file asks.
var unsupportedKeys = map[string]bool{
	"write_deadline": true,
	"write_timeout":  true,
}

func (p *parser) block(e *confparse.Entry) {
	v := e.Value
	if v.Kind != confparse.KindMap {
		p.TypeError(e.Key, "a map", v)
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
			if p.Str(name, mv, &o.Name) && strings.ContainsAny(o.Name, " \n") {
				p.Errorf(mv.Pos, server.ErrBadValue, "%s", errNameHasSpaces)
			}
		case "listen":
			var port int
			if linkconf.Listen(&p.Decoder, name, mv, &o.Host, &port) {
				o.Port = linkconf.UpstreamPort(port)
			}
		case "port":
			var port int
			if linkconf.Port(&p.Decoder, name, mv, &port) {
				o.Port = linkconf.UpstreamPort(port)
			}
		case "host", "net":
			p.Str(name, mv, &o.Host)
		case "advertise", "cluster_advertise":
			p.Str(name, mv, &o.Advertise)
		case "no_advertise":
			p.Bool(name, mv, &o.NoAdvertise)
		case "routes":
			p.routes(name, mv)
		case "authorization":
			p.authorization(name, mv)
		case "tls":
			p.tls(name, mv)
		case "connect_retries":
			linkconf.Int(&p.Decoder, name, mv, &o.ConnectRetries)
		case "connect_backoff":
			p.Bool(name, mv, &o.ConnectBackoff)
		case "pool_size":
			if linkconf.Int(&p.Decoder, name, mv, &o.PoolSize) && o.PoolSize < -1 {
				p.Errorf(mv.Pos, server.ErrBadValue, "%s: %d is not a pool size (-1 turns pooling off)", name, o.PoolSize)
			}
		case "accounts":
			p.accounts(name, mv)
		case "compression":
			p.compression(name, mv)
		case "ping_interval":
			if p.Duration(name, mv, &o.PingInterval) && o.PingInterval > RouteMaxPingInterval {
				p.Warnf(mv.Pos, "Cluster 'ping_interval' will reset to %v which is the max for routes", RouteMaxPingInterval)
			}
		case "ping_max":
			linkconf.Int(&p.Decoder, name, mv, &o.MaxPingsOut)
		case "permissions":
			if rp := p.permissions(name, mv, true); rp != nil {
				o.Permissions = rp
			}
		default:
			linkconf.Unknown(&p.Decoder, me, key, name, unsupportedKeys)
		}
	}
	if o.Permissions == nil {
		o.Permissions = p.authPerms
	}
}

// permissions takes a permissions map as upstream reads the cluster's:
// import (publish, pub) and export (subscribe, sub), each a subject, a
// list of subjects, or a map { allow, deny }. allow_responses makes no
// sense between servers: upstream refuses it in the cluster block
// (strict) and ignores it inside authorization {}. A permissions map
// without any subject gives nil.
func (p *parser) permissions(key string, v *confparse.Value, strict bool) *RoutePermissions {
	if v.Kind != confparse.KindMap {
		p.Errorf(v.Pos, server.ErrBadValue, "Expected permissions to be a map/struct, got %s", v.Describe())
		return nil
	}
	rp := &RoutePermissions{}
	for i := range v.Map.Entries {
		pe := &v.Map.Entries[i]
		k := strings.ToLower(pe.Key)
		name := key + " " + k
		switch k {
		case "import", "publish", "pub":
			rp.Import = p.subjectPermission(name, pe.Value)
		case "export", "subscribe", "sub":
			rp.Export = p.subjectPermission(name, pe.Value)
		case "allow_responses", "publish_allow_responses":
			if strict {
				p.Errorf(pe.KeyPos, server.ErrBadValue, "Cluster permissions do not support dynamic responses")
			}
		default:
			if !pe.UsedAsVariable {
				p.Errorf(pe.KeyPos, server.ErrUnknownField, "Unknown field %q parsing permissions", pe.Key)
			}
		}
	}
	if rp.Import == nil && rp.Export == nil {
		return nil
	}
	return rp
}

// subjectPermission takes a subject, a list of subjects (an allow list)
// or a map { allow, deny }; nil when it names no subject.
func (p *parser) subjectPermission(key string, v *confparse.Value) *SubjectPermission {
	sp := &SubjectPermission{}
	if v.Kind != confparse.KindMap {
		sp.Allow = p.subjects(key, v)
	} else {
		for i := range v.Map.Entries {
			se := &v.Map.Entries[i]
			switch strings.ToLower(se.Key) {
			case "allow":
				sp.Allow = p.subjects(key+" allow", se.Value)
			case "deny":
				sp.Deny = p.subjects(key+" deny", se.Value)
			default:
				if !se.UsedAsVariable {
					p.Errorf(se.KeyPos, server.ErrUnknownField, "Unknown field name %q parsing subject permissions, only 'allow' or 'deny' are permitted", se.Key)
				}
			}
		}
	}
	if len(sp.Allow) == 0 && len(sp.Deny) == 0 {
		return nil
	}
	return sp
}

// subjects takes a subject or an array of subjects, each checked.
func (p *parser) subjects(key string, v *confparse.Value) []string {
	vals := []*confparse.Value{v}
	switch v.Kind {
	case confparse.KindArray:
		vals = v.Array
	case confparse.KindString:
	default:
		p.Errorf(v.Pos, server.ErrBadValue, "%s: expected a subject or an array of subjects, got %s", key, v.Describe())
		return nil
	}
	var out []string
	for _, sv := range vals {
		if sv.Kind != confparse.KindString {
			p.Errorf(sv.Pos, server.ErrBadValue, "Subject in permissions array cannot be cast to string")
			continue
		}
		if !sublist.ValidSubject(sv.Str) {
			p.Errorf(sv.Pos, server.ErrBadValue, "subject %q is not a valid subject", sv.Str)
			continue
		}
		out = append(out, sv.Str)
	}
	return out
}

// SplitHostPort parses a listen address as upstream does ("host:port" or
// ":port"; port -1 asks for a random one) and checks the port's range.
func SplitHostPort(s string) (host string, port int, err error) { return linkconf.SplitHostPort(s) }

// routes takes an array of route URLs; a URL given twice is warned about
// and used once, as upstream does.
func (p *parser) routes(key string, v *confparse.Value) {
	if v.Kind != confparse.KindArray {
		p.TypeError(key, "an array of URLs", v)
		return
	}
	seen := make(map[string]bool)
	routes := make([]*url.URL, 0, len(v.Array))
	for _, rv := range v.Array {
		var s string
		if !p.Str(key, rv, &s) {
			continue
		}
		if seen[s] {
			p.Warnf(rv.Pos, "Duplicate route entry detected")
			continue
		}
		seen[s] = true
		u, err := ParseRouteURL(s)
		if err != nil {
			p.Errorf(rv.Pos, server.ErrBadValue, "%v", err)
			continue
		}
		routes = append(routes, u)
	}
	p.o.Routes = routes
}

// ParseRouteURL parses one route URL (nats-route://[user:pass@]host:port,
// nats:// also works) with upstream's error text. A URL needs a host and
// a port: "host:port" alone parses as a scheme and would never connect.
func ParseRouteURL(s string) (*url.URL, error) { return linkconf.ParseURL("route", s) }

// authorization takes the cluster's single user (linkconf.Authorization)
// and upstream's refusal of callouts; permissions there are deprecated
// and lose to the block's own.
func (p *parser) authorization(key string, v *confparse.Value) {
	o := p.o
	linkconf.Authorization(&p.Decoder, "Cluster", key, v, &o.Username, &o.Password, &o.AuthTimeout,
		func(ae *confparse.Entry, k, name string) bool {
			switch k {
			case "auth_callout", "callout":
				p.Errorf(v.Pos, server.ErrBadValue, "Cluster authorization does not support callouts")
			case "permissions", "default_permissions", "default_permission":
				p.Warnf(ae.KeyPos, `setting "permissions" within cluster authorization block is deprecated`)
				if rp := p.permissions(name, ae.Value, false); rp != nil {
					p.authPerms = rp
				}
			default:
				return false
			}
			return true
		})
}

// tls parses the block (linkconf.StrictTLS): as upstream does for
// routes, verification is always strict in both directions.
func (p *parser) tls(key string, v *confparse.Value) {
	if cfg, timeout, ok := linkconf.StrictTLS(&p.Decoder, key, v, "verify_and_map", "handshake_first", "first", "immediate"); ok {
		p.o.TLSConfig, p.o.TLSTimeout = cfg, timeout
	}
}

// accounts takes the names of the pinned accounts.
func (p *parser) accounts(key string, v *confparse.Value) {
	if v.Kind != confparse.KindArray {
		p.TypeError(key, "an array of account names", v)
		return
	}
	var names []string
	for _, av := range v.Array {
		var s string
		if p.Str(key, av, &s) {
			names = append(names, s)
		}
	}
	p.o.PinnedAccounts = names
}

// compression takes a mode as a string, a boolean (true is s2_fast for
// routes, false off) or a map { mode, rtt_thresholds }.
func (p *parser) compression(key string, v *confparse.Value) {
	mode, rtts, ok := linkconf.Compression(&p.Decoder, key, v, CompressionS2Fast)
	if !ok {
		return
	}
	c := Compression{Mode: mode, RTTThresholds: rtts}
	if err := c.Normalize(); err != nil {
		p.Errorf(v.Pos, server.ErrBadValue, "%v", err)
		return
	}
	p.o.Compression = c
}
