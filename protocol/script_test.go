package protocol_test

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"natsd.dev/protocol"
)

var update = flag.Bool("update", false, "rewrite testdata/script/*.golden")

// TestScripts runs the scripted sessions in testdata/script. A script
// holds settings ("role route", "max_control_line 16", "max_payload 4",
// "pinned ACC", "lnocu"), then "input" followed by Go-quoted strings that
// are concatenated into the input, and "# comments". The golden file lists
// the frames and the error (or "ok") that parsing produces, the same in
// one call and byte by byte. Run with -update to rewrite the golden files.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/script/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			cfg, in := readScript(t, file)
			frames, err := parseAll(cfg, in)
			var out bytes.Buffer
			for _, f := range frames {
				fmt.Fprintln(&out, f)
			}
			if err != nil {
				fmt.Fprintf(&out, "error: %s\n", errClass(err))
				fmt.Fprintf(&out, "client text: %q\n", protocol.ClientText(err))
			} else {
				fmt.Fprintln(&out, "ok")
			}
			bytewise := make([][]byte, len(in))
			for i := range in {
				bytewise[i] = in[i : i+1 : i+1]
			}
			frames2, err2 := parseAll(cfg, bytewise...)
			if strings.Join(frames2, "\n") != strings.Join(frames, "\n") || errClass(err2) != errClass(err) {
				t.Fatalf("byte by byte differs: %v %v", frames2, err2)
			}
			golden := strings.TrimSuffix(file, ".txt") + ".golden"
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("got:\n%s\nwant:\n%s", out.Bytes(), want)
			}
		})
	}
}

func readScript(t *testing.T, file string) (protocol.Parser, []byte) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cfg protocol.Parser
	var in []byte
	inInput := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if inInput {
			s, err := strconv.Unquote(line)
			if err != nil {
				t.Fatalf("%s:%d: %v", file, n, err)
			}
			in = append(in, s...)
			continue
		}
		key, val, _ := strings.Cut(line, " ")
		switch key {
		case "role":
			roles := map[string]protocol.Role{"client": protocol.RoleClient, "server": protocol.RoleServer, "route": protocol.RoleRoute, "leaf": protocol.RoleLeaf}
			r, ok := roles[val]
			if !ok {
				t.Fatalf("%s:%d: bad role %q", file, n, val)
			}
			cfg.Role = r
		case "max_control_line":
			cfg.MaxControlLine, err = strconv.Atoi(val)
		case "max_payload":
			cfg.MaxPayload, err = strconv.Atoi(val)
		case "pinned":
			cfg.PinnedAccount = []byte(val)
		case "lnocu":
			cfg.LeafUnsubOrigin = true
		case "input":
			inInput = true
		default:
			t.Fatalf("%s:%d: unknown setting %q", file, n, key)
		}
		if err != nil {
			t.Fatalf("%s:%d: %v", file, n, err)
		}
	}
	return cfg, in
}
