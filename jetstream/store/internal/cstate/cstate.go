// Package cstate is the binary encoding of store.ConsumerState that the
// stores use in consumer state files and snapshots.
//
// Wire format (uvarint unless noted; zigzag is a signed varint):
//
//	delivered.consumer  delivered.stream  ackfloor.consumer  ackfloor.stream
//	n  n × { stream - prevStream  zigzag(consumer - prevConsumer)  zigzag(ts - prevTS) }
//	m  m × { stream - prevStream  count }
//
// prev* start at 0 in each list. Stream deltas are positive (the lists are
// strictly increasing), so a pending ack delivered in a burst after its
// neighbour costs 1 + 1 + 2..3 bytes: about 5 bytes instead of 24 in
// memory.
package cstate

import (
	"encoding/binary"
	"errors"
	"fmt"

	"natsd.dev/jetstream/store"
)

// Append appends the encoding of st to dst. st must pass Check.
func Append(dst []byte, st *store.ConsumerState) []byte {
	dst = binary.AppendUvarint(dst, st.Delivered.Consumer)
	dst = binary.AppendUvarint(dst, st.Delivered.Stream)
	dst = binary.AppendUvarint(dst, st.AckFloor.Consumer)
	dst = binary.AppendUvarint(dst, st.AckFloor.Stream)
	dst = binary.AppendUvarint(dst, uint64(len(st.Pending)))
	var ps, pc uint64
	var pt int64
	for _, p := range st.Pending {
		dst = binary.AppendUvarint(dst, p.Stream-ps)
		dst = binary.AppendVarint(dst, int64(p.Consumer-pc))
		dst = binary.AppendVarint(dst, p.Timestamp-pt)
		ps, pc, pt = p.Stream, p.Consumer, p.Timestamp
	}
	dst = binary.AppendUvarint(dst, uint64(len(st.Redelivered)))
	ps = 0
	for _, r := range st.Redelivered {
		dst = binary.AppendUvarint(dst, r.Stream-ps)
		dst = binary.AppendUvarint(dst, r.Count)
		ps = r.Stream
	}
	return dst
}

// Size bounds the length of Append's output for st.
func Size(st *store.ConsumerState) int {
	return 5*binary.MaxVarintLen64 + len(st.Pending)*3*binary.MaxVarintLen64 + binary.MaxVarintLen64 + len(st.Redelivered)*2*binary.MaxVarintLen64
}

var errBad = errors.New("bad encoding")

type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errBad
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errBad
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a list length that cannot exceed what the rest of the
// input could hold at min bytes per entry.
func (r *reader) count(min int) int {
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.b)/min) {
		r.err = errBad
	}
	return int(n)
}

// Decode decodes b, all of it, into into, appending to into.Pending[:0] and
// into.Redelivered[:0]. The error wraps store.ErrCorrupt when b is not a
// valid encoding (truncated, trailing bytes, lists out of order).
func Decode(b []byte, into *store.ConsumerState) error {
	r := reader{b: b}
	into.Delivered.Consumer = r.uvarint()
	into.Delivered.Stream = r.uvarint()
	into.AckFloor.Consumer = r.uvarint()
	into.AckFloor.Stream = r.uvarint()
	n := r.count(3)
	pend := into.Pending[:0]
	if r.err == nil && cap(pend) < n {
		pend = make([]store.Pending, 0, n)
	}
	var ps, pc uint64
	var pt int64
	for i := 0; i < n && r.err == nil; i++ {
		d := r.uvarint()
		pc += uint64(r.varint())
		pt += r.varint()
		if d == 0 && i > 0 || ps+d < ps {
			r.err = errBad
			break
		}
		ps += d
		pend = append(pend, store.Pending{Stream: ps, Consumer: pc, Timestamp: pt})
	}
	m := r.count(2)
	red := into.Redelivered[:0]
	if r.err == nil && cap(red) < m {
		red = make([]store.Redelivered, 0, m)
	}
	ps = 0
	for i := 0; i < m && r.err == nil; i++ {
		d, c := r.uvarint(), r.uvarint()
		if d == 0 && i > 0 || ps+d < ps || c == 0 {
			r.err = errBad
			break
		}
		ps += d
		red = append(red, store.Redelivered{Stream: ps, Count: c})
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = errBad
	}
	if r.err != nil {
		return fmt.Errorf("cstate: %w: %w", r.err, store.ErrCorrupt)
	}
	into.Pending, into.Redelivered = pend, red
	return nil
}
