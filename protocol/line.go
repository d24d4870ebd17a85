package protocol

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// How a verb is separated from what follows it.
const (
	sepArgs = iota // a space or tab must follow, then arguments
	sepAny         // anything may follow (CONNECT{...} is accepted upstream)
)

type verb struct {
	name string // upper case
	op   Op
	sep  uint8
}

var verbs = []verb{
	{"PUB", OpPub, sepArgs},
	{"HPUB", OpHPub, sepArgs},
	{"MSG", OpMsg, sepArgs},
	{"HMSG", OpHMsg, sepArgs},
	{"RMSG", OpRMsg, sepArgs},
	{"LMSG", OpLMsg, sepArgs},
	{"SUB", OpSub, sepArgs},
	{"UNSUB", OpUnsub, sepArgs},
	{"PING", OpPing, sepAny},
	{"PONG", OpPong, sepAny},
	{"+OK", OpOK, sepAny},
	{"-ERR", OpErr, sepArgs},
	{"CONNECT", OpConnect, sepAny},
	{"INFO", OpInfo, sepAny},
	{"RS+", OpRSub, sepArgs},
	{"RS-", OpRUnsub, sepArgs},
	{"LS+", OpLSub, sepArgs},
	{"LS-", OpLUnsub, sepArgs},
	{"A+", OpASub, sepArgs},
	{"A-", OpAUnsub, sepArgs},
}

// verbsByFirst lists the candidate verbs for each first byte.
var verbsByFirst [256][]verb

func init() {
	for _, v := range verbs {
		c := v.name[0]
		verbsByFirst[c] = append(verbsByFirst[c], v)
		if c >= 'A' && c <= 'Z' {
			verbsByFirst[c+'a'-'A'] = append(verbsByFirst[c+'a'-'A'], v)
		}
	}
}

const (
	matchOK   = iota // b starts with a complete verb and its separator
	matchMore        // b is a proper prefix of an accepted verb form
	matchNone        // no accepted verb starts like b
)

// matchOp finds the verb at the start of b. With full set, b is a whole
// line and cannot grow. It returns the op, the length of the verb, and a
// match result.
func (p *Parser) matchOp(b []byte, full bool) (Op, int, int) {
	if len(b) == 0 {
		if full {
			return OpUnknown, 0, matchNone
		}
		return OpUnknown, 0, matchMore
	}
	res := matchNone
	for _, v := range verbsByFirst[b[0]] {
		if !p.Role.Accepts(v.op) {
			continue
		}
		n := len(v.name)
		if len(b) < n {
			if !full && foldPrefix(b, v.name) {
				res = matchMore
			}
			continue
		}
		if !foldPrefix(b[:n], v.name) {
			continue
		}
		if v.sep == sepAny {
			return v.op, n, matchOK
		}
		if len(b) == n {
			if !full {
				res = matchMore
			}
			continue
		}
		if c := b[n]; c == ' ' || c == '\t' {
			return v.op, n, matchOK
		}
	}
	return OpUnknown, 0, res
}

// foldPrefix reports whether b equals the first len(b) bytes of the upper
// case name, ignoring ASCII case.
func foldPrefix(b []byte, name string) bool {
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}

// splitArgs appends the blank-separated fields of b to dst.
func splitArgs(dst [][]byte, b []byte) [][]byte {
	for i := 0; ; {
		s, e := nextField(b, i)
		if s == e {
			return dst
		}
		dst = append(dst, b[s:e:e])
		i = e
	}
}

// maxFields is the most arguments any operation without a queue list
// takes (route LS+ with origin, account, subject, queue and weight).
const maxFields = 5

// fields stores the blank-separated fields of b in a and returns their
// number, or -1 when there are more than maxFields.
func fields(b []byte, a *[maxFields][]byte) int {
	n := 0
	for i := 0; ; {
		s, e := nextField(b, i)
		if s == e {
			return n
		}
		if n == maxFields {
			return -1
		}
		a[n] = b[s:e:e]
		n++
		i = e
	}
}

// fieldsCR is fields for SUB and UNSUB, whose arguments upstream also
// splits at a carriage return inside the line ("UNSUB 1\r" unsubscribes
// sid 1, "SUB a\rb 1" subscribes to a in queue b). PUB and HPUB keep a
// CR inside their subject, as upstream does.
func fieldsCR(b []byte, a *[maxFields][]byte) int {
	n := 0
	for i := 0; i < len(b); {
		for i < len(b) && isSep(b[i]) {
			i++
		}
		s := i
		for i < len(b) && !isSep(b[i]) {
			i++
		}
		if s == i {
			break
		}
		if n == maxFields {
			return -1
		}
		a[n] = b[s:i:i]
		n++
	}
	return n
}

func isSep(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

func trimBlanks(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// parseSize reads a decimal size of 1 to 9 digits, as upstream does;
// anything else is -1.
func parseSize(b []byte) int {
	if len(b) == 0 || len(b) > 9 {
		return -1
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func (p *Parser) badArgs(op Op, line []byte, why string) error {
	return fmt.Errorf("%w: %s %s: %q", ErrBadArgs, op, why, snippet(line))
}

// parseLine parses one complete control line (without its line end) into
// p.f. For message operations it returns the payload size still to be
// read; for the others -1.
func (p *Parser) parseLine(line []byte) (int, error) {
	// Fast path for the hot operations: PUB from clients and MSG to
	// clients. b|0x20 folds only the matching letter's case.
	if len(line) > 4 && (line[3] == ' ' || line[3] == '\t') && len(line) <= p.lineLimit() {
		switch {
		case p.Role == RoleClient && line[0]|0x20 == 'p' && line[1]|0x20 == 'u' && line[2]|0x20 == 'b':
			return p.parsePub(line, line[4:])
		case p.Role == RoleServer && line[0]|0x20 == 'm' && line[1]|0x20 == 's' && line[2]|0x20 == 'g':
			return p.parseMsg(line, line[4:])
		}
	}
	if len(line) > 5 && (line[4] == ' ' || line[4] == '\t') && line[0]|0x20 == 'h' && len(line) <= p.lineLimit() {
		switch {
		case p.Role == RoleClient && line[1]|0x20 == 'p' && line[2]|0x20 == 'u' && line[3]|0x20 == 'b':
			return p.parseHPub(line, line[5:])
		case p.Role == RoleServer && line[1]|0x20 == 'm' && line[2]|0x20 == 's' && line[3]|0x20 == 'g':
			return p.parseHMsg(line, line[5:])
		}
	}
	return p.parseGeneric(line)
}

// parseGeneric parses any control line; parseLine's fast paths must agree
// with it (FuzzFastPaths checks).
func (p *Parser) parseGeneric(line []byte) (int, error) {
	op, n, res := p.matchOp(line, true)
	if res != matchOK {
		return -1, p.unknownOp(line)
	}
	if len(line) > p.lineLimit() {
		return -1, fmt.Errorf("%w: %s line of %d bytes, limit %d", ErrMaxControlLine, op, len(line), p.lineLimit())
	}
	p.f = Frame{Op: op, HeaderLen: -1}
	f := &p.f
	rest := line[n:]
	switch op {
	case OpPing, OpPong, OpOK:
		return -1, nil
	case OpInfo, OpConnect:
		f.Arg = trimBlanks(rest)
		return -1, nil
	case OpErr:
		a := trimBlanks(rest)
		if len(a) > 0 && a[0] == '\'' {
			a = a[1:]
		}
		if len(a) > 0 && a[len(a)-1] == '\'' {
			a = a[:len(a)-1]
		}
		f.Arg = a
		return -1, nil
	}
	if op == OpRMsg || op == OpLMsg || (op == OpHMsg && p.Role != RoleServer) {
		return p.parseQueued(op, line, rest)
	}
	// A stack array keeps the common operations free of allocations and
	// write barriers; the fields are views of line.
	var a [maxFields][]byte
	var nf int
	if op == OpSub || op == OpUnsub {
		nf = fieldsCR(rest, &a)
	} else {
		nf = fields(rest, &a)
	}
	if nf < 0 {
		return -1, p.badArgs(op, line, "too many arguments")
	}
	args := a[:nf]
	switch op {
	case OpPub:
		switch len(args) {
		case 2:
			f.Subject = args[0]
		case 3:
			f.Subject, f.Reply = args[0], args[1]
		default:
			return -1, p.badArgs(op, line, "wants <subject> [reply] <size>")
		}
		return p.sizes(op, line, nil, args[len(args)-1])
	case OpHPub:
		switch len(args) {
		case 3:
			f.Subject = args[0]
		case 4:
			f.Subject, f.Reply = args[0], args[1]
		default:
			return -1, p.badArgs(op, line, "wants <subject> [reply] <hdr size> <total size>")
		}
		return p.sizes(op, line, args[len(args)-2], args[len(args)-1])
	case OpSub:
		switch len(args) {
		case 2:
			f.Subject, f.SID = args[0], args[1]
		case 3:
			f.Subject, f.Queue, f.SID = args[0], args[1], args[2]
		default:
			return -1, p.badArgs(op, line, "wants <subject> [queue] <sid>")
		}
		return -1, nil
	case OpUnsub:
		switch len(args) {
		case 1:
		case 2:
			if m := parseSize(args[1]); m > 0 {
				f.Max = int64(m)
			}
		default:
			return -1, p.badArgs(op, line, "wants <sid> [max]")
		}
		f.SID = args[0]
		return -1, nil
	case OpASub, OpAUnsub:
		if len(args) != 1 {
			return -1, p.badArgs(op, line, "wants <account>")
		}
		f.Account = args[0]
		return -1, nil
	case OpMsg:
		// RoleServer only: MSG <subject> <sid> [reply] <size>
		switch len(args) {
		case 3:
			f.Subject, f.SID = args[0], args[1]
		case 4:
			f.Subject, f.SID, f.Reply = args[0], args[1], args[2]
		default:
			return -1, p.badArgs(op, line, "wants <subject> <sid> [reply] <size>")
		}
		return p.sizes(op, line, nil, args[len(args)-1])
	case OpHMsg:
		// RoleServer only: HMSG <subject> <sid> [reply] <hdr> <total>
		switch len(args) {
		case 4:
			f.Subject, f.SID = args[0], args[1]
		case 5:
			f.Subject, f.SID, f.Reply = args[0], args[1], args[2]
		default:
			return -1, p.badArgs(op, line, "wants <subject> <sid> [reply] <hdr size> <total size>")
		}
		return p.sizes(op, line, args[len(args)-2], args[len(args)-1])
	case OpRSub, OpRUnsub:
		return -1, p.routedSub(op, line, args, false)
	case OpLSub, OpLUnsub:
		if p.Role == RoleRoute {
			return -1, p.routedSub(op, line, args, op == OpLSub || p.LeafUnsubOrigin)
		}
		return -1, p.interest(op, line, args)
	}
	return -1, p.unknownOp(line)
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// nextField returns the bounds of the first field of b at or after i.
// Fields are usually separated by one space, so skipping blanks goes byte
// by byte and finding the end of a field eight bytes at a time.
func nextField(b []byte, i int) (int, int) {
	for i < len(b) && isBlank(b[i]) {
		i++
	}
	return i, fieldEnd(b, i)
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// fieldEnd returns the index of the first blank in b at or after i, or
// len(b). It tests eight bytes per step: a byte of v^pattern is zero where
// v holds the pattern, and (x-lsb)&^x&msb marks the lowest zero byte of x
// exactly (borrows can only mark bytes above it).
func fieldEnd(b []byte, i int) int {
	for i+8 <= len(b) {
		v := binary.LittleEndian.Uint64(b[i:])
		s, t := v^(' '*lsb), v^('\t'*lsb)
		if m := ((s - lsb) &^ s & msb) | ((t - lsb) &^ t & msb); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
		i += 8
	}
	for i < len(b) && !isBlank(b[i]) {
		i++
	}
	return i
}

// parsePub parses the arguments of PUB: <subject> [reply] <size>.
func (p *Parser) parsePub(line, rest []byte) (int, error) {
	p.f = Frame{Op: OpPub, HeaderLen: -1}
	s1, e1 := nextField(rest, 0)
	s2, e2 := nextField(rest, e1)
	s3, e3 := nextField(rest, e2)
	var size []byte
	switch {
	case s2 == e2:
		return -1, p.badArgs(OpPub, line, "wants <subject> [reply] <size>")
	case s3 == e3:
		p.f.Subject = rest[s1:e1:e1]
		size = rest[s2:e2]
	default:
		if s4, e4 := nextField(rest, e3); s4 != e4 {
			return -1, p.badArgs(OpPub, line, "wants <subject> [reply] <size>")
		}
		p.f.Subject = rest[s1:e1:e1]
		p.f.Reply = rest[s2:e2:e2]
		size = rest[s3:e3]
	}
	return p.sizes(OpPub, line, nil, size)
}

// parseMsg parses the arguments of MSG: <subject> <sid> [reply] <size>.
func (p *Parser) parseMsg(line, rest []byte) (int, error) {
	p.f = Frame{Op: OpMsg, HeaderLen: -1}
	s1, e1 := nextField(rest, 0)
	s2, e2 := nextField(rest, e1)
	s3, e3 := nextField(rest, e2)
	s4, e4 := nextField(rest, e3)
	var size []byte
	switch {
	case s3 == e3:
		return -1, p.badArgs(OpMsg, line, "wants <subject> <sid> [reply] <size>")
	case s4 == e4:
		size = rest[s3:e3]
	default:
		if s5, e5 := nextField(rest, e4); s5 != e5 {
			return -1, p.badArgs(OpMsg, line, "wants <subject> <sid> [reply] <size>")
		}
		p.f.Reply = rest[s3:e3:e3]
		size = rest[s4:e4]
	}
	p.f.Subject = rest[s1:e1:e1]
	p.f.SID = rest[s2:e2:e2]
	return p.sizes(OpMsg, line, nil, size)
}

// parseHPub parses the arguments of HPUB:
// <subject> [reply] <hdr size> <total size>.
func (p *Parser) parseHPub(line, rest []byte) (int, error) {
	p.f = Frame{Op: OpHPub, HeaderLen: -1}
	s1, e1 := nextField(rest, 0)
	s2, e2 := nextField(rest, e1)
	s3, e3 := nextField(rest, e2)
	s4, e4 := nextField(rest, e3)
	var hdr, size []byte
	switch {
	case s3 == e3:
		return -1, p.badArgs(OpHPub, line, "wants <subject> [reply] <hdr size> <total size>")
	case s4 == e4:
		hdr, size = rest[s2:e2], rest[s3:e3]
	default:
		if s5, e5 := nextField(rest, e4); s5 != e5 {
			return -1, p.badArgs(OpHPub, line, "wants <subject> [reply] <hdr size> <total size>")
		}
		p.f.Reply = rest[s2:e2:e2]
		hdr, size = rest[s3:e3], rest[s4:e4]
	}
	p.f.Subject = rest[s1:e1:e1]
	return p.sizes(OpHPub, line, hdr, size)
}

// parseHMsg parses the arguments of HMSG sent to a client:
// <subject> <sid> [reply] <hdr size> <total size>.
func (p *Parser) parseHMsg(line, rest []byte) (int, error) {
	p.f = Frame{Op: OpHMsg, HeaderLen: -1}
	s1, e1 := nextField(rest, 0)
	s2, e2 := nextField(rest, e1)
	s3, e3 := nextField(rest, e2)
	s4, e4 := nextField(rest, e3)
	s5, e5 := nextField(rest, e4)
	var hdr, size []byte
	switch {
	case s4 == e4:
		return -1, p.badArgs(OpHMsg, line, "wants <subject> <sid> [reply] <hdr size> <total size>")
	case s5 == e5:
		hdr, size = rest[s3:e3], rest[s4:e4]
	default:
		if s6, e6 := nextField(rest, e5); s6 != e6 {
			return -1, p.badArgs(OpHMsg, line, "wants <subject> <sid> [reply] <hdr size> <total size>")
		}
		p.f.Reply = rest[s3:e3:e3]
		hdr, size = rest[s4:e4], rest[s5:e5]
	}
	p.f.Subject = rest[s1:e1:e1]
	p.f.SID = rest[s2:e2:e2]
	return p.sizes(OpHMsg, line, hdr, size)
}

// parseQueued parses the messages that may carry a queue list: RMSG,
// LMSG and route or leaf HMSG. Their fields are views of p.args.
func (p *Parser) parseQueued(op Op, line, rest []byte) (int, error) {
	p.args = splitArgs(p.args[:0], rest)
	args := p.args
	switch {
	case op == OpRMsg:
		return p.routedMsg(op, line, args, false, false)
	case op == OpHMsg && p.Role == RoleRoute:
		return p.routedMsg(op, line, args, false, true)
	case op == OpLMsg && p.Role == RoleRoute:
		// An LMSG over a route carries the origin cluster first and
		// always has a header size.
		return p.routedMsg(op, line, args, true, true)
	case op == OpHMsg:
		return p.leafMsg(op, line, args, true)
	default:
		return p.leafMsg(op, line, args, false)
	}
}

// sizes reads the header size (when hdr is not nil) and total size of a
// message, checks them against each other and MaxPayload, and returns the
// total size.
func (p *Parser) sizes(op Op, line, hdr, total []byte) (int, error) {
	h := -1
	if hdr != nil {
		if h = parseSize(hdr); h < 0 {
			return -1, p.badArgs(op, line, "bad or missing header size")
		}
	}
	size := parseSize(total)
	if size < 0 {
		return -1, p.badArgs(op, line, "bad or missing size")
	}
	if h > size {
		return -1, p.badArgs(op, line, "header size larger than total size")
	}
	if max := p.payloadLimit(); size > max {
		return -1, fmt.Errorf("%w: %s size %d, limit %d", ErrMaxPayload, op, size, max)
	}
	p.f.HeaderLen = h
	return size, nil
}

// replyQueues reads the optional middle of a routed or leaf message:
// nothing, a reply, "+ <reply> <queue>..." or "| <queue>...".
func (p *Parser) replyQueues(op Op, line []byte, mid [][]byte) error {
	switch len(mid) {
	case 0:
		return nil
	case 1:
		p.f.Reply = mid[0]
		return nil
	}
	if len(mid[0]) == 1 {
		switch mid[0][0] {
		case '+':
			p.f.Reply = mid[1]
			if len(mid) > 2 {
				p.f.Queues = mid[2:]
			}
			return nil
		case '|':
			p.f.Queues = mid[1:]
			return nil
		}
	}
	return p.badArgs(op, line, "bad or missing reply indicator")
}

// routedMsg parses RMSG, route HMSG and route LMSG:
//
//	[origin] [account] <subject> [reply | + <reply> <queues...> | | <queues...>] [hdr size] <size>
func (p *Parser) routedMsg(op Op, line []byte, args [][]byte, origin, hdr bool) (int, error) {
	fixed := 2 // subject, size
	if origin {
		fixed++
	}
	pinned := len(p.PinnedAccount) > 0
	if !pinned {
		fixed++
	}
	if hdr {
		fixed++
	}
	if len(args) < fixed {
		return -1, p.badArgs(op, line, "too few arguments")
	}
	a := args
	if origin {
		p.f.Origin, a = a[0], a[1:]
	}
	if pinned {
		p.f.Account = p.PinnedAccount
	} else {
		p.f.Account, a = a[0], a[1:]
	}
	p.f.Subject, a = a[0], a[1:]
	var hb []byte
	if hdr {
		hb = a[len(a)-2]
		a = a[:len(a)-2]
	} else {
		a = a[:len(a)-1]
	}
	if err := p.replyQueues(op, line, a); err != nil {
		return -1, err
	}
	return p.sizes(op, line, hb, args[len(args)-1])
}

// leafMsg parses LMSG and HMSG from a leafnode:
//
//	<subject> [reply | + <reply> <queues...> | | <queues...>] [hdr size] <size>
func (p *Parser) leafMsg(op Op, line []byte, args [][]byte, hdr bool) (int, error) {
	fixed := 2
	if hdr {
		fixed++
	}
	if len(args) < fixed {
		return -1, p.badArgs(op, line, "too few arguments")
	}
	p.f.Subject = args[0]
	a := args[1 : len(args)-1]
	var hb []byte
	if hdr {
		hb = a[len(a)-1]
		a = a[:len(a)-1]
	}
	if err := p.replyQueues(op, line, a); err != nil {
		return -1, err
	}
	return p.sizes(op, line, hb, args[len(args)-1])
}

// routedSub parses RS+, RS-, and LS+/LS- over a route:
//
//	[origin] [account] <subject> [<queue> [<weight>]]
func (p *Parser) routedSub(op Op, line []byte, args [][]byte, origin bool) error {
	a := args
	if origin {
		if len(a) == 0 {
			return p.badArgs(op, line, "missing origin")
		}
		p.f.Origin, a = a[0], a[1:]
	}
	if len(p.PinnedAccount) > 0 {
		p.f.Account = p.PinnedAccount
	} else {
		if len(a) == 0 {
			return p.badArgs(op, line, "missing account")
		}
		p.f.Account, a = a[0], a[1:]
	}
	return p.interest(op, line, a)
}

// interest parses <subject> [<queue> <weight>] for a subscription and
// <subject> [<queue>] for an unsubscription.
func (p *Parser) interest(op Op, line []byte, a [][]byte) error {
	sub := op == OpRSub || op == OpLSub
	switch {
	case len(a) == 1:
	case sub && len(a) == 3:
		w := parseSize(a[2])
		if w < 0 {
			return p.badArgs(op, line, "bad queue weight")
		}
		p.f.Queue, p.f.Weight = a[1], int32(w)
	case !sub && len(a) == 2:
		p.f.Queue = a[1]
	default:
		if sub {
			return p.badArgs(op, line, "wants <subject> [<queue> <weight>]")
		}
		return p.badArgs(op, line, "wants <subject> [<queue>]")
	}
	p.f.Subject = a[0]
	if sub && p.f.Weight == 0 && p.f.Queue == nil {
		p.f.Weight = 1
	}
	return nil
}
