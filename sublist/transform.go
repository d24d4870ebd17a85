package sublist

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Transform errors. Every error about a destination wraps ErrBadMapping and
// one of the more specific sentinels below; their texts follow upstream's.
var (
	// ErrBadMapping is wrapped by every error about a mapping destination.
	ErrBadMapping = errors.New("sublist: invalid mapping destination")
	// ErrMappingInvalidSubject: the destination is not a valid subject, has
	// a '*' token, or has a '>' when the source has none (or vice versa).
	ErrMappingInvalidSubject = fmt.Errorf("%w: invalid transform", ErrBadMapping)
	// ErrMappingUnknownFunction: a {{...}} token names no known function.
	ErrMappingUnknownFunction = fmt.Errorf("%w: unknown function", ErrBadMapping)
	// ErrMappingIndexOutOfRange: a wildcard index is not between 1 and the
	// number of '*' tokens of the source.
	ErrMappingIndexOutOfRange = fmt.Errorf("%w: wildcard index out of range", ErrBadMapping)
	// ErrMappingNotEnoughArgs: a function got too few arguments.
	ErrMappingNotEnoughArgs = fmt.Errorf("%w: not enough arguments passed to the function", ErrBadMapping)
	// ErrMappingTooManyArgs: a function got too many arguments.
	ErrMappingTooManyArgs = fmt.Errorf("%w: too many arguments passed to the function", ErrBadMapping)
	// ErrMappingInvalidArg: an argument is not an integer, is out of range,
	// or a split delimiter contains a space or a dot.
	ErrMappingInvalidArg = fmt.Errorf("%w: function argument is invalid or in the wrong format", ErrBadMapping)
	// ErrMappingNotUsingAllWildcards: a strict (import) destination does
	// not use every '*' of the source.
	ErrMappingNotUsingAllWildcards = fmt.Errorf("%w: not using all of the token wildcard(s)", ErrBadMapping)
	// ErrMappingNotSupportedForImport: a strict (import) destination uses
	// a function other than wildcard.
	ErrMappingNotSupportedForImport = fmt.Errorf("%w: the only mapping function allowed for import transforms is {{Wildcard()}}", ErrBadMapping)

	// ErrNoTransform is returned by Transform.Apply for a subject that the
	// source filter does not match.
	ErrNoTransform = errors.New("sublist: no matching transforms available")
)

// MappingError reports a bad mapping destination and the token at fault.
// It wraps one of the ErrMapping... sentinels (and so ErrBadMapping).
type MappingError struct {
	Token string // the destination token, or the whole destination
	Err   error
}

func (e *MappingError) Error() string { return e.Err.Error() + " in " + e.Token }

// Unwrap returns the sentinel.
func (e *MappingError) Unwrap() error { return e.Err }

type fnKind uint8

const (
	fnLiteral fnKind = iota
	fnWildcard
	fnPartition
	fnSplitFromLeft
	fnSplitFromRight
	fnSliceFromLeft
	fnSliceFromRight
	fnSplit
	fnLeft
	fnRight
	fnRandom
)

// Function names as upstream spells them. A name matches when every letter
// is equal, except that the first letter and the capitals may be given in
// either case: "splitFromLeft", "SplitFromLeft" and "splitfromleft" are the
// same function, "SPLITFROMLEFT" is unknown (as upstream).
var fnNames = [...]struct {
	name string
	kind fnKind
}{
	{"wildcard", fnWildcard},
	{"partition", fnPartition},
	{"splitFromLeft", fnSplitFromLeft},
	{"splitFromRight", fnSplitFromRight},
	{"sliceFromLeft", fnSliceFromLeft},
	{"sliceFromRight", fnSliceFromRight},
	{"split", fnSplit},
	{"left", fnLeft},
	{"right", fnRight},
	{"random", fnRandom},
}

// part is one destination token.
type part struct {
	kind  fnKind
	lit   string // fnLiteral: the token; fnSplit: the delimiter
	pos   []int  // positions in the subject of the referenced wildcards
	n     int    // partition count, split/slice/left/right size, random bound
	isFWC bool   // the literal token is '>'
}

// Transform maps subjects matching a source filter to a destination built
// from the subject's wildcard tokens, with upstream's subject mapping syntax
// (used by account mappings, imports and exports, and streams). A Transform
// is immutable and safe for concurrent use.
//
// The destination is a subject whose tokens are literals, the legacy "$n"
// (the n-th '*' of the source), '>' (what the source's '>' matched), or
// one of these functions, written {{name(args)}}, where n counts the '*'
// tokens of the source from 1:
//
//	{{wildcard(n)}}             the n-th wildcard token, like $n
//	{{partition(p,n1,n2,...)}}  a number in [0,p): FNV-1a (32 bit) of the
//	                            named tokens concatenated, modulo p; with no
//	                            token given, of the whole subject
//	{{split(n,d)}}              the token split at every d, empty parts dropped
//	{{splitFromLeft(n,i)}}      the token cut in two i bytes from the left
//	{{splitFromRight(n,i)}}     the token cut in two i bytes from the right
//	{{sliceFromLeft(n,i)}}      the token cut every i bytes from the left
//	{{sliceFromRight(n,i)}}     the token cut every i bytes from the right
//	{{left(n,i)}}               the first i bytes of the token
//	{{right(n,i)}}              the last i bytes of the token
//	{{random(p)}}               a random number in [0,p)
//
// Sizes that do not fit the token (i <= 0 or i >= its length) leave it
// whole. Function names accept a capital or lower-case first letter and
// humps (Wildcard, wildcard, SplitFromLeft, splitfromleft); spaces are
// allowed around the name, the parentheses and after commas.
type Transform struct {
	src, dst string
	srcToks  []string
	srcFWC   bool
	parts    []part
	identity bool // '>' to '>': subjects pass unchanged
	constant bool // no function and no '>': every subject maps to dst
}

// NewTransform returns the Transform from src to dst, validated as upstream
// validates account mappings. An empty src means ">". Errors wrap
// ErrInvalidSubject for a bad source and ErrBadMapping (through a
// *MappingError) for a bad destination.
func NewTransform(src, dst string) (*Transform, error) {
	return newTransform(src, dst, false)
}

// NewTransformStrict is NewTransform with the extra rules upstream applies
// to import mappings, which must be reversible: only wildcard functions
// (and $n) are allowed and every '*' of the source must be used.
func NewTransformStrict(src, dst string) (*Transform, error) {
	return newTransform(src, dst, true)
}

func newTransform(src, dst string, strict bool) (*Transform, error) {
	if src == "" {
		src = ">"
	}
	if !ValidSubject(src) {
		return nil, fmt.Errorf("sublist: mapping source %q: %w", src, ErrInvalidSubject)
	}
	t := &Transform{src: src, dst: dst}
	// wildcardPos[k-1] is the token position of the k-th '*' of src.
	var wildcardPos []int
	for i, tok := range strings.Split(src, ".") {
		t.srcToks = append(t.srcToks, tok)
		switch tok {
		case "*":
			wildcardPos = append(wildcardPos, i)
		case ">":
			t.srcFWC = true
		}
	}
	if dst == "" {
		return nil, &MappingError{Token: dst, Err: ErrMappingInvalidSubject}
	}
	dstFWC := false
	used := 0
	for tok := range strings.SplitSeq(dst, ".") {
		if tok == "" || dstFWC || tok == "*" {
			return nil, &MappingError{Token: dst, Err: ErrMappingInvalidSubject}
		}
		p, err := parseDestToken(tok)
		if err != nil {
			return nil, err
		}
		if p.kind == fnLiteral {
			if tok == ">" {
				dstFWC = true
				p.isFWC = true
			} else if strings.ContainsAny(tok, "\t\n\f\r ") {
				return nil, &MappingError{Token: dst, Err: ErrMappingInvalidSubject}
			}
			t.parts = append(t.parts, p)
			continue
		}
		if strict && p.kind != fnWildcard {
			return nil, &MappingError{Token: tok, Err: ErrMappingNotSupportedForImport}
		}
		if p.kind != fnRandom && p.kind != fnPartition && len(wildcardPos) == 0 {
			return nil, &MappingError{Token: tok, Err: ErrMappingIndexOutOfRange}
		}
		for i, n := range p.pos {
			if n < 1 || n > len(wildcardPos) {
				return nil, &MappingError{Token: fmt.Sprintf("%s: [%d]", tok, n), Err: ErrMappingIndexOutOfRange}
			}
			p.pos[i] = wildcardPos[n-1]
		}
		used += len(p.pos)
		t.parts = append(t.parts, p)
	}
	if dstFWC != t.srcFWC {
		return nil, &MappingError{Token: dst, Err: ErrMappingInvalidSubject}
	}
	if strict && used < len(wildcardPos) {
		return nil, &MappingError{Token: dst, Err: ErrMappingNotUsingAllWildcards}
	}
	t.identity = src == ">" && dst == ">"
	t.constant = !t.srcFWC
	for _, p := range t.parts {
		if p.kind != fnLiteral {
			t.constant = false
		}
	}
	return t, nil
}

// isSpaceRE is the \s class of Go's regexp, which upstream's function
// syntax uses.
func isSpaceRE(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// parseDestToken classifies one destination token.
func parseDestToken(tok string) (part, error) {
	if len(tok) > 1 && tok[0] == '$' {
		// Legacy $n. Anything else starting with '$' is a literal ($JS...).
		if n, err := strconv.Atoi(tok[1:]); err == nil {
			return part{kind: fnWildcard, pos: []int{n}}, nil
		}
		return part{kind: fnLiteral, lit: tok}, nil
	}
	l := len(tok)
	if l <= 4 || tok[0] != '{' || tok[1] != '{' || tok[l-2] != '}' || tok[l-1] != '}' {
		return part{kind: fnLiteral, lit: tok}, nil
	}
	bad := func(err error) (part, error) { return part{}, &MappingError{Token: tok, Err: err} }
	// {{ \s* name \s* ( args ) \s* }}
	in := tok[2 : l-2]
	i := 0
	for i < len(in) && isSpaceRE(in[i]) {
		i++
	}
	j := i
	for j < len(in) && (in[j]|0x20 >= 'a' && in[j]|0x20 <= 'z') {
		j++
	}
	name := in[i:j]
	for j < len(in) && isSpaceRE(in[j]) {
		j++
	}
	end := len(in)
	for end > j && isSpaceRE(in[end-1]) {
		end--
	}
	if j >= len(in) || in[j] != '(' || end <= j+1 || in[end-1] != ')' {
		return bad(ErrMappingUnknownFunction)
	}
	kind, ok := lookupFn(name)
	if !ok {
		return bad(ErrMappingUnknownFunction)
	}
	args := splitArgs(in[j+1 : end-1])
	atoi := func(s string) (int, bool) {
		n, err := strconv.ParseInt(strings.Trim(s, " "), 10, 32)
		return int(n), err == nil
	}
	switch kind {
	case fnWildcard:
		if len(args) == 1 && args[0] == "" {
			return bad(ErrMappingNotEnoughArgs)
		}
		if len(args) > 1 {
			return bad(ErrMappingTooManyArgs)
		}
		n, ok := atoi(args[0])
		if !ok {
			return bad(ErrMappingInvalidArg)
		}
		return part{kind: kind, pos: []int{n}}, nil
	case fnPartition:
		n, ok := atoi(args[0])
		if !ok || n <= 0 {
			return bad(ErrMappingInvalidArg)
		}
		p := part{kind: kind, n: n, pos: []int{}}
		for _, a := range args[1:] {
			k, ok := atoi(a)
			if !ok {
				return bad(ErrMappingInvalidArg)
			}
			p.pos = append(p.pos, k)
		}
		return p, nil
	case fnRandom:
		if len(args) != 1 {
			return bad(ErrMappingNotEnoughArgs)
		}
		n, ok := atoi(args[0])
		if !ok || n <= 0 {
			return bad(ErrMappingInvalidArg)
		}
		return part{kind: kind, n: n}, nil
	case fnSplit:
		if len(args) < 2 {
			return bad(ErrMappingNotEnoughArgs)
		}
		if len(args) > 2 {
			return bad(ErrMappingTooManyArgs)
		}
		n, ok := atoi(args[0])
		if !ok || strings.ContainsAny(args[1], " .") {
			return bad(ErrMappingInvalidArg)
		}
		return part{kind: kind, pos: []int{n}, lit: args[1]}, nil
	default: // (token, size) functions
		if len(args) < 2 {
			return bad(ErrMappingNotEnoughArgs)
		}
		if len(args) > 2 {
			return bad(ErrMappingTooManyArgs)
		}
		n, ok1 := atoi(args[0])
		size, ok2 := atoi(args[1])
		if !ok1 || !ok2 {
			return bad(ErrMappingInvalidArg)
		}
		return part{kind: kind, pos: []int{n}, n: size}, nil
	}
}

// lookupFn finds a function by name with upstream's case rule.
func lookupFn(name string) (fnKind, bool) {
	for _, f := range fnNames {
		if len(f.name) != len(name) {
			continue
		}
		ok := true
		for i := 0; i < len(name) && ok; i++ {
			want, got := f.name[i], name[i]
			if got == want {
				continue
			}
			loose := i == 0 || (want >= 'A' && want <= 'Z')
			ok = loose && got|0x20 == want|0x20
		}
		if ok {
			return f.kind, true
		}
	}
	return 0, false
}

// splitArgs splits at commas and drops the white space after each comma,
// like upstream's `,\s*` separator.
func splitArgs(s string) []string {
	var args []string
	for {
		i := strings.IndexByte(s, ',')
		if i < 0 {
			return append(args, s)
		}
		args = append(args, s[:i])
		s = s[i+1:]
		for len(s) > 0 && isSpaceRE(s[0]) {
			s = s[1:]
		}
	}
}

// Source returns the source filter (">" if it was given empty).
func (t *Transform) Source() string { return t.src }

// Destination returns the destination as given.
func (t *Transform) Destination() string { return t.dst }

// Match reports whether subject is a valid literal subject matched by the
// source filter. Apply then succeeds, unless a split function is left with
// no token (a token made only of delimiters).
func (t *Transform) Match(subject string) bool {
	if t.identity {
		return true
	}
	return ValidLiteralSubject(subject) && matchLiteral(subject, t.src)
}

// Apply maps subject. It returns an error wrapping ErrInvalidSubject if
// subject is not a valid literal subject, and ErrNoTransform if the source
// does not match it. As upstream, a ">" to ">" transform returns any
// subject unchanged. Apply allocates only the returned string (split adds
// a few).
func (t *Transform) Apply(subject string) (string, error) {
	if t.identity {
		return subject, nil
	}
	if !ValidLiteralSubject(subject) {
		return "", fmt.Errorf("sublist: transform of %q: %w", subject, ErrInvalidSubject)
	}
	var tokBuf [32]string
	toks, _ := tokenize(subject, tokBuf[:0])
	if len(toks) < len(t.srcToks) || (!t.srcFWC && len(toks) != len(t.srcToks)) {
		return "", ErrNoTransform
	}
	for i, f := range t.srcToks {
		if f != "*" && f != ">" && f != toks[i] {
			return "", ErrNoTransform
		}
	}
	if t.constant {
		return t.dst, nil
	}
	var outBuf [256]byte
	out := outBuf[:0]
	for i, p := range t.parts {
		if i > 0 {
			out = append(out, sep)
		}
		switch p.kind {
		case fnLiteral:
			if p.isFWC {
				for j, tok := range toks[len(t.srcToks)-1:] {
					if j > 0 {
						out = append(out, sep)
					}
					out = append(out, tok...)
				}
				continue
			}
			out = append(out, p.lit...)
		case fnWildcard:
			out = append(out, toks[p.pos[0]]...)
		case fnPartition:
			h := uint32(2166136261) // FNV-1a, 32 bit
			hashIn := func(s string) {
				for k := 0; k < len(s); k++ {
					h ^= uint32(s[k])
					h *= 16777619
				}
			}
			if len(p.pos) == 0 {
				hashIn(subject)
			}
			for _, k := range p.pos {
				hashIn(toks[k])
			}
			out = strconv.AppendUint(out, uint64(h%uint32(p.n)), 10)
		case fnRandom:
			out = strconv.AppendInt(out, int64(rand.IntN(p.n)), 10)
		case fnSplit:
			first := true
			for piece := range strings.SplitSeq(toks[p.pos[0]], p.lit) {
				if piece == "" {
					continue
				}
				if !first {
					out = append(out, sep)
				}
				out = append(out, piece...)
				first = false
			}
			if first {
				return "", fmt.Errorf("sublist: transform of %q: split leaves no token: %w", subject, ErrInvalidSubject)
			}
		default:
			out = appendSized(out, p.kind, toks[p.pos[0]], p.n)
		}
	}
	return string(out), nil
}

// appendSized applies the functions that cut a token by a size.
func appendSized(out []byte, kind fnKind, tok string, n int) []byte {
	l := len(tok)
	if n <= 0 || n >= l {
		return append(out, tok...)
	}
	switch kind {
	case fnSplitFromLeft:
		out = append(out, tok[:n]...)
		out = append(out, sep)
		return append(out, tok[n:]...)
	case fnSplitFromRight:
		out = append(out, tok[:l-n]...)
		out = append(out, sep)
		return append(out, tok[l-n:]...)
	case fnSliceFromLeft:
		for i := 0; i < l; i += n {
			if i > 0 {
				out = append(out, sep)
			}
			out = append(out, tok[i:min(i+n, l)]...)
		}
		return out
	case fnSliceFromRight:
		first := l % n
		if first > 0 {
			out = append(out, tok[:first]...)
		}
		for i := first; i < l; i += n {
			if i > 0 {
				out = append(out, sep)
			}
			out = append(out, tok[i:i+n]...)
		}
		return out
	case fnLeft:
		return append(out, tok[:n]...)
	case fnRight:
		return append(out, tok[l-n:]...)
	}
	panic("sublist: unreachable transform kind")
}
