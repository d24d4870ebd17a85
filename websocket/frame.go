package websocket

import (
	"encoding/binary"
	"unicode/utf8"
)

// Opcodes of RFC 6455 section 5.2.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

const (
	finBit  = 0x80
	rsv1Bit = 0x40 // "compressed" flag of permessage-deflate (RFC 7692 section 6)
	rsv23   = 0x30
	maskBit = 0x80

	maxControlPayload = 125
	maxHeaderLen      = 14 // 2 + 8 (length) + 4 (mask key)
)

// StatusCode is a close status code (RFC 6455 section 7.4).
type StatusCode uint16

// Close status codes used by this package. See RFC 6455 section 7.4.1.
const (
	StatusNormalClosure      StatusCode = 1000
	StatusGoingAway          StatusCode = 1001
	StatusProtocolError      StatusCode = 1002
	StatusUnsupportedData    StatusCode = 1003
	StatusNoStatusReceived   StatusCode = 1005 // never sent on the wire
	StatusAbnormalClosure    StatusCode = 1006 // never sent on the wire
	StatusInvalidPayloadData StatusCode = 1007
	StatusPolicyViolation    StatusCode = 1008
	StatusMessageTooBig      StatusCode = 1009
	StatusMandatoryExtension StatusCode = 1010
	StatusInternalError      StatusCode = 1011
	StatusTLSHandshake       StatusCode = 1015 // never sent on the wire
)

// String returns the name of the code as registered with IANA, or its number.
func (s StatusCode) String() string {
	switch s {
	case StatusNormalClosure:
		return "normal closure"
	case StatusGoingAway:
		return "going away"
	case StatusProtocolError:
		return "protocol error"
	case StatusUnsupportedData:
		return "unsupported data"
	case StatusNoStatusReceived:
		return "no status received"
	case StatusAbnormalClosure:
		return "abnormal closure"
	case StatusInvalidPayloadData:
		return "invalid payload data"
	case StatusPolicyViolation:
		return "policy violation"
	case StatusMessageTooBig:
		return "message too big"
	case StatusMandatoryExtension:
		return "mandatory extension"
	case StatusInternalError:
		return "internal error"
	case StatusTLSHandshake:
		return "TLS handshake"
	}
	var b [5]byte
	i := len(b)
	for v := uint16(s); ; v /= 10 {
		i--
		b[i] = byte('0' + v%10)
		if v < 10 {
			break
		}
	}
	return "status " + string(b[i:])
}

// validWireCode reports whether code may appear in a close frame.
// 1004-1006 and 1015 are reserved for local use, 1016-2999 for future
// RFCs (1012-1014 were registered with IANA after RFC 6455 and are valid),
// 3000-4999 belong to libraries and applications.
func validWireCode(code StatusCode) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// putHeader writes the header of an unmasked server frame into b, which
// must hold maxHeaderLen bytes, and returns its length.
func putHeader(b []byte, op byte, compressed bool, n int) int {
	b0 := finBit | op
	if compressed {
		b0 |= rsv1Bit
	}
	b[0] = b0
	switch {
	case n <= 125:
		b[1] = byte(n)
		return 2
	case n <= 0xFFFF:
		b[1] = 126
		binary.BigEndian.PutUint16(b[2:], uint16(n))
		return 4
	default:
		b[1] = 127
		binary.BigEndian.PutUint64(b[2:], uint64(n))
		return 10
	}
}

// maskBytes XORs b with key, starting at key offset pos, and returns the
// offset for the byte following b. Masking and unmasking are the same.
func maskBytes(key [4]byte, pos int, b []byte) int {
	pos &= 3
	i := 0
	// Align the key to the start of b so that 8 bytes can be done at once.
	if len(b) >= 16 {
		// Little endian is the native order of the common CPUs: the loads
		// and stores below then compile to plain moves.
		k := uint32(key[pos&3]) | uint32(key[(pos+1)&3])<<8 | uint32(key[(pos+2)&3])<<16 | uint32(key[(pos+3)&3])<<24
		k64 := uint64(k) | uint64(k)<<32
		for ; i+32 <= len(b); i += 32 {
			v := b[i : i+32 : i+32]
			binary.LittleEndian.PutUint64(v[0:], binary.LittleEndian.Uint64(v[0:])^k64)
			binary.LittleEndian.PutUint64(v[8:], binary.LittleEndian.Uint64(v[8:])^k64)
			binary.LittleEndian.PutUint64(v[16:], binary.LittleEndian.Uint64(v[16:])^k64)
			binary.LittleEndian.PutUint64(v[24:], binary.LittleEndian.Uint64(v[24:])^k64)
		}
		for ; i+8 <= len(b); i += 8 {
			v := b[i : i+8 : i+8]
			binary.LittleEndian.PutUint64(v, binary.LittleEndian.Uint64(v)^k64)
		}
	}
	for ; i < len(b); i++ {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}

// utf8Stream validates UTF-8 text that arrives in pieces: a code point may
// be split between two reads or two fragments.
type utf8Stream struct {
	carry [utf8.UTFMax]byte
	n     int
}

func (s *utf8Stream) reset() { s.n = 0 }

// feed reports whether p, appended to what came before, can still be
// valid UTF-8.
func (s *utf8Stream) feed(p []byte) bool {
	if s.n > 0 {
		for len(p) > 0 && !utf8.FullRune(s.carry[:s.n]) {
			s.carry[s.n] = p[0]
			s.n++
			p = p[1:]
		}
		if !utf8.FullRune(s.carry[:s.n]) {
			return true
		}
		if r, size := utf8.DecodeRune(s.carry[:s.n]); r == utf8.RuneError && size <= 1 {
			return false
		}
		s.n = 0
	}
	// Keep an incomplete code point at the end for the next piece.
	t := len(p)
	for j := len(p) - 1; j >= 0 && j >= len(p)-(utf8.UTFMax-1); j-- {
		if utf8.RuneStart(p[j]) {
			if !utf8.FullRune(p[j:]) {
				t = j
			}
			break
		}
	}
	if !utf8.Valid(p[:t]) {
		return false
	}
	s.n = copy(s.carry[:], p[t:])
	return true
}

// complete reports whether the text fed so far ends on a code point boundary.
func (s *utf8Stream) complete() bool { return s.n == 0 }
