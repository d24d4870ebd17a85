package protocol

import (
	"errors"
	"fmt"
	"testing"
)

func errKind(err error) error {
	for _, s := range []error{ErrUnknownOp, ErrMaxControlLine, ErrMaxPayload, ErrBadArgs} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}

// FuzzFastPaths checks that the PUB, HPUB, MSG and HMSG fast paths of
// parseLine give the same frame, size and error as the generic parser.
func FuzzFastPaths(f *testing.F) {
	for _, s := range []string{
		"PUB foo 5", "pub foo bar 5", "PUB\tfoo\t\tbar 5 ", "PUB foo", "PUB a b c d", "PUB foo x",
		"HPUB foo 1 2", "hpub foo r 2 1", "HPUB foo r 1 2 3", "HPUB foo 1",
		"MSG foo 1 5", "msg foo 1 r 5", "MSG foo 1", "MSG a b c d e",
		"HMSG foo 1 2 3", "HMSG foo 1 r 2 3", "HMSG foo 1 r 2 3 4", "HMSG foo 1 2",
		"PUB foo 2000000", "PUB foo 0123456789",
	} {
		f.Add(uint8(0), s)
		f.Add(uint8(1), s)
	}
	f.Fuzz(func(t *testing.T, role uint8, line string) {
		a := Parser{Role: Role(role % 2)}
		b := a
		sa, ea := a.parseLine([]byte(line))
		sb, eb := b.parseGeneric([]byte(line))
		if errKind(ea) != errKind(eb) || sa != sb {
			t.Fatalf("%q: fast %d %v, generic %d %v", line, sa, ea, sb, eb)
		}
		if ea == nil {
			fa, fb := fmt.Sprintf("%v", a.f), fmt.Sprintf("%v", b.f)
			if fa != fb {
				t.Fatalf("%q:\nfast    %s\ngeneric %s", line, fa, fb)
			}
		}
	})
}
