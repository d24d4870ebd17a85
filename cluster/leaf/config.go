package leaf

import (
	"encoding/base32"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"natsd.dev/cluster/internal/linkconf"
	"natsd.dev/cluster/internal/s2conn"
	"natsd.dev/confparse"
	"natsd.dev/server"
	"natsd.dev/server/config"
	"natsd.dev/sublist"
)

// MaxAuthTimeout is the authorization timeout above which upstream warns
// that the value was probably meant as a duration string.
const MaxAuthTimeout = 60 * time.Second

// ParseConfig turns the top-level leafnodes {} entry (alias leaf) of a
// configuration file into Options, with upstream's keys, aliases and
// checks, including those upstream makes when the server starts (a
// compression mode, websocket and plain URLs mixed in one remote, a
// single user next to a users array, a duplicate remote, min_version
// below 2.8.0). Keys upstream knows that natsd does not implement are
// errors wrapping server.ErrNotSupported; unknown keys wrap
// server.ErrUnknownField, bad values server.ErrBadValue, and warnings
// server.ErrConfigWarning, all as *confparse.Error with the file:line:col
// of the key or value. Every problem is reported: err is a
// confparse.ErrorList.
//
// Ports are upstream's: 0 (or no port) means no listener, -1 a random
// port. A remote's credentials file that cannot be read is a warning with
// upstream's text (upstream logs it as an error and keeps running, the
// remote then fails to authenticate). A remote URL that parses without a
// host ("hub:7422", which url.Parse reads as a scheme) is taken as
// nats-leaf://hub:7422, where upstream would dial an empty address.
func ParseConfig(e *confparse.Entry) (o *Options, warnings confparse.ErrorList, err error) {
	p := parser{o: &Options{}}
	p.block(e)
	return linkconf.Result(p.o, &p.Decoder)
}

type parser struct {
	o *Options
	confparse.Decoder
}

// unsupportedKeys are upstream's leafnodes {} keys natsd does not
// implement yet (see docs/configuration.md): refusing them beats running
// differently from what the file asks.
var unsupportedKeys = map[string]bool{
	"write_deadline":            true,
	"write_timeout":             true,
	"isolate_leafnode_interest": true,
	"isolate":                   true,
}

// unsupportedRemoteKeys are the same for one remote.
var unsupportedRemoteKeys = map[string]bool{
	"jetstream_cluster_migrate": true,
	"js_cluster_migrate":        true,
	"isolate_leafnode_interest": true,
	"isolate":                   true,
	"request_isolation":         true,
	"proxy":                     true,
	"ignore_discovered_servers": true,
}

// unsupportedAuthKeys are the same for leafnodes { authorization {} }
// and its users.
var unsupportedAuthKeys = map[string]bool{
	"nkey":           true,
	"proxy_required": true,
}

func (p *parser) block(e *confparse.Entry) {
	v := e.Value
	if v.Kind != confparse.KindMap {
		p.Errorf(v.Pos, server.ErrBadValue, "Expected map to define a leafnode, got %T", v.Interface())
		return
	}
	o := p.o
	for i := range v.Map.Entries {
		me := &v.Map.Entries[i]
		mv := me.Value
		key := strings.ToLower(me.Key)
		name := "leafnodes " + key
		switch key {
		case "listen":
			linkconf.Listen(&p.Decoder, name, mv, &o.Host, &o.Port)
		case "port":
			linkconf.Port(&p.Decoder, name, mv, &o.Port)
		case "host", "net":
			p.Str(name, mv, &o.Host)
		case "authorization":
			p.authorization(me)
		case "remotes":
			p.remotes(mv)
		case "reconnect", "reconnect_delay", "reconnect_interval":
			p.Duration("reconnect", mv, &o.Reconnect)
		case "dial_timeout":
			p.Duration("dial_timeout", mv, &o.DialTimeout)
		case "tls":
			if tb, ok := p.tls(name, mv, false); ok {
				o.TLSConfig, o.TLSTimeout = tb.Config, tb.Timeout
				o.TLSMap, o.TLSHandshakeFirst = tb.Map, tb.HandshakeFirst
			}
		case "leafnode_advertise", "advertise":
			p.Str(name, mv, &o.Advertise)
		case "no_advertise":
			p.Bool(name, mv, &o.NoAdvertise)
		case "min_version", "minimum_version":
			var s string
			if p.Str(name, mv, &s) {
				if err := CheckMinVersion(s); err != nil {
					p.Errorf(mv.Pos, server.ErrBadValue, "%v", err)
				} else {
					o.MinVersion = s
				}
			}
		case "compression":
			p.compression(me.Key, mv, &o.Compression)
		default:
			linkconf.Unknown(&p.Decoder, me, key, name, unsupportedKeys)
		}
	}
}

// tls parses a tls {} block with the server's parser; dial is for a
// remote, where no certificate is needed.
func (p *parser) tls(key string, v *confparse.Value, dial bool) (config.TLSBlock, bool) {
	parse := config.ParseTLSBlock
	if dial {
		parse = config.ParseDialTLSBlock
	}
	tb, errs := parse(key, v)
	if errs != nil {
		p.Errors = append(p.Errors, errs...)
		return tb, false
	}
	return tb, true
}

// semver is the version form upstream's min_version check accepts.
var semver = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// CheckMinVersion checks a leafnodes { min_version } value as upstream
// does: a semantic version of at least 2.8.0, with upstream's errors.
func CheckMinVersion(v string) error {
	m := semver.FindStringSubmatch(v)
	if m == nil {
		return errors.New("invalid leafnode's minimum version: invalid semver")
	}
	var n [3]int
	for i := range n {
		x, err := strconv.Atoi(m[i+1])
		if err != nil {
			return fmt.Errorf("invalid leafnode's minimum version: %v", err)
		}
		n[i] = x
	}
	if n[0] < 2 || n[0] == 2 && n[1] < 8 {
		return errors.New("the minimum version should be at least 2.8.0")
	}
	return nil
}

// compression takes a mode as a string, a boolean (true is s2_auto for
// leaf nodes, false off) or a map { mode, rtt_thresholds }, and checks
// it as upstream does when the server starts. An empty mode stays "" (the
// default, s2_auto).
func (p *parser) compression(key string, v *confparse.Value, dst *Compression) {
	mode, rtts, ok := linkconf.Compression(&p.Decoder, key, v, CompressionS2Auto)
	if !ok {
		return
	}
	c := Compression{Mode: mode, RTTThresholds: rtts}
	if c.Mode != "" {
		if err := normalizeCompression(&c); err != nil {
			p.Errorf(v.Pos, server.ErrBadValue, "%v", err)
			return
		}
	}
	*dst = c
}

// DefaultRTTThresholds are s2_auto's round-trip limits when none are
// given: uncompressed below the first, then s2_fast, s2_better, s2_best.
var DefaultRTTThresholds = slices.Clone(s2conn.DefaultRTTThresholds)

// normalizeCompression validates c as upstream does when the server
// starts and rewrites its mode to one of the Compression* constants
// (s2conn.NormalizeBare, where on/enabled/true mean s2_auto for leaf
// nodes). s2_auto's thresholds default to DefaultRTTThresholds. The mode
// must be set: callers make "" s2_auto first.
func normalizeCompression(c *Compression) error {
	if c.Mode == "" {
		return fmt.Errorf("unsupported compression mode %q", c.Mode)
	}
	mode, rtts, err := s2conn.NormalizeBare(c.Mode, c.RTTThresholds, CompressionS2Auto)
	if err != nil {
		return err
	}
	c.Mode, c.RTTThresholds = mode, rtts
	return nil
}

// nkey seed encoding: base32 (no padding) of two prefix bytes, the key
// and a CRC-16 (XMODEM, little-endian) of what precedes it.
const (
	seedPrefix = 18 << 3 // 'S'
	userPrefix = 20 << 3 // 'U'
)

var nkeyEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// IsUserSeed reports whether s is an nkey seed of a user (SU...), as
// upstream checks a remote's nkey: the encoding, its checksum and the
// seed and user prefixes.
func IsUserSeed(s string) bool {
	raw, err := nkeyEncoding.DecodeString(s)
	if err != nil || len(raw) < 4 {
		return false
	}
	n := len(raw) - 2
	if crc16(raw[:n]) != uint16(raw[n])|uint16(raw[n+1])<<8 {
		return false
	}
	return raw[0]&248 == seedPrefix && (raw[0]&7)<<5|(raw[1]&248)>>3 == userPrefix
}

// crc16 is CRC-16/XMODEM (polynomial 0x1021, initial value 0).
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// authorization takes leafnodes { authorization {} }: one user bound to
// an account, or users each bound to one, and the timeout.
func (p *parser) authorization(e *confparse.Entry) {
	v := e.Value
	if v.Kind != confparse.KindMap {
		p.TypeError("leafnodes authorization", "a map", v)
		return
	}
	o := p.o
	ok := true
	for i := range v.Map.Entries {
		ae := &v.Map.Entries[i]
		av := ae.Value
		k := strings.ToLower(ae.Key)
		name := "leafnodes authorization " + k
		switch k {
		case "user", "username":
			ok = p.Str(name, av, &o.Username) && ok
		case "pass", "password":
			ok = p.Str(name, av, &o.Password) && ok
		case "account":
			ok = p.Str(name, av, &o.Account) && ok
		case "timeout":
			ok = p.authTimeout(ae) && ok
		case "users":
			ok = p.users(av) && ok
		default:
			if linkconf.Unknown(&p.Decoder, ae, k, name, unsupportedAuthKeys) {
				ok = false
			}
		}
	}
	if !ok || len(o.Users) == 0 {
		return
	}
	if o.Username != "" {
		p.Errorf(e.KeyPos, server.ErrBadValue, "can not have a single user/pass and a users array")
		return
	}
	seen := make(map[string]bool, len(o.Users))
	for _, u := range o.Users {
		if seen[u.Username] {
			p.Errorf(e.KeyPos, server.ErrBadValue, "duplicate user %q detected in leafnode authorization", u.Username)
			return
		}
		seen[u.Username] = true
	}
}

// authTimeout takes seconds (integer or fraction) or a duration string.
func (p *parser) authTimeout(ae *confparse.Entry) bool {
	v := ae.Value
	var d time.Duration
	switch v.Kind {
	case confparse.KindInt:
		d = time.Duration(v.Int) * time.Second
	case confparse.KindFloat:
		d = time.Duration(v.Float * float64(time.Second))
	case confparse.KindString:
		var err error
		if d, err = time.ParseDuration(v.Str); err != nil {
			p.Errorf(v.Pos, server.ErrBadValue, "error parsing leafnode authorization config, 'timeout' %v", err)
			return false
		}
	default:
		p.Errorf(v.Pos, server.ErrBadValue, "error parsing leafnode authorization config, 'timeout' wrong type")
		return false
	}
	if d > MaxAuthTimeout {
		p.Warnf(v.Pos, "invalid use of field %q: timeout of %v (%f seconds) is high, consider keeping it under 60 seconds. possibly caused by unquoted duration; use '1m' instead of 1m, for example", ae.Key, v.Interface(), d.Seconds())
	}
	p.o.AuthTimeout = d
	return true
}

// users takes authorization { users [ { user, password, account } ] }.
func (p *parser) users(v *confparse.Value) bool {
	if v.Kind != confparse.KindArray {
		p.Errorf(v.Pos, server.ErrBadValue, "Expected users field to be an array, got %v", v.Interface())
		return false
	}
	ok := true
	users := make([]User, 0, len(v.Array))
	for _, uv := range v.Array {
		if uv.Kind != confparse.KindMap {
			p.Errorf(uv.Pos, server.ErrBadValue, "Expected user entry to be a map/struct, got %v", uv.Interface())
			ok = false
			continue
		}
		var u User
		for i := range uv.Map.Entries {
			ue := &uv.Map.Entries[i]
			k := strings.ToLower(ue.Key)
			name := "leafnodes authorization users " + k
			switch k {
			case "user", "username":
				ok = p.Str(name, ue.Value, &u.Username) && ok
			case "pass", "password":
				ok = p.Str(name, ue.Value, &u.Password) && ok
			case "account":
				ok = p.Str(name, ue.Value, &u.Account) && ok
			default:
				if linkconf.Unknown(&p.Decoder, ue, k, name, unsupportedAuthKeys) {
					ok = false
				}
			}
		}
		users = append(users, u)
	}
	p.o.Users = users
	return ok
}

// remotes takes leafnodes { remotes [...] }.
func (p *parser) remotes(v *confparse.Value) {
	if v.Kind != confparse.KindArray {
		p.Errorf(v.Pos, server.ErrBadValue, "Expected remotes field to be an array, got %T", v.Interface())
		return
	}
	names := make(map[string]bool)
	remotes := make([]*Remote, 0, len(v.Array))
	for _, rv := range v.Array {
		if rv.Kind != confparse.KindMap {
			p.Errorf(rv.Pos, server.ErrBadValue, "Expected remote leafnode entry to be a map/struct, got %v", rv.Interface())
			continue
		}
		r, ok := p.remote(rv)
		if !ok {
			continue
		}
		if n := RemoteName(r, false); names[n] {
			p.Errorf(rv.Pos, server.ErrBadValue, "duplicate remote %s", RemoteName(r, true))
			continue
		} else {
			names[n] = true
		}
		remotes = append(remotes, r)
	}
	p.o.Remotes = remotes
}

// remote takes one remote; ok is false when it had errors.
func (p *parser) remote(v *confparse.Value) (r *Remote, ok bool) {
	r = &Remote{}
	n := len(p.Errors)
	var credsPos confparse.Pos
	for i := range v.Map.Entries {
		re := &v.Map.Entries[i]
		rv := re.Value
		k := strings.ToLower(re.Key)
		name := "leafnodes remotes " + k
		switch k {
		case "no_randomize", "dont_randomize":
			p.Bool(name, rv, &r.NoRandomize)
		case "url", "urls":
			p.urls(rv, r)
		case "account", "local":
			p.Str(name, rv, &r.Account)
		case "creds", "credentials":
			var s string
			if !p.Str(name, rv, &s) {
				continue
			}
			path, err := expandPath(s)
			if err != nil {
				p.Errorf(rv.Pos, server.ErrBadValue, "%v", err)
				continue
			}
			if r.Nkey != "" {
				p.Errorf(rv.Pos, server.ErrBadValue, "Remote leafnode can not have both creds and nkey defined")
				continue
			}
			r.Credentials, credsPos = path, rv.Pos
		case "nkey", "seed":
			var s string
			if !p.Str(name, rv, &s) {
				continue
			}
			if !IsUserSeed(s) {
				p.Errorf(rv.Pos, server.ErrBadValue, "Remote leafnode nkey is not a valid seed: %q", s)
				continue
			}
			if r.Credentials != "" {
				p.Errorf(rv.Pos, server.ErrBadValue, "Remote leafnode can not have both creds and nkey defined")
				continue
			}
			r.Nkey = s
		case "tls":
			tb, ok := p.tls(name, rv, true)
			if !ok {
				continue
			}
			// The remote dials: ca_file verifies the hub's certificate.
			cfg := tb.Config
			cfg.RootCAs = cfg.ClientCAs
			r.TLS, r.TLSConfig, r.TLSHandshakeFirst = true, cfg, tb.HandshakeFirst
			r.TLSTimeout = tb.Timeout
			if r.TLSTimeout <= 0 {
				r.TLSTimeout = DefaultTLSTimeout
			}
		case "hub":
			p.Bool(name, rv, &r.Hub)
		case "deny_imports", "deny_import":
			r.DenyImports = p.subjects(rv)
		case "deny_exports", "deny_export":
			r.DenyExports = p.subjects(rv)
		case "ws_compress", "ws_compression", "websocket_compress", "websocket_compression":
			p.Bool(name, rv, &r.WSCompression)
		case "ws_no_masking", "websocket_no_masking":
			p.Bool(name, rv, &r.WSNoMasking)
		case "compression":
			p.compression(re.Key, rv, &r.Compression)
		case "first_info_timeout":
			p.Duration(re.Key, rv, &r.FirstInfoTimeout)
		case "dial_timeout":
			p.Duration(re.Key, rv, &r.DialTimeout)
		case "disabled":
			p.Bool(name, rv, &r.Disabled)
		default:
			linkconf.Unknown(&p.Decoder, re, k, name, unsupportedRemoteKeys)
		}
	}
	if len(p.Errors) > n {
		return nil, false
	}
	for _, u := range r.URLs {
		if s := strings.ToLower(u.Scheme); s == "tls" || s == "wss" {
			r.TLS = true
		}
	}
	if len(r.URLs) > 1 {
		ws := IsWebsocketURL(r.URLs[0])
		for _, u := range r.URLs[1:] {
			if IsWebsocketURL(u) != ws {
				p.Errorf(v.Pos, server.ErrBadValue, "remote leaf node configuration cannot have a mix of websocket and non-websocket urls: %q", redacted(r.URLs))
				return nil, false
			}
		}
	}
	if r.Credentials != "" {
		if _, err := os.Stat(r.Credentials); err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = &fs.PathError{Op: "open", Path: pe.Path, Err: pe.Err}
			}
			p.Warnf(credsPos, "Error reading LeafNode Remote Credentials file %q: %v", r.Credentials, err)
		}
	}
	return r, true
}

// urls takes a remote's url or urls: a string or an array of strings; a
// URL listed twice is warned about and used once.
func (p *parser) urls(v *confparse.Value, r *Remote) {
	var vals []*confparse.Value
	switch v.Kind {
	case confparse.KindString:
		vals = []*confparse.Value{v}
	case confparse.KindArray:
		seen := make(map[string]bool, len(v.Array))
		for _, uv := range v.Array {
			if uv.Kind != confparse.KindString {
				p.TypeError("leafnodes remotes urls", "a string", uv)
				continue
			}
			if seen[uv.Str] {
				p.Warnf(uv.Pos, "invalid use of field %q: Duplicate leafnode entry detected", uv.Str)
				continue
			}
			seen[uv.Str] = true
			vals = append(vals, uv)
		}
	default:
		p.Errorf(v.Pos, server.ErrBadValue, "Expected remote leafnode url to be an array or string, got %v", v.Interface())
		return
	}
	for _, uv := range vals {
		u, err := ParseRemoteURL(uv.Str)
		if err != nil {
			p.Errorf(uv.Pos, server.ErrBadValue, "%v", err)
			continue
		}
		r.URLs = append(r.URLs, u)
	}
}

// ParseRemoteURL parses one remote URL (nats-leaf://, nats://, tls://,
// ws://, wss://, with user:password@ or a token as userinfo) with
// upstream's error text. A URL that parses without a host, such as
// "hub:7422" (a scheme "hub" to url.Parse), is taken as
// nats-leaf://hub:7422.
func ParseRemoteURL(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("error parsing leafnode url [%q]", s)
	}
	if u.Host == "" {
		if _, _, err := net.SplitHostPort(s); err == nil {
			if hu, err := url.Parse("nats-leaf://" + s); err == nil && hu.Host != "" {
				return hu, nil
			}
		}
	}
	return u, nil
}

// IsWebsocketURL reports whether u dials the hub's websocket port (ws://
// or wss://).
func IsWebsocketURL(u *url.URL) bool {
	return strings.HasPrefix(strings.ToLower(u.Scheme), "ws")
}

// redacted is urls with their passwords hidden, as upstream logs them.
func redacted(urls []*url.URL) []string {
	out := make([]string, len(urls))
	for i, u := range urls {
		out[i] = u.Redacted()
	}
	return out
}

// RemoteName names a remote as upstream does in its messages and to
// detect duplicates: its URLs, local account and credentials or nkey;
// safe hides URL passwords and the nkey seed.
func RemoteName(r *Remote, safe bool) string {
	acc := r.Account
	if acc == "" {
		acc = "$G"
	}
	var extra string
	switch {
	case r.Credentials != "":
		extra = fmt.Sprintf(", credentials=%q", r.Credentials)
	case r.Nkey != "" && safe:
		extra = `, nkey="[REDACTED]"`
	case r.Nkey != "":
		extra = fmt.Sprintf(", nkey=%q", r.Nkey)
	}
	urls := make([]string, len(r.URLs))
	for i, u := range r.URLs {
		if safe {
			urls[i] = u.Redacted()
		} else {
			urls[i] = u.String()
		}
	}
	return fmt.Sprintf("urls=%q, account=%q%s", urls, acc, extra)
}

// subjects takes deny_imports or deny_exports: a subject or an array of
// subjects, each checked.
func (p *parser) subjects(v *confparse.Value) []string {
	vals := []*confparse.Value{v}
	switch v.Kind {
	case confparse.KindString:
	case confparse.KindArray:
		vals = v.Array
	default:
		p.Errorf(v.Pos, server.ErrBadValue, "Expected subject permissions to be a subject, or array of subjects, got %T", v.Interface())
		return nil
	}
	var out []string
	for _, sv := range vals {
		if sv.Kind != confparse.KindString {
			p.Errorf(sv.Pos, server.ErrBadValue, "Subject in permissions array cannot be cast to string")
			return nil
		}
		if !sublist.ValidSubject(sv.Str) {
			p.Errorf(sv.Pos, server.ErrBadValue, "subject %q is not a valid subject", sv.Str)
			return nil
		}
		out = append(out, sv.Str)
	}
	return out
}

// expandPath expands environment variables and a leading ~ as upstream
// does for a credentials path.
func expandPath(s string) (string, error) {
	s = os.ExpandEnv(s)
	if !strings.HasPrefix(s, "~") {
		return s, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, s[1:]), nil
}
