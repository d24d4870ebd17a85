package cluster_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/auth"
	"natsd.dev/cluster"
	"natsd.dev/server"
)

// accountsOptions has accounts ACC0..ACC5, each with user uN/pN.
func accountsOptions() server.Options {
	so := server.Options{Authorization: &auth.Config{}}
	for i := range 6 {
		name := fmt.Sprintf("ACC%d", i)
		so.Accounts = append(so.Accounts, name)
		so.Authorization.Users = append(so.Authorization.Users, auth.User{Name: fmt.Sprintf("u%d", i), Password: fmt.Sprintf("p%d", i), Account: name})
	}
	return so
}

func TestPoolSpreadsAccounts(t *testing.T) {
	a := startNodeWith(t, accountsOptions(), "A", cluster.Options{Name: "pool"})
	b := startNodeWith(t, accountsOptions(), "B", cluster.Options{Name: "pool", Routes: []*url.URL{a.routeURL()}})
	waitRoutes(t, 1, a, b)
	waitFor(t, 5*time.Second, "three pool connections", func() bool {
		return len(a.c.Routez().Routes) == 3 && len(b.c.Routez().Routes) == 3
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
		waitFor(t, 5*time.Second, "interest of "+acc.Name, func() bool { return acc.NumSubscriptions() == 1 })
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
	for _, r := range a.c.Routez().Routes {
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
	a := startNode(t, "A", cluster.Options{Name: "pool"})
	b := startNode(t, "B", cluster.Options{Name: "pool", PoolSize: -1, Routes: []*url.URL{a.routeURL()}})
	waitRoutes(t, 1, a, b)
	time.Sleep(100 * time.Millisecond)
	if n := len(a.c.Routez().Routes); n != 1 {
		t.Fatalf("%d connections to a peer without pooling", n)
	}
	sub := a.connect(t)
	s, _ := sub.SubscribeSync("np")
	sub.Flush()
	waitInterest(t, b, 1)
	pub := b.connect(t)
	pub.Publish("np", nil)
	if _, err := s.NextMsg(2 * time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestPoolSizeMismatch(t *testing.T) {
	a := startNode(t, "A", cluster.Options{Name: "pool", PoolSize: 3})
	startNode(t, "B", cluster.Options{Name: "pool", PoolSize: 2, Routes: []*url.URL{a.routeURL()}})
	waitFor(t, 5*time.Second, "mismatch logged", func() bool {
		return strings.Contains(a.log.String(), "Mismatch route pool size")
	})
}
