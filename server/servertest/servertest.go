// Package servertest is the shared test kit of natsd's modules: it starts a
// server on a free loopback port that stops when the test ends, captures
// its log lines in upstream's format, connects nats.go clients and waits
// for conditions without sleeping a fixed time. StartConfig starts one
// from a configuration file's text; PKI is a throwaway certificate
// authority with certificates for 127.0.0.1 and localhost; RawConn speaks
// the text protocol byte by byte. RunLinkConformance and RunSessions check
// a link or session implementation against the contracts of server/doc.go.
//
// A test never sleeps and then checks that nothing happened: it observes
// an event after which the thing would have happened. ExpectNoMsg flushes
// connections (a PING/PONG round trip, as RawConn.Flush does) so that every
// message the server delivered is queued; across servers a marker
// published after the message that must not come arrives first
// (PublishUntil, NextMsg). UpstreamBinary, FreePorts, StartProcess,
// WaitListening and ConnectWhenReady run an upstream nats-server for
// mixed-cluster tests without waiting fixed times. DocKeyLists reads the
// lists of refused and ignored keys of docs/configuration.md, which tests
// hold against the configuration parsers.
//
// # Usage
//
//	func TestX(t *testing.T) {
//		s, logs := servertest.StartWithLogs(t, server.Options{})
//		nc := servertest.Connect(t, s)
//		...
//		servertest.WaitUntil(t, "the client to be gone", func() bool { ... })
//		if !logs.Contains("Client connection closed") { ... }
//	}
//
// Every helper marks itself with t.Helper and fails the test through t;
// none returns an error. Servers bind 127.0.0.1 only.
package servertest

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/server"
	"natsd.dev/server/logger"
)

// ShutdownTimeout bounds the shutdown a test's cleanup waits for.
const ShutdownTimeout = 10 * time.Second

// Start runs a server with opts on a free loopback port (unless opts.Port
// names one) and shuts it down when the test ends.
func Start(tb testing.TB, opts server.Options) *server.Server {
	tb.Helper()
	opts.Host = "127.0.0.1"
	if opts.Port == 0 {
		opts.Port = server.RandomPort
	}
	s, err := server.New(opts)
	if err != nil {
		tb.Fatalf("servertest: new server: %v", err)
	}
	if err := s.Start(); err != nil {
		tb.Fatalf("servertest: start server: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			tb.Errorf("servertest: shutdown: %v", err)
		}
	})
	return s
}

// StartWithLogs is Start with the server's log lines, at debug level and in
// upstream's format, captured in the returned Logs (unless opts.Logger is
// set, which is kept).
func StartWithLogs(tb testing.TB, opts server.Options) (*server.Server, *Logs) {
	tb.Helper()
	logs := &Logs{}
	if opts.Logger == nil {
		opts.Logger = logs.Logger(slog.LevelDebug)
	}
	return Start(tb, opts), logs
}

// Logs collects log output; it is an io.Writer safe for concurrent use.
// The zero value is ready to use.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Logger returns a logger that writes to l in upstream's format at level
// and above.
func (l *Logs) Logger(level slog.Level) *slog.Logger {
	return slog.New(logger.NewHandler(l, &logger.Options{Level: level}))
}

// Write appends p.
func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything written so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Contains reports whether substr has been written.
func (l *Logs) Contains(substr string) bool { return strings.Contains(l.String(), substr) }

// WaitFor waits until substr has been written, failing the test after
// DefaultWait.
func (l *Logs) WaitFor(tb testing.TB, substr string) {
	tb.Helper()
	WaitUntil(tb, "log line "+substr, func() bool { return l.Contains(substr) })
}

// Connect connects a nats.go client to s (no reconnects, options appended)
// and closes it when the test ends.
func Connect(tb testing.TB, s *server.Server, opts ...nats.Option) *nats.Conn {
	tb.Helper()
	return ConnectURL(tb, s.ClientURL(), opts...)
}

// ConnectURL is Connect to any URL (a WebSocket or TLS listener, another
// server of a cluster).
func ConnectURL(tb testing.TB, url string, opts ...nats.Option) *nats.Conn {
	tb.Helper()
	opts = append([]nats.Option{nats.NoReconnect(), nats.Timeout(5 * time.Second)}, opts...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		tb.Fatalf("servertest: connect %s: %v", url, err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

// DefaultWait bounds WaitUntil.
const DefaultWait = 10 * time.Second

// WaitUntil polls cond until it holds, failing the test with what after
// DefaultWait. Polling starts at once and backs off from 1ms to 20ms, so a
// condition that is already true costs nothing.
func WaitUntil(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	WaitUntilWithin(tb, DefaultWait, what, cond)
}

// WaitUntilWithin is WaitUntil with its own bound.
func WaitUntilWithin(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	pause := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("servertest: timed out after %v waiting for %s", d, what)
		}
		time.Sleep(pause)
		pause = min(2*pause, 20*time.Millisecond)
	}
}
