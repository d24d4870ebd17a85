package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// resolverSetup mints an operator (with a signing key that signs the
// accounts), a system account with a user, and account A with two
// users, as nsc would.
type resolverSetup struct {
	dir                 string
	opFile              string
	opKP, skKP          nkeys.KeyPair
	opPub, sysPub, aPub string
	sysJWT              string
	aKP                 nkeys.KeyPair
	sysCreds            string
	a1Pub               string
	a1Creds, a2Creds    string
}

func newResolverSetup(t *testing.T) *resolverSetup {
	t.Helper()
	st := &resolverSetup{dir: t.TempDir()}
	st.opKP, _ = nkeys.CreateOperator()
	st.opPub, _ = st.opKP.PublicKey()
	st.skKP, _ = nkeys.CreateOperator()
	skPub, _ := st.skKP.PublicKey()
	sysKP, _ := nkeys.CreateAccount()
	st.sysPub, _ = sysKP.PublicKey()
	oc := jwt.NewOperatorClaims(st.opPub)
	oc.Name = "OP"
	oc.SystemAccount = st.sysPub
	oc.SigningKeys.Add(skPub)
	opJWT, err := oc.Encode(st.opKP)
	require.NoError(t, err)
	st.opFile = writeFile(t, filepath.Join(st.dir, "op.jwt"), opJWT)
	sc := jwt.NewAccountClaims(st.sysPub)
	sc.Name = "SYS"
	st.sysJWT, err = sc.Encode(st.skKP)
	require.NoError(t, err)
	st.aKP, _ = nkeys.CreateAccount()
	st.aPub, _ = st.aKP.PublicKey()
	st.sysCreds, _ = st.creds(t, sysKP, "sys")
	st.a1Creds, st.a1Pub = st.creds(t, st.aKP, "a1")
	st.a2Creds, _ = st.creds(t, st.aKP, "a2")
	return st
}

func (st *resolverSetup) creds(t *testing.T, acc nkeys.KeyPair, name string) (path, pub string) {
	t.Helper()
	ukp, _ := nkeys.CreateUser()
	pub, _ = ukp.PublicKey()
	uc := jwt.NewUserClaims(pub)
	uc.Name = name
	tok, err := uc.Encode(acc)
	require.NoError(t, err)
	seed, _ := ukp.Seed()
	b, err := jwt.FormatUserConfig(tok, seed)
	require.NoError(t, err)
	path = filepath.Join(st.dir, name+".creds")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path, pub
}

// accountJWT returns A's JWT signed by the operator's signing key, edited
// by edit.
func (st *resolverSetup) accountJWT(t *testing.T, edit func(*jwt.AccountClaims)) string {
	t.Helper()
	ac := jwt.NewAccountClaims(st.aPub)
	ac.Name = "A"
	if edit != nil {
		edit(ac)
	}
	tok, err := ac.Encode(st.skKP)
	require.NoError(t, err)
	return tok
}

// claimsResponse is the answer to the claims requests.
type claimsResponse struct {
	Server struct {
		ID string `json:"id"`
	} `json:"server"`
	Data  json.RawMessage `json:"data"`
	Error *struct {
		Account     string `json:"account"`
		Code        int    `json:"code"`
		Description string `json:"description"`
	} `json:"error"`
}

type claimStatus struct {
	Account string `json:"account"`
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func sysRequest(t *testing.T, nc *nats.Conn, subject, body string) *claimsResponse {
	t.Helper()
	m, err := nc.Request(subject, []byte(body), 3*time.Second)
	require.NoError(t, err, subject)
	var r claimsResponse
	require.NoError(t, json.Unmarshal(m.Data, &r), string(m.Data))
	require.NotEmpty(t, r.Server.ID, string(m.Data))
	return &r
}

// push sends a JWT as `nsc push` does and checks upstream's answer.
func push(t *testing.T, nc *nats.Conn, subject, tok, acc string) {
	t.Helper()
	r := sysRequest(t, nc, subject, tok)
	require.Nil(t, r.Error, "%+v", r.Error)
	var st claimStatus
	require.NoError(t, json.Unmarshal(r.Data, &st))
	require.Equal(t, claimStatus{Account: acc, Code: 200, Message: "jwt updated"}, st)
}

// closedWith connects with opts and returns the connection and a channel
// that receives the error the server closed it with (LastError, once the
// connection is closed).
func closedWith(t *testing.T, p *proc, opts ...nats.Option) (*nats.Conn, chan error) {
	t.Helper()
	errs := make(chan error, 4)
	opts = append(opts, nats.NoReconnect(), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case errs <- err:
		default:
		}
	}), nats.ClosedHandler(func(nc *nats.Conn) {
		err := nc.LastError()
		if err == nil {
			err = errors.New("closed without error")
		}
		select {
		case errs <- err:
		default:
		}
	}))
	return p.connect(opts...), errs
}

// waitErr waits for an error containing want (the asynchronous error or
// the closing one).
func waitErr(t *testing.T, errs chan error, want string) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	var got []string
	for {
		select {
		case err := <-errs:
			if strings.Contains(strings.ToLower(err.Error()), strings.ToLower(want)) {
				return
			}
			got = append(got, err.Error())
		case <-timeout:
			t.Fatalf("no %q from the server (got %q)", want, got)
		}
	}
}

func TestResolverFullE2E(t *testing.T) {
	st := newResolverSetup(t)
	jwtDir := filepath.Join(st.dir, "jwt")
	require.NoError(t, os.MkdirAll(jwtDir, 0o755))
	// The directory format: <pub>.jwt, as upstream's resolver keeps it;
	// a damaged file is reported, not fatal.
	writeFile(t, filepath.Join(jwtDir, st.sysPub+".jwt"), st.sysJWT)
	writeFile(t, filepath.Join(jwtDir, "ADAMAGED.jwt"), "not a jwt")
	conf := writeFile(t, filepath.Join(st.dir, "full.conf"), `
operator: "`+st.opFile+`"
system_account: `+st.sysPub+`
resolver: {
  type: full
  dir: "`+jwtDir+`"
  allow_delete: true
  interval: "2m"
  timeout: "1s"
}
`)
	p := start(t, "-c", conf)
	p.waitLog("ADAMAGED.jwt")
	sys := p.connect(nats.UserCredentials(st.sysCreds))

	// A is unknown until pushed.
	_, err := p.dial(nats.UserCredentials(st.a1Creds))
	require.ErrorIs(t, err, nats.ErrAuthorization)
	aJWT := st.accountJWT(t, func(ac *jwt.AccountClaims) { ac.Limits.Conn = 4 })
	push(t, sys, "$SYS.REQ.CLAIMS.UPDATE", aJWT, st.aPub)
	b, err := os.ReadFile(filepath.Join(jwtDir, st.aPub+".jwt"))
	require.NoError(t, err)
	require.Equal(t, aJWT, string(b))

	a1, a1errs := closedWith(t, p, nats.UserCredentials(st.a1Creds))
	a2, a2errs := closedWith(t, p, nats.UserCredentials(st.a2Creds))
	require.NoError(t, a1.Flush())

	// LOOKUP and LIST.
	m, err := sys.Request("$SYS.REQ.ACCOUNT."+st.aPub+".CLAIMS.LOOKUP", nil, 2*time.Second)
	require.NoError(t, err)
	require.Equal(t, aJWT, string(m.Data))
	r := sysRequest(t, sys, "$SYS.REQ.CLAIMS.LIST", "")
	var list []string
	require.NoError(t, json.Unmarshal(r.Data, &list))
	require.ElementsMatch(t, []string{st.sysPub, st.aPub}, list)

	// Bad pushes get upstream's errors and change nothing.
	r = sysRequest(t, sys, "$SYS.REQ.CLAIMS.UPDATE", "garbage")
	require.NotNil(t, r.Error)
	require.Equal(t, 500, r.Error.Code)
	require.Contains(t, r.Error.Description, "jwt update resulted in error")
	otherOp, _ := nkeys.CreateOperator()
	untrusted, err := jwt.NewAccountClaims(st.aPub).Encode(otherOp)
	require.NoError(t, err)
	r = sysRequest(t, sys, "$SYS.REQ.ACCOUNT."+st.aPub+".CLAIMS.UPDATE", untrusted)
	require.NotNil(t, r.Error)
	require.Contains(t, r.Error.Description, "jwt validation failed")
	require.NoError(t, a1.Flush())

	// A connection limit lowered live: the newest client goes.
	time.Sleep(1100 * time.Millisecond) // a JWT issued in a later second
	push(t, sys, "$SYS.REQ.ACCOUNT."+st.aPub+".CLAIMS.UPDATE", st.accountJWT(t, func(ac *jwt.AccountClaims) { ac.Limits.Conn = 1 }), st.aPub)
	waitErr(t, a2errs, "maximum account active connections exceeded")
	require.NoError(t, a1.Flush())

	// A user revoked live.
	time.Sleep(1100 * time.Millisecond)
	push(t, sys, "$SYS.REQ.CLAIMS.UPDATE", st.accountJWT(t, func(ac *jwt.AccountClaims) {
		ac.Limits.Conn = 1
		ac.Revoke(st.a1Pub)
	}), st.aPub)
	waitErr(t, a1errs, "authentication revoked")
	_, err = p.dial(nats.UserCredentials(st.a1Creds))
	require.Error(t, err)
	a2 = p.connect(nats.UserCredentials(st.a2Creds))

	// Delete: refused unless signed by an operator key, then done; the
	// file is renamed as upstream's and the account's clients closed.
	del := func(kp nkeys.KeyPair, accounts ...string) *claimsResponse {
		pub, _ := kp.PublicKey()
		gc := jwt.NewGenericClaims(pub)
		gc.Data["accounts"] = accounts
		tok, err := gc.Encode(kp)
		require.NoError(t, err)
		return sysRequest(t, sys, "$SYS.REQ.CLAIMS.DELETE", tok)
	}
	r = del(otherOp, st.aPub)
	require.NotNil(t, r.Error)
	require.Contains(t, r.Error.Description, "not trusted")
	r = del(st.opKP, st.sysPub)
	require.NotNil(t, r.Error)
	require.Contains(t, r.Error.Description, "not allowed to delete system account")
	closed := make(chan struct{})
	a2.SetClosedHandler(func(*nats.Conn) { close(closed) })
	r = del(st.opKP, st.aPub)
	require.Nil(t, r.Error, "%+v", r.Error)
	var ds claimStatus
	require.NoError(t, json.Unmarshal(r.Data, &ds))
	require.Equal(t, claimStatus{Code: 200, Message: "deleted 1 accounts"}, ds)
	_, err = os.Stat(filepath.Join(jwtDir, st.aPub+".jwt.deleted"))
	require.NoError(t, err)
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the deleted account's client stayed")
	}
	_, err = p.dial(nats.UserCredentials(st.a2Creds))
	require.Error(t, err)
}

// TestResolverFullClusterE2E: two servers, each with its own full
// resolver directory; a JWT pushed to one is stored by both, and a limit
// change pushed to one applies to the clients of the other.
func TestResolverFullClusterE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers")
	}
	st := newResolverSetup(t)
	conf := func(name string) (string, string) {
		dir := filepath.Join(st.dir, name)
		return writeFile(t, filepath.Join(st.dir, name+".conf"), `
operator: "`+st.opFile+`"
system_account: `+st.sysPub+`
resolver: { type: full, dir: "`+dir+`" }
resolver_preload: { `+st.sysPub+`: `+st.sysJWT+` }
`), dir
	}
	c1, dir1 := conf("s1")
	c2, dir2 := conf("s2")
	s1 := start(t, "-c", c1, "--cluster_name", "res", "--cluster", "nats://127.0.0.1:-1")
	s1.waitLog("Listening for route connections on 127.0.0.1:")
	s2 := start(t, "-c", c2, "--cluster_name", "res", "--cluster", "nats://127.0.0.1:-1", "--routes", s1.clusterURL())
	sys1 := s1.connect(nats.UserCredentials(st.sysCreds))
	sys2 := s2.connect(nats.UserCredentials(st.sysCreds))
	// Wait for the route: a request from s1 answered on s2.
	_, err := sys2.Subscribe("probe", func(m *nats.Msg) { m.Respond([]byte("ok")) })
	require.NoError(t, err)
	require.NoError(t, sys2.Flush())
	servertest.WaitUntil(t, "the route", func() bool {
		_, err := sys1.Request("probe", nil, 100*time.Millisecond)
		return err == nil
	})
	// Wait until s2's resolver subscription is known on s1: two answers
	// to a LIST.
	servertest.WaitUntil(t, "both resolvers", func() bool {
		inbox := nats.NewInbox()
		sub, err := sys1.SubscribeSync(inbox)
		if err != nil {
			return false
		}
		defer sub.Unsubscribe()
		if sys1.PublishRequest("$SYS.REQ.CLAIMS.LIST", inbox, nil) != nil {
			return false
		}
		n := 0
		for ; n < 2; n++ {
			if _, err := sub.NextMsg(500 * time.Millisecond); err != nil {
				break
			}
		}
		return n == 2
	})

	aJWT := st.accountJWT(t, nil)
	push(t, sys1, "$SYS.REQ.CLAIMS.UPDATE", aJWT, st.aPub)
	servertest.WaitUntil(t, "the JWT on s2", func() bool {
		b, err := os.ReadFile(filepath.Join(dir2, st.aPub+".jwt"))
		return err == nil && string(b) == aJWT
	})
	// The first answer may be s2's: s1 stores it too.
	servertest.WaitUntil(t, "the JWT on s1", func() bool {
		b, err := os.ReadFile(filepath.Join(dir1, st.aPub+".jwt"))
		return err == nil && string(b) == aJWT
	})

	// Clients of A on s2; a lower limit pushed to s1 closes one of them.
	a1, e1 := closedWith(t, s2, nats.UserCredentials(st.a1Creds))
	a2, e2 := closedWith(t, s2, nats.UserCredentials(st.a2Creds))
	require.NoError(t, a1.Flush())
	require.NoError(t, a2.Flush())
	time.Sleep(1100 * time.Millisecond)
	push(t, sys1, "$SYS.REQ.CLAIMS.UPDATE", st.accountJWT(t, func(ac *jwt.AccountClaims) { ac.Limits.Conn = 1 }), st.aPub)
	// The newest of the two goes.
	waitErr(t, e2, "maximum account active connections exceeded")
	require.NoError(t, a1.Flush())
	_ = e1

	// A server that joins later catches up through the synchronization
	// of the full resolvers ($SYS.REQ.CLAIMS.PACK, every interval).
	c3, dir3 := conf("s3")
	writeFile(t, c3, strings.Replace(string(must(os.ReadFile(c3))), "type: full,", "type: full, interval: \"500ms\",", 1))
	start(t, "-c", c3, "--cluster_name", "res", "--cluster", "nats://127.0.0.1:-1", "--routes", s1.clusterURL())
	want := must(os.ReadFile(filepath.Join(dir1, st.aPub+".jwt")))
	servertest.WaitUntil(t, "the JWT on s3", func() bool {
		b, err := os.ReadFile(filepath.Join(dir3, st.aPub+".jwt"))
		return err == nil && string(b) == string(want)
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestResolverURLE2E runs an account server with net/http: the server
// fetches A's JWT from it; pinned accounts refuse the others.
func TestResolverURLE2E(t *testing.T) {
	st := newResolverSetup(t)
	var mu sync.Mutex
	jwts := map[string]string{st.sysPub: st.sysJWT, st.aPub: st.accountJWT(t, nil)}
	var fetched []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pub, ok := strings.CutPrefix(r.URL.Path, "/jwt/v1/accounts/")
		mu.Lock()
		tok, found := jwts[pub]
		fetched = append(fetched, pub)
		mu.Unlock()
		if !ok || !found {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(tok))
	}))
	t.Cleanup(srv.Close)
	bKP, _ := nkeys.CreateAccount()
	bPub, _ := bKP.PublicKey()
	bJWT, err := jwt.NewAccountClaims(bPub).Encode(st.skKP)
	require.NoError(t, err)
	mu.Lock()
	jwts[bPub] = bJWT
	mu.Unlock()
	bCreds, _ := st.creds(t, bKP, "b")
	conf := writeFile(t, filepath.Join(st.dir, "url.conf"), `
operator: "`+st.opFile+`"
system_account: `+st.sysPub+`
resolver: URL(`+srv.URL+`/jwt/v1/accounts/)
resolver_pinned_accounts: [`+st.aPub+`]
`)
	p := start(t, "-c", conf)
	a := p.connect(nats.UserCredentials(st.a1Creds))
	require.NoError(t, a.Flush())
	mu.Lock()
	require.Contains(t, fetched, st.aPub)
	mu.Unlock()
	// B is served by the account server but not pinned.
	_, err = p.dial(nats.UserCredentials(bCreds))
	require.ErrorIs(t, err, nats.ErrAuthorization)

	// An update pushed for A applies to it (the URL resolver keeps
	// nothing; the server applies it).
	sys := p.connect(nats.UserCredentials(st.sysCreds))
	time.Sleep(1100 * time.Millisecond)
	a2, errs := closedWith(t, p, nats.UserCredentials(st.a2Creds))
	require.NoError(t, a2.Flush())
	push(t, sys, "$SYS.REQ.ACCOUNT."+st.aPub+".CLAIMS.UPDATE", st.accountJWT(t, func(ac *jwt.AccountClaims) { ac.Limits.Conn = 1 }), st.aPub)
	waitErr(t, errs, "maximum account active connections exceeded")
}

// TestResolverCacheE2E: a server with a cache resolver fetches A from
// the full resolver of its cluster.
func TestResolverCacheE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers")
	}
	st := newResolverSetup(t)
	full := writeFile(t, filepath.Join(st.dir, "full.conf"), `
operator: "`+st.opFile+`"
system_account: `+st.sysPub+`
resolver: { type: full, dir: "`+filepath.Join(st.dir, "full")+`" }
resolver_preload: { `+st.sysPub+`: `+st.sysJWT+` }
`)
	cacheDir := filepath.Join(st.dir, "cache")
	cache := writeFile(t, filepath.Join(st.dir, "cache.conf"), `
operator: "`+st.opFile+`"
system_account: `+st.sysPub+`
resolver: { type: cache, dir: "`+cacheDir+`", ttl: "1h", limit: 10, timeout: "500ms" }
resolver_preload: { `+st.sysPub+`: `+st.sysJWT+` }
`)
	s1 := start(t, "-c", full, "--cluster_name", "res", "--cluster", "nats://127.0.0.1:-1")
	s1.waitLog("Listening for route connections on 127.0.0.1:")
	sys1 := s1.connect(nats.UserCredentials(st.sysCreds))
	push(t, sys1, "$SYS.REQ.CLAIMS.UPDATE", st.accountJWT(t, nil), st.aPub)
	s2 := start(t, "-c", cache, "--cluster_name", "res", "--cluster", "nats://127.0.0.1:-1", "--routes", s1.clusterURL())
	// The cache asks the cluster once the route is up.
	var a *nats.Conn
	servertest.WaitUntil(t, "a client of A on the cache server", func() bool {
		var err error
		// Refused (or timed out) until the route carries the lookup; the
		// client must not fail over to s1, which it learns of in INFO.
		a, err = s2.dial(nats.UserCredentials(st.a1Creds), nats.IgnoreDiscoveredServers())
		return err == nil
	})
	t.Cleanup(a.Close)
	require.Equal(t, s2.url(), a.ConnectedUrl())
	_, err := os.Stat(filepath.Join(cacheDir, st.aPub+".jwt"))
	require.NoError(t, err, "the cache keeps what it fetched")
}
