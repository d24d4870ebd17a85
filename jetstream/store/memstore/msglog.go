package memstore

import "natsd.dev/jetstream/store/internal/seqgap"

// chunkBits sizes the chunks of a msgLog: 4096 slots of 56 bytes each.
const (
	chunkBits = 12
	chunkSize = 1 << chunkBits
)

// msgLog holds message slots indexed by sequence in fixed-size chunks, so
// that growing never copies messages, and a chunk whose messages are all
// removed is given back at once, wherever it lies: a few old messages kept
// by a KV bucket do not pin the memory of the millions stored after them.
//
// Long runs of sequences without messages that never held one (SkipMsgs,
// a snapshot's holes) take no slots: gaps records them, and slots are
// numbered by position, which is the sequence minus off minus the skipped
// sequences below it. Without gaps, position is seq-off.
type msgLog struct {
	chunks []*chunk // nil for a chunk without live messages
	off    uint64   // sequence of position 0, or of the gap before it
	end    uint64   // one past the last sequence
	n      uint64   // positions in use: end-off without gaps
	gaps   seqgap.Gaps
}

// padGap is the shortest run of empty sequences that pad records as a gap
// rather than as empty slots.
const padGap = 64

type chunk struct {
	live  int // slots with a message
	slots [chunkSize]msg
}

// emptySlot is what at returns for a slot of a freed chunk. Nothing writes
// to it: only live slots are written.
var emptySlot msg

// at returns the slot of seq, which must be in [off, end). The slot may be
// read; it may be written only if it holds a message.
func (l *msgLog) at(seq uint64) *msg {
	if !l.gaps.Empty() {
		return l.atGapped(seq)
	}
	i := seq - l.off
	c := l.chunks[i>>chunkBits]
	if c == nil {
		return &emptySlot
	}
	return &c.slots[i&(chunkSize-1)]
}

// atGapped is at for a log with gaps, out of the gap-free path.
func (l *msgLog) atGapped(seq uint64) *msg {
	i, ok := l.gaps.Pos(l.off, seq)
	if !ok {
		return &emptySlot
	}
	c := l.chunks[i>>chunkBits]
	if c == nil {
		return &emptySlot
	}
	return &c.slots[i&(chunkSize-1)]
}

// pos returns the position of seq, or of the first slot after the gap
// holding seq. Hot paths test gaps.Empty themselves and skip the call.
func (l *msgLog) pos(seq uint64) uint64 {
	if l.gaps.Empty() {
		return seq - l.off
	}
	return l.gaps.Count(l.off, seq)
}

// seqAt returns the sequence at position i.
func (l *msgLog) seqAt(i uint64) uint64 {
	if l.gaps.Empty() {
		return l.off + i
	}
	return l.gaps.Seq(l.off, i)
}

// nextLive returns the first sequence in [seq, last] holding a message, or
// 0, skipping freed chunks and gaps whole.
func (l *msgLog) nextLive(seq, last uint64) uint64 {
	if seq > last {
		return 0
	}
	gapped := !l.gaps.Empty()
	i, end := seq-l.off, last+1-l.off
	if gapped {
		i, end = l.gaps.Count(l.off, seq), l.gaps.Count(l.off, last+1)
	}
	for i < end {
		c := l.chunks[i>>chunkBits]
		if c == nil {
			i += chunkSize - i&(chunkSize-1)
			continue
		}
		if c.slots[i&(chunkSize-1)].ss != nil {
			if gapped {
				return l.gaps.Seq(l.off, i)
			}
			return l.off + i
		}
		i++
	}
	return 0
}

// prevLive returns the last sequence <= seq holding a message, skipping
// freed chunks and gaps whole; one must exist.
func (l *msgLog) prevLive(seq uint64) uint64 {
	gapped := !l.gaps.Empty()
	i := seq - l.off
	if gapped {
		i = l.gaps.Count(l.off, seq+1) - 1
	}
	for {
		c := l.chunks[i>>chunkBits]
		if c == nil {
			i -= i&(chunkSize-1) + 1
			continue
		}
		if c.slots[i&(chunkSize-1)].ss != nil {
			if gapped {
				return l.gaps.Seq(l.off, i)
			}
			return l.off + i
		}
		i--
	}
}

// reset empties the log; the next slot appended is next.
func (l *msgLog) reset(next uint64) {
	clear(l.chunks)
	l.chunks = l.chunks[:0]
	l.off, l.end, l.n = next, next, 0
	l.gaps.Reset()
}

// pad makes end == next with sequences that hold no message: a long run
// becomes a gap, costing nothing per sequence. The log must hold a slot
// (pad does not start a log with a gap: reset it instead).
func (l *msgLog) pad(next uint64) {
	if next > l.end && next-l.end >= padGap {
		l.gaps.Add(l.end, next-1)
		l.end = next
		return
	}
	for l.end < next {
		l.push(msg{})
	}
}

// push appends m at sequence end; an empty m allocates nothing.
func (l *msgLog) push(m msg) {
	i := l.n
	k := int(i >> chunkBits)
	if k == len(l.chunks) {
		l.chunks = append(l.chunks, nil)
	}
	l.end++
	l.n++
	if m.ss == nil {
		return
	}
	c := l.chunks[k]
	if c == nil {
		c = new(chunk)
		l.chunks[k] = c
	}
	c.slots[i&(chunkSize-1)] = m
	c.live++
}

// kill empties the live slot of seq and frees its chunk if that was the
// chunk's last message.
func (l *msgLog) kill(seq uint64) {
	i := seq - l.off
	if !l.gaps.Empty() {
		i = l.gaps.Count(l.off, seq)
	}
	k := i >> chunkBits
	c := l.chunks[k]
	c.slots[i&(chunkSize-1)] = msg{}
	if c.live--; c.live == 0 {
		l.chunks[k] = nil
	}
}

// truncate drops the slots after last; they must be empty already.
func (l *msgLog) truncate(last uint64) {
	l.end = last + 1
	l.n = l.pos(l.end)
	keep := int((l.n + chunkSize - 1) >> chunkBits)
	clear(l.chunks[keep:])
	l.chunks = l.chunks[:keep]
	l.gaps.TruncateAbove(last)
}

// trimFront drops the chunks that lie wholly before first; the slots
// before first must be empty.
func (l *msgLog) trimFront(first uint64) {
	// Gaps only lower positions: a sequence less than a chunk past off is
	// in the first chunk.
	if first-l.off >= chunkSize {
		l.trimChunks(first)
	}
}

func (l *msgLog) trimChunks(first uint64) {
	k := l.pos(first) >> chunkBits
	if k == 0 {
		return
	}
	off := l.seqAt(k << chunkBits)
	clear(l.chunks[:k])
	l.chunks = l.chunks[k:]
	l.gaps.TrimBelow(off)
	l.off = off
	l.n -= k << chunkBits
}
