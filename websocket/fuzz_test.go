package websocket

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzReadFrames feeds the frame reader twice per input:
//
//  1. the raw bytes as client frames: Read must end (bounded steps) with
//     io.EOF, io.ErrUnexpectedEOF or a *CloseError whose close frame is the
//     last thing the server wrote, and the server output must be well formed;
//  2. a valid stream derived from the bytes (messages, fragments, pings,
//     compression), encoded by the test encoder and cut at random points:
//     Read must return exactly the payloads, answer every ping and end with
//     io.EOF after echoing the close frame;
//  3. the bytes as one compressed message in fragments, read with a
//     message size limit drawn from them: within the limits Read returns
//     the message; past them it returns at most the limit's worth of its
//     start, then a 1009 *CloseError.
func FuzzReadFrames(f *testing.F) {
	key := [4]byte{1, 2, 3, 4}
	seed := func(frames ...[]byte) []byte { return bytes.Join(frames, nil) }
	f.Add(seed(appendClientFrame(nil, 0x82, key, true, []byte("hello"))), false)
	f.Add(seed(appendClientFrame(nil, 0x01, key, true, []byte("hel")),
		appendClientFrame(nil, 0x89, key, true, []byte("p")),
		appendClientFrame(nil, 0x80, key, true, []byte("lo"))), false)
	f.Add(seed(appendClientFrame(nil, 0xC2, key, true, deflateForTest(bytes.Repeat([]byte("abc"), 100)))), true)
	f.Add(seed(appendClientFrame(nil, 0x88, key, true, []byte{0x03, 0xE8, 'o', 'k'})), false)
	f.Add(seed(appendClientFrame(nil, 0x82, key, false, []byte("x"))), false)
	f.Add(seed(appendClientFrame(nil, 0x81, key, true, []byte{0xff})), true)
	f.Add([]byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0}, false)
	f.Fuzz(func(t *testing.T, data []byte, compress bool) {
		checkArbitrary(t, data, compress)
		checkValidStream(t, data, compress)
		checkLimits(t, data)
	})
}

func checkArbitrary(t *testing.T, data []byte, compress bool) {
	fc := &fakeConn{r: bytes.NewReader(data)}
	c := newConn(fc, bufio.NewReaderSize(fc, readBufferSize), compress, 1<<20, 1<<12)
	buf := make([]byte, 61)
	var err error
	// Each Read consumes input or produces inflated output (at most 1032
	// bytes per input byte), so this bound is never reached honestly.
	limit := 64 + len(data)*1100/len(buf)
	for i := 0; err == nil; i++ {
		if i > limit {
			t.Fatalf("no end after %d reads", i)
		}
		_, err = c.Read(buf)
	}
	frames, ok := parseServerFrames(fc.w.Bytes())
	if !ok {
		t.Fatalf("server wrote malformed frames: %x", fc.w.Bytes())
	}
	for i, fr := range frames {
		switch fr.b0 {
		case 0x8A: // pong
		case 0x88:
			if i != len(frames)-1 {
				t.Fatalf("frames after close: %d of %d", i, len(frames))
			}
			if len(fr.payload) == 1 || len(fr.payload) > 125 {
				t.Fatalf("bad close payload %x", fr.payload)
			}
			if len(fr.payload) >= 2 && !utf8.Valid(fr.payload[2:]) {
				t.Fatalf("close reason not UTF-8: %q", fr.payload[2:])
			}
		default:
			t.Fatalf("server sent frame %#x while only reading", fr.b0)
		}
	}
	var ce *CloseError
	switch {
	case errors.As(err, &ce):
		if len(frames) == 0 {
			t.Fatalf("%v without a close frame", err)
		}
		last := frames[len(frames)-1]
		if last.b0 != 0x88 || binary.BigEndian.Uint16(last.payload) != uint16(ce.Code) {
			t.Fatalf("%v but last frame %#x %x", err, last.b0, last.payload)
		}
	case err == io.EOF, err == io.ErrUnexpectedEOF:
	default:
		t.Fatalf("unexpected error %v", err)
	}
	// Reading on after the end returns the same error.
	if _, err2 := c.Read(buf); err2 != err {
		t.Fatalf("second Read: %v, first %v", err2, err)
	}
}

func checkValidStream(t *testing.T, data []byte, compress bool) {
	h := fnv.New64a()
	h.Write(data)
	rng := rand.New(rand.NewPCG(h.Sum64(), uint64(len(data))))

	var stream, want, wantPongs []byte
	var key [4]byte
	frame := func(b0 byte, payload []byte) {
		binary.LittleEndian.PutUint32(key[:], rng.Uint32())
		stream = appendClientFrame(stream, b0, key, true, payload)
	}
	rest := data
	for len(rest) > 0 {
		n := rng.IntN(len(rest) + 1)
		msg := rest[:n]
		rest = rest[n:]
		want = append(want, msg...)
		op := byte(opBinary)
		if utf8.Valid(msg) && rng.IntN(2) == 0 {
			op = opText
		}
		wire := msg
		var rsv byte
		if compress && rng.IntN(2) == 0 {
			wire, rsv = deflateForTest(msg), rsv1Bit
		}
		// Cut the message into fragments with pings in between.
		for first := true; ; first = false {
			k := rng.IntN(len(wire) + 1)
			b0 := byte(opContinuation)
			if first {
				b0 = op | rsv
			}
			if k == len(wire) {
				b0 |= finBit
			}
			frame(b0, wire[:k])
			wire = wire[k:]
			if b0&finBit != 0 {
				break
			}
			if rng.IntN(3) == 0 {
				ping := data[:rng.IntN(min(len(data), 125)+1)]
				frame(finBit|opPing, ping)
				wantPongs = appendServerFrameForTest(wantPongs, opPong, ping)
			}
		}
	}
	frame(finBit|opClose, []byte{0x03, 0xE8})

	sizes := make([]int, 1+rng.IntN(8))
	for i := range sizes {
		sizes[i] = 1 + rng.IntN(300)
	}
	fc := &fakeConn{r: &chunkReader{data: stream, sizes: sizes}}
	c := newTestConn(fc, compress, 1<<20)
	var got []byte
	var err error
	for i := 0; err == nil; i++ {
		if i > 10*len(stream)+64 {
			t.Fatal("no end")
		}
		buf := make([]byte, 1+rng.IntN(200))
		var n int
		n, err = c.Read(buf)
		got = append(got, buf[:n]...)
	}
	if err != io.EOF {
		t.Fatalf("valid stream ended with %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %q, want %q", got, want)
	}
	wantOut := appendServerFrameForTest(wantPongs, opClose, []byte{0x03, 0xE8})
	if !bytes.Equal(fc.w.Bytes(), wantOut) {
		t.Fatalf("server wrote %x, want %x", fc.w.Bytes(), wantOut)
	}
}

func checkLimits(t *testing.T, data []byte) {
	h := fnv.New64a()
	h.Write(data)
	rng := rand.New(rand.NewPCG(h.Sum64(), 7))
	limit := 1 + rng.IntN(2*len(data)+1)
	z := deflateForTest(data)
	var stream []byte
	var key [4]byte
	for first, rest := true, z; ; first = false {
		k := rng.IntN(len(rest) + 1)
		b0 := byte(opContinuation)
		if first {
			b0 = rsv1Bit | opBinary
		}
		if k == len(rest) {
			b0 |= finBit
		}
		binary.LittleEndian.PutUint32(key[:], rng.Uint32())
		stream = appendClientFrame(stream, b0, key, true, rest[:k])
		rest = rest[k:]
		if b0&finBit != 0 {
			break
		}
		if rng.IntN(2) == 0 {
			stream = appendClientFrame(stream, finBit|opPing, key, true, nil)
		}
	}
	fc := &fakeConn{r: &chunkReader{data: stream, sizes: []int{1 + rng.IntN(100)}}}
	c := newConn(fc, bufio.NewReaderSize(fc, readBufferSize), true, 0, int64(limit))
	var got []byte
	var err error
	for i := 0; err == nil; i++ {
		if i > 10*len(stream)+2*len(data)+64 {
			t.Fatal("no end")
		}
		buf := make([]byte, 1+rng.IntN(300))
		var n int
		n, err = c.Read(buf)
		got = append(got, buf[:n]...)
	}
	var ce *CloseError
	switch {
	case len(data) <= limit && len(z) <= CompressedSizeFactor*limit:
		if err != io.EOF || !bytes.Equal(got, data) {
			t.Fatalf("limit %d: read %d bytes of %d, %v", limit, len(got), len(data), err)
		}
	case !errors.As(err, &ce) || ce.Code != StatusMessageTooBig:
		t.Fatalf("limit %d (compressed %d of %d): %v, want 1009", limit, len(z), len(data), err)
	case len(got) > limit || !bytes.Equal(got, data[:len(got)]):
		t.Fatalf("limit %d: read %d bytes before 1009, or not the start of the message", limit, len(got))
	}
}

// appendServerFrameForTest appends an unmasked final frame.
func appendServerFrameForTest(dst []byte, op byte, payload []byte) []byte {
	dst = append(dst, finBit|op, byte(len(payload)))
	return append(dst, payload...)
}

// FuzzHandshake feeds arbitrary bytes to the handshake as the request:
// it must not panic, and the answer written must agree with the result:
// 101 with a correct Sec-WebSocket-Accept for a Conn, the status of the
// *HandshakeError otherwise, or nothing when that status is 0.
func FuzzHandshake(f *testing.F) {
	valid := "GET /x HTTP/1.1\r\nHost: h:1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	f.Add(valid + "\r\n")
	f.Add(valid + "Origin: http://h:1\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n")
	f.Add(valid + "Sec-WebSocket-Protocol: nats, mqtt\r\nCookie: jwt=x\r\n\r\n")
	f.Add("POST / HTTP/1.1\r\nHost: h\r\n\r\n")
	f.Add("GET / HTTP/1.1\r\n\r\n")
	f.Add("\x16\x03\x01")
	f.Fuzz(func(t *testing.T, req string) {
		l := &Listener{}
		l.set.Store(&settings{cfg: Config{Compression: true, SameOrigin: true, Subprotocols: []string{"mqtt"}}, timeout: -1})
		fc := &fakeConn{r: strings.NewReader(req)}
		c, err := l.handshake(fc)
		out := fc.w.String()
		if c != nil {
			if err != nil || !strings.HasPrefix(out, "HTTP/1.1 101 ") {
				t.Fatalf("conn with err %v and answer %q", err, out)
			}
			resp, rerr := http.ReadResponse(bufio.NewReader(strings.NewReader(out)), nil)
			if rerr != nil {
				t.Fatalf("answer does not parse: %v", rerr)
			}
			if resp.Header.Get("Sec-WebSocket-Accept") != acceptKey(c.Request().Header.Get("Sec-WebSocket-Key")) {
				t.Fatalf("wrong accept in %q", out)
			}
			return
		}
		var he *HandshakeError
		if !errors.As(err, &he) {
			t.Fatalf("error %v is not a *HandshakeError", err)
		}
		switch he.Status {
		case 0:
			if out != "" {
				t.Fatalf("status 0 but answered %q", out)
			}
		case 400, 403, 405, 426, 431:
			if !strings.HasPrefix(out, "HTTP/1.1 "+strconv.Itoa(he.Status)+" ") {
				t.Fatalf("status %d but answered %q", he.Status, out)
			}
		default:
			t.Fatalf("unexpected status %d", he.Status)
		}
	})
}
