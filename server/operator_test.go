package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"

	"natsd.dev/auth"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
)

// opFixture is an operator with a system account, minted for a test as
// nsc would.
type opFixture struct {
	t        testing.TB
	opKP     nkeys.KeyPair
	opSK     nkeys.KeyPair // operator signing key
	op       *auth.Operator
	sysPub   string
	sysKP    nkeys.KeyPair
	resolver *server.MemoryResolver
}

func newOpFixture(t testing.TB) *opFixture {
	t.Helper()
	f := &opFixture{t: t, resolver: server.NewMemoryResolver(nil)}
	var err error
	f.opKP, err = nkeys.CreateOperator()
	require.NoError(t, err)
	f.opSK, err = nkeys.CreateOperator()
	require.NoError(t, err)
	opPub, _ := f.opKP.PublicKey()
	skPub, _ := f.opSK.PublicKey()
	f.sysKP, _ = nkeys.CreateAccount()
	f.sysPub, _ = f.sysKP.PublicKey()
	oc := jwt.NewOperatorClaims(opPub)
	oc.Name = "O"
	oc.SigningKeys.Add(skPub)
	oc.SystemAccount = f.sysPub
	tok, err := oc.Encode(f.opKP)
	require.NoError(t, err)
	f.op, err = auth.DecodeOperator(tok)
	require.NoError(t, err)
	sc := jwt.NewAccountClaims(f.sysPub)
	sc.Name = "SYS"
	f.store(sc, f.opSK)
	return f
}

// account mints an account (signed by the operator's signing key) after
// edit changes its claims, stores it in the resolver and returns its key.
func (f *opFixture) account(name string, edit func(*jwt.AccountClaims)) nkeys.KeyPair {
	kp, _ := nkeys.CreateAccount()
	pub, _ := kp.PublicKey()
	ac := jwt.NewAccountClaims(pub)
	ac.Name = name
	if edit != nil {
		edit(ac)
	}
	f.store(ac, f.opSK)
	return kp
}

func (f *opFixture) store(ac *jwt.AccountClaims, signer nkeys.KeyPair) string {
	tok, err := ac.Encode(signer)
	require.NoError(f.t, err)
	f.resolver.Store(ac.Subject, tok)
	return tok
}

// user mints a user of the account acc signed by signer (acc itself when
// nil) and returns its JWT and seed.
func (f *opFixture) user(acc, signer nkeys.KeyPair, edit func(*jwt.UserClaims)) (string, []byte) {
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	uc := jwt.NewUserClaims(upub)
	uc.Name = "u"
	if signer == nil {
		signer = acc
	} else {
		uc.IssuerAccount, _ = acc.PublicKey()
	}
	if edit != nil {
		edit(uc)
	}
	tok, err := uc.Encode(signer)
	require.NoError(f.t, err)
	seed, _ := ukp.Seed()
	return tok, seed
}

func (f *opFixture) start(edit func(*server.Options)) (*server.Server, *servertest.Logs) {
	o := server.Options{Operator: &server.OperatorOptions{Operators: []*auth.Operator{f.op}, Resolver: f.resolver}}
	if edit != nil {
		edit(&o)
	}
	return servertest.StartWithLogs(f.t, o)
}

func userOpt(tok string, seed []byte) nats.Option {
	return nats.UserJWTAndSeed(tok, string(seed))
}

func TestOperatorUserJWT(t *testing.T) {
	f := newOpFixture(t)
	a := f.account("A", nil)
	s, logs := f.start(nil)
	require.True(t, s.Options().Operator != nil)

	tok, seed := f.user(a, nil, nil)
	nc := servertest.Connect(t, s, userOpt(tok, seed))
	sub, err := nc.SubscribeSync("foo")
	require.NoError(t, err)
	require.NoError(t, nc.Publish("foo", []byte("hi")))
	require.Equal(t, "hi", string(servertest.NextMsg(t, sub).Data))
	apub, _ := a.PublicKey()
	require.NotNil(t, s.LookupAccount(apub), "account built from its JWT")
	b := f.account("B", nil)
	bpub, _ := b.PublicKey()
	require.Nil(t, s.LookupAccount(bpub))
	bacc, err := s.ResolveAccount(bpub)
	require.NoError(t, err)
	require.Equal(t, bpub, bacc.Name)
	_, err = s.ResolveAccount("ANOTKNOWN")
	require.ErrorIs(t, err, server.ErrAccountNotFound)

	// .creds files as nsc writes them.
	creds, err := jwt.FormatUserConfig(tok, seed)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "u.creds")
	require.NoError(t, os.WriteFile(path, creds, 0o600))
	nc2 := servertest.Connect(t, s, nats.UserCredentials(path))
	require.NoError(t, nc2.Publish("foo", []byte("creds")))
	require.Equal(t, "creds", string(servertest.NextMsg(t, sub).Data))

	// No credentials, a malformed JWT, a user signed by a stranger, an
	// expired user, a user of an unknown account, a bad signature.
	_, err = dialNats(s)
	require.ErrorIs(t, err, nats.ErrAuthorization)
	_, err = dialNats(s, userOpt("eyJnotajwt.x.y", seed))
	require.ErrorIs(t, err, nats.ErrAuthorization)
	stranger, _ := nkeys.CreateAccount()
	bad, bseed := f.user(a, stranger, nil)
	_, err = dialNats(s, userOpt(bad, bseed))
	require.ErrorIs(t, err, nats.ErrAuthorization)
	exp, eseed := f.user(a, nil, func(uc *jwt.UserClaims) { uc.Expires = time.Now().Add(-time.Minute).Unix() })
	_, err = dialNats(s, userOpt(exp, eseed))
	require.ErrorIs(t, err, nats.ErrAuthorization)
	unknown, _ := nkeys.CreateAccount()
	utok, useed := f.user(unknown, nil, nil)
	_, err = dialNats(s, userOpt(utok, useed))
	require.ErrorIs(t, err, nats.ErrAuthorization)
	_, otherSeed := f.user(a, nil, nil)
	_, err = dialNats(s, userOpt(tok, otherSeed))
	require.ErrorIs(t, err, nats.ErrAuthorization)
	logs.WaitFor(t, "authentication error")
}

func TestOperatorUntrustedAccount(t *testing.T) {
	f := newOpFixture(t)
	// An account signed by a key the operator does not list.
	rogue, _ := nkeys.CreateOperator()
	kp, _ := nkeys.CreateAccount()
	pub, _ := kp.PublicKey()
	f.store(jwt.NewAccountClaims(pub), rogue)
	s, _ := f.start(nil)
	tok, seed := f.user(kp, nil, nil)
	_, err := dialNats(s, userOpt(tok, seed))
	require.ErrorIs(t, err, nats.ErrAuthorization)
	require.Nil(t, s.LookupAccount(pub))
}

func TestOperatorOptionsErrors(t *testing.T) {
	f := newOpFixture(t)
	base := func() server.Options {
		return server.Options{Port: server.RandomPort, Operator: &server.OperatorOptions{Operators: []*auth.Operator{f.op}, Resolver: f.resolver}}
	}
	for _, tc := range []struct {
		edit func(*server.Options)
		want string
	}{
		{func(o *server.Options) { o.Operator.Resolver = nil }, "operators require an account resolver to be configured"},
		{func(o *server.Options) { o.Operator.TrustedKeys = []string{f.op.PublicKey} }, "conflicting options for 'TrustedKeys' and 'TrustedOperators'"},
		{func(o *server.Options) { o.Accounts = []string{"A"} }, "operators do not allow Accounts to be configured directly"},
		{func(o *server.Options) {
			o.Authorization = &auth.Config{Users: []auth.User{{Name: "a", Password: "b"}}}
		}, "operators do not allow users to be configured directly"},
		{func(o *server.Options) { o.Authorization = &auth.Config{Callout: &auth.Callout{}} }, "operators do not allow authorization callouts to be configured directly"},
	} {
		o := base()
		tc.edit(&o)
		_, err := server.New(o)
		require.ErrorIs(t, err, server.ErrBadOptions)
		require.ErrorContains(t, err, tc.want)
	}
	// trusted_keys alone is operator mode too.
	o := base()
	o.Operator.Operators, o.Operator.TrustedKeys = nil, []string{f.op.PublicKey}
	s, err := server.New(o)
	require.NoError(t, err)
	require.NoError(t, s.Shutdown(context.Background()))
}

func TestOperatorPermissionsAndLimits(t *testing.T) {
	f := newOpFixture(t)
	a := f.account("A", func(ac *jwt.AccountClaims) {
		ac.Limits.Conn = 2
		ac.Limits.Subs = 3
	})
	s, _ := f.start(nil)
	tok, seed := f.user(a, nil, func(uc *jwt.UserClaims) {
		uc.Pub.Allow.Add("ok.>")
		uc.Sub.Deny.Add("secret")
		uc.Limits.Subs = 2
	})
	errs := make(chan error, 8)
	nc := servertest.Connect(t, s, userOpt(tok, seed), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	require.NoError(t, nc.Publish("nope", nil))
	require.NoError(t, nc.Flush())
	opWaitErr(t, errs, `permissions violation for publish to "nope"`)
	_, _ = nc.SubscribeSync("secret")
	opWaitErr(t, errs, `permissions violation for subscription to "secret"`)
	// The user's limit (2) is below the account's (3).
	for _, subj := range []string{"a", "b", "c"} {
		_, err := nc.SubscribeSync(subj)
		require.NoError(t, err)
	}
	require.NoError(t, nc.Flush())
	opWaitErr(t, errs, "maximum subscriptions exceeded")

	servertest.Connect(t, s, userOpt(tok, seed))
	_, err := dialNats(s, userOpt(tok, seed))
	require.Error(t, err)
	require.Contains(t, strings.ToLower(err.Error()), "maximum account active connections exceeded")
}

func TestOperatorImportsExports(t *testing.T) {
	f := newOpFixture(t)
	var impPub string
	impKP, _ := nkeys.CreateAccount()
	impPub, _ = impKP.PublicKey()
	exp := f.account("EXP", func(ac *jwt.AccountClaims) {
		ac.Exports.Add(&jwt.Export{Subject: "events.>", Type: jwt.Stream})
		ac.Exports.Add(&jwt.Export{Subject: "svc.private", Type: jwt.Service, TokenReq: true})
	})
	expPub, _ := exp.PublicKey()
	act := jwt.NewActivationClaims(impPub)
	act.ImportSubject = "svc.private"
	act.ImportType = jwt.Service
	actTok, err := act.Encode(exp)
	require.NoError(t, err)
	ic := jwt.NewAccountClaims(impPub)
	ic.Imports.Add(&jwt.Import{Account: expPub, Subject: "events.>", Type: jwt.Stream})
	ic.Imports.Add(&jwt.Import{Account: expPub, Subject: "svc.private", Type: jwt.Service, Token: actTok})
	f.store(ic, f.opSK)
	// A third account imports the private service without a token.
	f.account("NOTOKEN", func(ac *jwt.AccountClaims) {
		ac.Imports.Add(&jwt.Import{Account: expPub, Subject: "svc.private", Type: jwt.Service})
	})
	s, _ := f.start(nil)

	etok, eseed := f.user(exp, nil, nil)
	itok, iseed := f.user(impKP, nil, nil)
	// The importer connects first: the exporter is built with it.
	inc := servertest.Connect(t, s, userOpt(itok, iseed))
	enc := servertest.Connect(t, s, userOpt(etok, eseed))
	sub, err := inc.SubscribeSync("events.>")
	require.NoError(t, err)
	require.NoError(t, inc.Flush())
	servertest.PublishUntil(t, enc, "events.x", []byte("e"), sub)

	_, err = enc.Subscribe("svc.private", func(m *nats.Msg) { _ = m.Respond([]byte("pong")) })
	require.NoError(t, err)
	require.NoError(t, enc.Flush())
	resp, err := inc.Request("svc.private", nil, 2*time.Second)
	require.NoError(t, err)
	require.Equal(t, "pong", string(resp.Data))
}

func TestOperatorRevocationAndUpdate(t *testing.T) {
	f := newOpFixture(t)
	var ac *jwt.AccountClaims
	a := f.account("A", func(c *jwt.AccountClaims) { ac = c })
	s, _ := f.start(nil)
	tok, seed := f.user(a, nil, nil)
	closed := make(chan error, 1)
	nc := servertest.Connect(t, s, userOpt(tok, seed), nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case closed <- err:
			default:
			}
		}))
	require.NoError(t, nc.Flush())
	other, oseed := f.user(a, nil, nil)
	nc2 := servertest.Connect(t, s, userOpt(other, oseed))

	uc, err := jwt.DecodeUserClaims(tok)
	require.NoError(t, err)
	ac.Revoke(uc.Subject)
	ac.IssuedAt = 0
	newTok := f.store(ac, f.opSK)
	require.NoError(t, s.UpdateAccountClaims(newTok))
	opWaitErr(t, closed, "authentication revoked")
	require.NoError(t, nc2.Flush(), "the other user stays")
	_, err = dialNats(s, userOpt(tok, seed))
	require.ErrorIs(t, err, nats.ErrAuthorization)

	// A garbage update changes nothing.
	require.Error(t, s.UpdateAccountClaims("garbage"))
	require.NoError(t, nc2.Flush())
}

func TestOperatorUserExpires(t *testing.T) {
	f := newOpFixture(t)
	a := f.account("A", nil)
	s, _ := f.start(nil)
	tok, seed := f.user(a, nil, func(uc *jwt.UserClaims) { uc.Expires = time.Now().Add(2 * time.Second).Unix() })
	errs := make(chan error, 2)
	nc := servertest.Connect(t, s, userOpt(tok, seed), nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	require.NoError(t, nc.Flush())
	select {
	case err := <-errs:
		require.True(t, errors.Is(err, nats.ErrAuthExpired) || strings.Contains(strings.ToLower(err.Error()), "user authentication expired"), err.Error())
	case <-time.After(6 * time.Second):
		t.Fatal("not closed at expiry")
	}
	servertest.WaitUntil(t, "closed reason", func() bool { return servertest.ClosedReason(t, s) == "Authentication Expired" })
}

func TestOperatorScopedSigningKey(t *testing.T) {
	f := newOpFixture(t)
	sk, _ := nkeys.CreateAccount()
	skPub, _ := sk.PublicKey()
	a := f.account("A", func(ac *jwt.AccountClaims) {
		scope := jwt.NewUserScope()
		scope.Key = skPub
		scope.Template.Pub.Allow.Add("{{name()}}.>", "tag.{{tag(team)}}")
		scope.Template.Sub.Allow.Add("_INBOX.>", "{{account-name()}}.>")
		ac.SigningKeys.AddScopedSigner(scope)
	})
	s, _ := f.start(nil)
	tok, seed := f.user(a, sk, func(uc *jwt.UserClaims) {
		uc.Name = "bob"
		uc.Tags.Add("team:red", "team:blue")
	})
	errs := make(chan error, 8)
	nc := servertest.Connect(t, s, userOpt(tok, seed), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	sub, err := nc.SubscribeSync("A.>")
	require.NoError(t, err)
	require.NoError(t, nc.Publish("bob.x", nil))
	require.NoError(t, nc.Publish("tag.red", nil))
	require.NoError(t, nc.Publish("tag.blue", nil))
	require.NoError(t, nc.Flush())
	require.NoError(t, nc.Publish("alice.x", nil))
	opWaitErr(t, errs, `permissions violation for publish to "alice.x"`)
	_, _ = nc.SubscribeSync("other")
	opWaitErr(t, errs, `permissions violation for subscription to "other"`)
	require.NotNil(t, sub)

	// A template naming a tag the user lacks refuses the user.
	tok2, seed2 := f.user(a, sk, nil)
	_, err = dialNats(s, userOpt(tok2, seed2))
	require.ErrorIs(t, err, nats.ErrAuthorization)
}

func TestOperatorBearerAndSentinel(t *testing.T) {
	f := newOpFixture(t)
	a := f.account("A", nil)
	bearer, _ := f.user(a, nil, func(uc *jwt.UserClaims) { uc.BearerToken = true })
	s, _ := f.start(func(o *server.Options) { o.Operator.DefaultSentinel = bearer })
	// A bearer JWT needs no signature: any seed signs the nonce.
	_, anySeed := f.user(a, nil, nil)
	servertest.Connect(t, s, userOpt(bearer, anySeed))
	// No credentials, or no JWT: the sentinel, as upstream.
	nc := servertest.Connect(t, s)
	require.NoError(t, nc.Flush())
	nc2 := servertest.Connect(t, s, nats.UserInfo("a", "b"))
	require.NoError(t, nc2.Flush())
}

func opWaitErr(t *testing.T, errs chan error, want string) {
	t.Helper()
	select {
	case err := <-errs:
		require.Contains(t, strings.ToLower(err.Error()), want)
	case <-time.After(3 * time.Second):
		t.Fatalf("no error %q", want)
	}
}

func TestOperatorReloadAndLimitUpdate(t *testing.T) {
	f := newOpFixture(t)
	var ac *jwt.AccountClaims
	a := f.account("A", func(c *jwt.AccountClaims) { ac = c })
	s, _ := f.start(nil)
	tok, seed := f.user(a, nil, nil)
	nc1 := servertest.Connect(t, s, userOpt(tok, seed))
	require.NoError(t, nc1.Flush())
	nc2 := servertest.Connect(t, s, userOpt(tok, seed), nats.NoReconnect())
	require.NoError(t, nc2.Flush())

	// A reload keeps the accounts built from JWTs and their clients.
	o := s.Options()
	o.MaxPayload = 2048
	require.NoError(t, s.Reload(o))
	apub, _ := a.PublicKey()
	require.NotNil(t, s.LookupAccount(apub))
	require.NoError(t, nc1.Flush())
	servertest.Connect(t, s, userOpt(tok, seed))

	// A new JWT lowering the connection limit closes the newest clients.
	ac.Limits.Conn = 1
	ac.IssuedAt = 0
	require.NoError(t, s.UpdateAccountClaims(f.store(ac, f.opSK)))
	servertest.WaitUntil(t, "the excess clients to close", func() bool {
		return servertest.ClosedCount(t, s, "Maximum Account Connections Exceeded") == 2
	})
	require.NoError(t, nc1.Flush(), "the oldest client stays")
	servertest.WaitUntil(t, "nc2 to close", nc2.IsClosed)
	require.Contains(t, strings.ToLower(nc2.LastError().Error()), "maximum account active connections exceeded")
}

// TestOperatorConcurrentFirstUse connects users of several accounts at
// once, so that accounts are built while others are used and importers
// build their exporters concurrently.
func TestOperatorConcurrentFirstUse(t *testing.T) {
	f := newOpFixture(t)
	exp := f.account("EXP", func(ac *jwt.AccountClaims) {
		ac.Exports.Add(&jwt.Export{Subject: "pub.>", Type: jwt.Stream})
	})
	expPub, _ := exp.PublicKey()
	var accs []nkeys.KeyPair
	for i := range 4 {
		accs = append(accs, f.account("I"+string(rune('0'+i)), func(ac *jwt.AccountClaims) {
			ac.Imports.Add(&jwt.Import{Account: expPub, Subject: "pub.>", Type: jwt.Stream})
		}))
	}
	accs = append(accs, exp)
	s, _ := f.start(nil)
	type cred struct {
		tok  string
		seed []byte
	}
	var creds []cred
	for _, a := range accs {
		tok, seed := f.user(a, nil, nil)
		creds = append(creds, cred{tok, seed})
	}
	errs := make(chan error, 40)
	conns := make(chan *nats.Conn, 40)
	for i := range 40 {
		go func() {
			c := creds[i%len(creds)]
			nc, err := dialNats(s, userOpt(c.tok, c.seed))
			if err == nil {
				conns <- nc
			}
			errs <- err
		}()
	}
	for range 40 {
		require.NoError(t, <-errs)
		nc := <-conns
		t.Cleanup(nc.Close)
	}
	// Every importer receives the exporter's stream.
	etok, eseed := creds[len(creds)-1].tok, creds[len(creds)-1].seed
	pubc := servertest.Connect(t, s, userOpt(etok, eseed))
	for _, c := range creds[:4] {
		nc := servertest.Connect(t, s, userOpt(c.tok, c.seed))
		sub, err := nc.SubscribeSync("pub.>")
		require.NoError(t, err)
		require.NoError(t, nc.Flush())
		servertest.PublishUntil(t, pubc, "pub.1", []byte("x"), sub)
	}
}

func TestOperatorAccountExpires(t *testing.T) {
	f := newOpFixture(t)
	a := f.account("A", func(ac *jwt.AccountClaims) { ac.Expires = time.Now().Add(2 * time.Second).Unix() })
	other := f.account("B", nil)
	s, _ := f.start(nil)
	tok, seed := f.user(a, nil, nil)
	errs := make(chan error, 4)
	nc := servertest.Connect(t, s, userOpt(tok, seed), nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	require.NoError(t, nc.Flush())
	otok, oseed := f.user(other, nil, nil)
	onc := servertest.Connect(t, s, userOpt(otok, oseed))
	servertest.WaitUntilWithin(t, 6*time.Second, "the account's client to close", nc.IsClosed)
	opWaitErr(t, errs, "account authentication expired")
	require.NoError(t, onc.Flush(), "other accounts untouched")
	_, err := dialNats(s, userOpt(tok, seed))
	require.ErrorIs(t, err, nats.ErrAuthorization)
}

func TestOperatorImportRenames(t *testing.T) {
	f := newOpFixture(t)
	exp := f.account("EXP", func(ac *jwt.AccountClaims) {
		ac.Exports.Add(&jwt.Export{Subject: "data.>", Type: jwt.Stream})
		ac.Exports.Add(&jwt.Export{Subject: "help", Type: jwt.Service})
	})
	expPub, _ := exp.PublicKey()
	imp := f.account("IMP", func(ac *jwt.AccountClaims) {
		ac.Imports.Add(&jwt.Import{Account: expPub, Subject: "data.>", LocalSubject: "theirs.>", Type: jwt.Stream})
		ac.Imports.Add(&jwt.Import{Account: expPub, Subject: "help", LocalSubject: "ask", Type: jwt.Service})
		ac.Mappings = jwt.Mapping{"old": {{Subject: "new", Weight: 100}}}
	})
	s, _ := f.start(nil)
	etok, eseed := f.user(exp, nil, nil)
	itok, iseed := f.user(imp, nil, nil)
	enc := servertest.Connect(t, s, userOpt(etok, eseed))
	inc := servertest.Connect(t, s, userOpt(itok, iseed))

	sub, err := inc.SubscribeSync("theirs.>")
	require.NoError(t, err)
	require.NoError(t, inc.Flush())
	servertest.PublishUntil(t, enc, "data.1", []byte("d"), sub)

	_, err = enc.Subscribe("help", func(m *nats.Msg) { _ = m.Respond([]byte("helped")) })
	require.NoError(t, err)
	require.NoError(t, enc.Flush())
	resp, err := inc.Request("ask", nil, 2*time.Second)
	require.NoError(t, err)
	require.Equal(t, "helped", string(resp.Data))

	// The account's mapping from its JWT.
	msub, err := inc.SubscribeSync("new")
	require.NoError(t, err)
	require.NoError(t, inc.Flush())
	servertest.PublishUntil(t, inc, "old", []byte("m"), msub)
}

func TestOperatorSigningKeyRemoved(t *testing.T) {
	f := newOpFixture(t)
	sk, _ := nkeys.CreateAccount()
	skPub, _ := sk.PublicKey()
	var ac *jwt.AccountClaims
	a := f.account("A", func(c *jwt.AccountClaims) {
		c.SigningKeys.Add(skPub)
		ac = c
	})
	s, _ := f.start(nil)
	tok, seed := f.user(a, sk, nil)
	errs := make(chan error, 2)
	nc := servertest.Connect(t, s, userOpt(tok, seed), nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	require.NoError(t, nc.Flush())
	direct, dseed := f.user(a, nil, nil)
	dnc := servertest.Connect(t, s, userOpt(direct, dseed))

	ac.SigningKeys.Remove(skPub)
	ac.IssuedAt = 0
	require.NoError(t, s.UpdateAccountClaims(f.store(ac, f.opSK)))
	opWaitErr(t, errs, "authentication revoked")
	require.NoError(t, dnc.Flush(), "users the account signed itself stay")
	_, err := dialNats(s, userOpt(tok, seed))
	require.ErrorIs(t, err, nats.ErrAuthorization)
}

// BenchmarkOperatorResolveAccount measures the lookup of an account
// already built from its JWT: what every JWT user's connect costs besides
// the signature checks.
func BenchmarkOperatorResolveAccount(b *testing.B) {
	f := newOpFixture(b)
	a := f.account("A", nil)
	pub, _ := a.PublicKey()
	s, err := server.New(server.Options{Port: server.RandomPort, Operator: &server.OperatorOptions{Operators: []*auth.Operator{f.op}, Resolver: f.resolver}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	if _, err := s.ResolveAccount(pub); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.ResolveAccount(pub); err != nil {
			b.Fatal(err)
		}
	}
}

// TestOperatorUserPayloadLimit: a user JWT's payload limit and its
// account JWT's apply to the client, the lower one winning, where 0 is a
// limit of zero (empty messages only), as upstream. nats.go learns the
// limit from the INFO that follows the first PONG and refuses a larger
// message itself; the server refuses what a raw client sends anyway,
// with -ERR 'Maximum Payload Violation', and closes the connection.
func TestOperatorUserPayloadLimit(t *testing.T) {
	f := newOpFixture(t)
	a := f.account("A", nil)
	z := f.account("Z", func(ac *jwt.AccountClaims) { ac.Limits.Payload = 0 })
	s, _ := f.start(nil)
	tok, seed := f.user(a, nil, func(uc *jwt.UserClaims) { uc.Limits.Payload = 16 })
	nc := servertest.Connect(t, s, userOpt(tok, seed), nats.NoReconnect())
	servertest.WaitUntil(t, "max_payload 16 in nats.go", func() bool { return nc.MaxPayload() == 16 })
	require.NoError(t, nc.Publish("x", make([]byte, 16)))
	require.ErrorIs(t, nc.Publish("x", make([]byte, 17)), nats.ErrMaxPayload)
	require.NoError(t, nc.Flush())

	for _, c := range []struct {
		acc     nkeys.KeyPair
		limit   int64
		max     int
		ok, bad string
	}{
		{a, 16, 16, "PUB x 16\r\n" + strings.Repeat("x", 16) + "\r\n", "PUB x 17\r\n"},
		{a, 0, 0, "PUB x 0\r\n\r\n", "PUB x 1\r\n"},
		{z, -1, 0, "PUB x 0\r\n\r\n", "HPUB x 12 12\r\n"},
		{z, 5, 0, "PUB x 0\r\n\r\n", "PUB x 1\r\n"},
	} {
		tok, _ := f.user(c.acc, nil, func(uc *jwt.UserClaims) {
			uc.Limits.Payload = c.limit
			uc.BearerToken = true
		})
		rc := servertest.DialClient(t, s)
		rc.Send(`CONNECT {"verbose":false,"jwt":"` + tok + `","protocol":1,"headers":true}` + "\r\n" + c.ok + "PING\r\n")
		require.Equal(t, "PONG", rc.ReadLine(), c.ok)
		var info struct {
			MaxPayload *int `json:"max_payload"`
		}
		line := rc.ReadLine()
		require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(line, "INFO ")), &info), line)
		require.NotNil(t, info.MaxPayload, line)
		require.Equal(t, c.max, *info.MaxPayload)
		rc.Send(c.bad)
		require.Equal(t, "-ERR 'Maximum Payload Violation'", rc.ReadLine(), c.bad)
		rc.ExpectClosed()
		require.Equal(t, "Maximum Message Payload Exceeded", servertest.ClosedReason(t, s))
	}
}

// TestOperatorPayloadZeroSession: a session (the MQTT front end's) in an
// account whose JWT sets a payload limit of 0 publishes empty messages
// only; a limit of 16 allows 16 bytes, headers included.
func TestOperatorPayloadZeroSession(t *testing.T) {
	f := newOpFixture(t)
	z := f.account("Z", func(ac *jwt.AccountClaims) { ac.Limits.Payload = 0 })
	a := f.account("A", func(ac *jwt.AccountClaims) { ac.Limits.Payload = 16 })
	s, _ := f.start(nil)
	for _, c := range []struct {
		acc nkeys.KeyPair
		max int
	}{{z, 0}, {a, 16}} {
		// A client of the account makes the server fetch its JWT.
		tok, seed := f.user(c.acc, nil, nil)
		servertest.Connect(t, s, userOpt(tok, seed))
		pub, _ := c.acc.PublicKey()
		sess, err := s.Attach(server.SessionOptions{Account: pub})
		require.NoError(t, err)
		require.NoError(t, sess.Publish("x", "", nil, make([]byte, c.max)))
		require.ErrorIs(t, sess.Publish("x", "", nil, make([]byte, c.max+1)), server.ErrMaxPayload)
		hdr := []byte("NATS/1.0\r\n\r\n")
		require.ErrorIs(t, sess.Publish("x", "", hdr, make([]byte, max(c.max-len(hdr)+1, 0))), server.ErrMaxPayload)
		sess.Close()
	}
}

// TestOperatorSystemAccount: the operator names the system account; its
// users reach the $SYS services, other accounts get their own view.
func TestOperatorSystemAccount(t *testing.T) {
	f := newOpFixture(t)
	a := f.account("A", nil)
	s, _ := f.start(nil)
	require.NotNil(t, s.SystemAccount())
	require.Equal(t, f.sysPub, s.SystemAccount().Name)
	tok, seed := f.user(f.sysKP, nil, nil)
	sys := servertest.Connect(t, s, userOpt(tok, seed))
	resp, err := sys.Request("$SYS.REQ.SERVER.PING.VARZ", nil, 3*time.Second)
	require.NoError(t, err)
	require.Contains(t, string(resp.Data), s.ID())
	// A user of another account asks who it is: $SYS.REQ.USER.INFO.
	atok, aseed := f.user(a, nil, nil)
	anc := servertest.Connect(t, s, userOpt(atok, aseed))
	resp, err = anc.Request("$SYS.REQ.USER.INFO", nil, 3*time.Second)
	require.NoError(t, err)
	apub, _ := a.PublicKey()
	require.Contains(t, string(resp.Data), apub)
}

func TestOperatorReloadRefused(t *testing.T) {
	f := newOpFixture(t)
	s, _ := f.start(nil)
	o := s.Options()
	o.Operator = nil
	require.ErrorContains(t, s.Reload(o), "config reload not supported for TrustedOperators")
	other := newOpFixture(t)
	o.Operator = &server.OperatorOptions{Operators: []*auth.Operator{other.op}, Resolver: f.resolver}
	require.ErrorContains(t, s.Reload(o), "config reload not supported for TrustedOperators")
	o.Operator = &server.OperatorOptions{Operators: []*auth.Operator{f.op}, Resolver: f.resolver}
	require.NoError(t, s.Reload(o))
	// And a server without operators cannot reload into operator mode.
	plain := servertest.Start(t, server.Options{})
	po := plain.Options()
	po.Operator = o.Operator
	require.ErrorContains(t, plain.Reload(po), "config reload not supported for TrustedOperators")
}

// TestOperatorRemoveAccountClaims: an account whose JWT the resolver
// deleted keeps its place in the server's list, shown expired in
// /accountz, its client closed with 'Account Authentication Expired', as
// upstream; a JWT for it again builds it at once.
func TestOperatorRemoveAccountClaims(t *testing.T) {
	f := newOpFixture(t)
	a := f.account("A", nil)
	aPub, _ := a.PublicKey()
	s, _ := f.start(nil)
	tok, seed := f.user(a, nil, nil)
	errs := make(chan error, 4)
	nc := servertest.Connect(t, s, userOpt(tok, seed), nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	require.NoError(t, nc.Flush())
	detail := func() bool {
		az, err := s.Accountz(&snapshot.AccountzOptions{Account: aPub})
		require.NoError(t, err)
		return az.Account.Expired
	}
	require.False(t, detail())

	s.RemoveAccountClaims(aPub)
	select {
	case err := <-errs:
		require.Contains(t, strings.ToLower(err.Error()), "account authentication expired")
	case <-time.After(5 * time.Second):
		t.Fatal("the client of the deleted account stayed")
	}
	require.True(t, detail())
	az, err := s.Accountz(nil)
	require.NoError(t, err)
	require.Contains(t, az.Accounts, aPub)
	require.Nil(t, s.AccountClaims(aPub))

	ac := jwt.NewAccountClaims(aPub)
	ac.Name = "A"
	require.NoError(t, s.UpdateAccountClaims(f.store(ac, f.opSK)))
	require.False(t, detail())
	require.NotNil(t, s.AccountClaims(aPub))
	servertest.Connect(t, s, userOpt(tok, seed))
}
