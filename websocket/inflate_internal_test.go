package websocket

import (
	"bufio"
	"bytes"
	stdflate "compress/flate"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// TestInflaterBytes checks that inflaterBytes, what PendingBytes counts
// for a compressed message in progress, is a fair estimate of the memory
// an inflater holds once it has decoded a message with its own Huffman
// tables: not below it, and not more than twice it.
func TestInflaterBytes(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation sizes")
	}
	msg := benchPayload(64 << 10)
	wire := appendClientFrame(nil, finBit|rsv1Bit|opBinary, [4]byte{1, 2, 3, 4}, true, deflateForTest(msg))
	const n = 64
	conns := make([]*Conn, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range conns {
		c := newTestConn(&fakeConn{r: bytes.NewReader(wire)}, true, 0)
		// Read all but the last byte: the message stays open.
		if _, err := io.ReadFull(c, make([]byte, len(msg)-1)); err != nil {
			t.Fatal(err)
		}
		if c.inf == nil {
			t.Fatal("no inflater while the message is open")
		}
		conns[i] = c
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (int(after.HeapAlloc) - int(before.HeapAlloc)) / n
	// Each test Conn also holds its 4 KiB read buffer and the frame it
	// reads, which an inflater does not.
	per -= readBufferSize + len(wire) + 512
	t.Logf("an open compressed message holds %d bytes; inflaterBytes is %d", per, inflaterBytes)
	if per > inflaterBytes || per < inflaterBytes/2 {
		t.Errorf("inflater holds %d bytes, inflaterBytes says %d", per, inflaterBytes)
	}
	for _, c := range conns {
		if got := c.PendingBytes(); got < inflaterBytes {
			t.Fatalf("PendingBytes = %d while inflating", got)
		}
	}
	runtime.KeepAlive(conns)
}

// countingReader counts the bytes read from r.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// endlessReader repeats data forever, counting what it hands out.
type endlessReader struct {
	data []byte
	off  int
	n    int
}

func (e *endlessReader) Read(p []byte) (int, error) {
	n := copy(p, e.data[e.off:])
	e.off = (e.off + n) % len(e.data)
	e.n += n
	return n, nil
}

// readToError reads c until an error, in pieces of size, and returns what
// was read and the error; it fails the test after max bytes or reads.
func readToError(t *testing.T, c *Conn, size, max int) ([]byte, error) {
	t.Helper()
	var got []byte
	buf := make([]byte, size)
	for i := 0; i <= max; i++ {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if len(got) > max {
			t.Fatalf("read %d bytes, more than %d", len(got), max)
		}
		if err != nil {
			return got, err
		}
	}
	t.Fatalf("no error after %d reads", max)
	return nil, nil
}

func wantClose(t *testing.T, err error, code StatusCode) {
	t.Helper()
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != code {
		t.Fatalf("Read: %v, want a CloseError %d", err, code)
	}
}

// TestDeflateBomb sends a message of 64 MiB of PUBs compressed into a few
// hundred KiB: with a 1 MiB limit, Read hands out at most 1 MiB of it,
// then fails with 1009, having read only the compressed bytes that
// inflate to that 1 MiB (inflating as the frames arrive, not at the end).
func TestDeflateBomb(t *testing.T) {
	const limit = 1 << 20
	pub := []byte("PUB a 2\r\nhi\r\n")
	plain := bytes.Repeat(pub, (64<<20)/len(pub))
	z := deflateForTest(plain)
	// Sent as 64 KiB fragments, the way a client streams a large message.
	var wire []byte
	for i := 0; i < len(z); i += 64 << 10 {
		b0 := byte(opContinuation)
		if i == 0 {
			b0 = rsv1Bit | opBinary
		}
		end := min(i+64<<10, len(z))
		if end == len(z) {
			b0 |= finBit
		}
		wire = appendClientFrame(wire, b0, [4]byte{5, 6, 7, 8}, true, z[i:end])
	}
	cr := &countingReader{r: bytes.NewReader(wire)}
	fc := &fakeConn{r: cr}
	c := newConn(fc, bufio.NewReaderSize(fc, readBufferSize), true, 0, limit)
	got, err := readToError(t, c, 32<<10, limit)
	wantClose(t, err, StatusMessageTooBig)
	if !bytes.Equal(got, plain[:len(got)]) {
		t.Fatal("the data read is not the start of the message")
	}
	if len(got) < limit-32<<10 {
		t.Errorf("read only %d bytes before 1009", len(got))
	}
	// 1 MiB of this text compresses to about len(z)/64; allow for the
	// read buffers.
	if max := len(z)/64 + 2*inflateBufferSize + readBufferSize; cr.n > max {
		t.Errorf("read %d of %d compressed bytes, want at most %d", cr.n, len(wire), max)
	}
	t.Logf("%d compressed bytes (of %d) inflated to %d before 1009", cr.n, len(wire), len(got))
}

// TestEndlessEmptyBlocks sends a compressed message that never ends and
// inflates to nothing. It is cut off with 1009 once its frames carry more
// than CompressedSizeFactor times the limit or, sooner with a large limit,
// more than compressedSlack, for it inflated to nothing; the connection
// holds no more than its read buffer and a decompressor meanwhile.
func TestEndlessEmptyBlocks(t *testing.T) {
	for _, tc := range []struct {
		limit int64
		max   int // compressed bytes read at most
	}{
		{limit: 1000, max: CompressedSizeFactor * 1000},
		{limit: 1 << 20, max: compressedSlack},
	} {
		blocks := bytes.Repeat([]byte{0x00, 0x00, 0x00, 0xff, 0xff}, 100)
		first := appendClientFrame(nil, rsv1Bit|opBinary, [4]byte{1, 2, 3, 4}, true, blocks)
		cont := appendClientFrame(nil, opContinuation, [4]byte{1, 2, 3, 4}, true, blocks)
		er := &endlessReader{data: cont}
		fc := &fakeConn{r: io.MultiReader(bytes.NewReader(first), er)}
		c := newConn(fc, bufio.NewReaderSize(fc, readBufferSize), true, 0, tc.limit)
		_, err := readToError(t, c, 512, 0)
		wantClose(t, err, StatusMessageTooBig)
		sent := len(first) + er.n
		if max := tc.max + len(cont) + readBufferSize; sent > max {
			t.Errorf("limit %d: read %d bytes before 1009, want at most %d", tc.limit, sent, max)
		}
		if frames, _ := parseServerFrames(fc.w.Bytes()); len(frames) != 1 || frames[0].b0 != finBit|opClose {
			t.Errorf("limit %d: server wrote %x, want one close frame", tc.limit, fc.w.Bytes())
		}
	}
}

// TestFinalBlockThenJunk checks that what follows the final deflate block
// of a message is skipped, in the same frame or in later ones, and that
// the next message is read.
func TestFinalBlockThenJunk(t *testing.T) {
	var zb bytes.Buffer
	w, _ := stdflate.NewWriter(&zb, stdflate.BestSpeed)
	w.Write([]byte("first"))
	w.Close() // a final block
	k := [4]byte{9, 9, 9, 9}
	// A little junk is collected with the message; more than
	// collectSize goes through the decompressor, which stops at the
	// final block: the rest is skipped.
	for _, junk := range []int{20, 3 * collectSize} {
		z := append(bytes.Clone(zb.Bytes()), bytes.Repeat([]byte("junk"), junk/4)...)
		var wire []byte
		wire = appendClientFrame(wire, rsv1Bit|opBinary, k, true, z)
		wire = appendClientFrame(wire, opContinuation, k, true, []byte("more junk"))
		wire = appendClientFrame(wire, finBit|opContinuation, k, true, nil)
		wire = appendClientFrame(wire, finBit|opText, k, true, []byte("second"))
		for _, size := range []int{1, 3, 4096} {
			fc := &fakeConn{r: &chunkReader{data: wire, sizes: []int{size}}}
			c := newTestConn(fc, true, 0)
			got, err := io.ReadAll(c)
			if err != nil || string(got) != "firstsecond" {
				t.Fatalf("junk %d, chunks of %d: read %q, %v", junk, size, got, err)
			}
		}
	}
}

// TestCompressedReadCoalesces checks that one Read still returns many
// small compressed messages that are buffered whole, and stops without
// blocking at one whose end has not arrived.
func TestCompressedReadCoalesces(t *testing.T) {
	k := [4]byte{3, 1, 4, 1}
	var wire, want []byte
	for i := range 10 {
		msg := bytes.Repeat([]byte{byte('a' + i)}, 100)
		want = append(want, msg...)
		wire = appendClientFrame(wire, finBit|rsv1Bit|opBinary, k, true, deflateForTest(msg))
	}
	// The first fragment of the last one, flushed by its sender (a sync
	// flush, kept since it does not end the message), but not its end.
	var zb bytes.Buffer
	w, _ := stdflate.NewWriter(&zb, stdflate.BestSpeed)
	w.Write([]byte("the last one, whose end is late"))
	w.Flush()
	wire = appendClientFrame(wire, rsv1Bit|opBinary, k, true, zb.Bytes())
	fc := &fakeConn{r: bytes.NewReader(wire)}
	c := newTestConn(fc, true, 0)
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil || !bytes.Equal(buf[:n], want) {
		t.Fatalf("Read = %q, %v; want the 10 messages", buf[:n], err)
	}
	// The start of the last one is collected, waiting for its end.
	if p := c.PendingBytes(); p != collectSize {
		t.Fatalf("PendingBytes = %d, want %d", p, collectSize)
	}
	if n, err = c.Read(buf); err != io.ErrUnexpectedEOF {
		t.Fatalf("second Read = %q, %v", buf[:n], err)
	}
}

// TestPendingBytes checks what the connection reports while a compressed
// message is open: the collecting buffer while its start is small, the
// decompressor once it streams, nothing once it is done.
func TestPendingBytes(t *testing.T) {
	k := [4]byte{2, 7, 1, 8}
	// Random bytes do not compress: 8 KiB of them make more than
	// collectSize compressed bytes.
	plain := make([]byte, 8<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range plain {
		plain[i] = byte(rng.Uint32())
	}
	z := deflateForTest(plain)
	for _, tc := range []struct {
		name  string
		split int // compressed bytes in the first fragment
		want  int // PendingBytes while the message waits for its end
	}{
		{"collecting", 100, collectSize},
		{"streaming", collectSize + 1000, inflaterBytes},
	} {
		pr, pw := io.Pipe()
		c := newTestConn(&fakeConn{r: pr}, true, 0)
		if c.PendingBytes() != 0 {
			t.Fatalf("%s: PendingBytes = %d before reading", tc.name, c.PendingBytes())
		}
		got := make(chan []byte, 1)
		go func() {
			b, _ := io.ReadAll(c)
			got <- b
		}()
		pw.Write(appendClientFrame(nil, rsv1Bit|opBinary, k, true, z[:tc.split]))
		deadline := time.Now().Add(5 * time.Second)
		for c.PendingBytes() != tc.want {
			if time.Now().After(deadline) {
				t.Fatalf("%s: PendingBytes = %d with the message open, want %d", tc.name, c.PendingBytes(), tc.want)
			}
			time.Sleep(time.Millisecond)
		}
		go func() {
			pw.Write(appendClientFrame(nil, finBit|opContinuation, k, true, z[tc.split:]))
			pw.Close() // EOF after the message: ReadAll ends
		}()
		if b := <-got; !bytes.Equal(b, plain) {
			t.Fatalf("%s: read %d bytes, not the message", tc.name, len(b))
		}
		if p := c.PendingBytes(); p != 0 {
			t.Fatalf("%s: PendingBytes = %d after the message", tc.name, p)
		}
	}
}
