package storetest

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"natsd.dev/jetstream/store"
)

func init() {
	register(
		test{"SnapshotRestore", testSnapshotRestore},
		test{"RestoreErrors", testRestoreErrors},
		test{"Consumer", testConsumer},
	)
}

// sameContents fails unless a and b report the same state, messages and
// consumer states.
func sameContents(t *testing.T, a, b store.StreamStore, consumers ...string) {
	t.Helper()
	sa, sb := a.State(), b.State()
	if !reflect.DeepEqual(sa, sb) {
		t.Fatalf("State differs:\n%+v\n%+v", sa, sb)
	}
	// Walk both with LoadNextMsg rather than LoadMsg on every sequence: a
	// store may have skipped billions of sequences (SkipMsgs).
	var ma, mb store.StoredMsg
	for start := uint64(0); ; start = ma.Seq + 1 {
		ea, eb := a.LoadNextMsg("", start, &ma), b.LoadNextMsg("", start, &mb)
		if (ea == nil) != (eb == nil) || (ea == nil && ma.Seq != mb.Seq) {
			t.Fatalf("LoadNextMsg(%d): %d %v vs %d %v", start, ma.Seq, ea, mb.Seq, eb)
		}
		if ea != nil {
			break
		}
		if ma.Subject != mb.Subject || ma.Time != mb.Time || !bytes.Equal(ma.Hdr, mb.Hdr) || !bytes.Equal(ma.Data, mb.Data) {
			t.Fatalf("message %d differs", ma.Seq)
		}
	}
	ta, _ := a.SubjectsTotals("")
	tb, _ := b.SubjectsTotals("")
	if !reflect.DeepEqual(ta, tb) {
		t.Fatalf("SubjectsTotals differ: %v vs %v", ta, tb)
	}
	for _, name := range consumers {
		ca, err := a.Consumer(name)
		noErr(t, "Consumer", err)
		cb, err := b.Consumer(name)
		noErr(t, "Consumer", err)
		var csa, csb store.ConsumerState
		noErr(t, "State", ca.State(&csa))
		noErr(t, "State", cb.State(&csb))
		if !reflect.DeepEqual(csa, csb) {
			t.Fatalf("consumer %s differs:\n%+v\n%+v", name, csa, csb)
		}
	}
}

func testSnapshotRestore(t *testing.T, open OpenFunc) {
	cases := []struct {
		name  string
		setup func(t *testing.T, s store.StreamStore)
	}{
		{"Fresh", func(t *testing.T, s store.StreamStore) {}},
		{"Purged", func(t *testing.T, s store.StreamStore) {
			fill(t, s, "a", "b")
			_, err := s.Purge(store.PurgeRequest{})
			noErr(t, "Purge", err)
		}},
		{"TruncatedToZero", func(t *testing.T, s store.StreamStore) {
			fill(t, s, "a", "b")
			noErr(t, "Truncate", s.Truncate(0))
		}},
		{"CompactedPastEnd", func(t *testing.T, s store.StreamStore) {
			_, err := s.Compact(50)
			noErr(t, "Compact", err)
		}},
		{"Mixed", func(t *testing.T, s store.StreamStore) {
			for i := range 200 {
				hdr := []byte(nil)
				if i%3 == 0 {
					hdr = []byte(fmt.Sprintf("NATS/1.0\r\nI: %d\r\n\r\n", i))
				}
				_, err := s.StoreMsg(fmt.Sprintf("s.%d.%d", i%7, i%3), hdr, bytes.Repeat([]byte{byte(i)}, i), 0, 0)
				noErr(t, "StoreMsg", err)
			}
			for _, seq := range []uint64{1, 2, 50, 51, 52, 100, 200} {
				noErr(t, "RemoveMsg", s.RemoveMsg(seq))
			}
			noErr(t, "EraseMsg", s.EraseMsg(150))
			c, err := s.Consumer("c1")
			noErr(t, "Consumer", err)
			noErr(t, "SetState", c.SetState(&store.ConsumerState{
				Delivered:   store.SequencePair{Consumer: 20, Stream: 30},
				AckFloor:    store.SequencePair{Consumer: 10, Stream: 15},
				Pending:     []store.Pending{{Stream: 16, Consumer: 11, Timestamp: 5}, {Stream: 29, Consumer: 19, Timestamp: 7}},
				Redelivered: []store.Redelivered{{Stream: 16, Count: 2}},
			}))
			_, err = s.Consumer("c2")
			noErr(t, "Consumer", err)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newStore(t, open, store.Config{})
			c.setup(t, a)
			var buf bytes.Buffer
			noErr(t, "Snapshot", a.Snapshot(t.Context(), &buf))
			b := newStore(t, open, store.Config{})
			noErr(t, "Restore", b.Restore(t.Context(), bytes.NewReader(buf.Bytes())))
			cons := []string(nil)
			if c.name == "Mixed" {
				cons = []string{"c1", "c2"}
			}
			sameContents(t, a, b, cons...)
			// Both continue with the same next sequence.
			sa, _ := a.StoreMsg("next", nil, nil, 0, 0)
			sb, _ := b.StoreMsg("next", nil, nil, 0, 0)
			if sa != sb {
				t.Fatalf("next sequence %d vs %d", sa, sb)
			}
		})
	}
	t.Run("TTLSurvives", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newRecorder()
			a := newStore(t, open, store.Config{})
			_, err := a.StoreMsg("ttl", nil, nil, 0, time.Minute)
			noErr(t, "StoreMsg", err)
			_, err = a.StoreMsg("keep", nil, nil, 0, 0)
			noErr(t, "StoreMsg", err)
			var buf bytes.Buffer
			noErr(t, "Snapshot", a.Snapshot(t.Context(), &buf))
			b := newStore(t, open, store.Config{OnRemove: r.cb})
			noErr(t, "Restore", b.Restore(t.Context(), &buf))
			time.Sleep(2 * time.Minute)
			synctest.Wait()
			wantRemoved(t, r, rm(1, "ttl", store.RemovedTTL))
			wantSeqs(t, b, "", 2)
		})
	})
}

func testRestoreErrors(t *testing.T, open OpenFunc) {
	a := newStore(t, open, store.Config{})
	fill(t, a, "a", "b", "c")
	var buf bytes.Buffer
	noErr(t, "Snapshot", a.Snapshot(t.Context(), &buf))
	snap := buf.Bytes()

	wantErr(t, "Restore into non-empty", a.Restore(t.Context(), bytes.NewReader(snap)), store.ErrNotEmpty)

	damaged := map[string][]byte{
		"empty":     nil,
		"garbage":   []byte(strings.Repeat("garbage!", 10)),
		"truncated": snap[:len(snap)/2],
		"flipped":   flip(snap, len(snap)/2),
		"lastbyte":  flip(snap, len(snap)-1),
	}
	for name, data := range damaged {
		b := newStore(t, open, store.Config{})
		wantErr(t, "Restore "+name, b.Restore(t.Context(), bytes.NewReader(data)), store.ErrCorrupt)
		// A failed restore leaves a usable empty store.
		noErr(t, "Restore after failure", b.Restore(t.Context(), bytes.NewReader(snap)))
		sameContents(t, a, b)
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x55
	return c
}

func testConsumer(t *testing.T, open OpenFunc) {
	s := newStore(t, open, store.Config{})
	for _, bad := range []string{"", "a.b", "a*", "a>", "a b", "a/b", `a\b`} {
		_, err := s.Consumer(bad)
		wantErr(t, fmt.Sprintf("Consumer(%q)", bad), err, store.ErrInvalidConsumerName)
	}
	c, err := s.Consumer("dur")
	noErr(t, "Consumer", err)
	var st store.ConsumerState
	noErr(t, "State of new consumer", c.State(&st))
	if !reflect.DeepEqual(st, store.ConsumerState{}) {
		t.Fatalf("new consumer state %+v", st)
	}
	in := store.ConsumerState{
		Delivered:   store.SequencePair{Consumer: 5, Stream: 9},
		AckFloor:    store.SequencePair{Consumer: 3, Stream: 6},
		Pending:     []store.Pending{{Stream: 7, Consumer: 4, Timestamp: 100}, {Stream: 9, Consumer: 5, Timestamp: 200}},
		Redelivered: []store.Redelivered{{Stream: 7, Count: 1}},
	}
	noErr(t, "SetState", c.SetState(&in))
	want := store.ConsumerState{Delivered: in.Delivered, AckFloor: in.AckFloor,
		Pending:     []store.Pending{{Stream: 7, Consumer: 4, Timestamp: 100}, {Stream: 9, Consumer: 5, Timestamp: 200}},
		Redelivered: []store.Redelivered{{Stream: 7, Count: 1}}}
	in.Pending[1] = store.Pending{} // the store must have copied
	in.Redelivered[0].Count = 3
	noErr(t, "State", c.State(&st))
	if !reflect.DeepEqual(st, want) {
		t.Fatalf("State = %+v, want %+v", st, want)
	}
	st.Pending[0] = store.Pending{} // and must hand out copies
	for name, bad := range map[string]store.ConsumerState{
		"pending out of order":     {Pending: []store.Pending{{Stream: 9}, {Stream: 7}}},
		"pending duplicate":        {Pending: []store.Pending{{Stream: 7}, {Stream: 7}}},
		"redelivered out of order": {Redelivered: []store.Redelivered{{Stream: 9, Count: 1}, {Stream: 8, Count: 1}}},
		"redelivered zero count":   {Redelivered: []store.Redelivered{{Stream: 9}}},
	} {
		wantErr(t, "SetState "+name, c.SetState(&bad), store.ErrInvalidConsumerState)
	}
	again, err := s.Consumer("dur")
	noErr(t, "Consumer again", err)
	var st2 store.ConsumerState
	noErr(t, "State", again.State(&st2))
	if !reflect.DeepEqual(st2, want) {
		t.Fatalf("second handle State = %+v, want %+v", st2, want)
	}
	other, err := s.Consumer("other")
	noErr(t, "Consumer", err)
	testConsumerLarge(t, other)
	if n := s.State().Consumers; n != 2 {
		t.Fatalf("Consumers = %d, want 2", n)
	}
	noErr(t, "Delete", c.Delete())
	wantErr(t, "State after Delete", c.State(&st), store.ErrStoreClosed)
	if n := s.State().Consumers; n != 1 {
		t.Fatalf("Consumers after Delete = %d, want 1", n)
	}
	fresh, err := s.Consumer("dur")
	noErr(t, "Consumer after Delete", err)
	st = store.ConsumerState{}
	noErr(t, "State", fresh.State(&st))
	if !reflect.DeepEqual(st, store.ConsumerState{}) {
		t.Fatalf("recreated consumer state %+v", st)
	}
}

// testConsumerLarge round-trips a state with many pending acks and checks
// that State reuses the capacity of the slices it is handed.
func testConsumerLarge(t *testing.T, c store.ConsumerStore) {
	const n = 20000
	in := store.ConsumerState{
		Delivered: store.SequencePair{Consumer: 2 * n, Stream: 3 * n},
		AckFloor:  store.SequencePair{Consumer: 10, Stream: 12},
	}
	for i := range n {
		p := store.Pending{Stream: uint64(13 + 3*i/2), Consumer: uint64(11 + i), Timestamp: 1e18 + int64(i)*1733 - int64(i%5)*1e9}
		in.Pending = append(in.Pending, p)
		if i%7 == 0 {
			in.Redelivered = append(in.Redelivered, store.Redelivered{Stream: p.Stream, Count: uint64(i%3 + 1)})
		}
	}
	noErr(t, "SetState large", c.SetState(&in))
	var st store.ConsumerState
	noErr(t, "State large", c.State(&st))
	if !reflect.DeepEqual(st, in) {
		t.Fatalf("large state differs after a round trip")
	}
	p0, r0 := &st.Pending[0], &st.Redelivered[0]
	noErr(t, "State again", c.State(&st))
	if &st.Pending[0] != p0 || &st.Redelivered[0] != r0 {
		t.Errorf("State did not reuse the capacity of into's slices")
	}
	// Emptied: State reports no pending acks, into keeps its capacity.
	noErr(t, "SetState empty", c.SetState(&store.ConsumerState{Delivered: in.Delivered, AckFloor: in.Delivered}))
	noErr(t, "State empty", c.State(&st))
	if len(st.Pending) != 0 || len(st.Redelivered) != 0 || st.AckFloor != in.Delivered {
		t.Fatalf("emptied state %+v", st.AckFloor)
	}
}
