package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// SIGHUP applies the leafnodes {} remotes of the built binary: a remote
// added connects, a remote disabled or removed is closed, a remote
// enabled connects again, with upstream's log lines; what upstream does
// not reload (the authorization turned off) is refused with its text and
// changes nothing.
func TestLeafReloadRemotes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three servers")
	}
	t.Run("natsd", func(t *testing.T) { leafReloadScenario(t, binary, true) })
	if up := os.Getenv(servertest.UpstreamEnv); up != "" {
		t.Run("upstream", func(t *testing.T) { leafReloadScenario(t, up, false) })
	}
}

// leafReloadScenario runs TestLeafReloadRemotes with the binary bin;
// natsd also checks the line natsd logs for a remote added (upstream
// logs none).
func leafReloadScenario(t *testing.T, bin string, natsd bool) {
	start := func(t *testing.T, args ...string) *proc { return startBinary(t, bin, args...) }
	dir := t.TempDir()
	hubConf := writeFile(t, filepath.Join(dir, "hub.conf"), `
leafnodes { listen: "127.0.0.1:-1", authorization { user: leaf, password: pw } }
`)
	hub1 := start(t, "-c", hubConf)
	hub2 := start(t, "-c", hubConf)
	addr1, addr2 := hub1.leafAddr(), hub2.leafAddr()
	remote := func(addr, extra string) string {
		return `{ url: "nats-leaf://leaf:pw@` + addr + `"` + extra + ` }`
	}
	block := "leafnodes {\n  reconnect: \"100ms\"\n  remotes: [ %s ]\n}\n"
	conf := writeFile(t, filepath.Join(dir, "leaf.conf"), fmt.Sprintf(block, remote(addr1, "")))
	edge := start(t, "-c", conf)
	hub1.waitLog("Leafnode connection created")

	// Added.
	writeFile(t, conf, fmt.Sprintf(block, remote(addr1, "")+", "+remote(addr2, "")))
	edge.signal(syscall.SIGHUP)
	if natsd {
		edge.waitLog(`Reloaded: LeafNode Remote urls=["nats-leaf://leaf:xxxxx@` + addr2 + `"], account="$G" added`)
	}
	hub2.waitLog("Leafnode connection created")

	// Disabled: its connection closes.
	writeFile(t, conf, fmt.Sprintf(block, remote(addr1, "")+", "+remote(addr2, ", disabled: true")))
	edge.signal(syscall.SIGHUP)
	edge.waitLog(`Reloaded: LeafNode Remote urls=["nats-leaf://leaf:xxxxx@` + addr2 + `"], account="$G" Disabled value is: true`)
	hub2.waitLog("Leafnode connection closed")

	// Enabled again.
	writeFile(t, conf, fmt.Sprintf(block, remote(addr1, "")+", "+remote(addr2, "")))
	edge.signal(syscall.SIGHUP)
	edge.waitLog(`account="$G" Disabled value is: false`)
	eventually(t, "a second connection to hub2", func() bool {
		return strings.Count(hub2.log.String(), "Leafnode connection created") == 2
	})

	// Removed.
	writeFile(t, conf, fmt.Sprintf(block, remote(addr2, "")))
	edge.signal(syscall.SIGHUP)
	edge.waitLog(`Reloaded: LeafNode Remote urls=["nats-leaf://leaf:xxxxx@` + addr1 + `"], account="$G" removed`)
	hub1.waitLog("Leafnode connection closed")

	// Refused: the hub's leafnodes authorization turned off, as
	// upstream.
	writeFile(t, hubConf, `
leafnodes { listen: "127.0.0.1:-1" }
`)
	hub2.signal(syscall.SIGHUP)
	hub2.waitLog(`[ERR] Failed to reload server configuration: config reload not supported for LeafNode: field "Username": old=leaf, new=`)
	require.Equal(t, 1, strings.Count(hub1.log.String(), "Leafnode connection closed"), "hub1's leaf connection came back")
	require.Equal(t, 2, strings.Count(hub2.log.String(), "Leafnode connection created"))
	require.Equal(t, 1, strings.Count(hub2.log.String(), "Leafnode connection closed"), "a refused reload closed a leaf connection")
}

// A server without leaf nodes starts its remotes when a reload adds a
// leafnodes {} block with remotes; adding a listener is refused.
func TestLeafReloadFromNone(t *testing.T) {
	dir := t.TempDir()
	hubConf := writeFile(t, filepath.Join(dir, "hub.conf"), `leafnodes { listen: "127.0.0.1:-1" }`)
	hub := start(t, "-c", hubConf)
	addr := hub.leafAddr()
	conf := writeFile(t, filepath.Join(dir, "leaf.conf"), "debug: false\n")
	edge := start(t, "-c", conf)

	writeFile(t, conf, `leafnodes { listen: "127.0.0.1:-1" }`)
	edge.signal(syscall.SIGHUP)
	edge.waitLog(`config reload not supported for LeafNode: field "Host": old=, new=127.0.0.1`)

	writeFile(t, conf, `leafnodes { remotes: [ { url: "nats-leaf://`+addr+`" } ] }`)
	edge.signal(syscall.SIGHUP)
	edge.waitLog(`Reloaded: LeafNode Remote urls=["nats-leaf://` + addr + `"], account="$G" added`)
	hub.waitLog("Leafnode connection created")
}

// $SYS.REQ.SERVER.<id>.RELOAD applies the leafnodes {} remotes as SIGHUP
// does, and answers a refused change with upstream's text.
func TestLeafReloadRequest(t *testing.T) {
	dir := t.TempDir()
	hub := start(t, "-c", writeFile(t, filepath.Join(dir, "hub.conf"), `leafnodes { listen: "127.0.0.1:-1" }`))
	addr := hub.leafAddr()
	const sysConf = "accounts { SYS { users [{user: sys, password: s}] } }\nsystem_account: SYS\n"
	conf := writeFile(t, filepath.Join(dir, "leaf.conf"), sysConf+`leafnodes { remotes: [ { url: "nats-leaf://`+addr+`", disabled: true } ] }`)
	edge := start(t, "-c", conf)
	sys := edge.connect(nats.UserInfo("sys", "s"))
	m, err := sys.Request("$SYS.REQ.SERVER.PING.IDZ", nil, 2*time.Second)
	require.NoError(t, err)
	var idz struct{ ID string }
	require.NoError(t, json.Unmarshal(m.Data, &idz))
	subject := "$SYS.REQ.SERVER." + idz.ID + ".RELOAD"
	type answer struct {
		Error *struct {
			Code        int    `json:"code"`
			Description string `json:"description"`
		} `json:"error"`
	}

	writeFile(t, conf, sysConf+`leafnodes { remotes: [ { url: "nats-leaf://`+addr+`" } ] }`)
	m, err = sys.Request(subject, nil, 5*time.Second)
	require.NoError(t, err)
	var a answer
	require.NoError(t, json.Unmarshal(m.Data, &a), string(m.Data))
	require.Nil(t, a.Error, string(m.Data))
	edge.waitLog(`Disabled value is: false`)
	hub.waitLog("Leafnode connection created")

	writeFile(t, conf, sysConf+`leafnodes { min_version: "2.8.0", remotes: [ { url: "nats-leaf://`+addr+`" } ] }`)
	m, err = sys.Request(subject, nil, 5*time.Second)
	require.NoError(t, err)
	a = answer{}
	require.NoError(t, json.Unmarshal(m.Data, &a), string(m.Data))
	require.NotNil(t, a.Error, string(m.Data))
	require.Equal(t, 500, a.Error.Code)
	require.Equal(t, `config reload not supported for LeafNode: field "MinVersion": old=, new=2.8.0`, a.Error.Description)
}
