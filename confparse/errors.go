package confparse

import (
	"errors"
	"strings"
)

// Sentinel errors. Every *Error wraps exactly one of them, so callers can
// test an ErrorList with errors.Is.
var (
	// ErrSyntax marks input that is not valid configuration text: a missing
	// value, an unterminated string, a bad escape, a number out of range,
	// nesting past the depth limit...
	ErrSyntax = errors.New("confparse: syntax error")
	// ErrUndefinedVariable marks a $reference found neither in an enclosing
	// block nor in the environment.
	ErrUndefinedVariable = errors.New("confparse: undefined variable")
	// ErrVariableCycle marks a $reference whose environment value refers
	// back to itself, directly or through other environment variables.
	ErrVariableCycle = errors.New("confparse: variable cycle")
	// ErrInclude marks an include directive whose file cannot be read or
	// that would include a file already being included (a cycle).
	ErrInclude = errors.New("confparse: include error")
	// ErrDuplicateKey marks a key defined twice in one block; it is only
	// reported in pedantic mode.
	ErrDuplicateKey = errors.New("confparse: duplicate key")
)

// Error is one problem found in the input, at the position it was found.
type Error struct {
	Pos Pos
	Msg string
	// Err is the sentinel this error wraps (ErrSyntax, ErrInclude, ...).
	Err error
}

// Error returns "file:line:col: msg".
func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Unwrap returns the sentinel error.
func (e *Error) Unwrap() error { return e.Err }

// ErrorList is every problem found in one parse, in the order found. The
// parse functions return a non-empty ErrorList as their error.
type ErrorList []*Error

// Error returns the errors one per line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the errors, so errors.Is and errors.As look at each.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}
