package main

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
)

// upstreamEnv names an upstream nats-server binary for the mixed-cluster
// test; without it the test is skipped. Build one with
// `go build github.com/nats-io/nats-server/v2` in a scratch module.
const upstreamEnv = "NATSD_UPSTREAM_SERVER"

// freePorts returns n ports that were free a moment ago (upstream's
// flags take no -1 for the cluster port).
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// startUpstream runs the upstream binary with args until the test ends
// and returns its log.
func startUpstream(t *testing.T, bin string, args ...string) *syncBuffer {
	t.Helper()
	log := &syncBuffer{}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = log
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("upstream log:\n%s", log.String())
		}
	})
	return log
}

// crosses publishes on from until sub (on another server) gets a message.
func crosses(t *testing.T, from *nats.Conn, sub *nats.Subscription, subject string) bool {
	t.Helper()
	for range 100 {
		require.NoError(t, from.Publish(subject, []byte("x")))
		if _, err := sub.NextMsg(50 * time.Millisecond); err == nil {
			return true
		}
	}
	return false
}

// TestClusterWithUpstream forms mixed clusters of natsd and upstream
// nats-server, each side as the seed, and checks that messages cross in
// both directions (the rolling migration case).
func TestClusterWithUpstream(t *testing.T) {
	bin := os.Getenv(upstreamEnv)
	if bin == "" {
		t.Skip(upstreamEnv + " not set")
	}
	for _, upstreamSeed := range []bool{true, false} {
		t.Run(fmt.Sprintf("upstream seed %v", upstreamSeed), func(t *testing.T) {
			ports := freePorts(t, 2) // upstream client and cluster ports
			upURL := fmt.Sprintf("nats://127.0.0.1:%d", ports[0])
			upCluster := fmt.Sprintf("nats://127.0.0.1:%d", ports[1])
			var nd *proc
			if upstreamSeed {
				startUpstream(t, bin, "-a", "127.0.0.1", "-p", fmt.Sprint(ports[0]), "--cluster", upCluster, "--cluster_name", "mixed")
				time.Sleep(300 * time.Millisecond)
				nd = start(t, "--cluster", "nats://127.0.0.1:-1", "--cluster_name", "mixed", "--routes", upCluster)
			} else {
				nd = start(t, "--cluster", "nats://127.0.0.1:-1", "--cluster_name", "mixed")
				startUpstream(t, bin, "-a", "127.0.0.1", "-p", fmt.Sprint(ports[0]), "--cluster", upCluster, "--cluster_name", "mixed",
					"--routes", nd.clusterURL())
			}
			var up *nats.Conn
			var err error
			for range 50 {
				if up, err = nats.Connect(upURL, nats.NoReconnect()); err == nil {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			require.NoError(t, err)
			t.Cleanup(up.Close)
			ours := nd.connect()

			subUp, err := up.SubscribeSync("mixed.to.upstream")
			require.NoError(t, err)
			require.NoError(t, up.Flush())
			require.True(t, crosses(t, ours, subUp, "mixed.to.upstream"), "natsd -> upstream")

			subOurs, err := ours.SubscribeSync("mixed.to.natsd")
			require.NoError(t, err)
			require.NoError(t, ours.Flush())
			require.True(t, crosses(t, up, subOurs, "mixed.to.natsd"), "upstream -> natsd")
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
	bin := os.Getenv(upstreamEnv)
	if bin == "" {
		t.Skip(upstreamEnv + " not set")
	}
	for _, natsdDials := range []bool{true, false} {
		t.Run(fmt.Sprintf("natsd dials %v", natsdDials), func(t *testing.T) {
			ports := freePorts(t, 2)
			dir := t.TempDir()
			upURL := fmt.Sprintf("nats://127.0.0.1:%d", ports[0])
			var nd *proc
			var proxy *countingProxy
			if natsdDials {
				upConf := writeFile(t, filepath.Join(dir, "up.conf"), fmt.Sprintf(
					"listen: 127.0.0.1:%d\ncluster { name: mixed, listen: 127.0.0.1:%d, compression: s2_fast }\n", ports[0], ports[1]))
				startUpstream(t, bin, "-c", upConf)
				time.Sleep(300 * time.Millisecond)
				proxy = newCountingProxy(t, fmt.Sprintf("127.0.0.1:%d", ports[1]))
				nd = start(t, "-c", writeFile(t, filepath.Join(dir, "nd.conf"), fmt.Sprintf(
					"cluster { name: mixed, listen: 127.0.0.1:-1, compression: s2_fast, routes: [nats-route://%s] }\n", proxy.addr())))
			} else {
				nd = start(t, "-c", writeFile(t, filepath.Join(dir, "nd.conf"), "cluster { name: mixed, listen: 127.0.0.1:-1, compression: s2_fast }\n"))
				proxy = newCountingProxy(t, strings.TrimPrefix(nd.clusterURL(), "nats://"))
				upConf := writeFile(t, filepath.Join(dir, "up.conf"), fmt.Sprintf(
					"listen: 127.0.0.1:%d\ncluster { name: mixed, listen: 127.0.0.1:%d, compression: s2_fast, routes: [nats-route://%s] }\n",
					ports[0], ports[1], proxy.addr()))
				startUpstream(t, bin, "-c", upConf)
			}
			var up *nats.Conn
			var err error
			for range 50 {
				if up, err = nats.Connect(upURL, nats.NoReconnect()); err == nil {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			require.NoError(t, err)
			t.Cleanup(up.Close)
			ours := nd.connect()
			// The dialer's clients publish, so the payloads go the way
			// the proxy counts.
			pub, subConn := ours, up
			if !natsdDials {
				pub, subConn = up, ours
			}
			var got atomic.Int64
			_, err = subConn.Subscribe("mixed.cmp", func(*nats.Msg) { got.Add(1) })
			require.NoError(t, err)
			probe, err := subConn.SubscribeSync("mixed.probe")
			require.NoError(t, err)
			require.NoError(t, subConn.Flush())
			require.True(t, crosses(t, pub, probe, "mixed.probe"), "no route")

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
			eventually(t, "every message", func() bool { return got.Load() == n })
			proxy.close()
			t.Logf("%d x 1 KiB with s2_fast: %d route bytes (%.3f of the payloads)", n, proxy.up.Load(), float64(proxy.up.Load())/float64(n*1024))
			require.Less(t, proxy.up.Load(), int64(n*1024/2), "the route is not compressed")
		})
	}
}
