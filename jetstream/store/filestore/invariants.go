package filestore

import "fmt"

// debugChecks turns on expensive invariant checks after every mutation
// (for tests while developing; a panic means a broken invariant).
const debugChecks = false

// checkLocked verifies the index against the blocks.
func (s *Store) checkLocked(op string) {
	if !debugChecks {
		return
	}
	var r record
	var msgs uint64
	if end := s.idxEnd(); end > s.last+1 {
		panic(fmt.Sprintf("%s: index ends at %d past LastSeq %d", op, end, s.last))
	}
	for i := range s.slots {
		q := s.seqAt(uint64(i))
		sl := s.slot(q)
		if sl != &s.slots[i] {
			panic(fmt.Sprintf("%s: position %d (seq %d) does not map back", op, i, q))
		}
		if sl.subj == nil {
			continue
		}
		msgs++
		b := s.blockOf(q)
		if b == nil {
			panic(fmt.Sprintf("%s: seq %d has no block", op, q))
		}
		if b.cache == nil {
			continue
		}
		if int(sl.off) >= len(b.cache) {
			panic(fmt.Sprintf("%s: seq %d off %d len %d past block %d (base %d last %d) size %d", op, q, sl.off, sl.recLen(), b.id, b.base, b.last, len(b.cache)))
		}
		if err := decodeRecord(b.cache[sl.off:], &r); err != nil || r.seq != q || r.full != int(sl.recLen()) {
			panic(fmt.Sprintf("%s: seq %d in block %d: %v (seq %d, length %d, slot %d)", op, q, b.id, err, r.seq, r.full, sl.recLen()))
		}
	}
	if msgs != s.msgs {
		panic(fmt.Sprintf("%s: %d live slots, msgs %d", op, msgs, s.msgs))
	}
}
