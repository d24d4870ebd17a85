package server

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/server/snapshot"
	"natsd.dev/sublist"
)

// This file is the inter-server link seam (ARCHITECTURE "Inter-server
// link"): a module that speaks a server-to-server protocol (cluster's
// routes) wraps each of its connections in a Link. The core then holds the
// link's remote interest in the accounts' sublists, delivers matching
// messages to it as RMSG/HMSG, and tells an InterestListener when local
// interest changes. The link module owns the handshake and the read side
// (its own parser, RoleRoute); the core owns the outbound buffer and the
// writer goroutine, exactly as for a client.

// Errors returned by Link methods (and ErrUnknownAccount for an account
// this server does not have; upstream ignores such interest and messages).
var (
	// ErrLinkClosed is returned after the link closed.
	ErrLinkClosed = errors.New("server: link closed")
)

// Link is one inter-server connection as the core sees it. It is created
// by NewLink and is safe for concurrent use, except Deliver and EndBatch,
// which only the link's reader goroutine calls.
type Link struct {
	c       *client
	kind    ConnKind
	origin  atomic.Uint32 // ConnKind of its messages and interest
	enc     LinkEncoder
	forward ForwardPolicy
	reasons []string
	onClose func(LinkCloseReason)
	last    bool
	// cluster is the peer's cluster (SetRemoteCluster), guarded by
	// c.mu; clusterb is the reader's copy, the origin of its messages.
	cluster  string
	clusterb []byte
	// oenc is enc when it also writes a leaf node's messages over a
	// route (OriginEncoder).
	oenc OriginEncoder
	// wd is LinkConfig.WriteDeadline, wclose CloseOnWriteTimeout.
	wd     time.Duration
	wclose bool
	// Reader-owned cache of the last account a routed message named.
	lastAccName string
	lastAcc     *Account
	// in is the reader's count of what it received, for the account's
	// traffic (account_traffic.go).
	in linkIn
	// parked is the peer's interest in accounts this server does not
	// have (account_links_reload.go), guarded by c.mu.
	parked map[string]parkedSub
}

// NewLink wraps nc, a connection to another server whose read side the
// caller owns, as a link of the kind cfg describes, and starts its
// writer. The server closes its links when it shuts down.
func (s *Server) NewLink(nc net.Conn, cfg LinkConfig) (*Link, error) {
	if !cfg.Kind.IsLink() {
		cfg.Kind = ConnRoute
	}
	if cfg.Encoder == nil {
		cfg.Encoder = RouteEncoder{}
	}
	if cfg.Forward == 0 {
		cfg.Forward = DefaultForwardPolicy(cfg.Kind)
	}
	c := &client{
		srv:     s,
		cid:     s.nextCID.Add(1),
		kind:    kindLink,
		nc:      nc,
		acc:     s.gAcc,
		start:   time.Now(),
		kick:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		subs:    make(map[string]*subscription),
		headers: true,
	}
	c.opts = connectOpts{Echo: true, Headers: true, Protocol: 1}
	if addr, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		c.host, c.port = addr.IP.String(), addr.Port
	} else if nc.RemoteAddr() != nil {
		c.host = nc.RemoteAddr().String()
	}
	c.setLogPrefix(net.JoinHostPort(c.host, strconv.Itoa(c.port)) + " - " + connKindTags[cfg.Kind] + ":" + strconv.FormatUint(c.cid, 10))
	c.traceOn.Store(s.log.Enabled(context.Background(), LevelTrace)) // messages sent, with -V
	l := &Link{c: c, kind: cfg.Kind, enc: cfg.Encoder, forward: cfg.Forward, reasons: cfg.Reasons, onClose: cfg.OnClose, last: cfg.QueueLast,
		wd: cfg.WriteDeadline, wclose: cfg.CloseOnWriteTimeout}
	if !cfg.Origin.IsLink() {
		cfg.Origin = cfg.Kind
	}
	l.origin.Store(uint32(cfg.Origin))
	l.oenc, _ = cfg.Encoder.(OriginEncoder)
	c.link = l
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		nc.Close()
		return nil, ErrServerStopped
	}
	if s.links == nil {
		s.links = make(map[uint64]*Link)
	}
	s.links[c.cid] = l
	s.wg.Add(1)
	s.mu.Unlock()
	go c.writeLoop()
	return l, nil
}

// ID returns the link's connection id (the N of "rid:N").
func (l *Link) ID() uint64 { return l.c.cid }

// Kind returns the link's kind.
func (l *Link) Kind() ConnKind { return l.kind }

// Origin returns the origin of the link's messages and interest
// (LinkConfig.Origin).
func (l *Link) Origin() ConnKind { return ConnKind(l.origin.Load()) }

// SetOrigin changes the origin of the link's messages and interest, when
// the handshake decides it (a leaf node peer that declares itself the
// hub: ConnHub). Call it before the first AddRemoteSub and Deliver.
func (l *Link) SetOrigin(k ConnKind) {
	if k.IsLink() {
		l.origin.Store(uint32(k))
	}
}

// SetRemoteCluster records the cluster of a leaf node peer (its INFO or
// CONNECT): the origin cluster of the interest it registers and of the
// messages it delivers. A message never goes to interest of the cluster
// it came from (the peer's own, or a route's on behalf of a leaf node of
// that cluster), and interest listeners hear it as OriginCluster. Call it
// on the reader goroutine, before the first AddRemoteSub and Deliver.
func (l *Link) SetRemoteCluster(name string) {
	l.c.mu.Lock()
	l.cluster = name
	l.c.mu.Unlock()
	l.clusterb = []byte(name)
}

// LogPrefix returns "host:port - rid:N" (lid for a leaf node, gid for a
// gateway), upstream's prefix for the connection's log lines.
func (l *Link) LogPrefix() string { return l.c.logPrefix() }

// ReasonText returns the text of a close reason: the kind's own for its
// reasons (LinkConfig.Reasons), else the shared text.
func (l *Link) ReasonText(r LinkCloseReason) string {
	if r >= LinkKindReason && int(r-LinkKindReason) < len(l.reasons) {
		return l.reasons[r-LinkKindReason]
	}
	return r.String()
}

// TracePayload logs, with -V, the payload of a message the link received
// ("<<- MSG_PAYLOAD: [...]", cut at max_traced_msg_len) as upstream
// traces a route's; the link's owner traces the op's line itself.
func (l *Link) TracePayload(payload []byte) {
	if l.c.traceOn.Load() {
		l.c.tracePayload(true, payload)
	}
}

// SetRemoteName records the peer server's name, which message trace
// events give for the link (its Nats-Trace-Hop egresses and ingresses).
func (l *Link) SetRemoteName(name string) {
	l.c.mu.Lock()
	l.c.name = name
	l.c.mu.Unlock()
}

// SetRemoteVersion records the peer's server version (a leaf node's
// CONNECT), which /connz lists.
func (l *Link) SetRemoteVersion(v string) {
	l.c.mu.Lock()
	l.c.version = v
	l.c.mu.Unlock()
}

// SetHeaders says whether the peer takes messages with headers (HMSG);
// without, headers are stripped from what is delivered to it.
func (l *Link) SetHeaders(on bool) {
	l.c.mu.Lock()
	l.c.headers = on
	l.c.mu.Unlock()
}

// SetPinnedAccount says the link is dedicated to one account (a pinned
// account route): the messages delivered to it carry no account name.
func (l *Link) SetPinnedAccount(on bool) {
	l.c.mu.Lock()
	l.c.pinnedLink = on
	l.c.mu.Unlock()
}

// LinkFilter decides, per message, whether a subject may be sent over a
// link: a route's export permissions. Allow is called on publishers'
// goroutines, concurrently; it must not block, keep subject, or allocate
// (it is on the delivery hot path).
type LinkFilter interface {
	Allow(subject []byte) bool
}

// SetFilter makes every message delivered to the interest the peer
// registers from now on (AddRemoteSub) pass f first: a message whose
// subject f refuses is not sent over the link, even if the peer's
// wildcard interest matches it. Call it before the first AddRemoteSub;
// nil removes the filter for later interest.
func (l *Link) SetFilter(f LinkFilter) {
	l.c.mu.Lock()
	l.c.linkFilter = f
	l.c.mu.Unlock()
}

// Write queues p (whole protocol operations) and wakes the writer.
func (l *Link) Write(p []byte) error {
	c := l.c
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrLinkClosed
	}
	c.out.write(p)
	c.mu.Unlock()
	c.signal()
	return nil
}

// Flush writes what is queued on the caller's goroutine, for the one
// protocol that must be on the wire before the link changes state (a
// final -ERR); it reports whether the write succeeded.
func (l *Link) Flush() bool { return l.c.flushOut() }

// Close closes the link once: its remote interest leaves the sublists
// (and the interest listeners hear of it), what is queued is flushed
// (unless the reason forbids it), OnClose runs.
func (l *Link) Close(reason LinkCloseReason) {
	if reason == LinkStaleConnection && !l.Closed() {
		l.c.srv.stats.countStale(l.kind)
	}
	l.c.closeConnection(reason.reason())
}

// Closed reports whether the link closed.
func (l *Link) Closed() bool {
	l.c.mu.Lock()
	defer l.c.mu.Unlock()
	return l.c.closed
}

// Done is closed when the link has closed.
func (l *Link) Done() <-chan struct{} { return l.c.done }

func (s *Server) lookupAccountBytes(name []byte) *Account {
	s.mu.Lock()
	a := s.accounts[string(name)]
	s.mu.Unlock()
	return a
}

// routeSubKey is the key of a link's interest; a route's interest on
// behalf of a leaf node starts with a byte no account name has: 0, or 1
// followed by the origin cluster when the interest is keyed by origin
// (AddRemoteSubByOrigin).
func routeSubKey(leaf bool, keyOrigin, account, subject, queue []byte) string {
	k := make([]byte, 0, len(keyOrigin)+len(account)+len(subject)+len(queue)+4)
	switch {
	case keyOrigin != nil:
		k = append(append(append(k, 1), keyOrigin...), ' ')
	case leaf:
		k = append(k, 0)
	}
	k = append(append(append(k, account...), ' '), subject...)
	if len(queue) > 0 {
		k = append(append(k, ' '), queue...)
	}
	return string(k)
}

// AddRemoteSub records the peer's interest in subject (RS+): messages
// published here on a matching subject are delivered to the link when its
// forwarding policy admits their origin. With a queue, the peer has
// weight members of that group; a repeated RS+ for the same account,
// subject and queue updates the weight. New interest is reported to the
// interest listeners with the link's kind as origin (a weight update is
// not).
func (l *Link) AddRemoteSub(account, subject, queue []byte, weight int32) error {
	return l.addRemoteSub(nil, false, false, account, subject, queue, weight)
}

// AddRemoteSubFrom records interest a route peer holds on behalf of a
// leaf node of the cluster origin (LS+ over a route): as AddRemoteSub,
// but messages that came from that cluster do not go to it, and the
// interest listeners hear origin as OriginCluster. It is kept apart from
// the peer's own interest in the same subject; RemoveRemoteSubFrom drops
// it (whatever the origin: upstream names it in LS- only to peers that
// asked).
func (l *Link) AddRemoteSubFrom(origin, account, subject, queue []byte, weight int32) error {
	return l.addRemoteSub(origin, true, false, account, subject, queue, weight)
}

// AddRemoteSubByOrigin is AddRemoteSubFrom for a route peer that names
// the origin cluster in LS- too (it advertised "lnocu"): the interest of
// leaf nodes of different clusters in the same account, subject and
// queue is kept apart, each with its own weight, and
// RemoveRemoteSubByOrigin with the same origin drops one of them.
func (l *Link) AddRemoteSubByOrigin(origin, account, subject, queue []byte, weight int32) error {
	if origin == nil {
		origin = []byte{}
	}
	return l.addRemoteSub(origin, true, true, account, subject, queue, weight)
}

func (l *Link) addRemoteSub(origin []byte, leaf, keyed bool, account, subject, queue []byte, weight int32) error {
	c := l.c
	if !sublist.ValidFilter(string(subject)) {
		return sublist.ErrInvalidSubject
	}
	if weight < 1 {
		weight = 1
	}
	var keyOrigin []byte
	if keyed {
		keyOrigin = origin
	}
	key := routeSubKey(leaf, keyOrigin, account, subject, queue)
	acc := c.srv.lookupAccountBytes(account)
	if acc == nil {
		// Kept for a reload that adds the account.
		l.park(key, parkedSub{origin: string(origin), leaf: leaf, keyed: keyed, account: string(account), subject: string(subject), queue: string(queue), weight: weight})
		return ErrUnknownAccount
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrLinkClosed
	}
	if sub := c.subs[key]; sub != nil {
		sub.remote.weight.Store(weight)
		c.mu.Unlock()
		return nil
	}
	sub := &subscription{client: c, subject: string(subject), queue: string(queue), sid: []byte(key), remote: &remoteSub{acc: acc, link: l, forward: l.forward, filter: c.linkFilter, last: l.last, cluster: l.cluster}}
	if leaf {
		sub.remote.cluster = string(origin)
	}
	if len(queue) > 0 {
		sub.remote.qb = []byte(sub.queue)
	}
	sub.remote.weight.Store(weight)
	c.subs[key] = sub
	c.mu.Unlock()
	s := c.srv
	s.interestMu.RLock()
	defer s.interestMu.RUnlock()
	if err := acc.sl.Insert(sub.subject, sub.queue, sub); err != nil {
		c.mu.Lock()
		delete(c.subs, key)
		c.mu.Unlock()
		return err
	}
	// The link may have closed (or RS- come) between the map and the
	// sublist: its close then missed this one, so take it out here.
	// Otherwise the interest is announced, and whoever takes it out
	// later announces its removal.
	c.mu.Lock()
	closed := sub.closed
	sub.remote.announced = !closed
	c.mu.Unlock()
	if closed {
		_ = acc.sl.Remove(sub.subject, sub.queue, sub)
		return ErrLinkClosed
	}
	sub.remote.countGateway(1)
	s.notifyRemote(l, sub.remote, sub.subject, sub.queue, true)
	return nil
}

// removeSub takes one of the link's interests, already out of its map,
// out of its sublist and tells the interest listeners if its addition was
// announced.
func (l *Link) removeSub(sub *subscription) {
	s := l.c.srv
	s.interestMu.RLock()
	if sub.remote.acc.sl.Remove(sub.subject, sub.queue, sub) == nil && sub.remote.announced {
		sub.remote.countGateway(-1)
		s.notifyRemote(l, sub.remote, sub.subject, sub.queue, false)
	}
	s.interestMu.RUnlock()
}

// RemoveRemoteSub drops the peer's interest recorded by AddRemoteSub (RS-);
// unknown interest is ignored.
func (l *Link) RemoveRemoteSub(account, subject, queue []byte) {
	l.removeRemoteSub(false, nil, account, subject, queue)
}

// RemoveRemoteSubFrom drops the interest recorded by AddRemoteSubFrom
// (LS- over a route); unknown interest is ignored.
func (l *Link) RemoveRemoteSubFrom(account, subject, queue []byte) {
	l.removeRemoteSub(true, nil, account, subject, queue)
}

// RemoveRemoteSubByOrigin drops the interest of the cluster origin
// recorded by AddRemoteSubByOrigin (LS- with its origin over a route);
// unknown interest is ignored.
func (l *Link) RemoveRemoteSubByOrigin(origin, account, subject, queue []byte) {
	if origin == nil {
		origin = []byte{}
	}
	l.removeRemoteSub(true, origin, account, subject, queue)
}

func (l *Link) removeRemoteSub(leaf bool, keyOrigin, account, subject, queue []byte) {
	c := l.c
	key := routeSubKey(leaf, keyOrigin, account, subject, queue)
	c.mu.Lock()
	sub := c.subs[key]
	if sub != nil {
		sub.closed = true
		delete(c.subs, key)
	}
	delete(l.parked, key)
	c.mu.Unlock()
	if sub != nil {
		l.removeSub(sub)
	}
}

// LocalInterest reports whether account has interest in subject other
// than that of links of l's kind: local subscriptions, and the interest
// of links of other kinds (a gateway answers "no interest" to its peer
// when this is false). An unknown account has none.
func (l *Link) LocalInterest(account, subject []byte) bool {
	acc := l.c.srv.lookupAccountBytes(account)
	if acc == nil {
		return false
	}
	r := acc.sl.MatchBytes(subject)
	for _, sub := range r.Plain {
		if sub.remote == nil || sub.remote.link.kind != l.kind {
			return true
		}
	}
	for i := range r.Queues {
		for _, sub := range r.Queues[i].Members {
			if sub.remote == nil || sub.remote.link.kind != l.kind {
				return true
			}
		}
	}
	return false
}

// NumRemoteSubs returns the number of interests the peer registered.
func (l *Link) NumRemoteSubs() int {
	l.c.mu.Lock()
	defer l.c.mu.Unlock()
	return len(l.c.subs)
}

// Deliver delivers a message that came over the link (RMSG/HMSG, LMSG) to
// local subscribers, and to the links whose forwarding policy admits the
// link's kind as origin (none for a route: one hop): plain subscribers
// always, and for each queue group named in queues one member, local
// members first. hdrLen is the header length at the start of payload, -1
// without headers. The slices are only read during the call. Only the
// link's reader calls Deliver; it calls EndBatch after each read.
func (l *Link) Deliver(account, subject, reply []byte, queues [][]byte, hdrLen int, payload []byte) error {
	return l.deliver(l.clusterb, account, subject, reply, queues, hdrLen, payload)
}

// DeliverFrom delivers a message a route peer forwards from a leaf node of
// the cluster origin (LMSG over a route), as Deliver: it does not go to
// interest of that cluster, and it crosses other routes as a leaf node's
// message of that origin.
func (l *Link) DeliverFrom(origin, account, subject, reply []byte, queues [][]byte, hdrLen int, payload []byte) error {
	return l.deliver(origin, account, subject, reply, queues, hdrLen, payload)
}

func (l *Link) deliver(cluster, account, subject, reply []byte, queues [][]byte, hdrLen int, payload []byte) error {
	c := l.c
	acc := l.lastAcc
	if acc == nil || l.lastAccName != string(account) || acc.removed.Load() {
		if acc = c.srv.lookupAccountBytes(account); acc == nil {
			return ErrUnknownAccount
		}
		l.lastAcc, l.lastAccName = acc, acc.Name
	}
	c.inMsgs++
	c.inBytes += int64(len(payload))
	l.countIn(acc, len(payload))
	c.pub.cluster = cluster
	c.srv.deliverRouted(&c.pub, c, l.Origin(), acc, subject, reply, queues, hdrLen, payload)
	c.pub.cluster = nil
	return nil
}

// EndBatch wakes the writers of the connections that got messages since
// the last call and publishes the link's counters. The reader calls it
// once per read.
func (l *Link) EndBatch() {
	l.flushIn()
	l.c.flushSignals()
	l.c.flushStats()
}

// LinkStats are a link's counters for monitoring (/routez).
type LinkStats struct {
	InMsgs, OutMsgs, InBytes, OutBytes int64
	Pending                            int
	NumSubs                            int
	Start                              time.Time
	LastActivity                       time.Time
}

// Stats returns a snapshot of the link's counters.
func (l *Link) Stats() LinkStats {
	c := l.c
	c.mu.Lock()
	st := LinkStats{
		OutMsgs:  c.outMsgs,
		OutBytes: c.outBytes,
		Pending:  c.out.pending(),
		NumSubs:  len(c.subs),
		Start:    c.start,
	}
	c.mu.Unlock()
	st.InMsgs, st.InBytes = c.inMsgsTotal.Load(), c.inBytesTotal.Load()
	if t := c.lastActive.Load(); t != 0 {
		st.LastActivity = time.Unix(0, t)
	}
	return st
}

// Touch records inbound activity on the link (for LastActivity) and, when
// its reader calls it once per read before parsing, whether the reader sat
// idle before this batch: the end of such a batch (EndBatch) may write a
// lone destination's small backlog itself instead of waking its writer.
func (l *Link) Touch() { l.c.markBatch() }

// routeTarget is one link that gets a copy of a published message, with
// the queue groups it was chosen for.
type routeTarget struct {
	c      *client
	queues [][]byte
	plain  bool
}

// addRoute records that rc must get the message, for the queue group q
// (nil for plain interest).
func (pc *pubCtx) addRoute(rc *client, q []byte) {
	for i := range pc.routes {
		t := &pc.routes[i]
		if t.c == rc {
			if q == nil {
				t.plain = true
			} else {
				t.queues = append(t.queues, q)
			}
			return
		}
	}
	if len(pc.routes) < cap(pc.routes) {
		pc.routes = pc.routes[:len(pc.routes)+1]
	} else {
		pc.routes = append(pc.routes, routeTarget{})
	}
	t := &pc.routes[len(pc.routes)-1]
	t.c, t.plain, t.queues = rc, q == nil, t.queues[:0]
	if q != nil {
		t.queues = append(t.queues, q)
	}
}

// sendRoutes writes the message once to each recorded link, then forgets
// them.
func (pc *pubCtx) sendRoutes(acc *Account, subject, reply []byte, hdrLen int, payload []byte) {
	for i := range pc.routes {
		t := &pc.routes[i]
		pc.deliverRoute(t.c, acc, subject, reply, t.queues, hdrLen, payload)
		t.c = nil
		clear(t.queues)
		t.queues = t.queues[:0]
	}
	pc.routes = pc.routes[:0]
}

// deliverRoute appends one routed message to a link's outbound buffer.
func (pc *pubCtx) deliverRoute(dc *client, acc *Account, subject, reply []byte, queues [][]byte, hdrLen int, payload []byte) {
	dc.mu.Lock()
	if dc.closed {
		dc.mu.Unlock()
		return
	}
	maxPending := dc.srv.maxPending.Load()
	// A fast producer waits briefly for a link whose backlog passed 3/4
	// of max_pending, as for a client (never longer than the batch's
	// stall budget).
	var stall chan struct{}
	if int64(dc.out.pending()) > maxPending/4*3 {
		if dc.stall == nil {
			dc.stall = make(chan struct{})
		}
		stall = dc.stall
	}
	hdr := hdrLen
	if hdrLen >= 0 && !dc.headers {
		payload, hdr = payload[hdrLen:], -1
	}
	accName := acc.nameb
	if dc.pinnedLink {
		accName = nil
	}
	need := len(accName) + len(subject) + len(reply) + len(pc.cluster) + LinkMsgOverhead
	for _, q := range queues {
		need += len(q) + 1
	}
	b := dc.out.room(need)
	long := b == nil
	if long {
		b = make([]byte, 0, need)
	}
	if len(pc.cluster) > 0 && dc.link.oenc != nil {
		b = dc.link.oenc.AppendOriginMsgHeader(b, pc.cluster, accName, subject, reply, queues, hdr, len(payload))
	} else {
		b = dc.link.enc.AppendMsgHeader(b, accName, subject, reply, queues, hdr, len(payload))
	}
	var traced string
	if dc.traceOn.Load() {
		traced = string(bytes.TrimRight(b, "\r\n"))
	}
	if long {
		dc.out.write(b)
	} else {
		dc.out.grew(b)
	}
	dc.out.write(payload)
	dc.out.write(crlf)
	dc.outMsgs++
	dc.outBytes += int64(len(payload))
	// A link is never closed for its backlog, as upstream's routes: the
	// producers are held back (the stall below) and only a write that
	// makes no progress at all closes it (see writeLink).
	signal := !dc.flushPending
	dc.flushPending = true
	dc.mu.Unlock()
	pc.outMsgs++
	pc.outBytes += int64(len(payload))
	pc.countLinkOut(acc, dc.link.kind, len(payload))
	if dc.traceOn.Load() {
		dc.traceOut(traced)
		dc.tracePayload(false, payload)
	}
	if stall != nil && pc.stalled < maxStallPerBatch {
		dc.kickWriter() // the writer drains it now (not after this batch)
		pc.stallFor(stall)
		return
	}
	if signal {
		pc.queueFlush(dc)
	}
}

// linkState is the server's part of the link seam.
type linkState struct {
	interestMu sync.RWMutex    // held for reading around sublist changes and their notification
	listeners  []*listenerSlot // guarded by interestMu (held for writing)
	interest   atomic.Pointer[[]*listenerSlot]
}

// closeLinks closes every link, for shutdown.
func (s *Server) closeLinks() {
	s.mu.Lock()
	links := make([]*Link, 0, len(s.links))
	for _, l := range s.links {
		links = append(links, l)
	}
	s.mu.Unlock()
	for _, l := range links {
		l.Close(LinkServerShutdown)
	}
}

// closeLink is closeConnection's end for a link: its remote interest
// leaves each account's sublist (the listeners hear of each).
func (c *client) closeLink(subs map[string]*subscription, reason closeReason) {
	byAcc := make(map[*Account][]sublist.Sub[*subscription])
	for _, sub := range subs {
		byAcc[sub.remote.acc] = append(byAcc[sub.remote.acc], sublist.Sub[*subscription]{Subject: sub.subject, Queue: sub.queue, Value: sub})
	}
	s := c.srv
	l := c.link
	s.interestMu.RLock()
	for acc, list := range byAcc {
		_ = acc.sl.RemoveBatch(list)
		for _, sub := range list {
			if sub.Value.remote.announced {
				sub.Value.remote.countGateway(-1)
				s.notifyRemote(l, sub.Value.remote, sub.Subject, sub.Queue, false)
			}
		}
	}
	s.interestMu.RUnlock()
	s.mu.Lock()
	delete(s.links, c.cid)
	s.mu.Unlock()
	if l.onClose != nil {
		l.onClose(linkReason(reason))
	}
}

// Subjects lists the peer's interest as "subject" or "subject queue",
// for /routez?subs=1, and with detail the subscriptions themselves.
func (l *Link) Subjects(detail bool) ([]string, []snapshot.SubDetail) {
	c := l.c
	c.mu.Lock()
	defer c.mu.Unlock()
	var subs []string
	var details []snapshot.SubDetail
	for _, sub := range c.subs {
		if detail {
			details = append(details, snapshot.SubDetail{Account: sub.remote.acc.Name, Subject: sub.subject, Queue: sub.queue, Sid: string(sub.sid), Cid: c.cid})
			continue
		}
		subj := sub.subject
		if sub.queue != "" {
			subj += " " + sub.queue
		}
		subs = append(subs, subj)
	}
	return subs, details
}

// writeLink writes chs as a route must (upstream's "retry" write_timeout
// policy, the default for routes): a write that passes the write deadline
// after making progress is reported as a slow consumer and goes on with a
// new deadline; only a deadline with nothing written fails, and then the
// link is closed as a slow consumer.
func (c *client) writeLink(chs []*chunk, wd time.Duration) error {
	bufs := c.iov[:0]
	total := 0
	for _, t := range chs {
		bufs = append(bufs, t.b)
		total += len(t.b)
	}
	c.iov = bufs
	if bw, ok := c.nc.(buffersWriter); ok {
		// A compressed stream cannot resume a half-written block.
		_, err := bw.WriteBuffers(bufs)
		return err
	}
	w := bufs // WriteTo consumes its receiver: what is left is unwritten
	for {
		n, err := w.WriteTo(c.nc)
		if err == nil {
			return nil
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() || n == 0 || c.link.wclose {
			return err
		}
		c.srv.stats.countSlow(c.link.kind)
		c.srv.log.Info(c.logPrefix() + " - Slow Consumer Detected: WriteDeadline of " + wd.String() +
			" exceeded with " + strconv.Itoa(len(chs)) + " chunks of " + strconv.Itoa(total) + " total bytes.")
		select {
		case <-c.done:
			return err
		default:
		}
		c.nc.SetWriteDeadline(time.Now().Add(wd))
	}
}

// remoteSub is what a link's subscription has beyond a client's: its
// account and link, the queue as bytes for RMSG lines, and for a queue the
// number of members the peer has (its weight).
type remoteSub struct {
	acc  *Account
	link *Link
	qb   []byte
	// forward is the link's policy, copied here so that the delivery
	// path reads it from the subscription it already holds.
	forward ForwardPolicy
	// announced: the listeners were told of the interest (guarded by
	// the link's client.mu until the interest is closed).
	announced bool
	weight    atomic.Int32
	// cluster is the leaf node cluster the interest came from: the
	// link's peer's (SetRemoteCluster) or the origin a route named.
	cluster string
	// filter is the link's LinkFilter when the interest was registered;
	// it never changes afterwards, so publishers read it without a lock.
	filter LinkFilter
	// last is the link's LinkConfig.QueueLast.
	last bool
}

// countGateway adds delta to the account's count of gateways' interest
// when r is a gateway's.
func (r *remoteSub) countGateway(delta int64) {
	if r.link.kind == ConnGateway {
		r.acc.gwSubs.Add(delta)
	}
}

// allows reports whether a message on subject may go to this interest.
func (r *remoteSub) allows(subject []byte) bool {
	return r.filter == nil || r.filter.Allow(subject)
}
