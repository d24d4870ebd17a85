package jetstream_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/server/servertest"
)

// TestPullFullAckPendingHeartbeatsAndResumes: a pull request waiting on a
// consumer whose max_ack_pending is full gets idle heartbeats and no
// message, and a plain ack (one the consumer's loop is woken for only
// when it frees a slot of a full max_ack_pending) lets delivery go on at
// once, in order, until the request is served; also across delivery
// batches (max_ack_pending past one batch) and with ack all freeing
// several slots at once. "At once": the median time from such an ack to
// the next message is well below the loop's timers (the 100ms heartbeat,
// the 200ms state flush), which would otherwise deliver it, late.
func TestPullFullAckPendingHeartbeatsAndResumes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy njs.AckPolicy
		maxAP  int
		n      int
	}{
		{"explicit", njs.AckExplicitPolicy, 3, 10},
		{"explicit-batches", njs.AckExplicitPolicy, 65, 200},
		{"all", njs.AckAllPolicy, 3, 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := startJS(t, jetstream.Options{})
			nc := servertest.Connect(t, s)
			js, err := njs.New(nc)
			if err != nil {
				t.Fatal(err)
			}
			c := ctx(t)
			if _, err := js.CreateStream(c, njs.StreamConfig{Name: "S", Subjects: []string{"s"}}); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < tc.n; i++ {
				if _, err := js.Publish(c, "s", []byte(strconv.Itoa(i+1))); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := js.CreateConsumer(c, "S", njs.ConsumerConfig{Durable: "C", AckPolicy: tc.policy,
				MaxAckPending: tc.maxAP, AckWait: time.Hour}); err != nil {
				t.Fatal(err)
			}
			inbox := nats.NewInbox()
			sub, err := nc.SubscribeSync(inbox)
			if err != nil {
				t.Fatal(err)
			}
			req := `{"batch":` + strconv.Itoa(tc.n) + `,"expires":60000000000,"idle_heartbeat":100000000}`
			if err := nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.S.C", inbox, []byte(req)); err != nil {
				t.Fatal(err)
			}
			var unacked []*nats.Msg
			got, heartbeats := 0, 0
			var ackedAt time.Time       // an ack that freed a slot of a full max_ack_pending
			var resumed []time.Duration // from such an ack to the next message
			for got < tc.n {
				m := nextMsg(t, sub)
				if len(m.Data) == 0 {
					if !isStatus(m, "100") || m.Header.Get("Description") != "Idle Heartbeat" {
						t.Fatalf("after %d messages: status %v", got, m.Header)
					}
					if len(unacked) == tc.maxAP {
						heartbeats++
						// Full and heard from: ack (the oldest, or all).
						acked := 1
						if tc.policy == njs.AckAllPolicy {
							acked = len(unacked)
						}
						if err := nc.Publish(unacked[acked-1].Reply, nil); err != nil {
							t.Fatal(err)
						}
						unacked = unacked[acked:]
					}
					continue
				}
				if len(unacked) >= tc.maxAP {
					t.Fatalf("message %s delivered with %d unacked (max_ack_pending %d)", m.Data, len(unacked), tc.maxAP)
				}
				if !ackedAt.IsZero() {
					resumed = append(resumed, time.Since(ackedAt))
					ackedAt = time.Time{}
				}
				got++
				if seq := strings.Split(m.Reply, ".")[5]; seq != strconv.Itoa(got) || string(m.Data) != seq {
					t.Fatalf("message %d: stream seq %s, data %q", got, seq, m.Data)
				}
				unacked = append(unacked, m)
				if len(unacked) == tc.maxAP && heartbeats > 0 && got < tc.n {
					// Full again: the first time it waited for a heartbeat
					// above; from then on ack at once.
					acked := 1
					if tc.policy == njs.AckAllPolicy {
						acked = len(unacked)
					}
					ackedAt = time.Now()
					if err := nc.Publish(unacked[acked-1].Reply, nil); err != nil {
						t.Fatal(err)
					}
					unacked = unacked[acked:]
				}
			}
			if heartbeats == 0 {
				t.Fatal("no heartbeat while max_ack_pending was full")
			}
			if len(resumed) < 3 {
				t.Fatalf("max_ack_pending full %d times", len(resumed))
			}
			slices.Sort(resumed)
			if med := resumed[len(resumed)/2]; med > 50*time.Millisecond {
				t.Fatalf("median %v from an ack freeing a slot to the next message (%d times, max %v)", med, len(resumed), resumed[len(resumed)-1])
			}
		})
	}
}
