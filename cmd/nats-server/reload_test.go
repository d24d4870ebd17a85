package main

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// planFor parses two configurations with no flags and plans the reload
// from the first to the second.
func planFor(t *testing.T, from, to string) *reloadPlan {
	t.Helper()
	f, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	dir := t.TempDir()
	parse := func(name, text string) *loaded {
		c, _, err := parseConfigFile(writeFile(t, filepath.Join(dir, name), text))
		require.NoError(t, err)
		l, err := load(c, f)
		require.NoError(t, err)
		return l
	}
	return planReload(parse("old.conf", from), parse("new.conf", to))
}

func keysOf(p *reloadPlan) (changed, refused []string) {
	for _, c := range p.changed {
		changed = append(changed, c.key)
	}
	for _, r := range p.refused {
		refused = append(refused, r.key)
	}
	return changed, refused
}

// TestPlanReload checks the diff engine key by key: what it applies, what
// it refuses, and that an unchanged file plans nothing.
func TestPlanReload(t *testing.T) {
	const accounts = "accounts { A { users [{user: a, password: a}] }, B { users [{user: b, password: b}] } }\n"
	for _, tc := range []struct {
		name, from, to   string
		changed, refused []string
	}{
		{"nothing", "port: 4222\nmax_payload: 1KB\n", "max_payload: 1024\n", nil, nil},
		{"logging", "", "debug: true\ntrace: true\nlogtime: false\nmax_traced_msg_len: 10\n",
			[]string{"debug", "trace", "logtime", "max_traced_msg_len"}, nil},
		{"limits", "", "max_connections: 5\nmax_subscriptions: 6\nmax_payload: 2KB\nmax_control_line: 1KB\nmax_pending: 10MB\nping_interval: \"5s\"\nping_max: 3\nwrite_deadline: \"3s\"\nmax_closed_clients: 5\nlame_duck_duration: \"30s\"\n",
			[]string{"max_connections", "max_subscriptions", "max_payload", "max_control_line", "max_pending", "ping_interval", "ping_max", "write_deadline", "lame_duck_duration", "max_closed_clients"}, nil},
		{"tags", "server_tags: [a]\n", "server_tags: [a, b]\n", []string{"server_tags"}, nil},
		{"authorization", "authorization { user: a, password: a }\n", "authorization { user: a, password: b }\n", []string{"authorization"}, nil},
		{"files", "", "pid_file: x.pid\nports_file_dir: /tmp\n", []string{"pid_file", "ports_file_dir"}, nil},
		{"no_auth_user removed", accounts + "no_auth_user: a\n", accounts, []string{"no_auth_user"}, nil},
		{"no_auth_user set", accounts, accounts + "no_auth_user: a\n", nil, []string{"no_auth_user"}},
		{"restart keys", "", "server_name: x\nport: 4333\nno_header_support: true\nhttp_port: 8222\n",
			nil, []string{"port", "server_name", "no_header_support", "http"}},
		{"client_advertise", "", "client_advertise: \"h:1\"\n", []string{"client_advertise"}, nil},
		{"accounts", accounts, "accounts { A { users [{user: a, password: a}] } }\n", []string{"authorization", "accounts"}, nil},
		{"account limits", accounts, "accounts { A { users [{user: a, password: a}], limits { max_connections: 1 } }, B { users [{user: b, password: b}] } }\n",
			[]string{"accounts"}, nil},
		{"mappings", "", "mappings { a: b }\n", []string{"accounts"}, nil},
		{"exports and imports", accounts, "accounts { A { users [{user: a, password: a}], exports [{stream: s.>}] }, B { users [{user: b, password: b}], imports [{stream: {account: A, subject: s.>}}] } }\n",
			[]string{"accounts"}, nil},
		{"system_account", accounts, accounts + "system_account: B\n", nil, []string{"system_account"}},
		{"both", "", "trace: true\nserver_name: x\n", []string{"trace"}, []string{"server_name"}},
		{"cluster routes", "cluster { listen: \"127.0.0.1:-1\", routes: [\"nats://127.0.0.1:1\"] }\n", "cluster { listen: \"127.0.0.1:-1\", routes: [\"nats://127.0.0.1:2\"] }\n",
			[]string{"cluster routes"}, nil},
		{"cluster keys", "cluster { listen: \"127.0.0.1:-1\" }\n", "cluster { listen: \"127.0.0.1:-1\", pool_size: 5, name: c }\n",
			[]string{"cluster pool_size", "cluster name"}, nil},
		{"cluster applied keys", "cluster { listen: \"127.0.0.1:-1\" }\n",
			"cluster { listen: \"127.0.0.1:-1\", ping_interval: 5s, ping_max: 3, connect_retries: 2, connect_backoff: true, advertise: \"h:1\", no_advertise: true, authorization { user: u, password: p } }\n",
			[]string{"cluster ping_interval", "cluster ping_max", "cluster connect_retries", "cluster connect_backoff", "cluster authorization", "cluster advertise", "cluster no_advertise"}, nil},
		{"cluster compression and permissions", "cluster { listen: \"127.0.0.1:-1\" }\n",
			"cluster { listen: \"127.0.0.1:-1\", compression: s2_fast, permissions { import: [a] } }\n",
			[]string{"cluster compression", "cluster permissions"}, nil},
		{"cluster accounts", accounts + "cluster { listen: \"127.0.0.1:-1\" }\n", accounts + "cluster { listen: \"127.0.0.1:-1\", accounts: [A] }\n",
			[]string{"cluster accounts"}, nil},
		{"cluster missing account", accounts + "cluster { listen: \"127.0.0.1:-1\" }\n", "accounts { B { users [{user: b, password: b}] } }\ncluster { listen: \"127.0.0.1:-1\", accounts: [A] }\n",
			[]string{"authorization", "accounts", "cluster accounts"}, []string{"cluster accounts"}},
		{"jetstream on", "", "jetstream: enabled\n", []string{"JetStream"}, nil},
		{"jetstream off", "jetstream: enabled\n", "jetstream: disabled\n", []string{"JetStream"}, nil},
		{"jetstream off under mqtt", "jetstream: enabled\nmqtt { listen: \"127.0.0.1:-1\" }\n", "jetstream: disabled\nmqtt { listen: \"127.0.0.1:-1\" }\n",
			[]string{"JetStream"}, []string{"mqtt"}},
		{"msg_trace", accounts, "accounts { A { users [{user: a, password: a}], msg_trace: {dest: t} }, B { users [{user: b, password: b}] } }\n",
			[]string{"accounts"}, nil},
		{"cluster added", "", "cluster { listen: \"127.0.0.1:-1\" }\n", nil, []string{"cluster listen"}},
		{"websocket", "", "websocket { listen: \"127.0.0.1:-1\", no_tls: true }\n", nil, []string{"websocket"}},
		{"websocket keys", "websocket { listen: \"127.0.0.1:-1\", no_tls: true }\n",
			"websocket { listen: \"127.0.0.1:-1\", no_tls: true, same_origin: true, compression: true, handshake_timeout: 3s, user_cookie: u }\n",
			[]string{"websocket same_origin", "websocket compression", "websocket handshake_timeout", "websocket user_cookie"}, nil},
		{"leafnodes remotes", "leafnodes { remotes: [ { url: \"nats-leaf://h:1\" }, { url: \"nats-leaf://h:2\" } ] }\n",
			"leafnodes { remotes: [ { url: \"nats-leaf://h:1\", disabled: true }, { url: \"nats-leaf://h:3\" } ] }\n",
			[]string{`LeafNode Remote urls=["nats-leaf://h:1"], account="$G" Disabled value is: true`,
				`LeafNode Remote urls=["nats-leaf://h:2"], account="$G" removed`,
				`LeafNode Remote urls=["nats-leaf://h:3"], account="$G" added`}, nil},
		{"leafnodes listener", "", "leafnodes { listen: \"127.0.0.1:7422\" }\n", nil, []string{"leafnodes"}},
		{"leafnodes authorization", "leafnodes { port: 7422, authorization { user: u, password: p } }\n",
			"leafnodes { port: 7422, authorization { user: u, password: q } }\n", []string{"leafnodes authorization"}, nil},
		{"leafnodes authorization off", "leafnodes { port: 7422, authorization { user: u, password: p } }\n",
			"leafnodes { port: 7422 }\n", nil, []string{"leafnodes"}},
		{"leafnodes compression", "leafnodes { port: 7422 }\n",
			"leafnodes { port: 7422, compression: s2_best }\n", []string{"leafnodes compression = s2_best"}, nil},
		{"gateway reject_unknown", "gateway { name: A, port: 7522 }\n",
			"gateway { name: A, port: 7522, reject_unknown_cluster: true }\n", []string{"gateway reject_unknown_cluster"}, nil},
		{"gateway remote added", "gateway { name: A, port: 7522 }\n",
			"gateway { name: A, port: 7522, gateways: [ { name: B, url: \"nats://h:1\" } ] }\n", []string{`gateway remote "B" added`}, nil},
		{"gateway name", "gateway { name: A, port: 7522 }\n", "gateway { name: B, port: 7522 }\n", []string{"cluster name"}, []string{"gateway"}},
		{"websocket advertise", "websocket { listen: \"127.0.0.1:-1\", no_tls: true }\n",
			"websocket { listen: \"127.0.0.1:-1\", no_tls: true, advertise: \"h:1\" }\n", nil, []string{"websocket"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := planFor(t, tc.from, tc.to)
			changed, refused := keysOf(p)
			require.Equal(t, tc.changed, changed)
			require.Equal(t, tc.refused, refused)
			require.Equal(t, len(tc.refused) > 0, p.err() != nil)
		})
	}
}

// TestPlanReloadValues: applied keys are logged with their new values as
// upstream's "Reloaded: key = value"; blocks by name alone; refusals with
// upstream's wording.
func TestPlanReloadValues(t *testing.T) {
	p := planFor(t, "server_tags: [a]\n", "trace: true\nmax_connections: 10\nserver_tags: [b, c]\nauthorization { token: s3cr3t }\nserver_name: x\n")
	var lines []string
	for _, c := range p.changed {
		lines = append(lines, c.String())
	}
	require.Equal(t, []string{"trace = true", "max_connections = 10", "server_tags = [b, c]", "authorization"}, lines)
	require.EqualError(t, p.err(), "config reload not supported for server_name: old=, new=x")
}
