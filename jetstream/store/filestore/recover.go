package filestore

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"natsd.dev/jetstream/store"
)

// RecoveryReport tells what Open found in the directory.
type RecoveryReport struct {
	Blocks   int           // block files read
	Msgs     uint64        // messages recovered
	Duration time.Duration // time spent reading and indexing
	// TornBytes counts bytes dropped from the end of blocks: records whose
	// write was cut short by a crash. They were never reported durable.
	TornBytes int64
	// Errors lists damage found in the middle of the data (bad checksums,
	// bad headers); every error wraps store.ErrCorrupt.
	Errors []error
	// LostMsgs lists the sequences of damaged message records that were
	// dropped, as far as they could be told; LostBytes counts every byte
	// dropped because of damage (not torn tails).
	LostMsgs  []uint64
	LostBytes int64
}

// Err returns the report's errors joined, or nil.
func (r RecoveryReport) Err() error { return errors.Join(r.Errors...) }

// RecoveryReport returns what Open found and repaired.
func (s *Store) RecoveryReport() RecoveryReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.report
	r.Errors = append([]error(nil), r.Errors...)
	r.LostMsgs = append([]uint64(nil), r.LostMsgs...)
	return r
}

// parseBlockName returns the id of a block file name.
func parseBlockName(name string) (uint64, bool) {
	num, ok := strings.CutSuffix(name, ".blk")
	if !ok || len(num) == 0 {
		return 0, false
	}
	id, err := strconv.ParseUint(num, 10, 64)
	return id, err == nil
}

// recover rebuilds the in-memory state from the block files.
func (s *Store) recover() error {
	start := time.Now()
	ents, err := s.fs.ReadDir(s.msgDir)
	if err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	var ids []uint64
	var total int64
	for _, e := range ents {
		if fi, err := e.Info(); err == nil {
			total += fi.Size()
		}
		name := e.Name()
		if strings.HasSuffix(name, ".tmp") {
			// An interrupted rewrite; the original is intact.
			s.fs.Remove(s.msgDir + string(os.PathSeparator) + name)
			continue
		}
		if id, ok := parseBlockName(name); ok {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })

	var (
		tombs     []uint64
		maxMarker uint64
		maxSkip   uint64 // highest skip record, and its LastTime
		maxSkipTS int64
		lastRec   uint64
		lastRecTS int64
		lastData  []byte
		r         record
	)
	// gap: a block was set aside, or lost its tail in the middle of the
	// stream; the sequences from gapFrom up to the next kept block's base
	// are lost (unless listed already).
	var (
		gap     bool
		gapFrom uint64
		gapWhy  string
		listed  = map[uint64]bool{}
	)
	closeGap := func(base uint64) {
		if !gap {
			return
		}
		gap = false
		if gapFrom == 0 || base <= gapFrom {
			return
		}
		if base-gapFrom > maxLostGap {
			s.report.Errors = append(s.report.Errors, fmt.Errorf("filestore: %s: sequences %d to %d lost: %w", gapWhy, gapFrom, base-1, store.ErrCorrupt))
			s.addLost(0, 0)
			return
		}
		n := 0
		for q := gapFrom; q < base; q++ {
			if !listed[q] {
				listed[q] = true
				s.report.LostMsgs = append(s.report.LostMsgs, q)
				s.addLost(q, 0)
				n++
			}
		}
		if n > 0 && gapWhy != "" {
			s.report.Errors = append(s.report.Errors, fmt.Errorf("filestore: %s: %d messages lost: %w", gapWhy, n, store.ErrCorrupt))
		}
	}
	s.sbase = 1
	// Records take at least 41 bytes; size the index for small messages.
	s.slots = make([]slot, 0, total/64+16)
	for i, id := range ids {
		isLast := i == len(ids)-1
		path := s.blockPath(id)
		s.nextID = id + 1
		data, err := readFile(s.fs, path)
		if err != nil {
			return fmt.Errorf("filestore: %w", err)
		}
		s.report.Blocks++
		base, btime, herr := parseBlockHeader(data)
		if herr == nil && len(s.blks) > 0 && base <= s.active().last {
			herr = fmt.Errorf("filestore: base sequence %d below previous block: %w", base, store.ErrCorrupt)
		}
		if herr != nil {
			if isLast && len(data) < blkHdrSize {
				// Created but its header never made it to disk.
				s.report.TornBytes += int64(len(data))
				if err := s.fs.Remove(path); err != nil {
					return fmt.Errorf("filestore: %w", err)
				}
				continue
			}
			s.report.Errors = append(s.report.Errors, fmt.Errorf("filestore: block %d: %w", id, herr))
			s.report.LostBytes += int64(len(data))
			// What it held is lost: the message records still readable in
			// it, and the sequences up to the next good block.
			for _, q := range lostRecords(data) {
				if !listed[q] {
					listed[q] = true
					s.report.LostMsgs = append(s.report.LostMsgs, q)
					s.addLost(q, 0)
				}
			}
			if !gap {
				gap, gapWhy = true, ""
				gapFrom = 0
				if len(s.blks) > 0 {
					gapFrom = max(s.active().last, s.active().skip) + 1
				}
			}
			if err := s.fs.Rename(path, path+".corrupt"); err != nil {
				return fmt.Errorf("filestore: %w", err)
			}
			continue
		}
		f, err := s.fs.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("filestore: %w", err)
		}
		closeGap(base)
		b := &block{id: id, base: base, baseTime: btime, last: base - 1, f: f}
		if len(s.blks) == 0 {
			s.sbase = base
		}
		s.blks = append(s.blks, b)
		end := len(data)
		for off := blkHdrSize; off < len(data); {
			err := decodeRecord(data[off:], &r)
			if err != nil {
				n := 0
				if len(data)-off >= recHdrSize {
					n = int(le32(data[off:]))
				}
				tail := err == errShort || n < recHdrSize || n >= len(data)-off || allZero(data[off:])
				if !tail && validAt(data, off+n) {
					// One damaged record between valid ones: skip it.
					s.report.Errors = append(s.report.Errors, fmt.Errorf("filestore: block %d offset %d: %w", id, off, err))
					s.report.LostBytes += int64(n)
					if q := le64(data[off+recSeqOff:]); q > b.last && q < nextSeq(data, off+n) {
						s.report.LostMsgs = append(s.report.LostMsgs, q)
						s.addLost(q, msgSize(uint32(n)))
					} else {
						s.addLost(0, 0)
					}
					off += n
					continue
				}
				if tail {
					// A write cut short by a crash: never reported durable.
					s.report.TornBytes += int64(len(data) - off)
					if !isLast {
						// Only SyncInterval or a file system that loses
						// data it was not asked to keep gets here: what
						// the next block does not cover is a gap.
						gap, gapWhy = true, fmt.Sprintf("block %d: torn records before block %d", id, ids[i+1])
						gapFrom = 0 // set once the block's last message is known
					}
				} else {
					s.report.Errors = append(s.report.Errors, fmt.Errorf("filestore: block %d offset %d: dropping %d bytes: %w", id, off, len(data)-off, err))
					s.report.LostBytes += int64(len(data) - off)
					s.addLost(0, 0)
				}
				end = off
				break
			}
			switch {
			case r.flags&flagMarker != 0:
				maxMarker = max(maxMarker, r.seq)
				b.marker = max(b.marker, r.seq)
			case r.flags&flagSkip != 0:
				if r.seq >= 1<<63 {
					s.report.Errors = append(s.report.Errors, fmt.Errorf("filestore: block %d offset %d: skip to sequence %d: %w", id, off, r.seq, store.ErrCorrupt))
					s.addLost(0, 0)
					break
				}
				if r.seq >= maxSkip {
					maxSkip, maxSkipTS = r.seq, r.ts
				}
				b.skip = max(b.skip, r.seq)
			case r.flags&flagTombstone != 0:
				tombs = append(tombs, r.seq)
				if r.seq < base {
					b.tombs = append(b.tombs, r.seq)
				}
			default:
				if r.seq <= b.last {
					s.report.Errors = append(s.report.Errors, fmt.Errorf("filestore: block %d offset %d: sequence %d out of order: %w", id, off, r.seq, store.ErrCorrupt))
					s.report.LostBytes += int64(r.size)
					s.addLost(0, 0)
					break
				}
				if r.flags&(flagSealed|flagErased) == flagSealed {
					var uerr error
					if s.dbuf, uerr = unseal(s.aead, data[off:], &r, s.dbuf); uerr != nil {
						return fmt.Errorf("filestore: block %d offset %d: %w", id, off, uerr)
					}
				}
				s.indexRecovered(b, &r, off)
				lastRec, lastRecTS = r.seq, r.ts
			}
			off += r.size
		}
		if end < len(data) {
			if err := f.Truncate(int64(end)); err != nil {
				return fmt.Errorf("filestore: %w", err)
			}
			data = data[:end]
		}
		// A killed process leaves written data that no fsync covered yet;
		// it becomes durable here, before Open reports it durable.
		if err := f.Sync(); err != nil {
			return fmt.Errorf("filestore: %w", err)
		}
		b.size, b.flushed = int64(len(data)), int64(len(data))
		lastData = data
		if gap && gapFrom == 0 {
			gapFrom = max(b.last, b.skip) + 1
		}
	}

	// Sequence bounds.
	last := lastRec
	if n := len(s.blks); n > 0 {
		last = max(last, s.blks[n-1].base-1)
	}
	if maxMarker > 0 {
		last = max(last, maxMarker-1)
	}
	last = max(last, maxSkip)
	s.last = last
	switch {
	case len(s.blks) > 0 && s.active().last < s.active().base && s.active().base-1 == last:
		s.lastTime = s.active().baseTime
	case lastRec == last:
		s.lastTime = lastRecTS
	case maxSkip == last:
		s.lastTime = maxSkipTS
	}
	// The index ends at the last message record: the sequences after it
	// up to last hold nothing.
	s.first = s.sbase
	s.advanceFirstLocked()
	if s.msgs == 0 && last == 0 && maxMarker == 0 {
		s.first = 0 // never held a message; a marker at 1 says emptied
	}
	if len(s.blks) == 0 {
		s.newBlockLocked(last + 1)
	} else {
		act := s.active()
		act.cache = lastData
	}
	// Removals.
	for q := s.first; q < maxMarker && s.msgs > 0; q = s.first {
		s.removeLocked(q, 0, false)
	}
	for _, t := range tombs {
		s.removeLocked(t, 0, false)
	}
	if s.msgs == 0 && last > 0 {
		s.first = last + 1
	}
	// TTLs of the survivors.
	for _, b := range s.blks {
		if b.msgs == 0 && b != s.active() {
			s.needMaint = true
		}
	}
	s.report.Msgs = s.msgs
	s.report.Duration = time.Since(start)
	s.pending = 0
	return nil
}

// maxLostGap bounds the sequences a gap lists in LostMsgs; a larger gap is
// reported as one error.
const maxLostGap = 1 << 20

// lostRecords returns the sequences of the message records readable in a
// block that is set aside, from the first record on until one fails.
func lostRecords(data []byte) []uint64 {
	var out []uint64
	var r record
	for off := blkHdrSize; off < len(data); off += r.size {
		if decodeRecord(data[off:], &r) != nil {
			break
		}
		if r.flags&flagNoBody == 0 {
			out = append(out, r.seq)
		}
	}
	return out
}

// indexRecovered adds a message record found at off in b.
func (s *Store) indexRecovered(b *block, r *record, off int) {
	if s.idxEnd() != r.seq {
		s.padLocked(r.seq)
	}
	rlen := uint32(r.full)
	if r.ttl != 0 {
		rlen |= exemptBit
	}
	if r.flags&flagSealed != 0 {
		rlen |= sealedBit
	}
	sl := slot{off: uint32(off), rlen: rlen, ts: r.ts}
	b.last = r.seq
	b.saved += int64(r.full - r.size)
	if r.flags&flagErased == 0 {
		p := s.subjects[string(r.subject)]
		if p == nil {
			p = &psi{subj: string(r.subject)}
			s.subjects[p.subj] = p
		}
		p.seqs = append(p.seqs, r.seq)
		p.n++
		sl.subj = p
		s.msgs++
		s.bytes += msgSize(rlen)
		b.msgs++
		b.liveRec += int64(r.full)
		if r.ttl > 0 {
			s.ttls.push(ttlEntry{exp: r.ts + r.ttl, seq: r.seq})
		}
	}
	s.slots = append(s.slots, sl)
}

func (s *Store) addLost(seq uint64, size uint64) {
	if s.lost == nil {
		s.lost = &store.LostData{}
	}
	if seq != 0 {
		s.lost.Msgs = append(s.lost.Msgs, seq)
		s.lost.Bytes += size
	}
}

// validAt reports whether a valid record starts at off (or off is the end).
func validAt(data []byte, off int) bool {
	if off == len(data) {
		return true
	}
	var r record
	return decodeRecord(data[off:], &r) == nil
}

// nextSeq returns the sequence of the valid record at off, or max if none.
func nextSeq(data []byte, off int) uint64 {
	var r record
	if off < len(data) && decodeRecord(data[off:], &r) == nil && r.flags&flagNoBody == 0 {
		return r.seq
	}
	return ^uint64(0)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
