package jetstream_test

import (
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/jetstream/api"
	"natsd.dev/server/servertest"
)

// TestSnapshotRestoreConsumers archives a stream with a durable pull
// consumer in the middle of its work (some messages acked, some pending),
// restores it and checks that the consumer came back with the same
// numbers and goes on from where it was; with no_consumers the archive
// holds none.
func TestSnapshotRestoreConsumers(t *testing.T) {
	for _, storage := range []njs.StorageType{njs.FileStorage, njs.MemoryStorage} {
		t.Run(storage.String(), func(t *testing.T) {
			s, _ := startJS(t, jetstream.Options{})
			nc := servertest.Connect(t, s)
			js, _ := njs.New(nc)
			c := ctx(t)
			st, err := js.CreateStream(c, njs.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: storage})
			if err != nil {
				t.Fatal(err)
			}
			for range 10 {
				if _, err := js.Publish(c, "s.x", []byte("m")); err != nil {
					t.Fatal(err)
				}
			}
			cons, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "D", AckPolicy: njs.AckExplicitPolicy, AckWait: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			batch, err := cons.Fetch(6, njs.FetchMaxWait(5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for m := range batch.Messages() {
				if n < 3 {
					if err := m.DoubleAck(c); err != nil {
						t.Fatal(err)
					}
				}
				n++
			}
			if n != 6 {
				t.Fatalf("fetched %d", n)
			}
			before, err := cons.Info(c)
			if err != nil {
				t.Fatal(err)
			}
			// An archive without consumers holds none.
			bare := snapshotStream(t, nc, "S", api.SnapshotRequest{NoConsumers: true}, true)
			if bare.Resp.Error != nil || bare.Status != "204" {
				t.Fatalf("bare snapshot: %+v %s", bare.Resp.Error, bare.Status)
			}
			snap := snapshotStream(t, nc, "S", api.SnapshotRequest{}, true)
			if snap.Resp.Error != nil || snap.Status != "204" {
				t.Fatalf("snapshot: %+v %s %s", snap.Resp.Error, snap.Status, snap.Desc)
			}
			if err := js.DeleteStream(c, "S"); err != nil {
				t.Fatal(err)
			}
			state := *snap.Resp.State
			state.Consumers = 1
			if r := restoreStream(t, nc, "S", *snap.Resp.Config, state, snap.Data); r.Error != nil {
				t.Fatalf("restore: %+v", r.Error)
			}
			st, err = js.Stream(c, "S")
			if err != nil {
				t.Fatal(err)
			}
			cons, err = st.Consumer(c, "D")
			if err != nil {
				t.Fatalf("restored consumer: %v", err)
			}
			after, err := cons.Info(c)
			if err != nil {
				t.Fatal(err)
			}
			if after.Delivered.Stream != before.Delivered.Stream || after.Delivered.Consumer != before.Delivered.Consumer ||
				after.AckFloor.Stream != before.AckFloor.Stream || after.NumAckPending != before.NumAckPending ||
				after.NumPending != before.NumPending || after.Config.AckWait != time.Hour {
				t.Fatalf("restored consumer\nbefore %+v %+v ack pending %d pending %d\nafter  %+v %+v ack pending %d pending %d",
					before.Delivered, before.AckFloor, before.NumAckPending, before.NumPending,
					after.Delivered, after.AckFloor, after.NumAckPending, after.NumPending)
			}
			// It goes on: the four undelivered messages come next.
			batch, err = cons.Fetch(10, njs.FetchMaxWait(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			var seqs []uint64
			for m := range batch.Messages() {
				md, _ := m.Metadata()
				seqs = append(seqs, md.Sequence.Stream)
			}
			if len(seqs) != 4 || seqs[0] != 7 {
				t.Fatalf("after restore delivered %v", seqs)
			}
			// Restoring the archive without consumers brings none.
			if err := js.DeleteStream(c, "S"); err != nil {
				t.Fatal(err)
			}
			if r := restoreStream(t, nc, "S", *bare.Resp.Config, *bare.Resp.State, bare.Data); r.Error != nil {
				t.Fatalf("bare restore: %+v", r.Error)
			}
			st, _ = js.Stream(c, "S")
			if _, err := st.Consumer(c, "D"); err == nil {
				t.Fatal("consumer restored from an archive without consumers")
			}
		})
	}
}
