package wsserver_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/cmd/internal/wsserver"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
)

// listeners are the running WebSocket listeners of the tests' servers.
var listeners sync.Map // *server.Server -> *wsserver.Listener

// startErr starts a WebSocket listener on s and remembers it.
func startErr(s *server.Server, o wsserver.Options) error {
	l, err := wsserver.Start(s, o)
	if err == nil {
		listeners.Store(s, l)
	}
	return err
}

// startWS is startErr that fails the test on error.
func startWS(t testing.TB, s *server.Server, o wsserver.Options) *wsserver.Listener {
	t.Helper()
	require.NoError(t, startErr(s, o))
	return listenerOf(s)
}

// listenerOf returns the WebSocket listener of s, nil for none.
func listenerOf(s *server.Server) *wsserver.Listener {
	l, ok := listeners.Load(s)
	if !ok {
		return nil
	}
	return l.(*wsserver.Listener)
}

// startWebsocketServer runs a server with a TCP listener and a WebSocket
// listener on free loopback ports, logging into the returned buffer.
func startWebsocketServer(t testing.TB, wo wsserver.Options) (*server.Server, *servertest.Logs) {
	t.Helper()
	logs := &servertest.Logs{}
	s := servertest.Start(t, server.Options{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	wo.Host = "127.0.0.1"
	wo.Port = server.RandomPort
	startWS(t, s, wo)
	return s, logs
}

func wsURL(s *server.Server, secure bool) string {
	l := listenerOf(s)
	if l.TLS() != secure {
		panic("listener scheme differs")
	}
	return l.URL()
}

// TestWebsocketWithTCPClients runs nats.go over ws:// and wss://, with and
// without compression, against a nats.go client on the TCP listener of the
// same server: messages and requests cross in both directions, including a
// payload far larger than a WebSocket read buffer.
func TestWebsocketWithTCPClients(t *testing.T) {
	p := servertest.NewPKI(t)
	for _, tc := range []struct {
		name     string
		secure   bool
		compress bool
	}{
		{"ws", false, false},
		{"ws-compression", false, true},
		{"wss", true, false},
		{"wss-compression", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wo := wsserver.Options{Compression: tc.compress}
			opts := []nats.Option{nats.Compression(tc.compress)}
			if tc.secure {
				wo.TLSConfig = p.ServerConfig(false)
				opts = append(opts, nats.Secure(p.ClientConfig()))
			} else {
				wo.NoTLS = true
			}
			s, logs := startWebsocketServer(t, wo)
			ws := servertest.ConnectURL(t, wsURL(s, tc.secure), opts...)
			tcp := servertest.Connect(t, s)
			require.True(t, strings.HasPrefix(ws.ConnectedUrl(), wsURL(s, tc.secure)), ws.ConnectedUrl())

			scheme := "ws"
			if tc.secure {
				scheme = "wss"
			}
			require.Contains(t, logs.String(), "Listening for websocket clients on "+wsURL(s, tc.secure))
			require.True(t, strings.HasPrefix(wsURL(s, tc.secure), scheme+"://"))
			if tc.secure {
				require.NotContains(t, logs.String(), "DO NOT USE IN PRODUCTION")
			} else {
				require.Contains(t, logs.String(), "Websocket not configured with TLS. DO NOT USE IN PRODUCTION!")
			}

			big := bytes.Repeat([]byte("natsd websocket "), 40_000) // 640 KB of text
			for _, dir := range []struct {
				name     string
				pub, sub *nats.Conn
			}{{"tcp to ws", tcp, ws}, {"ws to tcp", ws, tcp}, {"ws to ws", ws, ws}} {
				sub, err := dir.sub.SubscribeSync("x.>")
				require.NoError(t, err)
				require.NoError(t, dir.sub.Flush())
				for i := range 100 {
					require.NoError(t, dir.pub.Publish("x."+strconv.Itoa(i), []byte("msg-"+strconv.Itoa(i))))
				}
				require.NoError(t, dir.pub.Publish("x.big", big))
				require.NoError(t, dir.pub.Flush())
				for i := range 100 {
					m, err := sub.NextMsg(5 * time.Second)
					require.NoError(t, err, dir.name)
					require.Equal(t, "msg-"+strconv.Itoa(i), string(m.Data), dir.name)
				}
				m, err := sub.NextMsg(5 * time.Second)
				require.NoError(t, err, dir.name)
				require.True(t, bytes.Equal(big, m.Data), "%s: big payload of %d bytes came back as %d", dir.name, len(big), len(m.Data))
				require.NoError(t, sub.Unsubscribe())
			}

			// Request/reply both ways, headers included.
			for _, dir := range []struct {
				name          string
				server, asker *nats.Conn
			}{{"ws asks tcp", tcp, ws}, {"tcp asks ws", ws, tcp}} {
				sub, err := dir.server.Subscribe("svc", func(m *nats.Msg) {
					r := nats.NewMsg(m.Reply)
					r.Header.Set("Served-By", "responder")
					r.Data = append([]byte("re: "), m.Data...)
					m.RespondMsg(r)
				})
				require.NoError(t, err)
				require.NoError(t, dir.server.Flush())
				for i := range 20 {
					resp, err := dir.asker.Request("svc", []byte("q"+strconv.Itoa(i)), 5*time.Second)
					require.NoError(t, err, dir.name)
					require.Equal(t, "re: q"+strconv.Itoa(i), string(resp.Data), dir.name)
					require.Equal(t, "responder", resp.Header.Get("Served-By"))
				}
				require.NoError(t, sub.Unsubscribe())
			}
			require.Equal(t, 2, s.NumClients())
		})
	}
}

// handshake sends a WebSocket upgrade request with the given extra
// headers and returns the response.
func handshake(t testing.TB, addr string, header map[string]string) *http.Response {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	require.NoError(t, nc.SetDeadline(time.Now().Add(5*time.Second)))
	var b strings.Builder
	b.WriteString("GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")
	for k, v := range header {
		b.WriteString(k + ": " + v + "\r\n")
	}
	b.WriteString("\r\n")
	_, err = nc.Write([]byte(b.String()))
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	require.NoError(t, err)
	return resp
}

// TestWebsocketOrigins checks same_origin and allowed_origins through the
// server: a browser's Origin that fails gets 403 and an error in the log;
// a request without Origin (a non-browser client) passes.
func TestWebsocketOrigins(t *testing.T) {
	t.Run("same_origin", func(t *testing.T) {
		s, logs := startWebsocketServer(t, wsserver.Options{NoTLS: true, SameOrigin: true})
		addr := listenerOf(s).Addr().String()
		require.Equal(t, http.StatusSwitchingProtocols, handshake(t, addr, map[string]string{"Origin": "http://" + addr}).StatusCode)
		require.Equal(t, http.StatusSwitchingProtocols, handshake(t, addr, nil).StatusCode)
		resp := handshake(t, addr, map[string]string{"Origin": "http://evil.example.com"})
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		servertest.WaitUntil(t, "the handshake error in the log", func() bool {
			return strings.Contains(logs.String(), "level=ERROR") && strings.Contains(logs.String(), " - websocket handshake error: origin not allowed")
		})
		servertest.ConnectURL(t, wsURL(s, false)) // nats.go sends no Origin
	})
	t.Run("allowed_origins", func(t *testing.T) {
		s, _ := startWebsocketServer(t, wsserver.Options{NoTLS: true, AllowedOrigins: []string{"https://app.example.com", "http://127.0.0.1:8080"}})
		addr := listenerOf(s).Addr().String()
		for origin, want := range map[string]int{
			"https://app.example.com":     http.StatusSwitchingProtocols,
			"https://app.example.com:443": http.StatusSwitchingProtocols,
			"http://127.0.0.1:8080":       http.StatusSwitchingProtocols,
			"http://app.example.com":      http.StatusForbidden, // scheme differs
			"https://app.example.com:444": http.StatusForbidden,
			"http://127.0.0.1:8081":       http.StatusForbidden,
			"https://other.example.com":   http.StatusForbidden,
		} {
			require.Equal(t, want, handshake(t, addr, map[string]string{"Origin": origin}).StatusCode, origin)
		}
	})
	t.Run("bad allowed origin", func(t *testing.T) {
		s := servertest.Start(t, server.Options{})
		err := startErr(s, wsserver.Options{Host: "127.0.0.1", Port: server.RandomPort, NoTLS: true, AllowedOrigins: []string{"not a url"}})
		require.ErrorIs(t, err, server.ErrBadOptions)
	})
}

// TestWebsocketCompressionNegotiated checks the answer to a client that
// offers permessage-deflate, with compression on and off.
func TestWebsocketCompressionNegotiated(t *testing.T) {
	offer := map[string]string{"Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits"}
	s, _ := startWebsocketServer(t, wsserver.Options{NoTLS: true, Compression: true})
	resp := handshake(t, listenerOf(s).Addr().String(), offer)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate")

	s, _ = startWebsocketServer(t, wsserver.Options{NoTLS: true})
	resp = handshake(t, listenerOf(s).Addr().String(), offer)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	require.Empty(t, resp.Header.Get("Sec-WebSocket-Extensions"))
}

// countingDialer counts the bytes a nats.go client reads from the server.
type countingDialer struct {
	read atomic.Int64
}

func (d *countingDialer) Dial(network, address string) (net.Conn, error) {
	nc, err := net.DialTimeout(network, address, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: nc, n: &d.read}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// textPayload is JSON-like text of about size bytes, compressible as real
// application payloads are.
func textPayload(size int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, `{"id":%d,"sensor":"temperature-%d","unit":"celsius","value":%d.%d,"ok":true},`, i, i%17, 20+i%9, i%10)
	}
	return b.Bytes()[:size]
}

// wireBytes sends n messages of payload from a TCP client to a WebSocket
// subscriber and returns how many bytes the subscriber read off the wire.
func wireBytes(t testing.TB, compress bool, payload []byte, n int) int64 {
	t.Helper()
	s, _ := startWebsocketServer(t, wsserver.Options{NoTLS: true, Compression: compress})
	d := &countingDialer{}
	ws := servertest.ConnectURL(t, wsURL(s, false), nats.Compression(compress), nats.SetCustomDialer(d))
	var got atomic.Int64
	done := make(chan struct{})
	_, err := ws.Subscribe("text", func(m *nats.Msg) {
		if !bytes.Equal(m.Data, payload) {
			t.Error("payload corrupted")
		}
		if got.Add(1) == int64(n) {
			close(done)
		}
	})
	require.NoError(t, err)
	require.NoError(t, ws.Flush())
	before := d.read.Load()
	tcp := servertest.Connect(t, s)
	// Batches keep the subscriber's backlog far from the slow consumer
	// limits however large n is.
	const batch = 100
	for sent := 0; sent < n; {
		for range min(batch, n-sent) {
			require.NoError(t, tcp.Publish("text", payload))
			sent++
		}
		require.NoError(t, tcp.Flush())
		servertest.WaitUntil(t, fmt.Sprintf("%d messages", sent), func() bool { return got.Load() >= int64(sent) })
	}
	<-done
	return d.read.Load() - before
}

// TestWebsocketCompressionSavesBytes: with compression on, large text
// payloads cross the wire in fewer bytes, and arrive intact.
func TestWebsocketCompressionSavesBytes(t *testing.T) {
	payload := textPayload(16 << 10)
	const n = 50
	plain := wireBytes(t, false, payload, n)
	packed := wireBytes(t, true, payload, n)
	t.Logf("%d messages of %d B text: %d bytes uncompressed, %d compressed (%.1f%%)", n, len(payload), plain, packed, 100*float64(packed)/float64(plain))
	require.Greater(t, plain, int64(n*len(payload)), "every payload byte crosses the wire without compression")
	require.Less(t, packed, plain/2, "compression should at least halve this text")
}

func TestStartWebsocketRefusals(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	base := wsserver.Options{Host: "127.0.0.1", Port: server.RandomPort}
	for _, tc := range []struct {
		name string
		edit func(*wsserver.Options)
		want error
		text string
	}{
		{"no tls", func(o *wsserver.Options) {}, server.ErrBadOptions, "websocket requires TLS configuration"},
		{"no port", func(o *wsserver.Options) { o.NoTLS, o.Port = true, 0 }, server.ErrBadOptions, "port"},
		{"bad port", func(o *wsserver.Options) { o.NoTLS, o.Port = true, 70000 }, server.ErrBadOptions, "out of range"},
		{"authorization", func(o *wsserver.Options) {
			o.NoTLS, o.Authorization = true, &wsserver.Authorization{Token: "x"}
		}, wsserver.ErrNotSupported, "websocket authorization"},
		{"jwt cookie", func(o *wsserver.Options) { o.NoTLS, o.JWTCookie = true, "jwt" }, wsserver.ErrNotSupported, "jwt_cookie"},
		{"no auth user", func(o *wsserver.Options) { o.NoTLS, o.NoAuthUser = true, "bob" }, wsserver.ErrNotSupported, "no_auth_user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := base
			tc.edit(&o)
			err := startErr(s, o)
			require.ErrorIs(t, err, tc.want)
			require.ErrorContains(t, err, tc.text)
		})
	}
	require.Nil(t, listenerOf(s))

	// A port in use is a listen error with upstream's wording.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	err = startErr(s, wsserver.Options{Host: "127.0.0.1", Port: taken.Addr().(*net.TCPAddr).Port, NoTLS: true})
	var le *server.ListenError
	require.True(t, errors.As(err, &le), "%v", err)
	require.ErrorContains(t, err, "Unable to listen for websocket connections: ")
}

// TestWebsocketShutdownAndLameDuck: the WebSocket listener stops with the
// server, and its clients are closed.
func TestWebsocketShutdown(t *testing.T) {
	s, _ := startWebsocketServer(t, wsserver.Options{NoTLS: true})
	addr := listenerOf(s).Addr().String()
	closed := make(chan struct{})
	servertest.ConnectURL(t, wsURL(s, false), nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	require.NoError(t, s.Shutdown(t.Context()))
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("WebSocket client not closed by Shutdown")
	}
	_, err := net.DialTimeout("tcp", addr, time.Second)
	require.Error(t, err, "listener still open after Shutdown")
	require.ErrorIs(t, startErr(s, wsserver.Options{Host: "127.0.0.1", Port: server.RandomPort, NoTLS: true}), server.ErrServerStopped)
}

// TestWebsocketTLSHandshakeErrorLogged: a plain-text client on a wss://
// listener fails the TLS handshake, which is logged as an error.
func TestWebsocketTLSHandshakeErrorLogged(t *testing.T) {
	s, logs := startWebsocketServer(t, wsserver.Options{TLSConfig: servertest.NewPKI(t).ServerConfig(false)})
	nc, err := net.Dial("tcp", listenerOf(s).Addr().String())
	require.NoError(t, err)
	defer nc.Close()
	_, err = nc.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	require.NoError(t, err)
	servertest.WaitUntil(t, "the TLS error in the log", func() bool {
		return strings.Contains(logs.String(), "websocket: TLS handshake error from 127.0.0.1:")
	})
}

// pubSubPair is a publisher and a subscriber on one URL.
type pubSubPair struct {
	pub, sub *nats.Conn
	got      atomic.Int64
	want     atomic.Int64
	done     chan struct{}
}

func newPubSubPair(b *testing.B, url string) *pubSubPair {
	b.Helper()
	p := &pubSubPair{sub: servertest.ConnectURL(b, url), pub: servertest.ConnectURL(b, url), done: make(chan struct{}, 1)}
	s, err := p.sub.Subscribe("bench", func(*nats.Msg) {
		if p.got.Add(1) == p.want.Load() {
			p.done <- struct{}{}
		}
	})
	require.NoError(b, err)
	require.NoError(b, s.SetPendingLimits(-1, -1))
	require.NoError(b, p.sub.Flush())
	return p
}

// run publishes n messages of size bytes and returns the time until the
// subscriber has them all.
func (p *pubSubPair) run(b *testing.B, data []byte, n int) time.Duration {
	b.Helper()
	if n == 0 {
		return 0
	}
	base := p.got.Load()
	p.want.Store(base + int64(n))
	// The publisher stays at most window messages ahead of the subscriber,
	// so a long run never trips the server's slow consumer limit.
	const window = 50_000
	start := time.Now()
	for i := range n {
		if err := p.pub.Publish("bench", data); err != nil {
			b.Fatal(err)
		}
		if i%1000 == 999 {
			for base+int64(i)-p.got.Load() > window {
				time.Sleep(50 * time.Microsecond)
			}
		}
	}
	require.NoError(b, p.pub.Flush())
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		b.Fatalf("delivered %d of %d", p.got.Load()-base, n)
	}
	return time.Since(start)
}

// BenchmarkWebsocketPubSub128 measures 128 B pub/sub with nats.go, both
// clients on TCP and both on ws://, b.N messages each, interleaved in ten
// rounds so that a busy machine weighs on both alike, and reports the two
// rates and their ratio (the target is ws/tcp >= 0.5).
func BenchmarkWebsocketPubSub128(b *testing.B) {
	s, _ := startWebsocketServer(b, wsserver.Options{NoTLS: true})
	tcp := newPubSubPair(b, s.ClientURL())
	ws := newPubSubPair(b, wsURL(s, false))
	data := make([]byte, 128)
	b.SetBytes(128)
	b.ReportAllocs()
	b.ResetTimer()
	var tcpTime, wsTime time.Duration
	const rounds = 10
	for r := range rounds {
		n := b.N / rounds
		if r == 0 {
			n += b.N % rounds
		}
		tcpTime += tcp.run(b, data, n)
		wsTime += ws.run(b, data, n)
	}
	tcpRate := float64(b.N) / tcpTime.Seconds()
	wsRate := float64(b.N) / wsTime.Seconds()
	b.ReportMetric(tcpRate, "tcp-msgs/s")
	b.ReportMetric(wsRate, "ws-msgs/s")
	b.ReportMetric(wsRate/tcpRate, "ws/tcp")
}

// BenchmarkWebsocketCompressedText reports the bytes a WebSocket
// subscriber reads per 16 KiB text message, with and without compression.
func BenchmarkWebsocketCompressedText(b *testing.B) {
	payload := textPayload(16 << 10)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	plain := wireBytes(b, false, payload, b.N)
	packed := wireBytes(b, true, payload, b.N)
	b.ReportMetric(float64(plain)/float64(b.N), "plain-B/msg")
	b.ReportMetric(float64(packed)/float64(b.N), "deflate-B/msg")
	b.ReportMetric(float64(packed)/float64(plain), "deflate/plain")
}

func TestWebsocketMonitoring(t *testing.T) {
	s, _ := startWebsocketServer(t, wsserver.Options{Host: "127.0.0.1", Port: server.RandomPort, NoTLS: true, Compression: true})
	ws := servertest.ConnectURL(t, wsURL(s, false), nats.Name("over-ws"))
	tcp := servertest.ConnectURL(t, s.ClientURL(), nats.Name("over-tcp"))
	require.NoError(t, ws.Flush())
	require.NoError(t, tcp.Flush())

	cz, err := s.Connz(&snapshot.ConnzOptions{})
	require.NoError(t, err)
	types := map[string]string{}
	for _, ci := range cz.Conns {
		types[ci.Name] = ci.Type
	}
	require.Equal(t, map[string]string{"over-ws": "websocket", "over-tcp": "nats"}, types)

	v, err := s.Varz(nil)
	require.NoError(t, err)
	require.Equal(t, listenerOf(s).Addr().(*net.TCPAddr).Port, v.Websocket.Port)
	require.True(t, v.Websocket.NoTLS)
	require.True(t, v.Websocket.Compression)
}
