//go:build !race

package jetstream_test

import (
	"encoding/json"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/server/servertest"
)

// TestConsumerPendingMemory delivers a million messages to an explicit-ack
// consumer without acking any and reports the heap each pending ack costs:
// the consumer's pending list (32 bytes an entry), its state write scratch
// (24) and the store's encoded copies of the state (about 4, twice). It
// fails above 100 bytes per pending ack; with a map entry per message in
// the state, as before, a file consumer cost 160.
func TestConsumerPendingMemory(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	for _, storage := range []njs.StorageType{njs.FileStorage, njs.MemoryStorage} {
		t.Run(storage.String(), func(t *testing.T) {
			s, _ := startJS(t, jetstream.Options{})
			nc := servertest.Connect(t, s)
			js, _ := njs.New(nc, njs.WithPublishAsyncMaxPending(4096))
			if _, err := js.CreateStream(ctx(t), njs.StreamConfig{Name: "M", Subjects: []string{"m"}, Storage: storage}); err != nil {
				t.Fatal(err)
			}
			data := make([]byte, 16)
			for range n {
				for {
					if _, err := js.PublishAsync("m", data); err == nil {
						break
					}
					select {
					case <-js.PublishAsyncComplete():
					case <-time.After(10 * time.Second):
						t.Fatal("publish stalled")
					}
				}
			}
			select {
			case <-js.PublishAsyncComplete():
			case <-time.After(30 * time.Second):
				t.Fatal("publish acks missing")
			}
			// Read everything once so that the store's caches are warm
			// before the measurement.
			drain(t, nc, js, "WARM", n, njs.AckNonePolicy)
			if err := js.DeleteConsumer(ctx(t), "M", "WARM"); err != nil {
				t.Fatal(err)
			}

			before := heapInUse()
			drain(t, nc, js, "C", n, njs.AckExplicitPolicy)
			// Wait for the state write that covers every delivery.
			deadline := time.Now().Add(20 * time.Second)
			for {
				ci, err := js.Consumer(ctx(t), "M", "C")
				if err != nil {
					t.Fatal(err)
				}
				info, _ := ci.Info(ctx(t))
				if info.NumAckPending == n {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("num_ack_pending %d, want %d", info.NumAckPending, n)
				}
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(500 * time.Millisecond) // two flush periods
			after := heapInUse()
			per := float64(int64(after)-int64(before)) / float64(n)
			t.Logf("%s: %d pending acks: heap %+.1f MiB, %.1f bytes per pending ack", storage, n, float64(int64(after)-int64(before))/(1<<20), per)
			if per > 100 {
				t.Errorf("%.1f bytes per pending ack, want at most 100", per)
			}
		})
	}
}

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// drain creates a durable pull consumer on stream M and pulls n messages
// through a plain subscription (no acks sent).
func drain(t *testing.T, nc *nats.Conn, js njs.JetStream, name string, n int, ack njs.AckPolicy) {
	t.Helper()
	c := ctx(t)
	if _, err := js.CreateConsumer(c, "M", njs.ConsumerConfig{Durable: name, AckPolicy: ack, MaxAckPending: -1, AckWait: time.Hour}); err != nil {
		t.Fatal(err)
	}
	inbox := nats.NewInbox()
	got := make(chan struct{}, 1)
	var count atomic.Int64
	sub, err := nc.Subscribe(inbox, func(m *nats.Msg) {
		if len(m.Data) == 16 {
			if c := count.Add(1); c%10_000 == 0 || c == int64(n) {
				select {
				case got <- struct{}{}:
				default:
				}
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		t.Fatal(err)
	}
	const batch = 50_000
	req, _ := json.Marshal(map[string]any{"batch": batch, "expires": int64(60 * time.Second)})
	subj := "$JS.API.CONSUMER.MSG.NEXT.M." + name
	asked := 0
	deadline := time.After(120 * time.Second)
	for int(count.Load()) < n {
		if asked-int(count.Load()) < 2*batch && asked < n {
			if err := nc.PublishRequest(subj, inbox, req); err != nil {
				t.Fatal(err)
			}
			asked += batch
			continue
		}
		select {
		case <-got:
		case <-deadline:
			t.Fatalf("%s: %d of %d messages", name, count.Load(), n)
		}
	}
}
