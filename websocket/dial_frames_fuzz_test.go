package websocket

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"testing"
)

// parseClientFrames splits what a client end wrote into frames, unmasked;
// ok is false on unmasked (when masked is wanted) or truncated frames.
func parseClientFrames(b []byte, masked bool) (frames []serverFrame, ok bool) {
	for len(b) > 0 {
		if len(b) < 2 || (b[1]&0x80 != 0) != masked {
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
		var key []byte
		if masked {
			if len(b) < h+4 {
				return frames, false
			}
			key, h = b[h:h+4], h+4
		}
		if uint64(len(b)-h) < n {
			return frames, false
		}
		p := bytes.Clone(b[h : h+int(n)])
		for i := range p {
			if key != nil {
				p[i] ^= key[i%4]
			}
		}
		frames = append(frames, serverFrame{b0: b[0], payload: p})
		b = b[h+int(n):]
	}
	return frames, true
}

// FuzzClientReadFrames feeds the client end's frame reader:
//
//  1. the raw bytes as server frames: Read ends (bounded steps) with
//     io.EOF, io.ErrUnexpectedEOF or a *CloseError whose close frame is the
//     last thing the client wrote, and every frame the client wrote is
//     masked (or unmasked with no masking negotiated) and well formed;
//  2. a valid server stream derived from the bytes (unmasked messages in
//     fragments, pings, compressed messages), cut at random points: Read
//     returns exactly the payloads, answers every ping with a masked pong
//     carrying its payload, and ends with io.EOF after the close frame.
func FuzzClientReadFrames(f *testing.F) {
	f.Add(appendServerFrameForTest(nil, opBinary, []byte("INFO {}\r\n")), false, false)
	f.Add(appendClientFrame(nil, 0x82, [4]byte{1, 2, 3, 4}, true, []byte("masked")), false, true)
	f.Add(append(appendServerFrameForTest(nil, opPing, []byte("p")), 0x88, 0x02, 0x03, 0xE8), true, false)
	f.Fuzz(func(t *testing.T, data []byte, compress, noMask bool) {
		checkClientArbitrary(t, data, compress, noMask)
		checkClientValidStream(t, data, compress, noMask)
	})
}

func newFuzzClient(fc *fakeConn, compress, noMask bool) *Conn {
	c := newTestConn(fc, compress, 1<<20)
	c.client, c.noMask = true, noMask
	c.rng = rand.NewChaCha8([32]byte{7})
	return c
}

func checkClientArbitrary(t *testing.T, data []byte, compress, noMask bool) {
	fc := &fakeConn{r: bytes.NewReader(data)}
	c := newFuzzClient(fc, compress, noMask)
	buf := make([]byte, 61)
	var err error
	limit := 64 + len(data)*1100/len(buf)
	for i := 0; err == nil; i++ {
		if i > limit {
			t.Fatalf("no end after %d reads", i)
		}
		_, err = c.Read(buf)
	}
	frames, ok := parseClientFrames(fc.w.Bytes(), !noMask)
	if !ok {
		t.Fatalf("client wrote malformed frames: %x", fc.w.Bytes())
	}
	for i, fr := range frames {
		switch fr.b0 {
		case 0x8A:
		case 0x88:
			if i != len(frames)-1 {
				t.Fatalf("frames after close: %d of %d", i, len(frames))
			}
		default:
			t.Fatalf("client sent frame %#x while only reading", fr.b0)
		}
	}
	var ce *CloseError
	switch {
	case errors.As(err, &ce):
		last := frames[len(frames)-1]
		if last.b0 != 0x88 || binary.BigEndian.Uint16(last.payload) != uint16(ce.Code) {
			t.Fatalf("%v but last frame %#x %x", err, last.b0, last.payload)
		}
	case err == io.EOF, err == io.ErrUnexpectedEOF:
	default:
		t.Fatalf("unexpected error %v", err)
	}
}

func checkClientValidStream(t *testing.T, data []byte, compress, noMask bool) {
	h := fnv.New64a()
	h.Write(data)
	rng := rand.New(rand.NewPCG(h.Sum64(), 11))
	var stream, want []byte
	var pings [][]byte
	rest := data
	for len(rest) > 0 {
		n := rng.IntN(len(rest) + 1)
		msg := rest[:n]
		rest = rest[n:]
		want = append(want, msg...)
		wire, rsv := msg, byte(0)
		if compress && rng.IntN(2) == 0 {
			wire, rsv = deflateForTest(msg), rsv1Bit
		}
		for first := true; ; first = false {
			k := rng.IntN(len(wire) + 1)
			b0 := byte(opContinuation)
			if first {
				b0 = opBinary | rsv
			}
			if k == len(wire) {
				b0 |= finBit
			}
			stream = appendClientFrame(stream, b0, [4]byte{}, false, wire[:k])
			wire = wire[k:]
			if b0&finBit != 0 {
				break
			}
			if rng.IntN(3) == 0 {
				ping := data[:rng.IntN(min(len(data), 125)+1)]
				stream = appendClientFrame(stream, finBit|opPing, [4]byte{}, false, ping)
				pings = append(pings, ping)
			}
		}
	}
	stream = appendClientFrame(stream, finBit|opClose, [4]byte{}, false, []byte{0x03, 0xE8})
	sizes := make([]int, 1+rng.IntN(8))
	for i := range sizes {
		sizes[i] = 1 + rng.IntN(300)
	}
	fc := &fakeConn{r: &chunkReader{data: stream, sizes: sizes}}
	c := newFuzzClient(fc, compress, noMask)
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
	if err != io.EOF || !bytes.Equal(got, want) {
		t.Fatalf("read %q (%v), want %q", got, err, want)
	}
	frames, ok := parseClientFrames(fc.w.Bytes(), !noMask)
	if !ok || len(frames) != len(pings)+1 {
		t.Fatalf("client wrote %d frames (ok %v) for %d pings", len(frames), ok, len(pings))
	}
	for i, p := range pings {
		if frames[i].b0 != 0x8A || !bytes.Equal(frames[i].payload, p) {
			t.Fatalf("pong %d: %#x %q, want %q", i, frames[i].b0, frames[i].payload, p)
		}
	}
	if last := frames[len(frames)-1]; last.b0 != 0x88 || !bytes.Equal(last.payload, []byte{0x03, 0xE8}) {
		t.Fatalf("close echo %#x %x", last.b0, last.payload)
	}
}
