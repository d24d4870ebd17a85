//go:build !windows

package main

import (
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// TestAuthErrorEventRTT: the CLIENT.AUTH.ERR advisory carries the
// client's rtt (nanoseconds, estimated at CONNECT before any PING), as
// upstream's does; checked against upstream when NATSD_UPSTREAM_SERVER
// is set.
func TestAuthErrorEventRTT(t *testing.T) {
	conf := sysConf(t)
	check := func(url, who string) {
		_, ev := authErrEvent(t, url)
		rtt, ok := ev["client"].(map[string]any)["rtt"].(float64)
		require.True(t, ok, "%s: no rtt in %v", who, ev["client"])
		require.Greater(t, rtt, 0.0, who)
		require.Less(t, rtt, 10e9, who) // nanoseconds, not seconds or text
	}
	check(start(t, "-c", conf).url(), "natsd")
	if os.Getenv(servertest.UpstreamEnv) == "" {
		return
	}
	port := servertest.FreePorts(t, 1)[0]
	servertest.StartProcess(t, servertest.UpstreamBinary(t), "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-c", conf)
	check("nats://127.0.0.1:"+strconv.Itoa(port), "upstream")
}
