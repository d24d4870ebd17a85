package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// gwServer is one server of a supercluster test: its cluster, its ports.
type gwServer struct {
	name, cluster  string
	gwPort, clPort int
}

// startSupercluster writes a configuration per server (a cluster block
// when its cluster has several servers, and a gateway block listing every
// cluster's servers, its own included, as one shared list) and starts
// them all.
func startSupercluster(t *testing.T, servers []gwServer, extra string) map[string]*proc {
	t.Helper()
	dir := t.TempDir()
	byCluster := map[string][]gwServer{}
	var order []string
	for _, s := range servers {
		if byCluster[s.cluster] == nil {
			order = append(order, s.cluster)
		}
		byCluster[s.cluster] = append(byCluster[s.cluster], s)
	}
	var gws strings.Builder
	for _, c := range order {
		var urls []string
		for _, s := range byCluster[c] {
			urls = append(urls, fmt.Sprintf("%q", fmt.Sprintf("nats://127.0.0.1:%d", s.gwPort)))
		}
		fmt.Fprintf(&gws, "    { name: %s, urls: [%s] }\n", c, strings.Join(urls, ", "))
	}
	procs := map[string]*proc{}
	for _, s := range servers {
		conf := fmt.Sprintf("server_name: %s\n%s\ngateway {\n  name: %s\n  listen: \"127.0.0.1:%d\"\n  gateways: [\n%s  ]\n}\n",
			s.name, extra, s.cluster, s.gwPort, gws.String())
		if peers := byCluster[s.cluster]; len(peers) > 1 {
			var routes []string
			for _, p := range peers {
				if p.name != s.name {
					routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p.clPort))
				}
			}
			conf += fmt.Sprintf("cluster {\n  name: %s\n  listen: \"127.0.0.1:%d\"\n  routes: [%s]\n}\n", s.cluster, s.clPort, strings.Join(routes, ", "))
		}
		procs[s.name] = start(t, "-c", writeFile(t, filepath.Join(dir, s.name+".conf"), conf))
	}
	return procs
}

// TestGatewayTwoClustersOfTwo runs two clusters of two servers each with
// the built binary: messages, requests and queue traffic cross between
// any two servers of different clusters.
func TestGatewayTwoClustersOfTwo(t *testing.T) {
	ports := servertest.FreePorts(t, 8)
	p := startSupercluster(t, []gwServer{
		{"a1", "A", ports[0], ports[1]}, {"a2", "A", ports[2], ports[3]},
		{"b1", "B", ports[4], ports[5]}, {"b2", "B", ports[6], ports[7]},
	}, "")
	for _, n := range []string{"a1", "a2"} {
		p[n].waitLog(`Outbound gateway connection to "B"`)
	}
	for _, n := range []string{"b1", "b2"} {
		p[n].waitLog(`Outbound gateway connection to "A"`)
	}
	a1, a2, b1, b2 := p["a1"].connect(), p["a2"].connect(), p["b1"].connect(), p["b2"].connect()
	subB2, err := b2.SubscribeSync("east.west")
	require.NoError(t, err)
	require.NoError(t, b2.Flush())
	subA2, err := a2.SubscribeSync("west.east")
	require.NoError(t, err)
	require.NoError(t, a2.Flush())
	require.Equal(t, "from a1", string(crosses(t, a1, subB2, "east.west", []byte("from a1")).Data))
	require.Equal(t, "from b1", string(crosses(t, b1, subA2, "west.east", []byte("from b1")).Data))

	_, err = b1.Subscribe("svc.time", func(m *nats.Msg) { _ = m.Respond([]byte("b1 answers " + string(m.Data))) })
	require.NoError(t, err)
	require.NoError(t, b1.Flush())
	eventually(t, "a request from a2 answered in B", func() bool {
		m, err := a2.Request("svc.time", []byte("a2"), 500*time.Millisecond)
		return err == nil && string(m.Data) == "b1 answers a2"
	})

	// Queue group members in both clusters: A's publishes stay in A.
	// B's member first, until a2 knows it (its publishes reach it); then
	// A's, until a2 knows that one too: meanwhile a2 may still send some
	// to B (which of the two a2 hears of first is a race), so B's member
	// may hold "warm" messages but never a "j".
	qb, err := b2.QueueSubscribeSync("jobs", "workers")
	require.NoError(t, err)
	require.NoError(t, b2.Flush())
	crosses(t, a2, qb, "jobs", []byte("warm"))
	qa, err := a1.QueueSubscribeSync("jobs", "workers")
	require.NoError(t, err)
	require.NoError(t, a1.Flush())
	crosses(t, a2, qa, "jobs", []byte("warm"))
	for range 50 {
		require.NoError(t, a2.Publish("jobs", []byte("j")))
	}
	require.NoError(t, a2.Flush())
	for range 50 {
		servertest.NextMsg(t, qa)
	}
	// A's member leaves: B's member gets the work. What a2 sent B before
	// reaches it first (one gateway connection, in order).
	require.NoError(t, qa.Unsubscribe())
	require.NoError(t, a1.Flush())
	eventually(t, "B's member to get the work", func() bool {
		require.NoError(t, a2.Publish("jobs", []byte("failover")))
		for {
			m, err := qb.NextMsg(100 * time.Millisecond)
			if err != nil {
				return false
			}
			require.NotEqual(t, "j", string(m.Data), "a publish of A went to B's member while A had one")
			if string(m.Data) == "failover" {
				return true
			}
		}
	})
}

// TestGatewayThreeClusters: C lists only A, B lists only A (and A lists
// nobody): they learn each other through A and a message goes from C to
// B.
func TestGatewayThreeClusters(t *testing.T) {
	ports := servertest.FreePorts(t, 3)
	dir := t.TempDir()
	conf := func(name string, port int, remotes string) string {
		return writeFile(t, filepath.Join(dir, name+".conf"), fmt.Sprintf(
			"server_name: %s\ngateway {\n  name: %s\n  listen: \"127.0.0.1:%d\"\n  gateways: [%s]\n}\n", strings.ToLower(name)+"1", name, port, remotes))
	}
	toA := fmt.Sprintf(`{ name: A, url: "nats://127.0.0.1:%d" }`, ports[0])
	a := start(t, "-m", "-1", "-c", conf("A", ports[0], ""))
	b := start(t, "-c", conf("B", ports[1], toA))
	c := start(t, "-c", conf("C", ports[2], toA))
	for _, w := range []struct {
		p    *proc
		to   []string
		name string
	}{{a, []string{"B", "C"}, "A"}, {b, []string{"A", "C"}, "B"}, {c, []string{"A", "B"}, "C"}} {
		for _, to := range w.to {
			w.p.waitLog(fmt.Sprintf("Outbound gateway connection to %q", to))
		}
	}
	nb, nc := b.connect(), c.connect()
	sub, err := nb.SubscribeSync("c.to.b")
	require.NoError(t, err)
	require.NoError(t, nb.Flush())
	require.Equal(t, "hi", string(crosses(t, nc, sub, "c.to.b", []byte("hi")).Data))

	// A's /gatewayz: B and C learned (not configured), both ways.
	var z struct {
		Name     string `json:"name"`
		Outbound map[string]struct {
			Configured bool `json:"configured"`
			Connection struct {
				Cid uint64 `json:"cid"`
			} `json:"connection"`
		} `json:"outbound_gateways"`
		Inbound map[string][]json.RawMessage `json:"inbound_gateways"`
	}
	getJSON(t, a.monitorURL()+"/gatewayz", &z)
	require.Equal(t, "A", z.Name)
	require.Len(t, z.Outbound, 2)
	require.False(t, z.Outbound["B"].Configured)
	require.NotZero(t, z.Outbound["C"].Connection.Cid)
	require.Len(t, z.Inbound["B"], 1)
	require.Len(t, z.Inbound["C"], 1)
	var varz struct {
		Gateway struct {
			Name string `json:"name"`
			Port int    `json:"port"`
		} `json:"gateway"`
	}
	getJSON(t, a.monitorURL()+"/varz", &varz)
	require.Equal(t, "A", varz.Gateway.Name)
	require.Equal(t, ports[0], varz.Gateway.Port)
}

// TestGatewayClusterNameConflict: a gateway named differently from the
// cluster is refused at startup with upstream's error.
func TestGatewayClusterNameConflict(t *testing.T) {
	path := writeFile(t, filepath.Join(t.TempDir(), "c.conf"), `
cluster { name: X, listen: "127.0.0.1:-1" }
gateway { name: Y, listen: "127.0.0.1:-1" }
`)
	code, _, stderr := runOnce(t, "-c", path)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "cluster name conflicts between cluster and gateway definitions")
}

// TestCheckConfigGatewayBlock: -t reports every error of the block with
// its position.
func TestCheckConfigGatewayBlock(t *testing.T) {
	path := writeFile(t, filepath.Join(t.TempDir(), "g.conf"), `
gateway {
  name: A
  port: -1
  authorization { token: x }
  gateways: [ { name: B } ]
}
`)
	code, _, stderr := runOnce(t, "-t", "-c", path)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "g.conf:5:17: Gateway authorization does not support tokens")
	require.Contains(t, stderr, `gateway "B" has no URL`)
}
