package servertest

import (
	"net"
	"os"
	"os/exec"
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
// ago, for programs whose flags take no -1 (another process may take one
// before the program binds it; the tests accept that small risk).
func FreePorts(tb testing.TB, n int) []int {
	tb.Helper()
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatalf("servertest: free port: %v", err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
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
