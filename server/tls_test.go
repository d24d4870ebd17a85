package server_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/auth"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
)

func TestTLSPubSubAndConnz(t *testing.T) {
	p := servertest.NewPKI(t)
	s, logs := servertest.StartWithLogs(t, server.Options{TLSConfig: p.ServerConfig(false)})
	sub := servertest.Connect(t, s, nats.Secure(p.ClientConfig()))
	pub := servertest.Connect(t, s, nats.Secure(p.ClientConfig()), nats.Name("tls-pub"))
	ss, err := sub.SubscribeSync("tls.>")
	require.NoError(t, err)
	require.NoError(t, sub.Flush())
	require.NoError(t, pub.Publish("tls.x", []byte("secret")))
	m, err := ss.NextMsg(3 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "secret", string(m.Data))
	resp, err := sub.Subscribe("tls.svc", func(m *nats.Msg) { m.Respond([]byte("pong")) })
	require.NoError(t, err)
	defer resp.Unsubscribe()
	require.NoError(t, sub.Flush())
	r, err := pub.Request("tls.svc", nil, 3*time.Second)
	require.NoError(t, err)
	require.Equal(t, "pong", string(r.Data))

	cz, err := s.Connz(&snapshot.ConnzOptions{})
	require.NoError(t, err)
	require.Len(t, cz.Conns, 2)
	for _, c := range cz.Conns {
		require.Equal(t, "1.3", c.TLSVersion, "%+v", c)
		require.NotEmpty(t, c.TLSCipher)
	}
	require.Contains(t, logs.String(), "TLS handshake complete")

	v, err := s.Varz(nil)
	require.NoError(t, err)
	require.True(t, v.TLSRequired)
	require.False(t, v.TLSVerify)
	require.Equal(t, 2.0, v.TLSTimeout)
}

func TestTLSInfoAndPlainClientRejected(t *testing.T) {
	p := servertest.NewPKI(t)
	s, logs := servertest.StartWithLogs(t, server.Options{TLSConfig: p.ServerConfig(true)})
	rc := servertest.DialClient(t, s)
	var info server.Info
	require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(rc.Info, "INFO ")), &info))
	require.True(t, info.TLSRequired)
	require.True(t, info.TLSVerify)
	// A client that ignores tls_required and speaks plain NATS fails the
	// handshake and is closed.
	rc.Send("CONNECT {\"verbose\":false}\r\nPING\r\n")
	rc.ExpectClosed()
	require.Equal(t, "TLS Handshake Error", servertest.ClosedReason(t, s))
	servertest.WaitUntil(t, "the handshake error log", func() bool { return strings.Contains(logs.String(), "TLS handshake error: ") })

	// nats.go without TLS options upgrades but does not trust our CA.
	_, err := dialNats(s)
	require.Error(t, err)
}

func TestTLSVerifyRequiresClientCert(t *testing.T) {
	p := servertest.NewPKI(t)
	s, logs := servertest.StartWithLogs(t, server.Options{TLSConfig: p.ServerConfig(true)})
	_, err := dialNats(s, nats.Secure(p.ClientConfig()))
	require.Error(t, err)
	servertest.WaitUntil(t, "the handshake error log", func() bool { return strings.Contains(logs.String(), "TLS handshake error: ") })

	nc := servertest.Connect(t, s, nats.Secure(p.ClientConfig(p.Client("alice"))))
	require.NoError(t, nc.Flush())
	require.Equal(t, 1, s.NumClients())
}

func TestTLSVerifyAndMap(t *testing.T) {
	p := servertest.NewPKI(t)
	s, logs := servertest.StartWithLogs(t, server.Options{
		TLSConfig: p.ServerConfig(true),
		TLSMap:    true,
		Authorization: &auth.Config{Users: []auth.User{
			{Name: "alice@example.com", Permissions: &auth.Permissions{Publish: &auth.SubjectPermission{Allow: []string{"alice.>"}}}},
			{Name: "CN=bob,O=natsd"},
		}},
	})
	errs := make(chan error, 4)
	alice := servertest.Connect(t, s, nats.Secure(p.ClientConfig(p.Client("alice", "alice@example.com"))),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	require.NoError(t, alice.Publish("alice.x", nil))
	require.NoError(t, alice.Publish("other", nil))
	require.NoError(t, alice.Flush())
	select {
	case err := <-errs:
		require.Contains(t, err.Error(), `Permissions Violation for Publish to "other"`)
	case <-time.After(3 * time.Second):
		t.Fatal("no permissions violation")
	}

	bob := servertest.Connect(t, s, nats.Secure(p.ClientConfig(p.Client("bob"))))
	require.NoError(t, bob.Flush())

	cz, err := s.Connz(&snapshot.ConnzOptions{Username: true})
	require.NoError(t, err)
	var users []string
	for _, c := range cz.Conns {
		users = append(users, c.AuthorizedUser)
	}
	require.ElementsMatch(t, []string{"alice@example.com", "CN=bob,O=natsd"}, users)

	// A certificate that names nobody is an authorization violation,
	// whatever user and password CONNECT carries.
	_, err = dialNats(s, nats.Secure(p.ClientConfig(p.Client("mallory"))), nats.UserInfo("alice@example.com", "x"))
	require.ErrorContains(t, err, "Authorization Violation")
	servertest.WaitUntil(t, "the auth error log", func() bool { return strings.Contains(logs.String(), "authentication error") })

	_, err = server.New(server.Options{TLSConfig: p.ServerConfig(false), TLSMap: true})
	require.ErrorIs(t, err, server.ErrBadOptions)
}

func TestTLSHandshakeTimeout(t *testing.T) {
	p := servertest.NewPKI(t)
	s, logs := servertest.StartWithLogs(t, server.Options{TLSConfig: p.ServerConfig(false), TLSTimeout: 200 * time.Millisecond})
	require.Equal(t, 2*time.Second, s.Options().AuthTimeout)
	rc := servertest.DialClient(t, s) // reads INFO, then stalls
	start := time.Now()
	rc.ExpectClosed()
	require.Less(t, time.Since(start), 2*time.Second)
	require.Equal(t, "TLS Handshake Error", servertest.ClosedReason(t, s))
	servertest.WaitUntil(t, "the timeout log", func() bool { return strings.Contains(logs.String(), "TLS handshake timeout") })

	// The default auth timeout leaves a TLS client its handshake plus a
	// second.
	s2, _ := servertest.StartWithLogs(t, server.Options{TLSConfig: p.ServerConfig(false), TLSTimeout: 3 * time.Second})
	require.Equal(t, 4*time.Second, s2.Options().AuthTimeout)
}

func TestTLSHandshakeFirst(t *testing.T) {
	p := servertest.NewPKI(t)
	s, _ := servertest.StartWithLogs(t, server.Options{TLSConfig: p.ServerConfig(false), TLSHandshakeFirst: true})
	nc := servertest.Connect(t, s, nats.Secure(p.ClientConfig()), nats.TLSHandshakeFirst())
	require.NoError(t, nc.Flush())
	require.True(t, nc.ConnectedServerName() != "")
}

func TestTLSServeListenerNotWrapped(t *testing.T) {
	// Serve's listeners secure their own connections: a plain client of
	// one works next to the TLS client listener, and its INFO does not
	// ask for TLS.
	p := servertest.NewPKI(t)
	s, _ := servertest.StartWithLogs(t, server.Options{TLSConfig: p.ServerConfig(false)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, s.Serve(ln))
	nc, err := nats.Connect("nats://"+ln.Addr().String(), nats.NoReconnect())
	require.NoError(t, err)
	defer nc.Close()
	require.NoError(t, nc.Flush())
}

func TestConfigTLSBlock(t *testing.T) {
	p := servertest.NewPKI(t)
	f := p.Files()
	ca, cert, key := f.CA, f.Cert, f.Key
	c, w, err := applyText(t, fmt.Sprintf(`
tls {
  cert_file: %q
  key_file: %q
  ca_file: %q
  verify_and_map: true
  timeout: 0.5
  min_version: "1.3"
  cipher_suites: ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]
  curve_preferences: ["X25519", "CurveP256"]
  handshake_first: true
}
https_port: 8443
`, cert, key, ca))
	require.NoError(t, err)
	require.Empty(t, w)
	o := c.Options
	require.NotNil(t, o.TLSConfig)
	require.Equal(t, tls.RequireAndVerifyClientCert, o.TLSConfig.ClientAuth)
	require.NotNil(t, o.TLSConfig.ClientCAs)
	require.Equal(t, uint16(tls.VersionTLS13), o.TLSConfig.MinVersion)
	require.Equal(t, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, o.TLSConfig.CipherSuites)
	require.Equal(t, []tls.CurveID{tls.X25519, tls.CurveP256}, o.TLSConfig.CurvePreferences)
	require.True(t, o.TLSMap)
	require.True(t, o.TLSHandshakeFirst)
	require.Equal(t, 500*time.Millisecond, o.TLSTimeout)
	require.Equal(t, 8443, c.Monitor.HTTPSPort)

	c, _, err = applyText(t, fmt.Sprintf("tls { cert_file: %q, key_file: %q, timeout: \"3s\", verify: true }\nhttps: \"127.0.0.1:9443\"\n", cert, key))
	require.NoError(t, err)
	require.Equal(t, 3*time.Second, c.Options.TLSTimeout)
	require.False(t, c.Options.TLSMap)
	require.Equal(t, tls.RequireAndVerifyClientCert, c.Options.TLSConfig.ClientAuth)
	require.Equal(t, 9443, c.Monitor.HTTPSPort)
	require.Equal(t, "127.0.0.1", c.Monitor.Host)

	for _, tc := range []struct{ text, want string }{
		{fmt.Sprintf("tls {\n cert_file: %q\n key_file: %q\n pinned_certs: \"ab\"\n}\n", cert, key), "test.conf:4:16: error parsing tls config, expected 'pinned_certs' to be an array"},
		{fmt.Sprintf("tls {\n cert_file: %q\n key_file: %q\n pinned_certs: [1]\n}\n", cert, key), "test.conf:4:17: tls pinned_certs: expected a string"},
		{fmt.Sprintf("tls {\n cert_file: %q\n key_file: %q\n handshake_first: \"sometimes\"\n}\n", cert, key), `test.conf:4:19: field "handshake_first" value "sometimes" is invalid`},
		{fmt.Sprintf("tls {\n cert_file: %q\n key_file: %q\n first: 5\n}\n", cert, key), `test.conf:4:9: field "first" should be a boolean or string, got`},
		{fmt.Sprintf("tls {\n cert_file: %q\n key_file: %q\n connection_rate_limit: \"10\"\n}\n", cert, key), "test.conf:4:25: error parsing tls config, 'connection_rate_limit' wrong type"},
		{fmt.Sprintf("tls {\n cert_file: %q\n key_file: %q\n ocsp_peer: true\n}\n", cert, key), "test.conf:4:2: tls ocsp_peer is not supported yet"},
		// As upstream 2.15.2 answers a key its tls {} does not know.
		{fmt.Sprintf("tls {\n cert_file: %q\n key_file: %q\n bogus_key: true\n}\n", cert, key), `test.conf:4:2: error parsing tls config, unknown field "bogus_key"`},
		{fmt.Sprintf("tls {\n cert_file: %q\n key_file: %q\n ocsp: true\n}\n", cert, key), `test.conf:4:2: error parsing tls config, unknown field "ocsp"`},
		{fmt.Sprintf("tls {\n cert_file: %q\n key_file: %q\n min_version: \"1.1\"\n}\n", cert, key), "test.conf:4:15: unsupported minimum TLS version: 1.1"},
		{fmt.Sprintf("tls {\n cert_file: %q\n key_file: %q\n cipher_suites: [\"TLS_RSA_WITH_RC4_128_SHA\"]\n}\n", cert, key), `test.conf:4:18: tls cipher_suites: unsupported value "TLS_RSA_WITH_RC4_128_SHA"`},
		{"tls {\n cert_file: \"c.pem\"\n}\n", "test.conf:1:5: missing 'key_file' in TLS configuration"},
	} {
		_, _, err := applyText(t, tc.text)
		require.Error(t, err, tc.text)
		require.Contains(t, err.Error(), tc.want)
	}
}

func TestTLSShutdownDuringHandshake(t *testing.T) {
	// A client stalled in the handshake does not hold up Shutdown for the
	// TLS timeout, and its end is not logged as a handshake error.
	p := servertest.NewPKI(t)
	logs := &servertest.Logs{}
	s, err := server.New(server.Options{
		Host: "127.0.0.1", Port: server.RandomPort, TLSConfig: p.ServerConfig(false), TLSTimeout: 30 * time.Second,
		Logger: logs.Logger(slog.LevelDebug),
	})
	require.NoError(t, err)
	require.NoError(t, s.Start())
	rc := servertest.DialClient(t, s)
	servertest.WaitUntil(t, "the client", func() bool { return s.NumClients() == 1 })
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.Shutdown(ctx))
	require.Less(t, time.Since(start), 5*time.Second)
	rc.ExpectClosed()
	require.NotContains(t, logs.String(), "TLS handshake error")
}

func TestTLSPinnedCerts(t *testing.T) {
	p := servertest.NewPKI(t)
	alice, bob := p.Client("alice"), p.Client("bob")
	s, logs := servertest.StartWithLogs(t, server.Options{
		TLSConfig:      p.ServerConfig(true),
		TLSPinnedCerts: server.NewPinnedCerts(strings.ToUpper(server.CertKeyID(alice.Leaf))),
	})
	nc := servertest.Connect(t, s, nats.Secure(p.ClientConfig(alice)))
	require.NoError(t, nc.Flush())

	// bob's certificate verifies against the CA but is not pinned.
	_, err := dialNats(s, nats.Secure(p.ClientConfig(bob)))
	require.Error(t, err)
	require.Equal(t, "TLS Handshake Error", servertest.ClosedReason(t, s))
	servertest.WaitUntil(t, "the pinned log", func() bool {
		return strings.Contains(logs.String(), "TLS handshake error: certificate not pinned") &&
			strings.Contains(logs.String(), "Failed pinned cert test for key id: "+server.CertKeyID(bob.Leaf))
	})
	require.Equal(t, 1, s.NumClients())

	// Without verify no client sends a certificate, so nobody passes.
	s2, logs2 := servertest.StartWithLogs(t, server.Options{TLSConfig: p.ServerConfig(false), TLSPinnedCerts: server.NewPinnedCerts(server.CertKeyID(alice.Leaf))})
	_, err = dialNats(s2, nats.Secure(p.ClientConfig(alice)))
	require.Error(t, err)
	servertest.WaitUntil(t, "the no-certificate log", func() bool {
		return strings.Contains(logs2.String(), "Failed pinned cert test as client did not provide a certificate")
	})
}

func TestPinnedCertsVerifyConnection(t *testing.T) {
	p := servertest.NewPKI(t)
	alice := p.Client("alice")
	pin := server.NewPinnedCerts(server.CertKeyID(alice.Leaf))
	require.NoError(t, pin.VerifyConnection(tls.ConnectionState{PeerCertificates: []*x509.Certificate{alice.Leaf}}))
	require.ErrorIs(t, pin.VerifyConnection(tls.ConnectionState{PeerCertificates: []*x509.Certificate{p.Server.Leaf}}), server.ErrCertNotPinned)
	require.ErrorIs(t, pin.VerifyConnection(tls.ConnectionState{}), server.ErrCertNotPinned)
	// The id is the SHA-256 of the SubjectPublicKeyInfo, not of the
	// certificate: a re-issued certificate for the same key still matches.
	require.Len(t, server.CertKeyID(alice.Leaf), 64)
	leaf := p.Sign(&x509.Certificate{SerialNumber: big.NewInt(99), NotAfter: time.Now().Add(time.Hour)}, alice.Leaf.PublicKey)
	require.Equal(t, server.CertKeyID(alice.Leaf), server.CertKeyID(leaf))
	// WithPinnedCerts keeps the caller's config and its own check.
	base := p.ServerConfig(true)
	called := false
	base.VerifyConnection = func(tls.ConnectionState) error { called = true; return nil }
	pinned := server.WithPinnedCerts(base, pin)
	require.NotSame(t, base, pinned)
	require.ErrorIs(t, pinned.VerifyConnection(tls.ConnectionState{}), server.ErrCertNotPinned)
	require.True(t, called)
	require.Same(t, base, server.WithPinnedCerts(base, nil))
}

// rawTLSFirst opens a TCP connection and starts TLS at once, then reads
// INFO over TLS.
func rawTLSFirst(t *testing.T, s *server.Server, cfg *tls.Config) string {
	t.Helper()
	tc, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", s.Addr().String(), cfg)
	require.NoError(t, err)
	defer tc.Close()
	tc.SetReadDeadline(time.Now().Add(3 * time.Second))
	line, err := bufio.NewReader(tc).ReadString('\n')
	require.NoError(t, err)
	return line
}

func TestTLSHandshakeFirstFallback(t *testing.T) {
	// The delay is long next to a handshake under -race on 2 busy cores
	// (up to 0.3 s seen), so that a handshake that did not wait for it
	// is told from one that did.
	const fallback = 1500 * time.Millisecond
	p := servertest.NewPKI(t)
	s, logs := servertest.StartWithLogs(t, server.Options{
		TLSConfig: p.ServerConfig(false), TLSHandshakeFirst: true, TLSHandshakeFirstFallback: fallback,
	})
	require.NotContains(t, logs.String(), "will fail to connect")
	// Both kinds of nats.go client connect.
	first := servertest.Connect(t, s, nats.Secure(p.ClientConfig()), nats.TLSHandshakeFirst())
	require.NoError(t, first.Flush())
	plain := servertest.Connect(t, s, nats.Secure(p.ClientConfig()))
	require.NoError(t, plain.Flush())
	sub, err := first.SubscribeSync("fb")
	require.NoError(t, err)
	require.NoError(t, first.Flush())
	require.NoError(t, plain.Publish("fb", []byte("x")))
	_, err = sub.NextMsg(3 * time.Second)
	require.NoError(t, err)

	// A raw client that waits gets INFO in the clear after the delay.
	start := time.Now()
	rc := servertest.DialClient(t, s)
	waited := time.Since(start)
	require.GreaterOrEqual(t, waited, fallback)
	require.Less(t, waited, fallback+3*time.Second)
	rc.Conn.Close()

	// One that handshakes at once gets INFO over TLS without waiting.
	start = time.Now()
	line := rawTLSFirst(t, s, p.ClientConfig())
	require.True(t, strings.HasPrefix(line, "INFO {"), line)
	require.Less(t, time.Since(start), fallback)
}

func TestTLSHandshakeFirstOnlyWarns(t *testing.T) {
	p := servertest.NewPKI(t)
	s, logs := servertest.StartWithLogs(t, server.Options{TLSConfig: p.ServerConfig(false), TLSHandshakeFirst: true})
	require.Contains(t, logs.String(), `[WRN] Clients that are not using "TLS Handshake First" option will fail to connect`)
	line := rawTLSFirst(t, s, p.ClientConfig())
	require.True(t, strings.HasPrefix(line, "INFO {"), line)
	// A client that waits for INFO never gets one and times out.
	_, err := dialNats(s, nats.Secure(p.ClientConfig()), nats.Timeout(500*time.Millisecond))
	require.Error(t, err)
}

func TestTLSConnectionRateLimit(t *testing.T) {
	p := servertest.NewPKI(t)
	s, logs := servertest.StartWithLogs(t, server.Options{TLSConfig: p.ServerConfig(false), TLSRateLimit: 2})
	throttled := 0
	for range 6 {
		rc := servertest.DialClient(t, s) // INFO always comes first, in the clear
		line, err := rc.TryReadLine(300 * time.Millisecond)
		if err == nil {
			require.Equal(t, "-ERR 'Connection throttling is active. Please try again later.'", line)
			throttled++
			rc.ExpectClosed()
		}
	}
	require.GreaterOrEqual(t, throttled, 3, "at most 2 a second get through")
	servertest.WaitUntil(t, "the rate limit warning", func() bool {
		return strings.Contains(logs.String(), "[WRN] Rejected ") && strings.Contains(logs.String(), " connections due to TLS rate limiting")
	})
	require.Contains(t, closedReasons(t, s), "Maximum Connections Exceeded")
	// A later second admits clients again.
	servertest.WaitUntil(t, "a client admitted again", func() bool {
		nc, err := dialNats(s, nats.Secure(p.ClientConfig()))
		if err != nil {
			return false
		}
		defer nc.Close()
		return nc.Flush() == nil
	})
}

func closedReasons(t *testing.T, s *server.Server) []string {
	t.Helper()
	cz, err := s.Connz(&snapshot.ConnzOptions{State: snapshot.ConnClosed})
	require.NoError(t, err)
	var out []string
	for _, c := range cz.Conns {
		out = append(out, c.Reason)
	}
	return out
}

func TestTLSReload(t *testing.T) {
	p := servertest.NewPKI(t)
	alice, bob := p.Client("alice"), p.Client("bob")
	opts := server.Options{TLSConfig: p.ServerConfig(true)}
	s, logs := servertest.StartWithLogs(t, opts)
	old := servertest.Connect(t, s, nats.Secure(p.ClientConfig(bob)))
	require.NoError(t, old.Flush())

	// A new CA and server certificate: new clients must trust the new
	// CA and present a certificate it signed; the established one stays.
	p2 := servertest.NewPKI(t)
	carol := p2.Client("carol")
	opts = s.Options()
	opts.TLSConfig = p2.ServerConfig(true)
	require.NoError(t, s.Reload(opts))
	_, err := dialNats(s, nats.Secure(p.ClientConfig(alice)))
	require.Error(t, err, "the old CA no longer verifies the server")
	nc := servertest.Connect(t, s, nats.Secure(p2.ClientConfig(carol)))
	require.NoError(t, nc.Flush())
	require.NoError(t, old.Flush())
	// The refused client may still be on its way out.
	require.Eventually(t, func() bool { return s.NumClients() == 2 }, 2*time.Second, 10*time.Millisecond)

	// Pinning carol's key drops bob, whose certificate is not pinned.
	opts.TLSPinnedCerts = server.NewPinnedCerts(server.CertKeyID(carol.Leaf))
	require.NoError(t, s.Reload(opts))
	servertest.WaitUntil(t, "bob dropped", func() bool { return old.IsClosed() })
	require.Contains(t, logs.String(), "Disconnect 1 clients due to pinned certs reload")
	require.NoError(t, nc.Flush())
	require.Equal(t, 1, s.NumClients())

	// Verification off: INFO no longer says tls_verify, and a client
	// without a certificate connects.
	opts.TLSConfig, opts.TLSPinnedCerts = p2.ServerConfig(false), nil
	require.NoError(t, s.Reload(opts))
	raw, err := net.DialTimeout("tcp", s.Addr().String(), 2*time.Second)
	require.NoError(t, err)
	defer raw.Close()
	raw.SetReadDeadline(time.Now().Add(3 * time.Second))
	line, err := bufio.NewReader(raw).ReadString('\n')
	require.NoError(t, err)
	require.Contains(t, line, `"tls_required":true`)
	require.NotContains(t, line, "tls_verify")
	nc2 := servertest.Connect(t, s, nats.Secure(p2.ClientConfig()))
	require.NoError(t, nc2.Flush())

	// TLS cannot be turned off, nor verify_and_map changed.
	off := opts
	off.TLSConfig = nil
	require.ErrorIs(t, s.Reload(off), server.ErrBadOptions)
	mapped := opts
	mapped.TLSMap = true
	require.ErrorIs(t, s.Reload(mapped), server.ErrBadOptions)
}

func TestConfigTLSNewKeys(t *testing.T) {
	p := servertest.NewPKI(t)
	alice := p.Client("alice")
	f := p.Files()
	ca, cert, key := f.CA, f.Cert, f.Key
	id := server.CertKeyID(alice.Leaf)
	block := func(extra string) string {
		return fmt.Sprintf("tls {\n cert_file: %q\n key_file: %q\n ca_file: %q\n verify: true\n%s\n}\n", cert, key, ca, extra)
	}
	for _, tc := range []struct {
		extra    string
		first    bool
		fallback time.Duration
	}{
		{`handshake_first: auto`, true, server.DefaultTLSHandshakeFirstFallback},
		{`handshake_first: "auto_fallback"`, true, 50 * time.Millisecond},
		{`handshake_first: "300ms"`, true, 300 * time.Millisecond},
		{`first: "on"`, true, 0},
		{`immediate: "off"`, false, 0},
		{`handshake_first: true`, true, 0},
	} {
		c, w, err := applyText(t, block(tc.extra))
		require.NoError(t, err, tc.extra)
		require.Empty(t, w, tc.extra)
		require.Equal(t, tc.first, c.Options.TLSHandshakeFirst, tc.extra)
		require.Equal(t, tc.fallback, c.Options.TLSHandshakeFirstFallback, tc.extra)
	}

	c, w, err := applyText(t, block(fmt.Sprintf("pinned_certs: [%q, %q]\nconnection_rate_limit: 100", strings.ToUpper(id), "not-a-digest")))
	require.NoError(t, err)
	require.Len(t, w, 1)
	require.Contains(t, w.Error(), `test.conf:6:84:`)
	require.Contains(t, w.Error(), `"not-a-digest" is not a hex SHA-256 digest`)
	require.Equal(t, server.NewPinnedCerts(id, "not-a-digest"), c.Options.TLSPinnedCerts)
	require.Equal(t, int64(100), c.Options.TLSRateLimit)

	_, w, err = applyText(t, fmt.Sprintf("tls {\n cert_file: %q\n key_file: %q\n pinned_certs: [%q]\n}\n", cert, key, id))
	require.NoError(t, err)
	require.Contains(t, w.Error(), "pinned_certs without verify refuses every client")
}

// BenchmarkTLSConnect measures a full nats.go TLS connect (handshake with
// a verified client certificate, INFO, CONNECT, PING/PONG) with and
// without pinned_certs, and with handshake_first: auto taken by a client
// that handshakes first.
func BenchmarkTLSConnect(b *testing.B) {
	p := servertest.NewPKI(b)
	alice := p.Client("alice")
	for _, bc := range []struct {
		name  string
		opts  server.Options
		first bool
	}{
		{"verify", server.Options{TLSConfig: p.ServerConfig(true)}, false},
		{"verify+pinned", server.Options{TLSConfig: p.ServerConfig(true), TLSPinnedCerts: server.NewPinnedCerts(server.CertKeyID(alice.Leaf))}, false},
		{"auto+first", server.Options{TLSConfig: p.ServerConfig(true), TLSHandshakeFirst: true, TLSHandshakeFirstFallback: server.DefaultTLSHandshakeFirstFallback}, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := servertest.Start(b, bc.opts)
			opts := []nats.Option{nats.Secure(p.ClientConfig(alice))}
			if bc.first {
				opts = append(opts, nats.TLSHandshakeFirst())
			}
			b.ReportAllocs()
			for b.Loop() {
				nc, err := dialNats(s, opts...)
				if err != nil {
					b.Fatal(err)
				}
				nc.Close()
			}
		})
	}
}
