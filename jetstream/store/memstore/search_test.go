package memstore

import (
	"math/rand/v2"
	"slices"
	"testing"
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
