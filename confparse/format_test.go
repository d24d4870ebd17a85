package confparse_test

import (
	"reflect"
	"testing"
	"time"

	"natsd.dev/confparse"
)

func TestFormatRoundTrip(t *testing.T) {
	str := func(s string) *confparse.Value { return &confparse.Value{Kind: confparse.KindString, Str: s} }
	m := &confparse.Map{Entries: []confparse.Entry{
		{Key: "plain", Value: str("text")},
		{Key: "include", Value: str("not a directive")},
		{Key: "with space", Value: str("quote \" backslash \\ tab \t nl \n cr \r")},
		{Key: `dq"key`, Value: str("ctl \x00\x01\x7f bad utf8 \xff\xfe ok é 😀")},
		{Key: "#hash", Value: str("$notavar")},
		{Key: "//slashes", Value: str("")},
		{Key: "", Value: str("empty key")},
		{Key: "int", Value: &confparse.Value{Kind: confparse.KindInt, Int: -9223372036854775808}},
		{Key: "float", Value: &confparse.Value{Kind: confparse.KindFloat, Float: 3}},
		{Key: "tiny", Value: &confparse.Value{Kind: confparse.KindFloat, Float: 1e-300}},
		{Key: "big", Value: &confparse.Value{Kind: confparse.KindFloat, Float: 1e300}},
		{Key: "bool", Value: &confparse.Value{Kind: confparse.KindBool, Bool: false}},
		{Key: "time", Value: &confparse.Value{Kind: confparse.KindTime, Int: time.Date(2020, 2, 29, 23, 59, 58, 0, time.UTC).Unix()}},
		{Key: "empty_map", Value: &confparse.Value{Kind: confparse.KindMap, Map: &confparse.Map{}}},
		{Key: "empty_array", Value: &confparse.Value{Kind: confparse.KindArray}},
		{Key: "nested", Value: &confparse.Value{Kind: confparse.KindArray, Array: []*confparse.Value{
			{Kind: confparse.KindMap, Map: &confparse.Map{Entries: []confparse.Entry{{Key: "a", Value: str("b")}}}},
			{Kind: confparse.KindArray, Array: []*confparse.Value{str("x")}},
		}}},
	}}
	out := confparse.Format(m)
	m2, err := confparse.ParseWithOptions("", out, confparse.Options{Env: noEnv})
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if a, b := m.Interface(), m2.Interface(); !reflect.DeepEqual(a, b) {
		t.Errorf("round trip differs\n%#v\n%#v\n%s", a, b, out)
	}
	if got := string(confparse.AppendFormat([]byte("# header\n"), m))[:9]; got != "# header\n" {
		t.Errorf("AppendFormat did not append: %q", got)
	}
}
