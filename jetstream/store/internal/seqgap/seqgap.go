// Package seqgap lets a store index its sequences in a dense array while
// leaving out long runs of sequences that hold nothing (ranges skipped by
// StreamStore.SkipMsgs, or a snapshot's holes), so that such a run costs
// one entry whatever its length.
//
// A store keeps an array of per-sequence entries ("positions") and a base,
// the sequence of position 0 unless base itself lies in a gap. Every
// sequence from base on has a position, except those in a gap:
//
//	Count(base, seq) = seq - base - (sequences in gaps below seq)
//
// is both the position of seq (when seq is in no gap) and the number of
// positions that hold sequences below seq. A Gaps with no gap costs a
// length check per call, so stores call it only when !Empty().
package seqgap

import "sort"

// Gaps is an ascending list of disjoint, non-adjacent ranges of skipped
// sequences. The zero value holds none.
type Gaps struct {
	g []gap
}

type gap struct {
	lo, hi uint64 // the skipped sequences lo..hi
	cum    uint64 // sequences skipped by this gap and every earlier one
}

// Empty reports whether there is no gap.
func (m *Gaps) Empty() bool { return len(m.g) == 0 }

// Len returns the number of gaps.
func (m *Gaps) Len() int { return len(m.g) }

// Skipped returns the number of sequences in all gaps.
func (m *Gaps) Skipped() uint64 {
	if len(m.g) == 0 {
		return 0
	}
	return m.g[len(m.g)-1].cum
}

// find returns the index of the last gap with lo <= seq, or -1.
func (m *Gaps) find(seq uint64) int {
	n := len(m.g)
	if n == 0 || seq < m.g[0].lo {
		return -1
	}
	if seq >= m.g[n-1].lo {
		return n - 1
	}
	return sort.Search(n, func(i int) bool { return m.g[i].lo > seq }) - 1
}

// In reports whether seq lies in a gap.
func (m *Gaps) In(seq uint64) bool {
	i := m.find(seq)
	return i >= 0 && seq <= m.g[i].hi
}

// below returns the number of skipped sequences lower than seq.
func (m *Gaps) below(seq uint64) uint64 {
	i := m.find(seq)
	if i < 0 {
		return 0
	}
	g := &m.g[i]
	if seq <= g.hi {
		return g.cum - (g.hi - seq + 1)
	}
	return g.cum
}

// Count returns the number of positions holding sequences in [base, seq):
// the position of seq when seq is in no gap. seq must be >= base.
func (m *Gaps) Count(base, seq uint64) uint64 {
	return seq - base - m.below(seq)
}

// Pos returns the position of seq, or false if seq lies in a gap. seq must
// be >= base.
func (m *Gaps) Pos(base, seq uint64) (uint64, bool) {
	i := m.find(seq)
	if i < 0 {
		return seq - base, true
	}
	g := &m.g[i]
	if seq <= g.hi {
		return 0, false
	}
	return seq - base - g.cum, true
}

// Seq returns the sequence at position pos, the inverse of Pos.
func (m *Gaps) Seq(base, pos uint64) uint64 {
	// Gap i sits just before position lo_i - base - (cum_i - len_i).
	i := sort.Search(len(m.g), func(i int) bool {
		g := &m.g[i]
		return g.lo-base-(g.cum-(g.hi-g.lo+1)) > pos
	}) - 1
	if i < 0 {
		return base + pos
	}
	return base + pos + m.g[i].cum
}

// Next returns seq, or the sequence after the gap holding seq.
func (m *Gaps) Next(seq uint64) uint64 {
	if i := m.find(seq); i >= 0 && seq <= m.g[i].hi {
		return m.g[i].hi + 1
	}
	return seq
}

// Prev returns seq, or the sequence before the gap holding seq.
func (m *Gaps) Prev(seq uint64) uint64 {
	if i := m.find(seq); i >= 0 && seq <= m.g[i].hi {
		return m.g[i].lo - 1
	}
	return seq
}

// Add appends the gap lo..hi (lo <= hi), which must lie above every gap; a
// gap that touches the last one extends it.
func (m *Gaps) Add(lo, hi uint64) {
	if n := len(m.g); n > 0 {
		last := &m.g[n-1]
		if lo <= last.hi {
			panic("seqgap: gap added below the last one")
		}
		if lo == last.hi+1 {
			last.cum += hi - last.hi
			last.hi = hi
			return
		}
	}
	m.g = append(m.g, gap{lo: lo, hi: hi, cum: m.Skipped() + hi - lo + 1})
}

// TrimBelow forgets the skipped sequences below seq. With the new base
// seq, the positions of later sequences drop by Count(oldBase, seq).
func (m *Gaps) TrimBelow(seq uint64) {
	i := 0
	for i < len(m.g) && m.g[i].hi < seq {
		i++
	}
	if i == 0 && (len(m.g) == 0 || m.g[0].lo >= seq) {
		return
	}
	m.g = append(m.g[:0], m.g[i:]...)
	if len(m.g) > 0 && m.g[0].lo < seq {
		m.g[0].lo = seq
	}
	m.recount()
}

// TruncateAbove forgets the skipped sequences above seq.
func (m *Gaps) TruncateAbove(seq uint64) {
	n := len(m.g)
	for n > 0 && m.g[n-1].lo > seq {
		n--
	}
	if n == len(m.g) && (n == 0 || m.g[n-1].hi <= seq) {
		return
	}
	clear(m.g[n:])
	m.g = m.g[:n]
	if n > 0 && m.g[n-1].hi > seq {
		m.g[n-1].hi = seq
	}
	m.recount()
}

// Reset forgets every gap.
func (m *Gaps) Reset() { m.g = m.g[:0:0] }

func (m *Gaps) recount() {
	var c uint64
	for i := range m.g {
		c += m.g[i].hi - m.g[i].lo + 1
		m.g[i].cum = c
	}
}
