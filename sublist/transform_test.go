package sublist_test

import (
	"errors"
	"hash/fnv"
	"strconv"
	"testing"

	"natsd.dev/sublist"
)

func TestTransformApply(t *testing.T) {
	tests := []struct {
		src, dst, subject, want string
	}{
		// ADR-30's examples.
		{">", "uno.>", "one.two.three", "uno.one.two.three"},
		{">", ">", "one.two.three", "one.two.three"},
		{"", ">", "one.two.three", "one.two.three"},
		{">", "eins.zwei.drei.vier.>", "four.five.six", "eins.zwei.drei.vier.four.five.six"},
		{"one.>", "uno.>", "one.two.three", "uno.two.three"},
		{"one.two.>", "uno.dos.>", "one.two.three", "uno.dos.three"},
		{"one", "uno", "one", "uno"},
		{"one.*.three.*.five", "uno.$2.$1", "one.two.three.four.five", "uno.four.two"},
		{"one.*.three.*.five", "uno.{{wildcard(2)}}.{{wildcard(1)}}", "one.two.three.four.five", "uno.four.two"},
		{"*.two.three.>", "uno.$1.>", "one.two.three.four.five", "uno.one.four.five"},
		{"*", "{{split(1,-)}}", "-abc-def--ghij-", "abc.def.ghij"},
		{"*", "{{splitfromleft(1,3)}}", "12345", "123.45"},
		{"*", "{{SplitFromRight(1,3)}}", "12345", "12.345"},
		{"*", "{{SliceFromLeft(1,3)}}", "1234567890", "123.456.789.0"},
		{"*", "{{SliceFromRight(1,3)}}", "1234567890", "1.234.567.890"},
		// The docs' examples (docs.nats.io subject mapping, natsbyexample).
		{"events.*", "events.{{wildcard(1)}}.{{partition(5,1)}}", "events.1", "events.1.4"},
		{"neworders.*", "neworders.{{wildcard(1)}}.{{partition(3,1)}}", "neworders.customerid1", "neworders.customerid1.0"},
		{"foo.*.*", "foo.{{wildcard(1)}}.{{wildcard(2)}}.{{partition(5,1,2)}}", "foo.us.customerid", "foo.us.customerid.0"},
		{"*", "{{slicefromleft(1,2)}}", "1234567", "12.34.56.7"},
		{"*", "{{slicefromright(1,2)}}", "1234567", "1.23.45.67"},
		{"*", "{{splitfromleft(1,4)}}", "1234567", "1234.567"},
		{"*", "{{splitfromright(1,4)}}", "1234567", "123.4567"},
		// Sizes that do not fit leave the token whole.
		{"*", "{{splitFromLeft(1,5)}}", "12345", "12345"},
		{"*", "{{splitFromLeft(1,0)}}", "12345", "12345"},
		{"*", "{{sliceFromLeft(1,5)}}", "12345", "12345"},
		{"*", "{{sliceFromRight(1,2)}}", "123456", "12.34.56"},
		{"*", "{{sliceFromLeft(1,2)}}", "123456", "12.34.56"},
		{"*", "{{left(1,2)}}", "12345", "12"},
		{"*", "{{Right(1,2)}}", "12345", "45"},
		{"*", "{{right(1,9)}}", "12345", "12345"},
		{"*", "{{split(1,-)}}", "abc", "abc"},
		{"*", "{{split(1,-)}}", "--a", "a"},
		// Spaces around names, parentheses and after commas.
		{"a.*.*", "{{ wildcard( 2 ) }}.{{Partition(3, 1 ,2)}}", "a.x.y", "y." + part(3, "xy")},
		{"a.*.*", "{{ splitFromLeft (1, 1) }}", "a.xy.z", "x.y"},
		// Literal tokens, including ones that start with '$'.
		{"a.*", "$JS.$1.$x", "a.b", "$JS.b.$x"},
		{"a.*.>", "b.$1.>", "a.1.2.3", "b.1.2.3"},
		{"a.*.>", "b.>", "a.1.2.3", "b.2.3"},
		// Unused wildcards are fine (not strict).
		{"a.*.*", "b.$2", "a.1.2", "b.2"},
	}
	for _, tc := range tests {
		t.Run(tc.src+"->"+tc.dst, func(t *testing.T) {
			tr, err := sublist.NewTransform(tc.src, tc.dst)
			if err != nil {
				t.Fatalf("NewTransform: %v", err)
			}
			if !tr.Match(tc.subject) {
				t.Errorf("Match(%q) = false", tc.subject)
			}
			got, err := tr.Apply(tc.subject)
			if err != nil || got != tc.want {
				t.Fatalf("Apply(%q) = %q, %v; want %q", tc.subject, got, err, tc.want)
			}
		})
	}
}

// part computes a partition as upstream: FNV-1a 32 of the key, modulo n.
func part(n uint32, key string) string {
	h := fnv.New32a()
	h.Write([]byte(key))
	return strconv.Itoa(int(h.Sum32() % n))
}

func TestTransformPartitionMatchesFNV(t *testing.T) {
	tr, err := sublist.NewTransform("orders.*.*", "{{partition(7,2,1)}}.{{partition(1000)}}")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		a, b := strconv.Itoa(i), strconv.Itoa(i*31)
		subj := "orders." + a + "." + b
		got, err := tr.Apply(subj)
		if err != nil {
			t.Fatal(err)
		}
		if want := part(7, b+a) + "." + part(1000, subj); got != want {
			t.Fatalf("Apply(%q) = %q, want %q", subj, got, want)
		}
	}
}

func TestTransformRandom(t *testing.T) {
	tr, err := sublist.NewTransform("foo", "bar.{{random(3)}}")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for range 200 {
		got, err := tr.Apply("foo")
		if err != nil {
			t.Fatal(err)
		}
		seen[got] = true
	}
	if len(seen) != 3 || !seen["bar.0"] || !seen["bar.1"] || !seen["bar.2"] {
		t.Fatalf("random(3) gave %v", seen)
	}
}

func TestTransformApplyErrors(t *testing.T) {
	tr, err := sublist.NewTransform("a.*.c", "x.$1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		subject string
		want    error
	}{
		{"a.b.d", sublist.ErrNoTransform},
		{"a.b", sublist.ErrNoTransform},
		{"a.b.c.d", sublist.ErrNoTransform},
		{"b.b.c", sublist.ErrNoTransform},
		{"a.*.c", sublist.ErrInvalidSubject},
		{"a..c", sublist.ErrInvalidSubject},
		{"", sublist.ErrInvalidSubject},
	} {
		if _, err := tr.Apply(tc.subject); !errors.Is(err, tc.want) {
			t.Errorf("Apply(%q) = %v, want %v", tc.subject, err, tc.want)
		}
		if tr.Match(tc.subject) {
			t.Errorf("Match(%q) = true", tc.subject)
		}
	}
	sp, err := sublist.NewTransform("*", "x.{{split(1,-)}}")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sp.Apply("---"); !errors.Is(err, sublist.ErrInvalidSubject) {
		t.Errorf("split to nothing: %v", err)
	}
}

func TestNewTransformErrors(t *testing.T) {
	tests := []struct {
		src, dst string
		want     error
	}{
		{"a..b", "x", sublist.ErrInvalidSubject},
		{"a.>.b", "x", sublist.ErrInvalidSubject},
		{"a", "", sublist.ErrMappingInvalidSubject},
		{"a", "x..y", sublist.ErrMappingInvalidSubject},
		{"a.*", "x.*", sublist.ErrMappingInvalidSubject},
		{"a.>", "x", sublist.ErrMappingInvalidSubject},
		{"a", "x.>", sublist.ErrMappingInvalidSubject},
		{"a.*", "x y.$1", sublist.ErrMappingInvalidSubject},
		{"a.*", "x.{{foo(1)}}", sublist.ErrMappingUnknownFunction},
		{"a.*", "x.{{WILDCARD(1)}}", sublist.ErrMappingUnknownFunction},
		{"a.*", "x.{{wildcard 1}}", sublist.ErrMappingUnknownFunction},
		{"a.*", "x.{{wildcard(1)x}}", sublist.ErrMappingUnknownFunction},
		{"a.*", "x.{{}}}", sublist.ErrMappingUnknownFunction},
		{"a.*.*", "x.{{wildcard()}}", sublist.ErrMappingNotEnoughArgs},
		{"a.*.*", "x.{{wildcard(1,2)}}", sublist.ErrMappingTooManyArgs},
		{"a.*.*", "x.{{wildcard(abc)}}", sublist.ErrMappingInvalidArg},
		{"a.*.*", "x.{{wildcard(3)}}", sublist.ErrMappingIndexOutOfRange},
		{"a.*.*", "x.{{wildcard(0)}}", sublist.ErrMappingIndexOutOfRange},
		{"a.*.*", "x.$3", sublist.ErrMappingIndexOutOfRange},
		{"a", "x.$1", sublist.ErrMappingIndexOutOfRange},
		{"a.>", "x.{{wildcard(1)}}.>", sublist.ErrMappingIndexOutOfRange},
		{"a.*", "x.{{partition(0,1)}}", sublist.ErrMappingInvalidArg},
		{"a.*", "x.{{partition(a,1)}}", sublist.ErrMappingInvalidArg},
		{"a.*", "x.{{partition(3,x)}}", sublist.ErrMappingInvalidArg},
		{"a.*", "x.{{partition(3,2)}}", sublist.ErrMappingIndexOutOfRange},
		{"a.*", "x.{{partition()}}", sublist.ErrMappingInvalidArg},
		{"a.*", "x.{{splitFromLeft(1)}}", sublist.ErrMappingNotEnoughArgs},
		{"a.*", "x.{{splitFromLeft(1,2,3)}}", sublist.ErrMappingTooManyArgs},
		{"a.*", "x.{{sliceFromRight(1,b)}}", sublist.ErrMappingInvalidArg},
		{"a.*", "x.{{left(1,99999999999)}}", sublist.ErrMappingInvalidArg},
		{"a.*", "x.{{split(1)}}", sublist.ErrMappingNotEnoughArgs},
		{"a.*", "x.{{split(1,-,x)}}", sublist.ErrMappingTooManyArgs},
		{"a.*", "x.{{split(1,- )}}", sublist.ErrMappingInvalidArg},
		{"a.*", "x.{{random()}}", sublist.ErrMappingInvalidArg},
		{"a.*", "x.{{random(1,2)}}", sublist.ErrMappingNotEnoughArgs},
		{"a.*", "x.{{random(0)}}", sublist.ErrMappingInvalidArg},
	}
	for _, tc := range tests {
		tr, err := sublist.NewTransform(tc.src, tc.dst)
		if !errors.Is(err, tc.want) {
			t.Errorf("NewTransform(%q, %q) = %v, want %v", tc.src, tc.dst, err, tc.want)
			continue
		}
		if tr != nil {
			t.Errorf("NewTransform(%q, %q) returned a transform with an error", tc.src, tc.dst)
		}
		if errors.Is(tc.want, sublist.ErrBadMapping) {
			var me *sublist.MappingError
			if !errors.As(err, &me) || !errors.Is(err, sublist.ErrBadMapping) {
				t.Errorf("NewTransform(%q, %q) = %v: not a *MappingError wrapping ErrBadMapping", tc.src, tc.dst, err)
			}
		}
	}
	var me *sublist.MappingError
	_, err := sublist.NewTransform("a.*", "x.{{foo(1)}}")
	if !errors.As(err, &me) || me.Token != "{{foo(1)}}" ||
		err.Error() != "sublist: invalid mapping destination: unknown function in {{foo(1)}}" {
		t.Errorf("error text %q", err)
	}
}

func TestNewTransformStrict(t *testing.T) {
	for _, tc := range []struct {
		src, dst string
		want     error
	}{
		{"a.*.*", "b.$2.$1", nil},
		{"a.*.*", "b.{{wildcard(2)}}.{{Wildcard(1)}}", nil},
		{"a.*.*", "b.$2", sublist.ErrMappingNotUsingAllWildcards},
		{"a.*", "b.{{partition(2,1)}}", sublist.ErrMappingNotSupportedForImport},
		{"a.>", "b.>", nil},
	} {
		_, err := sublist.NewTransformStrict(tc.src, tc.dst)
		if !errors.Is(err, tc.want) {
			t.Errorf("NewTransformStrict(%q, %q) = %v, want %v", tc.src, tc.dst, err, tc.want)
		}
	}
}
