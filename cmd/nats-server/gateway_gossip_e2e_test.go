package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// TestGatewayURLGossipOverRoutes: cluster A of two servers (no gateways
// configured), cluster B of one configured with a1's gateway URL only.
// a2 learns B over its route from a1 and connects to it; b1 learns a2's
// gateway URL (a1's INFO gateway_urls, from a2's route INFO gateway_url)
// and, once a1 is gone, reconnects to A through a2.
func TestGatewayURLGossipOverRoutes(t *testing.T) {
	ports := servertest.FreePorts(t, 5)
	a1gw, a1cl, a2gw, a2cl, b1gw := ports[0], ports[1], ports[2], ports[3], ports[4]
	dir := t.TempDir()
	aconf := func(name string, gw, cl, peer int) string {
		return writeFile(t, filepath.Join(dir, name+".conf"), fmt.Sprintf(
			"server_name: %s\ncluster {\n  name: A\n  listen: \"127.0.0.1:%d\"\n  routes: [\"nats-route://127.0.0.1:%d\"]\n}\n"+
				"gateway {\n  name: A\n  listen: \"127.0.0.1:%d\"\n}\n", name, cl, peer, gw))
	}
	a1 := start(t, "-c", aconf("a1", a1gw, a1cl, a2cl))
	a2 := start(t, "-c", aconf("a2", a2gw, a2cl, a1cl))
	a1.waitLog("Route connection created")
	a2.waitLog("Route connection created")
	b1 := start(t, "-c", writeFile(t, filepath.Join(dir, "b1.conf"), fmt.Sprintf(
		"server_name: b1\ngateway {\n  name: B\n  listen: \"127.0.0.1:%d\"\n  gateways: [ { name: A, url: \"nats://127.0.0.1:%d\" } ]\n}\n",
		b1gw, a1gw)))
	b1.waitLog(`Outbound gateway connection to "A"`)
	a1.waitLog(`Outbound gateway connection to "B"`)
	// a2 knows nothing of B but what a1 told it over the route.
	a2.waitLog(`Outbound gateway connection to "B"`)

	na2, nb1 := a2.connect(), b1.connect()
	subB, err := nb1.SubscribeSync("a.to.b")
	require.NoError(t, err)
	require.NoError(t, nb1.Flush())
	require.Equal(t, "1", string(crosses(t, na2, subB, "a.to.b", []byte("1")).Data))

	// a1 goes: b1 dials A again, at a2's URL, which it only learned by
	// gossip, and b1's messages reach a2.
	require.NoError(t, a1.cmd.Process.Kill())
	<-a1.done
	b1.waitLog(fmt.Sprintf("gateway \"A\" (127.0.0.1:%d)", a2gw))
	subA, err := na2.SubscribeSync("b.to.a")
	require.NoError(t, err)
	require.NoError(t, na2.Flush())
	require.Equal(t, "2", string(crosses(t, nb1, subA, "b.to.a", []byte("2")).Data))
}

// TestGatewayKnownClustersToNewRoute: a1 is connected to cluster B
// before a2 joins the cluster: a2 learns B from a1 when their route
// registers (as upstream tells a new route of its gateways) and connects
// to it.
func TestGatewayKnownClustersToNewRoute(t *testing.T) {
	ports := servertest.FreePorts(t, 5)
	a1gw, a1cl, a2gw, a2cl, b1gw := ports[0], ports[1], ports[2], ports[3], ports[4]
	dir := t.TempDir()
	b1 := start(t, "-c", writeFile(t, filepath.Join(dir, "b1.conf"), fmt.Sprintf(
		"server_name: b1\ngateway {\n  name: B\n  listen: \"127.0.0.1:%d\"\n}\n", b1gw)))
	aconf := func(name string, gw, cl int, routes string) string {
		return writeFile(t, filepath.Join(dir, name+".conf"), fmt.Sprintf(
			"server_name: %s\ncluster {\n  name: A\n  listen: \"127.0.0.1:%d\"\n  routes: [%s]\n}\n"+
				"gateway {\n  name: A\n  listen: \"127.0.0.1:%d\"\n  gateways: [%s]\n}\n", name, cl, routes, gw, gwA(name, b1gw)))
	}
	a1 := start(t, "-c", aconf("a1", a1gw, a1cl, ""))
	a1.waitLog(`Outbound gateway connection to "B"`)
	b1.waitLog(`Outbound gateway connection to "A"`)
	a2 := start(t, "-c", aconf("a2", a2gw, a2cl, fmt.Sprintf("\"nats-route://127.0.0.1:%d\"", a1cl)))
	a2.waitLog("Route connection created")
	a2.waitLog(`Outbound gateway connection to "B"`)
	na2, nb1 := a2.connect(), b1.connect()
	subB, err := nb1.SubscribeSync("a2.to.b")
	require.NoError(t, err)
	require.NoError(t, nb1.Flush())
	require.Equal(t, "x", string(crosses(t, na2, subB, "a2.to.b", []byte("x")).Data))
}

// gwA is the gateways list of an A server: a1 knows B, a2 nothing.
func gwA(name string, b1gw int) string {
	if name != "a1" {
		return ""
	}
	return fmt.Sprintf(`{ name: B, url: "nats://127.0.0.1:%d" }`, b1gw)
}

// TestGatewayGossipWithUpstreamInCluster: cluster A is natsd a1 and
// upstream a2 (routed), cluster B is natsd b1 configured with a1 only.
// Upstream a2 learns B from a1's route INFO (gateway, gateway_urls) and
// connects to b1: b1 has inbound connections from both A servers.
func TestGatewayGossipWithUpstreamInCluster(t *testing.T) {
	bin := servertest.UpstreamBinary(t)
	ports := servertest.FreePorts(t, 6)
	a1gw, a1cl, a2gw, a2cl, a2cli, b1gw := ports[0], ports[1], ports[2], ports[3], ports[4], ports[5]
	dir := t.TempDir()
	a1 := start(t, "-c", writeFile(t, filepath.Join(dir, "a1.conf"), fmt.Sprintf(
		"server_name: a1\ncluster {\n  name: A\n  listen: \"127.0.0.1:%d\"\n  routes: [\"nats-route://127.0.0.1:%d\"]\n}\n"+
			"gateway {\n  name: A\n  listen: \"127.0.0.1:%d\"\n}\n", a1cl, a2cl, a1gw)))
	servertest.StartProcess(t, bin, "-c", writeFile(t, filepath.Join(dir, "a2.conf"), fmt.Sprintf(
		"server_name: a2\nlisten: \"127.0.0.1:%d\"\ncluster {\n  name: A\n  listen: \"127.0.0.1:%d\"\n  routes: [\"nats-route://127.0.0.1:%d\"]\n}\n"+
			"gateway {\n  name: A\n  listen: \"127.0.0.1:%d\"\n}\n", a2cli, a2cl, a1cl, a2gw)))
	a1.waitLog("Route connection created")
	b1 := start(t, "-m", "-1", "-c", writeFile(t, filepath.Join(dir, "b1.conf"), fmt.Sprintf(
		"server_name: b1\ngateway {\n  name: B\n  listen: \"127.0.0.1:%d\"\n  gateways: [ { name: A, url: \"nats://127.0.0.1:%d\" } ]\n}\n",
		b1gw, a1gw)))
	b1.waitLog(`Outbound gateway connection to "A"`)
	var z struct {
		Inbound map[string][]json.RawMessage `json:"inbound_gateways"`
	}
	eventually(t, "inbound connections to b1 from a1 and upstream a2", func() bool {
		getJSON(t, b1.monitorURL()+"/gatewayz", &z)
		return len(z.Inbound["A"]) == 2
	})
	up := servertest.ConnectWhenReady(t, fmt.Sprintf("nats://127.0.0.1:%d", a2cli))
	nb1 := b1.connect()
	sub, err := nb1.SubscribeSync("up.to.b")
	require.NoError(t, err)
	require.NoError(t, nb1.Flush())
	require.Equal(t, "u", string(crosses(t, up, sub, "up.to.b", []byte("u")).Data))
}

// TestGatewayGossipFromUpstreamInCluster: cluster A is upstream a1 and
// natsd a2 (routed), cluster B is natsd b1 configured with a1 only: a2
// learns B from upstream's route INFO and connects to it.
func TestGatewayGossipFromUpstreamInCluster(t *testing.T) {
	bin := servertest.UpstreamBinary(t)
	ports := servertest.FreePorts(t, 6)
	a1gw, a1cl, a2gw, a2cl, a1cli, b1gw := ports[0], ports[1], ports[2], ports[3], ports[4], ports[5]
	dir := t.TempDir()
	servertest.StartProcess(t, bin, "-c", writeFile(t, filepath.Join(dir, "a1.conf"), fmt.Sprintf(
		"server_name: a1\nlisten: \"127.0.0.1:%d\"\ncluster {\n  name: A\n  listen: \"127.0.0.1:%d\"\n  routes: [\"nats-route://127.0.0.1:%d\"]\n}\n"+
			"gateway {\n  name: A\n  listen: \"127.0.0.1:%d\"\n}\n", a1cli, a1cl, a2cl, a1gw)))
	a2 := start(t, "-c", writeFile(t, filepath.Join(dir, "a2.conf"), fmt.Sprintf(
		"server_name: a2\ncluster {\n  name: A\n  listen: \"127.0.0.1:%d\"\n  routes: [\"nats-route://127.0.0.1:%d\"]\n}\n"+
			"gateway {\n  name: A\n  listen: \"127.0.0.1:%d\"\n}\n", a2cl, a1cl, a2gw)))
	a2.waitLog("Route connection created")
	b1 := start(t, "-c", writeFile(t, filepath.Join(dir, "b1.conf"), fmt.Sprintf(
		"server_name: b1\ngateway {\n  name: B\n  listen: \"127.0.0.1:%d\"\n  gateways: [ { name: A, url: \"nats://127.0.0.1:%d\" } ]\n}\n",
		b1gw, a1gw)))
	b1.waitLog(`Outbound gateway connection to "A"`)
	a2.waitLog(`Outbound gateway connection to "B"`)
	na2, nb1 := a2.connect(), b1.connect()
	sub, err := nb1.SubscribeSync("a2.to.b")
	require.NoError(t, err)
	require.NoError(t, nb1.Flush())
	require.Equal(t, "x", string(crosses(t, na2, sub, "a2.to.b", []byte("x")).Data))
}
