package main

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"natsd.dev/auth"
	"natsd.dev/jetstream"
	"natsd.dev/monitor"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// TestJetStreamMonitoringHTTP: JetStream's JSZ provider, varz section and
// health checks reach the monitor's HTTP endpoints and $SYS alike.
func TestJetStreamMonitoringHTTP(t *testing.T) {
	s := servertest.Start(t, server.Options{
		ServerName:    "jsmon",
		SystemAccount: "SYS",
		Authorization: &auth.Config{Users: []auth.User{
			{Name: "sys", Password: "psys", Account: "SYS"},
			{Name: "a", Password: "pa"},
		}},
	})
	js, err := jetstream.Start(s, jetstream.Options{StoreDir: t.TempDir(), MaxMemory: 64 << 20, MaxStore: 1 << 30})
	require.NoError(t, err)
	t.Cleanup(func() { _ = js.Shutdown(context.Background()) })
	m, err := monitor.New(s, monitor.Options{Host: "127.0.0.1", Port: -1})
	require.NoError(t, err)
	require.NoError(t, m.Start())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, m.Shutdown(ctx))
	})
	e := &registryEnv{srv: s, sys: servertest.Connect(t, s, nats.UserInfo("sys", "psys")), base: "http://" + m.Addr().String()}

	nc := servertest.Connect(t, s, nats.UserInfo("a", "pa"))
	jsc, err := njs.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = jsc.CreateStream(ctx, njs.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}})
	require.NoError(t, err)
	for range 4 {
		_, err := jsc.Publish(ctx, "orders.new", []byte("order"))
		require.NoError(t, err)
	}

	// /jsz with accounts, streams and their configuration.
	code, j := e.http(t, "/jsz?accounts=true&streams=true&config=true")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, s.ID(), j["server_id"])
	require.EqualValues(t, 1, j["streams"])
	require.EqualValues(t, 4, j["messages"])
	require.EqualValues(t, 1<<30, j["config"].(map[string]any)["max_storage"])
	require.EqualValues(t, jetstream.APILevel, j["api"].(map[string]any)["level"])
	details := j["account_details"].([]any)
	require.Len(t, details, 1)
	acc := details[0].(map[string]any)
	require.Equal(t, "$G", acc["name"])
	sd := acc["stream_detail"].([]any)[0].(map[string]any)
	require.Equal(t, "ORDERS", sd["name"])
	require.EqualValues(t, 4, sd["state"].(map[string]any)["messages"])
	require.Equal(t, "ORDERS", sd["config"].(map[string]any)["name"])
	require.Equal(t, "jsmon", sd["cluster"].(map[string]any)["leader"])
	_, j = e.http(t, "/jsz?acc=$G")
	require.Len(t, j["account_details"], 1)
	require.NotContains(t, j["account_details"].([]any)[0].(map[string]any), "stream_detail")

	// $SYS.REQ.SERVER.PING.JSZ gets the same document.
	d := e.ping(t, "JSZ", `{"accounts":true,"streams":true}`)
	require.EqualValues(t, 4, d["messages"])
	require.Len(t, d["account_details"], 1)

	// /varz has the jetstream section.
	_, v := e.http(t, "/varz")
	jv := v["jetstream"].(map[string]any)
	require.EqualValues(t, 64<<20, jv["config"].(map[string]any)["max_memory"])
	require.EqualValues(t, 1, jv["stats"].(map[string]any)["accounts"])
	require.Equal(t, jv["config"], e.ping(t, "VARZ", "")["jetstream"].(map[string]any)["config"])

	// /healthz with JetStream options.
	for _, q := range []string{"", "?js-enabled-only=true", "?js-server-only=1", "?account=$G", "?stream=ORDERS&account=$G"} {
		code, h := e.http(t, "/healthz"+q)
		require.Equal(t, http.StatusOK, code, q)
		require.Equal(t, map[string]any{"status": "ok"}, h, q)
	}
	code, h := e.http(t, "/healthz?stream=NOPE&account=$G")
	require.Equal(t, http.StatusNotFound, code)
	require.Equal(t, `JetStream stream "NOPE" not found on account "$G"`, h["error"])
	require.Equal(t, "unavailable", h["status"])
	code, h = e.http(t, "/healthz?account=NOPE&details=true")
	require.Equal(t, http.StatusNotFound, code)
	require.Equal(t, "error", h["status"])
	require.Equal(t, []any{map[string]any{"type": "ACCOUNT", "account": "NOPE", "error": `JetStream account "NOPE" not found`}}, h["errors"])
	code, h = e.http(t, "/healthz?stream=ORDERS")
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, `"account" must not be empty when checking stream health`, h["error"])

	// /metrics has the stream's gauges.
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(e.base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	body := string(raw)
	for _, line := range []string{
		`natsd_stream_messages{account="$G",stream="ORDERS"} 4`,
		`natsd_stream_last_seq{account="$G",stream="ORDERS"} 4`,
		`natsd_stream_consumers{account="$G",stream="ORDERS"} 0`,
		"natsd_jsz_streams 1",
		"natsd_jsz_messages 4",
	} {
		require.Contains(t, body, "\n"+line+"\n")
	}

	// After JetStream stops, /jsz is "disabled" again.
	require.NoError(t, js.Shutdown(context.Background()))
	_, j = e.http(t, "/jsz")
	require.Equal(t, true, j["disabled"])
}
