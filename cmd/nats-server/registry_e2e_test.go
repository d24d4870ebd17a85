package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/auth"
	"natsd.dev/monitor"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
)

// The monitoring registry composed as cmd composes it: one provider per
// kind answers the monitor's HTTP endpoint and the system account's
// $SYS.REQ.SERVER.<id|PING>.<KIND> alike, asked by real clients.

// registryEnv is a server with a system account (user sys/psys) and its
// monitor on loopback.
type registryEnv struct {
	srv  *server.Server
	sys  *nats.Conn
	base string
}

func startRegistryEnv(t *testing.T) *registryEnv {
	t.Helper()
	s := servertest.Start(t, server.Options{
		ServerName:    "reg",
		SystemAccount: "SYS",
		Authorization: &auth.Config{Users: []auth.User{{Name: "sys", Password: "psys", Account: "SYS"}}},
	})
	m, err := monitor.New(s, monitor.Options{Host: "127.0.0.1", Port: -1})
	require.NoError(t, err)
	require.NoError(t, m.Start())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, m.Shutdown(ctx))
	})
	return &registryEnv{srv: s, sys: servertest.Connect(t, s, nats.UserInfo("sys", "psys")), base: "http://" + m.Addr().String()}
}

// http fetches path and decodes its JSON.
func (e *registryEnv) http(t *testing.T, path string) (int, map[string]any) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(e.base + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), string(b))
	return resp.StatusCode, m
}

// ping asks $SYS.REQ.SERVER.PING.<kind> and $SYS.REQ.SERVER.<id>.<kind>,
// checks that both agree on the keys, and returns the PING answer's data.
func (e *registryEnv) ping(t *testing.T, kind, body string) map[string]any {
	t.Helper()
	var datas []map[string]any
	for _, subj := range []string{"$SYS.REQ.SERVER.PING." + kind, "$SYS.REQ.SERVER." + e.srv.ID() + "." + kind} {
		msg, err := e.sys.Request(subj, []byte(body), 5*time.Second)
		require.NoError(t, err, subj)
		var r struct {
			Server map[string]any `json:"server"`
			Data   map[string]any `json:"data"`
		}
		require.NoError(t, json.Unmarshal(msg.Data, &r), string(msg.Data))
		require.Equal(t, e.srv.ID(), r.Server["id"], subj)
		require.NotNil(t, r.Data, string(msg.Data))
		datas = append(datas, r.Data)
	}
	for k := range datas[0] {
		require.Contains(t, datas[1], k)
	}
	return datas[0]
}

// regGateway answers GATEWAYZ with one outbound gateway and keeps the
// options it was asked with.
type regGateway struct {
	mu  sync.Mutex
	got *snapshot.GatewayzOptions
}

func (g *regGateway) gatewayz(o *snapshot.GatewayzOptions) (*snapshot.Gatewayz, error) {
	g.mu.Lock()
	cp := *o
	g.got = &cp
	g.mu.Unlock()
	return &snapshot.Gatewayz{
		ID: "me", Name: "east", Port: 7222,
		OutboundGateways: map[string]*snapshot.RemoteGatewayz{"west": {IsConfigured: true}},
		InboundGateways:  map[string][]*snapshot.RemoteGatewayz{},
	}, nil
}

func (g *regGateway) options() snapshot.GatewayzOptions {
	g.mu.Lock()
	defer g.mu.Unlock()
	return *g.got
}

func TestRegistryProviderOverHTTPAndSys(t *testing.T) {
	e := startRegistryEnv(t)

	// Unregistered kinds answer upstream's empty shapes on both sides.
	for _, kind := range []string{"LEAFZ", "GATEWAYZ", "ROUTEZ", "JSZ"} {
		d := e.ping(t, kind, "")
		code, h := e.http(t, "/"+map[string]string{"LEAFZ": "leafz", "GATEWAYZ": "gatewayz", "ROUTEZ": "routez", "JSZ": "jsz"}[kind])
		require.Equal(t, http.StatusOK, code)
		for k := range d {
			require.Contains(t, h, k, kind)
		}
	}
	_, jsz := e.http(t, "/jsz")
	require.Equal(t, true, jsz["disabled"])

	gw := &regGateway{}
	e.srv.RegisterProvider(server.KindGatewayz, server.ProviderFunc(gw.gatewayz))

	_, h := e.http(t, "/gatewayz?gw_name=west&acc_name=A")
	require.Equal(t, "east", h["name"])
	require.Equal(t, map[string]any{"west": map[string]any{"configured": true}}, h["outbound_gateways"])
	require.Equal(t, snapshot.GatewayzOptions{Name: "west", Accounts: true, AccountName: "A"}, gw.options())

	d := e.ping(t, "GATEWAYZ", `{"name":"west","accounts":true}`)
	require.Equal(t, h["outbound_gateways"], d["outbound_gateways"])
	require.Equal(t, snapshot.GatewayzOptions{Name: "west", Accounts: true}, gw.options())

	// Unregistered again: the empty shape on both sides.
	e.srv.RegisterProvider(server.KindGatewayz, nil)
	_, h = e.http(t, "/gatewayz")
	require.Equal(t, map[string]any{}, h["outbound_gateways"])
	require.Equal(t, map[string]any{}, e.ping(t, "GATEWAYZ", "")["outbound_gateways"])
}

// regJetStream is a JSZ provider with a health check.
type regJetStream struct {
	mu     sync.Mutex
	health error
}

func (j *regJetStream) NewOptions() any { return new(snapshot.JszOptions) }

func (j *regJetStream) Snapshot(opts any) (any, error) {
	o := opts.(*snapshot.JszOptions)
	if o.Account == "bad" {
		return nil, &snapshot.MonitorError{Text: "account bad not found"}
	}
	return &snapshot.JSInfo{ID: "js", Streams: 4, Config: snapshot.JetStreamConfig{MaxMemory: 1 << 20}}, nil
}

func (j *regJetStream) CheckHealth(*snapshot.HealthzOptions) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.health
}

func TestRegistryJetStreamAndVarz(t *testing.T) {
	e := startRegistryEnv(t)
	js := &regJetStream{}
	e.srv.RegisterProvider(server.KindJsz, js)
	e.srv.RegisterVarz("jetstream", server.VarzFunc(func(v *snapshot.Varz) {
		v.JetStream.Config = json.RawMessage(`{"max_memory":1048576}`)
	}))

	_, h := e.http(t, "/jsz?acc=A&streams=1")
	require.EqualValues(t, 4, h["streams"])
	require.NotContains(t, h, "disabled", "omitted while enabled, as upstream")
	require.EqualValues(t, 4, e.ping(t, "JSZ", `{"account":"A"}`)["streams"])
	code, _, _ := regGet(t, e.base+"/jsz?acc=bad")
	require.Equal(t, http.StatusBadRequest, code)

	// The varz contributor fills /varz and $SYS VARZ, next to the
	// monitor's own http section.
	_, v := e.http(t, "/varz")
	require.Equal(t, map[string]any{"config": map[string]any{"max_memory": float64(1 << 20)}}, v["jetstream"])
	d := e.ping(t, "VARZ", "")
	require.Equal(t, v["jetstream"], d["jetstream"])
	require.Equal(t, v["http_port"], d["http_port"])

	// Health goes through the provider's HealthChecker on both sides.
	require.Equal(t, "ok", e.ping(t, "HEALTHZ", "")["status"])
	js.mu.Lock()
	js.health = errors.New("JetStream is not current")
	js.mu.Unlock()
	code, h = e.http(t, "/healthz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, "JetStream is not current", h["error"])
	require.Equal(t, "unavailable", e.ping(t, "HEALTHZ", "")["status"])

	// Unregistering puts the defaults back.
	e.srv.RegisterProvider(server.KindJsz, nil)
	e.srv.RegisterVarz("jetstream", nil)
	_, h = e.http(t, "/jsz")
	require.Equal(t, true, h["disabled"])
	code, _ = e.http(t, "/healthz")
	require.Equal(t, http.StatusOK, code)
	_, v = e.http(t, "/varz")
	require.Equal(t, map[string]any{}, v["jetstream"])
}

// regGet fetches url: status, content type, body.
func regGet(t *testing.T, url string) (int, string, []byte) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}
