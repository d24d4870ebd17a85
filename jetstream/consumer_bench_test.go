package jetstream_test

import (
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/server/servertest"
)

// BenchmarkConsumePull measures a pull consumer (Messages) draining b.N
// stored 128-byte messages, with and without explicit acks.
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
			it, err := cons.Messages()
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < b.N; i++ {
				m, err := it.Next()
				if err != nil {
					b.Fatal(err)
				}
				if ack {
					_ = m.Ack()
				}
			}
			it.Stop()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}
