package servertest

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// Kinds of the key lists of docs/configuration.md that DocKeyLists reads.
const (
	// DocRefused lists keys refused with "not supported yet".
	DocRefused = `Refused with "not supported yet"`
	// DocIgnored lists keys accepted with a warning and ignored.
	DocIgnored = "Accepted with a warning and ignored"
)

// docListRE finds a list: its kind, then its scope in parentheses, then a
// colon; the keys follow up to the end of the sentence.
var docListRE = regexp.MustCompile(`(?m)^(` + regexp.QuoteMeta(DocRefused) + `|` + DocIgnored + `) \(([^)]+)\):`)

// docKeyRE is one key of a list.
var docKeyRE = regexp.MustCompile("`([a-z_]+)`")

// DocKeyLists reads the configuration reference at path and returns its
// key lists, by kind and scope ("Refused with \"not supported yet\"
// (tls {}): `certs`, `cert_store`." is DocRefused, "tls {}"). A list is
// the keys in backquotes up to the end of its sentence. Tests compare the
// lists with the configuration parser's answers, so the reference and
// the code agree. A kind and scope listed twice, or a list without keys,
// fails the test.
func DocKeyLists(tb testing.TB, path string) map[[2]string][]string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("servertest: %v", err)
	}
	text := string(b)
	lists := make(map[[2]string][]string)
	for _, m := range docListRE.FindAllStringSubmatchIndex(text, -1) {
		kind, scope := text[m[2]:m[3]], text[m[4]:m[5]]
		rest := text[m[1]:]
		if end := sentenceEnd(rest); end >= 0 {
			rest = rest[:end]
		}
		var keys []string
		for _, k := range docKeyRE.FindAllStringSubmatch(rest, -1) {
			keys = append(keys, k[1])
		}
		id := [2]string{kind, scope}
		if _, dup := lists[id]; dup || len(keys) == 0 {
			tb.Fatalf("servertest: %s: list %s (%s) is repeated or empty", path, kind, scope)
		}
		lists[id] = keys
	}
	return lists
}

// sentenceEnd returns the index of the period ending the first sentence
// of s (one followed by a space, a newline or the end, outside
// backquotes), or -1.
func sentenceEnd(s string) int {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '`':
			quoted = !quoted
		case '.':
			if !quoted && (i+1 == len(s) || strings.ContainsRune(" \n", rune(s[i+1]))) {
				return i
			}
		}
	}
	return -1
}
