// Package storetest is the conformance suite for store.StreamStore: every
// implementation runs it from its own tests, and a new implementation is
// accepted when it passes.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, cfg store.Config) store.StreamStore {
//			s, err := memstore.New(cfg)
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
//
// The open function returns a new, empty store for cfg; the suite closes
// it. Stores that keep data across restarts also run RunPersistent, which
// reopens the same directory after Close and expects everything back. Time-driven cases (MaxAge, TTL) run inside testing/synctest bubbles,
// so open is called inside a bubble for them and the store's timers must be
// ordinary time package timers. The whole suite runs in well under a
// second for the memory store; the randomized model test is shortened
// under testing.Short.
package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"natsd.dev/jetstream/store"
)

// OpenFunc opens a fresh, empty store with cfg.
type OpenFunc func(t *testing.T, cfg store.Config) store.StreamStore

// Run runs every conformance test against the stores open returns.
func Run(t *testing.T, open OpenFunc) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

type test struct {
	name string
	fn   func(t *testing.T, open OpenFunc)
}

// tests is filled by the init functions of the files of this package.
var tests []test

func register(ts ...test) { tests = append(tests, ts...) }

// newStore opens a store and closes it at the end of the test.
func newStore(t *testing.T, open OpenFunc, cfg store.Config) store.StreamStore {
	t.Helper()
	s := open(t, cfg)
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, store.ErrStoreClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func put(t *testing.T, s store.StreamStore, subj string, data string) uint64 {
	t.Helper()
	seq, err := s.StoreMsg(subj, nil, []byte(data), 0, 0)
	if err != nil {
		t.Fatalf("StoreMsg(%q): %v", subj, err)
	}
	return seq
}

func putSeq(t *testing.T, s store.StreamStore, want uint64, subj string) {
	t.Helper()
	if seq := put(t, s, subj, fmt.Sprintf("msg-%d", want)); seq != want {
		t.Fatalf("StoreMsg(%q) = seq %d, want %d", subj, seq, want)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// counts is the part of StreamState most checks look at.
type counts struct {
	Msgs, First, Last uint64
	NumDeleted        int
	NumSubjects       int
}

func wantCounts(t *testing.T, s store.StreamStore, want counts) {
	t.Helper()
	st := s.State()
	got := counts{st.Msgs, st.FirstSeq, st.LastSeq, st.NumDeleted, st.NumSubjects}
	if got != want {
		t.Fatalf("State = %+v, want %+v", got, want)
	}
}

// seqs returns the sequences LoadNextMsg walks through for filter.
func seqs(t *testing.T, s store.StreamStore, filter string) []uint64 {
	t.Helper()
	var out []uint64
	var m store.StoredMsg
	for start := uint64(0); ; start = m.Seq + 1 {
		err := s.LoadNextMsg(filter, start, &m)
		if errors.Is(err, store.ErrMsgNotFound) {
			return out
		}
		noErr(t, "LoadNextMsg", err)
		if m.Seq < start {
			t.Fatalf("LoadNextMsg(%q, %d) went back to %d", filter, start, m.Seq)
		}
		out = append(out, m.Seq)
	}
}

func wantSeqs(t *testing.T, s store.StreamStore, filter string, want ...uint64) {
	t.Helper()
	got := seqs(t, s, filter)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("LoadNextMsg walk of %q = %v, want %v", filter, got, want)
	}
}

func wantMsg(t *testing.T, m *store.StoredMsg, seq uint64, subj, hdr, data string) {
	t.Helper()
	if m.Seq != seq || m.Subject != subj || !bytes.Equal(m.Hdr, []byte(hdr)) || !bytes.Equal(m.Data, []byte(data)) {
		t.Fatalf("message = {seq %d %q hdr %q data %q}, want {seq %d %q hdr %q data %q}",
			m.Seq, m.Subject, m.Hdr, m.Data, seq, subj, hdr, data)
	}
}

// removed records OnRemove calls.
type removed struct {
	seq  uint64
	subj string
	why  store.RemoveReason
}

func (r removed) String() string { return fmt.Sprintf("%d:%s:%v", r.seq, r.subj, r.why) }

type recorder struct {
	ch chan removed
}

func newRecorder() *recorder { return &recorder{ch: make(chan removed, 1<<16)} }

func (r *recorder) cb(seq uint64, subj string, why store.RemoveReason) {
	r.ch <- removed{seq, subj, why}
}

// take returns what was recorded so far.
func (r *recorder) take() []removed {
	var out []removed
	for {
		select {
		case x := <-r.ch:
			out = append(out, x)
		default:
			return out
		}
	}
}

func wantRemoved(t *testing.T, r *recorder, want ...removed) {
	t.Helper()
	if got := r.take(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("OnRemove calls = %v, want %v", got, want)
	}
}

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
