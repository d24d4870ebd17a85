package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"
)

// operatorSetup mints an operator (written to operator.jwt in dir), a
// system account, and accounts A (exporting "feed.>") and B (importing
// it), with a user of each written as a .creds file. It returns the
// preload entries and the paths of the creds files.
type operatorSetup struct {
	dir, opFile, opJWT, sysPub string
	preload                    map[string]string
	credsA, credsB             string
	credsLimited, credsExpired string
	sentinel                   string
	accA                       nkeys.KeyPair
}

func newOperatorSetup(t *testing.T) *operatorSetup {
	t.Helper()
	st := &operatorSetup{dir: t.TempDir(), preload: map[string]string{}}
	opKP, _ := nkeys.CreateOperator()
	opPub, _ := opKP.PublicKey()
	sysKP, _ := nkeys.CreateAccount()
	st.sysPub, _ = sysKP.PublicKey()
	oc := jwt.NewOperatorClaims(opPub)
	oc.Name = "OP"
	oc.SystemAccount = st.sysPub
	var err error
	st.opJWT, err = oc.Encode(opKP)
	require.NoError(t, err)
	st.opFile = writeFile(t, filepath.Join(st.dir, "operator.jwt"), st.opJWT)

	account := func(kp nkeys.KeyPair, name string, edit func(*jwt.AccountClaims)) {
		pub, _ := kp.PublicKey()
		ac := jwt.NewAccountClaims(pub)
		ac.Name = name
		if edit != nil {
			edit(ac)
		}
		tok, err := ac.Encode(opKP)
		require.NoError(t, err)
		st.preload[pub] = tok
	}
	account(sysKP, "SYS", nil)
	st.accA, _ = nkeys.CreateAccount()
	aPub, _ := st.accA.PublicKey()
	account(st.accA, "A", func(ac *jwt.AccountClaims) {
		ac.Exports.Add(&jwt.Export{Subject: "feed.>", Type: jwt.Stream})
		ac.Limits.Conn = 2
	})
	accB, _ := nkeys.CreateAccount()
	account(accB, "B", func(ac *jwt.AccountClaims) {
		ac.Imports.Add(&jwt.Import{Account: aPub, Subject: "feed.>", Type: jwt.Stream})
	})
	creds := func(acc nkeys.KeyPair, name string, edit ...func(*jwt.UserClaims)) string {
		ukp, _ := nkeys.CreateUser()
		upub, _ := ukp.PublicKey()
		uc := jwt.NewUserClaims(upub)
		uc.Name = name
		for _, e := range edit {
			e(uc)
		}
		tok, err := uc.Encode(acc)
		require.NoError(t, err)
		seed, _ := ukp.Seed()
		b, err := jwt.FormatUserConfig(tok, seed)
		require.NoError(t, err)
		path := filepath.Join(st.dir, name+".creds")
		require.NoError(t, os.WriteFile(path, b, 0o600))
		return path
	}
	st.credsA = creds(st.accA, "ua")
	st.credsB = creds(accB, "ub")
	st.credsLimited = creds(accB, "limited", func(uc *jwt.UserClaims) {
		uc.Pub.Allow.Add("ok.>")
		uc.Sub.Deny.Add("secret.>")
	})
	st.credsExpired = creds(accB, "expired", func(uc *jwt.UserClaims) { uc.Expires = time.Now().Add(-time.Hour).Unix() })
	skp, _ := nkeys.CreateUser()
	spub, _ := skp.PublicKey()
	sc := jwt.NewUserClaims(spub)
	sc.BearerToken = true
	sc.Pub.Allow.Add("sentinel.>")
	st.sentinel, err = sc.Encode(accB)
	require.NoError(t, err)
	return st
}

// config renders a configuration file with operator set to op.
func (st *operatorSetup) config(t *testing.T, name, op, extra string) string {
	var b strings.Builder
	b.WriteString("operator: " + op + "\nsystem_account: " + st.sysPub + "\nresolver: MEMORY\nresolver_preload: {\n")
	for pub, tok := range st.preload {
		b.WriteString("  " + pub + ": " + tok + "\n")
	}
	b.WriteString("}\n" + extra)
	return writeFile(t, filepath.Join(st.dir, name), b.String())
}

func TestOperatorModeE2E(t *testing.T) {
	st := newOperatorSetup(t)
	conf := st.config(t, "op.conf", `"`+st.opFile+`"`, "")
	code, _, errOut := runOnce(t, "-c", conf, "-t")
	require.Equal(t, 0, code, errOut)
	p := start(t, "-c", conf)

	a := p.connect(nats.UserCredentials(st.credsA))
	b := p.connect(nats.UserCredentials(st.credsB))
	sub, err := b.SubscribeSync("feed.>")
	require.NoError(t, err)
	require.NoError(t, b.Flush())
	deadline := time.Now().Add(5 * time.Second)
	var m *nats.Msg
	for m == nil && time.Now().Before(deadline) {
		require.NoError(t, a.Publish("feed.1", []byte("x")))
		m, _ = sub.NextMsg(100 * time.Millisecond)
	}
	require.NotNil(t, m, "stream import through JWTs")
	require.Equal(t, "feed.1", m.Subject)

	// The account's connection limit (2) from its JWT.
	p.connect(nats.UserCredentials(st.credsA))
	_, err = p.dial(nats.UserCredentials(st.credsA))
	require.Error(t, err)
	require.Contains(t, strings.ToLower(err.Error()), "maximum account active connections exceeded")

	// No credentials, or a user of an account nobody trusts.
	_, err = p.dial()
	require.ErrorIs(t, err, nats.ErrAuthorization)
	p.waitLog("authentication error")

	// SIGHUP with the same file reloads; the JWT accounts and their
	// clients stay.
	p.signal(syscall.SIGHUP)
	p.waitLog("Reloaded server configuration")
	require.NoError(t, a.Flush())
	require.NoError(t, b.Flush())
	// Dropping the operator is refused, as upstream.
	writeFile(t, conf, "system_account: "+st.sysPub+"\n")
	p.signal(syscall.SIGHUP)
	p.waitLog("config reload not supported for TrustedOperators")
	require.NoError(t, a.Flush())
}

func TestOperatorInlineAndErrorsE2E(t *testing.T) {
	st := newOperatorSetup(t)
	// The operator JWT inline.
	conf := st.config(t, "inline.conf", st.opJWT, "")
	p := start(t, "-c", conf)
	p.connect(nats.UserCredentials(st.credsA))

	// Users next to an operator are refused, with upstream's text.
	bad := st.config(t, "users.conf", `"`+st.opFile+`"`, "authorization { users: [ {user: a, password: b} ] }\n")
	code, _, errOut := runOnce(t, "-c", bad)
	require.NotEqual(t, 0, code)
	require.Contains(t, errOut, "operators do not allow users to be configured directly")

	// A damaged operator JWT file.
	broken := writeFile(t, filepath.Join(st.dir, "broken.jwt"), "not a jwt")
	conf2 := st.config(t, "broken.conf", `"`+broken+`"`, "")
	code, _, errOut = runOnce(t, "-c", conf2, "-t")
	require.NotEqual(t, 0, code)
	require.Contains(t, errOut, "error parsing operator JWT")

	// A full resolver without its directory is refused with upstream's
	// text.
	full := writeFile(t, filepath.Join(st.dir, "full.conf"), "operator: \""+st.opFile+"\"\nresolver: { type: full }\n")
	code, _, errOut = runOnce(t, "-c", full, "-t")
	require.NotEqual(t, 0, code)
	require.Contains(t, errOut, "dir has no value and needs to point to a directory")
}

// TestOperatorModeUpstreamE2E runs the same operator configuration with
// upstream's binary (NATSD_UPSTREAM_SERVER) and ours, and holds both to
// the same answers: the import works, the connection limit and a client
// without credentials are refused with the same texts, users next to an
// operator fail with the same message.
func TestOperatorModeUpstreamE2E(t *testing.T) {
	upstream := os.Getenv("NATSD_UPSTREAM_SERVER")
	if upstream == "" {
		t.Skip("NATSD_UPSTREAM_SERVER is not set")
	}
	st := newOperatorSetup(t)
	conf := st.config(t, "op.conf", `"`+st.opFile+`"`, "")
	bad := st.config(t, "users.conf", `"`+st.opFile+`"`, "authorization { users: [ {user: a, password: b} ] }\n")
	sentinelConf := st.config(t, "sentinel.conf", `"`+st.opFile+`"`, "default_sentinel: "+st.sentinel+"\n")
	type result struct {
		msg, limitErr, anonErr, usersErr, expiredErr string
		permErrs                                     []string
		sentinelErr                                  string
	}
	run := func(bin string) result {
		var r result
		p := startBinary(t, bin, "-c", conf)
		a := p.connect(nats.UserCredentials(st.credsA))
		b := p.connect(nats.UserCredentials(st.credsB))
		sub, err := b.SubscribeSync("feed.>")
		require.NoError(t, err)
		require.NoError(t, b.Flush())
		deadline := time.Now().Add(5 * time.Second)
		for r.msg == "" && time.Now().Before(deadline) {
			require.NoError(t, a.Publish("feed.1", []byte("x")))
			if m, err := sub.NextMsg(100 * time.Millisecond); err == nil {
				r.msg = m.Subject + " " + string(m.Data)
			}
		}
		p.connect(nats.UserCredentials(st.credsA))
		if _, err := p.dial(nats.UserCredentials(st.credsA)); err != nil {
			r.limitErr = strings.ToLower(err.Error())
		}
		if _, err := p.dial(); err != nil {
			r.anonErr = err.Error()
		}
		if _, err := p.dial(nats.UserCredentials(st.credsExpired)); err != nil {
			r.expiredErr = err.Error()
		}
		errs := make(chan error, 4)
		lim := p.connect(nats.UserCredentials(st.credsLimited), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
		require.NoError(t, lim.Publish("nope", nil))
		_, _ = lim.SubscribeSync("secret.x")
		require.NoError(t, lim.Flush())
		for range 2 {
			select {
			case err := <-errs:
				r.permErrs = append(r.permErrs, err.Error())
			case <-time.After(3 * time.Second):
				t.Fatalf("%s: missing permission error", bin)
			}
		}
		sp := startBinary(t, bin, "-c", sentinelConf)
		serrs := make(chan error, 2)
		snc := sp.connect(nats.UserInfo("who", "ever"), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { serrs <- err }))
		require.NoError(t, snc.Publish("other", nil))
		require.NoError(t, snc.Flush())
		select {
		case err := <-serrs:
			r.sentinelErr = err.Error()
		case <-time.After(3 * time.Second):
			t.Fatalf("%s: the sentinel's permissions were not applied", bin)
		}
		cmd := exec.Command(bin, "-c", bad)
		out, _ := cmd.CombinedOutput()
		if strings.Contains(string(out), "operators do not allow users to be configured directly") {
			r.usersErr = "operators do not allow users to be configured directly"
		}
		return r
	}
	want := run(upstream)
	got := run(binary)
	require.Equal(t, "feed.1 x", want.msg)
	require.Contains(t, want.expiredErr, "Authorization Violation")
	require.Len(t, want.permErrs, 2)
	require.Equal(t, want, got)
	t.Logf("upstream and natsd: %+v", want)
}
