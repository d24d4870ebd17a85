package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"natsd.dev/auth"
	"natsd.dev/server/config"
)

// usage is the -h text. It keeps nats-server's sections, flag spellings and
// option column so that people (and scripts grepping it) find what they
// know.
const usage = `Usage: nats-server [options]

Server Options:
    -a, --addr, --net <host>         Bind to host address (default: 0.0.0.0)
    -p, --port <port>                Use port for clients (default: 4222)
    -n, --name
        --server_name <server_name>  Server name (default: auto)
    -P, --pid <file>                 File to store PID
    -m, --http_port <port>           Use port for http monitoring
    -ms,--https_port <port>          Use port for https monitoring
    -c, --config <file>              Configuration file
    -t                               Test configuration and exit
    -sl,--signal <signal>[=<pid>]    Send signal to nats-server process (ldm, stop, quit, term, reopen, reload)
                                     <pid> can be either a PID (e.g. 1) or the path to a PID file (e.g. /var/run/nats-server.pid)
        --client_advertise <string>  Client URL to advertise to other servers
        --ports_file_dir <dir>       Creates a ports file in the specified directory (<executable_name>_<pid>.ports).

Logging Options:
    -l, --log <file>                 File to redirect log output
    -T, --logtime                    Timestamp log entries (default: true)
        --logtime_utc                Timestamps in UTC instead of local timezone (default: false)
    -s, --syslog                     Log to syslog or windows event log
    -r, --remote_syslog <addr>       Syslog server addr (udp://localhost:514)
    -D, --debug                      Enable debugging output
    -V, --trace                      Trace the raw protocol
    -VV                              Verbose trace (traces system account as well)
    -DV                              Debug and trace
    -DVV                             Debug and verbose trace (traces system account as well)
        --log_size_limit <limit>     Logfile size limit (default: auto)
        --max_traced_msg_len <len>   Maximum printable length for traced messages (default: unlimited)

JetStream Options:
    -js, --jetstream                 Enable JetStream functionality
    -sd, --store_dir <dir>           Set the storage directory

Authorization Options:
        --user <user>                User required for connections
        --pass <password>            Password required for connections
        --auth <token>               Authorization token required for connections

TLS Options:
        --tls                        Enable TLS, do not verify clients (default: false)
        --tlscert <file>             Server certificate file
        --tlskey <file>              Private key for server certificate
        --tlsverify                  Enable TLS, verify client certificates
        --tlscacert <file>           Client certificate CA for verification

Cluster Options:
        --routes <rurl-1, rurl-2>    Routes to solicit and connect
        --cluster <cluster-url>      Cluster URL for solicited routes
        --cluster_name <string>      Cluster Name, if not set one will be dynamically generated
        --no_advertise <bool>        Do not advertise known cluster information to clients
        --cluster_advertise <string> Cluster URL to advertise to other servers
        --connect_retries <number>   For implicit routes, number of connect retries
        --cluster_listen <url>       Cluster url from which members can solicit routes

Profiling Options:
        --profile <port>             Profiling HTTP port

natsd Options (not in nats-server):
        --reload-check <pid|pidfile> With -t -c <file>: print what a reload of the running
                                     server with <file> would change and refuse, and exit
        --max_unauthenticated_memory <size>
                                     Memory budget of the connections not authenticated yet (default: 512MB, -1: none)
        --max_unauthenticated_conn_memory <size>
                                     Memory budget of one connection not authenticated yet (default: 256KB, -1: none)

Common Options:
    -h, --help                       Show this message
    -v, --version                    Show version
        --help_tls                   TLS help
`

const tlsUsage = `TLS Options:
        --tls                        Enable TLS, do not verify clients (default: false)
        --tlscert <file>             Server certificate file
        --tlskey <file>              Private key for server certificate
        --tlsverify                  Enable TLS, verify client certificates
        --tlscacert <file>           Client certificate CA for verification

--tlsverify implies --tls. The flags replace the tls {} block of the
configuration file.
`

// flags holds the command line. Fields are only meaningful when their flag
// was given (set), which is how flags override the configuration file.
type flags struct {
	set     map[string]bool // flags given, by canonical name
	nonzero map[string]bool // flags given with a value other than the default
	// canonical maps every spelling (a, addr, net) to the name used in set.
	canonical map[string]string

	host, name, pidFile, configFile, signal string
	clientAdvertise, portsFileDir           string
	port                                    int
	check                                   bool
	reloadCheck                             string

	logFile, remoteSyslog         string
	logtime, logtimeUTC, syslog   bool
	debug, trace, vv, dv, dvv     bool
	logSizeLimit                  sizeValue
	unauthMem, unauthConnMem      sizeValue
	maxTracedMsgLen               int
	help, version, helpTLS        bool
	httpPort, httpsPort, profile  int
	connectRetries                int
	jetstream, tls, tlsVerify     bool
	noAdvertise                   bool
	storeDir, user, pass, auth    string
	tlsCert, tlsKey, tlsCACert    string
	routes, cluster, clusterName  string
	clusterAdvertise, clusterList string
}

// newFlagSet registers every nats-server flag on a new FlagSet.
func newFlagSet(f *flags, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("nats-server", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() { fmt.Fprint(out, usage) }

	str := func(p *string, names ...string) {
		for _, n := range names {
			fs.StringVar(p, n, "", "")
			f.canonical[n] = names[0]
		}
	}
	integer := func(p *int, names ...string) {
		for _, n := range names {
			fs.IntVar(p, n, 0, "")
			f.canonical[n] = names[0]
		}
	}
	boolean := func(p *bool, def bool, names ...string) {
		for _, n := range names {
			fs.BoolVar(p, n, def, "")
			f.canonical[n] = names[0]
		}
	}

	// Server options.
	str(&f.host, "addr", "a", "net")
	integer(&f.port, "port", "p")
	str(&f.name, "server_name", "n", "name")
	str(&f.pidFile, "pid", "P")
	str(&f.configFile, "config", "c")
	boolean(&f.check, false, "t")
	str(&f.reloadCheck, "reload-check", "reload_check")
	str(&f.signal, "signal", "sl")
	str(&f.clientAdvertise, "client_advertise")
	str(&f.portsFileDir, "ports_file_dir")

	// Logging options.
	str(&f.logFile, "log", "l")
	boolean(&f.logtime, true, "logtime", "T")
	boolean(&f.logtimeUTC, false, "logtime_utc")
	boolean(&f.syslog, false, "syslog", "s")
	str(&f.remoteSyslog, "remote_syslog", "r")
	boolean(&f.debug, false, "debug", "D")
	boolean(&f.trace, false, "trace", "V")
	boolean(&f.vv, false, "VV")
	boolean(&f.dv, false, "DV")
	boolean(&f.dvv, false, "DVV")
	fs.Var(&f.logSizeLimit, "log_size_limit", "")
	f.canonical["log_size_limit"] = "log_size_limit"
	integer(&f.maxTracedMsgLen, "max_traced_msg_len")

	// Authorization options.
	str(&f.user, "user")
	str(&f.pass, "pass")
	str(&f.auth, "auth")

	// Cluster options, applied to the cluster {} block by applyCluster.
	str(&f.routes, "routes")
	str(&f.cluster, "cluster")
	str(&f.clusterName, "cluster_name")
	boolean(&f.noAdvertise, false, "no_advertise")
	str(&f.clusterAdvertise, "cluster_advertise")
	integer(&f.connectRetries, "connect_retries")
	str(&f.clusterList, "cluster_listen")

	// natsd's own options.
	fs.Var(&f.unauthMem, "max_unauthenticated_memory", "")
	f.canonical["max_unauthenticated_memory"] = "max_unauthenticated_memory"
	fs.Var(&f.unauthConnMem, "max_unauthenticated_conn_memory", "")
	f.canonical["max_unauthenticated_conn_memory"] = "max_unauthenticated_conn_memory"

	// Common options.
	boolean(&f.help, false, "help", "h")
	boolean(&f.version, false, "version", "v")
	boolean(&f.helpTLS, false, "help_tls")

	// JetStream options, applied by loadJetStream.
	boolean(&f.jetstream, false, "jetstream", "js")
	str(&f.storeDir, "store_dir", "sd")

	// Options whose subsystems do not exist yet: accepted by the parser so
	// the message is specific, refused by checkUnsupported.
	integer(&f.httpPort, "http_port", "m")
	integer(&f.httpsPort, "https_port", "ms")
	boolean(&f.tls, false, "tls")
	str(&f.tlsCert, "tlscert")
	str(&f.tlsKey, "tlskey")
	boolean(&f.tlsVerify, false, "tlsverify")
	str(&f.tlsCACert, "tlscacert")
	integer(&f.profile, "profile")
	return fs
}

// unsupportedFlags lists, by canonical name, the flags refused for now and
// the subsystem each needs.
var unsupportedFlags = []struct{ name, what string }{}

// secretFlags are the flags whose values redactArgs hides.
var secretFlags = []string{"user", "pass", "auth"}

// redacted replaces a secret flag's value, upstream's word for it.
const redacted = "[REDACTED]"

// redactArgs replaces in args the values of the credential flags (--user
// u, -pass=p, --auth t, in any of the flag package's spellings) with
// "[REDACTED]", so that nothing that shows the command line (expvar's
// cmdline, pprof's) shows a credential.
func redactArgs(args []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return
		}
		name, hasValue := strings.TrimLeft(a, "-"), false
		if len(name) == len(a) || len(a)-len(name) > 2 {
			continue // not a flag
		}
		if k, _, ok := strings.Cut(name, "="); ok {
			name, hasValue = k, true
		}
		if !slices.Contains(secretFlags, name) {
			continue
		}
		if hasValue {
			args[i] = a[:strings.IndexByte(a, '=')+1] + redacted
		} else if i+1 < len(args) {
			i++
			args[i] = redacted
		}
	}
}

// errUsage is returned by parseFlags when the flag package rejected the
// command line; it already printed the reason and the usage.
var errUsage = errors.New("usage")

// parseFlags parses args. -h is a flag of its own, so flag.ErrHelp does not
// happen.
func parseFlags(args []string, out io.Writer) (*flags, error) {
	f := &flags{set: map[string]bool{}, nonzero: map[string]bool{}, canonical: map[string]string{}}
	fs := newFlagSet(f, out)
	if err := fs.Parse(args); err != nil {
		return nil, errUsage
	}
	fs.Visit(func(fl *flag.Flag) {
		// A flag given with its zero value (-js=false, -m 0) asks for
		// nothing, so only a value that differs from the default counts
		// for the unsupported ones; the others count whenever given.
		name := f.canonical[fl.Name]
		f.set[name] = true
		f.nonzero[name] = f.nonzero[name] || fl.Value.String() != fl.DefValue
	})
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return f, nil
}

// checkUnsupported returns an error naming the first flag that needs a
// subsystem natsd does not have yet.
func (f *flags) checkUnsupported() error {
	for _, u := range unsupportedFlags {
		if f.nonzero[u.name] {
			return fmt.Errorf("--%s is not supported yet (natsd has no %s)", u.name, u.what)
		}
	}
	return nil
}

// apply overrides cfg with the flags that were given.
func (f *flags) apply(cfg *config.Config) {
	o, l := &cfg.Options, &cfg.Log
	if f.set["addr"] {
		o.Host = f.host
	}
	if f.set["port"] {
		o.Port = f.port
	}
	if f.set["server_name"] {
		o.ServerName = f.name
	}
	if f.set["client_advertise"] {
		o.ClientAdvertise = f.clientAdvertise
	}
	if f.set["http_port"] {
		cfg.Monitor.Port = f.httpPort
	}
	if f.set["https_port"] {
		cfg.Monitor.HTTPSPort = f.httpsPort
	}
	if f.set["profile"] {
		cfg.ProfPort = f.profile
	}
	if f.set["pid"] {
		cfg.PidFile = f.pidFile
	}
	if f.set["ports_file_dir"] {
		cfg.PortsFileDir = f.portsFileDir
	}
	if f.set["log"] {
		l.File = f.logFile
	}
	if f.set["logtime"] {
		l.Logtime = f.logtime
	}
	if f.set["logtime_utc"] {
		l.LogtimeUTC = f.logtimeUTC
	}
	if f.set["syslog"] {
		l.Syslog = f.syslog
	}
	if f.set["remote_syslog"] {
		l.RemoteSyslog = f.remoteSyslog
	}
	if f.set["debug"] {
		l.Debug = f.debug
	}
	if f.set["trace"] {
		l.Trace = f.trace
	}
	if f.set["VV"] && f.vv {
		l.Trace, l.TraceVerbose = true, true
	}
	if f.set["DV"] && f.dv {
		l.Debug, l.Trace = true, true
	}
	if f.set["DVV"] && f.dvv {
		l.Debug, l.Trace, l.TraceVerbose = true, true, true
	}
	if f.set["log_size_limit"] {
		l.SizeLimit = int64(f.logSizeLimit)
	}
	if f.set["max_unauthenticated_memory"] {
		o.MaxUnauthMemory = int64(f.unauthMem)
	}
	if f.set["max_unauthenticated_conn_memory"] {
		o.MaxUnauthConnMemory = int64(f.unauthConnMem)
	}
	if f.set["max_traced_msg_len"] {
		l.MaxTracedMsgLen = f.maxTracedMsgLen
	}
	if f.set["user"] || f.set["pass"] || f.set["auth"] {
		// As upstream, the flags replace the single user and the token
		// of the authorization {} block; its users stay.
		a := &auth.Config{}
		if o.Authorization != nil {
			c := *o.Authorization
			a = &c
		}
		if f.set["user"] {
			a.User = f.user
		}
		if f.set["pass"] {
			a.Password = f.pass
		}
		if f.set["auth"] {
			a.Token = f.auth
		}
		o.Authorization = a
	}
}

// sizeValue is a byte count given as a number with an optional size
// suffix (1024, 10MB, 1GiB), like the configuration file's sizes.
type sizeValue int64

func (s *sizeValue) String() string { return strconv.FormatInt(int64(*s), 10) }

func (s *sizeValue) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*s = sizeValue(n)
	return nil
}

var errBadSize = errors.New("invalid size")

func parseSize(v string) (int64, error) {
	v = strings.TrimSpace(v)
	i := 0
	for i < len(v) && (v[i] >= '0' && v[i] <= '9' || i == 0 && v[i] == '-') {
		i++
	}
	n, err := strconv.ParseInt(v[:i], 10, 64)
	if err != nil {
		return 0, errBadSize
	}
	mult := int64(1)
	switch strings.ToLower(v[i:]) {
	case "":
	case "k":
		mult = 1000
	case "kb", "ki", "kib":
		mult = 1 << 10
	case "m":
		mult = 1000 * 1000
	case "mb", "mi", "mib":
		mult = 1 << 20
	case "g":
		mult = 1000 * 1000 * 1000
	case "gb", "gi", "gib":
		mult = 1 << 30
	default:
		return 0, errBadSize
	}
	return n * mult, nil
}

// applyTLS builds the client listener's TLS from --tls/--tlsverify and the
// files flags, replacing the tls {} block as upstream does; --tlsverify
// implies --tls. It then checks that HTTPS monitoring has a certificate.
func (f *flags) applyTLS(cfg *config.Config) error {
	if f.tls || f.tlsVerify {
		switch {
		case f.tlsCert == "":
			return errors.New("TLS Server certificate must be present and valid")
		case f.tlsKey == "":
			return errors.New("TLS Server private key must be present and valid")
		}
		tc, err := config.LoadTLSConfig(config.TLSFiles{CertFile: f.tlsCert, KeyFile: f.tlsKey, CAFile: f.tlsCACert, Verify: f.tlsVerify})
		if err != nil {
			return err
		}
		o := &cfg.Options
		o.TLSConfig, o.TLSMap = tc, false
	}
	if cfg.Monitor.HTTPSPort != 0 && cfg.Options.TLSConfig == nil {
		return errors.New("https monitoring (-ms, https_port) requires TLS: give a tls {} block or --tls")
	}
	return nil
}
