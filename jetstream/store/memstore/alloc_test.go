package memstore_test

import (
	"testing"

	"natsd.dev/jetstream/store"
)

// TestAllocs pins the hot paths: a load into a reused StoredMsg allocates
// nothing, and a store allocates only the message's bytes (plus amortised
// slice growth, which rounds away).
func TestAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	s := newBench(t, store.Config{})
	data := make([]byte, 16)
	for i := range 1000 {
		subj := "a.b"
		if i%2 == 1 {
			subj = "a.c"
		}
		if _, err := s.StoreMsg(subj, nil, data, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	var m store.StoredMsg
	seq := uint64(1)
	checks := []struct {
		name string
		max  float64
		fn   func()
	}{
		{"StoreMsg", 1, func() { s.StoreMsg("a.b", nil, data, 0, 0) }},
		{"LoadMsg", 0, func() { s.LoadMsg(seq%1000+1, &m); seq++ }},
		{"LoadNextMsg/literal", 0, func() { s.LoadNextMsg("a.c", seq%1000, &m); seq++ }},
		{"LoadNextMsg/wildcard", 0, func() { s.LoadNextMsg("a.*", seq%1000, &m); seq++ }},
		{"LoadLastMsg", 0, func() { s.LoadLastMsg("a.c", &m) }},
		{"State", 0, func() { s.State() }},
		{"FilteredState", 0, func() { s.FilteredState("a.b", 500) }},
	}
	for _, c := range checks {
		if got := testing.AllocsPerRun(1000, c.fn); got > c.max {
			t.Errorf("%s: %v allocs per run, want <= %v", c.name, got, c.max)
		}
	}
}
