package protocol

import (
	"bytes"
	"fmt"
)

const (
	// DefaultMaxControlLine is the control line limit used when
	// Parser.MaxControlLine is 0 (upstream's max_control_line default).
	DefaultMaxControlLine = 4096
	// DefaultMaxPayload is the payload limit used when Parser.MaxPayload
	// is 0 (upstream's max_payload default).
	DefaultMaxPayload = 1 << 20
	// MaxPayloadZero is the Parser.MaxPayload of a limit of zero bytes:
	// a message operation is accepted only with an empty payload (and so
	// never an HPUB/HMSG, whose headers count), as upstream applies an
	// account or user JWT's payload limit of 0. MaxPayload 0 itself
	// means DefaultMaxPayload.
	MaxPayloadZero = -1 << 62

	// interServerLineFactor widens the control line limit for routes,
	// gateways and leafnodes, whose lines carry accounts, origins and
	// queue lists; upstream allows 16 times max_control_line there.
	interServerLineFactor = 16
	// minControlLine is the smallest effective control line limit: the
	// longest verb and its separator must fit, so that an unknown verb is
	// always reported as such however the input is split.
	minControlLine = 8
	// maxRetained caps the scratch buffers a parser keeps between
	// operations; larger ones are dropped after use.
	maxRetained = 64 << 10
)

type parseState uint8

const (
	stStart   parseState = iota // at the start of a control line
	stLine                      // p.line holds the start of a control line
	stPayload                   // p.pay is collecting size+2 payload bytes
)

// Parser is a resumable state machine for the NATS protocol. Feed it the
// bytes of one connection, in order, with Parse; it calls the Handler for
// every complete operation. Input may be split at any byte between calls.
//
// The zero value is ready to use (RoleClient, default limits). A Parser is
// not safe for concurrent use: one goroutine (the connection's reader)
// owns it.
type Parser struct {
	// Role decides which operations are accepted and how MSG, HMSG, LS+,
	// LS- and LMSG arguments are read. Set it before the first Parse.
	Role Role
	// MaxControlLine is the maximum length of a control line (verb and
	// arguments, without the line end); 0 means DefaultMaxControlLine.
	// RoleRoute and RoleLeaf allow 16 times this value, as upstream does.
	// A value below 8 behaves as 8.
	MaxControlLine int
	// MaxPayload is the maximum declared payload size (headers included)
	// of any message operation; 0 means DefaultMaxPayload,
	// MaxPayloadZero a limit of zero (empty payloads only), any other
	// negative value no limit. It may be changed between Parse calls (for
	// example after CONNECT binds the connection to an account).
	MaxPayload int
	// PinnedAccount is set when a route connection is dedicated to one
	// account (route pooling with per-account routes): the peer then omits
	// the account in RS+, RS-, RMSG, HMSG, LS+, LS- and LMSG, and the
	// parser reports PinnedAccount as Frame.Account. RoleRoute only.
	PinnedAccount []byte
	// LeafUnsubOrigin is set when the route peer sends the origin cluster
	// in LS- (it advertised "lnocu" in its INFO/CONNECT). RoleRoute only.
	LeafUnsubOrigin bool

	state parseState
	err   error  // sticky error; Reset clears it
	size  int    // payload size of the pending message (stPayload)
	line  []byte // partial control line, and the line of a split message
	pay   []byte // payload (+CRLF) of a split message
	args  [][]byte
	f     Frame
}

// Reset returns the parser to its initial state, keeping its settings and
// retained scratch space. Call it to reuse a parser after an error.
func (p *Parser) Reset() {
	p.state = stStart
	p.err = nil
	p.size = 0
	p.line = p.line[:0]
	p.pay = p.pay[:0]
	p.f = Frame{}
}

// Buffered returns the capacity of the scratch space the parser holds
// for an operation split across reads (a control line without its end,
// a payload not complete yet), for a caller that accounts for the memory
// of a connection.
func (p *Parser) Buffered() int { return cap(p.line) + cap(p.pay) }

func (p *Parser) lineLimit() int {
	n := p.MaxControlLine
	if n <= 0 {
		n = DefaultMaxControlLine
	}
	if n < minControlLine {
		n = minControlLine
	}
	if p.Role == RoleRoute || p.Role == RoleLeaf {
		n *= interServerLineFactor
	}
	return n
}

func (p *Parser) payloadLimit() int {
	switch n := p.MaxPayload; {
	case n == 0:
		return DefaultMaxPayload
	case n == MaxPayloadZero:
		return 0
	case n < 0:
		return int(^uint(0) >> 1)
	default:
		return n
	}
}

func (p *Parser) fail(err error) error {
	p.err = err
	return err
}

// Parse consumes all of buf, calling h for every complete operation, in
// order. It returns the first error: a parse error (see the package
// Errors section) or an error returned by h. After an error the parser
// keeps returning it until Reset; the connection is normally closed.
//
// Parse never retains buf: the bytes of an operation that is not complete
// at the end of buf are copied into scratch space.
func (p *Parser) Parse(buf []byte, h Handler) error {
	if p.err != nil {
		return p.err
	}
	lh, _ := h.(LineHandler)
	i := 0
	switch p.state {
	case stPayload:
		need := p.size + 2 - len(p.pay)
		if need > len(buf) {
			p.pay = append(p.pay, buf...)
			return nil
		}
		p.pay = append(p.pay, buf[:need]...)
		i = need
		if err := p.finishSplit(h); err != nil {
			return p.fail(err)
		}
	case stLine:
		nl := bytes.IndexByte(buf, '\n')
		if nl < 0 {
			if err := p.extendLine(buf); err != nil {
				return p.fail(err)
			}
			return nil
		}
		if len(p.line)+nl > p.lineLimit()+1 {
			// Too long even without a final '\r': report it without
			// copying the rest of the line.
			if err := p.extendLine(buf[:nl]); err != nil {
				return p.fail(err)
			}
		}
		p.line = append(p.line, buf[:nl]...)
		i = nl + 1
		p.state = stStart
		size, err := p.parseLine(trimCR(p.line))
		if err != nil {
			return p.fail(err)
		}
		if size >= 0 && lh != nil {
			if err := lh.HandleLine(&p.f); err != nil {
				return p.fail(err)
			}
		}
		if size >= 0 {
			// The frame's views point into p.line, which stays put
			// until the payload is complete.
			if len(buf)-i < size+2 {
				p.startPayload(buf[i:], size)
				return nil
			}
			if buf[i+size] != '\r' || buf[i+size+1] != '\n' {
				return p.fail(ErrMissingCRLF)
			}
			p.f.Payload = buf[i : i+size : i+size]
			i += size + 2
		}
		err = h.HandleFrame(&p.f)
		p.dropLine()
		if err != nil {
			return p.fail(err)
		}
	}

	for i < len(buf) {
		nl := bytes.IndexByte(buf[i:], '\n')
		if nl < 0 {
			if err := p.startLine(buf[i:]); err != nil {
				return p.fail(err)
			}
			return nil
		}
		line := buf[i : i+nl]
		if nl > 0 && line[nl-1] == '\r' {
			line = line[:nl-1]
		} else {
			line = trimCR(line)
		}
		i += nl + 1
		size, err := p.parseLine(line)
		if err != nil {
			return p.fail(err)
		}
		if size >= 0 && lh != nil {
			if err := lh.HandleLine(&p.f); err != nil {
				return p.fail(err)
			}
		}
		if size >= 0 {
			if len(buf)-i < size+2 {
				// Keep the control line: its views must survive
				// until the payload is complete.
				p.line = append(p.line[:0], line...)
				if _, err := p.parseLine(p.line); err != nil {
					return p.fail(err)
				}
				p.startPayload(buf[i:], size)
				return nil
			}
			if buf[i+size] != '\r' || buf[i+size+1] != '\n' {
				return p.fail(ErrMissingCRLF)
			}
			p.f.Payload = buf[i : i+size : i+size]
			i += size + 2
		}
		if err := h.HandleFrame(&p.f); err != nil {
			return p.fail(err)
		}
	}
	return nil
}

// trimCR removes the line end's CR from a control line ended by '\n'. As
// upstream's parser, which sets a flag at any CR of the line and then
// drops the line's last byte, a line holding a CR anywhere loses its last
// byte even when that is not the CR ("SUB a 1\rZ\n" is "SUB a 1\r"). A
// CR that opens the arguments does not count: upstream takes it as an
// argument byte without looking at it.
func trimCR(b []byte) []byte {
	n := len(b)
	if n == 0 {
		return b
	}
	if b[n-1] == '\r' {
		return b[:n-1]
	}
	i := bytes.IndexByte(b, '\r')
	if i < 0 || i == argStart(b) && bytes.IndexByte(b[i+1:], '\r') < 0 {
		return b
	}
	return b[:n-1]
}

// argStart returns the index of the first byte after a line's verb and
// the blanks that follow it.
func argStart(b []byte) int {
	i := 0
	for i < len(b) && (b[i]|0x20 >= 'a' && b[i]|0x20 <= 'z' || b[i] == '+' || b[i] == '-') {
		i++
	}
	for i < len(b) && isBlank(b[i]) {
		i++
	}
	return i
}

// startPayload copies the available start of a split payload into scratch
// space sized for the whole payload and its CRLF.
func (p *Parser) startPayload(avail []byte, size int) {
	need := size + 2
	if cap(p.pay) < need {
		p.pay = make([]byte, 0, need)
	}
	p.pay = append(p.pay[:0], avail...)
	p.size = size
	p.state = stPayload
}

func (p *Parser) finishSplit(h Handler) error {
	size := p.size
	if p.pay[size] != '\r' || p.pay[size+1] != '\n' {
		return ErrMissingCRLF
	}
	p.f.Payload = p.pay[:size:size]
	p.state = stStart
	err := h.HandleFrame(&p.f)
	p.f.Payload = nil
	if cap(p.pay) > maxRetained {
		p.pay = nil
	} else {
		p.pay = p.pay[:0]
	}
	p.dropLine()
	return err
}

func (p *Parser) dropLine() {
	if cap(p.line) > maxRetained {
		p.line = nil
	} else {
		p.line = p.line[:0]
	}
}

// startLine saves the start of a control line that has no line end yet.
func (p *Parser) startLine(b []byte) error {
	if err := p.checkPartial(b); err != nil {
		return err
	}
	p.line = append(p.line[:0], b...)
	p.state = stLine
	return nil
}

// extendLine appends more of a control line that still has no line end,
// never buffering more than the limit plus two bytes.
func (p *Parser) extendLine(b []byte) error {
	if room := p.lineLimit() + 2 - len(p.line); len(b) > room {
		b = b[:room]
	}
	p.line = append(p.line, b...)
	return p.checkPartial(p.line)
}

// checkPartial rejects the start of a control line as early as possible,
// and in the same way whatever the split: first an unknown verb, then the
// length limit (a final '\r' may be the start of the line end).
func (p *Parser) checkPartial(b []byte) error {
	if _, _, res := p.matchOp(b, false); res == matchNone {
		return p.unknownOp(b)
	}
	if n := len(trimCR(b)); n > p.lineLimit() {
		return fmt.Errorf("%w: %d bytes without a line end, limit %d", ErrMaxControlLine, n, p.lineLimit())
	}
	return nil
}

func (p *Parser) unknownOp(b []byte) error {
	return fmt.Errorf("%w: %s parser: %q", ErrUnknownOp, p.Role, snippet(b))
}

func snippet(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}
