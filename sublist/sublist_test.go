package sublist_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"natsd.dev/sublist"
)

// both runs f against a cached and an uncached Sublist.
func both(t *testing.T, f func(t *testing.T, s *sublist.Sublist[int])) {
	t.Helper()
	t.Run("cache", func(t *testing.T) { f(t, sublist.New[int]()) })
	t.Run("nocache", func(t *testing.T) { f(t, sublist.NewWithOptions[int](sublist.Options{NoCache: true})) })
}

// render gives a canonical form of a result: sorted plain values and
// sorted groups with sorted members.
func render(r *sublist.Result[int]) string {
	p := slices.Sorted(slices.Values(r.Plain))
	var qs []string
	for _, g := range r.Queues {
		m := slices.Sorted(slices.Values(g.Members))
		qs = append(qs, fmt.Sprintf("%s%v", g.Name, m))
	}
	slices.Sort(qs)
	return fmt.Sprintf("%v%v", p, qs)
}

func mustInsert(t *testing.T, s *sublist.Sublist[int], subject, queue string, v int) {
	t.Helper()
	if err := s.Insert(subject, queue, v); err != nil {
		t.Fatalf("Insert(%q, %q, %d): %v", subject, queue, v, err)
	}
}

func TestMatch(t *testing.T) {
	type sub struct {
		subject, queue string
		v              int
	}
	subs := []sub{
		{"foo", "", 1},
		{"foo.bar", "", 2},
		{"foo.*", "", 3},
		{"foo.>", "", 4},
		{">", "", 5},
		{"*.bar", "", 6},
		{"foo.bar.baz", "", 7},
		{"*.*.baz", "", 8},
		{"foo.*.baz", "", 9},
		{"*", "", 10},
		{"bar.baz", "q1", 11},
		{"bar.*", "q1", 12},
		{"bar.>", "q2", 13},
		{"bar.baz", "q2", 14},
		{"bar.baz", "", 15},
	}
	tests := []struct {
		subject, want string
	}{
		{"foo", "[1 5 10][]"},
		{"foo.bar", "[2 3 4 5 6][]"},
		{"foo.baz", "[3 4 5][]"},
		{"foo.bar.baz", "[4 5 7 8 9][]"},
		{"foo.x.baz", "[4 5 8 9][]"},
		{"x.bar", "[5 6][]"},
		{"x", "[5 10][]"},
		{"x.y.z.w", "[5][]"},
		{"bar.baz", "[5 15][q1[11 12] q2[13 14]]"},
		{"bar.qux", "[5][q1[12] q2[13]]"},
		{"bar.qux.x", "[5][q2[13]]"},
		{"bar", "[5 10][]"},
		// Wildcards in the subject are literal tokens.
		{"foo.*", "[3 4 5][]"},
		{"foo.>", "[3 4 5][]"},
		// Malformed subjects match nothing.
		{"", "[][]"},
		{"foo..bar", "[][]"},
		{"foo.", "[][]"},
		{".foo", "[][]"},
	}
	both(t, func(t *testing.T, s *sublist.Sublist[int]) {
		for _, sb := range subs {
			mustInsert(t, s, sb.subject, sb.queue, sb.v)
		}
		if s.Count() != len(subs) {
			t.Fatalf("Count = %d, want %d", s.Count(), len(subs))
		}
		for range 2 { // the second round is served by the cache
			for _, tc := range tests {
				if got := render(s.Match(tc.subject)); got != tc.want {
					t.Errorf("Match(%q) = %s, want %s", tc.subject, got, tc.want)
				}
				if got := render(s.MatchBytes([]byte(tc.subject))); got != tc.want {
					t.Errorf("MatchBytes(%q) = %s, want %s", tc.subject, got, tc.want)
				}
				if got, want := s.HasInterest(tc.subject), tc.want != "[][]"; got != want {
					t.Errorf("HasInterest(%q) = %v, want %v", tc.subject, got, want)
				}
			}
		}
		// Remove everything; the trie must be empty again.
		for _, sb := range subs {
			if err := s.Remove(sb.subject, sb.queue, sb.v); err != nil {
				t.Fatalf("Remove(%q, %q, %d): %v", sb.subject, sb.queue, sb.v, err)
			}
		}
		for _, tc := range tests {
			if got := render(s.Match(tc.subject)); got != "[][]" {
				t.Errorf("after removal Match(%q) = %s", tc.subject, got)
			}
		}
		if s.Count() != 0 {
			t.Fatalf("Count = %d after removing all", s.Count())
		}
		n := 0
		s.All(func(string, string, int) bool { n++; return true })
		if n != 0 {
			t.Fatalf("All visits %d subscriptions of an empty Sublist", n)
		}
	})
}

func TestInsertRemoveErrors(t *testing.T) {
	both(t, func(t *testing.T, s *sublist.Sublist[int]) {
		for _, bad := range []string{"", "foo.", ".foo", "foo..bar", "foo.>.bar", "foo bar", ">.x"} {
			if err := s.Insert(bad, "", 1); !errors.Is(err, sublist.ErrInvalidSubject) {
				t.Errorf("Insert(%q) = %v, want ErrInvalidSubject", bad, err)
			}
			if err := s.Remove(bad, "", 1); !errors.Is(err, sublist.ErrInvalidSubject) {
				t.Errorf("Remove(%q) = %v, want ErrInvalidSubject", bad, err)
			}
		}
		mustInsert(t, s, "foo.bar", "", 1)
		mustInsert(t, s, "foo.bar", "q", 2)
		// Duplicates are held once.
		mustInsert(t, s, "foo.bar", "", 1)
		mustInsert(t, s, "foo.bar", "q", 2)
		if s.Count() != 2 {
			t.Fatalf("Count = %d, want 2", s.Count())
		}
		for _, tc := range []struct {
			subject, queue string
			v              int
		}{
			{"foo.bar", "", 2},  // wrong value
			{"foo.bar", "q", 1}, // wrong group member
			{"foo.bar", "r", 2}, // wrong group
			{"foo", "", 1},      // intermediate node
			{"foo.bar.baz", "", 1},
			{"foo.*", "", 1},
			{"foo.>", "", 1},
			{"x", "", 1},
		} {
			if err := s.Remove(tc.subject, tc.queue, tc.v); !errors.Is(err, sublist.ErrNotFound) {
				t.Errorf("Remove(%q, %q, %d) = %v, want ErrNotFound", tc.subject, tc.queue, tc.v, err)
			}
		}
		if err := s.Remove("foo.bar", "", 1); err != nil {
			t.Fatal(err)
		}
		if err := s.Remove("foo.bar", "", 1); !errors.Is(err, sublist.ErrNotFound) {
			t.Fatalf("second Remove = %v, want ErrNotFound", err)
		}
		if got := render(s.Match("foo.bar")); got != "[][q[2]]" {
			t.Fatalf("Match = %s", got)
		}
	})
}

func TestQueueMerge(t *testing.T) {
	both(t, func(t *testing.T, s *sublist.Sublist[int]) {
		mustInsert(t, s, "foo.*", "workers", 1)
		mustInsert(t, s, "foo.bar", "workers", 2)
		mustInsert(t, s, "foo.>", "workers", 3)
		mustInsert(t, s, "foo.bar", "others", 4)
		r := s.Match("foo.bar")
		if len(r.Queues) != 2 {
			t.Fatalf("got %d groups, want 2: %s", len(r.Queues), render(r))
		}
		if got, want := render(r), "[][others[4] workers[1 2 3]]"; got != want {
			t.Fatalf("Match = %s, want %s", got, want)
		}
	})
}

func TestManySubscribersOnOneSubject(t *testing.T) {
	// Large sets switch to an index; removal order must not matter.
	both(t, func(t *testing.T, s *sublist.Sublist[int]) {
		const n = 300
		for i := range n {
			mustInsert(t, s, "hot", "", i)
			mustInsert(t, s, "hot", "q", i)
		}
		mustInsert(t, s, "hot", "", 7) // duplicate in an indexed set
		if s.Count() != 2*n {
			t.Fatalf("Count = %d", s.Count())
		}
		r := s.Match("hot")
		if len(r.Plain) != n || len(r.Queues) != 1 || len(r.Queues[0].Members) != n {
			t.Fatalf("Match: %d plain, %d groups", len(r.Plain), len(r.Queues))
		}
		for i := 0; i < n; i += 2 {
			if err := s.Remove("hot", "", i); err != nil {
				t.Fatal(i, err)
			}
			if err := s.Remove("hot", "q", n-1-i); err != nil {
				t.Fatal(i, err)
			}
		}
		r = s.Match("hot")
		for _, v := range r.Plain {
			if v%2 == 0 {
				t.Fatalf("removed value %d still matches", v)
			}
		}
		if len(r.Plain) != n/2 || len(r.Queues[0].Members) != n/2 {
			t.Fatalf("after removals: %d plain, %d members", len(r.Plain), len(r.Queues[0].Members))
		}
		for i := 1; i < n; i += 2 {
			if err := s.Remove("hot", "", i); err != nil {
				t.Fatal(i, err)
			}
			if err := s.Remove("hot", "q", n-1-i); err != nil {
				t.Fatal(i, err)
			}
		}
		if s.Count() != 0 || s.HasInterest("hot") {
			t.Fatalf("not empty: Count = %d", s.Count())
		}
	})
}

func TestCacheInvalidation(t *testing.T) {
	s := sublist.New[int]()
	steps := []struct {
		op             string // "+" insert, "-" remove
		filter, queue  string
		subject, wantR string // expected Match(subject) after the op
	}{
		{"", "", "", "a.b", "[][]"},
		{"+", "a.*", "", "a.b", "[1][]"},
		{"+", "a.>", "", "a.b", "[1 2][]"},
		{"+", ">", "", "a.b", "[1 2 3][]"},
		{"+", "*.b", "g", "a.b", "[1 2 3][g[4]]"},
		{"+", "a.b", "", "a.b", "[1 2 3 5][g[4]]"},
		{"+", "a.c", "", "a.b", "[1 2 3 5][g[4]]"},
		{"+", "a.b.c", "", "a.b", "[1 2 3 5][g[4]]"},
		{"-", "a.*", "", "a.b", "[2 3 5][g[4]]"},
		{"-", ">", "", "a.b", "[2 5][g[4]]"},
		{"-", "*.b", "g", "a.b", "[2 5][]"},
		{"-", "a.b", "", "a.b", "[2][]"},
		{"-", "a.>", "", "a.b", "[][]"},
	}
	for i, st := range steps {
		// Warm the cache with the subject and some unrelated ones.
		s.Match(st.subject)
		s.Match("x.y")
		switch st.op {
		case "+":
			mustInsert(t, s, st.filter, st.queue, i)
		case "-":
			// The value inserted for this filter is the index of its step.
			v := slices.IndexFunc(steps, func(x struct {
				op             string
				filter, queue  string
				subject, wantR string
			}) bool {
				return x.op == "+" && x.filter == st.filter && x.queue == st.queue
			})
			if err := s.Remove(st.filter, st.queue, v); err != nil {
				t.Fatalf("step %d: Remove: %v", i, err)
			}
		}
		for range 2 {
			if got := render(s.Match(st.subject)); got != st.wantR {
				t.Fatalf("step %d (%s%s): Match(%q) = %s, want %s", i, st.op, st.filter, st.subject, got, st.wantR)
			}
			if got, want := s.HasInterest(st.subject), st.wantR != "[][]"; got != want {
				t.Fatalf("step %d: HasInterest = %v", i, got)
			}
		}
	}
}

func TestResultIsStable(t *testing.T) {
	s := sublist.New[int]()
	for i := range 10 {
		mustInsert(t, s, "foo", "", i)
		mustInsert(t, s, "foo", "q", i)
	}
	r := s.Match("foo")
	before := render(r)
	for i := range 10 {
		if err := s.Remove("foo", "", i); err != nil {
			t.Fatal(err)
		}
		if err := s.Remove("foo", "q", i); err != nil {
			t.Fatal(err)
		}
		mustInsert(t, s, "foo", "", 100+i)
	}
	if after := render(r); after != before {
		t.Fatalf("published result changed from %s to %s", before, after)
	}
}

func TestRemoveBatch(t *testing.T) {
	both(t, func(t *testing.T, s *sublist.Sublist[int]) {
		var subs []sublist.Sub[int]
		for i := range 40 {
			subj := fmt.Sprintf("conn.%d", i)
			if i%2 == 0 {
				subj = fmt.Sprintf("conn.%d.*", i)
			}
			subs = append(subs, sublist.Sub[int]{Subject: subj, Value: i})
			mustInsert(t, s, subj, "", i)
		}
		mustInsert(t, s, "conn.>", "", 100)
		for i := range 40 {
			s.Match(fmt.Sprintf("conn.%d", i))
			s.Match(fmt.Sprintf("conn.%d.x", i))
		}
		// A missing subscription does not stop the batch.
		batch := append(slices.Clone(subs[:20]), sublist.Sub[int]{Subject: "nope", Value: 1})
		batch = append(batch, subs[20:]...)
		if err := s.RemoveBatch(batch); !errors.Is(err, sublist.ErrNotFound) {
			t.Fatalf("RemoveBatch = %v, want ErrNotFound", err)
		}
		if s.Count() != 1 {
			t.Fatalf("Count = %d, want 1", s.Count())
		}
		for i := range 40 {
			for _, subj := range []string{fmt.Sprintf("conn.%d", i), fmt.Sprintf("conn.%d.x", i)} {
				if got := render(s.Match(subj)); got != "[100][]" {
					t.Fatalf("Match(%q) = %s after batch removal", subj, got)
				}
			}
		}
		// A small batch with wildcards invalidates precisely.
		mustInsert(t, s, "a.*", "", 1)
		mustInsert(t, s, "a.b", "", 2)
		s.Match("a.b")
		if err := s.RemoveBatch([]sublist.Sub[int]{{Subject: "a.*", Value: 1}, {Subject: "a.b", Value: 2}}); err != nil {
			t.Fatal(err)
		}
		if got := render(s.Match("a.b")); got != "[][]" {
			t.Fatalf("Match(a.b) = %s", got)
		}
	})
}

func TestAll(t *testing.T) {
	s := sublist.New[int]()
	want := []string{"a.b.c||1", "a.*||2", "a.>|q|3", ">||4", "a||5", "a.b||6", "*.*.*|w|7", "a.b.c|q|8"}
	for i, w := range want {
		parts := splitBars(w)
		mustInsert(t, s, parts[0], parts[1], i+1)
	}
	var got []string
	s.All(func(subject, queue string, v int) bool {
		got = append(got, fmt.Sprintf("%s|%s|%d", subject, queue, v))
		return true
	})
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Fatalf("All = %q, want %q", got, want)
	}
	n := 0
	s.All(func(string, string, int) bool { n++; return n < 3 })
	if n != 3 {
		t.Fatalf("All did not stop: %d calls", n)
	}
	// fn may modify the Sublist.
	s.All(func(subject, queue string, v int) bool {
		if err := s.Remove(subject, queue, v); err != nil {
			t.Fatal(err)
		}
		return true
	})
	if s.Count() != 0 {
		t.Fatalf("Count = %d", s.Count())
	}
}

func splitBars(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '|' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func TestStats(t *testing.T) {
	s := sublist.New[int]()
	mustInsert(t, s, "a", "", 1)
	mustInsert(t, s, "a", "", 2)
	mustInsert(t, s, "a", "q", 3)
	mustInsert(t, s, "a", "q", 4)
	mustInsert(t, s, "b", "", 5)
	if err := s.Remove("b", "", 5); err != nil {
		t.Fatal(err)
	}
	s.Match("a") // miss, first sight: not cached
	s.Match("a") // miss, second sight: cached
	s.Match("a") // hit
	s.Match("a") // hit
	s.Match("b") // miss
	s.Match("b") // miss, cached
	st := s.Stats()
	want := sublist.Stats{NumSubs: 4, NumCache: 2, NumInserts: 5, NumRemoves: 1, NumMatches: 6,
		CacheHitRate: 2.0 / 6, MaxFanout: 3, AvgFanout: 1.5}
	if st != want {
		t.Fatalf("Stats = %+v\nwant    %+v", st, want)
	}
}

func TestCacheIsBounded(t *testing.T) {
	s := sublist.NewWithOptions[int](sublist.Options{CacheSize: 64})
	mustInsert(t, s, "x.>", "", 1)
	for i := range 1000 {
		for range 2 { // the second sight admits the subject
			if got := len(s.Match(fmt.Sprintf("x.%d", i)).Plain); got != 1 {
				t.Fatalf("Match %d: %d values", i, got)
			}
		}
	}
	if n := s.Stats().NumCache; n == 0 || n > 64 {
		t.Fatalf("NumCache = %d, want 1..64", n)
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	s := sublist.New[int]()
	mustInsert(t, s, "foo.bar", "", 1)
	mustInsert(t, s, "foo.*", "q", 2)
	subject := "foo.bar"
	b := []byte("foo.bar")
	s.Match(subject)
	s.Match(subject) // the second sight fills the cache
	if n := testing.AllocsPerRun(1000, func() { s.Match(subject) }); n != 0 {
		t.Errorf("cache-hit Match allocates %v times", n)
	}
	if n := testing.AllocsPerRun(1000, func() { s.MatchBytes(b) }); n != 0 {
		t.Errorf("cache-hit MatchBytes allocates %v times", n)
	}
	if n := testing.AllocsPerRun(1000, func() { s.HasInterest(subject) }); n != 0 {
		t.Errorf("cache-hit HasInterest allocates %v times", n)
	}
	if n := testing.AllocsPerRun(1000, func() { s.HasInterest("foo.baz.x") }); n != 0 {
		t.Errorf("cache-miss HasInterest allocates %v times", n)
	}
	nc := sublist.NewWithOptions[int](sublist.Options{NoCache: true})
	mustInsert(t, nc, "foo.bar", "", 1)
	if n := testing.AllocsPerRun(1000, func() { nc.HasInterest(subject) }); n != 0 {
		t.Errorf("uncached HasInterest allocates %v times", n)
	}
	if n := testing.AllocsPerRun(1000, func() { nc.Match("no.interest") }); n != 0 {
		t.Errorf("uncached Match without interest allocates %v times", n)
	}
}

func TestConcurrentMatchAndWrite(t *testing.T) {
	s := sublist.NewWithOptions[int](sublist.Options{CacheSize: 128})
	const writers, readers, rounds = 2, 4, 300
	// Fixed subscriptions that every reader must always see.
	mustInsert(t, s, "orders.>", "", -1)
	// A large set on one subject, whose results alias the trie's arrays.
	for i := range 40 {
		mustInsert(t, s, "orders.hot", "", 10000+i)
		mustInsert(t, s, "orders.hot", "q", 10000+i)
	}
	var writersWG, readersWG sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, readers+writers)
	for w := range writers {
		writersWG.Go(func() {
			for i := range rounds {
				v := w*rounds + i
				subj := fmt.Sprintf("orders.%d", i%20)
				if i%3 == 0 {
					subj = fmt.Sprintf("orders.*.%d", i%7)
				}
				if err := s.Insert(subj, "", v); err != nil {
					errs <- err
					return
				}
				s.Match(subj)
				if err := s.Remove(subj, "", v); err != nil {
					errs <- err
					return
				}
				// Churn the large set: copy-on-write under readers.
				hot := 20000 + v
				if err := s.Insert("orders.hot", "q", hot); err != nil {
					errs <- err
					return
				}
				if err := s.Remove("orders.hot", "q", hot); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for r := range readers {
		readersWG.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				subj := fmt.Sprintf("orders.%d", (i+r)%20)
				if i%2 == 0 {
					subj = fmt.Sprintf("orders.%d.%d", i%20, i%7)
				}
				if i%50 == 0 {
					s.Stats()
				}
				if i%3 == 0 {
					// Read every value of a large aliased result.
					sum := 0
					hot := s.Match("orders.hot")
					for _, v := range hot.Plain {
						sum += v
					}
					for _, g := range hot.Queues {
						for _, v := range g.Members {
							sum += v
						}
					}
					if sum == 0 {
						errs <- fmt.Errorf("empty hot result")
						return
					}
				}
				res := s.Match(subj)
				if !slices.Contains(res.Plain, -1) {
					errs <- fmt.Errorf("Match(%q) lost the fixed subscription", subj)
					return
				}
			}
		})
	}
	writersWG.Wait()
	close(stop)
	readersWG.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// After the churn, everything but the fixed subscription is gone and the
	// cache agrees with the trie.
	for i := range 20 {
		for _, subj := range []string{fmt.Sprintf("orders.%d", i), fmt.Sprintf("orders.%d.%d", i, i%7)} {
			if got := render(s.Match(subj)); got != "[-1][]" {
				t.Fatalf("Match(%q) = %s", subj, got)
			}
		}
	}
}

func TestManyQueueGroups(t *testing.T) {
	s := sublist.New[int]()
	for i := range 40 {
		mustInsert(t, s, "a.*", fmt.Sprintf("g%d", i), i)
		mustInsert(t, s, "a.b", fmt.Sprintf("g%d", i), 100+i)
		mustInsert(t, s, "a.>", fmt.Sprintf("h%d", i), 200+i)
	}
	r := s.Match("a.b")
	if len(r.Queues) != 80 {
		t.Fatalf("%d groups, want 80", len(r.Queues))
	}
	for _, g := range r.Queues {
		if g.Name[0] == 'g' && len(g.Members) != 2 || g.Name[0] == 'h' && len(g.Members) != 1 {
			t.Fatalf("group %s has %v", g.Name, g.Members)
		}
		if cap(g.Members) != len(g.Members) {
			t.Fatalf("group %s members not clipped", g.Name)
		}
	}
	if cap(r.Queues) != len(r.Queues) {
		t.Fatal("groups not clipped")
	}
}

// TestAliasedResultsAreStable: results of large sets alias the trie's
// arrays; later inserts and removes must never change a published result.
func TestAliasedResultsAreStable(t *testing.T) {
	both(t, func(t *testing.T, s *sublist.Sublist[int]) {
		type snap struct {
			r    *sublist.Result[int]
			want string
		}
		var snaps []snap
		take := func() {
			r := s.Match("hot.x")
			snaps = append(snaps, snap{r, render(r)})
		}
		for i := range 100 {
			mustInsert(t, s, "hot.x", "", i)
			mustInsert(t, s, "hot.x", "g", i)
			if i%7 == 0 {
				take()
			}
		}
		mustInsert(t, s, "hot.*", "g", 1000) // merges into group g
		take()
		for i := 0; i < 100; i += 3 {
			if err := s.Remove("hot.x", "", i); err != nil {
				t.Fatal(err)
			}
			if err := s.Remove("hot.x", "g", 99-i); err != nil {
				t.Fatal(err)
			}
			take()
			mustInsert(t, s, "hot.x", "", 500+i)
			take()
		}
		if err := s.Remove("hot.*", "g", 1000); err != nil {
			t.Fatal(err)
		}
		for i := range 100 {
			s.Remove("hot.x", "", i)
			s.Remove("hot.x", "g", i)
			if i%5 == 0 {
				take()
			}
		}
		for i, sn := range snaps {
			if got := render(sn.r); got != sn.want {
				t.Fatalf("snapshot %d changed:\n was %s\n now %s", i, sn.want, got)
			}
			// Appending to a result must not write into shared arrays.
			_ = append(sn.r.Plain, -1)
			for _, g := range sn.r.Queues {
				_ = append(g.Members, -1)
			}
		}
		for i, sn := range snaps {
			if got := render(sn.r); got != sn.want {
				t.Fatalf("snapshot %d changed by an append:\n was %s\n now %s", i, sn.want, got)
			}
		}
	})
}
