package leaf_test

import (
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"

	"natsd.dev/cluster/leaf"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
)

// The LEAFZ provider lists each side's connection with upstream's fields;
// ?subs lists the peer's interest, ?acc filters by account; /varz has the
// leaf section and the count; the account counts its leaf connections.
func TestLeafzAndVarz(t *testing.T) {
	hs, hub, _ := startHub(t, server.Options{Accounts: []string{"A"}}, leaf.Options{
		Users: []leaf.User{{Username: "l", Password: "p", Account: "A"}},
	})
	ls, edge, _ := startLeaf(t, server.Options{}, leaf.Options{Remotes: []*leaf.Remote{{
		URLs: []*url.URL{leafURL(hub, url.UserPassword("l", "p"))}, DenyImports: []string{"no.>"},
	}}})
	waitConns(t, hub, 1)
	waitConns(t, edge, 1)
	nc := servertest.Connect(t, ls)
	syncSub(t, nc, "listed")
	nc.Flush()

	var lz *snapshot.Leafz
	servertest.WaitUntil(t, "the leaf's interest in /leafz", func() bool {
		d, err := hs.Snapshot(server.KindLeafz, &snapshot.LeafzOptions{Subscriptions: true})
		if err != nil {
			t.Fatal(err)
		}
		lz = d.(*snapshot.Leafz)
		return len(lz.Leafs) == 1 && slices.Contains(lz.Leafs[0].Subs, "listed")
	})
	li := lz.Leafs[0]
	if lz.NumLeafs != 1 || lz.ID != hs.ID() || li.ID == 0 || li.Name != ls.Name() || li.IsSpoke || li.Account != "A" ||
		li.IP != "127.0.0.1" || li.Port == 0 || !strings.HasPrefix(li.Compression, "s2_") || li.NumSubs == 0 {
		t.Errorf("hub's leafz: %+v", li)
	}
	d, _ := hs.Snapshot(server.KindLeafz, &snapshot.LeafzOptions{Account: "B"})
	if lz := d.(*snapshot.Leafz); lz.NumLeafs != 0 || lz.Leafs == nil {
		t.Errorf("leafz of another account: %+v", lz)
	}
	d, _ = ls.Snapshot(server.KindLeafz, nil)
	if lz := d.(*snapshot.Leafz); lz.NumLeafs != 1 || !lz.Leafs[0].IsSpoke || lz.Leafs[0].Account != server.GlobalAccountName || lz.Leafs[0].Subs != nil {
		t.Errorf("leaf's leafz: %+v", lz.Leafs[0])
	}

	hv, _ := hs.Varz(nil)
	if hv.Leafs != 1 || hv.LeafNode.Host != "127.0.0.1" || hv.LeafNode.Port != hub.Addr().(*net.TCPAddr).Port || hv.LeafNode.AuthTimeout != 2 || hv.LeafNode.Remotes != nil {
		t.Errorf("hub's varz: leafnodes %d, leaf %+v", hv.Leafs, hv.LeafNode)
	}
	lv, _ := ls.Varz(nil)
	want := []snapshot.RemoteLeafOptsVarz{{LocalAccount: "$G", URLs: []string{hub.Addr().String()}, Deny: &snapshot.DenyRules{Imports: []string{"no.>"}}}}
	if lv.Leafs != 1 || lv.LeafNode.Port != 0 || !equalRemotes(lv.LeafNode.Remotes, want) {
		t.Errorf("leaf's varz: leafnodes %d, leaf %+v", lv.Leafs, lv.LeafNode)
	}

	az, err := hs.Accountz(&snapshot.AccountzOptions{Account: "A"})
	if err != nil || az.Account.LeafCnt != 1 {
		t.Errorf("accountz A: %+v %v", az.Account, err)
	}

	st, err := hs.AccountStatz(&snapshot.AccountStatzOptions{Accounts: []string{"A"}})
	if err != nil || len(st.Accounts) != 1 || st.Accounts[0].LeafNodes != 1 || st.Accounts[0].Conns != 0 || st.Accounts[0].TotalConns != 1 {
		t.Errorf("accstatz A: %+v %v", st.Accounts, err)
	}

	edge.Close()
	waitConns(t, hub, 0)
	az, _ = hs.Accountz(&snapshot.AccountzOptions{Account: "A"})
	if az.Account.LeafCnt != 0 {
		t.Errorf("accountz A after the leaf left: %d leaf nodes", az.Account.LeafCnt)
	}
	hub.Close()
	d, _ = hs.Snapshot(server.KindLeafz, nil)
	if lz := d.(*snapshot.Leafz); lz.NumLeafs != 0 {
		t.Errorf("leafz after Shutdown: %+v", lz)
	}
	if v, _ := hs.Varz(nil); v.LeafNode.Port != 0 {
		t.Errorf("varz after Shutdown: %+v", v.LeafNode)
	}
}

func equalRemotes(a, b []snapshot.RemoteLeafOptsVarz) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].LocalAccount != b[i].LocalAccount || !slices.Equal(a[i].URLs, b[i].URLs) ||
			(a[i].Deny == nil) != (b[i].Deny == nil) ||
			(a[i].Deny != nil && (!slices.Equal(a[i].Deny.Imports, b[i].Deny.Imports) || !slices.Equal(a[i].Deny.Exports, b[i].Deny.Exports))) {
			return false
		}
	}
	return true
}

// max_leafnodes: one leaf node more than the account allows is refused
// with upstream's error; the first one stays.
func TestMaxLeafNodes(t *testing.T) {
	so := server.Options{Accounts: []string{"A"}, AccountLimits: map[string]server.AccountLimits{"A": {MaxLeafNodes: 1}}}
	_, hub, hlogs := startHub(t, so, leaf.Options{Account: "A", Username: "l", Password: "p"})
	_, e1, _ := startLeaf(t, server.Options{}, remoteTo(hub, url.UserPassword("l", "p")))
	waitConns(t, e1, 1)
	_, e2, logs2 := startLeaf(t, server.Options{}, remoteTo(hub, url.UserPassword("l", "p")))
	hlogs.WaitFor(t, "maximum account active connections exceeded")
	logs2.WaitFor(t, "maximum account active connections exceeded")
	if n := hub.NumConnections(); n != 1 {
		t.Errorf("hub has %d leaf connections, want 1", n)
	}
	if e2.NumConnections() != 0 {
		t.Error("the second leaf node is connected")
	}
	e1.Close()
	waitConns(t, e2, 1)
}
