package monitor

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// unescapeLabel reverses the label value escaping of the exposition
// formats; ok is false on a dangling or unknown escape.
func unescapeLabel(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			if c == '"' || c == '\n' {
				return "", false // must have been escaped
			}
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(s) {
			return "", false
		}
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case '"':
			b.WriteByte('"')
		case 'n':
			b.WriteByte('\n')
		default:
			return "", false
		}
	}
	return b.String(), true
}

// FuzzLabelEscape: any label value survives encoding and decoding, in
// both formats, and never breaks the line structure.
func FuzzLabelEscape(f *testing.F) {
	for _, s := range []string{"", "plain", `a"b`, `back\slash`, "new\nline", `\n`, `"\"`, "ünï\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, om := range []bool{false, true} {
			e := &encoder{openMetrics: om}
			e.family(&family{name: "x", help: "h", typ: gauge, samples: []sample{{labels: []label{{"l", v}}, value: 1}}})
			out := string(e.finish())
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			want := 3
			if om {
				want = 4
			}
			if len(lines) != want {
				t.Fatalf("%d lines for %q:\n%s", len(lines), v, out)
			}
			line := lines[2]
			const pre = `x{l="`
			const post = `"} 1`
			if !strings.HasPrefix(line, pre) || !strings.HasSuffix(line, post) {
				t.Fatalf("bad sample line %q", line)
			}
			got, ok := unescapeLabel(line[len(pre) : len(line)-len(post)])
			if !ok || got != v {
				t.Fatalf("round trip of %q gave %q (ok %v)", v, got, ok)
			}
		}
	})
}

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {67108864, "67108864"}, {-3, "-3"}, {0.25, "0.25"}, {1e20, "1e+20"},
		{math.NaN(), "NaN"}, {math.Inf(1), "+Inf"}, {math.Inf(-1), "-Inf"},
	} {
		got := formatValue(tc.v)
		if got != tc.want {
			t.Errorf("formatValue(%v) = %q, want %q", tc.v, got, tc.want)
		}
		if f, err := strconv.ParseFloat(got, 64); err != nil || (f != tc.v && !math.IsNaN(tc.v)) {
			t.Errorf("%q does not parse back to %v", got, tc.v)
		}
	}
}

func TestHelpEscape(t *testing.T) {
	for _, om := range []bool{false, true} {
		e := &encoder{openMetrics: om}
		e.family(&family{name: "c", help: "a \\ b\n\"q\"", typ: counter, samples: []sample{{value: 2}}})
		out := string(e.finish())
		help := `# HELP c_total a \\ b\n"q"`
		typ, smp := "# TYPE c_total counter", "c_total 2"
		if om {
			help, typ = `# HELP c a \\ b\n\"q\"`, "# TYPE c counter"
		}
		for _, want := range []string{help, typ, smp} {
			if !strings.Contains(out, want+"\n") {
				t.Errorf("openMetrics=%v: missing %q in\n%s", om, want, out)
			}
		}
	}
}

func TestWantsOpenMetrics(t *testing.T) {
	for accept, want := range map[string]bool{
		"":                             false,
		"text/plain":                   false,
		"application/openmetrics-text": true,
		"text/plain;q=0.5, application/openmetrics-text; version=1.0.0": true,
		"Application/OpenMetrics-Text":                                  true,
	} {
		if got := wantsOpenMetrics(accept); got != want {
			t.Errorf("wantsOpenMetrics(%q) = %v", accept, got)
		}
	}
}
