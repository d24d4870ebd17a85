package route_test

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/cluster/route"
)

// TestMixedClusterWithUpstream forms a cluster of a natsd server and an
// upstream nats-server (NATSD_UPSTREAM_SERVER names its binary; skipped
// without it), both with pooling on, and checks queue groups and
// request/reply across them.
func TestMixedClusterWithUpstream(t *testing.T) {
	bin := os.Getenv("NATSD_UPSTREAM_SERVER")
	if bin == "" {
		t.Skip("NATSD_UPSTREAM_SERVER not set")
	}
	ports := make([]int, 2)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", fmt.Sprint(ports[0]), "--cluster", fmt.Sprintf("nats://127.0.0.1:%d", ports[1]), "--cluster_name", "mixed")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	nd := startNode(t, "natsd", route.Options{Name: "mixed", Routes: []*url.URL{{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", ports[1])}}})
	waitFor(t, 5*time.Second, "pooled route to upstream", func() bool { return len(nd.c.Routez(nil).Routes) == route.DefaultPoolSize })

	var up *nats.Conn
	var err error
	for range 50 {
		if up, err = nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", ports[0])); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	ours := nd.connect(t)

	var onUp, onOurs atomic.Int64
	for range 2 {
		up.QueueSubscribe("mq", "g", func(*nats.Msg) { onUp.Add(1) })
		ours.QueueSubscribe("mq", "g", func(*nats.Msg) { onOurs.Add(1) })
	}
	up.Subscribe("svc.up", func(m *nats.Msg) { m.Respond([]byte("from upstream")) })
	up.Flush()
	ours.Flush()
	waitFor(t, 5*time.Second, "upstream interest", func() bool { return nd.s.GlobalAccount().NumSubscriptions() >= 4 })
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
	waitFor(t, 5*time.Second, "queue messages from natsd", func() bool { return onOurs.Load() >= n })
	for range n {
		up.Publish("mq", nil)
	}
	up.Flush()
	waitFor(t, 5*time.Second, "queue messages from upstream", func() bool { return onUp.Load()+onOurs.Load() >= 2*n })
	time.Sleep(200 * time.Millisecond)
	if got := onUp.Load() + onOurs.Load(); got != 2*n {
		t.Fatalf("delivered %d, want %d", got, 2*n)
	}
	t.Logf("upstream members got %d, natsd members %d (natsd published %d first)", onUp.Load(), onOurs.Load(), n)
}

// TestPinnedAccountWithUpstream: natsd and upstream both pin ACC1; its
// messages cross on the dedicated route, the other accounts' on the pool.
func TestPinnedAccountWithUpstream(t *testing.T) {
	bin := os.Getenv("NATSD_UPSTREAM_SERVER")
	if bin == "" {
		t.Skip("NATSD_UPSTREAM_SERVER not set")
	}
	for _, natsdDials := range []bool{true, false} {
		t.Run(fmt.Sprintf("natsd dials %v", natsdDials), func(t *testing.T) { pinnedWithUpstream(t, bin, natsdDials) })
	}
}

func pinnedWithUpstream(t *testing.T, bin string, natsdDials bool) {
	ports := make([]int, 2)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
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
	cmd := exec.Command(bin, "-c", path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if natsdDials {
		time.Sleep(200 * time.Millisecond)
		nd = startNodeWith(t, accountsOptions(t), "natsd", route.Options{Name: "mixed", PinnedAccounts: []string{"ACC1"},
			Routes: []*url.URL{{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", ports[1])}}})
	}
	waitFor(t, 5*time.Second, "pool and pinned route to upstream", func() bool {
		rz := nd.c.Routez(nil)
		pinned := 0
		for _, r := range rz.Routes {
			if r.Account == "ACC1" {
				pinned++
			}
		}
		return len(rz.Routes) == route.DefaultPoolSize+1 && pinned == 1
	})
	for _, i := range []int{0, 1} {
		user, pass := fmt.Sprintf("u%d", i), fmt.Sprintf("p%d", i)
		var up *nats.Conn
		var err error
		for range 50 {
			if up, err = nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", ports[0]), nats.UserInfo(user, pass)); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer up.Close()
		ours := nd.connect(t, nats.UserInfo(user, pass))
		toUp, _ := up.SubscribeSync("pinned.x")
		up.Flush()
		toOurs, _ := ours.SubscribeSync("pinned.y")
		ours.Flush()
		acc := nd.s.LookupAccount(fmt.Sprintf("ACC%d", i))
		waitFor(t, 5*time.Second, "upstream interest in "+acc.Name, func() bool { return acc.NumSubscriptions() == 2 })
		time.Sleep(100 * time.Millisecond) // our interest reaches upstream
		ours.Publish("pinned.x", []byte("n2u"))
		ours.Flush()
		if m, err := toUp.NextMsg(2 * time.Second); err != nil || string(m.Data) != "n2u" {
			t.Fatalf("ACC%d natsd -> upstream: %v", i, err)
		}
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
	bin := os.Getenv("NATSD_UPSTREAM_SERVER")
	if bin == "" {
		t.Skip("NATSD_UPSTREAM_SERVER not set")
	}
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
			ports := make([]int, 2)
			for i := range ports {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				ports[i] = ln.Addr().(*net.TCPAddr).Port
				ln.Close()
			}
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
			cmd := exec.Command(bin, "-c", path)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			if tc.natsdDials {
				time.Sleep(200 * time.Millisecond)
				nd = startNode(t, "natsd", route.Options{Name: "auth",
					Routes: []*url.URL{{Scheme: "nats-route", User: url.UserPassword("ruser", tc.pass), Host: fmt.Sprintf("127.0.0.1:%d", ports[1])}}})
			}
			if tc.ok {
				waitRoutes(t, 1, nd)
				return
			}
			time.Sleep(500 * time.Millisecond)
			if nd.c.NumRoutes() != 0 {
				t.Fatal("route formed with a wrong password")
			}
			if !tc.natsdDials && !strings.Contains(nd.log.String(), "authentication error") {
				t.Fatalf("natsd did not log the failure:\n%s", nd.log.String())
			}
		})
	}
}

// TestGossipWithUpstream: an upstream seed, a natsd server and another
// upstream server pointing at the seed, then a natsd seed with two
// upstream servers: each time the gossip completes the mesh.
func TestGossipWithUpstream(t *testing.T) {
	bin := os.Getenv("NATSD_UPSTREAM_SERVER")
	if bin == "" {
		t.Skip("NATSD_UPSTREAM_SERVER not set")
	}
	freePort := func() int {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().(*net.TCPAddr).Port
	}
	// upstream starts a server and returns a client connected to it.
	upstream := func(t *testing.T, clusterPort int, route string) *nats.Conn {
		port := freePort()
		args := []string{"-a", "127.0.0.1", "-p", fmt.Sprint(port), "--cluster", fmt.Sprintf("nats://127.0.0.1:%d", clusterPort), "--cluster_name", "g"}
		if route != "" {
			args = append(args, "--routes", route)
		}
		cmd := exec.Command(bin, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		var nc *nats.Conn
		var err error
		for range 50 {
			if nc, err = nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", port)); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	t.Run("upstream seed", func(t *testing.T) {
		seed := freePort()
		upstream(t, seed, "")
		nd := startNode(t, "natsd", route.Options{Name: "g", Routes: []*url.URL{{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", seed)}}})
		other := upstream(t, freePort(), fmt.Sprintf("nats://127.0.0.1:%d", seed))
		waitFor(t, 10*time.Second, "natsd routed to both upstream servers", func() bool { return nd.c.NumRoutes() == 2 })
		// A message from the other upstream server reaches natsd directly.
		s, _ := nd.connect(t).SubscribeSync("g.x")
		waitFor(t, 5*time.Second, "delivery", func() bool {
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
		waitFor(t, 10*time.Second, "natsd routed to both upstream servers", func() bool { return nd.c.NumRoutes() == 2 })
		// The upstream servers found each other through our gossip: a
		// message crosses one hop only, so it must take their own route.
		s, _ := u1.SubscribeSync("g.y")
		u1.Flush()
		waitFor(t, 5*time.Second, "delivery between the upstream servers", func() bool {
			u2.Publish("g.y", nil)
			u2.Flush()
			_, err := s.NextMsg(50 * time.Millisecond)
			return err == nil
		})
	})
}
