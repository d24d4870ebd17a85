package config

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"natsd.dev/auth"
	"natsd.dev/confparse"
	"natsd.dev/server"
)

// The errors of configuration processing are the server's sentinels
// (server.ErrUnknownField, server.ErrNotSupported) and confparse's
// (confparse.ErrBadValue, confparse.ErrWarning); every *confparse.Error
// that Apply returns wraps one of them. They are repeated here for the
// modules that register blocks.
var (
	// ErrUnknownField marks a key nats-server does not know either.
	ErrUnknownField = server.ErrUnknownField
	// ErrNotSupported marks a key nats-server knows but natsd does not
	// implement yet.
	ErrNotSupported = server.ErrNotSupported
	// ErrBadValue marks a value of the wrong type or out of range.
	ErrBadValue = confparse.ErrBadValue
	// ErrWarning marks a warning: the value was used or ignored, but the
	// file should be fixed.
	ErrWarning = confparse.ErrWarning
)

// Config is what a configuration file sets for the core server and the
// process around it: the server Options plus logging and the pid and
// ports files, which the command applies.
type Config struct {
	Options server.Options
	Log     LogConfig
	// PidFile is where the process id is written (pid_file).
	PidFile string
	// PortsFileDir is where "<exe>_<pid>.ports" is written (ports_file_dir).
	PortsFileDir string
	// Monitor is where the HTTP monitoring server listens (http,
	// http_port, http_base_path); Port 0 leaves it off.
	Monitor MonitorConfig
	// Digest identifies the parsed configuration ("sha256:<hex>"); it is
	// what `nats-server -t` prints.
	Digest string
}

// MonitorConfig is the HTTP monitoring listener of a configuration file.
type MonitorConfig struct {
	// Host defaults to the client listener's host, as upstream does.
	Host string
	// Port -1 picks a free port.
	Port int
	// HTTPSPort serves monitoring over HTTPS with the client listener's
	// TLS configuration (https, https_port, -ms); -1 picks a free port.
	HTTPSPort int
	BasePath  string
}

// LogConfig are the logging settings of a configuration file.
type LogConfig struct {
	Debug        bool
	Trace        bool
	TraceVerbose bool
	// Logtime puts the time on each line (default true).
	Logtime    bool
	LogtimeUTC bool
	// File is the log file; empty logs to stderr.
	File string
	// SizeLimit rotates File past this many bytes; 0 never.
	SizeLimit int64
	// MaxFiles is the number of log files kept when rotating, the current
	// one included; 0 keeps all.
	MaxFiles     int
	Syslog       bool
	RemoteSyslog string
	// MaxTracedMsgLen truncates traced payloads; 0 is unlimited.
	MaxTracedMsgLen int
}

// Default returns the configuration in force when neither a file nor
// flags say otherwise.
func Default() Config {
	c := Config{Log: LogConfig{Logtime: true}}
	// As upstream, a server started from a configuration (or the command
	// line) has the system account $SYS unless no_system_account says no.
	c.Options.SystemAccount = server.DefaultSystemAccountName
	return c
}

// ParseFile parses the file at path with a Parser that has no blocks
// registered: the core's keys only.
func ParseFile(path string, po confparse.Options) (cfg *Config, warnings confparse.ErrorList, err error) {
	var p Parser
	return p.ParseFile(path, po)
}

// Apply applies m to c with a Parser that has no blocks registered.
func (c *Config) Apply(m *confparse.Map) (warnings confparse.ErrorList, err error) {
	var p Parser
	return p.Apply(c, m)
}

// Apply sets the fields of c named by the top-level keys of m (keys are
// matched case-insensitively, as upstream does) and leaves the others
// alone, so Apply can layer a file over defaults. Every problem is
// reported, each with the file:line:col of its key or value: err is a
// confparse.ErrorList of errors; warnings are returned separately and do
// not stop the server. On error c may be partly updated.
func (p *Parser) Apply(c *Config, m *confparse.Map) (warnings confparse.ErrorList, err error) {
	a := applier{c: c, p: p}
	for i := range m.Entries {
		a.entry(&m.Entries[i])
	}
	a.finishAccounts()
	a.noAuthUser()
	c.Digest = "sha256:" + digest(m)
	if len(a.Errors) > 0 {
		return a.Warnings, a.Errors
	}
	return a.Warnings, nil
}

// digest hashes a canonical rendering of the parsed tree (JSON sorts map
// keys), so comments, layout and include structure do not change it.
func digest(m *confparse.Map) string {
	b, err := json.Marshal(m.Interface())
	if err != nil { // only non-finite floats; fall back to Go's syntax
		b = fmt.Appendf(nil, "%#v", m.Interface())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

type applier struct {
	c *Config
	p *Parser // the registered blocks
	// Decoder reads the typed values and collects the errors and
	// warnings.
	confparse.Decoder
	// noAuth is the no_auth_user entry, checked against the users once
	// the whole file is read.
	noAuth *confparse.Entry
	// accountState is what the accounts {} block and the account keys of
	// authorization users leave for finishAccounts.
	accountState
}

func (a *applier) entry(e *confparse.Entry) {
	o, l := &a.c.Options, &a.c.Log
	key := strings.ToLower(e.Key)
	v := e.Value
	switch key {
	case "listen":
		a.listen(key, v)
	case "http":
		if host, port, hostSet, ok := a.hostPort(key, v); ok {
			a.c.Monitor.Port = port
			if hostSet {
				a.c.Monitor.Host = host
			}
		}
	case "http_port", "monitor_port":
		a.Int(key, v, &a.c.Monitor.Port)
	case "https":
		if host, port, hostSet, ok := a.hostPort(key, v); ok {
			a.c.Monitor.HTTPSPort = port
			if hostSet {
				a.c.Monitor.Host = host
			}
		}
	case "https_port":
		a.Int(key, v, &a.c.Monitor.HTTPSPort)
	case "http_base_path":
		a.Str(key, v, &a.c.Monitor.BasePath)
	case "max_closed_clients":
		a.Int(key, v, &a.c.Options.MaxClosedClients)
	case "host", "net":
		a.Str(key, v, &o.Host)
	case "port":
		a.Int(key, v, &o.Port)
	case "client_advertise":
		a.Str(key, v, &o.ClientAdvertise)
	case "server_name":
		if a.Str(key, v, &o.ServerName) && strings.Contains(o.ServerName, " ") {
			a.Errorf(v.Pos, ErrBadValue, "server name cannot contain spaces")
		}
	case "server_tags":
		a.Strings(key, v, &o.Tags)
	case "max_connections", "max_conn":
		a.Int(key, v, &o.MaxConn)
	case "max_subscriptions", "max_subs":
		a.Int(key, v, &o.MaxSubs)
	case "max_payload":
		a.Int32(key, v, &o.MaxPayload)
	case "max_control_line":
		a.Int32(key, v, &o.MaxControlLine)
	case "max_pending":
		a.Int64(key, v, &o.MaxPending)
	case "ping_interval":
		a.Duration(key, v, &o.PingInterval)
	case "ping_max":
		a.Int(key, v, &o.MaxPingsOut)
	case "write_deadline":
		a.Duration(key, v, &o.WriteDeadline)
	case "lame_duck_duration":
		var d time.Duration
		if a.StrictDuration(key, v, &d) {
			if d < 30*time.Second {
				a.Errorf(v.Pos, ErrBadValue, "invalid lame_duck_duration of %v, minimum is 30 seconds", d)
			} else {
				o.LameDuckDuration = d
			}
		}
	case "lame_duck_grace_period":
		var d time.Duration
		if a.StrictDuration(key, v, &d) {
			if d < 0 {
				a.Errorf(v.Pos, ErrBadValue, "invalid lame_duck_grace_period, needs to be positive")
			} else {
				o.LameDuckGracePeriod = d
			}
		}
	case "no_header_support":
		a.Bool(key, v, &o.NoHeaderSupport)
	case "no_fast_producer_stall":
		a.Bool(key, v, &o.NoFastProducerStall)
	case "disable_sublist_cache", "no_sublist_cache":
		a.Bool(key, v, &o.NoSublistCache)
	case "no_system_account":
		a.Bool(key, v, &o.NoSystemAccount)
	case "system_account", "system":
		if a.Str(key, v, &o.SystemAccount) {
			a.sysAcc = e
		}
	case "accounts":
		a.accounts(e)
	case "debug":
		a.Bool(key, v, &l.Debug)
	case "trace":
		a.Bool(key, v, &l.Trace)
	case "trace_verbose":
		if a.Bool(key, v, &l.TraceVerbose) {
			l.Trace = l.TraceVerbose
		}
	case "logtime":
		a.Bool(key, v, &l.Logtime)
	case "logtime_utc":
		a.Bool(key, v, &l.LogtimeUTC)
	case "logfile", "log_file":
		a.Str(key, v, &l.File)
	case "logfile_size_limit", "log_size_limit":
		a.Int64(key, v, &l.SizeLimit)
	case "logfile_max_num", "log_max_num":
		a.Int(key, v, &l.MaxFiles)
	case "syslog":
		a.Bool(key, v, &l.Syslog)
	case "remote_syslog":
		a.Str(key, v, &l.RemoteSyslog)
	case "max_traced_msg_len":
		a.Int(key, v, &l.MaxTracedMsgLen)
	case "pidfile", "pid_file":
		a.Str(key, v, &a.c.PidFile)
	case "ports_file_dir":
		a.Str(key, v, &a.c.PortsFileDir)
	case "mappings", "maps":
		a.mappings("", v)
	case "authorization":
		a.authorization(e)
	case "tls":
		a.clientTLS(e)
	case "no_auth_user":
		var name string
		if a.Str(key, v, &name) {
			a.noAuth = e
		}
	default:
		a.other(key, e)
	}
}

// listen takes "host:port", ":port" or a bare port number.
func (a *applier) listen(key string, v *confparse.Value) {
	o := &a.c.Options
	if host, port, hostSet, ok := a.hostPort(key, v); ok {
		o.Port = port
		if hostSet {
			o.Host = host
		}
	}
}

// HostPort parses a listen value for a block handler: "host:port",
// ":port" or a bare port number (hostSet false). Problems go to d, at the
// value; ok is false then.
func HostPort(d *confparse.Decoder, key string, v *confparse.Value) (host string, port int, hostSet, ok bool) {
	a := applier{Decoder: *d}
	host, port, hostSet, ok = a.hostPort(key, v)
	*d = a.Decoder
	return host, port, hostSet, ok
}

// hostPort is HostPort on a's decoder.
func (a *applier) hostPort(key string, v *confparse.Value) (host string, port int, hostSet, ok bool) {
	switch v.Kind {
	case confparse.KindInt:
		return "", int(v.Int), false, true
	case confparse.KindString:
	default:
		a.TypeError(key, "host:port", v)
		return "", 0, false, false
	}
	host, ps, err := net.SplitHostPort(v.Str)
	if err != nil {
		a.Errorf(v.Pos, ErrBadValue, "could not parse address string %q", v.Str)
		return "", 0, false, false
	}
	port, err = strconv.Atoi(ps)
	if err != nil {
		a.Errorf(v.Pos, ErrBadValue, "could not parse port %q", ps)
		return "", 0, false, false
	}
	return host, port, true, true
}

// tlsSettings is what a tls {} block configures besides the tls.Config.
type tlsSettings struct {
	Config         *tls.Config
	Timeout        time.Duration
	Map            bool
	HandshakeFirst bool
	// Fallback is the handshake_first delay ("auto" or a duration).
	Fallback  time.Duration
	Pinned    server.PinnedCerts
	RateLimit int64
	// The keys that set Map, HandshakeFirst and RateLimit, for listeners
	// that refuse or ignore them.
	mapKey, firstKey, rateKey *confparse.Entry
}

// tlsBlock parses a listener's tls {} block (the top-level one and the
// websocket one: cert_file, key_file, ca_file, verify, verify_and_map,
// timeout, cipher_suites, curve_preferences, min_version, handshake_first,
// pinned_certs, connection_rate_limit) and loads the files, as upstream
// does when it reads the configuration. Other upstream keys (certs,
// cert_store, ocsp_peer, ...) are refused as not supported yet.
func (a *applier) tlsBlock(key string, v *confparse.Value) (tlsSettings, bool) {
	var ts tlsSettings
	if v.Kind != confparse.KindMap {
		a.TypeError(key, "a map", v)
		return ts, false
	}
	var certFile, keyFile, caFile string
	var verify bool
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	ok := true
	for i := range v.Map.Entries {
		te := &v.Map.Entries[i]
		tk := strings.ToLower(te.Key)
		name := key + " " + tk
		switch tk {
		case "cert_file":
			ok = a.Str(name, te.Value, &certFile) && ok
		case "key_file":
			ok = a.Str(name, te.Value, &keyFile) && ok
		case "ca_file":
			ok = a.Str(name, te.Value, &caFile) && ok
		case "verify":
			ok = a.Bool(name, te.Value, &verify) && ok
		case "verify_and_map":
			ok = a.Bool(name, te.Value, &ts.Map) && ok
			ts.mapKey = te
		case "timeout":
			ok = a.tlsTimeout(name, te.Value, &ts.Timeout) && ok
		case "handshake_first", "first", "immediate":
			ok = a.tlsFirst(te, &ts) && ok
		case "pinned_certs":
			ok = a.pinnedCerts(name, te.Value, &ts.Pinned) && ok
		case "connection_rate_limit":
			if te.Value.Kind != confparse.KindInt || te.Value.Int < 0 {
				a.Errorf(te.Value.Pos, ErrBadValue, "error parsing tls config, 'connection_rate_limit' wrong type")
				ok = false
				continue
			}
			ts.RateLimit = te.Value.Int
			ts.rateKey = te
		case "cipher_suites":
			ok = a.tlsNames(name, te.Value, cipherSuiteIDs, func(id uint16) { cfg.CipherSuites = append(cfg.CipherSuites, id) }) && ok
		case "curve_preferences":
			ok = a.tlsNames(name, te.Value, curveIDs, func(id uint16) { cfg.CurvePreferences = append(cfg.CurvePreferences, tls.CurveID(id)) }) && ok
		case "min_version":
			ok = a.tlsMinVersion(name, te.Value, &cfg.MinVersion) && ok
		default:
			if !te.UsedAsVariable {
				a.Errorf(te.KeyPos, ErrNotSupported, "tls %s is not supported yet", te.Key)
				ok = false
			}
		}
	}
	if !ok {
		return ts, false
	}
	// verify_and_map implies verify, as upstream.
	loaded, err := server.LoadTLSConfig(server.TLSFiles{CertFile: certFile, KeyFile: keyFile, CAFile: caFile, Verify: verify || ts.Map})
	if err != nil {
		a.Errorf(v.Pos, ErrBadValue, "%v", err)
		return ts, false
	}
	cfg.Certificates, cfg.ClientAuth, cfg.ClientCAs = loaded.Certificates, loaded.ClientAuth, loaded.ClientCAs
	ts.Config = cfg
	if len(ts.Pinned) > 0 && cfg.ClientAuth != tls.RequireAndVerifyClientCert {
		// Upstream accepts it; without a client certificate nobody passes.
		a.Warnf(v.Pos, "%s pinned_certs without verify refuses every client: clients send no certificate", key)
	}
	return ts, true
}

// tlsFirst takes upstream's forms of tls { handshake_first }: a boolean,
// "true"/"on", "false"/"off", "auto"/"auto_fallback" (handshake first,
// falling back to INFO first after DefaultTLSHandshakeFirstFallback) or a
// duration (the same with that delay).
func (a *applier) tlsFirst(te *confparse.Entry, ts *tlsSettings) bool {
	v := te.Value
	switch v.Kind {
	case confparse.KindBool:
		ts.HandshakeFirst, ts.Fallback = v.Bool, 0
	case confparse.KindString:
		switch strings.ToLower(v.Str) {
		case "true", "on":
			ts.HandshakeFirst, ts.Fallback = true, 0
		case "false", "off":
			ts.HandshakeFirst, ts.Fallback = false, 0
		case "auto", "auto_fallback":
			ts.HandshakeFirst, ts.Fallback = true, server.DefaultTLSHandshakeFirstFallback
		default:
			d, err := time.ParseDuration(v.Str)
			if err != nil || d <= 0 {
				a.Errorf(v.Pos, ErrBadValue, "field %q value %q is invalid", te.Key, v.Str)
				return false
			}
			ts.HandshakeFirst, ts.Fallback = true, d
		}
	default:
		a.Errorf(v.Pos, ErrBadValue, "field %q should be a boolean or string, got %s", te.Key, v.Describe())
		return false
	}
	ts.firstKey = te
	return true
}

// pinnedCerts takes tls { pinned_certs }: an array of hex SHA-256 digests
// of certificates' SubjectPublicKeyInfo, matched case-insensitively. An
// entry that is not such a digest matches nothing; upstream accepts it,
// so it is a warning.
func (a *applier) pinnedCerts(key string, v *confparse.Value, dst *server.PinnedCerts) bool {
	if v.Kind != confparse.KindArray {
		a.Errorf(v.Pos, ErrBadValue, "error parsing tls config, expected 'pinned_certs' to be an array")
		return false
	}
	ok := true
	var ids []string
	for _, e := range v.Array {
		var s string
		if !a.Str(key, e, &s) {
			ok = false
			continue
		}
		if b, err := hex.DecodeString(s); err != nil || len(b) != sha256.Size {
			a.Warnf(e.Pos, "%s: %q is not a hex SHA-256 digest and matches no certificate", key, s)
		}
		ids = append(ids, s)
	}
	if len(ids) > 0 {
		*dst = server.NewPinnedCerts(ids...)
	}
	return ok
}

// TLSBlock is what a tls {} block configures.
type TLSBlock struct {
	// Config holds the loaded certificate, the client verification
	// (verify, ca_file) and the negotiation settings.
	Config         *tls.Config
	Timeout        time.Duration
	Map            bool // verify_and_map
	HandshakeFirst bool // handshake_first
}

// ParseTLSBlock parses a tls {} block with the keys and checks of the
// server's own (see the tls {} section of docs/configuration.md) and loads
// its files, for the blocks of other modules; key names the block in
// messages ("cluster tls"). The errors carry file:line:col; warnings are
// dropped (DecodeTLSBlock reports them).
func ParseTLSBlock(key string, v *confparse.Value) (TLSBlock, confparse.ErrorList) {
	var d confparse.Decoder
	tb, ok := DecodeTLSBlock(&d, key, v)
	if !ok {
		return TLSBlock{}, d.Errors
	}
	return tb, nil
}

// DecodeTLSBlock is ParseTLSBlock for a block handler: errors and
// warnings go to d; ok is false when the block had errors.
func DecodeTLSBlock(d *confparse.Decoder, key string, v *confparse.Value) (tb TLSBlock, ok bool) {
	a := applier{Decoder: *d}
	ts, ok := a.tlsBlock(key, v)
	*d = a.Decoder
	if !ok {
		return TLSBlock{}, false
	}
	return TLSBlock{Config: server.WithPinnedCerts(ts.Config, ts.Pinned), Timeout: ts.Timeout, Map: ts.Map, HandshakeFirst: ts.HandshakeFirst}, true
}

// tlsTimeout takes upstream's forms of tls { timeout }: seconds as an
// integer or a fraction, or a duration string.
func (a *applier) tlsTimeout(key string, v *confparse.Value, dst *time.Duration) bool {
	var d time.Duration
	switch v.Kind {
	case confparse.KindInt:
		d = time.Duration(v.Int) * time.Second
	case confparse.KindFloat:
		d = time.Duration(v.Float * float64(time.Second))
	case confparse.KindString:
		if !a.StrictDuration(key, v, &d) {
			return false
		}
	default:
		a.TypeError(key, "a number of seconds or a duration", v)
		return false
	}
	if d <= 0 {
		a.Errorf(v.Pos, ErrBadValue, "%s must be positive", key)
		return false
	}
	*dst = d
	return true
}

// cipherSuiteIDs are the suites cipher_suites may name: Go's secure ones,
// by their standard names. Insecure suites stay off, as in upstream 2.12.
var cipherSuiteIDs = func() map[string]uint16 {
	m := map[string]uint16{}
	for _, cs := range tls.CipherSuites() {
		m[cs.Name] = cs.ID
	}
	return m
}()

// curveIDs are the curves curve_preferences may name.
var curveIDs = func() map[string]uint16 {
	m := map[string]uint16{}
	for _, c := range []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521, tls.X25519MLKEM768} {
		m[c.String()] = uint16(c)
	}
	return m
}()

// tlsNames takes an array of names from ids and hands each id to add.
func (a *applier) tlsNames(key string, v *confparse.Value, ids map[string]uint16, add func(uint16)) bool {
	if v.Kind != confparse.KindArray {
		a.TypeError(key, "an array of strings", v)
		return false
	}
	ok := true
	for _, e := range v.Array {
		var s string
		if !a.Str(key, e, &s) {
			ok = false
			continue
		}
		id, found := ids[s]
		if !found {
			a.Errorf(e.Pos, ErrBadValue, "%s: unsupported value %q", key, s)
			ok = false
			continue
		}
		add(id)
	}
	return ok
}

// tlsMinVersion takes "1.2" or "1.3" (a string or a number); older
// versions are refused.
func (a *applier) tlsMinVersion(key string, v *confparse.Value, dst *uint16) bool {
	var s string
	if v.Kind == confparse.KindFloat {
		s = strconv.FormatFloat(v.Float, 'f', -1, 64)
	} else if !a.Str(key, v, &s) {
		return false
	}
	switch s {
	case "1.2":
		*dst = tls.VersionTLS12
	case "1.3":
		*dst = tls.VersionTLS13
	case "1.0", "1.1":
		a.Errorf(v.Pos, ErrBadValue, "unsupported minimum TLS version: %s", s)
		return false
	default:
		a.Errorf(v.Pos, ErrBadValue, "unknown version: %s", s)
		return false
	}
	return true
}

// clientTLS applies the top-level tls {} block to the client listener.
func (a *applier) clientTLS(e *confparse.Entry) {
	ts, ok := a.tlsBlock(e.Key, e.Value)
	if !ok {
		return
	}
	o := &a.c.Options
	o.TLSConfig = ts.Config
	o.TLSTimeout = ts.Timeout
	o.TLSMap = ts.Map
	o.TLSHandshakeFirst = ts.HandshakeFirst
	o.TLSHandshakeFirstFallback = ts.Fallback
	o.TLSPinnedCerts = ts.Pinned
	o.TLSRateLimit = ts.RateLimit
}

// authorization parses the authorization {} block with auth's parser, whose
// errors already carry file:line:col. auth does not know a user's account
// key: it is taken out here and applied once the accounts are known.
func (a *applier) authorization(e *confparse.Entry) {
	v := e.Value
	if v.Kind != confparse.KindMap {
		a.TypeError(e.Key, "a map", v)
		return
	}
	cfg, err := auth.ParseAuthorization(a.takeUserAccounts(v.Map))
	if err != nil {
		var list confparse.ErrorList
		if !errors.As(err, &list) {
			a.Errorf(v.Pos, ErrBadValue, "authorization: %v", err)
			return
		}
		a.Errors = append(a.Errors, list...)
		return
	}
	o := &a.c.Options
	if o.Authorization != nil {
		cfg.NoAuthUser = o.Authorization.NoAuthUser
	}
	o.Authorization = cfg
	if cfg.Timeout > 0 {
		o.AuthTimeout = cfg.Timeout
	}
}

// noAuthUser applies no_auth_user, which must name a configured user.
func (a *applier) noAuthUser() {
	e := a.noAuth
	if e == nil {
		return
	}
	name := e.Value.Str
	o := &a.c.Options
	if o.Authorization == nil {
		o.Authorization = &auth.Config{}
	}
	found := false
	for _, u := range o.Authorization.Users {
		found = found || u.Name == name
	}
	if !found && len(a.Errors) == 0 {
		a.Errorf(e.Value.Pos, ErrBadValue, "no_auth_user: %q not present as user or nkey in authorization block or account configuration", name)
		return
	}
	o.Authorization.NoAuthUser = name
}
