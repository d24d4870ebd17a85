package config_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"natsd.dev/server/config"
	"natsd.dev/server/servertest"
)

// TestDocsKeyListsCoverCore checks that every key the core refuses as not
// supported yet, or accepts with a warning and ignores, is in the
// matching list of docs/configuration.md. The command's
// TestDocsKeyListsMatchParser checks the other way round.
func TestDocsKeyListsCoverCore(t *testing.T) {
	lists := servertest.DocKeyLists(t, "../../docs/configuration.md")
	for _, tc := range []struct {
		kind, scope string
		keys        []string
	}{
		{servertest.DocRefused, "top level", config.CoreUnsupportedKeys},
		{servertest.DocIgnored, "top level", config.CoreIgnoredKeys},
		{servertest.DocRefused, "accounts", config.AccountUnsupportedKeys},
		{servertest.DocRefused, "tls {}", config.TLSUnsupportedKeys},
		{servertest.DocRefused, "exports", config.ExportUnsupportedKeys},
	} {
		require.NotEmpty(t, tc.keys)
		doc := lists[[2]string{tc.kind, tc.scope}]
		for _, k := range tc.keys {
			require.Contains(t, doc, k, "%s (%s) in docs/configuration.md", tc.kind, tc.scope)
		}
	}
}
