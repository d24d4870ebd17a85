package route

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/cluster/internal/gwurls"
	"natsd.dev/cluster/internal/leafurls"
	"natsd.dev/cluster/internal/linknet"
	"natsd.dev/protocol"
	"natsd.dev/server"
	"natsd.dev/server/snapshot"
)

// Timings, as upstream's: how long a dial may take, how long to wait
// between attempts (and, with connect_backoff, the longest wait), and the
// longest ping interval on a route.
const (
	routeDialTimeout     = time.Second
	routeConnectDelay    = time.Second
	routeConnectMaxDelay = 30 * time.Second
	maxRoutePing         = 30 * time.Second
	firstRoutePing       = time.Second
)

// nextConnectDelay is the wait after a failed dial that followed a wait
// of d, with connect_backoff: twice d, at most max.
func nextConnectDelay(d, max time.Duration) time.Duration {
	return min(2*d, max)
}

// Errors returned by Start and Serve.
var (
	// ErrNoServer is returned when Start gets a nil server or options.
	ErrNoServer = errors.New("cluster: nil server or options")
	// ErrClosed is returned by Serve after Shutdown.
	ErrClosed = linknet.ErrClosed
)

// Cluster is the route side of one server: the cluster listener, the
// routes it accepted and solicited, and the interest it forwards. Create
// it with Start; stop it with Shutdown. Its methods are safe for
// concurrent use.
type Cluster struct {
	s *server.Server
	// unwatchLeaf ends the watch of this server's leaf node URL.
	unwatchLeaf func()
	// unwatchGw ends the watches of the gateway module (gwurls).
	unwatchGw func()
	// opt are the options in force: Start's, normalized, then each
	// Reload's. Readers load them once per use; Reload swaps the pointer
	// and never changes what it pointed to.
	opt atomic.Pointer[Options]
	log *slog.Logger
	id  string
	// g owns the accept loops, readers and solicitors; its context ends
	// when Shutdown begins.
	g      *linknet.Group
	dialer linknet.Dialer

	ln net.Listener // the listener Start bound, nil with Port -1

	// connectDelay is the first wait between attempts to dial a route,
	// maxConnectDelay the longest with connect_backoff; fixed before the
	// first dial (tests shorten them).
	connectDelay    time.Duration
	maxConnectDelay time.Duration

	mu         sync.Mutex
	name       string
	dynamic    bool
	info       routeInfo           // our INFO, without per-route fields
	routes     map[string]*peer    // registered routes by remote server ID
	all        map[*route]struct{} // every route connection, registered or not
	connecting map[string]bool     // host:port being solicited
	self       map[string]bool     // route URLs found to reach this server
	closed     bool
	// configured are the explicit routes: Options.Routes, then those of
	// SetRoutes.
	configured []*url.URL

	// perms are the compiled Options.Permissions and poolCfg the pool
	// size and pinned accounts: each immutable, swapped whole by Reload
	// (which re-makes the routes), read without a lock.
	perms   atomic.Pointer[routeFilters]
	poolCfg atomic.Pointer[poolConf]

	// unlisten unregisters the interest listener, unlameDuck the lame
	// duck listener.
	unlisten, unlameDuck func()

	// imu guards the local interest counts and the routes that get
	// interest updates; a route joins ready after it was sent the counts.
	imu      sync.Mutex
	interest map[ikey]int32
	ready    map[*route]struct{}
}

// poolConf is how routes to a peer are pooled.
type poolConf struct {
	size   int             // connections per peer; 0 without pooling
	pinned map[string]bool // accounts with a dedicated route
}

// pool is the pooling in force.
func (c *Cluster) pool() *poolConf { return c.poolCfg.Load() }

// filters are the compiled permissions in force.
func (c *Cluster) filters() *routeFilters { return c.perms.Load() }

// newPoolConf is the pooling of o: pool_size (default 3, -1 none) and
// the pinned accounts, which must exist; with pooling, the system
// account always has a route of its own, as upstream's (2.10+) does
// without configuration (an upstream peer dials it and refuses a server
// that does not).
func (c *Cluster) newPoolConf(o *Options) (*poolConf, error) {
	pc := &poolConf{pinned: make(map[string]bool)}
	switch {
	case o.PoolSize == 0:
		pc.size = DefaultPoolSize
	case o.PoolSize > 0:
		pc.size = o.PoolSize
	}
	for _, a := range o.PinnedAccounts {
		if c.s.LookupAccount(a) == nil {
			return nil, fmt.Errorf("cluster: pinned account %q does not exist", a)
		}
		pc.pinned[a] = true
	}
	if sys := c.s.SystemAccount(); sys != nil && pc.size > 0 {
		pc.pinned[sys.Name] = true
	}
	return pc, nil
}

// ikey is one interest announced to the routes; origin is the leaf node
// cluster of interest announced on a leaf node's behalf (LS+).
type ikey struct{ account, subject, queue, origin string }

// peer is the pool of route connections to one server: one slot per pool
// index (one slot for a peer without pooling).
type peer struct {
	conns  []*route
	pinned map[string]*route // dedicated routes by account
	noPool bool
}

// any returns one of the peer's connections, nil when it has none.
func (p *peer) any() *route {
	for _, r := range p.conns {
		if r != nil {
			return r
		}
	}
	for _, r := range p.pinned {
		return r
	}
	return nil
}

// poolIdx is the pool slot that carries account, as upstream computes
// it (FNV-1a of the name modulo the pool size).
func poolIdx(account string, size int) int {
	if size <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(account))
	return int(h.Sum32() % uint32(size))
}

// routeInfo is the INFO a route sends, upstream's JSON names.
type routeInfo struct {
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
	IP           string   `json:"ip,omitempty"`
	ConnectURLs  []string `json:"connect_urls,omitempty"`
	WSConnectURL []string `json:"ws_connect_urls,omitempty"`
	LeafNodeURLs []string `json:"leafnode_urls,omitempty"`
	// GatewayURL is the server's gateway URL; Gateway and GatewayURLs
	// announce a remote cluster a peer learned (upstream's names).
	GatewayURL   string   `json:"gateway_url,omitempty"`
	Gateway      string   `json:"gateway,omitempty"`
	GatewayURLs  []string `json:"gateway_urls,omitempty"`
	GatewayCmd   byte     `json:"gateway_cmd,omitempty"`
	Cluster      string   `json:"cluster,omitempty"`
	Dynamic      bool     `json:"cluster_dynamic,omitempty"`
	LameDuck     bool     `json:"ldm,omitempty"`
	Nonce        string   `json:"nonce,omitempty"`
	PoolSize     int      `json:"route_pool_size,omitempty"`
	PoolIdx      int      `json:"route_pool_idx,omitempty"`
	RouteAccount string   `json:"route_account,omitempty"`
	GossipMode   byte     `json:"gossip_mode,omitempty"`
	Compression  string   `json:"compression,omitempty"`
	// LeafOrigin ("lnoc") says the server takes a leaf node's messages
	// over routes as LMSG with their origin cluster, as it sends them.
	LeafOrigin bool `json:"lnoc,omitempty"`
	// LeafOriginUnsub ("lnocu") says the server names the origin cluster
	// in LS- too, and reads it in the LS- of a peer that says it: leaf
	// interest of different clusters is kept apart on both sides.
	LeafOriginUnsub bool `json:"lnocu,omitempty"`
}

// connectInfo is a route's CONNECT, upstream's JSON names.
type connectInfo struct {
	Echo     bool   `json:"echo"`
	Verbose  bool   `json:"verbose"`
	Pedantic bool   `json:"pedantic"`
	User     string `json:"user,omitempty"`
	Pass     string `json:"pass,omitempty"`
	TLS      bool   `json:"tls_required"`
	Headers  bool   `json:"headers"`
	Name     string `json:"name"`
	Cluster  string `json:"cluster"`
	Dynamic  bool   `json:"cluster_dynamic,omitempty"`
	Lang     string `json:"lang,omitempty"`
	Gateway  string `json:"gateway,omitempty"`
}

// Start brings the cluster of s up: it registers for s's interest
// changes, binds the cluster listener (unless o.Port is -1) and starts
// soliciting o.Routes. s must be started.
func Start(s *server.Server, o *Options) (*Cluster, error) {
	if s == nil || o == nil {
		return nil, ErrNoServer
	}
	so := s.Options()
	// The server's logger follows the reloads that change the log
	// output (and its trace level), as the options' does not.
	log := s.Logger()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	co := *o
	co.Routes = nil // configured is the list in use
	if err := co.normalize(); err != nil {
		return nil, err
	}
	c := &Cluster{
		s:          s,
		log:        log,
		id:         s.ID(),
		g:          linknet.NewGroup("route", log),
		dialer:     o.Dialer,
		routes:     make(map[string]*peer),
		all:        make(map[*route]struct{}),
		connecting: make(map[string]bool),
		self:       make(map[string]bool),
		interest:   make(map[ikey]int32),
		ready:      make(map[*route]struct{}),

		connectDelay:    routeConnectDelay,
		maxConnectDelay: routeConnectMaxDelay,
		configured:      slices.Clone(o.Routes),
	}
	c.opt.Store(&co)
	if c.dialer == nil {
		c.dialer = &net.Dialer{Timeout: routeDialTimeout}
	}
	stop := func() { c.g.Close() }
	perms, err := compileRoutePermissions(o.Permissions)
	if err != nil {
		stop()
		return nil, err
	}
	c.perms.Store(&perms)
	pc, err := c.newPoolConf(o)
	if err != nil {
		stop()
		return nil, err
	}
	c.poolCfg.Store(pc)
	c.name = o.Name
	if c.name == "" {
		c.name, c.dynamic = newName(), true
	}
	c.info = routeInfo{
		ID:           s.ID(),
		Name:         s.Name(),
		Version:      server.Version,
		Proto:        2, // accounts in the route protocol
		Headers:      !so.NoHeaderSupport,
		AuthRequired: o.Username != "",
		TLSRequired:  o.TLSConfig != nil,
		TLSVerify:    o.TLSConfig != nil,
		MaxPayload:   so.MaxPayload,
		LeafOrigin:   true,
		// As upstream 2.10+: LS- carries the origin both ways.
		LeafOriginUnsub: true,
	}
	if c.info.MaxPayload == 0 {
		c.info.MaxPayload = server.DefaultMaxPayload
	}
	s.SetClusterName(c.name)
	c.unlisten = s.AddInterestListener(server.InterestFunc(c.interestChanged))
	c.register()
	if !co.NoAdvertise {
		s.SetRemoteConnectURLs(nil)
	}
	if o.Port != -1 {
		if err := c.listen(); err != nil {
			c.unlisten()
			c.unregister()
			stop()
			return nil, err
		}
	}
	for _, u := range c.configured {
		c.solicit(u, true)
	}
	return c, nil
}

// opts are the options in force; the caller must not change them.
func (c *Cluster) opts() *Options { return c.opt.Load() }

// normalize fills o's defaults in, as Start and Reload use them.
func (o *Options) normalize() error {
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
	if o.PingInterval <= 0 || o.PingInterval > maxRoutePing {
		o.PingInterval = maxRoutePing
	}
	if err := o.Compression.Normalize(); err != nil {
		return err
	}
	if o.MaxPingsOut <= 0 {
		o.MaxPingsOut = DefaultMaxPingsOut
	}
	return nil
}

// SetRoutes replaces the explicit routes, as a configuration reload of
// cluster { routes } does upstream: a route new to the list is dialed
// (and redialed forever, like those given to Start); the connections
// this server dialed to a route no longer listed are closed with reason
// "Route Removed" and not redialed, and attempts to dial it stop. A
// connection the removed server dialed to this one stays: that server
// lists this one. Routes compare by their URL, credentials included, so
// changing a route's password closes its connections and dials it anew.
// SetRoutes does nothing once Shutdown began. The slice is not kept, the
// URLs are: they must not change afterwards.
func (c *Cluster) SetRoutes(routes []*url.URL) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	var added, removed []*url.URL
	for _, u := range routes {
		if !containsURL(c.configured, u) && !containsURL(added, u) {
			added = append(added, u)
		}
	}
	for _, u := range c.configured {
		if !containsURL(routes, u) {
			removed = append(removed, u)
		}
	}
	c.configured = nil
	for _, u := range routes {
		if !containsURL(c.configured, u) {
			c.configured = append(c.configured, u)
		}
	}
	var drop []*route
	for r := range c.all {
		if r.solicited && r.explicit && containsURL(removed, r.url) {
			drop = append(drop, r)
		}
		if r.reconnectURL != nil && r.reconnectExplicit && containsURL(removed, r.reconnectURL) {
			r.reconnectURL = nil
		}
	}
	c.mu.Unlock()
	for _, u := range removed {
		c.log.Info("Removed route " + u.Redacted())
	}
	for _, r := range drop {
		r.close(ReasonRouteRemoved)
	}
	for _, u := range added {
		c.solicit(u, true)
	}
}

// containsURL reports whether list holds u (same URL text).
func containsURL(list []*url.URL, u *url.URL) bool {
	if u == nil {
		return false
	}
	s := u.String()
	for _, x := range list {
		if x.String() == s {
			return true
		}
	}
	return false
}

// configuredHost returns the explicit route to the host:port of u, nil
// if there is none; c.mu must be held.
func (c *Cluster) configuredHost(u *url.URL) *url.URL {
	for _, x := range c.configured {
		if strings.EqualFold(x.Host, u.Host) {
			return x
		}
	}
	return nil
}

// stillConfigured reports whether u, dialed as an explicit route, is
// still one; c.mu must be held.
func (c *Cluster) stillConfigured(u *url.URL, explicit bool) bool {
	return !explicit || containsURL(c.configured, u)
}

// dialKey identifies a connection being dialed: host:port, and the
// account of a pinned-account route.
func dialKey(u *url.URL, account string) string {
	k := strings.ToLower(u.Host)
	if account != "" {
		k += " " + account
	}
	return k
}

// newName returns a generated cluster name, 22 alphanumerics as
// upstream's.
func newName() string {
	const alpha = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var b [22]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alpha[int(b[i])%len(alpha)]
	}
	return string(b[:])
}

func (c *Cluster) listen() error {
	port := c.opts().Port
	hp := net.JoinHostPort(c.opts().Host, strconv.Itoa(port))
	ln, err := net.Listen("tcp", hp)
	if err != nil {
		return fmt.Errorf("cluster: Error listening on router port: %d - %w", c.opts().Port, err)
	}
	if err := c.setListener(ln); err != nil {
		ln.Close()
		return err
	}
	c.g.Go(func() { _ = c.g.Serve(ln, c.accepted) })
	return nil
}

// setListener makes ln the cluster's listener: its port is the one INFO
// advertises (unless Advertise says otherwise).
func (c *Cluster) setListener(ln net.Listener) error {
	c.log.Info("Cluster name is " + c.name)
	if c.dynamic {
		c.log.Warn("Cluster name was dynamically generated, consider setting one")
	}
	port := 0
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		port = a.Port
	}
	c.log.Info("Listening for route connections on " + net.JoinHostPort(c.opts().Host, strconv.Itoa(port)))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ln = ln
	c.info.Host, c.info.Port = c.opts().Host, port
	if c.opts().Advertise != "" {
		h, p, err := SplitHostPort(c.opts().Advertise)
		if err != nil {
			return fmt.Errorf("cluster: advertise %q: %w", c.opts().Advertise, err)
		}
		if p == 0 {
			p = port
		}
		c.info.Host, c.info.Port = h, p
		c.info.IP = "nats-route://" + net.JoinHostPort(h, strconv.Itoa(p)) + "/"
	}
	return nil
}

// Serve accepts route connections on ln until ln fails or Shutdown (which
// closes ln), for a cluster started with Port -1: tests pass listeners
// that inject faults, embedders listeners of their own. Its address is
// the one INFO advertises unless Options.Advertise is set. Serve blocks;
// it returns ErrClosed after Shutdown, else the listener's error.
func (c *Cluster) Serve(ln net.Listener) error {
	c.mu.Lock()
	first := c.ln == nil
	c.mu.Unlock()
	if first {
		if err := c.setListener(ln); err != nil {
			ln.Close()
			return err
		}
	}
	err := c.g.Serve(ln, c.accepted)
	if errors.Is(err, linknet.ErrClosed) {
		return ErrClosed
	}
	return err
}

// accepted runs one accepted route connection, on its own goroutine.
func (c *Cluster) accepted(nc net.Conn) { c.createRoute(nc, nil, false, "") }

// Addr returns the cluster listener's address, nil without one.
func (c *Cluster) Addr() net.Addr {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	ln := c.ln
	c.mu.Unlock()
	if ln == nil {
		return nil
	}
	return ln.Addr()
}

// Name returns the cluster name (generated, or adopted from a peer, when
// none was configured).
func (c *Cluster) Name() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.name
}

// NumRoutes returns the number of registered routes (one per peer).
func (c *Cluster) NumRoutes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.routes)
}

// Shutdown closes the listeners and every route and waits for the
// cluster's goroutines, or until ctx ends (it then returns ctx's error;
// the goroutines still end on their own). Calling it again waits again.
func (c *Cluster) Shutdown(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return c.g.Wait(ctx)
	}
	c.closed = true
	routes := make([]*route, 0, len(c.all))
	for r := range c.all {
		routes = append(routes, r)
	}
	unlisten := c.unlisten
	c.mu.Unlock()
	c.g.Close()
	unlisten()
	c.unregister()
	for _, r := range routes {
		r.close(server.LinkServerShutdown)
	}
	return c.g.Wait(ctx)
}

// Close is Shutdown without a deadline, for callers of the former
// Shutdown().
func (c *Cluster) Close() { _ = c.Shutdown(context.Background()) }

// solicit starts connecting to u in the background: forever for an
// explicit route, up to ConnectRetries more attempts for a gossiped one.
func (c *Cluster) solicit(u *url.URL, explicit bool) {
	hp := dialKey(u, "")
	c.mu.Lock()
	if c.closed || c.connecting[hp] || c.self[hp] {
		c.mu.Unlock()
		return
	}
	c.connecting[hp] = true
	c.g.Go(func() { c.connectLoop(u, explicit, "", 0) })
	c.mu.Unlock()
}

// connectLoop dials u until it gets a connection, then runs the route.
// delay is waited first (a reconnect).
func (c *Cluster) connectLoop(u *url.URL, explicit bool, account string, delay time.Duration) {
	hp := dialKey(u, account)
	done := func() {
		c.mu.Lock()
		delete(c.connecting, hp)
		c.mu.Unlock()
	}
	if delay > 0 && !c.g.Sleep(delay) {
		done()
		return
	}
	wait := c.connectDelay
	for attempts := 0; ; {
		if c.g.Context().Err() != nil {
			done()
			return
		}
		c.mu.Lock()
		valid := c.stillConfigured(u, explicit)
		if !valid && account == "" {
			// SetRoutes removed u; a route to the same host:port put in
			// its place (other credentials) is dialed by this loop, as
			// solicit skips a host:port being dialed.
			if nu := c.configuredHost(u); nu != nil {
				u, valid = nu, true
			}
		}
		c.mu.Unlock()
		if !valid {
			// Removed from the routes by SetRoutes.
			done()
			return
		}
		c.log.Debug("Trying to connect to route on " + u.Host + " (" + u.Host + ")")
		nc, err := c.g.Dial(c.dialer, u.Host)
		if err == nil {
			// From here duplicates are resolved on INFO.
			done()
			c.createRoute(nc, u, explicit, account)
			return
		}
		attempts++
		msg := fmt.Sprintf("Error trying to connect to route (attempt %d): %v", attempts, err)
		if attempts == 1 || attempts%3600 == 0 {
			c.log.Error(msg)
		} else {
			c.log.Debug(msg)
		}
		if !explicit && attempts > c.opts().ConnectRetries {
			done()
			return
		}
		if !c.g.Sleep(wait) {
			done()
			return
		}
		if c.opts().ConnectBackoff {
			wait = nextConnectDelay(wait, c.maxConnectDelay)
		}
	}
}

// interestChanged is the cluster's server.InterestListener: it counts
// the interest routes announce (local, and a leaf node's; see propagates)
// per account, subject and queue, and sends RS+ when a subject gains its
// first subscriber, RS- when it loses its last, and for queue groups RS+
// with the new member count as weight on every change.
//
// Interest in a subject the import permissions refuse is not counted nor
// announced: this server would drop what the routes sent for it.
func (c *Cluster) interestChanged(ev server.InterestEvent) {
	if !propagates(&ev) || !c.filters().imp.allows(ev.Subject) {
		return
	}
	account, subject, queue, added := ev.Account, ev.Subject, ev.Queue, ev.Added
	origin := leafOrigin(&ev)
	k := ikey{account, subject, queue, origin}
	c.imu.Lock()
	defer c.imu.Unlock()
	n := c.interest[k]
	if added {
		n++
	} else {
		n--
	}
	if n <= 0 {
		delete(c.interest, k)
		n = 0
	} else {
		c.interest[k] = n
	}
	idx := poolIdx(account, c.pool().size)
	pinned := c.pool().pinned[account]
	// One encoding with the account, one without for dedicated routes;
	// each with the origin in LS- for the peers that read it ("lnocu").
	var encoded [2][2][]byte
	enc := func(withAcc, lnocu bool) []byte {
		var acc []byte
		if withAcc {
			acc = []byte(account)
		}
		switch {
		case queue == "" && added && n == 1:
			return appendSub(nil, origin, acc, subject, "", 0)
		case queue == "" && !added && n == 0:
			return appendUnsub(nil, origin, lnocu, acc, subject, "")
		case queue != "" && n > 0:
			return appendSub(nil, origin, acc, subject, queue, n)
		case queue != "":
			return appendUnsub(nil, origin, lnocu, acc, subject, queue)
		}
		return nil
	}
	b2i := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	for r := range c.ready {
		var withAcc bool
		switch {
		case r.noPool || (!pinned && r.account == "" && r.poolIdx == idx):
			withAcc = true
		case pinned && r.account == account:
		default:
			continue
		}
		lnocu := r.lnocu.Load()
		p := &encoded[b2i(withAcc)][b2i(lnocu)]
		if *p == nil {
			*p = enc(withAcc, lnocu)
		}
		proto := *p
		if proto != nil {
			_ = r.link.Write(proto)
			r.traceOut(proto)
		}
	}
}

// leafOrigin is the leaf node cluster interest is announced for: a leaf
// node's own interest with a cluster name goes over the routes as LS+
// with that origin (upstream's form), everything else as RS+.
func leafOrigin(ev *server.InterestEvent) string {
	if ev.Link == nil {
		return ""
	}
	return ev.OriginCluster
}

// appendSub appends RS+ (or LS+ with the origin), with weight n for a
// queue.
func appendSub(b []byte, origin string, acc []byte, subject, queue string, n int32) []byte {
	var q []byte
	if queue != "" {
		q = []byte(queue)
	}
	if origin != "" {
		return protocol.AppendRouteLSub(b, []byte(origin), acc, []byte(subject), q, n)
	}
	return protocol.AppendRSub(b, acc, []byte(subject), q, n)
}

// appendUnsub appends RS- (or LS-: with the origin to a peer that
// advertised "lnocu", without it to one that did not, as upstream).
func appendUnsub(b []byte, origin string, lnocu bool, acc []byte, subject, queue string) []byte {
	var q []byte
	if queue != "" {
		q = []byte(queue)
	}
	if origin != "" {
		var o []byte
		if lnocu {
			o = []byte(origin)
		}
		return protocol.AppendRouteLUnsub(b, o, acc, []byte(subject), q)
	}
	return protocol.AppendRUnsub(b, acc, []byte(subject), q)
}

// sendAllInterest sends r every local interest and makes it a receiver of
// updates, atomically with respect to interest changes.
func (c *Cluster) sendAllInterest(r *route) {
	c.imu.Lock()
	defer c.imu.Unlock()
	var b []byte
	for k, n := range c.interest {
		acc := []byte(k.account)
		switch {
		case r.noPool:
		case r.account != "":
			if k.account != r.account {
				continue
			}
			acc = nil
		case c.pool().pinned[k.account] || poolIdx(k.account, c.pool().size) != r.poolIdx:
			continue
		}
		if k.queue == "" {
			n = 0
		}
		b = appendSub(b, k.origin, acc, k.subject, k.queue, n)
		if len(b) > 64*1024 {
			_ = r.link.Write(b)
			b = b[:0]
		}
	}
	if len(b) > 0 {
		_ = r.link.Write(b)
	}
	c.ready[r] = struct{}{}
}

// updateConnectURLs gives the server the client URLs of every peer (their
// INFO connect_urls), the leaf node module their leaf node URLs (INFO
// leafnode_urls, which it lists to its leaf nodes, as upstream gossips
// them) and the gateway module their gateway URLs (INFO gateway_url,
// which it lists in its INFO gateway_urls).
func (c *Cluster) updateConnectURLs() {
	leafurls.SetRemote(c.s, c.peerURLs(func(f *route) []string { return f.leafURLs }))
	gwurls.SetRemote(c.s, c.peerURLs(func(f *route) []string {
		if f.gwURL == "" {
			return nil
		}
		return []string{f.gwURL}
	}))
	if c.opts().NoAdvertise {
		return
	}
	c.s.SetRemoteConnectURLs(c.peerURLs(func(f *route) []string { return f.connectURLs }))
}

// peerURLs collects the URLs that of gives for every registered peer, in
// the order of their server IDs, without repeats.
func (c *Cluster) peerURLs(of func(*route) []string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var urls []string
	ids := make([]string, 0, len(c.routes))
	for id := range c.routes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		f := c.routes[id].any()
		if f == nil {
			continue
		}
		for _, u := range of(f) {
			if !slices.Contains(urls, u) {
				urls = append(urls, u)
			}
		}
	}
	return urls
}

// gatewayCmdGossip is upstream's gateway_cmd of a route INFO that names
// a remote gateway cluster.
const gatewayCmdGossip = 1

// announceGateway sends every peer an INFO naming remote cluster name
// and its gateway URLs, as upstream forwards a new gateway to its
// cluster.
func (c *Cluster) announceGateway(name string, urls []string) {
	c.mu.Lock()
	var conns []*route
	for _, p := range c.routes {
		if r := p.any(); r != nil {
			conns = append(conns, r)
		}
	}
	c.mu.Unlock()
	b, _ := json.Marshal(&routeInfo{ID: c.id, Gateway: name, GatewayURLs: urls, GatewayCmd: gatewayCmdGossip})
	proto := protocol.AppendInfo(nil, b)
	for _, r := range conns {
		_ = r.link.Write(proto)
	}
}

// sendKnownGateways sends route r an INFO for every remote cluster this
// server's gateway is connected to, as upstream tells a new route.
func (c *Cluster) sendKnownGateways(r *route) {
	known := gwurls.Known(c.s)
	names := make([]string, 0, len(known))
	for n := range known {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b, _ := json.Marshal(&routeInfo{ID: c.id, Gateway: n, GatewayURLs: known[n], GatewayCmd: gatewayCmdGossip})
		_ = r.link.Write(protocol.AppendInfo(nil, b))
	}
}

// isConfigured reports whether host:port (or the host:port of ip, a
// nats-route URL) is one of the explicit routes.
func (c *Cluster) isConfigured(host string, port int, ip string) bool {
	one := strings.ToLower(net.JoinHostPort(host, strconv.Itoa(port)))
	two := ""
	if u, err := url.Parse(ip); err == nil && ip != "" {
		two = strings.ToLower(u.Host)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, u := range c.configured {
		h := strings.ToLower(u.Host)
		if h == one || (two != "" && h == two) {
			return true
		}
	}
	return false
}

// Routez describes every route connection, ordered by rid, as /routez
// does; with opts.Subscriptions it lists each route's interest.
func (c *Cluster) Routez(opts *snapshot.RoutezOptions) *snapshot.Routez {
	if opts == nil {
		opts = &snapshot.RoutezOptions{}
	}
	now := time.Now()
	c.mu.Lock()
	rz := &snapshot.Routez{ID: c.id, Name: c.info.Name, Now: now.UTC()}
	routes := make([]*route, 0, len(c.routes))
	for _, p := range c.routes {
		for _, r := range p.conns {
			if r != nil {
				routes = append(routes, r)
			}
		}
		for _, r := range p.pinned {
			routes = append(routes, r)
		}
	}
	c.mu.Unlock()
	for _, r := range routes {
		st := r.link.Stats()
		c.mu.Lock()
		ri := &snapshot.RouteInfo{
			Rid:          r.link.ID(),
			RemoteID:     r.remoteID,
			RemoteName:   r.remoteName,
			DidSolicit:   r.solicited,
			IsConfigured: r.explicit,
			IP:           r.host,
			Port:         r.port,
			Start:        st.Start,
			LastActivity: st.LastActivity,
			Uptime:       now.Sub(st.Start).Round(time.Second).String(),
			Pending:      st.Pending,
			InMsgs:       st.InMsgs,
			OutMsgs:      st.OutMsgs,
			InBytes:      st.InBytes,
			OutBytes:     st.OutBytes,
			NumSubs:      uint32(st.NumSubs),
			Compression:  r.compression,
			PoolIdx:      max(r.poolIdx, 0),
			Account:      r.account,
		}
		if r.rtt > 0 {
			ri.RTT = r.rtt.String()
		}
		c.mu.Unlock()
		if !st.LastActivity.IsZero() {
			ri.Idle = now.Sub(st.LastActivity).Round(time.Second).String()
		}
		if opts.Subscriptions || opts.SubscriptionsDetail {
			ri.Subs, ri.SubsDetail = r.link.Subjects(opts.SubscriptionsDetail)
		}
		rz.Routes = append(rz.Routes, ri)
	}
	sort.Slice(rz.Routes, func(i, j int) bool { return rz.Routes[i].Rid < rz.Routes[j].Rid })
	rz.NumRoutes = len(rz.Routes)
	return rz
}

// NumRouteConns returns the number of registered route connections
// (pool and pinned ones), /varz routes.
func (c *Cluster) NumRouteConns() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, p := range c.routes {
		for _, r := range p.conns {
			if r != nil {
				n++
			}
		}
		n += len(p.pinned)
	}
	return n
}

// ClusterVarz is the cluster section of /varz.
func (c *Cluster) ClusterVarz() snapshot.ClusterOptsVarz {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := snapshot.ClusterOptsVarz{
		Name:        c.name,
		Host:        c.opts().Host,
		Port:        c.info.Port,
		AuthTimeout: c.opts().AuthTimeout.Seconds(),
		TLSTimeout:  c.opts().TLSTimeout.Seconds(),
		TLSRequired: c.opts().TLSConfig != nil,
		TLSVerify:   c.opts().TLSConfig != nil,
		PoolSize:    c.pool().size,
		// The certificate in force (a reload may have changed it).
		TLSCertNotAfter: server.TLSCertNotAfter(c.opts().TLSConfig),
	}
	if c.ln != nil {
		v.Port = c.ln.Addr().(*net.TCPAddr).Port
	}
	for _, u := range c.configured {
		r := *u
		r.User = nil
		v.URLs = append(v.URLs, r.Host)
	}
	return v
}

// varzSection is the section of /varz the cluster contributes: cluster
// and routes.
const varzSection = "cluster"

// register puts the cluster on its server: the ROUTEZ provider and the
// cluster section of /varz on the monitoring registry, and the lame duck
// listener. unregister takes them off, when the cluster stops.
func (c *Cluster) register() {
	c.s.RegisterProvider(server.KindRoutez, server.ProviderFunc(c.routez))
	c.s.RegisterVarz(varzSection, server.VarzFunc(c.contributeVarz))
	c.unlameDuck = c.s.AddLameDuckListener(c.lameDuck)
	// This server's leaf node URL goes to every peer when it is known
	// (the leaf nodes start after the cluster) or changes.
	c.unwatchLeaf = leafurls.WatchLocal(c.s, c.sendInfoToAll)
	// Likewise its gateway URL, and the remote clusters the gateway
	// learns go to every peer (upstream's gateway gossip over routes).
	stopL := gwurls.WatchLocal(c.s, c.sendInfoToAll)
	stopA := gwurls.WatchAnnounce(c.s, c.announceGateway)
	c.unwatchGw = func() { stopL(); stopA() }
	gwurls.SetRouteTo(c.s, c.routeTo)
}

func (c *Cluster) unregister() {
	c.unlameDuck()
	c.unwatchLeaf()
	leafurls.SetRemote(c.s, nil)
	c.unwatchGw()
	gwurls.SetRemote(c.s, nil)
	gwurls.ForgetLearned(c.s)
	gwurls.SetRouteTo(c.s, nil)
	c.s.RegisterProvider(server.KindRoutez, nil)
	c.s.RegisterVarz(varzSection, nil)
}

// routez is the ROUTEZ provider: Routez, stamped with the server's ID,
// name and the time, and an empty list rather than none.
func (c *Cluster) routez(opts *snapshot.RoutezOptions) (*snapshot.Routez, error) {
	rz := c.Routez(opts)
	rz.ID, rz.Name, rz.Now = c.s.ID(), c.s.Name(), time.Now().UTC()
	if rz.Routes == nil {
		rz.Routes = []*snapshot.RouteInfo{}
	}
	rz.NumRoutes = len(rz.Routes)
	return rz, nil
}

// contributeVarz fills the cluster section of /varz and its route count.
func (c *Cluster) contributeVarz(v *snapshot.Varz) {
	v.Cluster = c.ClusterVarz()
	v.Routes = c.NumRouteConns()
}

// lameDuck tells every peer that this server is in lame duck mode (INFO
// ldm), so they drop its client URLs from what their clients learn.
func (c *Cluster) lameDuck() {
	c.mu.Lock()
	c.info.LameDuck = true
	c.mu.Unlock()
	c.sendInfoToAll()
}

// AdvertiseConnectURLs sends every peer this server's current client URLs
// (INFO connect_urls), as upstream does when a reload changes
// client_advertise: the peers' clients learn the new address. Nothing is
// sent with no_advertise.
func (c *Cluster) AdvertiseConnectURLs() {
	if c.opts().NoAdvertise {
		return
	}
	c.sendInfoToAll()
}

// sendInfoToAll sends this server's INFO on every connection of every
// peer: a peer keeps the client URLs per connection and reads them from
// whichever of its pool it finds first, which need not be the one this
// side finds first.
func (c *Cluster) sendInfoToAll() {
	c.mu.Lock()
	var conns []*route
	for _, p := range c.routes {
		for _, r := range p.conns {
			if r != nil {
				conns = append(conns, r)
			}
		}
		for _, r := range p.pinned {
			conns = append(conns, r)
		}
	}
	c.mu.Unlock()
	proto := c.infoProto(nil, "")
	for _, r := range conns {
		_ = r.link.Write(proto)
	}
}
