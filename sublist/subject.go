package sublist

import (
	"errors"
	"iter"
)

// Subject syntax bytes.
const (
	sep = '.' // token separator
	pwc = '*' // partial wildcard: exactly one token
	fwc = '>' // full wildcard: one or more trailing tokens
)

var (
	// ErrInvalidSubject is returned by Insert and Remove when a subject is
	// not a valid filter (see ValidFilter).
	ErrInvalidSubject = errors.New("sublist: invalid subject")
	// ErrNotFound is returned by Remove and RemoveBatch when the
	// subscription is not in the Sublist.
	ErrNotFound = errors.New("sublist: no matching subscription")
)

// cut splits s at its first separator. found reports whether there was one:
// when it is false, tok is the last token of the subject. Every string,
// including "", has at least one (possibly empty) token, as with
// strings.Split.
func cut(s string) (tok, rest string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// Tokens returns an iterator over the dot-separated tokens of subject,
// including empty ones ("a..b" yields "a", "", "b"; "" yields one empty
// token). The yielded strings are views of subject; iterating does not
// allocate.
func Tokens(subject string) iter.Seq[string] {
	return func(yield func(string) bool) {
		rest, more := subject, true
		for more {
			var tok string
			tok, rest, more = cut(rest)
			if !yield(tok) {
				return
			}
		}
	}
}

// NextToken splits subject at its first dot: it returns the first token,
// the rest after the dot, and whether there was a dot. Loop while more is
// true to visit every token, including empty ones; it is the allocation-
// free, closure-free alternative to Tokens:
//
//	for rest, more := subject, true; more; {
//		var tok string
//		tok, rest, more = sublist.NextToken(rest)
//		...
//	}
func NextToken(subject string) (token, rest string, more bool) { return cut(subject) }

// NumTokens reports the number of tokens in subject (1 + number of dots).
func NumTokens(subject string) int {
	n := 1
	for i := 0; i < len(subject); i++ {
		if subject[i] == sep {
			n++
		}
	}
	return n
}

// byteClass classifies subject bytes for the validation loops: a table
// lookup is cheaper than comparing each byte with six values.
var byteClass = [256]uint8{'.': classSep, ' ': classSpace, '\t': classSpace, '\n': classSpace, '\r': classSpace, '\f': classSpace}

const (
	classOK    = 0
	classSep   = 1
	classSpace = 2 // bytes upstream refuses inside a subject
)

// ValidSubject reports whether s is a valid subject in upstream's
// (non-pedantic) sense, the same rules as nats-server's IsValidSubject:
// s is non-empty, every token is non-empty, no byte is a space, tab, CR, LF
// or form feed, and a '>' token, if present, is the last token. Wildcard
// tokens are allowed; '*' and '>' inside a longer token ("a*", "b>") are
// ordinary characters. Use ValidLiteralSubject for a publish subject.
func ValidSubject(s string) bool {
	valid, _ := scanSubject(s)
	return valid
}

// scanSubject reports in one pass whether s is a valid subject and whether
// it has no wildcard token.
func scanSubject(s string) (valid, literal bool) {
	if s == "" {
		return false, true
	}
	literal = true
	start := 0
	sawFWC := false
	for i := 0; i < len(s); i++ {
		switch byteClass[s[i]] {
		case classOK:
			continue
		case classSpace:
			return false, literal
		}
		// Token s[start:i] ends at a separator.
		if i == start || sawFWC {
			return false, literal
		}
		if i-start == 1 && (s[start] == fwc || s[start] == pwc) {
			literal = false
			sawFWC = s[start] == fwc
		}
		start = i + 1
	}
	if start == len(s) || sawFWC {
		return false, literal
	}
	if len(s)-start == 1 && (s[start] == fwc || s[start] == pwc) {
		literal = false
	}
	return true, literal
}

// ValidFilter reports whether s is a valid subscription filter: '*' is a
// whole token matching any one token and '>' is a whole last token matching
// one or more tokens. Upstream uses the same rules for subjects and filters,
// so ValidFilter(s) == ValidSubject(s); the name states the caller's intent.
func ValidFilter(s string) bool { return ValidSubject(s) }

// ValidLiteralSubject reports whether s is a valid subject (see
// ValidSubject) without wildcard tokens, i.e. one a message may be
// published to in pedantic mode.
func ValidLiteralSubject(s string) bool {
	valid, literal := scanSubject(s)
	return valid && literal
}

// IsLiteral reports whether s has no wildcard token ("*" or ">" as a whole
// token). It does not check validity.
func IsLiteral(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == pwc || c == fwc {
			if (i == 0 || s[i-1] == sep) && (i+1 == len(s) || s[i+1] == sep) {
				return false
			}
		}
	}
	return true
}

// SubjectMatchesFilter reports whether subject is matched by filter. For a
// literal subject this is ordinary NATS matching: a '*' token of filter
// matches any one token and a trailing '>' matches one or more tokens. Like
// upstream's SubjectMatchesFilter, a subject that itself has wildcards is
// treated as the set of subjects it matches: the result is then
// IsSubsetMatch(subject, filter).
func SubjectMatchesFilter(subject, filter string) bool {
	return IsSubsetMatch(subject, filter)
}

// IsSubsetMatch reports whether every subject matched by subject (which may
// contain wildcards) is also matched by test. For example "foo.bar" and
// "foo.*" are subsets of "foo.*" and of "foo.>", "foo.>" is not a subset of
// "foo.*", and "foo.*" is not a subset of "foo.bar". An empty token never matches a
// token of test, but a trailing '>' in test does not look at the tokens it
// covers (as upstream). It does not allocate.
func IsSubsetMatch(subject, test string) bool {
	// si and ti index the next token of each string; si > len(subject)
	// means subject has no token left.
	si, ti := 0, 0
	for {
		te := ti
		for te < len(test) && test[te] != sep {
			te++
		}
		if si > len(subject) || te == ti {
			return false
		}
		if te-ti == 1 && test[ti] == fwc {
			return true
		}
		se := si
		for se < len(subject) && subject[se] != sep {
			se++
		}
		t1, t2 := subject[si:se], test[ti:te]
		switch {
		case len(t1) == 0 || len(t1) == 1 && t1[0] == fwc:
			return false
		case len(t1) == 1 && t1[0] == pwc:
			if len(t2) != 1 || t2[0] != pwc {
				return false
			}
		case (len(t2) != 1 || t2[0] != pwc) && t1 != t2:
			return false
		}
		if te == len(test) {
			return se == len(subject)
		}
		si, ti = se+1, te+1
	}
}

// matchLiteral reports whether filter matches subject with every token of
// subject taken literally, the way the trie matches: a "*" token in subject
// is only matched by a "*" or '>' in filter, as if it were an ordinary
// token. It decides which cached results an Insert or Remove of filter
// affects.
func matchLiteral(subject, filter string) bool {
	sub, subMore := subject, true
	for filter, more := filter, true; more; {
		var f string
		f, filter, more = cut(filter)
		if !subMore {
			return false
		}
		if f == ">" {
			return true
		}
		var t string
		t, sub, subMore = cut(sub)
		if f != "*" && f != t {
			return false
		}
	}
	return !subMore
}
