package packet

import "unicode/utf8"

// maxVarint is the largest Variable Byte Integer (four bytes).
const maxVarint = 268435455

// decoder reads the fields of a packet body. The first failure sticks in err
// and every later read returns zero values, so a decode function checks err
// once at the points where it matters.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

func (d *decoder) short() { d.fail(malformed("packet shorter than its fields")) }

func (d *decoder) u8() byte {
	if len(d.b) < 1 {
		d.short()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) u16() uint16 {
	if len(d.b) < 2 {
		d.short()
		return 0
	}
	v := uint16(d.b[0])<<8 | uint16(d.b[1])
	d.b = d.b[2:]
	return v
}

func (d *decoder) u32() uint32 {
	if len(d.b) < 4 {
		d.short()
		return 0
	}
	v := uint32(d.b[0])<<24 | uint32(d.b[1])<<16 | uint32(d.b[2])<<8 | uint32(d.b[3])
	d.b = d.b[4:]
	return v
}

func (d *decoder) varint() uint32 {
	v, n := readVarint(d.b)
	switch {
	case n == 0:
		d.short()
	case n < 0:
		d.fail(malformed("variable byte integer longer than 4 bytes"))
	default:
		d.b = d.b[n:]
	}
	return v
}

// bin reads Binary Data: a two-byte length and that many bytes, aliasing d.b.
func (d *decoder) bin() []byte {
	n := int(d.u16())
	if len(d.b) < n {
		d.short()
		return nil
	}
	s := d.b[:n:n]
	d.b = d.b[n:]
	return s
}

// str reads a UTF-8 Encoded String, aliasing d.b.
func (d *decoder) str() []byte {
	s := d.bin()
	if !validString(s) {
		d.fail(malformed("string is not well-formed UTF-8 or holds U+0000"))
		return nil
	}
	return s
}

// validString reports whether s is an MQTT string: well-formed UTF-8 (no
// surrogates) without U+0000.
func validString(s []byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return false
		}
		if s[i] >= utf8.RuneSelf {
			return utf8.Valid(s[i:]) && indexZero(s[i:]) < 0
		}
	}
	return true
}

func indexZero(s []byte) int {
	for i, c := range s {
		if c == 0 {
			return i
		}
	}
	return -1
}

// readVarint decodes a Variable Byte Integer at the start of b. n is the
// number of bytes used, 0 when b ends first, -1 when it runs past 4 bytes.
func readVarint(b []byte) (v uint32, n int) {
	var shift uint
	for i := 0; i < 4; i++ {
		if i >= len(b) {
			return 0, 0
		}
		v |= uint32(b[i]&0x7f) << shift
		if b[i] < 0x80 {
			return v, i + 1
		}
		shift += 7
	}
	return 0, -1
}

func varintLen(v int) int {
	switch {
	case v < 1<<7:
		return 1
	case v < 1<<14:
		return 2
	case v < 1<<21:
		return 3
	}
	return 4
}

// appendVarint appends v (at most maxVarint) as a Variable Byte Integer.
func appendVarint(dst []byte, v int) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

func appendU16(dst []byte, v uint16) []byte { return append(dst, byte(v>>8), byte(v)) }

func appendU32(dst []byte, v uint32) []byte {
	return append(dst, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// appendBin appends Binary Data or a string; s longer than 65535 bytes is the
// caller's bug and is cut to fit the length field.
func appendBin[T string | []byte](dst []byte, s T) []byte {
	if len(s) > 0xffff {
		s = s[:0xffff]
	}
	dst = appendU16(dst, uint16(len(s)))
	return append(dst, s...)
}

// frame turns dst[start:] (a packet body) into a whole packet by inserting
// the fixed header hdr and the remaining length in front of it.
func frame(dst []byte, start int, hdr byte) []byte {
	n := len(dst) - start
	hl := 1 + varintLen(n)
	var pad [5]byte
	dst = append(dst, pad[:hl]...)
	copy(dst[start+hl:], dst[start:start+n])
	dst[start] = hdr
	appendVarint(dst[start+1:start+1], n)
	return dst
}
