package server_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server"
)

const systemConf = `
system_account: SYS
accounts {
  SYS: { users: [ { user: sys, password: psys } ] }
  A: { users: [ { user: a, password: pa } ] }
}
`

// sysRequest asks subject and decodes the answer.
func sysRequest(t *testing.T, nc *nats.Conn, subject, body string) map[string]any {
	t.Helper()
	m, err := nc.Request(subject, []byte(body), 3*time.Second)
	require.NoError(t, err, subject)
	var out map[string]any
	require.NoError(t, json.Unmarshal(m.Data, &out), string(m.Data))
	return out
}

func TestSystemAccountRequests(t *testing.T) {
	s := startConfigServer(t, systemConf)
	sys := connect(t, s, nats.UserInfo("sys", "psys"))
	a := connect(t, s, nats.UserInfo("a", "pa"))
	_, err := a.SubscribeSync("a.sub")
	require.NoError(t, err)
	require.NoError(t, a.Flush())

	for _, subj := range []string{"$SYS.REQ.SERVER." + s.ID() + ".VARZ", "$SYS.REQ.SERVER.PING.VARZ"} {
		r := sysRequest(t, sys, subj, "")
		require.Equal(t, s.ID(), r["server"].(map[string]any)["id"], subj)
		d := r["data"].(map[string]any)
		require.Equal(t, s.ID(), d["server_id"], subj)
		require.EqualValues(t, 2, d["connections"], subj)
		require.Equal(t, "SYS", d["system_account"], subj)
	}
	for _, subj := range []string{"$SYS.REQ.SERVER." + s.ID() + ".CONNZ", "$SYS.REQ.SERVER.PING.CONNZ"} {
		d := sysRequest(t, sys, subj, `{"auth":true,"acc":"A"}`)["data"].(map[string]any)
		require.Equal(t, s.ID(), d["server_id"], subj)
		require.EqualValues(t, 1, d["num_connections"], subj)
		c := d["connections"].([]any)[0].(map[string]any)
		require.Equal(t, "A", c["account"], subj)
		require.Equal(t, "a", c["authorized_user"], subj)
	}
	az := sysRequest(t, sys, "$SYS.REQ.SERVER.PING.ACCOUNTZ", "")["data"].(map[string]any)
	require.Equal(t, []any{"$G", "A", "SYS"}, az["accounts"])
	require.Equal(t, "ok", sysRequest(t, sys, "$SYS.REQ.SERVER.PING.HEALTHZ", "")["data"].(map[string]any)["status"])

	st := sysRequest(t, sys, "$SYS.REQ.SERVER.PING", "")
	require.Equal(t, s.ID(), st["server"].(map[string]any)["id"])
	require.EqualValues(t, 2, st["statsz"].(map[string]any)["connections"])
	st = sysRequest(t, sys, "$SYS.REQ.SERVER."+s.ID()+".STATSZ", "")
	require.EqualValues(t, 2, st["statsz"].(map[string]any)["active_accounts"])

	// A filter that leaves this server out gets silence.
	_, err = sys.Request("$SYS.REQ.SERVER.PING.VARZ", []byte(`{"server_name":"elsewhere"}`), 200*time.Millisecond)
	require.ErrorIs(t, err, nats.ErrTimeout)
	// The filter that matches is answered.
	r := sysRequest(t, sys, "$SYS.REQ.SERVER.PING.VARZ", `{"server_name":"`+s.Name()+`"}`)
	require.Equal(t, s.ID(), r["data"].(map[string]any)["server_id"])

	// Other accounts do not see $SYS.
	_, err = a.Request("$SYS.REQ.SERVER.PING.VARZ", nil, time.Second)
	require.ErrorIs(t, err, nats.ErrNoResponders)
	_, err = a.Request("$SYS.REQ.SERVER."+s.ID()+".CONNZ", nil, time.Second)
	require.ErrorIs(t, err, nats.ErrNoResponders)
}

func TestSystemAccountDefault(t *testing.T) {
	// An empty configuration has the system account $SYS, which answers
	// but which no user can reach.
	s := startServer(t, server.DefaultConfig().Options)
	require.Equal(t, server.DefaultSystemAccountName, s.SystemAccount().Name)
	nc := connect(t, s)
	_, err := nc.Request("$SYS.REQ.SERVER.PING.VARZ", nil, time.Second)
	require.ErrorIs(t, err, nats.ErrNoResponders)

	ic, err := s.NewInternalClient(server.DefaultSystemAccountName)
	require.NoError(t, err)
	defer ic.Close()
	got := make(chan []byte, 1)
	_, err = ic.Subscribe("reply.x", "", func(m *server.Msg) {
		select {
		case got <- append([]byte(nil), m.Data...):
		default:
		}
	})
	require.NoError(t, err)
	require.NoError(t, ic.Publish("$SYS.REQ.SERVER.PING.VARZ", "reply.x", nil, nil))
	select {
	case b := <-got:
		var r map[string]any
		require.NoError(t, json.Unmarshal(b, &r))
		require.Equal(t, s.ID(), r["data"].(map[string]any)["server_id"])
	case <-time.After(3 * time.Second):
		t.Fatal("no answer from the system account")
	}

	s2 := startServer(t, server.Options{})
	require.Nil(t, s2.SystemAccount())
	require.Equal(t, []string{"$G"}, mustAccountz(t, s2))
}

func mustAccountz(t *testing.T, s *server.Server) []string {
	t.Helper()
	az, err := s.Accountz(nil)
	require.NoError(t, err)
	return az.Accounts
}

func TestSystemConnectEvents(t *testing.T) {
	s := startConfigServer(t, systemConf)
	sys := connect(t, s, nats.UserInfo("sys", "psys"))
	sub, err := sys.SubscribeSync("$SYS.ACCOUNT.A.>")
	require.NoError(t, err)
	require.NoError(t, sys.Flush())

	a := connect(t, s, nats.UserInfo("a", "pa"), nats.Name("events"))
	require.NoError(t, a.Publish("x", []byte("hello")))
	require.NoError(t, a.Flush())
	cid, err := a.GetClientID()
	require.NoError(t, err)

	m, err := sub.NextMsg(3 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "$SYS.ACCOUNT.A.CONNECT", m.Subject)
	var ce map[string]any
	require.NoError(t, json.Unmarshal(m.Data, &ce))
	require.Equal(t, "io.nats.server.advisory.v1.client_connect", ce["type"])
	require.NotEmpty(t, ce["id"])
	require.NotEmpty(t, ce["timestamp"])
	require.Equal(t, s.ID(), ce["server"].(map[string]any)["id"])
	cl := ce["client"].(map[string]any)
	require.Equal(t, "A", cl["acc"])
	require.Equal(t, "a", cl["user"])
	require.Equal(t, "events", cl["name"])
	require.Equal(t, "go", cl["lang"])
	require.EqualValues(t, cid, cl["id"])

	a.Close()
	m, err = sub.NextMsg(3 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "$SYS.ACCOUNT.A.DISCONNECT", m.Subject)
	var de map[string]any
	require.NoError(t, json.Unmarshal(m.Data, &de))
	require.Equal(t, "io.nats.server.advisory.v1.client_disconnect", de["type"])
	require.Equal(t, "Client Closed", de["reason"])
	require.EqualValues(t, 1, de["received"].(map[string]any)["msgs"])
	cl = de["client"].(map[string]any)
	require.Equal(t, "A", cl["acc"])
	require.NotEmpty(t, cl["stop"])

	// Users of other accounts do not see the advisories.
	b := connect(t, s, nats.UserInfo("a", "pa"))
	bs, err := b.SubscribeSync("$SYS.>")
	require.NoError(t, err)
	require.NoError(t, b.Flush())
	connect(t, s, nats.UserInfo("a", "pa")).Close()
	_, err = bs.NextMsg(200 * time.Millisecond)
	require.ErrorIs(t, err, nats.ErrTimeout)
}
