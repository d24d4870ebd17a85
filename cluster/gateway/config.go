package gateway

import (
	"crypto/tls"
	"errors"
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

// Upstream's texts for a gateway block it refuses.
const (
	errNameHasSpaces     = "gateway name cannot contain spaces"
	errMultipleUsers     = "Gateway authorization does not allow multiple users"
	errTokens            = "Gateway authorization does not support tokens"
	errNoName            = "gateway has no name"
	errClusterNameConfig = "cluster name conflicts between cluster and gateway definitions"
)

// ErrClusterNameConflict is upstream's error for a gateway name that
// differs from the cluster's name (CheckClusterName); its text is
// upstream's, without a package prefix, since users see it.
var ErrClusterNameConflict = errors.New(errClusterNameConfig)

// ParseConfig turns the top-level gateway {} entry of a configuration file
// into Options, with upstream's keys, aliases and checks (those of its
// option validation included: a name, a port, a name and URLs for every
// remote). Keys upstream knows that natsd does not implement are errors
// wrapping server.ErrNotSupported; unknown keys wrap
// server.ErrUnknownField, bad values server.ErrBadValue, all as
// *confparse.Error with the file:line:col of the key or value, every one
// of them in the confparse.ErrorList err.
//
// Ports follow upstream in the file (-1 random) and route.Options'
// convention in the result (0 random, -1 none).
func ParseConfig(e *confparse.Entry) (o *Options, warnings confparse.ErrorList, err error) {
	opts := DefaultOptions()
	p := parser{o: &opts}
	p.block(e)
	if len(p.Errors) > 0 {
		return nil, p.Warnings, p.Errors
	}
	return &opts, p.Warnings, nil
}

// CheckClusterName applies upstream's rule between the cluster's name and
// the gateway's: different names are refused (ErrClusterNameConflict);
// an unset cluster name takes the gateway's, which it returns.
func CheckClusterName(clusterName, gatewayName string) (string, error) {
	switch {
	case gatewayName == "":
		return clusterName, nil
	case clusterName == "":
		return gatewayName, nil
	case clusterName != gatewayName:
		return "", ErrClusterNameConflict
	}
	return clusterName, nil
}

type parser struct {
	o *Options
	confparse.Decoder
}

// unsupportedKeys are upstream's gateway keys natsd does not implement.
var unsupportedKeys = map[string]bool{
	"write_deadline": true,
	"write_timeout":  true,
}

func (p *parser) block(e *confparse.Entry) {
	v := e.Value
	if v.Kind != confparse.KindMap {
		p.Errorf(v.Pos, server.ErrBadValue, "Expected gateway to be a map, got %s", v.Describe())
		return
	}
	o := p.o
	portSet := false
	for i := range v.Map.Entries {
		me := &v.Map.Entries[i]
		mv := me.Value
		key := strings.ToLower(me.Key)
		name := "gateway " + key
		switch key {
		case "name":
			if p.Str(name, mv, &o.Name) && strings.Contains(o.Name, " ") {
				p.Errorf(mv.Pos, server.ErrBadValue, "%s", errNameHasSpaces)
			}
		case "listen":
			p.listen(name, mv, &portSet)
		case "port":
			var port int
			if p.port(name, mv, &port) {
				o.Port, portSet = upstreamPort(port), port != 0
			}
		case "host", "net":
			p.Str(name, mv, &o.Host)
		case "advertise", "gateway_advertise":
			p.Str(name, mv, &o.Advertise)
		case "connect_retries":
			var n int32
			if p.Int32(name, mv, &n) {
				o.ConnectRetries = int(n)
			}
		case "connect_backoff":
			p.Bool(name, mv, &o.ConnectBackoff)
		case "reject_unknown", "reject_unknown_cluster":
			p.Bool(name, mv, &o.RejectUnknown)
		case "authorization":
			p.authorization(name, mv)
		case "tls":
			if cfg, timeout, ok := p.tls(name, mv); ok {
				o.TLSConfig, o.TLSTimeout = cfg, timeout
			}
		case "gateways":
			p.gateways(name, mv)
		default:
			switch {
			case unsupportedKeys[key]:
				p.Errorf(me.KeyPos, server.ErrNotSupported, "%s is not supported yet", name)
			case !me.UsedAsVariable:
				p.Errorf(me.KeyPos, server.ErrUnknownField, "unknown field %q", me.Key)
			}
		}
	}
	// Upstream's option validation: a block that asks for nothing is
	// off; otherwise it needs a name and a port. As upstream, these
	// checks run only on a block that parsed.
	if len(p.Errors) > 0 {
		return
	}
	if o.Name == "" && !portSet {
		o.Port = -1
		return
	}
	if o.Name == "" {
		p.Errorf(e.KeyPos, server.ErrBadValue, "%s", errNoName)
		return
	}
	if !portSet {
		p.Errorf(e.KeyPos, server.ErrBadValue, "gateway %q has no port specified (select -1 for random port)", o.Name)
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

// port takes an integer from -1 (random) to 65535.
func (p *parser) port(key string, v *confparse.Value, dst *int) bool {
	var n int32
	if !p.Int32(key, v, &n) {
		return false
	}
	if n < -1 || n > 65535 {
		p.Errorf(v.Pos, server.ErrBadValue, "%s: %d is not a port number", key, n)
		return false
	}
	*dst = int(n)
	return true
}

// listen takes "host:port", ":port" or a bare port number.
func (p *parser) listen(key string, v *confparse.Value, portSet *bool) {
	o := p.o
	if v.Kind == confparse.KindInt {
		var port int
		if p.port(key, v, &port) {
			o.Port, *portSet = upstreamPort(port), port != 0
		}
		return
	}
	if v.Kind != confparse.KindString {
		p.TypeError(key, "host:port", v)
		return
	}
	host, port, err := splitHostPort(v.Str)
	if err != nil {
		p.Errorf(v.Pos, server.ErrBadValue, "%v", err)
		return
	}
	o.Host, o.Port, *portSet = host, upstreamPort(port), port != 0
}

// authorization takes the gateways' single user: user (username),
// password (pass) and timeout in seconds.
func (p *parser) authorization(key string, v *confparse.Value) {
	if v.Kind != confparse.KindMap {
		p.TypeError(key, "a map", v)
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
			p.Str(name, av, &o.Username)
		case "password", "pass":
			p.Str(name, av, &o.Password)
		case "timeout":
			p.Seconds(name, av, &o.AuthTimeout)
		case "users", "nkeys":
			p.Errorf(v.Pos, server.ErrBadValue, "%s", errMultipleUsers)
		case "token":
			p.Errorf(v.Pos, server.ErrBadValue, "%s", errTokens)
		default:
			if !ae.UsedAsVariable {
				p.Errorf(ae.KeyPos, server.ErrUnknownField, "unknown field %q", ae.Key)
			}
		}
	}
}

// tls parses a tls {} block with the server's parser. As upstream does for
// gateways, verification is strict in both directions and ca_file
// verifies the servers this one dials as well as those it accepts.
func (p *parser) tls(key string, v *confparse.Value) (*tls.Config, time.Duration, bool) {
	tb, errs := config.ParseTLSBlock(key, v)
	if errs != nil {
		p.Errors = append(p.Errors, errs...)
		return nil, 0, false
	}
	for _, k := range []string{"verify_and_map", "handshake_first", "first", "immediate", "verify_cert_and_check_known_urls"} {
		if e := v.Map.Lookup(k); e != nil {
			p.Errorf(e.KeyPos, server.ErrNotSupported, "%s %s is not supported yet", key, e.Key)
			return nil, 0, false
		}
	}
	cfg := tb.Config
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	cfg.RootCAs = cfg.ClientCAs
	return cfg, tb.Timeout, true
}

// gateways takes the array of remote gateways.
func (p *parser) gateways(key string, v *confparse.Value) {
	if v.Kind != confparse.KindArray {
		p.Errorf(v.Pos, server.ErrBadValue, "Expected gateways field to be an array, got %s", v.Describe())
		return
	}
	var out []RemoteGateway
	for i, gv := range v.Array {
		if gv.Kind != confparse.KindMap {
			p.Errorf(gv.Pos, server.ErrBadValue, "Expected gateway entry to be a map/struct, got %s", gv.Describe())
			continue
		}
		var rg RemoteGateway
		bad := false
		for j := range gv.Map.Entries {
			ge := &gv.Map.Entries[j]
			k := strings.ToLower(ge.Key)
			name := key + " " + k
			switch k {
			case "name":
				if !p.Str(name, ge.Value, &rg.Name) {
					bad = true
				}
			case "tls":
				cfg, timeout, ok := p.tls(name, ge.Value)
				if !ok {
					bad = true
					continue
				}
				rg.TLSConfig, rg.TLSTimeout = cfg, timeout
			case "url":
				u, ok := p.url(name, ge.Value)
				if !ok {
					bad = true
					continue
				}
				rg.URLs = append(rg.URLs, u)
			case "urls":
				vals, ok := p.StringValues(name, ge.Value)
				if !ok {
					bad = true
					continue
				}
				for _, uv := range vals {
					u, ok := p.url(name, uv)
					if !ok {
						bad = true
						continue
					}
					rg.URLs = append(rg.URLs, u)
				}
			default:
				if !ge.UsedAsVariable {
					p.Errorf(ge.KeyPos, server.ErrUnknownField, "unknown field %q", ge.Key)
					bad = true
				}
			}
		}
		if bad {
			continue
		}
		switch {
		case rg.Name == "":
			p.Errorf(gv.Pos, server.ErrBadValue, "gateway in the list %d has no name", i)
			continue
		case len(rg.URLs) == 0:
			p.Errorf(gv.Pos, server.ErrBadValue, "gateway %q has no URL", rg.Name)
			continue
		}
		out = append(out, rg)
	}
	p.o.Gateways = out
}

// url takes one gateway URL (nats://[user:pass@]host:port).
func (p *parser) url(key string, v *confparse.Value) (*url.URL, bool) {
	var s string
	if !p.Str(key, v, &s) {
		return nil, false
	}
	u, err := ParseURL(s)
	if err != nil {
		p.Errorf(v.Pos, server.ErrBadValue, "%v", err)
		return nil, false
	}
	return u, true
}

// ParseURL parses a gateway URL with upstream's error text; it needs a
// host and a port.
func ParseURL(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Port() == "" {
		return nil, fmt.Errorf("error parsing gateway url [%q]", s)
	}
	return u, nil
}

// splitHostPort parses a listen address as upstream does ("host:port" or
// ":port"; port -1 asks for a random one) and checks the port's range.
func splitHostPort(s string) (host string, port int, err error) {
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
