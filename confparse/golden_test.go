package confparse_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"natsd.dev/confparse"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden files")

// goldenEnv is the environment the golden configurations see.
var goldenEnv = map[string]string{
	"NATS_TOKEN":    "s3cr3t",
	"MAX_CONN":      "100",
	"MEM_LIMIT":     "2GB",
	"ROUTES":        "[nats://r1:6222, nats://r2:6222]",
	"CLUSTER_NAME":  "east",
	"SELF":          "$SELF",
	"PING":          "$PONG",
	"PONG":          "$PING",
	"GREETING":      "hello world",
	"TLS_VERIFY":    "true",
	"LEAF_USER_PWD": "'quoted pass'",
}

func goldenOptions(pedantic bool) confparse.Options {
	return confparse.Options{
		Pedantic: pedantic,
		Env:      func(k string) (string, bool) { v, ok := goldenEnv[k]; return v, ok },
	}
}

// TestGolden parses every testdata/*.conf and compares a dump of the tree
// (or of the error list) with testdata/*.golden. Files named pedantic_*
// are parsed in pedantic mode. Run with -update to rewrite the goldens.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.conf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".conf")
		t.Run(name, func(t *testing.T) {
			m, err := confparse.ParseFileWithOptions(file, goldenOptions(strings.HasPrefix(name, "pedantic_")))
			var got []byte
			if err != nil {
				var list confparse.ErrorList
				if !errors.As(err, &list) {
					t.Fatalf("not an ErrorList: %v", err)
				}
				got = dumpErrors(list)
			} else {
				got = dumpMap(file, m)
				// Every golden tree must also survive a Format round trip.
				m2, err := confparse.ParseWithOptions("", confparse.Format(m), goldenOptions(false))
				if err != nil {
					t.Fatalf("formatted tree does not parse: %v", err)
				}
				if a, b := fmt.Sprint(m.Interface()), fmt.Sprint(m2.Interface()); a != b {
					t.Fatalf("round trip differs:\n%s\n%s", a, b)
				}
			}
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the parse:\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}

func dumpErrors(list confparse.ErrorList) []byte {
	var b bytes.Buffer
	b.WriteString("ERRORS\n")
	for _, e := range list {
		kind := strings.TrimPrefix(e.Err.Error(), "confparse: ")
		fmt.Fprintf(&b, "%s: [%s] %s\n", e.Pos, kind, e.Msg)
	}
	return b.Bytes()
}

// dumpMap renders a tree one value per line with positions; positions in
// the top file show line:col only.
func dumpMap(file string, m *confparse.Map) []byte {
	var b bytes.Buffer
	dumpEntries(&b, file, m, 0)
	return b.Bytes()
}

func pos(file string, p confparse.Pos) string {
	if p.File == file {
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return p.String()
}

func dumpEntries(b *bytes.Buffer, file string, m *confparse.Map, depth int) {
	for _, e := range m.Entries {
		b.WriteString(strings.Repeat("  ", depth))
		fmt.Fprintf(b, "%s @%s", strconv.Quote(e.Key), pos(file, e.KeyPos))
		if e.UsedAsVariable {
			b.WriteString(" (used as variable)")
		}
		b.WriteString(" = ")
		dumpValue(b, file, e.Value, depth)
	}
}

func dumpValue(b *bytes.Buffer, file string, v *confparse.Value, depth int) {
	fmt.Fprintf(b, "%s ", v.Kind)
	switch v.Kind {
	case confparse.KindString:
		b.WriteString(strconv.Quote(v.Str))
	case confparse.KindInt:
		fmt.Fprint(b, v.Int)
	case confparse.KindFloat:
		fmt.Fprint(b, v.Float)
	case confparse.KindBool:
		fmt.Fprint(b, v.Bool)
	case confparse.KindTime:
		b.WriteString(v.Time().Format("2006-01-02T15:04:05Z07:00"))
	case confparse.KindMap:
		fmt.Fprintf(b, "(%d)", len(v.Map.Entries))
	case confparse.KindArray:
		fmt.Fprintf(b, "(%d)", len(v.Array))
	}
	fmt.Fprintf(b, " @%s", pos(file, v.Pos))
	if v.Var != "" {
		fmt.Fprintf(b, " from $%s", v.Var)
	}
	b.WriteByte('\n')
	switch v.Kind {
	case confparse.KindMap:
		dumpEntries(b, file, v.Map, depth+1)
	case confparse.KindArray:
		for _, e := range v.Array {
			b.WriteString(strings.Repeat("  ", depth+1))
			b.WriteString("- ")
			dumpValue(b, file, e, depth+1)
		}
	}
}
