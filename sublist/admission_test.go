package sublist_test

import (
	"fmt"
	"sync"
	"testing"

	"natsd.dev/sublist"
)

// hits returns the number of matches the cache has answered.
func hits(s *sublist.Sublist[int]) int {
	st := s.Stats()
	return int(st.CacheHitRate*float64(st.NumMatches) + 0.5)
}

func TestCacheAdmitsOnSecondSight(t *testing.T) {
	for _, name := range []string{"Match", "MatchBytes"} {
		t.Run(name, func(t *testing.T) {
			s := sublist.New[int]()
			mustInsert(t, s, "x.>", "", 1)
			match := func(subj string) string {
				if name == "MatchBytes" {
					return render(s.MatchBytes([]byte(subj)))
				}
				return render(s.Match(subj))
			}
			if got := match("x.hot"); got != "[1][]" {
				t.Fatalf("first Match = %s", got)
			}
			if n := s.Stats().NumCache; n != 0 {
				t.Fatalf("a subject seen once is cached: NumCache = %d", n)
			}
			if got := match("x.hot"); got != "[1][]" {
				t.Fatalf("second Match = %s", got)
			}
			if st := s.Stats(); st.NumCache != 1 || hits(s) != 0 {
				t.Fatalf("after the second sight: NumCache = %d, hits = %d, want 1, 0", st.NumCache, hits(s))
			}
			if got := match("x.hot"); got != "[1][]" || hits(s) != 1 {
				t.Fatalf("third Match = %s, hits = %d, want a hit", got, hits(s))
			}
			// Subjects seen once are not stored, so they evict nothing.
			for i := range 5000 {
				if got := match(fmt.Sprintf("x.once.%d", i)); got != "[1][]" {
					t.Fatalf("Match(x.once.%d) = %s", i, got)
				}
			}
			// The doorkeeper's false positives admit about one in 500
			// one-off subjects; 1% is far above that.
			if st := s.Stats(); st.NumCache > 1+50 {
				t.Fatalf("one-off subjects were cached: NumCache = %d", st.NumCache)
			}
			before := hits(s)
			if got := match("x.hot"); got != "[1][]" || hits(s) != before+1 {
				t.Fatalf("hot subject evicted by one-off subjects: %s, hits %d -> %d", got, before, hits(s))
			}
		})
	}
}

// TestAdmissionAndInvalidation checks that admitting a subject on a later
// sight never brings back a result from before a change, and that a cached
// subject invalidated by a change is refilled with the new result.
func TestAdmissionAndInvalidation(t *testing.T) {
	s := sublist.New[int]()
	steps := []struct {
		op, filter string // op: "" match only, "+" insert, "-" remove
		v          int
		want       string // Match("a.b") after the op, asked twice
	}{
		{"", "", 0, "[][]"},      // first sight of a.b: not cached
		{"+", "a.*", 1, "[1][]"}, // second sight after the insert: admitted
		{"+", "a.b", 2, "[1 2][]"},
		{"-", "a.*", 1, "[2][]"},
		{"+", "a.>", 3, "[2 3][]"},
		{"-", "a.b", 2, "[3][]"},
		{"+", ">", 4, "[3 4][]"},
		{"-", ">", 4, "[3][]"},
		{"-", "a.>", 3, "[][]"},
	}
	for i, st := range steps {
		switch st.op {
		case "+":
			mustInsert(t, s, st.filter, "", st.v)
		case "-":
			if err := s.Remove(st.filter, "", st.v); err != nil {
				t.Fatalf("step %d: Remove(%q): %v", i, st.filter, err)
			}
		}
		for k := range 3 {
			if got := render(s.Match("a.b")); got != st.want {
				t.Fatalf("step %d (%s%s), match %d: Match(a.b) = %s, want %s", i, st.op, st.filter, k, got, st.want)
			}
		}
		if i > 0 && s.Stats().NumCache != 1 {
			t.Fatalf("step %d: a.b is not cached after three matches", i)
		}
	}
}

// TestFillRacingWriter: readers keep matching a few subjects (so their
// fills race with the writer) while the writer adds and removes literal
// and wildcard subscriptions on them; a Match that starts after a write
// returned must see it, which fails if a fill could store a result
// computed before the write.
func TestFillRacingWriter(t *testing.T) {
	s := sublist.NewWithOptions[int](sublist.Options{CacheSize: 16})
	const subjects, rounds = 4, 2000
	subj := func(k int) string { return fmt.Sprintf("t.%d", k) }
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for r := range 2 {
		wg.Go(func() {
			for i := r; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if i%2 == 0 {
					s.Match(subj(i % subjects))
				} else {
					s.MatchBytes([]byte(subj(i % subjects)))
				}
			}
		})
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()
	for i := range rounds {
		k := i % subjects
		filter := subj(k)
		if i%3 == 0 {
			filter = "t.*"
		}
		mustInsert(t, s, filter, "", i)
		for range 2 {
			if got := render(s.Match(subj(k))); got != fmt.Sprintf("[%d][]", i) {
				t.Fatalf("round %d: Match(%q) after Insert(%q) = %s", i, subj(k), filter, got)
			}
		}
		if err := s.Remove(filter, "", i); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if got := render(s.Match(subj(k))); got != "[][]" {
				t.Fatalf("round %d: Match(%q) after Remove(%q) = %s", i, subj(k), filter, got)
			}
		}
	}
}

// TestOneOffMissDoesNotAllocate: a subject seen once costs the cache no
// allocation (no entry, no copy of the subject); only the Result is
// allocated, and a subject without interest shares the empty one.
func TestOneOffMissDoesNotAllocate(t *testing.T) {
	s := sublist.New[int]()
	mustInsert(t, s, "$JS.ACK.ORDERS.>", "", 1)
	mustInsert(t, s, "svc.*", "", 2)
	const runs = 1000
	none := make([]string, runs+1)
	acks := make([]string, runs+1)
	noneBytes := make([][]byte, runs+1)
	for i := range none {
		none[i] = fmt.Sprintf("_INBOX.abcdefghijklmnopqrstuv.%d", i)
		acks[i] = fmt.Sprintf("$JS.ACK.ORDERS.C1.1.%d.%d.1765100000000000000.0", i+1, i+1)
		noneBytes[i] = fmt.Appendf(nil, "_INBOX.zyxwvutsrqponmlkjihgfe.%d", i)
	}
	s.Match("svc.x") // create the cache
	i := 0
	if n := testing.AllocsPerRun(runs, func() { s.Match(none[i]); i++ }); n != 0 {
		t.Errorf("one-off Match without interest allocates %v times", n)
	}
	i = 0
	if n := testing.AllocsPerRun(runs, func() { s.MatchBytes(noneBytes[i]); i++ }); n != 0 {
		t.Errorf("one-off MatchBytes without interest allocates %v times", n)
	}
	i = 0
	if n := testing.AllocsPerRun(runs, func() { s.Match(acks[i]); i++ }); n != 1 {
		t.Errorf("one-off Match with one subscriber allocates %v times, want 1 (the Result)", n)
	}
	if n := s.Stats().NumCache; n > 30 { // false positives: about 1 in 500
		t.Errorf("NumCache = %d after 3000 one-off subjects", n)
	}
}

// TestWorkingSetIsAdmitted: a working set of half the cache's size, matched
// round robin, ends up cached whole. No two subjects may keep each other
// out of the cache, however their hashes collide.
func TestWorkingSetIsAdmitted(t *testing.T) {
	s := sublist.New[int]()
	mustInsert(t, s, "w.*", "", 1)
	subjects := make([]string, 512)
	for i := range subjects {
		subjects[i] = fmt.Sprintf("w.%d", i)
	}
	for range 4 {
		for _, subj := range subjects {
			s.Match(subj)
		}
	}
	before := hits(s)
	for _, subj := range subjects {
		s.Match(subj)
	}
	if n := hits(s) - before; n < len(subjects)*99/100 {
		t.Fatalf("%d of %d subjects of the working set hit after 4 rounds", n, len(subjects))
	}
	// Two subjects alternating, whatever their hashes.
	for i := range 200 {
		a, b := fmt.Sprintf("pair.%d.a", i), fmt.Sprintf("pair.%d.b", i)
		for range 3 {
			s.Match(a)
			s.Match(b)
		}
		before := hits(s)
		s.Match(a)
		s.Match(b)
		if n := hits(s) - before; n != 2 {
			t.Fatalf("pair %d: %d hits of 2 after three rounds", i, n)
		}
	}
}
