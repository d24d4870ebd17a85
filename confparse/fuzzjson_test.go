package confparse_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"natsd.dev/confparse"
)

// FuzzJSON is a differential test: any JSON object is a valid
// configuration, and confparse must read the same values encoding/json
// does. Inputs using what the configuration language reads differently on
// purpose are skipped: null (a string here, as upstream), escapes in keys
// (keys have no escapes), integers beyond int64, invalid UTF-8, and a
// newline between ':' and the value (like upstream, a value must start on
// the line of its separator).
func FuzzJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a": 1}`, `{"a": {"b": [1, 2.5, "x", true, false, {"c": []}]}}`,
		`{"port": 4222, "s": "tab\t\u00e9\ud83d\ude00 \/ \\ \""}`, `{"a": -0, "b": 1e3, "c": -1.5E-3}`,
		`{"a": 1, "a": 2}`, "{\"k y\": \"v\",\r\n\"#x\": [ ]}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) || !json.Valid(data) {
			return
		}
		trimmed := bytes.TrimLeft(data, " \t\r\n")
		if len(trimmed) == 0 || trimmed[0] != '{' {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want map[string]any
		if err := dec.Decode(&want); err != nil {
			return
		}
		if !representable(want) || keyEscapes(data) || valueOnNextLine(data) {
			return
		}
		m, err := confparse.ParseWithOptions("", data, fuzzOptions())
		if err != nil {
			t.Fatalf("valid JSON rejected: %v\n%s", err, data)
		}
		if path, ok := sameJSON(want, &confparse.Value{Kind: confparse.KindMap, Map: m}); !ok {
			t.Fatalf("values differ at %s\n%s", path, data)
		}
	})
}

// keyEscapes reports whether a JSON object key holds a backslash.
func keyEscapes(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	var stack []bool // true: inside an object, expecting a key
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		inObj := len(stack) > 0 && stack[len(stack)-1]
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{':
				stack = append(stack, true)
			case '[':
				stack = append(stack, false)
			default:
				stack = stack[:len(stack)-1]
			}
			continue
		case string:
			if inObj && dec.More() {
				// A key: find how it was written.
				if strings.ContainsAny(tok, "\\\"\n\r\u2028") || !keyWrittenPlain(data, tok) {
					return true
				}
				// Skip its value.
				var v json.RawMessage
				if dec.Decode(&v) != nil {
					return true
				}
			}
		}
	}
}

// valueOnNextLine reports whether a ':' outside strings is followed by
// blanks that hold a newline.
func valueOnNextLine(data []byte) bool {
	inStr := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case !inStr && c == ':':
			j := i + 1
			for j < len(data) && (data[j] == ' ' || data[j] == '\t') {
				j++
			}
			if j < len(data) && (data[j] == '\n' || data[j] == '\r') {
				return true
			}
		}
	}
	return false
}

func keyWrittenPlain(data []byte, key string) bool {
	return bytes.Contains(data, []byte(`"`+key+`"`))
}

func representable(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case json.Number:
		s := string(v)
		if !strings.ContainsAny(s, ".eE") {
			_, err := strconv.ParseInt(s, 10, 64)
			return err == nil
		}
		_, err := strconv.ParseFloat(s, 64)
		return err == nil
	case map[string]any:
		for _, e := range v {
			if !representable(e) {
				return false
			}
		}
	case []any:
		for _, e := range v {
			if !representable(e) {
				return false
			}
		}
	}
	return true
}

func sameJSON(want any, got *confparse.Value) (string, bool) {
	switch w := want.(type) {
	case string:
		return "string", got.Kind == confparse.KindString && got.Str == w
	case bool:
		return "bool", got.Kind == confparse.KindBool && got.Bool == w
	case json.Number:
		s := string(w)
		if !strings.ContainsAny(s, ".eE") {
			n, _ := strconv.ParseInt(s, 10, 64)
			return "int " + s, got.Kind == confparse.KindInt && got.Int == n
		}
		f, _ := strconv.ParseFloat(s, 64)
		return "float " + s, got.Kind == confparse.KindFloat && got.Float == f
	case []any:
		if got.Kind != confparse.KindArray || len(got.Array) != len(w) {
			return "array length", false
		}
		for i, e := range w {
			if path, ok := sameJSON(e, got.Array[i]); !ok {
				return strconv.Itoa(i) + "." + path, false
			}
		}
		return "", true
	case map[string]any:
		if got.Kind != confparse.KindMap || len(got.Map.Entries) != len(w) {
			return "map size", false
		}
		for k, e := range w {
			var v *confparse.Value
			for _, ent := range got.Map.Entries {
				if ent.Key == k {
					v = ent.Value
				}
			}
			if v == nil {
				return strconv.Quote(k) + " missing", false
			}
			if path, ok := sameJSON(e, v); !ok {
				return strconv.Quote(k) + "." + path, false
			}
		}
		return "", true
	}
	return "unknown", false
}
