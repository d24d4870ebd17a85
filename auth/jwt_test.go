package auth_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"

	"natsd.dev/auth"
)

// jwtKit mints an operator, an account and users for the tests.
type jwtKit struct {
	op    nkeys.KeyPair
	trust *auth.Trust
	acc   nkeys.KeyPair
	accs  map[string]*auth.Account
}

func newJWTKit(tb testing.TB, edit func(*jwt.AccountClaims)) *jwtKit {
	tb.Helper()
	k := &jwtKit{accs: map[string]*auth.Account{}}
	k.op, _ = nkeys.CreateOperator()
	opPub, _ := k.op.PublicKey()
	oc := jwt.NewOperatorClaims(opPub)
	tok, err := oc.Encode(k.op)
	require.NoError(tb, err)
	op, err := auth.DecodeOperator(tok)
	require.NoError(tb, err)
	k.trust, err = auth.NewTrust([]*auth.Operator{op}, nil)
	require.NoError(tb, err)
	k.acc, _ = nkeys.CreateAccount()
	k.setAccount(tb, edit)
	return k
}

func (k *jwtKit) setAccount(tb testing.TB, edit func(*jwt.AccountClaims)) {
	pub, _ := k.acc.PublicKey()
	ac := jwt.NewAccountClaims(pub)
	ac.Name = "A"
	if edit != nil {
		edit(ac)
	}
	tok, err := ac.Encode(k.op)
	require.NoError(tb, err)
	a, err := k.trust.DecodeAccount(tok)
	require.NoError(tb, err)
	k.accs[pub] = a
}

func (k *jwtKit) Account(pub string) (*auth.Account, error) {
	if a := k.accs[pub]; a != nil {
		return a, nil
	}
	return nil, errors.New("not found")
}

// request returns a Request of a new user of the kit's account, signed
// by signer (the account when nil), with its nonce signed.
func (k *jwtKit) request(tb testing.TB, signer nkeys.KeyPair, edit func(*jwt.UserClaims)) *auth.Request {
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	uc := jwt.NewUserClaims(upub)
	uc.Name = "bob"
	if signer == nil {
		signer = k.acc
	} else {
		uc.IssuerAccount, _ = k.acc.PublicKey()
	}
	if edit != nil {
		edit(uc)
	}
	tok, err := uc.Encode(signer)
	require.NoError(tb, err)
	nonce := auth.NewNonce()
	sig, _ := ukp.Sign(nonce)
	return &auth.Request{JWT: tok, Nonce: nonce, Sig: encodeSig(sig),
		RemoteAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5555}}
}

func TestJWTAuthUser(t *testing.T) {
	k := newJWTKit(t, nil)
	ja := auth.NewJWTAuth(k, "")
	require.True(t, ja.NeedsNonce())
	id, err := ja.Authenticate(k.request(t, nil, nil))
	require.NoError(t, err)
	pub, _ := k.acc.PublicKey()
	require.Equal(t, pub, id.Account)
	require.NotNil(t, id.JWT)
	require.Nil(t, id.Checker)

	// No JWT: not this authenticator's.
	_, err = ja.Authenticate(&auth.Request{User: "x"})
	require.ErrorIs(t, err, auth.ErrNoMatch)

	for name, r := range map[string]*auth.Request{
		"bad signature": func() *auth.Request { r := k.request(t, nil, nil); r.Sig = "AAAA"; return r }(),
		"expired":       k.request(t, nil, func(uc *jwt.UserClaims) { uc.Expires = time.Now().Add(-time.Hour).Unix() }),
		"not yet valid": k.request(t, nil, func(uc *jwt.UserClaims) { uc.NotBefore = time.Now().Add(time.Hour).Unix() }),
		"garbage":       {JWT: "eyJ.garbage.x"},
		"wrong signer":  func() *auth.Request { kp, _ := nkeys.CreateAccount(); return k.request(t, kp, nil) }(),
		"wrong type":    k.request(t, nil, func(uc *jwt.UserClaims) { uc.AllowedConnectionTypes.Add(jwt.ConnectionTypeWebsocket) }),
		"source cidr":   k.request(t, nil, func(uc *jwt.UserClaims) { uc.Limits.Src.Add("10.0.0.0/8") }),
	} {
		_, err := ja.Authenticate(r)
		require.ErrorIs(t, err, auth.ErrAuthorization, name)
		require.NotErrorIs(t, err, auth.ErrNoMatch, name)
	}
	_, err = ja.Authenticate(k.request(t, nil, func(uc *jwt.UserClaims) { uc.Limits.Src.Add("127.0.0.0/8") }))
	require.NoError(t, err)
}

func TestJWTAuthTimes(t *testing.T) {
	k := newJWTKit(t, nil)
	ja := auth.NewJWTAuth(k, "")
	now := time.Now().In(time.UTC)
	in := jwt.TimeRange{Start: now.Add(-time.Hour).Format(time.TimeOnly), End: now.Add(time.Hour).Format(time.TimeOnly)}
	out := jwt.TimeRange{Start: now.Add(time.Hour).Format(time.TimeOnly), End: now.Add(2 * time.Hour).Format(time.TimeOnly)}
	id, err := ja.Authenticate(k.request(t, nil, func(uc *jwt.UserClaims) { uc.Times = []jwt.TimeRange{in}; uc.Locale = "UTC" }))
	require.NoError(t, err)
	// The connection ends with the window (an hour from now, to the second).
	require.WithinDuration(t, now.Add(time.Hour), id.JWT.Expires, 2*time.Second)
	_, err = ja.Authenticate(k.request(t, nil, func(uc *jwt.UserClaims) { uc.Times = []jwt.TimeRange{out}; uc.Locale = "UTC" }))
	require.ErrorIs(t, err, auth.ErrAuthorization)
}

func TestJWTAuthRevocationAndDefaults(t *testing.T) {
	k := newJWTKit(t, nil)
	ja := auth.NewJWTAuth(k, "")
	r := k.request(t, nil, func(uc *jwt.UserClaims) { uc.IssuedAt = time.Now().Add(-time.Minute).Unix() })
	uc, err := jwt.DecodeUserClaims(r.JWT)
	require.NoError(t, err)
	k.setAccount(t, func(ac *jwt.AccountClaims) {
		ac.Revoke(uc.Subject)
		ac.DefaultPermissions.Pub.Allow.Add("def.>")
		ac.Limits.DisallowBearer = true
	})
	_, err = ja.Authenticate(r)
	require.ErrorContains(t, err, "revoked")
	id, err := ja.Authenticate(k.request(t, nil, nil))
	require.NoError(t, err)
	require.True(t, id.Checker.CanPublish([]byte("def.x")))
	require.False(t, id.Checker.CanPublish([]byte("other")))
	_, err = ja.Authenticate(k.request(t, nil, func(uc *jwt.UserClaims) { uc.BearerToken = true }))
	require.ErrorContains(t, err, "bearer")
}

func TestJWTScopedTemplates(t *testing.T) {
	sk, _ := nkeys.CreateAccount()
	skPub, _ := sk.PublicKey()
	k := newJWTKit(t, func(ac *jwt.AccountClaims) {
		s := jwt.NewUserScope()
		s.Key = skPub
		s.Template.Pub.Allow.Add("{{name()}}.{{tag(dc)}}.>", "{{account-subject()}}", "acc.{{account-tag(env)}}")
		ac.SigningKeys.AddScopedSigner(s)
		ac.Tags.Add("env:prod")
	})
	ja := auth.NewJWTAuth(k, "")
	id, err := ja.Authenticate(k.request(t, sk, func(uc *jwt.UserClaims) {
		uc.Tags.Add("dc:east", "dc:west")
		uc.Pub.Allow.Add(">") // ignored: the scope's template rules
	}))
	require.NoError(t, err)
	pub, _ := k.acc.PublicKey()
	require.ElementsMatch(t, []string{"bob.east.>", "bob.west.>", pub, "acc.prod"}, id.Permissions.Publish.Allow)
	// No dc tag: the template cannot be filled.
	_, err = ja.Authenticate(k.request(t, sk, nil))
	require.ErrorContains(t, err, "generated invalid subject")
}

func TestDecodeAccountUntrusted(t *testing.T) {
	k := newJWTKit(t, nil)
	rogue, _ := nkeys.CreateOperator()
	pub, _ := k.acc.PublicKey()
	tok, err := jwt.NewAccountClaims(pub).Encode(rogue)
	require.NoError(t, err)
	_, err = k.trust.DecodeAccount(tok)
	require.ErrorIs(t, err, auth.ErrBadJWT)
	_, err = k.trust.DecodeAccount("nonsense")
	require.ErrorIs(t, err, auth.ErrBadJWT)
	_, err = auth.NewTrust(nil, []string{"not-a-key"})
	require.ErrorContains(t, err, "required to be a valid public operator nkey")
}

func TestAccountActivation(t *testing.T) {
	k := newJWTKit(t, func(ac *jwt.AccountClaims) {
		ac.Exports.Add(&jwt.Export{Subject: "svc.>", Type: jwt.Service, TokenReq: true})
	})
	pub, _ := k.acc.PublicKey()
	exp := k.accs[pub]
	imp, _ := nkeys.CreateAccount()
	impPub, _ := imp.PublicKey()
	act := jwt.NewActivationClaims(impPub)
	act.ImportSubject, act.ImportType = "svc.>", jwt.Service
	tok, err := act.Encode(k.acc)
	require.NoError(t, err)
	require.NoError(t, exp.CheckActivation(tok, impPub, "svc.a", true))
	require.Error(t, exp.CheckActivation(tok, pub, "svc.a", true), "issued to another account")
	require.Error(t, exp.CheckActivation(tok, impPub, "other", true), "other subject")
	require.Error(t, exp.CheckActivation(tok, impPub, "svc.a", false), "wrong kind")
	forged, err := act.Encode(imp)
	require.NoError(t, err)
	require.Error(t, exp.CheckActivation(forged, impPub, "svc.a", true), "signed by the importer")
}

func BenchmarkJWTAuthenticate(b *testing.B) {
	k := newJWTKit(b, nil)
	ja := auth.NewJWTAuth(k, "")
	r := k.request(b, nil, func(uc *jwt.UserClaims) { uc.Pub.Allow.Add("foo.>") })
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ja.Authenticate(r); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzJWTAuthenticate(f *testing.F) {
	k := newJWTKit(f, nil)
	ja := auth.NewJWTAuth(k, "")
	r := k.request(f, nil, nil)
	f.Add(r.JWT, r.Sig)
	f.Add("eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.AA", "")
	f.Fuzz(func(t *testing.T, tok, sig string) {
		id, err := ja.Authenticate(&auth.Request{JWT: tok, Sig: sig, Nonce: r.Nonce})
		if err == nil && (id == nil || id.JWT == nil) {
			t.Fatal("success without an identity")
		}
		if err != nil && !errors.Is(err, auth.ErrAuthorization) {
			t.Fatalf("error not wrapping ErrAuthorization: %v", err)
		}
	})
}

func ExampleJWTAuth() {
	// An operator, trusted by the server.
	opKP, _ := nkeys.CreateOperator()
	opPub, _ := opKP.PublicKey()
	opJWT, _ := jwt.NewOperatorClaims(opPub).Encode(opKP)
	op, _ := auth.DecodeOperator(opJWT)
	trust, _ := auth.NewTrust([]*auth.Operator{op}, nil)

	// An account it signed, as a resolver would hand it out.
	accKP, _ := nkeys.CreateAccount()
	accPub, _ := accKP.PublicKey()
	accJWT, _ := jwt.NewAccountClaims(accPub).Encode(opKP)
	acc, _ := trust.DecodeAccount(accJWT)

	// A user of the account, connecting: it signs the server's nonce.
	uKP, _ := nkeys.CreateUser()
	uPub, _ := uKP.PublicKey()
	uJWT, _ := jwt.NewUserClaims(uPub).Encode(accKP)
	nonce := auth.NewNonce()
	sig, _ := uKP.Sign(nonce)

	ja := auth.NewJWTAuth(sourceFunc(func(pub string) (*auth.Account, error) {
		if pub == accPub {
			return acc, nil
		}
		return nil, errors.New("unknown account")
	}), "")
	id, err := ja.Authenticate(&auth.Request{JWT: uJWT, Nonce: nonce, Sig: encodeSig(sig)})
	fmt.Println(err, id.Account == accPub, id.Name == uPub)
	// Output: <nil> true true
}

type sourceFunc func(string) (*auth.Account, error)

func (f sourceFunc) Account(pub string) (*auth.Account, error) { return f(pub) }

func encodeSig(sig []byte) string { return base64.RawURLEncoding.EncodeToString(sig) }
