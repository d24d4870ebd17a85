package server

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMonitorRequest(t *testing.T) {
	s := newTestServer(t, Options{ServerName: "sys-test", Tags: []string{"az:1", "Region:EU"}})
	netPipeClient(t, s, "CONNECT {\"verbose\":false,\"name\":\"one\",\"lang\":\"test\"}\r\nSUB a.b 7\r\nPING\r\n")
	waitClients(t, s, 1)

	ask := func(kind, req string) map[string]any {
		t.Helper()
		b, err := s.MonitorRequest(kind, []byte(req))
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m), string(b))
		srv := m["server"].(map[string]any)
		require.Equal(t, s.ID(), srv["id"])
		require.Equal(t, "sys-test", srv["name"])
		require.Equal(t, Version, srv["ver"])
		require.Contains(t, srv, "seq")
		require.Contains(t, srv, "time")
		return m
	}

	v := ask(KindVarz, "")["data"].(map[string]any)
	require.Equal(t, s.ID(), v["server_id"])
	require.EqualValues(t, 1, v["connections"])

	require.Eventually(t, func() bool {
		d := ask("connz", `{"subscriptions":true,"limit":5}`)["data"].(map[string]any)
		conns := d["connections"].([]any)
		return len(conns) == 1 && d["limit"] == float64(5) && conns[0].(map[string]any)["subscriptions_list"] != nil
	}, 5*time.Second, 10*time.Millisecond)

	d := ask(KindSubsz, `{"subscriptions":true,"test":"a.b"}`)["data"].(map[string]any)
	require.Len(t, d["subscriptions_list"], 1)
	require.Equal(t, "ok", ask(KindHealthz, `{"js-enabled-only":true}`)["data"].(map[string]any)["status"])
	require.Equal(t, []any{"$G"}, ask(KindAccountz, "")["data"].(map[string]any)["accounts"])
	ask(KindRoutez, "")
	ask(KindGatewayz, "")
	ask(KindLeafz, "")
	ask(KindAccStatz, `{"include_unused":true}`)

	e := ask(KindConnz, `{"sort":"nope"}`)
	require.NotContains(t, e, "data")
	require.Equal(t, map[string]any{"code": float64(400), "description": "invalid sorting option: nope"}, e["error"])
	require.Contains(t, ask(KindConnz, `{not json`), "error")

	// Filters: a request for other servers gets no answer.
	for _, f := range []string{`{"server_name":"other"}`, `{"tags":["az:2"]}`, `{"cluster":"c"}`, `{"host":"10.9."}`} {
		_, err := s.MonitorRequest(KindVarz, []byte(f))
		require.ErrorIs(t, err, ErrNotForUs, f)
	}
	ask(KindVarz, `{"server_name":"sys","tags":["region:eu"],"host":"127.0"}`)
	_, err := s.MonitorRequest("NOPEZ", nil)
	require.ErrorIs(t, err, ErrUnknownKind)
}
