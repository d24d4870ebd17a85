package memstore

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"natsd.dev/jetstream/store"
)

// TestSearchWindow checks that the window always holds the first element
// >= seq, on even and very uneven lists.
func TestSearchWindow(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for range 2000 {
		n := 64 + r.IntN(500)
		list := make([]uint64, n)
		q := uint64(1)
		for i := range list {
			if r.IntN(10) == 0 {
				q += uint64(r.IntN(100000))
			}
			q += 1 + uint64(r.IntN(3))
			list[i] = q
		}
		for range 20 {
			seq := list[0] + 1 + r.Uint64N(list[n-1]-list[0])
			want, _ := slices.BinarySearch(list, seq)
			lo, hi := searchWindow(list, seq)
			if lo > want || want >= hi || hi > n {
				t.Fatalf("window [%d,%d) misses %d (seq %d)", lo, hi, want, seq)
			}
		}
	}
}

// TestChunksFreed checks that a chunk whose messages are all removed is
// released even while an older message keeps the front of the log.
func TestChunksFreed(t *testing.T) {
	s, _ := New(store.Config{MaxMsgsPerSubject: 1})
	defer s.Close()
	s.StoreMsg("pinned", nil, nil, 0, 0) // seq 1 stays for ever
	for i := range 5 * chunkSize {
		s.StoreMsg(fmt.Sprintf("k.%d", i%10), nil, []byte("v"), 0, 0)
	}
	live := 0
	for _, c := range s.log.chunks {
		if c != nil {
			live++
		}
	}
	// Chunk 0 holds "pinned"; the ten live keys (seqs 20472-20481) straddle
	// chunks 4 and 5.
	if live != 3 || len(s.log.chunks) != 6 {
		t.Fatalf("%d of %d chunks allocated, want 3 of 6", live, len(s.log.chunks))
	}
	var m store.StoredMsg
	if err := s.LoadNextMsg("", 2, &m); err != nil || m.Seq != 5*chunkSize-8 {
		t.Fatalf("LoadNextMsg over freed chunks = %d, %v", m.Seq, err)
	}
	if st := s.State(); st.Msgs != 11 || st.FirstSeq != 1 {
		t.Fatalf("State %+v", st)
	}
	// Backwards over freed chunks.
	for seq := uint64(5*chunkSize - 8); seq <= 5*chunkSize+1; seq++ {
		if err := s.RemoveMsg(seq); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.LoadLastMsg("", &m); err != nil || m.Seq != 1 {
		t.Fatalf("LoadLastMsg over freed chunks = %d, %v", m.Seq, err)
	}
	if fs, _ := s.FilteredState("", 0); fs.Msgs != 1 || fs.Last != 1 {
		t.Fatalf("FilteredState %+v", fs)
	}
	if err := s.Truncate(3); err != nil {
		t.Fatal(err)
	}
	if st := s.State(); st.Msgs != 1 || st.LastSeq != 3 {
		t.Fatalf("State after Truncate %+v", st)
	}
}
