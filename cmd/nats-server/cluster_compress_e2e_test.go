package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// countingProxy forwards TCP connections to target and counts the bytes
// that flow from the dialing side to target.
type countingProxy struct {
	ln     net.Listener
	target string
	up     atomic.Int64
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn // both ends of every proxied connection
}

func newCountingProxy(t *testing.T, target string) *countingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &countingProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *countingProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		t, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, t)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); n, _ := io.Copy(t, c); p.up.Add(n); t.Close() }()
		go func() { defer p.wg.Done(); io.Copy(c, t); c.Close() }()
	}
}

// close stops the proxy and waits for its copies, so up is final.
func (p *countingProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *countingProxy) addr() string { return p.ln.Addr().String() }

// TestClusterCompressionRatio sends 1 KiB compressible payloads from b to
// a subscriber on a over a route that runs through a counting proxy, with
// compression off and with s2_fast, and reports the bytes on the route.
func TestClusterCompressionRatio(t *testing.T) {
	if testing.Short() {
		t.Skip("measures through the binary")
	}
	const n = 2000
	// JSON records with varying values: compressible, not repetitive.
	rng := rand.New(rand.NewPCG(1, 2))
	payloads := make([][]byte, n)
	for i := range payloads {
		var p []byte
		for len(p) < 1024 {
			p = fmt.Appendf(p, `{"id":%d,"sensor":"temp-%02d","value":%d.%d,"unit":"celsius","ok":true},`, i, rng.IntN(20), 15+rng.IntN(10), rng.IntN(10))
		}
		payloads[i] = p[:1024]
	}
	run := func(mode string) int64 {
		dir := t.TempDir()
		conf := func(name, routes string) string {
			return writeFile(t, filepath.Join(dir, name), fmt.Sprintf("cluster {\n  name: cmp\n  listen: 127.0.0.1:-1\n  compression: %s\n  pool_size: -1\n  routes: [%s]\n}\n", mode, routes))
		}
		a := start(t, "-c", conf("a.conf", ""))
		proxy := newCountingProxy(t, strings.TrimPrefix(a.clusterURL(), "nats://"))
		b := start(t, "-c", conf("b.conf", "nats-route://"+proxy.addr()))
		ncA, ncB := a.connect(), b.connect()
		var got atomic.Int64
		_, err := ncA.Subscribe("cmp", func(*nats.Msg) { got.Add(1) })
		require.NoError(t, err)
		require.NoError(t, ncA.Flush())
		// Wait for the interest to cross.
		probe, err := ncA.SubscribeSync("probe")
		require.NoError(t, err)
		require.NoError(t, ncA.Flush())
		var m *nats.Msg
		for i := 0; i < 100 && m == nil; i++ {
			require.NoError(t, ncB.Publish("probe", nil))
			m, _ = probe.NextMsg(50 * time.Millisecond)
		}
		require.NotNil(t, m, "route not up")
		for _, p := range payloads {
			require.NoError(t, ncB.Publish("cmp", p))
		}
		require.NoError(t, ncB.Flush())
		servertest.WaitUntil(t, "every message", func() bool { return got.Load() == n })
		b.cmd.Process.Kill()
		<-b.done
		proxy.close()
		return proxy.up.Load()
	}
	off := run("off")
	fast := run("s2_fast")
	t.Logf("%d x 1 KiB from b to a: %d route bytes uncompressed, %d with s2_fast (ratio %.3f)", n, off, fast, float64(fast)/float64(off))
	require.Greater(t, off, int64(n*1024))
	require.Less(t, fast*2, off, "s2_fast should at least halve the route bytes")
}
