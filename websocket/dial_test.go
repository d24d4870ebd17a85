package websocket_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"

	"natsd.dev/websocket"
)

// Tests in this file run the client end (Dial, ClientHandshake) against
// the package's Listener and against raw TCP servers that check bytes.

func dialT(t *testing.T, url string, cfg websocket.DialConfig) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	c, err := websocket.Dial(ctx, url, cfg)
	if err != nil {
		t.Fatalf("Dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestDialEcho(t *testing.T) {
	payload := bytes.Repeat([]byte("LMSG foo.bar 11\r\nhello world\r\n"), (1<<20)/29+1)
	sizes := []int{1, 63, 64, 125, 126, 4096, 4097, 65535, 65536, 1 << 20}
	for _, tc := range []struct {
		name                   string
		srvCompress, cliOffer  bool
		allowNoMask, cliNoMask bool
		compressed, masked     bool
	}{
		{name: "plain", masked: true},
		{name: "deflate", srvCompress: true, cliOffer: true, compressed: true, masked: true},
		{name: "offer-refused", cliOffer: true, masked: true},
		{name: "server-only-deflate", srvCompress: true, masked: true},
		{name: "no-masking", allowNoMask: true, cliNoMask: true},
		{name: "no-masking-refused", cliNoMask: true, masked: true},
		{name: "no-masking-deflate", srvCompress: true, cliOffer: true, allowNoMask: true, cliNoMask: true, compressed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			accepted := make(chan *websocket.Conn, 1)
			cfg := websocket.Config{Compression: tc.srvCompress}
			if tc.allowNoMask {
				cfg.AllowNoMasking = func(r *http.Request) bool { return r.URL.Path == "/leafnode" }
			}
			s := startServer(t, cfg, func(c *websocket.Conn) {
				accepted <- c
				echo(nil)(c)
			})
			c := dialT(t, s.url+"/leafnode", websocket.DialConfig{Compression: tc.cliOffer, NoMasking: tc.cliNoMask})
			sc := <-accepted
			if c.Compressed() != tc.compressed || sc.Compressed() != tc.compressed {
				t.Fatalf("compressed: client %v server %v, want %v", c.Compressed(), sc.Compressed(), tc.compressed)
			}
			if c.Masked() != tc.masked || sc.Masked() {
				t.Fatalf("masked: client %v server %v, want %v", c.Masked(), sc.Masked(), tc.masked)
			}
			if got := c.Response().Header.Get(websocket.NoMaskingHeader); (got == "true") != !tc.masked {
				t.Fatalf("answer's %s: %q", websocket.NoMaskingHeader, got)
			}
			if sc.Request().URL.Path != "/leafnode" {
				t.Fatalf("path %q", sc.Request().URL.Path)
			}
			c.SetDeadline(time.Now().Add(testTimeout))
			got := make([]byte, len(payload))
			for _, n := range sizes {
				if _, err := c.Write(payload[:n]); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(c, got[:n]); err != nil {
					t.Fatalf("size %d: %v", n, err)
				}
				if !bytes.Equal(got[:n], payload[:n]) {
					t.Fatalf("size %d: echo differs", n)
				}
				// The same bytes as a batch of three buffers.
				v := [][]byte{payload[:n/3], payload[n/3 : 2*n/3], payload[2*n/3 : n]}
				if m, err := c.WriteBuffers(v); err != nil || m != int64(n) {
					t.Fatalf("WriteBuffers: %d, %v", m, err)
				}
				if _, err := io.ReadFull(c, got[:n]); err != nil {
					t.Fatalf("size %d batch: %v", n, err)
				}
				if !bytes.Equal(got[:n], payload[:n]) {
					t.Fatalf("size %d batch: echo differs", n)
				}
			}
			// The client closes: the server's read ends with EOF and the
			// client's with EOF after the echoed close frame.
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// rawServer accepts one TCP connection and runs serve on it.
func rawServer(t *testing.T, serve func(nc net.Conn, br *bufio.Reader)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := l.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(testTimeout))
		serve(nc, bufio.NewReader(nc))
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
	})
	return l.Addr().String()
}

// accept101 answers req as a server would, with extra header lines.
func accept101(req *http.Request, extra ...string) string {
	var b strings.Builder
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ")
	b.WriteString(websocket.AcceptKey(req.Header.Get("Sec-WebSocket-Key")))
	b.WriteString("\r\n")
	for _, e := range extra {
		b.WriteString(e + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// readClientFrame reads one frame from a client and unmasks it.
func readClientFrame(t *testing.T, br *bufio.Reader) (b0 byte, masked bool, payload []byte) {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		t.Errorf("reading frame: %v", err)
		return
	}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var l [2]byte
		io.ReadFull(br, l[:])
		n = uint64(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		io.ReadFull(br, l[:])
		n = binary.BigEndian.Uint64(l[:])
	}
	var key [4]byte
	masked = h[1]&0x80 != 0
	if masked {
		io.ReadFull(br, key[:])
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(br, payload); err != nil {
		t.Errorf("reading payload: %v", err)
	}
	for i := range payload {
		payload[i] ^= key[i%4]
	}
	return h[0], masked, payload
}

// TestDialWire checks the request and the frames the client sends, and
// that frames sent with the 101 answer are read.
func TestDialWire(t *testing.T) {
	for _, noMask := range []bool{false, true} {
		t.Run(map[bool]string{false: "masked", true: "no-masking"}[noMask], func(t *testing.T) {
			got := make(chan []byte, 1)
			addr := rawServer(t, func(nc net.Conn, br *bufio.Reader) {
				req, err := http.ReadRequest(br)
				if err != nil {
					t.Error(err)
					return
				}
				switch {
				case req.Method != "GET" || req.RequestURI != "/base/leafnode?a=1":
					t.Errorf("request %s %s", req.Method, req.RequestURI)
				case req.Host != nc.LocalAddr().String():
					t.Errorf("Host %q", req.Host)
				case req.Header.Get("Sec-WebSocket-Version") != "13" || req.Header.Get("X-Test") != "yes":
					t.Errorf("headers %v", req.Header)
				case req.Header.Get("Sec-WebSocket-Extensions") != "permessage-deflate; server_no_context_takeover; client_no_context_takeover":
					t.Errorf("extensions %q", req.Header.Get("Sec-WebSocket-Extensions"))
				case req.Header.Get("Nats-No-Masking") != map[bool]string{true: "true"}[noMask]:
					t.Errorf("Nats-No-Masking %q", req.Header.Get("Nats-No-Masking"))
				}
				var extra []string
				if noMask {
					extra = append(extra, "Nats-No-Masking: true")
				}
				// The answer and a first frame (INFO) in one write.
				ans := accept101(req, extra...) + "\x82\x06INFO\r\n"
				io.WriteString(nc, ans)
				b0, masked, p := readClientFrame(t, br)
				if b0 != 0x82 || masked == noMask {
					t.Errorf("frame %#x masked %v", b0, masked)
				}
				got <- p
			})
			c := dialT(t, "ws://"+addr+"/base/leafnode?a=1", websocket.DialConfig{
				Compression: true, NoMasking: noMask, Header: http.Header{"X-Test": {"yes"}},
			})
			if c.Compressed() {
				t.Fatal("compressed without the server's consent")
			}
			c.SetDeadline(time.Now().Add(testTimeout))
			buf := make([]byte, 6)
			if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "INFO\r\n" {
				t.Fatalf("read %q, %v", buf, err)
			}
			msg := bytes.Repeat([]byte("CONNECT {}\r\n"), 20)
			if _, err := c.Write(msg); err != nil {
				t.Fatal(err)
			}
			if p := <-got; !bytes.Equal(p, msg) {
				t.Fatalf("server got %q", p)
			}
		})
	}
}

// TestDialBadAnswers checks the answers that do not upgrade.
func TestDialBadAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(req *http.Request) string
		want   error
		status int
	}{
		{"404", func(*http.Request) string {
			return "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
		}, websocket.ErrBadHandshake, 404},
		{"wrong-accept", func(*http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n"
		}, websocket.ErrBadHandshake, 101},
		{"no-upgrade", func(r *http.Request) string {
			return strings.Replace(accept101(r), "Upgrade: websocket\r\n", "", 1)
		}, websocket.ErrBadHandshake, 101},
		{"context-takeover", func(r *http.Request) string {
			return accept101(r, "Sec-WebSocket-Extensions: permessage-deflate")
		}, websocket.ErrBadExtension, 101},
		{"unknown-extension", func(r *http.Request) string {
			return accept101(r, "Sec-WebSocket-Extensions: x-foo")
		}, websocket.ErrBadExtension, 101},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := rawServer(t, func(nc net.Conn, br *bufio.Reader) {
				req, err := http.ReadRequest(br)
				if err != nil {
					t.Error(err)
					return
				}
				io.WriteString(nc, tc.answer(req))
				io.Copy(io.Discard, br) // until the client closes
			})
			ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
			defer cancel()
			_, err := websocket.Dial(ctx, "ws://"+addr, websocket.DialConfig{Compression: true})
			var he *websocket.HandshakeError
			if !errors.Is(err, tc.want) || !errors.As(err, &he) || he.Status != tc.status {
				t.Fatalf("err %v, want %v with status %d", err, tc.want, tc.status)
			}
		})
	}
}

// TestDialRefusedByListener: a refusal by CheckRequest reaches the
// client as its status.
func TestDialRefusedByListener(t *testing.T) {
	s := startServer(t, websocket.Config{CheckRequest: func(*http.Request) error {
		return &websocket.HandshakeError{Status: http.StatusNotFound}
	}}, echo(nil))
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	_, err := websocket.Dial(ctx, s.url+"/leafnode", websocket.DialConfig{})
	var he *websocket.HandshakeError
	if !errors.As(err, &he) || he.Status != http.StatusNotFound || !errors.Is(err, websocket.ErrBadHandshake) {
		t.Fatalf("err %v", err)
	}
}

// TestDialTimeout: a server that never answers costs HandshakeTimeout.
func TestDialTimeout(t *testing.T) {
	addr := rawServer(t, func(nc net.Conn, br *bufio.Reader) {
		io.Copy(io.Discard, br) // reads the request, never answers
	})
	start := time.Now()
	_, err := websocket.Dial(t.Context(), "ws://"+addr, websocket.DialConfig{HandshakeTimeout: 100 * time.Millisecond})
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err %v, want a timeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v", d)
	}

	// Canceling ctx ends the handshake as well.
	addr = rawServer(t, func(nc net.Conn, br *bufio.Reader) { io.Copy(io.Discard, br) })
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = websocket.Dial(ctx, "ws://"+addr, websocket.DialConfig{HandshakeTimeout: -1})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}

func TestDialTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tl := tls.NewListener(inner, &tls.Config{Certificates: []tls.Certificate{cert}})
	s := serve(t, tl, "wss", websocket.Config{Compression: true}, echo(nil))
	c := dialT(t, s.url, websocket.DialConfig{TLSConfig: &tls.Config{RootCAs: pool}, Compression: true})
	if _, ok := c.NetConn().(*tls.Conn); !ok || !c.Compressed() {
		t.Fatalf("NetConn %T, compressed %v", c.NetConn(), c.Compressed())
	}
	c.SetDeadline(time.Now().Add(testTimeout))
	msg := bytes.Repeat([]byte("x"), 1000)
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo: %v", err)
	}

	// Without the CA the certificate is refused.
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	if _, err := websocket.Dial(ctx, s.url, websocket.DialConfig{}); err == nil {
		t.Fatal("dialed a server whose certificate is not trusted")
	}
}

// TestServerMasking: a Listener refuses unmasked frames unless it allowed
// no masking for the request, and a client refuses masked server frames.
func TestServerMasking(t *testing.T) {
	unmasked := websocket.AppendClientFrame(nil, 0x82, [4]byte{}, false, []byte("PING\r\n"))
	allow := func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/leafnode") }

	// Not asked: refused with 1002.
	s := startServer(t, websocket.Config{AllowNoMasking: allow}, echo(nil))
	r := dialRaw(t, s.addr)
	if resp := r.upgrade(); resp.Header.Get("Nats-No-Masking") != "" {
		t.Fatal("answered no masking to a request without it")
	}
	r.write(unmasked)
	r.expectClose(websocket.StatusProtocolError)

	// Asked on another path: refused too.
	r = dialRaw(t, s.addr)
	if resp := r.upgrade("Nats-No-Masking: true"); resp.Header.Get("Nats-No-Masking") != "" {
		t.Fatal("answered no masking on a path AllowNoMasking refuses")
	}
	r.write(unmasked)
	r.expectClose(websocket.StatusProtocolError)

	// Asked and allowed: unmasked and masked frames both work.
	r = dialRaw(t, s.addr)
	resp := r.handshake(strings.Replace(upgradeRequest(s.addr, "Nats-No-Masking: true"), "GET / ", "GET /leafnode ", 1))
	if resp.StatusCode != 101 || resp.Header.Get("Nats-No-Masking") != "true" {
		t.Fatalf("status %d, Nats-No-Masking %q", resp.StatusCode, resp.Header.Get("Nats-No-Masking"))
	}
	r.write(join(unmasked, frame(0x82, []byte("PONG\r\n"))))
	var echoed []byte
	for len(echoed) < 12 {
		_, p := r.frame()
		echoed = append(echoed, p...)
	}
	if string(echoed) != "PING\r\nPONG\r\n" {
		t.Fatalf("echo %q", echoed)
	}

	// A client refuses a masked server frame with 1002.
	closeFrame := make(chan []byte, 1)
	addr := rawServer(t, func(nc net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil {
			t.Error(err)
			return
		}
		io.WriteString(nc, accept101(req))
		nc.Write(frame(0x82, []byte("INFO\r\n")))
		_, _, p := readClientFrame(t, br)
		closeFrame <- p
	})
	c := dialT(t, "ws://"+addr, websocket.DialConfig{})
	c.SetDeadline(time.Now().Add(testTimeout))
	_, err := c.Read(make([]byte, 10))
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusProtocolError {
		t.Fatalf("read: %v", err)
	}
	if p := <-closeFrame; len(p) < 2 || binary.BigEndian.Uint16(p) != 1002 {
		t.Fatalf("close frame %q", p)
	}
}

// s2Layer is an S2 stream each way, as NATS leaf nodes put beneath the
// framing.
type s2Layer struct {
	r *s2.Reader
	w *s2.Writer
}

func (l *s2Layer) Read(p []byte) (int, error) { return l.r.Read(p) }

func (l *s2Layer) Write(p []byte) (int, error) {
	n, err := l.w.Write(p)
	if err == nil {
		err = l.w.Flush()
	}
	return n, err
}

func wrapS2(r io.Reader, nc net.Conn) io.ReadWriter {
	return &s2Layer{r: s2.NewReader(r), w: s2.NewWriter(nc, s2.WriterConcurrency(1))}
}

// TestWrapTransport switches both ends to an S2 layer beneath the framing
// after a first message, then echoes messages of every size through it.
func TestWrapTransport(t *testing.T) {
	for _, deflate := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "deflate"}[deflate], func(t *testing.T) {
			done := make(chan error, 1)
			s := startServer(t, websocket.Config{Compression: deflate}, func(c *websocket.Conn) {
				buf := make([]byte, 8)
				if _, err := io.ReadFull(c, buf[:7]); err != nil || string(buf[:7]) != "SWITCH\n" {
					done <- fmt.Errorf("first message %q, %v", buf, err)
					return
				}
				if err := c.WrapTransport(wrapS2); err != nil {
					done <- err
					return
				}
				done <- nil
				echo(nil)(c)
			})
			c := dialT(t, s.url, websocket.DialConfig{Compression: deflate})
			c.SetDeadline(time.Now().Add(testTimeout))
			if _, err := c.Write([]byte("SWITCH\n")); err != nil {
				t.Fatal(err)
			}
			if err := c.WrapTransport(wrapS2); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			payload := bytes.Repeat([]byte("LMSG foo 5\r\nhello\r\n"), 10000)
			got := make([]byte, len(payload))
			for _, n := range []int{1, 100, 5000, len(payload)} {
				if _, err := c.Write(payload[:n]); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(c, got[:n]); err != nil || !bytes.Equal(got[:n], payload[:n]) {
					t.Fatalf("size %d: %v", n, err)
				}
			}
		})
	}
}

func TestWrapTransportInsideMessage(t *testing.T) {
	got := make(chan error, 1)
	s := startServer(t, websocket.Config{}, func(c *websocket.Conn) {
		buf := make([]byte, 3)
		io.ReadFull(c, buf) // 3 bytes of a 6-byte message
		got <- c.WrapTransport(wrapS2)
	})
	c := dialT(t, s.url, websocket.DialConfig{})
	c.Write([]byte("abcdef"))
	if err := <-got; !errors.Is(err, websocket.ErrInsideMessage) {
		t.Fatalf("err %v", err)
	}
}
