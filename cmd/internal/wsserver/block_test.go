package wsserver_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"natsd.dev/cmd/internal/wsserver"
	"natsd.dev/confparse"
	"natsd.dev/server"
	"natsd.dev/server/config"
	"natsd.dev/server/servertest"
)

// applyText applies a configuration text (named test.conf in positions)
// with the websocket block registered, as the command registers it.
func applyText(t testing.TB, text string) (wsserver.Options, confparse.ErrorList, error) {
	t.Helper()
	m, err := confparse.ParseWithOptions("test.conf", []byte(text), confparse.Options{
		Env: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	var wo wsserver.Options
	var p config.Parser
	p.Register("websocket", wsserver.Block(&wo))
	p.Register("ws", wsserver.Block(&wo))
	c := config.Default()
	w, err := p.Apply(&c, m)
	return wo, w, err
}

func TestConfigWebsocket(t *testing.T) {
	f := servertest.NewPKI(t).Files()
	certFile, keyFile := f.Cert, f.Key
	c, warns, err := applyText(t, fmt.Sprintf(`
websocket {
	listen: "127.0.0.1:8443"
	advertise: "ws.example.com:443"
	tls { cert_file: %q, key_file: %q, ca_file: %q, verify: true }
	same_origin: true
	allowed_origins: ["https://app.example.com", "http://localhost:8080"]
	compression: true
	handshake_timeout: "5s"
	user_cookie: "u"
	pass_cookie: "p"
	token_cookie: "tok"
}
`, certFile, keyFile, certFile))
	require.NoError(t, err)
	require.Empty(t, warns)
	w := c
	require.Equal(t, "127.0.0.1", w.Host)
	require.Equal(t, 8443, w.Port)
	require.Equal(t, "ws.example.com:443", w.Advertise)
	require.NotNil(t, w.TLSConfig)
	require.Len(t, w.TLSConfig.Certificates, 1)
	require.Equal(t, tls.RequireAndVerifyClientCert, w.TLSConfig.ClientAuth)
	require.NotNil(t, w.TLSConfig.ClientCAs)
	require.True(t, w.SameOrigin)
	require.Equal(t, []string{"https://app.example.com", "http://localhost:8080"}, w.AllowedOrigins)
	require.True(t, w.Compression)
	require.Equal(t, 5*time.Second, w.HandshakeTimeout)
	require.Equal(t, "u", w.UsernameCookie)
	require.Equal(t, "p", w.PasswordCookie)
	require.Equal(t, "tok", w.TokenCookie)
	require.False(t, w.NoTLS)

	// Upstream's aliases: ws, host/net + port, origin(s), compress, a
	// handshake_timeout in seconds.
	c, _, err = applyText(t, "ws { net: 127.0.0.2, port: -1, no_tls: true, origin: \"http://a.example.com\", compress: true, handshake_timeout: 3 }\n")
	require.NoError(t, err)
	require.Equal(t, wsserver.Options{Host: "127.0.0.2", Port: -1, NoTLS: true, AllowedOrigins: []string{"http://a.example.com"},
		Compression: true, HandshakeTimeout: 3 * time.Second}, c)

	// No block, no listener.
	c, _, err = applyText(t, "port: 4222\n")
	require.NoError(t, err)
	require.Zero(t, c.Port)
}

func TestConfigWebsocketErrors(t *testing.T) {
	f := servertest.NewPKI(t).Files()
	certFile, keyFile := f.Cert, f.Key
	for _, tc := range []struct {
		name, text string
		want       []string
		kind       error
	}{
		{"tls required", "websocket {\n port: 8080\n}\n", []string{"test.conf:1:1: websocket requires TLS configuration"}, config.ErrBadValue},
		{"tls not required without port", "websocket { same_origin: true }\n", nil, nil},
		{"authorization", "websocket {\n no_tls: true\n port: 1\n authorization { token: x }\n}\n",
			[]string{"test.conf:4:2: websocket authorization is not supported yet"}, config.ErrNotSupported},
		{"jwt and no auth user", "websocket {\n no_tls: true, port: 1\n jwt_cookie: jwt\n no_auth_user: bob\n}\n",
			[]string{"test.conf:3:2: websocket jwt_cookie is not supported yet", "test.conf:4:2: websocket no_auth_user is not supported yet"}, config.ErrNotSupported},
		{"unknown", "websocket {\n no_tls: true\n bogus: 1\n}\n", []string{`test.conf:3:2: unknown field "bogus"`}, config.ErrUnknownField},
		{"types", "websocket {\n port: \"x\"\n same_origin: 1\n compression: \"yes\"\n allowed_origins: 5\n handshake_timeout: \"soon\"\n listen: \"nope\"\n}\n", []string{
			`test.conf:2:8: websocket port: expected an integer, got string "x"`,
			`test.conf:3:15: websocket same_origin: expected a boolean, got integer 1`,
			`test.conf:4:15: websocket compression: expected a boolean, got string "yes"`,
			`test.conf:5:19: websocket allowed_origins: expected a string or an array of strings, got integer 5`,
			`test.conf:6:21: error parsing websocket handshake_timeout: time: invalid duration "soon"`,
			`test.conf:7:10: could not parse address string "nope"`,
		}, config.ErrBadValue},
		{"bad origin", "websocket {\n no_tls: true\n allowed_origins: [\"https://ok.example.com\", \"nohost\"]\n}\n",
			[]string{`test.conf:3:46: unable to parse allowed origin "nohost"`}, config.ErrBadValue},
		{"not a map", "websocket: 8080\n", []string{"test.conf:1:12: websocket: expected a map, got integer 8080"}, config.ErrBadValue},
		{"tls unsupported key", fmt.Sprintf("websocket {\n port: 1\n tls {\n  cert_file: %q\n  key_file: %q\n  ocsp_peer: true\n }\n}\n", certFile, keyFile),
			[]string{"test.conf:6:3: tls ocsp_peer is not supported yet", "test.conf:1:1: websocket requires TLS configuration"}, nil},
		{"tls missing key", fmt.Sprintf("websocket {\n port: 1\n tls {\n  cert_file: %q\n }\n}\n", certFile),
			[]string{"test.conf:3:6: missing 'key_file' in TLS configuration", "test.conf:1:1: websocket requires TLS configuration"}, config.ErrBadValue},
		{"tls bad files", "websocket {\n port: 1\n tls { cert_file: \"/nonexistent/c.pem\", key_file: \"/nonexistent/k.pem\" }\n}\n",
			[]string{"test.conf:3:6: error parsing X509 certificate/key pair: open /nonexistent/c.pem: no such file or directory", "test.conf:1:1: websocket requires TLS configuration"}, config.ErrBadValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := applyText(t, tc.text)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, strings.Join(tc.want, "\n"), err.Error())
			if tc.kind != nil {
				require.ErrorIs(t, err, tc.kind)
			}
		})
	}
}

func TestConfigWebsocketTLSRefusedKeys(t *testing.T) {
	f := servertest.NewPKI(t).Files()
	cert, key := f.Cert, f.Key
	for _, tc := range []struct{ text, want string }{
		{fmt.Sprintf("websocket {\n port: 1\n tls {\n  cert_file: %q\n  key_file: %q\n  handshake_first: auto\n }\n}\n", cert, key), "test.conf:6:3: websocket tls handshake_first is not supported yet"},
		{fmt.Sprintf("websocket {\n port: 1\n tls {\n  cert_file: %q\n  key_file: %q\n  verify_and_map: true\n }\n}\n", cert, key), "test.conf:6:3: websocket tls verify_and_map is not supported yet"},
	} {
		_, _, err := applyText(t, tc.text)
		require.Error(t, err, tc.text)
		require.Contains(t, err.Error(), tc.want)
	}
}

func TestConfigWebsocketPinnedCerts(t *testing.T) {
	p := servertest.NewPKI(t)
	alice := p.Client("alice")
	f := p.Files()
	ca, cert, key := f.CA, f.Cert, f.Key
	id := server.CertKeyID(alice.Leaf)
	// The websocket block pins (inside the handshake) and ignores the
	// rate limit, as upstream does.
	// (inside the handshake) and ignores the
	// rate limit, as upstream does.
	c, w, err := applyText(t, fmt.Sprintf("websocket {\n port: -1\n tls {\n  cert_file: %q\n  key_file: %q\n  ca_file: %q\n  verify: true\n  pinned_certs: [%q]\n  connection_rate_limit: 5\n }\n}\n", cert, key, ca, id))
	require.NoError(t, err)
	require.Contains(t, w.Error(), "websocket tls connection_rate_limit has no effect")
	vc := c.TLSConfig.VerifyConnection
	require.NotNil(t, vc)
	require.NoError(t, vc(tls.ConnectionState{PeerCertificates: []*x509.Certificate{alice.Leaf}}))
	require.ErrorIs(t, vc(tls.ConnectionState{PeerCertificates: []*x509.Certificate{p.Server.Leaf}}), server.ErrCertNotPinned)
}
