package jetstream_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
	_ "natsd.dev/server/sys" // answers $SYS requests
)

// monConfig has a system account and, with the global account $G, three
// JetStream accounts.
const monConfig = `
system_account: SYS
accounts {
	SYS { users [{user: sys, password: psys}] }
	A { users [{user: a, password: pa}] }
	B { users [{user: b, password: pb}] }
}
`

// startMon starts a server of monConfig with JetStream in dir ("" for a
// temporary one).
func startMon(tb testing.TB, dir string, o jetstream.Options) (*server.Server, *jetstream.JetStream) {
	tb.Helper()
	s := servertest.StartConfig(tb, monConfig)
	if dir == "" {
		dir = tb.TempDir()
	}
	o.StoreDir = dir
	js, err := jetstream.Start(s, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = js.Shutdown(context.Background()) })
	return s, js
}

// fillStreams creates ORDERS (file, 5 messages, max_bytes 1 MiB) and CACHE
// (memory, 3 messages) in account A.
func fillStreams(tb testing.TB, s *server.Server) {
	tb.Helper()
	nc := servertest.Connect(tb, s, nats.UserInfo("a", "pa"))
	js, err := njs.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	c := ctx(tb)
	if _, err := js.CreateStream(c, njs.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, MaxBytes: 1 << 20}); err != nil {
		tb.Fatal(err)
	}
	if _, err := js.CreateStream(c, njs.StreamConfig{Name: "CACHE", Subjects: []string{"cache.*"}, Storage: njs.MemoryStorage}); err != nil {
		tb.Fatal(err)
	}
	for i := range 5 {
		if _, err := js.Publish(c, "orders.new", []byte("order")); err != nil {
			tb.Fatal(i, err)
		}
	}
	for i := range 3 {
		if _, err := js.Publish(c, "cache.x", []byte("c")); err != nil {
			tb.Fatal(i, err)
		}
	}
}

func jsz(tb testing.TB, s *server.Server, o *snapshot.JszOptions) *snapshot.JSInfo {
	tb.Helper()
	d, err := s.Snapshot(server.KindJsz, o)
	if err != nil {
		tb.Fatal(err)
	}
	ji, ok := d.(*snapshot.JSInfo)
	if !ok {
		tb.Fatalf("jsz document %T", d)
	}
	return ji
}

func healthz(tb testing.TB, s *server.Server, o *snapshot.HealthzOptions) *snapshot.HealthStatus {
	tb.Helper()
	d, err := s.Snapshot(server.KindHealthz, o)
	if err != nil {
		tb.Fatal(err)
	}
	return d.(*snapshot.HealthStatus)
}

// asMap renders v as upstream's JSON and decodes it generically, to check
// field names.
func asMap(tb testing.TB, v any) map[string]any {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}

func TestMonitorJsz(t *testing.T) {
	s, js := startMon(t, "", jetstream.Options{MaxMemory: 64 << 20, MaxStore: 1 << 30, Domain: "hub",
		Limits: jetstream.ServerLimits{MaxAckPending: 500}})
	fillStreams(t, s)

	ji := jsz(t, s, nil)
	if ji.ID != s.ID() || ji.Disabled || ji.Streams != 2 || ji.Messages != 8 || ji.Consumers != 0 || ji.Bytes == 0 {
		t.Fatalf("totals %+v", ji)
	}
	if ji.Accounts != 3 || ji.Total != 3 || ji.Memory == 0 || ji.Store == 0 || ji.Memory+ji.Store != ji.Bytes {
		t.Fatalf("usage %+v", ji.JetStreamStats)
	}
	if ji.ReservedStore != 1<<20 || ji.ReservedMemory != 0 {
		t.Fatalf("reserved %+v", ji.JetStreamStats)
	}
	if ji.API.Level != jetstream.APILevel || ji.API.Total == 0 {
		t.Fatalf("api %+v", ji.API)
	}
	want := snapshot.JetStreamConfig{MaxMemory: 64 << 20, MaxStore: 1 << 30, StoreDir: js.StoreDir(), SyncAlways: true, Domain: "hub", Strict: true}
	if ji.Config != want {
		t.Fatalf("config %+v, want %+v", ji.Config, want)
	}
	if ji.Limits == nil || ji.Limits.MaxAckPending != 500 {
		t.Fatalf("limits %+v", ji.Limits)
	}
	if ji.AccountDetails != nil {
		t.Fatalf("details without accounts: %+v", ji.AccountDetails)
	}
	m := asMap(t, ji)
	for _, k := range []string{"server_id", "now", "config", "memory", "storage", "reserved_memory", "reserved_storage",
		"accounts", "ha_assets", "api", "streams", "consumers", "messages", "bytes", "limits", "total"} {
		if _, ok := m[k]; !ok {
			t.Errorf("jsz has no %q: %v", k, m)
		}
	}
	if _, ok := m["disabled"]; ok {
		t.Errorf("disabled shown while enabled: %v", m)
	}
	if m["config"].(map[string]any)["sync_always"] != true || m["limits"].(map[string]any)["max_ack_pending"] != float64(500) {
		t.Errorf("config/limits %v %v", m["config"], m["limits"])
	}

	// Accounts with streams and their configuration.
	ji = jsz(t, s, &snapshot.JszOptions{Accounts: true, Streams: true, Config: true})
	if len(ji.AccountDetails) != 3 || ji.AccountDetails[0].Name != "$G" || ji.AccountDetails[1].Name != "A" || ji.AccountDetails[2].Name != "B" {
		t.Fatalf("details %+v", ji.AccountDetails)
	}
	a := ji.AccountDetails[1]
	if a.ID != "A" || a.Memory == 0 || a.Store == 0 || a.ReservedStore != 1<<20 || a.API.Total == 0 || len(a.Streams) != 2 {
		t.Fatalf("account A %+v", a)
	}
	cache, orders := a.Streams[0], a.Streams[1]
	if cache.Name != "CACHE" || orders.Name != "ORDERS" {
		t.Fatalf("stream order %q %q", cache.Name, orders.Name)
	}
	if orders.State.Msgs != 5 || orders.State.FirstSeq != 1 || orders.State.LastSeq != 5 || orders.State.Bytes == 0 || cache.State.Msgs != 3 {
		t.Fatalf("states %+v %+v", orders.State, cache.State)
	}
	if orders.Created.IsZero() || time.Since(orders.Created) > time.Minute {
		t.Fatalf("created %v", orders.Created)
	}
	var cfg njs.StreamConfig
	if err := json.Unmarshal(orders.Config, &cfg); err != nil || cfg.Name != "ORDERS" || cfg.MaxBytes != 1<<20 || cfg.Storage != njs.FileStorage {
		t.Fatalf("config %s %v", orders.Config, err)
	}
	var cl struct {
		Leader string `json:"leader"`
	}
	if err := json.Unmarshal(orders.Cluster, &cl); err != nil || cl.Leader != s.Name() {
		t.Fatalf("cluster %s %v", orders.Cluster, err)
	}
	if b := ji.AccountDetails[2]; b.ID != "B" || b.Streams != nil || b.Memory != 0 {
		t.Fatalf("account B %+v", b)
	}
	m = asMap(t, ji)
	ad := m["account_details"].([]any)[1].(map[string]any)
	for _, k := range []string{"name", "id", "memory", "storage", "reserved_memory", "reserved_storage", "accounts", "ha_assets", "api", "stream_detail"} {
		if _, ok := ad[k]; !ok {
			t.Errorf("account detail has no %q: %v", k, ad)
		}
	}
	sd := ad["stream_detail"].([]any)[1].(map[string]any)
	for _, k := range []string{"name", "created", "cluster", "config", "state"} {
		if _, ok := sd[k]; !ok {
			t.Errorf("stream detail has no %q: %v", k, sd)
		}
	}
	st := sd["state"].(map[string]any)
	if st["messages"] != float64(5) || st["consumer_count"] != float64(0) || st["last_seq"] != float64(5) {
		t.Errorf("state %v", st)
	}

	// Streams without config=true have none.
	ji = jsz(t, s, &snapshot.JszOptions{Streams: true})
	if len(ji.AccountDetails) != 3 || ji.AccountDetails[1].Streams[1].Config != nil {
		t.Fatalf("streams without config %+v", ji.AccountDetails)
	}
	// One account by name, with or without streams.
	ji = jsz(t, s, &snapshot.JszOptions{Account: "A"})
	if len(ji.AccountDetails) != 1 || ji.AccountDetails[0].Name != "A" || ji.AccountDetails[0].Streams != nil {
		t.Fatalf("acc=A %+v", ji.AccountDetails)
	}
	ji = jsz(t, s, &snapshot.JszOptions{Account: "A", Streams: true})
	if len(ji.AccountDetails) != 1 || len(ji.AccountDetails[0].Streams) != 2 {
		t.Fatalf("acc=A streams %+v", ji.AccountDetails)
	}
	ji = jsz(t, s, &snapshot.JszOptions{Account: "NOPE", Streams: true})
	if ji.AccountDetails != nil || ji.Streams != 2 {
		t.Fatalf("unknown account %+v", ji)
	}
	// Paging.
	ji = jsz(t, s, &snapshot.JszOptions{Accounts: true, Offset: 2, Limit: 1})
	if len(ji.AccountDetails) != 1 || ji.AccountDetails[0].Name != "B" || ji.Total != 3 {
		t.Fatalf("offset 1 limit 1 %+v", ji.AccountDetails)
	}
	ji = jsz(t, s, &snapshot.JszOptions{Accounts: true, Offset: 5})
	if ji.AccountDetails != nil {
		t.Fatalf("offset past the end %+v", ji.AccountDetails)
	}
	ji = jsz(t, s, &snapshot.JszOptions{Accounts: true, Offset: 1, Limit: 1})
	if len(ji.AccountDetails) != 1 || ji.AccountDetails[0].Name != "A" {
		t.Fatalf("limit 1 %+v", ji.AccountDetails)
	}

	// The same provider answers $SYS.REQ.SERVER.PING.JSZ.
	sys := servertest.Connect(t, s, nats.UserInfo("sys", "psys"))
	msg, err := sys.Request("$SYS.REQ.SERVER.PING.JSZ", []byte(`{"accounts":true,"streams":true,"config":true}`), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Server snapshot.ServerInfo `json:"server"`
		Data   snapshot.JSInfo     `json:"data"`
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		t.Fatal(err, string(msg.Data))
	}
	if resp.Server.ID != s.ID() || !resp.Server.JetStream || resp.Data.Streams != 2 || len(resp.Data.AccountDetails) != 3 ||
		len(resp.Data.AccountDetails[1].Streams) != 2 || resp.Data.AccountDetails[1].Streams[1].State.Msgs != 5 ||
		resp.Data.AccountDetails[1].Streams[1].Config == nil {
		t.Fatalf("$SYS JSZ %s", msg.Data)
	}
	msg, err = sys.Request("$SYS.REQ.SERVER."+s.ID()+".JSZ", []byte(`{"account":"A","streams":true}`), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	resp.Data = snapshot.JSInfo{}
	if err := json.Unmarshal(msg.Data, &resp); err != nil || len(resp.Data.AccountDetails) != 1 || resp.Data.AccountDetails[0].Name != "A" {
		t.Fatalf("$SYS JSZ by id %s %v", msg.Data, err)
	}

	// After Shutdown the server's "disabled" document is back.
	if err := js.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ji := jsz(t, s, nil); !ji.Disabled {
		t.Fatalf("after shutdown %+v", ji)
	}
	if v, _ := s.Snapshot(server.KindVarz, nil); v.(*snapshot.Varz).JetStream.Config != nil {
		t.Fatal("varz jetstream section after shutdown")
	}
}

func TestMonitorVarz(t *testing.T) {
	s, _ := startMon(t, "", jetstream.Options{MaxMemory: 32 << 20, MaxStore: 1 << 30, SyncInterval: time.Minute})
	fillStreams(t, s)
	d, err := s.Snapshot(server.KindVarz, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := asMap(t, d)["jetstream"].(map[string]any)
	cfg, stats := m["config"].(map[string]any), m["stats"].(map[string]any)
	if cfg["max_memory"] != float64(32<<20) || cfg["max_storage"] != float64(1<<30) || cfg["sync_interval"] != float64(time.Minute) ||
		cfg["strict"] != true || cfg["store_dir"] == "" || cfg["sync_always"] != nil {
		t.Fatalf("varz jetstream config %v", cfg)
	}
	api := stats["api"].(map[string]any)
	if stats["accounts"] != float64(3) || stats["memory"].(float64) == 0 || stats["storage"].(float64) == 0 ||
		stats["reserved_storage"] != float64(1<<20) || api["level"] != float64(jetstream.APILevel) || api["total"].(float64) == 0 {
		t.Fatalf("varz jetstream stats %v", stats)
	}
	if _, ok := m["limits"]; !ok {
		t.Fatalf("varz jetstream has no limits: %v", m)
	}
}

func TestMonitorHealthz(t *testing.T) {
	s, _ := startMon(t, "", jetstream.Options{})
	fillStreams(t, s)
	for _, o := range []*snapshot.HealthzOptions{
		nil, {JSEnabledOnly: true}, {JSEnabled: true}, {JSServerOnly: true},
		{Account: "A"}, {Account: "B"}, {Account: "A", Stream: "ORDERS"}, {Account: "A", Stream: "CACHE", Details: true},
	} {
		if h := healthz(t, s, o); h.Status != "ok" || h.StatusCode != 0 || h.Error != "" {
			t.Fatalf("%+v: %+v", o, h)
		}
	}
	for _, tc := range []struct {
		o    snapshot.HealthzOptions
		want snapshot.HealthStatus
	}{
		{snapshot.HealthzOptions{Account: "NOPE"},
			snapshot.HealthStatus{Status: "unavailable", StatusCode: 404, Error: `JetStream account "NOPE" not found`}},
		{snapshot.HealthzOptions{Account: "SYS"}, // the system account has no JetStream
			snapshot.HealthStatus{Status: "unavailable", StatusCode: 404, Error: `JetStream account "SYS" not found`}},
		{snapshot.HealthzOptions{Account: "A", Stream: "NOPE"},
			snapshot.HealthStatus{Status: "unavailable", StatusCode: 404, Error: `JetStream stream "NOPE" not found on account "A"`}},
		{snapshot.HealthzOptions{Account: "A", Stream: "ORDERS", Consumer: "C"},
			snapshot.HealthStatus{Status: "unavailable", StatusCode: 404, Error: `JetStream consumer "C" not found for stream "ORDERS" on account "A"`}},
		{snapshot.HealthzOptions{Stream: "ORDERS"},
			snapshot.HealthStatus{Status: "error", StatusCode: 400, Error: `"account" must not be empty when checking stream health`}},
		{snapshot.HealthzOptions{Account: "B", Stream: "ORDERS", Details: true},
			snapshot.HealthStatus{Status: "error", StatusCode: 404, Errors: []snapshot.HealthzError{{Type: snapshot.HealthzErrorStream,
				Account: "B", Stream: "ORDERS", Error: `JetStream stream "ORDERS" not found on account "B"`}}}},
	} {
		h := healthz(t, s, &tc.o)
		if b, w := asMap(t, h), asMap(t, &tc.want); !jsonEqual(b, w) {
			t.Errorf("%+v: got %v, want %v", tc.o, b, w)
		}
	}
	// The same over $SYS.
	sys := servertest.Connect(t, s, nats.UserInfo("sys", "psys"))
	msg, err := sys.Request("$SYS.REQ.SERVER.PING.HEALTHZ", []byte(`{"account":"A","stream":"NOPE"}`), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(msg.Data), `"status_code":404`) || !strings.Contains(string(msg.Data), `JetStream stream \"NOPE\" not found on account \"A\"`) {
		t.Fatalf("$SYS HEALTHZ %s", msg.Data)
	}
}

func jsonEqual(a, b map[string]any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestMonitorHealthzUnrecovered: a stream whose files could not be read
// at start makes the server unhealthy, with upstream's text.
func TestMonitorHealthzUnrecovered(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "jetstream", "A", "streams", "BROKEN")
	if err := os.MkdirAll(bad, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "meta.json"), []byte("{not json"), 0o640); err != nil {
		t.Fatal(err)
	}
	s, _ := startMon(t, dir, jetstream.Options{})
	fillStreams(t, s)
	const text = "JetStream stream 'A > BROKEN' could not be recovered"
	for _, o := range []*snapshot.HealthzOptions{nil, {Account: "A"}, {Account: "A", Stream: "BROKEN"}} {
		h := healthz(t, s, o)
		if h.Status != "unavailable" || h.StatusCode != 503 || h.Error != text {
			t.Fatalf("%+v: %+v", o, h)
		}
	}
	h := healthz(t, s, &snapshot.HealthzOptions{Details: true})
	if h.Status != "error" || len(h.Errors) != 1 || h.Errors[0] != (snapshot.HealthzError{Type: snapshot.HealthzErrorStream, Account: "A", Stream: "BROKEN", Error: text}) {
		t.Fatalf("details %+v", h)
	}
	// The other streams and accounts are fine, and so is JetStream itself.
	for _, o := range []*snapshot.HealthzOptions{{Account: "B"}, {Account: "A", Stream: "ORDERS"}, {JSEnabledOnly: true}} {
		if h := healthz(t, s, o); h.Status != "ok" {
			t.Fatalf("%+v: %+v", o, h)
		}
	}
	// Once the operator removes the broken stream, the server is healthy
	// and the stream unknown.
	if err := os.RemoveAll(bad); err != nil {
		t.Fatal(err)
	}
	if h := healthz(t, s, nil); h.Status != "ok" {
		t.Fatalf("after removal %+v", h)
	}
	if h := healthz(t, s, &snapshot.HealthzOptions{Account: "A", Stream: "BROKEN"}); h.StatusCode != 404 {
		t.Fatalf("removed stream %+v", h)
	}
}

// TestMonitorHealthzStoreError: a stream whose store failed a write is
// unhealthy.
func TestMonitorHealthzStoreError(t *testing.T) {
	fail := jetstream.FailStoreWrites(t)
	s, _ := startMon(t, "", jetstream.Options{})
	fillStreams(t, s)
	if h := healthz(t, s, nil); h.Status != "ok" {
		t.Fatalf("before %+v", h)
	}
	fail.Store(true)
	nc := servertest.Connect(t, s, nats.UserInfo("a", "pa"))
	js, _ := njs.New(nc)
	c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := js.Publish(c, "orders.new", []byte("lost")); err == nil {
		t.Fatal("publish acknowledged on a failing disk")
	}
	var h *snapshot.HealthStatus
	servertest.WaitUntil(t, "an unhealthy stream", func() bool {
		h = healthz(t, s, &snapshot.HealthzOptions{Account: "A", Stream: "ORDERS"})
		return h.Status != "ok"
	})
	if h.StatusCode != 503 || !strings.HasPrefix(h.Error, "JetStream stream 'A > ORDERS' is not current: ") || !strings.Contains(h.Error, "input/output error") {
		t.Fatalf("stream %+v", h)
	}
	if h := healthz(t, s, nil); h.Status != "unavailable" || h.Error == "" {
		t.Fatalf("server %+v", h)
	}
	// The memory stream and JetStream itself are fine.
	for _, o := range []*snapshot.HealthzOptions{{Account: "A", Stream: "CACHE"}, {JSServerOnly: true}} {
		if h := healthz(t, s, o); h.Status != "ok" {
			t.Fatalf("%+v: %+v", o, h)
		}
	}
}
