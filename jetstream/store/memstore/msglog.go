package memstore

// chunkBits sizes the chunks of a msgLog: 4096 slots of 56 bytes each.
const (
	chunkBits = 12
	chunkSize = 1 << chunkBits
)

// msgLog holds message slots indexed by sequence in fixed-size chunks, so
// that growing never copies messages and removing from the front gives
// memory back a chunk at a time.
type msgLog struct {
	chunks []*[chunkSize]msg
	off    uint64 // sequence of chunks[0][0]
	end    uint64 // one past the last slot
}

// at returns the slot of seq, which must be in [first slot kept, end).
func (l *msgLog) at(seq uint64) *msg {
	i := seq - l.off
	return &l.chunks[i>>chunkBits][i&(chunkSize-1)]
}

// reset empties the log; the next slot appended is next.
func (l *msgLog) reset(next uint64) {
	clear(l.chunks)
	l.chunks = l.chunks[:0]
	l.off, l.end = next, next
}

// pad appends empty slots until end == next.
func (l *msgLog) pad(next uint64) {
	for l.end < next {
		l.push(msg{})
	}
}

// push appends m at sequence end.
func (l *msgLog) push(m msg) {
	i := l.end - l.off
	if int(i>>chunkBits) == len(l.chunks) {
		l.chunks = append(l.chunks, new([chunkSize]msg))
	}
	l.chunks[i>>chunkBits][i&(chunkSize-1)] = m
	l.end++
}

// truncate drops the slots after last; they must be empty already.
func (l *msgLog) truncate(last uint64) {
	l.end = last + 1
	keep := int((l.end - l.off + chunkSize - 1) >> chunkBits)
	clear(l.chunks[keep:])
	l.chunks = l.chunks[:keep]
}

// trimFront releases the chunks that lie wholly before first; the slots
// before first must be empty.
func (l *msgLog) trimFront(first uint64) {
	k := (first - l.off) >> chunkBits
	if k == 0 {
		return
	}
	clear(l.chunks[:k])
	l.chunks = l.chunks[k:]
	l.off += k << chunkBits
}
