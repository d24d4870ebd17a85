package config

import (
	"crypto/sha256"
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
	// ProfPort is where the pprof profiling server listens (prof_port);
	// 0 leaves it off, -1 picks a free port.
	ProfPort int
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
	a.finishOperator()
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
	// The bytes of a json.Encoder (a trailing newline): for a file
	// without variables or includes, the digest upstream prints.
	b, err := json.Marshal(m.Interface())
	if err != nil { // only non-finite floats; fall back to Go's syntax
		b = fmt.Appendf(nil, "%#v", m.Interface())
	}
	b = append(b, '\n')
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
	// op is what the operator mode keys leave for finishOperator.
	op operatorState
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
	case "max_unauthenticated_memory":
		a.Int64(key, v, &o.MaxUnauthMemory)
	case "max_unauthenticated_conn_memory":
		a.Int64(key, v, &o.MaxUnauthConnMemory)
	case "ping_interval":
		a.Duration(key, v, &o.PingInterval)
	case "ping_max":
		a.Int(key, v, &o.MaxPingsOut)
	case "write_deadline":
		a.Duration(key, v, &o.WriteDeadline)
	case "write_timeout":
		var w string
		if a.Str(key, v, &w) {
			switch w {
			case "default", "close":
				o.WriteTimeout = w
			case "retry":
				a.Errorf(v.Pos, ErrNotSupported, "write_timeout %q is not supported yet: natsd closes a client past write_deadline", w)
			default: // upstream's text
				a.Errorf(v.Pos, ErrBadValue, "write_timeout must be 'default', 'close' or 'retry'")
			}
		}
	case "server_metadata":
		a.metadata(key, v)
	case "feature_flags":
		a.featureFlags(key, v)
	case "prof_port":
		a.Int(key, v, &a.c.ProfPort)
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

// metadata takes server_metadata, a map of strings.
func (a *applier) metadata(key string, v *confparse.Value) {
	if v.Kind != confparse.KindMap {
		a.TypeError(key, "map", v)
		return
	}
	md := make(map[string]string, len(v.Map.Entries))
	for i := range v.Map.Entries {
		e := &v.Map.Entries[i]
		var s string
		if a.Str(key+"."+e.Key, e.Value, &s) {
			md[e.Key] = s
		}
	}
	a.c.Options.Metadata = md
}

// featureFlags takes feature_flags, a map of booleans. natsd has none of
// upstream's flags: they are kept for /varz and change nothing.
func (a *applier) featureFlags(key string, v *confparse.Value) {
	if v.Kind != confparse.KindMap {
		a.TypeError(key, "map", v)
		return
	}
	ff := make(map[string]bool, len(v.Map.Entries))
	for i := range v.Map.Entries {
		e := &v.Map.Entries[i]
		var b bool
		if a.Bool(key+"."+e.Key, e.Value, &b) {
			ff[e.Key] = b
		}
	}
	a.c.Options.FeatureFlags = ff
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
