package jetstream

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzAckToken checks the ack subject parser against its oracle: nine
// tokens by strings.Split, the stream sequence by strconv.ParseUint.
func FuzzAckToken(f *testing.F) {
	for _, s := range []string{
		"$JS.ACK.S.C.1.42.7.1733550000000000000.0",
		"$JS.ACK.S.C.1..7.1.0",
		"$JS.ACK.S.C.1.18446744073709551615.7.1.0",
		"$JS.ACK.S.C.1.18446744073709551616.7.1.0",
		"$JS.ACK.S.C.1.-1.7.1.0",
		"$JS.ACK.S.C.1.+1.7.1.0",
		"$JS.ACK.S.C.1.2.3",
		"$JS.ACK.S.C.1.2.3.4.5.6",
		"........",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, subj string) {
		toks := strings.Split(subj, ".")
		tok, ok := ackToken([]byte(subj), 5)
		if ok != (len(toks) == 9) {
			t.Fatalf("%q: ok %v with %d tokens", subj, ok, len(toks))
		}
		if !ok {
			return
		}
		if string(tok) != toks[5] {
			t.Fatalf("%q: token %q, want %q", subj, tok, toks[5])
		}
		want, err := strconv.ParseUint(toks[5], 10, 64)
		got, ok := parseSeq(tok)
		if ok != (err == nil) || (ok && got != want) {
			t.Fatalf("%q: parseSeq = %d, %v; ParseUint = %d, %v", toks[5], got, ok, want, err)
		}
	})
}
