package cmd

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// allowedModules is the module table of ARCHITECTURE.md: the natsd modules
// each module may import (besides itself and the standard library). cmd is
// absent because it may import everything. Every module above the leaves
// may also import confparse, because each parses its own configuration
// block. Update this map together with the architecture document.
var allowedModules = map[string][]string{
	"protocol":  {},
	"sublist":   {},
	"confparse": {},
	"websocket": {"confparse"},
	"auth":      {"sublist", "confparse"},
	"server":    {"protocol", "sublist", "auth", "confparse"},
	"cluster":   {"server", "protocol", "sublist", "confparse", "websocket"},
	"jetstream": {"server", "sublist", "confparse"},
	"mqtt":      {"server", "jetstream", "websocket", "confparse", "sublist", "auth"},
	"monitor":   {"server", "confparse"},
}

// allowedExternal are the third-party module paths each module's
// non-test code may import. Tests of non-leaf modules may import any
// third-party package (testify, nats.go, ...); leaf modules none at all.
var allowedExternal = map[string][]string{
	"websocket": {"github.com/klauspost/compress"},
	"auth":      {"github.com/nats-io/nkeys", "github.com/nats-io/jwt/v2", "golang.org/x/crypto"},
	"cluster":   {"github.com/klauspost/compress", "github.com/nats-io/nkeys", "github.com/nats-io/jwt/v2"},
	"jetstream": {"github.com/klauspost/compress", "github.com/hashicorp/raft", "github.com/hashicorp/go-msgpack/v2"},
}

var leafModules = []string{"protocol", "sublist", "confparse"}

// edge is one import: package from (in module fromMod) imports to.
type edge struct {
	fromMod, from, to string
	test              bool // from is a test package or a test variant
}

// moduleOf returns the natsd module of an import path, "" for the standard
// library and "ext" for third-party packages.
func moduleOf(path string) string {
	if rest, ok := strings.CutPrefix(path, "natsd.dev/"); ok {
		mod, _, _ := strings.Cut(rest, "/")
		return strings.TrimSuffix(mod, "_test") // natsd.dev/server_test is server's
	}
	first, _, _ := strings.Cut(path, "/")
	if strings.Contains(first, ".") {
		return "ext"
	}
	return ""
}

// checkEdges returns a description of every edge the tables forbid.
func checkEdges(edges []edge, modules map[string][]string, external map[string][]string) []string {
	var bad []string
	for _, e := range edges {
		if e.fromMod == "cmd" {
			continue
		}
		switch toMod := moduleOf(e.to); toMod {
		case "", e.fromMod:
		case "ext":
			if slices.Contains(leafModules, e.fromMod) {
				bad = append(bad, fmt.Sprintf("%s: leaf module imports %s", e.from, e.to))
				continue
			}
			// A test kit (server/servertest) is test code that other
			// modules' tests import: it may use test-only packages.
			if e.test || strings.HasSuffix(e.from, "/servertest") {
				continue
			}
			ok := slices.ContainsFunc(external[e.fromMod], func(prefix string) bool {
				return e.to == prefix || strings.HasPrefix(e.to, prefix+"/")
			})
			if !ok {
				bad = append(bad, fmt.Sprintf("%s imports %s, not in the allowed third-party list of %s", e.from, e.to, e.fromMod))
			}
		default:
			allowed, known := modules[e.fromMod]
			if !known {
				bad = append(bad, fmt.Sprintf("%s: module %s is not in the dependency table", e.from, e.fromMod))
			} else if !slices.Contains(allowed, toMod) {
				bad = append(bad, fmt.Sprintf("%s imports %s: module %s may not import %s", e.from, e.to, e.fromMod, toMod))
			} else if strings.Contains(e.to+"/", "/internal/") {
				bad = append(bad, fmt.Sprintf("%s imports %s: internal packages stay inside their module", e.from, e.to))
			}
		}
	}
	return bad
}

// linkKinds are the cluster module's packages per link kind (cluster/route
// now; gateway and leaf later). A kind never imports another, and the
// shared dial/accept layer (cluster/internal/...) imports none: kinds meet
// only through the server's link seam. The cluster root package may
// import them (it keeps the former single-package API).
var linkKinds = []string{"route", "gateway", "leaf"}

// linkKindOf returns the link kind of a cluster package path, "" for
// another package.
func linkKindOf(path string) string {
	rest, ok := strings.CutPrefix(path, "natsd.dev/cluster/")
	if !ok {
		return ""
	}
	kind, _, _ := strings.Cut(rest, "/")
	kind = strings.TrimSuffix(kind, "_test")
	if slices.Contains(linkKinds, kind) {
		return kind
	}
	return ""
}

// checkClusterPackages returns a description of every edge inside the
// cluster module that the link-kind rule forbids.
func checkClusterPackages(edges []edge) []string {
	var bad []string
	for _, e := range edges {
		to := linkKindOf(e.to)
		if to == "" {
			continue
		}
		from := linkKindOf(e.from)
		switch {
		case from != "" && from != to:
			bad = append(bad, fmt.Sprintf("%s imports %s: a link kind imports no other kind", e.from, e.to))
		case strings.HasPrefix(e.from, "natsd.dev/cluster/internal/"):
			bad = append(bad, fmt.Sprintf("%s imports %s: the shared link layer imports no kind", e.from, e.to))
		}
	}
	return bad
}

// workspaceModules returns the directories listed in go.work's use block.
func workspaceModules(t *testing.T, root string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "go.work"))
	if err != nil {
		t.Fatal(err)
	}
	var mods []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if dir, ok := strings.CutPrefix(line, "./"); ok {
			mods = append(mods, dir)
		} else if dir, ok := strings.CutPrefix(line, "use ./"); ok {
			mods = append(mods, dir)
		}
	}
	return mods
}

// stripVariant drops the " [pkg.test]" suffix of test variants.
func stripVariant(p string) (string, bool) {
	base, _, variant := strings.Cut(p, " [")
	return base, variant
}

// isTestKit reports whether path is a test kit: a package of a module
// that only tests import (servertest, storetest), named "...test" as
// net/http/httptest. Its imports count as test imports.
func isTestKit(path string) bool {
	last := path[strings.LastIndexByte(path, '/')+1:]
	return strings.HasSuffix(last, "test") && !strings.HasSuffix(last, "_test") && strings.Contains(path, "/")
}

// moduleEdges lists the imports of every package of module mod (with its
// tests) and of the natsd packages they depend on.
func moduleEdges(t *testing.T, dir string) []edge {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-deps", "-test", "-f", "{{.ImportPath}}\t{{join .Imports \",\"}}", "./...")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list in %s: %v", dir, err)
	}
	var edges []edge
	for line := range strings.Lines(string(out)) {
		from, imports, _ := strings.Cut(strings.TrimSpace(line), "\t")
		from, variant := stripVariant(from)
		mod := moduleOf(from)
		if mod == "" || mod == "ext" || strings.HasSuffix(from, ".test") {
			continue
		}
		test := variant || strings.HasSuffix(from, "_test") || isTestKit(from)
		for imp := range strings.SplitSeq(imports, ",") { // a test variant is "path [pkg.test]"
			if imp == "" {
				continue
			}
			to, _ := stripVariant(imp)
			edges = append(edges, edge{fromMod: mod, from: from, to: to, test: test})
		}
	}
	return edges
}

func TestModuleDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the workspace")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, mod := range workspaceModules(t, root) {
		dir := filepath.Join(root, mod)
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
			continue // not created yet
		}
		t.Run(mod, func(t *testing.T) {
			edges := moduleEdges(t, dir)
			for _, v := range checkEdges(edges, allowedModules, allowedExternal) {
				t.Error(v)
			}
			if mod == "cluster" {
				for _, v := range checkClusterPackages(edges) {
					t.Error(v)
				}
			}
		})
	}
}

func TestLeafModulesRequireNothing(t *testing.T) {
	for _, mod := range leafModules {
		data, err := os.ReadFile(filepath.Join("..", mod, "go.mod"))
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(data)) {
			if strings.HasPrefix(strings.TrimSpace(line), "require") {
				t.Errorf("%s/go.mod has a require; leaf modules depend on nothing", mod)
			}
		}
	}
}

func TestIsTestKit(t *testing.T) {
	for path, want := range map[string]bool{
		"natsd.dev/server/servertest":         true,
		"natsd.dev/jetstream/store/storetest": true,
		"natsd.dev/server":                    false,
		"natsd.dev/server_test":               false,
		"natsd.dev/server/snapshot":           false,
		"natsd.dev/server/config":             false,
		"natsd.dev/server/internal/mondoc":    false,
		"natsd.dev/cmd/browsertest":           true,
	} {
		if got := isTestKit(path); got != want {
			t.Errorf("isTestKit(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestCheckEdgesCatchesViolations(t *testing.T) {
	tests := []struct {
		name string
		e    edge
		bad  bool
	}{
		{"allowed sibling", edge{fromMod: "server", from: "natsd.dev/server", to: "natsd.dev/sublist"}, false},
		{"subpackage of sibling", edge{fromMod: "server", from: "natsd.dev/server/logger", to: "natsd.dev/protocol/x"}, false},
		{"own module", edge{fromMod: "jetstream", from: "natsd.dev/jetstream", to: "natsd.dev/jetstream/store"}, false},
		{"stdlib", edge{fromMod: "sublist", from: "natsd.dev/sublist", to: "sync/atomic"}, false},
		{"reaching up", edge{fromMod: "sublist", from: "natsd.dev/sublist", to: "natsd.dev/server"}, true},
		{"server to websocket", edge{fromMod: "server", from: "natsd.dev/server", to: "natsd.dev/websocket"}, true},
		{"server config to websocket", edge{fromMod: "server", from: "natsd.dev/server/config", to: "natsd.dev/websocket"}, true},
		{"server internal to sublist", edge{fromMod: "server", from: "natsd.dev/server/internal/mondoc", to: "natsd.dev/sublist"}, false},
		{"server internal to websocket", edge{fromMod: "server", from: "natsd.dev/server/internal/handshake", to: "natsd.dev/websocket"}, true},
		{"core to its internal packages", edge{fromMod: "server", from: "natsd.dev/server", to: "natsd.dev/server/internal/replies"}, false},
		{"another module to server internals", edge{fromMod: "monitor", from: "natsd.dev/monitor", to: "natsd.dev/server/internal/mondoc"}, true},
		{"server to jetstream", edge{fromMod: "server", from: "natsd.dev/server", to: "natsd.dev/jetstream"}, true},
		{"monitor to cluster", edge{fromMod: "monitor", from: "natsd.dev/monitor", to: "natsd.dev/cluster"}, true},
		{"monitor to jetstream", edge{fromMod: "monitor", from: "natsd.dev/monitor", to: "natsd.dev/jetstream/store"}, true},
		{"monitor to the snapshot shapes", edge{fromMod: "monitor", from: "natsd.dev/monitor", to: "natsd.dev/server/snapshot"}, false},
		{"leaf third party", edge{fromMod: "protocol", from: "natsd.dev/protocol", to: "github.com/x/y"}, true},
		{"leaf test third party", edge{fromMod: "confparse", from: "natsd.dev/confparse_test", to: "github.com/stretchr/testify/require", test: true}, true},
		{"allowed third party", edge{fromMod: "websocket", from: "natsd.dev/websocket", to: "github.com/klauspost/compress/flate"}, false},
		{"prefix is not a path", edge{fromMod: "websocket", from: "natsd.dev/websocket", to: "github.com/klauspost/compressor"}, true},
		{"unlisted third party", edge{fromMod: "server", from: "natsd.dev/server", to: "github.com/pkg/errors"}, true},
		{"test third party", edge{fromMod: "server", from: "natsd.dev/server_test", to: "github.com/nats-io/nats.go", test: true}, false},
		{"unknown module", edge{fromMod: "extras", from: "natsd.dev/extras", to: "natsd.dev/server"}, true},
		{"cmd imports anything", edge{fromMod: "cmd", from: "natsd.dev/cmd/nats-server", to: "natsd.dev/jetstream"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := checkEdges([]edge{tt.e}, allowedModules, allowedExternal)
			if (len(bad) > 0) != tt.bad {
				t.Errorf("violations %q, want violation: %v", bad, tt.bad)
			}
		})
	}
}

func TestCheckClusterPackagesCatchesViolations(t *testing.T) {
	tests := []struct {
		name string
		e    edge
		bad  bool
	}{
		{"kind to server", edge{fromMod: "cluster", from: "natsd.dev/cluster/route", to: "natsd.dev/server"}, false},
		{"kind to shared layer", edge{fromMod: "cluster", from: "natsd.dev/cluster/route", to: "natsd.dev/cluster/internal/linknet"}, false},
		{"root to kind", edge{fromMod: "cluster", from: "natsd.dev/cluster", to: "natsd.dev/cluster/route"}, false},
		{"kind's own tests", edge{fromMod: "cluster", from: "natsd.dev/cluster/route_test", to: "natsd.dev/cluster/route", test: true}, false},
		{"kind to kind", edge{fromMod: "cluster", from: "natsd.dev/cluster/leaf", to: "natsd.dev/cluster/route"}, true},
		{"kind's tests to kind", edge{fromMod: "cluster", from: "natsd.dev/cluster/gateway_test", to: "natsd.dev/cluster/route", test: true}, true},
		{"shared layer to kind", edge{fromMod: "cluster", from: "natsd.dev/cluster/internal/linknet", to: "natsd.dev/cluster/route"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := checkClusterPackages([]edge{tt.e})
			if (len(bad) > 0) != tt.bad {
				t.Errorf("violations %q, want violation: %v", bad, tt.bad)
			}
		})
	}
}
