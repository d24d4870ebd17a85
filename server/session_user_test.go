package server_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/auth"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
	_ "natsd.dev/server/sys"
)

// userSessConf has a system user to watch advisories and a user of
// account A that both socket clients and sessions log in as.
const userSessConf = `
system_account: SYS
accounts {
  SYS: { users: [ { user: sys, password: psys } ] }
  A: { users: [ { user: a, password: pa } ] }
}
`

// varzConns is /varz connections and total_connections.
func varzConns(t *testing.T, s *server.Server) (int, uint64) {
	t.Helper()
	v, err := s.Varz(nil)
	require.NoError(t, err)
	return v.Connections, v.TotalConnections
}

// accountConns is the connections /accstatz reports for acc.
func accountConns(t *testing.T, s *server.Server, acc string) int {
	t.Helper()
	st, err := s.AccountStatz(&snapshot.AccountStatzOptions{Accounts: []string{acc}, IncludeUnused: true})
	require.NoError(t, err)
	require.Len(t, st.Accounts, 1)
	return st.Accounts[0].Conns
}

// TestSessionCountedAsClient: a session of Kind "Client" is in /varz
// connections and total_connections and in its account's connections
// (/accstatz), as a socket client of its user is, until it closes; the
// internal kinds are not counted, as upstream counts no internal client.
func TestSessionCountedAsClient(t *testing.T) {
	s := servertest.StartConfig(t, userSessConf)
	servertest.Connect(t, s, nats.UserInfo("a", "pa"))
	conns0, total0 := varzConns(t, s)
	acc0 := accountConns(t, s, "A")
	require.Equal(t, 1, acc0)

	js, err := s.Attach(server.SessionOptions{Kind: server.SessionJetStream, Account: "A"})
	require.NoError(t, err)
	defer js.Close()
	sess, err := s.Attach(server.SessionOptions{User: "a", Password: "pa", ConnKind: auth.KindMQTT, Type: "mqtt"})
	require.NoError(t, err)

	conns, total := varzConns(t, s)
	require.Equal(t, conns0+1, conns, "varz connections")
	require.Equal(t, total0+1, total, "varz total_connections")
	require.Equal(t, acc0+1, accountConns(t, s, "A"))

	sess.Close()
	conns, total = varzConns(t, s)
	require.Equal(t, conns0, conns, "varz connections after Close")
	require.Equal(t, total0+1, total, "varz total_connections after Close")
	require.Equal(t, acc0, accountConns(t, s, "A"))
}

// TestSessionAdvisories: a session of Kind "Client" is announced on
// $SYS.ACCOUNT.<acc>.CONNECT and DISCONNECT as a socket client is, with
// its kind and type as /connz shows them; internal kinds are not.
func TestSessionAdvisories(t *testing.T) {
	s := servertest.StartConfig(t, userSessConf)
	sys := servertest.Connect(t, s, nats.UserInfo("sys", "psys"))
	sub, err := sys.SubscribeSync("$SYS.ACCOUNT.A.*")
	require.NoError(t, err)
	require.NoError(t, sys.Flush())

	// An internal session first: the first advisory must be the user's.
	js, err := s.Attach(server.SessionOptions{Kind: server.SessionJetStream, Account: "A"})
	require.NoError(t, err)
	js.Close()
	sess, err := s.Attach(server.SessionOptions{User: "a", Password: "pa", ConnKind: auth.KindMQTT,
		Type: "mqtt", Name: "dev1", MQTTClient: "dev1"})
	require.NoError(t, err)
	require.NoError(t, sess.Publish("x", "", nil, []byte("hello")))

	ev := nextAdvisory(t, sub, "$SYS.ACCOUNT.A.CONNECT")
	require.Equal(t, "io.nats.server.advisory.v1.client_connect", ev["type"])
	cl := ev["client"].(map[string]any)
	require.EqualValues(t, sess.ID(), cl["id"])
	require.Equal(t, "A", cl["acc"])
	require.Equal(t, "a", cl["user"])
	require.Equal(t, "dev1", cl["name"])
	require.Equal(t, "Client", cl["kind"])
	require.Equal(t, "mqtt", cl["client_type"])

	sess.Close()
	ev = nextAdvisory(t, sub, "$SYS.ACCOUNT.A.DISCONNECT")
	require.Equal(t, "io.nats.server.advisory.v1.client_disconnect", ev["type"])
	require.Equal(t, "Client Closed", ev["reason"])
	require.EqualValues(t, 1, ev["sent"].(map[string]any)["msgs"]) // what the client published, as upstream
	cl = ev["client"].(map[string]any)
	require.EqualValues(t, sess.ID(), cl["id"])
	require.Equal(t, "mqtt", cl["client_type"])
	require.NotEmpty(t, cl["stop"])
}

// nextAdvisory skips other events (the account's SERVER.CONNS) up to the
// first message on subject and decodes it.
func nextAdvisory(t *testing.T, sub *nats.Subscription, subject string) map[string]any {
	t.Helper()
	for {
		m, err := sub.NextMsg(3 * time.Second)
		require.NoError(t, err, "waiting for "+subject)
		if m.Subject == "$SYS.ACCOUNT.A.SERVER.CONNS" {
			continue
		}
		require.Equal(t, subject, m.Subject)
		var ev map[string]any
		require.NoError(t, json.Unmarshal(m.Data, &ev))
		return ev
	}
}

// waitDone waits for the session to be closed by the server.
func waitDone(t *testing.T, sess *server.Session) {
	t.Helper()
	select {
	case <-sess.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the session was not closed")
	}
}

// TestSessionReloadAuth: a configuration reload checks a credentialed
// session again as it does its user's socket clients: a removed user or a
// changed password closes it (Done, CloseReason), new permissions apply
// at once and remove the subscriptions they refuse.
func TestSessionReloadAuth(t *testing.T) {
	watch := auth.User{Name: "watch", Password: "w"}
	attach := func(t *testing.T, s *server.Server, password string) *server.Session {
		t.Helper()
		sess, err := s.Attach(server.SessionOptions{User: "p", Password: password, Type: "mqtt"})
		require.NoError(t, err)
		t.Cleanup(func() { sess.Close() })
		require.Empty(t, sess.CloseReason())
		return sess
	}
	t.Run("UserRemoved", func(t *testing.T) {
		s, _ := startAuthServer(t, &auth.Config{Users: []auth.User{{Name: "p", Password: "p"}, watch}}, server.Options{})
		nc := servertest.Connect(t, s, nats.UserInfo("watch", "w"))
		sess := attach(t, s, "p")
		require.NoError(t, s.Reload(server.Options{Authorization: &auth.Config{Users: []auth.User{watch}}}))
		waitDone(t, sess)
		require.Equal(t, "Client Closed", sess.CloseReason())
		require.ErrorIs(t, sess.Publish("x", "", nil, nil), server.ErrClosed)
		require.NoError(t, nc.Flush())
		require.False(t, nc.IsClosed())
		conns, _ := varzConns(t, s)
		require.Equal(t, 1, conns)
	})
	t.Run("PasswordChanged", func(t *testing.T) {
		s, logs := startAuthServer(t, &auth.Config{Users: []auth.User{{Name: "p", Password: "old"}, watch}}, server.Options{})
		sess := attach(t, s, "old")
		require.NoError(t, s.Reload(server.Options{Authorization: &auth.Config{Users: []auth.User{{Name: "p", Password: "new"}, watch}}}))
		waitDone(t, sess)
		require.Equal(t, "Authentication Failure", sess.CloseReason())
		require.Equal(t, "Authentication Failure", servertest.ClosedReason(t, s))
		require.Contains(t, logs.String(), `User "p"`)
	})
	t.Run("Permissions", func(t *testing.T) {
		s, logs := startAuthServer(t, &auth.Config{Users: []auth.User{{Name: "p", Password: "p"}, watch}}, server.Options{})
		watcher := servertest.Connect(t, s, nats.UserInfo("watch", "w"))
		all, err := watcher.SubscribeSync(">")
		require.NoError(t, err)
		require.NoError(t, watcher.Flush())
		sess := attach(t, s, "p")
		secret := make(chan string, 8)
		data := make(chan string, 8)
		_, err = sess.Subscribe("secret.>", "", func(m *server.Msg) { secret <- string(m.Subject) })
		require.NoError(t, err)
		_, err = sess.Subscribe("data.>", "", func(m *server.Msg) { data <- string(m.Subject) })
		require.NoError(t, err)
		require.NoError(t, sess.Publish("nope", "", nil, nil))

		perms := &auth.Permissions{
			Publish:   &auth.SubjectPermission{Allow: []string{"ok.>", "data.>"}},
			Subscribe: &auth.SubjectPermission{Allow: []string{"data.>"}, Deny: []string{"data.hidden"}},
		}
		require.NoError(t, s.Reload(server.Options{Authorization: &auth.Config{Users: []auth.User{
			{Name: "p", Password: "p", Permissions: perms}, watch,
		}}}))
		require.Empty(t, sess.CloseReason())
		servertest.WaitUntil(t, "the log line", func() bool {
			return strings.Contains(logs.String(), `Removed sub "secret.>" (sid "1") for User "p" - not authorized`)
		})

		// The new publish permissions apply to the next Publish.
		require.ErrorIs(t, sess.Publish("nope", "", nil, nil), server.ErrPermission)
		require.NoError(t, sess.Publish("ok.1", "", nil, nil))
		require.Equal(t, "nope", servertest.NextMsg(t, all).Subject) // the one before the reload
		require.Equal(t, "ok.1", servertest.NextMsg(t, all).Subject)
		_, err = sess.Subscribe("secret.y", "", func(*server.Msg) {})
		require.ErrorIs(t, err, server.ErrPermission)

		// The subscription that stays gets the new delivery filter. The
		// session's handlers run in publish order: secret.x or
		// data.hidden would have been handled before data.shown.
		require.NoError(t, watcher.Publish("secret.x", nil))
		require.NoError(t, watcher.Publish("data.hidden", nil))
		require.NoError(t, watcher.Publish("data.shown", nil))
		require.NoError(t, watcher.Flush())
		select {
		case subj := <-data:
			require.Equal(t, "data.shown", subj)
		case <-time.After(5 * time.Second):
			t.Fatal("no data.shown")
		}
		require.Empty(t, secret)
		require.Equal(t, 1, numSubs(t, s, "p"))
	})
}

// TestSessionAllowResponses: allow_responses lets a session answer a
// request it received although its publish permissions refuse the reply
// subject, once (max 1 by default), as a socket client of its user.
func TestSessionAllowResponses(t *testing.T) {
	svc := auth.User{Name: "svc", Password: "s", Permissions: &auth.Permissions{
		Subscribe: &auth.SubjectPermission{Allow: []string{"svc"}},
		Publish:   &auth.SubjectPermission{Allow: []string{}},
		Response:  &auth.ResponsePermission{MaxMsgs: 1, Expires: time.Minute},
	}}
	s, _ := startAuthServer(t, &auth.Config{Users: []auth.User{svc, {Name: "c", Password: "c"}}}, server.Options{})
	sess, err := s.Attach(server.SessionOptions{User: "svc", Password: "s"})
	require.NoError(t, err)
	defer sess.Close()
	errs := make(chan error, 4)
	_, err = sess.Subscribe("svc", "", func(m *server.Msg) {
		errs <- sess.Publish(string(m.Reply), "", nil, []byte("answer"))
		errs <- sess.Publish(string(m.Reply), "", nil, []byte("twice")) // past max 1
	})
	require.NoError(t, err)
	require.ErrorIs(t, sess.Publish("other", "", nil, nil), server.ErrPermission)

	nc := servertest.Connect(t, s, nats.UserInfo("c", "c"))
	m, err := nc.Request("svc", []byte("q"), 5*time.Second)
	require.NoError(t, err)
	require.Equal(t, "answer", string(m.Data))
	require.NoError(t, <-errs)
	require.ErrorIs(t, <-errs, server.ErrPermission)
}

// TestSessionReloadConcurrentAttach: a session attached while a reload
// swaps the authorization is checked against the new one, by the reload
// or by Attach itself: after the last reload no session with the old
// password stays open.
func TestSessionReloadConcurrentAttach(t *testing.T) {
	users := func(pw string) server.Options {
		return server.Options{Authorization: &auth.Config{Users: []auth.User{{Name: "p", Password: pw}}}}
	}
	s, _ := startAuthServer(t, users("old").Authorization, server.Options{})
	done := make(chan struct{})
	attached := make(chan *server.Session, 1024)
	go func() {
		defer close(attached)
		for {
			select {
			case <-done:
				return
			default:
			}
			if sess, err := s.Attach(server.SessionOptions{User: "p", Password: "old"}); err == nil {
				attached <- sess
			}
		}
	}()
	for i := range 500 {
		pw := "old"
		if i%2 == 1 {
			pw = "new"
		}
		require.NoError(t, s.Reload(users(pw)))
	}
	require.NoError(t, s.Reload(users("new")))
	close(done)
	for sess := range attached {
		waitDone(t, sess)
	}
}
