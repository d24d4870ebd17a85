package leaf_test

import (
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/cluster/leaf"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// BenchmarkLeafTransport publishes 128-byte messages from a client on a
// leaf to a client on its hub across one leaf hop, over TCP with each
// compression mode and over WebSocket (masked, unmasked, with
// permessage-deflate), and reports msgs/s.
func BenchmarkLeafTransport(b *testing.B) {
	for _, tc := range []struct {
		name      string
		mode      string // both sides' compression
		ws        bool
		noMask    bool
		wsDeflate bool
	}{
		{name: "tcp-off", mode: leaf.CompressionOff},
		{name: "tcp-s2_auto", mode: leaf.CompressionS2Auto},
		{name: "tcp-s2_fast", mode: leaf.CompressionS2Fast},
		{name: "ws-masked", mode: leaf.CompressionOff, ws: true},
		{name: "ws-nomask", mode: leaf.CompressionOff, ws: true, noMask: true},
		{name: "ws-nomask-s2_auto", mode: leaf.CompressionS2Auto, ws: true, noMask: true},
		{name: "ws-deflate", ws: true, noMask: true, wsDeflate: true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			hs := servertest.Start(b, server.Options{})
			hub, err := leaf.Start(hs, &leaf.Options{Host: "127.0.0.1", Port: leaf.RandomPort, Compression: leaf.Compression{Mode: tc.mode}})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(hub.Close)
			u := &url.URL{Scheme: "nats-leaf", Host: hub.Addr().String()}
			if tc.ws {
				u, _ = url.Parse(startWSHub(b, hub, tc.wsDeflate, nil).url)
			}
			ls := servertest.Start(b, server.Options{})
			edge, err := leaf.Start(ls, &leaf.Options{Remotes: []*leaf.Remote{{URLs: []*url.URL{u},
				Compression: leaf.Compression{Mode: tc.mode}, WSNoMasking: tc.noMask, WSCompression: tc.wsDeflate}}})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(edge.Close)
			servertest.WaitUntil(b, "the leaf connection", func() bool { return edge.NumConnections() == 1 })
			ll := servertest.WatchInterest(b, ls)
			sub := servertest.Connect(b, hs)
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
			ll.WaitFor(b, "bench", server.ConnLeaf, true)
			pub := servertest.Connect(b, ls)
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
		})
	}
}
