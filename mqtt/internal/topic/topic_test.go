package topic

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// The rows marked upstream were observed on nats-server v2.15.2: a paho
// v1.5.1 client published the topic and a NATS subscriber on ">" received
// the subject, or a NATS client published the subject and a paho
// subscriber on "#" received the topic.

func TestAppendSubject(t *testing.T) {
	tests := []struct{ topic, subject string }{
		{"a/b", "a.b"},               // upstream
		{"/a/b", "/.a.b"},            // upstream
		{"a/b/", "a.b./"},            // upstream
		{"a//b", "a./.b"},            // upstream
		{"//a/b", "/./.a.b"},         // upstream
		{"a.b/c", "a//b.c"},          // upstream
		{"/", "/./"},                 // upstream
		{"//", "/././"},              // upstream
		{"a", "a"},                   // upstream
		{"a/./b", "a.//.b"},          // upstream
		{"a..b", "a////b"},           // upstream
		{"a/b/c/d", "a.b.c.d"},       // upstream
		{"$SYS/x", "$SYS.x"},         // upstream
		{"a/$x", "a.$x"},             // upstream
		{".", "//"},                  // upstream
		{"a/./", "a.//./"},           // upstream
		{"x/é/y", "x.é.y"},           // upstream
		{"$share/g/x", "$share.g.x"}, // upstream
		{"a/\u00a0/b", "a.\u00a0.b"}, // upstream
		{"a*b/c>", "a*b.c>"},
	}
	for _, tt := range tests {
		got, err := AppendSubject([]byte("pre:"), []byte(tt.topic))
		if err != nil || string(got) != "pre:"+tt.subject {
			t.Errorf("AppendSubject(%q) = %q, %v; want %q", tt.topic, got, err, tt.subject)
		}
	}
	bad := []string{
		"",
		"a b",   // upstream: refused
		"a/\tb", // upstream: refused
		"a\rb", "a\nb", "a\x00b", "a\x1f", "a\x7f",
		"a/+", "a/#", "+", // wildcards are no topic names
		"a/*/b", "a/>/b", "*", ">", // upstream maps these to wildcard subjects; natsd refuses them
	}
	for _, tp := range bad {
		if got, err := AppendSubject(nil, []byte(tp)); !errors.Is(err, ErrInvalidTopic) || len(got) != 0 {
			t.Errorf("AppendSubject(%q) = %q, %v; want ErrInvalidTopic", tp, got, err)
		}
	}
}

func TestAppendTopic(t *testing.T) {
	tests := []struct{ subject, topic string }{
		{"foo", "foo"},            // upstream
		{"foo.bar", "foo/bar"},    // upstream
		{"/.foo", "/foo"},         // upstream
		{"foo./", "foo/"},         // upstream
		{"foo./.bar", "foo//bar"}, // upstream
		{"a//b", "a.b"},           // upstream
		{"/./.a", "//a"},          // upstream
		{"a/b", "ab"},             // upstream
		{"a///b", "a.b"},          // upstream
		{"/", ""},                 // upstream
		{"//", "."},               // upstream
		{"a./", "a/"},             // upstream
		{"x.y.z", "x/y/z"},        // upstream
		{"a.//.b", "a/./b"},       // upstream
		{"///", "."},              // upstream
		{"a/.b", "a/b"},           // upstream
		{"a./b", "a/b"},           // upstream
	}
	for _, tt := range tests {
		if got := AppendTopic([]byte("pre:"), []byte(tt.subject)); string(got) != "pre:"+tt.topic {
			t.Errorf("AppendTopic(%q) = %q, want %q", tt.subject, got, tt.topic)
		}
	}
}

func TestFilterSubjects(t *testing.T) {
	tests := []struct {
		filter   string
		subjects []string
	}{
		{"#", []string{">"}},
		{"foo/#", []string{"foo", "foo.>"}},
		{"foo/+", []string{"foo.*"}},
		{"+/bar", []string{"*.bar"}},
		{"/#", []string{"/", "/.>"}},
		{"+", []string{"*"}},
		{"+/+/#", []string{"*.*", "*.*.>"}},
		{"a.b/+", []string{"a//b.*"}},
		{"a//b", []string{"a./.b"}},
		{"+/", []string{"*./"}},
		{"a/b", []string{"a.b"}},
	}
	for _, tt := range tests {
		got, err := FilterSubjects(tt.filter)
		if err != nil || !reflect.DeepEqual(got, tt.subjects) {
			t.Errorf("FilterSubjects(%q) = %q, %v; want %q", tt.filter, got, err, tt.subjects)
		}
	}
	for _, f := range []string{"", "a#", "a/#/b", "#/", "a+", "+a", "a b", "a\tb", "a/*", ">", "a/>/#", "\x7f"} {
		if got, err := FilterSubjects(f); !errors.Is(err, ErrInvalidFilter) || got != nil {
			t.Errorf("FilterSubjects(%q) = %q, %v; want ErrInvalidFilter", f, got, err)
		}
	}
}

// TestFilterDeliveries checks the filters against the deliveries observed
// on nats-server: a NATS publish on each subject reached the MQTT
// subscriptions listed, and no other of these.
func TestFilterDeliveries(t *testing.T) {
	filters := []string{"#", "foo/#", "foo/+", "+/bar", "/#", "+"}
	observed := map[string][]string{
		"foo":       {"#", "foo/#", "+"},
		"foo.bar":   {"#", "foo/#", "foo/+", "+/bar"},
		"bar":       {"#", "+"},
		"/.foo":     {"#", "/#"},
		"foo./":     {"#", "foo/#", "foo/+"},
		"foo./.bar": {"#", "foo/#"},
		"a//b":      {"#", "+"},
		"/./.a":     {"#", "/#"},
		"a/b":       {"#", "+"},
		"/":         {"#", "/#", "+"},
		"//":        {"#", "+"},
		"a./":       {"#"},
		"x.y.z":     {"#"},
		"a///b":     {"#", "+"},
		"a.//.b":    {"#"},
		"///":       {"#", "+"},
		"a/.b":      {"#"},
		"a./b":      {"#"},
	}
	for subject, want := range observed {
		var got []string
		for _, f := range filters {
			subs, err := FilterSubjects(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range subs {
				if natsMatch(s, subject) {
					got = append(got, f)
					break
				}
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("subject %q reached %q, upstream %q", subject, got, want)
		}
	}
}

// natsMatch reports whether a NATS subject matches a subscription subject.
func natsMatch(sub, subject string) bool {
	st, tt := strings.Split(sub, "."), strings.Split(subject, ".")
	for i, s := range st {
		if s == ">" {
			return len(tt) > i
		}
		if i >= len(tt) || s != "*" && s != tt[i] {
			return false
		}
	}
	return len(st) == len(tt)
}

// mqttMatch reports whether an MQTT topic name matches a filter by levels.
func mqttMatch(filter, topic string) bool {
	fl, tl := strings.Split(filter, "/"), strings.Split(topic, "/")
	for i, f := range fl {
		if f == "#" {
			return true
		}
		if i >= len(tl) || f != "+" && f != tl[i] {
			return false
		}
	}
	return len(fl) == len(tl)
}

func TestAllocs(t *testing.T) {
	topic := []byte("sensors/cold-1.a/temp")
	dst := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { dst, _ = AppendSubject(dst[:0], topic) }); n != 0 {
		t.Errorf("AppendSubject: %v allocs", n)
	}
	subj := []byte("sensors.cold-1//a.temp")
	if n := testing.AllocsPerRun(100, func() { dst = AppendTopic(dst[:0], subj) }); n != 0 {
		t.Errorf("AppendTopic: %v allocs", n)
	}
}
