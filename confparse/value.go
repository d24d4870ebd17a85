package confparse

import (
	"strconv"
	"strings"
	"time"
)

// Pos is a position in a configuration source. Line and Col are 1-based;
// Col counts runes (a tab is one column). File is empty for in-memory input
// parsed without a name.
type Pos struct {
	File      string
	Line, Col int
}

// String returns "file:line:col", or "line:col" when File is empty.
func (p Pos) String() string {
	b := make([]byte, 0, len(p.File)+16)
	if p.File != "" {
		b = append(b, p.File...)
		b = append(b, ':')
	}
	b = strconv.AppendInt(b, int64(p.Line), 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(p.Col), 10)
	return string(b)
}

// Kind says which field of a Value holds its data.
type Kind uint8

// The kinds of values. The zero Kind is KindString.
const (
	KindString Kind = iota // Value.Str
	KindInt                // Value.Int, size suffixes applied
	KindFloat              // Value.Float
	KindBool               // Value.Bool
	KindMap                // Value.Map
	KindArray              // Value.Array
	KindTime               // Value.Time(), from an unquoted ISO 8601 Zulu datetime
)

var kindNames = [...]string{"string", "int", "float", "bool", "map", "array", "time"}

// String returns the lower-case name of the kind ("string", "int", ...).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one parsed value with the position where it was written.
//
// Only the field selected by Kind is meaningful. Durations ("2s", "1h30m"),
// host:port pairs and dotted addresses are strings, as upstream treats them;
// note that "2m" is the integer 2000000 because m is a size suffix.
//
// A value substituted from a variable carries the position of the $reference
// and the variable's name in Var; its Map or Array is shared with the
// variable's definition, so treat the tree as read-only.
type Value struct {
	Pos   Pos
	Kind  Kind
	Bool  bool     // KindBool
	Str   string   // KindString
	Int   int64    // KindInt; for KindTime the Unix time in seconds (see Time)
	Float float64  // KindFloat
	Map   *Map     // KindMap
	Array []*Value // KindArray

	// Var is the name of the variable this value was substituted from
	// ("x" for $x), empty for a value written in place.
	Var string
}

// Interface returns the value as plain Go data: string, int64, float64, bool,
// time.Time, map[string]any or []any. Map keys are kept as written; when a
// key appears twice with different case both are kept, and when it appears
// twice with the same spelling the parser already kept only the last.
func (v *Value) Interface() any {
	if v == nil {
		return nil
	}
	switch v.Kind {
	case KindString:
		return v.Str
	case KindInt:
		return v.Int
	case KindFloat:
		return v.Float
	case KindBool:
		return v.Bool
	case KindMap:
		return v.Map.Interface()
	case KindArray:
		a := make([]any, len(v.Array))
		for i, e := range v.Array {
			a[i] = e.Interface()
		}
		return a
	case KindTime:
		return v.Time()
	}
	return nil
}

// Time returns a KindTime value as a UTC time.Time (the zero time for
// other kinds). Upstream accepts only whole-second Zulu datetimes such as
// 2016-05-04T18:53:41Z, so the Unix seconds in Int hold all of it.
func (v *Value) Time() time.Time {
	if v.Kind != KindTime {
		return time.Time{}
	}
	return time.Unix(v.Int, 0).UTC()
}

// Map is a configuration block: its entries in the order they were written
// (entries merged from an include sit where the include directive was).
//
// The parser keeps keys as written. A key written twice with the same
// spelling in one block keeps its first place and takes the last value, as
// upstream does (Options.Pedantic reports it instead). Get matches keys
// case-insensitively because upstream's option processing lower-cases them.
type Map struct {
	Entries []Entry
}

// Entry is one key and its value.
type Entry struct {
	Key    string
	KeyPos Pos
	Value  *Value

	// UsedAsVariable is set when a $reference somewhere below this block
	// resolved to this entry. Upstream uses the same mark so that a key
	// defined only to serve as a variable is not reported as an unknown
	// option; callers validating options should skip unknown keys that
	// have it set.
	UsedAsVariable bool
}

// Get returns the value of key, compared case-insensitively. If several
// entries match (keys differing only in case), the last one wins.
func (m *Map) Get(key string) (*Value, bool) {
	if e := m.Lookup(key); e != nil {
		return e.Value, true
	}
	return nil, false
}

// Lookup is like Get but returns the whole entry (for its KeyPos and
// UsedAsVariable), or nil.
func (m *Map) Lookup(key string) *Entry {
	if m == nil {
		return nil
	}
	for i := len(m.Entries) - 1; i >= 0; i-- {
		if strings.EqualFold(m.Entries[i].Key, key) {
			return &m.Entries[i]
		}
	}
	return nil
}

// Interface returns the map as a map[string]any of plain Go values (see
// Value.Interface).
func (m *Map) Interface() map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m.Entries))
	for _, e := range m.Entries {
		out[e.Key] = e.Value.Interface()
	}
	return out
}

// Describe names the type and value of v for error messages, as in
// `expected an integer, got string "lots"`.
func (v *Value) Describe() string {
	switch v.Kind {
	case KindString:
		return "string " + strconv.Quote(v.Str)
	case KindInt:
		return "integer " + strconv.FormatInt(v.Int, 10)
	case KindFloat:
		return "float " + strconv.FormatFloat(v.Float, 'g', -1, 64)
	case KindBool:
		return "boolean " + strconv.FormatBool(v.Bool)
	}
	return v.Kind.String()
}
