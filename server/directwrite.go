package server

import (
	"errors"
	"net"
	"os"
	"syscall"
	"time"
)

// directWriteMax is the largest backlog the end of a batch writes on the
// producer's goroutine (flushOrSignal): a request, a reply, a few
// messages. A larger one is bulk traffic, which the connection's writer
// goroutine writes while the producer goes on reading.
const directWriteMax = 8 * 1024

// directIdle is how long a reader must have been idle (from the start of
// one read batch to the next) for the end of its batch to write to the
// socket itself: a reader busy with a stream leaves the writes to the
// writers, which run alongside it.
const directIdle = 50 * time.Microsecond

// markBatch records the start of a read batch (LastActivity) and whether
// it came after an idle spell (pubCtx.direct). The reader calls it.
func (c *client) markBatch() {
	now := time.Now().UnixNano()
	c.pub.direct = now-c.lastActive.Load() >= int64(directIdle)
	c.lastActive.Store(now)
}

// flushOrSignal ends a batch for dc, which got data during it: when the
// socket is a plain TCP one, nobody is writing it and the backlog is
// small, the backlog goes out now on this goroutine with non-blocking
// writes, and whatever the socket does not take at once goes to the
// writer; otherwise the writer is woken as signal does. A message that
// crosses a server then costs one goroutine wake-up (the reader's) per
// hop instead of two.
func (dc *client) flushOrSignal() {
	if !dc.inParse.Load() && dc.tryDirect() {
		return
	}
	dc.signal()
}

// tryDirect writes dc's backlog without blocking and reports whether it
// took care of it: the writer is kicked for what is left, if anything.
// It reports false, having done nothing, when the backlog must go through
// the writer (not TCP, someone writing, too large).
func (dc *client) tryDirect() bool {
	dc.mu.Lock()
	if dc.out.queued == 0 {
		dc.mu.Unlock()
		return true // the writer took it already
	}
	if !canWriteDirect || dc.writing || dc.closed || dc.out.queued > directWriteMax || dc.nc == nil {
		dc.mu.Unlock()
		return false
	}
	if dc.direct == nil {
		dc.direct = &directConn{}
		if tc, ok := dc.nc.(*net.TCPConn); ok {
			dc.direct.raw, _ = tc.SyscallConn()
		}
	}
	if dc.direct.raw == nil {
		// TLS, WebSocket, a compressed link, a pipe: the writer's.
		dc.mu.Unlock()
		return false
	}
	dc.flushPending = false
	dc.writing = true
	chs := dc.out.take()
	d := dc.direct
	dc.mu.Unlock()

	i, off, err := d.write(chs)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// The deadline of an earlier write (the writer sets one for
		// each) expired while the link was idle; this write has none.
		dc.nc.SetWriteDeadline(time.Time{})
		i, off, _ = d.write(chs)
	}

	dc.mu.Lock()
	dc.writing = false
	if i < len(chs) {
		// The socket is full (or failed): the rest goes back to the
		// head of the queue, for the writer.
		dc.out.unshift(chs[i:], off)
	}
	releaseChunks(chs)
	dc.out.done(chs)
	if dc.stall != nil && int64(dc.out.pending()) <= dc.srv.maxPending.Load()/4*3 {
		close(dc.stall)
		dc.stall = nil
	}
	again := dc.out.queued > 0 && !dc.closed
	if again {
		dc.flushPending = true
	}
	dc.mu.Unlock()
	if again {
		dc.kickWriter()
	}
	return true
}

// directConn is a TCP socket as tryDirect writes it: its raw
// connection and the state of the write in progress (the writing flag
// makes it one at a time), so that a write allocates nothing.
type directConn struct {
	raw syscall.RawConn       // nil: not a plain TCP socket
	fn  func(fd uintptr) bool // do, bound once
	chs []*chunk
	i   int // the chunk written next
	off int // bytes of chs[i] written
}

// write writes chs until the socket would block and returns where it
// stopped: chunk i, off bytes into it (i == len(chs) when everything
// went out). A failure stops it too: the writer meets it again and
// closes the connection. err is the raw connection's, when it refused
// the call (a closed socket, an expired deadline).
func (d *directConn) write(chs []*chunk) (i, off int, err error) {
	if d.fn == nil {
		d.fn = d.do
	}
	d.chs, d.i, d.off = chs, 0, 0
	err = d.raw.Write(d.fn)
	i, off = d.i, d.off
	d.chs = nil
	return i, off, err
}

// unshift puts the unwritten part of chs (off bytes into its first chunk
// already written) back at the head of the queue, as copies: the chunks
// themselves go back to the pool.
func (o *outbound) unshift(chs []*chunk, off int) {
	rest := o.chunks
	o.chunks = nil
	for j, t := range chs {
		b := t.b
		if j == 0 {
			b = b[off:]
		}
		o.write(b)
	}
	o.chunks = append(o.chunks, rest...)
}
