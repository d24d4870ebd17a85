package jetstream_test

import (
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/server/servertest"
)

// benchPublish measures acknowledged publishes into one stream through a
// real client: async with a window of 4000 (what the load generator's
// jspub-async rows do) or one at a time.
func benchPublish(b *testing.B, storage njs.StorageType, async bool, size int) {
	s, _ := startJS(b, jetstream.Options{})
	nc := servertest.Connect(b, s)
	js, err := njs.New(nc, njs.WithPublishAsyncMaxPending(4000))
	if err != nil {
		b.Fatal(err)
	}
	c := ctx(b)
	if _, err := js.CreateStream(c, njs.StreamConfig{Name: "B", Subjects: []string{"b.>"}, Storage: storage}); err != nil {
		b.Fatal(err)
	}
	data := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	if async {
		for range b.N {
			if _, err := js.PublishAsync("b.x", data); err != nil {
				b.Fatal(err)
			}
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-time.After(30 * time.Second):
			b.Fatal("acks missing")
		}
		return
	}
	for range b.N {
		if _, err := js.Publish(c, "b.x", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPublishAsyncFile128(b *testing.B) { benchPublish(b, njs.FileStorage, true, 128) }
func BenchmarkPublishAsyncMem128(b *testing.B)  { benchPublish(b, njs.MemoryStorage, true, 128) }
func BenchmarkPublishSyncMem128(b *testing.B)   { benchPublish(b, njs.MemoryStorage, false, 128) }
func BenchmarkPublishSyncFile128(b *testing.B)  { benchPublish(b, njs.FileStorage, false, 128) }

func BenchmarkPublishAsyncMem4K(b *testing.B)  { benchPublish(b, njs.MemoryStorage, true, 4096) }
func BenchmarkPublishAsyncFile4K(b *testing.B) { benchPublish(b, njs.FileStorage, true, 4096) }
