package auth_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"natsd.dev/auth"
	"natsd.dev/confparse"
)

const (
	testIssuer = "ABJHLOVMPA4CI6R5KLNGOB4GSLNIY7IOUPAJC4YFNDLQVIOBYQGUWVLA"
	testXKey   = "XAVE5PNFT3ZWFH6LBNFIQIAHGYPGJF4ZE2ACDYOELRMU7B5J7PUTK5IQ"
)

func TestParseAuthCallout(t *testing.T) {
	c, err := auth.ParseAuthorization(authBlock(t, `authorization {
  users: [ { user: auth, password: pwd } ]
  auth_callout {
    issuer: `+testIssuer+`
    auth_users: [ auth ]
    account: AUTH
    xkey: `+testXKey+`
    allowed_accounts: [ A, B ]
  }
}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &auth.Callout{Issuer: testIssuer, Account: "AUTH", AuthUsers: []string{"auth"}, XKey: testXKey, AllowedAccounts: []string{"A", "B"}}
	if !reflect.DeepEqual(c.Callout, want) {
		t.Fatalf("got %+v, want %+v", c.Callout, want)
	}
	if !c.Callout.IsAuthUser("auth") || c.Callout.IsAuthUser("alice") || c.Callout.IsAuthUser("") {
		t.Fatal("IsAuthUser")
	}
	if !c.Callout.Delegates("A") || c.Callout.Delegates("C") || !c.Callout.Delegates("") {
		t.Fatal("Delegates")
	}

	// Upstream's short keys; the account defaults to the global one.
	c, err = auth.ParseAuthorization(authBlock(t, "authorization { auth_hook { issuer: "+testIssuer+", users: [a], key: "+testXKey+" } }"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Callout.Account != "$G" || c.Callout.XKey != testXKey || len(c.Callout.AuthUsers) != 1 {
		t.Fatalf("got %+v", c.Callout)
	}
	// The callout alone requires authentication.
	chain, err := c.Chain(false)
	if err != nil || chain == nil {
		t.Fatalf("chain %v, %v: want a non-nil chain", chain, err)
	}
}

func TestParseAuthCalloutErrors(t *testing.T) {
	tests := []struct {
		conf string
		want []string
	}{
		{"authorization {\n  auth_callout: true\n}", []string{
			"test.conf:2:3: Expected authorization callout to be a map/struct, got true"}},
		{"authorization {\n  auth_callout { issuer: UABC, auth_users: [a] }\n}", []string{
			`test.conf:2:18: Expected callout user to be a valid public account nkey, got "UABC"`}},
		{"authorization {\n  auth_callout { issuer: " + testIssuer + ", auth_users: [a], xkey: nope }\n}", []string{
			`test.conf:2:101: Expected callout xkey to be a valid public xkey, got "nope"`}},
		{"authorization {\n  auth_callout { auth_users: [a] }\n}", []string{
			"test.conf:2:18: Authorization callouts require an issuer to be specified"}},
		{"authorization {\n  auth_callout { issuer: " + testIssuer + " }\n}", []string{
			"test.conf:2:18: Authorization callouts require authorized users to be specified"}},
		{"authorization {\n  auth_callout { issuer: " + testIssuer + ", auth_users: a }\n}", []string{
			"test.conf:2:96: Expected auth_users field to be an array, got string \"a\""}},
		{"authorization {\n  auth_callout { issuer: " + testIssuer + ", auth_users: [a], colour: 1 }\n}", []string{
			`test.conf:2:101: Unknown field "colour" parsing authorization callout`}},
	}
	for _, tt := range tests {
		_, err := auth.ParseAuthorization(authBlock(t, tt.conf))
		var list confparse.ErrorList
		if !errors.As(err, &list) {
			t.Fatalf("%s: error %v is not an ErrorList", tt.conf, err)
		}
		var got []string
		for _, e := range list {
			got = append(got, e.Error())
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\ngot\n\t%s\nwant\n\t%s", tt.conf, strings.Join(got, "\n\t"), strings.Join(tt.want, "\n\t"))
		}
	}
}

// calloutFixture is a callout configuration with its keys.
type calloutFixture struct {
	cfg    *auth.Callout
	issuer nkeys.KeyPair // the service's account key
	svcX   nkeys.KeyPair // the service's curve key
	keys   auth.CalloutKeys
	srvID  string
}

func newCalloutFixture(tb testing.TB, encrypt bool) *calloutFixture {
	tb.Helper()
	must := func(kp nkeys.KeyPair, err error) nkeys.KeyPair {
		if err != nil {
			tb.Fatal(err)
		}
		return kp
	}
	f := &calloutFixture{issuer: must(nkeys.CreateAccount())}
	f.keys.Server = must(nkeys.CreateServer())
	f.srvID, _ = f.keys.Server.PublicKey()
	issuer, _ := f.issuer.PublicKey()
	f.cfg = &auth.Callout{Issuer: issuer, Account: "AUTH", AuthUsers: []string{"auth"}}
	if encrypt {
		f.svcX = must(nkeys.CreateCurveKeys())
		f.keys.XKey = must(nkeys.CreateCurveKeys())
		f.cfg.XKey, _ = f.svcX.PublicKey()
	}
	return f
}

// exchange builds a request for alice/secret and returns it with the
// request claims the service reads.
func (f *calloutFixture) exchange(tb testing.TB) (*auth.CalloutExchange, *jwt.AuthorizationRequestClaims) {
	tb.Helper()
	ex, err := f.cfg.NewExchange(auth.CalloutServer{Name: "n1", ID: f.srvID, Version: "2.15.2"},
		auth.CalloutClient{Host: "127.0.0.1", ID: 7, Name: "app", Kind: "Client", Type: "nats"},
		&auth.Request{User: "alice", Password: "secret"}, time.Second, f.keys)
	if err != nil {
		tb.Fatal(err)
	}
	payload := ex.Payload()
	if f.svcX != nil {
		if payload, err = f.svcX.Open(payload, ex.XKeyHeader()); err != nil {
			tb.Fatal(err)
		}
	}
	req, err := jwt.DecodeAuthorizationRequestClaims(string(payload))
	if err != nil {
		tb.Fatal(err)
	}
	return ex, req
}

// answer is the service's response granting account with fill applied.
func (f *calloutFixture) answer(tb testing.TB, req *jwt.AuthorizationRequestClaims, account string, fill func(*jwt.UserClaims)) []byte {
	tb.Helper()
	uc := jwt.NewUserClaims(req.UserNkey)
	uc.Audience = account
	if fill != nil {
		fill(uc)
	}
	ujwt, err := uc.Encode(f.issuer)
	if err != nil {
		tb.Fatal(err)
	}
	rc := jwt.NewAuthorizationResponseClaims(req.UserNkey)
	rc.Audience = req.Server.ID
	rc.Jwt = ujwt
	tok, err := rc.Encode(f.issuer)
	if err != nil {
		tb.Fatal(err)
	}
	out := []byte(tok)
	if f.svcX != nil {
		if out, err = f.svcX.Seal(out, req.Server.XKey); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

func known(name string) bool { return name == "APP" || name == "AUTH" }

func TestCalloutExchange(t *testing.T) {
	for _, encrypt := range []bool{false, true} {
		f := newCalloutFixture(t, encrypt)
		ex, req := f.exchange(t)
		if req.Issuer != f.srvID || req.Audience != "nats-authorization-request" || req.Subject != f.cfg.Issuer ||
			req.UserNkey != ex.UserKey() || req.ConnectOptions.Username != "alice" || req.ClientInformation.ID != 7 {
			t.Fatalf("request %+v", req)
		}
		if (ex.XKeyHeader() != "") != encrypt || (req.Server.XKey != "") != encrypt {
			t.Fatal("xkey header")
		}
		id, err := ex.Decide(f.answer(t, req, "APP", func(uc *jwt.UserClaims) {
			uc.Name = "alice"
			uc.Pub.Allow.Add("app.>")
			uc.Resp = &jwt.ResponsePermission{}
		}), known)
		if err != nil {
			t.Fatal(err)
		}
		if id.Name != "alice" || id.Account != "APP" || id.Checker.CanPublish([]byte("x")) || !id.Checker.CanPublish([]byte("app.1")) {
			t.Fatalf("identity %+v", id)
		}
		// A user JWT with connect times admits within them.
		ex, req = f.exchange(t)
		if _, err := ex.Decide(f.answer(t, req, "APP", func(uc *jwt.UserClaims) {
			uc.Locale = "UTC"
			now := time.Now().UTC()
			uc.Times = []jwt.TimeRange{{Start: now.Add(-time.Hour).Format("15:04:05"), End: now.Add(time.Hour).Format("15:04:05")}}
		}), known); err != nil {
			t.Fatal(err)
		}
		if r := id.Checker.Response(); r == nil || r.MaxMsgs != auth.DefaultResponseMaxMsgs || r.Expires != auth.DefaultResponseExpires {
			t.Fatalf("response permission %+v", r)
		}
	}
}

func TestCalloutExchangeRejects(t *testing.T) {
	f := newCalloutFixture(t, false)
	other, _ := nkeys.CreateAccount()
	tests := []struct {
		name string
		resp func(req *jwt.AuthorizationRequestClaims) []byte
		want string
	}{
		{"empty", func(*jwt.AuthorizationRequestClaims) []byte { return nil },
			`Auth callout violation: "no reason supplied" on account "AUTH"`},
		{"garbage", func(*jwt.AuthorizationRequestClaims) []byte { return []byte("garbage") }, ""},
		{"unknown account", func(req *jwt.AuthorizationRequestClaims) []byte { return f.answer(t, req, "NOPE", nil) },
			`No valid account "NOPE" for auth callout response on account "AUTH": account missing`},
		{"connection type", func(req *jwt.AuthorizationRequestClaims) []byte {
			return f.answer(t, req, "APP", func(uc *jwt.UserClaims) { uc.AllowedConnectionTypes.Add("WEBSOCKET") })
		}, `Authorized user on account "AUTH" not allowed to use connection type`},
		{"wrong signer", func(req *jwt.AuthorizationRequestClaims) []byte {
			uc := jwt.NewUserClaims(req.UserNkey)
			uc.Audience = "APP"
			ujwt, _ := uc.Encode(other)
			rc := jwt.NewAuthorizationResponseClaims(req.UserNkey)
			rc.Audience, rc.Jwt = req.Server.ID, ujwt
			tok, _ := rc.Encode(f.issuer)
			return []byte(tok)
		}, "Wrong issuer for auth callout response on account \"AUTH\""},
		{"not for server", func(req *jwt.AuthorizationRequestClaims) []byte {
			kp, _ := nkeys.CreateServer()
			req.Server.ID, _ = kp.PublicKey()
			return f.answer(t, req, "APP", nil)
		}, "Auth callout violation: auth callout response is not for server"},
		{"connect times", func(req *jwt.AuthorizationRequestClaims) []byte {
			return f.answer(t, req, "APP", func(uc *jwt.UserClaims) {
				// A one-second window twelve hours away.
				at := time.Now().UTC().Add(12 * time.Hour)
				uc.Locale = "UTC"
				uc.Times = []jwt.TimeRange{{Start: at.Format("15:04:05"), End: at.Add(time.Second).Format("15:04:05")}}
			})
		}, `Authorized user on account "AUTH" outside of valid connect times`},
		{"service error", func(req *jwt.AuthorizationRequestClaims) []byte {
			rc := jwt.NewAuthorizationResponseClaims(req.UserNkey)
			rc.Audience, rc.Error = req.Server.ID, "nope"
			tok, _ := rc.Encode(f.issuer)
			return []byte(tok)
		}, "Auth callout service returned an error: nope"},
	}
	for _, tt := range tests {
		ex, req := f.exchange(t)
		_, err := ex.Decide(tt.resp(req), known)
		var ce *auth.CalloutError
		if !errors.As(err, &ce) || !errors.Is(err, auth.ErrAuthorization) {
			t.Fatalf("%s: error %v is not a CalloutError wrapping ErrAuthorization", tt.name, err)
		}
		if !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, err, tt.want)
		}
	}
}

// ExampleCallout_NewExchange shows a callout round trip: the server builds
// the request, a service answers with a user JWT, the server decides.
func ExampleCallout_NewExchange() {
	issuer, _ := nkeys.CreateAccount() // the service's account key
	issuerPub, _ := issuer.PublicKey()
	serverKey, _ := nkeys.CreateServer()
	serverID, _ := serverKey.PublicKey()
	co := &auth.Callout{Issuer: issuerPub, Account: "AUTH", AuthUsers: []string{"auth"}}

	ex, _ := co.NewExchange(auth.CalloutServer{ID: serverID}, auth.CalloutClient{Kind: "Client", Type: "nats"},
		&auth.Request{User: "alice", Password: "secret"}, 2*time.Second, auth.CalloutKeys{Server: serverKey})

	// The service (normally over NATS, on auth.CalloutSubject):
	req, _ := jwt.DecodeAuthorizationRequestClaims(string(ex.Payload()))
	uc := jwt.NewUserClaims(req.UserNkey)
	uc.Audience = "APP" // the account the user goes to
	uc.Name = req.ConnectOptions.Username
	uc.Sub.Allow.Add("app.>")
	ujwt, _ := uc.Encode(issuer)
	rc := jwt.NewAuthorizationResponseClaims(req.UserNkey)
	rc.Audience = req.Server.ID
	rc.Jwt = ujwt
	resp, _ := rc.Encode(issuer)

	id, err := ex.Decide([]byte(resp), func(name string) bool { return name == "APP" })
	fmt.Println(id.Name, id.Account, id.Checker.CanSubscribe("app.x", ""), id.Checker.CanSubscribe("other", ""), err)
	// Output: alice APP true false <nil>
}

// BenchmarkCalloutExchange is the server's CPU per callout: building and
// signing the request, checking the response.
func BenchmarkCalloutExchange(b *testing.B) {
	for _, encrypt := range []bool{false, true} {
		b.Run(fmt.Sprintf("xkey=%v", encrypt), func(b *testing.B) {
			f := newCalloutFixture(b, encrypt)
			_, req := f.exchange(b)
			b.ReportAllocs()
			for b.Loop() {
				ex, err := f.cfg.NewExchange(auth.CalloutServer{ID: f.srvID}, auth.CalloutClient{},
					&auth.Request{User: "alice", Password: "secret"}, time.Second, f.keys)
				if err != nil {
					b.Fatal(err)
				}
				req.UserNkey = ex.UserKey()
				b.StopTimer()
				resp := f.answer(b, req, "APP", nil)
				b.StartTimer()
				if _, err := ex.Decide(resp, known); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzCalloutDecide feeds arbitrary responses to Decide: whatever a
// service answers is an error or an identity, never a panic.
func FuzzCalloutDecide(f *testing.F) {
	fx := newCalloutFixture(f, false)
	_, req := fx.exchange(f)
	f.Add(fx.answer(f, req, "APP", nil))
	f.Add([]byte("eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.x"))
	f.Add([]byte{})
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, resp []byte) {
		ex, _ := fx.exchange(t)
		id, err := ex.Decide(resp, known)
		if (id == nil) == (err == nil) {
			t.Fatalf("id %v, err %v", id, err)
		}
		if err != nil && !errors.Is(err, auth.ErrAuthorization) {
			t.Fatalf("error %v does not wrap ErrAuthorization", err)
		}
	})
}
