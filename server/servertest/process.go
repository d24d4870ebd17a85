package servertest

import (
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// UpstreamEnv is the environment variable that names an upstream
// nats-server binary for mixed-cluster tests.
const UpstreamEnv = "NATSD_UPSTREAM_SERVER"

// UpstreamBinary returns the upstream nats-server binary UpstreamEnv
// names, skipping the test when it is not set.
func UpstreamBinary(tb testing.TB) string {
	tb.Helper()
	bin := os.Getenv(UpstreamEnv)
	if bin == "" {
		tb.Skip(UpstreamEnv + " not set")
	}
	return bin
}

// FreePorts returns n distinct loopback ports that were free a moment
// ago, for programs whose flags take no -1. The ports lie below the
// kernel's ephemeral range, so a port -1 listener or an outgoing
// connection of another server cannot be handed the same port before the
// program binds it, and no port is returned twice in one test binary.
// Another test binary may still take one in between; the tests accept
// that small risk.
func FreePorts(tb testing.TB, n int) []int {
	tb.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	lo, hi := fixedPortRange()
	ports := make([]int, 0, n)
	for tries := 0; len(ports) < n; tries++ {
		if tries == 10000 {
			tb.Fatalf("servertest: no free port in [%d, %d)", lo, hi)
		}
		p := lo + rand.IntN(hi-lo)
		if portsUsed[p] {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		ln.Close()
		portsUsed[p] = true
		ports = append(ports, p)
	}
	return ports
}

var (
	portsMu   sync.Mutex
	portsUsed = map[int]bool{}
)

// fixedPortRange is the range FreePorts draws from: the ports between
// 10000 and the start of the kernel's ephemeral range, or above its end
// when that leaves too few.
func fixedPortRange() (lo, hi int) {
	ephLo, ephHi := 32768, 60999
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			l, err1 := strconv.Atoi(f[0])
			h, err2 := strconv.Atoi(f[1])
			if err1 == nil && err2 == nil && l <= h {
				ephLo, ephHi = l, h
			}
		}
	}
	if ephLo-10000 >= 2000 {
		return 10000, ephLo
	}
	return ephHi + 1, 65536
}

// StartProcess runs bin with args until the test ends, then kills it and
// waits for it. Its standard output and error go to the returned Logs,
// which a failed test prints.
func StartProcess(tb testing.TB, bin string, args ...string) *Logs {
	tb.Helper()
	logs := &Logs{}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		tb.Fatalf("servertest: start %s: %v", bin, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	tb.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if tb.Failed() {
			tb.Logf("%s output:\n%s", bin, logs.String())
		}
	})
	return logs
}

// WaitListening waits until addr (host:port) accepts TCP connections, as
// a server process does once it is up.
func WaitListening(tb testing.TB, addr string) {
	tb.Helper()
	WaitUntil(tb, addr+" to listen", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

// ConnectWhenReady waits until a nats.go client connects to url (a server
// process that may still be starting) and returns it as ConnectURL does.
func ConnectWhenReady(tb testing.TB, url string, opts ...nats.Option) *nats.Conn {
	tb.Helper()
	opts = append([]nats.Option{nats.NoReconnect(), nats.Timeout(5 * time.Second)}, opts...)
	var nc *nats.Conn
	var err error
	WaitUntil(tb, "a connection to "+url, func() bool {
		nc, err = nats.Connect(url, opts...)
		return err == nil
	})
	tb.Cleanup(nc.Close)
	return nc
}
