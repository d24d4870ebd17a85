package main

// Restart durability of the built binary: what a publisher saw
// acknowledged must be in the stream after the process stops and starts
// again on the same store directory, whether it stopped cleanly (SIGTERM)
// or was killed (SIGKILL) in the middle of the publishing.

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

// durabilityMsgs is how many messages each run publishes; fewer under
// -short (the race run of `make test`).
func durabilityMsgs() int {
	if testing.Short() {
		return 5000
	}
	return 20000
}

// durableSubject and durablePayload are message i's subject and body:
// each body names its index and subject, so a message that comes back
// changed or under another sequence is caught.
func durableSubject(i int) string { return "d." + strconv.Itoa(i%16) }

func durablePayload(i int) []byte {
	return fmt.Appendf(nil, "msg %d on %s %s", i, durableSubject(i), strings.Repeat(string(rune('a'+i%26)), 100))
}

// ackWait bounds each wait for a publish acknowledgement before the kill.
const ackWait = 30 * time.Second

// publishTracked creates stream D on p and publishes n messages with
// asynchronous publishing (up to 256 in flight) from one connection. It
// returns the acknowledged ones, sequence to message index. With
// killAfter > 0 it kills the server with SIGKILL as soon as that many
// acknowledgements arrived, while the rest are in flight; an
// acknowledgement that reaches the client after the kill still counts
// (the server sent it), the others are not acknowledged.
func publishTracked(t *testing.T, p *proc, n, killAfter int) map[uint64]int {
	t.Helper()
	nc := p.connect()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(256))
	require.NoError(t, err)
	_, err = js.CreateStream(t.Context(), jetstream.StreamConfig{
		Name: "D", Subjects: []string{"d.>"}, Storage: jetstream.FileStorage, AllowDirect: true,
	})
	require.NoError(t, err)

	type sent struct {
		i int
		f jetstream.PubAckFuture
	}
	futures := make(chan sent, n)
	pubErr := make(chan error, 1)
	go func() {
		defer close(futures)
		for i := range n {
			// At 256 in flight PublishAsync waits 200ms for room, then
			// gives up without sending; a slow fsync on a busy machine
			// takes that long, so try again while the server is up.
			deadline := time.Now().Add(ackWait)
			for {
				f, err := js.PublishAsync(durableSubject(i), durablePayload(i))
				if err == nil {
					futures <- sent{i, f}
					break
				}
				if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) || nc.IsClosed() || time.Now().After(deadline) {
					pubErr <- fmt.Errorf("publish %d: %w", i, err)
					return
				}
			}
		}
		pubErr <- nil
	}()

	acked := make(map[uint64]int, n)
	var killedAt time.Time
	for s := range futures {
		var ack *jetstream.PubAck
		var err error
		select { // an acknowledgement already here counts, kill or not
		case ack = <-s.f.Ok():
		case err = <-s.f.Err():
		default:
			wait := ackWait
			if !killedAt.IsZero() {
				// After the kill, whatever is coming has come.
				wait = max(0, time.Until(killedAt.Add(2*time.Second)))
			}
			timer := time.NewTimer(wait)
			select {
			case ack = <-s.f.Ok():
			case err = <-s.f.Err():
			case <-timer.C:
				err = fmt.Errorf("no acknowledgement within %v", wait)
			}
			timer.Stop()
		}
		if err != nil {
			if killedAt.IsZero() {
				t.Fatalf("message %d: %v", s.i, err)
			}
			continue
		}
		require.Equal(t, "D", ack.Stream)
		require.False(t, ack.Duplicate)
		_, seen := acked[ack.Sequence]
		require.False(t, seen, "sequence %d acknowledged twice", ack.Sequence)
		acked[ack.Sequence] = s.i
		if killAfter > 0 && len(acked) == killAfter && killedAt.IsZero() {
			require.NoError(t, p.cmd.Process.Kill())
			killedAt = time.Now()
		}
	}
	err = <-pubErr
	if killedAt.IsZero() {
		require.NoError(t, err)
		require.Len(t, acked, n)
	} else {
		// The server died: the publisher stopped on a closed connection.
		require.Error(t, err)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			t.Fatal("nats-server did not die")
		}
	}
	return acked
}

// checkRestored connects to the restarted server p and checks stream D:
// its messages are sequences 1..last with no gap, each the message the
// one publisher sent in that place (one connection's messages are stored
// in order), every acknowledged message is there, and it returns last.
func checkRestored(t *testing.T, p *proc, acked map[uint64]int) uint64 {
	t.Helper()
	js, err := jetstream.New(p.connect())
	require.NoError(t, err)
	s, err := js.Stream(t.Context(), "D")
	require.NoError(t, err)
	st := s.CachedInfo().State
	require.EqualValues(t, 1, st.FirstSeq)
	require.Equal(t, st.LastSeq, st.Msgs, "a gap in the stream: %+v", st)
	for seq := uint64(1); seq <= st.LastSeq; seq++ {
		m, err := s.GetMsg(t.Context(), seq)
		require.NoError(t, err, "sequence %d", seq)
		i := int(seq - 1)
		require.Equal(t, durableSubject(i), m.Subject, "sequence %d", seq)
		require.Equal(t, string(durablePayload(i)), string(m.Data), "sequence %d", seq)
		if want, ok := acked[seq]; ok {
			require.Equal(t, i, want, "sequence %d acknowledged for message %d", seq, want)
		}
	}
	return st.LastSeq
}

// maxAcked is the highest acknowledged sequence.
func maxAcked(acked map[uint64]int) uint64 {
	var top uint64
	for seq := range acked {
		top = max(top, seq)
	}
	return top
}

// TestJetStreamRestartDurabilityE2E publishes to a file stream of the
// built binary, stops it with SIGTERM or SIGKILL, starts it again on the
// same store directory and reads every message back.
//
// By default (sync_interval unset, upstream's "always") an
// acknowledgement means the message is fsynced, so nothing acknowledged
// may be missing after either stop. With `sync_interval: 2m` the server
// acknowledges on write and syncs every 2 minutes: a clean stop (SIGTERM)
// flushes and syncs everything, so it must still be lossless, but a
// SIGKILL may lose acknowledged messages not yet written to the operating
// system; there the test only requires what comes back to be an intact
// prefix of what was sent.
func TestJetStreamRestartDurabilityE2E(t *testing.T) {
	n := durabilityMsgs()
	for _, tt := range []struct {
		name         string
		syncInterval string // "" for the default
		kill         bool
	}{
		{name: "sigterm"},
		{name: "sigkill", kill: true},
		{name: "sync_interval/sigterm", syncInterval: "2m"},
		{name: "sync_interval/sigkill", syncInterval: "2m", kill: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sd := t.TempDir()
			args := []string{"-js", "-sd", sd}
			if tt.syncInterval != "" {
				conf := writeFile(t, filepath.Join(t.TempDir(), "js.conf"),
					fmt.Sprintf("jetstream { sync_interval: %q }\n", tt.syncInterval))
				args = append(args, "-c", conf)
			}
			p := startJS(t, args...)
			killAfter := 0
			if tt.kill {
				killAfter = n / 4
			}
			acked := publishTracked(t, p, n, killAfter)
			if !tt.kill {
				p.signal(syscall.SIGTERM)
				require.Equal(t, 0, p.exitCode())
			}

			p = startJS(t, args...)
			last := checkRestored(t, p, acked)
			if !tt.kill {
				require.EqualValues(t, n, last)
				return
			}
			lost := 0
			for seq := range acked {
				if seq > last {
					lost++
				}
			}
			t.Logf("killed after %d acknowledgements: %d acknowledged (highest %d), %d restored, %d acknowledged lost",
				killAfter, len(acked), maxAcked(acked), last, lost)
			if tt.syncInterval == "" {
				require.Zero(t, lost, "acknowledged messages lost after SIGKILL with durable acknowledgements")
				require.GreaterOrEqual(t, last, maxAcked(acked))
			}
		})
	}
}
