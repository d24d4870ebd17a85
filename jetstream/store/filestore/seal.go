package filestore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"natsd.dev/jetstream/store"
)

// ErrKey: the directory holds encrypted records and Config.EncryptionKey is
// missing or is not the key they were written with. Open fails rather than
// treating the records as damaged.
var ErrKey = errors.New("filestore: missing or wrong encryption key")

// Encrypted records (flagSealed) replace the body with
//
//	+-----------+--------------------------------------+---------+
//	| nonce 12B | AES-GCM(subject | hdr | data)         | tag 16B |
//	+-----------+--------------------------------------+---------+
//
// The additional data is bytes 8-39 of the record header (sequence, time,
// TTL, flags and lengths), so a record cannot be moved to another
// sequence. The CRC-32C still covers the whole record, so torn writes are
// found without the key.
const (
	flagSealed   = 1 << 3
	nonceSize    = 12
	sealOverhead = nonceSize + 16
)

func newAEAD(key []byte) (cipher.AEAD, error) {
	if key == nil {
		return nil, nil
	}
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, fmt.Errorf("filestore: EncryptionKey must be 16, 24 or 32 bytes: %w", store.ErrInvalidConfig)
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(blk)
}

// appendSealedRecord is appendRecord with the body encrypted by aead.
func appendSealedRecord(dst []byte, aead cipher.AEAD, seq uint64, ts, ttl int64, flags uint8, subject string, hdr, data []byte) []byte {
	plen := len(subject) + len(hdr) + len(data)
	n := recHdrSize + sealOverhead + plen
	start := len(dst)
	dst = grow(dst, n)
	r := dst[start : start+n]
	binary.LittleEndian.PutUint32(r[recLenOff:], uint32(n))
	binary.LittleEndian.PutUint64(r[recSeqOff:], seq)
	binary.LittleEndian.PutUint64(r[recTSOff:], uint64(ts))
	binary.LittleEndian.PutUint64(r[recTTLOff:], uint64(ttl))
	r[recFlagsOff] = flags | flagSealed
	r[recFlagsOff+1] = 0
	binary.LittleEndian.PutUint16(r[recSlenOff:], uint16(len(subject)))
	binary.LittleEndian.PutUint32(r[recHlenOff:], uint32(len(hdr)))
	nonce := r[recHdrSize : recHdrSize+nonceSize]
	if _, err := rand.Read(nonce); err != nil {
		panic("filestore: crypto/rand failed: " + err.Error())
	}
	pt := r[recHdrSize+nonceSize : recHdrSize+nonceSize+plen]
	o := copy(pt, subject)
	o += copy(pt[o:], hdr)
	copy(pt[o:], data)
	aead.Seal(pt[:0], nonce, pt, r[recSeqOff:recHdrSize])
	binary.LittleEndian.PutUint32(r[recCRCOff:], crc32.Checksum(r[recSeqOff:], castagnoli))
	return dst
}

// unseal decrypts a sealed record decoded into r (whose body views are
// then set into scratch, grown as needed) and returns the scratch buffer.
func unseal(aead cipher.AEAD, raw []byte, r *record, scratch []byte) ([]byte, error) {
	if aead == nil {
		return scratch, ErrKey
	}
	body := raw[recHdrSize:r.size]
	pt, err := aead.Open(scratch[:0], body[:nonceSize], body[nonceSize:], raw[recSeqOff:recHdrSize])
	if err != nil {
		return scratch, ErrKey
	}
	slen := int(binary.LittleEndian.Uint16(raw[recSlenOff:]))
	hlen := int(binary.LittleEndian.Uint32(raw[recHlenOff:]))
	r.subject = pt[:slen]
	r.hdr = pt[slen : slen+hlen]
	r.data = pt[slen+hlen:]
	return pt, nil
}
