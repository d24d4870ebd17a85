//go:build !windows

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// linkStat is an account's traffic as /accstatz gives it.
type linkStat struct {
	Msgs     int64 `json:"msgs"`
	Bytes    int64 `json:"bytes"`
	Routes   *struct{ Msgs, Bytes int64 }
	Gateways *struct{ Msgs, Bytes int64 }
	Leafs    *struct{ Msgs, Bytes int64 }
}

type accTraffic struct {
	Sent     linkStat `json:"sent"`
	Received linkStat `json:"received"`
}

// accStatz fetches /accstatz of acc from the monitoring port.
func accStatz(t *testing.T, port int, acc string) accTraffic {
	t.Helper()
	code, b := httpGet(t, "http://127.0.0.1:"+strconv.Itoa(port)+"/accstatz?unused=1&accs="+acc)
	require.Equal(t, http.StatusOK, code, string(b))
	var doc struct {
		Accounts []accTraffic `json:"account_statz"`
	}
	require.NoError(t, json.Unmarshal(b, &doc), string(b))
	require.Len(t, doc.Accounts, 1, string(b))
	st := doc.Accounts[0]
	require.NotNil(t, st.Sent.Routes, string(b))
	require.NotNil(t, st.Received.Leafs, string(b))
	return st
}

// TestAccountTrafficByLink: /accstatz and $SYS.ACCOUNT.<acc>.SERVER.CONNS
// count what an account sent and received over routes and leaf node
// connections in their own fields and in the totals, as upstream's.
// A and B are routed; L is a leaf node of B, bound to B's account ACC.
func TestAccountTrafficByLink(t *testing.T) {
	dir := t.TempDir()
	ports := servertest.FreePorts(t, 5) // A's route and http, B's route and http, B's leaf
	accounts := `accounts { ACC { users [{user: u, password: u}] }, SYS { users [{user: sys, password: sys}] } }
system_account: SYS
`
	conf := func(name string, route, http int, peer int, extra string) string {
		return writeFile(t, filepath.Join(dir, name+".conf"), fmt.Sprintf(`server_name: %s
http: "127.0.0.1:%d"
%s
cluster { name: c, listen: "127.0.0.1:%d", routes: ["nats://127.0.0.1:%d"] }
%s
`, name, http, accounts, route, peer, extra))
	}
	a := start(t, "-c", conf("A", ports[0], ports[1], ports[2], ""))
	b := start(t, "-c", conf("B", ports[2], ports[3], ports[0], fmt.Sprintf(`leafnodes { listen: "127.0.0.1:%d" }`, ports[4])))
	l := start(t, "-c", writeFile(t, filepath.Join(dir, "L.conf"), fmt.Sprintf(`server_name: L
leafnodes { reconnect: "100ms", remotes: [ { url: "nats-leaf://u:u@127.0.0.1:%d" } ] }
`, ports[4])))
	b.waitLog("Leafnode connection created")
	l.waitLog("Leafnode connection created")

	onB := b.connect(nats.UserInfo("u", "u"))
	subB, err := onB.SubscribeSync("to.b")
	require.NoError(t, err)
	require.NoError(t, onB.Flush())
	onA := a.connect(nats.UserInfo("u", "u"))
	crosses(t, onA, subB, "to.b", nil) // the interest crossed the route
	onL := l.connect()
	crosses(t, onL, subB, "to.b", nil) // and the leaf connection
	for m, _ := subB.NextMsg(50 * time.Millisecond); m != nil; m, _ = subB.NextMsg(50 * time.Millisecond) {
	}

	a0, b0 := accStatz(t, ports[1], "ACC"), accStatz(t, ports[3], "ACC")
	const n, size = 7, 10
	payload := make([]byte, size)
	for range n {
		require.NoError(t, onA.Publish("to.b", payload))
		require.NoError(t, onL.Publish("to.b", payload))
	}
	require.NoError(t, onA.Flush())
	require.NoError(t, onL.Flush())
	for range 2 * n {
		servertest.NextMsg(t, subB)
	}
	var a1, b1 accTraffic
	eventually(t, "the traffic counted", func() bool {
		a1, b1 = accStatz(t, ports[1], "ACC"), accStatz(t, ports[3], "ACC")
		return b1.Sent.Msgs-b0.Sent.Msgs >= 2*n && a1.Sent.Routes.Msgs-a0.Sent.Routes.Msgs >= n
	})
	// A: n received from its client, n sent over the route.
	require.Equal(t, int64(n), a1.Sent.Routes.Msgs-a0.Sent.Routes.Msgs)
	require.Equal(t, int64(n*size), a1.Sent.Routes.Bytes-a0.Sent.Routes.Bytes)
	require.Equal(t, int64(n), a1.Sent.Msgs-a0.Sent.Msgs)
	require.Equal(t, int64(n), a1.Received.Msgs-a0.Received.Msgs)
	require.Zero(t, a1.Received.Routes.Msgs-a0.Received.Routes.Msgs)
	// B: n over the route, n over the leaf node connection, 2n to its
	// client.
	require.Equal(t, int64(n), b1.Received.Routes.Msgs-b0.Received.Routes.Msgs)
	require.Equal(t, int64(n*size), b1.Received.Routes.Bytes-b0.Received.Routes.Bytes)
	require.Equal(t, int64(n), b1.Received.Leafs.Msgs-b0.Received.Leafs.Msgs)
	require.Equal(t, int64(n*size), b1.Received.Leafs.Bytes-b0.Received.Leafs.Bytes)
	require.Equal(t, int64(2*n), b1.Received.Msgs-b0.Received.Msgs)
	require.Equal(t, int64(2*n), b1.Sent.Msgs-b0.Sent.Msgs)
	require.Zero(t, b1.Sent.Routes.Msgs-b0.Sent.Routes.Msgs)

	// The account connection event carries the same split.
	sys := b.connect(nats.UserInfo("sys", "sys"))
	ev, err := sys.SubscribeSync("$SYS.ACCOUNT.ACC.SERVER.CONNS")
	require.NoError(t, err)
	require.NoError(t, sys.Flush())
	b.connect(nats.UserInfo("u", "u")) // a connect makes B publish it
	m := servertest.NextMsg(t, ev)
	var conns accTraffic
	require.NoError(t, json.Unmarshal(m.Data, &conns), string(m.Data))
	require.NotNil(t, conns.Received.Routes, string(m.Data))
	require.GreaterOrEqual(t, conns.Received.Routes.Msgs, b1.Received.Routes.Msgs, string(m.Data))
	require.GreaterOrEqual(t, conns.Received.Leafs.Msgs, b1.Received.Leafs.Msgs, string(m.Data))
}

// TestAccountTrafficByGateway: what crosses a gateway is counted in the
// gateways parts of /accstatz (sent on one side, received on the other)
// and in the totals.
func TestAccountTrafficByGateway(t *testing.T) {
	dir := t.TempDir()
	ports := servertest.FreePorts(t, 4) // gateway and http of each
	conf := func(name string, gw, http int) string {
		return writeFile(t, filepath.Join(dir, name+".conf"), fmt.Sprintf(`server_name: %s
http: "127.0.0.1:%d"
gateway {
  name: %s
  listen: "127.0.0.1:%d"
  gateways: [ { name: GA, urls: ["nats://127.0.0.1:%d"] }, { name: GB, urls: ["nats://127.0.0.1:%d"] } ]
}
`, name, http, name, gw, ports[0], ports[2]))
	}
	a := start(t, "-c", conf("GA", ports[0], ports[1]))
	b := start(t, "-c", conf("GB", ports[2], ports[3]))
	a.waitLog(`Outbound gateway connection to "GB"`)
	b.waitLog(`Outbound gateway connection to "GA"`)
	onB := b.connect()
	sub, err := onB.SubscribeSync("to.b")
	require.NoError(t, err)
	require.NoError(t, onB.Flush())
	onA := a.connect()
	crosses(t, onA, sub, "to.b", nil)
	for m, _ := sub.NextMsg(50 * time.Millisecond); m != nil; m, _ = sub.NextMsg(50 * time.Millisecond) {
	}
	a0, b0 := accStatz(t, ports[1], "$G"), accStatz(t, ports[3], "$G")
	const n, size = 5, 12
	for range n {
		require.NoError(t, onA.Publish("to.b", make([]byte, size)))
	}
	require.NoError(t, onA.Flush())
	for range n {
		servertest.NextMsg(t, sub)
	}
	var a1, b1 accTraffic
	eventually(t, "the traffic counted", func() bool {
		a1, b1 = accStatz(t, ports[1], "$G"), accStatz(t, ports[3], "$G")
		return b1.Received.Gateways.Msgs-b0.Received.Gateways.Msgs >= n && a1.Sent.Gateways.Msgs-a0.Sent.Gateways.Msgs >= n
	})
	require.Equal(t, int64(n), a1.Sent.Gateways.Msgs-a0.Sent.Gateways.Msgs)
	require.Equal(t, int64(n*size), a1.Sent.Gateways.Bytes-a0.Sent.Gateways.Bytes)
	require.Equal(t, int64(n), a1.Sent.Msgs-a0.Sent.Msgs)
	require.Equal(t, int64(n), b1.Received.Gateways.Msgs-b0.Received.Gateways.Msgs)
	require.Equal(t, int64(n*size), b1.Received.Gateways.Bytes-b0.Received.Gateways.Bytes)
	require.Equal(t, int64(n), b1.Received.Msgs-b0.Received.Msgs)
	require.Zero(t, b1.Received.Routes.Msgs+b1.Received.Leafs.Msgs)
}
