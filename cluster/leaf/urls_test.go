package leaf_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"natsd.dev/cluster"
	"natsd.dev/cluster/leaf"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// hubPair is a hub cluster of two servers, each with a leaf node
// listener; the second's no_advertise as given.
func hubPair(t *testing.T, noAdvertise2 bool) (s1, s2 *server.Server, l1, l2 *leaf.Leaf, c1, c2 *cluster.Cluster) {
	t.Helper()
	s1, l1, _ = startHub(t, server.Options{}, leaf.Options{})
	s2, l2, _ = startHub(t, server.Options{}, leaf.Options{NoAdvertise: noAdvertise2})
	var err error
	c1, err = cluster.Start(s1, &cluster.Options{Name: "hub", Host: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c1.Close)
	c2, err = cluster.Start(s2, &cluster.Options{Name: "hub", Host: "127.0.0.1", Routes: []*url.URL{{Scheme: "nats-route", Host: c1.Addr().String()}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c2.Close)
	servertest.WaitUntil(t, "the route", func() bool { return c1.NumRoutes() > 0 && c2.NumRoutes() > 0 })
	return s1, s2, l1, l2, c1, c2
}

// leafInfoURLs dials a leaf node listener and returns the leafnode_urls
// of its first INFO.
func leafInfoURLs(t *testing.T, lf *leaf.Leaf) []string {
	t.Helper()
	nc, err := net.DialTimeout("tcp", lf.Addr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(nc).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		URLs []string `json:"leafnode_urls"`
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(strings.TrimSpace(line), "INFO ")), &info); err != nil {
		t.Fatal(err)
	}
	return info.URLs
}

// The INFO a hub sends its leaf nodes lists every server of its cluster
// that accepts leaf nodes (gossiped over the routes), but those with
// no_advertise.
func TestLeafNodeURLsGossiped(t *testing.T) {
	_, _, l1, l2, _, _ := hubPair(t, false)
	a1, a2 := l1.Addr().String(), l2.Addr().String()
	servertest.WaitUntil(t, "both URLs in each hub's INFO", func() bool {
		u1, u2 := leafInfoURLs(t, l1), leafInfoURLs(t, l2)
		return slices.Equal(u1, []string{a1, a2}) && slices.Equal(u2, []string{a2, a1})
	})

	_, _, n1, n2, _, _ := hubPair(t, true)
	b1, b2 := n1.Addr().String(), n2.Addr().String()
	// The no_advertise server lists its own URL only to its own leaf
	// nodes, and the other one's; the other never lists it.
	servertest.WaitUntil(t, "the advertised URL gossiped", func() bool {
		return slices.Equal(leafInfoURLs(t, n2), []string{b2, b1})
	})
	if u := leafInfoURLs(t, n1); !slices.Equal(u, []string{b1}) {
		t.Fatalf("the no_advertise server's URL was gossiped: %v", u)
	}
}

// A leaf node connected to one server of a hub cluster learns the
// other's URL and fails over to it when its hub goes away; its interest
// is restored there.
func TestLeafFailsOverToLearnedURL(t *testing.T) {
	s1, s2, l1, _, c1, _ := hubPair(t, false)
	// The leaf is configured with the first hub only.
	ls, spoke, logs := startLeaf(t, server.Options{}, remoteTo(l1, nil))
	waitConns(t, spoke, 1)
	lc := servertest.Connect(t, ls)
	onLeaf := syncSub(t, lc, "fo")
	w2 := servertest.WatchInterest(t, s2)
	w2.WaitFor(t, "fo", server.ConnRoute, true) // through the first hub
	// Wait until the leaf learned the second hub's URL: the first hub's
	// INFO lists it once the route gossiped it.
	servertest.WaitUntil(t, "the gossiped URL", func() bool { return len(leafInfoURLs(t, l1)) == 2 })

	c1.Close()
	l1.Close()
	_ = s1.Shutdown(context.Background())
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	})
	w2.WaitFor(t, "fo", server.ConnLeaf, true) // the leaf reconnected to s2
	if err := servertest.Connect(t, s2).Publish("fo", []byte("over")); err != nil {
		t.Fatal(err)
	}
	if m := nextMsg(t, onLeaf); string(m.Data) != "over" {
		t.Fatalf("leaf got %q", m.Data)
	}
}
