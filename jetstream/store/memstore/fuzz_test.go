package memstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"testing"
	"time"

	"natsd.dev/jetstream/store"
)

// FuzzRestore feeds arbitrary snapshots to Restore. The checksum is fixed
// up so that mutations reach the decoder. Oracle: Restore either fails with
// ErrCorrupt, leaving an empty usable store, or succeeds with a store whose
// snapshot restores to the same state and messages (round trip).
func FuzzRestore(f *testing.F) {
	for _, n := range []int{0, 1, 5} {
		s, _ := New(store.Config{})
		for i := range n {
			s.StoreMsg(fmt.Sprintf("a.%d", i%2), []byte("h"), []byte{byte(i)}, int64(i+1), time.Duration(i)*time.Hour)
		}
		if n > 2 {
			s.RemoveMsg(2)
			c, _ := s.Consumer("c")
			c.SetState(&store.ConsumerState{Pending: []store.Pending{{Stream: 1, Consumer: 1}}})
		}
		var buf bytes.Buffer
		s.Snapshot(f.Context(), &buf)
		f.Add(buf.Bytes())
		s.Close()
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) >= len(magic)+4 {
			body := data[:len(data)-4]
			binary.LittleEndian.PutUint32(data[len(data)-4:], crc32.ChecksumIEEE(body))
		}
		s, _ := New(store.Config{})
		defer s.Close()
		err := s.Restore(t.Context(), bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("Restore error not marked corrupt: %v", err)
			}
			if st := s.State(); st.Msgs != 0 || st.LastSeq != 0 {
				t.Fatalf("failed Restore left state %+v", st)
			}
			return
		}
		st := s.State()
		var n uint64
		var m store.StoredMsg
		for start := uint64(0); s.LoadNextMsg("", start, &m) == nil; start = m.Seq + 1 {
			n++
		}
		if n != st.Msgs {
			t.Fatalf("walked %d messages, State says %d", n, st.Msgs)
		}
		var buf bytes.Buffer
		if err := s.Snapshot(t.Context(), &buf); err != nil {
			t.Fatal(err)
		}
		s2, _ := New(store.Config{})
		defer s2.Close()
		if err := s2.Restore(t.Context(), &buf); err != nil {
			t.Fatalf("re-restore: %v", err)
		}
		if st2 := s2.State(); st2 != st && !(st2.Lost == nil && st.Lost == nil && fmt.Sprint(st2) == fmt.Sprint(st)) {
			t.Fatalf("round trip state %+v, want %+v", st2, st)
		}
	})
}
