package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// portsOf reads one listener's URL from p's ports file ("cluster",
// "monitoring").
func (p *proc) portsOf(kind string) string {
	p.t.Helper()
	b, err := os.ReadFile(p.ports)
	require.NoError(p.t, err)
	var doc map[string][]string
	require.NoError(p.t, json.Unmarshal(b, &doc))
	require.Len(p.t, doc[kind], 1, "ports file %s", b)
	return doc[kind][0]
}

// routedInterest counts the interest in subject that p's routes hold, as
// its /routez?subs=1 lists it (natsd lists "subject queue", upstream
// the subject).
func routedInterest(t *testing.T, p *proc, subject string) int {
	t.Helper()
	var doc struct {
		Routes []struct {
			Subs []string `json:"subscriptions_list"`
		} `json:"routes"`
	}
	getJSON(t, strings.TrimSuffix(p.portsOf("monitoring"), "/")+"/routez?subs=1", &doc)
	n := 0
	for _, r := range doc.Routes {
		for _, s := range r.Subs {
			if f := strings.Fields(s); len(f) > 0 && f[0] == subject {
				n++
			}
		}
	}
	return n
}

// TestLeafClustersKeptApartOverMixedRoutes: the leaf clusters A and B
// (one natsd server each) connect to h1 of the hub cluster {h1, h2} and
// hold the same queue subscription (and, in turn, the same plain one).
// h1 announces both to h2 over the route with their origin, and since
// both advertise "lnocu" in their route INFO, LS- names the origin too:
// h2 keeps one interest per leaf cluster, drops only A's when A's
// subscriber leaves, and what a client of h2 publishes still reaches B.
// Run with natsd on both hubs, and with upstream nats-server as h1 or
// as h2 (NATSD_UPSTREAM_SERVER).
func TestLeafClustersKeptApartOverMixedRoutes(t *testing.T) {
	type pair struct{ name, h1, h2 string }
	pairs := []pair{{"natsd-natsd", binary, binary}}
	if up := os.Getenv("NATSD_UPSTREAM_SERVER"); up != "" {
		pairs = append(pairs, pair{"upstream-natsd", up, binary}, pair{"natsd-upstream", binary, up})
	} else {
		t.Log("NATSD_UPSTREAM_SERVER unset: natsd hubs only")
	}
	for _, pr := range pairs {
		for _, queue := range []string{"g", ""} {
			name := pr.name + "/queue"
			if queue == "" {
				name = pr.name + "/plain"
			}
			t.Run(name, func(t *testing.T) { leafClustersKeptApart(t, pr.h1, pr.h2, queue) })
		}
	}
}

func leafClustersKeptApart(t *testing.T, h1bin, h2bin, queue string) {
	dir := t.TempDir()
	const subject = "lnocu.foo"
	hub := func(name, routes string) string {
		return writeFile(t, filepath.Join(dir, name+".conf"), fmt.Sprintf(`server_name: %s
http: "127.0.0.1:-1"
cluster { name: hub, listen: "127.0.0.1:-1"%s }
leafnodes { listen: "127.0.0.1:-1" }
`, name, routes))
	}
	h1 := startBinary(t, h1bin, "-c", hub("h1", ""))
	h2 := startBinary(t, h2bin, "-c", hub("h2", fmt.Sprintf(`, routes: ["%s"]`, h1.portsOf("cluster"))))
	leafURL := "nats-leaf://" + h1.leafAddr()

	var subs []*nats.Subscription
	for _, cl := range []string{"A", "B"} {
		l := start(t, "-c", writeFile(t, filepath.Join(dir, cl+".conf"), fmt.Sprintf(`server_name: leaf-%s
cluster { name: %s, listen: "127.0.0.1:-1" }
leafnodes { reconnect: "100ms", remotes: [ { url: "%s" } ] }
`, cl, cl, leafURL)))
		nc := l.connect()
		sub, err := nc.QueueSubscribeSync(subject, queue)
		require.NoError(t, err)
		require.NoError(t, nc.Flush())
		subs = append(subs, sub)
	}
	// h2 holds the interest of both leaf clusters, apart.
	servertest.WaitUntil(t, "h2 to hold the interest of A and B", func() bool { return routedInterest(t, h2, subject) == 2 })

	pub := h2.connect()
	require.NoError(t, subs[0].Unsubscribe())
	servertest.WaitUntil(t, "h2 to drop A's interest", func() bool { return routedInterest(t, h2, subject) < 2 })
	require.Equal(t, 1, routedInterest(t, h2, subject), "h2 dropped B's interest with A's")
	for i := range 20 {
		require.NoError(t, pub.Publish(subject, fmt.Appendf(nil, "m%d", i)))
	}
	for i := range 20 {
		m := servertest.NextMsg(t, subs[1])
		require.Equal(t, fmt.Sprintf("m%d", i), string(m.Data))
	}

	require.NoError(t, subs[1].Unsubscribe())
	servertest.WaitUntil(t, "h2 to drop B's interest", func() bool { return routedInterest(t, h2, subject) == 0 })
}
