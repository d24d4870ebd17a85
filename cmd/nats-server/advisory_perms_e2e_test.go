package main

// Upstream nats-server's published security advisories that concern
// permissions, accounts with imports and exports, and headers the server
// vouches for, replayed against the built binary (see
// advisory_auth_e2e_test.go and docs/security.md).

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

// permsServer starts the binary with an admin user allowed everything and
// a user "limited" holding the given permissions block.
func permsServer(t *testing.T, perms string) *proc {
	t.Helper()
	conf := writeFile(t, filepath.Join(t.TempDir(), "perms.conf"), fmt.Sprintf(`
authorization {
  users: [
    {user: admin, password: a}
    {user: limited, password: l, permissions: %s}
  ]
}
`, perms))
	return start(t, "-c", conf)
}

// drain returns the subjects of the messages sub holds once the given
// connections are flushed (see servertest.ExpectNoMsg).
func drain(t *testing.T, sub *nats.Subscription, flush ...*nats.Conn) []string {
	t.Helper()
	for _, nc := range flush {
		require.NoError(t, nc.Flush())
	}
	var got []string
	for {
		m, err := sub.NextMsg(0)
		if err != nil {
			return got
		}
		got = append(got, m.Subject)
	}
}

// CVE-2022-29946: a user allowed to subscribe to foo.* but denied
// foo.secret received foo.secret through a queue subscription on foo.*.
// Neither a plain nor a queue subscription on the wildcard may deliver the
// denied subject.
func TestAdvisoryCVE2022_29946_QueueSubscriptionHonoursDeny(t *testing.T) {
	p := permsServer(t, `{subscribe: {allow: ["foo.*"], deny: ["foo.secret"]}}`)
	limited := p.connect(nats.UserInfo("limited", "l"))
	queue, err := limited.QueueSubscribeSync("foo.*", "q")
	require.NoError(t, err)
	plain, err := limited.SubscribeSync("foo.*")
	require.NoError(t, err)
	require.NoError(t, limited.Flush())
	admin := p.connect(nats.UserInfo("admin", "a"))
	for _, s := range []string{"foo.secret", "foo.open", "foo.secret"} {
		require.NoError(t, admin.Publish(s, []byte(s)))
	}
	require.Equal(t, []string{"foo.open"}, drain(t, queue, admin, limited))
	require.Equal(t, []string{"foo.open"}, drain(t, plain))
}

// GHSA-wh7g-5m82-pmhr (NATS-advisory 2026-17): a wildcard subscription
// that overlaps a wildcard deny rule without being inside it (sub a.b.*,
// deny a.*.c) received the denied subjects, and as a queue member it took
// them from legitimate members. The overlap must be filtered message by
// message, and a queue group's legitimate member must get every denied
// message.
func TestAdvisoryGHSA_wh7g_5m82_pmhr_WildcardOverlapDeny(t *testing.T) {
	p := permsServer(t, `{subscribe: {allow: [">"], deny: ["a.*.c"]}}`)
	limited := p.connect(nats.UserInfo("limited", "l"))
	plain, err := limited.SubscribeSync("a.b.*")
	require.NoError(t, err)
	queue, err := limited.QueueSubscribeSync("a.b.*", "workers")
	require.NoError(t, err)
	require.NoError(t, limited.Flush())
	admin := p.connect(nats.UserInfo("admin", "a"))
	legit, err := admin.QueueSubscribeSync("a.b.*", "workers")
	require.NoError(t, err)
	require.NoError(t, admin.Flush())
	const n = 20
	for range n {
		require.NoError(t, admin.Publish("a.b.c", nil))
	}
	require.NoError(t, admin.Publish("a.b.d", nil))
	require.Equal(t, []string{"a.b.d"}, drain(t, plain, admin, limited))
	for _, s := range drain(t, queue) {
		require.Equal(t, "a.b.d", s, "the limited queue member got a denied subject")
	}
	got := drain(t, legit, admin)
	require.Equal(t, n, strings.Count(strings.Join(got, " "), "a.b.c"), "the legitimate member lost denied messages: %q", got)
}

// GHSA-jx8g-9g95-6322 (NATS-advisory 2026-18): with a plain subject deny
// and a queue-specific deny in the same list, a queue subscription to the
// plainly denied subject passed (the queue rule overrode the plain one).
// Every queue name must be refused on a plainly denied subject, and no
// message may arrive.
func TestAdvisoryGHSA_jx8g_9g95_6322_QueueDenyCannotOverridePlainDeny(t *testing.T) {
	p := permsServer(t, `{subscribe: {allow: [">"], deny: ["secret.>", "work.* badq"]}}`)
	rc := p.rawClient()
	rc.Send("CONNECT {\"verbose\":false,\"pedantic\":false,\"user\":\"limited\",\"pass\":\"l\"}\r\n")
	require.Empty(t, rc.Flush())
	rc.Send("SUB secret.x goodq 1\r\nSUB secret.> badq 2\r\nSUB work.x badq 3\r\nSUB work.x goodq 4\r\n")
	lines := rc.Flush()
	require.Equal(t, []string{
		`-ERR 'Permissions Violation for Subscription to "secret.x" using queue "goodq"'`,
		`-ERR 'Permissions Violation for Subscription to "secret.>" using queue "badq"'`,
		`-ERR 'Permissions Violation for Subscription to "work.x" using queue "badq"'`,
	}, lines)
	admin := p.connect(nats.UserInfo("admin", "a"))
	require.NoError(t, admin.Publish("secret.x", []byte("s")))
	require.NoError(t, admin.Publish("work.x", []byte("w")))
	require.NoError(t, admin.Flush())
	require.Equal(t, []string{"MSG work.x 4 1", "w"}, rc.Flush())
}

// CVE-2026-33249 (GHSA-8m2x-3m6q-6w8j) and its leaf-node sequel
// GHSA-p3j5-5hrq-p75h: a Nats-Trace-Dest header made the server publish
// trace events to any subject, one the client may not publish to
// included. natsd checks the destination against the publish permissions
// as upstream's fix does: the message is refused and nothing is
// published to the destination.
func TestAdvisoryCVE2026_33249_TraceDestinationNotPublished(t *testing.T) {
	p := permsServer(t, `{publish: ["in.>"], subscribe: ["in.>"]}`)
	admin := p.connect(nats.UserInfo("admin", "a"))
	all, err := admin.SubscribeSync(">")
	require.NoError(t, err)
	require.NoError(t, admin.Flush())
	limited := p.connect(nats.UserInfo("limited", "l"))
	m := nats.NewMsg("in.x")
	m.Header.Set("Nats-Trace-Dest", "secret.trace")
	m.Data = []byte("traced")
	require.NoError(t, limited.PublishMsg(m))
	m2 := nats.NewMsg("in.y")
	m2.Header.Set("Nats-Trace-Dest", "secret.trace")
	m2.Header.Set("Nats-Trace-Only", "true")
	require.NoError(t, limited.PublishMsg(m2))
	require.NoError(t, limited.Publish("in.marker", nil))
	got := drain(t, all, limited, admin)
	require.NotEmpty(t, got)
	require.Equal(t, "in.marker", got[len(got)-1])
	for _, s := range got {
		require.False(t, strings.HasPrefix(s, "secret."), "a trace event reached %s: %q", s, got)
	}
}

// CVE-2026-33223 (GHSA-pwx7-fx9r-hr4h): Nats-Request-Info tells a service
// behind a service import who asked; the server did not fully strip the
// header a requester wrote, so a requester could claim any identity. A
// forged header must not reach the exporting account's service.
func TestAdvisoryCVE2026_33223_RequestInfoNotForgeable(t *testing.T) {
	conf := writeFile(t, filepath.Join(t.TempDir(), "svc.conf"), `
accounts {
  A: { users: [{user: a, password: a}], exports: [{service: "svc.>"}] }
  B: { users: [{user: b, password: b}], imports: [{service: {account: A, subject: "svc.>"}}] }
}
`)
	p := start(t, "-c", conf)
	svc := p.connect(nats.UserInfo("a", "a"))
	seen := make(chan nats.Header, 4)
	_, err := svc.Subscribe("svc.>", func(m *nats.Msg) {
		seen <- m.Header
		m.Respond([]byte("ok"))
	})
	require.NoError(t, err)
	require.NoError(t, svc.Flush())
	req := p.connect(nats.UserInfo("b", "b"))
	for _, key := range []string{"Nats-Request-Info", "nats-request-info"} {
		m := nats.NewMsg("svc.who")
		m.Header[key] = []string{`{"acc":"SYS","user":"admin"}`}
		m.Header.Set("X-Other", "kept")
		resp, err := req.RequestMsg(m, 5*time.Second)
		require.NoError(t, err)
		require.Equal(t, "ok", string(resp.Data))
		h := <-seen
		require.Equal(t, "kept", h.Get("X-Other"))
		for k, v := range h {
			require.False(t, strings.EqualFold(k, "Nats-Request-Info") && strings.Contains(strings.Join(v, ""), "admin"),
				"forged %s reached the service: %v", k, h)
		}
	}
}

// CVE-2020-28466 and CVE-2022-42709: a cycle of service exports and
// imports between accounts made the server loop until it crashed. natsd
// accounts come from the configuration file only (no account JWTs), where
// a cycle is a configuration mistake, but it must still not crash the
// server. Upstream 2.15.2 refuses such a configuration ("import forms a
// cycle"); natsd starts and cuts a request's path after 8 imports: a
// request and a stream message into the cycle end, and the server keeps
// serving.
func TestAdvisoryCVE2020_28466_CVE2022_42709_ImportCycle(t *testing.T) {
	conf := writeFile(t, filepath.Join(t.TempDir(), "cycle.conf"), `
accounts {
  A: {
    users: [{user: a, password: a}]
    exports: [{service: "loop.>"}, {stream: "s.>"}]
    imports: [{service: {account: B, subject: "loop.>"}}, {stream: {account: B, subject: "s.>"}}]
  }
  B: {
    users: [{user: b, password: b}]
    exports: [{service: "loop.>"}, {stream: "s.>"}]
    imports: [{service: {account: A, subject: "loop.>"}}, {stream: {account: A, subject: "s.>"}}]
  }
}
`)
	p := start(t, "-c", conf)
	for _, user := range []string{"a", "b"} {
		nc := p.connect(nats.UserInfo(user, user))
		sub, err := nc.SubscribeSync("s.>")
		require.NoError(t, err)
		_, err = nc.Request("loop.x", []byte("spin"), 500*time.Millisecond)
		require.Error(t, err)
		require.NoError(t, nc.Publish("s.x", []byte("stream")))
		require.NotEmpty(t, drain(t, sub, nc))
	}
	p.alive()
}

// CVE-2021-3127 (GHSA-j756-f273-xhp4): an account re-used another
// account's import token (JWT activation) to import a private export,
// and any subject of it. natsd has no account JWTs; its restricted
// exports (exports with accounts: [...]) are the same boundary. An account
// not listed must be refused at startup, and a listed one gets only the
// exported subject.
func TestAdvisoryCVE2021_3127_RestrictedExportBoundary(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, filepath.Join(dir, "bad.conf"), `
accounts {
  A: { users: [{user: a, password: a}], exports: [{service: "private.svc", accounts: [B]}] }
  B: { users: [{user: b, password: b}] }
  C: { users: [{user: c, password: c}], imports: [{service: {account: A, subject: "private.svc"}}] }
}
`)
	code, _, stderr := runOnce(t, "-c", bad)
	require.NotEqual(t, 0, code, "an import of a restricted export by an account not listed must be refused")
	require.NotEmpty(t, stderr)

	good := writeFile(t, filepath.Join(dir, "good.conf"), `
accounts {
  A: { users: [{user: a, password: a}], exports: [{service: "private.svc", accounts: [B]}, {service: "private.other", accounts: [D]}] }
  B: { users: [{user: b, password: b}], imports: [{service: {account: A, subject: "private.svc"}}] }
  D: { users: [{user: d, password: d}] }
}
`)
	p := start(t, "-c", good)
	svc := p.connect(nats.UserInfo("a", "a"))
	got, err := svc.SubscribeSync("private.>")
	require.NoError(t, err)
	require.NoError(t, svc.Flush())
	b := p.connect(nats.UserInfo("b", "b"))
	for _, s := range []string{"private.other", "private.x", "private.svc"} {
		require.NoError(t, b.Publish(s, []byte(s)))
	}
	require.Equal(t, []string{"private.svc"}, drain(t, got, b, svc))
	servertest.ExpectNoMsg(t, got)
}
