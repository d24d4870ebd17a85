package monitor

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"expvar"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/server"
	"natsd.dev/server/snapshot"
)

// Sentinel errors of New and Start.
var (
	// ErrNoPort is returned by Start when neither Port nor HTTPSPort is set.
	ErrNoPort = errors.New("monitor: no http or https port")
	// ErrNoTLSConfig is returned by New when HTTPSPort is set without
	// TLSConfig.
	ErrNoTLSConfig = errors.New("monitor: https port requires a TLS config")
	// ErrBadOptions wraps an invalid option.
	ErrBadOptions = errors.New("monitor: invalid options")
	// ErrStarted is returned by Start on a second call or after Shutdown.
	ErrStarted = errors.New("monitor: already started or shut down")
)

// Options configure a monitoring Server. The zero value serves nothing
// (Start fails with ErrNoPort) but its Handler works.
type Options struct {
	// Host is the address to bind; empty means "0.0.0.0" as upstream.
	// Prefer 127.0.0.1: the endpoints have no authentication.
	Host string
	// Port is the plain HTTP port (http_port, -m): 0 for none, -1 for a
	// free port chosen by the kernel.
	Port int
	// HTTPSPort is the HTTPS port (https_port, -ms): 0 for none, -1 for a
	// free port. It requires TLSConfig.
	HTTPSPort int
	// TLSConfig is the certificate configuration of the HTTPS listener.
	TLSConfig *tls.Config
	// BasePath prefixes every endpoint (http_base_path), e.g. "/nats"
	// serves "/nats/varz".
	BasePath string
	// AllowJSONP wraps JSON answers in callback(...) when the request has
	// a ?callback= parameter, as 2016-era servers did. It is off by default
	// because any web page can then read the monitoring data of a server
	// its visitors can reach (cross-site script inclusion); only turn it on
	// for a monitoring port no browser on an untrusted site can reach.
	AllowJSONP bool
}

// Source is what a monitor needs of the NATS server it describes;
// *server.Server implements it. Every endpoint renders a document of the
// server's monitoring registry, so the modules that register providers
// there (routes, leaf nodes, gateways, JetStream) appear here without the
// monitor knowing them.
type Source interface {
	// Snapshot returns the document of a monitoring kind (server.KindVarz,
	// server.KindLeafz, ...) for opts, a pointer to the kind's options
	// type of package snapshot. An error that is a *snapshot.MonitorError
	// is the caller's fault.
	Snapshot(kind string, opts any) (any, error)
	// RegisterVarz registers c to fill its section of every Varz snapshot
	// (nil removes it): the monitor fills the "http" section.
	RegisterVarz(section string, c server.VarzContributor)
}

// Endpoint paths, relative to Options.BasePath.
const (
	RootPath          = "/"
	VarzPath          = "/varz"
	ConnzPath         = "/connz"
	RoutezPath        = "/routez"
	GatewayzPath      = "/gatewayz"
	LeafzPath         = "/leafz"
	SubszPath         = "/subsz"
	SubscriptionsPath = "/subscriptionsz" // upstream's older name of /subsz
	AccountzPath      = "/accountz"
	AccountStatzPath  = "/accstatz"
	HealthzPath       = "/healthz"
	StackszPath       = "/stacksz"
	MetricsPath       = "/metrics"
	ExpvarPath        = "/debug/vars"
)

// paths in the order the root page lists them.
var paths = []string{VarzPath, JszPath, ConnzPath, RoutezPath, GatewayzPath, LeafzPath, SubszPath,
	AccountzPath, AccountStatzPath, HealthzPath, StackszPath, MetricsPath}

// Server is the HTTP(S) monitoring server of one NATS server. It is safe
// for concurrent use.
type Server struct {
	src  Source
	opts Options
	base string // normalized BasePath: "" or "/x" (no trailing slash)
	mux  *http.ServeMux

	// reqs counts requests per path, as upstream's http_req_stats; the map
	// is fixed at New so it is read without a lock.
	reqs map[string]*atomic.Uint64

	// heavy admits one snapshot of all connections or subscriptions at a
	// time, so however many pollers hit /connz, /subsz, /accstatz,
	// /metrics or /jsz, they take at most one core from message delivery; and
	// heavyNext (guarded by the heavy token) spaces the snapshots so they
	// use at most 1/heavyDuty of that core.
	heavy     chan struct{}
	heavyNext time.Time

	mu       sync.Mutex
	started  bool
	stopped  bool
	ln       net.Listener // plain HTTP
	tlsLn    net.Listener // HTTPS
	servers  []*http.Server
	wg       sync.WaitGroup
	httpPort int // bound ports, for /varz
	tlsPort  int
}

// New returns a monitoring server for src (a *server.Server). It does not
// listen until Start; its Handler can be used at once. It registers the
// "http" varz section with src so that every Varz snapshot (and so $SYS
// VARZ requests) reports the HTTP fields; one monitor per server.
func New(src Source, opts Options) (*Server, error) {
	if src == nil {
		return nil, errors.New("monitor: nil server")
	}
	for _, p := range []int{opts.Port, opts.HTTPSPort} {
		if p < -1 || p > 65535 {
			return nil, errors.Join(ErrBadOptions, errors.New("monitor: port "+strconv.Itoa(p)+" out of range"))
		}
	}
	if opts.HTTPSPort != 0 && opts.TLSConfig == nil {
		return nil, ErrNoTLSConfig
	}
	if strings.ContainsAny(opts.BasePath, "{}?#% \t\r\n") {
		return nil, errors.Join(ErrBadOptions, errors.New("monitor: bad http_base_path "+strconv.Quote(opts.BasePath)))
	}
	if opts.Host == "" {
		opts.Host = "0.0.0.0"
	}
	m := &Server{
		src:      src,
		opts:     opts,
		base:     normalizeBase(opts.BasePath),
		reqs:     make(map[string]*atomic.Uint64),
		heavy:    make(chan struct{}, 1),
		httpPort: opts.Port,
		tlsPort:  opts.HTTPSPort,
	}
	m.reqs[RootPath] = new(atomic.Uint64)
	for _, p := range paths {
		m.reqs[p] = new(atomic.Uint64)
	}
	m.mux = http.NewServeMux()
	m.handle(RootPath, m.handleRoot)
	m.handle(VarzPath, m.handleVarz)
	m.handle(ConnzPath, m.serialized(m.handleConnz))
	m.handle(RoutezPath, m.handleRoutez)
	m.handle(GatewayzPath, m.handleGatewayz)
	m.handle(LeafzPath, m.handleLeafz)
	m.handle(SubszPath, m.serialized(m.handleSubsz))
	m.handle(SubscriptionsPath, m.serialized(m.handleSubsz))
	m.handle(AccountzPath, m.handleAccountz)
	m.handle(AccountStatzPath, m.serialized(m.handleAccountStatz))
	m.handle(HealthzPath, m.handleHealthz)
	m.handle(StackszPath, m.handleStacksz)
	m.handle(MetricsPath, m.serialized(m.handleMetrics))
	m.handle(JszPath, m.serialized(m.handleJsz))
	// expvar's variables (cmdline, memstats and whatever the program
	// publishes), as upstream serves them on the monitoring port; not
	// counted in http_req_stats.
	m.mux.Handle("GET "+m.base+ExpvarPath, expvar.Handler())
	src.RegisterVarz(varzSection, server.VarzFunc(m.fillVarz))
	return m, nil
}

// normalizeBase turns "nats/", "/nats" or "/nats/" into "/nats" and "/" or
// "" into "".
func normalizeBase(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return "/" + p
}

func (m *Server) handle(path string, h http.HandlerFunc) {
	counter := m.reqs[path]
	if counter == nil { // an alias counts as its endpoint
		counter = m.reqs[SubszPath]
	}
	wrapped := func(w http.ResponseWriter, r *http.Request) {
		counter.Add(1)
		h(w, r)
	}
	if path == RootPath {
		m.mux.HandleFunc("GET "+m.base+"/{$}", wrapped)
		if m.base != "" {
			m.mux.HandleFunc("GET "+m.base, wrapped)
		}
		return
	}
	m.mux.HandleFunc("GET "+m.base+path, wrapped)
}

// serialized wraps h so that it runs alone among the heavy endpoints. The
// answer is built into a buffer and written after the turn is released,
// so a slow reader holds up nobody; a request whose client gives up while
// waiting is dropped.
func (m *Server) serialized(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case m.heavy <- struct{}{}:
		case <-r.Context().Done():
			return
		}
		if wait := time.Until(m.heavyNext); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				<-m.heavy
				return
			}
		}
		start := time.Now()
		bw := &bufferedWriter{header: make(http.Header)}
		h(bw, r)
		took := time.Since(start)
		m.heavyNext = start.Add(took + min(took*(heavyDuty-1), maxHeavyPause))
		<-m.heavy
		for k, v := range bw.header {
			w.Header()[k] = v
		}
		if bw.code != 0 {
			w.WriteHeader(bw.code)
		}
		w.Write(bw.body.Bytes())
	}
}

// Heavy snapshots run at most one in heavyDuty of the time: a client
// polling /connz in a loop over ten thousand connections gets an answer
// every few tens of milliseconds and leaves message delivery alone.
const (
	heavyDuty     = 20
	maxHeavyPause = time.Second
)

// bufferedWriter is an http.ResponseWriter that keeps the answer.
type bufferedWriter struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(code int) {
	if b.code == 0 {
		b.code = code
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.code == 0 {
		b.code = http.StatusOK
	}
	return b.body.Write(p)
}

// ServeHTTP serves the monitoring endpoints; a Server is an http.Handler
// that can be mounted elsewhere or tested with httptest.
func (m *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.mux.ServeHTTP(w, r) }

// Handler returns m as an http.Handler.
func (m *Server) Handler() http.Handler { return m }

// Start binds the configured listeners and serves them in the background.
// It returns once they are listening.
func (m *Server) Start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started || m.stopped {
		return ErrStarted
	}
	if m.opts.Port == 0 && m.opts.HTTPSPort == 0 {
		return ErrNoPort
	}
	listen := func(port int) (net.Listener, int, error) {
		if port < 0 {
			port = 0
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(m.opts.Host, strconv.Itoa(port)))
		if err != nil {
			return nil, 0, err
		}
		return ln, ln.Addr().(*net.TCPAddr).Port, nil
	}
	if m.opts.Port != 0 {
		ln, port, err := listen(m.opts.Port)
		if err != nil {
			return err
		}
		m.ln, m.httpPort = ln, port
	}
	if m.opts.HTTPSPort != 0 {
		ln, port, err := listen(m.opts.HTTPSPort)
		if err != nil {
			if m.ln != nil {
				m.ln.Close()
				m.ln = nil
			}
			return err
		}
		m.tlsLn, m.tlsPort = tls.NewListener(ln, m.opts.TLSConfig.Clone()), port
	}
	m.started = true
	for _, ln := range []net.Listener{m.ln, m.tlsLn} {
		if ln == nil {
			continue
		}
		hs := &http.Server{
			Handler:           m,
			ReadHeaderTimeout: 5 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    1 << 16,
			ErrorLog:          log.New(io.Discard, "", 0),
		}
		m.servers = append(m.servers, hs)
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			_ = hs.Serve(ln) // returns http.ErrServerClosed after Shutdown
		}()
	}
	return nil
}

// Addr returns the plain HTTP listener's address, or the HTTPS one when
// there is no plain listener; nil before Start.
func (m *Server) Addr() net.Addr {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.ln != nil:
		return m.ln.Addr()
	case m.tlsLn != nil:
		return m.tlsLn.Addr()
	}
	return nil
}

// HTTPSAddr returns the HTTPS listener's address, nil without one.
func (m *Server) HTTPSAddr() net.Addr {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tlsLn == nil {
		return nil
	}
	return m.tlsLn.Addr()
}

// Shutdown stops the listeners and waits for the requests in flight, or
// until ctx ends. The server's Varz no longer reports HTTP fields.
func (m *Server) Shutdown(ctx context.Context) error {
	m.src.RegisterVarz(varzSection, nil)
	m.mu.Lock()
	m.stopped = true
	servers := m.servers
	m.servers = nil
	m.mu.Unlock()
	var errs []error
	for _, hs := range servers {
		if err := hs.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, ctx.Err())
	}
	return errors.Join(errs...)
}

// reqStats copies the request counters.
func (m *Server) reqStats() map[string]uint64 {
	out := make(map[string]uint64, len(m.reqs))
	for p, c := range m.reqs {
		out[p] = c.Load()
	}
	return out
}

// varzSection is the monitor's section of Varz.
const varzSection = "http"

// Varz returns the server's /varz snapshot, with the monitor's own fields
// (http_host, http_port, http_base_path, https_port, http_req_stats) filled
// in by the contributor New registers.
func (m *Server) Varz() (*snapshot.Varz, error) { return snap[snapshot.Varz](m, server.KindVarz, nil) }

// snap asks the source for a document of kind that must be a *D.
func snap[D any](m *Server, kind string, opts any) (*D, error) {
	d, err := m.src.Snapshot(kind, opts)
	if err != nil {
		return nil, err
	}
	v, ok := d.(*D)
	if !ok {
		return nil, fmt.Errorf("monitor: %s answered with a %T", kind, d)
	}
	return v, nil
}

// fillVarz is the monitor's varz contributor: it adds what only the
// monitor knows.
func (m *Server) fillVarz(v *snapshot.Varz) {
	m.mu.Lock()
	v.HTTPHost = m.opts.Host
	if m.opts.Port != 0 {
		v.HTTPPort = m.httpPort
	}
	if m.opts.HTTPSPort != 0 {
		v.HTTPSPort = m.tlsPort
	}
	m.mu.Unlock()
	v.HTTPBasePath = m.base
	if v.HTTPBasePath == "" {
		v.HTTPBasePath = "/"
	}
	v.HTTPReqStats = m.reqStats()
}

// writeJSON renders v indented by two spaces as upstream does, wrapped
// in callback(...) only when AllowJSONP is set.
func (m *Server) writeJSON(w http.ResponseWriter, r *http.Request, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	m.writeBody(w, r, http.StatusOK, b)
}

func (m *Server) writeBody(w http.ResponseWriter, r *http.Request, code int, b []byte) {
	if cb := r.URL.Query().Get("callback"); cb != "" && m.opts.AllowJSONP {
		if !validCallback(cb) {
			badRequest(w, "invalid callback name")
			return
		}
		w.Header().Set("Content-Type", "application/javascript")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(code)
		io.WriteString(w, cb+"(")
		w.Write(b)
		io.WriteString(w, ")")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}

// validCallback accepts JavaScript dotted identifiers only, so a callback
// cannot inject script.
func validCallback(cb string) bool {
	if len(cb) > 128 {
		return false
	}
	for i, c := range []byte(cb) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == '$':
		case c >= '0' && c <= '9', c == '.':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// badRequest answers 400 with text, as upstream answers bad options.
func badRequest(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusBadRequest)
	io.WriteString(w, text)
}

// writeErr answers a snapshot error: a *snapshot.MonitorError is a bad
// request whose text is upstream's.
func writeErr(w http.ResponseWriter, err error) {
	var me *snapshot.MonitorError
	if errors.As(err, &me) {
		badRequest(w, me.Text)
		return
	}
	http.Error(w, err.Error(), http.StatusInternalServerError)
}
