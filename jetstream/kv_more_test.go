package jetstream_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/server/servertest"
)

// TestKVManyKeys watches and lists a bucket with more keys than the
// client's watch buffer, so delivery runs into flow control.
func TestKVManyKeys(t *testing.T) {
	_, kv := newKV(t, njs.KeyValueConfig{Bucket: "many"})
	c := ctx(t)
	const n = 3000
	for i := 0; i < n; i++ {
		if _, err := kv.Put(c, fmt.Sprintf("k.%d", i), bytes.Repeat([]byte{'v'}, 100)); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := kv.Keys(c)
	if err != nil || len(keys) != n {
		t.Fatalf("keys %d %v", len(keys), err)
	}
	w, err := kv.WatchAll(c)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	seen := 0
	for {
		e := next(t, w)
		if e.key == "" {
			break
		}
		seen++
		if seen%500 == 0 {
			time.Sleep(20 * time.Millisecond) // a slow reader
		}
	}
	if seen != n {
		t.Fatalf("watch saw %d of %d", seen, n)
	}
	put(t, kv, "k.0", "later")
	if e := next(t, w); e.key != "k.0" || e.value != "later" {
		t.Fatalf("later %+v", e)
	}
}

// TestKVLegacyAPI drives the older nats.JetStreamContext KV calls.
func TestKVLegacyAPI(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.CreateKeyValue(&nats.KeyValueConfig{Bucket: "old", History: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put("a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Create("a", []byte("1")); !errors.Is(err, nats.ErrKeyExists) {
		t.Fatalf("create existing: %v", err)
	}
	if e, err := kv.Get("a"); err != nil || string(e.Value()) != "1" {
		t.Fatalf("get %v %v", e, err)
	}
	w, err := kv.WatchAll()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	want := []string{"a", ""}
	for _, k := range want {
		select {
		case e := <-w.Updates():
			if (e == nil) != (k == "") || (e != nil && e.Key() != k) {
				t.Fatalf("watch want %q got %v", k, e)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no watch update")
		}
	}
	keys, err := kv.Keys()
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys %v %v", keys, err)
	}
	h, err := kv.History("a")
	if err != nil || len(h) != 1 {
		t.Fatalf("history %v %v", h, err)
	}
	if err := kv.Delete("a"); err != nil {
		t.Fatal(err)
	}
	if err := kv.PurgeDeletes(nats.DeleteMarkersOlderThan(-1)); err != nil {
		t.Fatal(err)
	}
	st, err := kv.Status()
	if err != nil || st.Values() != 0 {
		t.Fatalf("status %v %v", st, err)
	}

	obs, err := js.CreateObjectStore(&nats.ObjectStoreConfig{Bucket: "oldobj"})
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 3<<20)
	rand.New(rand.NewSource(2)).Read(data)
	if _, err := obs.PutBytes("x", data); err != nil {
		t.Fatal(err)
	}
	got, err := obs.GetBytes("x")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get %d %v", len(got), err)
	}
}

// TestKVEntryDetails checks what a watcher's entries carry beyond key and
// value (creation time from the reply subject, delta), limits of the
// bucket, and the TTL rules.
func TestKVEntryDetails(t *testing.T) {
	js, kv := newKV(t, njs.KeyValueConfig{Bucket: "d", MaxValueSize: 16, History: 2})
	c := ctx(t)
	put(t, kv, "a", "1")
	put(t, kv, "b", "1")
	w, err := kv.WatchAll(c)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for i, wantDelta := range []uint64{1, 0} {
		e := <-w.Updates()
		if e == nil || e.Delta() != wantDelta || time.Since(e.Created()) > time.Minute || time.Since(e.Created()) < 0 {
			t.Fatalf("entry %d: %+v", i, e)
		}
	}
	if _, err := kv.Put(c, "big", make([]byte, 17)); err == nil {
		t.Fatal("value over max_value_size accepted")
	}
	// A per-key TTL needs a bucket with limit markers.
	if _, err := kv.Create(c, "t", []byte("x"), njs.KeyTTL(time.Second)); err == nil {
		t.Fatal("key TTL accepted on a bucket without per-key TTLs")
	}

	// The expiry marker itself goes after the bucket's marker TTL.
	kt, err := js.CreateKeyValue(c, njs.KeyValueConfig{Bucket: "m", LimitMarkerTTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kt.Create(c, "a", []byte("1"), njs.KeyTTL(time.Second)); err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(c, "KV_m")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(8 * time.Second)
	sawMarker := false
	for {
		info, err := s.Info(c)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.LastSeq == 2 {
			sawMarker = true
		}
		if sawMarker && info.State.Msgs == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("marker not expired: %+v", info.State)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestKVRestart: values, history, per-key TTLs and object chunks survive
// a restart of JetStream on the same store directory.
func TestKVRestart(t *testing.T) {
	dir := t.TempDir()
	s1, j1 := startJS(t, jetstream.Options{StoreDir: dir})
	nc := servertest.Connect(t, s1)
	js, _ := njs.New(nc)
	c := ctx(t)
	kv, err := js.CreateKeyValue(c, njs.KeyValueConfig{Bucket: "r", History: 3, LimitMarkerTTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	put(t, kv, "a", "1")
	put(t, kv, "a", "2")
	if _, err := kv.Create(c, "gone", []byte("x"), njs.KeyTTL(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	obs, err := js.CreateObjectStore(c, njs.ObjectStoreConfig{Bucket: "f"})
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("abc"), 200_000)
	if _, err := obs.PutBytes(c, "x", data); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	if err := j1.Shutdown(c); err != nil {
		t.Fatal(err)
	}

	s2, _ := startJS(t, jetstream.Options{StoreDir: dir})
	js, _ = njs.New(servertest.Connect(t, s2))
	kv, err = js.KeyValue(c, "r")
	if err != nil {
		t.Fatal(err)
	}
	h, err := kv.History(c, "a")
	if err != nil || len(h) != 2 {
		t.Fatalf("history after restart %v %v", h, err)
	}
	w, err := kv.Watch(c, "gone")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for {
		e := next(t, w)
		if e.op == njs.KeyValuePurge {
			break
		}
	}
	obs, err = js.ObjectStore(c, "f")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := obs.GetBytes(c, "x"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("object after restart: %v", err)
	}
}

// TestKVConcurrentUpdates: many clients increment one key with CAS
// updates; every increment that the server accepted counts once.
func TestKVConcurrentUpdates(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	c := ctx(t)
	js0, _ := njs.New(servertest.Connect(t, s))
	kv0, err := js0.CreateKeyValue(c, njs.KeyValueConfig{Bucket: "cnt"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv0.Put(c, "n", []byte("0")); err != nil {
		t.Fatal(err)
	}
	const workers, each = 6, 20
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		js, _ := njs.New(servertest.Connect(t, s))
		kv, err := js.KeyValue(c, "cnt")
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			done := 0
			for done < each {
				e, err := kv.Get(c, "n")
				if err != nil {
					errs <- err
					return
				}
				var v int
				fmt.Sscan(string(e.Value()), &v)
				if _, err := kv.Update(c, "n", []byte(fmt.Sprint(v+1)), e.Revision()); err == nil {
					done++
				} else if !errors.Is(err, njs.ErrKeyExists) {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	e, err := kv0.Get(c, "n")
	if err != nil || string(e.Value()) != fmt.Sprint(workers*each) {
		t.Fatalf("counter %v %v", e, err)
	}
}

// TestKVRePublish: a bucket that republishes its puts.
func TestKVRePublish(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, _ := njs.New(nc)
	c := ctx(t)
	kv, err := js.CreateKeyValue(c, njs.KeyValueConfig{Bucket: "rp", RePublish: &njs.RePublish{Source: ">", Destination: "out.>"}})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := nc.SubscribeSync("out.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	put(t, kv, "a", "1")
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "out.$KV.rp.a" || string(m.Data) != "1" || m.Header.Get("Nats-Stream") != "KV_rp" || m.Header.Get("Nats-Sequence") != "1" {
		t.Fatalf("republished %s %q %v", m.Subject, m.Data, m.Header)
	}
}

// TestKVLimits: a full bucket refuses puts; an update turns on per-key
// TTLs but cannot turn them off.
func TestKVLimits(t *testing.T) {
	js, kv := newKV(t, njs.KeyValueConfig{Bucket: "lim", MaxBytes: 1024})
	c := ctx(t)
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		_, err = kv.Put(c, fmt.Sprintf("k%d", i), make([]byte, 100))
	}
	var apiErr *njs.APIError
	if !errors.As(err, &apiErr) || apiErr.Description != "maximum bytes exceeded" {
		t.Fatalf("put into a full bucket: %v", err)
	}
	kv2, err := js.UpdateKeyValue(c, njs.KeyValueConfig{Bucket: "lim", MaxBytes: 1024, LimitMarkerTTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := kv2.Status(c); err != nil || st.LimitMarkerTTL() != time.Second {
		t.Fatalf("status %v", err)
	}
	if _, err := js.UpdateKeyValue(c, njs.KeyValueConfig{Bucket: "lim", MaxBytes: 1024}); err == nil {
		t.Fatal("per-key TTLs turned off")
	}
}

// TestKVWatchersGoAway: the consumers behind Keys, History and stopped
// watchers do not pile up.
func TestKVWatchersGoAway(t *testing.T) {
	js, kv := newKV(t, njs.KeyValueConfig{Bucket: "gone"})
	c := ctx(t)
	put(t, kv, "a", "1")
	for i := 0; i < 20; i++ {
		if _, err := kv.Keys(c); err != nil {
			t.Fatal(err)
		}
		if _, err := kv.History(c, "a"); err != nil {
			t.Fatal(err)
		}
		w, err := kv.WatchAll(c)
		if err != nil {
			t.Fatal(err)
		}
		next(t, w)
		w.Stop()
	}
	s, err := js.Stream(c, "KV_gone")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(8 * time.Second)
	for {
		info, err := s.Info(c)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Consumers == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d consumers left", info.State.Consumers)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
