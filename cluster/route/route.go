package route

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
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
)

// Texts sent in -ERR on routes, upstream's.
const (
	errTextAuthViolation   = "Authorization Violation"
	errTextRoutePort       = "attempted to connect to route port"
	errTextStale           = "Stale Connection"
	errTextUnknownProtocol = protocol.TextUnknownOp
)

// route is one route connection. The reader goroutine owns the parser
// and the handshake flags; the fields under "guarded by Cluster.mu" are
// shared with the cluster.
type route struct {
	cl        *Cluster
	nc        net.Conn
	link      *server.Link
	prefix    string
	solicited bool
	url       *url.URL // the URL dialed (solicited routes)
	explicit  bool     // url is one of Options.Routes
	host      string
	port      int

	// reader-owned
	parser      protocol.Parser
	authPending bool
	authOK      bool // the peer's CONNECT credentials were checked and match
	connectSeen bool
	// delayedInfo: our INFO goes out once the route is registered (we
	// dialed with compression configured, as upstream's solicitor does).
	delayedInfo bool
	compression string // the negotiated mode ("off", "not supported" or a level)
	cconn       *CompressedConn

	// lnocu: the peer's INFO said "lnocu", so its LS- names the origin
	// cluster, ours to it do too, and its leaf interest is kept per
	// origin. Set by the reader on the first INFO, before the route is
	// ready; read by whoever sends interest.
	lnocu atomic.Bool

	// guarded by Cluster.mu
	infoReceived bool
	registered   bool
	poolIdx      int    // slot in the peer's pool once registered
	account      string // the account of a dedicated (pinned) route
	noPool       bool   // the peer (or we) do not pool: every account here
	self         bool
	remoteID     string
	remoteName   string
	connectURLs  []string
	leafURLs     []string // the peer's INFO leafnode_urls
	gwURL        string   // the peer's INFO gateway_url
	routeURL     string
	rtt          time.Duration
	// reconnectURL is dialed again when the route closes: the URL of a
	// solicited route, or of one of ours that was closed as a duplicate
	// of this one.
	reconnectURL      *url.URL
	reconnectExplicit bool

	mu        sync.Mutex // guards the timers, pings and the credentials
	pingTimer *time.Timer
	authTimer *time.Timer
	pingsOut  int
	pingStart time.Time
	// user and pass are the credentials of the peer's CONNECT (accepted
	// routes), kept so that a reload of the cluster's authorization can
	// check them again; connected says a CONNECT was read.
	user, pass string
	connected  bool
}

// routeError makes the reader close the route, after -ERR text if set.
type routeError struct {
	text   string
	reason server.LinkCloseReason
}

func (e *routeError) Error() string { return "cluster: " + reasonText(e.reason) }

// createRoute runs one route connection on the calling goroutine until it
// closes: TLS when configured, the compression negotiation (unless
// compression is off), CONNECT (when we dialed) and INFO, then the read
// loop.
func (c *Cluster) createRoute(nc net.Conn, u *url.URL, explicit bool, account string) {
	start := time.Now()
	if !c.g.Track(nc) {
		return
	}
	fail := func() {
		c.g.Untrack(nc)
		nc.Close()
		if u != nil {
			c.reconnect(u, explicit, account)
		}
	}
	if c.opts().TLSConfig != nil {
		tc, ok := c.handshake(nc, u)
		if !ok {
			fail()
			return
		}
		c.g.Untrack(nc)
		nc = tc
		if !c.g.Track(nc) {
			return
		}
	}
	r := &route{cl: c, nc: nc, solicited: u != nil, url: u, explicit: explicit, account: account, compression: CompressionOff}
	if u != nil {
		r.reconnectURL, r.reconnectExplicit = u, explicit
	}
	if a, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		r.host, r.port = a.IP.String(), a.Port
	}
	conn, rd := nc, io.Reader(nc)
	var replay [][]byte
	negotiate := c.opts().Compression.Mode != CompressionOff
	infoAfterSwitch := false
	if negotiate {
		var err error
		conn, rd, replay, infoAfterSwitch, err = r.negotiate(nc, start)
		if err != nil {
			line := net.JoinHostPort(r.host, strconv.Itoa(r.port)) + " - Route handshake error: " + err.Error()
			if errors.Is(err, io.EOF) {
				// The peer left before the handshake ended: typically a
				// server that dialed itself (routes lists its own URL) and
				// dropped the route on reading our INFO.
				c.log.Debug(line)
			} else {
				c.log.Error(line)
			}
			fail()
			return
		}
	}
	c.g.Untrack(nc)
	link, err := c.s.NewLink(conn, r.linkConfig())
	if err != nil {
		return
	}
	r.link = link
	r.prefix = link.LogPrefix()
	if c.filters().exp != nil {
		link.SetFilter(c.filters().exp)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		link.Close(server.LinkServerShutdown)
		return
	}
	if r.solicited && !c.stillConfigured(u, explicit) {
		// SetRoutes removed the route while this connection handshook.
		r.reconnectURL = nil
		c.mu.Unlock()
		link.Close(ReasonRouteRemoved)
		return
	}
	c.all[r] = struct{}{}
	c.mu.Unlock()
	c.log.Info(r.prefix + " - Route connection created")
	if r.solicited {
		if !negotiate {
			_ = link.Write(r.connectProto())
		}
		c.log.Debug(r.prefix + " - Route connect msg sent")
	}
	switch {
	case !negotiate && r.solicited && (c.pool().size > 0 || r.account != ""):
		r.delayedInfo = true // it carries the pool slot, known on registration
	case !negotiate || infoAfterSwitch:
		_ = link.Write(c.infoProto(nil, r.compression))
	}
	r.mu.Lock()
	if !r.solicited && c.opts().Username != "" {
		r.authPending = true
		r.authTimer = time.AfterFunc(c.opts().AuthTimeout, func() {
			c.log.Error(r.prefix + " - Authentication Timeout")
			r.sendErr("Authentication Timeout")
			r.close(server.LinkAuthTimeout)
		})
	}
	// The first PING goes out soon, to measure the RTT (/routez, s2_auto).
	r.pingTimer = time.AfterFunc(min(c.opts().PingInterval, firstRoutePing), r.pingTick)
	r.mu.Unlock()
	r.initParser()
	if r.account != "" {
		r.parser.PinnedAccount = []byte(r.account)
		link.SetPinnedAccount(true)
	}
	for _, line := range replay {
		err := r.parser.Parse(line, r)
		r.link.EndBatch()
		if err != nil {
			r.parseError(err)
			return
		}
	}
	r.readLoop(rd)
}

// maxPreInfo bounds what a peer may send before its INFO.
const (
	maxPreInfoLines = 16
	maxPreInfoLine  = 64 * 1024
)

// negotiate runs the first part of the handshake on the bare connection,
// as upstream does when compression is configured: the dialer sends only
// CONNECT, the acceptor only INFO (with its compression mode); each waits
// for the other's INFO and picks the mode. With compression, the dialer
// sends its INFO with the chosen mode before switching, the acceptor
// switches and then sends its INFO; either way the INFO that registers
// the route is the next one. It returns the connection to write to, the
// reader to read from (either may decompress), the lines received before
// the INFO (and the INFO itself when there is no compression) for the
// parser, and whether our INFO must be sent after the switch.
func (r *route) negotiate(nc net.Conn, start time.Time) (net.Conn, io.Reader, [][]byte, bool, error) {
	c := r.cl
	nc.SetReadDeadline(time.Now().Add(c.opts().AuthTimeout + c.opts().TLSTimeout))
	defer nc.SetReadDeadline(time.Time{})
	var first []byte
	if r.solicited {
		first = r.connectProto()
	} else {
		first = c.infoProto(nil, c.opts().Compression.Mode)
	}
	if _, err := nc.Write(first); err != nil {
		return nil, nil, nil, false, err
	}
	br := bufio.NewReaderSize(nc, 4096)
	var pre [][]byte
	var info routeInfo
	var infoLine []byte
	for {
		line, err := readLine(br)
		if err != nil {
			return nil, nil, nil, false, err
		}
		verb := line
		if i := bytes.IndexAny(line, " \t\r\n"); i >= 0 {
			verb = line[:i]
		}
		switch {
		case bytes.EqualFold(verb, []byte("INFO")):
			infoLine = line
			if err := json.Unmarshal(bytes.TrimSpace(line[4:]), &info); err != nil {
				return nil, nil, nil, false, fmt.Errorf("invalid INFO: %w", err)
			}
		case bytes.EqualFold(verb, []byte("PING")):
			if _, err := nc.Write(pongProto); err != nil {
				return nil, nil, nil, false, err
			}
			continue
		case bytes.EqualFold(verb, []byte("CONNECT")):
			if re := r.checkConnect(bytes.TrimSpace(line[len(verb):])); re != nil {
				if re.text != "" {
					_, _ = nc.Write(protocol.AppendErr(nil, re.text))
				}
				return nil, nil, nil, false, re
			}
			fallthrough
		case bytes.EqualFold(verb, []byte("PONG")), bytes.EqualFold(verb, []byte("+OK")):
			if len(pre) == maxPreInfoLines {
				return nil, nil, nil, false, errors.New("too many operations before INFO")
			}
			pre = append(pre, line)
			continue
		case bytes.EqualFold(verb, []byte("-ERR")):
			return nil, nil, nil, false, errors.New(string(bytes.TrimSpace(line)))
		default:
			_, _ = nc.Write(protocol.AppendErr(nil, errTextUnknownProtocol))
			return nil, nil, nil, false, fmt.Errorf("%w before INFO: %q", protocol.ErrUnknownOp, bytes.TrimSpace(line))
		}
		break
	}
	cm, err := SelectCompression(c.opts().Compression.Mode, info.Compression)
	if err != nil {
		_, _ = nc.Write(protocol.AppendErr(nil, err.Error()))
		return nil, nil, nil, false, err
	}
	if cm == CompressionS2Auto {
		cm = AutoLevel(time.Since(start), c.opts().Compression.RTTThresholds)
	}
	compress := cm != CompressionOff && cm != CompressionNotSupported && cm != CompressionAccept
	if !compress {
		if info.Compression == "" {
			cm = CompressionNotSupported
		}
		r.compression = cm
		r.delayedInfo = r.solicited
		return nc, br, append(pre, infoLine), false, nil
	}
	r.compression = cm
	if r.solicited {
		r.delayedInfo = true
		if _, err := nc.Write(c.infoProto(nil, cm)); err != nil {
			return nil, nil, nil, false, err
		}
	}
	cc := NewCompressedConnReader(nc, br, cm)
	r.cconn = cc
	return cc, cc, pre, !r.solicited, nil
}

// readLine reads one line (with its line end), copied.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		part, err := br.ReadSlice('\n')
		line = append(line, part...)
		if len(line) > maxPreInfoLine {
			return nil, errors.New("line too long before INFO")
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return line, err
	}
}

// handshake runs the TLS handshake of a route, as a client when we dialed
// (u set); the peer's certificate is verified both ways by the config.
func (c *Cluster) handshake(nc net.Conn, u *url.URL) (net.Conn, bool) {
	var tc *tls.Conn
	if u != nil {
		cfg := c.opts().TLSConfig.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		tc = tls.Client(nc, cfg)
	} else {
		tc = tls.Server(nc, c.opts().TLSConfig)
	}
	ctx, cancel := context.WithTimeout(c.g.Context(), c.opts().TLSTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		c.log.Error(nc.RemoteAddr().String() + " - TLS route handshake error: " + err.Error())
		return nil, false
	}
	c.log.Debug(nc.RemoteAddr().String() + " - TLS handshake complete")
	return tc, true
}

// infoProto renders our INFO; with remote set, the remote's INFO is
// rendered instead (gossip).
func (c *Cluster) infoProto(remote *routeInfo, compression string) []byte {
	return c.infoProtoIdx(remote, compression, 0, "")
}

func (c *Cluster) infoProtoIdx(remote *routeInfo, compression string, poolIdx int, account string) []byte {
	var info routeInfo
	if remote != nil {
		info = *remote
	} else {
		c.mu.Lock()
		info = c.info
		info.Cluster, info.Dynamic = c.name, c.dynamic
		c.mu.Unlock()
		if !c.opts().NoAdvertise {
			info.ConnectURLs = c.s.ClientConnectURLs()
		}
		info.LeafNodeURLs = leafurls.Local(c.s)
		info.GatewayURL = gwurls.Local(c.s)
		info.PoolSize, info.PoolIdx, info.RouteAccount = c.pool().size, poolIdx, account
		info.Compression = compression
		if compression == CompressionNotSupported {
			info.Compression = c.opts().Compression.Mode
		}
	}
	b, _ := json.Marshal(&info)
	return protocol.AppendInfo(nil, b)
}

func (r *route) connectProto() []byte {
	c := r.cl
	ci := connectInfo{Echo: true, TLS: c.opts().TLSConfig != nil, Headers: c.info.Headers, Name: c.id}
	if r.url != nil && r.url.User != nil {
		ci.User = r.url.User.Username()
		ci.Pass, _ = r.url.User.Password()
	}
	c.mu.Lock()
	ci.Cluster, ci.Dynamic = c.name, c.dynamic
	c.mu.Unlock()
	b, _ := json.Marshal(&ci)
	return protocol.AppendConnect(nil, b)
}

func (r *route) sendErr(text string) {
	_ = r.link.Write(protocol.AppendErr(nil, text))
}

func (r *route) close(reason server.LinkCloseReason) { r.link.Close(reason) }

// tracing reports whether the route's protocol is traced (-V), as its
// link says: a reload changes it for the routes up.
func (r *route) tracing() bool { return r.link != nil && r.link.Tracing() }

func (r *route) traceOut(proto []byte) {
	if r.tracing() {
		r.cl.log.Log(context.Background(), server.LevelTrace, r.prefix+" - ->> ["+string(bytes.TrimRight(proto, "\r\n"))+"]")
	}
}

// traceIn logs an operation received, as upstream's -V does: the control
// line without the payload.
func (r *route) traceIn(f *protocol.Frame) {
	line := f.Op.String()
	add := func(b []byte) {
		if len(b) > 0 {
			line += " " + string(b)
		}
	}
	switch f.Op {
	case protocol.OpLMsg, protocol.OpLSub, protocol.OpLUnsub:
		add(f.Origin)
	}
	switch f.Op {
	case protocol.OpRMsg, protocol.OpHMsg, protocol.OpLMsg:
		add(f.Account)
		add(f.Subject)
		switch {
		case len(f.Queues) > 0 && len(f.Reply) > 0:
			line += " +"
			add(f.Reply)
		case len(f.Queues) > 0:
			line += " |"
		default:
			add(f.Reply)
		}
		for _, q := range f.Queues {
			add(q)
		}
		if f.HeaderLen >= 0 {
			line += " " + strconv.Itoa(f.HeaderLen)
		}
		line += " " + strconv.Itoa(len(f.Payload))
	case protocol.OpRSub, protocol.OpRUnsub, protocol.OpLSub, protocol.OpLUnsub:
		add(f.Account)
		add(f.Subject)
		add(f.Queue)
		if (f.Op == protocol.OpRSub || f.Op == protocol.OpLSub) && len(f.Queue) > 0 {
			line += " " + strconv.Itoa(int(f.Weight))
		}
	case protocol.OpInfo:
		add(f.Arg)
	case protocol.OpErr:
		line += " '" + string(f.Arg) + "'"
	case protocol.OpConnect:
		line += " {...}" // may carry the route's password
	}
	r.cl.log.Log(context.Background(), server.LevelTrace, r.prefix+" - <<- ["+line+"]")
	if f.Op == protocol.OpRMsg || f.Op == protocol.OpHMsg || f.Op == protocol.OpLMsg {
		r.link.TracePayload(f.Payload)
	}
}

func (r *route) initParser() {
	r.parser.Role = protocol.RoleRoute
	r.parser.MaxPayload = -1 // as upstream, routed messages are not limited
	r.parser.MaxControlLine = int(r.cl.s.Options().MaxControlLine)
}

func (r *route) readLoop(rd io.Reader) {
	linknet.ReadLoop(rd, r.link, func(b []byte) error { return r.parser.Parse(b, r) }, r.parseError)
}

func (r *route) parseError(err error) {
	var re *routeError
	if errors.As(err, &re) {
		if re.text != "" {
			r.sendErr(re.text)
		}
		r.close(re.reason)
		return
	}
	if r.link.Closed() {
		return
	}
	r.cl.log.Error(r.prefix + " - Route Error: " + err.Error())
	if text := protocol.ClientText(err); text != "" {
		r.sendErr(text)
	}
	r.close(server.LinkParseError)
}

// HandleFrame processes one operation from the peer, on the reader.
func (r *route) HandleFrame(f *protocol.Frame) error {
	c := r.cl
	if r.tracing() {
		r.traceIn(f)
	}
	if r.authPending {
		switch f.Op {
		case protocol.OpConnect, protocol.OpPing, protocol.OpPong:
		default:
			c.log.Error(r.prefix + " - authentication error")
			return &routeError{text: errTextAuthViolation, reason: server.LinkAuthViolation}
		}
	}
	switch f.Op {
	case protocol.OpRMsg:
		if !c.filters().imp.Allow(f.Subject) {
			return nil
		}
		subj, drop := c.unmapReply(f.Subject)
		if drop {
			return nil
		}
		if err := r.link.Deliver(f.Account, subj, f.Reply, f.Queues, -1, f.Payload); err != nil {
			c.log.Debug(fmt.Sprintf("%s - Unknown account %q for routed message on subject: %q", r.prefix, f.Account, f.Subject))
		}
	case protocol.OpHMsg:
		if !c.filters().imp.Allow(f.Subject) {
			return nil
		}
		subj, drop := c.unmapReply(f.Subject)
		if drop {
			return nil
		}
		if err := r.link.Deliver(f.Account, subj, f.Reply, f.Queues, f.HeaderLen, f.Payload); err != nil {
			c.log.Debug(fmt.Sprintf("%s - Unknown account %q for routed message on subject: %q", r.prefix, f.Account, f.Subject))
		}
	case protocol.OpRSub:
		if !c.filters().exp.Allow(f.Subject) {
			if c.log.Enabled(context.Background(), slog.LevelDebug) {
				c.log.Debug(fmt.Sprintf("%s - Can not export %q, ignoring remote subscription request", r.prefix, f.Subject))
			}
			return nil
		}
		if err := r.link.AddRemoteSub(f.Account, f.Subject, f.Queue, f.Weight); err != nil {
			if errors.Is(err, server.ErrUnknownAccount) {
				c.log.Error(fmt.Sprintf("%s - Unknown account %q for remote subject %q", r.prefix, f.Account, f.Subject))
			} else if !errors.Is(err, server.ErrLinkClosed) {
				c.log.Error(fmt.Sprintf("%s - Error adding remote subscription %q: %v", r.prefix, f.Subject, err))
			}
		}
	case protocol.OpRUnsub:
		r.link.RemoveRemoteSub(f.Account, f.Subject, f.Queue)
	case protocol.OpPing:
		_ = r.link.Write(pongProto)
	case protocol.OpPong:
		r.mu.Lock()
		r.pingsOut = 0
		var rtt time.Duration
		if !r.pingStart.IsZero() {
			rtt = time.Since(r.pingStart)
			r.pingStart = time.Time{}
		}
		r.mu.Unlock()
		if rtt > 0 {
			c.mu.Lock()
			r.rtt = rtt
			c.mu.Unlock()
			// s2_auto follows the round-trip time.
			if r.cconn != nil && c.opts().Compression.Mode == CompressionS2Auto {
				level := AutoLevel(rtt, c.opts().Compression.RTTThresholds)
				if level != r.cconn.Level() {
					_ = r.cconn.SetLevel(level)
					c.mu.Lock()
					r.compression = level
					c.mu.Unlock()
				}
			}
		}
	case protocol.OpConnect:
		return r.processConnect(f.Arg)
	case protocol.OpInfo:
		return r.processInfo(f.Arg)
	case protocol.OpErr:
		c.log.Error(r.prefix + " - Router Error '" + string(f.Arg) + "'")
		return &routeError{reason: server.LinkClientClosed}
	case protocol.OpLSub:
		// A leaf node's interest the peer holds, with its origin cluster.
		if !c.filters().exp.Allow(f.Subject) {
			return nil
		}
		add := r.link.AddRemoteSubFrom
		if r.lnocu.Load() {
			// Kept apart from other clusters' interest in the same
			// subject and queue: the peer's LS- names the origin.
			add = r.link.AddRemoteSubByOrigin
		}
		if err := add(f.Origin, f.Account, f.Subject, f.Queue, f.Weight); err != nil {
			if errors.Is(err, server.ErrUnknownAccount) {
				c.log.Error(fmt.Sprintf("%s - Unknown account %q for remote subject %q", r.prefix, f.Account, f.Subject))
			} else if !errors.Is(err, server.ErrLinkClosed) {
				c.log.Error(fmt.Sprintf("%s - Error adding remote subscription %q: %v", r.prefix, f.Subject, err))
			}
		}
	case protocol.OpLUnsub:
		if r.lnocu.Load() {
			r.link.RemoveRemoteSubByOrigin(f.Origin, f.Account, f.Subject, f.Queue)
		} else {
			r.link.RemoveRemoteSubFrom(f.Account, f.Subject, f.Queue)
		}
	case protocol.OpLMsg:
		// A leaf node's message: it does not go back to that cluster.
		if !c.filters().imp.Allow(f.Subject) {
			return nil
		}
		hdr := f.HeaderLen
		if hdr <= 0 {
			hdr = -1
		}
		if err := r.link.DeliverFrom(f.Origin, f.Account, f.Subject, f.Reply, f.Queues, hdr, f.Payload); err != nil {
			c.log.Debug(fmt.Sprintf("%s - Unknown account %q for routed message on subject: %q", r.prefix, f.Account, f.Subject))
		}
	case protocol.OpOK, protocol.OpASub, protocol.OpAUnsub:
		// Gateway interest is not ours to handle.
	}
	return nil
}

var (
	pingProto = protocol.AppendPing(nil)
	pongProto = protocol.AppendPong(nil)
)

func (r *route) pingTick() {
	c := r.cl
	r.mu.Lock()
	if r.link.Closed() {
		r.mu.Unlock()
		return
	}
	o := c.opts()
	if r.pingsOut+1 > o.MaxPingsOut {
		r.mu.Unlock()
		c.log.Debug(r.prefix + " - Stale Client Connection - Closing")
		r.sendErr(errTextStale)
		r.close(server.LinkStaleConnection)
		return
	}
	r.pingsOut++
	r.pingStart = time.Now()
	r.pingTimer.Reset(o.PingInterval)
	r.mu.Unlock()
	_ = r.link.Write(pingProto)
}

// sameSecret compares credentials in constant time (hashed first, so not
// even their length leaks through timing).
func sameSecret(given, configured string) bool {
	a, b := sha256.Sum256([]byte(given)), sha256.Sum256([]byte(configured))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// credentialsOK checks a route CONNECT's user and password against the
// cluster's authorization: the user in constant time, the password plain
// or as a bcrypt hash, as upstream accepts for routes. A route checks them
// once (the CONNECT read during the compression negotiation is parsed
// again afterwards, and bcrypt is slow).
func (r *route) credentialsOK(ci *connectInfo) bool {
	r.mu.Lock()
	r.user, r.pass, r.connected = ci.User, ci.Pass, true
	r.mu.Unlock()
	o := r.cl.opts()
	if o.Username == "" || r.authOK {
		return true
	}
	r.authOK = authorized(o, ci.User, ci.Pass)
	return r.authOK
}

// authorized reports whether user and pass satisfy o's authorization.
// Both are computed, so a wrong user costs the same time as a wrong
// password.
func authorized(o *Options, user, pass string) bool {
	if o.Username == "" {
		return true
	}
	userOK := sameSecret(user, o.Username)
	passOK := server.PasswordMatches(pass, o.Password)
	return userOK && passOK
}

// checkConnect validates a route CONNECT: not a client, not a gateway,
// the credentials of the cluster's authorization, a cluster name we
// accept (or adopt).
func (r *route) checkConnect(arg []byte) *routeError {
	c := r.cl
	prefix := r.prefix
	if prefix == "" {
		prefix = net.JoinHostPort(r.host, strconv.Itoa(r.port))
	}
	var ci connectInfo
	if err := json.Unmarshal(arg, &ci); err != nil {
		c.log.Error(prefix + " - Error parsing route CONNECT: " + err.Error())
		return &routeError{text: errTextUnknownProtocol, reason: server.LinkProtocolViolation}
	}
	if ci.Lang != "" {
		c.log.Error(prefix + " - " + errTextRoutePort)
		return &routeError{text: errTextRoutePort, reason: server.LinkProtocolViolation}
	}
	if ci.Gateway != "" {
		text := fmt.Sprintf("Rejecting connection from gateway %q on the Route port", ci.Gateway)
		c.log.Error(prefix + " - " + text)
		return &routeError{text: text, reason: server.LinkProtocolViolation}
	}
	if !r.credentialsOK(&ci) {
		c.log.Error(prefix + " - authentication error")
		return &routeError{text: errTextAuthViolation, reason: server.LinkAuthViolation}
	}
	if err := c.checkName(r, ci.Cluster, ci.Dynamic, ci.Name, true); err != nil {
		var re *routeError
		errors.As(err, &re)
		return re
	}
	return nil
}

func (r *route) processConnect(arg []byte) error {
	c := r.cl
	if re := r.checkConnect(arg); re != nil {
		return re
	}
	var ci connectInfo
	_ = json.Unmarshal(arg, &ci) // checked above
	r.authPending = false
	r.connectSeen = true
	r.mu.Lock()
	if r.authTimer != nil {
		r.authTimer.Stop()
		r.authTimer = nil
	}
	r.mu.Unlock()
	r.link.SetHeaders(ci.Headers && c.info.Headers)
	c.mu.Lock()
	if r.remoteID == "" {
		r.remoteID = ci.Name
	}
	c.mu.Unlock()
	return nil
}

// checkName compares the peer's cluster name with ours: a server without
// a configured name adopts a configured one, or the greater of two
// generated ones, and drops its other routes; otherwise the route is
// refused.
func (c *Cluster) checkName(r *route, theirs string, theirDynamic bool, remoteID string, fromConnect bool) error {
	c.mu.Lock()
	ours := c.name
	// Equal names, or a peer with a generated name that will adopt ours
	// when it sees our CONNECT or INFO.
	if theirs == "" || theirs == ours || (theirDynamic && (!c.dynamic || strings.Compare(theirs, ours) < 0)) {
		c.mu.Unlock()
		return nil
	}
	if c.dynamic && (!theirDynamic || strings.Compare(ours, theirs) < 0) {
		c.name, c.dynamic = theirs, theirDynamic
		var others []*route
		for x := range c.all {
			if x != r && x.remoteID != remoteID {
				others = append(others, x)
			}
		}
		c.mu.Unlock()
		c.s.SetClusterName(theirs)
		c.log.Info("Cluster name updated to " + theirs)
		for _, x := range others {
			x.close(ReasonClusterNameConflict)
		}
		return nil
	}
	c.mu.Unlock()
	text := fmt.Sprintf("Rejecting connection, cluster name %q does not match %q", theirs, ours)
	prefix := r.prefix
	if prefix == "" {
		prefix = net.JoinHostPort(r.host, strconv.Itoa(r.port))
	}
	c.log.Error(prefix + " - " + text)
	if fromConnect {
		return &routeError{text: text, reason: ReasonClusterNameConflict}
	}
	return &routeError{reason: ReasonClusterNameConflict}
}

func (r *route) processInfo(arg []byte) error {
	c := r.cl
	var info routeInfo
	if err := json.Unmarshal(arg, &info); err != nil {
		c.log.Error(r.prefix + " - Error parsing route INFO: " + err.Error())
		return &routeError{text: errTextUnknownProtocol, reason: server.LinkProtocolViolation}
	}
	c.mu.Lock()
	if r.infoReceived && info.Gateway != "" {
		// A remote cluster the peer learned: the gateway dials it.
		id := r.remoteID
		c.mu.Unlock()
		if info.GatewayCmd != gatewayCmdGossip {
			c.log.Error(fmt.Sprintf("Unknown command %d from server %v", info.GatewayCmd, id))
			return nil
		}
		gwurls.Learned(c.s, info.Gateway, info.GatewayURLs)
		return nil
	}
	if r.infoReceived {
		id := r.remoteID
		if info.ID != id {
			c.mu.Unlock()
			c.implicitRoute(&info)
			return nil
		}
		if info.LameDuck {
			r.connectURLs, r.leafURLs = nil, nil
		} else {
			if info.ConnectURLs != nil {
				r.connectURLs = info.ConnectURLs
			}
			if info.LeafNodeURLs != nil {
				r.leafURLs = info.LeafNodeURLs
			}
			if info.GatewayURL != "" {
				r.gwURL = info.GatewayURL
			}
		}
		registered := r.registered
		c.mu.Unlock()
		if registered {
			c.updateConnectURLs()
		}
		return nil
	}
	if info.ID == c.id {
		r.self = true
		r.remoteID = info.ID
		if r.url != nil {
			c.self[strings.ToLower(r.url.Host)] = true
		}
		c.mu.Unlock()
		if r.url != nil {
			c.log.Debug(fmt.Sprintf("Detected route to self, ignoring %q", r.url.Redacted()))
		}
		return &routeError{reason: ReasonDuplicateRoute}
	}
	c.mu.Unlock()
	if err := c.checkName(r, info.Cluster, info.Dynamic, info.ID, false); err != nil {
		return err
	}
	r.link.SetHeaders(info.Headers && c.info.Headers)
	if info.IP == "" {
		info.IP = "nats-route://" + net.JoinHostPort(r.host, strconv.Itoa(info.Port)) + "/"
	}
	info.Nonce = ""

	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return &routeError{reason: server.LinkServerShutdown}
	}
	r.infoReceived = true
	r.lnocu.Store(info.LeafOriginUnsub)
	r.parser.LeafUnsubOrigin = info.LeafOriginUnsub
	r.remoteID, r.remoteName = info.ID, info.Name
	r.link.SetRemoteName(info.Name)
	r.connectURLs = info.ConnectURLs
	r.leafURLs = info.LeafNodeURLs
	r.gwURL = info.GatewayURL
	r.routeURL = info.IP
	if !r.solicited && info.RouteAccount != "" {
		if !c.pool().pinned[info.RouteAccount] {
			c.mu.Unlock()
			text := fmt.Sprintf("No route for account %q", info.RouteAccount)
			c.log.Error(r.prefix + " - " + text)
			return &routeError{text: text, reason: server.LinkProtocolViolation}
		}
		r.account = info.RouteAccount
		r.parser.PinnedAccount = []byte(r.account)
		r.link.SetPinnedAccount(true)
	}
	if r.account != "" {
		return c.registerPinned(r, &info)
	}
	noPool := c.pool().size == 0 || info.PoolSize == 0
	if !noPool && info.PoolSize != c.pool().size {
		c.mu.Unlock()
		text := fmt.Sprintf("Mismatch route pool size: %v vs %v", c.pool().size, info.PoolSize)
		c.log.Error(r.prefix + " - " + text)
		return &routeError{text: text, reason: server.LinkProtocolViolation}
	}
	p := c.routes[info.ID]
	if p == nil || p.noPool != noPool {
		n := c.pool().size
		if noPool {
			n = 1
		}
		p = &peer{conns: make([]*route, n), noPool: noPool}
		if old := c.routes[info.ID]; old != nil {
			// The peer changed its pooling: its old connections go.
			defer func(old *peer) {
				for _, x := range old.conns {
					if x != nil {
						x.close(ReasonDuplicateRoute)
					}
				}
			}(old)
		}
		c.routes[info.ID] = p
	}
	idx := 0
	switch {
	case noPool:
	case r.solicited:
		idx = -1
		for i, x := range p.conns {
			if x == nil {
				idx = i
				break
			}
		}
		if idx < 0 {
			c.mu.Unlock()
			c.log.Debug(fmt.Sprintf("%s - Route pool size reached, closing extra connection to %q", r.prefix, info.ID))
			return &routeError{reason: ReasonDuplicateRoute}
		}
	default:
		idx = info.PoolIdx
		if idx < 0 || idx >= len(p.conns) {
			c.mu.Unlock()
			text := fmt.Sprintf("Invalid route pool index: %v - pool size is %v", info.PoolIdx, info.PoolSize)
			c.log.Error(r.prefix + " - " + text)
			return &routeError{text: text, reason: server.LinkProtocolViolation}
		}
	}
	existing := p.conns[idx]
	var drop *route
	if existing != nil {
		if keepExisting(c.id, existing, r) {
			// Let the kept route redial our URL if it goes away.
			if r.url != nil && existing.reconnectURL == nil {
				existing.reconnectURL, existing.reconnectExplicit = r.url, r.explicit
			}
			c.mu.Unlock()
			c.log.Debug(fmt.Sprintf("%s - Detected duplicate remote route %q", r.prefix, info.ID))
			return &routeError{reason: ReasonDuplicateRoute}
		}
		drop = existing
		existing.registered = false
		if existing.url != nil && r.reconnectURL == nil {
			r.reconnectURL, r.reconnectExplicit = existing.url, existing.explicit
		}
	}
	p.conns[idx] = r
	r.registered = true
	r.poolIdx, r.noPool = idx, noPool
	count := 0
	for _, x := range p.conns {
		if x != nil {
			count++
		}
	}
	first := count == 1 && drop == nil
	// The dialer of a server's first connection dials the rest of the pool
	// at once: an account whose slot is not connected yet has no route.
	more := 0
	if first && !noPool && r.solicited {
		more = len(p.conns) - count
	}
	var others []*route
	for id, x := range c.routes {
		if id != info.ID {
			if f := x.any(); f != nil {
				others = append(others, f)
			}
		}
	}
	gossip := !(r.solicited && !r.explicit) && info.GossipMode != 1
	c.mu.Unlock()
	if drop != nil {
		c.log.Debug(fmt.Sprintf("%s - Detected duplicate remote route %q", drop.prefix, info.ID))
		drop.close(ReasonDuplicateRoute)
	}
	c.log.Debug(fmt.Sprintf("%s - Registering remote route %q", r.prefix, info.ID))
	if r.delayedInfo {
		r.delayedInfo = false
		_ = r.link.Write(c.routeInfoProto(r))
	}
	c.sendAllInterest(r)
	c.log.Debug(r.prefix + " - Sent local subscriptions to route")
	if !first {
		return nil
	}
	c.sendKnownGateways(r)
	if gossip && len(others) > 0 {
		fwd := info
		fwd.PoolIdx, fwd.Compression, fwd.RouteAccount = 0, "", ""
		proto := c.infoProto(&fwd, "")
		for _, x := range others {
			_ = x.link.Write(proto)
		}
	}
	c.updateConnectURLs()
	for range more {
		c.dialPool(r.url, r.explicit, "")
	}
	// The dialer of a peer's first connection also dials its pinned
	// accounts' routes.
	if r.solicited && !noPool {
		for a := range c.pool().pinned {
			c.dialPool(r.url, r.explicit, a)
		}
	}
	return nil
}

// registerPinned registers r, a route dedicated to one account; c.mu is
// held on entry and released.
func (c *Cluster) registerPinned(r *route, info *routeInfo) error {
	p := c.routes[info.ID]
	if p == nil {
		p = &peer{conns: make([]*route, max(c.pool().size, 1)), noPool: c.pool().size == 0}
		c.routes[info.ID] = p
	}
	if p.pinned == nil {
		p.pinned = make(map[string]*route)
	}
	var drop *route
	if existing := p.pinned[r.account]; existing != nil {
		if keepExisting(c.id, existing, r) {
			if r.url != nil && existing.reconnectURL == nil {
				existing.reconnectURL, existing.reconnectExplicit = r.url, r.explicit
			}
			c.mu.Unlock()
			c.log.Debug(fmt.Sprintf("%s - Detected duplicate remote route %q for account %q", r.prefix, info.ID, r.account))
			return &routeError{reason: ReasonDuplicateRoute}
		}
		drop = existing
		existing.registered = false
		if existing.url != nil && r.reconnectURL == nil {
			r.reconnectURL, r.reconnectExplicit = existing.url, existing.explicit
		}
	}
	p.pinned[r.account] = r
	r.registered = true
	r.poolIdx = -1
	c.mu.Unlock()
	if drop != nil {
		drop.close(ReasonDuplicateRoute)
	}
	c.log.Debug(fmt.Sprintf("%s - Registering remote route %q for account %q", r.prefix, info.ID, r.account))
	if r.delayedInfo {
		r.delayedInfo = false
		_ = r.link.Write(c.routeInfoProto(r))
	}
	c.sendAllInterest(r)
	c.log.Debug(r.prefix + " - Sent local subscriptions to route")
	return nil
}

// routeInfoProto is our INFO for r, with its pool slot.
func (c *Cluster) routeInfoProto(r *route) []byte {
	c.mu.Lock()
	idx := max(r.poolIdx, 0)
	c.mu.Unlock()
	return c.infoProtoIdx(nil, r.compression, idx, r.account)
}

// dialPool dials one more pool connection (or the route of a pinned
// account) to u, with a few quick retries.
func (c *Cluster) dialPool(u *url.URL, explicit bool, account string) {
	if u == nil {
		return
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.g.Go(func() {
		for attempt := 1; ; attempt++ {
			nc, err := c.g.Dial(c.dialer, u.Host)
			if err == nil {
				c.createRoute(nc, u, explicit, account)
				return
			}
			c.log.Debug(fmt.Sprintf("Error trying to connect to route pool connection (attempt %d): %v", attempt, err))
			if attempt == 3 || !c.g.Sleep(100*time.Millisecond) {
				return
			}
		}
	})
	c.mu.Unlock()
}

// keepExisting decides which of two connections to the same server
// stays, so that both servers decide alike: the one dialed by the server
// with the smaller ID (the existing one when both were dialed by the same
// server).
func keepExisting(ourID string, existing, r *route) bool {
	dialer := func(x *route) string {
		if x.solicited {
			return ourID
		}
		return x.remoteID
	}
	de, dr := dialer(existing), dialer(r)
	if de == dr {
		return true
	}
	return de < dr
}

// implicitRoute connects to a server a peer told us about, unless we
// have a route to it, it is configured, or it is us.
func (c *Cluster) implicitRoute(info *routeInfo) {
	// Dedicated account routes follow the first route to a server.
	if info.ID == c.id || info.RouteAccount != "" {
		return
	}
	c.mu.Lock()
	known := c.routes[info.ID] != nil
	c.mu.Unlock()
	if known || c.isConfigured(info.Host, info.Port, info.IP) {
		return
	}
	raw := info.IP
	if raw == "" {
		raw = "nats-route://" + net.JoinHostPort(info.Host, strconv.Itoa(info.Port)) + "/"
	}
	u, err := url.Parse(raw)
	if err != nil {
		c.log.Error("Error parsing URL from INFO: " + err.Error())
		return
	}
	if info.AuthRequired {
		u.User = url.UserPassword(c.opts().Username, c.opts().Password)
	}
	c.solicit(u, false)
}

// onClose runs once when the route's link closed.
func (r *route) onClose(reason server.LinkCloseReason) {
	c := r.cl
	r.mu.Lock()
	if r.pingTimer != nil {
		r.pingTimer.Stop()
	}
	if r.authTimer != nil {
		r.authTimer.Stop()
	}
	r.mu.Unlock()
	c.imu.Lock()
	delete(c.ready, r)
	c.imu.Unlock()
	c.mu.Lock()
	delete(c.all, r)
	registered := false // the peer's last connection went
	if p := c.routes[r.remoteID]; r.registered && p != nil {
		switch {
		case r.account != "" && p.pinned[r.account] == r:
			delete(p.pinned, r.account)
		case r.account == "" && r.poolIdx >= 0 && r.poolIdx < len(p.conns) && p.conns[r.poolIdx] == r:
			p.conns[r.poolIdx] = nil
		}
		if p.any() == nil {
			delete(c.routes, r.remoteID)
			registered = true
		}
	}
	r.registered = false
	u, explicit := r.reconnectURL, r.reconnectExplicit
	if r.self || reason == ReasonDuplicateRoute || reason == server.LinkServerShutdown {
		u = nil
	}
	closing := c.closed
	c.mu.Unlock()
	c.log.Info(r.prefix + " - Router connection closed: " + reasonText(reason))
	// Clients keep the cluster's URLs while this server shuts down: they
	// need them to fail over.
	if registered && !closing {
		c.updateConnectURLs()
	}
	if u != nil {
		c.reconnect(u, explicit, r.account)
	}
}

// reconnect dials u again after a short random delay (plus the connect
// delay for an explicit route); a gossiped route only when ConnectRetries
// allows retries.
func (c *Cluster) reconnect(u *url.URL, explicit bool, account string) {
	if !explicit && c.opts().ConnectRetries <= 0 {
		return
	}
	delay := time.Duration(rand.IntN(100)) * time.Millisecond
	if explicit {
		delay += routeConnectDelay
	}
	hp := dialKey(u, account)
	c.mu.Lock()
	if c.closed || c.connecting[hp] || c.self[strings.ToLower(u.Host)] || !c.stillConfigured(u, explicit) {
		c.mu.Unlock()
		return
	}
	c.connecting[hp] = true
	c.g.Go(func() { c.connectLoop(u, explicit, account, delay) })
	c.mu.Unlock()
}
