package server_test

import (
	"sync/atomic"
	"testing"

	"natsd.dev/server"
)

// BenchmarkInProcessPublish publishes from inside the process to a subject
// nobody subscribes to: the cost of Publish itself.
func BenchmarkInProcessPublish(b *testing.B) {
	s := benchServer(b)
	ic, err := s.NewInternalClient("")
	if err != nil {
		b.Fatal(err)
	}
	defer ic.Close()
	data := make([]byte, 128)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := ic.Publish("bench.none", "", nil, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInProcessDeliver publishes from inside the process to an
// in-process handler and waits until the handler saw every message.
func BenchmarkInProcessDeliver(b *testing.B) {
	s := benchServer(b)
	ic, err := s.NewInternalClient("")
	if err != nil {
		b.Fatal(err)
	}
	defer ic.Close()
	var got atomic.Int64
	if _, err := ic.Subscribe("bench.in", "", func(*server.Msg) { got.Add(1) }); err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 128)
	b.ReportAllocs()
	b.ResetTimer()
	n := int64(0)
	for b.Loop() {
		if err := ic.Publish("bench.in", "", nil, data); err != nil {
			b.Fatal(err)
		}
		n++
	}
	for got.Load() < n {
	}
}

func benchServer(b *testing.B) *server.Server {
	s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Shutdown(b.Context()) })
	return s
}
