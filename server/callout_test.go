package server_test

import (
	"encoding/json"
	"errors"
	"fmt"
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

// calloutService is an auth callout service as users write them: a
// nats.go client of the callout account answering $SYS.REQ.USER.AUTH
// with responses signed by the issuer account key.
type calloutService struct {
	issuer nkeys.KeyPair // signs responses and user JWTs
	xkp    nkeys.KeyPair // the service's curve key; nil: plain requests
	// answer returns the reply payload (before encryption) for a request.
	answer func(req *jwt.AuthorizationRequestClaims) []byte
	reqs   chan *jwt.AuthorizationRequestClaims
	errs   chan error
}

func newCalloutService(t testing.TB) *calloutService {
	t.Helper()
	kp, err := nkeys.CreateAccount()
	require.NoError(t, err)
	return &calloutService{issuer: kp, reqs: make(chan *jwt.AuthorizationRequestClaims, 16), errs: make(chan error, 16)}
}

func (cs *calloutService) issuerKey(t testing.TB) string {
	pub, err := cs.issuer.PublicKey()
	require.NoError(t, err)
	return pub
}

// serve connects to s as an auth user and answers requests.
func (cs *calloutService) serve(t testing.TB, s *server.Server, user, pass string) *nats.Conn {
	t.Helper()
	nc := servertest.Connect(t, s, nats.UserInfo(user, pass))
	_, err := nc.Subscribe("$SYS.REQ.USER.AUTH", func(m *nats.Msg) {
		data := m.Data
		serverXKey := m.Header.Get("Nats-Server-Xkey")
		if cs.xkp != nil {
			if serverXKey == "" {
				cs.errs <- errors.New("encrypted request without Nats-Server-Xkey")
				return
			}
			var err error
			if data, err = cs.xkp.Open(data, serverXKey); err != nil {
				cs.errs <- err
				return
			}
		}
		req, err := jwt.DecodeAuthorizationRequestClaims(string(data))
		if err != nil {
			cs.errs <- err
			return
		}
		cs.reqs <- req
		out := cs.answer(req)
		if cs.xkp != nil && len(out) > 0 {
			if out, err = cs.xkp.Seal(out, serverXKey); err != nil {
				cs.errs <- err
				return
			}
		}
		_ = m.Respond(out)
	})
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	return nc
}

// grant returns a response admitting the request's user into account with
// the user claims fill sets, signed by signer (the issuer when nil).
func (cs *calloutService) grant(req *jwt.AuthorizationRequestClaims, account string, signer nkeys.KeyPair, fill func(uc *jwt.UserClaims)) []byte {
	if signer == nil {
		signer = cs.issuer
	}
	uc := jwt.NewUserClaims(req.UserNkey)
	uc.Audience = account
	if fill != nil {
		fill(uc)
	}
	ujwt, err := uc.Encode(signer)
	if err != nil {
		return []byte(err.Error())
	}
	return cs.respond(req, ujwt, "")
}

func (cs *calloutService) respond(req *jwt.AuthorizationRequestClaims, ujwt, errText string) []byte {
	rc := jwt.NewAuthorizationResponseClaims(req.UserNkey)
	rc.Audience = req.Server.ID
	rc.Jwt, rc.Error = ujwt, errText
	tok, err := rc.Encode(cs.issuer)
	if err != nil {
		return []byte(err.Error())
	}
	return []byte(tok)
}

func calloutConfig(issuer, extra string) string {
	return fmt.Sprintf(`
accounts {
  AUTH { users: [ { user: auth, password: pwd } ] }
  APP {}
}
authorization {
  timeout: 1
  auth_callout {
    issuer: %s
    auth_users: [ auth ]
    account: AUTH
    %s
  }
}
`, issuer, extra)
}

// aliceOnly admits alice/secret into APP with permissions on app.>.
func aliceOnly(cs *calloutService) func(req *jwt.AuthorizationRequestClaims) []byte {
	return func(req *jwt.AuthorizationRequestClaims) []byte {
		co := req.ConnectOptions
		if co.Username != "alice" || co.Password != "secret" {
			return cs.respond(req, "", "bad credentials")
		}
		return cs.grant(req, "APP", nil, func(uc *jwt.UserClaims) {
			uc.Name = "alice"
			uc.Pub.Allow.Add("app.>")
			uc.Sub.Allow.Add("app.>")
		})
	}
}

func TestCalloutAdmitsWithPermissions(t *testing.T) {
	cs := newCalloutService(t)
	cs.answer = aliceOnly(cs)
	s, logs := servertest.StartWithLogs(t, servertest.ConfigOptions(t, calloutConfig(cs.issuerKey(t), "")))
	cs.serve(t, s, "auth", "pwd")

	errs := make(chan error, 4)
	nc := servertest.Connect(t, s, nats.UserInfo("alice", "secret"), nats.Name("app-client"),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	req := <-cs.reqs
	require.Equal(t, s.ID(), req.Server.ID)
	require.Equal(t, s.ID(), req.Issuer, "signed by the server's key")
	require.Equal(t, "nats-authorization-request", req.Audience)
	require.Equal(t, cs.issuerKey(t), req.Subject)
	require.True(t, nkeys.IsValidPublicUserKey(req.UserNkey))
	require.Equal(t, "alice", req.ConnectOptions.Username)
	require.Equal(t, "secret", req.ConnectOptions.Password)
	require.Equal(t, "app-client", req.ClientInformation.Name)
	require.Equal(t, "127.0.0.1", req.ClientInformation.Host)
	require.Equal(t, "Client", req.ClientInformation.Kind)
	require.Equal(t, "nats", req.ClientInformation.Type)
	require.NotZero(t, req.Expires)

	// Bound to APP: it meets APP's subscribers, with its permissions.
	sub, err := nc.SubscribeSync("app.x")
	require.NoError(t, err)
	require.NoError(t, nc.Publish("app.x", []byte("hi")))
	require.Equal(t, "hi", string(servertest.NextMsg(t, sub).Data))
	require.NoError(t, nc.Publish("other", nil))
	select {
	case err := <-errs:
		require.Contains(t, err.Error(), `Permissions Violation for Publish to "other"`)
	case <-time.After(servertest.DefaultWait):
		t.Fatal("no permissions violation")
	}
	cz, err := s.Connz(&snapshot.ConnzOptions{Username: true})
	require.NoError(t, err)
	found := false
	for _, ci := range cz.Conns {
		if ci.Name == "app-client" {
			found = true
			require.Equal(t, "APP", ci.Account)
			require.Equal(t, "alice", ci.AuthorizedUser)
		}
	}
	require.True(t, found, "alice in connz")
	require.False(t, logs.Contains("authentication error"), logs.String())
}

func TestCalloutAuthUsersBypass(t *testing.T) {
	cs := newCalloutService(t)
	cs.answer = aliceOnly(cs)
	s := servertest.StartConfig(t, calloutConfig(cs.issuerKey(t), ""))
	svc := cs.serve(t, s, "auth", "pwd") // no callout for the service itself
	select {
	case req := <-cs.reqs:
		t.Fatalf("auth user went through the callout: %+v", req.ConnectOptions)
	default:
	}
	// Clients of the callout account may not publish requests to it.
	errs := make(chan error, 1)
	nc := servertest.Connect(t, s, nats.UserInfo("auth", "pwd"),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	require.NoError(t, nc.Publish("$SYS.REQ.USER.AUTH", []byte("x")))
	select {
	case err := <-errs:
		require.Contains(t, err.Error(), `Permissions Violation for Publish to "$SYS.REQ.USER.AUTH"`)
	case <-time.After(servertest.DefaultWait):
		t.Fatal("no permissions violation")
	}
	require.True(t, svc.IsConnected())
}

// rejected connects with user/pass and expects Authorization Violation
// and the log line.
func rejected(t *testing.T, s *server.Server, logs *servertest.Logs, user, pass, logLine string) {
	t.Helper()
	_, err := nats.Connect(s.ClientURL(), nats.UserInfo(user, pass), nats.NoReconnect(), nats.Timeout(5*time.Second))
	require.Error(t, err)
	require.Contains(t, strings.ToLower(err.Error()), "authorization violation")
	logs.WaitFor(t, logLine)
}

// timedOut is rejected for a service that does not answer in time: the
// callout waits as long as the client's auth timer runs, so the client
// learns of whichever fires first, as with upstream.
func timedOut(t *testing.T, s *server.Server, logs *servertest.Logs, user, pass string) {
	t.Helper()
	_, err := nats.Connect(s.ClientURL(), nats.UserInfo(user, pass), nats.NoReconnect(), nats.Timeout(5*time.Second))
	require.Error(t, err)
	msg := strings.ToLower(err.Error())
	require.True(t, strings.Contains(msg, "authorization violation") || strings.Contains(msg, "authentication timeout"), msg)
	logs.WaitFor(t, `Authorization callout response not received in time on account "AUTH"`)
}

func TestCalloutRejects(t *testing.T) {
	other, err := nkeys.CreateAccount()
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		answer func(cs *calloutService, req *jwt.AuthorizationRequestClaims) []byte
		log    string
	}{
		{"wrong password", func(cs *calloutService, req *jwt.AuthorizationRequestClaims) []byte {
			return aliceOnly(cs)(req)
		}, "Auth callout service returned an error: bad credentials"},
		{"garbage", func(*calloutService, *jwt.AuthorizationRequestClaims) []byte {
			return []byte("garbage")
		}, "authentication error"},
		{"empty", func(*calloutService, *jwt.AuthorizationRequestClaims) []byte {
			return nil
		}, `Auth callout violation: "no reason supplied" on account "AUTH"`},
		{"unknown account", func(cs *calloutService, req *jwt.AuthorizationRequestClaims) []byte {
			return cs.grant(req, "NOPE", nil, nil)
		}, `No valid account "NOPE" for auth callout response on account "AUTH": account missing`},
		{"wrong signer", func(cs *calloutService, req *jwt.AuthorizationRequestClaims) []byte {
			return cs.grant(req, "APP", other, nil)
		}, `Wrong issuer for auth callout response on account "AUTH"`},
		{"other user", func(cs *calloutService, req *jwt.AuthorizationRequestClaims) []byte {
			ukp, _ := nkeys.CreateUser()
			pub, _ := ukp.PublicKey()
			req.UserNkey = pub
			return cs.grant(req, "APP", nil, nil)
		}, "Auth callout violation: auth callout response is not for expected user"},
		{"expired", func(cs *calloutService, req *jwt.AuthorizationRequestClaims) []byte {
			return cs.grant(req, "APP", nil, func(uc *jwt.UserClaims) { uc.Expires = time.Now().Add(-time.Hour).Unix() })
		}, "Error validating user JWT: claim is expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := newCalloutService(t)
			cs.answer = func(req *jwt.AuthorizationRequestClaims) []byte { return tc.answer(cs, req) }
			s, logs := servertest.StartWithLogs(t, servertest.ConfigOptions(t, calloutConfig(cs.issuerKey(t), "")))
			cs.serve(t, s, "auth", "pwd")
			rejected(t, s, logs, "alice", "wrong", tc.log)
		})
	}
}

func TestCalloutTimeout(t *testing.T) {
	cs := newCalloutService(t)
	release := make(chan struct{})
	grant := aliceOnly(cs)
	first := true
	cs.answer = func(req *jwt.AuthorizationRequestClaims) []byte {
		if first { // the first answer comes too late (nats.go runs handlers in order)
			first = false
			<-release
		}
		return grant(req)
	}
	s, logs := servertest.StartWithLogs(t, servertest.ConfigOptions(t, calloutConfig(cs.issuerKey(t), "")))
	cs.serve(t, s, "auth", "pwd")
	start := time.Now()
	timedOut(t, s, logs, "alice", "secret")
	require.Less(t, time.Since(start), 5*time.Second)
	// The late grant is dropped; the next client is asked and answered
	// on its own.
	close(release)
	nc := servertest.Connect(t, s, nats.UserInfo("alice", "secret"))
	require.NoError(t, nc.Flush())
	<-cs.reqs
	<-cs.reqs
	cz, err := s.Connz(&snapshot.ConnzOptions{Username: true, Account: "APP"})
	require.NoError(t, err)
	require.Len(t, cz.Conns, 1, "only the second client is in APP")
}

func TestCalloutNoService(t *testing.T) {
	cs := newCalloutService(t)
	s, logs := servertest.StartWithLogs(t, servertest.ConfigOptions(t, calloutConfig(cs.issuerKey(t), "")))
	timedOut(t, s, logs, "alice", "secret")
}

func TestCalloutXKey(t *testing.T) {
	cs := newCalloutService(t)
	xkp, err := nkeys.CreateCurveKeys()
	require.NoError(t, err)
	cs.xkp = xkp
	xpub, err := xkp.PublicKey()
	require.NoError(t, err)
	cs.answer = aliceOnly(cs)
	s := servertest.StartConfig(t, calloutConfig(cs.issuerKey(t), "xkey: "+xpub))
	cs.serve(t, s, "auth", "pwd")
	nc := servertest.Connect(t, s, nats.UserInfo("alice", "secret"))
	req := <-cs.reqs
	require.True(t, nkeys.IsValidPublicCurveKey(req.Server.XKey), "request names the server's xkey")
	// INFO advertises the same key, as upstream's "xkey".
	var info struct {
		XKey string `json:"xkey"`
	}
	line := servertest.DialClient(t, s).Info
	require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(line, "INFO ")), &info), line)
	require.Equal(t, req.Server.XKey, info.XKey)
	sub, err := nc.SubscribeSync("app.y")
	require.NoError(t, err)
	require.NoError(t, nc.Publish("app.y", []byte("sealed")))
	require.Equal(t, "sealed", string(servertest.NextMsg(t, sub).Data))
	select {
	case err := <-cs.errs:
		t.Fatal(err)
	default:
	}
}

// A front end's user (an MQTT client attached as a session) goes through
// the callout too, as upstream's MQTT clients do.
func TestCalloutSession(t *testing.T) {
	cs := newCalloutService(t)
	cs.answer = aliceOnly(cs)
	s := servertest.StartConfig(t, calloutConfig(cs.issuerKey(t), ""))
	cs.serve(t, s, "auth", "pwd")
	sess, err := s.Attach(server.SessionOptions{User: "alice", Password: "secret", ConnKind: auth.KindMQTT, Type: "mqtt", MQTTClient: "dev-1"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sess.Close() })
	require.Equal(t, "APP", sess.Account())
	require.Equal(t, "alice", sess.User())
	req := <-cs.reqs
	require.Equal(t, "mqtt", req.ClientInformation.Type)
	require.Equal(t, "dev-1", req.ClientInformation.MQTT)
	require.True(t, sess.MayPublish("app.x"))
	require.False(t, sess.MayPublish("other"))

	_, err = s.Attach(server.SessionOptions{User: "alice", Password: "wrong", ConnKind: auth.KindMQTT, Type: "mqtt"})
	require.Error(t, err)
}

// BenchmarkCalloutConnect is a client's connect through the callout,
// handshake to the first PONG, with the service in the same process.
func BenchmarkCalloutConnect(b *testing.B) {
	cs := newCalloutService(b)
	cs.reqs = make(chan *jwt.AuthorizationRequestClaims, 1)
	answer := aliceOnly(cs)
	cs.answer = func(req *jwt.AuthorizationRequestClaims) []byte {
		select {
		case <-cs.reqs: // keep the channel from filling
		default:
		}
		return answer(req)
	}
	s := servertest.StartConfig(b, calloutConfig(cs.issuerKey(b), ""))
	cs.serve(b, s, "auth", "pwd")
	b.ReportAllocs()
	for b.Loop() {
		nc, err := nats.Connect(s.ClientURL(), nats.UserInfo("alice", "secret"), nats.NoReconnect())
		if err != nil {
			b.Fatal(err)
		}
		nc.Close()
	}
}

// allowed_accounts limits the callout to the users of those accounts (and
// clients that are no configured user); it must name existing accounts.
func TestCalloutAllowedAccounts(t *testing.T) {
	cs := newCalloutService(t)
	cs.answer = aliceOnly(cs)
	conf := `
accounts {
  AUTH { users: [ { user: auth, password: pwd } ] }
  APP {}
  LOCAL { users: [ { user: local, password: lpwd } ] }
  OTHER { users: [ { user: other, password: opwd } ] }
}
authorization {
  auth_callout {
    issuer: ` + cs.issuerKey(t) + `
    auth_users: [ auth ]
    account: AUTH
    allowed_accounts: [ OTHER ]
  }
}
`
	s := servertest.StartConfig(t, conf)
	cs.serve(t, s, "auth", "pwd")
	servertest.Connect(t, s, nats.UserInfo("local", "lpwd")) // LOCAL is not delegated
	servertest.Connect(t, s, nats.UserInfo("alice", "secret"))
	require.Equal(t, "alice", (<-cs.reqs).ConnectOptions.Username)
	_, err := nats.Connect(s.ClientURL(), nats.UserInfo("other", "opwd"), nats.NoReconnect())
	require.Error(t, err, "OTHER's users go through the callout, which refuses them")
	require.Equal(t, "other", (<-cs.reqs).ConnectOptions.Username)

	_, err = server.New(servertest.ConfigOptions(t, strings.Replace(conf, "[ OTHER ]", "[ NOPE ]", 1)))
	require.ErrorIs(t, err, server.ErrBadOptions)
	require.ErrorContains(t, err, `auth_callout allowed account "NOPE" not found in configured accounts`)
}

// A reload keeps the clients the callout admitted (their user is no
// configured one) and asks the callout for new ones.
func TestCalloutReloadKeepsClients(t *testing.T) {
	cs := newCalloutService(t)
	cs.answer = aliceOnly(cs)
	conf := calloutConfig(cs.issuerKey(t), "")
	s := servertest.StartConfig(t, conf)
	cs.serve(t, s, "auth", "pwd")
	alice := servertest.Connect(t, s, nats.UserInfo("alice", "secret"))
	<-cs.reqs
	sub, err := alice.SubscribeSync("app.x")
	require.NoError(t, err)

	require.NoError(t, s.Reload(servertest.ConfigOptions(t, strings.Replace(conf, "timeout: 1", "timeout: 1.5", 1))))
	require.NoError(t, alice.Publish("app.x", []byte("still here")))
	require.Equal(t, "still here", string(servertest.NextMsg(t, sub).Data))
	require.False(t, alice.IsClosed())
	servertest.Connect(t, s, nats.UserInfo("alice", "secret"))
	require.Equal(t, "alice", (<-cs.reqs).ConnectOptions.Username)
}

// A TLS client's request carries its TLS version, cipher and verified
// certificate chain, PEM encoded.
func TestCalloutTLSInfo(t *testing.T) {
	cs := newCalloutService(t)
	cs.answer = aliceOnly(cs)
	p := servertest.NewPKI(t)
	opts := servertest.ConfigOptions(t, calloutConfig(cs.issuerKey(t), ""))
	opts.TLSConfig = p.ServerConfig(true)
	s := servertest.Start(t, opts)
	svcCert := p.Client("service")
	nc := servertest.Connect(t, s, nats.UserInfo("auth", "pwd"), nats.Secure(p.ClientConfig(svcCert)))
	_, err := nc.Subscribe("$SYS.REQ.USER.AUTH", func(m *nats.Msg) {
		req, err := jwt.DecodeAuthorizationRequestClaims(string(m.Data))
		if err != nil {
			cs.errs <- err
			return
		}
		cs.reqs <- req
		_ = m.Respond(cs.answer(req))
	})
	require.NoError(t, err)
	require.NoError(t, nc.Flush())

	servertest.Connect(t, s, nats.UserInfo("alice", "secret"), nats.Secure(p.ClientConfig(p.Client("alice"))))
	req := <-cs.reqs
	require.NotNil(t, req.TLS)
	require.Contains(t, []string{"1.2", "1.3"}, req.TLS.Version)
	require.NotEmpty(t, req.TLS.Cipher)
	require.Len(t, req.TLS.VerifiedChains, 1)
	require.Len(t, req.TLS.VerifiedChains[0], 2, "the client's certificate and the CA")
	require.True(t, strings.HasPrefix(req.TLS.VerifiedChains[0][0], "-----BEGIN CERTIFICATE-----"))
}
