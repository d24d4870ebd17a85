package route

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/s2"
)

// More compression modes. CompressionS2Uncompressed is the level s2_auto
// picks below its first RTT threshold: the route still speaks the S2
// stream format, with uncompressed blocks, so a later level change needs
// no renegotiation. CompressionNotSupported is what SelectCompression
// gives for a peer that announced no compression (a server older than
// 2.10): the route is not compressed.
const (
	CompressionS2Uncompressed = "s2_uncompressed"
	CompressionNotSupported   = "not supported"
)

// DefaultRTTThresholds are s2_auto's round-trip limits when the
// compression block gives none: up to 10ms uncompressed, then s2_fast up
// to 50ms, s2_better up to 100ms, s2_best beyond.
var DefaultRTTThresholds = []time.Duration{10 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond}

// ErrBadCompression marks a compression mode or RTT threshold list that
// upstream would refuse.
var ErrBadCompression = errors.New("cluster: invalid compression")

// Normalize validates c as upstream does when the server starts and
// rewrites its mode to one of the Compression* constants: names are
// matched case-insensitively, "" is accept, on/enabled/true mean s2_fast
// (the routes' choice for "on"), disabled/false mean off, and fast,
// better, best and auto are short for the s2_ names. For s2_auto the RTT
// thresholds default to DefaultRTTThresholds; given ones must be
// ascending (a 0 disables its level, trailing zeros are dropped), at most
// four and not all zero. Errors wrap ErrBadCompression.
func (c *Compression) Normalize() error {
	m := strings.ToLower(c.Mode)
	switch m {
	case "on", "enabled", "true":
		m = CompressionS2Fast
	}
	switch m {
	case "", CompressionAccept:
		c.Mode = CompressionAccept
	case "disabled", "off", "false":
		c.Mode = CompressionOff
	case "fast", CompressionS2Fast:
		c.Mode = CompressionS2Fast
	case "better", CompressionS2Better:
		c.Mode = CompressionS2Better
	case "best", CompressionS2Best:
		c.Mode = CompressionS2Best
	case "auto", CompressionS2Auto:
		rtts, err := normalizeRTTs(c.Mode, c.RTTThresholds)
		if err != nil {
			return err
		}
		c.Mode, c.RTTThresholds = CompressionS2Auto, rtts
	default:
		return fmt.Errorf("%w: unsupported compression mode %q", ErrBadCompression, c.Mode)
	}
	return nil
}

func normalizeRTTs(mode string, given []time.Duration) ([]time.Duration, error) {
	if len(given) == 0 {
		return append([]time.Duration(nil), DefaultRTTThresholds...), nil
	}
	var rtts []time.Duration
	for _, d := range given {
		d = max(d, 0) // negative counts as 0, as upstream
		if d != 0 {
			for _, prev := range rtts {
				if d < prev {
					return nil, fmt.Errorf("%w: RTT threshold values %v should be in ascending order", ErrBadCompression, given)
				}
			}
		}
		rtts = append(rtts, d)
	}
	for len(rtts) > 0 && rtts[len(rtts)-1] == 0 {
		rtts = rtts[:len(rtts)-1]
	}
	switch {
	case len(rtts) > 4:
		return nil, fmt.Errorf("%w: compression mode %q should have no more than 4 RTT thresholds: %v", ErrBadCompression, mode, given)
	case len(rtts) == 0:
		return nil, fmt.Errorf("%w: compression mode %q requires at least one RTT threshold", ErrBadCompression, mode)
	}
	return rtts, nil
}

// SelectCompression is the mode a route uses given this server's mode
// (local, normalized) and the one the peer announced in its INFO
// (remote), with upstream's rules:
//
//   - off on either side: off;
//   - a peer that announced nothing (older than 2.10):
//     CompressionNotSupported, no compression;
//   - accept on both sides: off;
//   - accept here, a level there: the peer's level (s2_fast for its
//     s2_auto);
//   - a level or s2_auto here: ours.
//
// The result may be s2_auto: the caller then picks the level with
// AutoLevel from the route's RTT. An unknown remote mode is an error.
func SelectCompression(local, remote string) (string, error) {
	if local == "" {
		local = CompressionAccept // Compression's zero value
	}
	if local == CompressionOff {
		return CompressionOff, nil
	}
	switch remote {
	case "", CompressionNotSupported:
		return CompressionNotSupported, nil
	case CompressionOff:
		return CompressionOff, nil
	case CompressionAccept:
		if local == CompressionAccept {
			return CompressionOff, nil
		}
		return local, nil
	case CompressionS2Auto, CompressionS2Uncompressed, CompressionS2Fast, CompressionS2Better, CompressionS2Best:
		if local != CompressionAccept {
			return local, nil
		}
		if remote == CompressionS2Auto {
			return CompressionS2Fast, nil
		}
		return remote, nil
	}
	return "", fmt.Errorf("%w: unsupported route compression mode %q", ErrBadCompression, remote)
}

// AutoLevel is the level s2_auto uses on a route with the given RTT: the
// first threshold the RTT does not exceed picks uncompressed, s2_fast,
// s2_better or s2_best in that order; past the last one, s2_best when
// three or more thresholds are set, else the last one's level. A zero
// threshold never matches a measured RTT, which is how a level is
// skipped. thresholds nil means DefaultRTTThresholds.
func AutoLevel(rtt time.Duration, thresholds []time.Duration) string {
	if thresholds == nil {
		thresholds = DefaultRTTThresholds
	}
	idx := -1
	for i, d := range thresholds {
		if rtt <= d {
			idx = i
			break
		}
	}
	if idx < 0 {
		idx = len(thresholds) - 1
		if idx >= 2 {
			idx = 3
		}
	}
	switch idx {
	case 0:
		return CompressionS2Uncompressed
	case 1:
		return CompressionS2Fast
	case 2:
		return CompressionS2Better
	}
	return CompressionS2Best
}

// writerOptions are the s2 stream writer options of a level. Concurrency
// 1 compresses on the caller's goroutine: a route has one writer already.
func writerOptions(mode string) []s2.WriterOption {
	opts := []s2.WriterOption{s2.WriterConcurrency(1)}
	switch mode {
	case CompressionS2Uncompressed:
		opts = append(opts, s2.WriterUncompressed())
	case CompressionS2Better:
		opts = append(opts, s2.WriterBetterCompression())
	case CompressionS2Best:
		opts = append(opts, s2.WriterBestCompression())
	}
	return opts
}

// levelOf maps a negotiated mode to the level a writer starts with:
// s2_auto starts uncompressed until AutoLevel says otherwise.
func levelOf(mode string) string {
	switch mode {
	case CompressionS2Uncompressed, CompressionS2Better, CompressionS2Best:
		return mode
	case CompressionS2Auto:
		return CompressionS2Uncompressed
	}
	return CompressionS2Fast
}

// CompressedConn is a net.Conn whose bytes travel as one S2 stream in
// each direction (the framing format of github.com/klauspost/compress/s2,
// which upstream routes use once both sides agreed on compression).
//
// Every Write is compressed and flushed to the connection before it
// returns, so a Write is a batch: the route's writer should hand it all it
// has (WriteBuffers takes a batch of slices and flushes once). Reads
// decompress; a corrupt stream gives an error wrapping s2.ErrCorrupt.
//
// One goroutine may read while another writes; Writes, WriteBuffers and
// SetLevel are serialized. Deadlines and Close are the underlying
// connection's.
type CompressedConn struct {
	net.Conn

	// rmu guards the reader: the stream state cannot be shared by two
	// concurrent reads.
	rmu sync.Mutex
	r   *s2.Reader

	// wmu guards w and level; it is held across the write to the
	// connection since the writer's stream state is the order of bytes.
	wmu   sync.Mutex
	w     *s2.Writer
	level string

	in, out counter
}

// counter counts the bytes that cross the wire.
type counter struct {
	rw interface {
		io.Reader
		io.Writer
	}
	n atomic.Uint64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.rw.Read(p)
	c.n.Add(uint64(n))
	return n, err
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.rw.Write(p)
	c.n.Add(uint64(n))
	return n, err
}

// readerAlloc is what the reader allocates up front; it grows up to the
// format's 4 MiB block limit when a peer sends bigger blocks.
const readerAlloc = 64 << 10

// NewCompressedConn wraps nc, on which both sides agreed on mode (the
// result of SelectCompression, or a level). Modes that mean no
// compression (off, accept, not supported) return nc itself.
func NewCompressedConn(nc net.Conn, mode string) net.Conn {
	switch mode {
	case CompressionOff, CompressionAccept, CompressionNotSupported, "":
		return nc
	}
	return NewCompressedConnReader(nc, nc, mode)
}

// NewCompressedConnReader is NewCompressedConn for a connection whose
// reader already buffered bytes past the INFO exchange: the compressed
// stream is read from r (for example io.MultiReader(bytes.NewReader(rest),
// nc)) and written to nc. mode must ask for compression.
func NewCompressedConnReader(nc net.Conn, r io.Reader, mode string) *CompressedConn {
	c := &CompressedConn{Conn: nc, level: levelOf(mode)}
	c.in.rw = readWriter{r, nc}
	c.out.rw = c.in.rw
	c.r = s2.NewReader(&c.in, s2.ReaderAllocBlock(readerAlloc))
	c.w = s2.NewWriter(&c.out, writerOptions(c.level)...)
	return c
}

type readWriter struct {
	io.Reader
	io.Writer
}

// Read reads decompressed bytes.
func (c *CompressedConn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	return c.r.Read(p)
}

// Write compresses p and flushes it to the connection.
func (c *CompressedConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	n, err := c.w.Write(p)
	if err != nil {
		return n, err
	}
	return n, c.w.Flush()
}

// WriteBuffers compresses the slices of v as one batch and flushes once,
// the compressed counterpart of net.Buffers.WriteTo. It returns the
// uncompressed bytes taken.
func (c *CompressedConn) WriteBuffers(v [][]byte) (int64, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var total int64
	for _, b := range v {
		n, err := c.w.Write(b)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, c.w.Flush()
}

// SetLevel switches the writer to another level (s2_uncompressed,
// s2_fast, s2_better, s2_best), as s2_auto does when the RTT moves; the
// peer's reader needs no notice. It is a no-op for the current level.
func (c *CompressedConn) SetLevel(level string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	level = levelOf(level)
	if level == c.level {
		return nil
	}
	if err := c.w.Flush(); err != nil {
		return err
	}
	c.level = level
	c.w = s2.NewWriter(&c.out, writerOptions(level)...)
	return nil
}

// Level is the writer's current level.
func (c *CompressedConn) Level() string {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.level
}

// WireBytes returns the compressed bytes read from and written to the
// connection so far.
func (c *CompressedConn) WireBytes() (in, out uint64) {
	return c.in.n.Load(), c.out.n.Load()
}
