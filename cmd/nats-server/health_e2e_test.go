//go:build !windows

package main

// Operations endpoints of the built binary, checked against upstream
// nats-server where NATSD_UPSTREAM_SERVER names it: the /varz fields of
// issue 20 (config_digest, metadata, feature_flags, write_timeout,
// gomemlimit, tls_cert_not_after, stale and stalled counts, per-kind
// stats), /debug/vars, the pprof server of prof_port and --profile,
// $SYS.REQ.SERVER.<id>.PROFILEZ and the LAMEDUCK, SHUTDOWN and
// CLIENT.AUTH.ERR events, with nats.go.

import (
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// varzConf is the configuration of TestVarzOperationalFields; the ports
// come from flags so that natsd and upstream read the same file (and so
// print the same digest).
func varzConf(t *testing.T) (conf string, notAfter time.Time) {
	pki := servertest.NewPKI(t)
	files := pki.Files()
	return writeFile(t, filepath.Join(t.TempDir(), "varz.conf"), `
server_name: varz1
server_metadata { region: "eu-west", rack: "r7" }
feature_flags { js_api_reply_v2: true }
write_timeout: close
write_deadline: "5s"
tls { cert_file: "`+files.Cert+`", key_file: "`+files.Key+`" }
`), pki.Server.Leaf.NotAfter
}

// Fields of upstream's /varz that natsd does not report yet.
var varzNotYet = []string{}

func TestVarzOperationalFields(t *testing.T) {
	conf, notAfter := varzConf(t)
	_, _, errOut := runOnce(t, "-c", conf, "-t")
	digest := regexp.MustCompile(`sha256:[0-9a-f]{64}`).FindString(errOut)
	require.NotEmpty(t, digest, errOut)

	t.Setenv("GOMEMLIMIT", "512MiB") // inherited by the server processes
	ports := servertest.FreePorts(t, 2)
	p := start(t, "-c", conf, "-m", strconv.Itoa(ports[0]), "--profile", strconv.Itoa(ports[1]))
	p.waitLog("[INF] profiling port: " + strconv.Itoa(ports[1]))
	p.waitLog("[INF] Using configuration file: " + conf + " (" + digest + ")")
	v := getVarz(t, ports[0])

	require.Equal(t, digest, v["config_digest"])
	require.Equal(t, map[string]any{"region": "eu-west", "rack": "r7"}, v["metadata"])
	// Upstream's flags with their defaults, set where the file names them.
	require.Equal(t, map[string]any{"js_ack_fc_v2": false, "js_api_reply_v2": true, "js_raft_delete_range": true, "js_snapshot_sources": false}, v["feature_flags"])
	require.Equal(t, map[string]any{"waiters": 0.0, "waits": 0.0, "wait_time": 0.0, "max_wait_time": 0.0}, v["disk_io_wait_stats"])
	require.Equal(t, "close", v["write_timeout"])
	require.EqualValues(t, 512<<20, v["gomemlimit"])
	require.Equal(t, notAfter.UTC().Truncate(time.Second).Format(time.RFC3339), v["tls_cert_not_after"])
	for _, k := range []string{"stale_connections", "stalled_clients"} {
		require.EqualValues(t, 0, v[k], k)
	}
	zero := map[string]any{"clients": 0.0, "routes": 0.0, "gateways": 0.0, "leafs": 0.0}
	require.Equal(t, zero, v["slow_consumer_stats"])
	require.Equal(t, zero, v["stale_connection_stats"])

	// expvar on the monitoring port, pprof on its own.
	code, b := httpGet(t, "http://127.0.0.1:"+strconv.Itoa(ports[0])+"/debug/vars")
	require.Equal(t, http.StatusOK, code)
	var vars map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &vars))
	require.Contains(t, vars, "memstats")
	require.Contains(t, vars, "cmdline")
	code, b = httpGet(t, "http://127.0.0.1:"+strconv.Itoa(ports[1])+"/debug/pprof/heap?debug=1")
	require.Equal(t, http.StatusOK, code)
	require.True(t, strings.HasPrefix(string(b), "heap profile:"), string(b[:min(len(b), 80)]))
	code, b = httpGet(t, "http://127.0.0.1:"+strconv.Itoa(ports[1])+"/debug/pprof/")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, string(b), "goroutine")
	code, _ = httpGet(t, "http://127.0.0.1:"+strconv.Itoa(ports[0])+"/debug/pprof/")
	require.Equal(t, http.StatusNotFound, code, "pprof is not on the monitoring port")

	up := os.Getenv(servertest.UpstreamEnv)
	if up == "" {
		return
	}
	// Upstream with the same file: the same digest, certificate expiry,
	// metadata and write_timeout, and no field natsd lacks but those
	// varzNotYet lists.
	uports := servertest.FreePorts(t, 2)
	logs := servertest.StartProcess(t, up, "-c", conf, "-a", "127.0.0.1", "-p", strconv.Itoa(uports[0]), "-m", strconv.Itoa(uports[1]))
	servertest.WaitListening(t, "127.0.0.1:"+strconv.Itoa(uports[1]))
	uv := getVarz(t, uports[1])
	t.Logf("upstream /varz: %d fields, natsd: %d", len(uv), len(v))
	for _, k := range []string{"config_digest", "tls_cert_not_after", "metadata", "write_timeout", "gomemlimit", "stale_connections", "stalled_clients", "stale_connection_stats", "slow_consumer_stats", "in_client_msgs", "out_client_msgs", "feature_flags", "disk_io_wait_stats"} {
		require.Equal(t, uv[k], v[k], "%s\n%s", k, logs.String())
	}
	for k := range uv {
		if _, ok := v[k]; !ok && !slices.Contains(varzNotYet, k) {
			t.Errorf("upstream's /varz has %q, natsd's does not", k)
		}
	}
}

// sysConf has a system account with a user, an account A and a short
// lame duck grace period.
func sysConf(t *testing.T) string {
	return writeFile(t, filepath.Join(t.TempDir(), "sys.conf"), `
accounts {
  SYS { users [{user: sys, password: sys}] }
  A { users [{user: a, password: a}] }
}
system_account: SYS
lame_duck_duration: "30s"
lame_duck_grace_period: "100ms"
`)
}

// profilez sends a PROFILEZ request for body and decodes the answer.
func profilez(t *testing.T, nc *nats.Conn, subject, body string) (profile []byte, errText string, server map[string]any) {
	t.Helper()
	m, err := nc.Request(subject, []byte(body), 10*time.Second)
	require.NoError(t, err)
	var ans struct {
		Server map[string]any `json:"server"`
		Data   map[string]any `json:"data"`
	}
	require.NoError(t, json.Unmarshal(m.Data, &ans), string(m.Data))
	require.Contains(t, ans.Data, "profile", string(m.Data))
	require.Contains(t, ans.Data, "error", string(m.Data))
	var pr struct {
		Profile []byte `json:"profile"`
		Error   string `json:"error"`
	}
	b, _ := json.Marshal(ans.Data)
	require.NoError(t, json.Unmarshal(b, &pr))
	return pr.Profile, pr.Error, ans.Server
}

// authErrEvent subscribes as the system user of url's server, fails one
// authentication and returns the subject and the decoded advisory. The
// same advisory (its own id) also comes on $SYS.ACCOUNT.$G.DISCONNECT,
// as upstream 2.15.2 sends it.
func authErrEvent(t *testing.T, url string) (string, map[string]any) {
	t.Helper()
	sys := servertest.ConnectWhenReady(t, url, nats.UserInfo("sys", "sys"))
	sub, err := sys.SubscribeSync("$SYS.SERVER.*.CLIENT.AUTH.ERR")
	require.NoError(t, err)
	gsub, err := sys.SubscribeSync("$SYS.ACCOUNT.$G.DISCONNECT")
	require.NoError(t, err)
	require.NoError(t, sys.Flush())
	_, err = nats.Connect(url, nats.UserInfo("a", "wrong"), nats.Name("bad-auth"), nats.NoReconnect())
	require.Error(t, err)
	m := servertest.NextMsg(t, sub)
	var ev, gev map[string]any
	require.NoError(t, json.Unmarshal(m.Data, &ev), string(m.Data))
	gm := servertest.NextMsg(t, gsub)
	require.NoError(t, json.Unmarshal(gm.Data, &gev), string(gm.Data))
	require.Equal(t, ev["reason"], gev["reason"])
	c, gc := maps.Clone(ev["client"].(map[string]any)), maps.Clone(gev["client"].(map[string]any))
	delete(c, "stop") // upstream's differ by the time between the two
	delete(gc, "stop")
	require.Equal(t, c, gc)
	require.NotEqual(t, ev["id"], gev["id"])
	return m.Subject, ev
}

func TestSysProfilezAndServerEvents(t *testing.T) {
	conf := sysConf(t)
	p := start(t, "-c", conf)
	subject, ev := authErrEvent(t, p.url())

	sys := p.connect(nats.UserInfo("sys", "sys"))
	id := sys.ConnectedServerId()
	require.Equal(t, "$SYS.SERVER."+id+".CLIENT.AUTH.ERR", subject)
	require.Equal(t, "io.nats.server.advisory.v1.client_disconnect", ev["type"])
	require.Equal(t, "Authentication Failure", ev["reason"])
	client := ev["client"].(map[string]any)
	require.Equal(t, "a", client["user"])
	require.Equal(t, "$G", client["acc"])
	require.Equal(t, "bad-auth", client["name"])
	require.Equal(t, id, ev["server"].(map[string]any)["id"])

	// PROFILEZ by id and by PING, with upstream's errors.
	prof, errText, srv := profilez(t, sys, "$SYS.REQ.SERVER."+id+".PROFILEZ", `{"name":"heap","debug":1}`)
	require.Empty(t, errText)
	require.Equal(t, id, srv["id"])
	require.True(t, strings.HasPrefix(string(prof), "heap profile:"), string(prof[:min(len(prof), 80)]))
	prof, errText, _ = profilez(t, sys, "$SYS.REQ.SERVER.PING.PROFILEZ", `{"name":"goroutine","debug":1}`)
	require.Empty(t, errText)
	require.Contains(t, string(prof), "goroutine profile:")
	prof, errText, _ = profilez(t, sys, "$SYS.REQ.SERVER."+id+".PROFILEZ", `{"name":"cpu","duration":100000000}`)
	require.Empty(t, errText)
	require.True(t, len(prof) > 2 && prof[0] == 0x1f && prof[1] == 0x8b, "a gzipped pprof profile")
	prof, errText, _ = profilez(t, sys, "$SYS.REQ.SERVER."+id+".PROFILEZ", `{"name":"nope"}`)
	require.Nil(t, prof)
	require.Equal(t, `Profile "nope" not found`, errText)
	_, errText, _ = profilez(t, sys, "$SYS.REQ.SERVER."+id+".PROFILEZ", ``)
	require.Equal(t, "Profile name not specified", errText)

	// SHUTDOWN reaches a local subscriber before its connection closes.
	// A channel subscription keeps what arrived once the connection is
	// closed (a synchronous one's NextMsg then reports the close).
	shutdown := make(chan *nats.Msg, 1)
	_, err := sys.ChanSubscribe("$SYS.SERVER.*.SHUTDOWN", shutdown)
	require.NoError(t, err)
	require.NoError(t, sys.Flush())
	p.signal(syscall.SIGTERM)
	var m *nats.Msg
	select {
	case m = <-shutdown:
	case <-time.After(servertest.RawTimeout):
		t.Fatal("no SHUTDOWN event")
	}
	require.Equal(t, "$SYS.SERVER."+id+".SHUTDOWN", m.Subject)
	var info map[string]any
	require.NoError(t, json.Unmarshal(m.Data, &info))
	require.Equal(t, id, info["id"])
	require.Equal(t, 0, p.exitCode())

	// LAMEDUCK, in a server of its own.
	p2 := start(t, "-c", conf)
	sys2 := p2.connect(nats.UserInfo("sys", "sys"), nats.NoReconnect())
	sub, err := sys2.SubscribeSync("$SYS.SERVER.*.LAMEDUCK")
	require.NoError(t, err)
	require.NoError(t, sys2.Flush())
	p2.signal(syscall.SIGUSR2)
	m = servertest.NextMsg(t, sub)
	require.Equal(t, "$SYS.SERVER."+sys2.ConnectedServerId()+".LAMEDUCK", m.Subject)
	require.NoError(t, json.Unmarshal(m.Data, &info))
	require.Equal(t, sys2.ConnectedServerId(), info["id"])

	up := os.Getenv(servertest.UpstreamEnv)
	if up == "" {
		return
	}
	// Upstream's advisory for the same failure: natsd's has every field,
	// and its server info upstream's feature_flags and flags.
	port := servertest.FreePorts(t, 1)[0]
	servertest.StartProcess(t, up, "-c", conf, "-a", "127.0.0.1", "-p", strconv.Itoa(port))
	_, uev := authErrEvent(t, "nats://127.0.0.1:"+strconv.Itoa(port))
	require.Equal(t, uev["type"], ev["type"])
	require.Equal(t, uev["reason"], ev["reason"])
	for k := range uev {
		require.Contains(t, ev, k)
	}
	userver, server := uev["server"].(map[string]any), ev["server"].(map[string]any)
	for k := range userver {
		require.Contains(t, server, k)
	}
	require.Equal(t, userver["feature_flags"], server["feature_flags"])
	require.Equal(t, userver["flags"], server["flags"])
	uclient := uev["client"].(map[string]any)
	for k := range uclient {
		if k == "rtt" {
			continue // natsd measures the RTT by its PINGs only, none yet
		}
		require.Contains(t, client, k)
		if k != "start" && k != "stop" && k != "id" && k != "ver" {
			require.Equal(t, uclient[k], client[k], k)
		}
	}
}

// healthzQueries are the /healthz requests compared with upstream's, once
// account $G has stream S with consumer C.
var healthzQueries = []string{
	"", "?details=true", "?js-enabled-only=true", "?js-server-only=true", "?js-meta-only=true",
	"?account=nope", "?account=nope&details=true", "?account=$G", "?account=$G&details=true",
	"?account=$G&stream=S", "?account=$G&stream=nope", "?account=$G&stream=nope&details=true",
	"?account=$G&stream=S&consumer=C", "?account=$G&stream=S&consumer=nope",
	"?account=$G&stream=S&consumer=nope&details=true", "?stream=S", "?stream=S&details=true",
	"?consumer=C", "?consumer=C&details=true", "?js-meta-only=true&account=$G&stream=nope",
	"?js-server-only=true&account=nope",
}

// healthzAnswers creates stream S and consumer C in $G of the server at
// natsURL and returns "<code> <body>" for each of healthzQueries.
func healthzAnswers(t *testing.T, natsURL string, httpPort int) []string {
	t.Helper()
	nc := servertest.ConnectWhenReady(t, natsURL)
	js, err := nc.JetStream()
	require.NoError(t, err)
	_, err = js.AddStream(&nats.StreamConfig{Name: "S", Subjects: []string{"s"}})
	require.NoError(t, err)
	_, err = js.AddConsumer("S", &nats.ConsumerConfig{Durable: "C", AckPolicy: nats.AckExplicitPolicy})
	require.NoError(t, err)
	var out []string
	for _, q := range healthzQueries {
		code, b := httpGet(t, "http://127.0.0.1:"+strconv.Itoa(httpPort)+"/healthz"+q)
		out = append(out, strconv.Itoa(code)+" "+string(b))
	}
	return out
}

func TestHealthzMatchesUpstream(t *testing.T) {
	port := servertest.FreePorts(t, 1)[0]
	p := start(t, "-js", "-sd", t.TempDir(), "-m", strconv.Itoa(port))
	got := healthzAnswers(t, p.url(), port)
	for i, q := range healthzQueries {
		switch q {
		case "?account=$G&stream=nope&details=true":
			require.Equal(t, `404 {"status":"error","errors":[{"type":"STREAM","account":"$G","stream":"nope","error":"JetStream stream \"nope\" not found on account \"$G\""}]}`, got[i])
		case "?consumer=C":
			require.Equal(t, `400 {"status":"error","error":"\"stream\" must not be empty when checking consumer health"}`, got[i])
		case "?js-meta-only=true&account=$G&stream=nope":
			require.True(t, strings.HasPrefix(got[i], "404 "), got[i])
		}
	}

	up := os.Getenv(servertest.UpstreamEnv)
	if up == "" {
		return
	}
	ports := servertest.FreePorts(t, 2)
	servertest.StartProcess(t, up, "-js", "-sd", t.TempDir(), "-a", "127.0.0.1", "-p", strconv.Itoa(ports[0]), "-m", strconv.Itoa(ports[1]))
	want := healthzAnswers(t, "nats://127.0.0.1:"+strconv.Itoa(ports[0]), ports[1])
	for i, q := range healthzQueries {
		require.Equal(t, want[i], got[i], "/healthz%s", q)
	}
}

// The profiling port shows the command line too (/debug/pprof/cmdline):
// credentials given as flags are redacted there as in /debug/vars
// (CVE-2026-33247), with upstream's "[REDACTED]".
func TestProfilePortRedactsCredentials(t *testing.T) {
	ports := servertest.FreePorts(t, 2)
	p := start(t, "-m", strconv.Itoa(ports[0]), "--profile", strconv.Itoa(ports[1]), "--user", "u", "--pass=argv-pass-91c2")
	p.waitLog("[INF] profiling port: ")
	b, err := os.ReadFile(p.ports)
	require.NoError(t, err)
	require.Contains(t, string(b), `"profile":["http://127.0.0.1:`+strconv.Itoa(ports[1])+`"]`)
	for _, url := range []string{
		"http://127.0.0.1:" + strconv.Itoa(ports[1]) + "/debug/pprof/cmdline",
		"http://127.0.0.1:" + strconv.Itoa(ports[0]) + "/debug/vars",
	} {
		code, b := httpGet(t, url)
		require.Equal(t, http.StatusOK, code, url)
		require.NotContains(t, string(b), "argv-pass-91c2", url)
		require.Contains(t, string(b), "--pass=[REDACTED]", url)
	}
}

// A server's LAMEDUCK and SHUTDOWN events reach the system users of the
// other servers of its cluster: SHUTDOWN goes out before the routes close.
func TestServerEventsCrossRoutes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers")
	}
	conf := sysConf(t)
	a := start(t, "-c", conf, "--cluster_name", "ev", "--cluster", "nats://127.0.0.1:-1")
	a.waitLog("Listening for route connections on 127.0.0.1:")
	b := start(t, "-c", conf, "--cluster_name", "ev", "--cluster", "nats://127.0.0.1:-1", "--routes", a.clusterURL())

	ncA := a.connect(nats.UserInfo("sys", "sys"), nats.NoReconnect())
	ncB := b.connect(nats.UserInfo("sys", "sys"), nats.NoReconnect())
	idA := ncA.ConnectedServerId()
	events, err := ncB.SubscribeSync("$SYS.SERVER." + idA + ".*")
	require.NoError(t, err)
	probe, err := ncB.SubscribeSync("probe")
	require.NoError(t, err)
	require.NoError(t, ncB.Flush())
	// Interest crosses the route in order: once the probe arrives, so
	// does the interest in a's events.
	var got *nats.Msg
	for i := 0; i < 100 && got == nil; i++ {
		require.NoError(t, ncA.Publish("probe", []byte("x")))
		got, _ = probe.NextMsg(50 * time.Millisecond)
	}
	require.NotNil(t, got, "no route between the servers")

	a.signal(syscall.SIGUSR2)
	seen := map[string]bool{}
	deadline := time.Now().Add(30 * time.Second)
	for !seen["SHUTDOWN"] && time.Now().Before(deadline) {
		m, err := events.NextMsg(time.Until(deadline))
		require.NoError(t, err, "events seen: %v", seen)
		kind := strings.TrimPrefix(m.Subject, "$SYS.SERVER."+idA+".")
		if kind != "LAMEDUCK" && kind != "SHUTDOWN" {
			continue // STATSZ and the like
		}
		var info map[string]any
		require.NoError(t, json.Unmarshal(m.Data, &info))
		require.Equal(t, idA, info["id"])
		require.False(t, seen["SHUTDOWN"] && kind == "LAMEDUCK", "LAMEDUCK after SHUTDOWN")
		seen[kind] = true
	}
	require.True(t, seen["LAMEDUCK"] && seen["SHUTDOWN"], "events seen: %v", seen)
	require.Equal(t, 0, a.exitCode())
}
