package main

// The auth callout end to end, with the built binary and, when
// NATSD_UPSTREAM_SERVER names upstream's, with upstream's: a callout
// service written with nats.go and jwt/v2, encrypted with xkey.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

func TestAuthCalloutE2E(t *testing.T) {
	t.Run("natsd", func(t *testing.T) { testAuthCallout(t, binary) })
	t.Run("upstream", func(t *testing.T) {
		up := os.Getenv("NATSD_UPSTREAM_SERVER")
		if up == "" {
			t.Skip("NATSD_UPSTREAM_SERVER is not set")
		}
		testAuthCallout(t, up)
	})
}

func testAuthCallout(t *testing.T, bin string) {
	issuer, err := nkeys.CreateAccount()
	require.NoError(t, err)
	issuerPub, _ := issuer.PublicKey()
	svcX, err := nkeys.CreateCurveKeys()
	require.NoError(t, err)
	svcXPub, _ := svcX.PublicKey()
	conf := writeFile(t, filepath.Join(t.TempDir(), "callout.conf"), fmt.Sprintf(`
accounts {
  AUTH { users: [ { user: auth, password: pwd } ] }
  APP {}
}
authorization {
  timeout: 2
  auth_callout {
    issuer: %s
    auth_users: [ auth ]
    account: AUTH
    xkey: %s
  }
}
`, issuerPub, svcXPub))
	p := startBinary(t, bin, "-c", conf)

	// The service: alice/secret goes to APP with permissions on app.>;
	// "garbage" gets garbage; everyone else an error.
	svc := p.connect(nats.UserInfo("auth", "pwd"))
	svcErrs := make(chan error, 8)
	_, err = svc.Subscribe("$SYS.REQ.USER.AUTH", func(m *nats.Msg) {
		serverX := m.Header.Get("Nats-Server-Xkey")
		data, err := svcX.Open(m.Data, serverX)
		if err != nil {
			svcErrs <- err
			return
		}
		req, err := jwt.DecodeAuthorizationRequestClaims(string(data))
		if err != nil {
			svcErrs <- err
			return
		}
		rc := jwt.NewAuthorizationResponseClaims(req.UserNkey)
		rc.Audience = req.Server.ID
		co := req.ConnectOptions
		switch {
		case co.Username == "garbage":
			_ = m.Respond([]byte("garbage"))
			return
		case co.Username == "alice" && co.Password == "secret":
			uc := jwt.NewUserClaims(req.UserNkey)
			uc.Audience = "APP"
			uc.Name = "alice"
			uc.Pub.Allow.Add("app.>")
			uc.Sub.Allow.Add("app.>")
			if rc.Jwt, err = uc.Encode(issuer); err != nil {
				svcErrs <- err
				return
			}
		default:
			rc.Error = "bad credentials"
		}
		tok, err := rc.Encode(issuer)
		if err != nil {
			svcErrs <- err
			return
		}
		sealed, err := svcX.Seal([]byte(tok), serverX)
		if err != nil {
			svcErrs <- err
			return
		}
		_ = m.Respond(sealed)
	})
	require.NoError(t, err)
	require.NoError(t, svc.Flush())

	errs := make(chan error, 4)
	alice := p.connect(nats.UserInfo("alice", "secret"),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	sub, err := alice.SubscribeSync("app.>")
	require.NoError(t, err)
	require.NoError(t, alice.Publish("app.hello", []byte("hi")))
	m, err := sub.NextMsg(5 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "hi", string(m.Data))
	require.NoError(t, alice.Publish("elsewhere", nil))
	select {
	case err := <-errs:
		require.Contains(t, err.Error(), `Permissions Violation for Publish to "elsewhere"`)
	case <-time.After(5 * time.Second):
		t.Fatal("no permissions violation")
	}
	// APP is not AUTH: the service does not see alice's messages.
	spy, err := svc.SubscribeSync("app.>")
	require.NoError(t, err)
	require.NoError(t, svc.Flush())
	require.NoError(t, alice.Publish("app.hello", []byte("again")))
	_, err = sub.NextMsg(5 * time.Second)
	require.NoError(t, err)
	servertest.ExpectNoMsg(t, spy, alice, svc)

	for _, tc := range []struct{ user, pass, log string }{
		{"alice", "wrong", "Auth callout service returned an error: bad credentials"},
		{"garbage", "x", "authentication error"},
	} {
		_, err := p.dial(nats.UserInfo(tc.user, tc.pass))
		require.Error(t, err, tc.user)
		require.Contains(t, strings.ToLower(err.Error()), "authorization violation")
		p.waitLog(tc.log)
	}
	select {
	case err := <-svcErrs:
		t.Fatal(err)
	default:
	}
}

// TestAuthCalloutConfigErrorsE2E checks -t on bad auth_callout blocks:
// upstream's texts at upstream's positions (the same output as upstream's
// binary when NATSD_UPSTREAM_SERVER names it).
func TestAuthCalloutConfigErrorsE2E(t *testing.T) {
	const issuer = "ABJHLOVMPA4CI6R5KLNGOB4GSLNIY7IOUPAJC4YFNDLQVIOBYQGUWVLA"
	up := os.Getenv("NATSD_UPSTREAM_SERVER")
	dir := t.TempDir()
	for i, tc := range []struct{ block, want string }{
		{"auth_callout { auth_users: [a] }", "bad.conf:2:18: Authorization callouts require an issuer to be specified"},
		{"auth_callout { issuer: UABC, auth_users: [a] }", `bad.conf:2:18: Expected callout user to be a valid public account nkey, got "UABC"`},
		{"auth_callout { issuer: " + issuer + " }", "bad.conf:2:18: Authorization callouts require authorized users to be specified"},
		{"auth_callout { issuer: " + issuer + ", auth_users: [a], xkey: nope }", `bad.conf:2:101: Expected callout xkey to be a valid public xkey, got "nope"`},
		{"auth_callout { issuer: " + issuer + ", auth_users: [a], colour: 1 }", `bad.conf:2:101: Unknown field "colour" parsing authorization callout`},
		{"auth_callout: true", "bad.conf:2:3: Expected authorization callout to be a map/struct, got true"},
	} {
		sub := filepath.Join(dir, fmt.Sprint(i))
		require.NoError(t, os.Mkdir(sub, 0o755))
		conf := writeFile(t, filepath.Join(sub, "bad.conf"), "authorization {\n  "+tc.block+"\n}\n")
		code, _, errOut := runOnce(t, "-c", conf, "-t")
		require.Equal(t, 1, code, errOut)
		require.Equal(t, "nats-server: "+filepath.Join(sub, tc.want)+"\n", errOut)
		if up != "" {
			out, err := exec.Command(up, "-c", conf, "-t").CombinedOutput()
			require.Error(t, err)
			require.Equal(t, strings.TrimSpace(errOut), strings.TrimSpace(string(out)), "upstream")
		}
	}
}
