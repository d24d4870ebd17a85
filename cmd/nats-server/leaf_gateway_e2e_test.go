package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// gwLeafAccounts are the accounts of every server of the leaf and
// gateway tests (upstream wants a system account with both).
const gwLeafAccounts = `accounts { SYS { users [{user: sys, password: sys}] }, APP { users [{user: a, password: a}] } }
system_account: SYS
`

// startHubGatewayPair starts cluster A's server (bin a, with a leaf node
// listener) and cluster B's (bin b), gatewayed, and waits until A's
// outbound gateway to B is registered.
func startHubGatewayPair(t *testing.T, a, b string) (*proc, *proc) {
	t.Helper()
	dir := t.TempDir()
	ports := servertest.FreePorts(t, 2)
	conf := func(name string, port, peer int, extra string) string {
		return writeFile(t, filepath.Join(dir, name+".conf"), fmt.Sprintf(`server_name: %s
%s
gateway { name: %s, listen: "127.0.0.1:%d", gateways: [ {name: %s, url: "nats://127.0.0.1:%d"} ] }
%s
`, strings.ToLower(name), gwLeafAccounts, name, port, map[string]string{"A": "B", "B": "A"}[name], peer, extra))
	}
	pb := startBinary(t, b, "-c", conf("B", ports[1], ports[0], ""))
	pa := startBinary(t, a, "-c", conf("A", ports[0], ports[1], `leafnodes { listen: "127.0.0.1:-1" }`))
	servertest.WaitUntil(t, "A's gateway to B", func() bool {
		for _, l := range strings.Split(pa.log.String(), "\n") {
			if strings.Contains(l, `Outbound gateway connection to "B" (`) && strings.Contains(l, "registered") {
				return true
			}
		}
		return false
	})
	return pa, pb
}

// gwPairs are the binaries of the hub with gateways and of the remote
// cluster: natsd for both, and with NATSD_UPSTREAM_SERVER upstream's
// binary for one of them.
func gwPairs(t *testing.T) [][3]string {
	pairs := [][3]string{{"natsd-natsd", binary, binary}}
	if up := os.Getenv("NATSD_UPSTREAM_SERVER"); up != "" {
		pairs = append(pairs, [3]string{"natsd-upstream", binary, up}, [3]string{"upstream-natsd", up, binary})
	} else {
		t.Log("NATSD_UPSTREAM_SERVER unset: natsd only")
	}
	return pairs
}

// TestLeafGatewayRepliesInterest: a hub with gateways tells a leaf node
// (a raw connection here) interest in gateway replies as one
// "LS+ _GR_.>", whatever the number of remote clusters, as upstream's
// binary does in the same set-up (compared when NATSD_UPSTREAM_SERVER is
// set).
func TestLeafGatewayRepliesInterest(t *testing.T) {
	for _, pr := range gwPairs(t) {
		t.Run(pr[0], func(t *testing.T) {
			hub, _ := startHubGatewayPair(t, pr[1], pr[2])
			raw := servertest.DialRaw(t, hub.leafAddr())
			raw.ReadUntil("INFO ")
			raw.Send(`CONNECT {"name":"rawleaf","headers":true,"user":"a","pass":"a"}` + "\r\n")
			var gr []string
			for _, l := range raw.Flush() {
				if strings.HasPrefix(l, "LS+ _GR_") {
					gr = append(gr, l)
				}
			}
			// Anything announced later would come before this PONG.
			for _, l := range raw.Flush() {
				if strings.HasPrefix(l, "LS+ _GR_") {
					gr = append(gr, l)
				}
			}
			require.Equal(t, []string{"LS+ _GR_.>"}, gr)
		})
	}
}

// TestLeafRequestsThroughGateway: requests cross a gateway to and from a
// natsd leaf node of the hub of cluster A, both ways: a requester in
// cluster B gets the answer of a responder on the leaf node (the answer
// goes up the leaf connection on "_GR_.>" interest), and a requester on
// the leaf node gets the answer of a responder in B.
func TestLeafRequestsThroughGateway(t *testing.T) {
	for _, pr := range gwPairs(t) {
		t.Run(pr[0], func(t *testing.T) {
			hub, b := startHubGatewayPair(t, pr[1], pr[2])
			l := start(t, "-c", writeFile(t, filepath.Join(t.TempDir(), "leaf.conf"), fmt.Sprintf(`server_name: leaf
leafnodes { reconnect: "100ms", remotes: [ { url: "nats-leaf://a:a@%s" } ] }
`, hub.leafAddr())))
			onLeaf := l.connect()
			onB := b.connect(nats.UserInfo("a", "a"))
			respond := func(nc *nats.Conn, subject, answer string) {
				_, err := nc.Subscribe(subject, func(m *nats.Msg) { _ = m.Respond([]byte(answer)) })
				require.NoError(t, err)
				require.NoError(t, nc.Flush())
			}
			respond(onLeaf, "svc.leaf", "from the leaf")
			respond(onB, "svc.b", "from B")
			request := func(nc *nats.Conn, subject, want string) {
				servertest.WaitUntil(t, "an answer on "+subject, func() bool {
					m, err := nc.Request(subject, []byte("q"), 200*time.Millisecond)
					if err != nil {
						return false
					}
					require.Equal(t, want, string(m.Data))
					return true
				})
			}
			request(onB, "svc.leaf", "from the leaf")
			request(onLeaf, "svc.b", "from B")
			// Once the interest is there, every request is answered.
			for range 10 {
				m, err := onB.Request("svc.leaf", []byte("q"), 2*time.Second)
				require.NoError(t, err)
				require.Equal(t, "from the leaf", string(m.Data))
				m, err = onLeaf.Request("svc.b", []byte("q"), 2*time.Second)
				require.NoError(t, err)
				require.Equal(t, "from B", string(m.Data))
			}
		})
	}
}
