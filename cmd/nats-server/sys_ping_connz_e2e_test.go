package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

const pingConnzConf = `
accounts {
  SYS: { users: [{user: sys, password: sys}] }
  A: { users: [{user: a, password: a}] }
  B: { users: [{user: b, password: b}] }
}
system_account: SYS
`

// TestSysAccountPingConnz asks $SYS.REQ.ACCOUNT.PING.CONNZ as a system
// user and as an account's user, next to an unknown account's CONNZ and
// /connz?acc=, on our binary and, when NATSD_UPSTREAM_SERVER is set, on
// upstream's; both must answer the same. Upstream 2.15.2 takes PING for
// an account name when the system account asks (it has no such
// account: an empty page without server_id), while every other account
// imports the subject as a request for its own connections.
func TestSysAccountPingConnz(t *testing.T) {
	got := map[string][]string{"natsd": pingConnzScenario(t, binary)}
	if up := os.Getenv(servertest.UpstreamEnv); up != "" {
		got["upstream"] = pingConnzScenario(t, up)
		require.Equal(t, got["upstream"], got["natsd"])
	}
	require.Equal(t, []string{
		"sys PING: server_id=false conns=0 null=true",
		"sys NOPE: server_id=false conns=0 null=true",
		"sys A: server_id=true conns=2 null=false",
		"a PING: server_id=true conns=2 null=false",
		"b PING: server_id=true conns=1 null=false",
		"http acc=NOPE: server_id=false conns=0 null=true",
		"http acc=A: server_id=true conns=2 null=false",
	}, got["natsd"])
}

// pingConnzScenario runs pingConnzConf with bin and describes each answer
// in a line.
func pingConnzScenario(t *testing.T, bin string) []string {
	t.Helper()
	conf := writeFile(t, filepath.Join(t.TempDir(), "p.conf"), pingConnzConf)
	ports := servertest.FreePorts(t, 2)
	servertest.StartProcess(t, bin, "-a", "127.0.0.1", "-p", fmt.Sprint(ports[0]), "-m", fmt.Sprint(ports[1]), "-c", conf)
	url := fmt.Sprintf("nats://127.0.0.1:%d", ports[0])
	dial := func(user string) *nats.Conn { return servertest.ConnectWhenReady(t, url, nats.UserInfo(user, user)) }
	sys, a, b := dial("sys"), dial("a"), dial("b")
	dial("a") // A has two connections

	var out []string
	describe := func(what string, data []byte) {
		var doc struct {
			Data *struct {
				ID    string             `json:"server_id"`
				Num   int                `json:"num_connections"`
				Conns *[]json.RawMessage `json:"connections"`
			} `json:"data"`
			ID    string             `json:"server_id"`
			Num   int                `json:"num_connections"`
			Conns *[]json.RawMessage `json:"connections"`
		}
		require.NoError(t, json.Unmarshal(data, &doc), "%s: %s", what, data)
		id, num, conns := doc.ID, doc.Num, doc.Conns
		if doc.Data != nil {
			id, num, conns = doc.Data.ID, doc.Data.Num, doc.Data.Conns
		}
		out = append(out, fmt.Sprintf("%s: server_id=%v conns=%d null=%v", what, id != "", num, conns == nil))
	}
	req := func(nc *nats.Conn, who, acc string) {
		m, err := nc.Request("$SYS.REQ.ACCOUNT."+acc+".CONNZ", nil, 2*time.Second)
		require.NoError(t, err, "%s %s", who, acc)
		describe(who+" "+acc, m.Data)
	}
	req(sys, "sys", "PING")
	req(sys, "sys", "NOPE")
	req(sys, "sys", "A")
	req(a, "a", "PING")
	req(b, "b", "PING")

	c := http.Client{Timeout: 5 * time.Second}
	for _, acc := range []string{"NOPE", "A"} {
		resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/connz?acc=%s", ports[1], acc))
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		describe("http acc="+acc, body)
	}
	return out
}
