package server

import (
	"io"
	"net"
	"runtime"
	"testing"
	"time"
)

// linkPipe returns a link over loopback TCP whose far end is drained.
func linkPipe(tb testing.TB, s *Server) *Link {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	far, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	near, err := ln.Accept()
	if err != nil {
		tb.Fatal(err)
	}
	go io.Copy(io.Discard, far)
	tb.Cleanup(func() { far.Close() })
	l, err := s.NewLink(near, LinkConfig{})
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

// setupRouteDelivery: a publisher, a local subscriber and a link with
// plain and queue interest in foo.
func setupRouteDelivery(tb testing.TB) (*Server, *client, *Link) {
	s := newPipeServer(tb)
	l := linkPipe(tb, s)
	for _, q := range []string{"", "q"} {
		if err := l.AddRemoteSub([]byte(GlobalAccountName), []byte("foo"), []byte(q), 2); err != nil {
			tb.Fatal(err)
		}
	}
	return s, rawPublisher(tb, s), l
}

func TestRouteDeliveryAllocs(t *testing.T) {
	s, pub, l := setupRouteDelivery(t)
	for _, tc := range []struct{ name, proto string }{
		{"PUB", "PUB foo 16\r\n0123456789abcdef\r\n"},
		{"PUB reply", "PUB foo bar.reply 16\r\n0123456789abcdef\r\n"},
		{"HPUB", "HPUB foo 23 39\r\nNATS/1.0\r\nA: Bcdefg\r\n\r\n0123456789abcdef\r\n"},
	} {
		msg := []byte(tc.proto)
		run := func() {
			if err := pub.parser.Parse(msg, pub); err != nil {
				t.Fatal(err)
			}
			pub.flushSignals()
			pub.flushStats()
		}
		for range 100 {
			run()
		}
		if n := testing.AllocsPerRun(2000, run); n != 0 {
			t.Errorf("%s: %v allocations per routed message, want 0", tc.name, n)
		}
	}
	// And in the other direction: a routed message to a local subscriber.
	pipeClient(t, s, "CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB foo 1\r\nSUB foo q 2\r\n")
	for deadline := time.Now().Add(2 * time.Second); s.gAcc.sl.Count() != 4; {
		if time.Now().After(deadline) {
			t.Fatal("local subscriptions not registered")
		}
		runtime.Gosched()
	}
	acc, subj, queues, payload := []byte(GlobalAccountName), []byte("foo"), [][]byte{[]byte("q")}, []byte("0123456789abcdef")
	run := func() {
		if err := l.Deliver(acc, subj, nil, queues, -1, payload); err != nil {
			t.Fatal(err)
		}
		l.EndBatch()
	}
	for range 100 {
		run()
	}
	if n := testing.AllocsPerRun(2000, run); n != 0 {
		t.Errorf("routed delivery: %v allocations per message, want 0", n)
	}
}

// BenchmarkRouteDeliver measures one PUB delivered to a link as RMSG (a
// plain and a queue interest: one RMSG naming the queue).
func BenchmarkRouteDeliver(b *testing.B) {
	for _, size := range []int{16, 128} {
		b.Run(itoa(size), func(b *testing.B) {
			_, pub, _ := setupRouteDelivery(b)
			msg := append([]byte("PUB foo "+itoa(size)+"\r\n"), make([]byte, size)...)
			msg = append(msg, "\r\n"...)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := pub.parser.Parse(msg, pub); err != nil {
					b.Fatal(err)
				}
				pub.flushSignals()
			}
			pub.flushStats()
		})
	}
}
