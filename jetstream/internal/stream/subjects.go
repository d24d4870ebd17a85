package stream

import "strings"

// Overlap reports whether some literal subject matches both filters a and
// b, which may hold wildcards.
func Overlap(a, b string) bool {
	for {
		ta, ra, ma := strings.Cut(a, ".")
		tb, rb, mb := strings.Cut(b, ".")
		if ta == ">" || tb == ">" {
			return true
		}
		if ta != "*" && tb != "*" && ta != tb {
			return false
		}
		if !ma || !mb {
			return ma == mb
		}
		a, b = ra, rb
	}
}

// ValidName reports whether name may name a stream or a consumer: not
// empty, at most 255 bytes, and without '.', '*', '>', path separators or
// whitespace (upstream's rules, so that a name is one subject token and
// one directory).
func ValidName(name string) bool {
	if name == "" || len(name) > MaxNameLen {
		return false
	}
	return !strings.ContainsAny(name, ".*>/\\ \t\r\n\f\v\x00")
}

// MaxNameLen is the longest name of a stream or consumer, in bytes.
const MaxNameLen = 255
