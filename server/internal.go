package server

import (
	"errors"
	"strconv"
	"sync"

	"natsd.dev/auth"
	"natsd.dev/sublist"
)

// Msg is a message delivered to an internal subscription. Its slices are
// views into the publisher's buffers: they are valid only while the handler
// runs; copy what you keep.
type Msg struct {
	Subject []byte
	Reply   []byte
	Header  []byte // the header block ("NATS/1.0\r\n..."), nil without headers
	Data    []byte
	from    *client
	mt      *msgTrace // for a Traced session's handler
}

// Requester describes the connection that published a message.
type Requester struct {
	// Account is the publisher's account, User its authenticated user
	// ("" without authentication).
	Account, User string
	// Permissions are the user's permissions, nil when unrestricted.
	Permissions *auth.Permissions
	// Client is true for a client connection or a Session; false for
	// an InternalClient or a message that came over a route, whose
	// publisher is not known here (Account and User are then empty).
	Client bool
}

// Requester returns who published m. Call it from the handler: it is
// valid only while the handler runs, as m is.
func (m *Msg) Requester() Requester {
	c := m.from
	if c == nil || (c.kind != kindClient && c.kind != kindSession) {
		return Requester{}
	}
	c.mu.Lock()
	r := Requester{Account: c.acc.Name, User: c.authUser, Client: true}
	if c.kind == kindSession {
		ch := c.checker // a reload replaces a session's under its lock
		c.mu.Unlock()
		r.Permissions = ch.Permissions()
		return r
	}
	c.mu.Unlock()
	// A socket client's checker is set before CONNECT is accepted, and
	// replaced by a reload, by the read loop that published this message.
	r.Permissions = c.checker.Permissions()
	return r
}

// MsgHandler handles a message for an in-process subscription. For an
// InternalClient it runs on the publisher's goroutine and must not block;
// for a Session it runs on the session's goroutine, and blocking slows
// (then refuses) the session's publishers.
type MsgHandler func(m *Msg)

// ErrClosed is returned by InternalClient methods after Close.
var ErrClosed = errors.New("server: internal client closed")

// InternalClient publishes and subscribes from inside the process, in one
// account, without a socket, authentication, listing or flow control: its
// handlers run on the publisher's goroutine. It suits taps that never
// block (the core uses one to hold interest in service responses); users
// that may fall behind (JetStream, MQTT, system services) attach a Session
// instead. It is safe for concurrent use.
type InternalClient struct {
	c      *client
	sidSeq uint64 // guarded by c.mu
}

// InternalSub is a subscription of an InternalClient.
type InternalSub struct {
	ic  *InternalClient
	sub *subscription
}

// NewInternalClient returns an in-process client of the named account ("" is
// the global account).
func (s *Server) NewInternalClient(account string) (*InternalClient, error) {
	acc := s.gAcc
	if account != "" {
		if acc = s.LookupAccount(account); acc == nil {
			return nil, errors.New("server: no account " + account)
		}
	}
	c := s.internalClient(acc)
	c.traceSystem()
	return &InternalClient{c: c}, nil
}

// internalClient returns the client behind an InternalClient of acc.
func (s *Server) internalClient(acc *Account) *client {
	c := &client{
		srv:     s,
		cid:     s.nextCID.Add(1),
		kind:    kindInternal,
		acc:     acc,
		subs:    make(map[string]*subscription),
		done:    make(chan struct{}),
		headers: true,
	}
	c.opts = connectOpts{Echo: true, Headers: true, Protocol: 1}
	return c
}

// Subscribe registers h for messages on subject (wildcards allowed); with a
// non-empty queue, h shares the messages with the other members.
func (ic *InternalClient) Subscribe(subject, queue string, h MsgHandler) (*InternalSub, error) {
	if h == nil {
		return nil, errors.New("server: nil handler")
	}
	if !sublist.ValidFilter(subject) {
		return nil, sublist.ErrInvalidSubject
	}
	sub := &subscription{client: ic.c, subject: subject, queue: queue, handler: h}
	if err := ic.c.addInProcSub(sub, &ic.sidSeq, false); err != nil {
		return nil, err
	}
	if ic.c.traceOn.Load() {
		ic.c.traceInternalSub(sub)
	}
	return &InternalSub{ic: ic, sub: sub}, nil
}

// Unsubscribe removes the subscription; messages in flight may still reach
// the handler.
func (is *InternalSub) Unsubscribe() error {
	is.ic.c.removeInProcSub(is.sub)
	return nil
}

// Publish sends a message as if a client published it. hdr, when not nil,
// is a complete header block ("NATS/1.0\r\n...\r\n\r\n"). It copies
// subject and reply into pooled buffers and allocates nothing in steady
// state.
func (ic *InternalClient) Publish(subject, reply string, hdr, data []byte) error {
	if !sublist.ValidLiteralSubject(subject) {
		return sublist.ErrInvalidSubject
	}
	pc := pubCtxPool.Get().(*pubCtx)
	subj, rep, hdrLen, payload := pc.load(subject, reply, hdr, data)
	if ic.c.traceOn.Load() {
		ic.c.traceInternalPub(subj, rep, payload)
	}
	return ic.c.deliverInProc(pc, subj, rep, hdrLen, payload)
}

// Close removes the client's own subscriptions.
func (ic *InternalClient) Close() {
	c := ic.c
	c.mu.Lock()
	c.closed = true
	subs := make([]sublist.Sub[*subscription], 0, len(c.subs))
	for _, sub := range c.subs {
		sub.closed = true
		subs = append(subs, sublist.Sub[*subscription]{Subject: sub.subject, Queue: sub.queue, Value: sub})
	}
	c.subs = map[string]*subscription{}
	c.mu.Unlock()
	if len(subs) == 0 {
		return
	}
	s := c.srv
	s.interestMu.RLock()
	defer s.interestMu.RUnlock()
	_ = c.acc.sl.RemoveBatch(subs)
	for _, sub := range subs {
		s.notifyInterest(c.acc, sub.Subject, sub.Queue, false)
	}
}

// The subscription and publishing machinery below is shared by
// InternalClient and Session: they differ in checks (permissions, limits,
// payload size) and in where a handler runs, not in how interest is
// registered or a message is delivered.

// addInProcSub gives sub the next sid of *sidSeq and registers it in c's
// account; with limit, the subscription limits apply. It fails with
// ErrClosed when c is (or gets) closed meanwhile.
func (c *client) addInProcSub(sub *subscription, sidSeq *uint64, limit bool) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if max := c.maxSubs(); limit && max >= 0 && len(c.subs) >= max {
		c.mu.Unlock()
		return ErrTooManySubs
	}
	*sidSeq++
	sub.sid = strconv.AppendUint(nil, *sidSeq, 10)
	c.subs[string(sub.sid)] = sub
	c.mu.Unlock()
	s := c.srv
	s.interestMu.RLock()
	err := c.acc.sl.Insert(sub.subject, sub.queue, sub)
	if err == nil {
		s.notifyInterest(c.acc, sub.subject, sub.queue, true)
	}
	s.interestMu.RUnlock()
	if err != nil {
		c.mu.Lock()
		delete(c.subs, string(sub.sid))
		c.mu.Unlock()
		return err
	}
	c.mu.Lock()
	gone := sub.closed
	c.mu.Unlock()
	if gone { // c closed meanwhile
		s.removeLocalSub(c.acc, sub)
		return ErrClosed
	}
	return nil
}

// removeInProcSub unregisters sub once; messages in flight may still
// reach its handler.
func (c *client) removeInProcSub(sub *subscription) {
	c.mu.Lock()
	if sub.closed {
		c.mu.Unlock()
		return
	}
	sub.closed = true
	delete(c.subs, string(sub.sid))
	c.mu.Unlock()
	c.srv.removeLocalSub(c.acc, sub)
}

// pubCtxPool holds the publishing state of in-process publishers, so that
// a Publish allocates nothing in steady state.
var pubCtxPool = sync.Pool{New: func() any { return new(pubCtx) }}

// load copies an in-process publish into pc's buffers, so the caller
// keeps its slices; the views stay valid until pc is released.
func (pc *pubCtx) load(subject, reply string, hdr, data []byte) (subj, rep []byte, hdrLen int, payload []byte) {
	pc.buf = append(append(pc.buf[:0], subject...), reply...)
	subj, rep = pc.buf[:len(subject)], pc.buf[len(subject):]
	if len(rep) == 0 {
		rep = nil
	}
	hdrLen, payload = -1, data
	if hdr != nil {
		hdrLen = len(hdr)
		pc.buf2 = append(append(pc.buf2[:0], hdr...), data...)
		payload = pc.buf2
	}
	return subj, rep, hdrLen, payload
}

// deliverInProc delivers a message c publishes from inside the process
// and releases pc. It returns ErrQueueFull when a must-not-lose session
// refused it.
func (c *client) deliverInProc(pc *pubCtx, subj, rep []byte, hdrLen int, payload []byte) error {
	c.srv.deliverMsg(pc, c, c.acc, subj, rep, hdrLen, payload)
	pc.flushSignals()
	pc.flushStats(&c.srv.stats)
	refused := pc.refused
	pc.release()
	if refused {
		return ErrQueueFull
	}
	return nil
}

// release returns an in-process publisher's pubCtx to the pool. Its stall
// timer is not kept: a timer made inside a testing/synctest bubble must
// not reach a publisher outside it (a stall costs milliseconds anyway).
func (pc *pubCtx) release() {
	pc.refused, pc.stallMax, pc.from = false, 0, nil
	pc.stallTimer = nil
	pubCtxPool.Put(pc)
}
