package sublist_test

import (
	"slices"
	"strings"
	"testing"

	"natsd.dev/sublist"
)

func TestValidSubject(t *testing.T) {
	tests := []struct {
		s                     string
		valid, literal, isLit bool
	}{
		{"foo", true, true, true},
		{"foo.bar.baz", true, true, true},
		{"foo.*", true, false, false},
		{"*", true, false, false},
		{">", true, false, false},
		{"foo.>", true, false, false},
		{"*.>", true, false, false},
		{"foo.*.bar", true, false, false},
		{"foo*.bar", true, true, true},
		{"foo.b>r", true, true, true},
		{"foo.>bar", true, true, true},
		{"foo.bar>", true, true, true},
		{"$JS.API.>", true, false, false},
		{"_INBOX.abc123", true, true, true},
		{"", false, false, true},
		{".", false, false, true},
		{"foo.", false, false, true},
		{".foo", false, false, true},
		{"foo..bar", false, false, true},
		{"foo.>.bar", false, false, false},
		{">.>", false, false, false},
		{"foo bar", false, false, true},
		{"foo\tbar", false, false, true},
		{"foo\nbar", false, false, true},
		{"foo\rbar", false, false, true},
		{"foo\fbar", false, false, true},
		{"foo. ", false, false, true},
		{" ", false, false, true},
		{"ünïcode.ok", true, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.s, func(t *testing.T) {
			if got := sublist.ValidSubject(tc.s); got != tc.valid {
				t.Errorf("ValidSubject(%q) = %v, want %v", tc.s, got, tc.valid)
			}
			if got := sublist.ValidFilter(tc.s); got != tc.valid {
				t.Errorf("ValidFilter(%q) = %v, want %v", tc.s, got, tc.valid)
			}
			if got := sublist.ValidLiteralSubject(tc.s); got != tc.literal {
				t.Errorf("ValidLiteralSubject(%q) = %v, want %v", tc.s, got, tc.literal)
			}
			if got := sublist.IsLiteral(tc.s); got != tc.isLit {
				t.Errorf("IsLiteral(%q) = %v, want %v", tc.s, got, tc.isLit)
			}
		})
	}
}

func TestSubjectMatchesFilter(t *testing.T) {
	tests := []struct {
		subject, filter string
		want            bool
	}{
		{"foo", "foo", true},
		{"foo", "bar", false},
		{"foo", "*", true},
		{"foo", ">", true},
		{"foo.bar", "foo", false},
		{"foo", "foo.bar", false},
		{"foo", "foo.>", false},
		{"foo", "foo.*", false},
		{"foo.bar", "foo.*", true},
		{"foo.bar", "foo.>", true},
		{"foo.bar.baz", "foo.>", true},
		{"foo.bar.baz", "foo.*", false},
		{"foo.bar.baz", "foo.*.baz", true},
		{"foo.bar.baz", "*.*.*", true},
		{"foo.bar.baz", "*.>", true},
		{"foo.bar.baz", "*.bar.>", true},
		{"foo.bar.baz", "*.baz.>", false},
		{"foo.bar", "foo.bar.>", false},
		{"foo*", "foo", false},
		{"foo*", "*", true},
		{"a.b.c.d.e", "a.*.c.*.e", true},
		{"a.b.c.d.e", "a.*.c.*.f", false},
		// Empty tokens never match a token, but a '>' does not look at
		// what it covers (as upstream).
		{"", "*", false},
		{"", ">", true},
		{"a..b", "a.>", true},
		{"foo..bar", "foo.*.bar", false},
		{"foo.bar", "foo..bar", false},
		// Wildcard subjects: subset semantics.
		{"foo.*", "foo.*", true},
		{"foo.*", "foo.>", true},
		{"foo.*", ">", true},
		{"foo.>", "foo.>", true},
		{"foo.>", ">", true},
		{"foo.>", "foo.*", false},
		{"foo.*", "foo.bar", false},
		{"*.bar", "foo.*", false},
		{"foo.*.baz", "foo.>", true},
		{">", "*", false},
		{"*", ">", true},
	}
	for _, tc := range tests {
		if got := sublist.SubjectMatchesFilter(tc.subject, tc.filter); got != tc.want {
			t.Errorf("SubjectMatchesFilter(%q, %q) = %v, want %v", tc.subject, tc.filter, got, tc.want)
		}
		if got := sublist.IsSubsetMatch(tc.subject, tc.filter); got != tc.want {
			t.Errorf("IsSubsetMatch(%q, %q) = %v, want %v", tc.subject, tc.filter, got, tc.want)
		}
	}
}

func TestTokens(t *testing.T) {
	tests := []struct {
		s    string
		want []string
	}{
		{"", []string{""}},
		{"a", []string{"a"}},
		{"a.b.c", []string{"a", "b", "c"}},
		{"a..b", []string{"a", "", "b"}},
		{".", []string{"", ""}},
		{"a.", []string{"a", ""}},
	}
	for _, tc := range tests {
		got := slices.Collect(sublist.Tokens(tc.s))
		if !slices.Equal(got, tc.want) {
			t.Errorf("Tokens(%q) = %q, want %q", tc.s, got, tc.want)
		}
		var manual []string
		for rest, more := tc.s, true; more; {
			var tok string
			tok, rest, more = sublist.NextToken(rest)
			manual = append(manual, tok)
		}
		if !slices.Equal(manual, tc.want) {
			t.Errorf("NextToken loop over %q = %q, want %q", tc.s, manual, tc.want)
		}
		if want := len(strings.Split(tc.s, ".")); sublist.NumTokens(tc.s) != want {
			t.Errorf("NumTokens(%q) = %d, want %d", tc.s, sublist.NumTokens(tc.s), want)
		}
	}
	// Stopping early works.
	for tok := range sublist.Tokens("a.b.c") {
		if tok != "a" {
			t.Fatalf("got %q after break", tok)
		}
		break
	}
}

func TestHelpersDoNotAllocate(t *testing.T) {
	n := testing.AllocsPerRun(100, func() {
		sublist.ValidSubject("foo.bar.>")
		sublist.ValidLiteralSubject("foo.bar.baz")
		_ = sublist.SubjectMatchesFilter("foo.bar.baz", "foo.*.baz")
		_ = sublist.IsSubsetMatch("foo.*.baz", "foo.>")
		for range sublist.Tokens("a.b.c") {
		}
	})
	if n != 0 {
		t.Fatalf("helpers allocate %v times per run", n)
	}
}
