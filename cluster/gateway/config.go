package gateway

import (
	"crypto/tls"
	"errors"
	"net/url"
	"strings"
	"time"

	"natsd.dev/cluster/internal/linkconf"
	"natsd.dev/confparse"
	"natsd.dev/server"
)

// Upstream's texts for a gateway block it refuses.
const (
	errNameHasSpaces     = "gateway name cannot contain spaces"
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
	return linkconf.Result(&opts, &p.Decoder)
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

// unsupportedKeys are upstream's gateway keys natsd does not implement:
// none left.
var unsupportedKeys = map[string]bool{}

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
			var port int
			if linkconf.Listen(&p.Decoder, name, mv, &o.Host, &port) {
				o.Port, portSet = linkconf.UpstreamPort(port), port != 0
			}
		case "port":
			var port int
			if linkconf.Port(&p.Decoder, name, mv, &port) {
				o.Port, portSet = linkconf.UpstreamPort(port), port != 0
			}
		case "host", "net":
			p.Str(name, mv, &o.Host)
		case "advertise", "gateway_advertise":
			p.Str(name, mv, &o.Advertise)
		case "connect_retries":
			linkconf.Int(&p.Decoder, name, mv, &o.ConnectRetries)
		case "connect_backoff":
			p.Bool(name, mv, &o.ConnectBackoff)
		case "reject_unknown", "reject_unknown_cluster":
			p.Bool(name, mv, &o.RejectUnknown)
		case "authorization":
			linkconf.Authorization(&p.Decoder, "Gateway", name, mv, &o.Username, &o.Password, &o.AuthTimeout, nil)
		case "tls":
			if cfg, timeout, ok := p.tls(name, mv); ok {
				o.TLSConfig, o.TLSTimeout = cfg, timeout
			}
		case "gateways":
			p.gateways(name, mv)
		case "write_deadline":
			p.Duration(key, mv, &o.WriteDeadline)
		case "write_timeout":
			var w string
			if p.Str(key, mv, &w) {
				switch w {
				case "default", "close", "retry":
					o.WriteTimeout = w
				default: // upstream's text
					p.Errorf(mv.Pos, server.ErrBadValue, "write_timeout must be 'default', 'close' or 'retry'")
				}
			}
		default:
			linkconf.Unknown(&p.Decoder, me, key, name, unsupportedKeys)
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

// tls parses a tls {} block (linkconf.StrictTLS): as upstream does for
// gateways, verification is strict in both directions.
func (p *parser) tls(key string, v *confparse.Value) (*tls.Config, time.Duration, bool) {
	return linkconf.StrictTLS(&p.Decoder, key, v, "verify_and_map", "handshake_first", "first", "immediate", "verify_cert_and_check_known_urls")
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
				if linkconf.Unknown(&p.Decoder, ge, k, name, nil) {
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
	return linkconf.ParseURL("gateway", s)
}
