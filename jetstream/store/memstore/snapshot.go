package memstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"natsd.dev/jetstream/internal/subjidx"
	"natsd.dev/jetstream/store"
	"natsd.dev/jetstream/store/internal/cstate"
	"natsd.dev/sublist"
)

// Snapshot format (all integers are uvarints unless noted):
//
//	magic "NMS1"
//	first  last  lastTS(varint)  count
//	count × { seq  ts(varint)  exp(varint)  len subject  len hdr hdr  len data data }
//	consumers × { len name  len state  cstate(store.ConsumerState) }   preceded by their number
//	crc32 IEEE of everything before it, 4 bytes little endian
const magic = "NMS2"

// Snapshot implements store.StreamStore.
func (s *Store) Snapshot(ctx context.Context, w io.Writer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return store.ErrStoreClosed
	}
	b := make([]byte, 0, 64+s.bytes+s.count*8)
	b = append(b, magic...)
	b = binary.AppendUvarint(b, s.first)
	b = binary.AppendUvarint(b, s.last)
	b = binary.AppendVarint(b, s.lastTS)
	b = binary.AppendUvarint(b, s.count)
	for q := s.firstLive(); q != 0; q = s.log.nextLive(q+1, s.last) {
		m := s.log.at(q)
		b = binary.AppendUvarint(b, q)
		b = binary.AppendVarint(b, m.ts)
		b = binary.AppendVarint(b, m.exp)
		b = appendBytes(b, []byte(m.ss.subj))
		b = appendBytes(b, m.buf[:m.hlen])
		b = appendBytes(b, m.buf[m.hlen:])
	}
	cons := make([]*consumer, 0, len(s.consumers))
	for _, c := range s.consumers {
		cons = append(cons, c)
	}
	s.mu.RUnlock()

	b = binary.AppendUvarint(b, uint64(len(cons)))
	for _, c := range cons {
		data, err := c.encoded()
		if err != nil {
			return err
		}
		b = appendBytes(b, []byte(c.name))
		b = appendBytes(b, data)
	}
	b = binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}

func appendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// decoder reads the snapshot format; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

var errShort = errors.New("truncated")

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errShort
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func corrupt(what string, err error) error {
	return fmt.Errorf("memstore: snapshot: %s: %w: %w", what, store.ErrCorrupt, err)
}

// Restore implements store.StreamStore.
func (s *Store) Restore(ctx context.Context, r io.Reader) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(b) < len(magic)+4 || string(b[:len(magic)]) != magic {
		return corrupt("header", errors.New("bad magic"))
	}
	body := b[:len(b)-4]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return corrupt("checksum", errors.New("mismatch"))
	}
	d := &decoder{b: body[len(magic):]}
	first, last, lastTS, count := d.uvarint(), d.uvarint(), d.varint(), d.uvarint()
	if d.err == nil && (last >= 1<<63 || ((last != 0 || first != 0) &&
		(first == 0 || first > last+1 || count > last-first+1))) {
		return corrupt("header", errors.New("bad sequence range"))
	}

	s.mu.Lock()
	rm := removals{keep: s.cfg.OnRemove != nil}
	err = s.restoreLocked(d, first, last, lastTS, count, &rm)
	cb := s.cfg.OnRemove
	s.mu.Unlock()
	rm.call(cb)
	return err
}

func (s *Store) restoreLocked(d *decoder, first, last uint64, lastTS int64, count uint64, rm *removals) error {
	if s.closed {
		return store.ErrStoreClosed
	}
	if s.count != 0 || s.last != 0 || s.first > 1 {
		return store.ErrNotEmpty
	}
	prev := uint64(0)
	for i := uint64(0); i < count && d.err == nil; i++ {
		seq, ts, exp := d.uvarint(), d.varint(), d.varint()
		subj, hdr, data := d.bytes(), d.bytes(), d.bytes()
		if d.err != nil {
			break
		}
		if seq <= prev || (prev == 0 && seq != first) || seq > last || !sublist.ValidLiteralSubject(string(subj)) {
			s.resetLocked()
			return corrupt("message", fmt.Errorf("bad sequence %d or subject", seq))
		}
		prev = seq
		s.appendLocked(seq, string(subj), hdr, data, ts, exp)
	}
	type cons struct {
		name string
		st   store.ConsumerState
	}
	var cs []cons
	for n := d.uvarint(); n > 0 && d.err == nil; n-- {
		name, js := d.bytes(), d.bytes()
		var c cons
		c.name = string(name)
		if d.err == nil {
			if err := cstate.Decode(js, &c.st); err != nil || !validConsumerName(c.name) {
				d.err = errors.New("bad consumer state")
			}
		}
		cs = append(cs, c)
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errors.New("trailing bytes")
	}
	if d.err != nil {
		s.resetLocked()
		return corrupt("body", d.err)
	}
	// Sequence gaps at the end and an empty store's range.
	s.first, s.last, s.lastTS = first, last, lastTS
	if count == 0 {
		s.log.reset(last + 1)
	} else {
		s.log.pad(last + 1)
	}
	for _, c := range cs {
		if s.consumers == nil {
			s.consumers = make(map[string]*consumer)
		}
		nc := &consumer{s: s, name: c.name}
		nc.data = cstate.Append(nil, &c.st)
		s.consumers[c.name] = nc
	}
	s.ageNext = s.first
	s.expireLocked(time.Now().UnixNano(), rm)
	return nil
}

// resetLocked empties a store whose Restore failed half way.
func (s *Store) resetLocked() {
	s.log = msgLog{}
	s.subjs, s.ttls = subjidx.Index[*subject]{}, nil
	s.subjGen++
	s.nextID, s.freeIDs = 0, nil
	s.first, s.last, s.lastTS, s.count, s.bytes, s.ageNext = 0, 0, 0, 0, 0, 0
}
