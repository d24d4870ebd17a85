package route_test

import (
	"net/url"
	"sync"
	"testing"

	"natsd.dev/cluster/route"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// Routes pass the link conformance suite: connect(a, b) makes b join a's
// cluster (starting a's cluster listener first when a has none).
func TestLinkConformance(t *testing.T) {
	servertest.RunLinkConformance(t, server.ConnRoute, routeConnector())
}

func routeConnector() servertest.LinkConnector {
	var mu sync.Mutex
	clusters := make(map[*server.Server]*route.Cluster)
	start := func(tb testing.TB, s *server.Server, routes ...*url.URL) *route.Cluster {
		tb.Helper()
		mu.Lock()
		defer mu.Unlock()
		if c := clusters[s]; c != nil {
			return c
		}
		c, err := route.Start(s, &route.Options{Name: "conformance", Host: "127.0.0.1", Routes: routes})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(c.Close)
		clusters[s] = c
		return c
	}
	return func(tb testing.TB, a, b *server.Server) {
		ca := start(tb, a)
		seed := &url.URL{Scheme: "nats-route", Host: ca.Addr().String()}
		start(tb, b, seed)
		servertest.WaitUntil(tb, "the route between the servers", func() bool {
			mu.Lock()
			cb := clusters[b]
			mu.Unlock()
			return ca.NumRoutes() > 0 && cb.NumRoutes() > 0
		})
	}
}
