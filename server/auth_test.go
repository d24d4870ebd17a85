package server_test

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"natsd.dev/auth"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
)

// startAuthServer runs a server with cfg as its authorization, logging
// into the returned buffer.
func startAuthServer(t testing.TB, cfg *auth.Config, opts server.Options) (*server.Server, *servertest.Logs) {
	t.Helper()
	opts.Authorization = cfg
	return servertest.StartWithLogs(t, opts)
}

func bcryptHash(t testing.TB, password string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), 4)
	require.NoError(t, err)
	return string(h)
}

func dialNats(s *server.Server, opts ...nats.Option) (*nats.Conn, error) {
	opts = append([]nats.Option{nats.NoReconnect(), nats.Timeout(3 * time.Second)}, opts...)
	return nats.Connect(s.ClientURL(), opts...)
}

// rawInfo opens a raw connection and returns it with the INFO it got.
func rawInfo(t testing.TB, s *server.Server) (*servertest.RawConn, server.Info) {
	t.Helper()
	rc := servertest.DialClient(t, s)
	var info server.Info
	require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(rc.Info, "INFO ")), &info))
	return rc, info
}

func TestAuthUserPassword(t *testing.T) {
	s, logs := startAuthServer(t, &auth.Config{Users: []auth.User{
		{Name: "alice", Password: "plain-secret"},
		{Name: "bob", Password: bcryptHash(t, "bcrypt-secret")},
	}}, server.Options{})

	for _, u := range []struct{ user, pass string }{{"alice", "plain-secret"}, {"bob", "bcrypt-secret"}} {
		nc, err := dialNats(s, nats.UserInfo(u.user, u.pass))
		require.NoError(t, err, u.user)
		sub, err := nc.SubscribeSync("hello")
		require.NoError(t, err)
		require.NoError(t, nc.Publish("hello", []byte(u.user)))
		m, err := sub.NextMsg(2 * time.Second)
		require.NoError(t, err)
		require.Equal(t, u.user, string(m.Data))
		nc.Close()
	}

	for _, tc := range []struct {
		name string
		opts []nats.Option
		log  string
	}{
		{"wrong plain password", []nats.Option{nats.UserInfo("alice", "wrong-pass-1")}, `authentication error - User "alice"`},
		{"wrong bcrypt password", []nats.Option{nats.UserInfo("bob", "wrong-pass-2")}, `authentication error - User "bob"`},
		{"unknown user", []nats.Option{nats.UserInfo("mallory", "wrong-pass-3")}, `authentication error - User "mallory"`},
		{"no credentials", nil, `authentication error - User ""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dialNats(s, tc.opts...)
			require.ErrorIs(t, err, nats.ErrAuthorization)
			servertest.WaitUntil(t, "the log line", func() bool { return strings.Contains(logs.String(), tc.log) })
		})
	}
	for _, secret := range []string{"wrong-pass-1", "wrong-pass-2", "wrong-pass-3", "plain-secret", "bcrypt-secret"} {
		require.NotContains(t, logs.String(), secret, "a password leaked into the log")
	}
	require.Equal(t, "Authentication Failure", servertest.ClosedReason(t, s))
}

func TestAuthWrongPasswordRaw(t *testing.T) {
	s, _ := startAuthServer(t, &auth.Config{User: "u", Password: "p"}, server.Options{})
	rc := servertest.DialClient(t, s)
	rc.Send("CONNECT {\"verbose\":true,\"user\":\"u\",\"pass\":\"x\"}\r\nPING\r\n")
	require.Equal(t, "-ERR 'Authorization Violation'", rc.ReadLine())
	rc.ExpectClosed()
	require.Equal(t, "Authentication Failure", servertest.ClosedReason(t, s))

	rc = servertest.DialClient(t, s)
	rc.Send("CONNECT {\"verbose\":true,\"user\":\"u\",\"pass\":\"p\"}\r\nPING\r\n")
	require.Equal(t, "+OK", rc.ReadLine())
	require.Equal(t, "PONG", rc.ReadLine())
}

func TestAuthToken(t *testing.T) {
	for name, token := range map[string]string{"plain": "t0ken", "bcrypt": bcryptHash(t, "t0ken")} {
		t.Run(name, func(t *testing.T) {
			s, logs := startAuthServer(t, &auth.Config{Token: token}, server.Options{})
			nc, err := dialNats(s, nats.Token("t0ken"))
			require.NoError(t, err)
			require.NoError(t, nc.Flush())
			nc.Close()
			_, err = dialNats(s, nats.Token("nope"))
			require.ErrorIs(t, err, nats.ErrAuthorization)
			_, err = dialNats(s)
			require.ErrorIs(t, err, nats.ErrAuthorization)
			servertest.WaitUntil(t, "the log line", func() bool { return strings.Contains(logs.String(), "authentication error (token mismatch)") })
			require.NotContains(t, logs.String(), "nope")
		})
	}
}

func TestAuthNkey(t *testing.T) {
	kp, err := nkeys.CreateUser()
	require.NoError(t, err)
	pub, err := kp.PublicKey()
	require.NoError(t, err)
	other, err := nkeys.CreateUser()
	require.NoError(t, err)
	s, logs := startAuthServer(t, &auth.Config{Users: []auth.User{{Nkey: pub}}}, server.Options{})

	nc, err := dialNats(s, nats.Nkey(pub, kp.Sign))
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	nc.Close()

	// The right public key with a signature by another key.
	_, err = dialNats(s, nats.Nkey(pub, other.Sign))
	require.ErrorIs(t, err, nats.ErrAuthorization)
	servertest.WaitUntil(t, "the log line", func() bool {
		return strings.Contains(logs.String(), `authentication error - Nkey "`+pub+`"`)
	})
}

func TestAuthInfo(t *testing.T) {
	open := servertest.Start(t, server.Options{})
	_, info := rawInfo(t, open)
	require.False(t, info.AuthRequired)
	require.Empty(t, info.Nonce)

	users := servertest.Start(t, server.Options{Authorization: &auth.Config{User: "u", Password: "p"}})
	_, info = rawInfo(t, users)
	require.True(t, info.AuthRequired)
	require.Empty(t, info.Nonce, "a nonce only with nkey users")

	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	nk := servertest.Start(t, server.Options{Authorization: &auth.Config{Users: []auth.User{{Nkey: pub}, {Name: "u", Password: "p"}}}})
	_, i1 := rawInfo(t, nk)
	_, i2 := rawInfo(t, nk)
	require.True(t, i1.AuthRequired)
	require.Len(t, i1.Nonce, auth.NonceLen)
	require.NotEqual(t, i1.Nonce, i2.Nonce, "a nonce per connection")

	// Users and nkeys work side by side.
	nc, err := dialNats(nk, nats.UserInfo("u", "p"))
	require.NoError(t, err)
	nc.Close()
}

func TestAuthTimeout(t *testing.T) {
	s, _ := startAuthServer(t, &auth.Config{Token: "x"}, server.Options{AuthTimeout: 100 * time.Millisecond})
	rc := servertest.DialClient(t, s)
	start := time.Now()
	require.Equal(t, "-ERR 'Authentication Timeout'", rc.ReadLine())
	require.Less(t, time.Since(start), 2*time.Second)
	rc.ExpectClosed()
	require.Equal(t, "Authentication Timeout", servertest.ClosedReason(t, s))

	// A client that authenticates in time stays past the timeout: it
	// still answers after a client that came later timed out.
	rc = servertest.DialClient(t, s)
	rc.Send("CONNECT {\"verbose\":false,\"auth_token\":\"x\"}\r\n")
	late := servertest.DialClient(t, s)
	require.Equal(t, "-ERR 'Authentication Timeout'", late.ReadLine())
	rc.Send("PING\r\n")
	require.Equal(t, "PONG", rc.ReadLine())

	// authorization { timeout } wins over the option.
	s2, _ := startAuthServer(t, &auth.Config{Token: "x", Timeout: 50 * time.Millisecond}, server.Options{AuthTimeout: time.Minute})
	rc = servertest.DialClient(t, s2)
	require.Equal(t, "-ERR 'Authentication Timeout'", rc.ReadLine())
}

func TestAuthOpBeforeConnect(t *testing.T) {
	s, logs := startAuthServer(t, &auth.Config{User: "u", Password: "p"}, server.Options{})
	for _, op := range []string{"PING\r\n", "SUB foo 1\r\n", "PUB foo 0\r\n\r\n"} {
		rc := servertest.DialClient(t, s)
		rc.Send(op)
		require.Equal(t, "-ERR 'Authorization Violation'", rc.ReadLine(), op)
		rc.ExpectClosed()
	}
	require.Contains(t, logs.String(), `authentication error - User ""`)
}

func TestNoAuthUser(t *testing.T) {
	guest := &auth.Permissions{Publish: &auth.SubjectPermission{Allow: []string{"public.>"}}}
	s, _ := startAuthServer(t, &auth.Config{
		Users:      []auth.User{{Name: "admin", Password: "a"}, {Name: "guest", Password: "g", Permissions: guest}},
		NoAuthUser: "guest",
	}, server.Options{})

	// Without credentials a client is the guest, with its permissions.
	errs := make(chan error, 4)
	nc, err := dialNats(s, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	require.NoError(t, err)
	defer nc.Close()
	require.NoError(t, nc.Publish("public.x", nil))
	require.NoError(t, nc.Publish("private.x", nil))
	require.NoError(t, nc.Flush())
	select {
	case err := <-errs:
		require.ErrorIs(t, err, nats.ErrPermissionViolation)
		require.Contains(t, err.Error(), `Permissions Violation for Publish to "private.x"`)
	case <-time.After(3 * time.Second):
		t.Fatal("no permissions violation")
	}
	// Wrong credentials are not turned into the guest.
	_, err = dialNats(s, nats.UserInfo("admin", "wrong"))
	require.ErrorIs(t, err, nats.ErrAuthorization)

	// As upstream, a client without CONNECT becomes the no_auth_user.
	rc := servertest.DialClient(t, s)
	rc.Send("PING\r\n")
	require.Equal(t, "PONG", rc.ReadLine())
	rc.Send("PUB private.y 0\r\n\r\nPING\r\n")
	require.Equal(t, `-ERR 'Permissions Violation for Publish to "private.y"'`, rc.ReadLine())
	require.Equal(t, "PONG", rc.ReadLine())
}

// permsServer has a user with the permissions of perms and a user without.
func permsServer(t testing.TB, perms *auth.Permissions) (*server.Server, *servertest.Logs) {
	t.Helper()
	return startAuthServer(t, &auth.Config{Users: []auth.User{
		{Name: "limited", Password: "l", Permissions: perms},
		{Name: "free", Password: "f"},
	}}, server.Options{})
}

func TestPermissionViolationsRaw(t *testing.T) {
	s, logs := permsServer(t, &auth.Permissions{
		Publish:   &auth.SubjectPermission{Allow: []string{"foo.>"}, Deny: []string{"foo.secret"}},
		Subscribe: &auth.SubjectPermission{Allow: []string{"foo.*", "jobs workers"}, Deny: []string{"foo.hidden"}},
	})
	rc := servertest.DialClient(t, s)
	rc.Send("CONNECT {\"verbose\":true,\"headers\":true,\"user\":\"limited\",\"pass\":\"l\"}\r\n")
	require.Equal(t, "+OK", rc.ReadLine())
	for _, tc := range []struct{ send, want string }{
		{"PUB foo.ok 2\r\nhi\r\n", "+OK"},
		{"PUB bar 2\r\nhi\r\n", `-ERR 'Permissions Violation for Publish to "bar"'`},
		{"PUB foo.secret 2\r\nhi\r\n", `-ERR 'Permissions Violation for Publish to "foo.secret"'`}, // deny wins
		{"HPUB foo.secret 12 14\r\nNATS/1.0\r\n\r\nhi\r\n", `-ERR 'Permissions Violation for Publish to "foo.secret"'`},
		{"SUB foo.x 1\r\n", "+OK"},
		{"SUB foo.hidden 2\r\n", `-ERR 'Permissions Violation for Subscription to "foo.hidden"'`},
		{"SUB bar 3\r\n", `-ERR 'Permissions Violation for Subscription to "bar"'`},
		{"SUB foo.> 4\r\n", `-ERR 'Permissions Violation for Subscription to "foo.>"'`},
		{"SUB jobs workers 5\r\n", "+OK"},
		{"SUB jobs others 6\r\n", `-ERR 'Permissions Violation for Subscription to "jobs" using queue "others"'`},
		{"PING\r\n", "PONG"}, // still open
	} {
		rc.Send(tc.send)
		require.Equal(t, tc.want, rc.ReadLine(), tc.send)
	}
	for _, want := range []string{
		`Publish Violation - User "limited", Subject "bar"`,
		`Subscription Violation - User "limited", Subject "foo.hidden", SID 2`,
		`Subscription Violation - User "limited", Subject "jobs", Queue: "others", SID 6`,
	} {
		require.Contains(t, logs.String(), want)
	}

	// Denied messages were dropped; refused subscriptions do not exist.
	free := servertest.Connect(t, s, nats.UserInfo("free", "f"))
	sub, err := free.SubscribeSync(">")
	require.NoError(t, err)
	require.NoError(t, free.Flush())
	rc.Send("PUB bar 1\r\nx\r\nPUB foo.ok 1\r\ny\r\n")
	require.Equal(t, `-ERR 'Permissions Violation for Publish to "bar"'`, rc.ReadLine())
	require.Equal(t, "+OK", rc.ReadLine())
	m, err := sub.NextMsg(2 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "foo.ok", m.Subject)
	require.NoError(t, free.Publish("foo.hidden", nil))
	require.NoError(t, free.Publish("foo.x", []byte("z")))
	require.NoError(t, free.Flush())
	line := rc.ReadLine()
	require.True(t, strings.HasPrefix(line, "MSG foo.x 1 "), line)
}

func TestPermissionViolationsErrorHandler(t *testing.T) {
	s, _ := permsServer(t, &auth.Permissions{
		Publish:   &auth.SubjectPermission{Allow: []string{"ok"}},
		Subscribe: &auth.SubjectPermission{Deny: []string{"secret.>"}},
	})
	var mu sync.Mutex
	var got []string
	nc := servertest.Connect(t, s, nats.UserInfo("limited", "l"), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		mu.Lock()
		defer mu.Unlock()
		if errors.Is(err, nats.ErrPermissionViolation) {
			got = append(got, err.Error())
		}
	}))
	_, err := nc.SubscribeSync("secret.x")
	require.NoError(t, err)
	require.NoError(t, nc.Publish("not-ok", nil))
	require.NoError(t, nc.Flush())
	servertest.WaitUntil(t, "two violations", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 2 })
	mu.Lock()
	joined := strings.Join(got, "\n")
	mu.Unlock()
	require.Contains(t, joined, `Permissions Violation for Subscription to "secret.x"`)
	require.Contains(t, joined, `Permissions Violation for Publish to "not-ok"`)
	require.True(t, nc.IsConnected(), "a violation does not close the connection")
	require.NoError(t, nc.Publish("ok", nil))
	require.NoError(t, nc.Flush())
}

func TestPermissionDeliveryFilter(t *testing.T) {
	s, _ := permsServer(t, &auth.Permissions{Subscribe: &auth.SubjectPermission{Deny: []string{"foo.bar"}}})
	nc := servertest.Connect(t, s, nats.UserInfo("limited", "l"))
	sub, err := nc.SubscribeSync("foo.*")
	require.NoError(t, err)
	q1, err := nc.QueueSubscribeSync("foo.*", "q")
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	free := servertest.Connect(t, s, nats.UserInfo("free", "f"))
	fq, err := free.QueueSubscribeSync("foo.*", "q")
	require.NoError(t, err)
	require.NoError(t, free.Flush())
	for range 20 {
		require.NoError(t, free.Publish("foo.bar", []byte("denied")))
	}
	require.NoError(t, free.Publish("foo.baz", []byte("allowed")))
	require.NoError(t, free.Flush())
	m, err := sub.NextMsg(2 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "foo.baz", m.Subject, "foo.bar is filtered out")
	// The queue member that may not receive foo.bar leaves it to another.
	n, _, err := fq.Pending()
	require.NoError(t, err)
	qn, _, err := q1.Pending()
	require.NoError(t, err)
	servertest.WaitUntil(t, "queue deliveries", func() bool {
		n, _, _ = fq.Pending()
		qn, _, _ = q1.Pending()
		return n+qn == 21
	})
	require.GreaterOrEqual(t, n, 20)
}

func TestAllowResponses(t *testing.T) {
	s, _ := permsServer(t, &auth.Permissions{
		Publish:  &auth.SubjectPermission{Allow: []string{}},
		Response: &auth.ResponsePermission{MaxMsgs: 1, Expires: time.Minute},
	})
	errs := make(chan error, 8)
	responder := servertest.Connect(t, s, nats.UserInfo("limited", "l"), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	_, err := responder.Subscribe("svc", func(m *nats.Msg) {
		m.Respond([]byte("first"))
		m.Respond([]byte("second")) // over max: denied
	})
	require.NoError(t, err)
	require.NoError(t, responder.Flush())

	requester := servertest.Connect(t, s, nats.UserInfo("free", "f"))
	inbox := nats.NewInbox()
	replies, err := requester.SubscribeSync(inbox)
	require.NoError(t, err)
	require.NoError(t, requester.PublishRequest("svc", inbox, nil))
	m, err := replies.NextMsg(2 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "first", string(m.Data))
	select {
	case err := <-errs:
		require.Contains(t, err.Error(), `Permissions Violation for Publish to "`+inbox+`"`)
	case <-time.After(3 * time.Second):
		t.Fatal("the second response was not refused")
	}
	// The refusal means the server has handled the second response.
	servertest.ExpectNoMsg(t, replies, requester)

	// Anything else is denied: no publish allow list with allow_responses.
	require.NoError(t, responder.Publish("elsewhere", nil))
	require.NoError(t, responder.Flush())
	select {
	case err := <-errs:
		require.Contains(t, err.Error(), `Permissions Violation for Publish to "elsewhere"`)
	case <-time.After(3 * time.Second):
		t.Fatal("publish not refused")
	}

	// nats.go's request API works for a responder.
	resp, err := requester.Request("svc", nil, 2*time.Second)
	require.NoError(t, err)
	require.Equal(t, "first", string(resp.Data))
}

func TestAuthOptionsRefused(t *testing.T) {
	_, err := server.New(server.Options{Authorization: &auth.Config{Users: []auth.User{{Name: "a", Account: "A"}}}})
	require.ErrorIs(t, err, server.ErrBadOptions)
	_, err = server.New(server.Options{Authorization: &auth.Config{NoAuthUser: "ghost"}})
	require.ErrorIs(t, err, server.ErrBadOptions)
}

func TestAuthTraceRedactsSecrets(t *testing.T) {
	logs := &servertest.Logs{}
	s := servertest.Start(t, server.Options{
		Logger:        logs.Logger(server.LevelTrace),
		Authorization: &auth.Config{User: "u", Password: "hunter2-pw"},
	})
	rc := servertest.DialClient(t, s)
	rc.Send("CONNECT {\"verbose\":true,\"user\":\"u\",\"pass\":\"hunter2-pw\"}\r\n")
	require.Equal(t, "+OK", rc.ReadLine())
	servertest.WaitUntil(t, "the traced CONNECT", func() bool { return strings.Contains(logs.String(), "<<- [CONNECT ") })
	require.Contains(t, logs.String(), `"pass":"[REDACTED]"`)
	require.NotContains(t, logs.String(), "hunter2-pw")
}

// BenchmarkPublishPermissions publishes through a real socket with nats.go
// as a user without permissions and as one with publish permissions; the
// server-side cost alone is BenchmarkDeliverPermissions.
func BenchmarkPublishPermissions(b *testing.B) {
	s := servertest.Start(b, server.Options{Authorization: &auth.Config{Users: []auth.User{
		{Name: "free", Password: "f"},
		{Name: "limited", Password: "l", Permissions: &auth.Permissions{
			Publish: &auth.SubjectPermission{Allow: []string{"bench.>"}, Deny: []string{"bench.secret"}},
		}},
	}}})
	for _, user := range []string{"free", "limited"} {
		b.Run(user, func(b *testing.B) {
			nc := servertest.Connect(b, s, nats.UserInfo(user, user[:1]))
			sub := servertest.Connect(b, s, nats.UserInfo("free", "f"))
			if _, err := sub.Subscribe("bench.>", func(*nats.Msg) {}); err != nil {
				b.Fatal(err)
			}
			require.NoError(b, sub.Flush())
			data := make([]byte, 128)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				if err := nc.Publish("bench.x", data); err != nil {
					b.Fatal(err)
				}
			}
			require.NoError(b, nc.Flush())
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}

func TestAuthConnzAuthorizedUser(t *testing.T) {
	s, _ := startAuthServer(t, &auth.Config{Users: []auth.User{
		{Name: "alice", Password: "a"}, {Name: "bob", Password: "b"},
	}}, server.Options{})
	alice, err := dialNats(s, nats.UserInfo("alice", "a"))
	require.NoError(t, err)
	defer alice.Close()
	bob, err := dialNats(s, nats.UserInfo("bob", "b"))
	require.NoError(t, err)
	require.NoError(t, bob.Flush())
	bob.Close()

	require.Eventually(t, func() bool {
		cz, err := s.Connz(&snapshot.ConnzOptions{State: snapshot.ConnClosed, User: "bob", Username: true})
		return err == nil && len(cz.Conns) == 1 && cz.Conns[0].AuthorizedUser == "bob"
	}, 2*time.Second, 10*time.Millisecond)
	open, err := s.Connz(&snapshot.ConnzOptions{Username: true})
	require.NoError(t, err)
	require.Len(t, open.Conns, 1)
	require.Equal(t, "alice", open.Conns[0].AuthorizedUser)
	cz, err := s.Connz(&snapshot.ConnzOptions{State: snapshot.ConnAll, User: "alice"})
	require.NoError(t, err)
	require.Len(t, cz.Conns, 1)
}
