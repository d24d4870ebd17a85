package main

// The auth callout in operator mode, with the built binary and, when
// NATSD_UPSTREAM_SERVER names upstream's, with upstream's: account AUTH's
// JWT has an authorization section, clients connect with a sentinel
// user of AUTH, and a service written with nats.go and jwt/v2 places
// them in account APP with a user JWT APP signs.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"
)

func TestAuthCalloutOperatorE2E(t *testing.T) {
	for _, xkey := range []bool{false, true} {
		t.Run(fmt.Sprintf("natsd/xkey=%v", xkey), func(t *testing.T) { testAuthCalloutOperator(t, binary, xkey) })
		t.Run(fmt.Sprintf("upstream/xkey=%v", xkey), func(t *testing.T) {
			up := os.Getenv("NATSD_UPSTREAM_SERVER")
			if up == "" {
				t.Skip("NATSD_UPSTREAM_SERVER is not set")
			}
			testAuthCalloutOperator(t, up, xkey)
		})
	}
}

// writeCreds writes a .creds file for a new user of the account signer
// with edit applied, and returns its path and the user's public key.
func writeCreds(t *testing.T, dir, name string, signer nkeys.KeyPair, edit func(*jwt.UserClaims)) (string, string) {
	t.Helper()
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	uc := jwt.NewUserClaims(upub)
	uc.Name = name
	if edit != nil {
		edit(uc)
	}
	tok, err := uc.Encode(signer)
	require.NoError(t, err)
	seed, _ := ukp.Seed()
	b, err := jwt.FormatUserConfig(tok, seed)
	require.NoError(t, err)
	path := filepath.Join(dir, name+".creds")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path, upub
}

// testAuthCalloutOperator runs the scenario; with xkey the account JWT
// names the service's curve key: requests and responses are sealed.
func testAuthCalloutOperator(t *testing.T, bin string, xkey bool) {
	svcX, err := nkeys.CreateCurveKeys()
	require.NoError(t, err)
	svcXPub, _ := svcX.PublicKey()
	dir := t.TempDir()
	opKP, _ := nkeys.CreateOperator()
	opPub, _ := opKP.PublicKey()
	sysKP, _ := nkeys.CreateAccount()
	sysPub, _ := sysKP.PublicKey()
	authKP, _ := nkeys.CreateAccount()
	appKP, _ := nkeys.CreateAccount()
	appPub, _ := appKP.PublicKey()
	oc := jwt.NewOperatorClaims(opPub)
	oc.SystemAccount = sysPub
	opJWT, err := oc.Encode(opKP)
	require.NoError(t, err)

	svcCreds, svcPub := writeCreds(t, dir, "svc", authKP, nil)
	sentinel, _ := writeCreds(t, dir, "sentinel", authKP, func(uc *jwt.UserClaims) {
		uc.Pub.Deny.Add(">")
		uc.Sub.Deny.Add(">")
	})

	preload := map[string]string{}
	account := func(kp nkeys.KeyPair, name string, edit func(*jwt.AccountClaims)) {
		pub, _ := kp.PublicKey()
		ac := jwt.NewAccountClaims(pub)
		ac.Name = name
		if edit != nil {
			edit(ac)
		}
		tok, err := ac.Encode(opKP)
		require.NoError(t, err)
		preload[pub] = tok
	}
	account(sysKP, "SYS", nil)
	account(authKP, "AUTH", func(ac *jwt.AccountClaims) {
		ac.Authorization.AuthUsers.Add(svcPub)
		ac.Authorization.AllowedAccounts.Add(appPub)
		if xkey {
			ac.Authorization.XKey = svcXPub
		}
	})
	account(appKP, "APP", nil)
	var b strings.Builder
	b.WriteString("operator: " + opJWT + "\nsystem_account: " + sysPub + "\nresolver: MEMORY\nauthorization { timeout: 2 }\nresolver_preload: {\n")
	for pub, tok := range preload {
		b.WriteString("  " + pub + ": " + tok + "\n")
	}
	b.WriteString("}\n")
	conf := writeFile(t, filepath.Join(dir, "op.conf"), b.String())
	p := startBinary(t, bin, "-c", conf)

	// The service: alice/secret goes to APP (a JWT allowing one
	// subscription);
	// "shortlived" gets a JWT that expires in two seconds; "other" a JWT
	// of AUTH's own signing with issuer_account of an account not
	// allowed; everyone else an error.
	svc := p.connect(nats.UserCredentials(svcCreds))
	svcErrs := make(chan error, 8)
	_, err = svc.Subscribe("$SYS.REQ.USER.AUTH", func(m *nats.Msg) {
		serverX := m.Header.Get("Nats-Server-Xkey")
		data := m.Data
		if xkey {
			var err error
			if data, err = svcX.Open(m.Data, serverX); err != nil {
				svcErrs <- err
				return
			}
		}
		req, err := jwt.DecodeAuthorizationRequestClaims(string(data))
		if err != nil {
			svcErrs <- err
			return
		}
		rc := jwt.NewAuthorizationResponseClaims(req.UserNkey)
		rc.Audience = req.Server.ID
		uc := jwt.NewUserClaims(req.UserNkey)
		co := req.ConnectOptions
		switch {
		case co.Username == "alice" && co.Password == "secret":
			uc.Name = "alice"
			uc.Limits.Subs = 1
			rc.Jwt, err = uc.Encode(appKP)
		case co.Username == "shortlived":
			uc.Expires = time.Now().Add(2 * time.Second).Unix()
			rc.Jwt, err = uc.Encode(appKP)
		case co.Username == "other":
			uc.IssuerAccount = sysPub
			rc.Jwt, err = uc.Encode(authKP)
		default:
			rc.Error = "bad credentials"
		}
		if err != nil {
			svcErrs <- err
			return
		}
		tok, err := rc.Encode(authKP)
		if err != nil {
			svcErrs <- err
			return
		}
		resp := []byte(tok)
		if xkey {
			if resp, err = svcX.Seal(resp, serverX); err != nil {
				svcErrs <- err
				return
			}
		}
		_ = m.Respond(resp)
	})
	require.NoError(t, err)
	require.NoError(t, svc.Flush())

	errs := make(chan error, 4)
	alice := p.connect(nats.UserCredentials(sentinel), nats.UserInfo("alice", "secret"),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	// alice is in APP: a user of APP sees her messages, AUTH's service
	// does not.
	appUser, _ := writeCreds(t, dir, "appuser", appKP, nil)
	other := p.connect(nats.UserCredentials(appUser))
	sub, err := other.SubscribeSync("hello")
	require.NoError(t, err)
	require.NoError(t, other.Flush())
	require.NoError(t, alice.Publish("hello", []byte("hi")))
	m, err := sub.NextMsg(5 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "hi", string(m.Data))

	// As upstream, the user JWT's subscription limit is not applied to a
	// callout user: both subscriptions get the message.
	s1, err := alice.SubscribeSync("a")
	require.NoError(t, err)
	s2, err := alice.SubscribeSync("a")
	require.NoError(t, err)
	require.NoError(t, alice.Flush())
	require.NoError(t, alice.Publish("a", []byte("both")))
	for _, s := range []*nats.Subscription{s1, s2} {
		m, err := s.NextMsg(5 * time.Second)
		require.NoError(t, err)
		require.Equal(t, "both", string(m.Data))
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}

	// Expiry closes the connection.
	closed := make(chan string, 1)
	_ = p.connect(nats.UserCredentials(sentinel), nats.UserInfo("shortlived", "x"), nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case closed <- err.Error():
			default:
			}
		}))
	select {
	case text := <-closed:
		require.Contains(t, strings.ToLower(text), "authentication expired")
	case <-time.After(10 * time.Second):
		t.Fatal("the expired user was not closed")
	}

	for _, tc := range []struct{ user, log string }{
		{"bob", "Auth callout service returned an error: bad credentials"},
		{"other", "not permitted as valid account option for auth callout for account"},
	} {
		_, err := p.dial(nats.UserCredentials(sentinel), nats.UserInfo(tc.user, "x"))
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
