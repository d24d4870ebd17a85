package jetstream_test

import (
	"context"
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// BenchmarkRecover1M measures Start on a store directory holding one file
// stream of a million 16-byte messages (the load generator's recovery
// row), after a clean shutdown.
func BenchmarkRecover1M(b *testing.B) {
	dir := b.TempDir()
	s, js0 := startJS(b, jetstream.Options{StoreDir: dir})
	nc := servertest.Connect(b, s)
	js, _ := njs.New(nc, njs.WithPublishAsyncMaxPending(4000))
	c := ctx(b)
	if _, err := js.CreateStream(c, njs.StreamConfig{Name: "R", Subjects: []string{"r.>"}}); err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 16)
	for range 1_000_000 {
		if _, err := js.PublishAsync("r.x", data); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		b.Fatal("acks missing")
	}
	nc.Close()
	if err := js0.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		s := servertest.Start(b, server.Options{})
		j, err := jetstream.Start(s, jetstream.Options{StoreDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_ = j.Shutdown(context.Background())
		b.StartTimer()
	}
}
