package server

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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
// does not even gather the statistics: every ServerStatsMsg takes a
// sequence number, and none is taken.
func TestStatszNobodyListening(t *testing.T) {
	s := newTestServer(t, Options{SystemAccount: DefaultSystemAccountName})
	require.NotNil(t, s.sys)
	before := s.mon().seq.Load()
	time.Sleep(900 * time.Millisecond) // heartbeats at 250ms and 750ms
	require.Equal(t, before, s.mon().seq.Load())

	// With a subscriber, they are gathered and sent.
	ic, err := s.NewInternalClient(DefaultSystemAccountName)
	require.NoError(t, err)
	defer ic.Close()
	got := make(chan struct{}, 4)
	_, err = ic.Subscribe("$SYS.SERVER."+s.ID()+".STATSZ", "", func(*Msg) {
		select {
		case got <- struct{}{}:
		default:
		}
	})
	require.NoError(t, err)
	select {
	case <-got:
	case <-time.After(3 * time.Second):
		t.Fatal("no STATSZ heartbeat with a subscriber")
	}
	require.Greater(t, s.mon().seq.Load(), before)
}

func TestAccountConnsHeartbeat(t *testing.T) {
	s := newTestServer(t, Options{SystemAccount: DefaultSystemAccountName})
	ic, err := s.NewInternalClient(DefaultSystemAccountName)
	require.NoError(t, err)
	defer ic.Close()
	got := make(chan string, 4)
	_, err = ic.Subscribe("$SYS.ACCOUNT.*.SERVER.CONNS", "", func(m *Msg) { got <- string(m.Data) })
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

	// Not due yet: nothing sent.
	s.accountConnsBeat(h, now)
	require.Len(t, got, 0)
	// Due: sent; with no connection left, no longer tracked.
	s.accountConnsBeat(h, now.Add(time.Second))
	select {
	case b := <-got:
		require.Contains(t, b, `"acc":"$SYS"`)
		require.Contains(t, b, `"conns":0`)
	case <-time.After(time.Second):
		t.Fatal("no heartbeat event")
	}
	require.NotContains(t, h.due, "$SYS")
	require.Contains(t, h.due, "other")
}
