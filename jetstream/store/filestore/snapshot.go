package filestore

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"path/filepath"
	"slices"
	"sort"

	"natsd.dev/jetstream/store"
	"natsd.dev/sublist"
)

// A snapshot is a stream of frames:
//
//	+------------+-----------+----------+--------------+
//	| "NATSDSN1" | first u64 | last u64 | lastTime i64 |
//	+------------+-----------+----------+--------------+
//	| 1 | message record, exactly as in a block (own CRC-32C) | ...
//	| 2 | name len u16 | name | state len u32 | consumer file  | ...
//	| 0 | CRC-32C u32 of every byte before it                  |
//
// Messages come in sequence order. Restore checks every checksum before it
// changes the store.
const snapMagic = "NATSDSN1"

type crcWriter struct {
	w   io.Writer
	crc uint32
	err error
}

func (c *crcWriter) write(p []byte) {
	if c.err != nil {
		return
	}
	c.crc = crc32.Update(c.crc, castagnoli, p)
	_, c.err = c.w.Write(p)
}

type snapMsg struct {
	seq uint64
	b   *block
	off uint32
	rl  uint32
}

// Snapshot implements store.StreamStore. It records what is live when it
// starts and then reads the records without blocking writers; block
// rewrites and deletions wait until it is done.
func (s *Store) Snapshot(ctx context.Context, w io.Writer) error {
	s.snapMu.RLock()
	defer s.snapMu.RUnlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return store.ErrStoreClosed
	}
	first, last, lastTime := s.first, s.last, s.lastTime
	msgs := make([]snapMsg, 0, s.msgs)
	for q := s.nextLive(s.first); q != 0; q = s.nextLive(q + 1) {
		sl := s.slot(q)
		msgs = append(msgs, snapMsg{q, s.blockOf(q), sl.off, sl.recLen()})
	}
	names := make([]string, 0, len(s.consumers))
	css := make(map[string]*consumerState, len(s.consumers))
	for n, cs := range s.consumers {
		names = append(names, n)
		css[n] = cs
	}
	s.mu.Unlock()
	sort.Strings(names)
	cstates := make([][]byte, len(names))
	for i, n := range names {
		cs := css[n]
		cs.mu.Lock()
		if cs.data == nil {
			cstates[i] = appendConsumer(nil, &store.ConsumerState{})
		} else {
			cstates[i] = slices.Clone(cs.data) // SetState reuses buffers
		}
		cs.mu.Unlock()
	}

	bw := bufio.NewWriterSize(w, 256<<10)
	cw := &crcWriter{w: bw}
	var hdr [32]byte
	copy(hdr[:], snapMagic)
	binary.LittleEndian.PutUint64(hdr[8:], first)
	binary.LittleEndian.PutUint64(hdr[16:], last)
	binary.LittleEndian.PutUint64(hdr[24:], uint64(lastTime))
	cw.write(hdr[:])
	var buf, plain, wide []byte
	var r record
	for i, m := range msgs {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		s.mu.Lock()
		raw, err := s.readRecord(m.b, &slot{off: m.off, rlen: m.rl}, false)
		if err == nil {
			buf = append(buf[:0], raw...)
		}
		s.mu.Unlock()
		if err != nil {
			return err
		}
		if err := decodeRecord(buf, &r); err != nil {
			return fmt.Errorf("filestore: snapshot of sequence %d: %w", m.seq, err)
		}
		if r.flags&flagErased != 0 {
			continue // erased after the snapshot began
		}
		if r.flags&(flagSealed|flagCompressed) != 0 {
			// Snapshots hold plain records; Restore encrypts and
			// compresses as its own store is configured.
			if r.flags&flagSealed != 0 {
				plain, err = unseal(s.aead, buf, &r, plain)
			}
			if err == nil && r.flags&flagCompressed != 0 {
				wide, err = expand(&r, wide)
			}
			if err != nil {
				return fmt.Errorf("filestore: snapshot of sequence %d: %w", m.seq, err)
			}
			buf = appendRecord(buf[:0], r.seq, r.ts, r.ttl, 0, string(r.subject), r.hdr, r.data)
		} else {
			buf = buf[:r.size] // the read may run past a record
		}
		cw.write([]byte{1})
		cw.write(buf)
	}
	for i, n := range names {
		var h [7]byte
		h[0] = 2
		binary.LittleEndian.PutUint16(h[1:], uint16(len(n)))
		cw.write(h[:3])
		cw.write([]byte(n))
		binary.LittleEndian.PutUint32(h[3:], uint32(len(cstates[i])))
		cw.write(h[3:7])
		cw.write(cstates[i])
	}
	cw.write([]byte{0})
	var end [4]byte
	binary.LittleEndian.PutUint32(end[:], cw.crc)
	cw.write(end[:])
	if cw.err != nil {
		return cw.err
	}
	return bw.Flush()
}

func snapCorrupt(what string) error {
	return fmt.Errorf("filestore: snapshot: %s: %w", what, store.ErrCorrupt)
}

// Restore implements store.StreamStore. It reads and verifies the whole
// snapshot into memory before changing the store.
func (s *Store) Restore(ctx context.Context, r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(data) < 32+5 || string(data[:8]) != snapMagic {
		return snapCorrupt("bad header")
	}
	if data[len(data)-5] != 0 || crc32.Checksum(data[:len(data)-4], castagnoli) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return snapCorrupt("checksum mismatch")
	}
	first := binary.LittleEndian.Uint64(data[8:])
	last := binary.LittleEndian.Uint64(data[16:])
	lastTime := int64(binary.LittleEndian.Uint64(data[24:]))
	type cons struct {
		name string
		st   store.ConsumerState
	}
	var (
		recs  []record
		consu []cons
		prev  uint64
	)
	body := data[32 : len(data)-5]
	for len(body) > 0 {
		switch body[0] {
		case 1:
			var rec record
			if err := decodeRecord(body[1:], &rec); err != nil {
				return fmt.Errorf("filestore: snapshot: %w", err)
			}
			if rec.flags != 0 || rec.seq <= prev || rec.seq < first || rec.seq > last || !validSubject(rec.subject) {
				return snapCorrupt("bad message record")
			}
			prev = rec.seq
			recs = append(recs, rec)
			body = body[1+rec.size:]
		case 2:
			if len(body) < 3 {
				return snapCorrupt("short consumer")
			}
			nl := int(binary.LittleEndian.Uint16(body[1:]))
			if len(body) < 3+nl+4 {
				return snapCorrupt("short consumer")
			}
			name := string(body[3 : 3+nl])
			sl := int(binary.LittleEndian.Uint32(body[3+nl:]))
			if len(body) < 7+nl+sl || !validConsumerName(name) {
				return snapCorrupt("bad consumer")
			}
			var st store.ConsumerState
			if err := decodeConsumer(body[7+nl:7+nl+sl], &st); err != nil {
				return err
			}
			consu = append(consu, cons{name, st})
			body = body[7+nl+sl:]
		default:
			return snapCorrupt("unknown frame")
		}
	}
	if (first == 0) != (last == 0) && !(first == 1 && last == 0) || (last > 0 && first > last+1) {
		return snapCorrupt("bad sequence range")
	}

	if err := s.adminLock(); err != nil {
		return err
	}
	defer s.adminUnlock()
	if s.last != 0 || s.first != 0 {
		s.mu.Unlock()
		return store.ErrNotEmpty
	}
	if first > 1 {
		s.resetSlotsLocked(first)
		s.last = first - 1
	}
	for _, rec := range recs {
		subj := string(rec.subject)
		s.appendMsgLocked(rec.seq, rec.ts, rec.ttl, 0, subj, rec.hdr, rec.data, s.subjects[subj])
		if rec.ttl > 0 {
			s.ttls.push(ttlEntry{exp: rec.ts + rec.ttl, seq: rec.seq})
			s.armLocked(rec.ts + rec.ttl)
		} else if rec.ttl == 0 && s.scfg.MaxAge > 0 {
			s.armLocked(rec.ts + int64(s.scfg.MaxAge))
		}
	}
	s.lastTime = lastTime
	if last > s.last {
		if s.msgs == 0 {
			s.resetSlotsLocked(last + 1)
		} else {
			s.rollLocked(last + 1)
		}
		s.last = last
	}
	if s.msgs == 0 && last > 0 {
		s.first = last + 1
	}
	if last == 0 {
		s.first = first // 1: an emptied store, which the flush below marks
	}
	var stores []consumerStore
	for _, c := range consu {
		cs := &consumerState{s: s, name: c.name, path: filepath.Join(s.consumerDir(), c.name+".cs")}
		s.consumers[c.name] = cs
		stores = append(stores, consumerStore{cs})
	}
	s.mu.Unlock()
	for i, c := range consu {
		if err := stores[i].SetState(&c.st); err != nil {
			return err
		}
	}
	if err := s.flushIO(true); err != nil {
		return err
	}
	s.durable.Store(s.last)
	return nil
}

func validSubject(b []byte) bool {
	return sublist.ValidLiteralSubject(string(b))
}
