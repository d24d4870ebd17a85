package memstore

// chunkBits sizes the chunks of a msgLog: 4096 slots of 56 bytes each.
const (
	chunkBits = 12
	chunkSize = 1 << chunkBits
)

// msgLog holds message slots indexed by sequence in fixed-size chunks, so
// that growing never copies messages, and a chunk whose messages are all
// removed is given back at once, wherever it lies: a few old messages kept
// by a KV bucket do not pin the memory of the millions stored after them.
type msgLog struct {
	chunks []*chunk // nil for a chunk without live messages
	off    uint64   // sequence of chunks[0].slots[0]
	end    uint64   // one past the last slot
}

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
	i := seq - l.off
	c := l.chunks[i>>chunkBits]
	if c == nil {
		return &emptySlot
	}
	return &c.slots[i&(chunkSize-1)]
}

// nextLive returns the first sequence in [seq, last] holding a message, or
// 0, skipping freed chunks whole.
func (l *msgLog) nextLive(seq, last uint64) uint64 {
	for seq <= last {
		i := seq - l.off
		c := l.chunks[i>>chunkBits]
		if c == nil {
			seq += chunkSize - i&(chunkSize-1)
			continue
		}
		if c.slots[i&(chunkSize-1)].ss != nil {
			return seq
		}
		seq++
	}
	return 0
}

// prevLive returns the last sequence <= seq holding a message, skipping
// freed chunks whole; one must exist.
func (l *msgLog) prevLive(seq uint64) uint64 {
	for {
		i := seq - l.off
		c := l.chunks[i>>chunkBits]
		if c == nil {
			seq -= i&(chunkSize-1) + 1
			continue
		}
		if c.slots[i&(chunkSize-1)].ss != nil {
			return seq
		}
		seq--
	}
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

// push appends m at sequence end; an empty m allocates nothing.
func (l *msgLog) push(m msg) {
	i := l.end - l.off
	k := int(i >> chunkBits)
	if k == len(l.chunks) {
		l.chunks = append(l.chunks, nil)
	}
	l.end++
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
	keep := int((l.end - l.off + chunkSize - 1) >> chunkBits)
	clear(l.chunks[keep:])
	l.chunks = l.chunks[:keep]
}

// trimFront drops the chunks that lie wholly before first; the slots
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
