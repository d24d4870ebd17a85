package websocket_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"natsd.dev/websocket"
)

// Tests in this file speak raw TCP where the exact bytes matter.

func closePayload(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

func TestProtocolViolations(t *testing.T) {
	long := bytes.Repeat([]byte("a"), 126)
	tests := []struct {
		name  string
		cfg   websocket.Config
		ext   string // Sec-WebSocket-Extensions offered
		input []byte
		code  websocket.StatusCode
	}{
		{name: "unmasked frame", input: websocket.AppendClientFrame(nil, 0x82, key, false, []byte("hi")), code: 1002},
		{name: "RSV2", input: frame(0xA2, []byte("hi")), code: 1002},
		{name: "RSV3", input: frame(0x92, []byte("hi")), code: 1002},
		{name: "RSV1 without deflate", input: frame(0xC2, []byte("hi")), code: 1002},
		{name: "RSV1 on control frame", cfg: websocket.Config{Compression: true}, ext: "permessage-deflate",
			input: frame(0xC9, nil), code: 1002},
		{name: "RSV1 on continuation", cfg: websocket.Config{Compression: true}, ext: "permessage-deflate",
			input: join(frame(0x02, []byte("a")), frame(0xC0, []byte("b"))), code: 1002},
		{name: "unknown opcode", input: frame(0x83, nil), code: 1002},
		{name: "unknown control opcode", input: frame(0x8B, nil), code: 1002},
		{name: "ping over 125 bytes", input: frame(0x89, long), code: 1002},
		{name: "fragmented ping", input: frame(0x09, nil), code: 1002},
		{name: "continuation without message", input: frame(0x80, []byte("x")), code: 1002},
		{name: "new message inside fragmented", input: join(frame(0x01, []byte("a")), frame(0x82, []byte("b"))), code: 1002},
		{name: "64-bit length with MSB", input: []byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, code: 1002},
		{name: "invalid UTF-8 text", input: frame(0x81, []byte{'o', 'k', 0xff}), code: 1007},
		{name: "invalid UTF-8 across fragments", input: join(frame(0x01, []byte{0xe2, 0x82}), frame(0x80, []byte{0x28})), code: 1007},
		{name: "truncated UTF-8 at end of text", input: frame(0x81, []byte{'a', 0xe2, 0x82}), code: 1007},
		{name: "surrogate in text", input: frame(0x81, []byte{0xed, 0xa0, 0x80}), code: 1007},
		{name: "close with 1 byte", input: frame(0x88, []byte{3}), code: 1002},
		{name: "close code 999", input: frame(0x88, closePayload(999, "")), code: 1002},
		{name: "close code 1004", input: frame(0x88, closePayload(1004, "")), code: 1002},
		{name: "close code 1005", input: frame(0x88, closePayload(1005, "")), code: 1002},
		{name: "close code 1006", input: frame(0x88, closePayload(1006, "")), code: 1002},
		{name: "close code 1015", input: frame(0x88, closePayload(1015, "")), code: 1002},
		{name: "close code 2000", input: frame(0x88, closePayload(2000, "")), code: 1002},
		{name: "close code 5000", input: frame(0x88, closePayload(5000, "")), code: 1002},
		{name: "close reason not UTF-8", input: frame(0x88, closePayload(1000, "\xc3\x28")), code: 1007},
		{name: "frame over MaxFrameSize", cfg: websocket.Config{MaxFrameSize: 1000},
			input: frame(0x82, make([]byte, 1001)), code: 1009},
		{name: "corrupt deflate data", cfg: websocket.Config{Compression: true}, ext: "permessage-deflate",
			input: frame(0xC2, []byte{0xff, 0xff, 0xff, 0xff}), code: 1007},
		{name: "deflated text not UTF-8", cfg: websocket.Config{Compression: true}, ext: "permessage-deflate",
			input: frame(0xC1, websocket.DeflateForTest([]byte("abc\xff"))), code: 1007},
		{name: "compressed frame over MaxFrameSize", cfg: websocket.Config{Compression: true, MaxFrameSize: 100},
			ext: "permessage-deflate", input: frame(0xC2, emptyBlocks(21)), code: 1009},
		{name: "compressed message over 8x MaxMessageSize", cfg: websocket.Config{Compression: true, MaxMessageSize: 10},
			ext: "permessage-deflate", input: join(frame(0x42, emptyBlocks(12)), frame(0x80, emptyBlocks(12))), code: 1009},
		{name: "inflated message over MaxMessageSize", cfg: websocket.Config{Compression: true, MaxMessageSize: 1000},
			ext: "permessage-deflate", input: frame(0xC2, websocket.DeflateForTest(make([]byte, 1001))), code: 1009},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			s := startServer(t, tc.cfg, echo(done))
			r := dialRaw(t, s.addr)
			var extra []string
			if tc.ext != "" {
				extra = append(extra, "Sec-WebSocket-Extensions: "+tc.ext)
			}
			r.upgrade(extra...)
			r.write(tc.input)
			r.expectClose(tc.code)
			var ce *websocket.CloseError
			if err := <-done; !errors.As(err, &ce) || ce.Code != tc.code {
				t.Fatalf("server Read: %v, want CloseError %d", err, tc.code)
			}
		})
	}
}

// emptyBlocks returns deflate data of n empty stored blocks (what a sync
// flush writes), 5 bytes each, which inflates to nothing.
func emptyBlocks(n int) []byte {
	return bytes.Repeat([]byte{0x00, 0x00, 0x00, 0xff, 0xff}, n)
}

func TestControlFrames(t *testing.T) {
	t.Run("ping gets pong with same payload", func(t *testing.T) {
		s := startServer(t, websocket.Config{}, echo(nil))
		r := dialRaw(t, s.addr)
		r.upgrade()
		payload := bytes.Repeat([]byte("p"), 125)
		r.write(frame(0x89, payload))
		if b0, p := r.frame(); b0 != 0x8A || !bytes.Equal(p, payload) {
			t.Fatalf("got %#x %q", b0, p)
		}
	})
	t.Run("fragmented text with ping in between", func(t *testing.T) {
		s := startServer(t, websocket.Config{}, echo(nil))
		r := dialRaw(t, s.addr)
		r.upgrade()
		// "é" is split between the fragments, and a ping sits between them.
		r.write(join(frame(0x01, []byte("caf\xc3")), frame(0x89, []byte("x")), frame(0x80, []byte("\xa9!"))))
		var got []byte
		pong := false
		for !pong || len(got) < 6 {
			switch b0, p := r.frame(); b0 {
			case 0x8A:
				pong = string(p) == "x"
			case 0x82:
				got = append(got, p...)
			default:
				t.Fatalf("unexpected frame %#x", b0)
			}
		}
		if string(got) != "café!" {
			t.Fatalf("echo %q", got)
		}
	})
	for _, tc := range []struct {
		name    string
		payload []byte
		code    websocket.StatusCode
	}{
		{"close 1000 with reason is echoed", closePayload(1000, "bye"), 1000},
		{"close 4000 is echoed", closePayload(4000, ""), 4000},
		{"close 1012 is echoed", closePayload(1012, ""), 1012},
		{"empty close gets empty close", nil, websocket.StatusNoStatusReceived},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			s := startServer(t, websocket.Config{}, echo(done))
			r := dialRaw(t, s.addr)
			r.upgrade()
			r.write(frame(0x88, tc.payload))
			r.expectClose(tc.code)
			if err := <-done; err != io.EOF {
				t.Fatalf("server Read: %v, want io.EOF", err)
			}
		})
	}
	t.Run("EOF in the middle of a frame", func(t *testing.T) {
		done := make(chan error, 1)
		s := startServer(t, websocket.Config{}, echo(done))
		r := dialRaw(t, s.addr)
		r.upgrade()
		r.write(frame(0x82, []byte("hello"))[:5])
		r.nc.(*net.TCPConn).CloseWrite()
		if err := <-done; err != io.ErrUnexpectedEOF {
			t.Fatalf("server Read: %v", err)
		}
	})
}

func TestHandshakeStatus(t *testing.T) {
	const key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	const ok = "Upgrade: websocket\r\nConnection: Upgrade\r\n" + key + "Sec-WebSocket-Version: 13\r\n"
	tests := []struct {
		name   string
		req    string
		status int
	}{
		{"valid", "GET / HTTP/1.1\r\nHost: h\r\n" + ok + "\r\n", 101},
		{"connection token list", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: WebSocket\r\nConnection: keep-alive, upgrade\r\n" + key + "Sec-WebSocket-Version: 13\r\n\r\n", 101},
		{"POST", "POST / HTTP/1.1\r\nHost: h\r\n" + ok + "\r\n", 405},
		{"HTTP/1.0", "GET / HTTP/1.0\r\nHost: h\r\n" + ok + "\r\n", 400},
		{"no Upgrade", "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n" + key + "Sec-WebSocket-Version: 13\r\n\r\n", 400},
		{"Upgrade h2c", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n" + key + "Sec-WebSocket-Version: 13\r\n\r\n", 400},
		{"Connection close", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: close\r\n" + key + "Sec-WebSocket-Version: 13\r\n\r\n", 400},
		{"no key", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n", 400},
		{"key not base64", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: !!!\r\nSec-WebSocket-Version: 13\r\n\r\n", 400},
		{"key of 15 bytes", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA\r\nSec-WebSocket-Version: 13\r\n\r\n", 400},
		{"version 8", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + key + "Sec-WebSocket-Version: 8\r\n\r\n", 426},
		{"no version", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + key + "\r\n", 400},
		{"with body", "GET / HTTP/1.1\r\nHost: h\r\n" + ok + "Content-Length: 2\r\n\r\nhi", 400},
		{"not HTTP", "hello\r\n\r\n", 400},
		{"header too large", "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + strings.Repeat("b", 70<<10) + "\r\n" + ok + "\r\n", 431},
		{"frame before the answer", "GET / HTTP/1.1\r\nHost: h\r\n" + ok + "\r\n" + string(frame(0x82, []byte("x"))), 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := make(chan error, 1)
			s := startServer(t, websocket.Config{OnHandshakeError: func(err error) { errs <- err }}, func(*websocket.Conn) {})
			r := dialRaw(t, s.addr)
			resp := r.handshake(tc.req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == 101 {
				if got := resp.Header.Get("Sec-WebSocket-Accept"); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
					t.Fatalf("accept %q", got)
				}
				return
			}
			if v := resp.Header.Get("Sec-WebSocket-Version"); v != "13" {
				t.Fatalf("Sec-WebSocket-Version %q", v)
			}
			var he *websocket.HandshakeError
			if err := <-errs; !errors.As(err, &he) || he.Status != tc.status || he.RemoteAddr == nil {
				t.Fatalf("OnHandshakeError got %v", err)
			}
		})
	}
}

func TestOrigin(t *testing.T) {
	tests := []struct {
		name   string
		cfg    websocket.Config
		origin string // "" sends none
		host   string // "" uses the server's address
		status int
	}{
		{"any origin by default", websocket.Config{}, "http://evil.example", "", 101},
		{"allowed", websocket.Config{AllowedOrigins: []string{"http://www.example.com"}}, "http://www.example.com", "", 101},
		{"allowed with default port", websocket.Config{AllowedOrigins: []string{"http://www.example.com"}}, "http://www.example.com:80", "", 101},
		{"allowed, host case", websocket.Config{AllowedOrigins: []string{"http://www.example.com"}}, "http://WWW.Example.com", "", 101},
		{"one of several", websocket.Config{AllowedOrigins: []string{"http://a.example", "https://b.example:8443"}}, "https://b.example:8443", "", 101},
		{"no origin header", websocket.Config{AllowedOrigins: []string{"http://www.example.com"}}, "", "", 101},
		{"other host", websocket.Config{AllowedOrigins: []string{"http://www.example.com"}}, "http://www.other.com", "", 403},
		{"other scheme", websocket.Config{AllowedOrigins: []string{"http://www.example.com"}}, "https://www.example.com", "", 403},
		{"other port", websocket.Config{AllowedOrigins: []string{"https://b.example:8443"}}, "https://b.example", "", 403},
		{"unparsable origin", websocket.Config{AllowedOrigins: []string{"http://www.example.com"}}, "null", "", 403},
		{"same origin", websocket.Config{SameOrigin: true}, "http://nats.example:8080", "nats.example:8080", 101},
		{"same origin, default port", websocket.Config{SameOrigin: true}, "http://nats.example", "nats.example:80", 101},
		{"not same host", websocket.Config{SameOrigin: true}, "http://other.example:8080", "nats.example:8080", 403},
		{"not same port", websocket.Config{SameOrigin: true}, "http://nats.example:8081", "nats.example:8080", 403},
		{"same origin and allowed list", websocket.Config{SameOrigin: true, AllowedOrigins: []string{"http://x.example"}},
			"http://nats.example", "nats.example", 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, tc.cfg, func(*websocket.Conn) {})
			r := dialRaw(t, s.addr)
			host := tc.host
			if host == "" {
				host = s.addr
			}
			var extra []string
			if tc.origin != "" {
				extra = append(extra, "Origin: "+tc.origin)
			}
			if resp := r.handshake(upgradeRequest(host, extra...)); resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}
	t.Run("invalid allowed origin", func(t *testing.T) {
		inner, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer inner.Close()
		if _, err := websocket.NewListener(inner, websocket.Config{AllowedOrigins: []string{"www.example.com"}}); err == nil {
			t.Fatal("NewListener accepted an origin without scheme")
		}
	})
}

func TestDeflateNegotiation(t *testing.T) {
	tests := []struct {
		offer string
		want  string
	}{
		{"permessage-deflate", "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{"permessage-deflate; client_max_window_bits", "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{"permessage-deflate; server_max_window_bits=10", ""},
		{"permessage-deflate; server_max_window_bits=10, permessage-deflate",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{"permessage-deflate; server_max_window_bits=15",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15"},
		{"permessage-deflate; unknown_param", ""},
		{"x-webkit-deflate-frame", ""},
	}
	for _, tc := range tests {
		t.Run(tc.offer, func(t *testing.T) {
			s := startServer(t, websocket.Config{Compression: true}, func(*websocket.Conn) {})
			r := dialRaw(t, s.addr)
			resp := r.upgrade("Sec-WebSocket-Extensions: " + tc.offer)
			if got := resp.Header.Get("Sec-WebSocket-Extensions"); got != tc.want {
				t.Fatalf("answer %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("server writes compressed frames", func(t *testing.T) {
		msg := bytes.Repeat([]byte("MSG foo 1 5\r\nhello\r\n"), 50)
		s := startServer(t, websocket.Config{Compression: true}, func(c *websocket.Conn) { c.Write(msg) })
		r := dialRaw(t, s.addr)
		r.upgrade("Sec-WebSocket-Extensions: permessage-deflate")
		b0, p := r.frame()
		if b0 != 0xC2 || len(p) >= len(msg)/2 {
			t.Fatalf("frame %#x of %d bytes for %d", b0, len(p), len(msg))
		}
		if got, err := websocket.InflateForTest(p); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("inflate: %v", err)
		}
	})
}

func TestHandshakeTimeout(t *testing.T) {
	errs := make(chan error, 4)
	accepted := make(chan struct{}, 1)
	s := startServer(t, websocket.Config{
		HandshakeTimeout: 300 * time.Millisecond,
		OnHandshakeError: func(err error) { errs <- err },
	}, func(*websocket.Conn) { accepted <- struct{}{} })

	slow := dialRaw(t, s.addr)
	io.WriteString(slow.nc, "GET / HTTP/1.1\r\n") // and nothing more
	start := time.Now()
	// A slow client does not hold up others.
	fast := dialRaw(t, s.addr)
	fast.upgrade()
	select {
	case <-accepted:
	case <-time.After(testTimeout):
		t.Fatal("fast client not accepted")
	}
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Logf("fast client took %v (machine busy?)", d)
	}
	var he *websocket.HandshakeError
	select {
	case err := <-errs:
		if !errors.As(err, &he) || he.Status != 0 {
			t.Fatalf("handshake error %v", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("no handshake timeout")
	}
	if _, err := slow.br.ReadByte(); err != io.EOF {
		t.Fatalf("slow client: %v, want EOF", err)
	}
}

func TestListenerClose(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := websocket.NewListener(inner, websocket.Config{HandshakeTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	pending := dialRaw(t, inner.Addr().String())
	io.WriteString(pending.nc, "GET / HTTP/1.1\r\n")

	accepted := make(chan error, 1)
	go func() {
		_, err := l.Accept()
		accepted <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the handshake start
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-accepted; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept: %v", err)
	}
	if _, err := pending.br.ReadByte(); err != io.EOF {
		t.Fatalf("pending handshake: %v, want EOF", err)
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close: %v", err)
	}
}

func TestReadDeadlineIsResumable(t *testing.T) {
	got := make(chan string, 1)
	s := startServer(t, websocket.Config{}, func(c *websocket.Conn) {
		buf := make([]byte, 64)
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		_, err := c.Read(buf)
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			got <- "first read: " + err.Error()
			return
		}
		c.SetReadDeadline(time.Time{})
		n, err := io.ReadFull(c, buf[:5])
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(buf[:n])
	})
	r := dialRaw(t, s.addr)
	r.upgrade()
	f := frame(0x82, []byte("hello"))
	r.write(f[:3]) // half a header: the timeout must not lose it
	time.Sleep(200 * time.Millisecond)
	r.write(f[3:])
	if g := <-got; g != "hello" {
		t.Fatal(g)
	}
}

var _ net.Conn = (*websocket.Conn)(nil)
var _ net.Listener = (*websocket.Listener)(nil)
var _ = http.StatusOK

// TestRefusedPeerReadsCloseFrame: a peer refused in the middle of a large
// frame (over MaxFrameSize) keeps sending it; the server half-closes and
// drains, so the peer reads the 1009 close frame and then the end of the
// stream, not a reset that would destroy the frame (the server's socket
// closed with the peer's bytes unread).
func TestRefusedPeerReadsCloseFrame(t *testing.T) {
	done := make(chan error, 1)
	s := startServer(t, websocket.Config{MaxFrameSize: 1000}, echo(done))
	r := dialRaw(t, s.addr)
	r.upgrade()
	big := frame(0x82, make([]byte, 2<<20))
	wrote := make(chan error, 1)
	go func() {
		_, err := r.nc.Write(big)
		wrote <- err
	}()
	var ce *websocket.CloseError
	if err := <-done; !errors.As(err, &ce) || ce.Code != 1009 {
		t.Fatalf("server Read: %v, want CloseError 1009", err)
	}
	// The server closed its end while the frame was still coming: read
	// only once the whole of it went out.
	if err := <-wrote; err != nil {
		t.Fatalf("writing the frame: %v", err)
	}
	r.expectClose(1009)
}
