package main

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// TestGatewayWithUpstream links a natsd cluster (A) and an upstream
// nats-server cluster (B), each listing the other: messages cross both
// ways, requests are answered either way (upstream's _GR_. reply
// subjects cross natsd untouched), and queue groups prefer the local
// cluster.
func TestGatewayWithUpstream(t *testing.T) {
	bin := servertest.UpstreamBinary(t)
	ports := servertest.FreePorts(t, 3) // A's gateway, B's client and gateway ports
	dir := t.TempDir()
	gws := fmt.Sprintf(`gateways: [ { name: A, url: "nats://127.0.0.1:%d" }, { name: B, url: "nats://127.0.0.1:%d" } ]`, ports[0], ports[2])
	upConf := writeFile(t, filepath.Join(dir, "b.conf"), fmt.Sprintf("server_name: b1\nlisten: \"127.0.0.1:%d\"\ngateway {\n name: B\n listen: \"127.0.0.1:%d\"\n %s\n}\n", ports[1], ports[2], gws))
	servertest.StartProcess(t, bin, "-c", upConf)
	a := start(t, "-c", writeFile(t, filepath.Join(dir, "a.conf"), fmt.Sprintf("server_name: a1\ngateway {\n name: A\n listen: \"127.0.0.1:%d\"\n %s\n}\n", ports[0], gws)))
	a.waitLog(`Outbound gateway connection to "B"`)
	a.waitLog(`Inbound gateway connection from "B"`)
	up := servertest.ConnectWhenReady(t, fmt.Sprintf("nats://127.0.0.1:%d", ports[1]))
	ours := a.connect()

	subUp, err := up.SubscribeSync("to.upstream")
	require.NoError(t, err)
	require.NoError(t, up.Flush())
	subOurs, err := ours.SubscribeSync("to.natsd")
	require.NoError(t, err)
	require.NoError(t, ours.Flush())
	require.Equal(t, "n", string(crosses(t, ours, subUp, "to.upstream", []byte("n")).Data))
	require.Equal(t, "u", string(crosses(t, up, subOurs, "to.natsd", []byte("u")).Data))

	_, err = up.Subscribe("svc.up", func(m *nats.Msg) { _ = m.Respond([]byte("from upstream")) })
	require.NoError(t, err)
	require.NoError(t, up.Flush())
	_, err = ours.Subscribe("svc.ours", func(m *nats.Msg) { _ = m.Respond([]byte("from natsd")) })
	require.NoError(t, err)
	require.NoError(t, ours.Flush())
	eventually(t, "a request from natsd answered by upstream", func() bool {
		m, err := ours.Request("svc.up", nil, 500*time.Millisecond)
		return err == nil && string(m.Data) == "from upstream"
	})
	eventually(t, "a request from upstream answered by natsd", func() bool {
		m, err := up.Request("svc.ours", nil, 500*time.Millisecond)
		return err == nil && string(m.Data) == "from natsd"
	})

	// Queue members on both sides: each side's publishes stay local.
	qUp, err := up.QueueSubscribeSync("jobs", "w")
	require.NoError(t, err)
	require.NoError(t, up.Flush())
	qOurs, err := ours.QueueSubscribeSync("jobs", "w")
	require.NoError(t, err)
	require.NoError(t, ours.Flush())
	for range 20 {
		require.NoError(t, ours.Publish("jobs", []byte("n")))
	}
	require.NoError(t, ours.Flush())
	for range 20 {
		servertest.NextMsg(t, qOurs)
	}
	servertest.ExpectNoMsg(t, qUp, up)
	// natsd's member leaves: upstream's gets the work.
	require.NoError(t, qOurs.Unsubscribe())
	require.NoError(t, ours.Flush())
	crosses(t, ours, qUp, "jobs", []byte("failover"))
}
