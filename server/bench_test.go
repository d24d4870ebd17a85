package server_test

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/server"
)

var benchSizes = []int{16, 128, 4096}

func benchConnect(b *testing.B, s *server.Server) *nats.Conn {
	b.Helper()
	nc, err := nats.Connect(s.ClientURL(), nats.NoReconnect())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	return nc
}

// BenchmarkPublish measures publish-only throughput through a real socket.
func BenchmarkPublish(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			s := startServer(b, server.Options{})
			nc := benchConnect(b, s)
			data := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				if err := nc.Publish("bench", data); err != nil {
					b.Fatal(err)
				}
			}
			if err := nc.Flush(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}

// benchFan publishes b.N messages from npub publishers and waits until nsub
// subscribers (or one queue group of nsub) got them all.
func benchFan(b *testing.B, size, npub, nsub int, queue bool) {
	s := startServer(b, server.Options{})
	var got atomic.Int64
	want := int64(b.N) * int64(nsub)
	if queue {
		want = int64(b.N)
	}
	done := make(chan struct{})
	var once sync.Once
	for range nsub {
		nc := benchConnect(b, s)
		cb := func(*nats.Msg) {
			if got.Add(1) == want {
				once.Do(func() { close(done) })
			}
		}
		var sub *nats.Subscription
		var err error
		if queue {
			sub, err = nc.QueueSubscribe("bench", "q", cb)
		} else {
			sub, err = nc.Subscribe("bench", cb)
		}
		if err != nil {
			b.Fatal(err)
		}
		sub.SetPendingLimits(-1, -1)
		if err := nc.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	pubs := make([]*nats.Conn, npub)
	for i := range pubs {
		pubs[i] = benchConnect(b, s)
	}
	data := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i, nc := range pubs {
		n := b.N / npub
		if i == 0 {
			n += b.N % npub
		}
		wg.Go(func() {
			for range n {
				if err := nc.Publish("bench", data); err != nil {
					b.Error(err)
					return
				}
			}
			nc.Flush()
		})
	}
	wg.Wait()
	if want > 0 {
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			b.Fatalf("delivered %d of %d", got.Load(), want)
		}
	}
	b.ReportMetric(float64(want)/time.Since(start).Seconds(), "msgs/s")
}

func BenchmarkPubSub(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) { benchFan(b, size, 1, 1, false) })
	}
}

func BenchmarkFanOut4(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) { benchFan(b, size, 1, 4, false) })
	}
}

func BenchmarkFanIn4(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) { benchFan(b, size, 4, 1, false) })
	}
}

func BenchmarkQueue4(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) { benchFan(b, size, 1, 4, true) })
	}
}

// BenchmarkRequestReply reports round-trip latency percentiles.
func BenchmarkRequestReply(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			s := startServer(b, server.Options{})
			srv := benchConnect(b, s)
			if _, err := srv.Subscribe("rr", func(m *nats.Msg) { m.Respond(m.Data) }); err != nil {
				b.Fatal(err)
			}
			srv.Flush()
			nc := benchConnect(b, s)
			data := make([]byte, size)
			lat := make([]time.Duration, 0, 1024)
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				if _, err := nc.Request("rr", data, 5*time.Second); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds())
			}
			b.ReportMetric(pct(0.50), "p50-us")
			b.ReportMetric(pct(0.99), "p99-us")
			b.ReportMetric(pct(0.999), "p99.9-us")
		})
	}
}
