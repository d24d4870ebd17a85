package route

import (
	"io"
	"net"
	"time"

	"natsd.dev/cluster/internal/s2conn"
)

// The compression of routes is the cluster module's shared S2 link
// compression (cluster/internal/s2conn), which leaf nodes use too; this
// file keeps the route's names for it.

// More compression modes. CompressionS2Uncompressed is the level s2_auto
// picks below its first RTT threshold: the route still speaks the S2
// stream format, with uncompressed blocks, so a later level change needs
// no renegotiation. CompressionNotSupported is what SelectCompression
// gives for a peer that announced no compression (a server older than
// 2.10): the route is not compressed.
const (
	CompressionS2Uncompressed = s2conn.Uncompressed
	CompressionNotSupported   = s2conn.NotSupported
)

// DefaultRTTThresholds are s2_auto's round-trip limits when the
// compression block gives none: up to 10ms uncompressed, then s2_fast up
// to 50ms, s2_better up to 100ms, s2_best beyond.
var DefaultRTTThresholds = s2conn.DefaultRTTThresholds

// ErrBadCompression marks a compression mode or RTT threshold list that
// upstream would refuse.
var ErrBadCompression = s2conn.ErrBadCompression

// Normalize validates c as upstream does when the server starts and
// rewrites its mode to one of the Compression* constants: names are
// matched case-insensitively, "" is accept, on/enabled/true mean s2_fast
// (the routes' choice for "on"), disabled/false mean off, and fast,
// better, best and auto are short for the s2_ names. For s2_auto the RTT
// thresholds default to DefaultRTTThresholds; given ones must be
// ascending (a 0 disables its level, trailing zeros are dropped), at most
// four and not all zero. Errors wrap ErrBadCompression.
func (c *Compression) Normalize() error {
	mode, rtts, err := s2conn.Normalize(c.Mode, c.RTTThresholds, CompressionS2Fast)
	if err != nil {
		return err
	}
	c.Mode, c.RTTThresholds = mode, rtts
	return nil
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
	return s2conn.Select(local, remote)
}

// AutoLevel is the level s2_auto uses on a route with the given RTT: the
// first threshold the RTT does not exceed picks uncompressed, s2_fast,
// s2_better or s2_best in that order; past the last one, s2_best when
// three or more thresholds are set, else the last one's level. A zero
// threshold never matches a measured RTT, which is how a level is
// skipped. thresholds nil means DefaultRTTThresholds.
func AutoLevel(rtt time.Duration, thresholds []time.Duration) string {
	return s2conn.AutoLevel(rtt, thresholds)
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
// connection's. Its methods: Read, Write, WriteBuffers(v [][]byte)
// (int64, error), SetLevel(level string) error, Level() string and
// WireBytes() (in, out uint64).
type CompressedConn = s2conn.Conn

// NewCompressedConn wraps nc, on which both sides agreed on mode (the
// result of SelectCompression, or a level). Modes that mean no
// compression (off, accept, not supported) return nc itself.
func NewCompressedConn(nc net.Conn, mode string) net.Conn {
	return s2conn.New(nc, mode)
}

// NewCompressedConnReader is NewCompressedConn for a connection whose
// reader already buffered bytes past the INFO exchange: the compressed
// stream is read from r (for example io.MultiReader(bytes.NewReader(rest),
// nc)) and written to nc. mode must ask for compression.
func NewCompressedConnReader(nc net.Conn, r io.Reader, mode string) *CompressedConn {
	return s2conn.NewReader(nc, r, mode)
}
