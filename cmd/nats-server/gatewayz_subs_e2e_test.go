package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// TestGatewayzSubsAsUpstream runs clusters A and B of one server each,
// first with upstream, then with natsd; a client of B subscribes a
// subject and two queue groups. /gatewayz?acc_name=$G&subs=1 on A lists
// the subjects of B's interest on the outbound connection, and
// subs=detail the subscriptions, with the same JSON keys and values as
// upstream (no sid, the outbound connection's cid).
func TestGatewayzSubsAsUpstream(t *testing.T) {
	type result struct {
		subs    []string
		details []string
		keys    []string
	}
	var want *result
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
			nc := servertest.ConnectURL(t, fmt.Sprintf("nats://127.0.0.1:%d", ports[4]))
			_, err := nc.SubscribeSync("foo")
			require.NoError(t, err)
			for _, q := range [][2]string{{"bar.*", "q1"}, {"bar.*", "q1"}, {"baz.>", "q2"}} {
				_, err := nc.QueueSubscribeSync(q[0], q[1])
				require.NoError(t, err)
			}
			require.NoError(t, nc.Flush())
			url := fmt.Sprintf("http://127.0.0.1:%d/gatewayz?acc_name=$G", ports[0])
			type account struct {
				Subs   []string         `json:"subscriptions_list"`
				Detail []map[string]any `json:"subscriptions_list_detail"`
			}
			type doc struct {
				Outbound map[string]struct {
					Conn struct {
						Cid float64 `json:"cid"`
					} `json:"connection"`
					Accounts []account `json:"accounts"`
				} `json:"outbound_gateways"`
			}
			var z doc
			deadline := time.Now().Add(10 * time.Second)
			for {
				z = doc{}
				getJSON(t, url+"&subs=1", &z)
				if accs := z.Outbound["B"].Accounts; len(accs) == 1 && len(accs[0].Subs) == 3 {
					break
				}
				require.False(t, time.Now().After(deadline), "subs=1: %+v", z)
				time.Sleep(50 * time.Millisecond)
			}
			got := &result{subs: slices.Sorted(slices.Values(z.Outbound["B"].Accounts[0].Subs))}
			require.Nil(t, z.Outbound["B"].Accounts[0].Detail, "subs=1 lists no detail")
			z = doc{}
			getJSON(t, url+"&subs=detail", &z)
			acc := z.Outbound["B"].Accounts[0]
			require.Nil(t, acc.Subs, "subs=detail lists no subjects")
			keys := map[string]bool{}
			for _, d := range acc.Detail {
				require.Equal(t, z.Outbound["B"].Conn.Cid, d["cid"], "the outbound connection's cid")
				delete(d, "cid")
				for k := range d {
					keys[k] = true
				}
				got.details = append(got.details, fmt.Sprint(d))
			}
			sort.Strings(got.details)
			for k := range keys {
				got.keys = append(got.keys, k)
			}
			sort.Strings(got.keys)
			t.Logf("subs %v details %v", got.subs, strings.Join(got.details, " "))
			if want == nil {
				want = got
				return
			}
			require.Equal(t, *want, *got)
		})
	}
}
