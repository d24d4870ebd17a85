// Package snapshot is the stream backup archive of JetStream: the NATSARC1
// format that nats-server 2.15 streams to STREAM.SNAPSHOT clients and
// reads back on STREAM.RESTORE (the "Stream Backup and Restore V2" design
// of nats-io/nats-architecture-and-design). The nats CLI stores the bytes
// as stream.arc.s2 next to backup.json, and its `nats backup` tools read
// them, so the format is matched byte for byte, not merely in spirit.
//
// # Wire format
//
// The archive is one S2 stream (klauspost/compress/s2 framing). Once
// decompressed it is the eight bytes "NATSARC1" followed by entries:
//
//	+----------+-----------+----------+------------+-------------+------+---------+
//	| NameLen  | Timestamp | Sequence | HeaderSize | PayloadSize | Name | Payload |
//	| uvarint  | varint    | uvarint  | uvarint    | uvarint     |      |         |
//	+----------+-----------+----------+------------+-------------+------+---------+
//
// Payload is HeaderSize+PayloadSize bytes: a message's NATS header block
// then its body, or a metadata entry's JSON (HeaderSize 0). Entries come
// in this order:
//
//  1. "state.json": the stream state (api.StreamState JSON) when the
//     snapshot began; its consumer_count says how many consumer entries
//     follow.
//  2. "consumers/<name>": one per consumer, JSON {"config":..,"state":..}.
//  3. messages in strictly ascending sequence order: Name is the subject,
//     Sequence and Timestamp (Unix nanoseconds) the message's.
//  4. the sentinel: empty name, every number zero.
//
// An archive that ends before the sentinel is truncated, even when it ends
// between two entries.
//
// # Usage
//
// Writer and Reader handle the framing; Create and Open add the S2 layer.
// Decoder checks the order rules above on top of a Reader, so a restore
// can store each message as it arrives. Nothing in an archive names a file:
// entry names are subjects and consumer names, validated, never paths.
//
// # Errors
//
// Every malformed archive yields an error marked ErrInvalid (test with
// errors.Is); a stream that ends early yields one marked ErrTruncated too.
// A compressed stream that does not start with the magic (a legacy tar
// backup, say) yields ErrNotArchive.
package snapshot

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/s2"
)

// Magic starts every decompressed archive.
const Magic = "NATSARC1"

// Limits on what a Reader accepts, so a hostile archive cannot make it
// allocate much.
const (
	// MaxNameLen bounds an entry's name (a subject or "consumers/<name>").
	MaxNameLen = 64 << 10
	// MaxMetaLen bounds a metadata entry (state.json, a consumer).
	MaxMetaLen = 16 << 20
)

// Errors.
var (
	// ErrInvalid marks every error about a malformed archive.
	ErrInvalid = errors.New("snapshot: invalid archive")
	// ErrTruncated marks an archive that ended before its sentinel.
	ErrTruncated = errors.New("snapshot: unexpected end of archive")
	// ErrNotArchive is returned by Open for input that is not NATSARC1
	// (for instance the tar archives of servers before 2.15).
	ErrNotArchive = errors.New("snapshot: not a NATSARC1 archive")
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

func truncated(what string) error {
	return fmt.Errorf("%w: %w: %s", ErrInvalid, ErrTruncated, what)
}

// Header is an entry's header.
type Header struct {
	Name        string
	Timestamp   int64  // Unix nanoseconds, 0 when unset
	Sequence    uint64 // 0 for metadata and the sentinel
	HeaderSize  uint64 // bytes of NATS header block at the start of the payload
	PayloadSize uint64 // bytes that follow the header block
}

// IsEnd reports whether h is the sentinel.
func (h *Header) IsEnd() bool {
	return h.Name == "" && h.Timestamp == 0 && h.Sequence == 0 && h.HeaderSize == 0 && h.PayloadSize == 0
}

// Writer writes archive entries to an uncompressed destination.
type Writer struct {
	w   io.Writer
	buf []byte
	err error
}

// NewWriter writes the magic to w and returns a Writer of entries to it.
func NewWriter(w io.Writer) *Writer {
	aw := &Writer{w: w}
	_, aw.err = io.WriteString(w, Magic)
	return aw
}

// WriteEntry writes an entry whose payload is hdr followed by data; h's
// sizes are set from them.
func (w *Writer) WriteEntry(h Header, hdr, data []byte) error {
	if w.err != nil {
		return w.err
	}
	h.HeaderSize, h.PayloadSize = uint64(len(hdr)), uint64(len(data))
	b := w.buf[:0]
	b = binary.AppendUvarint(b, uint64(len(h.Name)))
	b = binary.AppendVarint(b, h.Timestamp)
	b = binary.AppendUvarint(b, h.Sequence)
	b = binary.AppendUvarint(b, h.HeaderSize)
	b = binary.AppendUvarint(b, h.PayloadSize)
	b = append(b, h.Name...)
	w.buf = b
	for _, p := range [][]byte{b, hdr, data} {
		if len(p) == 0 {
			continue
		}
		if _, err := w.w.Write(p); err != nil {
			w.err = err
			return err
		}
	}
	return nil
}

// WriteEnd writes the sentinel.
func (w *Writer) WriteEnd() error { return w.WriteEntry(Header{}, nil, nil) }

// Reader reads the entries of an uncompressed archive.
type Reader struct {
	r     *bufio.Reader
	magic bool
	buf   []byte
}

// NewReader returns a Reader of the archive in r (uncompressed). The
// magic is checked by the first Next.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Next reads the next entry. The payload it returns is valid until the
// following call. maxPayload bounds HeaderSize+PayloadSize; a larger entry
// is refused (ErrInvalid) before anything is allocated for it. At the end
// of the input, before any byte of an entry, it returns io.EOF.
func (r *Reader) Next(maxPayload uint64) (Header, []byte, error) {
	var h Header
	if !r.magic {
		var m [len(Magic)]byte
		if _, err := io.ReadFull(r.r, m[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return h, nil, truncated("no magic")
			}
			return h, nil, err
		}
		if string(m[:]) != Magic {
			return h, nil, ErrNotArchive
		}
		r.magic = true
	}
	if _, err := r.r.Peek(1); err != nil {
		if errors.Is(err, io.EOF) {
			return h, nil, io.EOF
		}
		return h, nil, err
	}
	var nums [5]uint64
	for i := range nums {
		v, err := readUvarint(r.r)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return h, nil, truncated("entry header")
			}
			return h, nil, err
		}
		nums[i] = v
	}
	// The timestamp is a zig-zag varint.
	ts := int64(nums[1] >> 1)
	if nums[1]&1 != 0 {
		ts = ^ts
	}
	nums[1] = uint64(ts)
	nameLen := nums[0]
	h.Timestamp, h.Sequence, h.HeaderSize, h.PayloadSize = int64(nums[1]), nums[2], nums[3], nums[4]
	if nameLen > MaxNameLen {
		return h, nil, invalid("entry name of %d bytes", nameLen)
	}
	size := h.HeaderSize + h.PayloadSize
	if size < h.HeaderSize || size > maxPayload {
		return h, nil, invalid("entry of %d+%d bytes", h.HeaderSize, h.PayloadSize)
	}
	need := int(nameLen + size)
	if cap(r.buf) < need {
		r.buf = make([]byte, need)
	}
	b := r.buf[:need]
	if _, err := io.ReadFull(r.r, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return h, nil, truncated("entry body")
		}
		return h, nil, err
	}
	h.Name = string(b[:nameLen])
	return h, b[nameLen:], nil
}

// readUvarint reads a uvarint as encoding/binary writes it, refusing one
// that overflows 64 bits. A stream that ends inside it is ErrUnexpectedEOF.
func readUvarint(r io.ByteReader) (uint64, error) {
	var x uint64
	var s uint
	for i := range binary.MaxVarintLen64 {
		b, err := r.ReadByte()
		if err != nil {
			if i > 0 && errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				break
			}
			return x | uint64(b)<<s, nil
		}
		x |= uint64(b&0x7f) << s
		s += 7
	}
	return 0, invalid("varint overflows 64 bits")
}

// Create returns a Writer compressing into w; closing the returned
// io.Closer flushes and ends the S2 stream (w itself is not closed).
func Create(w io.Writer) (*Writer, io.Closer) {
	zw := s2.NewWriter(w, s2.WriterConcurrency(1))
	return NewWriter(zw), zw
}

// Open returns a Reader of the S2-compressed archive in r.
func Open(r io.Reader) *Reader { return NewReader(s2Errors{s2.NewReader(r)}) }

// s2Errors marks the decompressor's complaints as ErrInvalid, so a corrupt
// or foreign stream is reported as such and not as an I/O failure.
type s2Errors struct{ r io.Reader }

func (s s2Errors) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF && isS2Error(err) {
		err = fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return n, err
}

func isS2Error(err error) bool {
	for _, e := range []error{s2.ErrCorrupt, s2.ErrUnsupported, s2.ErrCRC, s2.ErrTooLarge} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
