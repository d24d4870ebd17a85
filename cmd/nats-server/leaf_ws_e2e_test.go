package main

import (
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

var wsListenRe = regexp.MustCompile(`Listening for websocket clients on (wss?://\S+)`)

// wsURL is the ws:// or wss:// URL of a process's websocket listener,
// from its log.
func (p *proc) wsURL() string {
	p.t.Helper()
	p.waitLog("Listening for websocket clients on ")
	m := wsListenRe.FindStringSubmatch(p.log.String())
	require.NotNil(p.t, m)
	return m[1]
}

// Leaf nodes over WebSocket with the built binary on both sides: a hub
// whose websocket port accepts leaf nodes on /leafnode, a leaf whose
// remote is a ws:// URL (with ws_compression and ws_no_masking) or a
// wss:// one (the test PKI), and messages both ways.
func TestLeafWebsocket(t *testing.T) {
	p := servertest.NewPKI(t)
	files := p.Files()
	for _, tc := range []struct {
		name, wsBlock, remote string
	}{
		{"ws", `websocket { listen: "127.0.0.1:-1", no_tls: true }`, ``},
		{"ws-compression-no-masking", `websocket { listen: "127.0.0.1:-1", no_tls: true, compression: true }`,
			`, ws_compression: true, ws_no_masking: true`},
		{"wss", `websocket { listen: "127.0.0.1:-1", tls { cert_file: "` + files.Cert + `", key_file: "` + files.Key + `" } }`,
			`, tls { ca_file: "` + files.CA + `" }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			hub := start(t, "-c", writeFile(t, filepath.Join(dir, "hub.conf"), tc.wsBlock+`
leafnodes { listen: "127.0.0.1:-1" }
`))
			url := hub.wsURL()
			edge := start(t, "-c", writeFile(t, filepath.Join(dir, "leaf.conf"), `
leafnodes {
  reconnect: "100ms"
  remotes: [ { url: "`+url+`"`+tc.remote+` } ]
}
`))
			edge.waitLog("Leafnode connection created for account: $G")
			hub.waitLog("Leafnode connection created")

			hc, lc := hub.connect(), edge.connect()
			onLeaf, err := lc.SubscribeSync("to.leaf")
			require.NoError(t, err)
			require.NoError(t, lc.Flush())
			require.Equal(t, "down", string(crosses(t, hc, onLeaf, "to.leaf", []byte("down")).Data))
			onHub, err := hc.SubscribeSync("to.hub")
			require.NoError(t, err)
			require.NoError(t, hc.Flush())
			big := make([]byte, 100<<10)
			for i := range big {
				big[i] = byte('a' + i%7)
			}
			require.Equal(t, big, crosses(t, lc, onHub, "to.hub", big).Data)
		})
	}
}

// Without a leaf node port, the hub's websocket port closes leaf nodes
// with upstream's log line.
func TestLeafWebsocketNoLeafPort(t *testing.T) {
	dir := t.TempDir()
	hub := start(t, "-c", writeFile(t, filepath.Join(dir, "hub.conf"), `websocket { listen: "127.0.0.1:-1", no_tls: true }`))
	url := hub.wsURL()
	start(t, "-c", writeFile(t, filepath.Join(dir, "leaf.conf"), `leafnodes { reconnect: "100ms", remotes: [ { url: "`+url+`" } ] }`))
	hub.waitLog("Not configured to accept leaf node connections")
}
