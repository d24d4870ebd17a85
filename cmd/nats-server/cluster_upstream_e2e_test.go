package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// TestClusterWithUpstream forms mixed clusters of natsd and upstream
// nats-server, each side as the seed, and checks that messages cross in
// both directions (the rolling migration case).
func TestClusterWithUpstream(t *testing.T) {
	bin := servertest.UpstreamBinary(t)
	for _, upstreamSeed := range []bool{true, false} {
		t.Run(fmt.Sprintf("upstream seed %v", upstreamSeed), func(t *testing.T) {
			ports := servertest.FreePorts(t, 2) // upstream client and cluster ports
			upURL := fmt.Sprintf("nats://127.0.0.1:%d", ports[0])
			upCluster := fmt.Sprintf("nats://127.0.0.1:%d", ports[1])
			var nd *proc
			if upstreamSeed {
				servertest.StartProcess(t, bin, "-a", "127.0.0.1", "-p", fmt.Sprint(ports[0]), "--cluster", upCluster, "--cluster_name", "mixed")
				servertest.WaitListening(t, fmt.Sprintf("127.0.0.1:%d", ports[1]))
				nd = start(t, "--cluster", "nats://127.0.0.1:-1", "--cluster_name", "mixed", "--routes", upCluster)
			} else {
				nd = start(t, "--cluster", "nats://127.0.0.1:-1", "--cluster_name", "mixed")
				servertest.StartProcess(t, bin, "-a", "127.0.0.1", "-p", fmt.Sprint(ports[0]), "--cluster", upCluster, "--cluster_name", "mixed",
					"--routes", nd.clusterURL())
			}
			up := servertest.ConnectWhenReady(t, upURL)
			ours := nd.connect()

			subUp, err := up.SubscribeSync("mixed.to.upstream")
			require.NoError(t, err)
			require.NoError(t, up.Flush())
			servertest.PublishUntil(t, ours, "mixed.to.upstream", []byte("natsd -> upstream"), subUp)

			subOurs, err := ours.SubscribeSync("mixed.to.natsd")
			require.NoError(t, err)
			require.NoError(t, ours.Flush())
			servertest.PublishUntil(t, up, "mixed.to.natsd", []byte("upstream -> natsd"), subOurs)
			if s := nd.log.String(); strings.Contains(s, "[ERR]") {
				t.Logf("natsd logged errors:\n%s", s)
			}
		})
	}
}

// TestClusterCompressionWithUpstream: one server dials the other through
// a counting proxy, both configured with s2_fast, and the dialer's clients
// send 1 KiB JSON payloads to a subscriber on the other side: they must
// cross compressed, whichever side dials.
func TestClusterCompressionWithUpstream(t *testing.T) {
	bin := servertest.UpstreamBinary(t)
	for _, natsdDials := range []bool{true, false} {
		t.Run(fmt.Sprintf("natsd dials %v", natsdDials), func(t *testing.T) {
			ports := servertest.FreePorts(t, 2)
			dir := t.TempDir()
			upURL := fmt.Sprintf("nats://127.0.0.1:%d", ports[0])
			var nd *proc
			var proxy *countingProxy
			if natsdDials {
				upConf := writeFile(t, filepath.Join(dir, "up.conf"), fmt.Sprintf(
					"listen: 127.0.0.1:%d\ncluster { name: mixed, listen: 127.0.0.1:%d, compression: s2_fast }\n", ports[0], ports[1]))
				servertest.StartProcess(t, bin, "-c", upConf)
				servertest.WaitListening(t, fmt.Sprintf("127.0.0.1:%d", ports[1]))
				proxy = newCountingProxy(t, fmt.Sprintf("127.0.0.1:%d", ports[1]))
				nd = start(t, "-c", writeFile(t, filepath.Join(dir, "nd.conf"), fmt.Sprintf(
					"cluster { name: mixed, listen: 127.0.0.1:-1, compression: s2_fast, routes: [nats-route://%s] }\n", proxy.addr())))
			} else {
				nd = start(t, "-c", writeFile(t, filepath.Join(dir, "nd.conf"), "cluster { name: mixed, listen: 127.0.0.1:-1, compression: s2_fast }\n"))
				proxy = newCountingProxy(t, strings.TrimPrefix(nd.clusterURL(), "nats://"))
				upConf := writeFile(t, filepath.Join(dir, "up.conf"), fmt.Sprintf(
					"listen: 127.0.0.1:%d\ncluster { name: mixed, listen: 127.0.0.1:%d, compression: s2_fast, routes: [nats-route://%s] }\n",
					ports[0], ports[1], proxy.addr()))
				servertest.StartProcess(t, bin, "-c", upConf)
			}
			up := servertest.ConnectWhenReady(t, upURL)
			ours := nd.connect()
			// The dialer's clients publish, so the payloads go the way
			// the proxy counts.
			pub, subConn := ours, up
			if !natsdDials {
				pub, subConn = up, ours
			}
			var got atomic.Int64
			_, err := subConn.Subscribe("mixed.cmp", func(*nats.Msg) { got.Add(1) })
			require.NoError(t, err)
			probe, err := subConn.SubscribeSync("mixed.probe")
			require.NoError(t, err)
			require.NoError(t, subConn.Flush())
			servertest.PublishUntil(t, pub, "mixed.probe", []byte("probe"), probe)

			const n = 2000
			rng := rand.New(rand.NewPCG(3, 4))
			for i := range n {
				var p []byte
				for len(p) < 1024 {
					p = fmt.Appendf(p, `{"id":%d,"sensor":"temp-%02d","value":%d.%d,"unit":"celsius","ok":true},`, i, rng.IntN(20), 15+rng.IntN(10), rng.IntN(10))
				}
				require.NoError(t, pub.Publish("mixed.cmp", p[:1024]))
			}
			require.NoError(t, pub.Flush())
			servertest.WaitUntil(t, "every message", func() bool { return got.Load() == n })
			proxy.close()
			t.Logf("%d x 1 KiB with s2_fast: %d route bytes (%.3f of the payloads)", n, proxy.up.Load(), float64(proxy.up.Load())/float64(n*1024))
			require.Less(t, proxy.up.Load(), int64(n*1024/2), "the route is not compressed")
		})
	}
}

// TestClusterSystemAccountWithUpstream: upstream gives the system account
// a route of its own (pooling, 2.10+) and refuses a peer that does not;
// natsd does the same, so $SYS requests reach every server of a mixed
// cluster from either side.
func TestClusterSystemAccountWithUpstream(t *testing.T) {
	bin := servertest.UpstreamBinary(t)
	ports := servertest.FreePorts(t, 2)
	upCluster := fmt.Sprintf("nats://127.0.0.1:%d", ports[1])
	accounts := "accounts { SYS { users [ {user: sys, password: sys} ] }, APP { users [ {user: a, password: a} ] } }\nsystem_account: SYS\n"
	dir := t.TempDir()
	upConf := writeFile(t, filepath.Join(dir, "up.conf"), fmt.Sprintf("listen: 127.0.0.1:%d\nserver_name: UP\n%scluster { name: mixed, listen: 127.0.0.1:%d }\n", ports[0], accounts, ports[1]))
	servertest.StartProcess(t, bin, "-c", upConf)
	servertest.WaitListening(t, fmt.Sprintf("127.0.0.1:%d", ports[1]))
	ndConf := writeFile(t, filepath.Join(dir, "nd.conf"), fmt.Sprintf("server_name: ND\n%scluster { name: mixed, listen: 127.0.0.1:-1, routes: [ %q ] }\n", accounts, upCluster))
	nd := start(t, "-c", ndConf)

	for name, url := range map[string]string{
		"natsd":    strings.Replace(nd.url(), "nats://", "nats://sys:sys@", 1),
		"upstream": fmt.Sprintf("nats://sys:sys@127.0.0.1:%d", ports[0]),
	} {
		nc := servertest.ConnectWhenReady(t, url)
		servers := map[string]bool{}
		for try := 0; try < 50 && len(servers) < 2; try++ {
			inbox := nats.NewInbox()
			sub, err := nc.SubscribeSync(inbox)
			require.NoError(t, err)
			require.NoError(t, nc.PublishRequest("$SYS.REQ.SERVER.PING.IDZ", inbox, nil))
			for {
				m, err := sub.NextMsg(500 * time.Millisecond)
				if err != nil {
					break
				}
				var idz struct {
					Name string `json:"name"`
				}
				require.NoError(t, json.Unmarshal(m.Data, &idz))
				servers[idz.Name] = true
			}
			sub.Unsubscribe()
		}
		require.Equal(t, map[string]bool{"ND": true, "UP": true}, servers, "servers answering PING.IDZ asked through %s", name)
	}
	require.NotContains(t, nd.log.String(), "No route for account")
}
