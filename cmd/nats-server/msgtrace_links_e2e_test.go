package main

// Message tracing (ADR-41) across a leaf node connection and a gateway,
// with the built binary, compared with upstream's events when
// NATSD_UPSTREAM_SERVER is set, and "nats trace" through both when
// NATSD_NATS_CLI is set.

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// linkTrace publishes a traced message on origin (where the tracer
// listens) to a subscriber on peer, past one link, and returns each
// server's event summary by server name, with the hops each counted.
func linkTrace(t *testing.T, origin, peer *proc) (map[string][]string, map[string]int) {
	t.Helper()
	tr := origin.connect(nats.Name("tracer"))
	events, err := tr.SubscribeSync("trace.dest")
	require.NoError(t, err)
	require.NoError(t, tr.Flush())
	remote := peer.connect(nats.Name("remote"))
	got, err := remote.SubscribeSync("x.>")
	require.NoError(t, err)
	require.NoError(t, remote.Flush())
	pub := origin.connect(nats.Name("pub"))
	// Interest crosses the link asynchronously, both ways: the
	// subscriber's to the origin, the tracer's to the peer.
	crosses(t, pub, got, "x.warm", nil)
	for m, _ := got.NextMsg(50 * time.Millisecond); m != nil; m, _ = got.NextMsg(50 * time.Millisecond) {
	}
	pc := peer.connect()
	crosses(t, pc, events, "trace.dest", []byte("warm"))
	for m, _ := events.NextMsg(50 * time.Millisecond); m != nil; m, _ = events.NextMsg(50 * time.Millisecond) {
	}

	tm := nats.NewMsg("x.y")
	tm.Header.Set("Nats-Trace-Dest", "trace.dest")
	tm.Data = []byte("hi")
	require.NoError(t, pub.PublishMsg(tm))
	sums, hops := map[string][]string{}, map[string]int{}
	for range 2 {
		ev := nextTrace(t, events)
		sums[ev.Server.Name] = ev.summary()
		hops[ev.Server.Name] = ev.Hops
		if h := ev.Request.Header["Nats-Trace-Hop"]; len(h) > 0 {
			sums[ev.Server.Name] = append(sums[ev.Server.Name], "header hop="+h[0])
		}
	}
	d, err := got.NextMsg(5 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "hi", string(d.Data))
	return sums, hops
}

// startLeafPair starts a hub named HUB and a leaf named LEAF connected to
// it, with bin.
func startLeafPair(t *testing.T, bin string) (hub, leaf *proc) {
	t.Helper()
	dir := t.TempDir()
	hub = startBinary(t, bin, "-c", writeFile(t, filepath.Join(dir, "hub.conf"), `
server_name: HUB
leafnodes { listen: "127.0.0.1:-1" }
`))
	addr := hub.leafAddr()
	leaf = startBinary(t, bin, "-c", writeFile(t, filepath.Join(dir, "leaf.conf"), `
server_name: LEAF
leafnodes { reconnect: "100ms", remotes: [ { url: "nats-leaf://`+addr+`" } ] }
`))
	hub.waitLog("Leafnode connection created")
	leaf.waitLog("Leafnode connection created")
	return hub, leaf
}

// TestMsgTraceAcrossLeaf: the hub reports its leaf egress (kind 4, the
// leaf server's name, hop 1); the leaf reports a leaf ingress from the
// hub and the client egress, as upstream's servers do.
func TestMsgTraceAcrossLeaf(t *testing.T) {
	want := map[string][]string{
		"HUB":  {"in kind=0 name=pub acc=$G subj=x.y", "eg kind=4 name=LEAF hop=1"},
		"LEAF": {"in kind=4 name=HUB acc=$G subj=x.y", "eg kind=0 name=remote sub=x.>", "header hop=1"},
	}
	hub, leaf := startLeafPair(t, binary)
	sums, hops := linkTrace(t, hub, leaf)
	require.Equal(t, want, sums)
	require.Equal(t, map[string]int{"HUB": 1, "LEAF": 0}, hops)
	// And from the leaf to the hub (a new pair: the first one's
	// subscribers are still there).
	hub2, leaf2 := startLeafPair(t, binary)
	back, _ := linkTrace(t, leaf2, hub2)
	require.Equal(t, map[string][]string{
		"LEAF": {"in kind=0 name=pub acc=$G subj=x.y", "eg kind=4 name=HUB hop=1"},
		"HUB":  {"in kind=4 name=LEAF acc=$G subj=x.y", "eg kind=0 name=remote sub=x.>", "header hop=1"},
	}, back)

	if os.Getenv(natsCLIEnv) != "" {
		out := newNatsCLI(t, natsCLIBinary(t), hub).run("trace", "x.cli", "hello")
		for _, w := range []string{`server:"HUB"`, `~~> Leafnode "LEAF" lid:`, `server:"LEAF"`, `--C Client "remote" cid:`, "Leafnode: 1", "Client: 1"} {
			require.Contains(t, out, w)
		}
	}
	if os.Getenv(servertest.UpstreamEnv) == "" {
		return
	}
	uhub, uleaf := startLeafPair(t, servertest.UpstreamBinary(t))
	usums, uhops := linkTrace(t, uhub, uleaf)
	require.Equal(t, want, usums, "upstream's events")
	require.Equal(t, hops, uhops, "upstream's hops")
}

// traceGatewayPair starts servers a1 (gateway A) and b1 (gateway B),
// with bins by server name.
func traceGatewayPair(t *testing.T, bins map[string]string) (a, b *proc) {
	t.Helper()
	ports := servertest.FreePorts(t, 4)
	p := startMixedSupercluster(t, []gwServer{{"a1", "A", ports[0], ports[1]}, {"b1", "B", ports[2], ports[3]}}, bins)
	p["a1"].waitLog(`Outbound gateway connection to "B"`)
	p["b1"].waitLog(`Outbound gateway connection to "A"`)
	return p["a1"], p["b1"]
}

// TestMsgTraceAcrossGateway: the origin reports its gateway egress (kind
// 2, the remote server's name, hop 1); the other cluster's server
// reports a gateway ingress named after the origin server, as
// upstream's.
func TestMsgTraceAcrossGateway(t *testing.T) {
	want := map[string][]string{
		"a1": {"in kind=0 name=pub acc=$G subj=x.y", "eg kind=2 name=b1 hop=1"},
		"b1": {"in kind=2 name=a1 acc=$G subj=x.y", "eg kind=0 name=remote sub=x.>", "header hop=1"},
	}
	a, b := traceGatewayPair(t, nil)
	sums, hops := linkTrace(t, a, b)
	require.Equal(t, want, sums)
	require.Equal(t, map[string]int{"a1": 1, "b1": 0}, hops)

	if os.Getenv(natsCLIEnv) != "" {
		out := newNatsCLI(t, natsCLIBinary(t), a).run("trace", "x.cli", "hello")
		for _, w := range []string{`server:"a1"`, `==> Gateway "b1" gid:`, `server:"b1"`, `--C Client "remote" cid:`, "Gateway: 1", "Client: 1"} {
			require.Contains(t, out, w)
		}
	}
	if os.Getenv(servertest.UpstreamEnv) == "" {
		return
	}
	up := servertest.UpstreamBinary(t)
	ua, ub := traceGatewayPair(t, map[string]string{"a1": up, "b1": up})
	usums, uhops := linkTrace(t, ua, ub)
	require.Equal(t, want, usums, "upstream's events")
	require.Equal(t, hops, uhops, "upstream's hops")
}

// leafTraceDestDenied runs, with bin, a hub whose leaf node user may
// publish to x.> only and a leaf: a message from the leaf with a
// Nats-Trace-Dest outside x.> is dropped at the hub (no delivery, no
// trace event), the leaf connection stays, and the next message passes.
// It returns what a hub subscriber to everything got, in order.
func leafTraceDestDenied(t *testing.T, bin string) []string {
	t.Helper()
	dir := t.TempDir()
	hub := startBinary(t, bin, "-c", writeFile(t, filepath.Join(dir, "hub.conf"), `
server_name: HUB
leafnodes { listen: "127.0.0.1:-1" }
authorization { users [ {user: a, password: a}, {user: leaf, password: leaf, permissions: {publish: "x.>", subscribe: ">"}} ] }
`))
	addr := hub.leafAddr()
	leaf := startBinary(t, bin, "-c", writeFile(t, filepath.Join(dir, "leaf.conf"), `
server_name: LEAF
leafnodes { reconnect: "100ms", remotes: [ { url: "nats-leaf://leaf:leaf@`+addr+`" } ] }
`))
	hub.waitLog("Leafnode connection created")
	onHub := hub.connect(nats.UserInfo("a", "a"))
	all, err := onHub.SubscribeSync(">")
	require.NoError(t, err)
	require.NoError(t, onHub.Flush())
	onLeaf := leaf.connect()
	warm, err := onHub.SubscribeSync("x.warm")
	require.NoError(t, err)
	require.NoError(t, onHub.Flush())
	crosses(t, onLeaf, warm, "x.warm", nil)
	require.NoError(t, warm.Unsubscribe())
	for m, _ := all.NextMsg(50 * time.Millisecond); m != nil; m, _ = all.NextMsg(50 * time.Millisecond) {
	}

	tm := nats.NewMsg("x.traced")
	tm.Header.Set("Nats-Trace-Dest", "trace.dest")
	require.NoError(t, onLeaf.PublishMsg(tm))
	require.NoError(t, onLeaf.Publish("x.after", nil))
	require.NoError(t, onLeaf.Flush())
	var got []string
	for {
		m := servertest.NextMsg(t, all)
		got = append(got, m.Subject)
		if m.Subject == "x.after" {
			break
		}
	}
	hub.waitLog(`Publish Violation - Subject "trace.dest"`)
	leaf.waitLog(`Leafnode Error 'Permissions Violation for Publish to "trace.dest"'`)
	require.NotContains(t, leaf.log.String(), "Leafnode connection closed")
	return got
}

// TestAdvisoryGHSA_p3j5_5hrq_p75h_LeafTraceDest: a leaf node cannot make
// the hub publish trace events where its user may not publish, as
// upstream since the fix (checked against upstream when
// NATSD_UPSTREAM_SERVER is set).
func TestAdvisoryGHSA_p3j5_5hrq_p75h_LeafTraceDest(t *testing.T) {
	require.Equal(t, []string{"x.after"}, leafTraceDestDenied(t, binary))
	if os.Getenv(servertest.UpstreamEnv) == "" {
		return
	}
	require.Equal(t, []string{"x.after"}, leafTraceDestDenied(t, servertest.UpstreamBinary(t)), "upstream")
}
