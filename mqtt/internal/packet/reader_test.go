package packet

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
	"testing/iotest"
)

// stream is every sample packet, one after the other.
func stream() (data []byte, pkts [][]byte) {
	for _, s := range samples() {
		p := encodeAny(nil, s.v, s.typ, s.x)
		pkts = append(pkts, p)
		data = append(data, p...)
	}
	return data, pkts
}

// unframe turns whole packets into the form readAll returns: first byte
// and body.
func unframe(t testing.TB, pkts [][]byte) [][]byte {
	var out [][]byte
	for _, p := range pkts {
		typ, flags, body := onePacket(t, p)
		out = append(out, append([]byte{typ<<4 | flags}, body...))
	}
	return out
}

// chunks is an io.Reader that returns its chunks one Read at a time.
type chunks [][]byte

func (c *chunks) Read(p []byte) (int, error) {
	for len(*c) > 0 && len((*c)[0]) == 0 {
		*c = (*c)[1:]
	}
	if len(*c) == 0 {
		return 0, io.EOF
	}
	n := copy(p, (*c)[0])
	(*c)[0] = (*c)[0][n:]
	return n, nil
}

func TestReaderSplit(t *testing.T) {
	data, pkts := stream()
	want := unframe(t, pkts)
	check := func(name string, r io.Reader, bufSize int) {
		t.Helper()
		got, err := readAll(r, bufSize, 0)
		if err != io.EOF {
			t.Fatalf("%s: %v, want io.EOF", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: packets differ", name)
		}
	}
	check("whole", bytes.NewReader(data), 1<<16)
	check("one byte at a time", iotest.OneByteReader(bytes.NewReader(data)), 64)
	check("half reads", iotest.HalfReader(bytes.NewReader(data)), 64)
	check("data with EOF", iotest.DataErrReader(bytes.NewReader(data)), 64)
	for i := 1; i < len(data); i++ {
		c := chunks{append([]byte{}, data[:i]...), append([]byte{}, data[i:]...)}
		check("split", &c, 64)
	}
}

func TestReaderErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		max  int
		want error
	}{
		{"remaining length 5 bytes", []byte{0x30, 0x80, 0x80, 0x80, 0x80, 0x01}, 0, ErrMalformed},
		{"too large", []byte{0x30, 0x80, 0x01}, 100, ErrTooLarge},
		{"too large by one", append([]byte{0x30, 0x62}, make([]byte, 0x62)...), 99, ErrTooLarge},
		{"pubrel flags 0", []byte{0x60, 2, 0, 1}, 0, ErrMalformed},
		{"subscribe flags 0", []byte{0x80, 6, 0, 1, 0, 1, 'a', 0}, 0, ErrMalformed},
		{"connect flags", []byte{0x11, 0}, 0, ErrMalformed},
		{"type 0", []byte{0x00, 0}, 0, ErrMalformed},
		{"eof", nil, 0, io.EOF},
		{"eof in header", []byte{0x30}, 0, io.ErrUnexpectedEOF},
		{"eof in length", []byte{0x30, 0x80}, 0, io.ErrUnexpectedEOF},
		{"eof in body", []byte{0x30, 3, 0, 1}, 0, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readAll(bytes.NewReader(tt.data), 64, tt.max)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	// Exactly the maximum is accepted.
	p := AppendPublish(nil, V311, &Publish{Topic: []byte("t"), Payload: make([]byte, 95)})
	if _, err := readAll(bytes.NewReader(p), 64, len(p)); err != io.EOF {
		t.Fatalf("packet of exactly max (%d) bytes: %v", len(p), err)
	}
}

// TestReaderDeclaredSize checks that a declared length costs no memory
// until its bytes arrive.
func TestReaderDeclaredSize(t *testing.T) {
	hdr := appendVarint([]byte{0x30}, 200<<20)
	data := append(hdr, make([]byte, 10)...)
	r := NewReader(bytes.NewReader(data), 256)
	if _, _, _, err := r.Next(); err != io.ErrUnexpectedEOF {
		t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
	}
	if len(r.buf) != 256 {
		t.Fatalf("buffer grew to %d bytes for %d received", len(r.buf), len(data))
	}
	// With a maximum it fails as soon as the length is known: one read.
	r = NewReader(iotest.OneByteReader(bytes.NewReader(data)), 256)
	r.SetMax(1 << 20)
	if _, _, _, err := r.Next(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestReaderGrowth(t *testing.T) {
	big := AppendPublish(nil, V311, &Publish{Topic: []byte("t"), Payload: bytes.Repeat([]byte("x"), 1<<20)})
	data := append(append([]byte{}, big...), AppendPingreq(nil)...)
	var parts chunks
	for b := data; len(b) > 0; {
		n := min(len(b), 1000)
		parts = append(parts, b[:n])
		b = b[n:]
	}
	cr := &countingReader{r: &parts}
	r := NewReader(cr, 512)
	for {
		_, _, body, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(body) == len(big)-4 && !bytes.Equal(body, big[4:]) {
			t.Fatal("large body differs")
		}
		if len(r.buf) > max(512, 2*cr.n) {
			t.Fatalf("buffer %d bytes after %d received", len(r.buf), cr.n)
		}
	}
	// Once the large packet is consumed the buffer shrinks back: to at
	// most 64 KiB (the stream kept it full, so it reads in large chunks).
	if _, _, _, err := r.Next(); err != io.EOF || len(r.buf) > keepBufSize {
		t.Fatalf("buffer %d bytes after the large packet (%v)", len(r.buf), err)
	}
}

func TestReaderAdapts(t *testing.T) {
	// A stream that fills every read gets a larger buffer, up to 64 KiB;
	// one packet at a time keeps the small one.
	one := AppendPublish(nil, V311, &Publish{Topic: []byte("t"), Payload: make([]byte, 100)})
	r := NewReader(bytes.NewReader(bytes.Repeat(one, 10000)), 512)
	for range 10000 {
		if _, _, _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if r.size != keepBufSize {
		t.Fatalf("buffer size %d after a busy stream", r.size)
	}
	var parts chunks
	for range 100 {
		parts = append(parts, one)
	}
	r = NewReader(&parts, 512)
	for range 100 {
		if _, _, _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if r.size != 512 {
		t.Fatalf("buffer size %d after single packets", r.size)
	}
}

func TestReaderBuffered(t *testing.T) {
	data := AppendPingreq(AppendPingreq(nil))
	r := NewReader(bytes.NewReader(data), 64)
	want := []bool{true, false}
	for i, w := range want {
		if _, _, _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		if r.Buffered() != w {
			t.Fatalf("packet %d: Buffered() = %v, want %v", i, !w, w)
		}
	}
}

// TestReaderBodyCapacity checks that appending to a body cannot overwrite
// the next packet in the buffer.
func TestReaderBodyCapacity(t *testing.T) {
	data := AppendPingreq(AppendPublish(nil, V311, &Publish{Topic: []byte("t"), Payload: []byte("x")}))
	r := NewReader(bytes.NewReader(data), 64)
	_, _, body, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	_ = append(body, 0xff, 0xff)
	if typ, _, _, err := r.Next(); err != nil || typ != PINGREQ {
		t.Fatalf("next packet: type %d, %v", typ, err)
	}
}

func TestReaderReadError(t *testing.T) {
	data := AppendPingreq(nil)
	r := NewReader(iotest.TimeoutReader(bytes.NewReader(append(data, 0x30))), 64)
	if typ, _, _, err := r.Next(); err != nil || typ != PINGREQ {
		t.Fatalf("first packet: %d %v", typ, err)
	}
	if _, _, _, err := r.Next(); err != iotest.ErrTimeout {
		t.Fatalf("err = %v, want the reader's error", err)
	}
}
