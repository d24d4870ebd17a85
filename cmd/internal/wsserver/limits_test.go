package wsserver_test

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"natsd.dev/cmd/internal/wsserver"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/websocket"
)

// deflateConn is a raw WebSocket client connection that negotiated
// permessage-deflate.
type deflateConn struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

// upgradeDeflate upgrades a connection on path offering permessage-deflate
// and checks that the server agreed.
func upgradeDeflate(t testing.TB, addr, path string) *deflateConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	require.NoError(t, nc.SetDeadline(time.Now().Add(10*time.Second)))
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
	_, err = io.WriteString(nc, req)
	require.NoError(t, err)
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate")
	return &deflateConn{t: t, nc: nc, br: br}
}

// deflate compresses p as a permessage-deflate sender does.
func deflate(p []byte) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	w.Write(p)
	w.Flush()
	return b.Bytes()[:b.Len()-4]
}

// sendCompressed sends p as one compressed binary message.
func (c *deflateConn) sendCompressed(p []byte) {
	c.t.Helper()
	z := deflate(p)
	key := [4]byte{7, 3, 5, 1}
	b := []byte{0xC2}
	switch n := len(z); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n < 1<<16:
		b = binary.BigEndian.AppendUint16(append(b, 0x80|126), uint16(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, 0x80|127), uint64(n))
	}
	b = append(b, key[:]...)
	for i, x := range z {
		b = append(b, x^key[i%4])
	}
	_, err := c.nc.Write(b)
	require.NoError(c.t, err)
}

// next reads the next message of the server, inflated, and its opcode.
func (c *deflateConn) next() (op byte, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var l [2]byte
		io.ReadFull(c.br, l[:])
		n = uint64(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		io.ReadFull(c.br, l[:])
		n = binary.BigEndian.Uint64(l[:])
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, payload); err != nil {
		return 0, nil, err
	}
	if h[0]&0x40 != 0 {
		tail := []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}
		if payload, err = io.ReadAll(flate.NewReader(io.MultiReader(bytes.NewReader(payload), bytes.NewReader(tail)))); err != nil {
			return 0, nil, err
		}
	}
	return h[0] & 0x0F, payload, nil
}

// waitFor reads messages until one contains want; it fails the test on a
// close frame or an error.
func (c *deflateConn) waitFor(want string) {
	c.t.Helper()
	var got []byte
	for {
		op, p, err := c.next()
		require.NoError(c.t, err, "waiting for %q, got %q", want, got)
		require.NotEqual(c.t, byte(8), op, "close frame %x waiting for %q", p, want)
		got = append(got, p...)
		if bytes.Contains(got, []byte(want)) {
			return
		}
	}
}

// expectClose reads up to a close frame and returns its status code.
func (c *deflateConn) expectClose() websocket.StatusCode {
	c.t.Helper()
	for {
		op, p, err := c.next()
		require.NoError(c.t, err, "no close frame")
		if op == 8 {
			require.GreaterOrEqual(c.t, len(p), 2)
			return websocket.StatusCode(binary.BigEndian.Uint16(p))
		}
	}
}

// pubs returns a CONNECT, small PUBs up to n bytes in all, and a PING.
func pubs(n int) []byte {
	b := []byte("CONNECT {\"verbose\":false}\r\n")
	ping := "PING\r\n"
	for len(b)+len("PUB a 2\r\nhi\r\n")+len(ping) <= n {
		b = append(b, "PUB a 2\r\nhi\r\n"...)
	}
	return append(b, ping...)
}

// TestCompressedMessageLimit checks the caps on a compressed message of a
// NATS client: it may inflate to max_payload and is closed with 1009 past
// it, before the server processes the PUBs beyond.
func TestCompressedMessageLimit(t *testing.T) {
	const maxPayload = 4096
	s := servertest.Start(t, server.Options{MaxPayload: maxPayload})
	startWS(t, s, wsserver.Options{Host: "127.0.0.1", Port: server.RandomPort, NoTLS: true, Compression: true})
	addr := listenerOf(s).Addr().String()

	ok := upgradeDeflate(t, addr, "/")
	ok.sendCompressed(pubs(maxPayload))
	ok.waitFor("PONG\r\n")

	sub := servertest.Connect(t, s)
	got, err := sub.SubscribeSync("a")
	require.NoError(t, err)
	require.NoError(t, sub.Flush())
	bomb := upgradeDeflate(t, addr, "/")
	bomb.sendCompressed(pubs(64 * maxPayload))
	require.Equal(t, websocket.StatusMessageTooBig, bomb.expectClose())
	// The PUBs within the first max_payload bytes went through, the rest
	// did not: once the server dropped the client, a marker published
	// after them ends the count.
	servertest.WaitUntil(t, "the bomb's client gone", func() bool { return s.NumClients() == 2 })
	require.NoError(t, sub.Publish("a", []byte("end")))
	n := 0
	for {
		m, err := got.NextMsg(5 * time.Second)
		require.NoError(t, err)
		if string(m.Data) == "end" {
			break
		}
		n++
	}
	require.Greater(t, n, 0)
	require.LessOrEqual(t, n, maxPayload/len("PUB a 2\r\nhi\r\n"))
	t.Logf("%d PUBs of %d went through before 1009", n, 64*maxPayload/len("PUB a 2\r\nhi\r\n"))
}

// TestEndpointMessageLimit checks that an endpoint's connections may
// inflate a message to max_payload plus the endpoint's MessageOverhead.
func TestEndpointMessageLimit(t *testing.T) {
	const maxPayload, overhead = 4096, 1000
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	read := func(c net.Conn) {
		go func() {
			defer c.Close()
			buf := make([]byte, 1024)
			total := 0
			for {
				n, err := c.Read(buf)
				total += n
				if err != nil {
					done <- result{total, err}
					return
				}
			}
		}()
	}
	s := servertest.Start(t, server.Options{MaxPayload: maxPayload})
	startWS(t, s, wsserver.Options{Host: "127.0.0.1", Port: server.RandomPort, NoTLS: true, Compression: true,
		Endpoints: map[string]wsserver.Endpoint{"/mqtt": {Subprotocol: "mqtt", Serve: read, MessageOverhead: overhead}}})
	addr := listenerOf(s).Addr().String()

	c := upgradeDeflate(t, addr, "/mqtt")
	c.sendCompressed(bytes.Repeat([]byte("m"), maxPayload+overhead))
	c.sendCompressed(bytes.Repeat([]byte("q"), maxPayload+overhead+1))
	require.Equal(t, websocket.StatusMessageTooBig, c.expectClose())
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the endpoint's read did not end")
	}
	var ce *websocket.CloseError
	require.True(t, errors.As(r.err, &ce), "read ended with %v", r.err)
	require.Equal(t, websocket.StatusMessageTooBig, ce.Code)
	require.GreaterOrEqual(t, r.n, maxPayload+overhead)
	require.LessOrEqual(t, r.n, 2*(maxPayload+overhead))
	require.True(t, strings.Contains(ce.Reason, "too large"), ce.Reason)
}

// TestConnPendingBytes checks that the connections the listener hands
// out report what the transport holds for a message being read, through
// the small interface the core looks for.
func TestConnPendingBytes(t *testing.T) {
	got := make(chan net.Conn, 1)
	s := servertest.Start(t, server.Options{})
	startWS(t, s, wsserver.Options{Host: "127.0.0.1", Port: server.RandomPort, NoTLS: true, Compression: true,
		Endpoints: map[string]wsserver.Endpoint{"/x": {Serve: func(c net.Conn) { got <- c }}}})
	upgradeDeflate(t, listenerOf(s).Addr().String(), "/x")
	var c net.Conn
	select {
	case c = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("no connection")
	}
	defer c.Close()
	pb, ok := c.(interface{ PendingBytes() int })
	require.True(t, ok, "%T has no PendingBytes", c)
	require.Equal(t, 0, pb.PendingBytes())
}
