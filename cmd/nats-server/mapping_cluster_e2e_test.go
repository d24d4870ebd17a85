package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// clusterMappingsConf maps subjects differently per cluster: destinations
// naming the server's cluster apply there, the others elsewhere.
const clusterMappingsConf = `
mappings {
  "orders.*": [
    {destination: "east.orders.$1", weight: 100%, cluster: east}
    {destination: "west.orders.$1", weight: 100%, cluster: west}
    {destination: "any.orders.$1", weight: 100%}
  ]
  "split": [
    {destination: "split.a", weight: 50%, cluster: east}
    {destination: "split.b", weight: 50%, cluster: east}
    {destination: "split.none", weight: 100%}
  ]
  "partial": [ {destination: "partial.east", weight: 100%, cluster: east} ]
}
`

// TestMappingClusterScoped runs clusterMappingsConf on a two-server
// cluster "east", a one-server cluster "north" and a server without a
// cluster, with our binary and, when NATSD_UPSTREAM_SERVER is set, with
// upstream's: both must map the same way.
func TestMappingClusterScoped(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four servers")
	}
	bins := map[string]string{"natsd": binary}
	if up := os.Getenv(servertest.UpstreamEnv); up != "" {
		bins["upstream"] = up
	}
	for name, bin := range bins {
		t.Run(name, func(t *testing.T) { clusterMappingScenario(t, bin) })
	}
}

func clusterMappingScenario(t *testing.T, bin string) {
	conf := writeFile(t, filepath.Join(t.TempDir(), "m.conf"), clusterMappingsConf)
	p := servertest.FreePorts(t, 7) // a, b clients and routes; north; none
	url := func(i int) string { return fmt.Sprintf("nats://127.0.0.1:%d", p[i]) }
	// run starts a server whose client port is p[i].
	run := func(i int, args ...string) *nats.Conn {
		servertest.StartProcess(t, bin, append([]string{"-a", "127.0.0.1", "-p", fmt.Sprint(p[i]), "-c", conf}, args...)...)
		return servertest.ConnectWhenReady(t, url(i))
	}
	a := run(0, "--cluster_name", "east", "--cluster", url(1))
	b := run(2, "--cluster_name", "east", "--cluster", url(3), "--routes", url(1))
	north := run(4, "--cluster_name", "north", "--cluster", url(5))
	none := run(6)

	// firstSubject publishes subject from pub until sub gets a message
	// (interest crosses the route asynchronously) and returns the
	// subject it arrived on.
	firstSubject := func(pub *nats.Conn, subject string, sub *nats.Subscription) string {
		t.Helper()
		deadline := time.Now().Add(servertest.DefaultWait)
		for time.Now().Before(deadline) {
			require.NoError(t, pub.Publish(subject, []byte("x")))
			if m, err := sub.NextMsg(20 * time.Millisecond); err == nil {
				return m.Subject
			}
		}
		t.Fatalf("nothing published on %s reached %s", subject, sub.Subject)
		return ""
	}
	subscribe := func(nc *nats.Conn, subject string) *nats.Subscription {
		t.Helper()
		sub, err := nc.SubscribeSync(subject)
		require.NoError(t, err)
		require.NoError(t, nc.Flush())
		return sub
	}

	// In east, on either server, and across the route.
	onA := subscribe(a, "*.orders.*")
	require.Equal(t, "east.orders.1", firstSubject(a, "orders.1", onA))
	require.Equal(t, "east.orders.2", firstSubject(b, "orders.2", onA))
	// A cluster the mapping does not name, and no cluster at all, take
	// the unscoped destinations.
	require.Equal(t, "any.orders.3", firstSubject(north, "orders.3", subscribe(north, "*.orders.*")))
	require.Equal(t, "any.orders.4", firstSubject(none, "orders.4", subscribe(none, "*.orders.*")))
	// Scoped only to east: unmapped elsewhere.
	require.Equal(t, "partial.east", firstSubject(b, "partial", subscribe(b, "partial.>")))
	require.Equal(t, "partial", firstSubject(none, "partial", subscribe(none, "partial")))

	// east's weights count on their own: a 50/50 split, never the
	// unscoped destination.
	split := subscribe(a, "split.*")
	const n = 400
	for range n {
		require.NoError(t, a.Publish("split", nil))
	}
	require.NoError(t, a.Flush())
	counts := map[string]int{}
	for range n {
		m, err := split.NextMsg(servertest.DefaultWait)
		require.NoError(t, err)
		counts[m.Subject]++
	}
	require.Zero(t, counts["split.none"], "%v", counts)
	require.Greater(t, counts["split.a"], n/4, "%v", counts)
	require.Greater(t, counts["split.b"], n/4, "%v", counts)
	require.Equal(t, "split.none", firstSubject(north, "split", subscribe(north, "split.*")))
}
