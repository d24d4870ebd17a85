package jetstream

import "strings"

// filterTrie holds subject filters by token, to find whether a new filter
// overlaps one already added without comparing it with each of them (a
// consumer may have tens of thousands of filter_subjects).
type filterTrie struct {
	lit  map[string]*filterTrie // next literal token
	star *filterTrie            // next token "*"
	gt   bool                   // a filter ends here with ">"
	end  bool                   // a filter ends here
}

// add inserts filter f (valid, tokens split by ".") and reports whether it
// overlaps a filter added before: some subject matches both.
func (t *filterTrie) add(f string) bool {
	toks := strings.Split(f, ".")
	over := t.overlaps(toks)
	n := t
	for i, tok := range toks {
		switch {
		case tok == ">" && i == len(toks)-1:
			n.gt = true
			return over
		case tok == "*":
			if n.star == nil {
				n.star = &filterTrie{}
			}
			n = n.star
		default:
			if n.lit == nil {
				n.lit = make(map[string]*filterTrie)
			}
			c := n.lit[tok]
			if c == nil {
				c = &filterTrie{}
				n.lit[tok] = c
			}
			n = c
		}
	}
	n.end = true
	return over
}

// nonEmpty reports whether a filter continues below t by at least one
// token.
func (t *filterTrie) nonEmpty() bool { return t.gt || t.star != nil || len(t.lit) > 0 }

func (t *filterTrie) overlaps(toks []string) bool {
	if t == nil {
		return false
	}
	if len(toks) == 0 {
		return t.end
	}
	if t.gt {
		return true // ">" here matches the one or more tokens left
	}
	tok, rest := toks[0], toks[1:]
	switch tok {
	case ">":
		return t.nonEmpty()
	case "*":
		if t.star.overlaps(rest) {
			return true
		}
		for _, c := range t.lit {
			if c.overlaps(rest) {
				return true
			}
		}
		return false
	default:
		return t.lit[tok].overlaps(rest) || t.star.overlaps(rest)
	}
}
