package servertest

import (
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"

	"natsd.dev/server"
)

// LinkConnector links server b to server a with one link kind (a route
// joining a's cluster, a leaf node remote, a gateway) and returns; the
// link may come up after it returns. The suite calls it for pairs of
// servers it started with Start; the connector tears down what it
// started with the test (tb.Cleanup).
type LinkConnector func(tb testing.TB, a, b *server.Server)

// RunLinkConformance checks that a link kind meets the link seam's
// contract; every link kind runs it (ConnectFake passes it for each
// kind). kind is the kind's server.ConnKind; its forwarding policy is
// expected to be server.DefaultForwardPolicy(kind). It checks:
//
//   - interest propagates both ways and is reported to interest
//     listeners with the kind as origin and the link that holds it;
//   - messages, with and without headers, are delivered both ways;
//   - a queue group spread over two servers gets each message once, the
//     servers chosen by their member counts (weights);
//   - forwarding follows the policy table: a message that arrived over
//     a link leaves over another of the kind only if the policy admits
//     the kind (one hop for routes);
//   - a link's close reasons have texts (the shared ones and at least one
//     of the kind's own); a closed link's interest leaves the sublists
//     (reported as removed) and it gets no message after it closed.
func RunLinkConformance(t *testing.T, kind server.ConnKind, connect LinkConnector) {
	t.Run("Interest", func(t *testing.T) { linkInterest(t, kind, connect) })
	t.Run("Delivery", func(t *testing.T) { linkDelivery(t, kind, connect) })
	t.Run("QueueWeights", func(t *testing.T) { linkQueueWeights(t, kind, connect) })
	t.Run("Forwarding", func(t *testing.T) { linkForwarding(t, kind, connect) })
	t.Run("Close", func(t *testing.T) { linkClose(t, kind, connect) })
}

// InterestLog records the interest events of one server; it is an
// InterestListener registered for the test.
type InterestLog struct {
	mu     sync.Mutex
	events []server.InterestEvent
}

// WatchInterest registers an InterestLog on s until the test ends.
func WatchInterest(tb testing.TB, s *server.Server) *InterestLog {
	l := &InterestLog{}
	tb.Cleanup(s.AddInterestListener(l))
	return l
}

// InterestChanged implements server.InterestListener.
func (l *InterestLog) InterestChanged(ev server.InterestEvent) {
	l.mu.Lock()
	l.events = append(l.events, ev)
	l.mu.Unlock()
}

// Find returns the last event on subject from origin with the given
// Added, and whether there is one. origin matches the event's Origin or
// the kind of the link it came over (a spoke's interest from its hub has
// the origin ConnHub over a ConnLeaf link).
func (l *InterestLog) Find(subject string, origin server.ConnKind, added bool) (server.InterestEvent, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.events) - 1; i >= 0; i-- {
		ev := l.events[i]
		if ev.Subject == subject && (ev.Origin == origin || ev.Link != nil && ev.Link.Kind() == origin) && ev.Added == added {
			return ev, true
		}
	}
	return server.InterestEvent{}, false
}

// WaitFor waits for an event on subject from origin with the given Added
// and returns it.
func (l *InterestLog) WaitFor(tb testing.TB, subject string, origin server.ConnKind, added bool) server.InterestEvent {
	tb.Helper()
	var ev server.InterestEvent
	what := "interest in " + subject + " from a " + origin.String()
	if !added {
		what = "the removal of " + what
	}
	WaitUntil(tb, what, func() bool {
		var ok bool
		ev, ok = l.Find(subject, origin, added)
		return ok
	})
	return ev
}

func subscribe(tb testing.TB, nc *nats.Conn, subject string) *nats.Subscription {
	tb.Helper()
	sub, err := nc.SubscribeSync(subject)
	if err != nil {
		tb.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		tb.Fatal(err)
	}
	return sub
}

func next(tb testing.TB, sub *nats.Subscription) *nats.Msg {
	tb.Helper()
	m, err := sub.NextMsg(DefaultWait)
	if err != nil {
		tb.Fatalf("no message on %s: %v", sub.Subject, err)
	}
	return m
}

func linkInterest(t *testing.T, kind server.ConnKind, connect LinkConnector) {
	a, b := Start(t, server.Options{}), Start(t, server.Options{})
	la, lb := WatchInterest(t, a), WatchInterest(t, b)
	connect(t, a, b)
	for _, dir := range []struct {
		name     string
		from     *server.Server
		to       *InterestLog
		subject  string
		fromLogs *InterestLog
	}{{"a to b", a, lb, "interest.ab", la}, {"b to a", b, la, "interest.ba", lb}} {
		nc := Connect(t, dir.from)
		sub := subscribe(t, nc, dir.subject)
		if ev, ok := dir.fromLogs.Find(dir.subject, server.ConnClient, true); !ok || ev.Link != nil {
			t.Errorf("%s: local subscription reported as %+v, want a client's without a link", dir.name, ev)
		}
		ev := dir.to.WaitFor(t, dir.subject, kind, true)
		if ev.Link == nil || ev.Link.Kind() != kind || ev.Account != server.GlobalAccountName {
			t.Fatalf("%s: remote interest reported as %+v, want origin %v with its link in %s", dir.name, ev, kind, server.GlobalAccountName)
		}
		if err := sub.Unsubscribe(); err != nil {
			t.Fatal(err)
		}
		dir.to.WaitFor(t, dir.subject, kind, false)
	}
}

func linkDelivery(t *testing.T, kind server.ConnKind, connect LinkConnector) {
	a, b := Start(t, server.Options{}), Start(t, server.Options{})
	la, lb := WatchInterest(t, a), WatchInterest(t, b)
	connect(t, a, b)
	nca, ncb := Connect(t, a), Connect(t, b)
	subA, subB := subscribe(t, nca, "deliver.a"), subscribe(t, ncb, "deliver.b")
	la.WaitFor(t, "deliver.b", kind, true)
	lb.WaitFor(t, "deliver.a", kind, true)
	if err := nca.Publish("deliver.b", []byte("to b")); err != nil {
		t.Fatal(err)
	}
	if m := next(t, subB); string(m.Data) != "to b" {
		t.Errorf("b got %q", m.Data)
	}
	hm := nats.NewMsg("deliver.a")
	hm.Header.Set("X-Link", "yes")
	hm.Data = []byte("to a")
	if err := ncb.PublishMsg(hm); err != nil {
		t.Fatal(err)
	}
	m := next(t, subA)
	if string(m.Data) != "to a" || m.Header.Get("X-Link") != "yes" {
		t.Errorf("a got %q with headers %v", m.Data, m.Header)
	}
}

func linkQueueWeights(t *testing.T, kind server.ConnKind, connect LinkConnector) {
	a, b, c := Start(t, server.Options{}), Start(t, server.Options{}), Start(t, server.Options{})
	la := WatchInterest(t, a)
	connect(t, a, b)
	connect(t, a, c)
	// Every message of a server's members and its marker share one
	// channel, so the marker comes after what the link carried before it.
	members := func(s *server.Server, n int, marker string) chan *nats.Msg {
		nc := Connect(t, s)
		ch := make(chan *nats.Msg, 1024)
		for range n {
			if _, err := nc.ChanQueueSubscribe("work", "q", ch); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := nc.ChanSubscribe(marker, ch); err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		return ch
	}
	chB, chC := members(b, 3, "mark.b"), members(c, 1, "mark.c")
	// The markers were subscribed after the members: once a sees them,
	// it has the members' counts.
	la.WaitFor(t, "mark.b", kind, true)
	la.WaitFor(t, "mark.c", kind, true)
	pub := Connect(t, a)
	const total = 400
	for range total {
		if err := pub.Publish("work", nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []string{"mark.b", "mark.c"} {
		if err := pub.Publish(m, nil); err != nil {
			t.Fatal(err)
		}
	}
	count := func(ch chan *nats.Msg, marker string) int {
		n := 0
		for {
			select {
			case m := <-ch:
				if m.Subject == marker {
					return n
				}
				n++
			case <-t.Context().Done():
				return n
			}
		}
	}
	nb, nc := count(chB, "mark.b"), count(chC, "mark.c")
	if nb+nc != total {
		t.Fatalf("the queue group got %d+%d messages, want %d once each", nb, nc, total)
	}
	// Weights 3 and 1: b gets about 300, c about 100.
	if nb <= nc {
		t.Errorf("b (3 members) got %d, c (1 member) %d: the weights were not used", nb, nc)
	}
}

func linkForwarding(t *testing.T, kind server.ConnKind, connect LinkConnector) {
	a, b, c := Start(t, server.Options{}), Start(t, server.Options{}), Start(t, server.Options{})
	la, lb := WatchInterest(t, a), WatchInterest(t, b)
	// A line a - b - c (a kind that meshes, as routes, adds a - c).
	connect(t, a, b)
	connect(t, b, c)
	// b's interest first, so the interest a hears of is b's whatever the
	// mesh (c's could otherwise reach a first over an a - c link, and a's
	// message would not go to b).
	subB := subscribe(t, Connect(t, b), "hop")
	la.WaitFor(t, "hop", kind, true)
	// b's link to c is the one that holds c's interest.
	subC := subscribe(t, Connect(t, c), "hop")
	toC := lb.WaitFor(t, "hop", kind, true).Link
	pub := Connect(t, a)
	if err := pub.Publish("hop", []byte("1")); err != nil {
		t.Fatal(err)
	}
	next(t, subB)
	if server.DefaultForwardPolicy(kind).Allows(kind) {
		next(t, subC)
		if toC.Stats().OutMsgs == 0 {
			t.Errorf("c got the message, but not over b's link: b did not forward from a %v to a %v", kind, kind)
		}
		return
	}
	// b wrote to its links before it woke its local subscriber.
	if sent := toC.Stats().OutMsgs; sent != 0 {
		t.Errorf("b forwarded %d message(s) from a %v to a %v: the policy forbids it (one hop)", sent, kind, kind)
	}
}

func linkClose(t *testing.T, kind server.ConnKind, connect LinkConnector) {
	a, b := Start(t, server.Options{}), Start(t, server.Options{})
	la := WatchInterest(t, a)
	connect(t, a, b)
	subscribe(t, Connect(t, b), "closing")
	ev := la.WaitFor(t, "closing", kind, true)
	l := ev.Link
	if got := l.ReasonText(server.LinkServerShutdown); got != "Server Shutdown" {
		t.Errorf("shared reason text %q, want %q", got, "Server Shutdown")
	}
	if got := l.ReasonText(server.LinkKindReason); got == "" || strings.HasPrefix(got, "Link Close Reason") {
		t.Errorf("the kind names no reason of its own (LinkKindReason is %q)", got)
	}
	pub := Connect(t, a)
	l.Close(server.LinkClientClosed)
	<-l.Done()
	if !l.Closed() {
		t.Error("Closed is false after Done")
	}
	WaitUntil(t, "the closed link's interest to be reported removed", func() bool {
		la.mu.Lock()
		defer la.mu.Unlock()
		for _, e := range la.events {
			if e.Link == l && e.Subject == "closing" && !e.Added {
				return true
			}
		}
		return false
	})
	if err := l.Write([]byte("PING\r\n")); err == nil {
		t.Error("Write on a closed link succeeded")
	}
	if err := l.AddRemoteSub([]byte(server.GlobalAccountName), []byte("late"), nil, 1); err == nil {
		t.Error("AddRemoteSub on a closed link succeeded")
	}
	before := l.Stats().OutMsgs
	if err := pub.Publish("closing", nil); err != nil {
		t.Fatal(err)
	}
	// The PONG comes after the server delivered the message.
	if err := pub.Flush(); err != nil {
		t.Fatal(err)
	}
	if after := l.Stats().OutMsgs; after != before || l.NumRemoteSubs() != 0 {
		t.Errorf("closed link: %d message(s) after close, %d interests held", after-before, l.NumRemoteSubs())
	}
}
