package main

import (
	"encoding/json"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

func TestAccountsE2E(t *testing.T) {
	dir := t.TempDir()
	conf := writeFile(t, filepath.Join(dir, "acc.conf"), `
accounts {
  SYS: { users: [ { user: sys, password: sys-pw } ] }
  A: { users: [ { user: a, password: a-pw } ] }
  B: { users: [ { user: b, password: b-pw } ] }
}
system_account: SYS
`)
	p := start(t, "-c", conf)
	a := p.connect(nats.UserInfo("a", "a-pw"))
	b := p.connect(nats.UserInfo("b", "b-pw"))
	sub, err := b.SubscribeSync("x")
	require.NoError(t, err)
	require.NoError(t, b.Flush())
	require.NoError(t, a.Publish("x", []byte("from A")))
	servertest.ExpectNoMsg(t, sub, a, b) // accounts are isolated

	sys := p.connect(nats.UserInfo("sys", "sys-pw"))
	m, err := sys.Request("$SYS.REQ.SERVER.PING.CONNZ", []byte(`{"acc":"A"}`), 3*time.Second)
	require.NoError(t, err)
	var r struct {
		Server struct {
			ID string `json:"id"`
		} `json:"server"`
		Data struct {
			ServerID string `json:"server_id"`
			NumConns int    `json:"num_connections"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(m.Data, &r), string(m.Data))
	require.NotEmpty(t, r.Data.ServerID)
	require.Equal(t, r.Server.ID, r.Data.ServerID)
	require.Equal(t, 1, r.Data.NumConns)
	_, err = a.Request("$SYS.REQ.SERVER.PING.VARZ", nil, time.Second)
	require.ErrorIs(t, err, nats.ErrNoResponders)

	// A new account reloads; its users connect at once.
	writeFile(t, conf, `
accounts {
  SYS: { users: [ { user: sys, password: sys-pw } ] }
  A: { users: [ { user: a, password: a-pw } ] }
  B: { users: [ { user: b, password: b-pw } ] }
  C: {}
}
system_account: SYS
`)
	p.signal(syscall.SIGHUP)
	p.waitLog("Reloaded: accounts")
	p.waitLog("Reloaded server configuration")
}
