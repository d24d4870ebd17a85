package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// TestReloadAddsAccountRouteInterest: A has account X with a subscriber,
// B has not (it ignores A's interest in X). A SIGHUP reload that adds X
// to B makes B's clients of X reach A's subscriber, without the route
// reconnecting; a reload that removes X and one that adds it again do
// the same.
func TestReloadAddsAccountRouteInterest(t *testing.T) {
	dir := t.TempDir()
	ports := servertest.FreePorts(t, 2)
	const withX = `accounts { X: { users: [ {user: x, password: x} ] } }`
	const withoutX = `accounts { Y: { users: [ {user: y, password: y} ] } }`
	conf := func(name string, route, peer int, accounts string) string {
		return fmt.Sprintf("server_name: %s\n%s\ncluster { name: c, listen: \"127.0.0.1:%d\", routes: [\"nats://127.0.0.1:%d\"] }\n", name, accounts, route, peer)
	}
	a := start(t, "-c", writeFile(t, filepath.Join(dir, "a.conf"), conf("A", ports[0], ports[1], withX)))
	bConf := filepath.Join(dir, "b.conf")
	b := start(t, "-c", writeFile(t, bConf, conf("B", ports[1], ports[0], withoutX)))
	onA := a.connect(nats.UserInfo("x", "x"))
	sub, err := onA.SubscribeSync("to.a")
	require.NoError(t, err)
	require.NoError(t, onA.Flush())
	b.waitLog(`Unknown account "X" for remote subject "to.a"`)
	routes := strings.Count(b.log.String(), "Route connection created")

	reloads := 0
	for _, step := range []string{withX, withoutX, withX} {
		reloads++
		b.reload(bConf, conf("B", ports[1], ports[0], step), reloads)
		require.NotContains(t, b.log.String(), "Failed to reload")
		if step == withoutX {
			continue
		}
		onB := b.connect(nats.UserInfo("x", "x"))
		// The interest is registered by the reload itself: the first
		// publish after it crosses.
		require.NoError(t, onB.Publish("to.a", []byte(fmt.Sprint("after reload ", reloads))))
		require.NoError(t, onB.Flush())
		m, err := sub.NextMsg(5 * time.Second)
		require.NoError(t, err, "reload %d", reloads)
		require.Equal(t, fmt.Sprint("after reload ", reloads), string(m.Data))
		onB.Close()
	}
	require.Equal(t, routes, strings.Count(b.log.String(), "Route connection created"), "the routes never reconnected")
}
