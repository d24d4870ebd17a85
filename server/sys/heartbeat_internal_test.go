package sys

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

func TestStatszHeartbeatSchedule(t *testing.T) {
	h := newStatszHeartbeat()
	now := time.Unix(1000, 0)
	require.Equal(t, statszFirst, h.interval)
	var waits []time.Duration
	for range 8 {
		now = now.Add(h.interval)
		require.True(t, h.due(now))
		waits = append(waits, h.next(now))
	}
	require.Equal(t, []time.Duration{
		500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second,
		8 * time.Second, 10 * time.Second, 10 * time.Second, 10 * time.Second,
	}, waits)

	// An on-demand broadcast 300ms before the tick holds the tick back
	// until the 1s rate limit has passed.
	h.last = now.Add(10*time.Second - 300*time.Millisecond)
	now = now.Add(10 * time.Second)
	require.False(t, h.due(now))
	require.Equal(t, 700*time.Millisecond, h.next(now))
	require.Equal(t, statszInterval, h.interval)
}

// TestStatszNobodyListening checks that without a subscriber the heartbeat
// does not even gather the statistics, and that with one it does. The
// heartbeat's timers run under synctest's clock.
func TestStatszNobodyListening(t *testing.T) {
	synctestServer(t, func(t *testing.T, s *server.Server, svc *Service) {
		time.Sleep(900 * time.Millisecond) // heartbeats at 250ms and 750ms
		require.Zero(t, svc.gathered.Load())

		// With a subscriber, they are gathered and sent.
		sess, err := s.Attach(server.SessionOptions{Account: server.DefaultSystemAccountName})
		require.NoError(t, err)
		defer sess.Close()
		var got atomic.Int64
		_, err = sess.Subscribe("$SYS.SERVER."+s.ID()+".STATSZ", "", func(*server.Msg) { got.Add(1) })
		require.NoError(t, err)
		time.Sleep(2 * time.Second)
		require.NotZero(t, svc.gathered.Load())
		require.NotZero(t, got.Load())
	})
}

// synctestServer runs f in a synctest bubble with a server (not listening)
// and its system service running.
func synctestServer(t *testing.T, f func(*testing.T, *server.Server, *Service)) {
	synctestRun(t, func(t *testing.T) {
		s, err := server.New(server.Options{SystemAccount: server.DefaultSystemAccountName})
		require.NoError(t, err)
		svc, err := Attach(s)
		require.NoError(t, err)
		quit := make(chan struct{})
		done := make(chan struct{})
		go func() { svc.Run(quit); close(done) }()
		f(t, s, svc)
		close(quit)
		<-done
		require.NoError(t, s.Shutdown(t.Context()))
	})
}

func TestAccountConnsHeartbeat(t *testing.T) {
	s := servertest.Start(t, server.Options{SystemAccount: server.DefaultSystemAccountName})
	svc, err := Attach(s) // a second service, driven by hand
	require.NoError(t, err)
	defer svc.sess.Close()
	// The watcher is an internal session: a Kind "Client" one would be
	// one of the account's connections.
	sess, err := s.Attach(server.SessionOptions{Kind: server.SessionSystem, Account: server.DefaultSystemAccountName})
	require.NoError(t, err)
	defer sess.Close()
	got := make(chan string, 4)
	_, err = sess.Subscribe("$SYS.ACCOUNT.*.SERVER.CONNS", "", func(m *server.Msg) { got <- string(m.Data) })
	require.NoError(t, err)

	now := time.Now()
	h := &accConnsHeartbeat{due: map[string]time.Time{}}
	_, ok := h.wait(now)
	require.False(t, ok)
	h.due["$SYS"] = now.Add(time.Second)
	h.due["other"] = now.Add(5 * time.Second)
	d, ok := h.wait(now)
	require.True(t, ok)
	require.Equal(t, time.Second, d)

	// Not due yet: nothing sent (the due one below arrives first).
	svc.accountConnsBeat(h, now)
	// Due: sent; with no connection left, no longer tracked.
	svc.accountConnsBeat(h, now.Add(time.Second))
	select {
	case b := <-got:
		require.Contains(t, b, `"acc":"$SYS"`)
		require.Contains(t, b, `"conns":0`)
	case <-time.After(5 * time.Second):
		t.Fatal("no heartbeat event")
	}
	require.NotContains(t, h.due, "$SYS")
	require.Contains(t, h.due, "other")
}
