package server

import (
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/auth"
	"natsd.dev/sublist"
)

// Session kinds, as /connz shows them in "kind" (upstream's names).
const (
	SessionClient    = "Client"    // a protocol front end's user (MQTT)
	SessionJetStream = "JetStream" // JetStream capture and delivery
	SessionSystem    = "System"    // the system services
	SessionAccount   = "Account"   // an account's own in-process service
)

// Session errors.
var (
	// ErrQueueFull is returned by Session.Publish when a must-not-lose
	// session's queue stayed full for the whole stall: the message
	// reached every other subscriber, not that one.
	ErrQueueFull = errors.New("server: session queue full")
	// ErrPermission is returned when the session's user may not publish
	// or subscribe to the subject.
	ErrPermission = errors.New("server: permissions violation")
	// ErrMaxPayload is returned by Publish for a message larger than the
	// server's or the account's max_payload.
	ErrMaxPayload = errors.New("server: maximum payload exceeded")
	// ErrTooManySubs is returned by Subscribe past the server's or the
	// account's subscription limit.
	ErrTooManySubs = errors.New("server: maximum subscriptions exceeded")
)

// DefaultSessionQueue is the default SessionOptions.QueueLen.
const DefaultSessionQueue = 1024

// SessionOptions describe a session to Attach.
type SessionOptions struct {
	// Kind is what /connz shows in "kind": SessionClient (the default),
	// SessionJetStream, SessionSystem or SessionAccount. Type is its
	// "type" for SessionClient ("mqtt"; "nats" by default).
	Kind, Type string
	// Name, Lang and Version are shown in /connz as a client's CONNECT
	// fields are; MQTTClient as "mqtt_client".
	Name, Lang, Version, MQTTClient string
	// RemoteAddr is the front end's peer, shown in /connz ("ip", "port")
	// and given to the authenticators. Optional.
	RemoteAddr net.Addr

	// Account binds the session to the named account without
	// authentication and without permissions ("" is the global account
	// when no credential is set either). It excludes the credentials.
	Account string
	// ConnKind is the connection type the authenticators check against
	// a user's allowed_connection_types (auth.KindMQTT for MQTT).
	ConnKind auth.ConnKind
	// User, Password, Token and Nkey are credentials checked by the
	// server's authentication chain as CONNECT's are. With Nkey, Sign
	// signs the nonce (the raw ed25519 signature).
	User, Password, Token, Nkey string
	Sign                        func(nonce []byte) ([]byte, error)
	// NoAuthUser is who a session without credentials is taken as, in
	// place of the server's no_auth_user (MQTT's own setting).
	NoAuthUser string
	// TLS is the state of the front end's TLS connection: the
	// authenticators map client certificates to users with it
	// (verify_and_map).
	TLS *tls.ConnectionState

	// QueueLen bounds the messages queued for the session's handlers
	// (DefaultSessionQueue when 0). The queue starts small and grows
	// with its backlog up to QueueLen.
	QueueLen int
	// Drop makes the session best-effort: a message that finds the queue
	// full is dropped (and counted, Session.Dropped) instead of slowing
	// and then refusing its publisher. For services like $SYS requests
	// only.
	Drop bool
	// Stall bounds how long this session's Publish waits, in total per
	// call, for full queues of must-not-lose sessions before it returns
	// ErrQueueFull (10ms when 0, as a socket client's batch).
	Stall time.Duration

	// Conn, when set, receives the messages of subscriptions made
	// without a handler, through the outbound machinery of a socket
	// client: one writer goroutine, writev, the slow-consumer policy
	// (max_pending, write_deadline). The session closes Conn when it
	// closes. Encoder frames each message (NATS MSG/HMSG when nil);
	// Headers keeps header blocks (else they are stripped).
	Conn    net.Conn
	Encoder Encoder
	Headers bool

	// Traced makes the session's handlers part of message tracing
	// (ADR-41): a traced message reaches them with its trace, even a
	// trace only one (Msg.TraceOnly), and they report what they did
	// with it (Msg.TraceJetStream) before the trace event is published.
	// Without it, trace only messages do not reach them.
	Traced bool

	// Inline lets a socket client's read loop run the session's handler
	// itself when nothing is queued and no handler runs: a request whose
	// publisher waits for the answer (a JetStream publish) is then
	// handled, and answered at the end of the read batch, without waking
	// the session's goroutine or the client's writer. Handlers still run
	// one at a time and in order; messages of any other publisher (an
	// in-process one, a link) and traced messages go through the queue.
	Inline bool
}

// Encoder frames messages written to a session's Conn. It is called with
// the session's lock held, on the publisher's goroutine: it must not
// block. The payload is written between its two outputs.
type Encoder interface {
	// AppendMsgHeader appends what precedes a message's payload (size
	// bytes, of which hdrLen are a header block; -1 without headers)
	// for the subscription sid and returns the extended dst. Output up
	// to len(subject)+len(sid)+len(reply)+64 bytes is written in place
	// in the outbound buffer; longer output costs a copy.
	AppendMsgHeader(dst, subject, sid, reply []byte, hdrLen, size int) []byte
	// Trailer is what follows the payload (may be nil).
	Trailer() []byte
}

// Session is an in-process user of the server: a protocol front end's
// client or an in-process consumer, listed in /connz. Create it with
// Attach; its methods are safe for concurrent use.
type Session struct {
	c       *client
	q       *sessQueue
	stall   time.Duration
	sidSeq  uint64 // guarded by c.mu
	running bool   // the handlers' goroutine runs; guarded by c.mu
}

// SessionSub is a subscription of a Session.
type SessionSub struct {
	sess *Session
	sub  *subscription
}

// Attach authenticates a session (or binds it to opts.Account) and lists
// it in /connz. Its handlers run on a goroutine of its own until Close or
// the server's shutdown.
func (s *Server) Attach(opts SessionOptions) (*Session, error) {
	hasCreds := opts.User != "" || opts.Password != "" || opts.Token != "" || opts.Nkey != ""
	if opts.Account != "" && hasCreds {
		return nil, errors.New("server: session with both an account and credentials")
	}
	if opts.Kind == "" {
		opts.Kind = SessionClient
	}
	if opts.Kind == SessionClient && opts.Type == "" {
		opts.Type = "nats"
	}
	c := &client{
		srv:     s,
		cid:     s.nextCID.Add(1),
		kind:    kindSession,
		start:   time.Now(),
		done:    make(chan struct{}),
		subs:    make(map[string]*subscription),
		headers: opts.Headers || opts.Conn == nil,
		sess:    &sessInfo{kind: opts.Kind, typ: opts.Type, mqtt: opts.MQTTClient, traced: opts.Traced},
	}
	c.opts = connectOpts{Echo: true, Headers: true, Protocol: 1, Name: opts.Name, Lang: opts.Lang, Version: opts.Version}
	c.name, c.lang, c.version = opts.Name, opts.Lang, opts.Version
	if a, ok := opts.RemoteAddr.(*net.TCPAddr); ok {
		c.host, c.port = a.IP.String(), a.Port
	} else if opts.RemoteAddr != nil {
		c.host = opts.RemoteAddr.String()
	}
	c.setLogPrefix(sessionLogPrefix(c, &opts))
	sess := &Session{c: c, stall: opts.Stall}
	if sess.stall <= 0 {
		sess.stall = maxStallPerBatch
	}
	n := opts.QueueLen
	if n <= 0 {
		n = DefaultSessionQueue
	}
	sess.q = &sessQueue{max: n, drop: opts.Drop, inline: opts.Inline, kick: make(chan struct{}, 1)} // slots come with the first message
	c.sess.q = sess.q
	if opts.Conn != nil {
		c.nc = opts.Conn
		c.kick = make(chan struct{}, 1)
		c.lazyWriter = true // the writer starts with the first data queued
		c.sess.enc = opts.Encoder
	}
	c.connectSeen = true
	for {
		if err := sess.authenticate(s, &opts, hasCreds); err != nil {
			return nil, err
		}
		s.mu.Lock()
		if s.shutdown {
			s.mu.Unlock()
			c.releaseAccount()
			return nil, ErrServerStopped
		}
		if b := c.bound; b == nil || b.sa == s.auth.Load() {
			break // s.mu stays held
		}
		// A reload swapped the chain (under s.mu) after the session
		// authenticated and did not see it: authenticate anew.
		s.mu.Unlock()
		c.releaseAccount()
	}
	c.traceSystem()
	if s.sessions == nil {
		s.sessions = make(map[uint64]*client)
	}
	s.sessions[c.cid] = c
	if c.userConn() {
		s.sessClients++
	}
	if c.nc != nil {
		s.wg.Add(1)
	}
	s.mu.Unlock()
	if c.userConn() {
		// Counted and announced as a socket client's accepted CONNECT.
		s.stats.TotalConns.Add(1)
		s.connectEvent(c)
	}
	// The handlers' goroutine starts with the first handler subscription:
	// a front end's client that has none (MQTT QoS 0) costs one less.
	return sess, nil
}

// sessionLogPrefix is how a session's log lines begin: "session -
// cid:N", and for an MQTT client what upstream's mqtt clients say,
// "host:port - mid:N - "<client id>"" ("mid_ws:" over WebSocket).
func sessionLogPrefix(c *client, opts *SessionOptions) string {
	id := strconv.FormatUint(c.cid, 10)
	if opts.Type != "mqtt" || opts.RemoteAddr == nil {
		return "session - cid:" + id
	}
	tag := " - mid:"
	if transportOf(opts.Conn) == TransportWebsocket {
		tag = " - mid_ws:"
	}
	addr := opts.RemoteAddr.String()
	if c.port != 0 {
		addr = net.JoinHostPort(c.host, strconv.Itoa(c.port))
	}
	return addr + tag + id + " - " + strconv.Quote(opts.MQTTClient)
}

// authenticate binds the session to its account: opts.Account directly,
// else through the server's chain with the session's credentials.
func (sess *Session) authenticate(s *Server, opts *SessionOptions, hasCreds bool) error {
	c := sess.c
	c.bound = nil // Attach may call again after a reload
	var acc *Account
	id := &auth.Identity{}
	sa := s.auth.Load()
	switch {
	case opts.Account != "":
		if acc = s.LookupAccount(opts.Account); acc == nil {
			return errors.New("server: no account " + opts.Account)
		}
	case sa.chain == nil && !hasCreds:
		acc = s.gAcc
	case sa.chain == nil:
		return errors.New("server: authorization violation: no authentication configured")
	default:
		req := &auth.Request{Kind: opts.ConnKind, User: opts.User, Password: opts.Password,
			Token: opts.Token, Nkey: opts.Nkey, RemoteAddr: opts.RemoteAddr, NoAuthUser: opts.NoAuthUser, TLS: opts.TLS}
		if opts.Nkey != "" {
			if opts.Sign == nil {
				return errors.New("server: nkey session without Sign")
			}
			req.Nonce = auth.NewNonce()
			sig, err := opts.Sign(req.Nonce)
			if err != nil {
				return err
			}
			req.Sig = base64.RawURLEncoding.EncodeToString(sig)
		}
		var err error
		viaCallout := false
		id, err = sa.chain.Authenticate(req)
		if sa.cfg != nil && sa.cfg.Callout != nil {
			id, acc, viaCallout, err = c.calloutAuth(sa, req, nil, id, err) // callout.go
		} else if err == nil {
			acc, err = s.identityAccount(id)
		}
		if err != nil {
			s.log.Error(c.logPrefix() + " - authentication error: " + err.Error())
			return errors.New("server: authorization violation")
		}
		// What a reload checks again (auth_reload.go).
		c.bound = &authBinding{req: req, sa: sa, id: id, callout: viaCallout}
	}
	// Internal sessions (JetStream, system services) are not counted
	// against the account's connection limit, as upstream.
	if c.userConn() {
		if !acc.addConn() {
			return errors.New("server: " + errTextMaxAccountConns + " - Account: " + acc.Name)
		}
		c.accCounted = true
	}
	c.acc = acc
	c.authUser = id.Name
	c.sess.setPerms(c, id.Checker, auth.NewReplies(id.Checker.Response()))
	return nil
}

// setPerms gives the session's client its permissions: the checker
// Subscribe uses, the publisher Publish uses and the allow_responses
// tracker (nil without allow_responses) of the replies delivered to it.
// Attach and a reload (auth_reload.go) call it.
func (si *sessInfo) setPerms(c *client, ch *auth.Checker, r *auth.Replies) {
	var p *auth.Publisher
	if perms := ch.Permissions(); perms != nil && perms.Publish != nil {
		p = ch.NewPublisher()
	}
	c.mu.Lock()
	c.checker = ch
	c.replies = r
	c.mu.Unlock()
	si.replies.Store(r)
	si.pubMu.Lock()
	si.publisher.Store(p)
	si.pubMu.Unlock()
}

// releaseAccount gives back the account connection slot of a session that
// was never listed.
func (c *client) releaseAccount() {
	if c.accCounted {
		c.acc.conns.Add(-1)
		c.accCounted = false
	}
}

// ID is the session's connection id in /connz ("cid").
func (sess *Session) ID() uint64 { return sess.c.cid }

// Account is the name of the session's account.
func (sess *Session) Account() string { return sess.c.acc.Name }

// Dropped counts the messages a Drop session lost to a full queue.
func (sess *Session) Dropped() int64 {
	q := sess.q
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}

// Subscribe subscribes to subject (wildcards allowed; with a queue group
// when queue is not empty), subject to the user's permissions and the
// subscription limits. With a handler, messages are copied into the
// session's queue and h runs on the session's goroutine; with h nil they
// go to the session's Conn (see SessionOptions.Conn).
func (sess *Session) Subscribe(subject, queue string, h MsgHandler) (*SessionSub, error) {
	c := sess.c
	if !sublist.ValidFilter(subject) || (queue != "" && !validQueue([]byte(queue))) {
		return nil, sublist.ErrInvalidSubject
	}
	if h == nil && c.nc == nil {
		return nil, errors.New("server: subscription without handler on a session without Conn")
	}
	sub := &subscription{client: c, subject: subject, queue: queue}
	if h != nil {
		sub.handler, sub.sq = h, sess.q
	}
	c.mu.Lock()
	ch := c.checker // a reload may replace it
	start := h != nil && !sess.running && !c.closed
	if start {
		sess.running = true
	}
	c.mu.Unlock()
	if start {
		go sess.run()
	}
	if ch != nil {
		if !ch.CanSubscribe(subject, queue) {
			return nil, ErrPermission
		}
		if ch.NeedsDeliveryFilter(subject) {
			sub.filter.Store(ch)
		}
	}
	if err := c.addInProcSub(sub, &sess.sidSeq, true); err != nil {
		return nil, err
	}
	if c.traceOn.Load() {
		c.traceInternalSub(sub)
	}
	c.mu.Lock()
	now := c.checker
	c.mu.Unlock()
	if now != ch {
		// A reload changed the permissions meanwhile; its walk of the
		// subscriptions may have run before this one was added.
		if now != nil && !now.CanSubscribe(subject, queue) {
			c.removeInProcSub(sub)
			return nil, ErrPermission
		}
		var f *auth.Checker
		if now != nil && now.NeedsDeliveryFilter(subject) {
			f = now
		}
		sub.filter.Store(f)
	}
	return &SessionSub{sess: sess, sub: sub}, nil
}

// SID is the subscription's id, as an Encoder sees it.
func (ss *SessionSub) SID() string { return string(ss.sub.sid) }

// Unsubscribe removes the subscription. Messages already queued for it
// are not handed to its handler any more.
func (ss *SessionSub) Unsubscribe() error {
	ss.sess.c.removeInProcSub(ss.sub)
	return nil
}

// Drain removes the subscription like Unsubscribe, but the messages
// already given to it (queued, or being queued by a publisher that matched
// it before it went) are still handed to its handler, in order. A handler
// that must account for every message it was given (a JetStream push
// consumer's, whose unacknowledged messages come back only after their ack
// wait) drains rather than unsubscribes.
func (ss *SessionSub) Drain() error {
	c := ss.sess.c
	c.mu.Lock()
	ss.sub.drain = true
	c.mu.Unlock()
	c.removeInProcSub(ss.sub)
	return nil
}

// Publish publishes a message in the session's account, as a client's PUB
// would: permissions apply, then every matching subscription gets it.
// hdr, when not nil, is a complete header block ("NATS/1.0\r\n...\r\n\r\n").
// It returns ErrQueueFull when a must-not-lose session's queue stayed full
// for the session's Stall, ErrPermission, ErrMaxPayload (a session of Kind
// SessionClient only: it has its user's payload limit, as a client), or
// ErrClosed. Publish copies what it needs: the caller keeps its slices.
func (sess *Session) Publish(subject, reply string, hdr, data []byte) error {
	c := sess.c
	if !sublist.ValidLiteralSubject(subject) {
		return sublist.ErrInvalidSubject
	}
	if c.isClosed() {
		return ErrClosed
	}
	// A front end's user has a client's limit (a limit of zero allows
	// empty messages only). Internal services (JetStream's API, the MQTT
	// front end's requests to it, the system services) have none, as
	// upstream's internal clients: a small max_payload must not stop them.
	if c.sess.kind == SessionClient {
		if limit := max(c.payloadLimit(), 0); len(hdr)+len(data) > limit {
			// Logged as upstream logs a client's (its MQTT clients' too).
			c.srv.log.Error(fmt.Sprintf("%s - maximum payload exceeded: %d vs %d", c.logPrefix(), len(hdr)+len(data), limit))
			return ErrMaxPayload
		}
	}
	pc := pubCtxPool.Get().(*pubCtx)
	subj, rep, hdrLen, payload := pc.load(subject, reply, hdr, data)
	if si := c.sess; si.publisher.Load() != nil {
		si.pubMu.Lock()
		ok := si.publisher.Load().CanPublish(subj) // nil allows all
		si.pubMu.Unlock()
		if !ok && !c.allowReply(subj) {
			pc.release()
			return ErrPermission
		}
	}
	pc.stallMax = sess.stall
	if c.traceOn.Load() {
		c.traceInternalPub(subj, rep, payload)
	}
	// Counted as a client's PUB is: /connz in_msgs, /varz in_msgs.
	n := int64(len(payload))
	c.inMsgsTotal.Add(1)
	c.inBytesTotal.Add(n)
	c.srv.stats.InMsgs.Add(1)
	c.srv.stats.InBytes.Add(n)
	if c.userConn() {
		c.srv.stats.InClientMsgs.Add(1)
		c.srv.stats.InClientBytes.Add(n)
	}
	return c.deliverInProc(pc, subj, rep, hdrLen, payload)
}

// userConn reports whether c is a user's connection as upstream counts
// them: a socket client or a session of Kind "Client" (a front end's
// user), not an internal client.
func (c *client) userConn() bool {
	return c.kind == kindClient || (c.kind == kindSession && c.sess.kind == SessionClient)
}

// clientSessionsLocked appends the open sessions of Kind "Client" to cs;
// s.mu is held.
func (s *Server) clientSessionsLocked(cs []*client) []*client {
	for _, c := range s.sessions {
		if c.sess.kind == SessionClient {
			cs = append(cs, c)
		}
	}
	return cs
}

func (c *client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Close removes the session's own subscriptions, drops what its queue
// holds, closes its Conn and takes it out of /connz. No handler starts
// after Close returns; one that runs then finishes. Close is idempotent.
func (sess *Session) Close() error {
	sess.c.closeConnection(reasonClientClosed)
	return nil
}

// Done is closed once the session is closed, by Close or by the server:
// its shutdown, a slow consumer on Conn, or a configuration reload that
// no longer accepts the session's credentials. CloseReason then says why.
func (sess *Session) Done() <-chan struct{} { return sess.c.done }

// CloseReason is why the session closed, as /connz?state=closed shows it
// in "reason": "Client Closed" (Close, or a reload that removed the user
// or moved it to another account), "Authentication Failure" (a reload
// that no longer accepts its credentials), "Server Shutdown", "Slow
// Consumer (Write Deadline)", ... It is "" while the session is open.
func (sess *Session) CloseReason() string {
	c := sess.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		return ""
	}
	return c.reason.String()
}

// sessInfo is what a session's client carries besides a client's state.
type sessInfo struct {
	kind, typ, mqtt string
	traced          bool // SessionOptions.Traced
	enc             Encoder
	q               *sessQueue

	// replies is the client's allow_responses tracker (client.replies),
	// read without a lock when a message is queued for a handler.
	replies atomic.Pointer[auth.Replies]
	// publisher checks the session's publishes (nil: no publish
	// permissions). pubMu serializes its use: it is not safe for
	// concurrent use; a reload swaps it under pubMu.
	pubMu     sync.Mutex
	publisher atomic.Pointer[auth.Publisher]
}

// queued is one message in a session's queue: its bytes copied into buf,
// which the slot keeps for the next message.
type queued struct {
	sub                   *subscription
	from                  *client
	mt                    *msgTrace // held for a Traced session
	buf                   []byte    // subject, reply, payload
	subjLen, replyLen, hl int
}

// sessQueue is a session's bounded message queue: publishers copy into
// free slots, the session's goroutine hands the oldest to its handler and
// frees it after the handler returned. Its lock is a leaf.
type sessQueue struct {
	mu      sync.Mutex
	slots   []queued // a ring; it grows up to max as the backlog does
	max     int
	head, n int
	closed  bool
	drop    bool
	dropped int64
	// inline is SessionOptions.Inline; busy is set while a publisher
	// runs a handler itself (claim), when the consumer must wait.
	inline, busy bool
	// space is made by a publisher that found the queue full and closed
	// by the consumer when it frees a slot.
	space chan struct{}
	kick  chan struct{} // wakes the consumer; capacity 1
	msg   Msg           // the consumer's Msg, reused
}

// push copies a message into the queue. It returns true when queued;
// otherwise a channel to wait on for space (nil when the message is
// dropped or the session closed).
func (q *sessQueue) push(sub *subscription, from *client, mt *msgTrace, subject, reply []byte, hdrLen int, payload []byte) (bool, chan struct{}) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false, nil
	}
	if q.n == len(q.slots) && len(q.slots) < q.max {
		q.grow()
	}
	if q.n == len(q.slots) {
		if q.drop {
			q.dropped++
			q.mu.Unlock()
			return false, nil
		}
		if q.space == nil {
			q.space = make(chan struct{})
		}
		ch := q.space
		q.mu.Unlock()
		return false, ch
	}
	i := q.head + q.n
	if i >= len(q.slots) {
		i -= len(q.slots)
	}
	sl := &q.slots[i]
	sl.sub, sl.from, sl.mt = sub, from, mt
	if mt != nil {
		mt.holds.Add(1)
	}
	sl.subjLen, sl.replyLen, sl.hl = len(subject), len(reply), hdrLen
	sl.buf = append(append(append(sl.buf[:0], subject...), reply...), payload...)
	q.n++
	wake := q.n == 1
	q.mu.Unlock()
	if wake {
		select {
		case q.kick <- struct{}{}:
		default:
		}
	}
	return true, nil
}

// close stops the queue: no handler starts after it returns.
func (q *sessQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.n = 0
	if q.space != nil {
		close(q.space)
		q.space = nil
	}
	q.mu.Unlock()
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// grow doubles the ring (up to max), keeping the order: the oldest
// message, which the consumer may be handling, moves to index 0, so
// its release (head++) stays right.
func (q *sessQueue) grow() {
	slots := make([]queued, min(max(2*len(q.slots), initialQueue), q.max))
	k := copy(slots, q.slots[q.head:])
	copy(slots[k:], q.slots[:q.head])
	q.slots, q.head = slots, 0
}

// initialQueue is the ring a session's queue starts with: most sessions
// never hold more, and a stream's or service's may hold thousands.
const initialQueue = 32

// run hands queued messages to their handlers in order until the session
// closes or the server shuts down.
func (sess *Session) run() {
	q, s := sess.q, sess.c.srv
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return
		}
		if q.n == 0 || q.busy {
			q.mu.Unlock()
			select {
			case <-q.kick:
			case <-s.quit:
				return // Shutdown closes the session
			}
			continue
		}
		sl := &q.slots[q.head]
		sub := sl.sub
		m := &q.msg
		*m = Msg{Subject: sl.buf[:sl.subjLen], from: sl.from, mt: sl.mt}
		if sl.replyLen > 0 {
			m.Reply = sl.buf[sl.subjLen : sl.subjLen+sl.replyLen]
		}
		m.Data = sl.buf[sl.subjLen+sl.replyLen:]
		if sl.hl >= 0 {
			m.Header, m.Data = m.Data[:sl.hl], m.Data[sl.hl:]
		}
		q.mu.Unlock()
		sess.c.mu.Lock()
		live := !sub.closed || sub.drain
		sess.c.mu.Unlock()
		if live {
			sub.handler(m)
		}
		if mt := m.mt; mt != nil {
			mt.release()
		}
		*m = Msg{}
		q.mu.Lock()
		if !q.closed {
			sl.sub, sl.from, sl.mt = nil, nil, nil
			q.head++
			if q.head == len(q.slots) {
				q.head = 0
			}
			q.n--
			if q.space != nil {
				close(q.space)
				q.space = nil
			}
		}
		q.mu.Unlock()
	}
}

// claim reports whether the caller may run a handler itself: the session
// allows it, nothing is queued and no handler runs. It then holds the
// queue's consumer back until unclaim.
func (q *sessQueue) claim() bool {
	q.mu.Lock()
	ok := q.inline && !q.busy && q.n == 0 && !q.closed
	if ok {
		q.busy = true
	}
	q.mu.Unlock()
	return ok
}

// unclaim ends a claim, waking the consumer for what was queued
// meanwhile.
func (q *sessQueue) unclaim() {
	q.mu.Lock()
	q.busy = false
	wake := q.n > 0
	q.mu.Unlock()
	if wake {
		select {
		case q.kick <- struct{}{}:
		default:
		}
	}
}

// inline runs sub's handler on the publisher's goroutine, for a message a
// socket client's read loop delivers to an Inline session whose queue is
// idle. It reports false when the message must be queued instead.
func (pc *pubCtx) inline(sub *subscription, subject, reply []byte, hdrLen int, payload []byte) bool {
	from, q := pc.from, sub.sq
	if pc.mt != nil || from == nil || from.kind != kindClient || pc != &from.pub || !q.claim() {
		return false
	}
	sc := sub.client
	sc.mu.Lock()
	live := !sub.closed || sub.drain
	sc.mu.Unlock()
	if live {
		m := &pc.msg
		*m = Msg{Subject: subject, Reply: reply, Data: payload, from: from}
		if hdrLen >= 0 {
			m.Header, m.Data = payload[:hdrLen], payload[hdrLen:]
		}
		sub.handler(m)
		*m = Msg{}
	}
	q.unclaim()
	return true
}

// enqueue delivers to a handler subscription of a session: into its queue,
// waiting for space within the publisher's stall budget when it is full.
// A message refused for good marks pc (the publisher sees an error).
func (pc *pubCtx) enqueue(sub *subscription, subject, reply []byte, hdrLen int, payload []byte) bool {
	if f := sub.filter.Load(); f != nil && !f.CanDeliver(subject) {
		return false
	}
	if len(reply) > 0 {
		if r := sub.client.sess.replies.Load(); r != nil {
			// Recorded before the handler can see the message, so its
			// answer finds it (allow_responses).
			r.Add(reply, time.Now())
		}
	}
	if sub.sq.inline && pc.inline(sub, subject, reply, hdrLen, payload) {
		pc.outMsgs++
		pc.outBytes += int64(len(payload))
		if sub.client.userConn() {
			pc.outClientMsgs++
			pc.outClientBytes += int64(len(payload))
		}
		sub.client.countOut(len(payload))
		return true
	}
	for {
		var mt *msgTrace
		if pc.mt != nil && sub.client.sess.traced {
			mt = pc.mt
		}
		ok, wait := sub.sq.push(sub, pc.from, mt, subject, reply, hdrLen, payload)
		if ok {
			pc.outMsgs++
			pc.outBytes += int64(len(payload))
			if sub.client.userConn() {
				pc.outClientMsgs++
				pc.outClientBytes += int64(len(payload))
			}
			sub.client.countOut(len(payload))
			return true
		}
		if wait == nil {
			return false
		}
		if sub.queue != "" {
			// Another member may take it (queueDone decides).
			pc.qFull = true
			return false
		}
		budget := pc.budget()
		if pc.stalled >= budget {
			pc.refused = true
			return false
		}
		pc.stallUpTo(wait, budget)
	}
}

// queueDone settles a queue group's delivery: when no member took the
// message and one refused it for a full queue, the publisher is refused.
// Queue members do not stall their publisher: another member may be free.
func (pc *pubCtx) queueDone(taken bool) {
	if pc.qFull {
		pc.qFull = false
		if !taken {
			pc.refused = true
		}
	}
}

// countOut adds a delivered message to the session's /connz counters.
func (c *client) countOut(n int) {
	c.mu.Lock()
	c.outMsgs++
	c.outBytes += int64(n)
	c.mu.Unlock()
}

// budget is how long this publisher may stall per batch for a
// must-not-lose session: an in-process publisher's Stall; for a socket
// client (or a link) the write deadline: its reader stops, so TCP slows
// the client down instead of a message being lost.
func (pc *pubCtx) budget() time.Duration {
	if pc.stallMax > 0 {
		return pc.stallMax
	}
	if pc.from != nil && pc.from.kind != kindSession && pc.from.kind != kindInternal {
		return time.Duration(pc.from.srv.writeDeadline.Load())
	}
	return maxStallPerBatch
}

// refusedPub tells a socket client that a must-not-lose session refused
// its message after the stall: -ERR 'Slow Consumer Refused ...', the
// connection stays open (nats.go closes on an -ERR it does not know, so
// its application learns of the loss either way).
func (c *client) refusedPub(subject []byte) {
	c.pub.refused = false
	c.srv.log.Warn(c.logPrefix() + " - publish to \"" + string(subject) + "\" refused: a session's queue is full")
	c.sendErr(errTextQueueFull)
}

// errTextQueueFull is the -ERR a socket client gets for a refused message.
const errTextQueueFull = "Slow Consumer: Session Queue Full"

// encodeHeader frames a message for a session's Conn with its Encoder;
// c.mu of the session's client is held.
func (si *sessInfo) encodeHeader(o *outbound, subject, sid, reply []byte, hdrLen, size int) {
	if b := o.room(len(subject) + len(sid) + len(reply) + maxMsgLineOverhead); b != nil {
		o.grew(si.enc.AppendMsgHeader(b, subject, sid, reply, hdrLen, size))
		return
	}
	o.write(si.enc.AppendMsgHeader(nil, subject, sid, reply, hdrLen, size))
}

// trailer is what follows a message's payload on c's connection.
func (c *client) trailer() []byte {
	if c.sess != nil && c.sess.enc != nil {
		return c.sess.enc.Trailer()
	}
	return crlf
}

// appendSessions adds the open sessions of Kind "Client" (or the session
// with cid, whatever its kind) to list, for /connz.
func (s *Server) appendSessions(list []*client, cid uint64) []*client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cid > 0 {
		if c := s.sessions[cid]; c != nil {
			list = append(list, c)
		}
		return list
	}
	for _, c := range s.sessions {
		// Upstream lists no internal client: only front ends' users
		// (Kind "Client") are in the default listing.
		if c.sess.kind == SessionClient {
			list = append(list, c)
		}
	}
	return list
}

// PublishAs delivers a message to the local subscriptions of the
// session's account that match to, presenting it under subject in their
// MSG (as JetStream consumers deliver a stored message to an inbox or a
// deliver subject under the subject it was stored on). Links get it on
// to, the subject after '@' in the reply (upstream's form). Permissions are not checked (the
// sessions that use it are bound to an account). Errors as Publish.
func (sess *Session) PublishAs(to, subject, reply string, hdr, data []byte) error {
	c := sess.c
	if !sublist.ValidLiteralSubject(to) {
		return sublist.ErrInvalidSubject
	}
	if c.isClosed() {
		return ErrClosed
	}
	max := int(c.srv.maxPayload.Load())
	if a := c.acc.lim().MaxPayload; a > 0 && a < max {
		max = a
	}
	if len(hdr)+len(data) > max {
		return ErrMaxPayload
	}
	pc := pubCtxPool.Get().(*pubCtx)
	subj, rep, hdrLen, payload := pc.load(subject, reply, hdr, data)
	pc.stallMax = sess.stall
	n := int64(len(payload))
	c.inMsgsTotal.Add(1)
	c.inBytesTotal.Add(n)
	c.srv.stats.InMsgs.Add(1)
	c.srv.stats.InBytes.Add(n)
	if c.userConn() {
		c.srv.stats.InClientMsgs.Add(1)
		c.srv.stats.InClientBytes.Add(n)
	}
	pc.from = c
	pc.origin = ConnInProcess
	r := c.acc.sl.Match(to)
	var skip *client
	if !c.opts.Echo {
		skip = c
	}
	pc.deliverPlain(r.Plain, nil, skip, subj, rep, hdrLen, payload)
	for i := range r.Queues {
		pc.queueDone(pc.deliverQueue(r.Queues[i].Members, nil, skip, subj, rep, hdrLen, payload))
	}
	if len(pc.routes) > 0 {
		// A link (a requester on another server, a leaf node) gets it on
		// to, with the subject it is presented under after '@' in the
		// reply, as upstream's JetStream sends it; the server at the
		// other end presents it so (deliverRouted).
		wire := rep
		if len(rep) > 0 {
			wire = make([]byte, 0, len(rep)+1+len(subj))
			wire = append(append(append(wire, rep...), '@'), subj...)
		}
		pc.sendRoutes(c.acc, []byte(to), wire, hdrLen, payload)
	}
	pc.flushSignals()
	pc.flushStats(&c.srv.stats)
	refused := pc.refused
	pc.release()
	if refused {
		return ErrQueueFull
	}
	return nil
}

// Write sends b on the session's Conn, after everything delivered to it
// before: a front end writes its own protocol packets (acknowledgements,
// pings) with it. When nothing is queued and the writer is idle, Write
// writes on the caller's goroutine (a request answered without waking
// another goroutine); otherwise it queues a copy of b for the writer
// (one writer goroutine, writev, the slow-consumer policy). A backlog past
// max_pending closes the session as a slow consumer and returns ErrClosed,
// as a delivery would; so does a failed write.
func (sess *Session) Write(b []byte) error { return sess.write(b, true) }

// Queue is Write without the write on the caller's goroutine: b always
// goes to the writer. A goroutine that serves many sessions (a front end's
// shared one) uses it, so that one slow client cannot hold it.
func (sess *Session) Queue(b []byte) error { return sess.write(b, false) }

func (sess *Session) write(b []byte, inline bool) error {
	c := sess.c
	if c.nc == nil {
		return errors.New("server: Write on a session without Conn")
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if inline && c.out.pending() == 0 && !c.writing {
		c.writing = true
		c.mu.Unlock()
		c.nc.SetWriteDeadline(time.Now().Add(time.Duration(c.srv.writeDeadline.Load())))
		_, err := c.nc.Write(b)
		c.mu.Lock()
		c.writing = false
		again := c.out.queued > 0
		if again {
			c.flushPending = true
		}
		c.mu.Unlock()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.slowConsumer(reasonSlowConsumerWriteDeadline, 1, len(b))
			} else {
				c.closeConnection(reasonWriteError)
			}
			return ErrClosed
		}
		if again {
			c.signal()
		}
		return nil
	}
	c.out.write(b)
	slow := int64(c.out.pending()) > c.srv.maxPending.Load()
	signal := !c.flushPending
	c.flushPending = true
	c.mu.Unlock()
	if slow {
		c.slowConsumer(reasonSlowConsumerPending, 0, 0)
		return ErrClosed
	}
	if signal {
		c.signal()
	}
	return nil
}

// User is the user the session authenticated as ("" when it is bound to
// an account or the server has no authentication).
func (sess *Session) User() string {
	c := sess.c
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.authUser
}

// MayReceive reports whether the session's user may receive a message on
// the literal subject: its subscribe permissions allow the subject itself
// (a wildcard subscription's deny rules included). A front end checks it
// before it hands over stored messages (MQTT's retained messages).
func (sess *Session) MayReceive(subject string) bool {
	c := sess.c
	c.mu.Lock()
	ch := c.checker
	c.mu.Unlock()
	return ch == nil || (ch.CanSubscribe(subject, "") && ch.CanDeliver([]byte(subject)))
}

// CloseCause is why a front end closes its session, as /connz?state=closed
// shows it.
type CloseCause uint8

// Causes for CloseFor.
const (
	CloseClientClosed      CloseCause = iota // "Client Closed": the client said goodbye or went away
	CloseProtocolViolation                   // "Protocol Violation": a malformed or forbidden packet
	CloseAuthFailure                         // "Authentication Failure"
	CloseStale                               // "Stale Connection": the client stopped talking (keepalive)
	CloseKicked                              // "Kicked": replaced by a newer connection of the same client
	CloseServerShutdown                      // "Server Shutdown"
	CloseMaxPayload                          // "Maximum Message Payload Exceeded"
)

var causeReason = [...]closeReason{
	CloseClientClosed:      reasonClientClosed,
	CloseProtocolViolation: reasonProtocolViolation,
	CloseAuthFailure:       reasonAuthViolation,
	CloseStale:             reasonStaleConnection,
	CloseKicked:            reasonKicked,
	CloseServerShutdown:    reasonServerShutdown,
	CloseMaxPayload:        reasonMaxPayload,
}

// CloseFor is Close with a cause: what Write queued before (a front end's
// last packets: a refusal, a DISCONNECT with a reason) is still written
// before the Conn closes.
func (sess *Session) CloseFor(cause CloseCause) {
	r := reasonClientClosed
	if int(cause) < len(causeReason) {
		r = causeReason[cause]
	}
	sess.c.closeWith(r, true)
}

// Sent reports whether m, handed to one of the session's handlers, was
// published by the session itself (MQTT 5's no-local option).
func (sess *Session) Sent(m *Msg) bool { return m.from == sess.c }

// MayPublish reports whether the session's user may publish to the
// literal subject.
func (sess *Session) MayPublish(subject string) bool {
	si := sess.c.sess
	if si.publisher.Load() == nil {
		return true
	}
	si.pubMu.Lock()
	defer si.pubMu.Unlock()
	return si.publisher.Load().CanPublish([]byte(subject))
}
