// Package linkconftest is the scaffolding the link kinds' configuration
// tests share (cluster/route, cluster/leaf, cluster/gateway): parsing a
// file's text down to the block's entry, and the oracles every kind's
// ParseConfig fuzz target checks on the problems it reports.
package linkconftest

import (
	"errors"
	"testing"

	"natsd.dev/confparse"
)

// Entry parses text as a configuration file with no environment and
// returns the entry of the first of keys it has; a file that does not
// parse or has none of keys fails t.
func Entry(t testing.TB, text string, keys ...string) *confparse.Entry {
	t.Helper()
	m, err := confparse.ParseWithOptions("test.conf", []byte(text), confparse.Options{
		Env: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	for _, k := range keys {
		if e := m.Lookup(k); e != nil {
			return e
		}
	}
	t.Fatalf("no %s entry", keys[0])
	return nil
}

// FuzzEntry is Entry for a fuzz target: includes are refused, and a file
// that does not parse or has none of keys gives nil.
func FuzzEntry(text string, keys ...string) *confparse.Entry {
	m, err := confparse.ParseWithOptions("f.conf", []byte(text), confparse.Options{
		Env:      func(string) (string, bool) { return "", false },
		ReadFile: func(string) ([]byte, error) { return nil, errors.New("no includes") },
	})
	if err != nil {
		return nil
	}
	for _, k := range keys {
		if e := m.Lookup(k); e != nil {
			return e
		}
	}
	return nil
}

// CheckProblems applies the fuzz oracles to what a ParseConfig reported:
// every warning has a position, and err, when set, is a non-empty
// confparse.ErrorList whose errors each have a position and a kind. It
// reports whether the block parsed (err is nil).
func CheckProblems(t testing.TB, warns confparse.ErrorList, err error) bool {
	t.Helper()
	for _, w := range warns {
		if w.Pos.Line == 0 {
			t.Fatalf("warning without a position: %v", w)
		}
	}
	if err == nil {
		return true
	}
	var list confparse.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("error %T %v is not an ErrorList", err, err)
	}
	for _, e := range list {
		if e.Pos.Line == 0 || e.Err == nil {
			t.Fatalf("error without a position or kind: %v", e)
		}
	}
	return false
}

// CheckKinds checks how many of err's errors (a confparse.ErrorList) wrap
// each kind (server.ErrUnknownField, server.ErrBadValue, ...).
func CheckKinds(t testing.TB, err error, want map[error]int) {
	t.Helper()
	var list confparse.ErrorList
	errors.As(err, &list)
	for kind, n := range want {
		c := 0
		for _, e := range list {
			if errors.Is(e, kind) {
				c++
			}
		}
		if c != n {
			t.Errorf("%v: %d errors, want %d", kind, c, n)
		}
	}
}
