package jetstream_test

import (
	"errors"
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/server/servertest"
)

// BenchmarkConsumePull measures a pull consumer (Messages) draining b.N
// stored 128-byte messages, with and without explicit acks.
//
// nats.go (v1.55.0, and v1.56.0 alike) can stop asking for messages: its
// iterator skips the next pull request while the previous one is still
// being sent (pullSubscription.fetchInProgress) and does not look again
// until a message comes, so when the server delivers the whole previous
// request in that window nothing more comes. The server then holds no
// request and sends no heartbeat, and Next fails with ErrNoHeartbeat
// (upstream nats-server 2.15.2 behaves the same, see
// TestPullConsumeNoServerStall). The benchmark asks for heartbeats every
// second and takes up to a few such failures in its stride: the next Next
// asks again.
func BenchmarkConsumePull(b *testing.B) {
	for _, ack := range []bool{false, true} {
		name := "noack"
		if ack {
			name = "ack"
		}
		b.Run(name, func(b *testing.B) {
			s, _ := startJS(b, jetstream.Options{})
			nc := servertest.Connect(b, s)
			js, _ := njs.New(nc)
			c := ctx(b)
			st, err := js.CreateStream(c, njs.StreamConfig{Name: "B", Subjects: []string{"b"}})
			if err != nil {
				b.Fatal(err)
			}
			data := make([]byte, 128)
			for i := 0; i < b.N; i++ {
				for {
					_, err := js.PublishAsync("b", data)
					if err == nil {
						break
					}
					select {
					case <-js.PublishAsyncComplete():
					case <-time.After(5 * time.Second):
						b.Fatal(err)
					}
				}
			}
			<-js.PublishAsyncComplete()
			cfg := njs.ConsumerConfig{Durable: "C", AckPolicy: njs.AckNonePolicy}
			if ack {
				cfg.AckPolicy = njs.AckExplicitPolicy
			}
			cons, err := st.CreateConsumer(c, cfg)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			it, err := cons.Messages(njs.PullHeartbeat(time.Second))
			if err != nil {
				b.Fatal(err)
			}
			missed := 0
			for i := 0; i < b.N; i++ {
				m, err := it.Next()
				if errors.Is(err, njs.ErrNoHeartbeat) && missed < 3 {
					missed++ // nats.go's missed pull request (above)
					i--
					continue
				}
				if err != nil {
					b.Fatal(err)
				}
				if ack {
					_ = m.Ack()
				}
			}
			it.Stop()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
			if missed > 0 {
				b.Logf("nats.go stopped asking for messages %d time(s) (2s each)", missed)
			}
		})
	}
}
