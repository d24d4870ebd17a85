package route

import (
	"context"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"natsd.dev/server"
)

func TestNextConnectDelay(t *testing.T) {
	// connect_backoff as upstream: 1s, doubling, at most 30s.
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30, 30}
	d := routeConnectDelay
	for i, w := range want {
		if d != w*time.Second {
			t.Fatalf("wait %d: %v, want %v", i+1, d, w*time.Second)
		}
		d = nextConnectDelay(d, routeConnectMaxDelay)
	}
}

// attemptTimes records when each failed dial of a route was logged.
type attemptTimes struct {
	mu    sync.Mutex
	times []time.Time
}

func (a *attemptTimes) Enabled(context.Context, slog.Level) bool { return true }
func (a *attemptTimes) Handle(_ context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "Error trying to connect to route (attempt") {
		a.mu.Lock()
		a.times = append(a.times, time.Now())
		a.mu.Unlock()
	}
	return nil
}
func (a *attemptTimes) WithAttrs([]slog.Attr) slog.Handler { return a }
func (a *attemptTimes) WithGroup(string) slog.Handler      { return a }

func (a *attemptTimes) gaps(n int) []time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.times) < n+1 {
		return nil
	}
	g := make([]time.Duration, n)
	for i := range g {
		g[i] = a.times[i+1].Sub(a.times[i])
	}
	return g
}

// deadRouteGaps starts a cluster whose only route is a port nobody
// listens on, with waits shortened to base (and at most max), and returns
// the first n gaps between failed attempts.
func deadRouteGaps(t *testing.T, backoff bool, base, max time.Duration, n int) []time.Duration {
	t.Helper()
	at := &attemptTimes{}
	s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort, Logger: slog.New(at)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	// A port that refuses connections: bound, then closed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := &url.URL{Scheme: "nats-route", Host: ln.Addr().String()}
	ln.Close()

	c, err := Start(s, &Options{Host: "127.0.0.1", Port: -1, ConnectBackoff: backoff})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	// No route is dialed yet: the waits can still change.
	c.connectDelay, c.maxConnectDelay = base, max
	c.SetRoutes([]*url.URL{dead})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if g := at.gaps(n); g != nil {
			return g
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("fewer than %d attempts to dial the dead route in 10s", n+1)
	return nil
}

func TestDeadRouteRetriedWithBackoff(t *testing.T) {
	const base, max = 40 * time.Millisecond, 320 * time.Millisecond
	gaps := deadRouteGaps(t, true, base, max, 6)
	want := []time.Duration{base, 2 * base, 4 * base, max, max, max}
	for i, g := range gaps {
		// A timer never fires early; the dial and the log add a little.
		if g < want[i]-5*time.Millisecond {
			t.Errorf("gap %d: %v, want at least %v (gaps %v)", i+1, g, want[i], gaps)
		}
	}
	// The cap holds: the last waits do not keep doubling.
	if last := gaps[len(gaps)-1]; last >= 2*max {
		t.Errorf("last gap %v passed the cap %v (gaps %v)", last, max, gaps)
	}
	t.Logf("gaps with connect_backoff: %v", gaps)
}

func TestDeadRouteRetriedAtFixedInterval(t *testing.T) {
	const base = 40 * time.Millisecond
	gaps := deadRouteGaps(t, false, base, 320*time.Millisecond, 5)
	var total time.Duration
	for i, g := range gaps {
		if g < base-5*time.Millisecond {
			t.Errorf("gap %d: %v, want at least %v", i+1, g, base)
		}
		total += g
	}
	// With backoff the five waits would take 40+80+160+320+320 ms; at a
	// fixed interval they take 5 x 40 ms plus scheduling.
	if total >= 920*time.Millisecond {
		t.Errorf("gaps %v add up to %v: the waits grew without connect_backoff", gaps, total)
	}
	t.Logf("gaps without connect_backoff: %v", gaps)
}
