package leaf

import (
	"context"
	crand "crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/cluster/internal/linknet"
	"natsd.dev/server"
)

// RandomPort makes the listener bind a free port (Options.Port).
const RandomPort = -1

// Errors returned by Start.
var (
	// ErrNoServer is returned when Start gets no server or options.
	ErrNoServer = errors.New("leaf: no server or options")
)

// Delays after which a remote dials again when the hub refused it for a
// loop or for having our cluster's name (upstream's 30 seconds).
var (
	// minVersionHold is how long a leaf node older than min_version is
	// held after its error before the connection closes (upstream's 5s).
	minVersionHold            = 5 * time.Second
	loopReconnectDelay        = 30 * time.Second
	sameClusterReconnectDelay = 30 * time.Second
)

// Default timeouts of a remote (upstream's).
const (
	DefaultDialTimeout = time.Second
	// connectProcessTimeout bounds the wait, after our CONNECT, for the
	// hub's INFO that ends the handshake.
	connectProcessTimeout = 2 * time.Second
	// firstPing is how soon the first PING goes out (to measure the RTT).
	firstPing = time.Second
)

// ldsPrefix starts the loop detection subject each server announces per
// account ($LDS.<unique>).
const ldsPrefix = "$LDS."

// Leaf runs a server's leaf node connections: the listener (this server
// is the hub of the servers that connect) and the remotes (this server is
// a leaf of their hubs).
type Leaf struct {
	s      *server.Server
	o      Options
	log    *slog.Logger
	g      *linknet.Group
	dialer Dialer
	ln     net.Listener
	info   leafInfo // the listener's INFO, without nonce and client id

	mu     sync.Mutex
	closed bool
	conns  map[*conn]struct{}
	// provisional numbers the INFO of a connection that handshakes TLS
	// after INFO (it has no link, so no id, yet).
	provisional uint64
	// remotes are the configured remotes, disabled ones included; a
	// reload changes the list (lf.mu).
	remotes []*remote
	// lds holds the loop detection subject of each account (ldsSubject).
	lds map[string]string
	// unwatchURLs ends the watch of the cluster's leaf node URLs; advertised
	// is set when this Leaf set the server's own URL (urls.go).
	unwatchURLs func()
	advertised  bool
	// tlsConfig is the listener's TLS configuration (a reload swaps it).
	tlsConfig atomic.Pointer[tls.Config]
	// reloadMu serializes reloads.
	reloadMu sync.Mutex
	// auth is the leafnodes { authorization } in force, comp the
	// listener's compression and hsFirst its tls { handshake_first } (a
	// reload swaps them).
	auth    atomic.Pointer[authConf]
	comp    atomic.Pointer[Compression]
	hsFirst atomic.Bool
}

// remote is the running state of one Remote.
type remote struct {
	r        *Remote // read by the dial loop, never changed
	conf     *Remote // the configuration in force: r, or a reload's (lf.mu)
	acc      string
	imp, exp *denyList
	mu       sync.Mutex
	urls     []*url.URL
	cur      *url.URL
	delay    time.Duration // before the next dial (a loop, our cluster name)
	// tlsConfig is the remote's tls {} block: r.TLSConfig, or a
	// reload's.
	tlsConfig atomic.Pointer[tls.Config]
	// ctx ends when the remote stops (a reload removed or disabled it,
	// or the leaf shut down); stop ends it, nil when not dialing.
	ctx  context.Context
	stop context.CancelFunc
}

// stopped reports whether r no longer dials (a reload stopped it).
func (r *remote) stopped() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ctx == nil || r.ctx.Err() != nil
}

// Start brings s's leaf nodes up: it binds the listener (unless o.Port
// is 0) and starts dialing every remote that is not disabled. s must be
// started (and its cluster, if any, so that the cluster's name is
// known).
func Start(s *server.Server, o *Options) (*Leaf, error) {
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
	lf := &Leaf{
		s:      s,
		o:      *o,
		log:    log,
		conns:  make(map[*conn]struct{}),
		dialer: o.Dialer,
	}
	if err := lf.validate(); err != nil {
		return nil, err
	}
	lf.normalize()
	if err := lf.normalizeCompression(); err != nil {
		return nil, err
	}
	if lf.dialer == nil {
		lf.dialer = &net.Dialer{}
	}
	for _, r := range lf.o.Remotes {
		rs, err := newRemote(r)
		if err != nil {
			return nil, err
		}
		lf.remotes = append(lf.remotes, rs)
	}
	lf.tlsConfig.Store(lf.o.TLSConfig)
	lf.auth.Store(authOf(&lf.o))
	comp := lf.o.Compression
	lf.comp.Store(&comp)
	lf.hsFirst.Store(lf.o.TLSHandshakeFirst)
	lf.g = linknet.NewGroup("leafnode", log)
	lf.info = leafInfo{
		ID:            s.ID(),
		Name:          s.Name(),
		Version:       server.Version,
		Proto:         1,
		AuthRequired:  true,
		TLSRequired:   lf.o.TLSConfig != nil,
		TLSVerify:     lf.o.TLSConfig != nil && lf.o.TLSConfig.ClientAuth == tlsRequireAndVerify,
		MaxPayload:    so.MaxPayload,
		Headers:       !so.NoHeaderSupport,
		InfoOnConnect: true,
	}
	if lf.info.MaxPayload == 0 {
		lf.info.MaxPayload = server.DefaultMaxPayload
	}
	lf.info.Compression = lf.o.Compression.Mode
	if lf.o.Port != 0 {
		if err := lf.listen(); err != nil {
			lf.g.Close()
			return nil, err
		}
	}
	lf.watchURLs()
	lf.register()
	lf.mu.Lock()
	for _, r := range lf.remotes {
		if !r.r.Disabled {
			lf.startRemote(r)
		}
	}
	lf.mu.Unlock()
	return lf, nil
}

// newRemote is the running state of r, not dialing yet.
func newRemote(r *Remote) (*remote, error) {
	rs := &remote{r: r, conf: r, acc: r.Account, urls: slices.Clone(r.URLs)}
	rs.tlsConfig.Store(r.TLSConfig)
	if rs.acc == "" {
		rs.acc = server.GlobalAccountName
	}
	var err error
	if rs.imp, err = compileDeny("deny_imports", r.DenyImports); err != nil {
		return nil, err
	}
	if rs.exp, err = compileDeny("deny_exports", r.DenyExports); err != nil {
		return nil, err
	}
	if !r.NoRandomize {
		rand.Shuffle(len(rs.urls), func(i, j int) { rs.urls[i], rs.urls[j] = rs.urls[j], rs.urls[i] })
	}
	return rs, nil
}

// startRemote starts dialing r until stopRemote or Shutdown; lf.mu is
// held.
func (lf *Leaf) startRemote(r *remote) {
	ctx, cancel := context.WithCancel(lf.g.Context())
	r.mu.Lock()
	r.ctx, r.stop = ctx, cancel
	r.mu.Unlock()
	lf.g.Go(func() { lf.solicit(r, ctx) })
}

// stopRemote stops dialing r and closes its connection, as a reload that
// removes or disables it does (upstream's "Client Closed").
func (lf *Leaf) stopRemote(r *remote) {
	r.mu.Lock()
	stop := r.stop
	r.stop = nil
	r.mu.Unlock()
	if stop != nil {
		stop()
	}
	lf.mu.Lock()
	var conns []*conn
	for c := range lf.conns {
		if c.remote == r {
			conns = append(conns, c)
		}
	}
	lf.mu.Unlock()
	for _, c := range conns {
		c.close(server.LinkClientClosed)
	}
}

// validate checks the options as upstream does at start.
func (lf *Leaf) validate() error {
	o := &lf.o
	if err := checkAuthUsers(o); err != nil {
		return err
	}
	if err := lf.validateAuthAccounts(o); err != nil {
		return err
	}
	return lf.validateRemotes(o.Remotes)
}

// checkAuthUsers applies upstream's rules to the authorization users:
// one user or a list, each name once.
func checkAuthUsers(o *Options) error {
	if len(o.Users) > 0 && o.Username != "" {
		return errors.New("can not have a single user/pass and a users array")
	}
	seen := make(map[string]bool)
	for _, u := range o.Users {
		if seen[u.Username] {
			return fmt.Errorf("duplicate user %q detected in leafnode authorization", u.Username)
		}
		seen[u.Username] = true
	}
	return nil
}

// validateAuthAccounts checks that the accounts the authorization binds
// users to exist.
func (lf *Leaf) validateAuthAccounts(o *Options) error {
	exists := func(name, where string) error {
		if name == "" || lf.s.LookupAccount(name) != nil {
			return nil
		}
		return fmt.Errorf("cannot find local account %q specified in leafnode %s", name, where)
	}
	if err := exists(o.Account, "authorization"); err != nil {
		return err
	}
	for _, u := range o.Users {
		if err := exists(u.Account, "authorization"); err != nil {
			return err
		}
	}
	return nil
}

// validateRemotes checks remotes as Start does: their accounts exist and
// each has a URL.
func (lf *Leaf) validateRemotes(remotes []*Remote) error {
	for _, r := range remotes {
		if r.Account != "" && lf.s.LookupAccount(r.Account) == nil {
			return fmt.Errorf("cannot find local account %q specified in leafnode remote", r.Account)
		}
		if len(r.URLs) == 0 {
			return errors.New("leaf: a remote has no URL")
		}
	}
	return nil
}

// defaultAuthTimeout fills in an authorization timeout left unset (after
// TLSTimeout): DefaultAuthTimeout, and with TLS, as upstream, the TLS
// handshake's timeout plus a second when that is longer.
func (o *Options) defaultAuthTimeout() {
	if o.AuthTimeout > 0 {
		return
	}
	o.AuthTimeout = DefaultAuthTimeout
	if o.TLSConfig != nil {
		o.AuthTimeout = max(o.AuthTimeout, o.TLSTimeout+time.Second)
	}
}

// normalize fills the defaults in.
func (lf *Leaf) normalize() {
	o := &lf.o
	if o.Reconnect <= 0 {
		o.Reconnect = DefaultReconnect
	}
	if o.TLSTimeout <= 0 {
		o.TLSTimeout = DefaultTLSTimeout
	}
	o.defaultAuthTimeout()
	o.Remotes = normalizeRemotes(o, o.Remotes)
}

// normalizeRemotes returns copies of remotes with the defaults filled in
// (o's dial_timeout first).
func normalizeRemotes(o *Options, remotes []*Remote) []*Remote {
	out := make([]*Remote, 0, len(remotes))
	for _, r := range remotes {
		rc := *r
		if rc.FirstInfoTimeout <= 0 {
			rc.FirstInfoTimeout = DefaultFirstInfoTimeout
		}
		if rc.DialTimeout <= 0 {
			rc.DialTimeout = o.DialTimeout
		}
		if rc.DialTimeout <= 0 {
			rc.DialTimeout = DefaultDialTimeout
		}
		if rc.TLSTimeout <= 0 {
			rc.TLSTimeout = DefaultTLSTimeout
		}
		out = append(out, &rc)
	}
	return out
}

func (lf *Leaf) listen() error {
	port := lf.o.Port
	if port == RandomPort {
		port = 0
	}
	hp := net.JoinHostPort(lf.o.Host, strconv.Itoa(port))
	ln, err := net.Listen("tcp", hp)
	if err != nil {
		return fmt.Errorf("Error listening on leafnode port: %d - %v", lf.o.Port, err)
	}
	lf.ln = ln
	addr := ln.Addr().(*net.TCPAddr)
	lf.log.Info("Listening for leafnode connections on " + net.JoinHostPort(lf.o.Host, strconv.Itoa(addr.Port)))
	host, p := lf.o.Host, addr.Port
	if lf.o.Advertise != "" {
		h, ps, err := net.SplitHostPort(lf.o.Advertise)
		if err != nil {
			h, ps = lf.o.Advertise, strconv.Itoa(p)
		}
		host = h
		p, _ = strconv.Atoi(ps)
		lf.log.Info("Advertise address for leafnode is set to " + net.JoinHostPort(host, strconv.Itoa(p)))
	} else if host == "" || host == "0.0.0.0" || host == "::" {
		host = localIP(host)
	}
	lf.info.Host, lf.info.Port = host, p
	lf.info.IP = net.JoinHostPort(host, strconv.Itoa(p))
	lf.g.Go(func() { _ = lf.g.Serve(ln, lf.accepted) })
	return nil
}

// localIP is the first non-loopback address of this host, for a listener
// bound to every interface; else the loopback.
func localIP(any string) string {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLoopback() {
				continue
			}
			if any == "::" || ipn.IP.To4() != nil {
				return ipn.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

// Addr is the listener's address, nil without a listener.
func (lf *Leaf) Addr() net.Addr {
	if lf.ln == nil {
		return nil
	}
	return lf.ln.Addr()
}

// NumConnections is the number of leaf node connections past their
// handshake, accepted and solicited.
func (lf *Leaf) NumConnections() int {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	n := 0
	for c := range lf.conns {
		if c.isReady() {
			n++
		}
	}
	return n
}

// Shutdown closes the listener and every leaf node connection and stops
// dialing the remotes; it waits for the goroutines or ctx.
func (lf *Leaf) Shutdown(ctx context.Context) error {
	lf.mu.Lock()
	if lf.closed {
		lf.mu.Unlock()
		return lf.g.Wait(ctx)
	}
	lf.closed = true
	conns := make([]*conn, 0, len(lf.conns))
	for c := range lf.conns {
		conns = append(conns, c)
	}
	lf.mu.Unlock()
	lf.unwatch()
	lf.unregister()
	lf.g.Close()
	for _, c := range conns {
		c.close(server.LinkServerShutdown)
	}
	return lf.g.Wait(ctx)
}

// Close is Shutdown without a deadline.
func (lf *Leaf) Close() { _ = lf.Shutdown(context.Background()) }

// ldsSubject is the loop detection subject of an account, made once per
// Leaf: every connection it runs announces the same one, and it goes
// with the Leaf (a server that starts its leaf nodes again, after a
// reload, draws new ones).
func (lf *Leaf) ldsSubject(account string) string {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	if s, ok := lf.lds[account]; ok {
		return s
	}
	if lf.lds == nil {
		lf.lds = make(map[string]string)
	}
	s := ldsPrefix + newNonce() + newNonce()
	lf.lds[account] = s
	return s
}

// newNonce is 11 random bytes in base64 URL encoding, as upstream's
// nonces.
func newNonce() string {
	var b [11]byte
	_, _ = crand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// solicit dials r's hub until the leaf shuts down or r stops (ctx),
// runs the connection while it lasts, and dials again after the
// reconnect delay.
func (lf *Leaf) solicit(r *remote, ctx context.Context) {
	sleep := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
	attempts := 0
	for ctx.Err() == nil {
		r.mu.Lock()
		delay := r.delay
		r.delay = 0
		r.mu.Unlock()
		if delay > 0 && !sleep(delay) {
			return
		}
		u := r.next()
		lf.log.Debug(fmt.Sprintf("Trying to connect as leafnode to remote server on %q", u.Host))
		dctx, cancel := context.WithTimeout(ctx, r.r.DialTimeout)
		nc, err := lf.dialer.DialContext(dctx, "tcp", dialAddr(u))
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			attempts++
			line := fmt.Sprintf("Error trying to connect as leafnode to remote server %q (attempt %v): %v", u.Host, attempts, err)
			if attempts == 1 {
				lf.log.Error(line)
			} else {
				lf.log.Debug(line)
			}
			jitter := time.Duration(rand.Int64N(int64(lf.o.Reconnect)))
			if !sleep(lf.o.Reconnect + jitter) {
				return
			}
			continue
		}
		attempts = 0
		lf.runSolicited(nc, u, r)
		if !sleep(lf.o.Reconnect) {
			return
		}
	}
}

// next picks the URL to dial: the list in order (shuffled at start
// unless no_randomize), the one dialed last moved to the end.
func (r *remote) next() *url.URL {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur != nil && len(r.urls) > 1 && sameHost(r.cur, r.urls[0]) {
		first := r.urls[0]
		copy(r.urls, r.urls[1:])
		r.urls[len(r.urls)-1] = first
	}
	r.cur = r.urls[0]
	return r.cur
}

func sameHost(a, b *url.URL) bool { return a.Host == b.Host }

// setDelay makes the next dial wait d.
func (r *remote) setDelay(d time.Duration) {
	r.mu.Lock()
	r.delay = d
	r.mu.Unlock()
}

// addURLs adds the hub's cluster's leaf node URLs (INFO leafnode_urls)
// to the list, after the ones known. As upstream, a URL learned stays:
// a server of the hub's cluster that went away may come back, and the
// list is tried in turn.
func (r *remote) addURLs(hostports []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, hp := range hostports {
		u, err := url.Parse(r.learnedScheme() + "://" + hp)
		if err != nil || u.Host == "" {
			continue
		}
		if !slices.ContainsFunc(r.urls, func(x *url.URL) bool { return sameHost(x, u) }) {
			r.urls = append(r.urls, u)
		}
	}
}

// userinfo is the user and password to present for u: its own, else the
// first configured URL's (a URL learned from the hub has none).
func (r *remote) userinfo(u *url.URL) *url.Userinfo {
	if u.User != nil {
		return u.User
	}
	for _, x := range r.r.URLs {
		if x.User != nil {
			return x.User
		}
	}
	return nil
}
