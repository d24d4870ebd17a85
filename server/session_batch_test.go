package server_test

import (
	"io"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// TestBatchOrderAndFraming: a batch's messages reach a socket client as
// PublishAs's would (MSG or HMSG under the presented subject, the reply,
// the payload split at the header), in order with a Publish of the same
// session made in the middle of the batch.
func TestBatchOrderAndFraming(t *testing.T) {
	s := servertest.Start(t, server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	rc := servertest.DialClient(t, s)
	rc.Send("CONNECT {\"headers\":true,\"verbose\":false}\r\nSUB inbox.1 7\r\nPING\r\n")
	rc.ReadUntil("PONG")
	sess, err := s.Attach(server.SessionOptions{Kind: server.SessionJetStream, Account: server.GlobalAccountName})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	b := sess.NewBatch()
	hdr := "NATS/1.0\r\nK: v\r\n\r\n"
	if err := b.PublishAs("inbox.1", []byte("orders.a"), []byte("$JS.ACK.1"), -1, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := sess.Publish("inbox.1", "", []byte("NATS/1.0 100 Idle Heartbeat\r\n\r\n"), nil); err != nil {
		t.Fatal(err)
	}
	if err := b.PublishAs("inbox.1", []byte("orders.b"), nil, len(hdr), []byte(hdr+"two")); err != nil {
		t.Fatal(err)
	}
	b.Flush()
	want := []string{
		"MSG orders.a 7 $JS.ACK.1 3", "one",
		"HMSG inbox.1 7 31 31", "NATS/1.0 100 Idle Heartbeat", "", "",
		"HMSG orders.b 7 18 21", "NATS/1.0", "K: v", "", "two",
	}
	for i, w := range want {
		if got := rc.ReadLine(); got != w {
			t.Fatalf("line %d: got %q, want %q", i, got, w)
		}
	}
}

// TestBatchSeesUnsubscribe: a subscription closed while its destination
// repeats in a batch gets nothing more, and the destination is matched
// anew after Flush: a subscription made meanwhile gets what follows.
func TestBatchSeesUnsubscribe(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	rcv, err := s.Attach(server.SessionOptions{QueueLen: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	got := make(chan string, 16)
	h := func(m *server.Msg) { got <- string(m.Data) }
	ss, err := rcv.Subscribe("to", "", h)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := s.Attach(server.SessionOptions{Account: server.GlobalAccountName})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	b := sess.NewBatch()
	pub := func(data string) {
		t.Helper()
		if err := b.PublishAs("to", []byte("subj"), nil, -1, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	next := func(w string) {
		t.Helper()
		select {
		case m := <-got:
			if m != w {
				t.Fatalf("got %q, want %q", m, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("message %q not delivered", w)
		}
	}
	pub("1")
	next("1") // handed over before the unsubscribe (a queued one would not be)
	if err := ss.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	pub("2") // matched before the unsubscribe, but the subscription is closed
	b.Flush()
	if _, err := rcv.Subscribe("to", "", h); err != nil {
		t.Fatal(err)
	}
	pub("3")
	b.Flush()
	next("3") // "2" went nowhere
}

// TestBatchErrors: a batch refuses what PublishAs refuses.
func TestBatchErrors(t *testing.T) {
	s := servertest.Start(t, server.Options{MaxPayload: 16})
	sess, err := s.Attach(server.SessionOptions{Account: server.GlobalAccountName})
	if err != nil {
		t.Fatal(err)
	}
	b := sess.NewBatch()
	if err := b.PublishAs("bad..subject", []byte("s"), nil, -1, nil); err == nil {
		t.Error("invalid destination accepted")
	}
	if err := b.PublishAs("ok", []byte("s"), nil, -1, make([]byte, 17)); err != server.ErrMaxPayload {
		t.Errorf("oversized payload: %v, want ErrMaxPayload", err)
	}
	b.Flush()
	sess.Close()
	if err := b.PublishAs("ok", []byte("s"), nil, -1, nil); err != server.ErrClosed {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
	b.Flush()
}

// TestBatchAllocs: a batch delivering to a socket client allocates
// nothing in steady state.
func TestBatchAllocs(t *testing.T) {
	if underRace {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	s := servertest.Start(t, server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	rc := servertest.DialClient(t, s)
	rc.Send("SUB inbox.allocs 1\r\nPING\r\n")
	rc.ReadUntil("PONG")
	// The reader counts bytes and keeps nothing (io.Copy's one buffer).
	var read atomic.Int64
	go io.Copy(countWriter{&read}, rc.Conn)
	sess, err := s.Attach(server.SessionOptions{Account: server.GlobalAccountName})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	b := sess.NewBatch()
	subj, reply := []byte("stream.subject"), []byte("$JS.ACK.S.C.1.2.3.4.5")
	payload := make([]byte, 128)
	run := func() {
		for range 16 {
			if err := b.PublishAs("inbox.allocs", subj, reply, -1, payload); err != nil {
				t.Fatal(err)
			}
		}
		b.Flush()
	}
	for range 64 {
		run() // warm the outbound chunks up
	}
	if n := testing.AllocsPerRun(200, run); n != 0 {
		t.Errorf("%v allocations per batch of 16, want 0", n)
	}
	line := "MSG stream.subject 1 $JS.ACK.S.C.1.2.3.4.5 128\r\n"
	want := int64(16*(64+201)) * int64(len(line)+len(payload)+2)
	servertest.WaitUntil(t, "every message delivered", func() bool { return read.Load() == want })
}

type countWriter struct{ n *atomic.Int64 }

func (w countWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	return len(p), nil
}

// BenchmarkSessionPublishAs compares delivering to a socket client's inbox
// one PublishAs at a time with a Batch of 64 (what a JetStream pull
// consumer does). The client (nats.go) runs in the same process.
func BenchmarkSessionPublishAs(b *testing.B) {
	for _, n := range []int{1, 64} {
		b.Run("batch"+strconv.Itoa(n), func(b *testing.B) {
			s := servertest.Start(b, server.Options{Host: "127.0.0.1", Port: server.RandomPort})
			nc := servertest.Connect(b, s)
			var got atomic.Int64
			if _, err := nc.Subscribe("inbox.bench", func(*nats.Msg) { got.Add(1) }); err != nil {
				b.Fatal(err)
			}
			if err := nc.Flush(); err != nil {
				b.Fatal(err)
			}
			sess := benchSession(b, s, 0)
			bt := sess.NewBatch()
			subj, reply := []byte("stream.subject"), []byte("$JS.ACK.S.C.1.2.3.4.5")
			ssubj, sreply := string(subj), string(reply)
			payload := make([]byte, 128)
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if n == 1 {
					if err := sess.PublishAs("inbox.bench", ssubj, sreply, nil, payload); err != nil {
						b.Fatal(err)
					}
				} else {
					if err := bt.PublishAs("inbox.bench", subj, reply, -1, payload); err != nil {
						b.Fatal(err)
					}
					if i++; i%n == 0 {
						bt.Flush()
					}
				}
			}
			bt.Flush()
			b.StopTimer()
			deadline := time.Now().Add(30 * time.Second)
			for got.Load() < int64(b.N) && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
		})
	}
}
