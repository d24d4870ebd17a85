package confparse_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"natsd.dev/confparse"
)

// decodeValue parses "k: <text>" and returns the value of k.
func decodeValue(t *testing.T, text string) *confparse.Value {
	t.Helper()
	m, err := confparse.ParseWithOptions("t.conf", []byte("k: "+text+"\n"), confparse.Options{})
	if err != nil {
		t.Fatalf("parse %q: %v", text, err)
	}
	v, ok := m.Get("k")
	if !ok {
		t.Fatalf("parse %q: no k", text)
	}
	return v
}

func TestDecoder(t *testing.T) {
	// each decodes v with one method and returns what it stored, as text.
	type decodeFunc func(d *confparse.Decoder, v *confparse.Value) (bool, string)
	str := func(d *confparse.Decoder, v *confparse.Value) (bool, string) {
		var s string
		ok := d.Str("k", v, &s)
		return ok, s
	}
	boolean := func(d *confparse.Decoder, v *confparse.Value) (bool, string) {
		var b bool
		ok := d.Bool("k", v, &b)
		return ok, fmt.Sprint(b)
	}
	integer := func(d *confparse.Decoder, v *confparse.Value) (bool, string) {
		n := -7
		ok := d.Int("k", v, &n)
		return ok, fmt.Sprint(n)
	}
	int32v := func(d *confparse.Decoder, v *confparse.Value) (bool, string) {
		var n int32 = -7
		ok := d.Int32("k", v, &n)
		return ok, fmt.Sprint(n)
	}
	int64v := func(d *confparse.Decoder, v *confparse.Value) (bool, string) {
		var n int64 = -7
		ok := d.Int64("k", v, &n)
		return ok, fmt.Sprint(n)
	}
	duration := func(d *confparse.Decoder, v *confparse.Value) (bool, string) {
		dur := time.Hour
		ok := d.Duration("k", v, &dur)
		return ok, dur.String()
	}
	strict := func(d *confparse.Decoder, v *confparse.Value) (bool, string) {
		dur := time.Hour
		ok := d.StrictDuration("k", v, &dur)
		return ok, dur.String()
	}
	seconds := func(d *confparse.Decoder, v *confparse.Value) (bool, string) {
		dur := time.Hour
		ok := d.Seconds("k", v, &dur)
		return ok, dur.String()
	}
	strs := func(d *confparse.Decoder, v *confparse.Value) (bool, string) {
		list := []string{"pre"}
		ok := d.Strings("k", v, &list)
		return ok, fmt.Sprint(list)
	}
	tests := []struct {
		name   string
		decode decodeFunc
		text   string
		ok     bool
		got    string
		errs   []string
		warns  []string
	}{
		{"string", str, `"a b"`, true, "a b", nil, nil},
		{"string from int", str, `5`, false, "", []string{`t.conf:1:4: k: expected a string, got integer 5`}, nil},
		{"bool", boolean, `on`, true, "true", nil, nil},
		{"bool from string", boolean, `"maybe"`, false, "false", []string{`t.conf:1:4: k: expected a boolean, got string "maybe"`}, nil},
		{"int", integer, `1KB`, true, "1024", nil, nil},
		{"int from float", integer, `1.5`, false, "-7", []string{`t.conf:1:4: k: expected an integer, got float 1.5`}, nil},
		{"int32", int32v, `-2147483648`, true, "-2147483648", nil, nil},
		{"int32 too big", int32v, `2147483648`, false, "-7", []string{`t.conf:1:4: k value is too big`}, nil},
		{"int32 too small", int32v, `-2147483649`, false, "-7", []string{`t.conf:1:4: k value is too big`}, nil},
		{"int64", int64v, `9223372036854775807`, true, "9223372036854775807", nil, nil},
		{"int64 from bool", int64v, `true`, false, "-7", []string{`t.conf:1:4: k: expected an integer, got boolean true`}, nil},
		{"duration", duration, `"1m30s"`, true, "1m30s", nil, nil},
		{"duration seconds", duration, `90`, true, "1m30s", nil,
			[]string{`t.conf:1:4: invalid use of field "k": k should be converted to a duration`}},
		{"duration bad text", duration, `"soon"`, false, "1h0m0s", []string{`t.conf:1:4: error parsing k: time: invalid duration "soon"`}, nil},
		{"duration from map", duration, `{}`, false, "1h0m0s", []string{`t.conf:1:4: k: expected a duration, got map`}, nil},
		{"strict duration", strict, `"250ms"`, true, "250ms", nil, nil},
		{"strict duration from int", strict, `3`, false, "1h0m0s", []string{`t.conf:1:4: k: expected a duration string, got integer 3`}, nil},
		{"seconds int", seconds, `2`, true, "2s", nil, nil},
		{"seconds float", seconds, `0.5`, true, "500ms", nil, nil},
		{"seconds from string", seconds, `"1s"`, false, "1h0m0s", []string{`t.conf:1:4: k: expected a number of seconds, got string "1s"`}, nil},
		{"strings one", strs, `a`, true, "[pre a]", nil, nil},
		{"strings array", strs, `[a, "b c"]`, true, "[pre a b c]", nil, nil},
		{"strings bad elements", strs, `[1, a, true]`, false, "[pre a]", []string{
			`t.conf:1:5: k: expected a string, got integer 1`,
			`t.conf:1:11: k: expected a string, got boolean true`}, nil},
		{"strings from int", strs, `4`, false, "[pre]", []string{`t.conf:1:4: k: expected a string or an array of strings, got integer 4`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d confparse.Decoder
			ok, got := tt.decode(&d, decodeValue(t, tt.text))
			if ok != tt.ok || got != tt.got {
				t.Errorf("got %v %q, want %v %q", ok, got, tt.ok, tt.got)
			}
			if msgs := messages(d.Errors); !slices.Equal(msgs, tt.errs) {
				t.Errorf("errors %q, want %q", msgs, tt.errs)
			}
			if msgs := messages(d.Warnings); !slices.Equal(msgs, tt.warns) {
				t.Errorf("warnings %q, want %q", msgs, tt.warns)
			}
			if (d.Err() == nil) != (len(tt.errs) == 0) {
				t.Errorf("Err() = %v with %d errors", d.Err(), len(d.Errors))
			}
			for _, e := range d.Errors {
				if !errors.Is(e, confparse.ErrBadValue) {
					t.Errorf("%v does not wrap ErrBadValue", e)
				}
			}
			for _, w := range d.Warnings {
				if !errors.Is(w, confparse.ErrWarning) {
					t.Errorf("%v does not wrap ErrWarning", w)
				}
			}
		})
	}
}

func messages(l confparse.ErrorList) []string {
	var out []string
	for _, e := range l {
		out = append(out, e.Error())
	}
	return out
}

func TestDecoderBadValueKind(t *testing.T) {
	errMine := errors.New("mine")
	d := confparse.Decoder{BadValue: errMine}
	var n int32
	d.Int32("k", decodeValue(t, "x"), &n)
	d.Int32("k", decodeValue(t, "1T"), &n)
	d.Errorf(confparse.Pos{Line: 3, Col: 1}, confparse.ErrSyntax, "own %d", 3)
	if len(d.Errors) != 3 {
		t.Fatalf("errors: %v", d.Errors)
	}
	for _, e := range d.Errors[:2] {
		if !errors.Is(e, errMine) || errors.Is(e, confparse.ErrBadValue) {
			t.Errorf("%v: wraps %v, want the Decoder's BadValue", e, e.Err)
		}
	}
	if e := d.Errors[2]; e.Err != confparse.ErrSyntax || e.Error() != "3:1: own 3" {
		t.Errorf("Errorf gave %v wrapping %v", e, e.Err)
	}
}

func TestDecoderStringValuesPositions(t *testing.T) {
	var d confparse.Decoder
	vals, ok := d.StringValues("k", decodeValue(t, "[\n  a\n  \"b\"\n]"))
	if !ok || len(vals) != 2 {
		t.Fatalf("got %v %v", vals, ok)
	}
	if vals[0].Pos.String() != "t.conf:2:3" || vals[1].Pos.String() != "t.conf:3:3" {
		t.Errorf("positions %v %v", vals[0].Pos, vals[1].Pos)
	}
}
