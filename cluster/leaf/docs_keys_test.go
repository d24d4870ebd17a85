package leaf

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// leafListRE finds a list of refused leaf node keys in
// docs/configuration.md: its scope, then the keys up to the end of the
// paragraph. (The lists do not use servertest.DocKeyLists' phrase until
// the command parses leafnodes {} with this package: the command's test
// holds those lists against its parser.)
var leafListRE = regexp.MustCompile(`(?m)^Leaf node keys refused with "not supported yet" \(([^)]+)\):(.*\n(?:.+\n)*)`)

// TestDocsKeyListsCoverLeafnodes checks that every leafnodes {} key
// refused as not supported yet is listed in docs/configuration.md, and
// every key listed is refused.
func TestDocsKeyListsCoverLeafnodes(t *testing.T) {
	b, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	lists := map[string]map[string]bool{}
	for _, m := range leafListRE.FindAllStringSubmatch(string(b), -1) {
		keys := map[string]bool{}
		text := m[2]
		if i := strings.Index(text, ". "); i >= 0 {
			text = text[:i]
		}
		for _, k := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(text, -1) {
			keys[k[1]] = true
		}
		lists[m[1]] = keys
	}
	for scope, keys := range map[string]map[string]bool{
		"leafnodes {}":                unsupportedKeys,
		"leafnodes { remotes }":       unsupportedRemoteKeys,
		"leafnodes { authorization }": unsupportedAuthKeys,
	} {
		doc, ok := lists[scope]
		if !ok {
			t.Errorf("docs/configuration.md has no list for %s", scope)
			continue
		}
		for k := range keys {
			if !doc[k] {
				t.Errorf("%s: %s is refused but not listed in docs/configuration.md", scope, k)
			}
		}
		for k := range doc {
			if !keys[k] {
				t.Errorf("%s: %s is listed in docs/configuration.md but not refused", scope, k)
			}
		}
	}
}
