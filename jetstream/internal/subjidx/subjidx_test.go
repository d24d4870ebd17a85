package subjidx

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"natsd.dev/sublist"
)

// TestMatchAgainstBruteForce checks the trie against a linear scan with
// sublist.SubjectMatchesFilter over random subjects, filters and deletes.
func TestMatchAgainstBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	toks := []string{"a", "b", "c", "foo", "bar"}
	randSubj := func(wild bool) string {
		n := 1 + r.IntN(4)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = toks[r.IntN(len(toks))]
			if wild && r.IntN(4) == 0 {
				parts[i] = "*"
			}
		}
		if wild && r.IntN(4) == 0 {
			parts[n-1] = ">"
		}
		return strings.Join(parts, ".")
	}
	var x Index[string]
	live := map[string]bool{}
	for range 2000 {
		s := randSubj(false)
		if r.IntN(3) == 0 {
			x.Delete(s)
			delete(live, s)
		} else {
			x.Insert(s, s)
			live[s] = true
		}
		f := randSubj(true)
		var got, want []string
		x.Match(f, func(v string) bool { got = append(got, v); return true })
		for s := range live {
			if sublist.SubjectMatchesFilter(s, f) {
				want = append(want, s)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("filter %q: got %v, want %v", f, got, want)
		}
		if x.Len() != len(live) {
			t.Fatalf("Len %d, want %d", x.Len(), len(live))
		}
	}
	for s := range live {
		x.Delete(s)
	}
	if len(x.root.children) != 0 {
		t.Fatalf("trie not pruned: %v", x.root.children)
	}
}
