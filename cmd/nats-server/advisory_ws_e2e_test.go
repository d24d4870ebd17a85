package main

// Upstream nats-server's published security advisories that concern its
// WebSocket listener, replayed against the built binary with a raw
// WebSocket client written here (the attacks need frames no well-behaved
// client library sends). See advisory_auth_e2e_test.go and
// docs/security.md.

import (
	"bufio"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// wsConn is a raw WebSocket client connection (wsClientConn) of a test.
type wsConn struct {
	t *testing.T
	*wsClientConn
}

// wsDial upgrades a connection to addr on path, offering permessage-deflate
// when compress is set, and fails the test unless the server answers 101
// (and, with compress, agrees to compress).
func wsDial(t *testing.T, addr, path string, compress bool) *wsConn {
	t.Helper()
	c, err := dialWS(addr, path, compress)
	require.NoError(t, err)
	t.Cleanup(func() { c.nc.Close() })
	return &wsConn{t: t, wsClientConn: c}
}

// wsFrame returns a masked client frame. length, unless -1, is written as
// the payload length instead of len(payload), to lie about it (as a
// uint64: -1<<63 is a length with its top bit set).
func wsFrame(fin, rsv1 bool, op byte, payload []byte, length int64) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	if rsv1 {
		b0 |= 0x40
	}
	n := uint64(len(payload))
	if length != -1 {
		n = uint64(length)
	}
	return appendMaskedFrameLen(nil, b0, payload, n)
}

// write sends b, reporting whether the server still took it (a server that
// closed the connection makes a write fail sooner or later).
func (c *wsConn) write(b []byte) error {
	c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := c.nc.Write(b)
	return err
}

// closed reads frames until the server closes the connection (at most
// 10 s) and returns the status code of its close frame, 0 without one.
func (c *wsConn) closed() int {
	c.t.Helper()
	code := c.closedCode()
	require.NotEqual(c.t, -1, code, "connection not closed")
	return code
}

// closedCode is closed for another goroutine than the test's: it
// returns the close code, 0 without a close frame, -1 if the server did
// not close the connection within 10 s.
func (c *wsConn) closedCode() int {
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	code, err := c.readClose()
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return -1
	}
	if code == 1005 {
		return 0
	}
	return code
}

// deflate compresses b as permessage-deflate does (raw DEFLATE without
// the final empty block's 00 00 ff ff).
func deflate(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	require.NoError(t, err)
	_, err = w.Write(b)
	require.NoError(t, err)
	require.NoError(t, w.Flush())
	return bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// wsServer starts the binary with a plain ws listener (compression on)
// and, with extra, more configuration.
func wsServer(t *testing.T, extra string) (*proc, string) {
	t.Helper()
	conf := writeFile(t, filepath.Join(t.TempDir(), "ws.conf"),
		"websocket { host: 127.0.0.1, port: -1, no_tls: true, compression: true }\n"+extra)
	p := start(t, "-c", conf)
	return p, strings.TrimPrefix(p.websocketURL(), "ws://")
}

// peakRSS returns the server's peak resident set (VmHWM) in bytes.
func (p *proc) peakRSS() int64 {
	p.t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		p.t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			require.NoError(p.t, err)
			return kb << 10
		}
	}
	p.t.Fatal("no VmHWM")
	return 0
}

// CVE-2026-27889 (GHSA-pq2q-rcw4-3hr6, NATS-advisory 2026-03): a missing
// sanity check on a WebSocket frame let a client crash the server before
// authenticating. Frames that break RFC 6455 each get the connection
// closed, and the server keeps serving.
func TestAdvisoryCVE2026_27889_MalformedFramesPreAuth(t *testing.T) {
	p, addr := wsServer(t, "authorization { user: u, password: p }\n")
	for name, frame := range map[string][]byte{
		"64-bit length with the top bit set":  wsFrame(true, false, 2, nil, -1<<63),
		"64-bit length of MaxInt64":           wsFrame(true, false, 2, nil, 1<<63-1),
		"control frame over 125 bytes":        wsFrame(true, false, 9, bytes.Repeat([]byte("x"), 200), -1),
		"fragmented control frame":            wsFrame(false, false, 9, []byte("x"), -1),
		"close frame with a 1-byte body":      wsFrame(true, false, 8, []byte{3}, -1),
		"close frame with an invalid code":    wsFrame(true, false, 8, []byte{0, 1}, -1),
		"close frame with invalid UTF-8":      wsFrame(true, false, 8, []byte{3, 0xe8, 0xff, 0xfe}, -1),
		"continuation without a first frame":  wsFrame(true, false, 0, []byte("PING\r\n"), -1),
		"unknown opcode":                      wsFrame(true, false, 3, []byte("x"), -1),
		"RSV2 set":                            append([]byte{0x82 | 0x20}, wsFrame(true, false, 2, []byte("x"), -1)[1:]...),
		"RSV1 on a control frame":             wsFrame(true, true, 9, []byte("x"), -1),
		"compressed garbage":                  wsFrame(true, true, 2, []byte{0xff, 0xff, 0xff, 0xff, 0x00}, -1),
		"new data frame inside a fragmented":  append(wsFrame(false, false, 2, []byte("PI"), -1), wsFrame(true, false, 2, []byte("NG\r\n"), -1)...),
		"unmasked frame":                      {0x82, 0x02, 'h', 'i'},
		"length longer than the data sent":    wsFrame(true, false, 2, []byte("PING"), 1<<20),
		"huge compressed first fragment hint": wsFrame(false, true, 2, nil, 1<<40),
	} {
		c := wsDial(t, addr, "/", true)
		c.write(frame)
		if name == "length longer than the data sent" {
			// Nothing wrong yet on the wire: the server waits for the
			// rest; closing our side must not hurt it.
			c.nc.Close()
			continue
		}
		t0 := time.Now()
		code := c.closed()
		t.Logf("%s: close %d after %v", name, code, time.Since(t0).Round(time.Millisecond))
		require.Contains(t, []int{1002, 1007, 1009}, code, "%s: the close code", name)
		p.alive()
	}
}

// CVE-2026-27571 (GHSA-qrvq-68c2-7grw, NATS-advisory 2026-02): a
// compressed WebSocket message was inflated without bound before the
// size check, so a small compression bomb sent before authenticating ate
// the server's memory. A 2 GiB bomb of PINGs in one message, sent before
// CONNECT to a server that wants credentials, must be refused with the
// server's peak memory growing by far less than the bomb.
func TestAdvisoryCVE2026_27571_CompressionBombPreAuth(t *testing.T) {
	// 64 MiB of "PING\r\n" compresses to about 95 KiB; 32 of them in one
	// message inflate to 2 GiB.
	bomb := deflateStream(t, bytes.Repeat([]byte("PING\r\n"), 64<<20/6), 32)
	p, addr := wsServer(t, "authorization { user: u, password: p }\n")
	p.alive()
	before := p.peakRSS()
	c := wsDial(t, addr, "/", true)
	c.write(wsFrame(true, true, 2, bomb, -1))
	code := c.closed()
	p.alive()
	grown := p.peakRSS() - before
	t.Logf("close %d, peak RSS grew by %d MiB for a %d KiB bomb inflating to 2 GiB", code, grown>>20, len(bomb)>>10)
	require.Less(t, grown, int64(128<<20))
}

// The same bomb after authentication, on a server that needs no
// credentials: its PINGs are answered only until the message has
// inflated to max_payload, then the connection is closed with 1009, as
// upstream closes it at max_payload; the server's memory stays bounded.
func TestAdvisoryCVE2026_27571_CompressionBombAfterAuth(t *testing.T) {
	bomb := deflateStream(t, bytes.Repeat([]byte("PING\r\n"), 64<<20/6), 32)
	p, addr := wsServer(t, "")
	p.alive()
	before := p.peakRSS()
	c := wsDial(t, addr, "/", true)
	c.write(wsFrame(true, false, 2, []byte("CONNECT {\"verbose\":false}\r\n"), -1))
	// Read the PONGs while the bomb is written: a client that stops
	// reading is a slow consumer, closed without a close frame.
	closed := make(chan int, 1)
	go func() { closed <- c.closedCode() }()
	c.write(wsFrame(true, true, 2, bomb, -1))
	code := <-closed
	p.alive()
	grown := p.peakRSS() - before
	t.Logf("close %d, peak RSS grew by %d MiB for a %d KiB bomb inflating to 2 GiB", code, grown>>20, len(bomb)>>10)
	require.Equal(t, 1009, code)
	require.Less(t, grown, int64(128<<20))
}

// deflateStream returns one raw DEFLATE stream holding block n times,
// compressing block once: a stream compressed on its own refers to
// nothing before it, so its sync-flushed blocks can follow each other.
func deflateStream(t *testing.T, block []byte, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	require.NoError(t, err)
	_, err = w.Write(block)
	require.NoError(t, err)
	require.NoError(t, w.Flush())
	one := buf.Bytes()
	return bytes.TrimSuffix(bytes.Repeat(one, n), []byte{0, 0, 0xff, 0xff})
}

// CVE-2026-33219 (GHSA-8r68-gvr4-jh7j, NATS-advisory 2026-11): without
// compression, a client that had not authenticated could still make the
// server hold unbounded memory by sending enough data (a message that
// never ends). Sixteen such clients each send 16 MiB in fragments of a
// message without FIN that never completes a protocol line: each is closed
// long before, and the server's peak memory stays bounded.
func TestAdvisoryCVE2026_33219_UnboundedPreAuthData(t *testing.T) {
	p, addr := wsServer(t, "authorization { user: u, password: p }\n")
	p.alive()
	before := p.peakRSS()
	const conns, perConn, frag = 16, 16 << 20, 64 << 10
	body := bytes.Repeat([]byte("x"), frag)
	done := make(chan int64, conns)
	for i := range conns {
		go func() {
			c := wsDial(t, addr, "/", i%2 == 0)
			sent := int64(0)
			op := byte(2)
			first := []byte("CONNECT {\"user\":\"")
			if c.write(wsFrame(false, false, op, first, -1)) != nil {
				done <- sent
				return
			}
			for sent < perConn {
				if c.write(wsFrame(false, false, 0, body, -1)) != nil {
					break
				}
				sent += frag
			}
			done <- sent
		}()
	}
	for range conns {
		sent := <-done
		require.Less(t, sent, int64(perConn), "a client sent 16 MiB without being closed")
	}
	p.alive()
	grown := p.peakRSS() - before
	t.Logf("peak RSS grew by %d MiB for %d clients", grown>>20, conns)
	require.Less(t, grown, int64(128<<20))
}

// GHSA-p957-7v2w-g93g (NATS-advisory 2026-27): a WebSocket listener
// routed the MQTT-over-WebSocket path to MQTT handling even with MQTT not
// configured, and a client reached uninitialised MQTT state and crashed
// the server. Without an mqtt {} block the path is refused and the server
// keeps serving.
func TestAdvisoryGHSA_p957_7v2w_g93g_MQTTPathWithoutMQTT(t *testing.T) {
	p, addr := wsServer(t, "jetstream { store_dir: \""+filepath.Join(t.TempDir(), "js")+"\" }\n")
	for _, hdr := range []string{"", "Sec-WebSocket-Protocol: mqtt\r\n"} {
		nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
		require.NoError(t, err)
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(nc, "GET /mqtt HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n", addr, hdr)
		resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusNotFound, resp.StatusCode, "GET /mqtt %q", hdr)
		nc.Close()
		p.alive()
	}
	p.waitLog("websocket handshake error: mqtt websocket endpoint not enabled")
}
