package server_test

import (
	"testing"

	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// The fake link kind, under each kind's forwarding policy, passes the
// link conformance suite: the suite's own reference.
func TestLinkConformanceFake(t *testing.T) {
	for _, kind := range []server.ConnKind{server.ConnRoute, server.ConnGateway, server.ConnLeaf} {
		t.Run(kind.String(), func(t *testing.T) {
			servertest.RunLinkConformance(t, kind, func(tb testing.TB, a, b *server.Server) {
				servertest.ConnectFake(tb, kind, a, b)
			})
		})
	}
}
