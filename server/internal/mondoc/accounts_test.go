package mondoc

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"natsd.dev/server/snapshot"
)

func TestAccountStatz(t *testing.T) {
	accs := []AccountUse{
		{Name: "A", NumSubs: 2, Clients: &ClientSums{Conns: 1, InMsgs: 3, InBytes: 30, OutMsgs: 4, OutBytes: 40},
			Closed: ClientSums{InMsgs: 1, InBytes: 5, OutMsgs: 2, OutBytes: 6}},
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
	// The closed clients' traffic counts too, and the split by link kind
	// is there (0: natsd counts at client connections), as upstream's.
	zero := &snapshot.MsgBytes{}
	require.Equal(t, snapshot.AccountStat{Account: "A", Name: "A", Conns: 1, TotalConns: 1, NumSubs: 2,
		Sent:     snapshot.DataStats{Msgs: 6, Bytes: 46, Gateways: zero, Routes: zero, Leafs: zero},
		Received: snapshot.DataStats{Msgs: 4, Bytes: 35, Gateways: zero, Routes: zero, Leafs: zero}}, *a)
	require.NotNil(t, AccountStatz("id", nil, nil).Accounts, "an empty list, not null")
	require.NotNil(t, AccountNames("id", "SYS", nil).Accounts, "an empty list, not null")
}

func TestHealth(t *testing.T) {
	ok := func() error { return nil }
	none := &snapshot.HealthzOptions{}
	require.Equal(t, "ok", Health(true, false, nil, ok).Status)
	require.Equal(t, "server is shutting down", Health(true, true, none, ok).Error)
	require.Equal(t, "server is not accepting connections", Health(false, false, none, ok).Error)
	h := Health(true, false, none, func() error { return errors.New("js down") })
	require.Equal(t, snapshot.HealthStatus{Status: "unavailable", StatusCode: 503, Error: "js down"}, *h)

	// Bad requests come first, as upstream.
	h = Health(true, false, &snapshot.HealthzOptions{Stream: "S"}, ok)
	require.Equal(t, snapshot.HealthStatus{Status: "error", StatusCode: 400, Error: `"account" must not be empty when checking stream health`}, *h)
	h = Health(true, false, &snapshot.HealthzOptions{Account: "A", Consumer: "C", Details: true}, ok)
	require.Equal(t, snapshot.HealthStatus{Status: "error", StatusCode: 400, Errors: []snapshot.HealthzError{
		{Type: snapshot.HealthzErrorBadRequest, Error: `"stream" must not be empty when checking consumer health`}}}, *h)

	// A HealthError sets the code and the problems.
	nf := func() error {
		return &snapshot.HealthError{StatusCode: 404, Errors: []snapshot.HealthzError{
			{Type: snapshot.HealthzErrorAccount, Account: "X", Error: `JetStream account "X" not found`}}}
	}
	h = Health(true, false, &snapshot.HealthzOptions{Account: "X"}, nf)
	require.Equal(t, snapshot.HealthStatus{Status: "unavailable", StatusCode: 404, Error: `JetStream account "X" not found`}, *h)
	h = Health(true, false, &snapshot.HealthzOptions{Account: "X", Details: true}, nf)
	require.Equal(t, snapshot.HealthStatus{Status: "error", StatusCode: 404, Errors: []snapshot.HealthzError{
		{Type: snapshot.HealthzErrorAccount, Account: "X", Error: `JetStream account "X" not found`}}}, *h)
	h = Health(true, true, &snapshot.HealthzOptions{Details: true}, ok)
	require.Equal(t, []snapshot.HealthzError{{Type: snapshot.HealthzErrorConn, Error: "server is shutting down"}}, h.Errors)
	require.Equal(t, "ok", Health(true, false, &snapshot.HealthzOptions{Details: true}, ok).Status)
}
