package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// clusterAuthBlock is a cluster {} block with authorization and extra
// keys; routes may be empty.
func clusterAuthBlock(pass, extra, routes string) string {
	return fmt.Sprintf("cluster {\n  name: rk\n  listen: 127.0.0.1:-1\n  authorization { user: ruser, password: %s }\n%s\n  routes: [%s]\n}\n",
		pass, extra, routes)
}

// TestClusterReloadKeysWithUpstream reloads cluster keys of natsd in a
// mixed cluster with upstream nats-server: ping_interval, ping_max and
// connect_retries apply and the route stays up; a new cluster password
// closes the route upstream dialed with the old one (-ERR 'Authorization
// Violation', as upstream does), and once upstream's routes are reloaded
// with the new password (SIGHUP to upstream) the route carries messages
// again (nats.go on both sides); a new cluster name keeps the routes up.
func TestClusterReloadKeysWithUpstream(t *testing.T) {
	bin := servertest.UpstreamBinary(t)
	if testing.Short() {
		t.Skip("starts two servers")
	}
	dir := t.TempDir()
	ndConf := writeFile(t, filepath.Join(dir, "nd.conf"), clusterAuthBlock("one", "", ""))
	nd := start(t, "-c", ndConf, "-D")
	ndRoute := strings.TrimPrefix(nd.clusterURL(), "nats://")

	upConf := writeFile(t, filepath.Join(dir, "up.conf"), clusterAuthBlock("one", "", "nats-route://ruser:one@"+ndRoute))
	up := startBinary(t, bin, "-c", upConf)
	nd.waitLog("Registering remote route")

	ncND, ncUp := nd.connect(), up.connect()
	sub, err := ncND.SubscribeSync("rk.x")
	require.NoError(t, err)
	require.NoError(t, ncND.Flush())
	servertest.PublishUntil(t, ncUp, "rk.x", []byte("before"), sub)

	// Timers and retries apply; the routes stay.
	closed := strings.Count(nd.log.String(), "Router connection closed")
	writeFile(t, ndConf, clusterAuthBlock("one", "  ping_interval: 5s\n  ping_max: 4\n  connect_retries: 3", ""))
	nd.signal(syscall.SIGHUP)
	nd.waitLog("Reloaded: cluster ping_interval = 5s")
	nd.waitLog("Reloaded: cluster ping_max = 4")
	nd.waitLog("Reloaded: cluster connect_retries = 3")
	nd.waitLog("Reloaded server configuration")
	require.NoError(t, ncUp.Publish("rk.x", []byte("after timers")))
	m, err := sub.NextMsg(5e9)
	require.NoError(t, err)
	require.Equal(t, "after timers", string(m.Data))
	require.Equal(t, closed, strings.Count(nd.log.String(), "Router connection closed"), "reloading timers closed a route")

	// A new password: the route upstream dialed with the old one closes.
	writeFile(t, ndConf, clusterAuthBlock("two", "", ""))
	nd.signal(syscall.SIGHUP)
	nd.waitLog("Reloaded: cluster authorization")
	nd.waitLog("Route connection not authorized after reload")
	up.waitLog("Authorization Violation")

	// Upstream reloads its route with the new password: the route is
	// back and carries messages.
	writeFile(t, upConf, clusterAuthBlock("one", "", "nats-route://ruser:two@"+ndRoute))
	up.signal(syscall.SIGHUP)
	up.waitLog("Reloaded server configuration")
	servertest.PublishUntil(t, ncUp, "rk.x", []byte("after auth"), sub)

	// A new cluster name applies and keeps the routes up, as upstream's
	// does (it refuses new peers of the old name).
	writeFile(t, ndConf, strings.Replace(clusterAuthBlock("two", "", ""), "name: rk", "name: other", 1))
	nd.signal(syscall.SIGHUP)
	nd.waitLog("Cluster name updated to other")
	nd.waitLog("Reloaded: cluster name = other")
	servertest.PublishUntil(t, ncUp, "rk.x", []byte("after name"), sub)
}

// TestClusterReloadNoAdvertise reloads no_advertise between
// two natsd servers: with no_advertise on, a client of A no longer
// learns B's client URL.
func TestClusterReloadNoAdvertise(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers")
	}
	dir := t.TempDir()
	conf := writeFile(t, filepath.Join(dir, "a.conf"), "cluster {\n  name: na\n  listen: 127.0.0.1:-1\n}\n")
	a := start(t, "-c", conf, "-D")
	b := start(t, "--cluster_name", "na", "--cluster", "nats://127.0.0.1:-1", "--routes", a.clusterURL())
	a.waitLog("Registering remote route")
	nc := a.connect()
	servertest.WaitUntil(t, "A's client learns B's URL", func() bool {
		return strings.Contains(strings.Join(nc.DiscoveredServers(), " "), fmt.Sprint(b.port))
	})

	writeFile(t, conf, "cluster {\n  name: na\n  listen: 127.0.0.1:-1\n  no_advertise: true\n}\n")
	a.signal(syscall.SIGHUP)
	a.waitLog("Reloaded: cluster no_advertise = true")
	nc2 := a.connect()
	require.NoError(t, nc2.Flush())
	for _, u := range nc2.DiscoveredServers() {
		require.NotContains(t, u, fmt.Sprint(b.port), "no_advertise still gives clients B's URL")
	}
}
