package websocket

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"sync"

	"github.com/klauspost/compress/flate"
)

// A compressed message is inflated as its frames arrive. A message that
// is in the read buffer whole when its first frame header is read (most
// are) is decoded from a copy at once. Otherwise its first compressed
// bytes are collected, unmasked, in a small pooled buffer (collectSize):
// a message that ends within it is decoded from memory too, so a
// connection that sent the start of a message and went quiet holds those
// few bytes, not a decompressor. Past collectSize the decompressor takes
// over and reads the rest through a payloadSource, which reads frame
// headers (and answers control frames) as the decompressor gets to them.
// Nothing of the message is buffered beyond that, so the limits on the
// compressed and the inflated size are checked as the bytes come, not at
// the end of the message.

// deflateTail ends every compressed message: the 0x00 0x00 0xff 0xff that
// senders strip (RFC 7692 section 7.2.2) plus a final empty stored block,
// so the decompressor ends with io.EOF.
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

const (
	// inflateBufferSize is the decompressor's input buffer.
	inflateBufferSize = 4096
	// inflaterBytes estimates the memory of an inflater for PendingBytes:
	// the 32 KiB window, the input buffer and the Huffman tables, about
	// 37 KiB in all (measured by TestInflaterBytes), and the buffer for a
	// message read whole (4 KiB), rounded up.
	inflaterBytes = 44 << 10
	// collectSize is what is collected of a compressed message before
	// the decompressor takes over.
	collectSize = 4096
	// compressedSlack is what a compressed message may carry beyond
	// CompressedSizeFactor compressed bytes per byte it inflated to so
	// far: the decompressor's window (32 KiB) and input buffer hold data
	// not counted yet, and a sender's headers and flushes cost a few
	// bytes. A stream of empty deflate blocks, which costs the server a
	// decoding step every 5 bytes and produces nothing, is cut off here
	// rather than at CompressedSizeFactor*MaxMessageSize.
	compressedSlack = 64 << 10
)

// inflater is a decompressor with its input buffers. One is taken from
// inflaters for each compressed message, so idle connections hold none.
type inflater struct {
	// zr buffers the message's payload for the decompressor: a
	// *bufio.Reader is a source it decodes from without an interface call
	// per byte.
	zr *bufio.Reader
	fr io.ReadCloser // also a flate.Resetter
	// A message in memory whole (from the read buffer or collected) is
	// unmasked into whole, deflateTail appended, and decoded from wr: a
	// *bytes.Reader is the decompressor's fastest source. When the
	// decompressor streams, whole holds what was collected before, which
	// the payloadSource hands out first. It holds at most the read
	// buffer's size (or collectSize) and the tail.
	whole []byte
	wr    bytes.Reader
}

var (
	inflaters   sync.Pool // *inflater
	collectBufs sync.Pool // *[]byte of capacity collectSize
)

// payloadSource is the Conn as the decompressor's input.
type payloadSource Conn

// Read gives the decompressor the unmasked payload of the open compressed
// message, frame after frame, then deflateTail, then io.EOF. It blocks for
// the network only when nothing of the message is buffered, and returns
// the errors of Conn.Read (c.rerr is set when they end reading).
func (s *payloadSource) Read(p []byte) (int, error) {
	c := (*Conn)(s)
	for {
		switch {
		case c.zpre < len(c.inf.whole):
			n := copy(p, c.inf.whole[c.zpre:])
			c.zpre += n
			return n, nil
		case c.rem > 0:
			q := p
			if int64(len(q)) > c.rem {
				q = q[:c.rem]
			}
			if b := c.br.Buffered(); b > 0 && len(q) > b {
				q = q[:b]
			}
			n, err := c.br.Read(q)
			if n == 0 {
				return 0, c.ioError(err, false)
			}
			c.unmask(q[:n])
			c.rem -= int64(n)
			if c.zread += int64(n); c.zread > CompressedSizeFactor*c.zout+compressedSlack {
				return 0, c.fail(StatusMessageTooBig, "compressed message inflates to too little")
			}
			return n, nil
		case !c.fin:
			c.notePending() // the wait for the next frame may be long
			if err := c.nextFrame(); err != nil {
				return 0, err
			}
		case c.ztail < len(deflateTail):
			n := copy(p, deflateTail[c.ztail:])
			c.ztail += n
			return n, nil
		default:
			return 0, io.EOF
		}
	}
}

// startInflate begins the compressed message whose first frame header
// was just read: decoded from memory when it is in the read buffer whole,
// else collected first.
func (c *Conn) startInflate() {
	if n := c.rem; c.fin && int64(c.br.Buffered()) >= n {
		inf := c.takeInflater()
		w := inf.whole[:0]
		if cap(w) < int(n)+len(deflateTail) {
			w = make([]byte, 0, max(int(n), readBufferSize)+len(deflateTail))
		}
		w = w[:n]
		c.br.Read(w) // cannot fail: buffered
		c.unmask(w)
		c.rem = 0
		c.inflateWhole(inf, w)
		return
	}
	p, _ := collectBufs.Get().(*[]byte)
	if p == nil {
		b := make([]byte, 0, collectSize)
		p = &b
	}
	*p = (*p)[:0]
	c.zcp = p
	c.notePending()
}

// takeInflater takes an inflater from the pool for the open message.
func (c *Conn) takeInflater() *inflater {
	inf, _ := inflaters.Get().(*inflater)
	if inf == nil {
		inf = &inflater{zr: bufio.NewReaderSize((*payloadSource)(c), inflateBufferSize)}
		inf.fr = flate.NewReader(inf.zr)
	}
	c.inf = inf
	return inf
}

// inflateWhole decodes the whole compressed message z (unmasked) from
// memory; z may be inf.whole itself.
func (c *Conn) inflateWhole(inf *inflater, z []byte) {
	w := inf.whole[:0]
	if len(z) > 0 && cap(w) > 0 && &z[0] == &w[:1][0] {
		w = z
	} else {
		w = append(w, z...)
	}
	inf.whole = append(w, deflateTail...)
	c.ztail, c.zpre = len(deflateTail), len(inf.whole)
	inf.wr.Reset(inf.whole)
	inf.fr.(flate.Resetter).Reset(&inf.wr, nil)
	c.notePending()
}

// collect adds payload of the open frame to the collected start of a
// compressed message, taking only what is buffered unless block is set;
// once the message ended it is decoded from memory, and once collectSize
// is reached the decompressor takes over.
func (c *Conn) collect(block bool) error {
	zc := *c.zcp
	k := min(c.rem, int64(cap(zc)-len(zc)))
	if b := c.br.Buffered(); b > 0 {
		k = min(k, int64(b))
	} else if !block {
		return nil
	} else {
		c.notePending() // true while blocked for the payload
	}
	q := zc[len(zc) : len(zc)+int(k)]
	n, err := c.br.Read(q)
	if n == 0 {
		return c.ioError(err, false)
	}
	c.unmask(q[:n])
	c.rem -= int64(n)
	c.zread += int64(n)
	*c.zcp = zc[:len(zc)+n]
	switch {
	case c.rem == 0 && c.fin:
		c.inflateCollected()
	case len(*c.zcp) == cap(*c.zcp):
		c.streamCollected()
	}
	return nil
}

// inflateCollected decodes the collected message, which ended, from memory.
func (c *Conn) inflateCollected() {
	inf := c.takeInflater()
	c.inflateWhole(inf, *c.zcp)
	c.releaseCollected()
}

// streamCollected hands the collected start of the message to the
// decompressor, which reads the rest from the frames as they come.
func (c *Conn) streamCollected() {
	inf := c.takeInflater()
	inf.whole = append(inf.whole[:0], *c.zcp...)
	c.zpre = 0
	c.releaseCollected()
	inf.zr.Reset((*payloadSource)(c))
	inf.fr.(flate.Resetter).Reset(inf.zr, nil)
	c.notePending()
}

func (c *Conn) releaseCollected() {
	collectBufs.Put(c.zcp)
	c.zcp = nil
}

// inflateBuffered reports whether the rest of the compressed message is in
// the read buffer, so that the decompressor will not block for it.
func (c *Conn) inflateBuffered() bool {
	return c.fin && int64(c.br.Buffered()) >= c.rem
}

// readInflated reads inflated data of the open message into p. It fails
// with 1009 as soon as the message passes c.maxMsg, before handing out a
// byte beyond it.
func (c *Conn) readInflated(p []byte) (int, error) {
	if room := c.maxMsg - c.zout; int64(len(p)) > room {
		p = p[:room+1] // one byte more tells that the message is too large
	}
	n, err := c.inf.fr.Read(p)
	if c.rerr != nil {
		// The frames failed (close frame sent or received, I/O error);
		// what the decompressor flushed on the way is not worth anything.
		c.inf = nil
		return 0, c.rerr
	}
	c.zout += int64(n)
	if c.zout > c.maxMsg {
		c.inf = nil
		return 0, c.fail(StatusMessageTooBig, "decompressed message too large")
	}
	if n > 0 && c.text && !c.utf.feed(p[:n]) {
		c.inf = nil
		return 0, c.fail(StatusInvalidPayloadData, "invalid UTF-8 in text message")
	}
	switch err {
	case nil:
		return n, nil
	case io.EOF:
		c.inf.zr.Reset(nil) // the pool must not keep the Conn
		c.inf.wr.Reset(nil)
		inflaters.Put(c.inf)
		c.inf = nil
		// Whatever follows a final deflate block is skipped.
		if c.zskip = c.rem > 0 || !c.fin; !c.zskip {
			c.deflated = false
		}
		if err := c.endMessage(); err != nil {
			return 0, err
		}
		return n, nil
	}
	c.inf = nil // its state is broken: do not reuse it
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		// The decompressor cannot resume where the timeout left it.
		c.rerr = err
		return 0, err
	}
	return 0, c.fail(StatusInvalidPayloadData, "invalid compressed data")
}

// skipPayload discards payload of a compressed message that went on after
// its final deflate block, blocking for at most one read.
func (c *Conn) skipPayload() error {
	b := c.br.Buffered()
	if b == 0 {
		if _, err := c.br.Peek(1); err != nil {
			return c.ioError(err, false)
		}
		b = c.br.Buffered()
	}
	k := int(min(int64(b), c.rem))
	c.br.Discard(k)
	c.rem -= int64(k)
	if c.rem == 0 && c.fin {
		c.zskip, c.deflated = false, false
	}
	return nil
}
