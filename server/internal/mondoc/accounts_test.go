package mondoc

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"natsd.dev/server/snapshot"
)

func TestAccountStatz(t *testing.T) {
	accs := []AccountUse{
		{Name: "A", NumSubs: 2, Clients: &ClientSums{Conns: 1, InMsgs: 3, InBytes: 30, OutMsgs: 4, OutBytes: 40}},
		{Name: "B", NumSubs: 1},
		{Name: "C", Clients: &ClientSums{Conns: 2}},
	}
	names := func(az *snapshot.AccountStatz) []string {
		var n []string
		for _, a := range az.Accounts {
			n = append(n, a.Name)
		}
		return n
	}
	for _, tc := range []struct {
		name string
		opts *snapshot.AccountStatzOptions
		want []string
	}{
		{"default", nil, []string{"A", "C"}},
		{"unused", &snapshot.AccountStatzOptions{IncludeUnused: true}, []string{"A", "B", "C"}},
		{"selected", &snapshot.AccountStatzOptions{Accounts: []string{"B", "C"}}, []string{"C"}},
		{"selected unused", &snapshot.AccountStatzOptions{Accounts: []string{"B"}, IncludeUnused: true}, []string{"B"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			az := AccountStatz("id", tc.opts, accs)
			require.Equal(t, "id", az.ID)
			require.Equal(t, tc.want, names(az))
		})
	}
	a := AccountStatz("id", nil, accs).Accounts[0]
	require.Equal(t, snapshot.AccountStat{Account: "A", Name: "A", Conns: 1, TotalConns: 1, NumSubs: 2,
		Sent: snapshot.DataStats{Msgs: 4, Bytes: 40}, Received: snapshot.DataStats{Msgs: 3, Bytes: 30}}, *a)
	require.NotNil(t, AccountStatz("id", nil, nil).Accounts, "an empty list, not null")
	require.NotNil(t, AccountNames("id", "SYS", nil).Accounts, "an empty list, not null")
}

func TestHealth(t *testing.T) {
	ok := func() error { return nil }
	require.Equal(t, "ok", Health(true, false, ok).Status)
	require.Equal(t, "server is shutting down", Health(true, true, ok).Error)
	require.Equal(t, "server is not accepting connections", Health(false, false, ok).Error)
	h := Health(true, false, func() error { return errors.New("js down") })
	require.Equal(t, snapshot.HealthStatus{Status: "unavailable", StatusCode: 503, Error: "js down"}, *h)
}
