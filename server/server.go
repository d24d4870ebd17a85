package server

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/server/internal/logswap"
	"natsd.dev/sublist"
)

// Version is the nats-server version natsd implements; clients gate
// features on it, so it follows the upstream release whose behaviour natsd
// matches.
const Version = "2.15.2"

// ProtoVersion is the client protocol version sent in INFO.
const ProtoVersion = 1

// LevelTrace is the slog level of protocol tracing (-V), below debug.
const LevelTrace = slog.Level(-8)

// GlobalAccountName is the account of clients when no accounts are set up.
const GlobalAccountName = "$G"

// Sentinel errors returned by Server methods.
var (
	// ErrServerStopped is returned by Start after Shutdown.
	ErrServerStopped = errors.New("server: stopped")
	// ErrBadOptions wraps an invalid option.
	ErrBadOptions = errors.New("server: invalid options")
)

// ListenError is returned by Start when the client listener cannot bind.
// Its text is upstream's fatal log line, which operators grep for.
type ListenError struct {
	Addr string
	Err  error
}

func (e *ListenError) Error() string {
	return fmt.Sprintf("Error listening on port: %s, %q", e.Addr, e.Err.Error())
}

func (e *ListenError) Unwrap() error { return e.Err }

// Server is a NATS server. Create one with New, then Start it; Shutdown
// stops it. All methods are safe for concurrent use.
type Server struct {
	id        string
	startTime time.Time
	log       *slog.Logger
	logh      *logswap.Handler // s.log's handler, swapped by Reload
	respTag   string           // this server's token in "_R_." response subjects
	gAcc      *Account
	sysAcc    *Account      // nil with NoSystemAccount; fixed at New
	sys       SystemService // answers $SYS requests (package sys); nil without sysAcc or sys

	// reloadMu serializes Reload calls, so the client checks of two
	// reloads never interleave; taken before mu.
	reloadMu sync.Mutex
	// op is operator mode (operator.go); nil without. Set in New.
	op *operatorState
	// jwtListenMu serializes the calls of OnJWTAccount listeners
	// (operator.go).
	jwtListenMu sync.Mutex
	// reloader is what ReloadConfig runs (SetReloader).
	reloader reloader

	mu   sync.Mutex
	opts Options // guarded by mu for Reload; hot fields are copied to atomics below
	// remoteURLs are the other servers' client URLs (SetRemoteConnectURLs),
	// remoteURLsSet whether it was ever called.
	remoteURLs    []string
	remoteURLsSet bool
	info          Info
	ln            net.Listener
	extra         []net.Listener
	wsInfo        *WebsocketInfo // set by ServeWebsocket
	clients       map[uint64]*client
	sessions      map[uint64]*client // in-process sessions (session.go)
	// sessClients counts the sessions of Kind "Client" in sessions: they
	// are in /varz connections as socket clients are.
	sessClients int

	links    map[uint64]*Link
	accounts map[string]*Account
	started  bool
	shutdown bool
	// shutdownNotified: the ShutdownListener was called (once).
	shutdownNotified bool
	ldm              bool
	ldmHooks         []*lameDuckHook // guarded by mu; AddLameDuckListener

	// Limits read on hot paths; updated by Reload.
	maxPayload          atomic.Int32
	maxControlLine      atomic.Int32
	maxPending          atomic.Int64
	maxSubs             atomic.Int32
	maxConn             atomic.Int32
	pingInterval        atomic.Int64
	maxPingsOut         atomic.Int32
	writeDeadline       atomic.Int64
	noFastProducerStall atomic.Bool
	traceVerbose        atomic.Bool
	traceClients        traceClients // publish message trace events
	maxTracedMsgLen     atomic.Int64
	unauthLimits        unauthLimits
	// clusterName is the cluster this server belongs to (nil or "" when
	// it has none), read when a mapping has cluster-scoped destinations.
	clusterName atomic.Pointer[string]

	// unauth lists the connections that have not authenticated yet,
	// against their memory budget (unauth.go).
	unauth unauthState

	// auth is the authentication chain and its settings, built at New
	// and swapped whole by Reload (see auth_reload.go). Readers load it
	// once per use and never hold a lock for it.
	auth atomic.Pointer[serverAuth]
	// tlsConfig is the client listener's TLS front, fixed at New (nil
	// means no TLS); tlsState is what its handshakes follow, swapped by
	// Reload (see tls.go).
	tlsConfig *tls.Config
	tlsState  atomic.Pointer[tlsState]

	linkState
	callout    *calloutTransport // the server's keys, auth callout sessions (callout.go)
	nextCID    atomic.Uint64
	stats      Stats
	monitoring monState

	wg   sync.WaitGroup // accept loops and client goroutines
	quit chan struct{}
}

// Stats are the server's message counters, as /varz reports them.
type Stats struct {
	InMsgs        atomic.Int64
	OutMsgs       atomic.Int64
	InBytes       atomic.Int64
	OutBytes      atomic.Int64
	SlowConsumers atomic.Int64
	StaleConns    atomic.Int64
	TotalConns    atomic.Int64
	// InClientMsgs, InClientBytes, OutClientMsgs and OutClientBytes are
	// the part of the totals above received from and delivered to user
	// connections (clients, MQTT), not links or in-process services.
	InClientMsgs   atomic.Int64
	InClientBytes  atomic.Int64
	OutClientMsgs  atomic.Int64
	OutClientBytes atomic.Int64
	// Stalls counts the times a fast producer was held back for a slow
	// consumer (upstream's stalled_clients).
	Stalls atomic.Int64

	// slowByKind and staleByKind split SlowConsumers and StaleConns by
	// the kind of the connection (clients and in-process sessions count
	// as clients).
	slowByKind  [numConnKinds]atomic.Int64
	staleByKind [numConnKinds]atomic.Int64
}

// countSlow counts a slow consumer of kind k.
func (st *Stats) countSlow(k ConnKind) {
	st.SlowConsumers.Add(1)
	st.slowByKind[k].Add(1)
}

// countStale counts a stale connection of kind k.
func (st *Stats) countStale(k ConnKind) {
	st.StaleConns.Add(1)
	st.staleByKind[k].Add(1)
}

// Info is the INFO document sent to clients, with upstream's JSON names.
type Info struct {
	ID                string   `json:"server_id"`
	Name              string   `json:"server_name"`
	Version           string   `json:"version"`
	Proto             int      `json:"proto"`
	GitCommit         string   `json:"git_commit,omitempty"`
	GoVersion         string   `json:"go"`
	Host              string   `json:"host"`
	Port              int      `json:"port"`
	Headers           bool     `json:"headers"`
	AuthRequired      bool     `json:"auth_required,omitempty"`
	TLSRequired       bool     `json:"tls_required,omitempty"`
	TLSVerify         bool     `json:"tls_verify,omitempty"`
	TLSAvailable      bool     `json:"tls_available,omitempty"`
	MaxPayload        int32    `json:"max_payload"`
	JetStream         bool     `json:"jetstream,omitempty"`
	IP                string   `json:"ip,omitempty"`
	CID               uint64   `json:"client_id,omitempty"`
	ClientIP          string   `json:"client_ip,omitempty"`
	Nonce             string   `json:"nonce,omitempty"`
	Cluster           string   `json:"cluster,omitempty"`
	Domain            string   `json:"domain,omitempty"`
	ClientConnectURLs []string `json:"connect_urls,omitempty"`
	WSConnectURLs     []string `json:"ws_connect_urls,omitempty"`
	LameDuckMode      bool     `json:"ldm,omitempty"`
	ConnectInfo       bool     `json:"connect_info,omitempty"`
	RemoteAccount     string   `json:"remote_account,omitempty"`
	IsSystemAccount   bool     `json:"acc_is_sys,omitempty"`
	APILevel          int      `json:"api_lvl,omitempty"`
	XKey              string   `json:"xkey,omitempty"` // the server's public curve key
}

// New validates opts and returns a server that is not yet listening.
func New(opts Options) (*Server, error) {
	opts.setDefaults()
	if opts.Port < RandomPort || opts.Port > 65535 {
		return nil, fmt.Errorf("%w: port %d out of range", ErrBadOptions, opts.Port)
	}
	if opts.MaxPayload < 0 || opts.MaxControlLine < 0 || opts.MaxPending < 0 {
		return nil, fmt.Errorf("%w: negative limit", ErrBadOptions)
	}
	if int64(opts.MaxPayload) > opts.MaxPending {
		return nil, fmt.Errorf("%w: max_payload (%d) can not be higher than max_pending (%d)", ErrBadOptions, opts.MaxPayload, opts.MaxPending)
	}
	keys, err := newCalloutTransport() // the server's nkey and curve key (callout.go)
	if err != nil {
		return nil, err
	}
	id := keys.id
	logh := new(logswap.Handler)
	logh.Set(opts.Logger)
	log := slog.New(logh)
	s := &Server{
		id:        id,
		startTime: time.Now(),
		log:       log,
		logh:      logh,
		opts:      opts,
		clients:   make(map[uint64]*client),
		accounts:  make(map[string]*Account),
		quit:      make(chan struct{}),
		callout:   keys,
	}
	if opts.TLSMap && !tlsVerifies(opts.TLSConfig) {
		return nil, fmt.Errorf("%w: verify_and_map needs TLS with verified client certificates", ErrBadOptions)
	}
	s.initTLS(&opts)
	s.initRegistry()
	s.monitoring.closed.SetMax(DefaultMaxClosedClients)
	if opts.MaxClosedClients != 0 {
		s.monitoring.closed.SetMax(opts.MaxClosedClients)
	}
	if err = s.setupOperator(&opts); err != nil {
		return nil, err
	}
	s.gAcc = s.newAccount(GlobalAccountName)
	if err = s.newAccounts(&opts); err != nil {
		return nil, err
	}
	if err = s.setAccountLimits(&opts); err != nil {
		return nil, err
	}
	if err = s.setAccountMsgTrace(&opts); err != nil {
		return nil, err
	}
	if err = s.setupLinks(&opts); err != nil {
		return nil, err
	}
	sa, err := newServerAuth(&opts, s.accounts)
	if err != nil {
		return nil, err
	}
	s.operatorChain(sa)
	s.auth.Store(sa)
	// The system service's session reads this one when it attaches; the
	// limits come after it (its subscriptions are not a client's).
	s.traceVerbose.Store(opts.TraceVerbose)
	if err = s.startSystem(); err != nil {
		return nil, err
	}
	s.loadSystemAccountJWT()
	s.applyLimits(&opts)
	name := opts.ServerName
	if name == "" {
		name = id
	}
	s.info = Info{
		ID:           id,
		Name:         name,
		Version:      Version,
		Proto:        ProtoVersion,
		GitCommit:    opts.GitCommit,
		GoVersion:    runtime.Version(),
		Host:         opts.Host,
		Port:         opts.Port,
		Headers:      !opts.NoHeaderSupport,
		MaxPayload:   opts.MaxPayload,
		AuthRequired: sa.chain != nil,
		XKey:         keys.xpub,
		TLSRequired:  opts.TLSConfig != nil,
		TLSVerify:    tlsVerifies(opts.TLSConfig),
	}
	// The resolver's requests carry the server's info: it starts last.
	if err = s.startResolver(); err != nil {
		return nil, err
	}
	return s, nil
}

// applyLimits publishes the hot-path limits of o.
func (s *Server) applyLimits(o *Options) {
	s.maxPayload.Store(o.MaxPayload)
	s.maxControlLine.Store(o.MaxControlLine)
	s.maxPending.Store(o.MaxPending)
	s.maxSubs.Store(int32(o.MaxSubs))
	s.maxConn.Store(int32(o.MaxConn))
	s.pingInterval.Store(int64(o.PingInterval))
	s.maxPingsOut.Store(int32(o.MaxPingsOut))
	s.writeDeadline.Store(int64(o.WriteDeadline))
	s.noFastProducerStall.Store(o.NoFastProducerStall)
	s.traceVerbose.Store(o.TraceVerbose)
	s.maxTracedMsgLen.Store(int64(o.MaxTracedMsgLen))
	s.unauthLimits.max.Store(o.unauthMax())
	s.unauthLimits.connMax.Store(o.unauthConnMax())
}

func (s *Server) newAccount(name string) *Account {
	a := unlistedAccount(s, name)
	s.accounts[name] = a
	return a
}

// unlistedAccount returns a new account of s that s does not list yet.
func unlistedAccount(s *Server, name string) *Account {
	a := &Account{Name: name, nameb: []byte(name), srv: s}
	a.limits.Store(&AccountLimits{})
	if s.opts.NoSublistCache {
		a.sl = sublist.NewWithOptions[*subscription](sublist.Options{NoCache: true})
	} else {
		a.sl = sublist.New[*subscription]()
	}
	return a
}

// ID returns the server's unique ID (an nkey-style public key).
func (s *Server) ID() string { return s.id }

// Name returns the server name (the ID when none was configured).
func (s *Server) Name() string { return s.info.Name }

// Options returns a copy of the options in force (with defaults filled in).
func (s *Server) Options() Options {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts
}

// Start binds the client listener and starts accepting connections. It
// returns once the server is ready for connections.
func (s *Server) Start() error {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		return ErrServerStopped
	}
	if s.started {
		s.mu.Unlock()
		return nil
	}
	s.started = true
	addr := s.opts.listenAddr()
	s.mu.Unlock()

	git := s.opts.GitCommit
	if git == "" {
		git = "not set"
	}
	s.log.Info("Starting nats-server")
	s.log.Info("  Version:  " + Version)
	s.log.Info("  Git:      [" + git + "]")
	s.log.Info("  Name:     " + s.info.Name)
	s.log.Info("  ID:       " + s.id)
	for _, l := range featureFlagLines(s.opts.FeatureFlags) {
		s.log.Info(l)
	}
	if s.opts.ConfigFile != "" {
		line := "Using configuration file: " + s.opts.ConfigFile
		if s.opts.ConfigDigest != "" {
			line += " (" + s.opts.ConfigDigest + ")"
		}
		s.log.Info(line)
	}
	s.logTrustedOperators()

	for _, start := range s.opts.OnStart {
		if err := start(s); err != nil {
			s.closeExtraListeners()
			return err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.closeExtraListeners()
		return &ListenError{Addr: addr, Err: err}
	}
	port := ln.Addr().(*net.TCPAddr).Port
	s.mu.Lock()
	s.ln = ln
	s.info.Port = port
	s.info.ClientConnectURLs = s.connectURLs(port)
	s.mu.Unlock()
	s.log.Info("Listening for client connections on " + net.JoinHostPort(s.opts.Host, strconv.Itoa(port)))
	if s.opts.MaxPayload > MaxPayloadWarnSize {
		s.log.Warn(fmt.Sprintf("Maximum payloads over %d bytes are not recommended", MaxPayloadWarnSize))
	}
	s.wg.Add(1)
	go s.acceptLoop(ln, s.tlsConfig)
	if s.sys != nil {
		s.wg.Add(1)
		go s.runSystem()
	}
	if !s.opts.DeferReady {
		s.LogReady()
	}
	return nil
}

// LogReady logs "Server is ready" (Start does, unless Options.DeferReady).
func (s *Server) LogReady() { s.log.Info("Server is ready") }

// closeExtraListeners closes the listeners added by Serve (a failed Start
// must not leave them accepting).
func (s *Server) closeExtraListeners() {
	s.mu.Lock()
	lns := s.extra
	s.extra = nil
	s.mu.Unlock()
	for _, ln := range lns {
		ln.Close()
	}
}

// connectURLs is what clients learn in INFO connect_urls.
func (s *Server) connectURLs(port int) []string {
	if s.opts.ClientAdvertise != "" {
		adv := s.opts.ClientAdvertise
		if _, _, err := net.SplitHostPort(adv); err != nil {
			adv = net.JoinHostPort(adv, strconv.Itoa(port))
		}
		return []string{adv}
	}
	return nil
}

// Serve accepts NATS client connections from ln (a TLS or WebSocket
// listener, say) until ln fails or the server shuts down. It returns at once;
// the server owns and closes ln.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		return ErrServerStopped
	}
	s.extra = append(s.extra, ln)
	s.wg.Add(1)
	s.mu.Unlock()
	go s.acceptLoop(ln, nil)
	return nil
}

// Addr returns the client listener's address, nil before Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// ClientURL returns a nats:// URL that reaches the client listener.
func (s *Server) ClientURL() string {
	addr, ok := s.Addr().(*net.TCPAddr)
	if !ok {
		return ""
	}
	host := s.opts.Host
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "nats://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// NumClients returns the number of open socket client connections; /varz
// connections also counts the sessions of Kind "Client".
func (s *Server) NumClients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// Counters returns the server's message counters.
func (s *Server) Counters() *Stats { return &s.stats }

// StartTime returns when the server was created.
func (s *Server) StartTime() time.Time { return s.startTime }

// acceptLoop serves ln; with tlsCfg its clients handshake after INFO.
func (s *Server) acceptLoop(ln net.Listener, tlsCfg *tls.Config) {
	defer s.wg.Done()
	AcceptLoop(ln, "client", s.log, s.quit, func(nc net.Conn) {
		s.createClient(s.wrapTLS(nc, tlsCfg), tlsCfg)
	})
}

// AcceptLoop accepts connections on ln and hands each to serve until quit
// is closed or ln is closed. Errors other than a closed listener (out of
// file descriptors and the like) are logged as upstream does ("Temporary
// <what> accept error") and back off from 5ms up to 1s, never spinning.
// The inter-server modules share it with the client listener.
func AcceptLoop(ln net.Listener, what string, log *slog.Logger, quit <-chan struct{}, serve func(net.Conn)) {
	delay := 5 * time.Millisecond
	for {
		nc, err := ln.Accept()
		if err != nil {
			select {
			case <-quit:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			log.Error("Temporary " + what + " accept error (" + err.Error() + "), sleeping " + delay.String())
			select {
			case <-time.After(delay):
			case <-quit:
				return
			}
			delay = min(delay*2, time.Second)
			continue
		}
		delay = 5 * time.Millisecond
		serve(nc)
	}
}

// Shutdown stops accepting, flushes what every client has pending, closes
// all connections and waits for the server's goroutines, or until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	notify := !s.shutdown && !s.shutdownNotified && s.started
	s.shutdownNotified = true
	s.mu.Unlock()
	if l, ok := s.sys.(ShutdownListener); ok && notify {
		l.ServerShutdown()
	}
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		return s.wait(ctx)
	}
	s.shutdown = true
	close(s.quit)
	lns := append([]net.Listener{}, s.extra...)
	if s.ln != nil {
		lns = append(lns, s.ln)
	}
	clients := make([]*client, 0, len(s.clients)+len(s.sessions))
	for _, c := range s.clients {
		clients = append(clients, c)
	}
	for _, c := range s.sessions {
		clients = append(clients, c)
	}
	s.mu.Unlock()

	for _, ln := range lns {
		ln.Close()
	}
	s.stopUnauth()
	for _, c := range clients {
		c.closeConnection(reasonServerShutdown)
	}
	s.closeLinks()
	s.closeResolver()
	err := s.wait(ctx)
	s.log.Info("Server Exiting..")
	return err
}

func (s *Server) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// LameDuck puts the server in lame duck mode: it stops accepting, tells
// clients (INFO ldm:true) so they move elsewhere, waits the grace period,
// then closes the clients spread over LameDuckDuration, then shuts down.
func (s *Server) LameDuck(ctx context.Context) error {
	s.mu.Lock()
	if s.shutdown || s.ldm {
		s.mu.Unlock()
		return nil
	}
	s.ldm = true
	grace, dur := s.opts.LameDuckGracePeriod, s.opts.LameDuckDuration
	lns := append([]net.Listener{}, s.extra...)
	if s.ln != nil {
		lns = append(lns, s.ln)
	}
	s.ln, s.extra = nil, nil
	s.info.LameDuckMode = true
	info := s.info
	clients := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		clients = append(clients, c)
	}
	hooks := append([]*lameDuckHook(nil), s.ldmHooks...)
	s.mu.Unlock()

	s.log.Info("Entering lame duck mode, stop accepting new clients")
	for _, h := range hooks {
		h.fn()
	}
	for _, ln := range lns {
		ln.Close()
	}
	for _, c := range clients {
		c.sendLameDuckInfo(info)
	}
	if len(clients) > 0 {
		s.log.Info(fmt.Sprintf("Waiting %v before closing %d client(s)", grace, len(clients)))
		if !sleepCtx(ctx, s.quit, grace) {
			return s.Shutdown(ctx)
		}
		// Spread the closes so clients do not all reconnect at once.
		step := dur / time.Duration(len(clients))
		step = min(step, time.Second)
		for _, c := range clients {
			c.closeConnection(reasonServerShutdown)
			if !sleepCtx(ctx, s.quit, step) {
				break
			}
		}
	}
	return s.Shutdown(ctx)
}

// sleepCtx sleeps d; false when ctx or quit ended first.
func sleepCtx(ctx context.Context, quit chan struct{}, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-quit:
		return false
	}
}

// Reload applies the reloadable parts of opts (limits and keepalive, the
// client listener's TLS settings, the logger if set, authorization and
// the users of accounts, the accounts with their limits, exports,
// imports and mappings (see account_reload.go), the server tags,
// MaxClosedClients,
// ClientAdvertise: INFO connect_urls changes and clients that take
// asynchronous INFO are told; a cluster tells its peers itself). A lower MaxConn
// closes the excess clients, newest first (see reload.go). Other fields are ignored here; callers
// report changes to non-reloadable fields themselves. After an
// authorization change, connected clients are checked again as upstream
// does (see auth_reload.go): users that are gone or moved to another
// account are closed, clients whose credentials fail get
// 'Authorization Violation', the others get the new permissions.
func (s *Server) Reload(opts Options) error {
	return s.reload(opts, nil, "", true)
}

// ReloadLogged is Reload that logs, once the options are applied,
// "Reloaded: <c>" for each of changed and then "Reloaded server
// configuration (<digest>)", as upstream logs a reload of its file.
func (s *Server) ReloadLogged(opts Options, changed []string, digest string) error {
	return s.reload(opts, changed, digest, true)
}

// ReloadQuiet is Reload without its log line, for a caller that applies
// more of the configuration after the server's part (other modules) and
// logs once all of it is in force, as upstream does.
func (s *Server) ReloadQuiet(opts Options) error {
	return s.reload(opts, nil, "", false)
}

func (s *Server) reload(opts Options, changed []string, digest string, logged bool) error {
	opts.setDefaults()
	if int64(opts.MaxPayload) > opts.MaxPending {
		return fmt.Errorf("%w: max_payload (%d) can not be higher than max_pending (%d)", ErrBadOptions, opts.MaxPayload, opts.MaxPending)
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if err := s.checkOperatorReload(&opts); err != nil {
		return err
	}
	ar, err := s.planAccounts(&opts)
	if err != nil {
		return err
	}
	traces, err := accountMsgTraces(&opts, func(name string) bool { return ar.accs[name] != nil })
	if err != nil {
		return err
	}
	s.mu.Lock()
	oldAuth := s.auth.Load()
	sa, err := s.reloadAuth(&opts, oldAuth, ar.accs, ar.changed())
	if err != nil {
		s.mu.Unlock()
		return err
	}
	unpinned, err := s.reloadTLS(&opts)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	s.applyAccountsLocked(ar)
	setAccountMsgTraces(s.accounts, traces)
	s.opts.AccountMsgTrace = opts.AccountMsgTrace
	s.opts.Accounts = slices.Clone(opts.Accounts)
	s.opts.Exports, s.opts.Imports = opts.Exports, opts.Imports
	s.opts.Mappings, s.opts.AccountLimits = opts.Mappings, opts.AccountLimits
	var recheck []*client
	if sa != oldAuth {
		s.auth.Store(sa)
		s.opts.Authorization = opts.Authorization
		s.opts.AuthTimeout = opts.AuthTimeout
		s.info.AuthRequired = sa.chain != nil
		recheck = s.clientsLocked()
		for _, c := range s.sessions {
			recheck = append(recheck, c) // those with credentials
		}
	}
	s.opts.MaxConn = opts.MaxConn
	s.opts.MaxSubs = opts.MaxSubs
	s.opts.MaxPayload = opts.MaxPayload
	s.opts.MaxControlLine = opts.MaxControlLine
	s.opts.MaxPending = opts.MaxPending
	s.opts.PingInterval = opts.PingInterval
	s.opts.MaxPingsOut = opts.MaxPingsOut
	s.opts.WriteDeadline = opts.WriteDeadline
	s.opts.NoFastProducerStall = opts.NoFastProducerStall
	s.opts.TraceVerbose = opts.TraceVerbose
	s.opts.MaxTracedMsgLen = opts.MaxTracedMsgLen
	s.opts.MaxUnauthMemory = opts.MaxUnauthMemory
	s.opts.MaxUnauthConnMemory = opts.MaxUnauthConnMemory
	s.opts.LameDuckDuration = opts.LameDuckDuration
	s.opts.LameDuckGracePeriod = opts.LameDuckGracePeriod
	s.opts.Tags = slices.Clone(opts.Tags)
	advertise := opts.ClientAdvertise != s.opts.ClientAdvertise
	s.opts.ClientAdvertise = opts.ClientAdvertise
	closedMax := 0 // unchanged
	if opts.MaxClosedClients != s.opts.MaxClosedClients {
		s.opts.MaxClosedClients = opts.MaxClosedClients
		closedMax = cmp.Or(opts.MaxClosedClients, DefaultMaxClosedClients)
	}
	if opts.Logger != nil {
		// s.log stays the same value, read without locks everywhere;
		// its handler is swapped.
		s.logh.Set(opts.Logger)
		s.opts.Logger = opts.Logger
	}
	s.traceVerbose.Store(opts.TraceVerbose)
	s.retraceLocked()
	s.info.MaxPayload = opts.MaxPayload
	s.applyLimits(&s.opts)
	excess := s.excessClientsLocked()
	accClients := s.clientsLocked() // for the accounts' connection limits
	var bound []*client             // to close if their account went
	if len(ar.removed) > 0 {
		bound = s.clientsLocked()
		for _, c := range s.sessions {
			bound = append(bound, c)
		}
	}
	if advertise && s.ln != nil {
		s.setConnectURLsLocked() // unlocks
	} else {
		s.mu.Unlock()
	}
	if closedMax != 0 {
		s.SetMaxClosedClients(closedMax)
	}
	s.dropUnpinned(unpinned)
	s.recheckAuth(sa, recheck)
	s.closeRemovedAccounts(ar, bound)
	s.relinkAccounts(ar)
	s.closeAccountExcess(ar, accClients)
	if err := s.subscribeResponses(ar.accs); err != nil {
		s.log.Error("Reloading accounts: " + err.Error())
	}
	s.closeExcess(excess)
	if !logged {
		return nil
	}
	for _, c := range changed {
		s.log.Info("Reloaded: " + c)
	}
	if digest != "" {
		s.log.Info("Reloaded server configuration (" + digest + ")")
	} else {
		s.log.Info("Reloaded server configuration")
	}
	return nil
}

// infoJSON renders the INFO document for one client, with its nonce when
// nkey users need one.
// Only clients of the TLS client listener are asked for TLS (tlsOn): a
// WebSocket or Serve listener secures its connections itself.
func (s *Server) infoJSON(cid uint64, clientIP string, nonce []byte, tlsOn bool) []byte {
	s.mu.Lock()
	info := s.info
	s.mu.Unlock()
	if !tlsOn {
		info.TLSRequired, info.TLSVerify = false, false
	}
	info.CID = cid
	info.ClientIP = clientIP
	info.Nonce = string(nonce)
	b, _ := json.Marshal(&info) // Info has only marshalable fields
	return b
}

func itoa(i int) string { return strconv.Itoa(i) }
