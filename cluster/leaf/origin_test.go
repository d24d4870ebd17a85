package leaf_test

import (
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/cluster"
	"natsd.dev/cluster/leaf"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// startCluster routes s into the cluster name (to the first server's
// route listener when to is not nil) and returns its cluster.
func startCluster(t *testing.T, s *server.Server, name string, to *cluster.Cluster) *cluster.Cluster {
	t.Helper()
	o := &cluster.Options{Name: name, Host: "127.0.0.1"}
	if to != nil {
		o.Routes = []*url.URL{{Scheme: "nats-route", Host: to.Addr().String()}}
	}
	c, err := cluster.Start(s, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// startRemotes starts the leaf node remotes lo on s.
func startRemotes(t *testing.T, s *server.Server, lo leaf.Options) *leaf.Leaf {
	t.Helper()
	lo.Reconnect = 50 * time.Millisecond
	lf, err := leaf.Start(s, &lo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lf.Close)
	return lf
}

// counter counts, per payload, what one subscriber received.
type counter struct {
	mu   sync.Mutex
	seen map[string]int
}

func (c *counter) count(p string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[p]
}

func subscribeCounter(t *testing.T, nc *nats.Conn, subject string) *counter {
	t.Helper()
	c := &counter{seen: map[string]int{}}
	if _, err := nc.Subscribe(subject, func(m *nats.Msg) {
		c.mu.Lock()
		c.seen[m.Subject+" "+string(m.Data)]++
		c.mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return c
}

// exactlyOnce has every connection of conns publish n messages on
// "t.msg" and checks that every subscriber (one per connection) gets each
// of them once: after the markers of every publisher arrived, and again
// after a second round of markers, so that a late copy is counted.
func exactlyOnce(t *testing.T, names []string, conns []*nats.Conn, n int) {
	t.Helper()
	subs := make([]*counter, len(conns))
	for i, nc := range conns {
		subs[i] = subscribeCounter(t, nc, "t.>")
	}
	// Interest has spread when a probe from every server reaches every
	// subscriber.
	for i, nc := range conns {
		servertest.WaitUntil(t, "probes from "+names[i], func() bool {
			if err := nc.Publish("t.probe", []byte(names[i])); err != nil {
				t.Fatal(err)
			}
			for _, c := range subs {
				if c.count("t.probe "+names[i]) == 0 {
					return false
				}
			}
			return true
		})
	}
	for i, nc := range conns {
		for k := range n {
			if err := nc.Publish("t.msg", fmt.Appendf(nil, "%s-%d", names[i], k)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for round, marker := range []string{"t.end", "t.end2"} {
		for i, nc := range conns {
			if err := nc.Publish(marker, []byte(names[i])); err != nil {
				t.Fatal(err)
			}
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		for j, c := range subs {
			servertest.WaitUntil(t, names[j]+" gets the markers", func() bool {
				for _, from := range names {
					if c.count(marker+" "+from) == 0 {
						return false
					}
				}
				return true
			})
		}
		for j, c := range subs {
			for _, from := range names {
				if got := c.count(marker + " " + from); got != 1 {
					t.Errorf("round %d: %s got %d copies of %s's marker", round, names[j], got, from)
				}
				for k := range n {
					if got := c.count(fmt.Sprintf("t.msg %s-%d", from, k)); got != 1 {
						t.Fatalf("round %d: %s got %d copies of %s-%d", round, names[j], got, from, k)
					}
				}
			}
		}
	}
}

// A leaf cluster of two whose servers connect to different servers of a
// hub cluster of two: a message published on any of the four reaches a
// subscriber on each of them once. The spoke servers never forward what
// their hub sent over their routes (as upstream: isSpokeLeafNode), nor
// announce their hub's interest to them.
func TestLeafClusterToHubClusterExactlyOnce(t *testing.T) {
	h1, hub1, _ := startHub(t, server.Options{ServerName: "h1"}, leaf.Options{})
	h2, hub2, _ := startHub(t, server.Options{ServerName: "h2"}, leaf.Options{})
	hc1 := startCluster(t, h1, "hub", nil)
	hc2 := startCluster(t, h2, "hub", hc1)
	servertest.WaitUntil(t, "the hub route", func() bool { return hc1.NumRoutes() > 0 && hc2.NumRoutes() > 0 })

	// The leaf cluster's servers have their cluster name before they
	// connect to the hub, as the binary starts them.
	l1, l2 := servertest.Start(t, server.Options{ServerName: "l1"}), servertest.Start(t, server.Options{ServerName: "l2"})
	lc1 := startCluster(t, l1, "spoke", nil)
	lc2 := startCluster(t, l2, "spoke", lc1)
	servertest.WaitUntil(t, "the spoke route", func() bool { return lc1.NumRoutes() > 0 && lc2.NumRoutes() > 0 })
	spoke1, spoke2 := startRemotes(t, l1, remoteTo(hub1, nil)), startRemotes(t, l2, remoteTo(hub2, nil))
	waitConns(t, spoke1, 1)
	waitConns(t, spoke2, 1)

	names := []string{"h1", "h2", "l1", "l2"}
	var conns []*nats.Conn
	for _, s := range []*server.Server{h1, h2, l1, l2} {
		conns = append(conns, servertest.Connect(t, s))
	}
	exactlyOnce(t, names, conns, 200)
}

// The same with an upstream server in the hub cluster: a natsd hub and
// an upstream hub routed together, a natsd leaf cluster of two with one
// server on each. Leaf interest and messages cross the mixed route as
// LS+ and LMSG with their origin cluster, both ways, and every message
// reaches every subscriber once.
func TestLeafClusterToMixedHubClusterExactlyOnce(t *testing.T) {
	bin := servertest.UpstreamBinary(t)
	h1, hub1, _ := startHub(t, server.Options{ServerName: "h1"}, leaf.Options{})
	hc1 := startCluster(t, h1, "hub", nil)
	ports := servertest.FreePorts(t, 3)
	servertest.StartProcess(t, bin, "-c", writeConf(t, fmt.Sprintf(`server_name: h2
listen: "127.0.0.1:%d"
cluster { name: hub, listen: "127.0.0.1:%d", routes: ["nats-route://%s"] }
leafnodes { listen: "127.0.0.1:%d" }
`, ports[0], ports[1], hc1.Addr(), ports[2])))
	h2c := servertest.ConnectWhenReady(t, fmt.Sprintf("nats://127.0.0.1:%d", ports[0]))
	servertest.WaitUntil(t, "the mixed hub route", func() bool { return hc1.NumRoutes() > 0 })

	l1, l2 := servertest.Start(t, server.Options{ServerName: "l1"}), servertest.Start(t, server.Options{ServerName: "l2"})
	lc1 := startCluster(t, l1, "spoke", nil)
	lc2 := startCluster(t, l2, "spoke", lc1)
	servertest.WaitUntil(t, "the spoke route", func() bool { return lc1.NumRoutes() > 0 && lc2.NumRoutes() > 0 })
	spoke1 := startRemotes(t, l1, remoteTo(hub1, nil))
	spoke2 := startRemotes(t, l2, leaf.Options{Remotes: []*leaf.Remote{{URLs: []*url.URL{{Scheme: "nats-leaf", Host: fmt.Sprintf("127.0.0.1:%d", ports[2])}}}}})
	waitConns(t, spoke1, 1)
	waitConns(t, spoke2, 1)

	names := []string{"h1", "h2", "l1", "l2"}
	conns := []*nats.Conn{servertest.Connect(t, h1), h2c, servertest.Connect(t, l1), servertest.Connect(t, l2)}
	exactlyOnce(t, names, conns, 200)
}
