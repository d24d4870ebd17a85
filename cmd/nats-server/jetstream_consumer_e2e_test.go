package main

// Consumers of the built binary across a SIGKILL: an ack the server
// confirmed (AckSync's double ack) is never undone, and nothing delivered
// without an ack, or not delivered yet, is lost.

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

func TestJetStreamConsumerRestartE2E(t *testing.T) {
	const (
		total     = 600
		delivered = 400 // fetched before the kill
		// Before the kill nothing may be redelivered, however slow the
		// machine; after the restart the unacked come back after ackWait.
		longAckWait = time.Minute
		ackWait     = 2 * time.Second
	)
	sd := t.TempDir()
	p := startJS(t, "-js", "-sd", sd)
	js, err := jetstream.New(p.connect(), jetstream.WithPublishAsyncMaxPending(256))
	require.NoError(t, err)
	s, err := js.CreateStream(t.Context(), jetstream.StreamConfig{Name: "W", Subjects: []string{"w.>"}, Storage: jetstream.FileStorage})
	require.NoError(t, err)
	for i := range total {
		_, err := js.PublishAsync(fmt.Sprintf("w.%d", i%7), fmt.Appendf(nil, "m%d", i))
		require.NoError(t, err)
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		t.Fatal("publish acks missing")
	}
	cons, err := s.CreateOrUpdateConsumer(t.Context(), jetstream.ConsumerConfig{
		Durable: "PULL", AckPolicy: jetstream.AckExplicitPolicy, AckWait: longAckWait, MaxAckPending: -1,
	})
	require.NoError(t, err)

	// Fetch the first messages: ack two in three with AckSync (the server
	// confirms each), leave the third unacked.
	acked := map[uint64]bool{}
	unacked := map[uint64]bool{}
	for got := 0; got < delivered; {
		batch, err := cons.Fetch(50, jetstream.FetchMaxWait(5*time.Second))
		require.NoError(t, err)
		for m := range batch.Messages() {
			md, err := m.Metadata()
			require.NoError(t, err)
			seq := md.Sequence.Stream
			require.EqualValues(t, 1, md.NumDelivered, "sequence %d delivered again before the kill", seq)
			if seq%3 == 0 {
				unacked[seq] = true
			} else {
				require.NoError(t, m.DoubleAck(t.Context()), "sequence %d", seq)
				acked[seq] = true
			}
			got++
		}
		require.NoError(t, batch.Error())
	}
	require.Len(t, acked, delivered-delivered/3)

	require.NoError(t, p.cmd.Process.Kill())
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("nats-server did not die")
	}

	p = startJS(t, "-js", "-sd", sd)
	js, err = jetstream.New(p.connect())
	require.NoError(t, err)
	cons, err = js.Consumer(t.Context(), "W", "PULL")
	require.NoError(t, err)
	ci := cons.CachedInfo()
	require.EqualValues(t, delivered, ci.Delivered.Stream, "delivered stream sequence after the restart")
	require.EqualValues(t, delivered, ci.Delivered.Consumer, "delivered consumer sequence after the restart")
	require.Equal(t, len(unacked), ci.NumAckPending, "num_ack_pending after the restart")
	require.EqualValues(t, total-delivered, ci.NumPending, "num_pending after the restart")
	require.EqualValues(t, 2, ci.AckFloor.Stream, "ack_floor (sequence 3 is the first unacked)")
	// Shorten ack_wait (an editable field) so the unacked come back soon.
	cons, err = js.CreateOrUpdateConsumer(t.Context(), "W", jetstream.ConsumerConfig{
		Durable: "PULL", AckPolicy: jetstream.AckExplicitPolicy, AckWait: ackWait, MaxAckPending: -1,
	})
	require.NoError(t, err)

	// Everything not acked comes (back): the unacked ones redelivered
	// after ack_wait, the rest for the first time; no acked one ever.
	want := map[uint64]bool{}
	for seq := range unacked {
		want[seq] = true
	}
	for seq := uint64(delivered + 1); seq <= total; seq++ {
		want[seq] = true
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(want) > 0 {
		require.True(t, time.Now().Before(deadline), "%d messages never came back after the restart", len(want))
		batch, err := cons.Fetch(100, jetstream.FetchMaxWait(ackWait))
		require.NoError(t, err)
		for m := range batch.Messages() {
			md, err := m.Metadata()
			require.NoError(t, err)
			seq := md.Sequence.Stream
			require.False(t, acked[seq], "sequence %d was acked (confirmed) before the kill and is delivered again", seq)
			require.Equal(t, fmt.Sprintf("m%d", seq-1), string(m.Data()))
			if unacked[seq] {
				require.GreaterOrEqual(t, md.NumDelivered, uint64(2), "sequence %d was delivered before the kill", seq)
			}
			require.NoError(t, m.DoubleAck(t.Context()))
			delete(want, seq)
		}
	}
	ci, err = cons.Info(t.Context())
	require.NoError(t, err)
	require.Zero(t, ci.NumAckPending)
	require.Zero(t, ci.NumPending)
	require.EqualValues(t, total, ci.AckFloor.Stream)
}

// A pinned_client consumer's pin is not persisted (upstream keeps it in
// memory only, which ADR-42 leaves open): after a clean stop or a SIGKILL
// the binary comes back with nobody pinned, pins the next client anew and
// refuses the old id. The same scenario runs against upstream's binary
// when NATSD_UPSTREAM_SERVER is set.
func TestJetStreamPinnedRestartE2E(t *testing.T) {
	bins := map[string]string{"natsd": binary}
	if up := os.Getenv("NATSD_UPSTREAM_SERVER"); up != "" {
		bins["upstream"] = up
	}
	for name, bin := range bins {
		t.Run(name, func(t *testing.T) { pinnedRestart(t, bin) })
	}
}

func pinnedRestart(t *testing.T, bin string) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			sd := t.TempDir()
			p := startBinary(t, bin, "-js", "-sd", sd)
			js, err := jetstream.New(p.connect())
			require.NoError(t, err)
			s, err := js.CreateStream(t.Context(), jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}, Storage: jetstream.FileStorage})
			require.NoError(t, err)
			for range 3 {
				_, err := js.Publish(t.Context(), "p.x", nil)
				require.NoError(t, err)
			}
			cons, err := s.CreateConsumer(t.Context(), jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy,
				PriorityPolicy: jetstream.PriorityPolicyPinned, PriorityGroups: []string{"jobs"}, PinnedTTL: time.Minute})
			require.NoError(t, err)
			pinOf := func(cons jetstream.Consumer) string {
				b, err := cons.Fetch(1, jetstream.FetchPriorityGroup("jobs"), jetstream.FetchMaxWait(5*time.Second))
				require.NoError(t, err)
				id := ""
				for m := range b.Messages() {
					id = m.Headers().Get("Nats-Pin-Id")
				}
				require.NoError(t, b.Error())
				require.NotEmpty(t, id)
				return id
			}
			id := pinOf(cons)
			ci, err := cons.Info(t.Context())
			require.NoError(t, err)
			require.Equal(t, id, ci.PriorityGroups[0].PinnedClientID)

			require.NoError(t, p.cmd.Process.Signal(sig))
			select {
			case <-p.done:
			case <-time.After(10 * time.Second):
				t.Fatal("nats-server did not stop")
			}
			p = startBinary(t, bin, "-js", "-sd", sd)
			nc := p.connect()
			js, err = jetstream.New(nc)
			require.NoError(t, err)
			cons, err = js.Consumer(t.Context(), "P", "C")
			require.NoError(t, err)
			ci = cons.CachedInfo()
			require.Len(t, ci.PriorityGroups, 1)
			require.Empty(t, ci.PriorityGroups[0].PinnedClientID, "pin after the restart")
			if sig == syscall.SIGTERM {
				// A kill may lose the unacked delivery's record (it is
				// delivered again then); a clean stop writes it.
				require.Equal(t, 1, ci.NumAckPending)
			}
			require.Nil(t, ci.Delivered.Last, "delivered.last_active after the restart")

			id2 := pinOf(cons)
			require.NotEqual(t, id, id2)
			m, err := nc.Request("$JS.API.CONSUMER.MSG.NEXT.P.C", []byte(`{"batch":1,"group":"jobs","no_wait":true,"id":"`+id+`"}`), 5*time.Second)
			require.NoError(t, err)
			require.Equal(t, "423", m.Header.Get("Status"))
			require.Equal(t, "Nats-Pin-Id mismatch", m.Header.Get("Description"))
		})
	}
}
