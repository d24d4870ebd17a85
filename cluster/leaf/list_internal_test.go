package leaf

import (
	"net/url"
	"testing"

	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// connections describes each side's connection for monitoring: the
// account, the remote server's name, the peer's interest, the counters.
func TestConnectionsList(t *testing.T) {
	hs := servertest.Start(t, server.Options{})
	hub, err := Start(hs, &Options{Host: "127.0.0.1", Port: RandomPort})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hub.Close)
	ls := servertest.Start(t, server.Options{})
	edge, err := Start(ls, &Options{Remotes: []*Remote{{URLs: []*url.URL{{Scheme: "nats-leaf", Host: hub.Addr().String()}}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(edge.Close)
	servertest.WaitUntil(t, "the connection", func() bool { return edge.NumConnections() == 1 && hub.NumConnections() == 1 })
	nc := servertest.Connect(t, ls)
	if _, err := nc.SubscribeSync("listed"); err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	var h connInfo
	servertest.WaitUntil(t, "the leaf's interest on the hub", func() bool {
		list := hub.connections(true)
		if len(list) != 1 {
			return false
		}
		h = list[0]
		for _, s := range h.Subs {
			if s == "listed" {
				return true
			}
		}
		return false
	})
	if h.Name != ls.Name() || h.Account != server.GlobalAccountName || h.Solicited || h.Spoke || h.IP != "127.0.0.1" || h.Port == 0 {
		t.Errorf("hub side: %+v", h)
	}
	e := edge.connections(false)
	if len(e) != 1 || e[0].Name != hs.Name() || !e[0].Solicited || !e[0].Spoke || e[0].RemoteAccount != server.GlobalAccountName || e[0].Subs != nil {
		t.Errorf("leaf side: %+v", e)
	}
}

// A remote with hub set makes the dialing server the hub: the accepting
// side becomes the spoke, and messages flow both ways.
func TestRemoteHubRole(t *testing.T) {
	as := servertest.Start(t, server.Options{})
	acc, err := Start(as, &Options{Host: "127.0.0.1", Port: RandomPort})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(acc.Close)
	ds := servertest.Start(t, server.Options{})
	dial, err := Start(ds, &Options{Remotes: []*Remote{{URLs: []*url.URL{{Scheme: "nats-leaf", Host: acc.Addr().String()}}, Hub: true}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dial.Close)
	servertest.WaitUntil(t, "the connection", func() bool { return dial.NumConnections() == 1 && acc.NumConnections() == 1 })
	if a, d := acc.connections(false)[0], dial.connections(false)[0]; !a.Spoke || d.Spoke {
		t.Fatalf("accepting side spoke=%v, dialing side spoke=%v; want the accepting side to be the spoke", a.Spoke, d.Spoke)
	}
	sub, err := servertest.Connect(t, ds).SubscribeSync("to.hub")
	if err != nil {
		t.Fatal(err)
	}
	al := servertest.WatchInterest(t, as)
	al.WaitFor(t, "to.hub", server.ConnLeaf, true)
	if err := servertest.Connect(t, as).Publish("to.hub", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.NextMsg(servertest.DefaultWait); err != nil {
		t.Fatal(err)
	}
}
