package confparse_test

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"natsd.dev/confparse"
)

func parseErr(t *testing.T, src string) confparse.ErrorList {
	t.Helper()
	m, err := confparse.ParseWithOptions("t.conf", []byte(src), fuzzOptions())
	if err == nil {
		t.Fatalf("no error for %q", src)
	}
	if m != nil {
		t.Errorf("map returned with error")
	}
	var list confparse.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error %T is not an ErrorList", err)
	}
	return list
}

func TestDepthLimit(t *testing.T) {
	for _, src := range []string{
		"a = " + strings.Repeat("[", 100_000),
		"a = " + strings.Repeat("{b = ", 100_000),
		strings.Repeat("[", 300) + strings.Repeat("]", 300),
		"a = " + strings.Repeat("[", confparse.MaxDepth+1) + strings.Repeat("]", confparse.MaxDepth+1),
	} {
		list := parseErr(t, src)
		if !errors.Is(list, confparse.ErrSyntax) {
			t.Errorf("%.20q...: %v", src, list)
		}
	}
	// Right at the limit is fine.
	n := confparse.MaxDepth - 1
	if _, err := confparse.Parse([]byte("a = " + strings.Repeat("[", n) + strings.Repeat("]", n))); err != nil {
		t.Errorf("depth %d: %v", n, err)
	}
}

func TestTooManyErrors(t *testing.T) {
	list := parseErr(t, strings.Repeat("a = \n", 1000))
	if len(list) != confparse.MaxErrors+1 || list[len(list)-1].Msg != "too many errors" {
		t.Errorf("got %d errors, last %v", len(list), list[len(list)-1])
	}
}

func TestExpansionLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0 = [1, 2]\n")
	for i := 1; i < 40; i++ {
		fmt.Fprintf(&b, "a%d = [$a%d, $a%d, $a%d]\n", i, i-1, i-1, i-1)
	}
	start := time.Now()
	list := parseErr(t, b.String())
	if !strings.Contains(list.Error(), "expand to more than") {
		t.Errorf("got %v", list)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestErrorTypes(t *testing.T) {
	list := parseErr(t, "a = $x\nb = [1,,2]")
	if len(list) != 2 {
		t.Fatalf("want 2 errors: %v", list)
	}
	if got := list.Error(); got != "t.conf:1:5: variable $x is not defined in an enclosing block or the environment\n"+
		"t.conf:2:8: unexpected ',' in array, expected a value" {
		t.Errorf("Error() = %q", got)
	}
	var e *confparse.Error
	if !errors.As(list, &e) || e.Pos != (confparse.Pos{File: "t.conf", Line: 1, Col: 5}) {
		t.Errorf("errors.As: %v", e)
	}
	if !errors.Is(list[0], confparse.ErrUndefinedVariable) || errors.Is(list[0], confparse.ErrSyntax) {
		t.Error("first error wraps the wrong sentinel")
	}
	if !errors.Is(list[1], confparse.ErrSyntax) {
		t.Error("second error is not a syntax error")
	}
	if got := (confparse.Pos{Line: 3, Col: 4}).String(); got != "3:4" {
		t.Errorf("Pos without file: %q", got)
	}
	if got := confparse.KindArray.String(); got != "array" {
		t.Errorf("KindArray = %q", got)
	}
}

// TestSyntaxErrors checks each kind of error at its position, and that
// the parse goes on after it.
func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		src, pos, msg string
	}{
		{"a = \"open\nb = 1", "1:5", "unterminated string"},
		{"a = 'open", "1:5", "unterminated string"},
		{"\"key = 1", "1:1", "unterminated quoted key"},
		{"a = (\nno end", "1:5", "block string is never closed"},
		{"a { b = 1", "1:3", "'{' is never closed"},
		{"a = [1", "1:5", "'[' is never closed"},
		{"a = \"\\q\"", "1:6", "invalid escape \\q"},
		{"a = \"\\x4\"", "1:6", "expected two hexadecimal digits"},
		{"a = \"\\u12\"", "1:6", "expected four hexadecimal digits"},
		{"a = 1 2", "1:7", "unexpected '2' after value"},
		{"a = [1 2]", "1:8", "unexpected '2' after array element"},
		{"a = 99999999999999999999", "1:5", "integer 99999999999999999999 is out of range"},
		{"a = 10e", "1:5", "size 10e is out of range"},
		{"a = 1e999", "1:5", "float 1e999 is out of range"},
		{"a = 2016-13-04T18:53:41Z", "1:5", "invalid datetime"},
		{"a = 1kbb", "1:5", "invalid size suffix"},
		{"a = $", "1:5", "missing variable name"},
		{"a =", "1:4", "expected a value for key \"a\", found end of line"},
		{"a = ;", "1:5", "expected a value for key \"a\", found ';'"},
		{"= 1", "1:1", "missing key before '='"},
		{"]", "1:1", "unexpected ']', expected a key"},
		{"a { b = 1 }}", "1:12", "unexpected '}', expected a key"},
		{"a = 1\n}\nb = 2", "2:1", "unexpected '}', expected a key"},
		{"{ a = 1", "1:1", "'{' is never closed"},
		{"include", "1:8", "expected a file name after include"},
		{"include {", "1:9", "expected a file name after include"},
		{"include 'x", "1:9", "unterminated include file name"},
		{"include x.conf", "1:9", "cannot include x.conf"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			// A second, independent error on a later line must be found too.
			list := parseErr(t, tt.src+"\n\nlast = $undefined\n")
			first := list[0]
			if p := fmt.Sprintf("%d:%d", first.Pos.Line, first.Pos.Col); p != tt.pos || !strings.Contains(first.Msg, tt.msg) {
				t.Errorf("got %v, want %s: ...%s...", first, tt.pos, tt.msg)
			}
			last := list[len(list)-1]
			if tt.msg == "'{' is never closed" || tt.msg == "'[' is never closed" {
				return // the rest of the input belongs to the open block
			}
			if !errors.Is(last, confparse.ErrUndefinedVariable) {
				t.Errorf("parse did not recover: %v", list)
			}
		})
	}
}

func TestIncludes(t *testing.T) {
	files := map[string]string{
		"dir/main.conf":    "a: 1\ninclude sub/one.conf\nb { include 'sub/two.conf' }\nc: $FROM_ONE\n",
		"dir/sub/one.conf": "FROM_ONE: 1k\ninclude ../leaf.conf\n",
		"dir/sub/two.conf": "two: true\n",
		"dir/leaf.conf":    "leaf = yes\n",
		"dir/self.conf":    "include self.conf\n",
		"dir/uses.conf":    "x = 1\ninclude needs_x.conf\n",
		"dir/needs_x.conf": "y = $x\n",
	}
	o := confparse.Options{
		Env: noEnv,
		ReadFile: func(name string) ([]byte, error) {
			if s, ok := files[name]; ok {
				return []byte(s), nil
			}
			return nil, fs.ErrNotExist
		},
	}
	m, err := confparse.ParseFileWithOptions("dir/main.conf", o)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range m.Entries {
		keys = append(keys, e.Key+"@"+e.KeyPos.String())
	}
	if got := strings.Join(keys, " "); got != "a@dir/main.conf:1:1 FROM_ONE@dir/sub/one.conf:1:1 leaf@dir/leaf.conf:1:1 b@dir/main.conf:3:1 c@dir/main.conf:4:1" {
		t.Errorf("entries: %s", got)
	}
	if c, _ := m.Get("c"); c.Int != 1000 || !m.Lookup("FROM_ONE").UsedAsVariable {
		t.Errorf("c = %v", c.Interface())
	}
	_, err = confparse.ParseFileWithOptions("dir/self.conf", o)
	if !errors.Is(err, confparse.ErrInclude) || !strings.Contains(err.Error(), "dir/self.conf:1:9: include cycle: dir/self.conf -> dir/self.conf") {
		t.Errorf("self include: %v", err)
	}
	// An included file does not see the including file's variables.
	_, err = confparse.ParseFileWithOptions("dir/uses.conf", o)
	if !errors.Is(err, confparse.ErrUndefinedVariable) || !strings.HasPrefix(err.Error(), "dir/needs_x.conf:1:5:") {
		t.Errorf("scoping: %v", err)
	}
	_, err = confparse.ParseFileWithOptions("dir/none.conf", o)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing main file: %v", err)
	}
}

// TestIncludeFromMemory checks that Parse resolves includes against the
// working directory (the package directory under go test).
func TestIncludeFromMemory(t *testing.T) {
	m, err := confparse.Parse([]byte("include testdata/inc/cluster.conf\n"))
	if err != nil {
		t.Fatal(err)
	}
	c, ok := m.Get("cluster")
	if !ok || c.Pos.File != "testdata/inc/cluster.conf" {
		t.Errorf("cluster: %v", c)
	}
}

func TestCRLF(t *testing.T) {
	m := parse(t, "a = 1\r\nb {\r\n  c = [1,\r\n 2]\r\n}\r\n")
	b, _ := m.Get("b")
	c, _ := b.Map.Get("c")
	if len(c.Array) != 2 || c.Array[1].Pos.String() != "4:2" {
		t.Errorf("c = %v", c.Interface())
	}
}
