package sublist

import (
	"strings"
	"testing"
)

// TestSignatureNeverMisses checks that a filter's signature admits every
// subject the filter matches, over all short subjects and filters of a
// small alphabet.
func TestSignatureNeverMisses(t *testing.T) {
	lits := []string{"a", "b", "foo"}
	var subjects []string
	var grow func(prefix []string)
	grow = func(prefix []string) {
		if len(prefix) > 0 {
			subjects = append(subjects, strings.Join(prefix, "."))
		}
		if len(prefix) == 4 {
			return
		}
		for _, l := range lits {
			grow(append(prefix, l))
		}
	}
	grow(nil)
	// A few long subjects, for the "8 or more tokens" count bit.
	for n := 5; n <= 10; n++ {
		subjects = append(subjects, strings.Repeat("a.", n-1)+"b")
	}
	var filters []string
	for _, s := range subjects {
		toks := strings.Split(s, ".")
		for mask := range 1 << min(len(toks), 4) {
			ft := make([]string, len(toks))
			for i, tok := range toks {
				ft[i] = tok
				if i < 4 && mask&(1<<i) != 0 {
					ft[i] = "*"
				}
			}
			filters = append(filters, strings.Join(ft, "."))
			filters = append(filters, strings.Join(append(ft[:len(ft)-1:len(ft)-1], ">"), "."))
		}
	}
	checked := 0
	for _, f := range filters {
		need, counts := filterSignature(f)
		for _, s := range subjects {
			if !matchLiteral(s, f) {
				continue
			}
			checked++
			if sig := signature(s); sig&need != need || sig&counts == 0 {
				t.Fatalf("signature of %q (%x) rejects filter %q (%x, %x)", s, sig, f, need, counts)
			}
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d matching pairs checked", checked)
	}
}
