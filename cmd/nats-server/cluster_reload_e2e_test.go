package main

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// TestClusterReloadRoutes changes cluster { routes } and sends SIGHUP, as
// upstream allows: the route removed is closed ("Route Removed") and not
// redialed, the route added is dialed and carries messages (nats.go);
// a change to another cluster key is still refused.
func TestClusterReloadRoutes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three servers")
	}
	b := start(t, "--cluster_name", "rr", "--cluster", "nats://127.0.0.1:-1", "-D")
	c := start(t, "--cluster_name", "rr", "--cluster", "nats://127.0.0.1:-1", "-D")
	bURL, cURL := b.clusterURL(), c.clusterURL()

	dir := t.TempDir()
	block := "cluster {\n  name: rr\n  listen: 127.0.0.1:-1\n  routes: [%s]\n}\n"
	conf := writeFile(t, filepath.Join(dir, "a.conf"), fmt.Sprintf(block, bURL))
	a := start(t, "-c", conf)
	b.waitLog("Registering remote route")

	ncA := a.connect()
	ncB := b.connect()
	subB, err := ncB.SubscribeSync("rr.b")
	require.NoError(t, err)
	require.NoError(t, ncB.Flush())
	servertest.WaitUntil(t, "a message from A to B", func() bool {
		require.NoError(t, ncA.Publish("rr.b", []byte("before")))
		m, _ := subB.NextMsg(50 * time.Millisecond)
		return m != nil
	})

	// Replace B by C, and list a canary that refuses every route: A
	// redials it about once a second, as it would B if B were still listed.
	canary, dials := routeCanary(t)
	writeFile(t, conf, fmt.Sprintf(block, cURL+", "+canary))
	a.signal(syscall.SIGHUP)
	a.waitLog("Reloaded: cluster routes")
	a.waitLog("Removed route " + bURL)
	a.waitLog("Router connection closed: Route Removed")
	c.waitLog("Registering remote route")

	ncC := c.connect()
	subC, err := ncC.SubscribeSync("rr.c")
	require.NoError(t, err)
	require.NoError(t, ncC.Flush())
	servertest.WaitUntil(t, "a message from A to C", func() bool {
		require.NoError(t, ncA.Publish("rr.c", []byte("after")))
		m, _ := subC.NextMsg(50 * time.Millisecond)
		return m != nil
	})

	// B is not dialed again: explicit routes are redialed after a second,
	// so by the canary's third dial B would have been.
	created := strings.Count(b.log.String(), "Route connection created")
	for range 3 {
		select {
		case <-dials:
		case <-time.After(10 * time.Second):
			t.Fatal("A does not redial the canary")
		}
	}
	require.Equal(t, created, strings.Count(b.log.String(), "Route connection created"), "B was dialed again")

	// Routes reload, the other keys still need a restart.
	writeFile(t, conf, strings.Replace(fmt.Sprintf(block, bURL), "listen: 127.0.0.1:-1", "listen: 127.0.0.1:1", 1))
	a.signal(syscall.SIGHUP)
	a.waitLog("[ERR] Failed to reload server configuration: config reload not supported for cluster")
	require.Equal(t, 1, strings.Count(a.log.String(), "Removed route"), "a refused reload changed the routes")
}

// routeCanary listens on a loopback port and closes every connection at
// once; it returns its route URL and a channel that receives a value per
// connection (dropped when nobody reads).
func routeCanary(t *testing.T) (string, <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	dials := make(chan struct{}, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
			select {
			case dials <- struct{}{}:
			default:
			}
		}
	}()
	return "nats-route://" + ln.Addr().String(), dials
}
