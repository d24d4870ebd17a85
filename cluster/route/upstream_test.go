package route_test

import (
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/cluster/route"
	"natsd.dev/server/servertest"
)

// TestMixedClusterWithUpstream forms a cluster of a natsd server and an
// upstream nats-server (NATSD_UPSTREAM_SERVER names its binary; skipped
// without it), both with pooling on, and checks queue groups and
// request/reply across them.
func TestMixedClusterWithUpstream(t *testing.T) {
	bin := servertest.UpstreamBinary(t)
	ports := servertest.FreePorts(t, 2)
	servertest.StartProcess(t, bin, "-a", "127.0.0.1", "-p", fmt.Sprint(ports[0]), "--cluster", fmt.Sprintf("nats://127.0.0.1:%d", ports[1]), "--cluster_name", "mixed")
	nd := startNode(t, "natsd", route.Options{Name: "mixed", Routes: []*url.URL{{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", ports[1])}}})
	servertest.WaitUntilWithin(t, 5*time.Second, "pooled route to upstream", func() bool { return len(nd.c.Routez(nil).Routes) == route.DefaultPoolSize })

	up := servertest.ConnectWhenReady(t, fmt.Sprintf("nats://127.0.0.1:%d", ports[0]))
	ours := nd.connect(t)

	var onUp, onOurs atomic.Int64
	var members []*nats.Subscription
	for range 2 {
		u, _ := up.QueueSubscribe("mq", "g", func(*nats.Msg) { onUp.Add(1) })
		o, _ := ours.QueueSubscribe("mq", "g", func(*nats.Msg) { onOurs.Add(1) })
		members = append(members, u, o)
	}
	up.Subscribe("svc.up", func(m *nats.Msg) { m.Respond([]byte("from upstream")) })
	up.Flush()
	ours.Flush()
	servertest.WaitUntilWithin(t, 5*time.Second, "upstream interest", func() bool { return nd.s.GlobalAccount().NumSubscriptions() >= 4 })
	r, err := ours.Request("svc.up", nil, 2*time.Second)
	if err != nil || string(r.Data) != "from upstream" {
		t.Fatalf("request: %v %v", r, err)
	}
	// natsd prefers its local members; every message is delivered once
	// whichever side publishes (upstream spreads over both).
	const n = 300
	for range n {
		ours.Publish("mq", nil)
	}
	ours.Flush()
	servertest.WaitUntilWithin(t, 5*time.Second, "queue messages from natsd", func() bool { return onOurs.Load() >= n })
	for range n {
		up.Publish("mq", nil)
	}
	up.Flush()
	servertest.WaitUntilWithin(t, 5*time.Second, "queue messages from upstream", func() bool { return onUp.Load()+onOurs.Load() >= 2*n })
	// Markers from both sides reach both connections after the queue
	// messages (clients and routes keep order): then every queue message
	// either connection gets has been read, and none is a duplicate.
	markUp, _ := up.SubscribeSync("mq.done")
	markOurs, _ := ours.SubscribeSync("mq.done")
	for _, from := range []*nats.Conn{up, ours} {
		for _, sub := range []*nats.Subscription{markUp, markOurs} {
			servertest.PublishUntil(t, from, "mq.done", []byte(from.ConnectedServerId()), sub)
		}
	}
	var got int64
	for _, m := range members {
		delivered, _ := m.Delivered()
		pending, _, _ := m.Pending()
		got += delivered + int64(pending)
	}
	if got != 2*n {
		t.Fatalf("delivered %d, want %d", got, 2*n)
	}
	t.Logf("upstream members got %d, natsd members %d (natsd published %d first)", onUp.Load(), onOurs.Load(), n)
}

// TestPinnedAccountWithUpstream: natsd and upstream both pin ACC1; its
// messages cross on the dedicated route, the other accounts' on the pool.
func TestPinnedAccountWithUpstream(t *testing.T) {
	bin := servertest.UpstreamBinary(t)
	for _, natsdDials := range []bool{true, false} {
		t.Run(fmt.Sprintf("natsd dials %v", natsdDials), func(t *testing.T) { pinnedWithUpstream(t, bin, natsdDials) })
	}
}

func pinnedWithUpstream(t *testing.T, bin string, natsdDials bool) {
	ports := servertest.FreePorts(t, 2)
	var nd *node
	routes := ""
	if !natsdDials {
		nd = startNodeWith(t, accountsOptions(t), "natsd", route.Options{Name: "mixed", PinnedAccounts: []string{"ACC1"}})
		routes = ", routes: [" + nd.routeURL().String() + "]"
	}
	conf := fmt.Sprintf("listen: 127.0.0.1:%d\ncluster { name: mixed, listen: 127.0.0.1:%d, accounts: [ACC1]%s }\naccounts {\n", ports[0], ports[1], routes)
	for i := range 6 {
		conf += fmt.Sprintf("  ACC%d: { users: [{user: u%d, password: p%d}] }\n", i, i, i)
	}
	conf += "}\n"
	path := t.TempDir() + "/up.conf"
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	servertest.StartProcess(t, bin, "-c", path)
	if natsdDials {
		servertest.WaitListening(t, fmt.Sprintf("127.0.0.1:%d", ports[1]))
		nd = startNodeWith(t, accountsOptions(t), "natsd", route.Options{Name: "mixed", PinnedAccounts: []string{"ACC1"},
			Routes: []*url.URL{{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", ports[1])}}})
	}
	servertest.WaitUntilWithin(t, 5*time.Second, "pool and pinned route to upstream", func() bool {
		rz := nd.c.Routez(nil)
		pinned := 0
		for _, r := range rz.Routes {
			if r.Account == "ACC1" {
				pinned++
			}
		}
		// The pool, ACC1's route and the system account's.
		return len(rz.Routes) == route.DefaultPoolSize+2 && pinned == 1
	})
	for _, i := range []int{0, 1} {
		user, pass := fmt.Sprintf("u%d", i), fmt.Sprintf("p%d", i)
		up := servertest.ConnectWhenReady(t, fmt.Sprintf("nats://127.0.0.1:%d", ports[0]), nats.UserInfo(user, pass))
		ours := nd.connect(t, nats.UserInfo(user, pass))
		toUp, _ := up.SubscribeSync("pinned.x")
		up.Flush()
		toOurs, _ := ours.SubscribeSync("pinned.y")
		ours.Flush()
		acc := nd.s.LookupAccount(fmt.Sprintf("ACC%d", i))
		servertest.WaitUntilWithin(t, 5*time.Second, "upstream interest in "+acc.Name, func() bool { return acc.NumSubscriptions() == 2 })
		// Our interest reaches upstream in its own time.
		servertest.PublishUntil(t, ours, "pinned.x", []byte("n2u"), toUp)
		up.Publish("pinned.y", []byte("u2n"))
		up.Flush()
		if m, err := toOurs.NextMsg(2 * time.Second); err != nil || string(m.Data) != "u2n" {
			t.Fatalf("ACC%d upstream -> natsd: %v", i, err)
		}
	}
}

// TestRouteAuthWithUpstream: route authorization between natsd and
// upstream, each side requiring it from the other.
func TestRouteAuthWithUpstream(t *testing.T) {
	bin := servertest.UpstreamBinary(t)
	for _, tc := range []struct {
		name       string
		natsdDials bool
		pass       string
		ok         bool
	}{
		{"natsd dials", true, "s3cret", true},
		{"upstream dials", false, "s3cret", true},
		{"natsd dials, wrong password", true, "nope", false},
		{"upstream dials, wrong password", false, "nope", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ports := servertest.FreePorts(t, 2)
			var nd *node
			conf := fmt.Sprintf("listen: 127.0.0.1:%d\ncluster { name: auth, listen: 127.0.0.1:%d", ports[0], ports[1])
			if tc.natsdDials {
				conf += ", authorization { user: ruser, password: s3cret }"
			} else {
				nd = startNode(t, "natsd", route.Options{Name: "auth", Username: "ruser", Password: "s3cret"})
				u := nd.routeURL()
				conf += fmt.Sprintf(", routes: [\"nats-route://ruser:%s@%s\"]", tc.pass, u.Host)
			}
			conf += " }\n"
			path := t.TempDir() + "/up.conf"
			if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			servertest.StartProcess(t, bin, "-c", path)
			if tc.natsdDials {
				servertest.WaitListening(t, fmt.Sprintf("127.0.0.1:%d", ports[1]))
				nd = startNode(t, "natsd", route.Options{Name: "auth",
					Routes: []*url.URL{{Scheme: "nats-route", User: url.UserPassword("ruser", tc.pass), Host: fmt.Sprintf("127.0.0.1:%d", ports[1])}}})
			}
			if tc.ok {
				waitRoutes(t, 1, nd)
				return
			}
			// The refusal is logged: natsd's as the accepting side, the
			// error upstream sends back as the dialing side.
			refusal := "authentication error"
			if tc.natsdDials {
				refusal = "Authorization Violation"
			}
			nd.log.WaitFor(t, refusal)
			// A dialed connection counts as a route from upstream's INFO
			// until its -ERR arrives, and the pool dials several at once:
			// every one must go. A route that formed would stay.
			servertest.WaitUntil(t, "no route with a wrong password", func() bool { return nd.c.NumRoutes() == 0 })
		})
	}
}

// TestGossipWithUpstream: an upstream seed, a natsd server and another
// upstream server pointing at the seed, then a natsd seed with two
// upstream servers: each time the gossip completes the mesh.
func TestGossipWithUpstream(t *testing.T) {
	bin := servertest.UpstreamBinary(t)
	freePort := func() int { return servertest.FreePorts(t, 1)[0] }
	// upstream starts a server and returns a client connected to it.
	upstream := func(t *testing.T, clusterPort int, route string) *nats.Conn {
		port := freePort()
		args := []string{"-a", "127.0.0.1", "-p", fmt.Sprint(port), "--cluster", fmt.Sprintf("nats://127.0.0.1:%d", clusterPort), "--cluster_name", "g"}
		if route != "" {
			args = append(args, "--routes", route)
		}
		servertest.StartProcess(t, bin, args...)
		return servertest.ConnectWhenReady(t, fmt.Sprintf("nats://127.0.0.1:%d", port))
	}
	t.Run("upstream seed", func(t *testing.T) {
		seed := freePort()
		upstream(t, seed, "")
		nd := startNode(t, "natsd", route.Options{Name: "g", Routes: []*url.URL{{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", seed)}}})
		other := upstream(t, freePort(), fmt.Sprintf("nats://127.0.0.1:%d", seed))
		servertest.WaitUntilWithin(t, 10*time.Second, "natsd routed to both upstream servers", func() bool { return nd.c.NumRoutes() == 2 })
		// A message from the other upstream server reaches natsd directly.
		s, _ := nd.connect(t).SubscribeSync("g.x")
		servertest.WaitUntilWithin(t, 5*time.Second, "delivery", func() bool {
			other.Publish("g.x", nil)
			other.Flush()
			_, err := s.NextMsg(50 * time.Millisecond)
			return err == nil
		})
	})
	t.Run("natsd seed", func(t *testing.T) {
		nd := startNode(t, "natsd", route.Options{Name: "g"})
		u1 := upstream(t, freePort(), nd.routeURL().String())
		u2 := upstream(t, freePort(), nd.routeURL().String())
		servertest.WaitUntilWithin(t, 10*time.Second, "natsd routed to both upstream servers", func() bool { return nd.c.NumRoutes() == 2 })
		// The upstream servers found each other through our gossip: a
		// message crosses one hop only, so it must take their own route.
		s, _ := u1.SubscribeSync("g.y")
		u1.Flush()
		servertest.WaitUntilWithin(t, 5*time.Second, "delivery between the upstream servers", func() bool {
			u2.Publish("g.y", nil)
			u2.Flush()
			_, err := s.NextMsg(50 * time.Millisecond)
			return err == nil
		})
	})
}
