package filestore

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

const syscallENOSPC = syscall.ENOSPC

// flushLoop is the flusher goroutine: it writes what StoreMsg appended to
// the blocks' memory and, in group commit mode, fsyncs it at once. Writers
// that arrive while an fsync runs are covered by the next one, so under
// load one fsync serves many messages.
func (s *Store) flushLoop() {
	defer s.wg.Done()
	var writeTick, syncTick <-chan time.Time
	if s.cfg.SyncInterval > 0 {
		wt := time.NewTicker(asyncWriteEvery)
		st := time.NewTicker(s.cfg.SyncInterval)
		defer wt.Stop()
		defer st.Stop()
		writeTick, syncTick = wt.C, st.C
	}
	for {
		doSync := s.cfg.SyncInterval == 0
		select {
		case <-s.quit:
			return
		case <-s.flushCh:
		case <-writeTick:
		case <-syncTick:
			doSync = true
		}
		if s.flush(doSync) != nil {
			continue
		}
		s.maintain()
	}
}

type flushJob struct {
	b      *block
	f      File
	off    int64
	data   []byte
	create bool
}

// flush writes every block's unwritten bytes and, if doSync, fsyncs them
// and advances the durable sequence.
func (s *Store) flush(doSync bool) error {
	s.ioMu.Lock()
	defer s.ioMu.Unlock()
	return s.flushIO(doSync)
}

// flushIO is flush with ioMu held.
func (s *Store) flushIO(doSync bool) error {
	s.mu.Lock()
	if s.werr != nil {
		err := s.werr
		s.mu.Unlock()
		return err
	}
	if len(s.blks) > 0 {
		// The active block carries a marker at the current first sequence so
		// that removals of the oldest messages need no tombstones. An
		// emptied store with LastSeq 0 (Truncate(0)) carries one at 1:
		// without it the blocks would read as a store that never held a
		// message (FirstSeq 0, not 1).
		if act := s.active(); act.marker < s.first && (s.first > s.blks[0].base || s.last == 0) {
			act.cache = appendRecord(act.cache, s.first, 0, 0, flagMarker, "", nil, nil)
			act.size = int64(len(act.cache))
			act.marker = s.first
			s.markDirtyLocked(act)
		}
	}
	target := s.last
	jobs := make([]flushJob, 0, len(s.dirtyBlks))
	for _, b := range s.dirtyBlks {
		b.dirty = false
		if int64(len(b.cache)) > b.flushed {
			jobs = append(jobs, flushJob{b: b, f: b.f, off: b.flushed, data: b.cache[b.flushed:], create: b.f == nil})
		}
	}
	clear(s.dirtyBlks)
	s.dirtyBlks = s.dirtyBlks[:0]
	s.pending = 0
	// What earlier flushes wrote without an fsync (SyncInterval's write
	// ticks): sealed blocks included, the sync below must cover it before
	// the durable mark may move. Blocks only change files under ioMu,
	// which this flush holds, so the list stays valid.
	var unsynced []*block
	if doSync {
		for _, b := range s.unsyncedBlks {
			// Deleted blocks have no file; rewritten ones were synced.
			if b.unsynced && b.f != nil && !b.inJobs(jobs) {
				unsynced = append(unsynced, b)
			}
		}
	}
	if len(jobs) == 0 && len(unsynced) == 0 && (!doSync || !s.dirUnsynced && s.durable.Load() >= target) {
		s.mu.Unlock()
		return nil
	}
	dirSync := doSync && s.dirUnsynced
	s.mu.Unlock()

	var err error
	created := false
	for i := range jobs {
		j := &jobs[i]
		if j.create {
			j.f, err = s.fs.OpenFile(s.blockPath(j.b.id), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
			if err != nil {
				break
			}
			created = true
		}
		if _, err = j.f.WriteAt(j.data, j.off); err != nil {
			break
		}
	}
	if err == nil && doSync {
		for i := range jobs {
			if err = jobs[i].f.Sync(); err != nil {
				break
			}
		}
		for _, b := range unsynced {
			if err != nil {
				break
			}
			err = b.f.Sync()
		}
		// A block's entry in msgs/ must be durable before anything in it
		// is reported durable.
		if err == nil && (created || dirSync) {
			err = syncDir(s.fs, s.msgDir)
		}
	}

	s.mu.Lock()
	for i := range jobs {
		j := &jobs[i]
		if j.create && j.f != nil {
			j.b.f = j.f
		}
	}
	if created && !doSync {
		s.dirUnsynced = true
	}
	if err != nil {
		s.mu.Unlock()
		return s.fail(err)
	}
	for i := range jobs {
		j := &jobs[i]
		j.b.flushed = j.off + int64(len(j.data))
		if !doSync && !j.b.unsynced {
			s.unsyncedBlks = append(s.unsyncedBlks, j.b)
		}
		j.b.unsynced = !doSync
	}
	if doSync {
		for _, b := range s.unsyncedBlks {
			b.unsynced = false
		}
		clear(s.unsyncedBlks)
		s.unsyncedBlks = s.unsyncedBlks[:0]
		s.dirUnsynced = false
	}
	s.evictLocked(nil)
	var cb func(uint64)
	if doSync && target > s.durable.Load() {
		s.durable.Store(target)
		close(s.durCh)
		s.durCh = make(chan struct{})
		if target > s.reported {
			s.reported = target
			cb = s.scfg.OnDurable
		}
	}
	s.mu.Unlock()
	if cb != nil {
		cb(target)
	}
	return nil
}

// inJobs reports whether b is written by one of jobs.
func (b *block) inJobs(jobs []flushJob) bool {
	for i := range jobs {
		if jobs[i].b == b {
			return true
		}
	}
	return false
}

// maintain deletes sealed blocks without live messages and rewrites sealed
// blocks that are mostly dead. It runs on the flusher after a flush.
func (s *Store) maintain() {
	if !s.snapMu.TryLock() {
		return // a snapshot is reading the blocks; try after the next flush
	}
	defer s.snapMu.Unlock()
	s.ioMu.Lock()
	defer s.ioMu.Unlock()
	s.mu.Lock()
	if !s.needMaint || s.werr != nil {
		s.mu.Unlock()
		return
	}
	s.needMaint = false
	s.mu.Unlock()
	// Deletions and rewrites fsync msgs/, which would make the entries of
	// blocks created since the last sync durable before their data (with
	// SyncInterval): a power loss would then find them empty. Sync first.
	if err := s.flushIO(true); err != nil {
		return
	}
	if err := s.dropEmptyIO(); err != nil {
		return
	}
	done := make(map[*block]bool)
	for {
		s.mu.Lock()
		var victim *block
		for _, b := range s.blks[:len(s.blks)-1] {
			if !done[b] && b.mostlyDead() && !b.dirty {
				victim = b
				break
			}
		}
		s.mu.Unlock()
		if victim == nil || s.rewriteIO(victim, false, nil) != nil {
			return
		}
		done[victim] = true
	}
}

// dropEmptyIO deletes the sealed blocks that hold no live message. Their
// tombstones that still matter are first copied to the active block and
// made durable. Called with ioMu held.
func (s *Store) dropEmptyIO() error {
	s.mu.Lock()
	var drop []*block
	for _, b := range s.blks[:len(s.blks)-1] {
		if b.msgs == 0 {
			drop = append(drop, b)
		}
	}
	if len(drop) == 0 {
		s.mu.Unlock()
		return nil
	}
	dropped := make(map[*block]bool, len(drop))
	for _, b := range drop {
		dropped[b] = true
	}
	// The markers of dropped blocks must live on in the active block, and
	// the tombstones they hold for older blocks must be copied forward,
	// before the files go.
	carried := false
	for _, b := range drop {
		if b.marker > s.active().marker {
			carried = true
		}
		for _, t := range b.tombs {
			if s.tombNeeded(t, dropped) {
				s.appendTombLocked(t)
				carried = true
			}
		}
	}
	s.mu.Unlock()
	if carried {
		if err := s.flushIO(true); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.removeBlocksLocked(dropped)
	s.checkLocked("dropEmpty")
	s.mu.Unlock()
	for _, b := range drop {
		if b.f != nil {
			b.f.Close()
			b.f = nil
		}
		if err := s.fs.Remove(s.blockPath(b.id)); err != nil && !os.IsNotExist(err) {
			return s.fail(err)
		}
	}
	// The removals must hold before a later rewrite drops tombstones that
	// only mattered while these blocks existed.
	if err := syncDir(s.fs, s.msgDir); err != nil {
		return s.fail(err)
	}
	s.mu.Lock()
	s.dirUnsynced = false
	s.mu.Unlock()
	return nil
}

// tombNeeded reports whether a tombstone for t must be kept: t's record is
// still on disk in a block that is not going away.
func (s *Store) tombNeeded(t uint64, gone map[*block]bool) bool {
	sl := s.slot(t)
	if sl == nil || sl.subj != nil || sl.recLen() == 0 || t < s.first {
		return false
	}
	b := s.blockOf(t)
	return b != nil && !gone[b]
}

// removeBlocksLocked takes blocks out of the index; their slots lose their
// on-disk record and the slot array is trimmed to the first remaining block.
func (s *Store) removeBlocksLocked(gone map[*block]bool) {
	keep := s.blks[:0]
	act := s.blks[len(s.blks)-1]
	for _, b := range s.blks {
		if !gone[b] {
			keep = append(keep, b)
			continue
		}
		sls := s.slotsIn(b.base, b.last)
		for i := range sls {
			sls[i].rlen = 0
		}
		if b.cache != nil && b != act {
			s.cached -= b.size
		}
		b.cache = nil
		if s.lastBlk == b {
			s.lastBlk = nil
		}
	}
	clear(s.blks[len(keep):])
	s.blks = keep
	if len(s.blks) > 0 {
		s.trimSlotsLocked()
	}
}

// trimSlotsLocked drops slots below the first block.
func (s *Store) trimSlotsLocked() {
	nb := s.blks[0].base
	if nb <= s.sbase {
		return
	}
	d := s.pos(nb)
	if d >= uint64(len(s.slots)) {
		s.slots = s.slots[:0]
	} else {
		s.slots = append(make([]slot, 0, len(s.slots)-int(d)+1024), s.slots[d:]...)
	}
	s.gaps.TrimBelow(nb)
	s.sbase = nb
}

// rewriteIO rewrites block b into a new file that keeps its live messages
// , the tombstones that still matter and its marker, then
// renames it over the old file; extraTombs are tombstones to add. Called
// with ioMu held, and with mu too if locked.
func (s *Store) rewriteIO(b *block, locked bool, extraTombs []uint64) error {
	lock, unlock := s.mu.Lock, s.mu.Unlock
	if locked {
		lock, unlock = func() {}, func() {}
	}
	lock()
	if b.cache == nil {
		if err := s.loadCacheLocked(b); err != nil {
			unlock()
			return err
		}
	}
	old := b.cache
	nb := appendBlockHeader(make([]byte, 0, blkHdrSize+b.liveRec+1024), b.base, b.baseTime)
	type move struct {
		seq  uint64
		off  uint32
		rlen uint32 // the slot's length and flags, which moving keeps
	}
	var moves []move
	var tombs []uint64
	var marker, skip uint64
	var skipTS int64
	var r record
	isActive := b == s.active()
	for off := blkHdrSize; off < len(old); {
		if err := decodeRecord(old[off:], &r); err != nil {
			unlock()
			return fmt.Errorf("filestore: rewrite block %d offset %d: %w", b.id, off, err)
		}
		raw := old[off : off+r.size]
		switch {
		case r.flags&flagMarker != 0:
			marker = max(marker, r.seq)
		case r.flags&flagSkip != 0:
			if r.seq >= skip {
				skip, skipTS = r.seq, r.ts
			}
		case r.flags&flagTombstone != 0:
			if r.seq < b.base && s.tombNeeded(r.seq, nil) {
				tombs = append(tombs, r.seq)
				nb = append(nb, raw...)
			}
		default:
			sl := s.slot(r.seq)
			if sl != nil && sl.subj != nil && int(sl.off) == off && r.flags&flagErased == 0 {
				moves = append(moves, move{r.seq, uint32(len(nb)), sl.rlen})
				nb = append(nb, raw...)
			}
		}
		off += r.size
	}
	for _, t := range extraTombs {
		tombs = append(tombs, t)
		nb = appendRecord(nb, t, 0, 0, flagTombstone, "", nil, nil)
	}
	marker = min(marker, s.last+1) // Truncate may have lowered LastSeq
	if marker != 0 {
		nb = appendRecord(nb, marker, 0, 0, flagMarker, "", nil, nil)
	}
	// The highest skip record keeps LastSeq where SkipMsgs put it, in case
	// no later block's base covers it any more.
	skip = min(skip, s.last)
	if skip != 0 {
		nb = appendRecord(nb, skip, skipTS, 0, flagSkip, "", nil, nil)
	}
	unlock()

	path := s.blockPath(b.id)
	tmp := path + ".tmp"
	f, err := s.fs.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return s.failMaybeLocked(err, locked)
	}
	if _, err = f.WriteAt(nb, 0); err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = s.fs.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(s.fs, s.msgDir)
	}
	if err != nil {
		f.Close()
		s.fs.Remove(tmp)
		return s.failMaybeLocked(err, locked)
	}

	lock()
	defer unlock()
	// Records that did not move are gone from disk.
	sls := s.slotsIn(b.base, b.last)
	for i := range sls {
		sls[i].rlen &= exemptBit | sealedBit
	}
	var live, saved int64
	for _, m := range moves {
		sl := s.slot(m.seq)
		sl.off = m.off
		sl.rlen = m.rlen
		full := int64(sl.recLen())
		saved += full - int64(le32(nb[m.off:]))
		if sl.subj != nil {
			live += full
		}
	}
	if b.f != nil {
		b.f.Close()
	}
	b.f = f
	if !isActive && old != nil {
		s.cached -= b.size
	}
	b.cache = nb
	b.size = int64(len(nb))
	b.flushed = b.size
	b.unsynced = false // the new file was fsynced before the rename
	s.dirUnsynced = false
	b.liveRec = live
	b.saved = saved
	b.tombs = tombs
	b.marker = marker
	b.skip = skip
	if !isActive {
		s.cached += b.size
		s.evictLocked(nil)
	}
	s.checkLocked("rewrite")
	return nil
}

func (s *Store) failMaybeLocked(err error, locked bool) error {
	if locked {
		return s.failLocked(err)
	}
	return s.fail(err)
}
