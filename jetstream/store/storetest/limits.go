package storetest

import (
	"testing"
	"testing/synctest"
	"time"

	"natsd.dev/jetstream/store"
)

func init() {
	register(
		test{"MaxMsgs", testMaxMsgs},
		test{"MaxBytes", testMaxBytes},
		test{"MaxMsgSize", testMaxMsgSize},
		test{"MaxMsgsPerSubject", testMaxMsgsPerSubject},
		test{"MaxAge", testMaxAge},
		test{"TTL", testTTL},
		test{"UpdateConfig", testUpdateConfig},
	)
}

func rm(seq uint64, subj string, why store.RemoveReason) removed { return removed{seq, subj, why} }

func testMaxMsgs(t *testing.T, open OpenFunc) {
	t.Run("Old", func(t *testing.T) {
		r := newRecorder()
		s := newStore(t, open, store.Config{MaxMsgs: 3, OnRemove: r.cb})
		fill(t, s, "a", "b", "c")
		wantRemoved(t, r)
		putSeq(t, s, 4, "d")
		putSeq(t, s, 5, "e")
		wantRemoved(t, r, rm(1, "a", store.RemovedMaxMsgs), rm(2, "b", store.RemovedMaxMsgs))
		wantCounts(t, s, counts{3, 3, 5, 0, 3})
	})
	t.Run("New", func(t *testing.T) {
		r := newRecorder()
		s := newStore(t, open, store.Config{MaxMsgs: 3, Discard: store.DiscardNew, OnRemove: r.cb})
		fill(t, s, "a", "b", "c")
		_, err := s.StoreMsg("d", nil, nil, 0, 0)
		wantErr(t, "StoreMsg over MaxMsgs", err, store.ErrMaxMsgs)
		wantCounts(t, s, counts{3, 1, 3, 0, 3})
		noErr(t, "RemoveMsg", s.RemoveMsg(2))
		putSeq(t, s, 4, "d") // the rejected message took no sequence
		wantRemoved(t, r)
	})
}

func testMaxBytes(t *testing.T, open OpenFunc) {
	size := store.MsgSize("s", nil, make([]byte, 100))
	t.Run("Old", func(t *testing.T) {
		r := newRecorder()
		s := newStore(t, open, store.Config{MaxBytes: int64(3 * size), OnRemove: r.cb})
		for i := range 5 {
			_, err := s.StoreMsg("s", nil, make([]byte, 100), 0, 0)
			noErr(t, "StoreMsg", err)
			if st := s.State(); st.Bytes > 3*size || st.Msgs != uint64(min(i+1, 3)) {
				t.Fatalf("after %d: State %+v", i+1, st)
			}
		}
		wantRemoved(t, r, rm(1, "s", store.RemovedMaxBytes), rm(2, "s", store.RemovedMaxBytes))
		// A bigger message makes room for itself.
		_, err := s.StoreMsg("s", nil, make([]byte, 200), 0, 0)
		noErr(t, "StoreMsg", err)
		wantCounts(t, s, counts{2, 5, 6, 0, 1})
		wantRemoved(t, r, rm(3, "s", store.RemovedMaxBytes), rm(4, "s", store.RemovedMaxBytes))
		// A message bigger than MaxBytes alone is refused under DiscardOld too.
		_, err = s.StoreMsg("s", nil, make([]byte, 3*size), 0, 0)
		wantErr(t, "StoreMsg larger than MaxBytes", err, store.ErrMaxBytes)
		wantCounts(t, s, counts{2, 5, 6, 0, 1})
	})
	t.Run("New", func(t *testing.T) {
		s := newStore(t, open, store.Config{MaxBytes: int64(3*size + 20), Discard: store.DiscardNew})
		for range 3 {
			_, err := s.StoreMsg("s", nil, make([]byte, 100), 0, 0)
			noErr(t, "StoreMsg", err)
		}
		_, err := s.StoreMsg("s", nil, make([]byte, 100), 0, 0)
		wantErr(t, "StoreMsg over MaxBytes", err, store.ErrMaxBytes)
		_, err = s.StoreMsg("s", nil, nil, 0, 0) // 17 bytes still fit
		noErr(t, "small StoreMsg", err)
		wantCounts(t, s, counts{4, 1, 4, 0, 1})
	})
}

func testMaxMsgSize(t *testing.T, open OpenFunc) {
	s := newStore(t, open, store.Config{MaxMsgSize: 10})
	_, err := s.StoreMsg("a", []byte("hdr"), []byte("1234567"), 0, 0)
	noErr(t, "StoreMsg of exactly MaxMsgSize", err)
	_, err = s.StoreMsg("a", []byte("hdr"), []byte("12345678"), 0, 0)
	wantErr(t, "StoreMsg", err, store.ErrMsgTooBig)
	_, err = s.StoreMsg("a", nil, make([]byte, 11), 0, 0)
	wantErr(t, "StoreMsg", err, store.ErrMsgTooBig)
	putSeq(t, s, 2, "a")
}

func testMaxMsgsPerSubject(t *testing.T, open OpenFunc) {
	t.Run("Old", func(t *testing.T) {
		r := newRecorder()
		s := newStore(t, open, store.Config{MaxMsgsPerSubject: 2, OnRemove: r.cb})
		fill(t, s, "a", "b", "a", "a", "b", "c", "b")
		wantRemoved(t, r, rm(1, "a", store.RemovedMaxMsgsPerSubject), rm(2, "b", store.RemovedMaxMsgsPerSubject))
		wantSeqs(t, s, "", 3, 4, 5, 6, 7)
		wantCounts(t, s, counts{5, 3, 7, 0, 3})
	})
	t.Run("DiscardNewStillReplaces", func(t *testing.T) {
		// Without DiscardNewPerSubject the per-subject limit replaces, and
		// a replacing message does not count against MaxMsgs.
		s := newStore(t, open, store.Config{MaxMsgsPerSubject: 1, MaxMsgs: 2, Discard: store.DiscardNew})
		fill(t, s, "a", "b", "a")
		wantSeqs(t, s, "", 2, 3)
		_, err := s.StoreMsg("c", nil, nil, 0, 0)
		wantErr(t, "StoreMsg new subject", err, store.ErrMaxMsgs)
	})
	t.Run("DiscardNewPerSubject", func(t *testing.T) {
		s := newStore(t, open, store.Config{MaxMsgsPerSubject: 2, Discard: store.DiscardNew, DiscardNewPerSubject: true})
		fill(t, s, "a", "a", "b")
		_, err := s.StoreMsg("a", nil, nil, 0, 0)
		wantErr(t, "StoreMsg", err, store.ErrMaxMsgsPerSubject)
		putSeq(t, s, 4, "b")
		wantSeqs(t, s, "a", 1, 2)
	})
	t.Run("InvalidConfig", func(t *testing.T) {
		s := newStore(t, open, store.Config{})
		err := s.UpdateConfig(store.Config{MaxMsgsPerSubject: 1, DiscardNewPerSubject: true})
		wantErr(t, "UpdateConfig", err, store.ErrInvalidConfig)
	})
}

func testMaxAge(t *testing.T, open OpenFunc) {
	synctest.Test(t, func(t *testing.T) {
		r := newRecorder()
		s := newStore(t, open, store.Config{MaxAge: time.Minute, OnRemove: r.cb})
		putSeq(t, s, 1, "a")
		time.Sleep(30 * time.Second)
		putSeq(t, s, 2, "b")
		putSeq(t, s, 3, "a")
		time.Sleep(29 * time.Second)
		synctest.Wait()
		wantRemoved(t, r)
		time.Sleep(2 * time.Second) // t=61s
		synctest.Wait()
		wantRemoved(t, r, rm(1, "a", store.RemovedMaxAge))
		wantCounts(t, s, counts{2, 2, 3, 0, 2})
		time.Sleep(30 * time.Second)
		synctest.Wait()
		wantRemoved(t, r, rm(2, "b", store.RemovedMaxAge), rm(3, "a", store.RemovedMaxAge))
		wantCounts(t, s, counts{0, 4, 3, 0, 0})
		// Messages stored with an old timestamp expire at once.
		_, err := s.StoreMsg("old", nil, nil, time.Now().Add(-2*time.Minute).UnixNano(), 0)
		noErr(t, "StoreMsg", err)
		time.Sleep(time.Millisecond)
		synctest.Wait()
		wantRemoved(t, r, rm(4, "old", store.RemovedMaxAge))
	})
}

func testTTL(t *testing.T, open OpenFunc) {
	synctest.Test(t, func(t *testing.T) {
		r := newRecorder()
		s := newStore(t, open, store.Config{MaxAge: time.Hour, OnRemove: r.cb})
		ttl := func(subj string, d time.Duration) uint64 {
			seq, err := s.StoreMsg(subj, nil, []byte("x"), 0, d)
			noErr(t, "StoreMsg", err)
			return seq
		}
		ttl("forever", store.NoExpiry) // 1
		ttl("short", 10*time.Second)   // 2
		ttl("plain", 0)                // 3: MaxAge
		ttl("long", 2*time.Hour)       // 4: TTL beyond MaxAge
		ttl("shorter", 5*time.Second)  // 5
		time.Sleep(6 * time.Second)
		synctest.Wait()
		wantRemoved(t, r, rm(5, "shorter", store.RemovedTTL))
		time.Sleep(5 * time.Second)
		synctest.Wait()
		wantRemoved(t, r, rm(2, "short", store.RemovedTTL))
		wantSeqs(t, s, "", 1, 3, 4)
		time.Sleep(time.Hour)
		synctest.Wait()
		wantRemoved(t, r, rm(3, "plain", store.RemovedMaxAge))
		wantSeqs(t, s, "", 1, 4)
		time.Sleep(time.Hour)
		synctest.Wait()
		wantRemoved(t, r, rm(4, "long", store.RemovedTTL))
		wantSeqs(t, s, "", 1)
		time.Sleep(24 * time.Hour)
		synctest.Wait()
		wantRemoved(t, r)
		wantCounts(t, s, counts{1, 1, 5, 4, 1})
		// A removed TTL message is not reported later.
		seq := ttl("gone", time.Second)
		noErr(t, "RemoveMsg", s.RemoveMsg(seq))
		time.Sleep(2 * time.Second)
		synctest.Wait()
		wantRemoved(t, r)
	})
}

func testUpdateConfig(t *testing.T, open OpenFunc) {
	t.Run("Tighten", func(t *testing.T) {
		r := newRecorder()
		s := newStore(t, open, store.Config{Name: "S"})
		fill(t, s, "a", "b", "a", "b", "a", "c")
		noErr(t, "UpdateConfig", s.UpdateConfig(store.Config{Name: "S", MaxMsgsPerSubject: 2, OnRemove: r.cb}))
		wantRemoved(t, r, rm(1, "a", store.RemovedMaxMsgsPerSubject))
		noErr(t, "UpdateConfig", s.UpdateConfig(store.Config{Name: "S", MaxMsgs: 3, OnRemove: r.cb}))
		wantRemoved(t, r, rm(2, "b", store.RemovedMaxMsgs), rm(3, "a", store.RemovedMaxMsgs))
		wantSeqs(t, s, "", 4, 5, 6)
		// Under DiscardNew a lower limit removes nothing but refuses.
		noErr(t, "UpdateConfig", s.UpdateConfig(store.Config{Name: "S", MaxMsgs: 1, Discard: store.DiscardNew, OnRemove: r.cb}))
		wantRemoved(t, r)
		wantSeqs(t, s, "", 4, 5, 6)
		_, err := s.StoreMsg("d", nil, nil, 0, 0)
		wantErr(t, "StoreMsg", err, store.ErrMaxMsgs)
		wantErr(t, "rename", s.UpdateConfig(store.Config{Name: "T"}), store.ErrInvalidConfig)
	})
	t.Run("MaxAge", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newRecorder()
			s := newStore(t, open, store.Config{OnRemove: r.cb})
			putSeq(t, s, 1, "a")
			time.Sleep(time.Minute)
			putSeq(t, s, 2, "b")
			noErr(t, "UpdateConfig", s.UpdateConfig(store.Config{MaxAge: 30 * time.Second, OnRemove: r.cb}))
			synctest.Wait()
			wantRemoved(t, r, rm(1, "a", store.RemovedMaxAge))
			time.Sleep(31 * time.Second)
			synctest.Wait()
			wantRemoved(t, r, rm(2, "b", store.RemovedMaxAge))
		})
	})
}
