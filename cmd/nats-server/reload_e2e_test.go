package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// TestReloadLogsEveryKey: a reload logs each key it applied, a refused
// reload each key it refused and why (and applies nothing), and
// --reload-check prints the same plan for a running server without
// applying it.
func TestReloadLogsEveryKey(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "r.conf")
	pidFile := filepath.Join(dir, "r.pid")
	base := "pid_file: " + strconv.Quote(pidFile) + "\n"
	writeFile(t, conf, base+"max_connections: 100\nserver_tags: [a]\n")
	p := start(t, "-c", conf)
	servertest.WaitUntil(t, "the pid file", func() bool { _, err := os.Stat(pidFile); return err == nil })

	// The check, against the pid file and the pid, applies nothing.
	next := filepath.Join(dir, "next.conf")
	writeFile(t, next, base+"max_connections: 50\nserver_tags: [b, c]\ntrace: true\nserver_name: x\nno_header_support: true\n")
	code, stdout, stderr := runOnce(t, "-t", "-c", next, "--reload-check", pidFile)
	require.Equal(t, 1, code, stderr)
	require.Contains(t, stdout, "would reload: trace = true\n")
	require.Contains(t, stdout, "would reload: max_connections = 50\n")
	require.Contains(t, stdout, "would reload: server_tags = [b, c]\n")
	require.Contains(t, stdout, "would refuse: server_name: config reload not supported for server_name: old=, new=x\n")
	require.Contains(t, stdout, "would refuse: no_header_support: config reload not supported for no_header_support: old=false, new=true\n")
	require.Contains(t, stdout, "the reload would fail and change nothing")
	require.NotContains(t, p.log.String(), "Reloaded")

	// The same file in place: a reload refuses it, logging each key.
	writeFile(t, conf, base+"max_connections: 50\nserver_tags: [b, c]\ntrace: true\nserver_name: x\nno_header_support: true\n")
	p.signal(syscall.SIGHUP)
	p.waitLog("[ERR] Failed to reload server configuration: config reload not supported for server_name: old=, new=x")
	require.Contains(t, p.log.String(), "[ERR] Reload refused: server_name: config reload not supported for server_name: old=, new=x")
	require.Contains(t, p.log.String(), "[ERR] Reload refused: no_header_support: config reload not supported for no_header_support: old=false, new=true")
	require.NotContains(t, p.log.String(), "Reloaded: ")

	// Without the refused keys the check passes (the snapshot is the
	// configuration the server runs, not the edited file) and the reload
	// logs each key.
	writeFile(t, next, base+"max_connections: 50\nserver_tags: [b, c]\ntrace: true\n")
	code, stdout, stderr = runOnce(t, "-t", "-c", next, "--reload-check", strconv.Itoa(p.cmd.Process.Pid))
	require.Equal(t, 0, code, stdout+stderr)
	require.Equal(t, 3, strings.Count(stdout, "would reload: "), stdout)
	require.NotContains(t, stdout, "would refuse")
	writeFile(t, conf, base+"max_connections: 50\nserver_tags: [b, c]\ntrace: true\n")
	p.signal(syscall.SIGHUP)
	p.waitLog("Reloaded server configuration (sha256:")
	log := p.log.String()
	for _, l := range []string{"[INF] Reloaded: trace = true\n", "[INF] Reloaded: max_connections = 50\n", "[INF] Reloaded: server_tags = [b, c]\n"} {
		require.Contains(t, log, l)
	}
	// Nothing left to change.
	code, stdout, _ = runOnce(t, "-t", "-c", conf, "--reload-check", pidFile)
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "no changes")

	// pid_file moves.
	moved := filepath.Join(dir, "moved.pid")
	writeFile(t, conf, "pid_file: "+strconv.Quote(moved)+"\nmax_connections: 50\nserver_tags: [b, c]\ntrace: true\n")
	p.signal(syscall.SIGHUP)
	p.waitLog("Reloaded: pid_file = " + moved)
	// The file moves once the server took the new options, after the
	// log lines.
	servertest.WaitUntil(t, "the pid file moved", func() bool {
		b, err := os.ReadFile(moved)
		return err == nil && string(b) == strconv.Itoa(p.cmd.Process.Pid)
	})
	require.NoFileExists(t, pidFile)
}

// TestReloadServerTagsAndMaxConnections: server_tags apply on reload (as
// VARZ shows them); lowering max_connections closes
// the excess connections, newest first, with upstream's error.
func TestReloadServerTagsAndMaxConnections(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "r.conf")
	const accounts = "accounts { SYS { users [{user: sys, password: s}] }, A { users [{user: a, password: a}] } }\nsystem_account: SYS\n"
	writeFile(t, conf, accounts+"server_tags: [old]\n")
	p := start(t, "-c", conf)
	sys := p.connect(nats.UserInfo("sys", "s"))

	tags := func() []any {
		t.Helper()
		m, err := sys.Request("$SYS.REQ.SERVER.PING.VARZ", nil, 2*time.Second)
		require.NoError(t, err)
		var v struct {
			Data struct {
				Tags []any `json:"tags"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(m.Data, &v))
		return v.Data.Tags
	}
	require.Equal(t, []any{"old"}, tags())

	var conns []*nats.Conn
	closed := make([]chan struct{}, 4)
	for i := range closed {
		closed[i] = make(chan struct{})
		ch := closed[i]
		nc, err := nats.Connect(p.url(), nats.UserInfo("a", "a"), nats.NoReconnect(),
			nats.ClosedHandler(func(*nats.Conn) { close(ch) }), nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
		require.NoError(t, err)
		t.Cleanup(nc.Close)
		conns = append(conns, nc)
	}
	// sys and four more; three may stay: the two newest go.
	writeFile(t, conf, accounts+"server_tags: [new]\nmax_connections: 3\nmax_closed_clients: 1\n")
	p.signal(syscall.SIGHUP)
	p.waitLog("Reloaded server configuration")
	for _, i := range []int{2, 3} {
		select {
		case <-closed[i]:
		case <-time.After(5 * time.Second):
			t.Fatalf("connection %d was not closed", i)
		}
		require.ErrorContains(t, conns[i].LastError(), "maximum connections exceeded")
	}
	for _, nc := range conns[:2] {
		require.NoError(t, nc.Flush())
	}
	require.NoError(t, sys.Flush())
	require.Equal(t, []any{"new"}, tags())
	p.waitLog("Reloaded: server_tags = [new]")
	p.waitLog("Reloaded: max_closed_clients = 1")
	// max_closed_clients: 1 keeps the last of the two closed.
	m, err := sys.Request("$SYS.REQ.SERVER.PING.CONNZ", []byte(`{"state":1}`), 2*time.Second)
	require.NoError(t, err)
	var cz struct {
		Data struct {
			Conns []struct {
				Reason string `json:"reason"`
			} `json:"connections"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(m.Data, &cz))
	require.Len(t, cz.Data.Conns, 1)
	require.Equal(t, "Maximum Connections Exceeded", cz.Data.Conns[0].Reason)
}

// TestReloadRequest: $SYS.REQ.SERVER.<id>.RELOAD reloads the file as
// SIGHUP does; its answer is empty on success and carries the reload's
// error (code 500) otherwise, as upstream's.
func TestReloadRequest(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "r.conf")
	const accounts = "accounts { SYS { users [{user: sys, password: s}] }, A { users [{user: a, password: a}] } }\nsystem_account: SYS\n"
	writeFile(t, conf, accounts+"max_payload: 1KB\n")
	p := start(t, "-c", conf)
	sys := p.connect(nats.UserInfo("sys", "s"))
	m, err := sys.Request("$SYS.REQ.SERVER.PING.IDZ", nil, 2*time.Second)
	require.NoError(t, err)
	var idz struct{ ID string }
	require.NoError(t, json.Unmarshal(m.Data, &idz))
	subject := "$SYS.REQ.SERVER." + idz.ID + ".RELOAD"

	type answer struct {
		Server map[string]any `json:"server"`
		Data   any            `json:"data"`
		Error  *struct {
			Code        int    `json:"code"`
			Description string `json:"description"`
		} `json:"error"`
	}
	writeFile(t, conf, accounts+"max_payload: 2KB\n")
	m, err = sys.Request(subject, nil, 5*time.Second)
	require.NoError(t, err)
	var a answer
	require.NoError(t, json.Unmarshal(m.Data, &a))
	require.Nil(t, a.Error)
	require.Nil(t, a.Data)
	require.Equal(t, idz.ID, a.Server["id"])
	p.waitLog("Reloaded: max_payload = 2048")
	require.Equal(t, int64(2048), p.connect(nats.UserInfo("a", "a")).MaxPayload())

	writeFile(t, conf, accounts+"max_payload: 4KB\nserver_name: other\n")
	m, err = sys.Request(subject, nil, 5*time.Second)
	require.NoError(t, err)
	a = answer{}
	require.NoError(t, json.Unmarshal(m.Data, &a))
	require.NotNil(t, a.Error)
	require.Equal(t, 500, a.Error.Code)
	require.Equal(t, "config reload not supported for server_name: old=, new=other", a.Error.Description)
	require.Equal(t, int64(2048), p.connect(nats.UserInfo("a", "a")).MaxPayload())
}

// TestReloadCheckUsesServerEnvironment: the check reads the variables the
// server's parse read, as the server's reload would, not the checker's.
func TestReloadCheckUsesServerEnvironment(t *testing.T) {
	dir := t.TempDir()
	conf := writeFile(t, filepath.Join(dir, "r.conf"), "max_connections: $NATSD_RELOAD_MAXC\n")
	t.Setenv("NATSD_RELOAD_MAXC", "100")
	p := start(t, "-c", conf)
	t.Setenv("NATSD_RELOAD_MAXC", "7")
	code, stdout, stderr := runOnce(t, "-t", "-c", conf, "--reload-check", strconv.Itoa(p.cmd.Process.Pid))
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "no changes")

	// Without a snapshot (no such process) the check fails.
	code, _, stderr = runOnce(t, "-t", "-c", conf, "--reload-check", "999999999")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "no reload snapshot of process 999999999")

	// Without -t it would start a server: refused.
	code, _, stderr = runOnce(t, "-c", conf, "--reload-check", "1")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "--reload-check needs -t and -c <file>")
}

// TestReloadJetStreamLimits: raising max_memory_store applies to new
// streams at once; lowering it is refused with upstream's text.
func TestReloadJetStreamLimits(t *testing.T) {
	dir := t.TempDir()
	block := func(mem string) string {
		return "jetstream { store_dir: " + strconv.Quote(filepath.Join(dir, "js")) + ", max_memory_store: " + mem + " }\n"
	}
	conf := writeFile(t, filepath.Join(dir, "r.conf"), block("1MB"))
	p := start(t, "-c", conf)
	js, err := jetstream.New(p.connect())
	require.NoError(t, err)
	cfg := jetstream.StreamConfig{Name: "M", Subjects: []string{"m"}, Storage: jetstream.MemoryStorage, MaxBytes: 2 << 20}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = js.CreateStream(ctx, cfg)
	require.ErrorContains(t, err, "insufficient storage resources")

	writeFile(t, conf, block("4MB"))
	p.signal(syscall.SIGHUP)
	p.waitLog("Reloaded: jetstream max_mem_store = 4194304")
	_, err = js.CreateStream(ctx, cfg)
	require.NoError(t, err)

	writeFile(t, conf, block("2MB"))
	p.signal(syscall.SIGHUP)
	p.waitLog("[ERR] Failed to reload server configuration: config reload not supported for decreasing jetstream max memory and store")
}

// TestReloadClientAdvertise: a reload of client_advertise changes the
// connect_urls of this server's clients and, through the routes, of its
// peers' clients (nats.go learns the new URL from the asynchronous INFO).
func TestReloadClientAdvertise(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers")
	}
	b := start(t, "--cluster_name", "adv", "--cluster", "nats://127.0.0.1:-1", "-D")
	dir := t.TempDir()
	block := "client_advertise: %q\ncluster {\n  name: adv\n  listen: 127.0.0.1:-1\n  routes: [" + b.clusterURL() + "]\n}\n"
	conf := writeFile(t, filepath.Join(dir, "a.conf"), fmt.Sprintf(block, "first.example:4222"))
	a := start(t, "-c", conf)
	b.waitLog("Registering remote route")

	ncA := a.connect()
	ncB := b.connect()
	has := func(nc *nats.Conn, url string) bool {
		return slices.Contains(nc.DiscoveredServers(), url) || slices.Contains(nc.Servers(), url)
	}
	servertest.WaitUntil(t, "B's client learns A's first URL", func() bool { return has(ncB, "nats://first.example:4222") })

	writeFile(t, conf, fmt.Sprintf(block, "second.example:4333"))
	a.signal(syscall.SIGHUP)
	a.waitLog("Reloaded: client_advertise = second.example:4333")
	servertest.WaitUntil(t, "B's client learns A's new URL", func() bool { return has(ncB, "nats://second.example:4333") })
	servertest.WaitUntil(t, "A's client learns A's new URL", func() bool { return has(ncA, "nats://second.example:4333") })
}
