package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// clusterURL returns the cluster listener's URL from p's ports file.
func (p *proc) clusterURL() string {
	p.t.Helper()
	b, err := os.ReadFile(p.ports)
	require.NoError(p.t, err)
	var doc struct{ Cluster []string }
	require.NoError(p.t, json.Unmarshal(b, &doc))
	require.Len(p.t, doc.Cluster, 1, "ports file %s", b)
	return doc.Cluster[0]
}

func TestCheckConfigClusterBlock(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, filepath.Join(dir, "good.conf"), `port: 4999
cluster {
  name: c1
  listen: 127.0.0.1:6999
  routes: [nats-route://u:p@127.0.0.1:7999]
  authorization { user: u, password: p, timeout: 2 }
  compression: { mode: s2_auto, rtt_thresholds: ["10ms", "50ms", "100ms"] }
  pool_size: 3
}
`)
	code, _, errOut := runOnce(t, "-c", good, "-t")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, errOut, "is valid (sha256:")

	bad := writeFile(t, filepath.Join(dir, "bad.conf"), "cluster {\n  name: \"a b\"\n  compression: s2_medium\n  gossip: true\n}\nport: \"x\"\n")
	code, _, errOut = runOnce(t, "-c", bad, "-t")
	require.Equal(t, 1, code)
	for _, want := range []string{
		bad + `:6:7: port: expected an integer, got string "x"`,
		bad + `:2:9: cluster name cannot contain spaces or new lines`,
		bad + `:3:16: cluster: invalid compression: unsupported compression mode "s2_medium"`,
		bad + `:4:3: unknown field "gossip"`,
	} {
		require.Contains(t, errOut, want)
	}

	// A warning fails the check, as the core server's do.
	warn := writeFile(t, filepath.Join(dir, "warn.conf"), "cluster {\n  port: 6999\n  ping_interval: \"1m\"\n}\n")
	code, _, errOut = runOnce(t, "-c", warn, "-t")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, warn+`:3:18: Cluster 'ping_interval' will reset to 30s which is the max for routes`)
}

// TestClusterThreeNodesThroughSeed is the seed walkthrough of the NATS
// docs with our binary: a seed and two servers pointing at it form a full
// mesh; messages and requests cross nodes.
func TestClusterThreeNodesThroughSeed(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three servers")
	}
	seed := start(t, "--cluster_name", "e2e", "--cluster", "nats://127.0.0.1:-1", "-D")
	seed.waitLog("Listening for route connections on 127.0.0.1:")
	routes := seed.clusterURL()
	b := start(t, "--cluster_name", "e2e", "--cluster", "nats://127.0.0.1:-1", "--routes", routes, "-D")
	c := start(t, "--cluster_name", "e2e", "--cluster", "nats://127.0.0.1:-1", "--routes", routes, "-D")

	// b and c only know the seed: a message from b reaches c only once
	// they learned of each other through its gossip, since a message
	// crosses at most one route.
	ncB, ncC := b.connect(), c.connect()
	sub, err := ncC.SubscribeSync("cross.>")
	require.NoError(t, err)
	require.NoError(t, ncC.Flush())
	// Interest reaches b asynchronously: publish until a message arrives.
	var got *nats.Msg
	for i := 0; i < 100 && got == nil; i++ {
		require.NoError(t, ncB.Publish("cross.hello", []byte(fmt.Sprint("msg ", i))))
		got, _ = sub.NextMsg(50 * time.Millisecond)
	}
	require.NotNil(t, got, "no message crossed from b to c")
	require.Equal(t, "cross.hello", got.Subject)

	// A request from the seed answered on c.
	_, err = ncC.Subscribe("svc.echo", func(m *nats.Msg) { m.Respond(append([]byte("echo "), m.Data...)) })
	require.NoError(t, err)
	require.NoError(t, ncC.Flush())
	ncA := seed.connect()
	var resp *nats.Msg
	for i := 0; i < 50 && resp == nil; i++ {
		resp, _ = ncA.Request("svc.echo", []byte("hi"), 100*time.Millisecond)
	}
	require.NotNil(t, resp, "no reply across the cluster")
	require.Equal(t, "echo hi", string(resp.Data))
}

// TestClusterConfigFileRouteAuth forms a cluster from configuration files
// with route credentials; a server with a wrong password is refused.
func TestClusterConfigFileRouteAuth(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three servers")
	}
	dir := t.TempDir()
	const block = `cluster {
  name: auth-e2e
  listen: 127.0.0.1:-1
  authorization { user: ruser, password: "T0pS3cr3t", timeout: 1 }
  %s
}
`
	seedConf := writeFile(t, filepath.Join(dir, "seed.conf"), fmt.Sprintf(block, ""))
	seed := start(t, "-c", seedConf)
	seed.waitLog("Listening for route connections on 127.0.0.1:")
	host := strings.TrimPrefix(seed.clusterURL(), "nats://")

	goodConf := writeFile(t, filepath.Join(dir, "good.conf"), fmt.Sprintf(block, "routes: [nats-route://ruser:T0pS3cr3t@"+host+"]"))
	good := start(t, "-c", goodConf)
	ncSeed, ncGood := seed.connect(), good.connect()
	sub, err := ncSeed.SubscribeSync("auth.e2e")
	require.NoError(t, err)
	require.NoError(t, ncSeed.Flush())
	servertest.PublishUntil(t, ncGood, "auth.e2e", []byte("ok"), sub)

	badConf := writeFile(t, filepath.Join(dir, "bad.conf"), fmt.Sprintf(block, "routes: [nats-route://ruser:wrong@"+host+"]"))
	bad := start(t, "-c", badConf)
	seed.waitLog("authentication error")
	ncBad := bad.connect()
	for range 20 {
		require.NoError(t, ncBad.Publish("auth.e2e", []byte("bad")))
	}
	require.NoError(t, ncBad.Flush())
	if m, err := sub.NextMsg(300 * time.Millisecond); err == nil && string(m.Data) == "bad" {
		t.Fatal("a message crossed a route with a wrong password")
	}
}

// TestClusterReload keeps the cluster on an unchanged reload and refuses
// a change to the block.
func TestClusterReload(t *testing.T) {
	dir := t.TempDir()
	text := "max_payload: 1KB\ncluster {\n  name: reload\n  listen: 127.0.0.1:-1\n}\n"
	conf := writeFile(t, filepath.Join(dir, "r.conf"), text)
	p := start(t, "-c", conf)
	writeFile(t, conf, strings.Replace(text, "1KB", "2KB", 1))
	p.signal(syscall.SIGHUP)
	p.waitLog("Reloaded server configuration")
	require.Equal(t, int64(2048), p.connect().MaxPayload())

	writeFile(t, conf, strings.Replace(text, "listen: 127.0.0.1:-1", "listen: 127.0.0.1:1", 1))
	p.signal(syscall.SIGHUP)
	p.waitLog("[ERR] Failed to reload server configuration: config reload not supported for cluster")
}

// TestClusterNodeKilledAndRestarted kills the node a client is on: the
// client fails over to a node it learned from INFO connect_urls, and a
// restarted node joins the mesh again through the seed.
func TestClusterNodeKilledAndRestarted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four servers")
	}
	seed := start(t, "--cluster_name", "restart", "--cluster", "nats://127.0.0.1:-1")
	routes := seed.clusterURL()
	b := start(t, "--cluster_name", "restart", "--cluster", "nats://127.0.0.1:-1", "--routes", routes)
	c := start(t, "--cluster_name", "restart", "--cluster", "nats://127.0.0.1:-1", "--routes", routes)

	reconnected := make(chan string, 4)
	nc, err := nats.Connect(b.url(), nats.Timeout(2*time.Second), nats.ReconnectWait(50*time.Millisecond),
		nats.MaxReconnects(50), nats.ReconnectHandler(func(nc *nats.Conn) { reconnected <- nc.ConnectedUrl() }))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	servertest.WaitUntil(t, "the client to learn the other nodes", func() bool { return len(nc.DiscoveredServers()) >= 2 })

	ncC := c.connect()
	sub, err := ncC.SubscribeSync("failover")
	require.NoError(t, err)
	require.NoError(t, ncC.Flush())

	require.NoError(t, b.cmd.Process.Kill())
	<-b.done
	select {
	case u := <-reconnected:
		require.NotEqual(t, b.url(), u)
	case <-time.After(10 * time.Second):
		t.Fatal("the client did not fail over")
	}
	servertest.PublishUntil(t, nc, "failover", []byte("after"), sub)

	// A new node pointing at the seed meshes with c again.
	d := start(t, "--cluster_name", "restart", "--cluster", "nats://127.0.0.1:-1", "--routes", routes)
	ncD := d.connect()
	servertest.PublishUntil(t, ncD, "failover", []byte("restarted"), sub)
}

// TestClusterNameConflict: servers with different cluster names refuse
// each other with a log line, and no message crosses.
func TestClusterNameConflict(t *testing.T) {
	a := start(t, "--cluster_name", "alpha", "--cluster", "nats://127.0.0.1:-1")
	b := start(t, "--cluster_name", "beta", "--cluster", "nats://127.0.0.1:-1", "--routes", a.clusterURL())
	servertest.WaitUntil(t, "a cluster name conflict in the logs", func() bool {
		return strings.Contains(a.log.String(), `Rejecting connection, cluster name "beta" does not match "alpha"`) ||
			strings.Contains(b.log.String(), `Rejecting connection, cluster name "alpha" does not match "beta"`)
	})
	ncA, ncB := a.connect(), b.connect()
	sub, err := ncA.SubscribeSync("conflict")
	require.NoError(t, err)
	require.NoError(t, ncA.Flush())
	for range 20 {
		require.NoError(t, ncB.Publish("conflict", []byte("x")))
	}
	require.NoError(t, ncB.Flush())
	_, err = sub.NextMsg(300 * time.Millisecond)
	require.ErrorIs(t, err, nats.ErrTimeout, "a message crossed clusters with different names")
}

// TestClusterTLSFromConfigFile forms a TLS cluster from cluster { tls {} }
// blocks; a server whose certificate comes from another CA is refused.
func TestClusterTLSFromConfigFile(t *testing.T) {
	good := t.TempDir()
	gf, of := servertest.NewPKI(t).Files(), servertest.NewPKI(t).Files()
	ca, cert, key := gf.CA, gf.Cert, gf.Key
	otherCert, otherKey := of.Cert, of.Key
	conf := func(dir, cert, key, routes string) string {
		return writeFile(t, filepath.Join(dir, fmt.Sprintf("n%d.conf", time.Now().UnixNano())), fmt.Sprintf(`cluster {
  name: tls-e2e
  listen: 127.0.0.1:-1
  tls { cert_file: %q, key_file: %q, ca_file: %q, timeout: 2 }
  routes: [%s]
}
`, cert, key, ca, routes))
	}
	a := start(t, "-c", conf(good, cert, key, ""))
	routes := "nats-route://" + strings.TrimPrefix(a.clusterURL(), "nats://")
	b := start(t, "-c", conf(good, cert, key, routes))
	ncA, ncB := a.connect(), b.connect()
	sub, err := ncA.SubscribeSync("tls.e2e")
	require.NoError(t, err)
	require.NoError(t, ncA.Flush())
	servertest.PublishUntil(t, ncB, "tls.e2e", []byte("ok"), sub)

	// Same CA file, but a certificate the CA did not sign.
	c := start(t, "-c", conf(good, otherCert, otherKey, routes))
	a.waitLog("TLS route handshake error")
	ncC := c.connect()
	for range 20 {
		require.NoError(t, ncC.Publish("tls.e2e", []byte("untrusted")))
	}
	require.NoError(t, ncC.Flush())
	if m, err := sub.NextMsg(300 * time.Millisecond); err == nil && string(m.Data) == "untrusted" {
		t.Fatal("a message crossed from a server with an untrusted certificate")
	}
}

// TestRoutesWithoutClusterListener: as upstream, routes need a cluster
// listener; without one they are ignored, with a warning.
func TestRoutesWithoutClusterListener(t *testing.T) {
	p := start(t, "--routes", "nats://127.0.0.1:1")
	p.waitLog("[WRN] Routes are ignored without a cluster listener")
	b, err := os.ReadFile(p.ports)
	require.NoError(t, err)
	require.NotContains(t, string(b), "cluster")
}

// TestClusterPoolPinnedAccountsAndRoutez: a two-node cluster from files
// with pool_size, a pinned account and s2_fast; /routez shows the pool,
// the pinned route and the compression, and messages of both accounts
// cross.
func TestClusterPoolPinnedAccountsAndRoutez(t *testing.T) {
	dir := t.TempDir()
	const text = `accounts {
  A: { users: [{ user: a, password: a }] }
  B: { users: [{ user: b, password: b }] }
}
cluster {
  name: pool-e2e
  listen: 127.0.0.1:-1
  pool_size: 2
  accounts: [A]
  compression: s2_fast
  %s
}
`
	a := start(t, "-c", writeFile(t, filepath.Join(dir, "a.conf"), fmt.Sprintf(text, "")), "-m", "-1")
	b := start(t, "-c", writeFile(t, filepath.Join(dir, "b.conf"), fmt.Sprintf(text, "routes: ["+a.clusterURL()+"]")))
	for _, acc := range []string{"a", "b"} {
		ncA := a.connect(nats.UserInfo(acc, acc))
		ncB := b.connect(nats.UserInfo(acc, acc))
		sub, err := ncA.SubscribeSync("pool.e2e")
		require.NoError(t, err)
		require.NoError(t, ncA.Flush())
		var got *nats.Msg
		for i := 0; i < 100 && got == nil; i++ {
			require.NoError(t, ncB.Publish("pool.e2e", []byte(acc)))
			got, _ = sub.NextMsg(50 * time.Millisecond)
		}
		require.NotNil(t, got, "no message crossed in account of %s", acc)
	}
	var rz struct {
		NumRoutes int `json:"num_routes"`
		Routes    []struct {
			Account     string `json:"account"`
			Compression string `json:"compression"`
			PoolIdx     int    `json:"pool_idx"`
		} `json:"routes"`
	}
	// Two pooled routes, A's and the system account's (upstream pins
	// $SYS without configuration).
	servertest.WaitUntil(t, "four routes in /routez", func() bool {
		getJSON(t, a.monitorURL()+"/routez", &rz)
		return rz.NumRoutes == 4
	})
	pinned := map[string]int{}
	for _, r := range rz.Routes {
		require.Equal(t, "s2_fast", r.Compression)
		pinned[r.Account]++
	}
	require.Equal(t, map[string]int{"": 2, "A": 1, "$SYS": 1}, pinned, "routes %+v", rz.Routes)
}
