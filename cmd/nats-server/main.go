package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/cluster"
	"natsd.dev/cluster/gateway"
	"natsd.dev/cluster/leaf"
	"natsd.dev/cmd/internal/wsserver"
	"natsd.dev/confparse"
	"natsd.dev/jetstream"
	"natsd.dev/monitor"
	"natsd.dev/mqtt"
	"natsd.dev/server"
)

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
}

// shutdownTimeout bounds the flush of pending client data at exit.
const shutdownTimeout = 10 * time.Second

// run is the whole command; it returns the exit code.
func run(args []string, stdout io.Writer, stderr *os.File) int {
	f, err := parseFlags(args, stderr)
	// The monitoring port's /debug/vars and the profiling port's
	// /debug/pprof/cmdline show os.Args: the credentials given as flags
	// must not be there (CVE-2026-33247), so they are redacted in place,
	// as upstream does, once parsed.
	redactArgs(os.Args[1:])
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
	if f.reloadCheck != "" && (!f.check || f.configFile == "") {
		return fail(stderr, errors.New("--reload-check needs -t and -c <file>: nats-server -t -c new.conf --reload-check <pid|pidfile>"))
	}
	rec := newRecorder(args)
	cfg, err := loadConfig(f, rec, stderr)
	if err != nil {
		return fail(stderr, err)
	}
	co, err := loadCluster(cfg, f)
	if err != nil {
		return fail(stderr, err)
	}
	if err := checkGateway(cfg, co); err != nil {
		return fail(stderr, err)
	}
	jo, jsOn, err := loadJetStream(cfg, f)
	if err != nil {
		return fail(stderr, err)
	}
	if f.check && f.reloadCheck != "" {
		return reloadCheck(f, stdout, stderr)
	}
	if f.check {
		fmt.Fprintf(stderr, "nats-server: configuration file %s is valid (%s)\n", f.configFile, cfg.Digest)
		return 0
	}
	mo, err := loadMQTT(cfg, jsOn, co)
	if err != nil {
		return fail(stderr, err)
	}
	p := &process{f: f, args: args, snap: rec, cfg: cfg, co: co, jsOpts: jo, jsOn: jsOn, mqttOpts: mo, ldmDone: make(chan struct{})}
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
func loadConfig(f *flags, rec *recorder, stderr io.Writer) (*fileConfig, error) {
	cfg := defaultFileConfig()
	if f.check && f.configFile == "" {
		return nil, errors.New("must specify [-c, --config] option to check configuration file syntax")
	}
	if f.configFile != "" {
		c, warnings, err := parseConfigFileWith(f.configFile, rec.options())
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
	f        *flags
	args     []string  // the command line, for the reload snapshot
	snap     *recorder // what the running configuration was parsed from
	snapFile string    // the reload snapshot's path, "" before it is written
	cfg      *fileConfig
	logs     *logging
	srv      *server.Server
	mon      *monitor.Server   // nil without http_port
	prof     *monitor.Profiler // nil without prof_port
	co       *cluster.Options
	cl       *cluster.Cluster   // nil without a cluster listener
	gw       *gateway.Gateway   // nil without a gateway {} block
	lf       *leaf.Leaf         // nil without a leafnodes {} block
	ws       *wsserver.Listener // nil without a websocket listener
	jsOpts   jetstream.Options
	jsOn     bool                 // JetStream is configured on
	js       *jetstream.JetStream // nil until started
	// jsMu guards p.js against the lame duck goroutine's shutdown while a
	// reload turns JetStream on or off; jsStopped: JetStream was shut
	// down for good.
	jsMu      sync.Mutex
	jsStopped bool
	mqttOpts  mqtt.Options              // Port 0: MQTT off
	mq        atomic.Pointer[mqtt.MQTT] // nil until started
	mqStop    sync.Once
	pidFile   string
	portsFile string
	ldm       bool
	ldmDone   chan struct{}
	sigs      chan os.Signal // caught signals (trapSignals)
	// reloads carries $SYS.REQ.SERVER.<id>.RELOAD requests to the signal
	// loop, which owns the configuration; nil where the loop does not
	// serve them.
	reloads chan chan error
	// leafWS is lf for the WebSocket listener's goroutines (leafws.go).
	leafWS atomic.Pointer[leaf.Leaf]
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
	// "Server is ready" comes once every listener is up (cluster,
	// gateways, leaf nodes, monitoring), as nats-server logs it last.
	opts.DeferReady = true
	if f.configFile != "" {
		opts.ConfigDigest = cfg.Digest
	}
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
	s.SetReloader(p.requestReload)
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
	if err := p.startGateway(); err != nil {
		log.Log(context.Background(), fatalLevel, err.Error())
		p.shutdown()
		return 1
	}
	if err := p.startLeaf(); err != nil {
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
	if cfg.ProfPort != 0 {
		if err := p.startProfiler(); err != nil {
			log.Log(context.Background(), fatalLevel, err.Error())
			p.shutdown()
			return 1
		}
	}
	if cfg.PortsFileDir != "" {
		path, err := writePortsFile(cfg.PortsFileDir, s, p.mon, p.prof, p.cl, p.ws)
		if err != nil {
			log.Error("Error writing ports file: " + err.Error())
		} else {
			p.portsFile = path
		}
	}
	p.writeSnapshot(p.snap)
	s.LogReady()
	return p.waitForSignals()
}

// startProfiler starts the pprof server of prof_port (--profile) on the
// client listener's host, as upstream's.
func (p *process) startProfiler() error {
	prof, err := monitor.StartProfiler(p.cfg.Options.Host, p.cfg.ProfPort)
	if err != nil {
		return fmt.Errorf("error starting profiler: %w", err)
	}
	p.prof = prof
	p.logs.log.Info("profiling port: " + strconv.Itoa(prof.Addr().(*net.TCPAddr).Port))
	return nil
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
	if p.prof != nil {
		p.prof.Shutdown(ctx)
	}
	// MQTT, then JetStream, while its clients and links are still up,
	// so that what it acknowledged is durable before anything else
	// stops.
	p.stopMQTT(ctx, p.logs.log)
	p.stopJetStream(ctx, p.logs.log)
	if p.lf != nil {
		_ = p.lf.Shutdown(ctx)
	}
	if p.gw != nil {
		_ = p.gw.Shutdown(ctx)
	}
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
	if p.snapFile != "" {
		os.Remove(p.snapFile)
	}
	if p.portsFile != "" {
		os.Remove(p.portsFile)
	}
	if p.pidFile != "" {
		os.Remove(p.pidFile)
	}
	p.logs.close()
}

// reload re-reads the configuration file and applies what can change while
// running (see planReload). On any error the running configuration is
// kept and the error logged.
func (p *process) reload() {
	if err := p.tryReload(); err != nil {
		p.logs.log.Error("Failed to reload server configuration: " + err.Error())
	}
}

// requestReload reloads the configuration on the signal loop, as SIGHUP
// does, and returns the reload's error. It answers
// $SYS.REQ.SERVER.<id>.RELOAD on the system goroutine, which a reload
// never waits for (the system service drops events rather than block).
func (p *process) requestReload() error {
	if p.reloads == nil {
		return errors.New("config reload is not supported on this platform")
	}
	done := make(chan error, 1)
	t := time.NewTimer(shutdownTimeout)
	defer t.Stop()
	select {
	case p.reloads <- done:
	case <-p.ldmDone:
		return errors.New("server is shutting down")
	case <-t.C:
		return errors.New("config reload timed out")
	}
	select {
	case err := <-done:
		return err
	case <-t.C:
		return errors.New("config reload timed out")
	}
}

// running is the configuration the process runs with.
func (p *process) running() *loaded {
	return &loaded{cfg: p.cfg, co: p.co, js: p.jsOpts, jsOn: p.jsOn, mqtt: p.mqttOpts}
}

// tryReload re-reads the configuration file, logs every key that changed
// ("Reloaded: key = value") and every key refused with the reason
// ("Reload refused: key: why"), and applies the changes only when nothing
// is refused, as upstream's reload is all or nothing.
func (p *process) tryReload() error {
	if p.f.configFile == "" {
		return errors.New("can only reload config when a file is provided using -c or --config")
	}
	rec := newRecorder(p.args)
	c, warnings, err := parseConfigFileWith(p.f.configFile, rec.options())
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
	nu, err := load(c, p.f)
	if err != nil {
		return err
	}
	plan := planReload(p.running(), nu)
	for _, r := range plan.refused {
		p.logs.log.Error("Reload refused: " + r.key + ": " + r.err.Error())
	}
	if err := plan.err(); err != nil {
		return err
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
	changed := make([]string, len(plan.changed))
	for i, ch := range plan.changed {
		changed[i] = ch.String()
	}
	if err := p.srv.ReloadQuiet(opts); err != nil {
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
	p.co = nu.co
	p.mqttOpts = nu.mqtt
	p.jsOpts = nu.js
	jsToggled := p.jsOn != nu.jsOn
	p.jsOn = nu.jsOn
	p.snap = rec
	if plan.cluster && p.cl != nil {
		// The plan refused what Reload refuses.
		if err := p.cl.Reload(nu.co); err != nil {
			p.logs.log.Error("Cluster reload: " + err.Error())
		}
	}
	if plan.routes && p.cl != nil {
		p.cl.SetRoutes(nu.co.Routes)
	}
	if plan.leaf {
		p.reloadLeaf()
	}
	if plan.gateway {
		p.reloadGateway()
	}
	if m := p.mq.Load(); plan.mqtt && m != nil {
		// The plan refused what Reload refuses.
		if err := m.Reload(nu.mqtt); err != nil {
			p.logs.log.Error("MQTT reload: " + err.Error())
		} else {
			registerMQTTVarz(p.srv, nu.mqtt, m.Addr())
		}
	}
	if plan.ws && p.ws != nil {
		// The plan refused what Reload refuses.
		if err := p.ws.Reload(p.websocketOptions()); err != nil {
			p.logs.log.Error("Websocket reload: " + err.Error())
		}
	}
	if plan.advertise && p.cl != nil {
		p.cl.AdvertiseConnectURLs()
	}
	if jsToggled {
		p.reloadJetStream(nu.jsOn, nu.js)
	}
	if plan.jsLimits && p.js != nil {
		// The plan refused a decrease, the one error SetMaxStorage has.
		if err := p.js.SetMaxStorage(nu.js.MaxMemory, nu.js.MaxStore); err != nil {
			p.logs.log.Error("JetStream limits: " + err.Error())
		}
	}
	if plan.jsServerLimits && p.js != nil {
		p.js.SetServerLimits(nu.js.Limits)
	}
	if plan.pidFile {
		p.movePidFile(c.PidFile)
	}
	if plan.portsFile {
		p.movePortsFile(c.PortsFileDir)
	}
	p.writeSnapshot(p.snap)
	// Logged once every module applied its part, as upstream logs them
	// once its options are applied: a script (or a test) that waits for
	// the line finds the new configuration in force.
	for _, ch := range changed {
		p.logs.log.Info("Reloaded: " + ch)
	}
	if c.Digest != "" {
		p.logs.log.Info("Reloaded server configuration (" + c.Digest + ")")
	} else {
		p.logs.log.Info("Reloaded server configuration")
	}
	return nil
}

// movePidFile writes the pid file at its new path and removes the old
// one; "" removes it.
func (p *process) movePidFile(path string) {
	if path != "" {
		if err := writePidFile(path); err != nil {
			p.logs.log.Error("Could not write pidfile: " + err.Error())
			return
		}
	}
	if p.pidFile != "" && p.pidFile != path {
		os.Remove(p.pidFile)
	}
	p.pidFile = path
}

// movePortsFile writes the ports file into its new directory and removes
// the old one; "" removes it.
func (p *process) movePortsFile(dir string) {
	path := ""
	if dir != "" {
		var err error
		if path, err = writePortsFile(dir, p.srv, p.mon, p.prof, p.cl, p.ws); err != nil {
			p.logs.log.Error("Error writing ports file: " + err.Error())
			return
		}
	}
	if p.portsFile != "" && p.portsFile != path {
		os.Remove(p.portsFile)
	}
	p.portsFile = path
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
