package server

import (
	"bytes"
	"testing"
)

// denySubject is a LinkFilter refusing one subject.
type denySubject []byte

func (d denySubject) Allow(subject []byte) bool { return !bytes.Equal(subject, d) }

// TestLinkFilter: a link's filter keeps the messages it refuses off the
// link even though the peer's wildcard interest (plain and queue) matches
// them, and checking it allocates nothing.
func TestLinkFilter(t *testing.T) {
	s := newPipeServer(t)
	l := linkPipe(t, s)
	l.SetFilter(denySubject("foo.secret"))
	for _, q := range []string{"", "q"} {
		if err := l.AddRemoteSub([]byte(GlobalAccountName), []byte("foo.*"), []byte(q), 1); err != nil {
			t.Fatal(err)
		}
	}
	pub := rawPublisher(t, s)
	send := func(proto string) func() {
		msg := []byte(proto)
		return func() {
			if err := pub.parser.Parse(msg, pub); err != nil {
				t.Fatal(err)
			}
			pub.flushSignals()
			pub.flushStats()
		}
	}
	denied, allowed := send("PUB foo.secret 2\r\nhi\r\n"), send("PUB foo.ok 2\r\nhi\r\n")
	out := func() int64 {
		l.c.mu.Lock()
		defer l.c.mu.Unlock()
		return l.c.outMsgs
	}
	denied()
	if n := out(); n != 0 {
		t.Fatalf("a refused subject went to the link: %d messages", n)
	}
	allowed()
	if n := out(); n != 1 { // one RMSG for the plain and the queue interest
		t.Fatalf("%d messages on the link, want 1", n)
	}
	for _, run := range []func(){denied, allowed} {
		for range 100 {
			run()
		}
		if n := testing.AllocsPerRun(1000, run); n != 0 {
			t.Errorf("%v allocations per message with a link filter, want 0", n)
		}
	}
}
