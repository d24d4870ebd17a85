package storetest

import (
	"fmt"
	"testing"

	"natsd.dev/jetstream/store"
)

func init() {
	register(
		test{"ManyRemovals", testManyRemovals},
		test{"Delete", testDelete},
	)
}

// testManyRemovals removes most of a larger store in several patterns, so
// that stores which reclaim index space lazily do so, and checks every
// answer afterwards.
func testManyRemovals(t *testing.T, open OpenFunc) {
	n := uint64(10000)
	if testing.Short() {
		n = 3000
	}
	s := newStore(t, open, store.Config{})
	subj := func(i uint64) string { return fmt.Sprintf("m.%d", i%5) }
	for i := uint64(1); i <= n; i++ {
		putSeq(t, s, i, subj(i))
	}
	kept := map[uint64]bool{}
	for i := uint64(1); i <= n; i++ {
		// Drop the first half entirely, then keep every 7th.
		if i > n/2 && i%7 == 0 {
			kept[i] = true
			continue
		}
		noErr(t, "RemoveMsg", s.RemoveMsg(i))
	}
	var want []uint64
	for i := uint64(1); i <= n; i++ {
		if kept[i] {
			want = append(want, i)
		}
	}
	wantSeqs(t, s, "", want...)
	for k := range uint64(5) {
		var ws []uint64
		for _, q := range want {
			if q%5 == k {
				ws = append(ws, q)
			}
		}
		wantSeqs(t, s, fmt.Sprintf("m.%d", k), ws...)
		fs, err := s.FilteredState(fmt.Sprintf("m.%d", k), n/2+n/4)
		noErr(t, "FilteredState", err)
		var cnt uint64
		for _, q := range ws {
			if q >= n/2+n/4 {
				cnt++
			}
		}
		if fs.Msgs != cnt {
			t.Fatalf("FilteredState m.%d = %+v, want %d msgs", k, fs, cnt)
		}
	}
	st := s.State()
	if st.Msgs != uint64(len(want)) || st.FirstSeq != want[0] || st.NumDeleted != int(n-want[0]+1)-len(want) {
		t.Fatalf("State %+v", st)
	}
	// Store more on top and walk again.
	for i := uint64(n + 1); i <= n+100; i++ {
		putSeq(t, s, i, subj(i))
		want = append(want, i)
	}
	wantSeqs(t, s, "m.*", want...)
}

func testDelete(t *testing.T, open OpenFunc) {
	s := open(t, store.Config{})
	fill(t, s, "a", "b")
	c, err := s.Consumer("c")
	noErr(t, "Consumer", err)
	noErr(t, "Delete", s.Delete())
	var m store.StoredMsg
	wantErr(t, "LoadMsg after Delete", s.LoadMsg(1, &m), store.ErrStoreClosed)
	_, err = s.StoreMsg("a", nil, nil, 0, 0)
	wantErr(t, "StoreMsg after Delete", err, store.ErrStoreClosed)
	wantErr(t, "consumer after Delete", c.SetState(&store.ConsumerState{}), store.ErrStoreClosed)
	_ = s.State() // must not panic
}
