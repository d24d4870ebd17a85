package jetstream_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/server/servertest"
)

// newKV starts a server and creates a bucket with cfg.
func newKV(t *testing.T, cfg njs.KeyValueConfig) (njs.JetStream, njs.KeyValue) {
	t.Helper()
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, err := njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.CreateKeyValue(ctx(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return js, kv
}

// kvEvent is one watcher update in a comparable form; key "" is the
// nil marker that ends the initial values.
type kvEvent struct {
	key   string
	value string
	op    njs.KeyValueOp
	rev   uint64
}

// next reads one update from w within five seconds.
func next(t *testing.T, w njs.KeyWatcher) kvEvent {
	t.Helper()
	select {
	case e, ok := <-w.Updates():
		if !ok {
			t.Fatal("watcher closed")
		}
		if e == nil {
			return kvEvent{}
		}
		return kvEvent{e.Key(), string(e.Value()), e.Operation(), e.Revision()}
	case <-time.After(5 * time.Second):
		t.Fatal("no watcher update within 5s")
	}
	return kvEvent{}
}

func put(t *testing.T, kv njs.KeyValue, key, val string) uint64 {
	t.Helper()
	r, err := kv.Put(ctx(t), key, []byte(val))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestKVKeysAndHistory(t *testing.T) {
	_, kv := newKV(t, njs.KeyValueConfig{Bucket: "k", History: 10})
	c := ctx(t)
	if _, err := kv.Keys(c); !errors.Is(err, njs.ErrNoKeysFound) {
		t.Fatalf("keys of empty bucket: %v", err)
	}
	put(t, kv, "a.x", "1")
	put(t, kv, "a.y", "1")
	put(t, kv, "b.x", "1")
	put(t, kv, "a.x", "2")
	put(t, kv, "c", "1")
	if err := kv.Delete(c, "c"); err != nil {
		t.Fatal(err)
	}
	keys, err := kv.Keys(c)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"a.x", "a.y", "b.x"}) {
		t.Fatalf("keys %v", keys)
	}
	lister, err := kv.ListKeys(c)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for k := range lister.Keys() {
		listed = append(listed, k)
	}
	slices.Sort(listed)
	if !slices.Equal(listed, keys) {
		t.Fatalf("list keys %v", listed)
	}
	lister, err = kv.ListKeysFiltered(c, "a.*", "c")
	if err != nil {
		t.Fatal(err)
	}
	listed = nil
	for k := range lister.Keys() {
		listed = append(listed, k)
	}
	slices.Sort(listed)
	if !slices.Equal(listed, []string{"a.x", "a.y"}) {
		t.Fatalf("filtered keys %v", listed)
	}

	hist, err := kv.History(c, "a.x")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || string(hist[0].Value()) != "1" || string(hist[1].Value()) != "2" || hist[1].Revision() != 4 {
		t.Fatalf("history %v", hist)
	}
	hist, err = kv.History(c, "c")
	if err != nil || len(hist) != 2 || hist[1].Operation() != njs.KeyValueDelete {
		t.Fatalf("history with delete %v %v", hist, err)
	}
	if _, err := kv.History(c, "nope"); !errors.Is(err, njs.ErrKeyNotFound) {
		t.Fatalf("history of missing key: %v", err)
	}
	// History is bounded by the bucket's History.
	for i := 0; i < 12; i++ {
		put(t, kv, "h", "v")
	}
	hist, err = kv.History(c, "h")
	if err != nil || len(hist) != 10 {
		t.Fatalf("bounded history %d %v", len(hist), err)
	}
}

func TestKVWatch(t *testing.T) {
	js, kv := newKV(t, njs.KeyValueConfig{Bucket: "w", History: 5})
	c := ctx(t)
	put(t, kv, "a", "1")
	put(t, kv, "a", "2")
	put(t, kv, "b", "1")

	t.Run("all", func(t *testing.T) {
		w, err := kv.WatchAll(c)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		if e := next(t, w); e.key != "a" || e.value != "2" || e.rev != 2 {
			t.Fatalf("first %+v", e)
		}
		if e := next(t, w); e.key != "b" || e.value != "1" {
			t.Fatalf("second %+v", e)
		}
		if e := next(t, w); e.key != "" {
			t.Fatalf("want the nil marker, got %+v", e)
		}
		// The watcher's ordered consumer (ephemeral, in memory) counts in
		// the stream's and the account's consumers, as upstream.
		s, err := js.Stream(c, "KV_w")
		if err != nil || s.CachedInfo().State.Consumers != 1 {
			t.Fatalf("stream consumers %v", err)
		}
		if ai, err := js.AccountInfo(c); err != nil || ai.Consumers != 1 {
			t.Fatalf("account consumers %+v %v", ai, err)
		}
		put(t, kv, "c", "1")
		if e := next(t, w); e.key != "c" || e.op != njs.KeyValuePut {
			t.Fatalf("later put %+v", e)
		}
		if err := kv.Delete(c, "c"); err != nil {
			t.Fatal(err)
		}
		if e := next(t, w); e.key != "c" || e.op != njs.KeyValueDelete {
			t.Fatalf("later delete %+v", e)
		}
		if err := kv.Purge(c, "c"); err != nil {
			t.Fatal(err)
		}
		if e := next(t, w); e.key != "c" || e.op != njs.KeyValuePurge {
			t.Fatalf("later purge %+v", e)
		}
	})

	t.Run("history", func(t *testing.T) {
		w, err := kv.Watch(c, "a", njs.IncludeHistory())
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		if e := next(t, w); e.value != "1" {
			t.Fatalf("first %+v", e)
		}
		if e := next(t, w); e.value != "2" {
			t.Fatalf("second %+v", e)
		}
		if e := next(t, w); e.key != "" {
			t.Fatalf("want the nil marker, got %+v", e)
		}
	})

	t.Run("updates only", func(t *testing.T) {
		w, err := kv.Watch(c, "a", njs.UpdatesOnly())
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		put(t, kv, "b", "ignored")
		put(t, kv, "a", "3")
		if e := next(t, w); e.key != "a" || e.value != "3" {
			t.Fatalf("update %+v", e)
		}
	})

	t.Run("ignore deletes", func(t *testing.T) {
		if err := kv.Delete(c, "b"); err != nil {
			t.Fatal(err)
		}
		w, err := kv.WatchAll(c, njs.IgnoreDeletes())
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		if e := next(t, w); e.key != "a" {
			t.Fatalf("first %+v", e)
		}
		// c was purged above: its marker is the last value and is skipped.
		if e := next(t, w); e.key != "" {
			t.Fatalf("want the nil marker, got %+v", e)
		}
		if err := kv.Delete(c, "a"); err != nil {
			t.Fatal(err)
		}
		put(t, kv, "d", "1")
		if e := next(t, w); e.key != "d" {
			t.Fatalf("after a delete %+v", e)
		}
	})

	t.Run("filtered", func(t *testing.T) {
		put(t, kv, "x.1", "1")
		put(t, kv, "y.1", "1")
		put(t, kv, "z.1", "1")
		w, err := kv.WatchFiltered(c, []string{"x.*", "z.*"})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		if e := next(t, w); e.key != "x.1" {
			t.Fatalf("first %+v", e)
		}
		if e := next(t, w); e.key != "z.1" {
			t.Fatalf("second %+v", e)
		}
		if e := next(t, w); e.key != "" {
			t.Fatalf("want the nil marker, got %+v", e)
		}
		put(t, kv, "y.2", "1")
		put(t, kv, "z.2", "1")
		if e := next(t, w); e.key != "z.2" {
			t.Fatalf("later %+v", e)
		}
	})

	t.Run("meta only and resume", func(t *testing.T) {
		w, err := kv.Watch(c, "x.1", njs.MetaOnly())
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		if e := next(t, w); e.key != "x.1" || e.value != "" {
			t.Fatalf("meta only %+v", e)
		}
		r := put(t, kv, "r", "first")
		put(t, kv, "r", "second")
		w2, err := kv.Watch(c, "r", njs.ResumeFromRevision(r))
		if err != nil {
			t.Fatal(err)
		}
		defer w2.Stop()
		if e := next(t, w2); e.value != "first" || e.rev != r {
			t.Fatalf("resume %+v", e)
		}
		if e := next(t, w2); e.value != "second" {
			t.Fatalf("resume second %+v", e)
		}
	})

	t.Run("empty bucket", func(t *testing.T) {
		w, err := kv.Watch(c, "nothing.here")
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		if e := next(t, w); e.key != "" {
			t.Fatalf("want the nil marker, got %+v", e)
		}
		put(t, kv, "nothing.here", "now")
		if e := next(t, w); e.value != "now" {
			t.Fatalf("later %+v", e)
		}
	})
}

func TestKVPurgeDeletes(t *testing.T) {
	js, kv := newKV(t, njs.KeyValueConfig{Bucket: "pd", History: 5})
	c := ctx(t)
	put(t, kv, "a", "1")
	put(t, kv, "b", "1")
	put(t, kv, "b", "2")
	if err := kv.Delete(c, "b"); err != nil {
		t.Fatal(err)
	}
	// Markers younger than the default 30 minutes keep the marker only.
	if err := kv.PurgeDeletes(c); err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(c, "KV_pd")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(c)
	if err != nil || info.State.Msgs != 2 {
		t.Fatalf("after purge deletes: %+v %v", info.State, err)
	}
	if err := kv.PurgeDeletes(c, njs.DeleteMarkersOlderThan(-1)); err != nil {
		t.Fatal(err)
	}
	info, err = s.Info(c)
	if err != nil || info.State.Msgs != 1 {
		t.Fatalf("after purge of every marker: %+v %v", info.State, err)
	}
	if _, err := kv.Get(c, "b"); !errors.Is(err, njs.ErrKeyNotFound) {
		t.Fatalf("get purged: %v", err)
	}
}

func TestKVBucketTTL(t *testing.T) {
	_, kv := newKV(t, njs.KeyValueConfig{Bucket: "ttl", TTL: 300 * time.Millisecond})
	c := ctx(t)
	put(t, kv, "a", "1")
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := kv.Get(c, "a")
		if errors.Is(err, njs.ErrKeyNotFound) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("key did not expire")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestKVKeyTTLAndLimitMarkers(t *testing.T) {
	for _, st := range []njs.StorageType{njs.FileStorage, njs.MemoryStorage} {
		t.Run(st.String(), func(t *testing.T) { testKVKeyTTL(t, st) })
	}
}

func testKVKeyTTL(t *testing.T, storage njs.StorageType) {
	_, kv := newKV(t, njs.KeyValueConfig{Bucket: "kt", LimitMarkerTTL: time.Second, Storage: storage})
	c := ctx(t)
	st, err := kv.Status(c)
	if err != nil || st.LimitMarkerTTL() != time.Second {
		t.Fatalf("status %v %v", st, err)
	}
	w, err := kv.WatchAll(c, njs.UpdatesOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if _, err := kv.Create(c, "a", []byte("1"), njs.KeyTTL(time.Second)); err != nil {
		t.Fatal(err)
	}
	if e := next(t, w); e.key != "a" || e.op != njs.KeyValuePut {
		t.Fatalf("put %+v", e)
	}
	// On expiry the server writes a MaxAge marker, seen as a purge.
	if e := next(t, w); e.key != "a" || e.op != njs.KeyValuePurge {
		t.Fatalf("expiry marker %+v", e)
	}
	if _, err := kv.Get(c, "a"); !errors.Is(err, njs.ErrKeyNotFound) {
		t.Fatalf("get expired: %v", err)
	}
	// The key can be created again after it expired.
	if _, err := kv.Create(c, "a", []byte("2")); err != nil {
		t.Fatal(err)
	}
	// Seen before the purge: the purge rolls the key's messages up, and a
	// consumer that had not reached the create yet would skip it.
	if e := next(t, w); e.op != njs.KeyValuePut {
		t.Fatalf("create %+v", e)
	}
	// Purge with a TTL leaves a marker that itself expires.
	if err := kv.Purge(c, "a", njs.PurgeTTL(time.Second)); err != nil {
		t.Fatal(err)
	}
	if e := next(t, w); e.op != njs.KeyValuePurge {
		t.Fatalf("purge %+v", e)
	}
}

func TestKVBucketManagement(t *testing.T) {
	js, kv := newKV(t, njs.KeyValueConfig{Bucket: "m", History: 2, Description: "one"})
	c := ctx(t)
	put(t, kv, "a", "1")
	st, err := kv.Status(c)
	if err != nil {
		t.Fatal(err)
	}
	if st.Values() != 1 || st.History() != 2 || st.BackingStore() != "JetStream" || st.Bytes() == 0 || st.IsCompressed() {
		t.Fatalf("status values=%d history=%d store=%s bytes=%d", st.Values(), st.History(), st.BackingStore(), st.Bytes())
	}
	kv2, err := js.UpdateKeyValue(c, njs.KeyValueConfig{Bucket: "m", History: 4, Description: "two", Compression: true})
	if err != nil {
		t.Fatal(err)
	}
	st, err = kv2.Status(c)
	if err != nil || st.History() != 4 || !st.IsCompressed() {
		t.Fatalf("after update %v %v", st, err)
	}
	if _, err := js.UpdateKeyValue(c, njs.KeyValueConfig{Bucket: "missing"}); !errors.Is(err, njs.ErrBucketNotFound) {
		t.Fatalf("update missing: %v", err)
	}
	kv3, err := js.CreateOrUpdateKeyValue(c, njs.KeyValueConfig{Bucket: "m", History: 6})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := kv3.Status(c); err != nil || st.History() != 6 {
		t.Fatalf("create or update %v %v", st, err)
	}
	if _, err := js.CreateOrUpdateKeyValue(c, njs.KeyValueConfig{Bucket: "n"}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateKeyValue(c, njs.KeyValueConfig{Bucket: "m", History: 1}); !errors.Is(err, njs.ErrBucketExists) {
		t.Fatalf("create over a different bucket: %v", err)
	}
	var names []string
	for n := range js.KeyValueStoreNames(c).Name() {
		names = append(names, n)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"m", "n"}) {
		t.Fatalf("names %v", names)
	}
	n := 0
	for range js.KeyValueStores(c).Status() {
		n++
	}
	if n != 2 {
		t.Fatalf("stores %d", n)
	}
	if _, err := js.KeyValue(c, "m"); err != nil {
		t.Fatal(err)
	}
	if err := js.DeleteKeyValue(c, "m"); err != nil {
		t.Fatal(err)
	}
	if _, err := js.KeyValue(c, "m"); !errors.Is(err, njs.ErrBucketNotFound) {
		t.Fatalf("bucket after delete: %v", err)
	}
}

func TestKVMirror(t *testing.T) {
	js, kv := newKV(t, njs.KeyValueConfig{Bucket: "origin"})
	c := ctx(t)
	put(t, kv, "a", "1")
	put(t, kv, "b", "1")
	m, err := js.CreateKeyValue(c, njs.KeyValueConfig{Bucket: "copy", Mirror: &njs.StreamSource{Name: "origin"}})
	if err != nil {
		t.Fatal(err)
	}
	// The mirror keeps the origin's subjects ($KV.origin.*): as upstream, a
	// get through a mirror with another name finds nothing (natscli#928),
	// so check the copy by its stream.
	ms, err := js.Stream(c, "KV_copy")
	if err != nil || !ms.CachedInfo().Config.MirrorDirect {
		t.Fatalf("mirror stream %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		info, err := ms.Info(c)
		if err == nil && info.State.Msgs == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mirror did not sync: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A put through the mirror bucket goes to the origin.
	if _, err := m.Put(c, "c", []byte("via mirror")); err != nil {
		t.Fatal(err)
	}
	if e, err := kv.Get(c, "c"); err != nil || string(e.Value()) != "via mirror" {
		t.Fatalf("origin get %v %v", e, err)
	}
	s, err := js.CreateKeyValue(c, njs.KeyValueConfig{Bucket: "agg", Sources: []*njs.StreamSource{{Name: "origin"}}})
	if err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		e, err := s.Get(c, "c")
		if err == nil && string(e.Value()) == "via mirror" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sourced get: %v %v", e, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
