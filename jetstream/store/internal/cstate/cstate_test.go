package cstate

import (
	"errors"
	"reflect"
	"testing"

	"natsd.dev/jetstream/store"
)

func sample(n int) store.ConsumerState {
	st := store.ConsumerState{
		Delivered: store.SequencePair{Consumer: uint64(n) + 10, Stream: uint64(n) + 20},
		AckFloor:  store.SequencePair{Consumer: 9, Stream: 19},
	}
	ts := int64(1_700_000_000_000_000_000)
	for i := range n {
		s := uint64(20 + i*2)
		st.Pending = append(st.Pending, store.Pending{Stream: s, Consumer: uint64(10 + i), Timestamp: ts + int64(i%7)*1500 - int64(i%3)})
		if i%5 == 0 {
			st.Redelivered = append(st.Redelivered, store.Redelivered{Stream: s, Count: uint64(i%4 + 1)})
		}
	}
	return st
}

func TestRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 2, 100, 10000} {
		st := sample(n)
		if err := st.Check(); err != nil {
			t.Fatal(err)
		}
		b := Append(nil, &st)
		if len(b) > Size(&st) {
			t.Fatalf("n=%d: %d bytes > Size %d", n, len(b), Size(&st))
		}
		var got store.ConsumerState
		if err := Decode(b, &got); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if !reflect.DeepEqual(got, st) {
			t.Fatalf("n=%d: round trip differs", n)
		}
		if n >= 100 && len(b) > n*6 {
			t.Errorf("n=%d: %d bytes, want at most 6 per pending ack", n, len(b))
		}
		// Every truncation is refused.
		for i := range b {
			if err := Decode(b[:i], &got); !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("n=%d: truncated at %d: %v", n, i, err)
			}
			if n > 2 {
				break
			}
		}
		if err := Decode(append(b, 0), &got); !errors.Is(err, store.ErrCorrupt) {
			t.Fatalf("trailing byte: %v", err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, n := range []int{0, 1, 3} {
		st := sample(n)
		f.Add(Append(nil, &st))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var st store.ConsumerState
		if Decode(b, &st) != nil {
			return
		}
		if err := st.Check(); err != nil {
			t.Fatalf("decoded state fails Check: %v", err)
		}
		var again store.ConsumerState
		if err := Decode(Append(nil, &st), &again); err != nil || !reflect.DeepEqual(st, again) {
			t.Fatalf("re-encoding differs: %v", err)
		}
	})
}
