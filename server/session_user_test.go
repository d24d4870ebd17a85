package server_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/auth"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
	_ "natsd.dev/server/sys"
)

// userSessConf has a system user to watch advisories and a user of
// account A that both socket clients and sessions log in as.
const userSessConf = `
system_account: SYS
accounts {
  SYS: { users: [ { user: sys, password: psys } ] }
  A: { users: [ { user: a, password: pa } ] }
}
`

// varzConns is /varz connections and total_connections.
func varzConns(t *testing.T, s *server.Server) (int, uint64) {
	t.Helper()
	v, err := s.Varz(nil)
	require.NoError(t, err)
	return v.Connections, v.TotalConnections
}

// accountConns is the connections /accstatz reports for acc.
func accountConns(t *testing.T, s *server.Server, acc string) int {
	t.Helper()
	st, err := s.AccountStatz(&snapshot.AccountStatzOptions{Accounts: []string{acc}, IncludeUnused: true})
	require.NoError(t, err)
	require.Len(t, st.Accounts, 1)
	return st.Accounts[0].Conns
}

// TestSessionCountedAsClient: a session of Kind "Client" is in /varz
// connections and total_connections and in its account's connections
// (/accstatz), as a socket client of its user is, until it closes; the
// internal kinds are not counted, as upstream counts no internal client.
func TestSessionCountedAsClient(t *testing.T) {
	s := servertest.StartConfig(t, userSessConf)
	servertest.Connect(t, s, nats.UserInfo("a", "pa"))
	conns0, total0 := varzConns(t, s)
	acc0 := accountConns(t, s, "A")
	require.Equal(t, 1, acc0)

	js, err := s.Attach(server.SessionOptions{Kind: server.SessionJetStream, Account: "A"})
	require.NoError(t, err)
	defer js.Close()
	sess, err := s.Attach(server.SessionOptions{User: "a", Password: "pa", ConnKind: auth.KindMQTT, Type: "mqtt"})
	require.NoError(t, err)

	conns, total := varzConns(t, s)
	require.Equal(t, conns0+1, conns, "varz connections")
	require.Equal(t, total0+1, total, "varz total_connections")
	require.Equal(t, acc0+1, accountConns(t, s, "A"))

	sess.Close()
	conns, total = varzConns(t, s)
	require.Equal(t, conns0, conns, "varz connections after Close")
	require.Equal(t, total0+1, total, "varz total_connections after Close")
	require.Equal(t, acc0, accountConns(t, s, "A"))
}

// TestSessionAdvisories: a session of Kind "Client" is announced on
// $SYS.ACCOUNT.<acc>.CONNECT and DISCONNECT as a socket client is, with
// its kind and type as /connz shows them; internal kinds are not.
func TestSessionAdvisories(t *testing.T) {
	s := servertest.StartConfig(t, userSessConf)
	sys := servertest.Connect(t, s, nats.UserInfo("sys", "psys"))
	sub, err := sys.SubscribeSync("$SYS.ACCOUNT.A.*")
	require.NoError(t, err)
	require.NoError(t, sys.Flush())

	// An internal session first: the first advisory must be the user's.
	js, err := s.Attach(server.SessionOptions{Kind: server.SessionJetStream, Account: "A"})
	require.NoError(t, err)
	js.Close()
	sess, err := s.Attach(server.SessionOptions{User: "a", Password: "pa", ConnKind: auth.KindMQTT,
		Type: "mqtt", Name: "dev1", MQTTClient: "dev1"})
	require.NoError(t, err)
	require.NoError(t, sess.Publish("x", "", nil, []byte("hello")))

	ev := nextAdvisory(t, sub, "$SYS.ACCOUNT.A.CONNECT")
	require.Equal(t, "io.nats.server.advisory.v1.client_connect", ev["type"])
	cl := ev["client"].(map[string]any)
	require.EqualValues(t, sess.ID(), cl["id"])
	require.Equal(t, "A", cl["acc"])
	require.Equal(t, "a", cl["user"])
	require.Equal(t, "dev1", cl["name"])
	require.Equal(t, "Client", cl["kind"])
	require.Equal(t, "mqtt", cl["client_type"])

	sess.Close()
	ev = nextAdvisory(t, sub, "$SYS.ACCOUNT.A.DISCONNECT")
	require.Equal(t, "io.nats.server.advisory.v1.client_disconnect", ev["type"])
	require.Equal(t, "Client Closed", ev["reason"])
	require.EqualValues(t, 1, ev["received"].(map[string]any)["msgs"])
	cl = ev["client"].(map[string]any)
	require.EqualValues(t, sess.ID(), cl["id"])
	require.Equal(t, "mqtt", cl["client_type"])
	require.NotEmpty(t, cl["stop"])
}

// nextAdvisory skips other events (the account's SERVER.CONNS) up to the
// first message on subject and decodes it.
func nextAdvisory(t *testing.T, sub *nats.Subscription, subject string) map[string]any {
	t.Helper()
	for {
		m, err := sub.NextMsg(3 * time.Second)
		require.NoError(t, err, "waiting for "+subject)
		if m.Subject == "$SYS.ACCOUNT.A.SERVER.CONNS" {
			continue
		}
		require.Equal(t, subject, m.Subject)
		var ev map[string]any
		require.NoError(t, json.Unmarshal(m.Data, &ev))
		return ev
	}
}
