// Package s2conn is the S2 compression of the cluster module's links,
// shared by routes and leaf nodes as upstream shares it: the compression
// modes and their names, the choice of a mode from this server's and the
// peer's (Select), s2_auto's level from the round-trip time (AutoLevel),
// and Conn, a net.Conn whose bytes travel as one S2 stream each way (the
// framing format of github.com/klauspost/compress/s2).
//
// # Usage
//
//  1. Normalize each configured mode when the options are validated (a
//     route's "on" is s2_fast, a leaf node's s2_auto).
//  2. Announce the mode in the INFO (and for a leaf node the CONNECT) the
//     link exchanges; Select the mode from ours and the peer's.
//  3. For s2_auto, pick the level with AutoLevel from the RTT measured so
//     far; then wrap the connection with New (or NewReader when bytes past
//     the handshake are buffered already). Every byte after that point is
//     compressed in both directions.
//  4. As the RTT moves, SetLevel(AutoLevel(rtt, thresholds)); the peer
//     needs no notice.
//
// # Concurrency
//
// A Conn supports one reader and one writer at a time; Write,
// WriteBuffers and SetLevel are serialized with each other. Deadlines and
// Close are the underlying connection's.
//
// # Memory
//
// The write side frames the stream itself (see writeLocked): each Write
// or WriteBuffers batch becomes one chunk per 128 KiB block, encoded into
// buffers the Conn keeps (about 400 KiB at most: a block being gathered
// and a block's worth of chunks, written as soon as they fill it), so
// writing allocates nothing once the buffers have grown. Reading uses the
// s2 package's stream reader, which holds one block (64 KiB, growing to
// the 4 MiB a peer's block may need).
//
// # Errors
//
// Read on a corrupt stream returns an error wrapping s2.ErrCorrupt. A
// failed write leaves the stream cut: every later write returns its
// error.
// Configuration errors wrap ErrBadCompression.
package s2conn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/s2"
)

// Compression modes, upstream's names. Uncompressed is the level s2_auto
// picks below its first RTT threshold: the link still speaks the S2
// stream format, with uncompressed blocks, so a later level change needs
// no renegotiation. NotSupported is what Select gives for a peer that
// announced no compression (a server older than 2.10): the link is not
// compressed.
const (
	Off          = "off"
	Accept       = "accept"
	Fast         = "s2_fast"
	Better       = "s2_better"
	Best         = "s2_best"
	Auto         = "s2_auto"
	Uncompressed = "s2_uncompressed"
	NotSupported = "not supported"
)

// DefaultRTTThresholds are s2_auto's round-trip limits when none are
// configured: up to 10ms uncompressed, then s2_fast up to 50ms, s2_better
// up to 100ms, s2_best beyond.
var DefaultRTTThresholds = []time.Duration{10 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond}

// ErrBadCompression marks a compression mode or RTT threshold list that
// upstream would refuse.
var ErrBadCompression = errors.New("cluster: invalid compression")

// Normalize validates a configured mode as upstream does when the server
// starts and returns it as one of the mode constants: names are matched
// case-insensitively, "" is accept, on/enabled/true mean on (s2_fast for
// routes, s2_auto for leaf nodes), disabled/false mean off, and fast,
// better, best and auto are short for the s2_ names. For s2_auto the RTT
// thresholds default to DefaultRTTThresholds; given ones must be
// ascending (a 0 disables its level, trailing zeros are dropped), at most
// four and not all zero. Errors wrap ErrBadCompression.
func Normalize(mode string, rtts []time.Duration, on string) (string, []time.Duration, error) {
	m, r, err := NormalizeBare(mode, rtts, on)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %v", ErrBadCompression, err)
	}
	return m, r, nil
}

// NormalizeBare is Normalize with upstream's error texts alone, without
// ErrBadCompression (the leaf nodes' configuration reports them so).
func NormalizeBare(mode string, rtts []time.Duration, on string) (string, []time.Duration, error) {
	m := strings.ToLower(mode)
	switch m {
	case "on", "enabled", "true":
		m = on
	}
	switch m {
	case "", Accept:
		return Accept, rtts, nil
	case "disabled", Off, "false":
		return Off, rtts, nil
	case "fast", Fast:
		return Fast, rtts, nil
	case "better", Better:
		return Better, rtts, nil
	case "best", Best:
		return Best, rtts, nil
	case "auto", Auto:
		r, err := normalizeRTTs(mode, rtts)
		if err != nil {
			return "", nil, err
		}
		return Auto, r, nil
	}
	return "", nil, fmt.Errorf("unsupported compression mode %q", mode)
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
					return nil, fmt.Errorf("RTT threshold values %v should be in ascending order", given)
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
		return nil, fmt.Errorf("compression mode %q should have no more than 4 RTT thresholds: %v", mode, given)
	case len(rtts) == 0:
		return nil, fmt.Errorf("compression mode %q requires at least one RTT threshold", mode)
	}
	return rtts, nil
}

// Select is the mode a link uses given this server's mode (local,
// normalized) and the one the peer announced (remote), with upstream's
// rules, the same for routes and leaf nodes:
//
//   - off on either side: off;
//   - a peer that announced nothing (older than 2.10): NotSupported, no
//     compression;
//   - accept on both sides: off;
//   - accept here, a level there: the peer's level (s2_fast for its
//     s2_auto);
//   - a level or s2_auto here: ours.
//
// The result may be s2_auto: the caller then picks the level with
// AutoLevel from the link's RTT. An unknown remote mode is an error
// (upstream's wording names routes for leaf nodes too).
func Select(local, remote string) (string, error) {
	if local == "" {
		local = Accept
	}
	if local == Off {
		return Off, nil
	}
	switch remote {
	case "", NotSupported:
		return NotSupported, nil
	case Off:
		return Off, nil
	case Accept:
		if local == Accept {
			return Off, nil
		}
		return local, nil
	case Auto, Uncompressed, Fast, Better, Best:
		if local != Accept {
			return local, nil
		}
		if remote == Auto {
			return Fast, nil
		}
		return remote, nil
	}
	return "", fmt.Errorf("%w: unsupported route compression mode %q", ErrBadCompression, remote)
}

// Compressed reports whether a mode Select gave compresses the link.
func Compressed(mode string) bool {
	switch mode {
	case Off, Accept, NotSupported, "":
		return false
	}
	return true
}

// AutoLevel is the level s2_auto uses on a link with the given RTT: the
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
		return Uncompressed
	case 1:
		return Fast
	case 2:
		return Better
	}
	return Best
}

// levelOf maps a negotiated mode to the level a writer starts with:
// s2_auto starts uncompressed until AutoLevel says otherwise.
func levelOf(mode string) string {
	switch mode {
	case Uncompressed, Better, Best:
		return mode
	case Auto:
		return Uncompressed
	}
	return Fast
}

// Conn is a net.Conn whose bytes travel as one S2 stream in each
// direction.
//
// Every Write is compressed and flushed to the connection before it
// returns, so a Write is a batch: the link's writer should hand it all it
// has (WriteBuffers takes a batch of slices and flushes once). Reads
// decompress; a corrupt stream gives an error wrapping s2.ErrCorrupt.
type Conn struct {
	net.Conn

	// rmu guards the reader: the stream state cannot be shared by two
	// concurrent reads.
	rmu sync.Mutex
	r   *s2.Reader

	// wmu guards the write side; it is held across the write to the
	// connection since the stream is the order of bytes.
	wmu     sync.Mutex
	level   string
	started bool      // the stream identifier went out
	gather  []byte    // a block being collected
	obuf    []byte    // chunks framed, to write
	one     [1][]byte // Write's p as a batch
	werr    error     // sticky: a failed write may have left half a chunk

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

// New wraps nc, on which both sides agreed on mode (the result of Select,
// or a level). Modes that mean no compression (off, accept, not
// supported) return nc itself.
func New(nc net.Conn, mode string) net.Conn {
	if !Compressed(mode) {
		return nc
	}
	return NewReader(nc, nc, mode)
}

// NewReader is New for a connection whose reader already buffered bytes
// past the handshake: the compressed stream is read from r (for example
// io.MultiReader(bytes.NewReader(rest), nc) or the bufio.Reader that
// read the INFO) and written to nc. mode must ask for compression.
func NewReader(nc net.Conn, r io.Reader, mode string) *Conn {
	c := &Conn{Conn: nc, level: levelOf(mode)}
	c.in.rw = readWriter{r, nc}
	c.out.rw = c.in.rw
	c.r = s2.NewReader(&c.in, s2.ReaderAllocBlock(readerAlloc))
	return c
}

type readWriter struct {
	io.Reader
	io.Writer
}

// Read reads decompressed bytes.
func (c *Conn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	return c.r.Read(p)
}

// Write compresses p and writes it to the connection (one chunk per
// blockSize bytes).
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.one[0] = p
	err := c.writeLocked(c.one[:])
	c.one[0] = nil
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// WriteBuffers compresses the slices of v as one batch, the compressed
// counterpart of net.Buffers.WriteTo: they are gathered into blocks of
// blockSize bytes, each one chunk, and a batch that fits in a block goes
// out with one write. It returns the uncompressed bytes taken.
func (c *Conn) WriteBuffers(v [][]byte) (int64, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var total int64
	for _, b := range v {
		total += int64(len(b))
	}
	if err := c.writeLocked(v); err != nil {
		return 0, err
	}
	return total, nil
}

// Stream format (github.com/google/snappy framing_format.txt, with S2's
// identifier): a stream identifier chunk once, then one chunk per block
// of at most blockSize uncompressed bytes:
//
//	+------+----------------+----------------------+------------------+
//	| type | length (3, LE) | masked CRC-32C (4,LE) | data             |
//	+------+----------------+----------------------+------------------+
//
// type 0x00 is a compressed block (an S2 block: the uvarint length, then
// the encoding), 0x01 uncompressed data; length counts the CRC and the
// data; the CRC is of the uncompressed bytes.
const (
	streamIdentifier = "\xff\x06\x00\x00S2sTwO"
	chunkCompressed  = 0x00
	chunkRaw         = 0x01
	chunkHeaderLen   = 8
	// blockSize is the largest block a chunk carries (s2's stream
	// writer makes 1 MiB blocks, readers take up to 4 MiB): small enough
	// that a link's buffers (a block gathered, a block's chunks) stay
	// about 400 KiB and are kept, large enough for the compressor.
	blockSize = 128 << 10
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// maskedCRC is the framing format's checksum of b.
func maskedCRC(b []byte) uint32 {
	c := crc32.Update(0, crcTable, b)
	return (c>>15 | c<<17) + 0xa282ead8
}

// writeLocked frames the bytes of v as chunks at the current level and
// writes them: a block is collected in gather (a buffer of v at least a
// block long is framed from v directly), its chunk appended to obuf,
// and obuf written once it holds a block's worth, and at the end. c.wmu
// is held.
func (c *Conn) writeLocked(v [][]byte) error {
	if c.werr != nil {
		return c.werr
	}
	c.obuf = c.obuf[:0]
	if !c.started {
		c.obuf = append(c.obuf, streamIdentifier...)
	}
	for _, b := range v {
		for len(b) > 0 {
			if len(c.gather) == 0 && len(b) >= blockSize {
				c.obuf = appendChunk(c.obuf, c.level, b[:blockSize])
				b = b[blockSize:]
			} else {
				k := min(len(b), blockSize-len(c.gather))
				c.gather = append(c.gather, b[:k]...)
				b = b[k:]
				if len(c.gather) < blockSize {
					continue
				}
				c.obuf = appendChunk(c.obuf, c.level, c.gather)
				c.gather = c.gather[:0]
			}
			if len(c.obuf) >= blockSize {
				if err := c.flushLocked(); err != nil {
					return err
				}
			}
		}
	}
	if len(c.gather) > 0 {
		c.obuf = appendChunk(c.obuf, c.level, c.gather)
		c.gather = c.gather[:0]
	}
	return c.flushLocked()
}

// flushLocked writes obuf. c.wmu is held.
func (c *Conn) flushLocked() error {
	if len(c.obuf) == 0 {
		return nil
	}
	_, err := c.out.Write(c.obuf)
	c.obuf = c.obuf[:0]
	if err != nil {
		c.werr = err
		return err
	}
	c.started = true
	return nil
}

// appendChunk appends blk as one chunk at level: compressed when that
// makes it smaller, else raw.
func appendChunk(dst []byte, level string, blk []byte) []byte {
	h := len(dst)
	dst = append(dst, make([]byte, chunkHeaderLen)...)
	typ := byte(chunkRaw)
	if level != Uncompressed {
		need := h + chunkHeaderLen + s2.MaxEncodedLen(len(blk))
		if cap(dst) < need {
			dst = append(dst[:cap(dst)], make([]byte, need-cap(dst))...)[:len(dst)]
		}
		var enc []byte
		switch level {
		case Better:
			enc = s2.EncodeBetter(dst[len(dst):need], blk)
		case Best:
			enc = s2.EncodeBest(dst[len(dst):need], blk)
		default:
			enc = s2.Encode(dst[len(dst):need], blk)
		}
		if len(enc) < len(blk) {
			typ = chunkCompressed
			dst = dst[:len(dst)+len(enc)]
		}
	}
	if typ == chunkRaw {
		dst = append(dst, blk...)
	}
	n := len(dst) - h - 4 // the CRC and the data
	crc := maskedCRC(blk)
	dst[h] = typ
	dst[h+1], dst[h+2], dst[h+3] = byte(n), byte(n>>8), byte(n>>16)
	binary.LittleEndian.PutUint32(dst[h+4:], crc)
	return dst
}

// SetLevel switches the writer to another level (s2_uncompressed,
// s2_fast, s2_better, s2_best), as s2_auto does when the RTT moves; the
// peer's reader needs no notice. It is a no-op for the current level.
func (c *Conn) SetLevel(level string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.level = levelOf(level)
	return nil
}

// Level is the writer's current level.
func (c *Conn) Level() string {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.level
}

// WireBytes returns the compressed bytes read from and written to the
// connection so far.
func (c *Conn) WireBytes() (in, out uint64) {
	return c.in.n.Load(), c.out.n.Load()
}
