package servertest

import (
	"bufio"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/auth"
	"natsd.dev/server"
	"natsd.dev/server/snapshot"
)

// TestSession is an in-process session as the conformance suite drives
// it: an implementation (a protocol front end, a delivery mode of
// server.Session) adapts itself to these methods.
type TestSession interface {
	// Subscribe subscribes to subject; got receives each message, in
	// order, on one goroutine, and may block (that is how the suite
	// makes a slow consumer).
	Subscribe(subject string, got func(subject string, data []byte)) error
	// Publish publishes data on subject; it returns the error the
	// publisher sees (server.ErrQueueFull, server.ErrPermission...).
	Publish(subject string, data []byte) error
	// ID is the session's id in /connz.
	ID() uint64
	// Close closes the session.
	Close() error
}

// SessionAttach attaches the implementation under test to s.
type SessionAttach func(s *server.Server, opts server.SessionOptions) (TestSession, error)

// SessionCaps says what an implementation under test promises beyond
// the basics.
type SessionCaps struct {
	// FlowControl: a slow consumer slows and then refuses its publishers
	// and loses nothing (handler delivery). Without it, a slow consumer
	// is closed (the socket client's policy).
	FlowControl bool
	// Kind and Type are what /connz must show for the session.
	Kind, Type string
}

// RunSessions runs the session conformance suite against attach. Every
// implementation of an in-process session passes it: subscribe and
// publish both ways with a nats.go client, permissions of an
// authenticated user, account isolation, order per subscription, Close
// removing only the session's subscriptions, /connz listing with the kind,
// and with caps.FlowControl a slow handler that slows then refuses an
// in-process publisher (under testing/synctest's clock) and slows a socket
// publisher, losing nothing. A front end runs it with an adapter:
//
//	func TestMQTTSessions(t *testing.T) {
//		servertest.RunSessions(t, attachMQTT, servertest.SessionCaps{FlowControl: true, Type: "mqtt"})
//	}
//
// HandlerSessions and ConnSessions are the adapters of server.Session's
// two delivery modes.
func RunSessions(t *testing.T, attach SessionAttach, caps SessionCaps) {
	t.Run("PubSubWithClient", func(t *testing.T) { sessPubSub(t, attach) })
	t.Run("Permissions", func(t *testing.T) { sessPermissions(t, attach) })
	t.Run("AccountIsolation", func(t *testing.T) { sessIsolation(t, attach) })
	t.Run("Ordering", func(t *testing.T) { sessOrdering(t, attach) })
	t.Run("CloseRemovesOwnSubs", func(t *testing.T) { sessClose(t, attach) })
	t.Run("Connz", func(t *testing.T) { sessConnz(t, attach, caps) })
	if caps.FlowControl {
		t.Run("SlowHandlerRefusesInProcessPublisher", func(t *testing.T) { sessRefuse(t, attach) })
		t.Run("SlowHandlerSlowsSocketPublisher", func(t *testing.T) { sessSlowSocket(t, attach) })
	}
}

func mustAttach(tb testing.TB, attach SessionAttach, s *server.Server, opts server.SessionOptions) TestSession {
	tb.Helper()
	ts, err := attach(s, opts)
	if err != nil {
		tb.Fatalf("attach: %v", err)
	}
	tb.Cleanup(func() { ts.Close() })
	return ts
}

// collector gathers what a session receives.
type collector struct {
	mu   sync.Mutex
	msgs []string
}

func (c *collector) got(subject string, data []byte) {
	c.mu.Lock()
	c.msgs = append(c.msgs, subject+" "+string(data))
	c.mu.Unlock()
}

func (c *collector) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.msgs...)
}

func (c *collector) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

// sessPubSub: a nats.go client and a session exchange messages both ways.
func sessPubSub(t *testing.T, attach SessionAttach) {
	s := Start(t, server.Options{})
	ts := mustAttach(t, attach, s, server.SessionOptions{Name: "conf"})
	var in collector
	if err := ts.Subscribe("conf.in.*", in.got); err != nil {
		t.Fatal(err)
	}
	nc := Connect(t, s)
	sub, err := nc.SubscribeSync("conf.out")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish("conf.in.a", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	WaitUntil(t, "session got the client's message", func() bool { return in.len() == 1 })
	if got := in.list()[0]; got != "conf.in.a hello" {
		t.Fatalf("session got %q", got)
	}
	if err := ts.Publish("conf.out", []byte("world")); err != nil {
		t.Fatal(err)
	}
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Data) != "world" {
		t.Fatalf("client got %q", m.Data)
	}
}

// sessPermissions: a session authenticated as a user gets the user's
// permissions; bad credentials are refused.
func sessPermissions(t *testing.T, attach SessionAttach) {
	perms := &auth.Permissions{
		Publish:   &auth.SubjectPermission{Allow: []string{"ok.>"}},
		Subscribe: &auth.SubjectPermission{Allow: []string{"ok.>"}},
	}
	s := Start(t, server.Options{Authorization: &auth.Config{Users: []auth.User{
		{Name: "limited", Password: "l", Permissions: perms},
		{Name: "free", Password: "f"},
	}}})
	if _, err := attach(s, server.SessionOptions{User: "limited", Password: "wrong"}); err == nil {
		t.Fatal("attach with a wrong password succeeded")
	}
	ts := mustAttach(t, attach, s, server.SessionOptions{User: "limited", Password: "l"})
	if err := ts.Publish("denied", nil); !errors.Is(err, server.ErrPermission) {
		t.Fatalf("publish to a denied subject: %v", err)
	}
	if err := ts.Subscribe("denied", func(string, []byte) {}); !errors.Is(err, server.ErrPermission) {
		t.Fatalf("subscribe to a denied subject: %v", err)
	}
	var in collector
	if err := ts.Subscribe("ok.in", in.got); err != nil {
		t.Fatal(err)
	}
	nc := Connect(t, s, nats.UserInfo("free", "f"))
	sub, err := nc.SubscribeSync("ok.out")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := ts.Publish("ok.out", []byte("allowed")); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.NextMsg(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish("ok.in", []byte("x")); err != nil {
		t.Fatal(err)
	}
	WaitUntil(t, "allowed message", func() bool { return in.len() == 1 })
}

// sessIsolation: a session bound to account A sees nothing of account B.
func sessIsolation(t *testing.T, attach SessionAttach) {
	s := Start(t, server.Options{
		Accounts: []string{"A", "B"},
		Authorization: &auth.Config{Users: []auth.User{
			{Name: "a", Password: "a", Account: "A"},
			{Name: "b", Password: "b", Account: "B"},
		}},
	})
	ts := mustAttach(t, attach, s, server.SessionOptions{Account: "A"})
	var in collector
	if err := ts.Subscribe("iso", in.got); err != nil {
		t.Fatal(err)
	}
	b := Connect(t, s, nats.UserInfo("b", "b"))
	a := Connect(t, s, nats.UserInfo("a", "a"))
	if err := b.Publish("iso", []byte("from B")); err != nil {
		t.Fatal(err)
	}
	// B's message is processed before A's is sent: had it crossed, it
	// would be queued ahead of A's.
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := a.Publish("iso", []byte("from A")); err != nil {
		t.Fatal(err)
	}
	WaitUntil(t, "A's message", func() bool { return in.len() >= 1 })
	if got := in.list(); got[0] != "iso from A" {
		t.Fatalf("session of A got %q", got)
	}
	// And the session's publish stays in A.
	bsub, err := b.SubscribeSync("iso.back")
	if err != nil {
		t.Fatal(err)
	}
	asub, err := a.SubscribeSync("iso.back")
	if err != nil {
		t.Fatal(err)
	}
	for _, nc := range []*nats.Conn{a, b} {
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := ts.Publish("iso.back", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if _, err := asub.NextMsg(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := bsub.Pending(); n != 0 {
		t.Fatalf("account B got %d messages of A's session", n)
	}
}

// sessOrdering: one subscription gets one publisher's messages in order.
func sessOrdering(t *testing.T, attach SessionAttach) {
	s := Start(t, server.Options{})
	ts := mustAttach(t, attach, s, server.SessionOptions{})
	var in collector
	if err := ts.Subscribe("ord", in.got); err != nil {
		t.Fatal(err)
	}
	nc := Connect(t, s)
	const n = 2000
	for i := range n {
		if err := nc.Publish("ord", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	WaitUntil(t, "every message", func() bool { return in.len() == n })
	for i, m := range in.list() {
		if want := "ord " + strconv.Itoa(i); m != want {
			t.Fatalf("message %d is %q, want %q", i, m, want)
		}
	}
}

// sessClose: Close removes the session's subscriptions and no other's.
func sessClose(t *testing.T, attach SessionAttach) {
	s := Start(t, server.Options{})
	numSubs := func() int {
		sz, err := s.Subsz(&snapshot.SubszOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return sz.NumSubs
	}
	before := numSubs()
	keep := mustAttach(t, attach, s, server.SessionOptions{})
	gone, err := attach(s, server.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var kept collector
	if err := keep.Subscribe("close.a", kept.got); err != nil {
		t.Fatal(err)
	}
	for _, subj := range []string{"close.a", "close.b", "close.>"} {
		if err := gone.Subscribe(subj, func(string, []byte) {}); err != nil {
			t.Fatal(err)
		}
	}
	if got := numSubs(); got != before+4 {
		t.Fatalf("%d subscriptions, want %d", got, before+4)
	}
	if err := gone.Close(); err != nil {
		t.Fatal(err)
	}
	if got := numSubs(); got != before+1 {
		t.Fatalf("%d subscriptions after Close, want %d", got, before+1)
	}
	if err := gone.Publish("close.a", nil); err == nil {
		t.Fatal("publish after Close succeeded")
	}
	if err := keep.Publish("close.a", []byte("still")); err != nil {
		t.Fatal(err)
	}
	WaitUntil(t, "the other session's message", func() bool { return kept.len() == 1 })
}

// sessConnz: /connz lists the session with its kind, type and name while
// it is open.
func sessConnz(t *testing.T, attach SessionAttach, caps SessionCaps) {
	s := Start(t, server.Options{})
	ts := mustAttach(t, attach, s, server.SessionOptions{Kind: caps.Kind, Type: caps.Type, Name: "conf-connz", Lang: "go-inproc"})
	if err := ts.Subscribe("connz.x", func(string, []byte) {}); err != nil {
		t.Fatal(err)
	}
	find := func() *snapshot.ConnInfo {
		cz, err := s.Connz(&snapshot.ConnzOptions{CID: ts.ID(), Subscriptions: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(cz.Conns) == 0 {
			return nil
		}
		return cz.Conns[0]
	}
	ci := find()
	if ci == nil {
		t.Fatal("session not in /connz")
	}
	want := caps.Kind
	if want == "" {
		want = server.SessionClient
	}
	if ci.Kind != want || (caps.Type != "" && ci.Type != caps.Type) || ci.Name != "conf-connz" || ci.Lang != "go-inproc" {
		t.Fatalf("connz shows kind %q type %q name %q lang %q", ci.Kind, ci.Type, ci.Name, ci.Lang)
	}
	if ci.NumSubs != 1 {
		t.Fatalf("connz shows %d subscriptions", ci.NumSubs)
	}
	// The default listing shows front ends' users (Kind "Client") and,
	// as upstream, no internal client.
	all, err := s.Connz(&snapshot.ConnzOptions{})
	if err != nil {
		t.Fatal(err)
	}
	listed := false
	for _, c := range all.Conns {
		listed = listed || c.Cid == ts.ID()
	}
	if listed != (want == server.SessionClient) {
		t.Fatalf("a %q session listed by default: %v", want, listed)
	}
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	if find() != nil {
		t.Fatal("closed session still listed as open")
	}
}

// sessRefuse: a must-not-lose session whose handler is stuck slows its
// in-process publisher (the stall, under synctest's clock) and then
// refuses it with an error; every message accepted is delivered.
func sessRefuse(t *testing.T, attach SessionAttach) {
	synctest.Test(t, func(t *testing.T) {
		s, err := server.New(server.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Shutdown(t.Context())
		const queue = 8
		slow, err := attach(s, server.SessionOptions{QueueLen: queue})
		if err != nil {
			t.Fatal(err)
		}
		defer slow.Close()
		gate := make(chan struct{})
		var got atomic.Int64
		if err := slow.Subscribe("slow", func(string, []byte) {
			<-gate
			got.Add(1)
		}); err != nil {
			t.Fatal(err)
		}
		pub, err := attach(s, server.SessionOptions{Stall: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer pub.Close()
		accepted := 0
		var refused error
		start := time.Now()
		for range 10 * queue {
			if refused = pub.Publish("slow", []byte("m")); refused != nil {
				break
			}
			accepted++
		}
		if !errors.Is(refused, server.ErrQueueFull) {
			t.Fatalf("publisher never refused (accepted %d): %v", accepted, refused)
		}
		if waited := time.Since(start); waited < 50*time.Millisecond {
			t.Fatalf("publisher refused after %v, before its stall", waited)
		}
		if accepted < queue {
			t.Fatalf("only %d accepted with a queue of %d", accepted, queue)
		}
		close(gate)
		synctest.Wait()
		if int(got.Load()) != accepted {
			t.Fatalf("handler got %d, %d were accepted", got.Load(), accepted)
		}
	})
}

// sessSlowSocket: a socket client publishing into a slow must-not-lose
// session is slowed down, and nothing it published is lost.
func sessSlowSocket(t *testing.T, attach SessionAttach) {
	s := Start(t, server.Options{})
	slow := mustAttach(t, attach, s, server.SessionOptions{QueueLen: 4})
	var got atomic.Int64
	gate := make(chan struct{})
	if err := slow.Subscribe("slow", func(string, []byte) {
		<-gate
		got.Add(1)
	}); err != nil {
		t.Fatal(err)
	}
	nc := Connect(t, s)
	const n = 200
	for range n {
		if err := nc.Publish("slow", []byte("m")); err != nil {
			t.Fatal(err)
		}
	}
	// The queue holds 4: the server's reader of nc waits for room.
	close(gate)
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	WaitUntil(t, "every message", func() bool { return got.Load() == n })
	if err := nc.LastError(); err != nil {
		t.Fatal(err)
	}
}

// HandlerSessions attaches server.Session with handler subscriptions
// (flow-controlled delivery on the session's goroutine).
func HandlerSessions(s *server.Server, opts server.SessionOptions) (TestSession, error) {
	sess, err := s.Attach(opts)
	if err != nil {
		return nil, err
	}
	return handlerSession{sess}, nil
}

type handlerSession struct{ *server.Session }

func (h handlerSession) Subscribe(subject string, got func(string, []byte)) error {
	_, err := h.Session.Subscribe(subject, "", func(m *server.Msg) { got(string(m.Subject), m.Data) })
	return err
}

func (h handlerSession) Publish(subject string, data []byte) error {
	return h.Session.Publish(subject, "", nil, data)
}

// ConnSessions attaches server.Session delivering to a net.Conn through
// the outbound machinery, framed by LineEncoder; the far end of the pipe
// is read by a goroutine that hands messages to the subscribers in order.
func ConnSessions(s *server.Server, opts server.SessionOptions) (TestSession, error) {
	near, far := net.Pipe()
	opts.Conn, opts.Encoder = near, LineEncoder{}
	sess, err := s.Attach(opts)
	if err != nil {
		near.Close()
		far.Close()
		return nil, err
	}
	cs := &connSession{Session: sess, far: far, subs: map[string]func(string, []byte){}}
	go cs.read()
	return cs, nil
}

type connSession struct {
	*server.Session
	far  net.Conn
	mu   sync.Mutex
	subs map[string]func(string, []byte)
}

func (cs *connSession) Subscribe(subject string, got func(string, []byte)) error {
	// The sid is known once Subscribe returns, and a message may be on
	// the pipe before: the reader waits for the lock held meanwhile.
	cs.mu.Lock()
	defer cs.mu.Unlock()
	ss, err := cs.Session.Subscribe(subject, "", nil)
	if err != nil {
		return err
	}
	cs.subs[ss.SID()] = got
	return nil
}

func (cs *connSession) Publish(subject string, data []byte) error {
	return cs.Session.Publish(subject, "", nil, data)
}

func (cs *connSession) Close() error {
	err := cs.Session.Close()
	cs.far.Close()
	return err
}

// read parses LineEncoder frames: "sid subject size\n" payload "\n".
func (cs *connSession) read() {
	r := bufio.NewReader(cs.far)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return
		}
		size, err := strconv.Atoi(f[2])
		if err != nil {
			return
		}
		data := make([]byte, size+1)
		if _, err := ioReadFull(r, data); err != nil {
			return
		}
		cs.mu.Lock()
		got := cs.subs[f[0]]
		cs.mu.Unlock()
		if got != nil {
			got(f[1], data[:size])
		}
	}
}

func ioReadFull(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// LineEncoder is a server.Encoder of a trivial framing, standing for a
// front end's own wire format: "sid subject size\n", the payload, "\n".
// Headers are not carried.
type LineEncoder struct{}

// AppendMsgHeader implements server.Encoder.
func (LineEncoder) AppendMsgHeader(dst, subject, sid, _ []byte, _, size int) []byte {
	dst = append(dst, sid...)
	dst = append(dst, ' ')
	dst = append(dst, subject...)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(size), 10)
	return append(dst, '\n')
}

// Trailer implements server.Encoder.
func (LineEncoder) Trailer() []byte { return lineEnd }

var lineEnd = []byte("\n")
