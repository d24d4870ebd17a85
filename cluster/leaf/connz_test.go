package leaf_test

import (
	"bufio"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"natsd.dev/cluster/leaf"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
)

// leafConns returns the Leafnode entries of s's /connz.
func leafConns(t *testing.T, s *server.Server, opts *snapshot.ConnzOptions) []*snapshot.ConnInfo {
	t.Helper()
	cz, err := s.Connz(opts)
	if err != nil {
		t.Fatal(err)
	}
	var out []*snapshot.ConnInfo
	for _, ci := range cz.Conns {
		if ci.Kind == "Leafnode" {
			out = append(out, ci)
		}
	}
	return out
}

// /connz lists leaf node connections as upstream 2.15.2 does: kind
// "Leafnode" without a type, the leaf's name and version on the hub side
// (none on the spoke side), its subscriptions, next to the clients.
func TestLeafConnz(t *testing.T) {
	hs, hub, _ := startHub(t, server.Options{}, leaf.Options{})
	ls, spoke, _ := startLeaf(t, server.Options{ServerName: "edge"}, remoteTo(hub, nil))
	waitConns(t, hub, 1)
	waitConns(t, spoke, 1)
	lc := servertest.Connect(t, ls)
	syncSub(t, lc, "edge.data")
	servertest.WaitUntil(t, "the leaf's subscription on the hub", func() bool {
		for _, ci := range leafConns(t, hs, &snapshot.ConnzOptions{Subscriptions: true}) {
			for _, s := range ci.Subs {
				if s == "edge.data" {
					return true
				}
			}
		}
		return false
	})
	servertest.Connect(t, hs)
	cz, err := hs.Connz(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cz.NumConns != 2 || cz.Total != 2 {
		t.Fatalf("hub /connz lists %d of %d, want the client and the leaf node", cz.NumConns, cz.Total)
	}
	onHub := leafConns(t, hs, nil)
	if len(onHub) != 1 {
		t.Fatalf("hub lists %d leaf connections", len(onHub))
	}
	ci := onHub[0]
	if ci.Type != "" || ci.Name != "edge" || ci.Version != server.Version || ci.IP != "127.0.0.1" || ci.NumSubs == 0 {
		t.Fatalf("hub's entry %+v", ci)
	}
	if got := leafConns(t, hs, &snapshot.ConnzOptions{CID: ci.Cid}); len(got) != 1 || got[0].Cid != ci.Cid {
		t.Fatalf("cid=%d gives %+v", ci.Cid, got)
	}
	onLeaf := leafConns(t, ls, nil)
	if len(onLeaf) != 1 || onLeaf[0].Name != "" || onLeaf[0].Version != "" || onLeaf[0].Port != hub.Addr().(*net.TCPAddr).Port {
		t.Fatalf("spoke's entries %+v", onLeaf)
	}
}

// A hub with a websocket port tells its leaf nodes its ws_connect_urls in
// every INFO, as upstream's leaf node INFO does, so a WebSocket remote can
// fail over to them.
func TestLeafInfoWSConnectURLs(t *testing.T) {
	hs, hub, _ := startHub(t, server.Options{}, leaf.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wsURL := ln.Addr().String()
	if err := hs.ServeWebsocket(ln, server.WebsocketInfo{ConnectURLs: []string{wsURL}}); err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", hub.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.SetReadDeadline(time.Now().Add(servertest.DefaultWait)); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(nc).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		WSConnectURLs []string `json:"ws_connect_urls"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(strings.TrimPrefix(line, "INFO "))), &info); err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	if len(info.WSConnectURLs) != 1 || info.WSConnectURLs[0] != wsURL {
		t.Fatalf("hub's INFO ws_connect_urls %q, want [%s]", info.WSConnectURLs, wsURL)
	}
}
