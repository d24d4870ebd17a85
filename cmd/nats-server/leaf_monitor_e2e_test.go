package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
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
	require.Equal(t, "off", l.Compression)

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
