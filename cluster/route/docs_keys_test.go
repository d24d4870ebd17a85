package route_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"natsd.dev/cluster/route"
	"natsd.dev/server/servertest"
)

// TestDocsKeyListsCoverCluster checks that every cluster {} key refused
// as not supported yet is listed in docs/configuration.md.
func TestDocsKeyListsCoverCluster(t *testing.T) {
	doc := servertest.DocKeyLists(t, "../../docs/configuration.md")[[2]string{servertest.DocRefused, "cluster {}"}]
	require.NotEmpty(t, route.UnsupportedKeys)
	for _, k := range route.UnsupportedKeys {
		require.Contains(t, doc, k)
	}
}
