package resolver_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"

	"natsd.dev/auth"
	"natsd.dev/server"
	"natsd.dev/server/resolver"
	"natsd.dev/server/servertest"
	_ "natsd.dev/server/sys"
)

// fixture is an operator with a system account and account A, minted as
// nsc would.
type fixture struct {
	t          *testing.T
	opKP       nkeys.KeyPair
	op         *auth.Operator
	sysKP, aKP nkeys.KeyPair
	sysPub     string
	aPub       string
	sysJWT     string
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{t: t}
	f.opKP, _ = nkeys.CreateOperator()
	opPub, _ := f.opKP.PublicKey()
	f.sysKP, _ = nkeys.CreateAccount()
	f.sysPub, _ = f.sysKP.PublicKey()
	f.aKP, _ = nkeys.CreateAccount()
	f.aPub, _ = f.aKP.PublicKey()
	oc := jwt.NewOperatorClaims(opPub)
	oc.SystemAccount = f.sysPub
	tok, err := oc.Encode(f.opKP)
	require.NoError(t, err)
	f.op, err = auth.DecodeOperator(tok)
	require.NoError(t, err)
	f.sysJWT = f.account(f.sysPub, nil)
	return f
}

func (f *fixture) account(pub string, edit func(*jwt.AccountClaims)) string {
	ac := jwt.NewAccountClaims(pub)
	if edit != nil {
		edit(ac)
	}
	tok, err := ac.Encode(f.opKP)
	require.NoError(f.t, err)
	return tok
}

func (f *fixture) user(acc nkeys.KeyPair) (nats.Option, string) {
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	tok, err := jwt.NewUserClaims(upub).Encode(acc)
	require.NoError(f.t, err)
	seed, _ := ukp.Seed()
	return nats.UserJWTAndSeed(tok, string(seed)), upub
}

func (f *fixture) start(r server.AccountResolver, edit func(*server.OperatorOptions)) (*server.Server, *servertest.Logs) {
	op := &server.OperatorOptions{Operators: []*auth.Operator{f.op}, Resolver: r}
	if edit != nil {
		edit(op)
	}
	return servertest.StartWithLogs(f.t, server.Options{Operator: op})
}

type answer struct {
	Data  map[string]any `json:"data"`
	Error map[string]any `json:"error"`
}

func request(t *testing.T, nc *nats.Conn, subject, body string) answer {
	t.Helper()
	m, err := nc.Request(subject, []byte(body), 2*time.Second)
	require.NoError(t, err)
	var a answer
	require.NoError(t, json.Unmarshal(m.Data, &a), string(m.Data))
	return a
}

// TestFullResolverInProcess pushes, applies live and deletes through an
// in-process server (run with -race).
func TestFullResolverInProcess(t *testing.T) {
	f := newFixture(t)
	r, err := resolver.NewFull(resolver.Options{Dir: t.TempDir(), Delete: resolver.HardDelete})
	require.NoError(t, err)
	_, err = r.Store().Save(f.sysPub, f.sysJWT)
	require.NoError(t, err)
	s, logs := f.start(r, nil)
	sysOpt, _ := f.user(f.sysKP)
	sys := servertest.Connect(t, s, sysOpt)
	a := request(t, sys, resolver.SubjectClaimsUpdate, f.account(f.aPub, func(ac *jwt.AccountClaims) { ac.Limits.Subs = 1 }))
	require.Nil(t, a.Error)
	require.Equal(t, "jwt updated", a.Data["message"])

	uOpt, upub := f.user(f.aKP)
	closed := make(chan error, 1)
	nc := servertest.Connect(t, s, uOpt, nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case closed <- err:
			default:
			}
		}))
	_, err = nc.SubscribeSync("x")
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	require.NotNil(t, s.AccountClaims(f.aPub))

	time.Sleep(1100 * time.Millisecond) // a later issue time for the revocation
	a = request(t, sys, resolver.UpdateSubject(f.aPub), f.account(f.aPub, func(ac *jwt.AccountClaims) { ac.Revoke(upub) }))
	require.Nil(t, a.Error)
	select {
	case err := <-closed:
		require.ErrorIs(t, err, nats.ErrAuthRevoked)
	case <-time.After(5 * time.Second):
		t.Fatal("the revoked user stayed")
	}

	gc := jwt.NewGenericClaims(f.op.PublicKey)
	gc.Data["accounts"] = []string{f.aPub}
	del, err := gc.Encode(f.opKP)
	require.NoError(t, err)
	a = request(t, sys, resolver.SubjectClaimsDelete, del)
	require.Nil(t, a.Error, "%v", a.Error)
	require.Equal(t, "deleted 1 accounts", a.Data["message"])
	require.Nil(t, s.AccountClaims(f.aPub))
	require.Equal(t, []string{f.sysPub}, r.Store().List())
	require.False(t, logs.Contains("DATA RACE"))
}

// TestURLResolverAndPinned fetches from an account server; pinned
// accounts keep the others out.
func TestURLResolverAndPinned(t *testing.T) {
	f := newFixture(t)
	bKP, _ := nkeys.CreateAccount()
	bPub, _ := bKP.PublicKey()
	jwts := map[string]string{f.sysPub: f.sysJWT, f.aPub: f.account(f.aPub, nil), bPub: f.account(bPub, nil)}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := jwts[strings.TrimPrefix(r.URL.Path, "/jwt/v1/accounts/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(tok))
	}))
	t.Cleanup(hs.Close)
	u, err := resolver.NewURL(hs.URL+"/jwt/v1/accounts", nil, time.Second)
	require.NoError(t, err)
	got, err := u.Fetch(f.aPub)
	require.NoError(t, err)
	require.Equal(t, jwts[f.aPub], got)
	missing, _ := nkeys.CreateAccount()
	mPub, _ := missing.PublicKey()
	_, err = u.Fetch(mPub)
	require.ErrorIs(t, err, server.ErrAccountNotFound)
	_, err = u.Fetch("nope")
	require.EqualError(t, err, "will only fetch valid account keys")

	s, _ := f.start(u, func(o *server.OperatorOptions) { o.PinnedAccounts = []string{f.aPub} })
	aOpt, _ := f.user(f.aKP)
	servertest.Connect(t, s, aOpt)
	bOpt, _ := f.user(bKP)
	_, err = nats.Connect(s.ClientURL(), bOpt, nats.NoReconnect())
	require.True(t, errors.Is(err, nats.ErrAuthorization), "%v", err)
}

// TestURLResolverTLS fetches over https with the account server's CA
// (resolver_tls), and fails without it.
func TestURLResolverTLS(t *testing.T) {
	f := newFixture(t)
	tok := f.account(f.aPub, nil)
	hs := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(tok))
	}))
	t.Cleanup(hs.Close)
	pool := x509.NewCertPool()
	pool.AddCert(hs.Certificate())
	u, err := resolver.NewURL(hs.URL+"/jwt/v1/accounts/", &tls.Config{RootCAs: pool}, time.Second)
	require.NoError(t, err)
	got, err := u.Fetch(f.aPub)
	require.NoError(t, err)
	require.Equal(t, tok, got)
	u2, err := resolver.NewURL(hs.URL+"/jwt/v1/accounts/", nil, time.Second)
	require.NoError(t, err)
	_, err = u2.Fetch(f.aPub)
	require.ErrorContains(t, err, "could not fetch")
	require.ErrorContains(t, err, "certificate")
}

// TestMemoryResolverUpdates: MEMORY applies pushed updates to the
// accounts the server built and skips the others, as upstream's.
func TestMemoryResolverUpdates(t *testing.T) {
	f := newFixture(t)
	bKP, _ := nkeys.CreateAccount()
	bPub, _ := bKP.PublicKey()
	m := resolver.NewMemory(map[string]string{f.sysPub: f.sysJWT, f.aPub: f.account(f.aPub, nil), bPub: f.account(bPub, nil)})
	s, _ := f.start(m, nil)
	sysOpt, _ := f.user(f.sysKP)
	sys := servertest.Connect(t, s, sysOpt)
	aOpt, _ := f.user(f.aKP)
	servertest.Connect(t, s, aOpt)

	a := request(t, sys, resolver.UpdateSubject(bPub), f.account(bPub, nil))
	require.Equal(t, "jwt update skipped", a.Data["message"])
	a = request(t, sys, resolver.UpdateSubject(bPub), f.account(f.aPub, nil))
	require.Equal(t, "jwt update error - subject does not match jwt content", a.Error["description"])
	a = request(t, sys, resolver.UpdateSubject(f.aPub), "")
	require.Equal(t, "jwt update error - request body is empty", a.Error["description"])

	// The older notification subject, published without a reply.
	time.Sleep(1100 * time.Millisecond)
	require.NoError(t, sys.Publish(resolver.UpdateEventSubject(f.aPub), []byte(f.account(f.aPub, func(ac *jwt.AccountClaims) { ac.Limits.Subs = 7 }))))
	require.NoError(t, sys.Flush())
	servertest.WaitUntil(t, "the update applied", func() bool {
		ac := s.AccountClaims(f.aPub)
		return ac != nil && ac.Limits.Subs == 7
	})
}
