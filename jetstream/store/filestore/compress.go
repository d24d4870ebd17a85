package filestore

import (
	"crypto/cipher"
	"encoding/binary"
	"fmt"

	"github.com/klauspost/compress/s2"

	"natsd.dev/jetstream/store"
)

// Compressed records (flagCompressed) keep the record header and the
// subject as they are and replace header and payload by one S2 block (the
// block format, which starts with the uncompressed length as a uvarint),
// preceded by the payload's uncompressed length:
//
//	+------------+----------+---------+------------------+
//	| header 40B | dlen u32 | subject | S2(hdr | data)   |
//	+------------+----------+---------+------------------+
//
// hlen in the header is the uncompressed header length. A record that is
// also sealed is compressed first, then encrypted; dlen stays in clear and
// belongs to the additional data (bytes 8-43):
//
//	+------------+----------+-----------+--------------------------------+---------+
//	| header 40B | dlen u32 | nonce 12B | AES-GCM(subject | S2(hdr|data)) | tag 16B |
//	+------------+----------+-----------+--------------------------------+---------+
//
// A record is only written compressed when that makes it smaller, so the
// length it would have plain (record.full: what the index keeps and sizes
// are counted from) bounds the bytes a read of it needs.
const (
	flagCompressed = 1 << 4
	compHdrSize    = 4
	// compressMin: bodies (header and payload) shorter than this are
	// stored as they are; S2 would save a few bytes at best.
	compressMin = 64
)

// compressor holds the scratch buffers of appends (under Store.mu), so a
// compressed append allocates nothing in steady state.
type compressor struct {
	in  []byte // hdr | data, when there is a header
	out []byte // the S2 block
}

// compress returns hdr | data as an S2 block, or nil if the record would
// not be smaller for it. The block is valid until the next call.
func (c *compressor) compress(hdr, data []byte) []byte {
	n := len(hdr) + len(data)
	if n < compressMin {
		return nil
	}
	src := data
	if len(hdr) > 0 {
		c.in = append(append(c.in[:0], hdr...), data...)
		src = c.in
	}
	bound := s2.MaxEncodedLen(n)
	if bound < 0 {
		return nil
	}
	if cap(c.out) < bound {
		c.out = make([]byte, bound)
	}
	z := s2.Encode(c.out[:bound], src)
	if compHdrSize+len(z) >= n {
		return nil
	}
	return z
}

// compressedLen is the length of the compressed record of subject and the
// S2 block z.
func compressedLen(subject string, z []byte, sealed bool) int {
	n := recHdrSize + compHdrSize + len(subject) + len(z)
	if sealed {
		n += sealOverhead
	}
	return n
}

// appendCompressedRecord appends a compressed record holding the S2 block
// z of a header of hlen and a payload of dlen bytes, encrypted by aead if
// not nil.
func appendCompressedRecord(dst []byte, aead cipher.AEAD, seq uint64, ts, ttl int64, flags uint8, subject string, hlen, dlen int, z []byte) []byte {
	n := compressedLen(subject, z, aead != nil)
	flags |= flagCompressed
	if aead != nil {
		flags |= flagSealed
	}
	start := len(dst)
	dst = grow(dst, n)
	r := dst[start : start+n]
	putRecordHeader(r, seq, ts, ttl, flags, len(subject), hlen)
	binary.LittleEndian.PutUint32(r[recHdrSize:], uint32(dlen))
	body := recHdrSize + compHdrSize
	if aead == nil {
		o := body + copy(r[body:], subject)
		copy(r[o:], z)
		sealRecord(r)
		return dst
	}
	pt := r[body+nonceSize:]
	o := copy(pt, subject)
	copy(pt[o:], z)
	sealBody(aead, r, body, len(subject)+len(z))
	return dst
}

// errExpand: a compressed record whose checksum is valid does not expand
// to the lengths it declares.
var errExpand = fmt.Errorf("filestore: compressed record does not expand: %w", store.ErrCorrupt)

// expand decompresses the S2 block of the compressed record r (unsealed
// first if sealed) into dst, grown as needed, and points r.hdr and r.data
// into it; it returns the buffer.
func expand(r *record, dst []byte) ([]byte, error) {
	n := r.hlen + r.dlen
	if dn, err := s2.DecodedLen(r.z); err != nil || dn != n {
		return dst, errExpand
	}
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	out, err := s2.Decode(dst[:n], r.z)
	if err != nil || len(out) != n {
		return dst, errExpand
	}
	r.hdr, r.data = out[:r.hlen:r.hlen], out[r.hlen:n:n]
	return out, nil
}
