package route

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"testing"
	"testing/synctest"
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

// refusingDialer fails every dial and records when each was made.
type refusingDialer struct {
	mu    sync.Mutex
	times []time.Time
}

func (d *refusingDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	d.mu.Lock()
	d.times = append(d.times, time.Now())
	d.mu.Unlock()
	return nil, errors.New("connection refused")
}

func (d *refusingDialer) gaps() []time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	var g []time.Duration
	for i := 1; i < len(d.times); i++ {
		g = append(g, d.times[i].Sub(d.times[i-1]))
	}
	return g
}

// deadRouteGaps dials a route that always refuses for the given time, in
// a synctest bubble (the cluster's loops and timers run on its fake
// clock, the dials never reach the network), and returns the gaps
// between the attempts.
func deadRouteGaps(t *testing.T, backoff bool, span time.Duration) []time.Duration {
	t.Helper()
	s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	var gaps []time.Duration
	synctest.Test(t, func(t *testing.T) {
		d := &refusingDialer{}
		c, err := Start(s, &Options{Host: "127.0.0.1", Port: -1, ConnectBackoff: backoff, Dialer: d})
		if err != nil {
			t.Fatal(err)
		}
		c.SetRoutes([]*url.URL{{Scheme: "nats-route", Host: "127.0.0.1:1"}})
		time.Sleep(span)
		synctest.Wait()
		gaps = d.gaps()
		if err := c.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
	return gaps
}

func TestDeadRouteRetriedWithBackoff(t *testing.T) {
	// 1+2+4+8+16+30+30 s: seven waits, eight dials.
	gaps := deadRouteGaps(t, true, 91*time.Second+time.Millisecond)
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30}
	if len(gaps) != len(want) {
		t.Fatalf("gaps %v, want %v seconds", gaps, want)
	}
	for i, g := range gaps {
		if g != want[i]*time.Second {
			t.Errorf("gap %d: %v, want %v (gaps %v)", i+1, g, want[i]*time.Second, gaps)
		}
	}
}

func TestDeadRouteRetriedAtFixedInterval(t *testing.T) {
	gaps := deadRouteGaps(t, false, 5*time.Second+time.Millisecond)
	if len(gaps) != 5 {
		t.Fatalf("gaps %v, want five of a second", gaps)
	}
	for i, g := range gaps {
		if g != time.Second {
			t.Errorf("gap %d: %v, want 1s without connect_backoff", i+1, g)
		}
	}
}
