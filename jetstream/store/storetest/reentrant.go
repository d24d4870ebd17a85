package storetest

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"natsd.dev/jetstream/store"
)

func init() {
	register(test{"OnRemoveReentrant", testOnRemoveReentrant})
}

// testOnRemoveReentrant checks that OnRemove may call back into the store,
// as a stream does when it writes a subject delete marker (ADR-43) for a
// message a limit removed: from StoreMsg's goroutine and from the store's
// expiry goroutine.
func testOnRemoveReentrant(t *testing.T, open OpenFunc) {
	synctest.Test(t, func(t *testing.T) {
		var s atomic.Pointer[store.StreamStore]
		r := newRecorder()
		cb := func(seq uint64, subj string, why store.RemoveReason) {
			r.cb(seq, subj, why)
			st := *s.Load()
			_ = st.State()
			if subj != "marker" {
				if _, err := st.StoreMsg("marker", []byte("NATS/1.0\r\nNats-Marker-Reason: "+why.String()+"\r\n\r\n"), nil, 0, store.NoExpiry); err != nil {
					t.Errorf("StoreMsg from OnRemove: %v", err)
				}
			}
		}
		st := newStore(t, open, store.Config{MaxMsgsPerSubject: 1, MaxAge: time.Minute, OnRemove: cb})
		s.Store(&st)
		putSeq(t, st, 1, "k")
		putSeq(t, st, 2, "k") // removes 1 by MaxMsgsPerSubject, marker is 3
		wantRemoved(t, r, rm(1, "k", store.RemovedMaxMsgsPerSubject))
		wantSeqs(t, st, "", 2, 3)
		time.Sleep(2 * time.Minute) // 2 expires by MaxAge, marker 4 replaces 3
		synctest.Wait()
		wantRemoved(t, r, rm(2, "k", store.RemovedMaxAge), rm(3, "marker", store.RemovedMaxMsgsPerSubject))
		wantSeqs(t, st, "", 4)
		var m store.StoredMsg
		noErr(t, "LoadLastMsg", st.LoadLastMsg("marker", &m))
		if string(m.Hdr) != "NATS/1.0\r\nNats-Marker-Reason: MaxAge\r\n\r\n" {
			t.Fatalf("marker header %q", m.Hdr)
		}
	})
}
