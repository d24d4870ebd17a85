package s2conn_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"

	"natsd.dev/cluster/internal/s2conn"
)

func TestNormalize(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		mode, on string
		rtts     []time.Duration
		want     string
		wrtt     []time.Duration
		err      bool
	}{
		{mode: "", on: s2conn.Fast, want: s2conn.Accept},
		{mode: "on", on: s2conn.Fast, want: s2conn.Fast},
		{mode: "on", on: s2conn.Auto, want: s2conn.Auto, wrtt: s2conn.DefaultRTTThresholds},
		{mode: "True", on: s2conn.Auto, want: s2conn.Auto, wrtt: s2conn.DefaultRTTThresholds},
		{mode: "disabled", on: s2conn.Auto, want: s2conn.Off},
		{mode: "best", on: s2conn.Auto, want: s2conn.Best},
		{mode: "auto", on: s2conn.Auto, rtts: []time.Duration{0, 20 * ms, 0}, want: s2conn.Auto, wrtt: []time.Duration{0, 20 * ms}},
		{mode: "auto", rtts: []time.Duration{20 * ms, 10 * ms}, err: true},
		{mode: "auto", rtts: []time.Duration{0, 0}, err: true},
		{mode: "auto", rtts: []time.Duration{1, 2, 3, 4, 5}, err: true},
		{mode: "s2_uncompressed", err: true},
		{mode: "zstd", err: true},
	} {
		got, rtts, err := s2conn.Normalize(tc.mode, tc.rtts, tc.on)
		if tc.err {
			if !errors.Is(err, s2conn.ErrBadCompression) {
				t.Errorf("%q: err %v", tc.mode, err)
			}
			continue
		}
		if err != nil || got != tc.want || fmt.Sprint(rtts) != fmt.Sprint(tc.wrtt) {
			t.Errorf("%q on=%q: %q %v %v, want %q %v", tc.mode, tc.on, got, rtts, err, tc.want, tc.wrtt)
		}
	}
}

func TestSelect(t *testing.T) {
	for _, tc := range []struct{ local, remote, want string }{
		{s2conn.Off, s2conn.Fast, s2conn.Off},
		{s2conn.Auto, "", s2conn.NotSupported},
		{s2conn.Auto, s2conn.Off, s2conn.Off},
		{s2conn.Accept, s2conn.Accept, s2conn.Off},
		{"", s2conn.Accept, s2conn.Off},
		{s2conn.Auto, s2conn.Accept, s2conn.Auto},
		{s2conn.Accept, s2conn.Auto, s2conn.Fast},
		{s2conn.Accept, s2conn.Best, s2conn.Best},
		{s2conn.Better, s2conn.Auto, s2conn.Better},
	} {
		if got, err := s2conn.Select(tc.local, tc.remote); err != nil || got != tc.want {
			t.Errorf("Select(%q, %q) = %q, %v; want %q", tc.local, tc.remote, got, err, tc.want)
		}
	}
	if _, err := s2conn.Select(s2conn.Auto, "zstd"); err == nil || err.Error() != `cluster: invalid compression: unsupported route compression mode "zstd"` {
		t.Errorf("unknown remote mode: %v", err)
	}
}

func TestAutoLevel(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		rtt  time.Duration
		th   []time.Duration
		want string
	}{
		{time.Millisecond, nil, s2conn.Uncompressed},
		{20 * ms, nil, s2conn.Fast},
		{60 * ms, nil, s2conn.Better},
		{time.Second, nil, s2conn.Best},
		{time.Second, []time.Duration{10 * ms, 50 * ms}, s2conn.Fast},
		{5 * ms, []time.Duration{0, 50 * ms}, s2conn.Fast},
	} {
		if got := s2conn.AutoLevel(tc.rtt, tc.th); got != tc.want {
			t.Errorf("AutoLevel(%v, %v) = %q, want %q", tc.rtt, tc.th, got, tc.want)
		}
	}
}

// pipe returns the two ends of a loopback TCP connection.
func pipe(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		acc <- c
	}()
	a, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b := <-acc
	if b == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	a.SetDeadline(time.Now().Add(10 * time.Second))
	b.SetDeadline(time.Now().Add(10 * time.Second))
	return a, b
}

// TestConnRoundTrip sends batches at every level, switching levels on
// the way, both ways at once, with bytes buffered past the handshake.
func TestConnRoundTrip(t *testing.T) {
	a, b := pipe(t)
	// The peer read "INFO\r\n" and some compressed bytes in one read:
	// they are handed to NewReader ahead of the connection.
	var pre bytes.Buffer
	w := s2.NewWriter(&pre, s2.WriterConcurrency(1))
	w.Write([]byte("early "))
	w.Flush()
	ca := s2conn.NewReader(a, io.MultiReader(bytes.NewReader(pre.Bytes()), a), s2conn.Auto)
	cb := s2conn.New(b, s2conn.Fast).(*s2conn.Conn)
	if ca.Level() != s2conn.Uncompressed || cb.Level() != s2conn.Fast {
		t.Fatalf("levels %q %q", ca.Level(), cb.Level())
	}
	msg := bytes.Repeat([]byte("LMSG orders.eu 42\r\n{\"qty\":3}\r\n"), 2000)
	want := append([]byte("early "), bytes.Repeat(msg, 4)...)
	done := make(chan error, 1)
	go func() {
		got := make([]byte, len(want))
		_, err := io.ReadFull(ca, got)
		if err == nil && !bytes.Equal(got, want) {
			err = errors.New("a got other bytes")
		}
		done <- err
	}()
	for i, level := range []string{s2conn.Fast, s2conn.Better, s2conn.Best, s2conn.Uncompressed} {
		if err := cb.SetLevel(level); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := cb.Write(msg); err != nil {
				t.Fatal(err)
			}
		} else if n, err := cb.WriteBuffers([][]byte{msg[:100], msg[100:]}); err != nil || n != int64(len(msg)) {
			t.Fatal(n, err)
		}
	}
	// b never wrote "early ": the test's prefix stands for it.
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, out := cb.WireBytes(); out == 0 || out >= uint64(4*len(msg)) {
		t.Fatalf("wire bytes %d for %d", out, 4*len(msg))
	}
	if s2conn.New(a, s2conn.Off) != a || s2conn.New(a, s2conn.NotSupported) != a {
		t.Fatal("New wrapped a connection that is not compressed")
	}
}

// FuzzConnRead feeds arbitrary bytes as the peer's stream: Read never
// panics, and whatever it returns before an error is what the s2 package's
// own reader decodes from the same bytes (differential oracle).
func FuzzConnRead(f *testing.F) {
	var ok bytes.Buffer
	w := s2.NewWriter(&ok)
	w.Write(bytes.Repeat([]byte("hello "), 100))
	w.Close()
	f.Add(ok.Bytes())
	f.Add([]byte("garbage"))
	f.Add([]byte{0xff, 0x06, 0x00, 0x00, 'S', '2', 's', 'T', 'w', 'O'})
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b := net.Pipe()
		defer a.Close()
		go func() {
			b.Write(data)
			b.Close()
		}()
		c := s2conn.New(a, s2conn.Fast)
		got, err := io.ReadAll(io.LimitReader(c, 8<<20))
		ref, rerr := io.ReadAll(io.LimitReader(s2.NewReader(bytes.NewReader(data)), 8<<20))
		if !bytes.Equal(got, ref) || (err == nil) != (rerr == nil) {
			t.Fatalf("conn: %d bytes, %v; s2: %d bytes, %v", len(got), err, len(ref), rerr)
		}
	})
}

func BenchmarkConnWrite(b *testing.B) {
	batch := bytes.Repeat([]byte("LMSG orders.eu 42\r\n{\"qty\":3,\"status\":\"open\"}\r\n"), 64)
	for _, level := range []string{s2conn.Uncompressed, s2conn.Fast, s2conn.Better} {
		b.Run(level, func(b *testing.B) {
			c := s2conn.NewReader(discard{}, bytes.NewReader(nil), level)
			b.ReportAllocs()
			b.SetBytes(int64(len(batch)))
			for b.Loop() {
				if _, err := c.Write(batch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// discard is a net.Conn that drops what is written.
type discard struct{ net.Conn }

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// A leaf node and its hub agree on a mode and wrap the connection.
func Example() {
	hub, leaf := net.Pipe()
	defer hub.Close()
	defer leaf.Close()
	local, _, _ := s2conn.Normalize("on", nil, s2conn.Auto) // a leaf's "on"
	mode, _ := s2conn.Select(local, s2conn.Accept)          // the hub accepts
	level := s2conn.AutoLevel(2*time.Millisecond, nil)      // a fast link
	lc := s2conn.New(leaf, mode).(*s2conn.Conn)
	lc.SetLevel(level)
	hc := s2conn.New(hub, s2conn.Fast)
	go lc.Write([]byte("LS+ foo\r\n"))
	buf := make([]byte, 9)
	io.ReadFull(hc, buf)
	fmt.Printf("%s %s %q\n", mode, lc.Level(), buf)
	// Output: s2_auto s2_uncompressed "LS+ foo\r\n"
}

// FuzzConnWrite writes batches cut from the input at levels drawn from
// it, through Write and WriteBuffers, switching levels on the way: the s2
// package's own stream reader must decode exactly the bytes written
// (round trip against an independent decoder).
func FuzzConnWrite(f *testing.F) {
	f.Add([]byte("hello world"), uint8(0))
	f.Add(bytes.Repeat([]byte("LMSG foo 5\r\nhello\r\n"), 300), uint8(0x5a))
	f.Add(make([]byte, 70000), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, seed uint8) {
		levels := []string{s2conn.Uncompressed, s2conn.Fast, s2conn.Better, s2conn.Best}
		var wire bytes.Buffer
		c := s2conn.NewReader(writerConn{&wire}, bytes.NewReader(nil), s2conn.Fast)
		rest, s := data, uint(seed)
		for i := 0; len(rest) > 0; i++ {
			s = s*31 + 7
			n := min(len(rest), 1+int(s%uint(len(data)+1)))
			c.SetLevel(levels[s%uint(len(levels))])
			if i%2 == 0 {
				if _, err := c.Write(rest[:n]); err != nil {
					t.Fatal(err)
				}
			} else if _, err := c.WriteBuffers([][]byte{rest[:n/2], rest[n/2 : n]}); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		got, err := io.ReadAll(s2.NewReader(&wire))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("decoded %d bytes (%v), wrote %d", len(got), err, len(data))
		}
	})
}

// writerConn is a net.Conn writing into a buffer.
type writerConn struct{ w io.Writer }

func (c writerConn) Read([]byte) (int, error)         { return 0, io.EOF }
func (c writerConn) Write(p []byte) (int, error)      { return c.w.Write(p) }
func (c writerConn) Close() error                     { return nil }
func (c writerConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c writerConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c writerConn) SetDeadline(time.Time) error      { return nil }
func (c writerConn) SetReadDeadline(time.Time) error  { return nil }
func (c writerConn) SetWriteDeadline(time.Time) error { return nil }

// TestConnWriteAllocs: writing a batch allocates nothing once the
// buffers have grown, at the levels a link uses on its hot path.
func TestConnWriteAllocs(t *testing.T) {
	batch := bytes.Repeat([]byte("LMSG orders.eu 42\r\n{\"qty\":3,\"status\":\"open\"}\r\n"), 64)
	for _, level := range []string{s2conn.Uncompressed, s2conn.Fast, s2conn.Better} {
		c := s2conn.NewReader(discard{}, bytes.NewReader(nil), level)
		v := [][]byte{batch[:100], batch[100:]}
		write := func() {
			if _, err := c.Write(batch); err != nil {
				t.Fatal(err)
			}
			if _, err := c.WriteBuffers(v); err != nil {
				t.Fatal(err)
			}
		}
		write()
		if n := testing.AllocsPerRun(100, write); n != 0 {
			t.Errorf("%s: %v allocations per write", level, n)
		}
	}
}

// TestConnLargeBatches: batches larger than a block (several buffers
// spanning blocks, one buffer of several blocks) decode as written at
// every level, and the buffers the Conn keeps stay bounded.
func TestConnLargeBatches(t *testing.T) {
	data := make([]byte, 700<<10)
	for i := range data {
		data[i] = byte(i * 7 % 251)
	}
	for _, level := range []string{s2conn.Uncompressed, s2conn.Fast, s2conn.Better, s2conn.Best} {
		var wire bytes.Buffer
		c := s2conn.NewReader(writerConn{&wire}, bytes.NewReader(nil), level)
		if _, err := c.WriteBuffers([][]byte{data[:100<<10], data[100<<10 : 250<<10], data[250<<10 : 300<<10]}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(data[300<<10:]); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(s2.NewReader(&wire))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s: decoded %d bytes (%v)", level, len(got), err)
		}
	}
}
