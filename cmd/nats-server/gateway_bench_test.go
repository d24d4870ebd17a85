package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/server/servertest"
)

// BenchmarkGatewayHop measures traffic across one gateway hop between two
// single-server clusters A and B: "pubsub", 128-byte messages a nats.go
// client on A publishes and one on B receives (msgs/s from the first
// publish to the last message received), and "request", one request at a
// time from A to a responder on B (p50-us, the median round trip). One
// sub-benchmark per build: natsd from this tree, and upstream when
// NATSD_UPSTREAM_SERVER names its binary. Allocations are the benchmark
// process's (the clients), not the servers'.
func BenchmarkGatewayHop(b *testing.B) {
	builds := []liBin{{"natsd", binary}}
	if bin := os.Getenv(servertest.UpstreamEnv); bin != "" {
		builds = append(builds, liBin{"upstream", bin})
	}
	for _, build := range builds {
		b.Run(build.name+"/pubsub", func(b *testing.B) { benchGatewayPubSub(b, build.path) })
		b.Run(build.name+"/request", func(b *testing.B) { benchGatewayRequest(b, build.path) })
	}
}

// startGatewayPair starts clusters A and B of one server each, A dialing
// B's gateway, and connects a client to each.
func startGatewayPair(b *testing.B, bin string) (a, bc *nats.Conn) {
	dir := b.TempDir()
	ports := servertest.FreePorts(b, 4) // A clients, A gateway, B clients, B gateway
	aConf, bConf := filepath.Join(dir, "a.conf"), filepath.Join(dir, "b.conf")
	for path, text := range map[string]string{
		aConf: fmt.Sprintf("listen: 127.0.0.1:%d\ngateway { name: A, listen: 127.0.0.1:%d, gateways [ { name: B, url: \"nats://127.0.0.1:%d\" } ] }\n",
			ports[0], ports[1], ports[3]),
		bConf: fmt.Sprintf("listen: 127.0.0.1:%d\ngateway { name: B, listen: 127.0.0.1:%d }\n", ports[2], ports[3]),
	} {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	servertest.StartProcess(b, bin, "-c", bConf)
	servertest.WaitListening(b, fmt.Sprintf("127.0.0.1:%d", ports[3]))
	servertest.StartProcess(b, bin, "-c", aConf)
	a = servertest.ConnectWhenReady(b, fmt.Sprintf("nats://127.0.0.1:%d", ports[0]))
	bc = servertest.ConnectWhenReady(b, fmt.Sprintf("nats://127.0.0.1:%d", ports[2]))
	return a, bc
}

func benchGatewayPubSub(b *testing.B, bin string) {
	a, bc := startGatewayPair(b, bin)
	var got atomic.Int64
	done := make(chan struct{}, 1)
	var want atomic.Int64
	sub, err := bc.Subscribe("bench.hop", func(*nats.Msg) {
		if n := got.Add(1); n == want.Load() {
			done <- struct{}{}
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	sub.SetPendingLimits(-1, -1)
	probe, err := bc.SubscribeSync("bench.probe")
	if err != nil {
		b.Fatal(err)
	}
	if err := bc.Flush(); err != nil {
		b.Fatal(err)
	}
	// Once the probe crosses, the gateway links are up both ways.
	servertest.PublishUntil(b, a, "bench.probe", []byte("probe"), probe)

	payload := make([]byte, 128)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	got.Store(0)
	want.Store(int64(b.N))
	b.ResetTimer()
	for range b.N {
		if err := a.Publish("bench.hop", payload); err != nil {
			b.Fatal(err)
		}
	}
	if err := a.Flush(); err != nil {
		b.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatalf("%d of %d messages crossed the gateway", got.Load(), b.N)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func benchGatewayRequest(b *testing.B, bin string) {
	a, bc := startGatewayPair(b, bin)
	if _, err := bc.Subscribe("bench.svc", func(m *nats.Msg) { _ = m.Respond(m.Data) }); err != nil {
		b.Fatal(err)
	}
	if err := bc.Flush(); err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 128)
	// The first answered request: both gateway links are up.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := a.Request("bench.svc", payload, 200*time.Millisecond); err == nil {
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
		if _, err := a.Request("bench.svc", payload, 5*time.Second); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-us")
}
