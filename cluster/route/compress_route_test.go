package route

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

func startCompressed(t *testing.T, mode string, routes ...*url.URL) (*server.Server, *Cluster) {
	t.Helper()
	s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	// s2_auto's first threshold is far above any round trip a loaded
	// machine measures: its level is always s2_uncompressed here.
	var rtts []time.Duration
	if mode == CompressionS2Auto {
		rtts = []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute}
	}
	c, err := Start(s, &Options{Name: "z", Host: "127.0.0.1", Routes: routes, Compression: Compression{Mode: mode, RTTThresholds: rtts}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		s.Shutdown(context.Background())
	})
	return s, c
}

// wireBytes sums what the compressed routes of c wrote: uncompressed
// (the link's counter) and on the wire.
func wireBytes(c *Cluster) (raw, wire uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.routes {
		for _, r := range p.conns {
			if r == nil {
				continue
			}
			st := r.link.Stats()
			raw += uint64(st.OutBytes)
			if r.cconn != nil {
				_, out := r.cconn.WireBytes()
				wire += out
			}
		}
	}
	return raw, wire
}

func TestRouteCompression(t *testing.T) {
	for _, tc := range []struct {
		a, b, want string
	}{
		{CompressionS2Fast, CompressionAccept, CompressionS2Fast},
		{CompressionAccept, CompressionS2Best, CompressionS2Best},
		{CompressionAccept, CompressionAccept, CompressionOff},
		{CompressionOff, CompressionS2Fast, CompressionOff},
		{CompressionS2Auto, CompressionS2Auto, CompressionS2Uncompressed},
	} {
		t.Run(tc.a+"_"+tc.b, func(t *testing.T) {
			sa, ca := startCompressed(t, tc.a)
			sb, cb := startCompressed(t, tc.b, &url.URL{Scheme: "nats-route", Host: ca.Addr().String()})
			deadline := time.Now().Add(5 * time.Second)
			for (ca.NumRoutes() != 1 || cb.NumRoutes() != 1) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if ca.NumRoutes() != 1 || cb.NumRoutes() != 1 {
				t.Fatal("no route")
			}
			for _, c := range []*Cluster{ca, cb} {
				deadline := time.Now().Add(5 * time.Second)
				for len(c.Routez(nil).Routes) != DefaultPoolSize && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				rz := c.Routez(nil)
				if got := rz.Routes[0].Compression; got != tc.want {
					t.Fatalf("compression %q, want %q", got, tc.want)
				}
			}
			sub, err := nats.Connect(sb.ClientURL())
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			got, _ := sub.SubscribeSync("z")
			sub.Flush()
			servertest.WaitUntil(t, "the interest on A", func() bool { return sa.GlobalAccount().NumSubscriptions() == 1 })
			pub, err := nats.Connect(sa.ClientURL())
			if err != nil {
				t.Fatal(err)
			}
			defer pub.Close()
			// 1 KiB of JSON-like text that differs from message to message.
			msg := func(i int) []byte {
				var b bytes.Buffer
				for j := 0; b.Len() < 1024; j++ {
					fmt.Fprintf(&b, `{"seq":%d,"item":%d,"sensor":"temp-%d","value":%d.%d},`, i, j, (i*7+j)%13, 20+(i+j)%9, (i*j)%10)
				}
				return b.Bytes()[:1024]
			}
			const n = 500
			for i := 0; i < n; i++ {
				pub.Publish("z", msg(i))
			}
			pub.Flush()
			// s2_best under -race on 2 busy cores once took 2.09 s
			// between two messages: each may take DefaultWait.
			for i := 0; i < n; i++ {
				m, err := got.NextMsg(servertest.DefaultWait)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if !bytes.Equal(m.Data, msg(i)) {
					t.Fatal("payload changed")
				}
			}
			if tc.want == CompressionS2Fast || tc.want == CompressionS2Best {
				raw, wire := wireBytes(ca)
				t.Logf("%s: %d bytes routed, %d on the wire (ratio %.3f)", tc.want, raw, wire, float64(wire)/float64(raw))
				if wire == 0 || wire*2 > raw {
					t.Fatalf("compression did not halve the bytes: %d raw, %d wire", raw, wire)
				}
			}
		})
	}
}
