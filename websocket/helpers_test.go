package websocket_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	cws "github.com/coder/websocket"

	"natsd.dev/websocket"
)

const testTimeout = 5 * time.Second

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := checkNoLeaks(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// checkNoLeaks waits up to 3 s for every goroutine running code of this
// package or of the client library to end.
func checkNoLeaks() error {
	var leaked []string
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		buf := make([]byte, 1<<20)
		stacks := strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n")
		leaked = leaked[:0]
		for _, s := range stacks[1:] { // [0] is this goroutine
			if strings.Contains(s, "natsd.dev/websocket") || strings.Contains(s, "github.com/coder/websocket") {
				leaked = append(leaked, s)
			}
		}
		if len(leaked) == 0 {
			return nil
		}
	}
	return fmt.Errorf("leaked goroutines:\n%s", strings.Join(leaked, "\n\n"))
}

// server runs a Listener on 127.0.0.1 and a handler per connection. Its
// cleanup closes the listener and the connections and waits for the
// handlers.
type server struct {
	l    *websocket.Listener
	addr string
	url  string

	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

func startServer(t *testing.T, cfg websocket.Config, handle func(*websocket.Conn)) *server {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, inner, "ws", cfg, handle)
}

func serve(t *testing.T, inner net.Listener, scheme string, cfg websocket.Config, handle func(*websocket.Conn)) *server {
	t.Helper()
	l, err := websocket.NewListener(inner, cfg)
	if err != nil {
		inner.Close()
		t.Fatal(err)
	}
	s := &server{l: l, addr: inner.Addr().String()}
	s.url = scheme + "://" + s.addr
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, nc)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer nc.Close()
				handle(nc.(*websocket.Conn))
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

// echo copies everything read back, one message per read, and reports
// how reading ended on done when it is not nil.
func echo(done chan<- error) func(*websocket.Conn) {
	return func(c *websocket.Conn) {
		buf := make([]byte, 32<<10)
		var err error
		for {
			var n int
			n, err = c.Read(buf)
			if n > 0 {
				if _, werr := c.Write(buf[:n]); werr != nil && !errors.Is(werr, websocket.ErrCloseSent) {
					err = werr
					break
				}
			}
			if err != nil {
				break
			}
		}
		if done != nil {
			done <- err
		}
	}
}

// dial connects a real WebSocket client.
func dial(t *testing.T, url string, opts *cws.DialOptions) (*cws.Conn, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	c, resp, err := cws.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	c.SetReadLimit(-1)
	t.Cleanup(func() { c.CloseNow() })
	return c, resp
}

// readAtLeast reads messages until n bytes arrived and checks they were
// all binary, as the server sends them.
func readAtLeast(t *testing.T, c *cws.Conn, n int) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	var got []byte
	for len(got) < n {
		typ, p, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("after %d of %d bytes: %v", len(got), n, err)
		}
		if typ != cws.MessageBinary {
			t.Fatalf("server sent message type %v", typ)
		}
		got = append(got, p...)
	}
	return got
}

// rawConn is a client speaking bytes over TCP.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(testTimeout))
	return &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// upgradeRequest returns a valid handshake request with extra header lines.
func upgradeRequest(host string, extra ...string) string {
	var b strings.Builder
	b.WriteString("GET / HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")
	for _, e := range extra {
		b.WriteString(e + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// handshake sends req and returns the response (whose body is read).
func (r *rawConn) handshake(req string) *http.Response {
	r.t.Helper()
	if _, err := io.WriteString(r.nc, req); err != nil {
		r.t.Fatal(err)
	}
	resp, err := http.ReadResponse(r.br, nil)
	if err != nil {
		r.t.Fatalf("reading response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	return resp
}

// upgrade performs a successful handshake with extra header lines.
func (r *rawConn) upgrade(extra ...string) *http.Response {
	r.t.Helper()
	resp := r.handshake(upgradeRequest(r.nc.RemoteAddr().String(), extra...))
	if resp.StatusCode != http.StatusSwitchingProtocols {
		r.t.Fatalf("status %d", resp.StatusCode)
	}
	return resp
}

func (r *rawConn) write(b []byte) {
	r.t.Helper()
	if _, err := r.nc.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

// frame reads one server frame; it fails the test if the frame is masked.
func (r *rawConn) frame() (b0 byte, payload []byte) {
	r.t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(r.br, h[:]); err != nil {
		r.t.Fatalf("reading frame: %v", err)
	}
	if h[1]&0x80 != 0 {
		r.t.Fatal("server frame is masked")
	}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var l [2]byte
		io.ReadFull(r.br, l[:])
		n = uint64(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		io.ReadFull(r.br, l[:])
		n = binary.BigEndian.Uint64(l[:])
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r.br, payload); err != nil {
		r.t.Fatalf("reading payload: %v", err)
	}
	return h[0], payload
}

// expectClose reads frames up to a close frame and checks its code, then
// checks that the server closes the TCP connection.
func (r *rawConn) expectClose(code websocket.StatusCode) {
	r.t.Helper()
	for {
		b0, p := r.frame()
		if b0 != 0x88 {
			continue
		}
		switch {
		case code == websocket.StatusNoStatusReceived && len(p) == 0:
		case len(p) >= 2 && websocket.StatusCode(binary.BigEndian.Uint16(p)) == code:
		default:
			r.t.Fatalf("close frame %x, want code %d", p, code)
		}
		break
	}
	if n, err := r.br.Read(make([]byte, 1)); err != io.EOF {
		r.t.Fatalf("after close: %d bytes, %v", n, err)
	}
}

var key = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// frame encodes a masked client frame.
func frame(b0 byte, payload []byte) []byte {
	return websocket.AppendClientFrame(nil, b0, key, true, payload)
}

func join(b ...[]byte) []byte { return bytes.Join(b, nil) }
