package server_test

import (
	"sync/atomic"
	"testing"

	"natsd.dev/server"
)

// The in-process publish and delivery paths. InProcess* measure a Session
// (handler delivery through its queue, on its goroutine); Internal* the
// InternalClient (handler on the publisher's goroutine).

func BenchmarkInProcessPublish(b *testing.B) {
	sess := benchSession(b, benchServer(b), 0)
	benchPublish(b, func(data []byte) error { return sess.Publish("bench.none", "", nil, data) })
}

func BenchmarkInProcessDeliver(b *testing.B) {
	s := benchServer(b)
	sub := benchSession(b, s, 4096)
	var got atomic.Int64
	if _, err := sub.Subscribe("bench.in", "", func(*server.Msg) { got.Add(1) }); err != nil {
		b.Fatal(err)
	}
	pub := benchSession(b, s, 0)
	n := benchPublish(b, func(data []byte) error { return pub.Publish("bench.in", "", nil, data) })
	for got.Load() < n {
	}
}

func BenchmarkInternalPublish(b *testing.B) {
	ic := benchInternal(b, benchServer(b))
	benchPublish(b, func(data []byte) error { return ic.Publish("bench.none", "", nil, data) })
}

func BenchmarkInternalDeliver(b *testing.B) {
	ic := benchInternal(b, benchServer(b))
	var got atomic.Int64
	if _, err := ic.Subscribe("bench.in", "", func(*server.Msg) { got.Add(1) }); err != nil {
		b.Fatal(err)
	}
	n := benchPublish(b, func(data []byte) error { return ic.Publish("bench.in", "", nil, data) })
	if got.Load() != n {
		b.Fatalf("delivered %d of %d", got.Load(), n)
	}
}

func benchPublish(b *testing.B, pub func([]byte) error) int64 {
	data := make([]byte, 128)
	b.ReportAllocs()
	b.ResetTimer()
	n := int64(0)
	for b.Loop() {
		if err := pub(data); err != nil {
			b.Fatal(err)
		}
		n++
	}
	return n
}

func benchSession(b *testing.B, s *server.Server, queue int) *server.Session {
	// A generous stall: the benchmark measures throughput, not refusals.
	sess, err := s.Attach(server.SessionOptions{QueueLen: queue, Stall: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sess.Close() })
	return sess
}

func benchInternal(b *testing.B, s *server.Server) *server.InternalClient {
	ic, err := s.NewInternalClient("")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(ic.Close)
	return ic
}

func benchServer(b *testing.B) *server.Server {
	s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Shutdown(b.Context()) })
	return s
}
