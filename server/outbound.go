package server

import (
	"net"
	"sync"
)

// chunkSize is the size of one outbound buffer chunk. Output is queued in a
// list of pooled chunks and written with one writev, so a growing backlog
// never copies what is already queued and produces no garbage.
const chunkSize = 32 * 1024

type chunk struct{ b []byte }

var chunkPool = sync.Pool{New: func() any { return &chunk{b: make([]byte, 0, chunkSize)} }}

// outbound is a connection's pending output. It is guarded by client.mu;
// the writer takes the queued chunks under the lock and writes them
// without it.
type outbound struct {
	chunks   []*chunk
	spare    []*chunk // the slice the writer hands back, reused
	queued   int      // bytes in chunks
	inflight int      // bytes the writer is writing now
}

// pending is the backlog counted against max_pending.
func (o *outbound) pending() int { return o.queued + o.inflight }

// write queues a copy of p.
func (o *outbound) write(p []byte) {
	o.queued += len(p)
	for len(p) > 0 {
		t := o.tailChunk()
		n := copy(t.b[len(t.b):cap(t.b)], p)
		t.b = t.b[:len(t.b)+n]
		p = p[n:]
	}
}

// tailChunk returns the last chunk, adding one when it is full.
func (o *outbound) tailChunk() *chunk {
	if n := len(o.chunks); n > 0 {
		if t := o.chunks[n-1]; len(t.b) < cap(t.b) {
			return t
		}
	}
	t := chunkPool.Get().(*chunk)
	o.chunks = append(o.chunks, t)
	return t
}

// room returns the tail chunk's bytes with at least need bytes free after
// them, for an append-style encoder; nil when need exceeds a chunk. The
// caller passes the extended slice to grew.
func (o *outbound) room(need int) []byte {
	if need > chunkSize {
		return nil
	}
	t := o.tailChunk()
	if cap(t.b)-len(t.b) < need {
		t = chunkPool.Get().(*chunk)
		o.chunks = append(o.chunks, t)
	}
	return t.b
}

// grew records that the tail chunk now holds b (an extension of what room
// returned, within its capacity).
func (o *outbound) grew(b []byte) {
	t := o.chunks[len(o.chunks)-1]
	o.queued += len(b) - len(t.b)
	t.b = b
}

// take hands the queued chunks to the writer.
func (o *outbound) take() []*chunk {
	chs := o.chunks
	o.chunks, o.spare = o.spare[:0], nil
	o.inflight, o.queued = o.queued, 0
	return chs
}

// done returns written chunks to the pool and their slice for reuse.
func (o *outbound) done(chs []*chunk) {
	o.inflight = 0
	o.spare = chs[:0]
}

// drop discards everything queued.
func (o *outbound) drop() {
	releaseChunks(o.chunks)
	o.chunks, o.queued = o.chunks[:0], 0
}

func releaseChunks(chs []*chunk) {
	for i, t := range chs {
		t.b = t.b[:0]
		chunkPool.Put(t)
		chs[i] = nil
	}
}

// buffersWriter is implemented by connections that send a batch of buffers
// as one unit (a WebSocket connection sends them as one frame).
type buffersWriter interface {
	WriteBuffers(v [][]byte) (int64, error)
}

// writeChunks writes chs with one writev (or one WriteBuffers); iov is
// scratch space reused between calls.
func writeChunks(nc net.Conn, chs []*chunk, iov *net.Buffers) error {
	bufs := (*iov)[:0]
	for _, t := range chs {
		bufs = append(bufs, t.b)
	}
	*iov = bufs
	if bw, ok := nc.(buffersWriter); ok {
		_, err := bw.WriteBuffers(bufs)
		return err
	}
	// WriteTo consumes its receiver: it runs on *iov, which is on the
	// heap already (a copy of the slice header would escape there on
	// every write), and *iov gets its array back afterwards.
	_, err := iov.WriteTo(nc)
	*iov = bufs[:0]
	return err
}
