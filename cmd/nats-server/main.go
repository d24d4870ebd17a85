package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/cluster"
	"natsd.dev/cmd/internal/wsserver"
	"natsd.dev/confparse"
	"natsd.dev/jetstream"
	"natsd.dev/monitor"
	"natsd.dev/mqtt"
	"natsd.dev/server"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// shutdownTimeout bounds the flush of pending client data at exit.
const shutdownTimeout = 10 * time.Second

// run is the whole command; it returns the exit code.
func run(args []string, stdout io.Writer, stderr *os.File) int {
	f, err := parseFlags(args, stderr)
	if errors.Is(err, errUsage) {
		return 2 // the flag package printed the problem and the usage
	}
	if err != nil {
		return fail(stderr, err)
	}
	switch {
	case f.help:
		fmt.Fprint(stdout, usage)
		return 0
	case f.helpTLS:
		fmt.Fprint(stdout, tlsUsage)
		return 0
	case f.version:
		fmt.Fprintf(stdout, "nats-server: v%s\n", server.Version)
		return 0
	case f.set["signal"]:
		if err := sendSignal(f.signal); err != nil {
			return fail(stderr, err)
		}
		return 0
	}
	if err := f.checkUnsupported(); err != nil {
		return fail(stderr, err)
	}
	cfg, err := loadConfig(f, stderr)
	if err != nil {
		return fail(stderr, err)
	}
	co, err := loadCluster(cfg, f)
	if err != nil {
		return fail(stderr, err)
	}
	jo, jsOn, err := loadJetStream(cfg, f)
	if err != nil {
		return fail(stderr, err)
	}
	if f.check {
		fmt.Fprintf(stderr, "nats-server: configuration file %s is valid (%s)\n", f.configFile, cfg.Digest)
		return 0
	}
	mo, err := loadMQTT(cfg, jsOn, co)
	if err != nil {
		return fail(stderr, err)
	}
	p := &process{f: f, cfg: cfg, co: co, jsOpts: jo, jsOn: jsOn, mqttOpts: mo, ldmDone: make(chan struct{})}
	return p.serve(stderr)
}

// fail prints err the way nats-server does and returns exit code 1.
func fail(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "nats-server: %v\n", err)
	return 1
}

// loadConfig layers the configuration file (if any) and then the flags
// over the defaults. Warnings are printed; with -t they fail the check, as
// upstream's does.
func loadConfig(f *flags, stderr io.Writer) (*fileConfig, error) {
	cfg := defaultFileConfig()
	if f.check && f.configFile == "" {
		return nil, errors.New("must specify [-c, --config] option to check configuration file syntax")
	}
	if f.configFile != "" {
		c, warnings, err := parseConfigFile(f.configFile)
		if err != nil {
			return nil, configError(err)
		}
		if len(warnings) > 0 {
			if f.check {
				return nil, warnings
			}
			fmt.Fprintln(stderr, warnings.Error())
		}
		cfg = c
	}
	f.apply(&cfg.Config)
	if err := f.applyTLS(&cfg.Config); err != nil {
		return nil, err
	}
	return cfg, nil
}

// configError drops confparse's package prefix from file errors so the
// message reads like nats-server's ("open x.conf: no such file ...").
func configError(err error) error {
	var list confparse.ErrorList
	if errors.As(err, &list) {
		return list
	}
	return errors.New(strings.TrimPrefix(err.Error(), "confparse: "))
}

// gitCommit is the short VCS revision the binary was built from, if the
// build recorded one.
func gitCommit() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 7 {
			return s.Value[:7]
		}
	}
	return ""
}

// process is a running server and what the command owns around it.
type process struct {
	f         *flags
	cfg       *fileConfig
	logs      *logging
	srv       *server.Server
	mon       *monitor.Server // nil without http_port
	co        *cluster.Options
	cl        *cluster.Cluster   // nil without a cluster listener
	ws        *wsserver.Listener // nil without a websocket listener
	jsOpts    jetstream.Options
	jsOn      bool                 // JetStream is configured on
	js        *jetstream.JetStream // nil until started
	jsStop    sync.Once
	mqttOpts  mqtt.Options              // Port 0: MQTT off
	mq        atomic.Pointer[mqtt.MQTT] // nil until started
	mqStop    sync.Once
	pidFile   string
	portsFile string
	ldm       bool
	ldmDone   chan struct{}
	sigs      chan os.Signal // caught signals (trapSignals)
}

// serve starts the server p describes (f, cfg, co and the JetStream
// options) and runs until a signal stops it.
func (p *process) serve(stderr *os.File) int {
	cfg, f := p.cfg, p.f
	logs, err := newLogging(cfg.Log, stderr)
	if err != nil {
		return fail(stderr, fmt.Errorf("unable to set up logging: %w", err))
	}
	p.logs = logs
	defer p.cleanup()
	p.trapSignals()
	defer signal.Stop(p.sigs)
	log := logs.log

	opts := cfg.Options
	opts.Logger = log
	opts.TraceVerbose, opts.MaxTracedMsgLen = cfg.Log.TraceVerbose, cfg.Log.MaxTracedMsgLen
	opts.GitCommit = gitCommit()
	opts.ConfigFile = f.configFile
	if p.jsOn {
		// JetStream starts with the server, before its listeners, as
		// nats-server's does: the first client already finds its API.
		opts.OnStart = append(opts.OnStart, func(s *server.Server) error { return p.startJetStream(s) })
	}
	if cfg.websocket.Port != 0 {
		// The WebSocket listener starts with the server, before the
		// client listener, as nats-server's does.
		wo := p.websocketOptions()
		opts.OnStart = append(opts.OnStart, func(s *server.Server) (err error) {
			p.ws, err = wsserver.Start(s, wo)
			return err
		})
	}
	if p.mqttOpts.Port != 0 {
		// MQTT starts after JetStream, where it keeps its sessions, and
		// the WebSocket listener, before the client listener, as
		// nats-server's does.
		opts.OnStart = append(opts.OnStart, p.startMQTT)
	}
	s, err := server.New(opts)
	if err != nil {
		log.Log(context.Background(), fatalLevel, err.Error())
		return fail(stderr, err)
	}
	p.srv = s
	if cfg.PidFile != "" {
		if err := writePidFile(cfg.PidFile); err != nil {
			log.Log(context.Background(), fatalLevel, "Could not write pidfile: "+err.Error())
			return 1
		}
		p.pidFile = cfg.PidFile
	}
	if err := s.Start(); err != nil {
		log.Log(context.Background(), fatalLevel, err.Error())
		p.stopMQTT(context.Background(), log)
		p.stopJetStream(context.Background(), log)
		return 1
	}
	if err := p.startCluster(); err != nil {
		log.Log(context.Background(), fatalLevel, err.Error())
		p.shutdown()
		return 1
	}
	if cfg.Monitor.Port != 0 || cfg.Monitor.HTTPSPort != 0 {
		if err := p.startMonitor(); err != nil {
			log.Log(context.Background(), fatalLevel, err.Error())
			p.shutdown()
			return 1
		}
	}
	if cfg.PortsFileDir != "" {
		path, err := writePortsFile(cfg.PortsFileDir, s, p.mon, p.cl, p.ws)
		if err != nil {
			log.Error("Error writing ports file: " + err.Error())
		} else {
			p.portsFile = path
		}
	}
	return p.waitForSignals()
}

// startMonitor starts the HTTP monitoring server; its host defaults to the
// client listener's, as upstream's does.
func (p *process) startMonitor() error {
	mc := p.cfg.Monitor
	if mc.Host == "" {
		mc.Host = p.cfg.Options.Host
	}
	mo := monitor.Options{Host: mc.Host, Port: mc.Port, HTTPSPort: mc.HTTPSPort, BasePath: mc.BasePath}
	if mc.HTTPSPort != 0 {
		// As upstream: each HTTPS handshake takes the client listener's
		// current TLS configuration, so a reload's certificate applies
		// here too, without asking for a client certificate.
		srv := p.srv
		mo.TLSConfig = &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			tc := srv.Options().TLSConfig.Clone()
			tc.ClientAuth = tls.NoClientCert
			return tc, nil
		}}
	}
	m, err := monitor.New(p.srv, mo)
	if err != nil {
		return err
	}
	if err := m.Start(); err != nil {
		return err
	}
	p.mon = m
	if mc.Port != 0 {
		p.logs.log.Info("Starting http monitor on http://" + m.Addr().String())
	}
	if a := m.HTTPSAddr(); a != nil {
		p.logs.log.Info("Starting https monitor on https://" + a.String())
	}
	return nil
}

// shutdown stops the monitor and the server, flushing clients within
// shutdownTimeout.
func (p *process) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if p.mon != nil {
		p.mon.Shutdown(ctx)
	}
	// MQTT, then JetStream, while its clients and links are still up,
	// so that what it acknowledged is durable before anything else
	// stops.
	p.stopMQTT(ctx, p.logs.log)
	p.stopJetStream(ctx, p.logs.log)
	if p.cl != nil {
		_ = p.cl.Shutdown(ctx)
	}
	if err := p.srv.Shutdown(ctx); err != nil {
		p.logs.log.Error("Shutdown did not complete: " + err.Error())
	}
}

// lameDuck runs lame duck mode in the background; ldmDone closes when the
// server has shut down at its end.
func (p *process) lameDuck() {
	if p.ldm {
		return
	}
	p.ldm = true
	log := p.logs.log // p.logs belongs to the signal loop
	go func() {
		defer close(p.ldmDone)
		// As upstream, lame duck mode stops JetStream before it closes
		// the clients; MQTT, which keeps its sessions there, goes first.
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		p.stopMQTT(ctx, log)
		p.stopJetStream(ctx, log)
		cancel()
		if err := p.srv.LameDuck(context.Background()); err != nil {
			log.Error("Lame duck mode: " + err.Error())
		}
	}()
}

// cleanup removes the pid and ports files and closes the log.
func (p *process) cleanup() {
	if p.portsFile != "" {
		os.Remove(p.portsFile)
	}
	if p.pidFile != "" {
		os.Remove(p.pidFile)
	}
	p.logs.close()
}

// reload re-reads the configuration file and applies what can change while
// running (logging, limits, the client listener's TLS, authorization, the
// users of existing accounts and the cluster's routes). On any error the running configuration is
// kept and the error logged.
func (p *process) reload() {
	log := p.logs.log
	if err := p.tryReload(); err != nil {
		log.Error("Failed to reload server configuration: " + err.Error())
	}
}

func (p *process) tryReload() error {
	if p.f.configFile == "" {
		return errors.New("can only reload config when a file is provided using -c or --config")
	}
	c, warnings, err := parseConfigFile(p.f.configFile)
	if err != nil {
		return configError(err)
	}
	for _, w := range warnings {
		p.logs.log.Warn(w.Error())
	}
	p.f.apply(&c.Config)
	if err := p.f.applyTLS(&c.Config); err != nil {
		return err
	}
	if err := checkReloadable(p.cfg, c); err != nil {
		return err
	}
	co, err := loadCluster(c, p.f)
	if err != nil {
		return configError(err)
	}
	jo, jsOn, err := loadJetStream(c, p.f)
	if err != nil {
		return err
	}
	if err := checkJetStreamReload(p.jsOn, p.jsOpts, jsOn, jo); err != nil {
		return err
	}
	// The mqtt {} block itself does not change (checkReloadable); what
	// it is checked against (the users) may, as upstream checks again.
	if _, err := loadMQTT(c, jsOn, co); err != nil {
		return err
	}
	// Of the cluster block only routes reload, as upstream's; the rest
	// needs a restart.
	routesChanged := !sameRoutes(p.co, co)
	if !sameCluster(withoutRoutes(p.co), withoutRoutes(co)) {
		return errors.New("config reload not supported for cluster")
	}
	logs := p.logs
	if c.Log != p.cfg.Log {
		if logs, err = newLogging(c.Log, os.Stderr); err != nil {
			return fmt.Errorf("unable to set up logging: %w", err)
		}
	}
	opts := c.Options
	opts.Logger = logs.log
	opts.TraceVerbose, opts.MaxTracedMsgLen = c.Log.TraceVerbose, c.Log.MaxTracedMsgLen
	if err := p.srv.Reload(opts); err != nil {
		if logs != p.logs {
			logs.close()
		}
		return err
	}
	if logs != p.logs {
		old := p.logs
		p.logs = logs
		old.close()
	}
	p.cfg = c
	p.co = co
	if routesChanged && p.cl != nil {
		p.cl.SetRoutes(co.Routes)
		p.logs.log.Info("Reloaded: cluster routes")
	}
	return nil
}

// checkReloadable refuses changes that need a restart, with upstream's
// wording.
func checkReloadable(old, nu *fileConfig) error {
	type field struct {
		name     string
		old, new any
	}
	for _, fl := range []field{
		{"host", old.Options.Host, nu.Options.Host},
		{"port", old.Options.Port, nu.Options.Port},
		{"server_name", old.Options.ServerName, nu.Options.ServerName},
		{"client_advertise", old.Options.ClientAdvertise, nu.Options.ClientAdvertise},
		{"no_header_support", old.Options.NoHeaderSupport, nu.Options.NoHeaderSupport},
		{"disable_sublist_cache", old.Options.NoSublistCache, nu.Options.NoSublistCache},
		{"pid_file", old.PidFile, nu.PidFile},
		{"http", old.Monitor, nu.Monitor},
		{"max_closed_clients", old.Options.MaxClosedClients, nu.Options.MaxClosedClients},
		{"ports_file_dir", old.PortsFileDir, nu.PortsFileDir},
		{"accounts", strings.Join(old.Options.Accounts, ","), strings.Join(nu.Options.Accounts, ",")},
		{"system_account", old.Options.SystemAccount, nu.Options.SystemAccount},
		{"no_system_account", old.Options.NoSystemAccount, nu.Options.NoSystemAccount},
	} {
		if fl.old != fl.new {
			return fmt.Errorf("config reload not supported for %s: old=%v, new=%v", fl.name, fl.old, fl.new)
		}
	}
	// Authorization and the users of existing accounts reload (the
	// server checks connected clients again). As upstream, no_auth_user
	// may be removed but not set or changed; the accounts themselves,
	// their exports, imports, mappings and limits need a restart.
	if oa, na := noAuthUser(old), noAuthUser(nu); na != "" && na != oa {
		return fmt.Errorf("config reload not supported for no_auth_user: old=%v, new=%v", oa, na)
	}
	if !reflect.DeepEqual(old.Options.Exports, nu.Options.Exports) || !reflect.DeepEqual(old.Options.Imports, nu.Options.Imports) ||
		!reflect.DeepEqual(old.Options.Mappings, nu.Options.Mappings) || !reflect.DeepEqual(old.Options.AccountLimits, nu.Options.AccountLimits) {
		return errors.New("config reload not supported for accounts")
	}
	if !sameWebsocket(old.websocket, nu.websocket) {
		return errors.New("config reload not supported for websocket")
	}
	if err := checkMQTTReload(old.mqtt, nu.mqtt); err != nil {
		return err
	}
	// The client listener's tls {} settings reload (new connections use
	// them); turning TLS on or off and verify_and_map, which
	// authentication is built on, need a restart.
	o, n := &old.Options, &nu.Options
	if (o.TLSConfig == nil) != (n.TLSConfig == nil) || o.TLSMap != n.TLSMap {
		return errors.New("config reload not supported for tls")
	}
	return nil
}

// noAuthUser is the no_auth_user of c, "" for none.
func noAuthUser(c *fileConfig) string {
	if c.Options.Authorization == nil {
		return ""
	}
	return c.Options.Authorization.NoAuthUser
}

// sameWebsocket reports whether two websocket {} blocks configure the same
// listener; TLS settings compare by certificate and client verification,
// since the files are loaded anew at every parse.
func sameWebsocket(a, b wsserver.Options) bool {
	ta, tb := a.TLSConfig, b.TLSConfig
	a.TLSConfig, b.TLSConfig = nil, nil
	return reflect.DeepEqual(a, b) && sameTLS(ta, tb)
}

// sameTLS reports whether two parses of a tls {} block configure the same
// listener: they compare by certificate, client verification and the
// negotiation settings, since the files are loaded anew at every parse.
func sameTLS(ta, tb *tls.Config) bool {
	if (ta == nil) != (tb == nil) {
		return false
	}
	if ta == nil {
		return true
	}
	if ta.MinVersion != tb.MinVersion || !slices.Equal(ta.CipherSuites, tb.CipherSuites) || !slices.Equal(ta.CurvePreferences, tb.CurvePreferences) {
		return false
	}
	if ta.ClientAuth != tb.ClientAuth || len(ta.Certificates) != len(tb.Certificates) || (ta.ClientCAs == nil) != (tb.ClientCAs == nil) ||
		(ta.ClientCAs != nil && !ta.ClientCAs.Equal(tb.ClientCAs)) {
		return false
	}
	for i := range ta.Certificates {
		if !slices.EqualFunc(ta.Certificates[i].Certificate, tb.Certificates[i].Certificate, bytes.Equal) {
			return false
		}
	}
	return true
}
