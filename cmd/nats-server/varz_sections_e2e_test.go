package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// TestVarzListenerSectionsAsUpstream checks the mqtt, websocket, leaf,
// cluster and gateway sections of /varz with TLS on every listener:
// tls_cert_not_after in each, the MQTT block's max_ack_pending, and the
// authorization timeout of leaf nodes, routes and gateways, which TLS
// raises to its handshake's timeout plus a second. With the upstream
// binary the sections are compared whole (but the ports).
func TestVarzListenerSectionsAsUpstream(t *testing.T) {
	pki := servertest.NewPKI(t)
	f := pki.Files()
	notAfter := pki.Server.Leaf.NotAfter.UTC().Truncate(time.Second).Format(time.RFC3339)
	tlsBlock := func(timeout string) string {
		return fmt.Sprintf("tls { cert_file: %q, key_file: %q, ca_file: %q%s }", f.Cert, f.Key, f.CA, timeout)
	}
	dir := t.TempDir()
	// MQTT needs JetStream, which with a cluster upstream wants routes:
	// two files. The listeners get free ports of their own, not -1:
	// upstream's /varz may miss the port of a listener on -1.
	confOf := func(name, bin string) string {
		ports := servertest.FreePorts(t, 3)
		var text string
		switch name {
		case "edge":
			text = fmt.Sprintf(`server_name: v1
jetstream { store_dir: %q }
mqtt { listen: "127.0.0.1:%d", max_ack_pending: 500, %s }
websocket { listen: "127.0.0.1:%d", %s }
leafnodes { listen: "127.0.0.1:%d", %s }
`, filepath.Join(dir, bin+"-js"), ports[0], tlsBlock(", timeout: 5"), ports[1], tlsBlock(""), ports[2], tlsBlock(", timeout: 5"))
		case "core":
			text = fmt.Sprintf(`server_name: v2
accounts { SYS { users [{user: s, password: s}] } }
system_account: SYS
cluster { name: c1, listen: "127.0.0.1:%d", %s }
gateway { name: c1, listen: "127.0.0.1:%d", %s }
`, ports[0], tlsBlock(""), ports[1], tlsBlock(", timeout: 4"))
		}
		return writeFile(t, filepath.Join(dir, bin+"-"+name+".conf"), text)
	}
	want := map[string]map[string]map[string]any{
		"edge": {
			"mqtt":      {"host": "127.0.0.1", "tls_timeout": 5.0, "max_ack_pending": 500.0, "tls_cert_not_after": notAfter},
			"websocket": {"host": "127.0.0.1", "tls_cert_not_after": notAfter},
			"leaf":      {"host": "127.0.0.1", "auth_timeout": 6.0, "tls_timeout": 5.0, "tls_required": true, "tls_cert_not_after": notAfter},
		},
		"core": {
			"cluster": {"name": "c1", "addr": "127.0.0.1", "auth_timeout": 3.0, "tls_timeout": 2.0, "tls_required": true, "tls_verify": true, "pool_size": 3.0, "tls_cert_not_after": notAfter},
			"gateway": {"name": "c1", "host": "127.0.0.1", "auth_timeout": 5.0, "tls_timeout": 4.0, "tls_required": true, "tls_verify": true, "tls_cert_not_after": notAfter},
		},
	}
	portKeys := []string{"port", "cluster_port"}
	for _, name := range []string{"edge", "core"} {
		// sections reads /varz until every listener of the file is in it
		// (the monitoring port may answer before they are up), without the
		// ports, which differ.
		sections := func(port int) map[string]map[string]any {
			deadline := time.Now().Add(10 * time.Second)
			for {
				v := getVarz(t, port)
				out := map[string]map[string]any{}
				up := true
				for sec := range want[name] {
					m, _ := v[sec].(map[string]any)
					ports := 0
					for _, k := range portKeys {
						if p, ok := m[k].(float64); ok && p > 0 {
							ports++
						}
						delete(m, k)
					}
					up = up && ports == 1
					out[sec] = m
				}
				if up {
					return out
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: /varz still lacks a listener's port: %v", name, v)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		mport := servertest.FreePorts(t, 1)[0]
		start(t, "-c", confOf(name, "natsd"), "-a", "127.0.0.1", "-p", "-1", "-m", strconv.Itoa(mport))
		servertest.WaitListening(t, "127.0.0.1:"+strconv.Itoa(mport))
		got := sections(mport)
		require.Equal(t, want[name], got, name)

		up := os.Getenv(servertest.UpstreamEnv)
		if up == "" {
			continue
		}
		uport := servertest.FreePorts(t, 1)[0]
		logs := servertest.StartProcess(t, up, "-c", confOf(name, "upstream"), "-a", "127.0.0.1", "-p", "-1", "-m", strconv.Itoa(uport))
		servertest.WaitListening(t, "127.0.0.1:"+strconv.Itoa(uport))
		require.Equal(t, sections(uport), got, "%s: natsd against upstream\n%s", name, logs.String())
	}
}
