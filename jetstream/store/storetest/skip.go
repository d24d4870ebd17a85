package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"natsd.dev/jetstream/store"
)

func init() {
	register(
		test{"SkipEmpty", testSkipEmpty},
		test{"SkipAfterMsgs", testSkipAfterMsgs},
		test{"SkipMismatch", testSkipMismatch},
		test{"SkipHuge", testSkipHuge},
		test{"SkipAdmin", testSkipAdmin},
		test{"SkipSnapshot", testSkipSnapshot},
		test{"SkipDurable", testSkipDurable},
	)
}

// huge is a skip no store could afford to pay per sequence.
const huge = 1 << 40

func skip(t *testing.T, s store.StreamStore, seq, n uint64) {
	t.Helper()
	noErr(t, "SkipMsgs", s.SkipMsgs(seq, n))
}

func wantFiltered(t *testing.T, s store.StreamStore, filter string, start uint64, want store.FilteredState) {
	t.Helper()
	fs, err := s.FilteredState(filter, start)
	noErr(t, "FilteredState", err)
	if fs != want {
		t.Fatalf("FilteredState(%q, %d) = %+v, want %+v", filter, start, fs, want)
	}
}

func testSkipEmpty(t *testing.T, open OpenFunc) {
	s := newStore(t, open, store.Config{})
	skip(t, s, 1, 0) // does nothing
	wantCounts(t, s, counts{})
	skip(t, s, 1, 10)
	wantCounts(t, s, counts{First: 11, Last: 10})
	if st := s.State(); !st.LastTime.IsZero() || !st.FirstTime.IsZero() {
		t.Fatalf("times after skip on a fresh store: %+v", st)
	}
	skip(t, s, 11, 5)
	wantCounts(t, s, counts{First: 16, Last: 15})
	wantSeqs(t, s, "")
	putSeq(t, s, 16, "a")
	wantCounts(t, s, counts{Msgs: 1, First: 16, Last: 16, NumSubjects: 1})
	wantSeqs(t, s, "", 16)

	// Emptied by Purge: LastTime stays the purged message's.
	_, err := s.Purge(store.PurgeRequest{})
	noErr(t, "Purge", err)
	lastTime := s.State().LastTime
	skip(t, s, 17, 3)
	wantCounts(t, s, counts{First: 20, Last: 19})
	if st := s.State(); !st.LastTime.Equal(lastTime) || lastTime.IsZero() {
		t.Fatalf("LastTime after skip %v, want %v", st.LastTime, lastTime)
	}
	putSeq(t, s, 20, "b")
}

func testSkipAfterMsgs(t *testing.T, open OpenFunc) {
	s := newStore(t, open, store.Config{})
	putSeq(t, s, 1, "a")
	putSeq(t, s, 2, "b")
	putSeq(t, s, 3, "a")
	lastTime := s.State().LastTime
	skip(t, s, 4, 5)
	wantCounts(t, s, counts{Msgs: 3, First: 1, Last: 8, NumDeleted: 5, NumSubjects: 2})
	if st := s.State(); !st.LastTime.Equal(lastTime) {
		t.Fatalf("LastTime after skip %v, want %v", st.LastTime, lastTime)
	}
	var m store.StoredMsg
	for q := uint64(4); q <= 9; q++ {
		wantErr(t, "LoadMsg of a skipped sequence", s.LoadMsg(q, &m), store.ErrMsgNotFound)
	}
	wantErr(t, "LoadNextMsg past the end", s.LoadNextMsg("", 4, &m), store.ErrMsgNotFound)
	wantErr(t, "RemoveMsg of a skipped sequence", s.RemoveMsg(5), store.ErrMsgNotFound)
	wantFiltered(t, s, "a", 0, store.FilteredState{Msgs: 2, First: 1, Last: 3})
	wantFiltered(t, s, "", 2, store.FilteredState{Msgs: 2, First: 2, Last: 3})
	wantFiltered(t, s, "", 4, store.FilteredState{})

	putSeq(t, s, 9, "a")
	wantCounts(t, s, counts{Msgs: 4, First: 1, Last: 9, NumDeleted: 5, NumSubjects: 2})
	wantSeqs(t, s, "", 1, 2, 3, 9)
	wantSeqs(t, s, "a", 1, 3, 9)
	wantSeqs(t, s, "*", 1, 2, 3, 9)
	noErr(t, "LoadNextMsg", s.LoadNextMsg("", 4, &m))
	wantMsg(t, &m, 9, "a", "", "msg-9")
	noErr(t, "LoadNextMsg", s.LoadNextMsg("*", 4, &m))
	wantMsg(t, &m, 9, "a", "", "msg-9")
	noErr(t, "LoadLastMsg", s.LoadLastMsg("b", &m))
	wantMsg(t, &m, 2, "b", "", "msg-2")
	wantFiltered(t, s, "", 3, store.FilteredState{Msgs: 2, First: 3, Last: 9})
	wantFiltered(t, s, "a", 2, store.FilteredState{Msgs: 2, First: 3, Last: 9})
	wantFiltered(t, s, "*", 4, store.FilteredState{Msgs: 1, First: 9, Last: 9})

	// A skip right after another message, then one right after a skip.
	skip(t, s, 10, 1)
	skip(t, s, 11, 2)
	putSeq(t, s, 13, "c")
	wantCounts(t, s, counts{Msgs: 5, First: 1, Last: 13, NumDeleted: 8, NumSubjects: 3})
	wantSeqs(t, s, "", 1, 2, 3, 9, 13)

	// Removing the messages before a skipped range moves FirstSeq over it.
	for _, q := range []uint64{1, 2, 3} {
		noErr(t, "RemoveMsg", s.RemoveMsg(q))
	}
	wantCounts(t, s, counts{Msgs: 2, First: 9, Last: 13, NumDeleted: 3, NumSubjects: 2})
	noErr(t, "RemoveMsg", s.RemoveMsg(9))
	wantCounts(t, s, counts{Msgs: 1, First: 13, Last: 13, NumSubjects: 1})
	noErr(t, "RemoveMsg", s.RemoveMsg(13))
	wantCounts(t, s, counts{First: 14, Last: 13})
}

func testSkipMismatch(t *testing.T, open OpenFunc) {
	s := newStore(t, open, store.Config{})
	wantErr(t, "SkipMsgs(0, 1) on a fresh store", s.SkipMsgs(0, 1), store.ErrSequenceMismatch)
	wantErr(t, "SkipMsgs(2, 1) on a fresh store", s.SkipMsgs(2, 1), store.ErrSequenceMismatch)
	putSeq(t, s, 1, "a")
	putSeq(t, s, 2, "a")
	for _, seq := range []uint64{0, 1, 2, 4, 100} {
		wantErr(t, "SkipMsgs", s.SkipMsgs(seq, 3), store.ErrSequenceMismatch)
	}
	wantErr(t, "SkipMsgs past 2^63", s.SkipMsgs(3, 1<<63), store.ErrSequenceMismatch)
	wantErr(t, "SkipMsgs to 2^63", s.SkipMsgs(3, 1<<63-2), store.ErrSequenceMismatch)
	skip(t, s, 7, 0) // n 0 does nothing, whatever seq
	wantCounts(t, s, counts{Msgs: 2, First: 1, Last: 2, NumSubjects: 1})
	putSeq(t, s, 3, "a")

	noErr(t, "Close", s.Close())
	wantErr(t, "SkipMsgs after Close", s.SkipMsgs(4, 1), store.ErrStoreClosed)
}

// testSkipHuge skips far more sequences than a store could index one by
// one, between messages and at the end, and runs every operation across
// the skipped ranges: none may cost time or memory per skipped sequence.
func testSkipHuge(t *testing.T, open OpenFunc) {
	s := newStore(t, open, store.Config{})
	putSeq(t, s, 1, "a.1")
	putSeq(t, s, 2, "b.1")
	skip(t, s, 3, huge)
	q := uint64(3 + huge)
	putSeq(t, s, q, "a.2")
	putSeq(t, s, q+1, "b.2")
	skip(t, s, q+2, huge)
	r := q + 2 + huge
	putSeq(t, s, r, "a.3")
	skip(t, s, r+1, huge) // at the end
	last := r + huge
	wantCounts(t, s, counts{Msgs: 5, First: 1, Last: last, NumDeleted: int(last - 5), NumSubjects: 5})

	wantSeqs(t, s, "", 1, 2, q, q+1, r)
	wantSeqs(t, s, "a.*", 1, q, r)
	wantSeqs(t, s, "*.2", q, q+1)
	var m store.StoredMsg
	noErr(t, "LoadLastMsg", s.LoadLastMsg("", &m))
	wantMsg(t, &m, r, "a.3", "", "msg-"+itoa(r))
	noErr(t, "LoadLastMsg", s.LoadLastMsg("b.*", &m))
	wantMsg(t, &m, q+1, "b.2", "", "msg-"+itoa(q+1))
	wantErr(t, "LoadMsg", s.LoadMsg(q-1, &m), store.ErrMsgNotFound)
	wantErr(t, "LoadNextMsg", s.LoadNextMsg("", r+1, &m), store.ErrMsgNotFound)
	wantFiltered(t, s, "", 3, store.FilteredState{Msgs: 3, First: q, Last: r})
	wantFiltered(t, s, "a.*", 2, store.FilteredState{Msgs: 2, First: q, Last: r})
	wantFiltered(t, s, "*.*", 3, store.FilteredState{Msgs: 3, First: q, Last: r})

	// Snapshot and Restore carry the ranges.
	var buf bytes.Buffer
	noErr(t, "Snapshot", s.Snapshot(t.Context(), &buf))
	s2 := newStore(t, open, store.Config{})
	noErr(t, "Restore", s2.Restore(t.Context(), &buf))
	sameContents(t, s, s2)

	// Limits remove across the ranges.
	noErr(t, "UpdateConfig", s.UpdateConfig(store.Config{MaxMsgs: 4}))
	wantCounts(t, s, counts{Msgs: 4, First: 2, Last: last, NumDeleted: int(last - 5), NumSubjects: 4})
	noErr(t, "RemoveMsg", s.RemoveMsg(2))
	wantCounts(t, s, counts{Msgs: 3, First: q, Last: last, NumDeleted: int(last - q - 2), NumSubjects: 3})
	noErr(t, "RemoveMsg", s.RemoveMsg(r))
	wantSeqs(t, s, "", q, q+1)
	wantCounts(t, s, counts{Msgs: 2, First: q, Last: last, NumDeleted: int(last - q - 1), NumSubjects: 2})
	n, err := s.Purge(store.PurgeRequest{Keep: 1})
	noErr(t, "Purge", err)
	if n != 1 {
		t.Fatalf("Purge(Keep 1) removed %d, want 1", n)
	}
	putSeq(t, s, last+1, "c")
	noErr(t, "Truncate", s.Truncate(q+5))
	wantCounts(t, s, counts{Msgs: 1, First: q + 1, Last: q + 5, NumDeleted: 4, NumSubjects: 1})
	putSeq(t, s, q+6, "c")
	wantSeqs(t, s, "", q+1, q+6)

	// Compact into the middle of a range, then past the end.
	skip(t, s, q+7, huge)
	putSeq(t, s, q+7+huge, "d")
	n, err = s.Compact(q + 7 + huge/2)
	noErr(t, "Compact", err)
	if n != 2 {
		t.Fatalf("Compact removed %d, want 2", n)
	}
	wantCounts(t, s, counts{Msgs: 1, First: q + 7 + huge, Last: q + 7 + huge, NumSubjects: 1})
	_, err = s.Compact(q + 10 + huge)
	noErr(t, "Compact", err)
	wantCounts(t, s, counts{First: q + 10 + huge, Last: q + 9 + huge})
}

func itoa(q uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + q%10)
		if q /= 10; q == 0 {
			return string(b[i:])
		}
	}
}

// testSkipAdmin checks Purge, Compact and Truncate against skipped ranges.
func testSkipAdmin(t *testing.T, open OpenFunc) {
	// 1..3 messages, 4..103 skipped, 104..106 messages.
	setup := func(t *testing.T) store.StreamStore {
		s := newStore(t, open, store.Config{})
		putSeq(t, s, 1, "a")
		putSeq(t, s, 2, "b")
		putSeq(t, s, 3, "a")
		skip(t, s, 4, 100)
		putSeq(t, s, 104, "b")
		putSeq(t, s, 105, "a")
		putSeq(t, s, 106, "b")
		wantCounts(t, s, counts{Msgs: 6, First: 1, Last: 106, NumDeleted: 100, NumSubjects: 2})
		return s
	}
	t.Run("CompactIntoRange", func(t *testing.T) {
		s := setup(t)
		n, err := s.Compact(50)
		noErr(t, "Compact", err)
		if n != 3 {
			t.Fatalf("Compact(50) removed %d, want 3", n)
		}
		wantCounts(t, s, counts{Msgs: 3, First: 104, Last: 106, NumSubjects: 2})
	})
	t.Run("TruncateIntoRange", func(t *testing.T) {
		s := setup(t)
		noErr(t, "Truncate", s.Truncate(50))
		wantCounts(t, s, counts{Msgs: 3, First: 1, Last: 50, NumDeleted: 47, NumSubjects: 2})
		putSeq(t, s, 51, "c")
		wantSeqs(t, s, "", 1, 2, 3, 51)
		wantCounts(t, s, counts{Msgs: 4, First: 1, Last: 51, NumDeleted: 47, NumSubjects: 3})
		noErr(t, "Truncate", s.Truncate(3))
		wantCounts(t, s, counts{Msgs: 3, First: 1, Last: 3, NumSubjects: 2})
	})
	t.Run("TruncateThenSkip", func(t *testing.T) {
		s := setup(t)
		noErr(t, "Truncate", s.Truncate(104))
		skip(t, s, 105, 10)
		wantCounts(t, s, counts{Msgs: 4, First: 1, Last: 114, NumDeleted: 110, NumSubjects: 2})
		putSeq(t, s, 115, "a")
		wantSeqs(t, s, "", 1, 2, 3, 104, 115)
	})
	t.Run("PurgeKeep", func(t *testing.T) {
		s := setup(t)
		n, err := s.Purge(store.PurgeRequest{Keep: 4})
		noErr(t, "Purge", err)
		if n != 2 {
			t.Fatalf("Purge(Keep 4) removed %d, want 2", n)
		}
		wantCounts(t, s, counts{Msgs: 4, First: 3, Last: 106, NumDeleted: 100, NumSubjects: 2})
		n, err = s.Purge(store.PurgeRequest{Filter: "a"})
		noErr(t, "Purge", err)
		if n != 2 {
			t.Fatalf("Purge(a) removed %d, want 2", n)
		}
		wantCounts(t, s, counts{Msgs: 2, First: 104, Last: 106, NumDeleted: 1, NumSubjects: 1})
	})
	t.Run("PurgeAllThenSkip", func(t *testing.T) {
		s := setup(t)
		_, err := s.Purge(store.PurgeRequest{})
		noErr(t, "Purge", err)
		wantErr(t, "SkipMsgs", s.SkipMsgs(106, 1), store.ErrSequenceMismatch)
		skip(t, s, 107, 3)
		wantCounts(t, s, counts{First: 110, Last: 109})
		putSeq(t, s, 110, "a")
	})
	t.Run("CompactPastEndThenSkip", func(t *testing.T) {
		s := setup(t)
		_, err := s.Compact(200)
		noErr(t, "Compact", err)
		skip(t, s, 200, 1)
		wantCounts(t, s, counts{First: 201, Last: 200})
		putSeq(t, s, 201, "a")
		wantCounts(t, s, counts{Msgs: 1, First: 201, Last: 201, NumSubjects: 1})
	})
	t.Run("MaxAge", func(t *testing.T) {
		// Expiry by age walks over skipped ranges.
		r := newRecorder()
		s := newStore(t, open, store.Config{OnRemove: r.cb})
		old := time.Now().Add(-time.Hour).UnixNano()
		_, err := s.StoreMsg("a", nil, nil, old, 0)
		noErr(t, "StoreMsg", err)
		skip(t, s, 2, huge)
		_, err = s.StoreMsg("b", nil, nil, old, 0)
		noErr(t, "StoreMsg", err)
		skip(t, s, huge+3, huge)
		putSeq(t, s, 2*huge+3, "c")
		noErr(t, "UpdateConfig", s.UpdateConfig(store.Config{MaxAge: time.Minute, OnRemove: r.cb}))
		wantRemoved(t, r, rm(1, "a", store.RemovedMaxAge), rm(huge+2, "b", store.RemovedMaxAge))
		wantCounts(t, s, counts{Msgs: 1, First: 2*huge + 3, Last: 2*huge + 3, NumSubjects: 1})
	})
}

func testSkipSnapshot(t *testing.T, open OpenFunc) {
	for _, tc := range []struct {
		name string
		do   func(t *testing.T, s store.StreamStore)
	}{
		{"Empty", func(t *testing.T, s store.StreamStore) { skip(t, s, 1, 7) }},
		{"Middle", func(t *testing.T, s store.StreamStore) {
			putSeq(t, s, 1, "a")
			skip(t, s, 2, 3)
			skip(t, s, 5, 200)
			putSeq(t, s, 205, "b")
		}},
		{"End", func(t *testing.T, s store.StreamStore) {
			putSeq(t, s, 1, "a")
			putSeq(t, s, 2, "b")
			skip(t, s, 3, 1000)
		}},
		{"Purged", func(t *testing.T, s store.StreamStore) {
			putSeq(t, s, 1, "a")
			skip(t, s, 2, 1000)
			noErr(t, "RemoveMsg", s.RemoveMsg(1))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, open, store.Config{})
			tc.do(t, s)
			var buf bytes.Buffer
			noErr(t, "Snapshot", s.Snapshot(t.Context(), &buf))
			s2 := newStore(t, open, store.Config{})
			noErr(t, "Restore", s2.Restore(t.Context(), &buf))
			sameContents(t, s, s2)
			last := s.State().LastSeq
			putSeq(t, s2, last+1, "after")
			// A store that skipped has used sequences: Restore refuses it.
			s3 := newStore(t, open, store.Config{})
			skip(t, s3, 1, 1)
			buf.Reset()
			noErr(t, "Snapshot", s.Snapshot(t.Context(), &buf))
			wantErr(t, "Restore after SkipMsgs", s3.Restore(t.Context(), &buf), store.ErrNotEmpty)
		})
	}
}

// testSkipDurable checks that the durable mark covers skipped sequences
// when SkipMsgs returns.
func testSkipDurable(t *testing.T, open OpenFunc) {
	got := make(chan uint64, 1<<16)
	s := newStore(t, open, store.Config{OnDurable: func(seq uint64) { got <- seq }})
	maxGot := func() uint64 {
		var m uint64
		for {
			select {
			case q := <-got:
				m = max(m, q)
			default:
				return m
			}
		}
	}
	check := func(want uint64) {
		t.Helper()
		if d, ok := s.(store.Durable); ok && d.DurableSeq() < want {
			t.Fatalf("DurableSeq %d after SkipMsgs, want >= %d", d.DurableSeq(), want)
		}
		if m := maxGot(); m < want {
			t.Fatalf("OnDurable reached %d after SkipMsgs, want >= %d", m, want)
		}
	}
	skip(t, s, 1, 10)
	check(10)
	putSeq(t, s, 11, "a")
	skip(t, s, 12, 100)
	check(111)
	skip(t, s, 112, huge)
	check(111 + huge)
	if d, ok := s.(store.Durable); ok {
		noErr(t, "WaitDurable", d.WaitDurable(t.Context(), 111+huge))
	}
	if err := s.SkipMsgs(1, 1); !errors.Is(err, store.ErrSequenceMismatch) {
		t.Fatalf("SkipMsgs(1, 1): %v", err)
	}
}
