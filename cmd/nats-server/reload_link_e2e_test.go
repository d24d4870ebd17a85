package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// TestGatewayReloadTLS: SIGHUP gives a gateway a new certificate and CA
// (the built binary, and upstream's when NATSD_UPSTREAM_SERVER is set):
// a cluster that trusts only the new CA is refused before and connects
// after, while the established gateways keep carrying messages.
func TestGatewayReloadTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three servers")
	}
	t.Run("natsd", func(t *testing.T) { gatewayReloadTLSScenario(t, binary, true) })
	if up := os.Getenv(servertest.UpstreamEnv); up != "" {
		t.Run("upstream", func(t *testing.T) { gatewayReloadTLSScenario(t, up, false) })
	}
}

func gatewayReloadTLSScenario(t *testing.T, bin string, natsd bool) {
	dir := t.TempDir()
	pki1, pki2 := servertest.NewPKI(t), servertest.NewPKI(t)
	f1, f2 := pki1.Files(), pki2.Files()
	ca1, err := os.ReadFile(f1.CA)
	require.NoError(t, err)
	ca2, err := os.ReadFile(f2.CA)
	require.NoError(t, err)
	both := writeFile(t, filepath.Join(dir, "both.pem"), string(ca1)+string(ca2))
	ports := servertest.FreePorts(t, 3)
	conf := func(name string, port int, f servertest.Files, ca string, remote string, remotePort int) string {
		return fmt.Sprintf(`server_name: %s
gateway {
  name: %s
  listen: "127.0.0.1:%d"
  tls { cert_file: %q, key_file: %q, ca_file: %q, verify: true, timeout: 2 }
  gateways: [ { name: %s, urls: ["nats://127.0.0.1:%d"] } ]
}
`, strings.ToLower(name)+"1", name, port, f.Cert, f.Key, ca, remote, remotePort)
	}
	bConf := writeFile(t, filepath.Join(dir, "b.conf"), conf("B", ports[1], f1, f1.CA, "A", ports[0]))
	b := startBinary(t, bin, "-c", bConf)
	a := startBinary(t, bin, "-c", writeFile(t, filepath.Join(dir, "a.conf"), conf("A", ports[0], f1, f1.CA, "B", ports[1])))
	a.waitLog(`Outbound gateway connection to "B"`)
	b.waitLog(`Outbound gateway connection to "A"`)

	// C trusts only the second CA: B's certificate is refused.
	c := startBinary(t, bin, "-c", writeFile(t, filepath.Join(dir, "c.conf"), conf("C", ports[2], f2, f2.CA, "B", ports[1])))
	c.waitLog("TLS gateway handshake error")

	// B's new certificate comes from the second CA; B trusts both.
	writeFile(t, bConf, conf("B", ports[1], f2, both, "A", ports[0]))
	b.signal(syscall.SIGHUP)
	if natsd {
		b.waitLog("Reloaded: gateway tls")
	}
	b.waitLog("Reloaded server configuration")
	c.waitLog(`Outbound gateway connection to "B"`)
	b.waitLog(`Outbound gateway connection to "C"`)

	// The established A-B gateways still carry messages (the new
	// subscription's interest crosses them too).
	nb, na := b.connect(), a.connect()
	sub, err := nb.SubscribeSync("tls.reload")
	require.NoError(t, err)
	require.NoError(t, nb.Flush())
	servertest.PublishUntil(t, na, "tls.reload", []byte("x"), sub)
	require.Equal(t, 1, strings.Count(a.log.String(), `Outbound gateway connection to "B"`), "A's gateway to B was recreated")
}

// TestLeafReloadUsers: SIGHUP applies a new list of leafnodes {
// authorization { users } } (natsd only: upstream refuses the change): a
// leaf node of a user removed is closed with 'Authorization Violation'
// and stays out, one of a user kept stays, one of a user added connects.
func TestLeafReloadUsers(t *testing.T) {
	dir := t.TempDir()
	users := func(list string) string {
		return "accounts { B { users: [{user: cb, password: x}] } }\nleafnodes { listen: \"127.0.0.1:-1\", authorization { users: [" + list + "] } }\n"
	}
	hubConf := writeFile(t, filepath.Join(dir, "hub.conf"), users(`{user: a, password: pa}, {user: b, password: pb, account: B}`))
	hub := start(t, "-c", hubConf)
	addr := hub.leafAddr()
	edge := func(user, pass string) *proc {
		conf := fmt.Sprintf("leafnodes { reconnect: \"100ms\", remotes: [ { url: \"nats-leaf://%s:%s@%s\" } ] }\n", user, pass, addr)
		return start(t, "-c", writeFile(t, filepath.Join(dir, user+".conf"), conf))
	}
	ea, eb := edge("a", "pa"), edge("b", "pb")
	ea.waitLog("Leafnode connection created")
	eb.waitLog("Leafnode connection created")
	ec := edge("c", "pc")
	hub.waitLog(`authentication error - User "c"`)

	writeFile(t, hubConf, users(`{user: c, password: pc, account: B}, {user: a, password: pa}`))
	hub.signal(syscall.SIGHUP)
	hub.waitLog("Reloaded: leafnodes authorization")
	hub.waitLog("authentication error - authorization reloaded")
	eb.waitLog("Authorization Violation")
	ec.waitLog("Leafnode connection created")
	// b stays out; a's connection was never closed; c's leaf node is
	// bound to B: a message from the hub's account B reaches it.
	eventually(t, "b refused again", func() bool {
		return strings.Count(hub.log.String(), `authentication error - User "b"`) >= 1
	})
	require.Equal(t, 1, strings.Count(ea.log.String(), "Leafnode connection created"))
	require.NotContains(t, ea.log.String(), "Leafnode connection closed")
	nc := ec.connect()
	sub, err := nc.SubscribeSync("to.c")
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	servertest.PublishUntil(t, hub.connect(nats.UserInfo("cb", "x")), "to.c", []byte("x"), sub)
}

// TestGatewayReloadRemotesAndRejectUnknown (natsd only, beyond
// upstream): SIGHUP adds a remote cluster (it is dialed at once) and
// turns reject_unknown_cluster on (a cluster not configured is refused
// from then on); removing a remote is refused.
func TestGatewayReloadRemotesAndRejectUnknown(t *testing.T) {
	dir := t.TempDir()
	ports := servertest.FreePorts(t, 3)
	conf := func(name string, port int, extra, remotes string) string {
		return fmt.Sprintf("server_name: %s1\ngateway {\n  name: %s\n  listen: \"127.0.0.1:%d\"\n%s  gateways: [%s]\n}\n",
			strings.ToLower(name), name, port, extra, remotes)
	}
	remote := func(name string, port int) string {
		return fmt.Sprintf(`{ name: %s, urls: ["nats://127.0.0.1:%d"] }`, name, port)
	}
	bConf := writeFile(t, filepath.Join(dir, "b.conf"), conf("B", ports[1], "", ""))
	b := start(t, "-c", bConf)
	aConf := writeFile(t, filepath.Join(dir, "a.conf"), conf("A", ports[0], "", ""))
	a := start(t, "-c", aConf)

	writeFile(t, aConf, conf("A", ports[0], "", remote("B", ports[1])))
	a.signal(syscall.SIGHUP)
	a.waitLog(`Reloaded: gateway remote "B" added`)
	a.waitLog(`Outbound gateway connection to "B"`)
	b.waitLog(`Outbound gateway connection to "A"`)

	writeFile(t, bConf, conf("B", ports[1], "  reject_unknown_cluster: true\n", remote("A", ports[0])))
	b.signal(syscall.SIGHUP)
	b.waitLog("Reloaded: gateway reject_unknown_cluster = true")
	b.waitLog(`Reloaded: gateway remote "A" added`)
	c := start(t, "-c", writeFile(t, filepath.Join(dir, "c.conf"), conf("C", ports[2], "", remote("B", ports[1]))))
	b.waitLog(`Rejecting connection from gateway "C"`)
	c.waitLog("Gateway connection closed")
	require.NotContains(t, b.log.String(), `Inbound gateway connection from "C"`)

	// The established A-B gateways still carry messages.
	nb := b.connect()
	sub, err := nb.SubscribeSync("after.reload")
	require.NoError(t, err)
	require.NoError(t, nb.Flush())
	servertest.PublishUntil(t, a.connect(), "after.reload", []byte("x"), sub)

	writeFile(t, aConf, conf("A", ports[0], "", ""))
	a.signal(syscall.SIGHUP)
	a.waitLog(`Failed to reload server configuration: config reload not supported for Gateway: field "Gateways": old=[B], new=[]`)
}

// TestLeafReloadCompression: SIGHUP changes the hub's leafnodes {
// compression }, as upstream reloads it (the same scenario runs on
// upstream's binary when NATSD_UPSTREAM_SERVER is set): /leafz shows the
// new level of the same connection; turning it off makes the leaf node
// negotiate again (its connection closes and comes back uncompressed).
func TestLeafReloadCompression(t *testing.T) {
	t.Run("natsd", func(t *testing.T) { leafReloadCompressionScenario(t, binary, true) })
	if up := os.Getenv(servertest.UpstreamEnv); up != "" {
		t.Run("upstream", func(t *testing.T) { leafReloadCompressionScenario(t, up, false) })
	}
}

func leafReloadCompressionScenario(t *testing.T, bin string, natsd bool) {
	start := func(t *testing.T, args ...string) *proc { return startBinary(t, bin, args...) }
	dir := t.TempDir()
	block := func(mode string) string {
		return "http_port: -1\nleafnodes { listen: \"127.0.0.1:-1\", compression: " + mode + " }\n"
	}
	hubConf := writeFile(t, filepath.Join(dir, "hub.conf"), block("s2_fast"))
	hub := start(t, "-c", hubConf)
	edge := start(t, "-c", writeFile(t, filepath.Join(dir, "edge.conf"),
		"leafnodes { reconnect: \"100ms\", remotes: [ { url: \"nats-leaf://"+hub.leafAddr()+"\" } ] }\n"))
	compression := func(want string) {
		t.Helper()
		eventually(t, "/leafz compression "+want, func() bool {
			var lz leafzDoc
			getJSON(t, hub.monitorURL()+"/leafz", &lz)
			return len(lz.Leafs) == 1 && lz.Leafs[0].Compression == want
		})
	}
	compression("s2_fast")

	writeFile(t, hubConf, block("s2_best"))
	hub.signal(syscall.SIGHUP)
	if natsd {
		hub.waitLog("Reloaded: leafnodes compression = s2_best")
	}
	compression("s2_best")
	require.NotContains(t, hub.log.String(), "Leafnode connection closed")

	writeFile(t, hubConf, block("off"))
	hub.signal(syscall.SIGHUP)
	if natsd {
		hub.waitLog("Reloaded: leafnodes compression = off")
	}
	hub.waitLog("Leafnode connection closed")
	compression("off")
	eventually(t, "the leaf node back", func() bool {
		return strings.Count(edge.log.String(), "Leafnode connection created") == 2
	})
}
