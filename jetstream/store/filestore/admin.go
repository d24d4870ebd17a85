package filestore

import (
	"os"
	"slices"

	"natsd.dev/jetstream/store"
)

// The administrative operations below take ioMu, change the index under mu
// and then make their effect durable before they return: markers and
// tombstones are flushed with an fsync and emptied blocks are deleted.

// adminDone finishes an administrative operation: with ioMu held and mu
// not held, it makes the changes durable and drops emptied blocks.
func (s *Store) adminDone() error {
	if err := s.flushIO(true); err != nil {
		return err
	}
	return s.dropEmptyIO()
}

// adminLock takes snapMu, ioMu and mu; on success the caller unlocks mu
// and calls adminUnlock.
func (s *Store) adminLock() error {
	s.snapMu.Lock()
	s.ioMu.Lock()
	s.mu.Lock()
	err := s.werr
	if s.closed {
		err = store.ErrStoreClosed
	}
	if err != nil {
		s.mu.Unlock()
		s.adminUnlock()
	}
	return err
}

func (s *Store) adminUnlock() {
	s.ioMu.Unlock()
	s.snapMu.Unlock()
}

// Purge implements store.StreamStore.
func (s *Store) Purge(req store.PurgeRequest) (uint64, error) {
	if req.Seq != 0 && req.Keep != 0 {
		return 0, store.ErrInvalidPurge
	}
	kind, err := classify(req.Filter)
	if err != nil {
		return 0, err
	}
	if err := s.adminLock(); err != nil {
		return 0, err
	}
	defer s.adminUnlock()
	var n uint64
	if kind == filterAll {
		switch {
		case req.Seq != 0:
			n = s.compactLocked(req.Seq)
		case req.Keep != 0:
			if s.msgs > req.Keep {
				q := s.last
				for kept := uint64(1); ; kept++ {
					q = s.prevLive(q)
					if kept == req.Keep {
						break
					}
					q--
				}
				n = s.compactLocked(q)
			}
		default:
			n = s.purgeAllLocked()
		}
	} else {
		var subs []*psi
		if kind == filterLiteral {
			if p := s.subjects[req.Filter]; p != nil {
				subs = append(subs, p)
			}
		} else {
			for _, p := range s.subjects {
				if matchPSI(p, req.Filter) {
					subs = append(subs, p)
				}
			}
		}
		var seqs []uint64
		for _, p := range subs {
			for _, q := range p.seqs[p.head:] {
				if sl := s.slot(q); (req.Seq == 0 || q < req.Seq) && sl != nil && sl.subj == p {
					seqs = append(seqs, q)
				}
			}
		}
		if req.Keep != 0 {
			if uint64(len(seqs)) <= req.Keep {
				seqs = nil
			} else {
				if len(subs) > 1 {
					slices.Sort(seqs)
				}
				seqs = seqs[:uint64(len(seqs))-req.Keep]
			}
		} else if len(subs) > 1 {
			slices.Sort(seqs)
		}
		for _, q := range seqs {
			s.removeLocked(q, 0, true)
		}
		n = uint64(len(seqs))
	}
	s.checkLocked("Purge")
	s.mu.Unlock()
	if n == 0 {
		return 0, nil
	}
	return n, s.adminDone()
}

// purgeAllLocked removes every message. A new active block starts at
// LastSeq+1 so that every old block can go.
func (s *Store) purgeAllLocked() uint64 {
	if s.last == 0 && s.first == 0 {
		return 0
	}
	n := s.msgs
	for s.msgs > 0 {
		s.removeLocked(s.first, 0, false)
	}
	s.first = s.last + 1
	s.resetSlotsLocked(s.last + 1)
	return n
}

// resetSlotsLocked empties the index of an empty store and starts a fresh
// active block at base; the old blocks hold nothing live and go.
func (s *Store) resetSlotsLocked(base uint64) {
	s.slots = s.slots[:0:0]
	s.sbase = base
	s.gaps.Reset()
	s.ttls = nil
	s.ageSeq = base
	s.lastBlk = nil
	s.rollLocked(base)
	s.needMaint = true
}

// Compact implements store.StreamStore.
func (s *Store) Compact(seq uint64) (uint64, error) {
	if err := s.adminLock(); err != nil {
		return 0, err
	}
	defer s.adminUnlock()
	last := s.last
	n := s.compactLocked(seq)
	changed := n > 0 || s.last != last
	s.checkLocked("Compact")
	s.mu.Unlock()
	if !changed {
		return 0, nil
	}
	return n, s.adminDone()
}

func (s *Store) compactLocked(seq uint64) uint64 {
	if seq <= 1 || (s.msgs > 0 && seq <= s.first) {
		return 0
	}
	if seq > s.last {
		if s.msgs == 0 && seq == s.last+1 {
			return 0
		}
		n := s.msgs
		for s.msgs > 0 {
			s.removeLocked(s.first, 0, false)
		}
		s.first, s.last, s.lastTime = seq, seq-1, 0
		s.resetSlotsLocked(seq)
		return n
	}
	var n uint64
	for s.msgs > 0 && s.first < seq {
		s.removeLocked(s.first, 0, false)
		n++
	}
	if s.msgs == 0 {
		s.first = s.last + 1
	}
	return n
}

// Truncate implements store.StreamStore. The block holding seq is
// rewritten without the later records, later blocks are deleted, and a new
// block starting at seq+1 records the new LastSeq and LastTime.
func (s *Store) Truncate(seq uint64) error {
	if err := s.adminLock(); err != nil {
		return err
	}
	defer s.adminUnlock()
	s.mu.Unlock()
	if err := s.flushIO(true); err != nil {
		return err
	}
	s.mu.Lock()
	if seq >= s.last {
		s.mu.Unlock()
		return nil
	}
	for q := s.last; s.msgs > 0; q-- {
		if q = s.prevLive(q); q <= seq {
			break
		}
		s.removeLocked(q, 0, false)
	}
	// Forget the sequences above seq.
	if seq < s.sbase {
		s.slots = s.slots[:0]
		s.sbase = seq + 1
		s.gaps.Reset()
	} else {
		if n := s.pos(seq + 1); n < uint64(len(s.slots)) {
			clear(s.slots[n:])
			s.slots = s.slots[:n]
		}
		s.gaps.TruncateAbove(seq)
	}
	s.last = seq
	s.lastTime = 0
	if q := s.lastMatchLocked(filterAll, ""); q != 0 {
		s.lastTime = s.slot(q).ts
	}
	if s.msgs == 0 {
		s.first = seq + 1
	}
	for _, p := range s.subjects {
		for len(p.seqs) > p.head && p.seqs[len(p.seqs)-1] > seq {
			p.seqs = p.seqs[:len(p.seqs)-1]
			p.dead--
		}
	}
	s.ttls = slices.DeleteFunc(s.ttls, func(e ttlEntry) bool { return e.seq > seq })
	s.ttls = rebuildHeap(s.ttls)
	s.ageSeq = min(s.ageSeq, seq+1)
	if s.durable.Load() > seq {
		s.durable.Store(seq)
	}
	s.reported = min(s.reported, seq)

	drop := make(map[*block]bool)
	var keepBlk *block
	for _, b := range s.blks {
		if b.base > seq {
			drop[b] = true
		} else {
			keepBlk = b
		}
	}
	// Tombstones in the dropped blocks for records of older blocks move
	// into the rewritten block, so that the rewrite (an atomic rename) is
	// the only step that needs to survive for the removals to hold.
	var carry []uint64
	for b := range drop {
		for _, t := range b.tombs {
			if keepBlk != nil && t < keepBlk.base && s.tombNeeded(t, drop) {
				carry = append(carry, t)
			}
		}
	}
	if keepBlk != nil {
		keepBlk.last = min(keepBlk.last, seq)
		if err := s.rewriteIO(keepBlk, true, carry); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	s.removeBlocksLocked(drop)
	// Delete the dropped blocks durably before a block with a lower base
	// sequence follows them in the directory.
	for b := range drop {
		if b.f != nil {
			b.f.Close()
			b.f = nil
		}
		if err := s.fs.Remove(s.blockPath(b.id)); err != nil && !os.IsNotExist(err) {
			s.mu.Unlock()
			return s.fail(err)
		}
	}
	if len(drop) > 0 {
		if err := syncDir(s.fs, s.msgDir); err != nil {
			s.mu.Unlock()
			return s.fail(err)
		}
	}
	if len(s.blks) == 0 {
		s.newBlockLocked(seq + 1)
	} else {
		s.rollLocked(seq + 1)
	}
	s.checkLocked("Truncate")
	s.mu.Unlock()
	return s.flushIO(true)
}

func rebuildHeap(h ttlHeap) ttlHeap {
	var out ttlHeap
	for _, e := range h {
		out.push(e)
	}
	return out
}

// SkipMsgs implements store.StreamStore. The skip is one record in the
// active block (flag skip, at the new LastSeq, carrying LastTime); the
// index keeps the range as one gap once a message follows it. The record
// is written and fsynced before SkipMsgs returns, which moves DurableSeq
// (and calls OnDurable) to the new LastSeq. Unlike the operations above it
// does not wait for a running Snapshot.
func (s *Store) SkipMsgs(seq, n uint64) error {
	s.ioMu.Lock()
	defer s.ioMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return store.ErrStoreClosed
	}
	if n == 0 {
		s.mu.Unlock()
		return nil
	}
	if s.werr != nil {
		err := s.werr
		s.mu.Unlock()
		return err
	}
	if seq != s.last+1 || n > 1<<63-seq {
		s.mu.Unlock()
		return store.ErrSequenceMismatch
	}
	last := seq + n - 1
	b := s.active()
	b.cache = appendRecord(b.cache, last, s.lastTime, 0, flagSkip, "", nil, nil)
	b.size = int64(len(b.cache))
	b.skip = last
	s.markDirtyLocked(b)
	if s.msgs == 0 {
		// Nothing is held: the index restarts after the range, as after
		// Compact; the flush below writes a marker at the new FirstSeq.
		s.slots = s.slots[:0]
		s.sbase = last + 1
		s.gaps.Reset()
		s.ttls = nil
		s.ageSeq = last + 1
		s.first = last + 1
	}
	s.last = last
	s.checkLocked("SkipMsgs")
	s.mu.Unlock()
	return s.flushIO(true)
}
