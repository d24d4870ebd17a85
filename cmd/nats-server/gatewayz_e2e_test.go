package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// gatewayzAccs is the part of /gatewayz?accs=1 compared between builds.
type gatewayzAccs struct {
	Outbound map[string]struct {
		Accounts []struct {
			Name string `json:"name"`
			Mode string `json:"interest_mode"`
		} `json:"accounts"`
	} `json:"outbound_gateways"`
	Inbound map[string][]struct {
		Accounts []struct {
			Name string `json:"name"`
			Mode string `json:"interest_mode"`
		} `json:"accounts"`
	} `json:"inbound_gateways"`
}

// TestGatewayzAccountsAsUpstream runs clusters A and B of one server each,
// first with upstream, then with natsd: /gatewayz?accs=1 on A lists the
// same accounts in the same interest mode (every account interest-only
// from the start, as 2.9+) on the outbound and the inbound connection,
// and acc_name keeps one.
func TestGatewayzAccountsAsUpstream(t *testing.T) {
	want := map[string][]string{}
	for _, build := range liBuilds(t) {
		t.Run(build.name, func(t *testing.T) {
			dir := t.TempDir()
			ports := servertest.FreePorts(t, 5) // A http, A gateway, B gateway, A and B clients
			aConf, bConf := filepath.Join(dir, "a.conf"), filepath.Join(dir, "b.conf")
			require.NoError(t, os.WriteFile(bConf, []byte(fmt.Sprintf(
				"listen: 127.0.0.1:%d\ngateway { name: B, listen: 127.0.0.1:%d }\n", ports[4], ports[2])), 0o600))
			require.NoError(t, os.WriteFile(aConf, []byte(fmt.Sprintf(
				"listen: 127.0.0.1:%d\nhttp: 127.0.0.1:%d\ngateway { name: A, listen: 127.0.0.1:%d, gateways [ { name: B, url: \"nats://127.0.0.1:%d\" } ] }\n",
				ports[3], ports[0], ports[1], ports[2])), 0o600))
			servertest.StartProcess(t, build.path, "-c", bConf)
			servertest.WaitListening(t, fmt.Sprintf("127.0.0.1:%d", ports[2]))
			servertest.StartProcess(t, build.path, "-c", aConf)
			servertest.WaitListening(t, fmt.Sprintf("127.0.0.1:%d", ports[0]))
			url := fmt.Sprintf("http://127.0.0.1:%d/gatewayz", ports[0])
			got := map[string][]string{}
			deadline := time.Now().Add(10 * time.Second)
			for {
				var z gatewayzAccs
				getJSON(t, url+"?accs=1", &z)
				got = map[string][]string{}
				for _, a := range z.Outbound["B"].Accounts {
					got["out"] = append(got["out"], a.Name+" "+a.Mode)
				}
				for _, rg := range z.Inbound["B"] {
					for _, a := range rg.Accounts {
						got["in"] = append(got["in"], a.Name+" "+a.Mode)
					}
				}
				slices.Sort(got["out"])
				slices.Sort(got["in"])
				if slices.Contains(got["out"], "$G Interest-Only") && slices.Contains(got["in"], "$G Interest-Only") {
					break
				}
				require.False(t, time.Now().After(deadline), "gatewayz accounts: %v", got)
				time.Sleep(50 * time.Millisecond)
			}
			t.Logf("accounts: %v", got)
			if build.name == "upstream" {
				want = got
			} else {
				require.Equal(t, want, got)
			}
			var one gatewayzAccs
			getJSON(t, url+"?acc_name=$G", &one)
			require.Len(t, one.Outbound["B"].Accounts, 1)
			require.Equal(t, "$G", one.Outbound["B"].Accounts[0].Name)
		})
	}
}
