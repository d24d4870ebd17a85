package websocket

import (
	"bufio"
	"bytes"
	stdflate "compress/flate"
	"encoding/binary"
	"io"
	"net"
	"time"
)

// appendClientFrame appends a client frame: masked with key unless
// unmasked, with the given first byte flags (FIN, RSV) and opcode. It is
// written from RFC 6455 section 5.2 independently of the package's reader.
func appendClientFrame(dst []byte, b0 byte, key [4]byte, masked bool, payload []byte) []byte {
	var b1 byte
	if masked {
		b1 = 0x80
	}
	n := len(payload)
	switch {
	case n < 126:
		dst = append(dst, b0, b1|byte(n))
	case n < 1<<16:
		dst = append(dst, b0, b1|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	if !masked {
		return append(dst, payload...)
	}
	dst = append(dst, key[:]...)
	for i, b := range payload {
		dst = append(dst, b^key[i%4])
	}
	return dst
}

// deflateForTest compresses one message the way a client does (RFC 7692
// section 7.2.1), with the standard library as an independent encoder.
func deflateForTest(p []byte) []byte {
	var b bytes.Buffer
	w, _ := stdflate.NewWriter(&b, stdflate.DefaultCompression)
	w.Write(p)
	w.Flush()
	out := b.Bytes()
	return out[:len(out)-4]
}

// inflateForTest decompresses a server message with the standard library.
func inflateForTest(p []byte) ([]byte, error) {
	r := stdflate.NewReader(io.MultiReader(bytes.NewReader(p), bytes.NewReader(deflateTail)))
	return io.ReadAll(r)
}

// fakeConn is a net.Conn reading from r and recording what is written.
type fakeConn struct {
	r io.Reader
	w bytes.Buffer
}

func (f *fakeConn) Read(p []byte) (int, error)         { return f.r.Read(p) }
func (f *fakeConn) Write(p []byte) (int, error)        { return f.w.Write(p) }
func (f *fakeConn) Close() error                       { return nil }
func (f *fakeConn) LocalAddr() net.Addr                { return &net.TCPAddr{} }
func (f *fakeConn) RemoteAddr() net.Addr               { return &net.TCPAddr{} }
func (f *fakeConn) SetDeadline(t time.Time) error      { return nil }
func (f *fakeConn) SetReadDeadline(t time.Time) error  { return nil }
func (f *fakeConn) SetWriteDeadline(t time.Time) error { return nil }

// discardConn reads an endless repetition of a byte slice and discards
// what is written, for benchmarks.
type discardConn struct {
	fakeConn
	data []byte
	off  int
}

func (d *discardConn) Read(p []byte) (int, error) {
	n := copy(p, d.data[d.off:])
	d.off += n
	if d.off == len(d.data) {
		d.off = 0
	}
	return n, nil
}

func (d *discardConn) Write(p []byte) (int, error) { return len(p), nil }

// chunkReader hands out its data in pieces of the given sizes (cycled).
type chunkReader struct {
	data  []byte
	sizes []int
	i     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := len(p)
	if len(c.sizes) > 0 {
		n = min(n, c.sizes[c.i%len(c.sizes)])
		c.i++
	}
	n = copy(p, c.data[:min(n, len(c.data))])
	c.data = c.data[n:]
	return n, nil
}

// newTestConn returns a Conn reading r, as if the handshake had succeeded.
func newTestConn(nc net.Conn, compress bool, maxFrame int64) *Conn {
	return newConn(nc, bufio.NewReaderSize(nc, readBufferSize), compress, maxFrame, 0)
}

// serverFrame is a frame parsed from what the server wrote.
type serverFrame struct {
	b0      byte
	payload []byte
}

// parseServerFrames splits the server's output into frames; it fails the
// parse (ok false) on masked or truncated frames.
func parseServerFrames(b []byte) (frames []serverFrame, ok bool) {
	for len(b) > 0 {
		if len(b) < 2 || b[1]&0x80 != 0 {
			return frames, false
		}
		n, h := uint64(b[1]&0x7F), 2
		switch n {
		case 126:
			if len(b) < 4 {
				return frames, false
			}
			n, h = uint64(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			if len(b) < 10 {
				return frames, false
			}
			n, h = binary.BigEndian.Uint64(b[2:]), 10
		}
		if uint64(len(b)-h) < n {
			return frames, false
		}
		frames = append(frames, serverFrame{b0: b[0], payload: b[h : h+int(n)]})
		b = b[h+int(n):]
	}
	return frames, true
}
