package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/server/servertest"
)

// BenchmarkLeafHop measures messages across one leaf node hop: a nats.go
// client on the leaf publishes 128-byte messages, a nats.go client on the
// hub receives them; msgs/s counts from the first publish to the last
// message received. One sub-benchmark per build: natsd from this tree,
// and upstream when NATSD_UPSTREAM_SERVER names its binary. Allocations
// are the benchmark process's (the clients), not the servers'.
func BenchmarkLeafHop(b *testing.B) {
	builds := []liBin{{"natsd", binary}}
	if bin := os.Getenv(servertest.UpstreamEnv); bin != "" {
		builds = append(builds, liBin{"upstream", bin})
	}
	for _, build := range builds {
		b.Run(build.name, func(b *testing.B) { benchLeafHop(b, build.path) })
	}
}

func benchLeafHop(b *testing.B, bin string) {
	dir := b.TempDir()
	ports := servertest.FreePorts(b, 3) // hub clients, hub leaf nodes, leaf clients
	hubConf, leafConf := filepath.Join(dir, "hub.conf"), filepath.Join(dir, "leaf.conf")
	for path, text := range map[string]string{
		hubConf:  fmt.Sprintf("listen: 127.0.0.1:%d\nleafnodes { listen: 127.0.0.1:%d }\n", ports[0], ports[1]),
		leafConf: fmt.Sprintf("listen: 127.0.0.1:%d\nleafnodes { remotes [ { url: \"nats-leaf://127.0.0.1:%d\" } ] }\n", ports[2], ports[1]),
	} {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	servertest.StartProcess(b, bin, "-c", hubConf)
	servertest.WaitListening(b, fmt.Sprintf("127.0.0.1:%d", ports[1]))
	servertest.StartProcess(b, bin, "-c", leafConf)
	hub := servertest.ConnectWhenReady(b, fmt.Sprintf("nats://127.0.0.1:%d", ports[0]))
	leaf := servertest.ConnectWhenReady(b, fmt.Sprintf("nats://127.0.0.1:%d", ports[2]))

	var got atomic.Int64
	done := make(chan struct{}, 1)
	var want atomic.Int64
	sub, err := hub.Subscribe("bench.hop", func(*nats.Msg) {
		if n := got.Add(1); n == want.Load() {
			done <- struct{}{}
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	sub.SetPendingLimits(-1, -1)
	probe, err := hub.SubscribeSync("bench.probe")
	if err != nil {
		b.Fatal(err)
	}
	if err := hub.Flush(); err != nil {
		b.Fatal(err)
	}
	// Once the probe crosses, the hub's interest in bench.hop has too.
	servertest.PublishUntil(b, leaf, "bench.probe", []byte("probe"), probe)

	payload := make([]byte, 128)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	got.Store(0)
	want.Store(int64(b.N))
	b.ResetTimer()
	for range b.N {
		if err := leaf.Publish("bench.hop", payload); err != nil {
			b.Fatal(err)
		}
	}
	if err := leaf.Flush(); err != nil {
		b.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatalf("%d of %d messages crossed the hop", got.Load(), b.N)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
