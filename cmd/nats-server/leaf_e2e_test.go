package main

import (
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

var leafListenRe = regexp.MustCompile(`Listening for leafnode connections on (\S+)`)

// leafAddr is the host:port of a process's leaf node listener, from its
// log.
func (p *proc) leafAddr() string {
	p.t.Helper()
	p.waitLog("Listening for leafnode connections on ")
	m := leafListenRe.FindStringSubmatch(p.log.String())
	require.NotNil(p.t, m)
	return m[1]
}

// eventually retries f (each try bounded by f itself) until it reports
// success or the wait ends.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(servertest.DefaultWait)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// crosses publishes on pub until sub gets a message (the interest takes a
// moment to cross the leaf connection) and returns it.
func crosses(t *testing.T, pub *nats.Conn, sub *nats.Subscription, subject string, data []byte) *nats.Msg {
	t.Helper()
	var got *nats.Msg
	eventually(t, "a message on "+subject+" to cross the leaf connection", func() bool {
		require.NoError(t, pub.Publish(subject, data))
		m, err := sub.NextMsg(100 * time.Millisecond)
		got = m
		return err == nil
	})
	return got
}

// Upstream's hub-and-edge walk-through with the built binary on both
// sides: a hub with accounts, a leaf with its own local users whose remote
// authenticates as a hub user (and binds to that user's account); nats.go
// clients on both sides exchange messages both ways, requests and queue
// traffic.
func TestLeafHubAndEdge(t *testing.T) {
	dir := t.TempDir()
	hubConf := writeFile(t, filepath.Join(dir, "hub.conf"), `
accounts {
  HUB: { users: [ { user: app, password: app }, { user: edge, password: edgepw } ] }
  OTHER: { users: [ { user: other, password: other } ] }
}
leafnodes { listen: "127.0.0.1:-1" }
`)
	hub := start(t, "-c", hubConf)
	addr := hub.leafAddr()
	leafConf := writeFile(t, filepath.Join(dir, "leaf.conf"), `
authorization { users: [ { user: local, password: localpw } ] }
leafnodes {
  reconnect: "100ms"
  remotes: [ { url: "nats-leaf://edge:edgepw@`+addr+`" } ]
}
`)
	edge := start(t, "-c", leafConf)
	edge.waitLog("Leafnode connection created for account: $G")
	hub.waitLog("Leafnode connection created")

	app := hub.connect(nats.UserInfo("app", "app"))
	other := hub.connect(nats.UserInfo("other", "other"))
	local := edge.connect(nats.UserInfo("local", "localpw"))

	// Hub to leaf, and not from another account of the hub.
	onLeaf, err := local.SubscribeSync("edge.in")
	require.NoError(t, err)
	require.NoError(t, local.Flush())
	m := crosses(t, app, onLeaf, "edge.in", []byte("to edge"))
	require.Equal(t, "to edge", string(m.Data))
	require.NoError(t, other.Publish("edge.in", []byte("wrong account")))
	require.NoError(t, other.Flush())
	require.NoError(t, app.Publish("edge.in", []byte("marker")))
	for {
		m, err := onLeaf.NextMsg(servertest.DefaultWait)
		require.NoError(t, err)
		require.NotEqual(t, "wrong account", string(m.Data))
		if string(m.Data) == "marker" {
			break
		}
	}

	// Leaf to hub, with headers.
	onHub, err := app.SubscribeSync("hub.in")
	require.NoError(t, err)
	require.NoError(t, app.Flush())
	eventually(t, "a message with headers from the leaf", func() bool {
		hm := nats.NewMsg("hub.in")
		hm.Header.Set("X-From", "edge")
		hm.Data = []byte("to hub")
		require.NoError(t, local.PublishMsg(hm))
		m, err := onHub.NextMsg(100 * time.Millisecond)
		if err != nil {
			return false
		}
		require.Equal(t, "edge", m.Header.Get("X-From"))
		return true
	})

	// Requests both ways.
	_, err = app.Subscribe("svc.hub", func(m *nats.Msg) { _ = m.Respond([]byte("hub answers " + string(m.Data))) })
	require.NoError(t, err)
	_, err = local.Subscribe("svc.edge", func(m *nats.Msg) { _ = m.Respond([]byte("edge answers " + string(m.Data))) })
	require.NoError(t, err)
	require.NoError(t, app.Flush())
	require.NoError(t, local.Flush())
	eventually(t, "a reply from the hub", func() bool {
		r, err := local.Request("svc.hub", []byte("q1"), 200*time.Millisecond)
		return err == nil && string(r.Data) == "hub answers q1"
	})
	eventually(t, "a reply from the leaf", func() bool {
		r, err := app.Request("svc.edge", []byte("q2"), 200*time.Millisecond)
		return err == nil && string(r.Data) == "edge answers q2"
	})

	// A queue group with a member on each side: each message once, the
	// publisher's side's member first.
	hubQ := make(chan *nats.Msg, 64)
	edgeQ := make(chan *nats.Msg, 64)
	_, err = app.ChanQueueSubscribe("jobs", "workers", hubQ)
	require.NoError(t, err)
	_, err = local.ChanQueueSubscribe("jobs", "workers", edgeQ)
	require.NoError(t, err)
	require.NoError(t, app.Flush())
	require.NoError(t, local.Flush())
	mark, err := app.SubscribeSync("jobs.done")
	require.NoError(t, err)
	require.NoError(t, app.Flush())
	crosses(t, local, mark, "jobs.done", nil)
	for range 20 {
		require.NoError(t, local.Publish("jobs", nil))
	}
	require.NoError(t, local.Publish("jobs.done", nil))
	_, err = mark.NextMsg(servertest.DefaultWait)
	require.NoError(t, err)
	servertest.WaitUntil(t, "the leaf's member to get the 20 jobs", func() bool { return len(edgeQ) == 20 })
	require.Empty(t, hubQ, "the hub's member got jobs the leaf's own member should have had")
}

// A remote with wrong credentials is refused with upstream's error and
// keeps retrying; the hub logs the failed authentication.
func TestLeafWrongCredentials(t *testing.T) {
	dir := t.TempDir()
	hub := start(t, "-c", writeFile(t, filepath.Join(dir, "hub.conf"), `
leafnodes {
  listen: "127.0.0.1:-1"
  authorization { user: leaf, password: right }
}
`))
	addr := hub.leafAddr()
	edge := start(t, "-c", writeFile(t, filepath.Join(dir, "leaf.conf"), `
leafnodes {
  reconnect: "100ms"
  remotes: [ { url: "nats-leaf://leaf:wrong@`+addr+`" } ]
}
`))
	edge.waitLog("Leafnode Error 'Authorization Violation'")
	hub.waitLog(`authentication error - User "leaf"`)
	hub.waitLog("Leafnode connection closed: Authentication Failure")
}
