package route_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"

	"natsd.dev/cluster/route"
)

func TestCompressionNormalize(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		mode string
		rtts []time.Duration
		want string
		wrtt []time.Duration
		err  string
	}{
		{mode: "", want: route.CompressionAccept},
		{mode: "Accept", want: route.CompressionAccept},
		{mode: "on", want: route.CompressionS2Fast},
		{mode: "enabled", want: route.CompressionS2Fast},
		{mode: "true", want: route.CompressionS2Fast},
		{mode: "disabled", want: route.CompressionOff},
		{mode: "OFF", want: route.CompressionOff},
		{mode: "false", want: route.CompressionOff},
		{mode: "fast", want: route.CompressionS2Fast},
		{mode: "s2_better", want: route.CompressionS2Better},
		{mode: "best", want: route.CompressionS2Best},
		{mode: "s2_auto", want: route.CompressionS2Auto, wrtt: []time.Duration{10 * ms, 50 * ms, 100 * ms}},
		{mode: "auto", rtts: []time.Duration{0, 20 * ms, 0, 0}, want: route.CompressionS2Auto, wrtt: []time.Duration{0, 20 * ms}},
		{mode: "auto", rtts: []time.Duration{-5, 20 * ms}, want: route.CompressionS2Auto, wrtt: []time.Duration{0, 20 * ms}},
		{mode: "s2_auto", rtts: []time.Duration{50 * ms, 10 * ms}, err: "cluster: invalid compression: RTT threshold values [50ms 10ms] should be in ascending order"},
		{mode: "s2_auto", rtts: []time.Duration{1, 2, 3, 4, 5}, err: `cluster: invalid compression: compression mode "s2_auto" should have no more than 4 RTT thresholds: [1ns 2ns 3ns 4ns 5ns]`},
		{mode: "s2_auto", rtts: []time.Duration{0, 0}, err: `cluster: invalid compression: compression mode "s2_auto" requires at least one RTT threshold`},
		{mode: "s2_medium", err: `cluster: invalid compression: unsupported compression mode "s2_medium"`},
		{mode: "not supported", err: `cluster: invalid compression: unsupported compression mode "not supported"`},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			c := route.Compression{Mode: tc.mode, RTTThresholds: tc.rtts}
			err := c.Normalize()
			if tc.err != "" {
				if err == nil || err.Error() != tc.err || !errors.Is(err, route.ErrBadCompression) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || c.Mode != tc.want || fmt.Sprint(c.RTTThresholds) != fmt.Sprint(tc.wrtt) {
				t.Fatalf("got %q %v %v, want %q %v", c.Mode, c.RTTThresholds, err, tc.want, tc.wrtt)
			}
		})
	}
}

func TestSelectCompression(t *testing.T) {
	const (
		off, acc, fast, better, best, auto, none = route.CompressionOff, route.CompressionAccept, route.CompressionS2Fast,
			route.CompressionS2Better, route.CompressionS2Best, route.CompressionS2Auto, route.CompressionNotSupported
	)
	for _, tc := range []struct{ local, remote, want string }{
		{off, fast, off}, {off, acc, off}, {off, "", off},
		{fast, off, off}, {acc, off, off},
		{acc, acc, off},
		{acc, fast, fast}, {acc, better, better}, {acc, best, best}, {acc, auto, fast},
		{fast, acc, fast}, {best, acc, best}, {auto, acc, auto},
		{fast, best, fast}, {best, fast, best}, {auto, better, auto},
		{fast, "", none}, {acc, none, none},
		{"", acc, off}, {"", best, best},
	} {
		got, err := route.SelectCompression(tc.local, tc.remote)
		if err != nil || got != tc.want {
			t.Errorf("local %q remote %q: got %q %v, want %q", tc.local, tc.remote, got, err, tc.want)
		}
	}
	if _, err := route.SelectCompression(fast, "zstd"); err == nil || err.Error() != `cluster: invalid compression: unsupported route compression mode "zstd"` {
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
		{1 * ms, nil, route.CompressionS2Uncompressed},
		{10 * ms, nil, route.CompressionS2Uncompressed},
		{11 * ms, nil, route.CompressionS2Fast},
		{50 * ms, nil, route.CompressionS2Fast},
		{70 * ms, nil, route.CompressionS2Better},
		{101 * ms, nil, route.CompressionS2Best},
		{time.Second, nil, route.CompressionS2Best},
		// A zero threshold skips its level.
		{1 * ms, []time.Duration{0, 20 * ms}, route.CompressionS2Fast},
		// Past the last of two thresholds: the last one's level.
		{30 * ms, []time.Duration{0, 20 * ms}, route.CompressionS2Fast},
		{30 * ms, []time.Duration{10 * ms}, route.CompressionS2Uncompressed},
		{5 * time.Second, []time.Duration{10 * ms, 20 * ms, 30 * ms, 40 * ms}, route.CompressionS2Best},
	} {
		if got := route.AutoLevel(tc.rtt, tc.th); got != tc.want {
			t.Errorf("rtt %v thresholds %v: %q, want %q", tc.rtt, tc.th, got, tc.want)
		}
	}
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t testing.TB) (a, b net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	a, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { a.Close(); r.c.Close() })
	return a, r.c
}

// routeMsgs returns n RMSG frames with compressible 1 KiB JSON payloads,
// as a route carries them.
func routeMsgs(n, size int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([][]byte, n)
	for i := range out {
		var p []byte
		for len(p) < size {
			p = fmt.Appendf(p, `{"id":%d,"sensor":"temp-%02d","value":%d.%d,"unit":"celsius","ok":true},`, i, rng.IntN(20), 15+rng.IntN(10), rng.IntN(10))
		}
		p = p[:size]
		f := fmt.Appendf(nil, "RMSG $G sensors.%d %d\r\n", i%8, len(p))
		f = append(f, p...)
		out[i] = append(f, "\r\n"...)
	}
	return out
}

func TestCompressedConnRoundTripEveryLevel(t *testing.T) {
	msgs := routeMsgs(200, 1024)
	var want []byte
	for _, m := range msgs {
		want = append(want, m...)
	}
	for _, level := range []string{route.CompressionS2Uncompressed, route.CompressionS2Fast, route.CompressionS2Better, route.CompressionS2Best, route.CompressionS2Auto} {
		t.Run(level, func(t *testing.T) {
			a, b := tcpPair(t)
			ca := route.NewCompressedConn(a, level).(*route.CompressedConn)
			cb := route.NewCompressedConn(b, level)
			errc := make(chan error, 1)
			go func() {
				for i := 0; i < len(msgs); i += 10 {
					if _, err := ca.WriteBuffers(msgs[i : i+10]); err != nil {
						errc <- err
						return
					}
				}
				errc <- nil
			}()
			b.SetReadDeadline(time.Now().Add(10 * time.Second))
			got := make([]byte, len(want))
			if _, err := io.ReadFull(cb, got); err != nil {
				t.Fatal(err)
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatal("stream differs")
			}
			_, out := ca.WireBytes()
			t.Logf("%s: %d bytes -> %d on the wire (%.3f)", level, len(want), out, float64(out)/float64(len(want)))
			if level != route.CompressionS2Uncompressed && level != route.CompressionS2Auto && out*2 > uint64(len(want)) {
				t.Errorf("%s sent %d bytes for %d", level, out, len(want))
			}
		})
	}
}

// TestCompressedConnSetLevel changes the level mid-stream, as s2_auto does
// when the RTT moves, and checks the peer reads one continuous stream.
func TestCompressedConnSetLevel(t *testing.T) {
	a, b := tcpPair(t)
	ca := route.NewCompressedConn(a, route.CompressionS2Auto).(*route.CompressedConn)
	cb := route.NewCompressedConn(b, route.CompressionS2Auto)
	if got := ca.Level(); got != route.CompressionS2Uncompressed {
		t.Fatalf("s2_auto starts at %q", got)
	}
	var want []byte
	go func() {
		for i, level := range []string{route.CompressionS2Uncompressed, route.CompressionS2Fast, route.CompressionS2Best, route.CompressionS2Better} {
			if err := ca.SetLevel(level); err != nil {
				t.Error(err)
				return
			}
			if _, err := ca.Write([]byte("PING " + strconv.Itoa(i) + "\r\n")); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for i := range 4 {
		want = append(want, "PING "+strconv.Itoa(i)+"\r\n"...)
	}
	b.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, len(want))
	if _, err := io.ReadFull(cb, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %q", got)
	}
}

// TestCompressedConnBufferedBytes hands the reader bytes that arrived
// with the INFO exchange, before the connection was wrapped.
func TestCompressedConnBufferedBytes(t *testing.T) {
	a, b := tcpPair(t)
	var stream bytes.Buffer
	w := s2.NewWriter(&stream, s2.WriterConcurrency(1))
	w.Write([]byte("RS+ $G foo\r\nRS+ $G bar\r\n"))
	w.Flush()
	raw := stream.Bytes()
	// The first 7 compressed bytes were read along with the INFO line.
	cb := route.NewCompressedConnReader(b, io.MultiReader(bytes.NewReader(raw[:7]), b), route.CompressionS2Fast)
	if _, err := a.Write(raw[7:]); err != nil {
		t.Fatal(err)
	}
	b.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, 24)
	if _, err := io.ReadFull(cb, got); err != nil || string(got) != "RS+ $G foo\r\nRS+ $G bar\r\n" {
		t.Fatalf("got %q %v", got, err)
	}
}

func TestCompressedConnCorruptStream(t *testing.T) {
	a, b := tcpPair(t)
	cb := route.NewCompressedConn(b, route.CompressionS2Fast)
	a.Write([]byte("INFO {} this is not an s2 stream\r\n"))
	b.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := cb.Read(make([]byte, 100))
	if !errors.Is(err, s2.ErrCorrupt) {
		t.Fatalf("read of garbage: %v", err)
	}
}

func TestNewCompressedConnOff(t *testing.T) {
	a, _ := tcpPair(t)
	for _, m := range []string{route.CompressionOff, route.CompressionAccept, route.CompressionNotSupported} {
		if c := route.NewCompressedConn(a, m); c != a {
			t.Errorf("%q wrapped the connection", m)
		}
	}
}

// TestCompressionRatio measures the bytes a route sends for 1 KiB
// compressible payloads (JSON records), by level and batch size. The
// figures go to docs; the test fails only if compression stops paying.
func TestCompressionRatio(t *testing.T) {
	n := 1024
	if testing.Short() {
		n = 64 // s2_best is slow under the race detector
	}
	msgs := routeMsgs(n, 1024)
	var raw int
	for _, m := range msgs {
		raw += len(m)
	}
	for _, level := range []string{route.CompressionS2Fast, route.CompressionS2Better, route.CompressionS2Best} {
		for _, batch := range []int{1, 16} {
			var wire countWriter
			c := route.NewCompressedConnReader(nopConn{w: &wire}, bytes.NewReader(nil), level)
			for i := 0; i < len(msgs); i += batch {
				if _, err := c.WriteBuffers(msgs[i : i+batch]); err != nil {
					t.Fatal(err)
				}
			}
			ratio := float64(wire.n) / float64(raw)
			t.Logf("%-9s batch %2d: %d -> %d bytes, ratio %.3f", level, batch, raw, wire.n, ratio)
			if ratio > 0.6 {
				t.Errorf("%s batch %d: ratio %.3f", level, batch, ratio)
			}
		}
	}
}

type countWriter struct{ n int }

func (w *countWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// nopConn is a net.Conn that only writes, to w.
type nopConn struct {
	net.Conn
	w io.Writer
}

func (c nopConn) Write(p []byte) (int, error) { return c.w.Write(p) }

func BenchmarkCompressedConnWrite(b *testing.B) {
	msgs := routeMsgs(16, 1024)
	var n int64
	for _, m := range msgs {
		n += int64(len(m))
	}
	for _, level := range []string{route.CompressionS2Uncompressed, route.CompressionS2Fast, route.CompressionS2Better, route.CompressionS2Best} {
		b.Run(level, func(b *testing.B) {
			c := route.NewCompressedConnReader(nopConn{w: io.Discard}, bytes.NewReader(nil), level)
			b.SetBytes(n)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.WriteBuffers(msgs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCompressedConnRead(b *testing.B) {
	msgs := routeMsgs(16, 1024)
	var stream bytes.Buffer
	c := route.NewCompressedConnReader(nopConn{w: &stream}, bytes.NewReader(nil), route.CompressionS2Fast)
	c.WriteBuffers(msgs)
	batch := bytes.Clone(stream.Bytes())
	var n int64
	for _, m := range msgs {
		n += int64(len(m))
	}
	src := &repeatReader{b: batch}
	r := route.NewCompressedConnReader(nopConn{}, src, route.CompressionS2Fast)
	buf := make([]byte, n)
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := io.ReadFull(r, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// repeatReader returns b over and over.
type repeatReader struct {
	b   []byte
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := copy(p, r.b[r.off:])
	r.off = (r.off + n) % len(r.b)
	return n, nil
}

// FuzzCompressedConnRead feeds arbitrary bytes to the reader, split at an
// arbitrary point. Oracles: it never panics; on a valid stream (data
// compressed by the writer, then cut into two reads) it returns exactly
// the data; on arbitrary input, whatever it returns before failing agrees
// with the s2 library's own reader.
func FuzzCompressedConnRead(f *testing.F) {
	for _, level := range []string{route.CompressionS2Uncompressed, route.CompressionS2Fast, route.CompressionS2Best} {
		var w bytes.Buffer
		c := route.NewCompressedConnReader(nopConn{w: &w}, bytes.NewReader(nil), level)
		c.Write([]byte("RMSG $G foo 5\r\nhello\r\n"))
		f.Add(w.Bytes(), uint16(3), []byte("RMSG $G foo 5\r\nhello\r\n"))
	}
	f.Add([]byte("garbage"), uint16(1), []byte("x"))
	f.Fuzz(func(t *testing.T, in []byte, split uint16, data []byte) {
		cut := int(split) % (len(in) + 1)
		r := route.NewCompressedConnReader(nopConn{}, io.MultiReader(bytes.NewReader(in[:cut]), bytes.NewReader(in[cut:])), route.CompressionS2Fast)
		got, err := io.ReadAll(io.LimitReader(r, 8<<20))
		ref, rerr := io.ReadAll(io.LimitReader(s2.NewReader(bytes.NewReader(in)), 8<<20))
		if (err == nil) != (rerr == nil) || !bytes.Equal(got, ref) {
			t.Fatalf("got %d bytes, %v; s2 reader %d bytes, %v", len(got), err, len(ref), rerr)
		}

		// Round trip of data through the writer, read back in two parts.
		var w bytes.Buffer
		c := route.NewCompressedConnReader(nopConn{w: &w}, bytes.NewReader(nil), route.CompressionS2Fast)
		if _, err := c.Write(data); err != nil {
			t.Fatal(err)
		}
		enc := w.Bytes()
		cut = int(split) % (len(enc) + 1)
		r = route.NewCompressedConnReader(nopConn{}, io.MultiReader(bytes.NewReader(enc[:cut]), bytes.NewReader(enc[cut:])), route.CompressionS2Fast)
		back, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(back, data) {
			t.Fatalf("round trip: %v, %d bytes back for %d", err, len(back), len(data))
		}
	})
}
