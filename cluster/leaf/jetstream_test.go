package leaf_test

import (
	"testing"

	"natsd.dev/cluster/leaf"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// A hub whose JetStream has the domain "hub" (announced as the jetstream
// module does, SetJetStream) and a leaf without: the domain's API crosses,
// the plain one does not, and the hub keeps messages on its own domain's
// API from leaving for a leaf that is not the same domain.
func TestLeafJetStreamDomainPolicy(t *testing.T) {
	hs, hub, _ := startHub(t, server.Options{}, leaf.Options{})
	hs.SetJetStream("hub", 3)
	ls, spoke, _ := startLeaf(t, server.Options{}, remoteTo(hub, nil))
	waitConns(t, spoke, 1)
	hc, lc := servertest.Connect(t, hs), servertest.Connect(t, ls)
	ll, hl := servertest.WatchInterest(t, ls), servertest.WatchInterest(t, hs)

	// The hub's JetStream stands in as plain subscriptions.
	domainAPI := syncSub(t, hc, "$JS.hub.API.INFO")
	syncSub(t, hc, "$JS.API.INFO")
	syncSub(t, hc, "after")
	ll.WaitFor(t, "$JS.hub.API.INFO", server.ConnLeaf, true)
	ll.WaitFor(t, "after", server.ConnLeaf, true)
	if _, ok := ll.Find("$JS.API.INFO", server.ConnLeaf, true); ok {
		t.Fatal("the hub announced $JS.API.INFO to its leaf")
	}
	if err := lc.Publish("$JS.hub.API.INFO", []byte("req")); err != nil {
		t.Fatal(err)
	}
	if m := nextMsg(t, domainAPI); string(m.Data) != "req" {
		t.Fatalf("got %q", m.Data)
	}

	// The guard: a subscriber on the leaf to the hub's domain API gets
	// nothing from the hub; a message sent after it on the same link does
	// arrive.
	onLeaf := syncSub(t, lc, "$JS.hub.API.STREAM.NAMES")
	marker := syncSub(t, lc, "marker")
	hl.WaitFor(t, "marker", server.ConnLeaf, true)
	hl.WaitFor(t, "$JS.hub.API.STREAM.NAMES", server.ConnLeaf, true)
	if err := hc.Publish("$JS.hub.API.STREAM.NAMES", nil); err != nil {
		t.Fatal(err)
	}
	if err := hc.Publish("marker", nil); err != nil {
		t.Fatal(err)
	}
	nextMsg(t, marker)
	if n, _, _ := onLeaf.Pending(); n != 0 {
		t.Fatalf("the hub sent %d messages on its own domain's API to a leaf of another domain", n)
	}
}

// default_js_domain mapping an account to "" on both sides lets the plain
// API cross, as upstream's compatibility with set-ups older than domains.
func TestLeafJetStreamEmptyDefaultDomain(t *testing.T) {
	dd := map[string]string{server.GlobalAccountName: ""}
	hs, hub, _ := startHub(t, server.Options{}, leaf.Options{DefaultJSDomains: dd})
	hs.SetJetStream("", 3)
	lo := remoteTo(hub, nil)
	lo.DefaultJSDomains = dd
	ls, spoke, _ := startLeaf(t, server.Options{}, lo)
	waitConns(t, spoke, 1)
	ll := servertest.WatchInterest(t, ls)
	api := syncSub(t, servertest.Connect(t, hs), "$JS.API.INFO")
	ll.WaitFor(t, "$JS.API.INFO", server.ConnLeaf, true)
	if err := servertest.Connect(t, ls).Publish("$JS.API.INFO", []byte("x")); err != nil {
		t.Fatal(err)
	}
	nextMsg(t, api)
}
