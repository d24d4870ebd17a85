package gateway

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/cluster/internal/linknet"
	"natsd.dev/protocol"
	"natsd.dev/server"
	"natsd.dev/sublist"
)

// The gateway kind's own close reasons (server.LinkKindReason up), with
// upstream's texts.
const (
	// ReasonWrongGateway closes a connection to or from a cluster that
	// is not the one expected, or that reject_unknown_cluster refuses.
	ReasonWrongGateway = server.LinkKindReason + iota
	// ReasonDuplicateGateway closes a second outbound connection to a
	// cluster.
	ReasonDuplicateGateway
)

var gwReasons = []string{
	ReasonWrongGateway - server.LinkKindReason:     "Wrong Gateway",
	ReasonDuplicateGateway - server.LinkKindReason: "Duplicate Gateway",
}

// Texts sent in -ERR on gateways, upstream's.
const (
	errTextAuthViolation = "Authorization Violation"
	errTextAuthTimeout   = "Authentication Timeout"
	errTextStale         = "Stale Connection"
)

var (
	pingProto = []byte("PING\r\n")
	pongProto = []byte("PONG\r\n")
)

// gwError makes the reader close the connection, after -ERR text if set.
type gwError struct {
	text   string
	reason server.LinkCloseReason
}

func (e *gwError) Error() string { return "gateway: " + e.text }

// conn is one gateway connection. The reader goroutine owns the parser
// and the handshake flags.
type conn struct {
	gw       *Gateway
	link     *server.Link
	prefix   string
	outbound bool
	r        *remote // outbound: the remote dialed
	user     string  // outbound: credentials for CONNECT
	pass     string
	tls      bool
	addr     string // the remote address, host:port

	// remoteIOM (outbound): the remote's INFO said gateway_iom, every
	// account is interest-only from the start. Set before registration.
	remoteIOM bool
	// grSub (outbound) is "_GR_.<remote hash>.>", the interest it holds
	// in every account. Set before registration.
	grSub []byte
	// grSubs counts the accounts holding grSub, interest of this
	// server's own that the statistics leave out.
	grSubs atomic.Int32

	// reader-owned
	parser    protocol.Parser
	infoSeen  bool
	connected bool // inbound: CONNECT read and accepted

	// set at registration (under Gateway.mu)
	remoteName string
	remoteID   string
	url        string // the remote's gateway URL
	registered bool

	mu        sync.Mutex // timers and pings
	pingTimer *time.Timer
	authTimer *time.Timer
	pingsOut  int

	// outbound: the remote's "no interest", per account.
	niMu sync.Mutex
	ni   map[string]*noInterest
	// subMu serializes the link's filter-then-register sequences (the
	// filter is the link's state when AddRemoteSub runs): the reader's
	// and those of accounts that appear later.
	subMu sync.Mutex

	// inbound: what this server told the remote it has no interest in.
	sentMu  sync.Mutex
	sentNI  map[string]map[string]struct{}
	sentANI map[string]bool
	// sentIOM: the accounts switched to interest-only mode with the
	// remote (no RS- is sent for them any more).
	sentIOM map[string]bool

	// iom (guarded by Gateway.imu) are the accounts whose plain interest
	// this inbound connection announces (interest-only mode).
	iom map[string]bool
}

// noInterest is an outbound connection's record of an account's subjects
// the remote said it has no interest in (RS-), or of the whole account
// (A-). It filters the optimistic interest of the account's messages.
type noInterest struct {
	mu   sync.RWMutex
	all  bool
	subs map[string]struct{}
	// mode is the account's interest mode (written by the reader under
	// mu, read by it without): modeOptimistic, modeTransitioning (the
	// remote is sending all its interest) or modeInterestOnly (only the
	// remote's interest gets messages).
	mode byte
	// isubs and qsubs are the remote's plain (once not optimistic) and
	// queue interest in the account, as /gatewayz counts it (under mu).
	isubs map[string]struct{}
	qsubs map[string]struct{}
	// full: the remote itself registered ">" (reader-owned).
	full bool
}

// Interest modes of an account on an outbound connection, upstream's.
const (
	modeOptimistic byte = iota
	modeTransitioning
	modeInterestOnly
)

// String names an interest mode as upstream's /gatewayz does.
func modeName(m byte) string {
	switch m {
	case modeTransitioning:
		return "Transitioning"
	case modeInterestOnly:
		return "Interest-Only"
	}
	return "Optimistic"
}

// Allow implements server.LinkFilter.
func (n *noInterest) Allow(subject []byte) bool {
	n.mu.RLock()
	_, no := n.subs[string(subject)]
	all := n.all
	n.mu.RUnlock()
	return !all && !no
}

// setMode sets the account's interest mode (the reader only).
func (n *noInterest) setMode(m byte) {
	n.mu.Lock()
	n.mode = m
	n.mu.Unlock()
}

// count adds key to (or removes it from) the interest set *m.
func (n *noInterest) count(m *map[string]struct{}, key string, add bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !add {
		delete(*m, key)
		return
	}
	if *m == nil {
		*m = make(map[string]struct{})
	}
	(*m)[key] = struct{}{}
}

// run runs one gateway connection on the calling goroutine until it
// closes: r is the remote dialed (nil for an accepted connection).
func (gw *Gateway) run(nc net.Conn, r *remote, u *url.URL) {
	if !gw.g.Track(nc) {
		return
	}
	fail := func() {
		gw.g.Untrack(nc)
		nc.Close()
		if r != nil {
			gw.redial(r)
		}
	}
	gw.mu.Lock()
	useTLS := gw.live().tls != nil || (r != nil && r.tls != nil)
	gw.mu.Unlock()
	if useTLS {
		tc, ok := gw.handshakeTLS(nc, r, u)
		if !ok {
			fail()
			return
		}
		gw.g.Untrack(nc)
		nc = tc
		if !gw.g.Track(nc) {
			return
		}
	}
	c := &conn{gw: gw, outbound: r != nil, r: r, tls: useTLS, addr: nc.RemoteAddr().String()}
	if r != nil {
		if u.User != nil {
			c.user = u.User.Username()
			c.pass, _ = u.User.Password()
		} else if r.implicit {
			c.user, c.pass = gw.o.Username, gw.o.Password
		}
		c.ni = make(map[string]*noInterest)
	} else {
		c.sentNI = make(map[string]map[string]struct{})
		c.sentANI = make(map[string]bool)
		c.sentIOM = make(map[string]bool)
		c.iom = make(map[string]bool)
	}
	gw.g.Untrack(nc)
	link, err := gw.s.NewLink(nc, server.LinkConfig{
		Kind:      server.ConnGateway,
		Encoder:   grEncoder{prefix: gw.grPrefix},
		Reasons:   gwReasons,
		OnClose:   c.onClose,
		QueueLast: true,

		WriteDeadline:       gw.o.WriteDeadline,
		CloseOnWriteTimeout: gw.o.WriteTimeout == "close",
	})
	if err != nil {
		if r != nil {
			gw.redial(r)
		}
		return
	}
	c.link = link
	c.prefix = link.LogPrefix()
	gw.mu.Lock()
	if gw.closed {
		gw.mu.Unlock()
		link.Close(server.LinkServerShutdown)
		return
	}
	gw.all[c] = struct{}{}
	gw.mu.Unlock()
	c.mu.Lock()
	if r == nil {
		gw.log.Info(c.prefix + " - Processing inbound gateway connection")
		_ = link.Write(gw.infoProto())
		c.authTimer = time.AfterFunc(gw.o.AuthTimeout, func() {
			gw.log.Error(c.prefix + " - " + errTextAuthTimeout)
			c.sendErr(errTextAuthTimeout)
			c.close(server.LinkAuthTimeout)
		})
	} else {
		// The remote's INFO must come within the auth timeout.
		c.authTimer = time.AfterFunc(gw.o.AuthTimeout, func() {
			gw.log.Error(c.prefix + " - Gateway INFO not received in time")
			c.close(server.LinkAuthTimeout)
		})
	}
	c.pingTimer = time.AfterFunc(min(gw.o.PingInterval, gwFirstPing), c.pingTick)
	c.mu.Unlock()
	c.parser.Role = protocol.RoleRoute
	c.parser.MaxPayload = -1
	c.parser.MaxControlLine = int(gw.s.Options().MaxControlLine)
	c.readLoop(nc)
}

// redial dials r again after a pause, unless Shutdown began or another
// dial is under way.
func (gw *Gateway) redial(r *remote) {
	gw.mu.Lock()
	if gw.closed || r.out != nil {
		r.dialing = false
		gw.mu.Unlock()
		return
	}
	if gw.remotes[r.name] != r {
		gw.mu.Unlock()
		return
	}
	r.dialing = true
	gw.mu.Unlock()
	gw.g.Go(func() {
		if !gw.g.Sleep(gw.connectDelay) {
			return
		}
		gw.solicit(r)
	})
}

func (c *conn) readLoop(nc net.Conn) {
	linknet.ReadLoop(nc, c.link, func(b []byte) error { return c.parser.Parse(b, c) }, c.parseError)
}

func (c *conn) parseError(err error) {
	var ge *gwError
	if errors.As(err, &ge) {
		if ge.text != "" {
			c.sendErr(ge.text)
		}
		c.close(ge.reason)
		return
	}
	if errors.Is(err, protocol.ErrUnknownOp) {
		c.sendErr(protocol.TextUnknownOp)
		c.close(server.LinkProtocolViolation)
		return
	}
	c.gw.log.Error(c.prefix + " - Gateway parser ERROR: " + err.Error())
	c.sendErr("Protocol Error")
	c.close(server.LinkParseError)
}

func (c *conn) sendErr(text string) { _ = c.link.Write(protocol.AppendErr(nil, text)) }

func (c *conn) close(reason server.LinkCloseReason) {
	if reason >= server.LinkKindReason {
		c.link.Flush()
	}
	c.link.Close(reason)
}

func (c *conn) stopTimers() {
	c.mu.Lock()
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	if c.authTimer != nil {
		c.authTimer.Stop()
	}
	c.mu.Unlock()
}

func (c *conn) pingTick() {
	c.mu.Lock()
	if c.link.Closed() {
		c.mu.Unlock()
		return
	}
	if c.pingsOut+1 > c.gw.o.MaxPingsOut {
		c.mu.Unlock()
		c.gw.log.Debug(c.prefix + " - Stale Client Connection - Closing")
		c.sendErr(errTextStale)
		c.close(server.LinkStaleConnection)
		return
	}
	c.pingsOut++
	c.pingTimer.Reset(c.gw.o.PingInterval)
	c.mu.Unlock()
	_ = c.link.Write(pingProto)
}

// onClose runs once when the link closed.
func (c *conn) onClose(reason server.LinkCloseReason) {
	c.stopTimers()
	gw := c.gw
	gw.log.Info(c.prefix + " - Gateway connection closed: " + c.link.ReasonText(reason))
	gw.imu.Lock()
	delete(gw.inbound, c)
	gw.imu.Unlock()
	gw.mu.Lock()
	delete(gw.all, c)
	r := c.r
	if r != nil && r.out == c {
		r.out = nil
	}
	closed := gw.closed
	gw.mu.Unlock()
	if r != nil && !closed && reason != ReasonDuplicateGateway {
		gw.redial(r)
	}
}

// HandleFrame implements protocol.Handler.
func (c *conn) HandleFrame(f *protocol.Frame) error {
	switch f.Op {
	case protocol.OpPing:
		return c.link.Write(pongProto)
	case protocol.OpPong:
		c.mu.Lock()
		c.pingsOut = 0
		c.mu.Unlock()
		return nil
	case protocol.OpErr:
		c.gw.log.Error(c.prefix + " - Gateway Error '" + string(f.Arg) + "'")
		return &gwError{reason: server.LinkClientClosed}
	case protocol.OpOK:
		return nil
	case protocol.OpInfo:
		return c.processInfo(f.Arg)
	case protocol.OpConnect:
		return c.processConnect(f.Arg)
	}
	if !c.ready() {
		return &gwError{text: errTextAuthViolation, reason: server.LinkAuthViolation}
	}
	switch f.Op {
	case protocol.OpRMsg, protocol.OpHMsg:
		return c.processMsg(f)
	case protocol.OpRSub:
		return c.processSub(f, true)
	case protocol.OpRUnsub:
		return c.processSub(f, false)
	case protocol.OpASub, protocol.OpAUnsub:
		c.accountInterest(string(f.Account), f.Op == protocol.OpASub)
		return nil
	}
	return &gwError{text: protocol.TextUnknownOp, reason: server.LinkProtocolViolation}
}

// ready reports whether the handshake got far enough for the protocol:
// the remote's INFO read (outbound), or CONNECT accepted (inbound).
func (c *conn) ready() bool {
	if c.outbound {
		return c.infoSeen
	}
	return c.connected
}

// processConnect checks an inbound connection's CONNECT.
func (c *conn) processConnect(arg []byte) error {
	gw := c.gw
	if c.outbound || c.connected {
		return &gwError{text: protocol.TextUnknownOp, reason: server.LinkProtocolViolation}
	}
	var ci connectInfo
	if err := json.Unmarshal(arg, &ci); err != nil {
		return &gwError{text: "Protocol Error", reason: server.LinkProtocolViolation}
	}
	c.mu.Lock()
	if c.authTimer != nil {
		c.authTimer.Stop()
	}
	c.mu.Unlock()
	if gw.o.Username != "" {
		if subtle.ConstantTimeCompare([]byte(ci.User), []byte(gw.o.Username)) != 1 ||
			subtle.ConstantTimeCompare([]byte(ci.Pass), []byte(gw.o.Password)) != 1 {
			gw.log.Error(c.prefix + " - " + errTextAuthViolation)
			return &gwError{text: errTextAuthViolation, reason: server.LinkAuthViolation}
		}
	}
	if ci.Gateway == "" {
		gw.log.Error(c.prefix + " - Gateway connect protocol missing 'gateway' field")
		return &gwError{text: "Protocol Error", reason: server.LinkProtocolViolation}
	}
	if ci.Gateway == gw.o.Name {
		return &gwError{reason: ReasonWrongGateway}
	}
	if gw.live().rejectUnknown && !gw.configured(ci.Gateway) {
		gw.log.Error(c.prefix + fmt.Sprintf(" - Rejecting connection from gateway %q", ci.Gateway))
		return &gwError{reason: ReasonWrongGateway}
	}
	c.connected = true
	c.remoteName = ci.Gateway
	c.remoteID = ci.Name
	c.link.SetRemoteName(ci.Name)
	return nil
}

// configured reports whether name is one of the configured gateways.
func (gw *Gateway) configured(name string) bool {
	for _, rg := range gw.live().gateways {
		if rg.Name == name {
			return true
		}
	}
	return false
}

// processInfo handles an INFO: the first registers the connection; on an
// outbound connection later ones may gossip other clusters.
func (c *conn) processInfo(arg []byte) error {
	gw := c.gw
	var info gwInfo
	if err := json.Unmarshal(arg, &info); err != nil {
		return &gwError{text: "Protocol Error", reason: server.LinkProtocolViolation}
	}
	if c.infoSeen {
		if !c.outbound {
			return nil
		}
		switch info.GatewayCmd {
		case gatewayCmdGossip:
			if urls := remoteURLs(&info); gw.addRemote(info.Gateway, urls, true, nil) {
				gw.announce(info.Gateway, urls)
			}
		case 0:
			// The remote's cluster grew: its gateway_urls changed.
			gw.addRemote(c.r.name, remoteURLs(&info), true, nil)
		case gatewayCmdAllSubsStart, gatewayCmdAllSubsComplete:
			return c.switchMode(&info)
		}
		return nil
	}
	if c.outbound {
		c.mu.Lock()
		if c.authTimer != nil {
			c.authTimer.Stop()
		}
		c.mu.Unlock()
		if info.Gateway != c.r.name {
			gw.log.Error(c.prefix + fmt.Sprintf(" - Connection to %q rejected, wanted %q", info.Gateway, c.r.name))
			return &gwError{
				text:   fmt.Sprintf("Connection from %q rejected, wanted to connect to %q, this is %q", gw.o.Name, c.r.name, info.Gateway),
				reason: ReasonWrongGateway,
			}
		}
		c.infoSeen = true
		return c.registerOutbound(&info)
	}
	if !c.connected {
		return &gwError{text: errTextAuthViolation, reason: server.LinkAuthViolation}
	}
	c.infoSeen = true
	c.link.SetRemoteName(remoteServerName(&info))
	c.registerInbound(&info)
	return nil
}

// remoteServerName is the name message trace events give the server
// behind a gateway connection: its server name, as upstream's, else its
// id.
func remoteServerName(info *gwInfo) string {
	if info.Name != "" {
		return info.Name
	}
	return info.ID
}

// registerOutbound sends CONNECT and our INFO and makes c the outbound
// connection to its remote, with optimistic interest in every account.
func (c *conn) registerOutbound(info *gwInfo) error {
	gw := c.gw
	ci := connectInfo{User: c.user, Pass: c.pass, TLS: c.tls, Name: gw.s.ID(), Gateway: gw.o.Name}
	b, _ := json.Marshal(&ci)
	_ = c.link.Write(protocol.AppendConnect(nil, b))
	_ = c.link.Write(gw.infoProto())
	// Optimistic mode: every account's messages go to the remote until
	// it says it has no interest. Set up before the connection is
	// registered, so a registered connection carries messages.
	c.link.SetHeaders(info.Headers)
	c.remoteIOM = info.GatewayIOM
	c.grSub = grInterest(info.Gateway)
	for _, acc := range gw.s.AccountNames() {
		c.optimistic(acc)
	}
	gw.mu.Lock()
	r := c.r
	if r.out != nil || gw.closed {
		gw.mu.Unlock()
		return &gwError{reason: ReasonDuplicateGateway}
	}
	r.out = c
	r.dialing = false
	c.registered = true
	c.remoteName, c.remoteID = info.Gateway, info.ID
	c.url = info.GatewayURL
	gw.mu.Unlock()
	c.link.SetRemoteName(remoteServerName(info))
	gw.log.Info(c.prefix + fmt.Sprintf(" - Outbound gateway connection to %q (%s) registered", info.Gateway, info.ID))
	// The cluster's other servers, as the remote lists them.
	gw.addRemote(info.Gateway, remoteURLs(info), true, nil)
	// The clusters connected to this server learn of this one.
	gw.gossipToInbound(info.Gateway)
	return nil
}

// optimistic registers ">" in account for the remote, filtered by the
// account's no-interest record; with a remote that said gateway_iom the
// account is interest-only instead: only the interest the remote sends
// gets its messages.
// It does nothing for an account that has a record already.
func (c *conn) optimistic(account string) {
	c.niMu.Lock()
	n := c.ni[account]
	if n != nil {
		c.niMu.Unlock()
		return
	}
	n = &noInterest{subs: make(map[string]struct{})}
	if c.remoteIOM {
		n.mode = modeInterestOnly
	}
	c.ni[account] = n
	c.niMu.Unlock()
	// Replies mapped by the remote's servers go to it whatever the mode.
	if c.addRemoteSub([]byte(account), c.grSub, nil, 1) == nil {
		c.grSubs.Add(1)
	}
	if c.remoteIOM {
		return
	}
	c.subMu.Lock()
	c.link.SetFilter(n)
	_ = c.link.AddRemoteSub([]byte(account), []byte(">"), nil, 1)
	c.link.SetFilter(nil)
	c.subMu.Unlock()
}

// addRemoteSub registers the remote's interest, unfiltered.
func (c *conn) addRemoteSub(account, subject, queue []byte, weight int32) error {
	c.subMu.Lock()
	defer c.subMu.Unlock()
	return c.link.AddRemoteSub(account, subject, queue, weight)
}

// registerInbound makes c an inbound connection that gets the local queue
// interest, learns the remote cluster if it is new, and tells the remote
// of the other clusters this server knows.
func (c *conn) registerInbound(info *gwInfo) {
	gw := c.gw
	c.url = info.GatewayURL
	gw.mu.Lock()
	c.registered = true
	gw.mu.Unlock()
	gw.log.Info(c.prefix + fmt.Sprintf(" - Inbound gateway connection from %q (%s) registered", c.remoteName, c.remoteID))
	gw.imu.Lock()
	gw.inbound[c] = struct{}{}
	var buf []byte
	for k, n := range gw.qcount {
		if n > 0 {
			buf = protocol.AppendRSub(buf, []byte(k.account), []byte(k.subject), []byte(k.queue), 1)
		}
	}
	if len(buf) > 0 {
		_ = c.link.Write(buf)
	}
	gw.imu.Unlock()
	for _, p := range gw.gossipProtos(c.remoteName) {
		_ = c.link.Write(p)
	}
	if urls := remoteURLs(info); gw.addRemote(c.remoteName, urls, true, nil) {
		gw.announce(c.remoteName, urls)
	}
	if !gw.optimistic.Load() {
		// As upstream 2.9+ (gateway_iom in our INFO): every account
		// is interest-only with the remote from the start.
		for _, acc := range gw.s.AccountNames() {
			c.startInterestOnly(acc)
		}
	}
}

// startInterestOnly switches account to interest-only mode with the
// remote of inbound connection c, unless it is already.
func (c *conn) startInterestOnly(account string) {
	c.sentMu.Lock()
	if c.sentIOM[account] {
		c.sentMu.Unlock()
		return
	}
	c.sentIOM[account] = true
	delete(c.sentNI, account)
	c.sentMu.Unlock()
	c.gw.switchToInterestOnly(c, account)
}

// processMsg delivers a message of the remote: to the local interest, or,
// when there is none, nothing, and the remote is told (RS-, or A- for
// an account this server does not have) so it stops sending.
func (c *conn) processMsg(f *protocol.Frame) error {
	if isGRSubject(f.Subject) {
		c.deliverReply(f)
		return nil
	}
	if c.outbound {
		// Upstream sends messages on outbound connections only; take
		// them anyway.
		_ = c.link.Deliver(f.Account, f.Subject, f.Reply, f.Queues, f.HeaderLen, f.Payload)
		return nil
	}
	acc := string(f.Account)
	if c.gw.s.LookupAccount(acc) == nil {
		c.sentMu.Lock()
		if !c.sentANI[acc] {
			c.sentANI[acc] = true
			_ = c.link.Write(protocol.AppendAUnsub(nil, f.Account))
		}
		c.sentMu.Unlock()
		return nil
	}
	if c.link.LocalInterest(f.Account, f.Subject) {
		_ = c.link.Deliver(f.Account, f.Subject, f.Reply, f.Queues, f.HeaderLen, f.Payload)
		return nil
	}
	subj := string(f.Subject)
	c.sentMu.Lock()
	if c.sentIOM[acc] {
		// Interest-only: the remote sends what we asked for; a
		// message that crossed an unsubscribe is dropped.
		c.sentMu.Unlock()
		return nil
	}
	m := c.sentNI[acc]
	if m == nil {
		m = make(map[string]struct{})
		c.sentNI[acc] = m
	}
	_, sent := m[subj]
	if !sent {
		m[subj] = struct{}{}
	}
	switchMode := !sent && int64(len(m)) > c.gw.maxNoInterest.Load()
	if switchMode {
		c.sentIOM[acc] = true
		delete(c.sentNI, acc)
	}
	c.sentMu.Unlock()
	if switchMode {
		c.gw.switchToInterestOnly(c, acc)
		return nil
	}
	if sent {
		return nil
	}
	// Interest may have come between the check and the record: check
	// again, the interest listener clears records it sees.
	if c.link.LocalInterest(f.Account, f.Subject) {
		c.sentMu.Lock()
		delete(m, subj)
		c.sentMu.Unlock()
		_ = c.link.Deliver(f.Account, f.Subject, f.Reply, f.Queues, f.HeaderLen, f.Payload)
		return nil
	}
	c.sentMu.Lock()
	if _, still := m[subj]; still {
		_ = c.link.Write(protocol.AppendRUnsub(nil, f.Account, f.Subject, nil))
	}
	c.sentMu.Unlock()
	return nil
}

// processSub handles the remote's interest (on an outbound connection):
// queue interest is registered as is; plain RS- records no interest in
// the subject, plain RS+ clears it.
func (c *conn) processSub(f *protocol.Frame, add bool) error {
	c.niMu.Lock()
	n := c.ni[string(f.Account)]
	c.niMu.Unlock()
	if len(f.Queue) > 0 {
		if add {
			err := c.addRemoteSub(f.Account, f.Subject, f.Queue, f.Weight)
			if err != nil && !errors.Is(err, server.ErrUnknownAccount) && !errors.Is(err, server.ErrLinkClosed) {
				c.gw.log.Debug(c.prefix + " - Gateway interest refused: " + err.Error())
			}
		} else {
			c.link.RemoveRemoteSub(f.Account, f.Subject, f.Queue)
		}
		if n != nil {
			n.count(&n.qsubs, string(f.Subject)+" "+string(f.Queue), add)
		}
		return nil
	}
	if n == nil {
		return nil
	}
	if n.mode != modeOptimistic {
		// The remote's interest, registered as is.
		if string(f.Subject) == ">" {
			n.full = add
		}
		if add {
			_ = c.addRemoteSub(f.Account, f.Subject, nil, 1)
		} else {
			c.link.RemoveRemoteSub(f.Account, f.Subject, nil)
		}
		n.count(&n.isubs, string(f.Subject), add)
		return nil
	}
	n.mu.Lock()
	if add {
		delete(n.subs, string(f.Subject))
	} else {
		n.subs[string(f.Subject)] = struct{}{}
	}
	n.mu.Unlock()
	return nil
}

// switchMode handles the INFO gateway_cmd 2 and 3 of an outbound
// connection: the remote starts sending all its interest in an account,
// then has sent it all, and from then on only that interest gets the
// account's messages.
func (c *conn) switchMode(info *gwInfo) error {
	if len(info.GatewayCmdPayload) == 0 {
		what := "start"
		if info.GatewayCmd == gatewayCmdAllSubsComplete {
			what = "complete"
		}
		return &gwError{text: "Account absent from receive-all-subscriptions-" + what + " command", reason: server.LinkProtocolViolation}
	}
	acc := string(info.GatewayCmdPayload)
	c.niMu.Lock()
	n := c.ni[acc]
	if n == nil && c.remoteIOM {
		// An account this server does not know (yet): its record, to
		// hold the interest.
		n = &noInterest{subs: make(map[string]struct{}), mode: modeInterestOnly}
		c.ni[acc] = n
	}
	c.niMu.Unlock()
	if n == nil {
		return nil
	}
	switch info.GatewayCmd {
	case gatewayCmdAllSubsStart:
		n.setMode(modeTransitioning)
	case gatewayCmdAllSubsComplete:
		if n.mode == modeInterestOnly {
			return nil
		}
		n.setMode(modeInterestOnly)
		if !n.full && !c.remoteIOM {
			c.link.RemoveRemoteSub([]byte(acc), []byte(">"), nil)
		}
		c.gw.log.Debug(c.prefix + fmt.Sprintf(" - Gateway %q: account %q switched to %s mode", c.remoteName, acc, modeName(n.mode)))
	}
	return nil
}

// accountInterest handles A+ and A-.
func (c *conn) accountInterest(account string, add bool) {
	c.niMu.Lock()
	n := c.ni[account]
	c.niMu.Unlock()
	if n == nil {
		return
	}
	n.mu.Lock()
	n.all = !add
	if add {
		clear(n.subs)
	}
	n.mu.Unlock()
}

// interestChanged is the server's interest listener: local queue interest
// goes to every inbound connection (RS+/RS-), and new plain interest
// clears the no-interest the remotes were told of.
func (gw *Gateway) interestChanged(ev server.InterestEvent) {
	if ev.Origin == server.ConnGateway {
		return
	}
	if _, known := gw.accounts.LoadOrStore(ev.Account, true); !known {
		// An account created since the outbound connections registered:
		// they get its optimistic interest (not from inside the
		// listener, which must not change interest).
		acc := ev.Account
		gw.g.Go(func() {
			for _, c := range gw.outbound() {
				c.optimistic(acc)
			}
		})
		if !gw.optimistic.Load() {
			// And it is interest-only with every remote, before its
			// first interest is told (below).
			gw.imu.Lock()
			conns := make([]*conn, 0, len(gw.inbound))
			for c := range gw.inbound {
				conns = append(conns, c)
			}
			gw.imu.Unlock()
			for _, c := range conns {
				c.startInterestOnly(acc)
			}
		}
	}
	if ev.Queue != "" {
		k := ikey{ev.Account, ev.Subject, ev.Queue}
		gw.imu.Lock()
		n := gw.qcount[k]
		if ev.Added {
			n++
		} else {
			n--
		}
		if n <= 0 {
			delete(gw.qcount, k)
		} else {
			gw.qcount[k] = n
		}
		var p []byte
		switch {
		case ev.Added && n == 1:
			p = protocol.AppendRSub(nil, []byte(ev.Account), []byte(ev.Subject), []byte(ev.Queue), 1)
		case !ev.Added && n <= 0:
			p = protocol.AppendRUnsub(nil, []byte(ev.Account), []byte(ev.Subject), []byte(ev.Queue))
		}
		if p != nil {
			for c := range gw.inbound {
				_ = c.link.Write(p)
			}
		}
		gw.imu.Unlock()
		return
	}
	if strings.HasPrefix(ev.Subject, grPrefix) {
		return // replies mapped by a remote cluster stay here
	}
	k := ikey{ev.Account, ev.Subject, ""}
	gw.imu.Lock()
	n := gw.pcount[k]
	if ev.Added {
		n++
	} else {
		n--
	}
	if n <= 0 {
		delete(gw.pcount, k)
	} else {
		gw.pcount[k] = n
	}
	var p []byte
	switch {
	case ev.Added && n == 1:
		p = protocol.AppendRSub(nil, []byte(ev.Account), []byte(ev.Subject), nil, 1)
	case !ev.Added && n <= 0:
		p = protocol.AppendRUnsub(nil, []byte(ev.Account), []byte(ev.Subject), nil)
	}
	conns := make([]*conn, 0, len(gw.inbound))
	for c := range gw.inbound {
		if c.iom[ev.Account] {
			if p != nil {
				_ = c.link.Write(p)
			}
			continue
		}
		conns = append(conns, c)
	}
	gw.imu.Unlock()
	if !ev.Added {
		return
	}
	for _, c := range conns {
		c.clearNoInterest(ev.Account, ev.Subject)
	}
}

// switchToInterestOnly switches account to interest-only mode with the
// remote of inbound connection c, as upstream does after too many RS-:
// INFO gateway_cmd 2, RS+ for every plain interest of the account here,
// INFO gateway_cmd 3; from then on the interest changes follow (RS+/RS-).
func (gw *Gateway) switchToInterestOnly(c *conn, account string) {
	gw.log.Debug(c.prefix + fmt.Sprintf(" - Gateway %q: switching account %q to %s mode", c.remoteName, account, modeName(modeInterestOnly)))
	cmd := func(cmd byte) []byte {
		b, _ := json.Marshal(&gwInfo{Gateway: gw.o.Name, GatewayCmd: cmd, GatewayCmdPayload: []byte(account)})
		return protocol.AppendInfo(nil, b)
	}
	gw.imu.Lock()
	defer gw.imu.Unlock()
	c.iom[account] = true
	buf := cmd(gatewayCmdAllSubsStart)
	for k := range gw.pcount {
		if k.account == account {
			buf = protocol.AppendRSub(buf, []byte(k.account), []byte(k.subject), nil, 1)
		}
	}
	buf = append(buf, cmd(gatewayCmdAllSubsComplete)...)
	_ = c.link.Write(buf)
}

// clearNoInterest sends RS+ for the subjects of account the remote was
// told (RS-) this server has no interest in and that filter now matches.
func (c *conn) clearNoInterest(account, filter string) {
	c.sentMu.Lock()
	defer c.sentMu.Unlock()
	if c.sentANI[account] {
		delete(c.sentANI, account)
		_ = c.link.Write(protocol.AppendASub(nil, []byte(account)))
	}
	m := c.sentNI[account]
	var buf []byte
	for subj := range m {
		if subj == filter || sublist.SubjectMatchesFilter(subj, filter) {
			delete(m, subj)
			buf = protocol.AppendRSub(buf, []byte(account), []byte(subj), nil, 1)
		}
	}
	if len(buf) > 0 {
		_ = c.link.Write(buf)
	}
}
