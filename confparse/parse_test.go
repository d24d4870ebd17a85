package confparse_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"natsd.dev/confparse"
)

func noEnv(string) (string, bool) { return "", false }

func parse(t *testing.T, src string) *confparse.Map {
	t.Helper()
	m, err := confparse.ParseWithOptions("", []byte(src), confparse.Options{Env: noEnv})
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	return m
}

func TestValues(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want any
	}{
		{"int", "a = 4222", int64(4222)},
		{"negative", "a = -42", int64(-42)},
		{"colon", "a: 1", int64(1)},
		{"space", "a 1", int64(1)},
		{"k", "a = 1k", int64(1000)},
		{"K", "a = 1K", int64(1000)},
		{"kb", "a = 1kb", int64(1024)},
		{"KB", "a = 1KB", int64(1024)},
		{"Ki", "a = 2Ki", int64(2048)},
		{"KiB", "a = 1KiB", int64(1024)},
		{"m", "a = 2m", int64(2_000_000)},
		{"MB", "a = 8MB", int64(8 << 20)},
		{"MiB", "a = 1MiB", int64(1 << 20)},
		{"g", "a = 1g", int64(1_000_000_000)},
		{"GB", "a = 1GB", int64(1 << 30)},
		{"t", "a = 1t", int64(1_000_000_000_000)},
		{"TB", "a = 1TB", int64(1 << 40)},
		{"p", "a = 1p", int64(1e15)},
		{"pib", "a = 1pib", int64(1 << 50)},
		{"e", "a = 2e", int64(2e18)},
		{"eb", "a = 1EB", int64(1 << 60)},
		{"negative size", "a = -1k", int64(-1000)},
		{"float", "a = 1.5", 1.5},
		{"negative float", "a = -0.25", -0.25},
		{"exponent", "a = 1.5e3", 1500.0},
		{"true", "a = true", true},
		{"TRUE", "a = TRUE", true},
		{"yes", "a = yes", true},
		{"on", "a = On", true},
		{"false", "a = false", false},
		{"no", "a = NO", false},
		{"off", "a = off", false},
		{"string", "a = hello", "hello"},
		{"dq", `a = "hello world"`, "hello world"},
		{"sq", `a = 'it is \n raw'`, `it is \n raw`},
		{"escapes", `a = "t\tn\nr\rq\"b\\x\x41"`, "t\tn\nr\rq\"b\\xA"},
		{"unicode escape", `a = "\u00e9\ud83d\ude00"`, "é😀"},
		{"quoted var", `a = "$x"`, "$x"},
		{"ip", "a = 127.0.0.1", "127.0.0.1"},
		{"ip port", "a = 127.0.0.1:4222", "127.0.0.1:4222"},
		{"url", "a = nats://localhost:4222", "nats://localhost:4222"},
		{"duration", "a = 2s", "2s"},
		{"duration hm", "a = 1h30m", "1h30m"},
		{"digit string", "a = 3secret", "3secret"},
		{"ms", "a = 500ms", "500ms"},
		{"dash string", "a = -", "-"},
		{"bcrypt", "a = $2a$11$3kIDaCxw.Glsl1.u5nKa6eUnNDLV5HV9tIuUp7EHhMt6Nm9myW1aS", "$2a$11$3kIDaCxw.Glsl1.u5nKa6eUnNDLV5HV9tIuUp7EHhMt6Nm9myW1aS"},
		{"hash in value", "a = #ff00ff", "#ff00ff"},
		{"slashes in value", "a = foo//bar // comment", "foo//bar"},
		{"unquoted escape", `a = foo\tbar`, "foo\tbar"},
		{"datetime", "a = 2016-05-04T18:53:41Z", time.Date(2016, 5, 4, 18, 53, 41, 0, time.UTC)},
		{"date string", "a = 2016-05-04", "2016-05-04"},
		{"block", "a = (\n  line one\n  line two\n)\n", "\n  line one\n  line two"},
		{"block paren inside", "a (\nx)\n )\n)", "\nx)\n )"},
		{"block crlf", "a = (\r\nx\r\n)\r\n", "\r\nx"},
		{"empty array", "a = []", []any{}},
		{"array", "a = [1, two, \"three\", 4.5, true]", []any{int64(1), "two", "three", 4.5, true}},
		{"array newlines", "a = [\n 1\n 2 # c\n 3,\n]", []any{int64(1), int64(2), int64(3)}},
		{"map", "a { b: 1, c = 2; d 3 }", map[string]any{"b": int64(1), "c": int64(2), "d": int64(3)}},
		{"map next line", "a\n{\n b = 1\n}", map[string]any{"b": int64(1)}},
		{"nested", "a { b { c [ { d: 1 } ] } }", map[string]any{"b": map[string]any{"c": []any{map[string]any{"d": int64(1)}}}}},
		{"semicolon", "a = 1;", int64(1)},
		{"quoted key", `"a" = 1`, int64(1)},
		{"single quoted key", `'a': 1`, int64(1)},
		{"variable", "x = 5\na = $x", int64(5)},
		{"variable outer", "x = 5\nb { c { a2 = $x } }\na = $x", int64(5)},
		{"include as key", "include: 5\na = $include", int64(5)},
		{"max int", "a = 9223372036854775807", int64(9223372036854775807)},
		{"min int", "a = -9223372036854775808", int64(-9223372036854775808)},
		{"max size", "a = 7eb", int64(7 << 60)},
		{"min size", "a = -8eb", int64(-8 << 60)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := parse(t, tt.src)
			v, ok := m.Get("a")
			if !ok {
				t.Fatalf("no key a in %#v", m.Interface())
			}
			if got := v.Interface(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v (%v), want %#v", got, v.Kind, tt.want)
			}
		})
	}
}

func TestJSON(t *testing.T) {
	m := parse(t, `{
  "port": 4222,
  "debug": false,
  "cluster": {"name": "c1", "routes": ["nats://a:6222", "nats://b:6222"]},
  "ratio": 0.5, "big": 1e3
}`)
	want := map[string]any{
		"port": int64(4222), "debug": false, "ratio": 0.5, "big": 1000.0,
		"cluster": map[string]any{"name": "c1", "routes": []any{"nats://a:6222", "nats://b:6222"}},
	}
	if got := m.Interface(); !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v", got)
	}
}

func TestPositions(t *testing.T) {
	m, err := confparse.ParseWithOptions("x.conf", []byte("a = 1\n  bé: [\n\t\"s\", 2 ]\n"), confparse.Options{Env: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	e := m.Lookup("bé")
	if got := e.KeyPos.String(); got != "x.conf:2:3" {
		t.Errorf("key pos %s", got)
	}
	if got := e.Value.Pos.String(); got != "x.conf:2:7" {
		t.Errorf("array pos %s", got)
	}
	if got := e.Value.Array[0].Pos.String(); got != "x.conf:3:2" {
		t.Errorf("elem pos %s", got)
	}
	if got := e.Value.Array[1].Pos.String(); got != "x.conf:3:7" {
		t.Errorf("elem pos %s", got)
	}
}

func TestGetCaseInsensitive(t *testing.T) {
	m := parse(t, "Port = 1\nHOST = h")
	if v, ok := m.Get("port"); !ok || v.Int != 1 {
		t.Errorf("Get(port) = %v, %v", v, ok)
	}
	if m.Entries[0].Key != "Port" {
		t.Errorf("key not kept as written: %q", m.Entries[0].Key)
	}
	if _, ok := m.Get("nope"); ok {
		t.Error("Get(nope) found something")
	}
}

func TestDuplicateKeys(t *testing.T) {
	m := parse(t, "a = 1\nb = 2\na = 3")
	if len(m.Entries) != 2 || m.Entries[0].Key != "a" || m.Entries[0].Value.Int != 3 {
		t.Errorf("entries %#v", m.Interface())
	}
	_, err := confparse.ParseWithOptions("", []byte("a = 1\nb = 2\na = 3\nA = 4"), confparse.Options{Pedantic: true, Env: noEnv})
	if !errors.Is(err, confparse.ErrDuplicateKey) {
		t.Fatalf("pedantic: %v", err)
	}
	if got := len(err.(confparse.ErrorList)); got != 2 {
		t.Errorf("want 2 errors, got %v", err)
	}
}

func TestVariables(t *testing.T) {
	env := map[string]string{
		"NUM": "42", "STR": "hello", "WORDS": "two words", "ARR": "[1, 2]",
		"REF": "$NUM", "LOOP": "$LOOP", "A": "$B", "B": "{x: $A}", "UNDEF": "$NOPE",
	}
	o := confparse.Options{Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	m, err := confparse.ParseWithOptions("", []byte(`
TOKEN = secret
x = 1
auth { token = $TOKEN, x = 2, inner { y = $x } }
y = $x
n = $NUM
s = $STR
w = $WORDS
arr = $ARR
ref = $REF
`), o)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"TOKEN": "secret", "x": int64(1), "y": int64(1), "n": int64(42), "s": "hello",
		"w": "two words", "arr": []any{int64(1), int64(2)}, "ref": int64(42),
		"auth": map[string]any{"token": "secret", "x": int64(2), "inner": map[string]any{"y": int64(2)}},
	}
	if got := m.Interface(); !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v", got)
	}
	if !m.Lookup("TOKEN").UsedAsVariable || !m.Lookup("x").UsedAsVariable || m.Lookup("y").UsedAsVariable {
		t.Error("UsedAsVariable marks wrong")
	}
	if v, _ := m.Get("y"); v.Var != "x" || v.Pos.Line != 5 {
		t.Errorf("y: var %q pos %v", v.Var, v.Pos)
	}
	for _, tt := range []struct {
		src  string
		want error
	}{
		{"a = $LOOP", confparse.ErrVariableCycle},
		{"a = $A", confparse.ErrVariableCycle},
		{"a = $UNDEF", confparse.ErrUndefinedVariable},
		{"a = $nothing", confparse.ErrUndefinedVariable},
		{"a = $a", confparse.ErrUndefinedVariable},
		{"b { x = 1 }\na = $x", confparse.ErrUndefinedVariable},
		{"a = $", confparse.ErrSyntax},
	} {
		_, err := confparse.ParseWithOptions("", []byte(tt.src), o)
		if !errors.Is(err, tt.want) {
			t.Errorf("%q: got %v, want %v", tt.src, err, tt.want)
		} else if at := strings.Count(tt.src, "\n") + 1; !strings.HasPrefix(err.Error(), fmt.Sprintf("%d:5: ", at)) {
			t.Errorf("%q: error not at the reference: %v", tt.src, err)
		}
	}
}

// TestTopLevelBraces follows upstream: braces at the top of a file only
// group entries, and trailing closing braces are ignored.
func TestTopLevelBraces(t *testing.T) {
	want := map[string]any{"listen": "0.0.0.0:4222"}
	for _, src := range []string{
		"{ listen: 0.0.0.0:4222 }",
		"{\n\tlisten: 0.0.0.0:4222\n }",
		"\n{\n  listen: 0.0.0.0:4222\n}\n# wibble\n",
		"\n{\n  {\n    listen: 0.0.0.0:4222 // random comment\n  }\n  # wibble1\n}\n# wibble2\n",
		"listen: 0.0.0.0:4222\n}\n",
		"listen: 0.0.0.0:4222 }",
	} {
		m := parse(t, src)
		if got := m.Interface(); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: got %#v", src, got)
		}
	}
	for _, src := range []string{"{}", "\n{\n# only a comment\n}\n", "", "\n\n  # comments only\n"} {
		if m := parse(t, src); len(m.Entries) != 0 {
			t.Errorf("%q: got %#v", src, m.Interface())
		}
	}
	m := parse(t, "accounts { users = [{}]}\n}\n")
	if got := m.Interface(); !reflect.DeepEqual(got, map[string]any{"accounts": map[string]any{"users": []any{map[string]any{}}}}) {
		t.Errorf("trailing brace: %#v", got)
	}
}

// TestUpstreamCompat holds behaviours upstream's own tests pin down.
func TestUpstreamCompat(t *testing.T) {
	tests := []struct {
		src  string
		want map[string]any
	}{
		{"foo='1'; bar=2.2; baz=true; boo=22", map[string]any{"foo": "1", "bar": 2.2, "baz": true, "boo": int64(22)}},
		{"password: 0K1abc", map[string]any{"password": "0K1abc"}},
		{"password: 8m4dwr", map[string]any{"password": "8m4dwr"}},
		{"password: 5e7bcd-abc10", map[string]any{"password": "5e7bcd-abc10"}},
		{"authorization { user: foo, password: 4e2abc }", map[string]any{"authorization": map[string]any{"user": "foo", "password": "4e2abc"}}},
		{"foo {\n  expr = '(true == \"false\")'\n  text = 'multi\nline'\n}", map[string]any{"foo": map[string]any{"expr": `(true == "false")`, "text": "multi\nline"}}},
		{"{\n \"jetstream\": {\n  \"store_dir\": \"/tmp/nats\"\n  \"max_mem\": 1000000,\n },\n \"port\": 4222\n}", map[string]any{
			"jetstream": map[string]any{"store_dir": "/tmp/nats", "max_mem": int64(1000000)}, "port": int64(4222)}},
		{"{\n  \"debug\":   False\n  \"prof_port\": 8221\n}", map[string]any{"debug": false, "prof_port": int64(8221)}},
		{"routes = [\n  nats-route://foo:bar@example.com:4245\n  nats-route://foo:bar@example.com:4246\n]", map[string]any{
			"routes": []any{"nats-route://foo:bar@example.com:4245", "nats-route://foo:bar@example.com:4246"}}},
	}
	for _, tt := range tests {
		if got := parse(t, tt.src).Interface(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q:\ngot  %#v\nwant %#v", tt.src, got, tt.want)
		}
	}
	for _, src := range []string{"aaaaaaaaaaaaaaaa", "   aaaa   ", "\n# c\n  aaaa\n", "\n a,a,a,a\n"} {
		if _, err := confparse.ParseWithOptions("", []byte(src), confparse.Options{Env: noEnv}); !errors.Is(err, confparse.ErrSyntax) {
			t.Errorf("%q: want a syntax error, got %v", src, err)
		}
	}
}
