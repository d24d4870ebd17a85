package main

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"natsd.dev/confparse"
	"natsd.dev/server/config"
	"natsd.dev/server/servertest"
)

// docsConfiguration is the configuration reference whose key lists the
// tests below hold against the parser.
const docsConfiguration = "../../docs/configuration.md"

// keyHole marks where a template of docScopes puts the key under test,
// at the start of its own line.
const keyHole = "@KEY@"

// docScopes are the scopes of the reference's key lists, each with a
// configuration that puts a key there (at keyHole); @CERT@ and @PRIV@
// stand for a certificate and its key, @DIR@ for a directory.
var docScopes = map[string]string{
	"top level":        "@KEY@: 1\n",
	"accounts":         "accounts {\n A: {\n@KEY@: 1\n }\n}\n",
	"exports":          "accounts {\n A: {\n exports: [ {\n stream: \"x.>\"\n@KEY@: 1\n } ]\n }\n}\n",
	"tls {}":           "tls {\n cert_file: \"@CERT@\"\n key_file: \"@PRIV@\"\n@KEY@: true\n}\n",
	"websocket {}":     "websocket {\n port: -1\n no_tls: true\n@KEY@: 1\n}\n",
	"websocket tls {}": "websocket {\n port: -1\n tls {\n cert_file: \"@CERT@\"\n key_file: \"@PRIV@\"\n@KEY@: true\n }\n}\n",
	"cluster {}":       "cluster {\n port: -1\n@KEY@: 1\n}\n",
	"cluster tls {}":   "cluster {\n port: -1\n tls {\n cert_file: \"@CERT@\"\n key_file: \"@PRIV@\"\n@KEY@: true\n }\n}\n",
	"jetstream {}":     "jetstream {\n store_dir: \"@DIR@\"\n@KEY@: \"x\"\n}\n",
	"gateway {}":       "gateway {\n name: a\n port: -1\n@KEY@: 1\n}\n",
}

// noRefusedKeys are the scopes of docScopes whose every upstream key is
// supported: the reference has no "not supported yet" list for them, and
// the test still asks them about unknown keys.
var noRefusedKeys = map[string]bool{"gateway {}": true}

// docKeyValues are the values of keys whose scope's placeholder value is
// out of their range.
var docKeyValues = map[string]string{"max_concurrent_io": "4"}

// docKeyAnswer parses the configuration of scope with key in it and
// returns the errors and warnings reported on key's line.
func docKeyAnswer(t *testing.T, files servertest.Files, scope, key string) (errs, warnings []*confparse.Error) {
	t.Helper()
	tmpl, ok := docScopes[scope]
	require.True(t, ok, "docs/configuration.md lists keys of scope %q, which this test does not know", scope)
	dir := t.TempDir()
	text := strings.NewReplacer("@CERT@", files.Cert, "@PRIV@", files.Key, "@DIR@", dir).Replace(tmpl)
	line := strings.Count(text[:strings.Index(text, keyHole)], "\n") + 1
	text = strings.Replace(text, keyHole, key, 1)
	if v, ok := docKeyValues[key]; ok {
		lines := strings.Split(text, "\n")
		lines[line-1] = key + ": " + v
		text = strings.Join(lines, "\n")
	}
	path := writeFile(t, filepath.Join(dir, "k.conf"), text)
	_, warns, err := parseConfigFile(path)
	var list confparse.ErrorList
	if err != nil {
		require.ErrorAs(t, err, &list, "%s", text)
	}
	onLine := func(l confparse.ErrorList) (out []*confparse.Error) {
		for _, e := range l {
			if e.Pos.Line == line {
				out = append(out, e)
			}
		}
		return out
	}
	return onLine(list), onLine(warns)
}

// TestDocsKeyListsMatchParser holds every key list of
// docs/configuration.md against the parser: each key the reference
// refuses with "not supported yet" is refused so (ErrNotSupported), each
// key it says is ignored gets a warning and no error, and in every scope
// a key nobody knows is an unknown field. TestDocsKeyListsCoverCode
// checks the other way round.
func TestDocsKeyListsMatchParser(t *testing.T) {
	files := servertest.NewPKI(t).Files()
	lists := servertest.DocKeyLists(t, docsConfiguration)
	for scope := range docScopes {
		if noRefusedKeys[scope] {
			require.NotContains(t, lists, [2]string{servertest.DocRefused, scope}, "a list for a scope that refuses nothing")
			continue
		}
		require.Contains(t, lists, [2]string{servertest.DocRefused, scope}, "docs/configuration.md lost a list")
	}
	for id, keys := range lists {
		kind, scope := id[0], id[1]
		for _, key := range keys {
			errs, warns := docKeyAnswer(t, files, scope, key)
			switch kind {
			case servertest.DocRefused:
				require.True(t, slices.ContainsFunc(errs, func(e *confparse.Error) bool {
					return errors.Is(e, config.ErrNotSupported) && strings.Contains(e.Msg, key)
				}), "%s (%s) %s: the parser answers %v", kind, scope, key, errs)
			case servertest.DocIgnored:
				require.Empty(t, errs, "%s (%s) %s", kind, scope, key)
				require.True(t, slices.ContainsFunc(warns, func(e *confparse.Error) bool { return strings.Contains(e.Msg, key) }),
					"%s (%s) %s: no warning in %v", kind, scope, key, warns)
			}
		}
	}
	for scope := range docScopes {
		errs, _ := docKeyAnswer(t, files, scope, "no_such_key")
		require.True(t, slices.ContainsFunc(errs, func(e *confparse.Error) bool {
			return errors.Is(e, config.ErrUnknownField) && strings.Contains(e.Msg, `unknown field "no_such_key"`)
		}), "%s: %v", scope, errs)
	}
}

// TestDocsKeyListsCoverCode checks that the command's own lists of
// refused and ignored keys are in docs/configuration.md; the config and
// cluster packages check theirs the same way.
func TestDocsKeyListsCoverCode(t *testing.T) {
	lists := servertest.DocKeyLists(t, docsConfiguration)
	for _, tc := range []struct {
		kind, scope, keys string
	}{
		{servertest.DocRefused, "top level", notYetKeys},
		{servertest.DocIgnored, "top level", ignoredKeys},
		{servertest.DocRefused, "accounts", notYetAccountKeys},
	} {
		doc := lists[[2]string{tc.kind, tc.scope}]
		for _, k := range strings.Fields(tc.keys) {
			require.Contains(t, doc, k, "%s (%s) in docs/configuration.md", tc.kind, tc.scope)
		}
	}
}

// TestDocsKeyListsAreComplete asks the parser about every key-like word
// of docs/configuration.md and docs/compatibility.md in every scope: one
// the parser refuses as not supported yet must be in that scope's refused
// list, so a list cannot forget a key the code refuses (for the blocks
// whose refused keys are cases of a switch rather than a list the code
// exports, such as jetstream {} and websocket {}).
func TestDocsKeyListsAreComplete(t *testing.T) {
	if testing.Short() {
		t.Skip("parses a few thousand small files")
	}
	files := servertest.NewPKI(t).Files()
	lists := servertest.DocKeyLists(t, docsConfiguration)
	words := map[string]bool{}
	for _, doc := range []string{docsConfiguration, "../../docs/compatibility.md"} {
		b, err := os.ReadFile(doc)
		require.NoError(t, err)
		for _, m := range regexp.MustCompile("`([a-z][a-z_]*)`").FindAllStringSubmatch(string(b), -1) {
			words[m[1]] = true
		}
	}
	for scope := range docScopes {
		refused := lists[[2]string{servertest.DocRefused, scope}]
		if strings.HasSuffix(scope, " tls {}") {
			// A block's tls {} refuses what the top-level one does too.
			refused = append(slices.Clone(refused), lists[[2]string{servertest.DocRefused, "tls {}"}]...)
		}
		for w := range words {
			errs, _ := docKeyAnswer(t, files, scope, w)
			if slices.ContainsFunc(errs, func(e *confparse.Error) bool { return errors.Is(e, config.ErrNotSupported) }) && !slices.Contains(refused, w) {
				t.Errorf("the parser refuses %s in %s as not supported yet; docs/configuration.md's list does not say so", w, scope)
			}
		}
	}
}
