package auth_test

import (
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

// The user JWT a callout answers with carries its expiry into the
// Identity, in configuration mode too; its limits are not applied, as
// upstream does not apply them.
func TestCalloutIdentityLimits(t *testing.T) {
	f := newCalloutFixture(t, false)
	ex, req := f.exchange(t)
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	id, err := ex.Decide(f.answer(t, req, "APP", func(uc *jwt.UserClaims) {
		uc.Limits.Subs, uc.Limits.Payload, uc.Limits.Data = 3, 100, 1000
		uc.Expires = exp.Unix()
	}), known)
	require.NoError(t, err)
	require.NotNil(t, id.JWT)
	require.Equal(t, int64(-1), id.JWT.MaxSubs)
	require.Equal(t, int64(-1), id.JWT.MaxPayload)
	require.Equal(t, int64(-1), id.JWT.MaxData)
	require.True(t, id.JWT.Expires.Equal(exp), "expires %v", id.JWT.Expires)
	require.Equal(t, "APP", id.JWT.Account)

	// A connect time window ends the connection at its end.
	ex, req = f.exchange(t)
	now := time.Now().UTC()
	id, err = ex.Decide(f.answer(t, req, "APP", func(uc *jwt.UserClaims) {
		uc.Locale = "UTC"
		uc.Times = []jwt.TimeRange{{Start: now.Add(-time.Hour).Format("15:04:05"), End: now.Add(2 * time.Minute).Format("15:04:05")}}
	}), known)
	require.NoError(t, err)
	require.WithinDuration(t, now.Add(2*time.Minute), id.JWT.Expires, 2*time.Second)

	// Source networks: the request came from no address the JWT allows.
	ex, req = f.exchange(t)
	_, err = ex.Decide(f.answer(t, req, "APP", func(uc *jwt.UserClaims) { uc.Src.Set("10.0.0.0/8") }), known)
	require.ErrorContains(t, err, `Authorized user on account "AUTH" not allowed to connect from`)
}

// opCallout is an operator mode callout: account AUTH (with a JWT
// authorization section) and account APP it may place users in.
type opCallout struct {
	kit        *jwtKit
	auth, app  nkeys.KeyPair
	authPub    string
	appPub     string
	appSigner  nkeys.KeyPair
	keys       auth.CalloutKeys
	srvID      string
	calloutAcc *auth.Account
}

func newOpCallout(t testing.TB, allowed string) *opCallout {
	k := newJWTKit(t, nil)
	o := &opCallout{kit: k}
	o.auth, o.app = k.acc, mustKP(t)(nkeys.CreateAccount())
	o.authPub, _ = o.auth.PublicKey()
	o.appPub, _ = o.app.PublicKey()
	o.appSigner = mustKP(t)(nkeys.CreateAccount())
	svc, _ := mustKP(t)(nkeys.CreateUser()).PublicKey()
	k.setAccount(t, func(ac *jwt.AccountClaims) {
		ac.Authorization.AuthUsers.Add(svc)
		if allowed != "" {
			ac.Authorization.AllowedAccounts.Add(allowed)
		}
	})
	appc := jwt.NewAccountClaims(o.appPub)
	sp, _ := o.appSigner.PublicKey()
	appc.SigningKeys.Add(sp)
	tok, err := appc.Encode(k.op)
	require.NoError(t, err)
	appAcc, err := k.trust.DecodeAccount(tok)
	require.NoError(t, err)
	k.accs[o.appPub] = appAcc
	o.calloutAcc = k.accs[o.authPub]
	require.NotNil(t, o.calloutAcc.Callout)
	o.keys.Server = mustKP(t)(nkeys.CreateServer())
	o.srvID, _ = o.keys.Server.PublicKey()
	return o
}

func mustKP(t testing.TB) func(nkeys.KeyPair, error) nkeys.KeyPair {
	return func(kp nkeys.KeyPair, err error) nkeys.KeyPair {
		require.NoError(t, err)
		return kp
	}
}

// ask builds an exchange and answers it with a user JWT signed by
// signer (issuer_account set when issuerAccount is not ""), the response
// signed by respSigner.
func (o *opCallout) ask(t *testing.T, signer nkeys.KeyPair, issuerAccount string, respSigner nkeys.KeyPair) (*auth.Identity, error) {
	ex, err := o.calloutAcc.Callout.NewExchange(auth.CalloutServer{ID: o.srvID}, auth.CalloutClient{Kind: "Client", Type: "nats"},
		&auth.Request{RemoteAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}}, time.Second, o.keys)
	require.NoError(t, err)
	req, err := jwt.DecodeAuthorizationRequestClaims(string(ex.Payload()))
	require.NoError(t, err)
	require.Equal(t, o.authPub, req.Subject)
	uc := jwt.NewUserClaims(req.UserNkey)
	uc.IssuerAccount = issuerAccount
	uc.Limits.Subs = 5
	ujwt, err := uc.Encode(signer)
	require.NoError(t, err)
	rc := jwt.NewAuthorizationResponseClaims(req.UserNkey)
	rc.Audience = o.srvID
	rc.Jwt = ujwt
	tok, err := rc.Encode(respSigner)
	require.NoError(t, err)
	return ex.DecideJWT([]byte(tok), o.kit)
}

func TestCalloutOperatorMode(t *testing.T) {
	o := newOpCallout(t, "")
	// Issued by the callout account: the user lands there.
	id, err := o.ask(t, o.auth, "", o.auth)
	require.NoError(t, err)
	require.Equal(t, o.authPub, id.Account)
	require.Equal(t, o.authPub, id.JWT.Account)

	// Another account is refused unless allowed.
	_, err = o.ask(t, o.appSigner, o.appPub, o.auth)
	require.ErrorContains(t, err, "not permitted as valid account option for auth callout for account")
	// A response signed by a stranger is refused.
	_, err = o.ask(t, o.auth, "", o.app)
	require.ErrorContains(t, err, "Auth callout signing key is unknown")

	o = newOpCallout(t, "*")
	id, err = o.ask(t, o.appSigner, o.appPub, o.auth)
	require.NoError(t, err)
	require.Equal(t, o.appPub, id.Account)
	// Signed with a key the target account does not list.
	_, err = o.ask(t, o.auth, o.appPub, o.auth)
	require.ErrorContains(t, err, "User JWT issuer")
}

func TestDecodeAccountJetStreamLimits(t *testing.T) {
	k := newJWTKit(t, func(ac *jwt.AccountClaims) {
		ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: 1 << 20, DiskStorage: -1, Streams: 2, Consumer: -1}
	})
	pub, _ := k.acc.PublicKey()
	a := k.accs[pub]
	require.Equal(t, auth.JetStreamLimits{MaxMemory: 1 << 20, MaxStore: -1, MaxStreams: 2, MaxConsumers: -1,
		MaxAckPending: -1, MemoryMaxStreamBytes: -1, StoreMaxStreamBytes: -1}, a.Limits.JetStream[""])

	k.setAccount(t, func(ac *jwt.AccountClaims) {
		ac.Limits.JetStreamTieredLimits["R1"] = jwt.JetStreamLimits{DiskStorage: 1000, Streams: 1, Consumer: 1}
	})
	a = k.accs[pub]
	require.Len(t, a.Limits.JetStream, 1)
	require.Equal(t, int64(1000), a.Limits.JetStream["R1"].MaxStore)

	k.setAccount(t, nil) // JetStream off by default
	require.Nil(t, k.accs[pub].Limits.JetStream)
	require.Nil(t, k.accs[pub].Callout)
}

// ExampleCalloutExchange_DecideJWT shows an operator mode callout: the
// account JWT's authorization section is Account.Callout; the service
// answers with a user JWT the account signs.
func ExampleCalloutExchange_DecideJWT() {
	opKP, _ := nkeys.CreateOperator()
	opPub, _ := opKP.PublicKey()
	opJWT, _ := jwt.NewOperatorClaims(opPub).Encode(opKP)
	op, _ := auth.DecodeOperator(opJWT)
	trust, _ := auth.NewTrust([]*auth.Operator{op}, nil)

	accKP, _ := nkeys.CreateAccount()
	accPub, _ := accKP.PublicKey()
	svcKP, _ := nkeys.CreateUser()
	svcPub, _ := svcKP.PublicKey()
	ac := jwt.NewAccountClaims(accPub)
	ac.Authorization.AuthUsers.Add(svcPub) // the service bypasses the callout
	accJWT, _ := ac.Encode(opKP)
	acc, _ := trust.DecodeAccount(accJWT)

	serverKey, _ := nkeys.CreateServer()
	serverID, _ := serverKey.PublicKey()
	ex, _ := acc.Callout.NewExchange(auth.CalloutServer{ID: serverID}, auth.CalloutClient{Kind: "Client", Type: "nats"},
		&auth.Request{User: "alice", Password: "secret"}, 2*time.Second, auth.CalloutKeys{Server: serverKey})

	// The service (normally over NATS, on auth.CalloutSubject in the account):
	req, _ := jwt.DecodeAuthorizationRequestClaims(string(ex.Payload()))
	uc := jwt.NewUserClaims(req.UserNkey)
	uc.Name = req.ConnectOptions.Username
	ujwt, _ := uc.Encode(accKP)
	rc := jwt.NewAuthorizationResponseClaims(req.UserNkey)
	rc.Audience = req.Server.ID
	rc.Jwt = ujwt
	resp, _ := rc.Encode(accKP)

	accounts := sourceFunc(func(pub string) (*auth.Account, error) { return acc, nil })
	id, err := ex.DecideJWT([]byte(resp), accounts)
	fmt.Println(acc.Callout.IsAuthUser(svcPub), id.Name, id.Account == accPub, err)
	// Output: true alice true <nil>
}

// FuzzCalloutDecideJWT feeds arbitrary responses to an operator mode
// callout: an error or an identity, never a panic.
func FuzzCalloutDecideJWT(f *testing.F) {
	f.Add([]byte("eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.x"))
	f.Add([]byte{})
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, resp []byte) {
		o := newOpCallout(t, "*")
		ex, err := o.calloutAcc.Callout.NewExchange(auth.CalloutServer{ID: o.srvID}, auth.CalloutClient{}, &auth.Request{}, time.Second, o.keys)
		require.NoError(t, err)
		id, err := ex.DecideJWT(resp, o.kit)
		if (id == nil) == (err == nil) {
			t.Fatalf("id %v, err %v", id, err)
		}
		if err != nil && !errors.Is(err, auth.ErrAuthorization) {
			t.Fatalf("error %v does not wrap ErrAuthorization", err)
		}
	})
}
