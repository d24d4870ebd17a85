package route_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/cluster/route"
	"natsd.dev/confparse"
	"natsd.dev/server"
	"natsd.dev/server/config"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
)

// accountsOptions has accounts ACC0..ACC5, each with user uN/pN, from an
// accounts {} block (the server's own configuration parser).
func accountsOptions(t testing.TB) server.Options {
	t.Helper()
	conf := "accounts {\n"
	for i := range 6 {
		conf += fmt.Sprintf("  ACC%d: { users: [{user: u%d, password: p%d}] }\n", i, i, i)
	}
	conf += "}\n"
	path := filepath.Join(t.TempDir(), "accounts.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := config.ParseFile(path, confparse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Options
}

func TestPoolSpreadsAccounts(t *testing.T) {
	a := startNodeWith(t, accountsOptions(t), "A", route.Options{Name: "pool"})
	b := startNodeWith(t, accountsOptions(t), "B", route.Options{Name: "pool", Routes: []*url.URL{a.routeURL()}})
	waitRoutes(t, 1, a, b)
	// Three pool connections and the system account's own route.
	servertest.WaitUntilWithin(t, 5*time.Second, "three pool connections", func() bool {
		return len(a.c.Routez(nil).Routes) == 4 && len(b.c.Routez(nil).Routes) == 4
	})
	// Every account works across the pool, and stays isolated.
	subs := make([]*nats.Subscription, 6)
	for i := range 6 {
		nc := b.connect(t, nats.UserInfo(fmt.Sprintf("u%d", i), fmt.Sprintf("p%d", i)))
		subs[i], _ = nc.SubscribeSync("acc.msg")
		nc.Flush()
	}
	for i := range 6 {
		acc := a.s.LookupAccount(fmt.Sprintf("ACC%d", i))
		servertest.WaitUntilWithin(t, 5*time.Second, "interest of "+acc.Name, func() bool { return acc.NumSubscriptions() == 1 })
	}
	for i := range 6 {
		nc := a.connect(t, nats.UserInfo(fmt.Sprintf("u%d", i), fmt.Sprintf("p%d", i)))
		nc.Publish("acc.msg", []byte(fmt.Sprint(i)))
		nc.Flush()
	}
	for i := range 6 {
		m, err := subs[i].NextMsg(2 * time.Second)
		if err != nil {
			t.Fatalf("account %d: %v", i, err)
		}
		if string(m.Data) != fmt.Sprint(i) {
			t.Fatalf("account %d got %q", i, m.Data)
		}
		if _, err := subs[i].NextMsg(50 * time.Millisecond); err == nil {
			t.Fatalf("account %d got another account's message", i)
		}
	}
	// The accounts used more than one connection.
	used := 0
	for _, r := range a.c.Routez(nil).Routes {
		if r.OutMsgs > 0 {
			used++
		}
	}
	if used < 2 {
		t.Fatalf("messages used %d pool connections", used)
	}
}

func TestPoolOffPeer(t *testing.T) {
	// A server without pooling (pool_size -1, or an upstream before 2.10)
	// gets one connection that carries every account.
	a := startNode(t, "A", route.Options{Name: "pool"})
	b := startNode(t, "B", route.Options{Name: "pool", PoolSize: -1, Routes: []*url.URL{a.routeURL()}})
	waitRoutes(t, 1, a, b)
	sub := a.connect(t)
	s, _ := sub.SubscribeSync("np")
	sub.Flush()
	waitInterest(t, b, 1)
	pub := b.connect(t)
	pub.Publish("np", nil)
	if _, err := s.NextMsg(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	// The handshakes (and any pool dial they would start) came before
	// the interest that carried this message.
	if n := len(a.c.Routez(nil).Routes); n != 1 {
		t.Fatalf("%d connections to a peer without pooling", n)
	}
}

func TestPoolSizeMismatch(t *testing.T) {
	a := startNode(t, "A", route.Options{Name: "pool", PoolSize: 3})
	startNode(t, "B", route.Options{Name: "pool", PoolSize: 2, Routes: []*url.URL{a.routeURL()}})
	servertest.WaitUntilWithin(t, 5*time.Second, "mismatch logged", func() bool {
		return strings.Contains(a.log.String(), "Mismatch route pool size")
	})
}

func TestPinnedAccountRoute(t *testing.T) {
	o := route.Options{Name: "pool", PinnedAccounts: []string{"ACC1"}}
	a := startNodeWith(t, accountsOptions(t), "A", o)
	o.Routes = []*url.URL{a.routeURL()}
	b := startNodeWith(t, accountsOptions(t), "B", o)
	waitRoutes(t, 1, a, b)
	pinnedRoute := func(n *node) *snapshot.RouteInfo {
		for _, r := range n.c.Routez(nil).Routes {
			if r.Account == "ACC1" {
				return r
			}
		}
		return nil
	}
	servertest.WaitUntilWithin(t, 5*time.Second, "pool and pinned route", func() bool {
		// The pool of three, ACC1's route and the system account's.
		return len(a.c.Routez(nil).Routes) == 5 && pinnedRoute(a) != nil && pinnedRoute(b) != nil
	})
	var subs []*nats.Subscription
	for _, i := range []int{0, 1} {
		nc := b.connect(t, nats.UserInfo(fmt.Sprintf("u%d", i), fmt.Sprintf("p%d", i)))
		nc.QueueSubscribeSync("pin", "q")
		sub, _ := nc.SubscribeSync("pin")
		subs = append(subs, sub)
		nc.Flush()
	}
	acc1 := a.s.LookupAccount("ACC1")
	servertest.WaitUntilWithin(t, 5*time.Second, "ACC1 interest over the pinned route", func() bool { return acc1.NumSubscriptions() == 2 })
	for _, i := range []int{0, 1} {
		nc := a.connect(t, nats.UserInfo(fmt.Sprintf("u%d", i), fmt.Sprintf("p%d", i)))
		msg := nats.NewMsg("pin")
		msg.Header.Set("Acc", fmt.Sprint(i))
		msg.Reply = "r"
		nc.PublishMsg(msg)
		nc.Flush()
		m, err := subs[i].NextMsg(2 * time.Second)
		if err != nil {
			t.Fatalf("account %d: %v", i, err)
		}
		if m.Header.Get("Acc") != fmt.Sprint(i) || m.Reply != "r" {
			t.Fatalf("account %d: header %v reply %q", i, m.Header, m.Reply)
		}
	}
	if r := pinnedRoute(a); r.OutMsgs != 1 {
		t.Fatalf("pinned route carried %d messages, want ACC1's one", r.OutMsgs)
	}
}
