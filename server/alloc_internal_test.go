package server

import (
	"io"
	"net"
	"testing"
	"time"
)

// pipeClient connects a client over loopback TCP; the far end is drained
// so the client's writer never blocks.
func pipeClient(tb testing.TB, s *Server, greeting string) *client {
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
	before := s.nextCID.Load()
	s.createClient(near, nil)
	tb.Cleanup(func() { far.Close() })
	if greeting != "" {
		if _, err := far.Write([]byte(greeting)); err != nil {
			tb.Fatal(err)
		}
	}
	s.mu.Lock()
	c := s.clients[before+1]
	s.mu.Unlock()
	if c == nil {
		tb.Fatal("client not registered")
	}
	return c
}

func newPipeServer(tb testing.TB) *Server {
	tb.Helper()
	s, err := New(Options{Host: "127.0.0.1", Port: RandomPort})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Shutdown(tb.Context()) })
	return s
}

// publisher returns a client whose read loop stays parked (nothing is ever
// written to it), so the test goroutine can drive its parser directly.
func setupDelivery(tb testing.TB) (*Server, *client) {
	s := newPipeServer(tb)
	pipeClient(tb, s, "CONNECT {\"verbose\":false,\"headers\":true}\r\nSUB foo 1\r\nSUB foo q 2\r\nSUB foo q 3\r\nSUB > 4\r\n")
	deadline := time.Now().Add(2 * time.Second)
	for s.gAcc.sl.Count() != 4 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if s.gAcc.sl.Count() != 4 {
		tb.Fatal("subscriptions not registered")
	}
	return s, rawPublisher(tb, s)
}

// rawPublisher is a pipeClient that never sent CONNECT, whose parser the
// test drives: it gets the options of a quiet client that sends headers.
func rawPublisher(tb testing.TB, s *Server) *client {
	c := pipeClient(tb, s, "")
	c.opts = connectOpts{Echo: true, Headers: true}
	return c
}

func TestDeliveryAllocs(t *testing.T) {
	_, pub := setupDelivery(t)
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
			t.Errorf("%s: %v allocations per message, want 0", tc.name, n)
		}
	}
}

// BenchmarkDeliver measures the server's own cost of one PUB: parse, match
// (from cache) and append to three subscribers' buffers.
func BenchmarkDeliver(b *testing.B) {
	for _, size := range []int{16, 128, 4096} {
		b.Run(itoa(size), func(b *testing.B) {
			_, pub := setupDelivery(b)
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
