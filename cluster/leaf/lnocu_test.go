package leaf_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"

	"natsd.dev/cluster/leaf"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// Two leaf clusters, A and B, each a server of its own connected to h1
// of the hub cluster {h1, h2}, hold the same interest (a queue group, or
// a plain subscription). h1 announces each over the route with its
// origin (LS+ A ..., LS+ B ...), and h2 keeps them apart because the
// route advertises "lnocu" and LS- names the origin: when A's subscriber
// leaves, h2 drops A's interest only, and what is published on h2 still
// reaches B's subscriber. Then B's leaves too, and h2 holds no interest
// on its behalf any more.
func TestLeafClustersKeptApartOverRoutes(t *testing.T) {
	for _, queue := range []string{"g", ""} {
		name := "queue"
		if queue == "" {
			name = "plain"
		}
		t.Run(name, func(t *testing.T) {
			h1, hub1, _ := startHub(t, server.Options{ServerName: "h1"}, leaf.Options{})
			h2 := servertest.Start(t, server.Options{ServerName: "h2"})
			hc1 := startCluster(t, h1, "hub", nil)
			hc2 := startCluster(t, h2, "hub", hc1)
			servertest.WaitUntil(t, "the hub route", func() bool { return hc1.NumRoutes() > 0 && hc2.NumRoutes() > 0 })

			var subs []*nats.Subscription
			for _, cl := range []string{"A", "B"} {
				l := servertest.Start(t, server.Options{ServerName: "leaf-" + cl})
				startCluster(t, l, cl, nil)
				waitConns(t, startRemotes(t, l, remoteTo(hub1, nil)), 1)
				nc := servertest.Connect(t, l)
				sub, err := nc.QueueSubscribeSync("lnocu.foo", queue)
				if err != nil {
					t.Fatal(err)
				}
				if err := nc.Flush(); err != nil {
					t.Fatal(err)
				}
				subs = append(subs, sub)
			}
			watch := watchRouteInterest(t, h2, "lnocu.foo")
			// h2 holds one interest per leaf cluster.
			for _, cl := range []string{"A", "B"} {
				servertest.WaitUntil(t, "h2 holds the interest of "+cl, func() bool { return watch.holds(cl) == 1 })
			}

			pub := servertest.Connect(t, h2)
			if err := subs[0].Unsubscribe(); err != nil {
				t.Fatal(err)
			}
			servertest.WaitUntil(t, "h2 drops A's interest", func() bool { return watch.holds("A") == 0 })
			if n := watch.holds("B"); n != 1 {
				t.Fatalf("h2 holds %d interests of B after A's subscriber left, want 1", n)
			}
			for i := range 20 {
				if err := pub.Publish("lnocu.foo", fmt.Appendf(nil, "m%d", i)); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 20 {
				if m := nextMsg(t, subs[1]); string(m.Data) != fmt.Sprintf("m%d", i) {
					t.Fatalf("B got %q, want m%d", m.Data, i)
				}
			}

			if err := subs[1].Unsubscribe(); err != nil {
				t.Fatal(err)
			}
			servertest.WaitUntil(t, "h2 drops B's interest", func() bool { return watch.holds("B") == 0 })
		})
	}
}

// routeInterest counts, per leaf origin cluster, the interest a
// server's routes hold in one subject on behalf of leaf nodes.
type routeInterest struct {
	subject string
	mu      sync.Mutex
	n       map[string]int
}

func watchRouteInterest(t *testing.T, s *server.Server, subject string) *routeInterest {
	ri := &routeInterest{subject: subject, n: map[string]int{}}
	t.Cleanup(s.AddInterestListener(server.InterestFunc(func(ev server.InterestEvent) {
		if ev.Subject != subject || ev.Origin != server.ConnRoute || ev.OriginCluster == "" {
			return
		}
		ri.mu.Lock()
		defer ri.mu.Unlock()
		if ev.Added {
			ri.n[ev.OriginCluster]++
		} else {
			ri.n[ev.OriginCluster]--
		}
	})))
	return ri
}

// holds reports how many interests of the origin cluster the routes hold.
func (ri *routeInterest) holds(origin string) int {
	ri.mu.Lock()
	defer ri.mu.Unlock()
	return ri.n[origin]
}
