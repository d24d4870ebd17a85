package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// binary builds mkpasswd once per test run.
func binary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mkpasswd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type result struct {
	stdout, stderr string
	code           int
}

func runBin(t *testing.T, bin, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

var (
	generated = regexp.MustCompile(`^pass: (.{22})\nbcrypt hash: (\$2a\$\d\d\$\S{53})\n$`)
	prompted  = regexp.MustCompile(`^Enter Password: \nReenter Password: \nbcrypt hash: (\$2a\$\d\d\$\S{53})\n$`)
)

func checkHash(t *testing.T, hash, password string, cost int) {
	t.Helper()
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)); err != nil {
		t.Errorf("hash %s does not match %q: %v", hash, password, err)
	}
	if c, err := bcrypt.Cost([]byte(hash)); err != nil || c != cost {
		t.Errorf("hash cost %d (%v), want %d", c, err, cost)
	}
}

func TestMkpasswd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := binary(t)

	t.Run("generate default cost", func(t *testing.T) {
		r := runBin(t, bin, "")
		m := generated.FindStringSubmatch(r.stdout)
		if r.code != 0 || m == nil {
			t.Fatalf("exit %d, output %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		checkHash(t, m[2], m[1], defaultCost)
		for _, c := range m[1] {
			if !strings.ContainsRune(passwordAlphabet, c) {
				t.Errorf("password %q has %q, outside the alphabet", m[1], c)
			}
		}
	})
	t.Run("generate -c and -cost", func(t *testing.T) {
		seen := map[string]bool{}
		for _, args := range [][]string{{"-c", "4"}, {"-cost", "5"}, {"-c=4"}} {
			r := runBin(t, bin, "", args...)
			m := generated.FindStringSubmatch(r.stdout)
			if r.code != 0 || m == nil {
				t.Fatalf("%v: exit %d, output %q", args, r.code, r.stdout)
			}
			cost := 4
			if args[0] == "-cost" {
				cost = 5
			}
			checkHash(t, m[2], m[1], cost)
			if seen[m[1]] {
				t.Errorf("password %q generated twice", m[1])
			}
			seen[m[1]] = true
		}
	})
	t.Run("-p from a pipe", func(t *testing.T) {
		for _, in := range []string{"hunter2\nhunter2\n", "hunter2\r\nhunter2", "hunter2\nhunter2\nignored\n"} {
			r := runBin(t, bin, in, "-p", "-c", "4")
			m := prompted.FindStringSubmatch(r.stdout)
			if r.code != 0 || m == nil {
				t.Fatalf("input %q: exit %d, output %q, stderr %q", in, r.code, r.stdout, r.stderr)
			}
			checkHash(t, m[1], "hunter2", 4)
		}
	})
	t.Run("-p mismatch", func(t *testing.T) {
		r := runBin(t, bin, "one\ntwo\n", "-p", "-c", "4")
		if r.code != 1 || r.stderr != "Error, passwords do not match\n" || strings.Contains(r.stdout, "bcrypt hash") {
			t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("-p no input", func(t *testing.T) {
		if r := runBin(t, bin, "", "-p", "-c", "4"); r.code != 1 || strings.Contains(r.stdout, "bcrypt hash") {
			t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("bad flags", func(t *testing.T) {
		for _, args := range [][]string{{"-c", "3"}, {"-c", "32"}, {"-x"}, {"extra"}, {"-c", "eleven"}} {
			if r := runBin(t, bin, "", args...); r.code != 2 || r.stdout != "" {
				t.Errorf("%v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
			}
		}
	})
}

func TestGenPassword(t *testing.T) {
	counts := map[rune]int{}
	for range 200 {
		p := genPassword()
		if len(p) != passwordLength {
			t.Fatalf("length %d", len(p))
		}
		for _, c := range p {
			counts[c]++
		}
	}
	// 4400 draws over 72 symbols: every symbol shows up.
	if len(counts) != len(passwordAlphabet) {
		t.Fatalf("%d distinct characters, want %d", len(counts), len(passwordAlphabet))
	}
}
