package jetstream_test

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/server/servertest"
)

// TestConsumeBatchesKeepContent: a pull consumer delivers many messages
// per batch, in order and intact, whatever their sizes (empty, small,
// larger than a batch's arena, larger than a whole batch) and headers,
// with the ack metadata of each; also headers_only and a filter, on both
// stores.
func TestConsumeBatchesKeepContent(t *testing.T) {
	for _, storage := range []njs.StorageType{njs.FileStorage, njs.MemoryStorage} {
		t.Run(storage.String(), func(t *testing.T) {
			s, _ := startJS(t, jetstream.Options{})
			nc := servertest.Connect(t, s)
			js, err := njs.New(nc)
			if err != nil {
				t.Fatal(err)
			}
			c := ctx(t)
			st, err := js.CreateStream(c, njs.StreamConfig{Name: "B", Subjects: []string{"b.>"}, Storage: storage})
			if err != nil {
				t.Fatal(err)
			}
			sizes := []int{0, 1, 128, 3000, 70_000, 128, 300_000, 5}
			const n = 400
			body := func(i int) []byte {
				return bytes.Repeat([]byte{byte('a' + i%26)}, sizes[i%len(sizes)])
			}
			subject := func(i int) string { return "b." + strconv.Itoa(i%3) }
			for i := range n {
				m := &nats.Msg{Subject: subject(i), Data: body(i)}
				if i%4 == 1 {
					m.Header = nats.Header{"K": []string{strconv.Itoa(i)}}
				}
				if _, err := js.PublishMsg(c, m); err != nil {
					t.Fatal(err)
				}
			}
			check := func(t *testing.T, cfg njs.ConsumerConfig, want []int, headersOnly bool) {
				cons, err := st.CreateOrUpdateConsumer(c, cfg)
				if err != nil {
					t.Fatal(err)
				}
				got := 0
				for got < len(want) {
					batch, err := cons.Fetch(len(want)-got, njs.FetchMaxWait(5*time.Second))
					if err != nil {
						t.Fatal(err)
					}
					for m := range batch.Messages() {
						i := want[got]
						md, err := m.Metadata()
						if err != nil {
							t.Fatal(err)
						}
						if md.Sequence.Stream != uint64(i+1) || md.Sequence.Consumer != uint64(got+1) || md.NumDelivered != 1 {
							t.Fatalf("message %d: metadata %+v", got, md.Sequence)
						}
						if m.Subject() != subject(i) {
							t.Fatalf("message %d: subject %q, want %q", got, m.Subject(), subject(i))
						}
						if k, want := m.Headers().Get("K"), map[bool]string{true: strconv.Itoa(i)}[i%4 == 1]; k != want {
							t.Fatalf("message %d: header K %q, want %q", got, k, want)
						}
						if headersOnly {
							if len(m.Data()) != 0 || m.Headers().Get("Nats-Msg-Size") != strconv.Itoa(len(body(i))) {
								t.Fatalf("message %d: headers only gave %d bytes, size %q", got, len(m.Data()), m.Headers().Get("Nats-Msg-Size"))
							}
						} else if !bytes.Equal(m.Data(), body(i)) {
							t.Fatalf("message %d (seq %d): %d bytes, want %d", got, i+1, len(m.Data()), len(body(i)))
						}
						got++
					}
					if err := batch.Error(); err != nil {
						t.Fatal(err)
					}
				}
			}
			all := make([]int, n)
			for i := range all {
				all[i] = i
			}
			t.Run("all", func(t *testing.T) {
				check(t, njs.ConsumerConfig{Durable: "ALL", AckPolicy: njs.AckNonePolicy}, all, false)
			})
			t.Run("headers_only", func(t *testing.T) {
				check(t, njs.ConsumerConfig{Durable: "HO", AckPolicy: njs.AckExplicitPolicy, HeadersOnly: true}, all, true)
			})
			var ones []int
			for i := 1; i < n; i += 3 {
				ones = append(ones, i)
			}
			t.Run("filtered", func(t *testing.T) {
				check(t, njs.ConsumerConfig{Durable: "F", AckPolicy: njs.AckNonePolicy, FilterSubject: "b.1"}, ones, false)
			})
			t.Run("filters", func(t *testing.T) {
				var want []int
				for i := range n {
					if i%3 != 2 {
						want = append(want, i)
					}
				}
				check(t, njs.ConsumerConfig{Durable: "FS", AckPolicy: njs.AckNonePolicy, FilterSubjects: []string{"b.0", "b.1"}}, want, false)
			})
		})
	}
}
