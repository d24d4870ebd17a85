package route_test

import (
	"net/url"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/cluster/route"
)

// benchPubSub publishes b.N messages of size bytes from pubNode and waits
// until a subscriber on subNode got them all; it reports msgs/s.
func benchPubSub(b *testing.B, pubNode, subNode *node, size int) {
	sub := subNode.connect(b)
	var got atomic.Int64
	done := make(chan struct{})
	target := int64(b.N)
	s, err := sub.Subscribe("bench", func(*nats.Msg) {
		if got.Add(1) == target {
			close(done)
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	s.SetPendingLimits(-1, -1)
	sub.Flush()
	waitInterest(b, pubNode, 1)
	pub := pubNode.connect(b)
	msg := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := pub.Publish("bench", msg); err != nil {
			b.Fatal(err)
		}
	}
	pub.Flush()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		b.Fatalf("got %d of %d", got.Load(), b.N)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

func BenchmarkPubSub(b *testing.B) {
	for _, size := range []int{16, 128} {
		name := map[int]string{16: "16B", 128: "128B"}[size]
		b.Run("single/"+name, func(b *testing.B) {
			a := startNode(b, "A", route.Options{Name: "bench"})
			benchPubSub(b, a, a, size)
		})
		b.Run("cross/"+name, func(b *testing.B) {
			a := startNode(b, "A", route.Options{Name: "bench"})
			n2 := startNode(b, "B", route.Options{Name: "bench", Routes: []*url.URL{a.routeURL()}})
			waitRoutes(b, 1, a, n2)
			benchPubSub(b, a, n2, size)
		})
	}
}

// BenchmarkRouteRequest times one request at a time from a client of A to
// a responder on B and back over the route (two server hops each way):
// ns/op is the mean round trip, p50-us its median.
func BenchmarkRouteRequest(b *testing.B) {
	a := startNode(b, "A", route.Options{Name: "bench"})
	n2 := startNode(b, "B", route.Options{Name: "bench", Routes: []*url.URL{a.routeURL()}})
	waitRoutes(b, 1, a, n2)
	rc := n2.connect(b)
	if _, err := rc.Subscribe("svc", func(m *nats.Msg) { _ = m.Respond(m.Data) }); err != nil {
		b.Fatal(err)
	}
	rc.Flush()
	waitInterest(b, a, 1)
	nc := a.connect(b)
	msg := make([]byte, 128)
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if _, err := nc.Request("svc", msg, 5*time.Second); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-us")
}
