package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// startMixedSupercluster is startSupercluster with a binary per server
// (bins[name], the built binary when absent).
func startMixedSupercluster(t *testing.T, servers []gwServer, bins map[string]string) map[string]*proc {
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
		conf := fmt.Sprintf("server_name: %s\ngateway {\n  name: %s\n  listen: \"127.0.0.1:%d\"\n  gateways: [\n%s  ]\n}\n",
			s.name, s.cluster, s.gwPort, gws.String())
		if peers := byCluster[s.cluster]; len(peers) > 1 {
			var routes []string
			for _, p := range peers {
				if p.name != s.name {
					routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p.clPort))
				}
			}
			conf += fmt.Sprintf("cluster {\n  name: %s\n  listen: \"127.0.0.1:%d\"\n  routes: [%s]\n}\n", s.cluster, s.clPort, strings.Join(routes, ", "))
		}
		bin := bins[s.name]
		if bin == "" {
			bin = binary
		}
		procs[s.name] = startBinary(t, bin, "-c", writeFile(t, filepath.Join(dir, s.name+".conf"), conf))
	}
	return procs
}

// requestsAtOnce makes n requests from req to subject, each with a fresh
// inbox subscribed just before, answered at once by the responder: the
// reply crosses back with no time for the inbox's interest to spread.
func requestsAtOnce(t *testing.T, req *nats.Conn, subject string, n int) {
	t.Helper()
	eventually(t, "a first answer on "+subject, func() bool {
		_, err := req.Request(subject, nil, 300*time.Millisecond)
		return err == nil
	})
	for i := range n {
		inbox := nats.NewInbox()
		sub, err := req.SubscribeSync(inbox)
		require.NoError(t, err)
		require.NoError(t, req.PublishRequest(subject, inbox, []byte(fmt.Sprint(i))))
		m, err := sub.NextMsg(servertest.DefaultWait)
		require.NoError(t, err, "request %d on %s", i, subject)
		require.Equal(t, fmt.Sprintf("re: %d", i), string(m.Data))
		require.NoError(t, sub.Unsubscribe())
	}
}

func respond(t *testing.T, nc *nats.Conn, subject string) {
	t.Helper()
	_, err := nc.Subscribe(subject, func(m *nats.Msg) { _ = m.Respond(append([]byte("re: "), m.Data...)) })
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
}

// TestGatewayReplyAcrossClusters: clusters A (a1, a2) and B (b1) of the
// built binary; requesters on every server get the replies of
// responders in the other cluster that answer at once (the _GR_. reply
// mapping, through a2's route when the reply lands on a1).
func TestGatewayReplyAcrossClusters(t *testing.T) {
	ports := servertest.FreePorts(t, 5)
	procs := startMixedSupercluster(t, []gwServer{
		{name: "a1", cluster: "A", gwPort: ports[0], clPort: ports[1]},
		{name: "a2", cluster: "A", gwPort: ports[2], clPort: ports[3]},
		{name: "b1", cluster: "B", gwPort: ports[4]},
	}, nil)
	a1, a2, b1 := procs["a1"].connect(), procs["a2"].connect(), procs["b1"].connect()
	respond(t, b1, "svc.b")
	respond(t, a1, "svc.a")
	requestsAtOnce(t, a2, "svc.b", 20)
	requestsAtOnce(t, a1, "svc.b", 20)
	requestsAtOnce(t, b1, "svc.a", 20)
}

// TestGatewayReplyWithUpstream: the same between a natsd cluster (a1,
// a2) and an upstream one (b1, b2): the hashes of the mapped replies
// agree, and requests cross every way.
func TestGatewayReplyWithUpstream(t *testing.T) {
	bin := servertest.UpstreamBinary(t)
	ports := servertest.FreePorts(t, 8)
	procs := startMixedSupercluster(t, []gwServer{
		{name: "a1", cluster: "A", gwPort: ports[0], clPort: ports[1]},
		{name: "a2", cluster: "A", gwPort: ports[2], clPort: ports[3]},
		{name: "b1", cluster: "B", gwPort: ports[4], clPort: ports[5]},
		{name: "b2", cluster: "B", gwPort: ports[6], clPort: ports[7]},
	}, map[string]string{"b1": bin, "b2": bin})
	conns := map[string]*nats.Conn{}
	for _, name := range []string{"a1", "a2", "b1", "b2"} {
		conns[name] = procs[name].connect()
	}
	respond(t, conns["a1"], "svc.a1")
	respond(t, conns["a2"], "svc.a2")
	respond(t, conns["b1"], "svc.b1")
	respond(t, conns["b2"], "svc.b2")
	for _, req := range []string{"a1", "a2"} {
		for _, svc := range []string{"svc.b1", "svc.b2"} {
			requestsAtOnce(t, conns[req], svc, 10)
		}
	}
	for _, req := range []string{"b1", "b2"} {
		for _, svc := range []string{"svc.a1", "svc.a2"} {
			requestsAtOnce(t, conns[req], svc, 10)
		}
	}
}
