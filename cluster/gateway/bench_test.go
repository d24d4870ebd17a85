package gateway_test

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/cluster/gateway"
	"natsd.dev/server/servertest"
)

// BenchmarkCrossGateway publishes 128-byte messages in cluster A to a
// subscriber in cluster B and reports msgs/s across the gateway (the
// optimistic interest and its no-interest filter on the publish path).
func BenchmarkCrossGateway(b *testing.B) {
	bn := startNode(b, "b1", "B", gateway.Options{})
	an := startNode(b, "a1", "A", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("B", bn)}})
	waitGateways(b, an, "B")
	waitGateways(b, bn, "A")
	sub := servertest.Connect(b, bn.s)
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
	pub := servertest.Connect(b, an.s)
	msg := make([]byte, 128)
	b.SetBytes(128)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
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

// BenchmarkGatewayRequest times one request at a time from a client in
// cluster A to a responder in cluster B and back, across both gateway
// connections (the reply mapped to _GR_ and back): ns/op is the round
// trip, through four server hops (p50-us: the median).
func BenchmarkGatewayRequest(b *testing.B) {
	bn := startNode(b, "b1", "B", gateway.Options{})
	an := startNode(b, "a1", "A", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("B", bn)}})
	waitGateways(b, an, "B")
	waitGateways(b, bn, "A")
	rc := servertest.Connect(b, bn.s)
	if _, err := rc.Subscribe("svc", func(m *nats.Msg) { _ = m.Respond(m.Data) }); err != nil {
		b.Fatal(err)
	}
	rc.Flush()
	nc := servertest.Connect(b, an.s)
	msg := make([]byte, 128)
	// The first answer: the interest crossed both ways.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := nc.Request("svc", msg, 200*time.Millisecond); err == nil {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("no answer across the gateway")
		}
	}
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
