package filestore_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"natsd.dev/jetstream/store"
	"natsd.dev/jetstream/store/filestore"
)

// textMsg is a compressible message body of about n bytes, different per i.
func textMsg(i, n int) []byte {
	line := fmt.Sprintf("order %d shipped to warehouse %d; ", i, i%7)
	return []byte(strings.Repeat(line, n/len(line)+1)[:n])
}

// dirSize is the size of the files under dir.
func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCompression stores the same messages with and without compression:
// the compressed store is much smaller on disk, counts the same bytes and
// reads back the same messages, before and after a reopen.
func TestCompression(t *testing.T) {
	key := []byte("0123456789abcdef")
	for _, c := range []struct {
		name string
		cfg  filestore.Config
	}{
		{"Plain", filestore.Config{BlockSize: 64 << 10}},
		{"Encrypted", filestore.Config{BlockSize: 64 << 10, EncryptionKey: key}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var dumps [2][]msg
			var states [2]store.StreamState
			var sizes [2]int64
			for i, compress := range []bool{false, true} {
				dir := t.TempDir()
				cfg := c.cfg
				cfg.Compress = compress
				s := open(t, dir, cfg, store.Config{})
				for j := range 300 {
					hdr := []byte(fmt.Sprintf("NATS/1.0\r\nNats-Msg-Id: %d\r\n\r\n", j))
					if j%3 == 0 {
						hdr = nil
					}
					if _, err := s.StoreMsg(fmt.Sprintf("c.%d", j%5), hdr, textMsg(j, 1+j*13%4000), 0, 0); err != nil {
						t.Fatal(err)
					}
				}
				s.StoreMsg("c.tiny", nil, []byte("x"), 0, 0) // too small to try
				s.RemoveMsg(10)
				st1, m1 := dump(t, s)
				s.Close()
				s = open(t, dir, cfg, store.Config{})
				st2, m2 := dump(t, s)
				s.Close()
				if !reflect.DeepEqual(st1, st2) || !reflect.DeepEqual(m1, m2) {
					t.Fatalf("compress=%v: reopened store differs:\n%+v\n%+v", compress, st1, st2)
				}
				dumps[i], states[i], sizes[i] = m1, st1, dirSize(t, dir)
			}
			if !sameBodies(dumps[0], dumps[1]) {
				t.Fatal("compressed store holds other messages")
			}
			if states[0].Bytes != states[1].Bytes || states[0].Msgs != states[1].Msgs {
				t.Fatalf("State differs: plain %+v, compressed %+v", states[0], states[1])
			}
			if sizes[1]*4 > sizes[0] {
				t.Fatalf("compressed store takes %d bytes, plain %d", sizes[1], sizes[0])
			}
			t.Logf("on disk: plain %d bytes, compressed %d bytes", sizes[0], sizes[1])
		})
	}
}

// sameBodies compares dumps except for times.
func sameBodies(a, b []msg) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		x.Time, y.Time = 0, 0
		if x != y {
			return false
		}
	}
	return true
}

// TestCompressionToggle mixes records written with and without
// compression (SetCompression, and reopening with the other setting) and
// checks every message reads back, in every combination with a key.
func TestCompressionToggle(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	dir := t.TempDir()
	cfg := filestore.Config{BlockSize: 16 << 10, CacheSize: 16 << 10, EncryptionKey: key}
	want := map[uint64]string{}
	store1 := func(s *filestore.Store, n int) {
		for range n {
			data := textMsg(len(want), 500)
			seq, err := s.StoreMsg("t", []byte("NATS/1.0\r\nK: v\r\n\r\n"), data, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			want[seq] = string(data)
		}
	}
	check := func(s *filestore.Store) {
		t.Helper()
		var m store.StoredMsg
		for seq, data := range want {
			if err := s.LoadMsg(seq, &m); err != nil || string(m.Data) != data || string(m.Hdr) != "NATS/1.0\r\nK: v\r\n\r\n" {
				t.Fatalf("LoadMsg(%d) = %q, %v", seq, m.Data, err)
			}
		}
		if st := s.State(); st.Msgs != uint64(len(want)) || st.Bytes != uint64(len(want))*store.MsgSize("t", []byte("NATS/1.0\r\nK: v\r\n\r\n"), make([]byte, 500)) {
			t.Fatalf("State = %+v", st)
		}
	}
	s := open(t, dir, cfg, store.Config{})
	store1(s, 100)
	s.SetCompression(true)
	store1(s, 100)
	s.SetCompression(false)
	store1(s, 100)
	check(s)
	s.Close()
	cfg.Compress = true
	s = open(t, dir, cfg, store.Config{})
	check(s)
	store1(s, 100)
	s.Close()
	cfg.Compress = false
	s = open(t, dir, cfg, store.Config{})
	defer s.Close()
	check(s)
}

// TestCompressionRewrite removes most messages of a compressed block: the
// block is rewritten smaller in the background (dead space counts
// uncompressed), erased records stay erased, and everything reopens.
func TestCompressionRewrite(t *testing.T) {
	dir := t.TempDir()
	cfg := filestore.Config{BlockSize: 128 << 10, Compress: true}
	s := open(t, dir, cfg, store.Config{})
	const n = 6000
	for i := range n {
		if _, err := s.StoreMsg("r", nil, textMsg(i, 2000), 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.WaitDurable(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "msgs", "*.blk"))
	if len(names) < 3 {
		t.Fatalf("%d blocks, want several", len(names))
	}
	first := names[0]
	fi0, _ := os.Stat(first)
	if fi0.Size() < 64<<10 {
		t.Fatalf("first block is %d bytes", fi0.Size())
	}
	for seq := uint64(2); seq <= 1000; seq++ {
		if seq%10 != 0 {
			s.RemoveMsg(seq)
		}
	}
	if err := s.EraseMsg(20); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		fi, err := os.Stat(first)
		return err == nil && fi.Size() < fi0.Size()/2
	})
	st1, m1 := dump(t, s)
	s.Close()
	s = open(t, dir, filestore.Config{}, store.Config{})
	defer s.Close()
	st2, m2 := dump(t, s)
	if !reflect.DeepEqual(st1, st2) || !reflect.DeepEqual(m1, m2) {
		t.Fatalf("reopened store differs after a rewrite")
	}
	if st2.Msgs != n-900 || st2.Bytes != uint64(st2.Msgs)*store.MsgSize("r", nil, make([]byte, 2000)) {
		t.Fatalf("State = %+v", st2)
	}
	for _, m := range m2 {
		if m.Data != string(textMsg(int(m.Seq-1), 2000)) {
			t.Fatalf("message %d differs", m.Seq)
		}
	}
}

// TestCompressionSnapshot restores the snapshot of a compressed encrypted
// store into a plain one and back into a compressed one.
func TestCompressionSnapshot(t *testing.T) {
	key := []byte("0123456789abcdef")
	src := open(t, t.TempDir(), filestore.Config{BlockSize: 8 << 10, Compress: true, EncryptionKey: key}, store.Config{})
	for i := range 200 {
		src.StoreMsg(fmt.Sprintf("s.%d", i%4), []byte("NATS/1.0\r\n\r\n"), textMsg(i, i*20), 0, 0)
	}
	src.RemoveMsg(7)
	src.EraseMsg(9)
	var snap bytes.Buffer
	if err := src.Snapshot(t.Context(), &snap); err != nil {
		t.Fatal(err)
	}
	st1, m1 := dump(t, src)
	src.Close()
	for _, cfg := range []filestore.Config{{}, {Compress: true}} {
		dir := t.TempDir()
		dst := open(t, dir, cfg, store.Config{})
		if err := dst.Restore(t.Context(), bytes.NewReader(snap.Bytes())); err != nil {
			t.Fatal(err)
		}
		dst.Close()
		dst = open(t, dir, cfg, store.Config{})
		st2, m2 := dump(t, dst)
		dst.Close()
		if !reflect.DeepEqual(st1, st2) || !reflect.DeepEqual(m1, m2) {
			t.Fatalf("compress=%v: restored store differs:\n%+v\n%+v", cfg.Compress, st1, st2)
		}
	}
}

// TestCompressionLimits: MaxBytes counts messages uncompressed.
func TestCompressionLimits(t *testing.T) {
	size := store.MsgSize("l", nil, make([]byte, 1000))
	s := open(t, t.TempDir(), filestore.Config{Compress: true}, store.Config{MaxBytes: int64(10 * size)})
	defer s.Close()
	for i := range 25 {
		if _, err := s.StoreMsg("l", nil, textMsg(i, 1000), 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	if st := s.State(); st.Msgs != 10 || st.Bytes != 10*size || st.FirstSeq != 16 {
		t.Fatalf("State = %+v", st)
	}
}
