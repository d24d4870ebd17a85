// Package snappy writes the snappy framing format (a stream of
// CRC-checked chunks, each a snappy block), which message trace events
// use when the traced message's Accept-Encoding asks for snappy (or s2),
// as upstream's. Any snappy or s2 stream reader decodes it.
//
// Only the writer is here: the server never reads snappy. The block
// encoder is a plain greedy matcher over a hash of 4-byte sequences:
// small trace events, not throughput, are what it serves.
package snappy

import (
	"encoding/binary"
	"hash/crc32"
)

// streamID is the stream identifier chunk that opens every stream.
var streamID = []byte{0xff, 0x06, 0x00, 0x00, 's', 'N', 'a', 'P', 'p', 'Y'}

const (
	chunkCompressed   = 0x00
	chunkUncompressed = 0x01
	// maxChunk is the most uncompressed bytes a chunk may hold.
	maxChunk = 65536
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maskedCRC is the checksum of a chunk's uncompressed data, masked as the
// format asks.
func maskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return (c>>15 | c<<17) + 0xa282ead8
}

// AppendStream appends src, encoded as a whole snappy framed stream, to
// dst and returns the extended slice.
func AppendStream(dst, src []byte) []byte {
	dst = append(dst, streamID...)
	for len(src) > 0 {
		n := min(len(src), maxChunk)
		chunk := src[:n]
		src = src[n:]
		start := len(dst)
		dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0) // type, length, CRC
		dst = AppendBlock(dst, chunk)
		typ := byte(chunkCompressed)
		if len(dst)-start-8 >= len(chunk) {
			// Not worth it: store the bytes as they are.
			dst = append(dst[:start+8], chunk...)
			typ = chunkUncompressed
		}
		size := len(dst) - start - 4
		dst[start] = typ
		dst[start+1], dst[start+2], dst[start+3] = byte(size), byte(size>>8), byte(size>>16)
		binary.LittleEndian.PutUint32(dst[start+4:], maskedCRC(chunk))
	}
	return dst
}

const (
	tableBits = 14
	// maxOffset bounds the distance of a copy (2-byte offsets).
	maxOffset = 1<<16 - 1
)

// AppendBlock appends src encoded as one snappy block (its length as a
// varint, then literals and copies) to dst.
func AppendBlock(dst, src []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(src)))
	var table [1 << tableBits]int32 // position+1 of a 4-byte sequence
	lit := 0                        // start of the bytes not yet emitted
	for i := 0; i+4 <= len(src); {
		v := binary.LittleEndian.Uint32(src[i:])
		h := (v * 0x1e35a7bd) >> (32 - tableBits)
		cand := int(table[h]) - 1
		table[h] = int32(i + 1)
		if cand < 0 || i-cand > maxOffset || binary.LittleEndian.Uint32(src[cand:]) != v {
			i++
			continue
		}
		dst = appendLiteral(dst, src[lit:i])
		n := 4
		for i+n < len(src) && src[cand+n] == src[i+n] {
			n++
		}
		dst = appendCopy(dst, i-cand, n)
		i += n
		lit = i
	}
	return appendLiteral(dst, src[lit:])
}

// appendLiteral appends lit as literal elements.
func appendLiteral(dst, lit []byte) []byte {
	for len(lit) > 0 {
		n := min(len(lit), 1<<16)
		switch m := n - 1; {
		case m < 60:
			dst = append(dst, byte(m)<<2)
		case m < 1<<8:
			dst = append(dst, 60<<2, byte(m))
		default:
			dst = append(dst, 61<<2, byte(m), byte(m>>8))
		}
		dst = append(dst, lit[:n]...)
		lit = lit[n:]
	}
	return dst
}

// appendCopy appends copies of n bytes from offset back, as elements
// with 2-byte offsets of at most 64 bytes each.
func appendCopy(dst []byte, offset, n int) []byte {
	for n > 0 {
		m := min(n, 64)
		dst = append(dst, byte(m-1)<<2|2, byte(offset), byte(offset>>8))
		n -= m
	}
	return dst
}
