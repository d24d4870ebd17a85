package gateway

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/cluster/internal/gwurls"
	"natsd.dev/cluster/internal/linknet"
	"natsd.dev/protocol"
	"natsd.dev/server"
)

// Timings, as upstream's.
const (
	gwDialTimeout     = time.Second
	gwConnectDelay    = time.Second
	gwConnectMaxDelay = 30 * time.Second
	// gwFirstPing is the delay of the first PING on a new connection.
	gwFirstPing = time.Second
)

// Gossip commands of a gateway INFO (gateway_cmd), upstream's values.
const (
	gatewayCmdGossip          = 1
	gatewayCmdAllSubsStart    = 2
	gatewayCmdAllSubsComplete = 3
)

// DefaultMaxNoInterest is how many subjects an inbound connection answers
// "no interest" (RS-) for in one account before it switches the account
// to interest-only mode, upstream's.
const DefaultMaxNoInterest = 1000

// Errors returned by Start.
var (
	// ErrNoServer is returned when Start gets a nil server or options.
	ErrNoServer = errors.New("gateway: nil server or options")
)

// Gateway is the gateway side of one server: its gateway listener, the
// connections it accepted (inbound: messages arrive on them) and dialed
// (outbound: messages leave on them, one per remote cluster), and the
// interest it tells the remotes. Create it with Start, stop it with
// Shutdown. Its methods are safe for concurrent use.
type Gateway struct {
	s      *server.Server
	o      Options
	log    *slog.Logger
	g      *linknet.Group
	dialer linknet.Dialer
	ln     net.Listener

	connectDelay    time.Duration
	maxConnectDelay time.Duration

	// grPrefix is "_GR_.<cluster hash>.<server hash>.", the prefix of
	// the replies of messages leaving here; grCluster the cluster hash.
	grPrefix  []byte
	grCluster string
	// idHashes caches the server hashes of the route peers' IDs
	// (string to string).
	idHashes sync.Map

	mu      sync.Mutex
	info    gwInfo             // our INFO
	remotes map[string]*remote // known remote clusters by name
	all     map[*conn]struct{} // every gateway connection
	closed  bool

	unlisten func()
	// unroutes ends the gossip with the route module (gossip.go).
	unroutes func()
	// imu guards the local queue interest counts and the inbound
	// connections that are told of it.
	imu     sync.Mutex
	qcount  map[ikey]int32
	inbound map[*conn]struct{}
	// pcount are the local plain interest counts (account, subject),
	// what an account in interest-only mode announces.
	pcount map[ikey]int32
	// accounts are the accounts the outbound connections have (or are
	// getting) optimistic interest in.
	accounts sync.Map
	// lv is what a reload changes (reload.go); reloadMu serializes
	// reloads.
	lv       atomic.Pointer[live]
	reloadMu sync.Mutex
	// maxNoInterest is DefaultMaxNoInterest (tests lower it).
	maxNoInterest atomic.Int64
	// optimistic keeps the pre-2.9 behavior (tests): no gateway_iom,
	// accounts start optimistic on the connections this server accepts.
	optimistic atomic.Bool
}

type ikey struct{ account, subject, queue string }

// remote is one remote cluster: its URLs, whether it was configured or
// learned, and the outbound connection to it once registered.
type remote struct {
	name     string
	urls     []*url.URL
	implicit bool
	tls      *tls.Config
	out      *conn
	dialing  bool
}

// gwInfo is the INFO a gateway sends, upstream's JSON names.
type gwInfo struct {
	ID           string   `json:"server_id"`
	Name         string   `json:"server_name"`
	Version      string   `json:"version"`
	Proto        int      `json:"proto"`
	GoVersion    string   `json:"go,omitempty"`
	Host         string   `json:"host"`
	Port         int      `json:"port"`
	Headers      bool     `json:"headers"`
	AuthRequired bool     `json:"auth_required,omitempty"`
	TLSRequired  bool     `json:"tls_required,omitempty"`
	TLSVerify    bool     `json:"tls_verify,omitempty"`
	MaxPayload   int32    `json:"max_payload"`
	Cluster      string   `json:"cluster,omitempty"`
	Gateway      string   `json:"gateway,omitempty"`
	GatewayURL   string   `json:"gateway_url,omitempty"`
	GatewayURLs  []string `json:"gateway_urls,omitempty"`
	GatewayCmd   byte     `json:"gateway_cmd,omitempty"`
	// GatewayCmdPayload is a []byte, base64 in the JSON, as upstream's.
	GatewayCmdPayload []byte `json:"gateway_cmd_payload,omitempty"`
	// GatewayIOM: the sender switches every account to interest-only
	// mode when it accepts a connection (upstream 2.9+).
	GatewayIOM bool `json:"gateway_iom,omitempty"`
}

// connectInfo is a gateway's CONNECT, upstream's JSON names.
type connectInfo struct {
	Echo     bool   `json:"echo"`
	Verbose  bool   `json:"verbose"`
	Pedantic bool   `json:"pedantic"`
	User     string `json:"user,omitempty"`
	Pass     string `json:"pass,omitempty"`
	TLS      bool   `json:"tls_required"`
	Name     string `json:"name"`
	Gateway  string `json:"gateway"`
}

// Start starts the gateways of s as o configures them: it binds the
// gateway listener (o.Port 0 picks a free port) and dials every remote
// of o.Gateways, retrying until Shutdown. s must be started; o.Name
// and a listener are required.
func Start(s *server.Server, o *Options) (*Gateway, error) {
	if s == nil || o == nil {
		return nil, ErrNoServer
	}
	if o.Name == "" {
		return nil, errors.New(errNoName)
	}
	if o.Port == -1 {
		return nil, fmt.Errorf("gateway %q has no port specified (select -1 for random port)", o.Name)
	}
	so := s.Options()
	// The server's logger follows the reloads that change the log
	// output (and its trace level), as the options' does not.
	log := s.Logger()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	gw := &Gateway{
		s:               s,
		o:               *o,
		log:             log,
		g:               linknet.NewGroup("gateway", log),
		dialer:          o.Dialer,
		remotes:         make(map[string]*remote),
		all:             make(map[*conn]struct{}),
		qcount:          make(map[ikey]int32),
		pcount:          make(map[ikey]int32),
		inbound:         make(map[*conn]struct{}),
		connectDelay:    gwConnectDelay,
		maxConnectDelay: gwConnectMaxDelay,
	}
	gw.o.normalize()
	gw.lv.Store(&live{tls: o.TLSConfig, rejectUnknown: o.RejectUnknown, gateways: slices.Clone(o.Gateways)})
	gw.grPrefix = grReplyPrefix(gw.o.Name, s.ID())
	gw.grCluster = grHash(gw.o.Name)
	gw.maxNoInterest.Store(DefaultMaxNoInterest)
	if gw.dialer == nil {
		gw.dialer = &net.Dialer{Timeout: gwDialTimeout}
	}
	gw.info = gwInfo{
		ID:           s.ID(),
		Name:         s.Name(),
		Version:      server.Version,
		Proto:        1,
		GoVersion:    runtime.Version(),
		Headers:      !so.NoHeaderSupport,
		AuthRequired: o.Username != "",
		TLSRequired:  o.TLSConfig != nil,
		TLSVerify:    o.TLSConfig != nil,
		MaxPayload:   so.MaxPayload,
		Cluster:      o.Name,
		Gateway:      o.Name,
	}
	if gw.info.MaxPayload == 0 {
		gw.info.MaxPayload = server.DefaultMaxPayload
	}
	hp := net.JoinHostPort(o.Host, strconv.Itoa(o.Port))
	ln, err := net.Listen("tcp", hp)
	if err != nil {
		gw.g.Close()
		return nil, fmt.Errorf("gateway: Error listening on gateway port: %d - %w", o.Port, err)
	}
	gw.ln = ln
	port := ln.Addr().(*net.TCPAddr).Port
	host := o.Host
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	gw.info.Host, gw.info.Port = o.Host, port
	gw.info.GatewayURL = net.JoinHostPort(host, strconv.Itoa(port))
	if o.Advertise != "" {
		gw.info.GatewayURL = o.Advertise
	}
	gw.info.GatewayURLs = []string{gw.info.GatewayURL}
	log.Info("Gateway name is " + o.Name)
	log.Info("Listening for gateways connections on " + net.JoinHostPort(o.Host, strconv.Itoa(port)))
	log.Info("Address for gateway \"" + o.Name + "\" is " + gw.info.GatewayURL)
	for _, acc := range s.AccountNames() {
		gw.accounts.Store(acc, true)
	}
	gw.unlisten = s.AddInterestListener(server.InterestFunc(gw.interestChanged))
	gw.register()
	gwurls.SetReplyCluster(s, gw.grCluster)
	gw.g.Go(func() { _ = gw.g.Serve(ln, gw.accepted) })
	for _, rg := range o.Gateways {
		if rg.Name == o.Name {
			continue // our own cluster: a shared configuration
		}
		gw.addRemote(rg.Name, rg.URLs, false, rg.TLSConfig)
	}
	// After the configured remotes: a cluster peers told of before this
	// start (replayed now) and configured too stays explicit.
	gw.unroutes = gw.watchRoutes()
	return gw, nil
}

func (o *Options) normalize() {
	if o.TLSTimeout <= 0 {
		o.TLSTimeout = DefaultTLSTimeout
	}
	if o.AuthTimeout <= 0 {
		// As upstream: with TLS, the handshake's timeout plus a second
		// when that is longer.
		o.AuthTimeout = DefaultAuthTimeout
		if o.TLSConfig != nil {
			o.AuthTimeout = max(o.AuthTimeout, o.TLSTimeout+time.Second)
		}
	}
	if o.PingInterval <= 0 {
		o.PingInterval = DefaultPingInterval
	}
	if o.MaxPingsOut <= 0 {
		o.MaxPingsOut = DefaultMaxPingsOut
	}
}

// Name returns the gateway's (the cluster's) name.
func (gw *Gateway) Name() string { return gw.o.Name }

// Addr returns the address the gateway listener is bound to.
func (gw *Gateway) Addr() net.Addr { return gw.ln.Addr() }

// URL returns the gateway URL this server gives other clusters.
func (gw *Gateway) URL() string { return gw.info.GatewayURL }

// Shutdown closes the listener and every gateway connection and waits for
// their goroutines, or until ctx ends.
func (gw *Gateway) Shutdown(ctx context.Context) error {
	gw.mu.Lock()
	if gw.closed {
		gw.mu.Unlock()
		return gw.g.Wait(ctx)
	}
	gw.closed = true
	conns := make([]*conn, 0, len(gw.all))
	for c := range gw.all {
		conns = append(conns, c)
	}
	gw.mu.Unlock()
	gw.unlisten()
	gw.unroutes()
	gw.unregister()
	gwurls.SetReplyCluster(gw.s, "")
	gw.g.Close()
	gw.ln.Close()
	for _, c := range conns {
		c.close(server.LinkServerShutdown)
	}
	return gw.g.Wait(ctx)
}

// outbound returns the registered outbound connections.
func (gw *Gateway) outbound() []*conn {
	gw.mu.Lock()
	defer gw.mu.Unlock()
	var out []*conn
	for _, r := range gw.remotes {
		if r.out != nil {
			out = append(out, r.out)
		}
	}
	return out
}

// OutboundGateways returns the names of the remote clusters this server
// has a registered outbound connection to, sorted.
func (gw *Gateway) OutboundGateways() []string {
	gw.mu.Lock()
	defer gw.mu.Unlock()
	var names []string
	for name, r := range gw.remotes {
		if r.out != nil {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// InboundGateways returns the names of the remote clusters of the
// registered inbound connections, one per connection, sorted.
func (gw *Gateway) InboundGateways() []string {
	gw.imu.Lock()
	defer gw.imu.Unlock()
	var names []string
	for c := range gw.inbound {
		names = append(names, c.remoteName)
	}
	slices.Sort(names)
	return names
}

// addRemote records a remote cluster (configured, or learned from an
// INFO: implicit) and starts dialing it unless a dial or a connection is
// under way. Known remotes get the new URLs added. It reports whether
// the remote is new.
func (gw *Gateway) addRemote(name string, urls []*url.URL, implicit bool, tc *tls.Config) (added bool) {
	if name == gw.o.Name || len(urls) == 0 {
		return false
	}
	gw.mu.Lock()
	if gw.closed {
		gw.mu.Unlock()
		return false
	}
	r := gw.remotes[name]
	if r == nil {
		if implicit && gw.live().rejectUnknown {
			gw.mu.Unlock()
			return false
		}
		r = &remote{name: name, implicit: implicit, tls: tc}
		gw.remotes[name] = r
		added = true
	}
	for _, u := range urls {
		if !slices.ContainsFunc(r.urls, func(x *url.URL) bool { return x.Host == u.Host }) {
			r.urls = append(r.urls, u)
		}
	}
	start := !r.dialing && r.out == nil
	if start {
		r.dialing = true
	}
	gw.mu.Unlock()
	if start {
		if !gw.g.Go(func() { gw.solicit(r) }) {
			gw.mu.Lock()
			r.dialing = false
			gw.mu.Unlock()
		}
	}
	return added
}

// solicit dials r until a connection is created (then runs it), the
// retries of an implicit gateway run out, or Shutdown.
func (gw *Gateway) solicit(r *remote) {
	delay := gw.connectDelay
	for attempt := 1; ; attempt++ {
		gw.mu.Lock()
		urls := slices.Clone(r.urls)
		rand.Shuffle(len(urls), func(i, j int) { urls[i], urls[j] = urls[j], urls[i] })
		kind := "explicit"
		if r.implicit {
			kind = "implicit"
		}
		gw.mu.Unlock()
		for _, u := range urls {
			gw.log.Info(fmt.Sprintf("Connecting to %s gateway %q (%s) at %s (attempt %d)", kind, r.name, u.Host, u.Host, attempt))
			nc, err := gw.g.Dial(gw.dialer, u.Host)
			if err != nil {
				gw.log.Error(fmt.Sprintf("Error connecting to %s gateway %q (%s) at %s (attempt %d): %v", kind, r.name, u.Host, u.Host, attempt, err))
				continue
			}
			gw.log.Info(fmt.Sprintf("Creating outbound gateway connection to %q", r.name))
			gw.run(nc, r, u)
			return
		}
		if r.implicit && gw.o.ConnectRetries >= 0 && attempt > gw.o.ConnectRetries {
			gw.mu.Lock()
			r.dialing = false
			if r.out == nil {
				delete(gw.remotes, r.name)
			}
			gw.mu.Unlock()
			return
		}
		if !gw.g.Sleep(delay) {
			return
		}
		if gw.o.ConnectBackoff {
			delay = min(2*delay, gw.maxConnectDelay)
		}
	}
}

// accepted handles a connection on the gateway listener.
func (gw *Gateway) accepted(nc net.Conn) {
	gw.run(nc, nil, nil)
}

// info renders our INFO, or a gossip INFO for remote r.
func (gw *Gateway) infoProto() []byte {
	gw.mu.Lock()
	info := gw.info
	gw.mu.Unlock()
	info.GatewayIOM = !gw.optimistic.Load()
	b, _ := json.Marshal(&info)
	return protocol.AppendInfo(nil, b)
}

// gossipProtos are INFOs naming the remotes this server has an outbound
// connection to, but name: the peer learns of the other clusters.
func (gw *Gateway) gossipProtos(name string) [][]byte {
	gw.mu.Lock()
	defer gw.mu.Unlock()
	var out [][]byte
	for n, r := range gw.remotes {
		if n == name || r.out == nil {
			continue
		}
		info := gwInfo{Gateway: n, GatewayCmd: gatewayCmdGossip}
		for _, u := range r.urls {
			info.GatewayURLs = append(info.GatewayURLs, u.Host)
		}
		if r.out.url != "" && !slices.Contains(info.GatewayURLs, r.out.url) {
			info.GatewayURLs = append(info.GatewayURLs, r.out.url)
		}
		b, _ := json.Marshal(&info)
		out = append(out, protocol.AppendInfo(nil, b))
	}
	return out
}

// gossipToInbound tells every inbound connection but those of cluster
// name about the outbound connection to name.
func (gw *Gateway) gossipToInbound(name string) {
	gw.mu.Lock()
	r := gw.remotes[name]
	if r == nil || r.out == nil {
		gw.mu.Unlock()
		return
	}
	info := gwInfo{Gateway: name, GatewayCmd: gatewayCmdGossip}
	for _, u := range r.urls {
		info.GatewayURLs = append(info.GatewayURLs, u.Host)
	}
	gw.mu.Unlock()
	b, _ := json.Marshal(&info)
	p := protocol.AppendInfo(nil, b)
	gw.imu.Lock()
	defer gw.imu.Unlock()
	for c := range gw.inbound {
		if c.remoteName != name {
			_ = c.link.Write(p)
		}
	}
}

// handshakeTLS runs the TLS handshake, as a client when we dialed.
func (gw *Gateway) handshakeTLS(nc net.Conn, r *remote, u *url.URL) (net.Conn, bool) {
	var tc *tls.Conn
	lv := gw.live()
	if r != nil {
		cfg := lv.tls
		gw.mu.Lock()
		if r.tls != nil {
			cfg = r.tls
		}
		gw.mu.Unlock()
		cfg = cfg.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		tc = tls.Client(nc, cfg)
	} else {
		tc = tls.Server(nc, lv.tls)
	}
	ctx, cancel := context.WithTimeout(gw.g.Context(), gw.o.TLSTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		gw.log.Error(nc.RemoteAddr().String() + " - TLS gateway handshake error: " + err.Error())
		return nil, false
	}
	return tc, true
}

// remoteURLs parses the gateway URLs of an INFO.
func remoteURLs(info *gwInfo) []*url.URL {
	var out []*url.URL
	add := func(s string) {
		if s == "" {
			return
		}
		u, err := url.Parse("nats://" + s)
		if err != nil || u.Port() == "" {
			return
		}
		out = append(out, u)
	}
	add(info.GatewayURL)
	for _, s := range info.GatewayURLs {
		if s != info.GatewayURL {
			add(s)
		}
	}
	return out
}

// LinkStats returns the counters of every registered gateway connection
// (outbound and inbound).
func (gw *Gateway) LinkStats() []server.LinkStats {
	gw.mu.Lock()
	defer gw.mu.Unlock()
	var out []server.LinkStats
	for c := range gw.all {
		if c.registered {
			out = append(out, c.stats())
		}
	}
	return out
}
