package server_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server"
	"natsd.dev/server/config"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
)

const accountsConf = `
accounts {
  A: { users: [ { user: a, password: pa } ] }
  B: { users: [ { user: b, password: pb } ] }
}
authorization {
  users: [
    { user: g, password: pg }
    { user: a2, password: pa2, account: A }
  ]
}
`

func TestAccountsIsolation(t *testing.T) {
	s := servertest.StartConfig(t, accountsConf)
	a := servertest.Connect(t, s, nats.UserInfo("a", "pa"))
	a2 := servertest.Connect(t, s, nats.UserInfo("a2", "pa2"))
	b := servertest.Connect(t, s, nats.UserInfo("b", "pb"))
	g := servertest.Connect(t, s, nats.UserInfo("g", "pg"))

	subs := map[string]*nats.Subscription{}
	conns := map[string]*nats.Conn{"a": a, "a2": a2, "b": b, "g": g}
	for name, nc := range conns {
		sub, err := nc.SubscribeSync("foo")
		require.NoError(t, err)
		require.NoError(t, nc.Flush())
		subs[name] = sub
	}
	for name, nc := range map[string]*nats.Conn{"a": a, "b": b, "g": g} {
		require.NoError(t, nc.Publish("foo", []byte(name)))
		require.NoError(t, nc.Flush())
	}
	// Each subscriber sees only its own account's message.
	want := map[string]string{"a": "a", "a2": "a", "b": "b", "g": "g"}
	for name, sub := range subs {
		m, err := sub.NextMsg(2 * time.Second)
		require.NoError(t, err, name)
		require.Equal(t, want[name], string(m.Data), name)
		servertest.ExpectNoMsg(t, sub, conns[name])
	}

	// Request/reply stays inside the account too.
	_, err := b.Subscribe("svc", func(m *nats.Msg) { _ = m.Respond([]byte("B")) })
	require.NoError(t, err)
	require.NoError(t, b.Flush())
	_, err = a.Request("svc", nil, 200*time.Millisecond)
	require.ErrorIs(t, err, nats.ErrNoResponders)
	r, err := b.Request("svc", nil, 2*time.Second)
	require.NoError(t, err)
	require.Equal(t, "B", string(r.Data))

	for acc, n := range map[string]int{"A": 2, "B": 1, "$G": 1} {
		cz, err := s.Connz(&snapshot.ConnzOptions{Account: acc, Username: true})
		require.NoError(t, err)
		require.Len(t, cz.Conns, n, acc)
		for _, ci := range cz.Conns {
			if acc != server.GlobalAccountName {
				require.Equal(t, acc, ci.Account)
			}
		}
	}
	// foo twice and the reply inbox of a.Request.
	require.Equal(t, 3, s.LookupAccount("A").NumSubscriptions())

	// The closed connection remembers its account.
	b.Close()
	servertest.WaitUntil(t, "b closed", func() bool {
		cz, err := s.Connz(&snapshot.ConnzOptions{State: snapshot.ConnClosed, Account: "B", Username: true})
		require.NoError(t, err)
		return len(cz.Conns) == 1 && cz.Conns[0].Account == "B"
	})
	require.Zero(t, s.LookupAccount("B").NumSubscriptions())
}

func TestAccountsOptions(t *testing.T) {
	c, _, err := applyText(t, accountsConf+"system_account: A\nno_system_account: false\n")
	require.NoError(t, err)
	o := c.Options
	require.Equal(t, []string{"A", "B"}, o.Accounts)
	require.Equal(t, "A", o.SystemAccount)
	accs := map[string]string{}
	for _, u := range o.Authorization.Users {
		accs[u.Name] = u.Account
	}
	require.Equal(t, map[string]string{"g": "", "a2": "A", "a": "A", "b": "B"}, accs)

	s, err := server.New(o)
	require.NoError(t, err)
	require.Equal(t, "A", s.SystemAccount().Name)

	s, err = server.New(server.Options{SystemAccount: "X", NoSystemAccount: true})
	require.NoError(t, err)
	require.Nil(t, s.SystemAccount())
	require.Nil(t, s.LookupAccount("X"))

	// The zero Options have no system account; a configuration has $SYS.
	s, err = server.New(server.Options{})
	require.NoError(t, err)
	require.Nil(t, s.SystemAccount())
	s, err = server.New(config.Default().Options)
	require.NoError(t, err)
	require.Equal(t, server.DefaultSystemAccountName, s.SystemAccount().Name)
	c, _, err = applyText(t, "no_system_account: true\n")
	require.NoError(t, err)
	s, err = server.New(c.Options)
	require.NoError(t, err)
	require.Nil(t, s.SystemAccount())

	_, err = server.New(server.Options{Accounts: []string{"A", "A"}})
	require.ErrorIs(t, err, server.ErrBadOptions)
}
