package server_test

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/auth"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
)

const errUnauthMemory = "-ERR 'maximum unauthenticated memory exceeded'"

func unauthVarz(t *testing.T, s *server.Server) snapshot.UnauthenticatedVarz {
	t.Helper()
	v, err := s.Varz(nil)
	require.NoError(t, err)
	require.NotNil(t, v.Unauthenticated)
	return *v.Unauthenticated
}

// A client that has not authenticated and makes the parser hold more
// than its own budget (a PUB announcing a large payload, before any
// CONNECT, on a server that needs no credentials: where it needs them a
// first byte that does not start CONNECT is refused at once) is closed.
func TestUnauthConnBudgetClosesConnection(t *testing.T) {
	s := servertest.Start(t, server.Options{
		Host: "127.0.0.1", Port: server.RandomPort,
		MaxUnauthConnMemory: 64 * 1024,
	})
	rc := servertest.DialClient(t, s)
	rc.Send("PUB a 1000000\r\nxyz")
	require.Equal(t, errUnauthMemory, rc.ReadLine())
	rc.ExpectClosed()
	require.Equal(t, "Unauthenticated Memory Exceeded", servertest.ClosedReason(t, s))
	servertest.WaitUntil(t, "the count in /varz", func() bool {
		v := unauthVarz(t, s)
		return v.Closed == 1 && v.Connections == 0 && v.Bytes == 0
	})

	// A client that authenticates leaves the budget.
	nc := servertest.Connect(t, s, nats.UserInfo("u", "p"))
	require.NoError(t, nc.Flush())
	v := unauthVarz(t, s)
	require.Equal(t, 0, v.Connections)
	require.Equal(t, int64(64*1024), v.MaxConnMemory)
	require.Equal(t, int64(server.DefaultMaxUnauthMemory), v.MaxMemory)
}

// Past the server-wide budget a new connection is refused and the oldest
// unauthenticated ones are closed, so the newest get through.
func TestUnauthServerBudgetRefusesAndClosesOldest(t *testing.T) {
	const silent = 20
	s, logs := servertest.StartWithLogs(t, server.Options{
		Host: "127.0.0.1", Port: server.RandomPort,
		AuthTimeout: time.Minute, Authorization: &auth.Config{User: "u", Password: "p"},
		// Room for about 10 silent connections.
		MaxUnauthMemory: 10 * (14 * 1024),
	})
	conns := make([]*servertest.RawConn, 0, silent)
	refused := 0
	var line string
	var err error
	for range silent {
		rc := servertest.DialClient(t, s)
		conns = append(conns, rc)
		// A refused connection gets the -ERR at once after INFO; an
		// admitted one gets nothing more (it has not sent CONNECT).
		if line, err = rc.TryReadLine(100 * time.Millisecond); err == nil {
			require.Equal(t, errUnauthMemory, line)
			refused++
		}
	}
	require.Positive(t, refused)
	v := unauthVarz(t, s)
	require.Equal(t, uint64(refused), v.Refused)
	require.Positive(t, v.Closed)
	require.LessOrEqual(t, v.Bytes, v.MaxMemory)
	require.Less(t, v.Connections, silent-refused)

	// The oldest were closed first.
	line, err = conns[0].TryReadLine(servertest.RawTimeout)
	require.NoError(t, err)
	require.Equal(t, errUnauthMemory, line)
	conns[0].ExpectClosed()

	// A real client gets through: closing the oldest made room (the
	// newcomer that finds the budget full is refused: with room for
	// 10 connections, one in two is).
	var nc *nats.Conn
	for range 3 {
		if nc, err = nats.Connect(s.ClientURL(), nats.UserInfo("u", "p")); err == nil {
			break
		}
	}
	require.NoError(t, err)
	defer nc.Close()
	require.NoError(t, nc.Flush())
	logs.WaitFor(t, "Unauthenticated connections past their memory budget")
}

// pbConn is a transport that reports what it buffers inside Read.
type pbConn struct {
	net.Conn
	pending *atomic.Int64
}

func (c *pbConn) PendingBytes() int { return int(c.pending.Load()) }

// wrapConn wraps another connection, as a TLS or WebSocket layer does.
type wrapConn struct {
	net.Conn
	inner net.Conn
}

func (c *wrapConn) NetConn() net.Conn { return c.inner }

type pbListener struct {
	net.Listener
	pending *atomic.Int64
	wrap    bool
}

func (l *pbListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	pc := &pbConn{Conn: nc, pending: l.pending}
	if l.wrap {
		return &wrapConn{Conn: pc, inner: pc}, nil
	}
	return pc, nil
}

// What a transport buffers inside Read (PendingBytesConn, found through
// NetConn wrappers too) counts against the budget of a connection that
// has not authenticated: it is sampled while the read loop is blocked.
func TestUnauthPendingBytesOfTransport(t *testing.T) {
	for _, wrap := range []bool{false, true} {
		t.Run(map[bool]string{false: "direct", true: "wrapped"}[wrap], func(t *testing.T) {
			s := servertest.Start(t, server.Options{Host: "127.0.0.1", Port: server.RandomPort})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			pending := new(atomic.Int64)
			require.NoError(t, s.Serve(&pbListener{Listener: ln, pending: pending, wrap: wrap}))

			rc := servertest.DialRaw(t, ln.Addr().String())
			require.True(t, strings.HasPrefix(rc.ReadLine(), "INFO "))
			servertest.WaitUntil(t, "the connection counted", func() bool { return unauthVarz(t, s).Connections == 1 })
			pending.Store(server.DefaultMaxUnauthConnMemory + 1)
			require.Equal(t, errUnauthMemory, rc.ReadLine())
			rc.ExpectClosed()
			require.Equal(t, uint64(1), unauthVarz(t, s).Closed)
		})
	}
}

// A connection that authenticated is not charged whatever its transport
// holds.
func TestUnauthPendingBytesIgnoredAfterConnect(t *testing.T) {
	s := servertest.Start(t, server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	pending := new(atomic.Int64)
	require.NoError(t, s.Serve(&pbListener{Listener: ln, pending: pending}))
	rc := servertest.DialRaw(t, ln.Addr().String())
	rc.ReadLine()
	rc.Send("CONNECT {\"verbose\":false}\r\n")
	rc.Flush()
	pending.Store(64 << 20)
	rc.Send("SUB x 1\r\nPUB x 2\r\nhi\r\n")
	require.Equal(t, []string{"MSG x 1 2", "hi"}, rc.Flush())
	v := unauthVarz(t, s)
	require.Zero(t, v.Connections)
	require.Zero(t, v.Closed)
}

// A negative budget turns it off.
func TestUnauthBudgetOff(t *testing.T) {
	s := servertest.Start(t, server.Options{
		Host: "127.0.0.1", Port: server.RandomPort,
		MaxUnauthMemory: -1, MaxUnauthConnMemory: -1,
	})
	rc := servertest.DialClient(t, s)
	rc.Send("PUB a 1000000\r\nxyz")
	servertest.WaitUntil(t, "the parser's scratch counted", func() bool { return unauthVarz(t, s).Bytes > 1000000 })
	v := unauthVarz(t, s)
	require.Zero(t, v.MaxMemory)
	require.Zero(t, v.MaxConnMemory)
	require.Zero(t, v.Closed)
}

// As upstream, no PING goes to a connection that has not sent CONNECT
// before a whole ping interval; CONNECT brings the first PING forward.
func TestNoPingBeforeConnect(t *testing.T) {
	s := servertest.Start(t, server.Options{Host: "127.0.0.1", Port: server.RandomPort, PingInterval: 4 * time.Second})
	silent := servertest.DialClient(t, s)
	rc := servertest.DialClient(t, s)
	rc.Send("CONNECT {\"verbose\":false}\r\n")
	line, err := rc.TryReadLine(servertest.RawTimeout)
	require.NoError(t, err)
	require.Equal(t, "PING", line) // about 2s after CONNECT
	// The silent connection, older, would have had its PING by now.
	line, err = silent.TryReadLine(50 * time.Millisecond)
	require.Error(t, err, "got %q", line)
}

// A TLS connection is charged the handshake state on top; it leaves the
// budget once its CONNECT authenticated.
func TestUnauthTLSCharge(t *testing.T) {
	p := servertest.NewPKI(t)
	s := servertest.Start(t, server.Options{Host: "127.0.0.1", Port: server.RandomPort, TLSConfig: p.ServerConfig(false)})
	plain := unauthVarz(t, s).Bytes
	servertest.DialClient(t, s) // INFO in the clear, no handshake yet
	servertest.WaitUntil(t, "the connection counted", func() bool { return unauthVarz(t, s).Connections == 1 })
	require.Greater(t, unauthVarz(t, s).Bytes-plain, int64(24*1024), "TLS state charged")
	nc := servertest.Connect(t, s, nats.Secure(p.ClientConfig()))
	require.NoError(t, nc.Flush())
	require.Equal(t, 1, unauthVarz(t, s).Connections, "only the raw one is left")
}

// Reload applies new budgets.
func TestUnauthBudgetReload(t *testing.T) {
	s := servertest.Start(t, server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	opts := s.Options()
	opts.MaxUnauthMemory, opts.MaxUnauthConnMemory = 1<<20, 4096
	require.NoError(t, s.Reload(opts))
	v := unauthVarz(t, s)
	require.Equal(t, int64(1<<20), v.MaxMemory)
	require.Equal(t, int64(4096), v.MaxConnMemory)
	// The fixed cost alone is past 4 KiB: a connection whose first read
	// does not complete its CONNECT is closed after it; one that does is
	// no longer counted.
	nc := servertest.Connect(t, s)
	require.NoError(t, nc.Flush())
	rc := servertest.DialClient(t, s)
	rc.Send("CONN")
	require.Equal(t, errUnauthMemory, rc.ReadLine())
	rc.ExpectClosed()
}
