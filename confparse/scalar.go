// Scalars: strings, escapes, block strings, numbers, sizes and datetimes.

package confparse

import (
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// quoted parses a double-quoted string with escapes. The string may span
// lines, as upstream allows.
func (p *parser) quoted() (string, bool) {
	open := p.i
	start := open + 1
	esc := false
	j := start
	for ; j < len(p.src); j++ {
		c := p.src[j]
		if c == '"' {
			break
		}
		if c == '\\' {
			esc = true
			j++
		}
	}
	if j >= len(p.src) {
		p.errorf(open, ErrSyntax, "unterminated string")
		p.i = p.lineEnd(open)
		return "", false
	}
	p.i = j + 1
	if !esc {
		return p.src[start:j], true
	}
	return p.unescape(start, j), true
}

// unescape decodes the escapes in src[start:end]: \t \n \r \" \\ \xHH (a
// byte), and for JSON input \/ \b \f \uHHHH.
func (p *parser) unescape(start, end int) string {
	s := p.src[start:end]
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b = append(b, c)
			continue
		}
		if i+1 >= len(s) {
			p.errorf(start+i, ErrSyntax, "unfinished escape at end of string")
			break
		}
		i++
		switch s[i] {
		case 't':
			b = append(b, '\t')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case '"':
			b = append(b, '"')
		case '\\':
			b = append(b, '\\')
		case '/':
			b = append(b, '/')
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'x':
			if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
				b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
				i += 2
			} else {
				p.errorf(start+i-1, ErrSyntax, "expected two hexadecimal digits after \\x")
			}
		case 'u':
			r, n := decodeU(s[i+1:])
			if n == 0 {
				p.errorf(start+i-1, ErrSyntax, "expected four hexadecimal digits after \\u")
				break
			}
			b = utf8.AppendRune(b, r)
			i += n
		default:
			r, _ := utf8.DecodeRuneInString(s[i:])
			p.errorf(start+i-1, ErrSyntax, "invalid escape \\%c (allowed: \\t \\n \\r \\\" \\\\ \\xHH \\uHHHH)", r)
		}
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// decodeU decodes the digits of a \u escape (and a following low surrogate
// escape); n is how many bytes of s it used, 0 if malformed.
func decodeU(s string) (r rune, n int) {
	hex4 := func(s string) (rune, bool) {
		if len(s) < 4 {
			return 0, false
		}
		var r rune
		for i := range 4 {
			if !isHex(s[i]) {
				return 0, false
			}
			r = r<<4 | rune(unhex(s[i]))
		}
		return r, true
	}
	r, ok := hex4(s)
	if !ok {
		return 0, 0
	}
	if 0xD800 <= r && r < 0xDC00 && len(s) >= 10 && s[4] == '\\' && s[5] == 'u' {
		if lo, ok := hex4(s[6:]); ok && 0xDC00 <= lo && lo < 0xE000 {
			return (r-0xD800)<<10 | (lo - 0xDC00) + 0x10000, 10
		}
	}
	if 0xD800 <= r && r < 0xE000 {
		r = utf8.RuneError
	}
	return r, 4
}

// block parses a block string: from after '(' to the line holding only ')'.
func (p *parser) block() *Value {
	open := p.i
	start := open + 1
	for j := start; ; {
		k := strings.Index(p.src[j:], "\n)")
		if k < 0 {
			p.errorf(open, ErrSyntax, "block string is never closed (close it with ')' alone at the start of a line)")
			p.i = p.lineEnd(open)
			return nil
		}
		nl := j + k
		after := nl + 2
		if after == len(p.src) || p.src[after] == '\n' ||
			(p.src[after] == '\r' && (after+1 == len(p.src) || p.src[after+1] == '\n')) {
			end := nl
			if end > start && p.src[end-1] == '\r' {
				end--
			}
			p.i = after
			v := p.newValue(p.pos(open), KindString)
			v.Str = p.src[start:end]
			return v
		}
		j = nl + 1
	}
}

// isValueEnd reports whether c ends an unquoted value.
func isValueEnd(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', ';', ']', '}':
		return true
	}
	return false
}

// unquoted parses an unquoted value: a variable reference, a number, a
// boolean, a datetime or a string.
func (p *parser) unquoted() *Value {
	start := p.i
	esc := false
	j := start
	for ; j < len(p.src); j++ {
		c := p.src[j]
		if isValueEnd(c) {
			break
		}
		if c == '\\' {
			esc = true
			if j+1 < len(p.src) && p.src[j+1] != '\n' && p.src[j+1] != '\r' {
				j++
			}
		}
	}
	p.i = j
	pos := p.pos(start)
	if esc {
		// Upstream decodes escapes in unquoted strings too; the result is
		// always a string.
		v := p.newValue(pos, KindString)
		v.Str = p.unescape(start, j)
		return v
	}
	text := p.src[start:j]
	switch c := text[0]; {
	case c == '$':
		return p.variable(text, start, pos)
	case c == '-' || ('0' <= c && c <= '9'):
		return p.number(text, start, pos)
	}
	if len(text) <= 5 {
		switch {
		case strings.EqualFold(text, "true"), strings.EqualFold(text, "yes"), strings.EqualFold(text, "on"):
			v := p.newValue(pos, KindBool)
			v.Bool = true
			return v
		case strings.EqualFold(text, "false"), strings.EqualFold(text, "no"), strings.EqualFold(text, "off"):
			return p.newValue(pos, KindBool)
		}
	}
	v := p.newValue(pos, KindString)
	v.Str = text
	return v
}

// sizeSuffix returns the multiplier of a size suffix (case-insensitive):
// k, m, g, t, p, e are powers of 1000; kb/ki/kib ... eb/ei/eib powers of
// 1024 (upstream's table).
func sizeSuffix(s string) (uint64, bool) {
	if len(s) == 0 || len(s) > 3 {
		return 0, false
	}
	var exp uint
	switch s[0] | 0x20 {
	case 'k':
		exp = 1
	case 'm':
		exp = 2
	case 'g':
		exp = 3
	case 't':
		exp = 4
	case 'p':
		exp = 5
	case 'e':
		exp = 6
	default:
		return 0, false
	}
	rest := s[1:]
	base := uint64(1000)
	switch {
	case rest == "":
	case strings.EqualFold(rest, "b"), strings.EqualFold(rest, "i"), strings.EqualFold(rest, "ib"):
		base = 1024
	default:
		return 0, false
	}
	m := uint64(1)
	for range exp {
		m *= base
	}
	return m, true
}

// looksLikeSuffix reports whether s has the shape of a size suffix
// ([kmgtpe] then b or i letters), to tell a bad suffix from a string.
func looksLikeSuffix(s string) bool {
	if len(s) == 0 || !strings.ContainsRune("kmgtpeKMGTPE", rune(s[0])) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !strings.ContainsRune("biBI", rune(s[i])) {
			return false
		}
	}
	return true
}

func digits(s string) int {
	n := 0
	for n < len(s) && '0' <= s[n] && s[n] <= '9' {
		n++
	}
	return n
}

const datetimeLayout = "2006-01-02T15:04:05Z"

// number classifies an unquoted value starting with a digit or '-'. What
// is not a well-formed number, size or datetime is a string, as upstream
// lexes "127.0.0.1:4222", "2s" or "3secret".
func (p *parser) number(text string, off int, pos Pos) *Value {
	s := text
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	d := digits(s)
	str := func() *Value {
		v := p.newValue(pos, KindString)
		v.Str = text
		return v
	}
	if d == 0 {
		return str()
	}
	rest := s[d:]
	if rest == "" {
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			p.errorf(off, ErrSyntax, "integer %s is out of range", text)
			return nil
		}
		v := p.newValue(pos, KindInt)
		v.Int = n
		return v
	}
	if mult, ok := sizeSuffix(rest); ok {
		u, err := strconv.ParseUint(s[:d], 10, 64)
		hi, lo := bits.Mul64(u, mult)
		limit := uint64(math.MaxInt64)
		if neg {
			limit++
		}
		if err != nil || hi != 0 || lo > limit {
			p.errorf(off, ErrSyntax, "size %s is out of range", text)
			return nil
		}
		v := p.newValue(pos, KindInt)
		if neg {
			v.Int = int64(-lo)
		} else {
			v.Int = int64(lo)
		}
		return v
	}
	if looksLikeSuffix(rest) {
		p.errorf(off, ErrSyntax, "invalid size suffix in %s (use k, kb, ki, kib, m, mb, ... e, eb, ei, eib)", text)
		return nil
	}
	if rest[0] == '-' && !neg && d == 4 && len(text) == len(datetimeLayout) {
		t, err := time.Parse(datetimeLayout, text)
		if err == nil {
			v := p.newValue(pos, KindTime)
			v.Int = t.Unix()
			return v
		}
		if looksLikeDatetime(text) {
			p.errorf(off, ErrSyntax, "invalid datetime %s: %v", text, err)
			return nil
		}
		return str()
	}
	if isFloat(rest) {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			p.errorf(off, ErrSyntax, "float %s is out of range", text)
			return nil
		}
		v := p.newValue(pos, KindFloat)
		v.Float = f
		return v
	}
	return str()
}

// looksLikeDatetime reports whether s has the digits and punctuation of
// "2006-01-02T15:04:05Z".
func looksLikeDatetime(s string) bool {
	for i := range len(datetimeLayout) {
		l, c := datetimeLayout[i], s[i]
		if '0' <= l && l <= '9' {
			if c < '0' || c > '9' {
				return false
			}
		} else if l != c {
			return false
		}
	}
	return true
}

// isFloat reports whether rest, what follows the integer digits, is a
// fraction and/or an exponent: .123, .5e-3, e10.
func isFloat(rest string) bool {
	i := 0
	if rest[0] == '.' {
		n := digits(rest[1:])
		if n == 0 {
			return false
		}
		i = 1 + n
	}
	if i < len(rest) && (rest[i] == 'e' || rest[i] == 'E') {
		i++
		if i < len(rest) && (rest[i] == '+' || rest[i] == '-') {
			i++
		}
		n := digits(rest[i:])
		if n == 0 {
			return false
		}
		i += n
	}
	return i > 0 && i == len(rest)
}
