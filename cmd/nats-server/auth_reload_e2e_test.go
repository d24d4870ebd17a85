package main

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// reload rewrites conf, sends SIGHUP and waits for the n-th outcome line
// (success or failure) in the log.
func (p *proc) reload(conf, text string, n int) {
	p.t.Helper()
	writeFile(p.t, conf, text)
	p.signal(syscall.SIGHUP)
	servertest.WaitUntil(p.t, "reload outcome", func() bool {
		log := p.log.String()
		return strings.Count(log, "Reloaded server configuration")+strings.Count(log, "Failed to reload server configuration") >= n
	})
}

func TestAuthorizationReloadE2E(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "auth.conf")
	const v1 = `
accounts { A { users [ { user: bob, password: bob }, { user: ann, password: ann } ] } }
authorization { users [ { user: alice, password: alice } ] }
`
	writeFile(t, conf, v1)
	p := start(t, "-c", conf)

	aliceErrs := make(chan error, 8)
	alice := p.connect(nats.UserInfo("alice", "alice"), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { aliceErrs <- err }))
	// bob may reconnect: after the reload his reconnects are refused.
	bobErrs := make(chan error, 8)
	bobClosed := make(chan struct{})
	bob, err := nats.Connect(p.url(), nats.UserInfo("bob", "bob"), nats.MaxReconnects(3), nats.ReconnectWait(50*time.Millisecond),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case bobErrs <- err:
			default:
			}
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(bobClosed) }))
	require.NoError(t, err)
	t.Cleanup(bob.Close)
	ann := p.connect(nats.UserInfo("ann", "ann"))
	_, err = p.dial(nats.UserInfo("carol", "carol"))
	require.ErrorIs(t, err, nats.ErrAuthorization)
	require.NoError(t, alice.Publish("nope", nil))
	require.NoError(t, alice.Flush())

	// carol joins account A, bob leaves it, alice gets permissions.
	p.reload(conf, `
accounts { A { users [ { user: ann, password: ann }, { user: carol, password: carol } ] } }
authorization { users [ { user: alice, password: alice, permissions: { publish: "ok.>" } } ] }
`, 1)
	require.Contains(t, p.log.String(), "Reloaded server configuration")
	carol := p.connect(nats.UserInfo("carol", "carol"))

	select {
	case <-bobClosed:
	case <-time.After(10 * time.Second):
		t.Fatal("bob's connection stayed open")
	}
	select {
	case err := <-bobErrs:
		require.True(t, errors.Is(err, nats.ErrAuthorization), "%v", err)
	default:
		t.Fatal("bob's reconnect was not refused")
	}

	require.NoError(t, alice.Publish("nope", nil))
	require.NoError(t, alice.Flush())
	select {
	case err := <-aliceErrs:
		require.ErrorIs(t, err, nats.ErrPermissionViolation)
		require.Contains(t, err.Error(), `Permissions Violation for Publish to "nope"`)
	case <-time.After(5 * time.Second):
		t.Fatal("no permissions violation after the reload")
	}
	require.False(t, alice.IsClosed())

	// ann and carol share account A: ann stayed in it.
	sub, err := ann.SubscribeSync("in.a")
	require.NoError(t, err)
	require.NoError(t, ann.Flush())
	require.NoError(t, carol.Publish("in.a", []byte("hi")))
	require.NoError(t, carol.Flush())
	_, err = sub.NextMsg(2 * time.Second)
	require.NoError(t, err)

	// Accounts reload (account_reload_e2e_test.go); setting no_auth_user
	// is still refused.
	p.reload(conf, `
accounts { A { users [ { user: ann, password: ann } ] }, B {} }
`, 2)
	p.reload(conf, `
accounts { A { users [ { user: ann, password: ann } ], limits { max_connections: 1 } } }
`, 3)
	p.waitLog("Reloaded: accounts")
	p.reload(conf, `
accounts { A { users [ { user: ann, password: ann } ] } }
no_auth_user: ann
`, 4)
	p.waitLog("config reload not supported for no_auth_user: old=, new=ann")
	require.NoError(t, ann.Flush())
	require.False(t, ann.IsClosed())
}

// TestAuthFlagsReloadE2E: --user/--pass stay in force across a reload of
// the file, and the file's other users reload.
func TestAuthFlagsReloadE2E(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "f.conf")
	writeFile(t, conf, "max_payload: 1KB\n")
	p := start(t, "-c", conf, "--user", "u", "--pass", "p")
	nc := p.connect(nats.UserInfo("u", "p"))
	p.reload(conf, "max_payload: 2KB\n", 1)
	require.Contains(t, p.log.String(), "Reloaded server configuration")
	require.NoError(t, nc.Flush())
	require.False(t, nc.IsClosed())
	_, err := p.dial()
	require.ErrorIs(t, err, nats.ErrAuthorization)
	require.NoError(t, p.connect(nats.UserInfo("u", "p")).Flush())
}
