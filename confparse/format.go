package confparse

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Format renders m as configuration text that parses back to the same
// values (variables appear resolved, comments are gone, strings are always
// double-quoted). It is meant for printing an effective configuration and
// for config tooling; see AppendFormat.
func Format(m *Map) []byte {
	return AppendFormat(nil, m)
}

// AppendFormat appends the text of Format(m) to dst and returns the
// extended buffer.
//
// Keys made only of letters, digits, '_', '-' and '.' are written bare,
// others quoted. A key holding both kinds of quote, a newline, or a
// non-finite float cannot be written back faithfully; the parser never
// produces them.
func AppendFormat(dst []byte, m *Map) []byte {
	if m == nil {
		return dst
	}
	return appendEntries(dst, m, 0)
}

func appendEntries(dst []byte, m *Map, depth int) []byte {
	for _, e := range m.Entries {
		dst = appendIndent(dst, depth)
		dst = appendKey(dst, e.Key)
		if e.Value != nil && (e.Value.Kind == KindMap || e.Value.Kind == KindArray) {
			dst = append(dst, ' ')
		} else {
			dst = append(dst, ": "...)
		}
		dst = appendValue(dst, e.Value, depth)
		dst = append(dst, '\n')
	}
	return dst
}

func appendIndent(dst []byte, depth int) []byte {
	for range depth {
		dst = append(dst, "  "...)
	}
	return dst
}

func bareKey(k string) bool {
	if k == "" || strings.EqualFold(k, "include") {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func appendKey(dst []byte, k string) []byte {
	if bareKey(k) {
		return append(dst, k...)
	}
	q := byte('"')
	if strings.IndexByte(k, '"') >= 0 {
		q = '\''
	}
	dst = append(dst, q)
	dst = append(dst, k...)
	return append(dst, q)
}

// inline reports whether an array is short and flat enough for one line.
func inline(a []*Value) bool {
	n := 0
	for _, v := range a {
		switch v.Kind {
		case KindMap, KindArray:
			return false
		case KindString:
			n += len(v.Str) + 4
		default:
			n += 12
		}
	}
	return n <= 72
}

func appendValue(dst []byte, v *Value, depth int) []byte {
	if v == nil {
		return append(dst, `""`...)
	}
	switch v.Kind {
	case KindString:
		return appendQuoted(dst, v.Str)
	case KindInt:
		return strconv.AppendInt(dst, v.Int, 10)
	case KindFloat:
		start := len(dst)
		dst = strconv.AppendFloat(dst, v.Float, 'g', -1, 64)
		num := dst[start:]
		if !strings.ContainsAny(string(num), ".eEIN") {
			dst = append(dst, ".0"...)
		}
		return dst
	case KindBool:
		return strconv.AppendBool(dst, v.Bool)
	case KindTime:
		return v.Time().AppendFormat(dst, datetimeLayout)
	case KindMap:
		if v.Map == nil || len(v.Map.Entries) == 0 {
			return append(dst, "{}"...)
		}
		dst = append(dst, "{\n"...)
		dst = appendEntries(dst, v.Map, depth+1)
		dst = appendIndent(dst, depth)
		return append(dst, '}')
	case KindArray:
		if len(v.Array) == 0 {
			return append(dst, "[]"...)
		}
		if inline(v.Array) {
			dst = append(dst, '[')
			for i, e := range v.Array {
				if i > 0 {
					dst = append(dst, ", "...)
				}
				dst = appendValue(dst, e, depth)
			}
			return append(dst, ']')
		}
		dst = append(dst, "[\n"...)
		for _, e := range v.Array {
			dst = appendIndent(dst, depth+1)
			dst = appendValue(dst, e, depth+1)
			dst = append(dst, '\n')
		}
		dst = appendIndent(dst, depth)
		return append(dst, ']')
	}
	return append(dst, `""`...)
}

const hexDigits = "0123456789abcdef"

// appendQuoted writes s as a double-quoted string using only the escapes
// every NATS configuration parser knows: \t \n \r \" \\ and \xHH for other
// control bytes and bytes that are not UTF-8.
func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			if c < 0x20 || c == 0x7f {
				dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
			} else {
				dst = append(dst, c)
			}
		}
		i++
	}
	return append(dst, '"')
}
