package leaf_test

import (
	"net/url"
	"sync"
	"testing"

	"natsd.dev/cluster/leaf"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// Leaf nodes pass the link conformance suite: connect(a, b) makes b a
// leaf node of a (a gets a listener, b a remote to it).
func TestLinkConformance(t *testing.T) {
	servertest.RunLinkConformance(t, server.ConnLeaf, leafConnector())
}

func leafConnector() servertest.LinkConnector {
	var mu sync.Mutex
	hubs := make(map[*server.Server]*leaf.Leaf)
	return func(tb testing.TB, a, b *server.Server) {
		tb.Helper()
		mu.Lock()
		hub := hubs[a]
		if hub == nil {
			var err error
			hub, err = leaf.Start(a, &leaf.Options{Host: "127.0.0.1", Port: leaf.RandomPort})
			if err != nil {
				mu.Unlock()
				tb.Fatal(err)
			}
			tb.Cleanup(hub.Close)
			hubs[a] = hub
		}
		mu.Unlock()
		before := hub.NumConnections()
		u := &url.URL{Scheme: "nats-leaf", Host: hub.Addr().String()}
		lf, err := leaf.Start(b, &leaf.Options{Remotes: []*leaf.Remote{{URLs: []*url.URL{u}}}})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(lf.Close)
		servertest.WaitUntil(tb, "the leaf node connection", func() bool {
			return hub.NumConnections() > before && lf.NumConnections() > 0
		})
	}
}
