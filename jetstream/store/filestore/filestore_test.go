package filestore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"natsd.dev/jetstream/store"
	"natsd.dev/jetstream/store/filestore"
)

func TestEraseOverwritesDisk(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, filestore.Config{BlockSize: 256}, store.Config{})
	secret := []byte("top-secret-payload")
	s.StoreMsg("a", nil, secret, 0, 0)
	for range 10 {
		s.StoreMsg("b", nil, []byte("filler filler filler"), 0, 0)
	}
	if err := s.WaitDurable(t.Context(), 11); err != nil {
		t.Fatal(err)
	}
	if err := s.EraseMsg(1); err != nil {
		t.Fatal(err)
	}
	// Also erase one that may not be written yet.
	seq, _ := s.StoreMsg("a", nil, []byte("second-secret-xyz"), 0, 0)
	if err := s.EraseMsg(seq); err != nil {
		t.Fatal(err)
	}
	s.Close()
	names, _ := filepath.Glob(filepath.Join(dir, "msgs", "*"))
	for _, n := range names {
		data, _ := os.ReadFile(n)
		if bytes.Contains(data, secret) || bytes.Contains(data, []byte("second-secret")) {
			t.Fatalf("%s still holds an erased payload", n)
		}
	}
	s = open(t, dir, filestore.Config{}, store.Config{})
	defer s.Close()
	if st := s.State(); st.Msgs != 10 || st.FirstSeq != 2 {
		t.Fatalf("state after erase and reopen %+v", st)
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 5 {
		s := open(t, t.TempDir(), filestore.Config{SyncInterval: time.Second}, store.Config{MaxAge: time.Hour})
		s.StoreMsg("a", nil, nil, 0, time.Minute)
		s.Close()
		s = open(t, t.TempDir(), filestore.Config{}, store.Config{})
		s.StoreMsg("a", nil, nil, 0, 0)
		s.Delete()
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after Close, %d before", n, before)
	}
}

func TestDurableSignals(t *testing.T) {
	var last atomic.Uint64
	bad := atomic.Bool{}
	s := open(t, t.TempDir(), filestore.Config{}, store.Config{OnDurable: func(seq uint64) {
		if seq <= last.Load() {
			bad.Store(true)
		}
		last.Store(seq)
	}})
	for range 100 {
		s.StoreMsg("a", nil, []byte("x"), 0, 0)
	}
	if err := s.WaitDurable(t.Context(), 100); err != nil {
		t.Fatal(err)
	}
	if s.DurableSeq() < 100 {
		t.Fatalf("DurableSeq %d", s.DurableSeq())
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := s.WaitDurable(ctx, 1000); err != context.DeadlineExceeded {
		t.Fatalf("WaitDurable of a future sequence = %v", err)
	}
	done := make(chan error)
	go func() { done <- s.WaitDurable(context.Background(), 1000) }()
	time.Sleep(10 * time.Millisecond)
	s.Close()
	if err := <-done; err != store.ErrStoreClosed {
		t.Fatalf("WaitDurable across Close = %v", err)
	}
	if bad.Load() || last.Load() != 100 {
		t.Fatalf("OnDurable not increasing or not reaching 100 (last %d)", last.Load())
	}
}

// TestAsyncSyncInterval checks the opt-out: messages are written without
// waiting and become durable at the interval (or Close).
func TestAsyncSyncInterval(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, filestore.Config{SyncInterval: 50 * time.Millisecond}, store.Config{})
	for range 10 {
		s.StoreMsg("a", nil, []byte("x"), 0, 0)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := s.WaitDurable(ctx, 10); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, dir, filestore.Config{}, store.Config{})
	defer s.Close()
	if st := s.State(); st.Msgs != 10 {
		t.Fatalf("state %+v", st)
	}
}

func TestSnapshotRestoreReopen(t *testing.T) {
	src := open(t, t.TempDir(), filestore.Config{BlockSize: 512}, store.Config{})
	for i := range 50 {
		src.StoreMsg("s."+string(rune('a'+i%5)), []byte("h"), bytes.Repeat([]byte{byte(i)}, i), 0, 0)
	}
	src.RemoveMsg(7)
	src.Compact(3)
	c, _ := src.Consumer("c1")
	c.SetState(&store.ConsumerState{Delivered: store.SequencePair{Consumer: 3, Stream: 4}})
	var buf bytes.Buffer
	if err := src.Snapshot(t.Context(), &buf); err != nil {
		t.Fatal(err)
	}
	st1, m1 := dump(t, src)
	src.Close()
	dir := t.TempDir()
	dst := open(t, dir, filestore.Config{}, store.Config{})
	if err := dst.Restore(t.Context(), &buf); err != nil {
		t.Fatal(err)
	}
	dst.Close()
	dst = open(t, dir, filestore.Config{}, store.Config{})
	defer dst.Close()
	st2, m2 := dump(t, dst)
	if !reflect.DeepEqual(st1, st2) || !reflect.DeepEqual(m1, m2) {
		t.Fatalf("restored and reopened store differs:\n%+v\n%+v", st1, st2)
	}
}

func TestEncryptionAtRest(t *testing.T) {
	dir := t.TempDir()
	key := []byte("0123456789abcdef0123456789abcdef")
	s := open(t, dir, filestore.Config{EncryptionKey: key}, store.Config{})
	secret := []byte("very-secret-payload")
	for range 20 {
		if _, err := s.StoreMsg("secret.subject", []byte("secret-hdr"), secret, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	st1, m1 := dump(t, s)
	s.Close()
	names, _ := filepath.Glob(filepath.Join(dir, "msgs", "*"))
	for _, n := range names {
		data, _ := os.ReadFile(n)
		for _, p := range [][]byte{secret, []byte("secret.subject"), []byte("secret-hdr")} {
			if bytes.Contains(data, p) {
				t.Fatalf("%s holds %q in clear", n, p)
			}
		}
	}
	for _, bad := range [][]byte{nil, []byte("fedcba9876543210fedcba9876543210")} {
		if _, err := filestore.Open(filestore.Config{Dir: dir, EncryptionKey: bad}, store.Config{}); !errors.Is(err, filestore.ErrKey) {
			t.Fatalf("Open with key %q = %v, want ErrKey", bad, err)
		}
	}
	if _, err := filestore.Open(filestore.Config{Dir: dir, EncryptionKey: []byte("short")}, store.Config{}); !errors.Is(err, store.ErrInvalidConfig) {
		t.Fatalf("Open with a short key = %v", err)
	}
	s = open(t, dir, filestore.Config{EncryptionKey: key}, store.Config{})
	defer s.Close()
	st2, m2 := dump(t, s)
	if !reflect.DeepEqual(st1, st2) || !reflect.DeepEqual(m1, m2) || st2.Bytes != 20*store.MsgSize("secret.subject", []byte("secret-hdr"), secret) {
		t.Fatalf("reopened encrypted store differs: %+v", st2)
	}
}

func TestZeroAllocs(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("Compress=%v", compress), func(t *testing.T) {
			s := open(t, t.TempDir(), filestore.Config{Compress: compress}, store.Config{})
			defer s.Close()
			data := bytes.Repeat([]byte("zero allocs "), 8)
			for i := range 1000 {
				s.StoreMsg("z."+string(rune('a'+i%20)), nil, data, 0, 0)
			}
			var m store.StoredMsg
			s.LoadMsg(1, &m)
			seq := uint64(0)
			checks := map[string]func(){
				"StoreMsg":         func() { s.StoreMsg("z.a", nil, data, 0, 0) },
				"StoreMsgHdr":      func() { s.StoreMsg("z.a", []byte("NATS/1.0\r\n\r\n"), data, 0, 0) },
				"LoadMsg":          func() { seq = seq%1000 + 1; s.LoadMsg(seq, &m) },
				"LoadNextLiteral":  func() { seq = seq%900 + 1; s.LoadNextMsg("z.c", seq, &m) },
				"LoadNextWildcard": func() { seq = seq%900 + 1; s.LoadNextMsg("z.*", seq, &m) },
				"LoadLast":         func() { s.LoadLastMsg("z.d", &m) },
			}
			for name, f := range checks {
				if n := testing.AllocsPerRun(500, f); n != 0 {
					t.Errorf("%s: %v allocs per call", name, n)
				}
			}
		})
	}
}

// TestBlockReclaim checks that sealed blocks without live messages are
// deleted and mostly dead ones are rewritten smaller, in the background.
func TestBlockReclaim(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, filestore.Config{BlockSize: 128 << 10}, store.Config{})
	data := make([]byte, 100)
	for range 3000 { // about 2.5 blocks
		s.StoreMsg("r", nil, data, 0, 0)
	}
	if err := s.WaitDurable(t.Context(), 3000); err != nil {
		t.Fatal(err)
	}
	blocks := func() []string {
		names, _ := filepath.Glob(filepath.Join(dir, "msgs", "*.blk"))
		return names
	}
	first := blocks()[0]
	fi0, _ := os.Stat(first)
	for seq := uint64(2); seq <= 900; seq++ {
		if seq%10 != 0 {
			s.RemoveMsg(seq)
		}
	}
	waitFor(t, func() bool {
		fi, err := os.Stat(first)
		return err == nil && fi.Size() < fi0.Size()/2
	})
	// Purging the oldest messages empties whole blocks: their files go.
	n := len(blocks())
	s.Compact(2500)
	waitFor(t, func() bool { return len(blocks()) < n })
	st1, m1 := dump(t, s)
	s.Close()
	s = open(t, dir, filestore.Config{}, store.Config{})
	defer s.Close()
	st2, m2 := dump(t, s)
	if !reflect.DeepEqual(st1, st2) || !reflect.DeepEqual(m1, m2) {
		t.Fatalf("reopened store differs after reclaiming blocks")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
