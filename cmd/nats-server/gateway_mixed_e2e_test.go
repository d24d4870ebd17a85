package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// TestGatewayReplyMixedCluster: cluster A is a1 (natsd) and a2 (natsd,
// then upstream), cluster B is b1 (natsd), which knows only a1's gateway
// URL, so its outbound connection to A lands on a1. A client of a2 makes
// requests answered in B, each on a fresh inbox answered at once: the
// mapped reply a1 reads off the gateway is a2's, and a1 must hand it to
// a2 over the route by a2's server hash (as upstream does), not to the
// inbox's interest, which has not reached a1 yet. Every account is
// interest-only from the start.
func TestGatewayReplyMixedCluster(t *testing.T) {
	builds := []liBin{{"natsd", binary}}
	if up := os.Getenv(servertest.UpstreamEnv); up != "" {
		builds = append(builds, liBin{"upstream", up})
	}
	for _, a2bin := range builds {
		t.Run("a2="+a2bin.name, func(t *testing.T) {
			dir := t.TempDir()
			p := servertest.FreePorts(t, 6) // a1 gw, a1 route, a2 gw, a2 route, b1 gw, b1 http
			aConf := func(name string, gw, cl, peer int) string {
				return fmt.Sprintf("server_name: %s\ngateway { name: A, listen: \"127.0.0.1:%d\", gateways [ { name: B, url: \"nats://127.0.0.1:%d\" } ] }\n"+
					"cluster { name: A, listen: \"127.0.0.1:%d\", routes [ \"nats-route://127.0.0.1:%d\" ] }\n", name, gw, p[4], cl, peer)
			}
			a1 := startBinary(t, binary, "-c", writeFile(t, filepath.Join(dir, "a1.conf"), aConf("a1", p[0], p[1], p[3])))
			a2 := startBinary(t, a2bin.path, "-c", writeFile(t, filepath.Join(dir, "a2.conf"), aConf("a2", p[2], p[3], p[1])))
			b1 := startBinary(t, binary, "-c", writeFile(t, filepath.Join(dir, "b1.conf"), fmt.Sprintf(
				"server_name: b1\nhttp: \"127.0.0.1:%d\"\ngateway { name: B, listen: \"127.0.0.1:%d\", gateways [ { name: A, url: \"nats://127.0.0.1:%d\" } ] }\n",
				p[5], p[4], p[0])))
			var z struct {
				Outbound map[string]struct {
					Conn struct {
						Port int `json:"port"`
					} `json:"connection"`
				} `json:"outbound_gateways"`
			}
			eventually(t, "b1's outbound connection to A", func() bool {
				getJSON(t, fmt.Sprintf("http://127.0.0.1:%d/gatewayz", p[5]), &z)
				_, ok := z.Outbound["A"]
				return ok
			})
			require.Equal(t, p[0], z.Outbound["A"].Conn.Port, "b1 dialed a1, the only URL it was given")
			_ = a1
			respond(t, b1.connect(), "svc.b")
			requestsAtOnce(t, a2.connect(), "svc.b", 50)
		})
	}
}
