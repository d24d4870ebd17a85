package websocket

import (
	"bytes"
	"io"
	mrand "math/rand/v2"
	"net"
	"strconv"
	"testing"
)

// benchPayload returns n bytes that look like NATS traffic, so that
// compression has something realistic to work on.
func benchPayload(n int) []byte {
	var b []byte
	for i := 0; len(b) < n; i++ {
		b = append(b, "MSG orders.eu."...)
		b = strconv.AppendInt(b, int64(i%97), 10)
		b = append(b, ` 1 42\r\n{"id":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `,"qty":3,"status":"open"}`+"\r\n"...)
	}
	return b[:n]
}

type benchCase struct {
	name     string
	size     int
	compress bool
}

var benchCases = []benchCase{
	{"128B", 128, false},
	{"4KiB", 4096, false},
	{"128B-deflate", 128, true},
	{"4KiB-deflate", 4096, true},
	// Compressed to more than the read buffer holds: inflated as it
	// streams in rather than from memory.
	{"64KiB-deflate", 64 << 10, true},
}

// readSetup returns a Conn reading an endless stream of identical client
// messages of c.size bytes, and a buffer for one message.
func readSetup(c benchCase) (*Conn, []byte) {
	p := benchPayload(c.size)
	b0, wire := byte(finBit|opBinary), p
	if c.compress {
		b0, wire = b0|rsv1Bit, deflateForTest(p)
	}
	// Repeat the frame so that one read of the underlying conn holds many.
	var stream []byte
	for len(stream) < 64<<10 {
		stream = appendClientFrame(stream, b0, [4]byte{0xA1, 0xB2, 0xC3, 0xD4}, true, wire)
	}
	conn := newTestConn(&discardConn{data: stream}, c.compress, 0)
	return conn, make([]byte, c.size)
}

func BenchmarkRead(b *testing.B) {
	for _, c := range benchCases {
		b.Run(c.name, func(b *testing.B) {
			conn, buf := readSetup(c)
			b.ReportAllocs()
			b.SetBytes(int64(c.size))
			for b.Loop() {
				if _, err := io.ReadFull(conn, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkWrite(b *testing.B) {
	for _, c := range benchCases {
		b.Run(c.name, func(b *testing.B) {
			conn := newTestConn(&discardConn{data: []byte{0}}, c.compress, 0)
			p := benchPayload(c.size)
			b.ReportAllocs()
			b.SetBytes(int64(c.size))
			for b.Loop() {
				if _, err := conn.Write(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSteadyStateAllocs proves that reading and writing frames allocates
// nothing once the buffers and pooled (de)compressors are warm.
func TestSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	for _, c := range benchCases {
		t.Run(c.name, func(t *testing.T) {
			rconn, buf := readSetup(c)
			read := func() {
				if _, err := io.ReadFull(rconn, buf); err != nil {
					t.Fatal(err)
				}
			}
			wconn := newTestConn(&discardConn{data: []byte{0}}, c.compress, 0)
			p := benchPayload(c.size)
			write := func() {
				if _, err := wconn.Write(p); err != nil {
					t.Fatal(err)
				}
			}
			for range 10 {
				read()
				write()
			}
			// sync.Pool may drop its content at a GC in the middle of a
			// run; a real regression allocates on every call.
			if a := testing.AllocsPerRun(200, read); a >= 0.05 {
				t.Errorf("Read: %v allocs per message", a)
			}
			if a := testing.AllocsPerRun(200, write); a >= 0.05 {
				t.Errorf("Write: %v allocs per message", a)
			}
		})
	}
}

// TestWriteCompressedIsSmaller checks that compression pays off on text.
func TestWriteCompressedIsSmaller(t *testing.T) {
	p := benchPayload(4096)
	for _, compress := range []bool{false, true} {
		fc := &fakeConn{r: bytes.NewReader(nil)}
		c := newTestConn(fc, compress, 0)
		if _, err := c.Write(p); err != nil {
			t.Fatal(err)
		}
		frames, ok := parseServerFrames(fc.w.Bytes())
		if !ok || len(frames) != 1 {
			t.Fatalf("compress=%v: %d frames, ok %v", compress, len(frames), ok)
		}
		got := frames[0].payload
		if compress {
			if frames[0].b0 != finBit|rsv1Bit|opBinary {
				t.Fatalf("first byte %#x", frames[0].b0)
			}
			if len(got) > len(p)/2 {
				t.Errorf("compressed %d bytes into %d", len(p), len(got))
			}
			var err error
			if got, err = inflateForTest(got); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(got, p) {
			t.Fatalf("compress=%v: payload differs", compress)
		}
	}
}

// TestReadCoalesces checks that one Read returns the payload of every
// frame already buffered, as one TCP read returns every buffered byte,
// and stops without blocking at a frame that is not complete.
func TestReadCoalesces(t *testing.T) {
	var stream []byte
	k := [4]byte{9, 8, 7, 6}
	for i := range 10 {
		stream = appendClientFrame(stream, finBit|opBinary, k, true, bytes.Repeat([]byte{byte('a' + i)}, 10))
		stream = appendClientFrame(stream, finBit|opPing, k, true, nil)
	}
	stream = appendClientFrame(stream, opText, k, true, []byte("tail"))
	stream = append(stream, finBit, 0x80|5, 1) // an incomplete header
	fc := &fakeConn{r: bytes.NewReader(stream)}
	c := newTestConn(fc, false, 0)
	buf := make([]byte, 1000)
	n, err := c.Read(buf)
	if err != nil || n != 104 {
		t.Fatalf("Read = %d, %v; want 104 bytes", n, err)
	}
	if frames, _ := parseServerFrames(fc.w.Bytes()); len(frames) != 10 {
		t.Fatalf("%d pongs, want 10", len(frames))
	}
	if _, err := c.Read(buf); err != io.ErrUnexpectedEOF {
		t.Fatalf("second Read: %v", err)
	}
}

// TestWriteBuffers checks that a batch goes out as one message, whatever
// the sizes, with and without compression, and without allocating.
func TestWriteBuffers(t *testing.T) {
	p := benchPayload(20000)
	batches := [][][]byte{
		nil,
		{p[:10]},
		{p[:10], p[10:30], nil, p[30:100]},
		{p[:3000], p[3000:5000]},
		{p[:5000]},
		{p[:100], p[100:9000], p[9000:20000]},
	}
	for _, compress := range []bool{false, true} {
		for i, v := range batches {
			fc := &fakeConn{r: bytes.NewReader(nil)}
			c := newTestConn(fc, compress, 0)
			want := bytes.Join(v, nil)
			n, err := c.WriteBuffers(v)
			if err != nil || n != int64(len(want)) {
				t.Fatalf("batch %d: %d, %v", i, n, err)
			}
			frames, ok := parseServerFrames(fc.w.Bytes())
			if !ok || len(frames) != min(1, len(want)) {
				t.Fatalf("batch %d compress %v: %d frames", i, compress, len(frames))
			}
			if len(want) == 0 {
				continue
			}
			got := frames[0].payload
			if frames[0].b0&rsv1Bit != 0 {
				if got, err = inflateForTest(got); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("batch %d compress %v: payload differs", i, compress)
			}
		}
	}
	if raceEnabled {
		return
	}
	c := newTestConn(&discardConn{data: []byte{0}}, false, 0)
	v := batches[len(batches)-1]
	c.WriteBuffers(v)
	if a := testing.AllocsPerRun(100, func() { c.WriteBuffers(v) }); a != 0 {
		t.Errorf("WriteBuffers: %v allocs", a)
	}
}

// BenchmarkLoopback compares the payload rate of 128-byte messages read
// from a loopback TCP connection, raw and as WebSocket frames, to show
// the cost of framing and unmasking next to the system calls. A writer
// goroutine sends 64 KiB chunks of pre-encoded messages.
func BenchmarkLoopback(b *testing.B) {
	const size, perChunk = 128, 400
	p := benchPayload(size)
	for _, ws := range []bool{false, true} {
		name := "tcp-128B"
		var chunk []byte
		for range perChunk {
			if ws {
				chunk = appendClientFrame(chunk, finBit|opBinary, [4]byte{1, 2, 3, 4}, true, p)
			} else {
				chunk = append(chunk, p...)
			}
		}
		if ws {
			name = "ws-128B"
		}
		b.Run(name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			cc, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			sc, err := ln.Accept()
			if err != nil {
				b.Fatal(err)
			}
			defer sc.Close()
			var r io.Reader = sc
			if ws {
				r = newTestConn(sc, false, 0)
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				for {
					if _, err := cc.Write(chunk); err != nil {
						return
					}
				}
			}()
			buf := make([]byte, 32<<10)
			want := size * perChunk
			b.ReportAllocs()
			b.SetBytes(int64(want))
			for b.Loop() {
				for got := 0; got < want; {
					n, err := r.Read(buf[:min(len(buf), want-got)])
					if err != nil {
						b.Fatal(err)
					}
					got += n
				}
			}
			cc.Close()
			<-done
		})
	}
}

// newClientTestConn is the client end of a connection writing to nc,
// masking its frames unless noMask.
func newClientTestConn(nc net.Conn, compress, noMask bool) *Conn {
	c := newTestConn(nc, compress, 0)
	c.client, c.noMask = true, noMask
	c.rng = mrand.NewChaCha8([32]byte{1})
	return c
}

// BenchmarkClientWrite measures the client end's writes: masked (copied
// and XORed behind the header) and unmasked (Nats-No-Masking).
func BenchmarkClientWrite(b *testing.B) {
	for _, c := range benchCases {
		for _, noMask := range []bool{false, true} {
			name := c.name + "-masked"
			if noMask {
				name = c.name + "-nomask"
			}
			b.Run(name, func(b *testing.B) {
				conn := newClientTestConn(&discardConn{data: []byte{0}}, c.compress, noMask)
				p := benchPayload(c.size)
				b.ReportAllocs()
				b.SetBytes(int64(c.size))
				for b.Loop() {
					if _, err := conn.Write(p); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestClientWriteAllocs: the client's masked writes allocate nothing once
// its buffer has grown.
func TestClientWriteAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	for _, c := range benchCases {
		conn := newClientTestConn(&discardConn{data: []byte{0}}, c.compress, false)
		p := benchPayload(c.size)
		write := func() {
			if _, err := conn.Write(p); err != nil {
				t.Fatal(err)
			}
		}
		write()
		if n := testing.AllocsPerRun(50, write); n != 0 {
			t.Errorf("%s: %v allocations per masked write", c.name, n)
		}
	}
}

// TestClientFramesMasked: what the client end writes, unmasked by an
// independent reader, is what it was given, and every frame is masked.
func TestClientFramesMasked(t *testing.T) {
	fc := &fakeConn{r: bytes.NewReader(nil)}
	c := newClientTestConn(fc, false, false)
	p := benchPayload(70000)
	for _, n := range []int{1, 125, 126, 5000, 70000} {
		fc.w.Reset()
		if _, err := c.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		w := fc.w.Bytes()
		if w[0] != 0x82 || w[1]&0x80 == 0 {
			t.Fatalf("size %d: header % x", n, w[:2])
		}
		hl := 2
		switch w[1] & 0x7f {
		case 126:
			hl += 2
		case 127:
			hl += 8
		}
		key, payload := w[hl:hl+4], w[hl+4:]
		got := make([]byte, len(payload))
		for i := range payload {
			got[i] = payload[i] ^ key[i%4]
		}
		if !bytes.Equal(got, p[:n]) {
			t.Fatalf("size %d: unmasked payload differs", n)
		}
	}
}
