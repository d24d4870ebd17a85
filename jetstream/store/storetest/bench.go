package storetest

import (
	"testing"

	"natsd.dev/jetstream/store"
)

// PendingState returns a consumer state with n pending acks shaped like a
// busy consumer's: stream sequences mostly consecutive, consumer sequences
// consecutive, deliveries microseconds apart, one in 16 redelivered.
func PendingState(n int) *store.ConsumerState {
	st := &store.ConsumerState{
		Delivered: store.SequencePair{Consumer: uint64(n) + 100, Stream: uint64(n)*9/8 + 200},
		AckFloor:  store.SequencePair{Consumer: 100, Stream: 200},
		Pending:   make([]store.Pending, 0, n),
	}
	ts := int64(1_780_000_000_000_000_000)
	seq := uint64(201)
	for i := range n {
		st.Pending = append(st.Pending, store.Pending{Stream: seq, Consumer: uint64(101 + i), Timestamp: ts})
		if i%16 == 5 {
			st.Redelivered = append(st.Redelivered, store.Redelivered{Stream: seq, Count: 1})
		}
		seq++
		if i%8 == 7 {
			seq++ // another consumer's subject, or acked
		}
		ts += 700 + int64(i%13)*50
	}
	return st
}

// BenchmarkConsumerState measures ConsumerStore.SetState and State of a
// consumer of s with n pending acks (a state write as a consumer's flush
// does it, and a state read as its recovery does it, reusing the slices).
func BenchmarkConsumerState(b *testing.B, s store.StreamStore, n int) {
	c, err := s.Consumer("bench")
	if err != nil {
		b.Fatal(err)
	}
	st := PendingState(n)
	b.Run("SetState", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := c.SetState(st); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/pending")
	})
	b.Run("State", func(b *testing.B) {
		if err := c.SetState(st); err != nil {
			b.Fatal(err)
		}
		var into store.ConsumerState
		b.ReportAllocs()
		for b.Loop() {
			if err := c.State(&into); err != nil {
				b.Fatal(err)
			}
		}
		if len(into.Pending) != n {
			b.Fatalf("State has %d pending, want %d", len(into.Pending), n)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/pending")
	})
}
