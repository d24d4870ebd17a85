package server_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/auth"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
)

// errCollector gathers a connection's asynchronous errors.
func errCollector() (nats.Option, chan error) {
	errs := make(chan error, 16)
	return nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case errs <- err:
		default:
		}
	}), errs
}

func waitErr(t *testing.T, errs chan error, substr string) {
	t.Helper()
	select {
	case err := <-errs:
		require.Contains(t, err.Error(), substr)
	case <-time.After(5 * time.Second):
		t.Fatalf("no error %q", substr)
	}
}

func waitClosed(t *testing.T, nc *nats.Conn) {
	t.Helper()
	servertest.WaitUntil(t, "the connection to close", func() bool { return nc.IsClosed() })
}

func TestReloadAuthAddRemoveUser(t *testing.T) {
	alice := auth.User{Name: "alice", Password: bcryptHash(t, "a")}
	opts := server.Options{}
	s, logs := startAuthServer(t, &auth.Config{Users: []auth.User{alice}}, opts)
	opts = server.Options{Logger: nil, Authorization: &auth.Config{Users: []auth.User{alice}}}

	_, err := dialNats(s, nats.UserInfo("bob", "b"))
	require.ErrorIs(t, err, nats.ErrAuthorization)
	a := servertest.Connect(t, s, nats.UserInfo("alice", "a"))

	// Adding bob: he can connect, alice stays.
	opts.Authorization = &auth.Config{Users: []auth.User{alice, {Name: "bob", Password: "b"}}}
	require.NoError(t, s.Reload(opts))
	b := servertest.Connect(t, s, nats.UserInfo("bob", "b"))
	require.NoError(t, b.Flush())

	// Removing bob closes his connection and refuses him; alice stays.
	opts.Authorization = &auth.Config{Users: []auth.User{alice}}
	require.NoError(t, s.Reload(opts))
	waitClosed(t, b)
	require.Equal(t, "Client Closed", servertest.ClosedReason(t, s))
	_, err = dialNats(s, nats.UserInfo("bob", "b"))
	require.ErrorIs(t, err, nats.ErrAuthorization)
	require.NoError(t, a.Flush())
	require.False(t, a.IsClosed())
	require.NotContains(t, logs.String(), "Authorization Violation")
}

func TestReloadAuthPasswordChanged(t *testing.T) {
	s, logs := startAuthServer(t, &auth.Config{User: "u", Password: "old"}, server.Options{})
	errOpt, errs := errCollector()
	nc := servertest.Connect(t, s, nats.UserInfo("u", "old"), errOpt)
	require.NoError(t, s.Reload(server.Options{Authorization: &auth.Config{User: "u", Password: "new"}}))
	waitErr(t, errs, "authorization violation")
	waitClosed(t, nc)
	require.Equal(t, "Authentication Failure", servertest.ClosedReason(t, s))
	servertest.WaitUntil(t, "the log line", func() bool { return strings.Contains(logs.String(), `authentication error - User "u"`) })
	servertest.Connect(t, s, nats.UserInfo("u", "new"))
}

func TestReloadAuthPermissions(t *testing.T) {
	s, logs := startAuthServer(t, &auth.Config{Users: []auth.User{{Name: "p", Password: "p"}, {Name: "watch", Password: "w"}}}, server.Options{})
	errOpt, errs := errCollector()
	nc := servertest.Connect(t, s, nats.UserInfo("p", "p"), errOpt)
	watcher := servertest.Connect(t, s, nats.UserInfo("watch", "w"))
	all, err := watcher.SubscribeSync(">")
	require.NoError(t, err)
	require.NoError(t, watcher.Flush())

	secret, err := nc.SubscribeSync("secret.>")
	require.NoError(t, err)
	wide, err := nc.SubscribeSync("data.>")
	require.NoError(t, err)
	require.NoError(t, nc.Publish("nope", []byte("allowed")))
	require.NoError(t, nc.Flush())
	m, err := all.NextMsg(2 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "nope", m.Subject)

	perms := &auth.Permissions{
		Publish:   &auth.SubjectPermission{Allow: []string{"ok.>", "data.>"}},
		Subscribe: &auth.SubjectPermission{Allow: []string{"data.>"}, Deny: []string{"data.hidden"}},
	}
	require.NoError(t, s.Reload(server.Options{Authorization: &auth.Config{Users: []auth.User{
		{Name: "p", Password: "p", Permissions: perms}, {Name: "watch", Password: "w"},
	}}}))

	// The subscription the new permissions refuse is dropped at once.
	waitErr(t, errs, `Permissions Violation for Subscription to "secret.>" (sid "1")`)
	servertest.WaitUntil(t, "the log line", func() bool {
		return strings.Contains(logs.String(), `Removed sub "secret.>" (sid "1") for User "p" - not authorized`)
	})
	require.False(t, nc.IsClosed())

	// The same connection may no longer publish to "nope".
	require.NoError(t, nc.Publish("nope", []byte("denied")))
	require.NoError(t, nc.Publish("ok.1", []byte("allowed")))
	require.NoError(t, nc.Flush())
	waitErr(t, errs, `Permissions Violation for Publish to "nope"`)
	m, err = all.NextMsg(2 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "ok.1", m.Subject)

	// The wildcard subscription that stays gets the new delivery filter.
	require.NoError(t, watcher.Publish("secret.x", nil))
	require.NoError(t, watcher.Publish("data.hidden", nil))
	require.NoError(t, watcher.Publish("data.shown", nil))
	require.NoError(t, watcher.Flush())
	m, err = wide.NextMsg(2 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "data.shown", m.Subject)
	// secret.x was published first on the same connection: it would be
	// queued before data.shown.
	servertest.ExpectNoMsg(t, secret)
	require.Equal(t, 1, numSubs(t, s, "p"))
}

// numSubs is the number of subscriptions of user's open connection.
func numSubs(t *testing.T, s *server.Server, user string) int {
	t.Helper()
	cz, err := s.Connz(&snapshot.ConnzOptions{Subscriptions: true, User: user})
	require.NoError(t, err)
	require.Len(t, cz.Conns, 1)
	return len(cz.Conns[0].Subs)
}

func TestReloadAuthAccounts(t *testing.T) {
	users := func(bAcc string) *auth.Config {
		return &auth.Config{Users: []auth.User{
			{Name: "a", Password: "a", Account: "A"},
			{Name: "b", Password: "b", Account: bAcc},
			{Name: "c", Password: "c", Account: "A"},
		}}
	}
	opts := server.Options{Accounts: []string{"A", "B"}}
	s, _ := startAuthServer(t, users("A"), opts)
	a := servertest.Connect(t, s, nats.UserInfo("a", "a"))
	b := servertest.Connect(t, s, nats.UserInfo("b", "b"))

	// b moves to account B: closed; a keeps account A.
	opts.Authorization = users("B")
	require.NoError(t, s.Reload(opts))
	waitClosed(t, b)
	require.Equal(t, "Client Closed", servertest.ClosedReason(t, s))
	b = servertest.Connect(t, s, nats.UserInfo("b", "b"))
	sub, err := a.SubscribeSync("x")
	require.NoError(t, err)
	require.NoError(t, a.Flush())
	c := servertest.Connect(t, s, nats.UserInfo("c", "c"))
	require.NoError(t, b.Publish("x", nil))
	require.NoError(t, b.Flush())
	require.NoError(t, c.Publish("x", []byte("same account")))
	require.NoError(t, c.Flush())
	m, err := sub.NextMsg(2 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "same account", string(m.Data))

	// A user of an account that does not exist is refused.
	opts.Authorization = users("C")
	require.ErrorIs(t, s.Reload(opts), server.ErrBadOptions)
	require.False(t, a.IsClosed())
}

func TestReloadAuthOnAndOff(t *testing.T) {
	s, _ := startAuthServer(t, nil, server.Options{})
	errOpt, errs := errCollector()
	anon := servertest.Connect(t, s, errOpt)
	require.NoError(t, s.Reload(server.Options{Authorization: &auth.Config{Token: "t"}}))
	waitErr(t, errs, "authorization violation")
	waitClosed(t, anon)
	_, err := dialNats(s)
	require.ErrorIs(t, err, nats.ErrAuthorization)
	tok := servertest.Connect(t, s, nats.Token("t"))

	// Turning authentication off keeps the token client and lets anyone in.
	require.NoError(t, s.Reload(server.Options{}))
	servertest.Connect(t, s)
	require.NoError(t, tok.Flush())
	require.False(t, tok.IsClosed())
}

// TestReloadAuthConcurrent reloads while clients connect and publish; run
// with -race. After the last reload removes the user, none of its
// connections may remain.
func TestReloadAuthConcurrent(t *testing.T) {
	with := &auth.Config{Users: []auth.User{{Name: "u", Password: "p"}, {Name: "keep", Password: "k"}}}
	perms := &auth.Permissions{Publish: &auth.SubjectPermission{Allow: []string{"a.>"}}}
	withPerms := &auth.Config{Users: []auth.User{{Name: "u", Password: "p", Permissions: perms}, {Name: "keep", Password: "k"}}}
	s, _ := startAuthServer(t, with, server.Options{})
	keep := servertest.Connect(t, s, nats.UserInfo("keep", "k"))

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				nc, err := dialNats(s, nats.UserInfo("u", "p"))
				if err != nil {
					continue
				}
				_, _ = nc.SubscribeSync("b.>")
				_ = nc.Publish("a.1", nil)
				_ = nc.Publish("b.1", nil)
				_ = nc.Flush()
				nc.Close()
			}
		})
	}
	for i := range 20 {
		cfg := with
		if i%2 == 1 {
			cfg = withPerms
		}
		require.NoError(t, s.Reload(server.Options{Authorization: cfg}))
		time.Sleep(5 * time.Millisecond)
	}
	// Hold connections of u open across the last reload.
	held, err := dialNats(s, nats.UserInfo("u", "p"))
	require.NoError(t, err)
	t.Cleanup(held.Close)
	require.NoError(t, s.Reload(server.Options{Authorization: &auth.Config{Users: []auth.User{{Name: "keep", Password: "k"}}}}))
	close(stop)
	wg.Wait()
	waitClosed(t, held)
	servertest.WaitUntil(t, "u's connections to close", func() bool {
		cz, err := s.Connz(&snapshot.ConnzOptions{User: "u"})
		require.NoError(t, err)
		return len(cz.Conns) == 0
	})
	require.NoError(t, keep.Flush())
	_, err = dialNats(s, nats.UserInfo("u", "p"))
	require.True(t, errors.Is(err, nats.ErrAuthorization), "%v", err)
}

// TestReloadAuthAllowResponses: allow_responses granted by a reload
// covers the first request delivered after it, before the responder
// read anything.
func TestReloadAuthAllowResponses(t *testing.T) {
	cfg := func(resp *auth.ResponsePermission) *auth.Config {
		return &auth.Config{Users: []auth.User{
			{Name: "svc", Password: "s", Permissions: &auth.Permissions{
				Publish: &auth.SubjectPermission{Allow: []string{"none.>"}}, Response: resp,
			}},
			{Name: "cli", Password: "c"},
		}}
	}
	s, _ := startAuthServer(t, cfg(nil), server.Options{})
	errOpt, errs := errCollector()
	svc := servertest.Connect(t, s, nats.UserInfo("svc", "s"), errOpt)
	_, err := svc.Subscribe("svc", func(m *nats.Msg) { _ = m.Respond([]byte("pong")) })
	require.NoError(t, err)
	require.NoError(t, svc.Flush())
	cli := servertest.Connect(t, s, nats.UserInfo("cli", "c"))
	_, err = cli.Request("svc", nil, 300*time.Millisecond)
	require.Error(t, err, "no allow_responses yet")
	waitErr(t, errs, "Permissions Violation for Publish")

	require.NoError(t, s.Reload(server.Options{Authorization: cfg(&auth.ResponsePermission{MaxMsgs: 1, Expires: time.Minute})}))
	m, err := cli.Request("svc", nil, 2*time.Second)
	require.NoError(t, err)
	require.Equal(t, "pong", string(m.Data))
}
