package packet

import (
	"errors"
	"io"
)

const (
	minBufSize = 64
	// keepBufSize is the largest buffer a Reader keeps once it is empty;
	// a larger one, grown for a large packet, goes back to bufSize.
	keepBufSize = 64 << 10
	maxPacket   = 5 + maxVarint
)

// Reader reads whole MQTT packets from a byte stream. It reads in chunks
// of up to its buffer size, and grows the buffer only as the bytes of a
// packet larger than it arrive, never ahead of them, up to the maximum set
// with SetMax. A stream that keeps filling the buffer gets a larger one
// (up to 64 KiB) once it is drained, so a busy connection reads in large
// chunks and an idle one holds little. A Reader is used by one goroutine.
type Reader struct {
	r          io.Reader
	buf        []byte // len(buf) is its capacity
	start, end int    // buffered bytes not yet returned: buf[start:end]
	size       int    // base buffer size
	max        int    // largest packet accepted, 0 for the protocol's limit
	err        error  // sticky read error, returned once buf is drained
	got        int    // bytes read so far (bounds the buffer's growth)
}

// NewReader returns a Reader on r with a buffer of bufSize bytes: 4096 when
// bufSize <= 0, at least 64.
func NewReader(r io.Reader, bufSize int) *Reader {
	if bufSize <= 0 {
		bufSize = 4096
	}
	bufSize = max(bufSize, minBufSize)
	return &Reader{r: r, buf: make([]byte, bufSize), size: bufSize}
}

// ErrWouldBlock is what a non-blocking source returns from Read when it
// has no bytes now. Unlike other errors it is not sticky: Next returns it
// with the bytes of a partial packet kept, and the next call to Next goes
// on where it stopped.
var ErrWouldBlock = errors.New("packet: no bytes available now")

// SetSource makes the Reader read from src from now on, keeping what it
// has buffered (a connection that moves from an event loop to a
// goroutine of its own).
func (r *Reader) SetSource(src io.Reader) { r.r = src }

// SetMax sets the largest packet, fixed header included, that Next accepts;
// n <= 0 means the protocol's limit (268435460 bytes).
func (r *Reader) SetMax(n int) { r.max = n }

// Buffered reports whether bytes past the last packet returned are already
// buffered, so a caller can batch its answers and flush once it is false.
func (r *Reader) Buffered() bool { return r.end > r.start }

// Next returns the next packet: its type, the flags of its fixed header and
// its body (variable header and payload). body aliases the Reader's buffer
// and is valid until the next call to Next.
//
// The flags are checked with CheckFlags. A remaining length longer than 4
// bytes is ErrMalformed; a packet larger than the maximum is ErrTooLarge as
// soon as its length is known. Both are *ReasonError. A stream that ends
// between packets returns io.EOF, inside one io.ErrUnexpectedEOF; other read
// errors are returned as they are. After an error the stream is no longer
// in step with packet boundaries: the caller closes the connection.
func (r *Reader) Next() (typ, flags byte, body []byte, err error) {
	if r.start == r.end {
		r.start, r.end = 0, 0
		if len(r.buf) > max(r.size, keepBufSize) || len(r.buf) < r.size {
			r.buf = make([]byte, r.size)
		}
	}
	for {
		b := r.buf[r.start:r.end]
		if len(b) >= 2 {
			rl, n := readVarint(b[1:])
			if n < 0 {
				return 0, 0, nil, malformed("remaining length longer than 4 bytes")
			}
			if n > 0 {
				total := 1 + n + int(rl)
				if total > r.limit() {
					return 0, 0, nil, &ReasonError{Code: PacketTooLarge, Msg: "packet larger than the maximum"}
				}
				if err := r.fill(total); err != nil {
					return 0, 0, nil, err
				}
				p := r.buf[r.start : r.start+total : r.start+total]
				r.start += total
				typ, flags = p[0]>>4, p[0]&0x0f
				if err := CheckFlags(typ, flags); err != nil {
					return 0, 0, nil, err
				}
				return typ, flags, p[1+n:], nil
			}
		}
		if err := r.read(r.end - r.start + 1); err != nil {
			if err == io.EOF && r.end > r.start {
				err = io.ErrUnexpectedEOF
			}
			return 0, 0, nil, err
		}
	}
}

func (r *Reader) limit() int {
	if r.max <= 0 {
		return maxPacket
	}
	return r.max
}

// fill makes sure the next total bytes are buffered.
func (r *Reader) fill(total int) error {
	for r.end-r.start < total {
		if err := r.read(total); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// read reads once into the free end of the buffer, first moving the
// buffered bytes to the front, or when they fill it growing the buffer
// towards need bytes, at most doubling it.
func (r *Reader) read(need int) error {
	if r.err != nil {
		return r.err
	}
	if r.end == len(r.buf) {
		if r.start == 0 {
			nb := make([]byte, min(2*len(r.buf), max(need, len(r.buf)+1)))
			copy(nb, r.buf)
			r.buf = nb
		} else {
			r.end = copy(r.buf, r.buf[r.start:r.end])
			r.start = 0
		}
	}
	for range 100 {
		n, err := r.r.Read(r.buf[r.end:])
		r.end += n
		if err == ErrWouldBlock {
			// Not sticky: the stream goes on once it has bytes again.
			if n > 0 {
				r.got += n
				return nil
			}
			return err
		}
		if err != nil {
			r.err = err
			if n > 0 {
				return nil
			}
			return err
		}
		if n > 0 {
			r.got += n
			if r.end == len(r.buf) && 2*n >= len(r.buf) && r.size < keepBufSize {
				// A large read filled the buffer: the stream has more to
				// give, so read more at a time from the next empty buffer
				// on (within the maximum, and never more than twice what
				// arrived so far).
				size := min(2*r.size, keepBufSize, 2*r.got)
				if r.max > 0 {
					size = min(size, max(r.max, r.size))
				}
				r.size = max(size, r.size)
			}
			return nil
		}
	}
	r.err = io.ErrNoProgress
	return r.err
}
