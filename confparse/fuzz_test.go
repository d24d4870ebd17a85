package confparse_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"natsd.dev/confparse"
)

var fuzzEnv = map[string]string{
	"NUM": "42", "STR": "hello", "MAP": "{a: 1, b: [x, y]}", "LOOP": "$LOOP",
	"A": "$B", "B": "$A", "WORDS": "two words",
}

func fuzzOptions() confparse.Options {
	return confparse.Options{
		Env: func(k string) (string, bool) { v, ok := fuzzEnv[k]; return v, ok },
		// Never touch the file system from fuzzed input.
		ReadFile: func(string) ([]byte, error) { return nil, fs.ErrNotExist },
	}
}

// FuzzParse checks that no input panics or hangs, that every failure is a
// well-formed ErrorList, and that a successful parse survives a round trip
// through Format with equal values.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.conf"))
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		"a = 1", "a { b = [1, 2, {c: d}] }", "x = $NUM\ny = $MAP", "a = (\nblock\n)",
		`a = "esc \x41 \u00e9"`, "{\"json\": [1, 2.5, true]}", "a = 2016-05-04T18:53:41Z",
		"a = 1kb, b = 1MiB; c = -3e", "include nope.conf", "a = [1,,2", "a = $LOOP",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o := fuzzOptions()
		m, err := confparse.ParseWithOptions("fuzz.conf", data, o)
		if err != nil {
			var list confparse.ErrorList
			if !errors.As(err, &list) || len(list) == 0 || m != nil {
				t.Fatalf("bad error %T %v (map %v)", err, err, m != nil)
			}
			for _, e := range list {
				if e.Err == nil || e.Pos.Line < 1 || e.Pos.Col < 1 {
					t.Fatalf("malformed error %+v", e)
				}
			}
			return
		}
		out := confparse.Format(m)
		m2, err := confparse.ParseWithOptions("", out, o)
		if err != nil {
			t.Fatalf("formatted output does not parse: %v\ninput:\n%q\noutput:\n%s", err, data, out)
		}
		if a, b := m.Interface(), m2.Interface(); !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip changed values\ninput: %q\nfirst:  %#v\nsecond: %#v\noutput:\n%s", data, a, b, out)
		}
	})
}
