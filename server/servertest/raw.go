package servertest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"natsd.dev/server"
)

// RawTimeout bounds each read and write of a RawConn.
const RawTimeout = 5 * time.Second

// RawConn is a raw TCP connection speaking the text protocol byte by
// byte, for tests that need exact wire bytes or a misbehaving peer. It is
// not safe for concurrent use.
type RawConn struct {
	// Conn is the connection; the test may use it directly.
	Conn net.Conn
	// Info is the INFO line the server greeted with (without CRLF), set
	// by DialClient.
	Info string

	tb testing.TB
	br *bufio.Reader
}

// DialRaw connects to addr (a client, route or any other listener) and
// closes the connection when the test ends.
func DialRaw(tb testing.TB, addr string) *RawConn {
	tb.Helper()
	c, err := net.DialTimeout("tcp", addr, RawTimeout)
	if err != nil {
		tb.Fatalf("servertest: dial %s: %v", addr, err)
	}
	tb.Cleanup(func() { c.Close() })
	return &RawConn{Conn: c, tb: tb, br: bufio.NewReader(c)}
}

// DialClient connects to s's client listener and reads its INFO line.
func DialClient(tb testing.TB, s *server.Server) *RawConn {
	tb.Helper()
	rc := DialRaw(tb, s.Addr().String())
	rc.Info = rc.ReadLine()
	if !strings.HasPrefix(rc.Info, "INFO {") {
		tb.Fatalf("servertest: greeting %q is no INFO", rc.Info)
	}
	return rc
}

// Send writes s as is.
func (rc *RawConn) Send(s string) {
	rc.tb.Helper()
	rc.Conn.SetWriteDeadline(time.Now().Add(RawTimeout))
	if _, err := io.WriteString(rc.Conn, s); err != nil {
		rc.tb.Fatalf("servertest: send %q: %v", s, err)
	}
}

// ReadLine returns the next line without its CRLF, answering the
// server's PINGs with PONG on the way.
func (rc *RawConn) ReadLine() string {
	rc.tb.Helper()
	for {
		line := rc.readRaw()
		if line == "PING" {
			rc.Send("PONG\r\n")
			continue
		}
		return line
	}
}

func (rc *RawConn) readRaw() string {
	rc.tb.Helper()
	rc.Conn.SetReadDeadline(time.Now().Add(RawTimeout))
	line, err := rc.br.ReadString('\n')
	if err != nil {
		rc.tb.Fatalf("servertest: read after %q: %v", line, err)
	}
	return strings.TrimSuffix(line, "\r\n")
}

// TryReadLine returns the next line without its CRLF (PINGs included)
// or the error that ended the read: io.EOF when the server closed the
// connection, os.ErrDeadlineExceeded when no line came within d.
func (rc *RawConn) TryReadLine(d time.Duration) (string, error) {
	rc.Conn.SetReadDeadline(time.Now().Add(d))
	line, err := rc.br.ReadString('\n')
	return strings.TrimSuffix(line, "\r\n"), err
}

// ReadUntil reads lines (PINGs included, unanswered) until one contains
// want and returns everything read, CRLFs kept.
func (rc *RawConn) ReadUntil(want string) string {
	rc.tb.Helper()
	var b strings.Builder
	for {
		line := rc.readRaw()
		b.WriteString(line + "\r\n")
		if strings.Contains(line, want) {
			return b.String()
		}
	}
}

// Flush sends PING and reads up to its PONG, returning the lines read
// before it (answering PINGs). The server handles a connection's
// operations in order, so after Flush it has processed everything sent
// before: a message that was not delivered by then was not sent.
func (rc *RawConn) Flush() []string {
	rc.tb.Helper()
	rc.Send("PING\r\n")
	var before []string
	for {
		line := rc.ReadLine()
		if line == "PONG" {
			return before
		}
		before = append(before, line)
	}
}

// ExpectClosed reads until the server closes the connection, failing the
// test if it stays open for RawTimeout.
func (rc *RawConn) ExpectClosed() {
	rc.tb.Helper()
	rc.Conn.SetReadDeadline(time.Now().Add(RawTimeout))
	_, err := io.Copy(io.Discard, rc.br)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		rc.tb.Fatal("servertest: connection not closed")
	}
}
