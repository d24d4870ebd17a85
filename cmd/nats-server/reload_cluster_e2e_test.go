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

// poolClusterConf is a cluster of account ACC (user acc) whose cluster
// block gets extra keys; routes may be empty.
func poolClusterConf(extra, routes string) string {
	return fmt.Sprintf(`http: "127.0.0.1:-1"
accounts { ACC { users [{user: acc, password: acc}] } }
cluster {
  name: pc
  listen: 127.0.0.1:-1
%s
  routes: [%s]
}
`, extra, routes)
}

// routezConns are the route connections /routez lists: per account
// ("" for pooled ones) with their compression.
func routezConns(t *testing.T, p *proc) (pooled int, pinned map[string]int, compression []string) {
	t.Helper()
	var doc struct {
		Routes []struct {
			Account     string `json:"account"`
			Compression string `json:"compression"`
		} `json:"routes"`
	}
	getJSON(t, p.monitorURL()+"/routez", &doc)
	pinned = map[string]int{}
	for _, r := range doc.Routes {
		if r.Account == "" {
			pooled++
		} else {
			pinned[r.Account]++
		}
		compression = append(compression, r.Compression)
	}
	return pooled, pinned, compression
}

// clusterReloadScenario: two servers, the one of dialBin dialing the
// seed of seedBin, with the default pool reload pool_size 5, a pinned
// account ACC, s2_fast compression and export permissions that keep
// "secret" from crossing, the dialing server first; the routes are
// made anew with the new pool, the pinned route and compression, and
// messages cross as the permissions say.
func clusterReloadScenario(t *testing.T, seedBin, dialBin string) {
	dir := t.TempDir()
	seedConf := writeFile(t, filepath.Join(dir, "seed.conf"), poolClusterConf("", ""))
	seed := startBinary(t, seedBin, "-c", seedConf)
	seedRoute := strings.TrimPrefix(seed.clusterURL(), "nats://")
	ndConf := writeFile(t, filepath.Join(dir, "nd.conf"), poolClusterConf("", "nats-route://"+seedRoute))
	nd := startBinary(t, dialBin, "-c", ndConf)

	ncSeed := seed.connect(nats.UserInfo("acc", "acc"))
	ncND := nd.connect(nats.UserInfo("acc", "acc"))
	sub, err := ncSeed.SubscribeSync("x")
	require.NoError(t, err)
	secret, err := ncSeed.SubscribeSync("secret")
	require.NoError(t, err)
	require.NoError(t, ncSeed.Flush())
	servertest.PublishUntil(t, ncND, "x", []byte("before"), sub)
	servertest.WaitUntil(t, "3 pooled routes", func() bool {
		pooled, _, _ := routezConns(t, nd)
		return pooled == 3
	})

	extra := "  pool_size: 5\n  accounts: [ACC]\n  compression: s2_fast\n  permissions { export: { deny: [secret] } }"
	closed := strings.Count(nd.log.String(), "Router connection closed")
	nd.reload(ndConf, poolClusterConf(extra, "nats-route://"+seedRoute), 1)
	if dialBin == binary {
		for _, l := range []string{"Reloaded: cluster pool_size = 5", "Reloaded: cluster accounts = [ACC]",
			"Reloaded: cluster compression = s2_fast", "Reloaded: cluster permissions"} {
			nd.waitLog(l)
		}
	}
	require.NotContains(t, nd.log.String(), "Failed to reload")
	servertest.WaitUntil(t, "the old routes closed", func() bool {
		return strings.Count(nd.log.String(), "Router connection closed") > closed
	})
	seed.reload(seedConf, poolClusterConf(extra, ""), 1)
	require.NotContains(t, seed.log.String(), "Failed to reload")

	servertest.WaitUntilWithin(t, 20*time.Second, "5 pooled routes and ACC's own, compressed", func() bool {
		for _, p := range []*proc{nd, seed} {
			pooled, pinned, comp := routezConns(t, p)
			if pooled != 5 || pinned["ACC"] != 1 {
				return false
			}
			for _, c := range comp {
				if !strings.HasPrefix(c, "s2_fast") {
					return false
				}
			}
		}
		return true
	})
	// "secret" is not exported by nd: only the later "x" crosses.
	servertest.PublishUntil(t, ncND, "x", []byte("after"), sub)
	require.NoError(t, ncND.Publish("secret", []byte("no")))
	require.NoError(t, ncND.Publish("x", []byte("last")))
	for {
		m, err := sub.NextMsg(5 * time.Second)
		require.NoError(t, err)
		if string(m.Data) == "last" {
			break
		}
	}
	_, err = secret.NextMsg(0)
	require.ErrorIs(t, err, nats.ErrTimeout, "secret crossed")
}

func TestReloadClusterPoolAccountsCompressionPermissions(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers")
	}
	clusterReloadScenario(t, binary, binary)
}

// TestReloadClusterPoolWithUpstream: the same reloads with upstream's
// binary as the seed, then as the server that dials natsd.
func TestReloadClusterPoolWithUpstream(t *testing.T) {
	bin := servertest.UpstreamBinary(t)
	if testing.Short() {
		t.Skip("starts two servers")
	}
	t.Run("upstream seed", func(t *testing.T) { clusterReloadScenario(t, bin, binary) })
	t.Run("natsd seed", func(t *testing.T) { clusterReloadScenario(t, binary, bin) })
}
