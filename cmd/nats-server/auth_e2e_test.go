package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"natsd.dev/server/servertest"
)

// dial connects to p and returns the error instead of failing.
func (p *proc) dial(opts ...nats.Option) (*nats.Conn, error) {
	nc, err := nats.Connect(p.url(), append([]nats.Option{nats.NoReconnect(), nats.Timeout(2 * time.Second)}, opts...)...)
	if err == nil {
		p.t.Cleanup(nc.Close)
	}
	return nc, err
}

func TestAuthorizationConfigE2E(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("alice-pw"), 4)
	require.NoError(t, err)
	dir := t.TempDir()
	conf := writeFile(t, filepath.Join(dir, "auth.conf"), `
LIMITED = { publish: "ok.>", subscribe: ">" }
authorization {
  timeout: 1.5
  users [
    { user: alice, password: "`+string(hash)+`", permissions: $LIMITED }
    { user: bob, password: bob-pw }
  ]
}
`)
	code, _, errOut := runOnce(t, "-c", conf, "-t")
	require.Equal(t, 0, code, errOut)
	p := start(t, "-c", conf)

	errs := make(chan error, 4)
	alice := p.connect(nats.UserInfo("alice", "alice-pw"), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	bob := p.connect(nats.UserInfo("bob", "bob-pw"))
	sub, err := bob.SubscribeSync(">")
	require.NoError(t, err)
	require.NoError(t, bob.Flush())
	require.NoError(t, alice.Publish("ok.1", []byte("yes")))
	require.NoError(t, alice.Publish("nope", []byte("no")))
	require.NoError(t, alice.Flush())
	select {
	case err := <-errs:
		require.ErrorIs(t, err, nats.ErrPermissionViolation)
		require.Contains(t, err.Error(), `Permissions Violation for Publish to "nope"`)
	case <-time.After(5 * time.Second):
		t.Fatal("no permissions violation")
	}
	m, err := sub.NextMsg(2 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "ok.1", m.Subject)
	servertest.ExpectNoMsg(t, sub, bob) // the denied message was dropped
	p.waitLog(`[ERR] 127.0.0.1:`)
	p.waitLog(`Publish Violation - User "alice", Subject "nope"`)

	_, err = p.dial(nats.UserInfo("bob", "wrong-pw"))
	require.ErrorIs(t, err, nats.ErrAuthorization)
	p.waitLog(`authentication error - User "bob" (user "bob": password mismatch)`)
	_, err = p.dial()
	require.ErrorIs(t, err, nats.ErrAuthorization)
	require.NotContains(t, p.log.String(), "wrong-pw")

	// Authorization reloads (auth_reload_e2e_test.go); setting
	// no_auth_user does not, and the refusal shows no secret.
	writeFile(t, conf, "authorization { users [ { user: x, password: y } ] }\nno_auth_user: x\n")
	p.signal(syscall.SIGHUP)
	p.waitLog("config reload not supported for no_auth_user")
	require.NotContains(t, p.log.String(), "password: y")
}

func TestAuthFlagsE2E(t *testing.T) {
	p := start(t, "--user", "u", "--pass", "p")
	_, err := p.dial()
	require.ErrorIs(t, err, nats.ErrAuthorization)
	require.NoError(t, p.connect(nats.UserInfo("u", "p")).Flush())

	// --auth overrides the configuration file's token.
	dir := t.TempDir()
	conf := writeFile(t, filepath.Join(dir, "tok.conf"), "authorization { token: from_file }\n")
	p = start(t, "-c", conf, "--auth", "from_flag")
	_, err = p.dial(nats.Token("from_file"))
	require.ErrorIs(t, err, nats.ErrAuthorization)
	require.NoError(t, p.connect(nats.Token("from_flag")).Flush())

	// no_auth_user at the top level.
	conf = writeFile(t, filepath.Join(dir, "noauth.conf"), "authorization { users [ { user: guest, password: g } ] }\nno_auth_user: guest\n")
	p = start(t, "-c", conf)
	require.NoError(t, p.connect().Flush())
	code, _, errOut := runOnce(t, "-c", writeFile(t, filepath.Join(dir, "bad.conf"), "no_auth_user: ghost\n"), "-t")
	require.Equal(t, 1, code)
	require.True(t, strings.Contains(errOut, `no_auth_user: "ghost" not present as user`), errOut)
}
