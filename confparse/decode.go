package confparse

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of a Decoder.
var (
	// ErrBadValue marks a value of the wrong type or out of range, as a
	// Decoder reports it (unless Decoder.BadValue names another sentinel).
	ErrBadValue = errors.New("confparse: invalid value")
	// ErrWarning marks a warning of a Decoder: the value was used or
	// ignored, but the file should be fixed.
	ErrWarning = errors.New("confparse: configuration warning")
)

// A Decoder reads typed values out of a parsed tree for the code that
// gives a block its meaning. Each method checks one value, stores it
// through dst and returns true, or leaves dst alone, records an *Error at
// the value's Pos and returns false, so a caller reports every problem of
// a file at once and goes on with the next key.
//
// key names the value in messages; callers pass the key as the user wrote
// it, prefixed with its block where that helps ("cluster port"). The texts
// are upstream's where upstream has one.
//
// The zero Decoder is ready to use. A Decoder is not safe for concurrent
// use.
type Decoder struct {
	// Errors are the errors found so far, in the order found.
	Errors ErrorList
	// Warnings are the warnings found so far; they wrap ErrWarning.
	Warnings ErrorList
	// BadValue is the sentinel that the errors of the typed methods wrap;
	// nil means ErrBadValue.
	BadValue error
}

// Err returns Errors as an error, or nil when there are none.
func (d *Decoder) Err() error {
	if len(d.Errors) == 0 {
		return nil
	}
	return d.Errors
}

// Errorf records an error at pos wrapping kind.
func (d *Decoder) Errorf(pos Pos, kind error, format string, args ...any) {
	d.Errors = append(d.Errors, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Err: kind})
}

// Warnf records a warning at pos wrapping ErrWarning.
func (d *Decoder) Warnf(pos Pos, format string, args ...any) {
	d.Warnings = append(d.Warnings, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Err: ErrWarning})
}

// bad is the sentinel of the typed methods' errors.
func (d *Decoder) bad() error {
	if d.BadValue != nil {
		return d.BadValue
	}
	return ErrBadValue
}

// TypeError records "key: expected want, got <v described>" at v, as in
// `port: expected an integer, got string "x"`.
func (d *Decoder) TypeError(key, want string, v *Value) {
	d.Errorf(v.Pos, d.bad(), "%s: expected %s, got %s", key, want, v.Describe())
}

// Str reads a string.
func (d *Decoder) Str(key string, v *Value, dst *string) bool {
	if v.Kind != KindString {
		d.TypeError(key, "a string", v)
		return false
	}
	*dst = v.Str
	return true
}

// Bool reads a boolean (true/false, yes/no, on/off in the file).
func (d *Decoder) Bool(key string, v *Value, dst *bool) bool {
	if v.Kind != KindBool {
		d.TypeError(key, "a boolean", v)
		return false
	}
	*dst = v.Bool
	return true
}

// Int64 reads an integer (size suffixes already applied).
func (d *Decoder) Int64(key string, v *Value, dst *int64) bool {
	if v.Kind != KindInt {
		d.TypeError(key, "an integer", v)
		return false
	}
	*dst = v.Int
	return true
}

// Int reads an integer that fits an int; a larger one is reported as
// "key value is too big".
func (d *Decoder) Int(key string, v *Value, dst *int) bool {
	var n int64
	if !d.Int64(key, v, &n) {
		return false
	}
	if n != int64(int(n)) {
		d.Errorf(v.Pos, d.bad(), "%s value is too big", key)
		return false
	}
	*dst = int(n)
	return true
}

// Int32 reads an integer that fits an int32; another one is reported as
// "key value is too big".
func (d *Decoder) Int32(key string, v *Value, dst *int32) bool {
	var n int64
	if !d.Int64(key, v, &n) {
		return false
	}
	if n != int64(int32(n)) {
		d.Errorf(v.Pos, d.bad(), "%s value is too big", key)
		return false
	}
	*dst = int32(n)
	return true
}

// Duration reads a duration string ("2m", "1h30m") or, as upstream does
// for backward compatibility, an integer number of seconds, which it
// accepts with the warning `invalid use of field "key": key should be
// converted to a duration`.
func (d *Decoder) Duration(key string, v *Value, dst *time.Duration) bool {
	switch v.Kind {
	case KindString:
		return d.StrictDuration(key, v, dst)
	case KindInt:
		d.Warnf(v.Pos, "invalid use of field %q: %s should be converted to a duration", key, key)
		*dst = time.Duration(v.Int) * time.Second
		return true
	}
	d.TypeError(key, "a duration", v)
	return false
}

// StrictDuration reads a duration string only, for the keys where
// upstream takes no number.
func (d *Decoder) StrictDuration(key string, v *Value, dst *time.Duration) bool {
	if v.Kind != KindString {
		d.TypeError(key, "a duration string", v)
		return false
	}
	t, err := time.ParseDuration(v.Str)
	if err != nil {
		d.Errorf(v.Pos, d.bad(), "error parsing %s: %v", key, err)
		return false
	}
	*dst = t
	return true
}

// Seconds reads a number of seconds, integer or fraction (timeout: 2.5),
// as a duration.
func (d *Decoder) Seconds(key string, v *Value, dst *time.Duration) bool {
	switch v.Kind {
	case KindInt:
		*dst = time.Duration(v.Int) * time.Second
		return true
	case KindFloat:
		*dst = time.Duration(v.Float * float64(time.Second))
		return true
	}
	d.TypeError(key, "a number of seconds", v)
	return false
}

// StringValues reads a string or an array of strings and returns the
// string values (v itself, or the elements), which keep their Pos for
// checks of their text. Every element that is not a string is reported;
// ok is false when anything was.
func (d *Decoder) StringValues(key string, v *Value) (vals []*Value, ok bool) {
	switch v.Kind {
	case KindString:
		return []*Value{v}, true
	case KindArray:
		ok = true
		vals = make([]*Value, 0, len(v.Array))
		for _, e := range v.Array {
			if e.Kind != KindString {
				d.TypeError(key, "a string", e)
				ok = false
				continue
			}
			vals = append(vals, e)
		}
		return vals, ok
	}
	d.TypeError(key, "a string or an array of strings", v)
	return nil, false
}

// Strings reads a string or an array of strings, as StringValues does,
// and appends the strings to dst.
func (d *Decoder) Strings(key string, v *Value, dst *[]string) bool {
	vals, ok := d.StringValues(key, v)
	for _, s := range vals {
		*dst = append(*dst, s.Str)
	}
	return ok
}
