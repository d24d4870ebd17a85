package mqtt

import (
	"crypto/tls"
	"net"
	"sync/atomic"
	"time"

	"natsd.dev/server"
)

// lingerMax bounds how long a connection closed with input unread reads
// and drops what its peer still sends before it closes (so that the peer
// gets the end of the stream, not a reset).
const lingerMax = time.Second

// linger closes a connection whose peer sent bytes the server did not
// read (a client that kept writing while it read too slowly, closed as a
// slow consumer): closing with input unread makes the system reset the
// connection, dropping what the server wrote and it had not sent yet,
// and the peer reads an error instead. Instead the sending side ends
// first (the peer reads what the server wrote, then the end of the
// stream), what the peer still sends is read and dropped for up to
// lingerMax, and nc closes. Both ways of serving a client use it: the
// event loop's connections (loopConn.Close) and the others (lingerConn).
func linger(nc net.Conn) {
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	nc.SetReadDeadline(time.Now().Add(lingerMax))
	buf := make([]byte, 16<<10)
	for {
		if _, err := nc.Read(buf); err != nil {
			break
		}
	}
	nc.Close()
}

// lingerConn is a connection served on a goroutine from the start (TLS,
// WebSocket, plain TCP where there is no event loop) as its session and
// the front end close it: with unread input, Close lingers as the event
// loop's connections do. The TLS or WebSocket layer closes first (its
// close_notify or close frame goes out after what was written); the TCP
// socket stays open on a duplicate descriptor, which ends the sending
// side and lingers.
type lingerConn struct {
	net.Conn
	m       *MQTT
	closing atomic.Bool
}

// lingerBuffersConn is a lingerConn of a WebSocket connection, or of a
// plain TCP one: it keeps what the server's session uses of it (a batch
// in one frame or one writev, the transport's name).
type lingerBuffersConn struct {
	*lingerConn
	bw buffersWriter
}

// buffersWriter is the session's batch write (server's outbound).
type buffersWriter interface {
	WriteBuffers(v [][]byte) (int64, error)
}

func (c lingerBuffersConn) WriteBuffers(v [][]byte) (int64, error) { return c.bw.WriteBuffers(v) }

// Transport implements server.TransportConn.
func (c lingerBuffersConn) Transport() string {
	if tc, ok := c.lingerConn.Conn.(server.TransportConn); ok {
		return tc.Transport()
	}
	return ""
}

// wrapConn makes nc, served on a goroutine from the start, linger when
// it closes with input unread. On a system with the event loop a plain
// TCP connection (served without it only in tests) stays as it is: the
// server writes a *net.TCPConn directly from a publisher's goroutine.
func wrapConn(m *MQTT, nc net.Conn) net.Conn {
	if _, ok := nc.(*net.TCPConn); ok && loopSupported {
		return nc
	}
	lc := &lingerConn{Conn: nc, m: m}
	switch c := nc.(type) {
	case buffersWriter:
		return lingerBuffersConn{lingerConn: lc, bw: c}
	case *net.TCPConn:
		return lingerBuffersConn{lingerConn: lc, bw: tcpBuffers{c}}
	}
	return lc
}

// tcpBuffers writes a batch with one writev, as net.Buffers does on the
// *net.TCPConn a wrapper hides from it.
type tcpBuffers struct{ tc *net.TCPConn }

func (w tcpBuffers) WriteBuffers(v [][]byte) (int64, error) {
	b := net.Buffers(v)
	return b.WriteTo(w.tc)
}

// unwrap returns the connection wrapConn wrapped (nc itself otherwise).
func unwrap(nc net.Conn) net.Conn {
	switch w := nc.(type) {
	case *lingerConn:
		return w.Conn
	case lingerBuffersConn:
		return w.lingerConn.Conn
	}
	return nc
}

// tlsConnOf returns nc's *tls.Conn, nil when nc is not one.
func tlsConnOf(nc net.Conn) *tls.Conn {
	tc, _ := unwrap(nc).(*tls.Conn)
	return tc
}

// Close closes the connection, after a linger (in the background) when
// the peer sent bytes not read yet.
func (c *lingerConn) Close() error {
	if !c.closing.CompareAndSwap(false, true) {
		return c.Conn.Close()
	}
	tc := tcpOf(c.Conn)
	if tc == nil || !unreadTCP(tc) {
		return c.Conn.Close()
	}
	dup, err := dupTCP(tc)
	if err != nil {
		return c.Conn.Close()
	}
	// Shutdown waits for it too (the connection is still counted in wg
	// while it closes, so the count is not zero).
	m := c.m
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		// The TLS or WebSocket layer's goodbye (bounded by its own
		// write deadline), then the socket's descriptor closes: the
		// socket stays open on dup.
		c.Conn.Close()
		linger(dup)
	}()
	return nil
}

// tcpOf finds the TCP connection under nc (TLS, WebSocket, WebSocket
// over TLS), nil when there is none.
func tcpOf(nc net.Conn) *net.TCPConn {
	for range 4 {
		switch c := nc.(type) {
		case *net.TCPConn:
			return c
		case interface{ NetConn() net.Conn }:
			nc = c.NetConn()
		default:
			return nil
		}
	}
	return nil
}

// dupTCP makes a second connection on a duplicate of tc's socket: closing
// tc then leaves the socket open.
func dupTCP(tc *net.TCPConn) (net.Conn, error) {
	f, err := tc.File()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return net.FileConn(f)
}
