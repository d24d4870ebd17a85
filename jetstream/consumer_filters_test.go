package jetstream

import (
	"math/rand"
	"strings"
	"testing"
)

// TestFilterTrieMatchesPairwise checks filterTrie.add against comparing
// each pair of filters, on random filters of few tokens.
func TestFilterTrieMatchesPairwise(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	tokens := []string{"a", "b", "*", ">"}
	filter := func() string {
		n := 1 + r.Intn(3)
		toks := make([]string, n)
		for i := range toks {
			toks[i] = tokens[r.Intn(len(tokens))]
			if toks[i] == ">" && i != n-1 {
				toks[i] = "a"
			}
		}
		return strings.Join(toks, ".")
	}
	for round := 0; round < 20000; round++ {
		var fs []string
		for i := 1 + r.Intn(4); i > 0; i-- {
			fs = append(fs, filter())
		}
		var tr filterTrie
		for i, f := range fs {
			want := false
			for _, g := range fs[:i] {
				if subjectsOverlap(f, g) {
					want = true
				}
			}
			if got := tr.add(f); got != want {
				t.Fatalf("%q then %q: trie says %v, pairwise %v", fs[:i], f, got, want)
			}
		}
	}
}
