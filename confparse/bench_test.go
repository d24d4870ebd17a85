package confparse_test

import (
	"fmt"
	"strings"
	"testing"

	"natsd.dev/confparse"
)

// typicalConfig is a ~1.3 KB server configuration of the usual shape.
const typicalConfig = `# NATS server
server_name: "n1-east"
listen: 0.0.0.0:4222
http: 127.0.0.1:8222
max_payload: 1MB
max_connections: 64K
write_deadline: "10s"
ping_interval: "2m"
debug: false
trace: false
logtime: true

PERMS_APP = {
  publish: { allow: ["app.>", "_INBOX.>"], deny: ["app.admin.>"] }
  subscribe: { allow: ["app.>", "_INBOX.>"] }
}

authorization {
  timeout: 2
  users = [
    {user: admin, password: "$2a$11$3kIDaCxw.Glsl1.u5nKa6eUnNDLV5HV9tIuUp7EHhMt6Nm9myW1aS"}
    {user: app, password: app-secret, permissions: $PERMS_APP}
    {user: monitor, password: m0n, permissions: {subscribe: "$SYS.>"}}
  ]
}

cluster {
  name: east
  listen: 0.0.0.0:6222
  routes: [
    nats-route://n2-east:6222
    nats-route://n3-east:6222
  ]
  authorization { user: route, password: r0ute, timeout: 1.5 }
}

jetstream {
  store_dir: "/data/jetstream"
  max_memory_store: 4GB
  max_file_store: 100GB
}

leafnodes {
  port: 7422
  remotes = [ { url: "tls://hub.example.com:7422", credentials: "/etc/nats/leaf.creds" } ]
}

websocket { port: 8080, no_tls: true, compression: true }
mqtt { port: 1883, ack_wait: "30s", max_ack_pending: 100 }
tls {
  cert_file: "/etc/nats/certs/server.pem"
  key_file: "/etc/nats/certs/key.pem"
  ca_file: "/etc/nats/certs/ca.pem"
  verify: true
  timeout: 2
}
`

// usersConfig generates a configuration with n users, each with its own
// publish and subscribe permissions (about 150 bytes per user).
func usersConfig(n int) string {
	var b strings.Builder
	b.WriteString("port: 4222\nauthorization {\n  users = [\n")
	for i := range n {
		fmt.Fprintf(&b, "  {user: user%04d, password: pw%04d, permissions: {"+
			"publish: {allow: [\"orders.%04d.>\", \"_INBOX.>\"], deny: \"adm.>\"}, "+
			"subscribe: [\"orders.%04d.>\", \"ev.*\"]}}\n", i, i, i, i)
	}
	b.WriteString("  ]\n}\n")
	return b.String()
}

func benchParse(b *testing.B, src []byte) {
	b.Helper()
	o := confparse.Options{Env: noEnv}
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := confparse.ParseWithOptions("bench.conf", src, o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseTypical parses a ~1.3 KB typical server configuration
// (upstream's parser: about 95 µs).
func BenchmarkParseTypical(b *testing.B) {
	benchParse(b, []byte(typicalConfig))
}

// BenchmarkParseUsers1000 parses a ~150 KB configuration with 1,000 users
// with permissions (upstream's parser: about 15 ms and 72.7k allocations).
func BenchmarkParseUsers1000(b *testing.B) {
	benchParse(b, []byte(usersConfig(1000)))
}

func BenchmarkFormatUsers1000(b *testing.B) {
	m, err := confparse.ParseWithOptions("", []byte(usersConfig(1000)), confparse.Options{Env: noEnv})
	if err != nil {
		b.Fatal(err)
	}
	out := confparse.Format(m)
	b.ReportAllocs()
	b.SetBytes(int64(len(out)))
	for b.Loop() {
		out = confparse.AppendFormat(out[:0], m)
	}
}

func TestBenchConfigs(t *testing.T) {
	if n := len(typicalConfig); n < 1200 || n > 1500 {
		t.Errorf("typical config is %d bytes, want ~1.3 KB", n)
	}
	if n := len(usersConfig(1000)); n < 140_000 || n > 170_000 {
		t.Errorf("users config is %d bytes, want ~150 KB", n)
	}
	m := parse(t, usersConfig(1000))
	auth, _ := m.Get("authorization")
	users, _ := auth.Map.Get("users")
	if len(users.Array) != 1000 {
		t.Fatalf("%d users", len(users.Array))
	}
	m = parse(t, typicalConfig)
	if !m.Lookup("PERMS_APP").UsedAsVariable {
		t.Error("PERMS_APP not marked as used")
	}
}

// TestAllocs keeps the allocation counts of the benchmarks from creeping
// up: nodes come from slabs, so the count grows with the logarithm of the
// input, not with the number of values.
func TestAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts in -short mode")
	}
	o := confparse.Options{Env: noEnv}
	for _, tt := range []struct {
		name string
		src  []byte
		max  float64
	}{
		{"typical", []byte(typicalConfig), 16},
		{"users1000", []byte(usersConfig(1000)), 50},
	} {
		got := testing.AllocsPerRun(5, func() {
			if _, err := confparse.ParseWithOptions("bench.conf", tt.src, o); err != nil {
				t.Fatal(err)
			}
		})
		if got > tt.max {
			t.Errorf("%s: %v allocations per parse, want at most %v", tt.name, got, tt.max)
		}
	}
}
