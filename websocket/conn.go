package websocket

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/flate"
)

const (
	// compressThreshold: smaller messages are sent uncompressed, as upstream
	// does, since deflate cannot win much on them.
	compressThreshold = 64
	// copyThreshold: payloads up to this size are copied behind the header
	// and written with one Write (one TLS record); larger ones use writev.
	copyThreshold = 4096
	// keepBuffer: scratch buffers that grew beyond this are dropped after
	// use so that an idle connection does not pin a large message.
	keepBuffer = 256 << 10
	// closeTimeout bounds the time Close spends sending the close frame,
	// and the time it drains a peer it refused (lingerMax bytes at most).
	closeTimeout = time.Second
	lingerMax    = 4 << 20
)

// Conn is a WebSocket connection, the server's end (from a Listener) or
// the client's (from Dial or ClientHandshake). It is a net.Conn whose byte
// stream is the concatenated payload of the messages: Read returns the data
// of binary and text messages in order, whatever their fragmentation, and
// Write sends each call as one binary message.
type Conn struct {
	nc          net.Conn
	req         *http.Request
	resp        *http.Response // the handshake answer, client side
	subprotocol string
	compress    bool  // permessage-deflate negotiated
	maxFrame    int64 // <= 0: no limit on a data frame
	// client: this is the client's end, which must read unmasked frames
	// and masks what it writes unless noMask.
	client bool
	// noMask: the client asked for and got Nats-No-Masking: the client
	// sends unmasked frames, which the server accepts.
	noMask bool
	rng    *rand.ChaCha8 // masking keys (client side, masked writes), under wmu

	closing atomic.Bool
	// failed: the reader refused the peer's input (fail) and sent the
	// close frame; the peer may still be sending.
	failed  atomic.Bool
	pending atomic.Int64 // PendingBytes, stored by the reader

	// Read side: the state of the frame being read.
	rmu      sync.Mutex
	br       *bufio.Reader
	rerr     error   // sticky: every later Read returns it
	rem      int64   // payload bytes of the current data frame not yet read
	key      [4]byte // its masking key
	masked   bool    // the current frame is masked
	kpos     int     // offset in key for the next payload byte
	fin      bool    // the current data frame ends its message
	frag     bool    // a message is open: the next data frame is a continuation
	text     bool    // the open message is text: validate UTF-8
	deflated bool    // the open message is compressed
	utf      utf8Stream
	maxMsg   int64     // limit on an inflated message (SetMaxMessageSize)
	maxZ     int64     // limit on a compressed message's payload
	inf      *inflater // while a compressed message is inflated, else nil
	zskip    bool      // the open compressed message ended early: skip the rest
	zin      int64     // compressed payload of the open message, per headers
	zread    int64     // compressed payload given to the decompressor
	zout     int64     // inflated bytes of the open message
	ztail    int       // bytes of deflateTail given to the decompressor
	zpre     int       // bytes of inf.whole given to the decompressor
	zcp      *[]byte   // the collected start of the open message, else nil

	// Write side.
	wmu       sync.Mutex
	werr      error // sticky: a failed write may have left half a frame
	closeSent bool
	hdr       [maxHeaderLen]byte
	wbuf      []byte       // header + small payload, or a control frame
	iov       [][]byte     // header + large payload buffers
	bufs      net.Buffers  // what of iov is left to write
	zbuf      appendWriter // compressed payload
	mbuf      []byte       // masking scratch (client end), maskChunk bytes
	one       [1][]byte    // a single payload as a batch
	// wrapped is the layer WrapTransport put between the framing and nc
	// (read through br, written here); nil: none. Set with rmu and wmu.
	wrapped io.ReadWriter
}

// ErrInsideMessage is returned by WrapTransport when a message is being
// read: the layer can only start between two.
var ErrInsideMessage = errors.New("websocket: inside a message")

// WrapTransport puts a layer between the WebSocket framing and the
// connection from the next frame on, in both directions: wrap gets r,
// which reads what arrives after the last frame read (what the Conn
// buffered of it first), and the connection, to write to; frames are
// then read from and written to what wrap returns. Deadlines, addresses,
// NetConn and Close stay the connection's. A wrapping layer with
// WriteBuffers([][]byte) (int64, error) gets a large frame's header and
// payload in one call.
//
// NATS leaf nodes use it for S2 compression, which upstream nats-server
// applies beneath the framing of a leaf node connection over WebSocket.
// Call it between messages, with no Read or Write in progress, at a
// point of the protocol where the peer has not sent anything past the
// switch yet (what the Conn buffered must be the layer's). It fails with
// ErrInsideMessage in the middle of a message.
func (c *Conn) WrapTransport(wrap func(r io.Reader, nc net.Conn) io.ReadWriter) error {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.rem > 0 || c.frag || c.inf != nil || c.zcp != nil {
		return ErrInsideMessage
	}
	rw := wrap(c.br, c.nc)
	c.wrapped = rw
	c.br = bufio.NewReaderSize(rw, readBufferSize)
	return nil
}

// appendWriter is an io.Writer appending to a slice it owns.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func newConn(nc net.Conn, br *bufio.Reader, compress bool, maxFrame, maxMsg int64) *Conn {
	if maxFrame == 0 {
		maxFrame = DefaultMaxFrameSize
	}
	c := &Conn{nc: nc, br: br, compress: compress, maxFrame: maxFrame}
	c.setMaxMessageSize(maxMsg)
	return c
}

// SetMaxMessageSize sets the limit of Config.MaxMessageSize for this
// connection: a compressed message may inflate to at most n bytes and
// carry at most CompressedSizeFactor*n compressed bytes. Zero or negative
// means DefaultMaxMessageSize. Call it before the first Read, as a server
// does that learns only after the handshake which protocol the connection
// speaks; called later, it holds a message being read to the new limits
// from then on.
func (c *Conn) SetMaxMessageSize(n int64) {
	c.rmu.Lock()
	c.setMaxMessageSize(n)
	c.rmu.Unlock()
}

func (c *Conn) setMaxMessageSize(n int64) {
	if n <= 0 {
		n = DefaultMaxMessageSize
	}
	n = min(n, math.MaxInt64/CompressedSizeFactor)
	c.maxMsg, c.maxZ = n, n*CompressedSizeFactor
}

// PendingBytes estimates the memory the connection holds for the message
// being read, beyond its fixed read buffer: bytes received and not yet
// returned by Read, plus, while a compressed message is open, the 4 KiB
// buffer collecting its start or the decompressor (its 32 KiB window,
// tables and input buffers, about 44 KiB) once it inflates. A server counts it
// against its budget for connections that have not authenticated. It is
// safe to call from any goroutine at any time; the value is the one of the
// reader's last step, so it may lag a Read in progress by one read.
func (c *Conn) PendingBytes() int { return int(c.pending.Load()) }

// notePending publishes what PendingBytes reports. c.rmu is held.
func (c *Conn) notePending() {
	n := c.br.Buffered()
	if c.inf != nil {
		n += inflaterBytes
	}
	if c.zcp != nil {
		n += cap(*c.zcp)
	}
	c.pending.Store(int64(n))
}

// Request returns the HTTP request of the opening handshake: headers,
// cookies (r.Cookie), URL path and query, RemoteAddr, and TLS, which is
// non-nil when the connection came through a TLS listener. Its body is
// empty. The caller must not modify it.
func (c *Conn) Request() *http.Request { return c.req }

// Subprotocol returns the negotiated Sec-WebSocket-Protocol, or "".
func (c *Conn) Subprotocol() string { return c.subprotocol }

// Compressed reports whether permessage-deflate was negotiated.
func (c *Conn) Compressed() bool { return c.compress }

// NetConn returns the underlying connection (a *tls.Conn for wss).
// Reading or writing it directly corrupts the WebSocket stream.
func (c *Conn) NetConn() net.Conn { return c.nc }

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// RemoteAddr returns the peer's network address (not X-Forwarded-For,
// which is in Request().Header).
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// SetDeadline sets the read and write deadlines of the underlying connection.
func (c *Conn) SetDeadline(t time.Time) error { return c.nc.SetDeadline(t) }

// SetReadDeadline sets the read deadline of the underlying connection. A
// Read that times out can be retried: no frame state is lost, unless it
// timed out inside the decompressor in the middle of compressed data,
// which cannot resume: then the timeout ends reading.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.nc.SetReadDeadline(t) }

// SetWriteDeadline sets the write deadline of the underlying connection.
// A Write that times out may have sent part of a frame, so the connection
// is unusable for writing afterwards.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.nc.SetWriteDeadline(t) }

// Read reads application data. It answers pings and the close handshake
// itself. It returns io.EOF after the peer's close frame (which it
// echoes), a *CloseError after a protocol violation by the peer (answered
// with a close frame carrying the same code), and otherwise the errors of
// the underlying connection.
//
// Read blocks only until some data is available, then goes on through the
// frames already buffered so that many small messages come out of one
// call, as they would from a TCP read.
func (c *Conn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	n, err := c.read(p)
	c.notePending()
	c.rmu.Unlock()
	return n, err
}

// read is Read with c.rmu held.
func (c *Conn) read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, c.rerr
	}
	n := 0
	for n < len(p) {
		if c.rerr != nil {
			break
		}
		// Once something was read, go on only with what is buffered.
		more := n == 0
		var err error
		switch {
		case c.inf != nil:
			// The decompressor reads the frames itself and may block
			// for more of them: only go on when the rest of the message
			// is buffered.
			if !more && !c.inflateBuffered() {
				return n, nil
			}
			var m int
			m, err = c.readInflated(p[n:])
			n += m
		case c.zcp != nil && c.rem > 0:
			if !more && c.br.Buffered() == 0 {
				return n, nil
			}
			err = c.collect(more)
		case c.rem > 0 && c.zskip:
			if !more && c.br.Buffered() == 0 {
				return n, nil
			}
			err = c.skipPayload()
		case c.rem > 0:
			q := p[n:]
			if int64(len(q)) > c.rem {
				q = q[:c.rem]
			}
			if !more {
				if b := c.br.Buffered(); b == 0 {
					return n, nil
				} else if len(q) > b {
					q = q[:b]
				}
			}
			var m int
			m, err = c.readPayload(q)
			n += m
		default:
			if !c.frameBuffered() {
				if !more {
					return n, nil
				}
				c.notePending() // true while blocked for the header
			}
			err = c.nextFrame()
		}
		if err != nil {
			if n > 0 && c.rerr != nil {
				break // the error comes with the next call
			}
			return n, err
		}
	}
	if n == 0 && c.rerr != nil {
		return 0, c.rerr
	}
	return n, nil
}

// readPayload reads and unmasks payload of an uncompressed data frame
// into q, which is no longer than what remains of the frame.
func (c *Conn) readPayload(q []byte) (int, error) {
	n, err := c.br.Read(q)
	if n == 0 {
		return 0, c.ioError(err, false)
	}
	q = q[:n]
	c.unmask(q)
	c.rem -= int64(n)
	if c.text && !c.utf.feed(q) {
		return 0, c.fail(StatusInvalidPayloadData, "invalid UTF-8 in text message")
	}
	if c.rem == 0 && c.fin {
		if err := c.endMessage(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// frameBuffered reports whether the next frame header, and for a control
// frame its payload, are in the read buffer, so that nextFrame will not
// block.
func (c *Conn) frameBuffered() bool {
	b := c.br.Buffered()
	if b < 2 {
		return false
	}
	h, _ := c.br.Peek(2)
	need := 2
	if h[1]&maskBit != 0 {
		need += 4
	}
	switch n := int(h[1] & 0x7F); {
	case h[0]&0x08 != 0:
		need += n // control frame; an invalid length fails without reading
		if n > maxControlPayload {
			need = 2
		}
	case n == 126:
		need += 2
	case n == 127:
		need += 8
	}
	return b >= need
}

// nextFrame reads a frame header and handles control frames whole. The
// header is only consumed once all of it is buffered, so a timeout leaves
// the state as it was.
func (c *Conn) nextFrame() error {
	var h []byte
	if avail := c.br.Buffered(); avail >= 2 {
		h, _ = c.br.Peek(min(avail, maxHeaderLen)) // cannot block or fail
	} else {
		var err error
		if h, err = c.br.Peek(2); err != nil {
			return c.ioError(err, len(h) == 0)
		}
	}
	b0, b1 := h[0], h[1]
	fin, op := b0&finBit != 0, b0&0x0F
	control := op&0x08 != 0
	n := int(b1 & 0x7F)
	switch {
	case b0&rsv23 != 0:
		return c.fail(StatusProtocolError, "reserved bits set")
	case b0&rsv1Bit != 0 && (!c.compress || control || op == opContinuation):
		return c.fail(StatusProtocolError, "unexpected RSV1 bit")
	case op != opContinuation && op != opText && op != opBinary && op != opClose && op != opPing && op != opPong:
		return c.fail(StatusProtocolError, "unknown opcode")
	case b1&maskBit == 0 && !c.client && !c.noMask:
		return c.fail(StatusProtocolError, "client frame not masked")
	case b1&maskBit != 0 && c.client:
		return c.fail(StatusProtocolError, "server frame masked")
	case control && !fin:
		return c.fail(StatusProtocolError, "fragmented control frame")
	case control && n > maxControlPayload:
		return c.fail(StatusProtocolError, "control frame larger than 125 bytes")
	case op == opContinuation && !c.frag:
		return c.fail(StatusProtocolError, "continuation frame without a message")
	case (op == opText || op == opBinary) && c.frag:
		return c.fail(StatusProtocolError, "new message inside a fragmented one")
	}
	masked := b1&maskBit != 0
	hlen := 2
	if masked {
		hlen += 4
	}
	switch n {
	case 126:
		hlen += 2
	case 127:
		hlen += 8
	}
	if control {
		total := hlen + n
		f, err := c.br.Peek(total)
		if err != nil {
			return c.ioError(err, false)
		}
		payload := f[hlen:total]
		if masked {
			maskBytes([4]byte(f[hlen-4:hlen]), 0, payload)
		}
		err = c.control(op, payload)
		c.br.Discard(total)
		return err
	}
	if len(h) < hlen {
		var err error
		if h, err = c.br.Peek(hlen); err != nil {
			return c.ioError(err, false)
		}
	}
	length := uint64(n)
	switch n {
	case 126:
		length = uint64(binary.BigEndian.Uint16(h[2:]))
	case 127:
		length = binary.BigEndian.Uint64(h[2:])
		if length>>63 != 0 {
			return c.fail(StatusProtocolError, "invalid payload length")
		}
	}
	if op != opContinuation {
		c.text = op == opText
		c.deflated = b0&rsv1Bit != 0
		c.utf.reset()
		c.zin, c.zread, c.zout, c.ztail, c.zskip = 0, 0, 0, 0, false
	}
	switch {
	case c.deflated && length > uint64(c.maxZ-c.zin):
		return c.fail(StatusMessageTooBig, "compressed message too large")
	case c.maxFrame > 0 && length > uint64(c.maxFrame):
		return c.fail(StatusMessageTooBig, "frame too large")
	}
	c.masked = masked
	if masked {
		copy(c.key[:], h[hlen-4:hlen])
	}
	c.br.Discard(hlen)
	c.kpos = 0
	c.rem = int64(length)
	c.fin = fin
	c.frag = !fin
	switch {
	case !c.deflated:
		if length == 0 && fin {
			return c.endMessage()
		}
	case op != opContinuation:
		c.zin = int64(length)
		c.startInflate()
	default:
		c.zin += int64(length)
		switch {
		case length == 0 && fin && c.zskip:
			c.zskip, c.deflated = false, false
		case length == 0 && fin && c.zcp != nil:
			c.inflateCollected()
		}
	}
	return nil
}

// unmask unmasks payload q of the current frame, which follows what was
// unmasked before.
func (c *Conn) unmask(q []byte) {
	if c.masked {
		c.kpos = maskBytes(c.key, c.kpos, q)
	}
}

// control acts on a ping, pong or close frame whose payload is unmasked.
func (c *Conn) control(op byte, payload []byte) error {
	switch op {
	case opPing:
		// A failed pong shows up on the next Write; reading goes on.
		c.writeControl(opPong, payload)
	case opClose:
		var echo []byte
		if len(payload) == 1 {
			return c.fail(StatusProtocolError, "close frame payload of 1 byte")
		}
		if len(payload) >= 2 {
			code := StatusCode(binary.BigEndian.Uint16(payload))
			if !validWireCode(code) {
				return c.fail(StatusProtocolError, "invalid close code")
			}
			if !utf8.Valid(payload[2:]) {
				return c.fail(StatusInvalidPayloadData, "invalid UTF-8 in close reason")
			}
			echo = payload[:2]
		}
		// Echo the status code (RFC 6455 section 5.5.1) and stop reading.
		c.writeControl(opClose, echo)
		c.rerr = io.EOF
		return io.EOF
	}
	return nil
}

// endMessage checks the end of a complete uncompressed message.
func (c *Conn) endMessage() error {
	if c.text && !c.utf.complete() {
		return c.fail(StatusInvalidPayloadData, "invalid UTF-8 in text message")
	}
	c.text = false
	return nil
}

// ioError turns an error of the underlying reader into Read's result.
// Timeouts are returned as they are and may be retried; anything else
// ends reading. EOF between frames is a plain io.EOF, as on TCP.
func (c *Conn) ioError(err error, boundary bool) error {
	if err == nil {
		err = io.ErrNoProgress
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return err
	}
	if err == io.EOF && !(boundary && !c.frag && c.inf == nil) {
		err = io.ErrUnexpectedEOF
	}
	c.rerr = err
	return err
}

// fail sends a close frame for a protocol violation and ends reading.
func (c *Conn) fail(code StatusCode, reason string) error {
	if c.rerr != nil {
		return c.rerr // reading ended already, with its own close frame
	}
	c.writeClose(code, reason)
	c.rerr = &CloseError{Code: code, Reason: reason}
	c.failed.Store(true)
	return c.rerr
}

// Write sends p as one binary message, compressed when permessage-deflate
// was negotiated and p is not tiny. It does not keep p.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr != nil {
		return 0, c.werr
	}
	if c.closeSent {
		return 0, ErrCloseSent
	}
	if len(p) == 0 {
		return 0, nil // like TCP: nothing to send, not even an empty frame
	}
	if c.compress && len(p) >= compressThreshold {
		if err := c.writeDeflated(p); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	if err := c.writeFrame(opBinary, false, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// WriteBuffers sends the concatenation of v as one binary message: the
// header and the buffers go out with one writev when not compressed, so a
// server flushing a batch of pending buffers pays one frame and one system
// call for all of them. It does not modify or keep v.
func (c *Conn) WriteBuffers(v [][]byte) (int64, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr != nil {
		return 0, c.werr
	}
	if c.closeSent {
		return 0, ErrCloseSent
	}
	total := 0
	for _, b := range v {
		total += len(b)
	}
	switch {
	case total == 0:
		return 0, nil
	case len(v) == 1 && !(c.compress && total >= compressThreshold):
		if err := c.writeFrame(opBinary, false, v[0]); err != nil {
			return 0, err
		}
	case c.maskWrites() && !(c.compress && total >= compressThreshold):
		// Masked through a scratch buffer, straight from v.
		if err := c.writeMasked(opBinary, false, v, total); err != nil {
			return 0, err
		}
	case c.compress && total >= compressThreshold, total <= copyThreshold:
		// Gather: deflate wants one input, a small frame one write.
		c.wbuf = c.wbuf[:0]
		for _, b := range v {
			c.wbuf = append(c.wbuf, b...)
		}
		var err error
		if c.compress && total >= compressThreshold {
			err = c.writeDeflated(c.wbuf)
		} else {
			err = c.writeFrame(opBinary, false, c.wbuf)
		}
		if cap(c.wbuf) > keepBuffer {
			c.wbuf = nil
		}
		if err != nil {
			return 0, err
		}
	default:
		n := putHeader(c.hdr[:], opBinary, false, total)
		c.iov = append(append(c.iov[:0], c.hdr[:n]), v...)
		if err := c.writeIOV(); err != nil {
			return 0, err
		}
	}
	return int64(total), nil
}

// writeDeflated sends p as one compressed message. c.wmu is held.
func (c *Conn) writeDeflated(p []byte) error {
	if err := c.deflate(p); err != nil {
		return err
	}
	err := c.writeFrame(opBinary, true, c.zbuf.b)
	if cap(c.zbuf.b) > keepBuffer {
		c.zbuf.b = nil
	}
	return err
}

// deflate compresses p into zbuf as one self-contained message. With no
// context takeover the stateless encoder fits: nothing to reset or pool.
func (c *Conn) deflate(p []byte) error {
	c.zbuf.b = c.zbuf.b[:0]
	if err := flate.StatelessDeflate(&c.zbuf, p, false, nil); err != nil {
		return err
	}
	// The output ends with an empty stored block, 0x00 0x00 0xff 0xff,
	// which the message omits (RFC 7692 section 7.2.1).
	b := c.zbuf.b
	if len(b) < 4 || string(b[len(b)-4:]) != "\x00\x00\xff\xff" {
		return errors.New("websocket: deflate output lacks its sync marker")
	}
	c.zbuf.b = b[:len(b)-4]
	return nil
}

// maskWrites reports whether the frames this end sends are masked: a
// client's, unless the server agreed to Nats-No-Masking.
func (c *Conn) maskWrites() bool { return c.client && !c.noMask }

// writeFrame writes one final frame. c.wmu is held.
func (c *Conn) writeFrame(op byte, compressed bool, payload []byte) error {
	if c.maskWrites() {
		c.one[0] = payload
		err := c.writeMasked(op, compressed, c.one[:], len(payload))
		c.one[0] = nil
		return err
	}
	n := putHeader(c.hdr[:], op, compressed, len(payload))
	if len(payload) > copyThreshold {
		c.iov = append(c.iov[:0], c.hdr[:n], payload)
		return c.writeIOV()
	}
	// payload may be c.wbuf itself (WriteBuffers): build the frame in
	// place then, moving the payload behind the header.
	if len(payload) > 0 && len(c.wbuf) > 0 && &payload[0] == &c.wbuf[0] {
		c.wbuf = append(c.wbuf, c.hdr[:n]...)
		copy(c.wbuf[n:], c.wbuf[:len(payload)])
		copy(c.wbuf, c.hdr[:n])
	} else {
		c.wbuf = append(append(c.wbuf[:0], c.hdr[:n]...), payload...)
	}
	if _, err := c.out().Write(c.wbuf); err != nil {
		c.werr = err
		return err
	}
	return nil
}

// maskChunk is the scratch buffer a masking client end copies payload
// into (Write does not modify p): a frame larger than it goes out in
// several writes of maskChunk bytes.
const maskChunk = 32 << 10

// writeMasked writes one final masked frame whose payload is the
// concatenation of v (total bytes), copied and masked through c.mbuf.
// c.wmu is held.
func (c *Conn) writeMasked(op byte, compressed bool, v [][]byte, total int) error {
	n := putHeader(c.hdr[:], op, compressed, total)
	c.hdr[1] |= maskBit
	key := uint32(c.rng.Uint64())
	binary.LittleEndian.PutUint32(c.hdr[n:], key)
	n += 4
	if c.mbuf == nil {
		c.mbuf = make([]byte, 0, maskChunk)
	}
	var k [4]byte
	binary.LittleEndian.PutUint32(k[:], key)
	buf := append(c.mbuf[:0], c.hdr[:n]...)
	pos := 0
	for _, b := range v {
		for len(b) > 0 {
			m := min(len(b), cap(buf)-len(buf))
			start := len(buf)
			buf = append(buf, b[:m]...)
			pos = maskBytes(k, pos, buf[start:])
			b = b[m:]
			if len(buf) == cap(buf) {
				if _, err := c.out().Write(buf); err != nil {
					c.werr = err
					return err
				}
				buf = buf[:0]
			}
		}
	}
	if len(buf) > 0 {
		if _, err := c.out().Write(buf); err != nil {
			c.werr = err
			return err
		}
	}
	return nil
}

// out is where frames are written: the connection, or the layer
// WrapTransport put on it. c.wmu is held.
func (c *Conn) out() io.Writer {
	if c.wrapped != nil {
		return c.wrapped
	}
	return c.nc
}

// writeIOV writes the buffers in c.iov with writev (or the wrapping
// layer's WriteBuffers, one batch) and forgets them.
func (c *Conn) writeIOV() error {
	var err error
	if bw, ok := c.wrapped.(interface {
		WriteBuffers([][]byte) (int64, error)
	}); ok {
		_, err = bw.WriteBuffers(c.iov)
	} else {
		c.bufs = c.iov
		_, err = c.bufs.WriteTo(c.out())
	}
	clear(c.iov)
	c.iov = c.iov[:0]
	c.bufs = nil
	if err != nil {
		c.werr = err
	}
	return err
}

// writeControl sends a ping, pong or close frame unless a close frame
// went out already.
func (c *Conn) writeControl(op byte, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr != nil {
		return c.werr
	}
	if c.closeSent {
		return ErrCloseSent
	}
	if op == opClose {
		c.closeSent = true
	}
	return c.writeFrame(op, false, payload)
}

// writeClose sends a close frame with code and reason, the reason cut to
// fit a control frame on a UTF-8 boundary. Codes that may not be sent
// give a close frame without payload.
func (c *Conn) writeClose(code StatusCode, reason string) error {
	var b [maxControlPayload]byte
	if !validWireCode(code) {
		return c.writeControl(opClose, nil)
	}
	binary.BigEndian.PutUint16(b[:], uint16(code))
	if len(reason) > len(b)-2 {
		reason = reason[:len(b)-2]
		for len(reason) > 0 && !utf8.ValidString(reason) {
			reason = reason[:len(reason)-1]
		}
	}
	n := 2 + copy(b[2:], reason)
	return c.writeControl(opClose, b[:n])
}

// Close sends a close frame with StatusNormalClosure, unless one was sent
// already, and closes the underlying connection.
func (c *Conn) Close() error { return c.CloseWithStatus(StatusNormalClosure, "") }

// CloseWithStatus sends a close frame with code and reason (cut to 123
// bytes), unless one was sent already, and closes the underlying
// connection without waiting for the peer's answer, as upstream does. It
// spends at most a second on the close frame: a Write blocked on a peer
// that does not read is cut off. After a protocol failure of the peer's
// (a close frame the reader sent), the connection is half-closed and
// what the peer still sends is discarded for up to a second before it
// closes, in the background, so that the peer reads the close frame
// rather than a reset. A second call returns net.ErrClosed.
func (c *Conn) CloseWithStatus(code StatusCode, reason string) error {
	if !c.closing.CompareAndSwap(false, true) {
		return net.ErrClosed
	}
	c.nc.SetWriteDeadline(time.Now().Add(closeTimeout))
	c.writeClose(code, reason)
	c.wmu.Lock()
	c.closeSent = true
	if c.werr == nil {
		c.werr = net.ErrClosed
	}
	c.wmu.Unlock()
	if c.failed.Load() {
		if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
			// The peer may still be sending what was refused (a message
			// past a limit): closing with its bytes unread would reset
			// the connection, and the reset can destroy the close frame
			// before the peer reads it. Half-close, and discard what it
			// sends for a while (closeTimeout, lingerMax bytes) first.
			cw.CloseWrite()
			go c.linger()
			return nil
		}
	}
	return c.nc.Close()
}

// linger discards what the peer still sends after a half-close, until it
// closes too, closeTimeout passes or lingerMax bytes came, then closes.
func (c *Conn) linger() {
	c.nc.SetReadDeadline(time.Now().Add(closeTimeout))
	buf := make([]byte, 32<<10)
	for n := 0; n < lingerMax; {
		k, err := c.nc.Read(buf)
		n += k
		if err != nil {
			break
		}
	}
	c.nc.Close()
}
