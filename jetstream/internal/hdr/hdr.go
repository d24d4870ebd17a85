// Package hdr reads and writes NATS header blocks ("NATS/1.0\r\nKey:
// Value\r\n...\r\n\r\n") without allocating for reads.
package hdr

import (
	"bytes"
	"strconv"
	"time"
)

// Header names JetStream reads and writes.
const (
	MsgID              = "Nats-Msg-Id"
	ExpectedStream     = "Nats-Expected-Stream"
	ExpectedLastSeq    = "Nats-Expected-Last-Sequence"
	ExpectedLastSubSeq = "Nats-Expected-Last-Subject-Sequence"
	ExpectedLastSubj   = "Nats-Expected-Last-Subject-Sequence-Subject"
	ExpectedLastMsgID  = "Nats-Expected-Last-Msg-Id"
	Rollup             = "Nats-Rollup"
	TTL                = "Nats-TTL"
	Incr               = "Nats-Incr"
	RequiredAPILevel   = "Nats-Required-Api-Level"
	Stream             = "Nats-Stream"
	Sequence           = "Nats-Sequence"
	TimeStamp          = "Nats-Time-Stamp"
	Subject            = "Nats-Subject"
	LastSequence       = "Nats-Last-Sequence"
	NumPending         = "Nats-Num-Pending"
	UpToSequence       = "Nats-UpTo-Sequence"
	MarkerReason       = "Nats-Marker-Reason"
	MsgSize            = "Nats-Msg-Size"
	StreamSource       = "Nats-Stream-Source"
)

const preamble = "NATS/1.0"

// Get returns the value of the first header named key (compared
// case-insensitively), trimmed, or nil when absent.
func Get(h []byte, key string) []byte {
	if len(h) < len(preamble) {
		return nil
	}
	i := bytes.Index(h, []byte("\r\n"))
	if i < 0 {
		return nil
	}
	h = h[i+2:]
	for len(h) > 0 {
		j := bytes.Index(h, []byte("\r\n"))
		line := h
		if j >= 0 {
			line, h = h[:j], h[j+2:]
		} else {
			h = nil
		}
		if len(line) == 0 {
			break
		}
		c := bytes.IndexByte(line, ':')
		if c < 0 {
			continue
		}
		if len(line[:c]) == len(key) && bytes.EqualFold(line[:c], []byte(key)) {
			return bytes.TrimSpace(line[c+1:])
		}
	}
	return nil
}

// Has reports whether h holds any header named key.
func Has(h []byte, key string) bool { return Get(h, key) != nil }

// Builder appends headers to a block.
type Builder struct{ b []byte }

// NewBuilder starts a block with the status line "NATS/1.0" and, if code
// is not 0, " code desc".
func NewBuilder(dst []byte, code int, desc string) *Builder {
	b := &Builder{}
	return b.Reset(dst, code, desc)
}

// Reset starts b anew as NewBuilder does, in dst's space: a Builder kept
// in a caller's struct (or on its stack) builds blocks without
// allocating once dst is large enough.
func (b *Builder) Reset(dst []byte, code int, desc string) *Builder {
	dst = append(dst[:0], preamble...)
	if code != 0 {
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, int64(code), 10)
		if desc != "" {
			dst = append(dst, ' ')
			dst = append(dst, desc...)
		}
	}
	b.b = append(dst, "\r\n"...)
	return b
}

// Add appends "key: value".
func (b *Builder) Add(key, value string) *Builder {
	b.b = append(b.b, key...)
	b.b = append(b.b, ": "...)
	b.b = append(b.b, value...)
	b.b = append(b.b, "\r\n"...)
	return b
}

// AddUint appends "key: v" in decimal.
func (b *Builder) AddUint(key string, v uint64) *Builder {
	b.b = append(b.b, key...)
	b.b = append(b.b, ": "...)
	b.b = strconv.AppendUint(b.b, v, 10)
	b.b = append(b.b, "\r\n"...)
	return b
}

// AddTime appends "key: t" with t, nanoseconds since the epoch, in RFC
// 3339 with nanoseconds, UTC (the form of Nats-Time-Stamp).
func (b *Builder) AddTime(key string, t int64) *Builder {
	b.b = append(b.b, key...)
	b.b = append(b.b, ": "...)
	b.b = time.Unix(0, t).UTC().AppendFormat(b.b, time.RFC3339Nano)
	b.b = append(b.b, "\r\n"...)
	return b
}

// AddFrom appends the header lines of another block h (without its status
// line and end), leaving out those named in skip.
func (b *Builder) AddFrom(h []byte, skip ...string) *Builder {
	if len(h) == 0 {
		return b
	}
	i := bytes.Index(h, []byte("\r\n"))
	if i < 0 {
		return b
	}
	h = h[i+2:]
	for len(h) > 0 {
		j := bytes.Index(h, []byte("\r\n"))
		if j <= 0 {
			break
		}
		line := h[:j]
		h = h[j+2:]
		c := bytes.IndexByte(line, ':')
		drop := false
		for _, k := range skip {
			if c == len(k) && bytes.EqualFold(line[:c], []byte(k)) {
				drop = true
				break
			}
		}
		if !drop {
			b.b = append(b.b, line...)
			b.b = append(b.b, "\r\n"...)
		}
	}
	return b
}

// Bytes ends the block and returns it.
func (b *Builder) Bytes() []byte { return append(b.b, "\r\n"...) }
