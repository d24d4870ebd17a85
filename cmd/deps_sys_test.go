package cmd

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sysAllowed are the natsd packages the system services
// (natsd.dev/server/sys) may import: the server's public API, the
// monitoring documents it answers with and the permission types it
// reports. It proves that the in-process session seam
// suffices for an in-process service; the core never imports it.
var sysAllowed = []string{"natsd.dev/server", "natsd.dev/server/snapshot", "natsd.dev/auth"}

func TestSystemServicePackage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	dir, err := filepath.Abs(filepath.Join("..", "server"))
	if err != nil {
		t.Fatal(err)
	}
	list := func(args ...string) []string {
		t.Helper()
		cmd := exec.Command("go", append([]string{"list"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %v: %v", args, err)
		}
		return strings.Fields(string(out))
	}
	for _, imp := range list("-f", `{{join .Imports " "}}`, "natsd.dev/server/sys") {
		if strings.HasPrefix(imp, "natsd.dev/") && !slices.Contains(sysAllowed, imp) {
			t.Errorf("natsd.dev/server/sys imports %s; only %v", imp, sysAllowed)
		}
	}
	if slices.Contains(list("-deps", "natsd.dev/server"), "natsd.dev/server/sys") {
		t.Error("the core (natsd.dev/server) depends on natsd.dev/server/sys")
	}
}
