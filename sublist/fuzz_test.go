package sublist_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"natsd.dev/sublist"
)

// naiveMatch is the oracle: NATS matching written the obvious way.
func naiveMatch(subject, filter string) bool {
	s, f := strings.Split(subject, "."), strings.Split(filter, ".")
	for i, ft := range f {
		if ft == ">" {
			return len(s) > i
		}
		if i >= len(s) || (ft != "*" && ft != s[i]) {
			return false
		}
	}
	return len(s) == len(f)
}

// fuzzTokens turns bytes into a valid filter (wild) or literal subject over
// a small alphabet, so random inputs collide often.
func fuzzSubject(b []byte, wild bool) string {
	lits := []string{"a", "b", "c", "foo"}
	n := 1 + int(b[0])%4
	toks := make([]string, 0, n)
	for i := range n {
		c := int(b[(i+1)%len(b)]>>uint(i%3)) % 7
		switch {
		case wild && c == 5:
			toks = append(toks, "*")
		case wild && c == 6 && i == n-1:
			toks = append(toks, ">")
		default:
			toks = append(toks, lits[c%len(lits)])
		}
	}
	return strings.Join(toks, ".")
}

type modelSub struct {
	filter, queue string
	v             int
}

// FuzzSublist drives a cached, a tiny-cache and an uncached Sublist with the
// same inserts, removes and matches, and checks every match against a
// brute-force scan of the model, and the counters of Stats.
func FuzzSublist(f *testing.F) {
	f.Add([]byte("\x00\x01a\x00\x05b\x02\x03c\x01\x01a\x02\x03c"))
	f.Add([]byte("\x00\x11\x12\x00\x25\x26\x02\x33\x34\x00\x47\x48\x02\x33\x34\x01\x11\x12\x02\x33\x34"))
	f.Add([]byte("\x00\xff\xfe\x00\x06\x06\x00\x05\x05\x02\x01\x02\x02\x03\x00\x01\x06\x06\x02\x01\x02"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lists := []*sublist.Sublist[int]{
			sublist.New[int](),
			sublist.NewWithOptions[int](sublist.Options{CacheSize: 8}),
			sublist.NewWithOptions[int](sublist.Options{NoCache: true}),
		}
		var model []modelSub
		next := 0
		type published struct {
			r    *sublist.Result[int]
			want string
		}
		var results []published
		var matches [3]int // Match, MatchBytes and HasInterest calls per list
		for len(data) >= 3 {
			op, arg := data[0]%4, data[1:3]
			data = data[3:]
			switch op {
			case 0, 3: // insert
				s := modelSub{filter: fuzzSubject(arg, true), v: next}
				if arg[0]&0x80 != 0 {
					s.queue = []string{"q1", "q2"}[arg[1]&1]
				}
				next++
				model = append(model, s)
				for _, l := range lists {
					if err := l.Insert(s.filter, s.queue, s.v); err != nil {
						t.Fatalf("Insert(%q): %v", s.filter, err)
					}
				}
			case 1: // remove an existing subscription, or a missing one
				if len(model) == 0 || arg[0]&0x40 != 0 {
					for _, l := range lists {
						if err := l.Remove(fuzzSubject(arg, true), "", -1); !errors.Is(err, sublist.ErrNotFound) {
							t.Fatalf("Remove of a missing subscription: %v", err)
						}
					}
					continue
				}
				i := int(arg[1]) % len(model)
				s := model[i]
				model = slices.Delete(model, i, i+1)
				for _, l := range lists {
					if err := l.Remove(s.filter, s.queue, s.v); err != nil {
						t.Fatalf("Remove(%q, %q, %d): %v", s.filter, s.queue, s.v, err)
					}
				}
			case 2: // match
				subj := fuzzSubject(arg, false)
				var plain []int
				groups := map[string][]int{}
				for _, s := range model {
					if !naiveMatch(subj, s.filter) {
						continue
					}
					if !sublist.SubjectMatchesFilter(subj, s.filter) {
						t.Fatalf("SubjectMatchesFilter(%q, %q) = false", subj, s.filter)
					}
					if s.queue == "" {
						plain = append(plain, s.v)
					} else {
						groups[s.queue] = append(groups[s.queue], s.v)
					}
				}
				want := render(&sublist.Result[int]{Plain: plain, Queues: toGroups(groups)})
				// Matching once, twice or three times in a row crosses
				// the cache's admission (a subject is cached on its
				// second miss) at different points of the op sequence.
				times := 1 + int(arg[0]>>5)%3
				for i, l := range lists {
					for k := range times {
						var r *sublist.Result[int]
						if k == 1 {
							r = l.MatchBytes([]byte(subj))
						} else {
							r = l.Match(subj)
						}
						if got := render(r); got != want {
							t.Fatalf("list %d: Match(%q) #%d = %s, want %s (model %v)", i, subj, k, got, want, model)
						}
						results = append(results, published{r, want})
					}
					matches[i] += times + 1
					if got := l.HasInterest(subj); got != (want != "[][]") {
						t.Fatalf("list %d: HasInterest(%q) = %v", i, subj, got)
					}
				}
			}
		}
		for i, p := range results {
			if got := render(p.r); got != p.want {
				t.Fatalf("published result %d changed from %s to %s", i, p.want, got)
			}
		}
		for i, l := range lists {
			if l.Count() != len(model) {
				t.Fatalf("list %d: Count = %d, want %d", i, l.Count(), len(model))
			}
			st := l.Stats()
			if st.NumMatches != uint64(matches[i]) {
				t.Fatalf("list %d: NumMatches = %d, want %d", i, st.NumMatches, matches[i])
			}
			if limit := []int{1024, 8, 0}[i]; st.NumCache > limit {
				t.Fatalf("list %d: NumCache = %d, over %d", i, st.NumCache, limit)
			}
			if st.CacheHitRate < 0 || st.CacheHitRate > 1 || (i == 2 && st.CacheHitRate != 0) {
				t.Fatalf("list %d: CacheHitRate = %v", i, st.CacheHitRate)
			}
		}
	})
}

func toGroups(m map[string][]int) []sublist.Group[int] {
	var gs []sublist.Group[int]
	for name, members := range m {
		gs = append(gs, sublist.Group[int]{Name: name, Members: members})
	}
	return gs
}

// literals returns every literal subject of 1..maxTokens tokens over
// alphabet.
func literals(alphabet []string, maxTokens int) []string {
	var out, level []string
	level = []string{""}
	for range maxTokens {
		var nextLevel []string
		for _, p := range level {
			for _, a := range alphabet {
				s := a
				if p != "" {
					s = p + "." + a
				}
				nextLevel = append(nextLevel, s)
			}
		}
		out = append(out, nextLevel...)
		level = nextLevel
	}
	return out
}

// FuzzIsSubsetMatch checks IsSubsetMatch(sub, test) against its definition:
// no literal subject matched by sub is missed by test. Subjects of up to
// one token more than either filter, over the filters' literal tokens plus
// a fresh one, are enough to find a counter-example if there is one.
func FuzzIsSubsetMatch(f *testing.F) {
	f.Add([]byte{1, 2, 3}, []byte{3, 5, 6})
	f.Add([]byte{3, 6, 6, 6}, []byte{2, 5, 6})
	f.Add([]byte{2, 5, 5}, []byte{0, 6})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if len(a) == 0 || len(b) == 0 {
			return
		}
		sub, test := fuzzSubject(a, true), fuzzSubject(b, true)
		alphabet := []string{"z"}
		for _, tok := range strings.Split(sub+"."+test, ".") {
			if tok != "*" && tok != ">" && !slices.Contains(alphabet, tok) {
				alphabet = append(alphabet, tok)
			}
		}
		all := literals(alphabet, 5)
		want := true
		for _, l := range all {
			if naiveMatch(l, sub) && !naiveMatch(l, test) {
				want = false
				break
			}
		}
		if got := sublist.IsSubsetMatch(sub, test); got != want {
			t.Fatalf("IsSubsetMatch(%q, %q) = %v, want %v", sub, test, got, want)
		}
		for _, l := range all[:min(len(all), 40)] {
			if got, want := sublist.SubjectMatchesFilter(l, sub), naiveMatch(l, sub); got != want {
				t.Fatalf("SubjectMatchesFilter(%q, %q) = %v, want %v", l, sub, got, want)
			}
		}
	})
}

// FuzzTransform: NewTransform never panics, and a transform applied to a
// subject built from its source by filling in the wildcards succeeds and
// yields a valid subject.
func FuzzTransform(f *testing.F) {
	f.Add("a.*.*", "x.{{wildcard(2)}}.{{partition(3,1,2)}}", "p.q")
	f.Add("*", "{{split(1,-)}}.{{SliceFromRight(1,2)}}", "ab-cd")
	f.Add("a.>", "b.$1.>", "c.d")
	f.Add("*.>", "{{ left(1, 2) }}.{{right(1,1)}}.>", "hello.w")
	f.Add("", ">", "x")
	f.Add("a.*", "{{splitFromLeft(1,3)}}.{{sliceFromLeft(1,1)}}.{{random(4)}}", "abcdef")
	f.Fuzz(func(t *testing.T, src, dst, fill string) {
		tr, err := sublist.NewTransform(src, dst)
		if err != nil {
			if tr != nil {
				t.Fatal("transform and error")
			}
			return
		}
		fills := strings.FieldsFunc(fill, func(r rune) bool { return r == '.' || r <= ' ' || r == '*' || r == '>' })
		src = tr.Source()
		var toks []string
		for i, tok := range strings.Split(src, ".") {
			switch tok {
			case "*", ">":
				v := fmt.Sprintf("w%d", i)
				if i < len(fills) {
					v = fills[i]
				}
				toks = append(toks, v)
			default:
				toks = append(toks, tok)
			}
		}
		subject := strings.Join(toks, ".")
		if !sublist.ValidLiteralSubject(subject) {
			return // src had tokens like "a*" that fill cannot help with
		}
		if !tr.Match(subject) {
			t.Fatalf("%q -> %q: Match(%q) = false", src, dst, subject)
		}
		out, err := tr.Apply(subject)
		if err != nil {
			if errors.Is(err, sublist.ErrInvalidSubject) && strings.Contains(dst, "plit") {
				return // split of a token made only of delimiters
			}
			t.Fatalf("%q -> %q: Apply(%q): %v", src, dst, subject, err)
		}
		if !sublist.ValidSubject(out) {
			t.Fatalf("%q -> %q: Apply(%q) = %q, not a valid subject", src, dst, subject, out)
		}
	})
}
