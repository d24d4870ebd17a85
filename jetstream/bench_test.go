package jetstream_test

import (
	"context"
	"strconv"
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

// benchKV measures synchronous KV puts or gets of 128 bytes over 1000 keys
// through a real client, one request in flight: what the load generator's
// kvput-* and kvget-* rows do. Each is one request/reply through the
// server, so what it costs is the server's work and its goroutine hand-offs
// per operation.
func benchKV(b *testing.B, storage njs.StorageType, o jetstream.Options, get bool) {
	s, _ := startJS(b, o)
	nc := servertest.Connect(b, s)
	js, err := njs.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	c := ctx(b)
	kv, err := js.CreateKeyValue(c, njs.KeyValueConfig{Bucket: "BENCH", Storage: storage})
	if err != nil {
		b.Fatal(err)
	}
	const nkeys = 1000
	keys := make([]string, nkeys)
	data := make([]byte, 128)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
		if get {
			if _, err := kv.Put(c, keys[i], data); err != nil {
				b.Fatal(err)
			}
		}
	}
	bg := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if get {
			if _, err := kv.Get(bg, keys[i%nkeys]); err != nil {
				b.Fatal(err)
			}
		} else if _, err := kv.Put(bg, keys[i%nkeys], data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKVPutMem128(b *testing.B) { benchKV(b, njs.MemoryStorage, jetstream.Options{}, false) }
func BenchmarkKVGetMem128(b *testing.B) { benchKV(b, njs.MemoryStorage, jetstream.Options{}, true) }
func BenchmarkKVGetFile128(b *testing.B) {
	benchKV(b, njs.FileStorage, jetstream.Options{}, true)
}

// BenchmarkKVPutFileSyncInterval128 is a put to a file bucket with
// sync_interval set (upstream's default mode: acknowledged once written).
func BenchmarkKVPutFileSyncInterval128(b *testing.B) {
	benchKV(b, njs.FileStorage, jetstream.Options{SyncInterval: 2 * time.Minute}, false)
}
