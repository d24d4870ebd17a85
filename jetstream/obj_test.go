package jetstream_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"slices"
	"testing"

	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/server/servertest"
)

func TestObjectStore(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, _ := njs.New(nc)
	c := ctx(t)
	os, err := js.CreateObjectStore(c, njs.ObjectStoreConfig{Bucket: "files", Description: "d", Metadata: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}

	w, err := os.Watch(c)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	nextInfo := func() *njs.ObjectInfo {
		t.Helper()
		select {
		case i := <-w.Updates():
			return i
		case <-c.Done():
			t.Fatal("no watch update")
		}
		return nil
	}
	if i := nextInfo(); i != nil {
		t.Fatalf("want the nil marker, got %+v", i)
	}

	// A multi-chunk object.
	big := make([]byte, 1<<20+7)
	rand.New(rand.NewSource(1)).Read(big)
	info, err := os.Put(c, njs.ObjectMeta{Name: "big.bin", Description: "random", Opts: &njs.ObjectMetaOptions{ChunkSize: 128 * 1024}}, bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != uint64(len(big)) || info.Chunks != 9 || info.Digest == "" {
		t.Fatalf("put info %+v", info)
	}
	if i := nextInfo(); i == nil || i.Name != "big.bin" {
		t.Fatalf("watch put %+v", i)
	}
	r, err := os.Get(c, "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r) // the client checks the digest at the end
	r.Close()
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("get: %d bytes, %v", len(got), err)
	}

	if _, err := os.PutString(c, "s", "hello"); err != nil {
		t.Fatal(err)
	}
	if v, err := os.GetString(c, "s"); err != nil || v != "hello" {
		t.Fatalf("get string %q %v", v, err)
	}
	if _, err := os.PutBytes(c, "b", []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if v, err := os.GetBytes(c, "b"); err != nil || !bytes.Equal(v, []byte{1, 2, 3}) {
		t.Fatalf("get bytes %v %v", v, err)
	}
	// Putting the same name again replaces the object and its chunks.
	if _, err := os.PutString(c, "s", "bye"); err != nil {
		t.Fatal(err)
	}
	if v, err := os.GetString(c, "s"); err != nil || v != "bye" {
		t.Fatalf("get replaced %q %v", v, err)
	}
	if _, err := os.PutBytes(c, "empty", nil); err != nil {
		t.Fatal(err)
	}
	if v, err := os.GetBytes(c, "empty"); err != nil || len(v) != 0 {
		t.Fatalf("get empty %v %v", v, err)
	}

	gi, err := os.GetInfo(c, "big.bin")
	if err != nil || gi.Description != "random" || gi.Size != uint64(len(big)) {
		t.Fatalf("info %+v %v", gi, err)
	}
	if err := os.UpdateMeta(c, "big.bin", njs.ObjectMeta{Name: "large.bin", Description: "renamed", Headers: map[string][]string{"X-A": {"1"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.GetInfo(c, "big.bin"); !errors.Is(err, njs.ErrObjectNotFound) {
		t.Fatalf("old name after rename: %v", err)
	}
	gi, err = os.GetInfo(c, "large.bin")
	if err != nil || gi.Description != "renamed" || gi.Headers.Get("X-A") != "1" {
		t.Fatalf("renamed info %+v %v", gi, err)
	}
	if v, err := os.GetBytes(c, "large.bin"); err != nil || !bytes.Equal(v, big) {
		t.Fatalf("get renamed: %v", err)
	}

	if _, err := os.AddLink(c, "link", gi); err != nil {
		t.Fatal(err)
	}
	if v, err := os.GetBytes(c, "link"); err != nil || !bytes.Equal(v, big) {
		t.Fatalf("get through link: %v", err)
	}
	other, err := js.CreateObjectStore(c, njs.ObjectStoreConfig{Bucket: "other"})
	if err != nil {
		t.Fatal(err)
	}
	bl, err := os.AddBucketLink(c, "otherlink", other)
	if err != nil || bl.Opts.Link == nil || bl.Opts.Link.Bucket != "other" {
		t.Fatalf("bucket link %+v %v", bl, err)
	}

	list, err := os.List(c)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range list {
		names = append(names, i.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"b", "empty", "large.bin", "link", "otherlink", "s"}) {
		t.Fatalf("list %v", names)
	}

	if err := os.Delete(c, "s"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Get(c, "s"); !errors.Is(err, njs.ErrObjectNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
	di, err := os.GetInfo(c, "s", njs.GetObjectInfoShowDeleted())
	if err != nil || !di.Deleted {
		t.Fatalf("deleted info %+v %v", di, err)
	}

	// The watcher saw every change in order (a rename purges the old name
	// without a marker).
	for _, want := range []string{"s", "b", "s", "empty", "large.bin", "link", "otherlink", "s"} {
		i := nextInfo()
		if i == nil || i.Name != want {
			t.Fatalf("watch: want %s, got %+v", want, i)
		}
	}

	st, err := os.Status(c)
	if err != nil || st.Bucket() != "files" || st.Description() != "d" || st.Sealed() || st.Size() == 0 || st.BackingStore() != "JetStream" || st.Metadata()["k"] != "v" {
		t.Fatalf("status %+v %v", st, err)
	}
	if err := os.Seal(c); err != nil {
		t.Fatal(err)
	}
	st, err = os.Status(c)
	if err != nil || !st.Sealed() {
		t.Fatalf("sealed status %v", err)
	}
	if _, err := os.PutString(c, "x", "y"); err == nil {
		t.Fatal("put into a sealed bucket accepted")
	}
	if v, err := os.GetBytes(c, "b"); err != nil || len(v) != 3 {
		t.Fatalf("get from sealed: %v", err)
	}

	var stores []string
	for n := range js.ObjectStoreNames(c).Name() {
		stores = append(stores, n)
	}
	slices.Sort(stores)
	if !slices.Equal(stores, []string{"files", "other"}) {
		t.Fatalf("stores %v", stores)
	}
	if _, err := js.UpdateObjectStore(c, njs.ObjectStoreConfig{Bucket: "other", Description: "new"}); err != nil {
		t.Fatal(err)
	}
	if err := js.DeleteObjectStore(c, "files"); err != nil {
		t.Fatal(err)
	}
	if _, err := js.ObjectStore(c, "files"); !errors.Is(err, njs.ErrBucketNotFound) {
		t.Fatalf("store after delete: %v", err)
	}
}

// TestObjectStoreDetails: overwrite purges the old chunks, watch options,
// links to links and buckets, deleted objects in lists, chunk sizes.
func TestObjectStoreDetails(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, _ := njs.New(nc)
	c := ctx(t)
	os, err := js.CreateObjectStore(c, njs.ObjectStoreConfig{Bucket: "o", Compression: true})
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789"), 50_000) // 500 kB
	if _, err := os.Put(c, njs.ObjectMeta{Name: "a", Metadata: map[string]string{"m": "1"}, Opts: &njs.ObjectMetaOptions{ChunkSize: 100_000}}, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.PutBytes(c, "a", []byte("small")); err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(c, "OBJ_o")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(c)
	if err != nil || info.State.Msgs != 2 { // one chunk and one meta
		t.Fatalf("after overwrite: %+v %v", info.State, err)
	}
	if v, err := os.GetString(c, "a"); err != nil || v != "small" {
		t.Fatalf("get %q %v", v, err)
	}
	gi, err := os.GetInfo(c, "a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.AddLink(c, "l1", gi); err != nil {
		t.Fatal(err)
	}
	l1, err := os.GetInfo(c, "l1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.AddLink(c, "l2", l1); !errors.Is(err, njs.ErrNoLinkToLink) {
		t.Fatalf("link to a link: %v", err)
	}
	if _, err := os.AddBucketLink(c, "bl", os); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Get(c, "bl"); !errors.Is(err, njs.ErrCantGetBucket) {
		t.Fatalf("get bucket link: %v", err)
	}

	wu, err := os.Watch(c, njs.UpdatesOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer wu.Stop()
	wh, err := os.Watch(c, njs.IncludeHistory())
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Stop()
	// The history watcher's initial values end with the nil marker: meta of
	// a, l1, bl (the first meta of a was replaced). Wait for all of it
	// before the delete, which would otherwise race with the watcher's
	// start and land in the initial values or after the marker.
	next := func(w njs.ObjectWatcher, what string) *njs.ObjectInfo {
		t.Helper()
		select {
		case i := <-w.Updates():
			return i
		case <-c.Done():
			t.Fatalf("no %s", what)
			return nil
		}
	}
	var hist []string
	for len(hist) == 0 || hist[len(hist)-1] != "" {
		if i := next(wh, fmt.Sprintf("history after %q", hist)); i == nil {
			hist = append(hist, "")
		} else {
			hist = append(hist, i.Name)
		}
	}
	if fmt.Sprint(hist) != "[a l1 bl ]" {
		t.Fatalf("history %q", hist)
	}
	if err := os.Delete(c, "a"); err != nil {
		t.Fatal(err)
	}
	for _, w := range []njs.ObjectWatcher{wu, wh} {
		if i := next(w, "update"); i == nil || i.Name != "a" || !i.Deleted {
			t.Fatalf("update %+v", i)
		}
	}
	list, err := os.List(c, njs.ListObjectsShowDeleted())
	if err != nil || len(list) != 3 {
		t.Fatalf("list with deleted %d %v", len(list), err)
	}
	if _, err := os.List(c); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Status(c); err != nil || !st.IsCompressed() {
		t.Fatalf("status %v", err)
	}
}
