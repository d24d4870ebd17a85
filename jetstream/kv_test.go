package jetstream_test

import (
	"errors"
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/server/servertest"
)

// TestKVWithoutConsumers drives the KV calls that need no consumer (they
// are publishes and direct gets): create the bucket, put, get by key and
// revision, create, update with CAS, delete, purge, status.
func TestKVWithoutConsumers(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, _ := njs.New(nc)
	c := ctx(t)
	kv, err := js.CreateKeyValue(c, njs.KeyValueConfig{Bucket: "cfg", History: 5, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	r1, err := kv.Put(c, "a", []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(c, "a", []byte("2")); err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(c, "a")
	if err != nil || string(e.Value()) != "2" || e.Revision() != 2 {
		t.Fatalf("get %v %v", e, err)
	}
	old, err := kv.GetRevision(c, "a", r1)
	if err != nil || string(old.Value()) != "1" {
		t.Fatalf("get revision %v %v", old, err)
	}
	if _, err := kv.Create(c, "a", []byte("x")); !errors.Is(err, njs.ErrKeyExists) {
		t.Fatalf("create over existing: %v", err)
	}
	if _, err := kv.Create(c, "b", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Update(c, "a", []byte("3"), r1); err == nil {
		t.Fatal("update with a stale revision accepted")
	}
	if _, err := kv.Update(c, "a", []byte("3"), 2); err != nil {
		t.Fatal(err)
	}
	if err := kv.Delete(c, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(c, "b"); !errors.Is(err, njs.ErrKeyNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
	if _, err := kv.Create(c, "b", []byte("again")); err != nil {
		t.Fatalf("create after delete: %v", err)
	}
	if err := kv.Purge(c, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(c, "a"); !errors.Is(err, njs.ErrKeyNotFound) {
		t.Fatalf("get purged: %v", err)
	}
	st, err := kv.Status(c)
	if err != nil || st.Bucket() != "cfg" || st.History() != 5 || st.TTL() != time.Hour {
		t.Fatalf("status %+v %v", st, err)
	}
	if err := js.DeleteKeyValue(c, "cfg"); err != nil {
		t.Fatal(err)
	}
}
