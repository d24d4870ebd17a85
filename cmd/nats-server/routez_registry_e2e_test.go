package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"natsd.dev/cluster"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// routeKeys are the identity of each route in a /routez document: what
// does not move between two snapshots taken a moment apart.
func routeKeys(t *testing.T, d map[string]any) []string {
	t.Helper()
	routes, ok := d["routes"].([]any)
	require.True(t, ok, "routes is a list: %v", d["routes"])
	keys := make([]string, 0, len(routes))
	for _, r := range routes {
		ri := r.(map[string]any)
		keys = append(keys, fmt.Sprint(ri["remote_id"], "/", ri["remote_name"], "/", ri["rid"]))
	}
	return keys
}

// statsz asks this server's STATSZ (upstream's shape: no data envelope).
func (e *registryEnv) statsz(t *testing.T) map[string]any {
	t.Helper()
	msg, err := e.sys.Request("$SYS.REQ.SERVER."+e.srv.ID()+".STATSZ", nil, 5*time.Second)
	require.NoError(t, err)
	var r struct {
		Stats map[string]any `json:"statsz"`
	}
	require.NoError(t, json.Unmarshal(msg.Data, &r), string(msg.Data))
	require.NotNil(t, r.Stats, string(msg.Data))
	return r.Stats
}

// TestRoutezFromClusterRegistration: the route module registers ROUTEZ
// and the cluster section of /varz on the monitoring registry when the
// cluster starts, so /routez over HTTP, $SYS.REQ.SERVER.PING.ROUTEZ and
// STATSZ describe the same routes; once the cluster shuts down they
// answer the empty defaults again.
func TestRoutezFromClusterRegistration(t *testing.T) {
	e := startRegistryEnv(t)
	_, before := e.http(t, "/varz")

	o := cluster.DefaultOptions()
	o.Name, o.Host, o.Port = "regc", "127.0.0.1", 0
	ca, err := cluster.Start(e.srv, &o)
	require.NoError(t, err)
	t.Cleanup(ca.Close)

	peer := servertest.Start(t, server.Options{ServerName: "peer"})
	po := cluster.DefaultOptions()
	po.Name, po.Host, po.Port = "regc", "127.0.0.1", -1
	u, err := cluster.ParseRouteURL("nats-route://" + ca.Addr().String())
	require.NoError(t, err)
	po.Routes = append(po.Routes, u)
	cb, err := cluster.Start(peer, &po)
	require.NoError(t, err)
	t.Cleanup(cb.Close)

	want := 3 // the default pool size: route connections to the peer
	servertest.WaitUntil(t, "the pool of routes", func() bool {
		rz, err := e.srv.Routez(nil)
		return err == nil && rz.NumRoutes == want
	})

	code, h := e.http(t, "/routez")
	require.Equal(t, http.StatusOK, code)
	d := e.ping(t, "ROUTEZ", "")
	require.Equal(t, e.srv.ID(), h["server_id"])
	require.Equal(t, "reg", h["server_name"])
	for _, k := range []string{"server_id", "server_name", "num_routes"} {
		require.Equal(t, h[k], d[k], k)
	}
	require.EqualValues(t, want, h["num_routes"])
	require.Equal(t, routeKeys(t, h), routeKeys(t, d))
	require.Equal(t, peer.ID(), h["routes"].([]any)[0].(map[string]any)["remote_id"])

	_, v := e.http(t, "/varz")
	require.Equal(t, "regc", v["cluster"].(map[string]any)["name"])
	require.EqualValues(t, want, v["routes"])
	require.Equal(t, v["cluster"], e.ping(t, "VARZ", "")["cluster"])

	// STATSZ lists the routes from the same provider.
	stat := e.statsz(t)
	require.Len(t, stat["routes"], want)
	require.EqualValues(t, 2, stat["active_servers"])

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, ca.Shutdown(ctx))

	_, h = e.http(t, "/routez")
	d = e.ping(t, "ROUTEZ", "")
	for _, doc := range []map[string]any{h, d} {
		require.Equal(t, []any{}, doc["routes"])
		require.EqualValues(t, 0, doc["num_routes"])
		require.Equal(t, e.srv.ID(), doc["server_id"])
	}
	_, v = e.http(t, "/varz")
	require.Equal(t, before["cluster"], v["cluster"])
	require.EqualValues(t, 0, v["routes"])
	stat = e.statsz(t)
	require.Nil(t, stat["routes"])
}
