package monitor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/monitor"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
)

// env is a running server with its monitor on loopback.
type env struct {
	srv  *server.Server
	mon  *monitor.Server
	base string // http://127.0.0.1:port
}

func start(t testing.TB, sopts server.Options, mopts monitor.Options) *env {
	t.Helper()
	sopts.Port = 0
	s := servertest.Start(t, sopts)
	mopts.Host = "127.0.0.1"
	if mopts.Port == 0 && mopts.HTTPSPort == 0 {
		mopts.Port = -1
	}
	m, err := monitor.New(s, mopts)
	require.NoError(t, err)
	require.NoError(t, m.Start())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, m.Shutdown(ctx))
	})
	return &env{srv: s, mon: m, base: "http://" + m.Addr().String()}
}

var httpClient = &http.Client{Timeout: 5 * time.Second}

// get fetches path and returns the status, content type and body.
func (e *env) get(t testing.TB, path string, hdr ...string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", e.base+path, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := httpClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// getJSON fetches path, expects 200 application/json and decodes it.
func (e *env) getJSON(t testing.TB, path string) map[string]any {
	t.Helper()
	code, ct, b := e.get(t, path)
	require.Equal(t, http.StatusOK, code, string(b))
	require.Equal(t, "application/json", ct)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), string(b))
	return m
}

func (e *env) connect(t testing.TB, opts ...nats.Option) *nats.Conn {
	t.Helper()
	return servertest.Connect(t, e.srv, opts...)
}

func requireKeys(t *testing.T, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		require.Contains(t, m, k, "missing key %q", k)
	}
}

var uptimeRE = regexp.MustCompile(`^(\d+y)?(\d+d)?(\d+h)?(\d+m)?\d+s$`)

func TestVarz(t *testing.T) {
	e := start(t, server.Options{ServerName: "mon-test", Tags: []string{"region:eu"}}, monitor.Options{})
	nc := e.connect(t, nats.Name("varz"))
	sub, err := nc.SubscribeSync("foo")
	require.NoError(t, err)
	for range 10 {
		require.NoError(t, nc.Publish("foo", []byte("hello")))
	}
	require.NoError(t, nc.Flush())
	for range 10 {
		_, err := sub.NextMsg(2 * time.Second)
		require.NoError(t, err)
	}

	v := e.getJSON(t, "/varz")
	requireKeys(t, v, "server_id", "server_name", "version", "proto", "go", "host", "port",
		"max_connections", "ping_interval", "ping_max", "http_host", "http_port", "http_base_path",
		"https_port", "auth_timeout", "max_control_line", "max_payload", "max_pending",
		"cluster", "gateway", "leaf", "mqtt", "websocket", "jetstream", "tls_timeout",
		"write_deadline", "start", "now", "uptime", "mem", "cores", "gomaxprocs", "cpu",
		"connections", "total_connections", "routes", "remotes", "leafnodes", "in_msgs",
		"out_msgs", "in_bytes", "out_bytes", "slow_consumers", "subscriptions",
		"http_req_stats", "config_load_time", "tags")
	require.Equal(t, e.srv.ID(), v["server_id"])
	require.Equal(t, "mon-test", v["server_name"])
	require.Equal(t, server.Version, v["version"])
	require.EqualValues(t, 1, v["connections"])
	require.EqualValues(t, 1, v["total_connections"])
	require.EqualValues(t, 1, v["subscriptions"])
	require.EqualValues(t, 10, v["in_msgs"])
	require.EqualValues(t, 10, v["out_msgs"])
	require.EqualValues(t, 50, v["in_bytes"])
	require.EqualValues(t, 50, v["out_bytes"])
	require.EqualValues(t, 120_000_000_000, v["ping_interval"]) // nanoseconds, as upstream
	require.EqualValues(t, 10_000_000_000, v["write_deadline"])
	require.EqualValues(t, 2, v["auth_timeout"])
	require.EqualValues(t, 1024*1024, v["max_payload"])
	require.Equal(t, "127.0.0.1", v["http_host"])
	require.EqualValues(t, e.mon.Addr().(*net.TCPAddr).Port, v["http_port"])
	require.EqualValues(t, 0, v["https_port"])
	require.Regexp(t, uptimeRE, v["uptime"])
	require.Greater(t, v["mem"].(float64), float64(0))
	require.Equal(t, []any{"region:eu"}, v["tags"])
	for _, k := range []string{"cluster", "gateway", "leaf", "mqtt", "websocket", "jetstream"} {
		require.Equal(t, map[string]any{}, v[k], k)
	}
	stats := v["http_req_stats"].(map[string]any)
	require.EqualValues(t, 1, stats["/varz"])
	require.Contains(t, stats, "/connz")
	_ = e.getJSON(t, "/varz")
	v = e.getJSON(t, "/varz")
	require.EqualValues(t, 3, v["http_req_stats"].(map[string]any)["/varz"])

	// The server's own snapshot (what $SYS VARZ requests get) agrees.
	sv, err := e.srv.Varz(nil)
	require.NoError(t, err)
	require.Equal(t, e.mon.Addr().(*net.TCPAddr).Port, sv.HTTPPort)
	require.EqualValues(t, 3, sv.HTTPReqStats["/varz"])
	loaded := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e.srv.SetConfigLoadTime(loaded)
	got, err := time.Parse(time.RFC3339Nano, e.getJSON(t, "/varz")["config_load_time"].(string))
	require.NoError(t, err)
	require.True(t, got.Equal(loaded), got)

	// Indented by two spaces, as upstream.
	_, _, raw := e.get(t, "/varz")
	require.True(t, strings.HasPrefix(string(raw), "{\n  \"server_id\": "), string(raw[:40]))
}

func TestConnz(t *testing.T) {
	e := start(t, server.Options{}, monitor.Options{})
	var conns []*nats.Conn
	for i := range 3 {
		nc := e.connect(t, nats.Name(fmt.Sprintf("c%d", i)))
		for j := 0; j <= i; j++ {
			_, err := nc.SubscribeSync(fmt.Sprintf("sub.%d.%d", i, j))
			require.NoError(t, err)
		}
		require.NoError(t, nc.Flush())
		conns = append(conns, nc)
	}
	// Two messages from c0, delivered to nobody.
	require.NoError(t, conns[0].Publish("nobody", []byte("12345")))
	require.NoError(t, conns[0].Publish("nobody", []byte("12345")))
	require.NoError(t, conns[0].Flush())

	cz := e.getJSON(t, "/connz")
	requireKeys(t, cz, "server_id", "now", "num_connections", "total", "offset", "limit", "connections")
	require.EqualValues(t, 3, cz["num_connections"])
	require.EqualValues(t, 3, cz["total"])
	require.EqualValues(t, 1024, cz["limit"])
	list := cz["connections"].([]any)
	first := list[0].(map[string]any)
	requireKeys(t, first, "cid", "kind", "type", "ip", "port", "start", "last_activity", "rtt",
		"uptime", "idle", "pending_bytes", "in_msgs", "out_msgs", "in_bytes", "out_bytes",
		"subscriptions", "name", "lang", "version")
	require.Equal(t, "Client", first["kind"])
	require.Equal(t, "nats", first["type"])
	require.Equal(t, "127.0.0.1", first["ip"])
	require.Equal(t, "c0", first["name"])
	require.Equal(t, "go", first["lang"])
	require.EqualValues(t, 2, first["in_msgs"])
	require.EqualValues(t, 10, first["in_bytes"])
	require.NotContains(t, first, "stop")
	require.NotContains(t, first, "reason")
	require.NotContains(t, first, "subscriptions_list")
	require.Regexp(t, uptimeRE, first["uptime"])
	// cids ascending by default
	var last float64
	for _, c := range list {
		cid := c.(map[string]any)["cid"].(float64)
		require.Greater(t, cid, last)
		last = cid
	}

	t.Run("paging", func(t *testing.T) {
		cz := e.getJSON(t, "/connz?limit=1&offset=1")
		require.EqualValues(t, 1, cz["num_connections"])
		require.EqualValues(t, 3, cz["total"])
		require.EqualValues(t, 1, cz["offset"])
		require.Equal(t, "c1", cz["connections"].([]any)[0].(map[string]any)["name"])
		cz = e.getJSON(t, "/connz?offset=10")
		require.EqualValues(t, 0, cz["num_connections"])
		require.Equal(t, []any{}, cz["connections"])
	})
	t.Run("sort", func(t *testing.T) {
		cz := e.getJSON(t, "/connz?sort=subs")
		names := func(cz map[string]any) []string {
			var out []string
			for _, c := range cz["connections"].([]any) {
				out = append(out, c.(map[string]any)["name"].(string))
			}
			return out
		}
		require.Equal(t, []string{"c2", "c1", "c0"}, names(cz))
		require.Equal(t, "c0", names(e.getJSON(t, "/connz?sort=msgs_from"))[0])
		require.Equal(t, "c0", names(e.getJSON(t, "/connz?sort=bytes_from"))[0])
		for _, key := range []string{"cid", "start", "pending", "msgs_to", "bytes_to", "last", "idle", "uptime", "rtt"} {
			require.Len(t, names(e.getJSON(t, "/connz?sort="+key)), 3, key)
		}
		code, _, body := e.get(t, "/connz?sort=bogus")
		require.Equal(t, http.StatusBadRequest, code)
		require.Equal(t, "invalid sorting option: bogus", string(body))
		code, _, body = e.get(t, "/connz?sort=stop")
		require.Equal(t, http.StatusBadRequest, code)
		require.Equal(t, "sort by stop only valid on closed connections", string(body))
		code, _, body = e.get(t, "/connz?sort=reason")
		require.Equal(t, http.StatusBadRequest, code)
		require.Equal(t, "sort by reason only valid on closed connections", string(body))
	})
	t.Run("subs", func(t *testing.T) {
		cz := e.getJSON(t, "/connz?subs=1&sort=subs&limit=1")
		c := cz["connections"].([]any)[0].(map[string]any)
		require.ElementsMatch(t, []any{"sub.2.0", "sub.2.1", "sub.2.2"}, c["subscriptions_list"])
		cz = e.getJSON(t, "/connz?subs=detail&sort=subs&limit=1")
		c = cz["connections"].([]any)[0].(map[string]any)
		d := c["subscriptions_list_detail"].([]any)
		require.Len(t, d, 3)
		requireKeys(t, d[0].(map[string]any), "subject", "sid", "msgs", "cid")
	})
	t.Run("cid", func(t *testing.T) {
		id, err := conns[1].GetClientID()
		require.NoError(t, err)
		cz := e.getJSON(t, fmt.Sprintf("/connz?cid=%d", id))
		require.EqualValues(t, 1, cz["num_connections"])
		require.Equal(t, "c1", cz["connections"].([]any)[0].(map[string]any)["name"])
		code, _, body := e.get(t, "/connz?cid=x")
		require.Equal(t, http.StatusBadRequest, code)
		require.Contains(t, string(body), "Error decoding uint64 for 'cid'")
	})
	t.Run("account and subject filters", func(t *testing.T) {
		cz := e.getJSON(t, "/connz?acc=$G")
		require.EqualValues(t, 3, cz["total"])
		cz = e.getJSON(t, "/connz?acc=nope")
		require.EqualValues(t, 0, cz["total"])
		cz = e.getJSON(t, "/connz?acc=$G&filter_subject=sub.2.*")
		require.EqualValues(t, 1, cz["total"])
		code, _, body := e.get(t, "/connz?filter_subject=foo")
		require.Equal(t, http.StatusBadRequest, code)
		require.Equal(t, "filter by subject only valid with account filtering", string(body))
	})
	t.Run("bad state", func(t *testing.T) {
		code, _, body := e.get(t, "/connz?state=sideways")
		require.Equal(t, http.StatusBadRequest, code)
		require.Equal(t, "Error decoding state for sideways", string(body))
	})
}

func TestConnzClosed(t *testing.T) {
	e := start(t, server.Options{MaxPayload: 1024}, monitor.Options{})
	nc := e.connect(t, nats.Name("leaver"))
	_, err := nc.SubscribeSync("x")
	require.NoError(t, err)
	require.NoError(t, nc.Publish("x", []byte("hi")))
	require.NoError(t, nc.Flush())
	nc.Close()

	// A raw client that breaks the payload limit.
	raw, err := net.DialTimeout("tcp", e.srv.Addr().String(), 2*time.Second)
	require.NoError(t, err)
	defer raw.Close()
	_, err = raw.Write([]byte("CONNECT {\"name\":\"big\",\"lang\":\"raw\"}\r\nPUB foo 4096\r\n"))
	require.NoError(t, err)
	raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.Copy(io.Discard, raw) // until the server closes it

	var closed []any
	require.Eventually(t, func() bool {
		cz := e.getJSON(t, "/connz?state=closed")
		closed = cz["connections"].([]any)
		return len(closed) == 2
	}, 5*time.Second, 20*time.Millisecond)
	byName := map[string]map[string]any{}
	for _, c := range closed {
		c := c.(map[string]any)
		byName[c["name"].(string)] = c
	}
	require.Equal(t, "Client Closed", byName["leaver"]["reason"])
	require.Equal(t, "Maximum Message Payload Exceeded", byName["big"]["reason"])
	for _, c := range byName {
		requireKeys(t, c, "stop", "reason", "uptime", "idle", "start")
	}
	require.EqualValues(t, 1, byName["leaver"]["in_msgs"])
	require.EqualValues(t, 1, byName["leaver"]["out_msgs"])

	cz := e.getJSON(t, "/connz?state=closed&sort=reason")
	names := []string{}
	for _, c := range cz["connections"].([]any) {
		names = append(names, c.(map[string]any)["reason"].(string))
	}
	require.Equal(t, []string{"Client Closed", "Maximum Message Payload Exceeded"}, names)
	require.EqualValues(t, 2, e.getJSON(t, "/connz?state=closed&sort=stop")["total"])

	e.connect(t)
	require.EqualValues(t, 3, e.getJSON(t, "/connz?state=all")["total"])
	require.EqualValues(t, 1, e.getJSON(t, "/connz?state=open")["total"])
	require.EqualValues(t, 3, e.getJSON(t, "/connz?state=any")["total"])
}

func TestSubsz(t *testing.T) {
	e := start(t, server.Options{}, monitor.Options{})
	nc := e.connect(t)
	for _, subj := range []string{"foo.bar", "foo.*", "foo.>", "baz"} {
		_, err := nc.SubscribeSync(subj)
		require.NoError(t, err)
	}
	_, err := nc.QueueSubscribeSync("foo.bar", "workers")
	require.NoError(t, err)
	require.NoError(t, nc.Publish("foo.bar", nil))
	require.NoError(t, nc.Flush())

	for _, p := range []string{"/subsz", "/subscriptionsz"} {
		sz := e.getJSON(t, p)
		requireKeys(t, sz, "num_subscriptions", "num_cache", "num_inserts", "num_removes",
			"num_matches", "cache_hit_rate", "max_fanout", "avg_fanout")
		require.EqualValues(t, 5, sz["num_subscriptions"])
		require.EqualValues(t, 5, sz["num_inserts"])
		require.NotContains(t, sz, "subscriptions_list")
	}

	sz := e.getJSON(t, "/subsz?subs=1")
	requireKeys(t, sz, "server_id", "now", "total", "offset", "limit", "subscriptions_list", "num_subscriptions")
	require.Len(t, sz["subscriptions_list"], 5)
	d := sz["subscriptions_list"].([]any)[0].(map[string]any)
	requireKeys(t, d, "account", "subject", "sid", "msgs", "cid")
	require.Equal(t, "$G", d["account"])

	sz = e.getJSON(t, "/subsz?subs=1&test=foo.bar")
	var subjects []string
	for _, s := range sz["subscriptions_list"].([]any) {
		s := s.(map[string]any)
		subjects = append(subjects, s["subject"].(string))
		if s["qgroup"] != nil {
			require.Equal(t, "workers", s["qgroup"])
		}
	}
	require.ElementsMatch(t, []string{"foo.bar", "foo.*", "foo.>", "foo.bar"}, subjects)

	sz = e.getJSON(t, "/subsz?subs=1&limit=2&offset=1")
	require.Len(t, sz["subscriptions_list"], 2)
	require.EqualValues(t, 5, sz["total"])

	code, _, body := e.get(t, "/subsz?subs=1&test=foo.*")
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "invalid test subject, must be valid publish subject: foo.*", string(body))
	code, _, _ = e.get(t, "/subsz?subs=maybe")
	require.Equal(t, http.StatusBadRequest, code)
	require.EqualValues(t, 0, e.getJSON(t, "/subsz?acc=nope")["num_subscriptions"])
}

func TestHealthz(t *testing.T) {
	e := start(t, server.Options{}, monitor.Options{})
	for _, q := range []string{"", "?js-enabled-only=1", "?js-server-only=true", "?js-enabled=1"} {
		code, ct, body := e.get(t, "/healthz"+q)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "application/json", ct)
		require.JSONEq(t, `{"status":"ok"}`, string(body))
	}
	code, _, _ := e.get(t, "/healthz?js-enabled-only=perhaps")
	require.Equal(t, http.StatusBadRequest, code)

	// A stopped server is unavailable.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, e.srv.Shutdown(ctx))
	code, _, body := e.get(t, "/healthz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Contains(t, string(body), `"status":"unavailable"`)
}

func TestEmptySubsystems(t *testing.T) {
	e := start(t, server.Options{}, monitor.Options{})
	code, ct, body := e.get(t, "/")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, ct, "text/html")
	require.Contains(t, string(body), `href="./connz"`)
	rz := e.getJSON(t, "/routez")
	requireKeys(t, rz, "server_id", "now", "num_routes", "routes")
	require.Equal(t, []any{}, rz["routes"])
	gz := e.getJSON(t, "/gatewayz")
	requireKeys(t, gz, "server_id", "now", "outbound_gateways", "inbound_gateways")
	require.Equal(t, map[string]any{}, gz["outbound_gateways"])
	lz := e.getJSON(t, "/leafz")
	requireKeys(t, lz, "server_id", "now", "leafnodes", "leafs")
	require.EqualValues(t, 0, lz["leafnodes"])
}

func TestAccountz(t *testing.T) {
	e := start(t, server.Options{}, monitor.Options{})
	nc := e.connect(t)
	_, err := nc.SubscribeSync("a")
	require.NoError(t, err)
	require.NoError(t, nc.Publish("a", []byte("xyz")))
	require.NoError(t, nc.Flush())

	az := e.getJSON(t, "/accountz")
	requireKeys(t, az, "server_id", "now", "accounts")
	require.Equal(t, []any{"$G"}, az["accounts"])

	az = e.getJSON(t, "/accountz?acc=$G")
	d := az["account_detail"].(map[string]any)
	requireKeys(t, d, "account_name", "update_time", "expired", "complete", "jetstream_enabled",
		"leafnode_connections", "client_connections", "subscriptions", "sublist_stats")
	require.EqualValues(t, 1, d["client_connections"])
	require.EqualValues(t, 1, d["subscriptions"])

	code, _, body := e.get(t, "/accountz?acc=nope")
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "Account nope does not exist", string(body))

	var st map[string]any
	require.Eventually(t, func() bool {
		as := e.getJSON(t, "/accstatz")
		requireKeys(t, as, "server_id", "now", "account_statz")
		l := as["account_statz"].([]any)
		if len(l) != 1 {
			return false
		}
		st = l[0].(map[string]any)
		return st["sent"].(map[string]any)["msgs"].(float64) == 1
	}, 5*time.Second, 20*time.Millisecond)
	requireKeys(t, st, "acc", "conns", "leafnodes", "total_conns", "num_subscriptions", "sent", "received", "slow_consumers")
	require.Equal(t, "$G", st["acc"])
	require.EqualValues(t, 1, st["received"].(map[string]any)["msgs"])
	require.EqualValues(t, 3, st["received"].(map[string]any)["bytes"])

	nc.Close()
	require.Eventually(t, func() bool {
		return len(e.getJSON(t, "/accstatz")["account_statz"].([]any)) == 0
	}, 5*time.Second, 20*time.Millisecond)
	require.Len(t, e.getJSON(t, "/accstatz?unused=1")["account_statz"], 1)
}

func TestJSONP(t *testing.T) {
	t.Run("ignored by default", func(t *testing.T) {
		e := start(t, server.Options{}, monitor.Options{})
		code, ct, body := e.get(t, "/varz?callback=cb")
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "application/json", ct)
		require.True(t, json.Valid(body))
	})
	t.Run("allowed", func(t *testing.T) {
		e := start(t, server.Options{}, monitor.Options{AllowJSONP: true})
		code, ct, body := e.get(t, "/connz?callback=my.cb_1")
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "application/javascript", ct)
		s := string(body)
		require.True(t, strings.HasPrefix(s, "my.cb_1(") && strings.HasSuffix(s, ")"), s)
		require.True(t, json.Valid([]byte(s[len("my.cb_1("):len(s)-1])))
		code, _, _ = e.get(t, "/connz?callback=alert(1)//")
		require.Equal(t, http.StatusBadRequest, code)
		// Without callback the answer stays JSON.
		code, ct, _ = e.get(t, "/connz")
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "application/json", ct)
	})
}

func TestRootStackszAndBasePath(t *testing.T) {
	e := start(t, server.Options{}, monitor.Options{BasePath: "/nats/"})
	code, ct, body := e.get(t, "/nats/")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, ct, "text/html")
	for _, p := range []string{"varz", "connz", "routez", "gatewayz", "leafz", "subsz", "accountz", "accstatz", "healthz", "metrics"} {
		require.Contains(t, string(body), `href="./`+p+`"`)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}).Get(e.base + "/nats")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
	require.Equal(t, "/nats/", resp.Header.Get("Location"))
	v := e.getJSON(t, "/nats/varz")
	require.Equal(t, "/nats", v["http_base_path"])
	require.EqualValues(t, 2, v["http_req_stats"].(map[string]any)["/"])
	code, _, _ = e.get(t, "/varz")
	require.Equal(t, http.StatusNotFound, code)
	code, ct, body = e.get(t, "/nats/stacksz")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, ct, "text/plain")
	require.Contains(t, string(body), "goroutine ")
	code, _, _ = e.get(t, "/nats/nothing")
	require.Equal(t, http.StatusNotFound, code)
}

func TestNewErrors(t *testing.T) {
	s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	require.NoError(t, err)
	_, err = monitor.New(s, monitor.Options{HTTPSPort: -1})
	require.ErrorIs(t, err, monitor.ErrNoTLSConfig)
	_, err = monitor.New(s, monitor.Options{Port: 70000})
	require.ErrorIs(t, err, monitor.ErrBadOptions)
	_, err = monitor.New(s, monitor.Options{BasePath: "/{x}"})
	require.ErrorIs(t, err, monitor.ErrBadOptions)
	m, err := monitor.New(s, monitor.Options{})
	require.NoError(t, err)
	require.ErrorIs(t, m.Start(), monitor.ErrNoPort)
	require.Nil(t, m.Addr())
}

// fakeJS is a JetStream JSZ provider, with the optional HealthChecker.
type fakeJS struct {
	got    *snapshot.JszOptions
	health error
}

func (f *fakeJS) NewOptions() any { return new(snapshot.JszOptions) }

func (f *fakeJS) Snapshot(opts any) (any, error) {
	o := opts.(*snapshot.JszOptions)
	f.got = o
	if o.Account == "bad" {
		return nil, &snapshot.MonitorError{Text: "account \"bad\" not found"}
	}
	return map[string]any{"server_id": "x", "streams": 2}, nil
}

func (f *fakeJS) CheckHealth(*snapshot.HealthzOptions) error { return f.health }

func TestJsz(t *testing.T) {
	t.Run("disabled", func(t *testing.T) {
		e := start(t, server.Options{}, monitor.Options{})
		j := e.getJSON(t, "/jsz")
		requireKeys(t, j, "server_id", "now", "disabled", "config", "memory", "storage", "api", "streams", "consumers", "messages", "bytes")
		require.Equal(t, true, j["disabled"])
	})
	t.Run("wired", func(t *testing.T) {
		js := &fakeJS{}
		e := start(t, server.Options{}, monitor.Options{})
		e.srv.RegisterProvider(server.KindJsz, js)
		j := e.getJSON(t, "/jsz?acc=A&streams=1&consumers=true&limit=5&leader-only=1")
		require.EqualValues(t, 2, j["streams"])
		require.Equal(t, &snapshot.JszOptions{Account: "A", Streams: true, Consumers: true, Limit: 5, LeaderOnly: true}, js.got)
		code, _, body := e.get(t, "/jsz?acc=bad")
		require.Equal(t, http.StatusBadRequest, code)
		require.Equal(t, `account "bad" not found`, string(body))

		code, _, body = e.get(t, "/healthz")
		require.Equal(t, http.StatusOK, code, string(body))
		js.health = fmt.Errorf("JetStream stream 'A > S' is not current")
		code, _, body = e.get(t, "/healthz?js-server-only=1")
		require.Equal(t, http.StatusServiceUnavailable, code)
		require.JSONEq(t, `{"status":"unavailable","error":"JetStream stream 'A \u003e S' is not current"}`, string(body))
	})
}
