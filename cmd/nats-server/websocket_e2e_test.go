package main

// End-to-end tests of the websocket {} block: the binary serves nats.go
// over ws:// and wss:// next to TCP, lists the listener in the ports file
// and refuses what it cannot do.

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// websocketURL reads the WebSocket URL from p's ports file.
func (p *proc) websocketURL() string {
	p.t.Helper()
	b, err := os.ReadFile(p.ports)
	require.NoError(p.t, err)
	var doc struct{ Websocket []string }
	require.NoError(p.t, json.Unmarshal(b, &doc))
	require.Len(p.t, doc.Websocket, 1, string(b))
	return doc.Websocket[0]
}

// exchange checks pub/sub and request/reply between a WebSocket client and
// a TCP client in both directions.
func exchange(t *testing.T, ws, tcp *nats.Conn) {
	t.Helper()
	for _, pair := range [][2]*nats.Conn{{ws, tcp}, {tcp, ws}} {
		pub, sub := pair[0], pair[1]
		s, err := sub.SubscribeSync("e2e.ws")
		require.NoError(t, err)
		require.NoError(t, sub.Flush())
		require.NoError(t, pub.Publish("e2e.ws", []byte("hello")))
		m, err := s.NextMsg(5 * time.Second)
		require.NoError(t, err)
		require.Equal(t, "hello", string(m.Data))
		require.NoError(t, s.Unsubscribe())

		svc, err := sub.Subscribe("e2e.svc", func(m *nats.Msg) { m.Respond(append([]byte("re: "), m.Data...)) })
		require.NoError(t, err)
		require.NoError(t, sub.Flush())
		r, err := pub.Request("e2e.svc", []byte("ping"), 5*time.Second)
		require.NoError(t, err)
		require.Equal(t, "re: ping", string(r.Data))
		require.NoError(t, svc.Unsubscribe())
	}
}

func TestWebsocketNoTLS(t *testing.T) {
	dir := t.TempDir()
	conf := writeFile(t, filepath.Join(dir, "ws.conf"), "websocket {\n  listen: \"127.0.0.1:-1\"\n  no_tls: true\n  compression: true\n}\n")
	p := start(t, "-c", conf)
	url := p.websocketURL()
	require.Regexp(t, `^ws://127\.0\.0\.1:\d+$`, url)
	p.waitLog("[INF] Listening for websocket clients on " + url)
	p.waitLog("[WRN] Websocket not configured with TLS. DO NOT USE IN PRODUCTION!")

	b, err := os.ReadFile(p.ports)
	require.NoError(t, err)
	require.JSONEq(t, fmt.Sprintf(`{"nats":["nats://127.0.0.1:%d"],"websocket":[%q]}`, p.port, url), string(b))

	ws, err := nats.Connect(url, nats.NoReconnect(), nats.Timeout(5*time.Second), nats.Compression(true))
	require.NoError(t, err)
	defer ws.Close()
	exchange(t, ws, p.connect())

	// A browser page from elsewhere is welcome: no origin check configured.
	resp := rawUpgrade(t, strings.TrimPrefix(url, "ws://"), "http://anywhere.example.com")
	require.True(t, strings.HasPrefix(resp, "HTTP/1.1 101 "), resp)
}

// rawUpgrade sends an upgrade request with the given Origin and returns
// the status line of the answer.
func rawUpgrade(t *testing.T, addr, origin string) string {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	defer nc.Close()
	require.NoError(t, nc.SetDeadline(time.Now().Add(5*time.Second)))
	_, err = fmt.Fprintf(nc, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: %s\r\n\r\n", addr, origin)
	require.NoError(t, err)
	buf := make([]byte, 256)
	n, err := nc.Read(buf)
	require.NoError(t, err)
	line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
	return line
}

func TestWebsocketTLSAndOrigins(t *testing.T) {
	dir := t.TempDir()
	pki := servertest.NewPKI(t)
	f := pki.Files()
	certFile, keyFile, pool := f.Cert, f.Key, pki.Pool
	conf := writeFile(t, filepath.Join(dir, "wss.conf"), fmt.Sprintf(`
ws {
  host: 127.0.0.1
  port: -1
  tls { cert_file: %q, key_file: %q }
  allowed_origins: ["https://app.example.com"]
  handshake_timeout: "3s"
}
`, certFile, keyFile))
	p := start(t, "-c", conf)
	url := p.websocketURL()
	require.Regexp(t, `^wss://127\.0\.0\.1:\d+$`, url)
	p.waitLog("[INF] Listening for websocket clients on " + url)
	require.NotContains(t, p.log.String(), "DO NOT USE IN PRODUCTION")

	ws, err := nats.Connect(url, nats.NoReconnect(), nats.Timeout(5*time.Second),
		nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	require.NoError(t, err)
	defer ws.Close()
	exchange(t, ws, p.connect())

	// A page from an origin that is not listed gets 403, logged as an error.
	addr := strings.TrimPrefix(url, "wss://")
	tc, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	require.NoError(t, err)
	defer tc.Close()
	require.NoError(t, tc.SetDeadline(time.Now().Add(5*time.Second)))
	_, err = fmt.Fprintf(tc, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: https://evil.example.com\r\n\r\n", addr)
	require.NoError(t, err)
	buf := make([]byte, 256)
	n, err := tc.Read(buf)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(buf[:n]), "HTTP/1.1 403 "), string(buf[:n]))
	p.waitLog("[ERR] 127.0.0.1:")
	p.waitLog(" - websocket handshake error: origin not allowed")

	// Reloading the same file keeps the listener (the certificate is
	// loaded again and compares equal)...
	p.signal(syscall.SIGHUP)
	p.waitLog("Reloaded server configuration")
	require.NotContains(t, p.log.String(), "config reload not supported")

	// ...dropping allowed_origins and handshake_timeout applies to the
	// next handshakes: the origin refused before is let in...
	writeFile(t, conf, fmt.Sprintf("ws {\n host: 127.0.0.1\n port: -1\n tls { cert_file: %q, key_file: %q }\n}\n", certFile, keyFile))
	p.signal(syscall.SIGHUP)
	p.waitLog("Reloaded: websocket allowed_origins = []")
	p.waitLog("Reloaded: websocket handshake_timeout = 0s")
	tc2, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	require.NoError(t, err)
	defer tc2.Close()
	require.NoError(t, tc2.SetDeadline(time.Now().Add(5*time.Second)))
	_, err = fmt.Fprintf(tc2, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: https://evil.example.com\r\n\r\n", addr)
	require.NoError(t, err)
	n, err = tc2.Read(buf)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(buf[:n]), "HTTP/1.1 101 "), string(buf[:n]))

	// ...but the listener's address and advertise cannot change while
	// running.
	writeFile(t, conf, fmt.Sprintf("ws {\n host: 127.0.0.1\n port: -1\n advertise: \"h:1\"\n tls { cert_file: %q, key_file: %q }\n}\n", certFile, keyFile))
	p.signal(syscall.SIGHUP)
	p.waitLog("config reload not supported for websocket")
}

func TestWebsocketConfigRefused(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, text, want string
	}{
		{"tls required", "websocket {\n  port: 8443\n}\n", ":1:1: websocket requires TLS configuration"},
		{"authorization", "websocket {\n  port: 8443\n  no_tls: true\n  authorization { token: secret }\n}\n", ":4:3: websocket authorization is not supported yet"},
		{"jwt cookie", "websocket {\n  port: 8443\n  no_tls: true\n  jwt_cookie: my_jwt\n}\n", ":4:3: websocket jwt_cookie is not supported yet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := writeFile(t, filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".conf"), tc.text)
			code, _, errOut := runOnce(t, "-c", conf, "-t")
			require.Equal(t, 1, code)
			require.Contains(t, errOut, conf+tc.want)
		})
	}

	// A port in use is fatal, with upstream's words.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	conf := writeFile(t, filepath.Join(dir, "taken.conf"),
		"websocket {\n  host: 127.0.0.1\n  port: "+strconv.Itoa(taken.Addr().(*net.TCPAddr).Port)+"\n  no_tls: true\n}\n")
	code, _, errOut := runOnce(t, "-c", conf, "-a", "127.0.0.1", "-p", "-1")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "[FTL] Unable to listen for websocket connections: ")
}
