package servertest

import (
	"bytes"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/server"
	"natsd.dev/server/snapshot"
)

// ExpectNoMsg asserts that sub has not received a message, without
// waiting for one that might still come. It flushes each connection in
// order (a PING/PONG round trip): first those that published, then the
// subscriber's own. A server handles a connection's operations in order
// and writes a connection's messages before the PONG that follows them,
// so once the subscriber's flush returns every message the server
// delivered for what was published before sits in sub's queue; ExpectNoMsg
// then fails if the queue holds one. It holds on one server; across
// servers (routes, gateways) the test publishes a marker after the message
// that must not arrive and asserts the marker comes first (see NextMsg).
func ExpectNoMsg(tb testing.TB, sub *nats.Subscription, flush ...*nats.Conn) {
	tb.Helper()
	for _, nc := range flush {
		if err := nc.Flush(); err != nil {
			tb.Fatalf("servertest: flush: %v", err)
		}
	}
	n, _, err := sub.Pending()
	if err != nil {
		tb.Fatalf("servertest: pending of %s: %v", sub.Subject, err)
	}
	if n == 0 {
		return
	}
	m, err := sub.NextMsg(0)
	if err != nil {
		tb.Fatalf("servertest: %d unexpected messages on %s", n, sub.Subject)
	}
	tb.Fatalf("servertest: unexpected message on %s: %s %q", sub.Subject, m.Subject, m.Data)
}

// NextMsg returns sub's next message, failing the test if none comes
// within DefaultWait.
func NextMsg(tb testing.TB, sub *nats.Subscription) *nats.Msg {
	tb.Helper()
	m, err := sub.NextMsg(DefaultWait)
	if err != nil {
		tb.Fatalf("servertest: next message on %s: %v", sub.Subject, err)
	}
	return m
}

// ClosedReason waits until s lists a closed connection and returns the
// close reason of the most recent one (as /connz?state=closed shows it).
func ClosedReason(tb testing.TB, s *server.Server) string {
	tb.Helper()
	var reason string
	WaitUntil(tb, "a closed connection", func() bool {
		cz, err := s.Connz(&snapshot.ConnzOptions{State: snapshot.ConnClosed})
		if err != nil {
			tb.Fatalf("servertest: connz: %v", err)
		}
		if len(cz.Conns) == 0 {
			return false
		}
		reason = cz.Conns[len(cz.Conns)-1].Reason
		return true
	})
	return reason
}

// ClosedCount waits until s lists a connection closed for reason and
// returns how many it lists.
func ClosedCount(tb testing.TB, s *server.Server, reason string) int {
	tb.Helper()
	n := 0
	WaitUntil(tb, "a connection closed for "+reason, func() bool {
		cz, err := s.Connz(&snapshot.ConnzOptions{State: snapshot.ConnClosed})
		if err != nil {
			tb.Fatalf("servertest: connz: %v", err)
		}
		n = 0
		for _, c := range cz.Conns {
			if c.Reason == reason {
				n++
			}
		}
		return n > 0
	})
	return n
}

// PublishUntil publishes data on subject from from, again every 20ms,
// until sub receives a message with that data, and fails the test after
// DefaultWait. It waits for interest to cross servers (routes, gateways)
// without sleeping; since servers and routes keep a connection's order,
// once it returns sub's connection has read every message that from
// published earlier and that reached it the same way. Other messages on
// sub are skipped.
func PublishUntil(tb testing.TB, from *nats.Conn, subject string, data []byte, sub *nats.Subscription) {
	tb.Helper()
	deadline := time.Now().Add(DefaultWait)
	for time.Now().Before(deadline) {
		if err := from.Publish(subject, data); err != nil {
			tb.Fatalf("servertest: publish %s: %v", subject, err)
		}
		for {
			m, err := sub.NextMsg(20 * time.Millisecond)
			if err != nil {
				break
			}
			if bytes.Equal(m.Data, data) {
				return
			}
		}
	}
	tb.Fatalf("servertest: %q on %s never reached %s", data, subject, sub.Subject)
}
