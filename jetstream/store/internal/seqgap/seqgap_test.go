package seqgap

import (
	"math/rand/v2"
	"testing"
)

// oracle is the naive version: a set of skipped sequences.
type oracle map[uint64]bool

func (o oracle) count(base, seq uint64) uint64 {
	n := uint64(0)
	for q := base; q < seq; q++ {
		if !o[q] {
			n++
		}
	}
	return n
}

func TestAgainstOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		var m Gaps
		o := oracle{}
		base := uint64(1 + r.IntN(5))
		end := base // next sequence above every gap
		for range r.IntN(8) {
			lo := end + uint64(r.IntN(3))
			if m.Len() > 0 && lo == end && r.IntN(2) == 0 {
				lo++ // sometimes non-adjacent
			}
			hi := lo + uint64(r.IntN(4))
			m.Add(lo, hi)
			for q := lo; q <= hi; q++ {
				o[q] = true
			}
			end = hi + 1 + uint64(r.IntN(3))
		}
		top := end + 3
		switch r.IntN(3) {
		case 1:
			cut := base + uint64(r.IntN(int(top-base)))
			m.TrimBelow(cut)
			for q := range o {
				if q < cut {
					delete(o, q)
				}
			}
			base = cut
		case 2:
			cut := base + uint64(r.IntN(int(top-base)))
			m.TruncateAbove(cut)
			for q := range o {
				if q > cut {
					delete(o, q)
				}
			}
		}
		var skipped uint64
		for range o {
			skipped++
		}
		if m.Skipped() != skipped {
			t.Fatalf("round %d: Skipped %d, want %d", round, m.Skipped(), skipped)
		}
		for q := base; q <= top; q++ {
			if m.In(q) != o[q] {
				t.Fatalf("round %d: In(%d) = %v", round, q, m.In(q))
			}
			if c := m.Count(base, q); c != o.count(base, q) {
				t.Fatalf("round %d: Count(%d, %d) = %d, want %d", round, base, q, c, o.count(base, q))
			}
			pos, ok := m.Pos(base, q)
			if ok == o[q] {
				t.Fatalf("round %d: Pos(%d) ok %v", round, q, ok)
			}
			if ok {
				if pos != o.count(base, q) {
					t.Fatalf("round %d: Pos(%d) = %d", round, q, pos)
				}
				if s := m.Seq(base, pos); s != q {
					t.Fatalf("round %d: Seq(%d) = %d, want %d", round, pos, s, q)
				}
			}
			next, prev := q, q
			for o[next] {
				next++
			}
			for o[prev] {
				prev--
			}
			if m.Next(q) != next || m.Prev(q) != prev {
				t.Fatalf("round %d: Next/Prev(%d) = %d/%d, want %d/%d", round, q, m.Next(q), m.Prev(q), next, prev)
			}
		}
	}
}
