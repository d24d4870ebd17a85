package filestore

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/klauspost/compress/s2"

	"natsd.dev/jetstream/store"
)

// Block file header layout (see the package documentation).
const (
	blkMagic      = "NATSDBK1"
	blkVersion    = 1
	blkHdrSize    = 32
	blkHdrCRCOff  = 12
	blkHdrBaseOff = 16
	blkHdrTimeOff = 24
)

// Record header layout.
const (
	recHdrSize  = 40
	recLenOff   = 0
	recCRCOff   = 4
	recSeqOff   = 8
	recTSOff    = 16
	recTTLOff   = 24
	recFlagsOff = 32
	recSlenOff  = 34
	recHlenOff  = 36

	// maxRecord bounds a record so that a damaged length field cannot make
	// recovery allocate or skip absurd amounts.
	maxRecord = 1 << 30
)

// Record flags.
const (
	flagTombstone = 1 << 0 // seq names a message removed earlier
	flagErased    = 1 << 1 // body overwritten; the message is removed
	flagMarker    = 1 << 2 // every message below seq is removed
	// flagSealed (1 << 3) is in seal.go, flagCompressed (1 << 4) in
	// compress.go.
	flagSkip = 1 << 5 // every sequence up to seq is used (SkipMsgs)

	// flagNoBody marks the records that carry no message.
	flagNoBody = flagTombstone | flagMarker | flagSkip
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendBlockHeader appends the header of a block whose first message will
// have sequence base; lastTime is the stream's LastTime when it was made.
func appendBlockHeader(dst []byte, base uint64, lastTime int64) []byte {
	var h [blkHdrSize]byte
	copy(h[:], blkMagic)
	h[8] = blkVersion
	binary.LittleEndian.PutUint64(h[blkHdrBaseOff:], base)
	binary.LittleEndian.PutUint64(h[blkHdrTimeOff:], uint64(lastTime))
	crc := crc32.Update(crc32.Checksum(h[:blkHdrCRCOff], castagnoli), castagnoli, h[blkHdrBaseOff:])
	binary.LittleEndian.PutUint32(h[blkHdrCRCOff:], crc)
	return append(dst, h[:]...)
}

// parseBlockHeader validates a block header.
func parseBlockHeader(b []byte) (base uint64, lastTime int64, err error) {
	if len(b) < blkHdrSize {
		return 0, 0, fmt.Errorf("filestore: short block header (%d bytes): %w", len(b), store.ErrCorrupt)
	}
	if string(b[:8]) != blkMagic {
		return 0, 0, fmt.Errorf("filestore: bad block magic: %w", store.ErrCorrupt)
	}
	if b[8] != blkVersion {
		return 0, 0, fmt.Errorf("filestore: unknown block version %d: %w", b[8], store.ErrCorrupt)
	}
	crc := crc32.Update(crc32.Checksum(b[:blkHdrCRCOff], castagnoli), castagnoli, b[blkHdrBaseOff:blkHdrSize])
	if crc != binary.LittleEndian.Uint32(b[blkHdrCRCOff:]) {
		return 0, 0, fmt.Errorf("filestore: block header checksum: %w", store.ErrCorrupt)
	}
	return binary.LittleEndian.Uint64(b[blkHdrBaseOff:]), int64(binary.LittleEndian.Uint64(b[blkHdrTimeOff:])), nil
}

// recordLen is the encoded size of a message record.
func recordLen(subject string, hdr, data []byte) int {
	return recHdrSize + len(subject) + len(hdr) + len(data)
}

// appendRecord appends one record to dst.
func appendRecord(dst []byte, seq uint64, ts int64, ttl int64, flags uint8, subject string, hdr, data []byte) []byte {
	n := recordLen(subject, hdr, data)
	start := len(dst)
	dst = grow(dst, n)
	r := dst[start : start+n]
	putRecordHeader(r, seq, ts, ttl, flags, len(subject), len(hdr))
	o := recHdrSize
	o += copy(r[o:], subject)
	o += copy(r[o:], hdr)
	copy(r[o:], data)
	sealRecord(r)
	return dst
}

// putRecordHeader fills bytes 0-3 and 8-39 of the record r (its whole
// length); the checksum comes last (sealRecord).
func putRecordHeader(r []byte, seq uint64, ts, ttl int64, flags uint8, slen, hlen int) {
	binary.LittleEndian.PutUint32(r[recLenOff:], uint32(len(r)))
	binary.LittleEndian.PutUint64(r[recSeqOff:], seq)
	binary.LittleEndian.PutUint64(r[recTSOff:], uint64(ts))
	binary.LittleEndian.PutUint64(r[recTTLOff:], uint64(ttl))
	r[recFlagsOff] = flags
	r[recFlagsOff+1] = 0
	binary.LittleEndian.PutUint16(r[recSlenOff:], uint16(slen))
	binary.LittleEndian.PutUint32(r[recHlenOff:], uint32(hlen))
}

// sealRecord computes and stores the checksum of a complete record.
func sealRecord(r []byte) {
	binary.LittleEndian.PutUint32(r[recCRCOff:], crc32.Checksum(r[recSeqOff:], castagnoli))
}

func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), 2*cap(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// record is a decoded view of one record; its slices alias the block.
type record struct {
	seq     uint64
	ts      int64
	ttl     int64
	flags   uint8
	subject []byte
	hdr     []byte
	data    []byte
	size    int // bytes the record takes in the block
	// full is the record's length uncompressed: size, or for a compressed
	// record the size it would have had written plain (sealOverhead
	// included when sealed). The index keeps it (slot.rlen).
	full int
	// A compressed record leaves hdr and data nil: z is its S2 block
	// (once unsealed), hlen and dlen the lengths it expands to.
	z          []byte
	hlen, dlen int
}

// errShort reports a record that runs past the end of its buffer: a torn
// write when it is at the end of the last block.
var errShort = fmt.Errorf("filestore: record past end of block: %w", store.ErrCorrupt)

// decodeRecord decodes and verifies the record at the start of b. The body
// of a sealed record stays encrypted (subject, hdr, data and z nil: see
// unseal) and that of a compressed one compressed (see expand).
func decodeRecord(b []byte, r *record) error {
	if len(b) < recHdrSize {
		return errShort
	}
	n := int(binary.LittleEndian.Uint32(b[recLenOff:]))
	if n < recHdrSize || n > maxRecord {
		return fmt.Errorf("filestore: bad record length %d: %w", n, store.ErrCorrupt)
	}
	if n > len(b) {
		return errShort
	}
	b = b[:n]
	if crc32.Checksum(b[recSeqOff:], castagnoli) != binary.LittleEndian.Uint32(b[recCRCOff:]) {
		return fmt.Errorf("filestore: record checksum mismatch: %w", store.ErrCorrupt)
	}
	slen := int(binary.LittleEndian.Uint16(b[recSlenOff:]))
	hlen := int(binary.LittleEndian.Uint32(b[recHlenOff:]))
	flags := b[recFlagsOff]
	r.seq = binary.LittleEndian.Uint64(b[recSeqOff:])
	r.ts = int64(binary.LittleEndian.Uint64(b[recTSOff:]))
	r.ttl = int64(binary.LittleEndian.Uint64(b[recTTLOff:]))
	r.flags = flags
	r.subject, r.hdr, r.data, r.z = nil, nil, nil, nil
	r.size, r.full = n, n
	r.hlen, r.dlen = hlen, 0
	body := recHdrSize
	// need is what the (decrypted) body must at least hold.
	need := slen + hlen
	if flags&flagCompressed != 0 {
		if n < recHdrSize+compHdrSize {
			return fmt.Errorf("filestore: short compressed record: %w", store.ErrCorrupt)
		}
		dlen := int(binary.LittleEndian.Uint32(b[recHdrSize:]))
		full := uint64(recHdrSize) + uint64(slen) + uint64(hlen) + uint64(dlen)
		if flags&flagSealed != 0 {
			full += sealOverhead
		}
		// full must fit the index's 30 bits (below sealedBit).
		if full >= maxRecord {
			return fmt.Errorf("filestore: bad compressed record lengths: %w", store.ErrCorrupt)
		}
		r.dlen, r.full = dlen, int(full)
		body += compHdrSize
		need = slen
	}
	if flags&flagSealed != 0 {
		if need > n-body-sealOverhead {
			return fmt.Errorf("filestore: bad sealed record lengths: %w", store.ErrCorrupt)
		}
		return nil
	}
	if need > n-body {
		return fmt.Errorf("filestore: bad record field lengths: %w", store.ErrCorrupt)
	}
	o := body
	r.subject = b[o : o+slen]
	o += slen
	if flags&flagCompressed != 0 {
		r.z = b[o:n]
		if flags&flagErased == 0 {
			if dn, err := s2.DecodedLen(r.z); err != nil || dn != hlen+r.dlen {
				return errExpand
			}
		}
		return nil
	}
	r.hdr = b[o : o+hlen]
	o += hlen
	r.data = b[o:n]
	return nil
}

// eraseRecord overwrites the body of the record r (a whole record) with
// zeros, flags it erased and reseals it.
func eraseRecord(r []byte) {
	clear(r[recHdrSize:])
	r[recFlagsOff] |= flagErased
	sealRecord(r)
}

func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
