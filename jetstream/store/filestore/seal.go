package filestore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"

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
	putRecordHeader(r, seq, ts, ttl, flags|flagSealed, len(subject), len(hdr))
	pt := r[recHdrSize+nonceSize : recHdrSize+nonceSize+plen]
	o := copy(pt, subject)
	o += copy(pt[o:], hdr)
	copy(pt[o:], data)
	sealBody(aead, r, recHdrSize, plen)
	return dst
}

// sealBody encrypts in place the plen bytes of the record r that follow
// its nonce at body, writes the nonce and the tag, and checksums r. The
// bytes 8 to body are the additional data.
func sealBody(aead cipher.AEAD, r []byte, body, plen int) {
	nonce := r[body : body+nonceSize]
	if _, err := rand.Read(nonce); err != nil {
		panic("filestore: crypto/rand failed: " + err.Error())
	}
	pt := r[body+nonceSize : body+nonceSize+plen]
	aead.Seal(pt[:0], nonce, pt, r[recSeqOff:body])
	sealRecord(r)
}

// unseal decrypts a sealed record decoded into r (whose body views are
// then set into scratch, grown as needed) and returns the scratch buffer.
// A compressed record gets its subject and z set (see expand).
func unseal(aead cipher.AEAD, raw []byte, r *record, scratch []byte) ([]byte, error) {
	if aead == nil {
		return scratch, ErrKey
	}
	bodyOff := recHdrSize
	if r.flags&flagCompressed != 0 {
		bodyOff += compHdrSize
	}
	body := raw[bodyOff:r.size]
	pt, err := aead.Open(scratch[:0], body[:nonceSize], body[nonceSize:], raw[recSeqOff:bodyOff])
	if err != nil {
		return scratch, ErrKey
	}
	slen := int(binary.LittleEndian.Uint16(raw[recSlenOff:]))
	r.subject = pt[:slen]
	if r.flags&flagCompressed != 0 {
		r.z = pt[slen:]
		return pt, nil
	}
	hlen := int(binary.LittleEndian.Uint32(raw[recHlenOff:]))
	r.hdr = pt[slen : slen+hlen]
	r.data = pt[slen+hlen:]
	return pt, nil
}
