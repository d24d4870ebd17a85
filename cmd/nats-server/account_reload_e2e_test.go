package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// TestAccountReloadE2E reloads accounts on the binary with SIGHUP: exports,
// imports and mappings apply to connections already open, new accounts
// take their users at once, a removed account's clients are closed, and
// limits apply to the next connection and subscription.
func TestAccountReloadE2E(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "acc.conf")
	writeFile(t, conf, `
accounts {
  A: { users: [ { user: a, password: a } ] }
  B: { users: [ { user: b, password: b } ] }
  D: { users: [ { user: d, password: d } ] }
}
`)
	p := start(t, "-c", conf)
	a := p.connect(nats.UserInfo("a", "a"))
	b := p.connect(nats.UserInfo("b", "b"))
	dClosed := make(chan struct{})
	d := p.connect(nats.UserInfo("d", "d"), nats.NoReconnect(), nats.ClosedHandler(func(*nats.Conn) { close(dClosed) }))

	streamSub, err := b.SubscribeSync("feed.x")
	require.NoError(t, err)
	mapped, err := a.SubscribeSync("m.out")
	require.NoError(t, err)
	_, err = a.Subscribe("svc.time", func(m *nats.Msg) { _ = m.Respond([]byte("now")) })
	require.NoError(t, err)
	require.NoError(t, a.Flush())
	require.NoError(t, b.Flush())

	// Before: nothing crosses, nothing is mapped.
	require.NoError(t, a.Publish("feed.x", []byte("1")))
	servertest.ExpectNoMsg(t, streamSub, a, b)
	_, err = b.Request("svc.time", nil, 500*time.Millisecond)
	require.ErrorIs(t, err, nats.ErrNoResponders)

	// Exports, imports and a mapping are added, D goes, C comes; A is
	// limited.
	p.reload(conf, `
accounts {
  A: {
    users: [ { user: a, password: a }, { user: a2, password: a2 } ]
    exports: [ { stream: "feed.>" }, { service: "svc.>" } ]
    mappings: { "m.in": "m.out" }
    limits: { max_connections: 1, max_subscriptions: 3 }
  }
  B: {
    users: [ { user: b, password: b } ]
    imports: [
      { stream: { account: A, subject: "feed.>" } }
      { service: { account: A, subject: "svc.time" }, to: "time" }
    ]
  }
  C: { users: [ { user: c, password: c } ] }
}
`, 1)
	p.waitLog("Reloaded: accounts")
	p.waitLog("Reloaded server configuration")

	// The open connections see the new links at once.
	require.NoError(t, a.Publish("feed.x", []byte("2")))
	m, err := streamSub.NextMsg(3 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "2", string(m.Data))
	m, err = b.Request("time", nil, 3*time.Second)
	require.NoError(t, err)
	require.Equal(t, "now", string(m.Data))
	require.NoError(t, a.Publish("m.in", []byte("3")))
	m, err = mapped.NextMsg(3 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "m.out", m.Subject)

	// D's client is closed; C's users connect.
	select {
	case <-dClosed:
	case <-time.After(5 * time.Second):
		t.Fatal("client of the removed account D not closed")
	}
	require.True(t, d.IsClosed())
	c := p.connect(nats.UserInfo("c", "c"))
	require.NoError(t, c.Flush())
	_, err = nats.Connect(p.url(), nats.UserInfo("d", "d"), nats.NoReconnect())
	require.Error(t, err)

	// A's limits: a second connection is refused, a fourth subscription
	// too (A has two; the mapping test's and the service's).
	_, err = nats.Connect(p.url(), nats.UserInfo("a2", "a2"), nats.NoReconnect())
	require.Error(t, err)
	require.Contains(t, strings.ToLower(err.Error()), "maximum account active connections exceeded")
	errs := make(chan error, 4)
	a.SetErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err })
	_, err = a.SubscribeSync("s3")
	require.NoError(t, err)
	_, err = a.SubscribeSync("s4")
	require.NoError(t, err)
	require.NoError(t, a.Flush())
	select {
	case err := <-errs:
		require.Contains(t, strings.ToLower(err.Error()), "maximum subscriptions exceeded")
	case <-time.After(3 * time.Second):
		t.Fatal("no maximum subscriptions error")
	}

	// Links removed again: the import stops at once.
	p.reload(conf, `
accounts {
  A: { users: [ { user: a, password: a } ], exports: [ { stream: "feed.>" } ] }
  B: { users: [ { user: b, password: b } ] }
  C: { users: [ { user: c, password: c } ] }
}
`, 2)
	require.NoError(t, a.Publish("feed.x", []byte("4")))
	servertest.ExpectNoMsg(t, streamSub, a, b)
	_, err = b.Request("time", nil, 500*time.Millisecond)
	require.True(t, errors.Is(err, nats.ErrNoResponders), "%v", err)

	// An import of an undefined export is refused as at start; nothing
	// changes.
	p.reload(conf, `
accounts {
  A: { users: [ { user: a, password: a } ] }
  B: { users: [ { user: b, password: b } ], imports: [ { stream: { account: A, subject: "feed.>" } } ] }
  C: { users: [ { user: c, password: c } ] }
}
`, 3)
	p.waitLog("Failed to reload server configuration")
	require.False(t, b.IsClosed())
	require.False(t, c.IsClosed())
}
