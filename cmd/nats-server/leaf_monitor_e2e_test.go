package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// leafzDoc is what the tests read of /leafz (upstream's field names).
type leafzDoc struct {
	ServerID string `json:"server_id"`
	NumLeafs int    `json:"leafnodes"`
	Leafs    []struct {
		ID          uint64   `json:"id"`
		Name        string   `json:"name"`
		IsSpoke     bool     `json:"is_spoke"`
		Account     string   `json:"account"`
		IP          string   `json:"ip"`
		Port        int      `json:"port"`
		RTT         string   `json:"rtt"`
		InMsgs      int64    `json:"in_msgs"`
		OutMsgs     int64    `json:"out_msgs"`
		NumSubs     uint32   `json:"subscriptions"`
		Subs        []string `json:"subscriptions_list"`
		Compression string   `json:"compression"`
	} `json:"leafs"`
}

// The built binary as a hub and as a leaf: /leafz (with ?subs=1 and
// ?acc=), the leaf section of /varz and its leafnodes count, $SYS LEAFZ
// (server ping and the account's request), and max_leafnodes refusing a
// second leaf node of the account with upstream's error.
func TestLeafMonitoring(t *testing.T) {
	dir := t.TempDir()
	hubConf := writeFile(t, filepath.Join(dir, "hub.conf"), `
server_name: hub
http_port: -1
accounts {
  A: { users: [ { user: a, password: a }, { user: edge, password: edgepw } ], limits: { max_leafnodes: 1 } }
  SYS: { users: [ { user: sys, password: sys } ] }
}
system_account: SYS
leafnodes { listen: "127.0.0.1:-1" }
`)
	hub := start(t, "-c", hubConf)
	addr := hub.leafAddr()
	leafConf := writeFile(t, filepath.Join(dir, "leaf.conf"), `
server_name: edge1
http_port: -1
leafnodes {
  reconnect: "100ms"
  remotes: [ { url: "nats-leaf://edge:edgepw@`+addr+`", deny_imports: ["secret.>"] } ]
}
`)
	edge := start(t, "-c", leafConf)
	hub.waitLog("Leafnode connection created")
	edge.waitLog("Leafnode connection created for account: $G")

	nc := edge.connect()
	_, err := nc.SubscribeSync("watched.subject")
	require.NoError(t, err)
	require.NoError(t, nc.Flush())

	base := hub.monitorURL()
	var lz leafzDoc
	eventually(t, "the leaf's subscription in /leafz?subs=1", func() bool {
		getJSON(t, base+"/leafz?subs=1", &lz)
		return len(lz.Leafs) == 1 && slices.Contains(lz.Leafs[0].Subs, "watched.subject")
	})
	l := lz.Leafs[0]
	require.Equal(t, 1, lz.NumLeafs)
	require.Equal(t, "edge1", l.Name)
	require.False(t, l.IsSpoke)
	require.Equal(t, "A", l.Account)
	require.Equal(t, "127.0.0.1", l.IP)
	require.NotZero(t, l.ID)
	require.NotZero(t, l.Port)
	require.NotZero(t, l.NumSubs)
	require.True(t, strings.HasPrefix(l.Compression, "s2_"), "compression %q: both sides default to s2_auto", l.Compression)

	getJSON(t, base+"/leafz?acc=B", &lz)
	require.Equal(t, 0, lz.NumLeafs)
	require.NotNil(t, lz.Leafs)
	getJSON(t, base+"/leafz?acc=A", &lz)
	require.Equal(t, 1, lz.NumLeafs)
	require.Nil(t, lz.Leafs[0].Subs, "subscriptions listed without subs=1")

	var spoke leafzDoc
	getJSON(t, edge.monitorURL()+"/leafz", &spoke)
	require.Len(t, spoke.Leafs, 1)
	require.True(t, spoke.Leafs[0].IsSpoke)
	require.Equal(t, "hub", spoke.Leafs[0].Name)
	require.Equal(t, "$G", spoke.Leafs[0].Account)

	type varzDoc struct {
		Leaf struct {
			Host        string  `json:"host"`
			Port        int     `json:"port"`
			AuthTimeout float64 `json:"auth_timeout"`
			TLSTimeout  float64 `json:"tls_timeout"`
			Remotes     []struct {
				LocalAccount string   `json:"local_account"`
				URLs         []string `json:"urls"`
				Deny         *struct {
					Imports []string `json:"imports"`
				} `json:"deny"`
			} `json:"remotes"`
		} `json:"leaf"`
		Leafnodes   int `json:"leafnodes"`
		Connections int `json:"connections"`
	}
	var hv, ev varzDoc
	getJSON(t, base+"/varz", &hv)
	require.Equal(t, 1, hv.Leafnodes)
	require.Equal(t, "127.0.0.1", hv.Leaf.Host)
	require.Equal(t, addr, "127.0.0.1:"+strconv.Itoa(hv.Leaf.Port))
	require.Equal(t, 2.0, hv.Leaf.AuthTimeout)
	require.Equal(t, 2.0, hv.Leaf.TLSTimeout)
	require.Empty(t, hv.Leaf.Remotes)
	require.Equal(t, 0, hv.Connections, "a leaf connection counted as a client")
	getJSON(t, edge.monitorURL()+"/varz", &ev)
	require.Equal(t, 1, ev.Leafnodes)
	require.Len(t, ev.Leaf.Remotes, 1)
	require.Equal(t, "$G", ev.Leaf.Remotes[0].LocalAccount)
	require.Equal(t, []string{addr}, ev.Leaf.Remotes[0].URLs)
	require.NotNil(t, ev.Leaf.Remotes[0].Deny)
	require.Equal(t, []string{"secret.>"}, ev.Leaf.Remotes[0].Deny.Imports)

	// $SYS: the server's LEAFZ, the ping, and the account's request.
	sys := hub.connect(nats.UserInfo("sys", "sys"))
	var reply struct {
		Data leafzDoc `json:"data"`
	}
	m, err := sys.Request("$SYS.REQ.SERVER.PING.LEAFZ", nil, 5*time.Second)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(m.Data, &reply), string(m.Data))
	require.Equal(t, 1, reply.Data.NumLeafs, string(m.Data))
	m, err = sys.Request("$SYS.REQ.ACCOUNT.A.LEAFZ", nil, 5*time.Second)
	require.NoError(t, err)
	reply.Data = leafzDoc{}
	require.NoError(t, json.Unmarshal(m.Data, &reply), string(m.Data))
	require.Equal(t, 1, reply.Data.NumLeafs, string(m.Data))
	require.Equal(t, "A", reply.Data.Leafs[0].Account)

	// max_leafnodes: 1 — a second leaf node of account A is refused.
	leaf2 := writeFile(t, filepath.Join(dir, "leaf2.conf"), `
server_name: edge2
leafnodes {
  reconnect: "100ms"
  remotes: [ { url: "nats-leaf://edge:edgepw@`+addr+`" } ]
}
`)
	edge2 := start(t, "-c", leaf2)
	hub.waitLog("maximum account active connections exceeded")
	edge2.waitLog("maximum account active connections exceeded")
	getJSON(t, base+"/leafz", &lz)
	require.Equal(t, 1, lz.NumLeafs)
	require.Equal(t, "edge1", lz.Leafs[0].Name)

	var az struct {
		Account struct {
			LeafCnt int `json:"leafnode_connections"`
		} `json:"account_detail"`
	}
	getJSON(t, base+"/accountz?acc=A", &az)
	require.Equal(t, 1, az.Account.LeafCnt)
}

// jsonFields is the sorted field names of a JSON object.
func jsonFields(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &m), string(raw))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, ",")
}

// canonicalJSON is raw re-encoded compact, keys sorted, without HTML
// escapes.
func canonicalJSON(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(raw, &v))
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(v))
	return strings.TrimSpace(b.String())
}

// leafMonitorScenario runs a hub and a leaf of the binary bin and reports
// what monitoring shows of their leaf connection: the fields of /leafz
// and of the leaf section of /varz, the counts in /varz, /accountz,
// account statistics and $SYS LEAFZ, and max_leafnodes refusing a second
// leaf node.
func leafMonitorScenario(t *testing.T, bin string) []string {
	dir := t.TempDir()
	hub := startBinary(t, bin, "-c", writeFile(t, filepath.Join(dir, "hub.conf"), `
server_name: hub
http_port: -1
accounts {
  A: { users: [ { user: edge, password: edgepw } ], limits: { max_leafnodes: 1 } }
  SYS: { users: [ { user: sys, password: sys } ] }
}
system_account: SYS
leafnodes { listen: "127.0.0.1:-1" }
`))
	addr := hub.leafAddr()
	edgeConf := `
server_name: EDGE
http_port: -1
leafnodes {
  reconnect: "100ms"
  remotes: [ { url: "nats-leaf://edge:edgepw@` + addr + `", deny_imports: ["secret.>"] } ]
}
`
	edge := startBinary(t, bin, "-c", writeFile(t, filepath.Join(dir, "edge.conf"), strings.Replace(edgeConf, "EDGE", "edge1", 1)))
	nc := edge.connect()
	_, err := nc.SubscribeSync("watched.subject")
	require.NoError(t, err)
	require.NoError(t, nc.Flush())

	var out []string
	type leafzRaw struct {
		NumLeafs int               `json:"leafnodes"`
		Leafs    []json.RawMessage `json:"leafs"`
	}
	var lz leafzRaw
	base := hub.monitorURL()
	eventually(t, "the leaf's subscription and RTT in the hub's /leafz", func() bool {
		getJSON(t, base+"/leafz?subs=1", &lz)
		if len(lz.Leafs) != 1 {
			return false
		}
		var l struct {
			RTT  string   `json:"rtt"`
			Subs []string `json:"subscriptions_list"`
		}
		require.NoError(t, json.Unmarshal(lz.Leafs[0], &l))
		return l.RTT != "" && slices.Contains(l.Subs, "watched.subject")
	})
	var hl struct {
		Name    string `json:"name"`
		IsSpoke bool   `json:"is_spoke"`
		Account string `json:"account"`
		IP      string `json:"ip"`
	}
	require.NoError(t, json.Unmarshal(lz.Leafs[0], &hl))
	out = append(out, "hub leafz fields: "+jsonFields(t, lz.Leafs[0]),
		fmt.Sprintf("hub leafz: n=%d name=%s spoke=%v account=%s ip=%s", lz.NumLeafs, hl.Name, hl.IsSpoke, hl.Account, hl.IP))
	getJSON(t, base+"/leafz?acc=B", &lz)
	out = append(out, fmt.Sprintf("hub leafz acc=B: n=%d", lz.NumLeafs))

	eventually(t, "the RTT in the leaf's /leafz", func() bool {
		getJSON(t, edge.monitorURL()+"/leafz", &lz)
		return len(lz.Leafs) == 1 && strings.Contains(string(lz.Leafs[0]), `"rtt"`)
	})
	require.NoError(t, json.Unmarshal(lz.Leafs[0], &hl))
	out = append(out, "leaf leafz fields: "+jsonFields(t, lz.Leafs[0]),
		fmt.Sprintf("leaf leafz: name=%s spoke=%v account=%s", hl.Name, hl.IsSpoke, hl.Account))

	var v struct {
		Leaf      json.RawMessage `json:"leaf"`
		Leafnodes int             `json:"leafnodes"`
	}
	getJSON(t, base+"/varz", &v)
	out = append(out, fmt.Sprintf("hub varz: leafnodes=%d leaf fields: %s", v.Leafnodes, jsonFields(t, v.Leaf)))
	getJSON(t, edge.monitorURL()+"/varz", &v)
	out = append(out, fmt.Sprintf("leaf varz: leafnodes=%d leaf: %s", v.Leafnodes, strings.ReplaceAll(canonicalJSON(t, v.Leaf), addr, "ADDR")))

	var az struct {
		Account struct {
			LeafCnt int `json:"leafnode_connections"`
		} `json:"account_detail"`
	}
	getJSON(t, base+"/accountz?acc=A", &az)
	var st struct {
		Accounts []struct {
			Account    string `json:"acc"`
			Conns      int    `json:"conns"`
			LeafNodes  int    `json:"leafnodes"`
			TotalConns int    `json:"total_conns"`
		} `json:"account_statz"`
	}
	getJSON(t, base+"/accstatz?acc=A", &st)
	require.Len(t, st.Accounts, 1)
	out = append(out, fmt.Sprintf("accountz A: leafnode_connections=%d; accstatz A: conns=%d leafnodes=%d total=%d",
		az.Account.LeafCnt, st.Accounts[0].Conns, st.Accounts[0].LeafNodes, st.Accounts[0].TotalConns))

	sys := hub.connect(nats.UserInfo("sys", "sys"))
	m, err := sys.Request("$SYS.REQ.ACCOUNT.A.LEAFZ", nil, 5*time.Second)
	require.NoError(t, err)
	var reply struct {
		Data leafzRaw `json:"data"`
	}
	require.NoError(t, json.Unmarshal(m.Data, &reply), string(m.Data))
	out = append(out, fmt.Sprintf("$SYS.REQ.ACCOUNT.A.LEAFZ: n=%d", reply.Data.NumLeafs))

	startBinary(t, bin, "-c", writeFile(t, filepath.Join(dir, "edge2.conf"), strings.Replace(edgeConf, "EDGE", "edge2", 1)))
	hub.waitLog("maximum account active connections exceeded")
	getJSON(t, base+"/leafz", &lz)
	require.NoError(t, json.Unmarshal(lz.Leafs[0], &hl))
	out = append(out, fmt.Sprintf("after a second leaf of A: n=%d name=%s", lz.NumLeafs, hl.Name))
	return out
}

// The same scenario on our binary and, when NATSD_UPSTREAM_SERVER is
// set, on upstream's: the monitoring documents have the same fields and
// counts.
func TestLeafMonitoringDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three servers per binary")
	}
	want := []string{
		"hub leafz fields: account,compression,id,in_bytes,in_msgs,ip,is_spoke,name,out_bytes,out_msgs,port,rtt,subscriptions,subscriptions_list",
		"hub leafz: n=1 name=edge1 spoke=false account=A ip=127.0.0.1",
		"hub leafz acc=B: n=0",
		"leaf leafz fields: account,compression,id,in_bytes,in_msgs,ip,is_spoke,name,out_bytes,out_msgs,port,rtt,subscriptions",
		"leaf leafz: name=hub spoke=true account=$G",
		"hub varz: leafnodes=1 leaf fields: auth_timeout,host,port,tls_timeout",
		`leaf varz: leafnodes=1 leaf: {"remotes":[{"deny":{"imports":["secret.>"]},"local_account":"$G","urls":["ADDR"]}]}`,
		"accountz A: leafnode_connections=1; accstatz A: conns=0 leafnodes=1 total=1",
		"$SYS.REQ.ACCOUNT.A.LEAFZ: n=1",
		"after a second leaf of A: n=1 name=edge1",
	}
	require.Equal(t, want, leafMonitorScenario(t, binary), "natsd")
	if up := os.Getenv(servertest.UpstreamEnv); up != "" {
		require.Equal(t, want, leafMonitorScenario(t, up), "upstream")
	}
}

// Mixed: upstream leaf nodes connect to our hub, which lists them in
// /leafz and refuses the one too many of max_leafnodes with upstream's
// error, which the upstream leaf logs; our leaf lists upstream's hub.
func TestLeafMonitoringMixed(t *testing.T) {
	up := os.Getenv(servertest.UpstreamEnv)
	if up == "" {
		t.Skip(servertest.UpstreamEnv + " is not set")
	}
	dir := t.TempDir()
	hub := start(t, "-c", writeFile(t, filepath.Join(dir, "hub.conf"), `
server_name: natsd_hub
http_port: -1
accounts { A: { users: [ { user: edge, password: edgepw } ], limits: { max_leafnodes: 1 } } }
leafnodes { listen: "127.0.0.1:-1" }
`))
	addr := hub.leafAddr()
	edgeConf := "server_name: NAME\nleafnodes { reconnect: \"100ms\", remotes: [ { url: \"nats-leaf://edge:edgepw@" + addr + "\" } ] }\n"
	startBinary(t, up, "-c", writeFile(t, filepath.Join(dir, "up1.conf"), strings.Replace(edgeConf, "NAME", "upstream_leaf1", 1)))
	var lz leafzDoc
	eventually(t, "the upstream leaf in /leafz", func() bool {
		getJSON(t, hub.monitorURL()+"/leafz", &lz)
		return lz.NumLeafs == 1
	})
	require.Equal(t, "upstream_leaf1", lz.Leafs[0].Name)
	require.Equal(t, "A", lz.Leafs[0].Account)
	up2 := startBinary(t, up, "-c", writeFile(t, filepath.Join(dir, "up2.conf"), strings.Replace(edgeConf, "NAME", "upstream_leaf2", 1)))
	up2.waitLog("maximum account active connections exceeded")
	getJSON(t, hub.monitorURL()+"/leafz", &lz)
	require.Equal(t, 1, lz.NumLeafs)
	require.Equal(t, "upstream_leaf1", lz.Leafs[0].Name)

	uphub := startBinary(t, up, "-c", writeFile(t, filepath.Join(dir, "uphub.conf"), `
server_name: upstream_hub
leafnodes { listen: "127.0.0.1:-1" }
`))
	edge := start(t, "-c", writeFile(t, filepath.Join(dir, "edge.conf"), `
server_name: natsd_leaf
http_port: -1
leafnodes { remotes: [ { url: "nats-leaf://`+uphub.leafAddr()+`" } ] }
`))
	eventually(t, "upstream's hub in our leaf's /leafz", func() bool {
		getJSON(t, edge.monitorURL()+"/leafz", &lz)
		return lz.NumLeafs == 1
	})
	require.Equal(t, "upstream_hub", lz.Leafs[0].Name)
	require.True(t, lz.Leafs[0].IsSpoke)
}
