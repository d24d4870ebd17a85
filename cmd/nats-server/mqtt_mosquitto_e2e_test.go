package main

// End-to-end test of the binary's MQTT front end with the mosquitto
// command-line clients (mosquitto_pub, mosquitto_sub), which .ci/run
// installs from Debian and names in NATSD_MOSQUITTO_PUB and
// NATSD_MOSQUITTO_SUB.

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// mosquittoTool returns the executable the environment variable env
// names, or skips (fails under CI) when there is none.
func mosquittoTool(t *testing.T, env string) string {
	t.Helper()
	bin := os.Getenv(env)
	if bin == "" {
		missingTool(t, env+" not set (.ci/run installs mosquitto-clients)")
	}
	if st, err := os.Stat(bin); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		missingTool(t, env+"="+bin+" is not an executable")
	}
	return bin
}

func TestMQTTMosquittoClients(t *testing.T) {
	pub := mosquittoTool(t, "NATSD_MOSQUITTO_PUB")
	subBin := mosquittoTool(t, "NATSD_MOSQUITTO_SUB")
	p := startMQTT(t, "  listen: \"127.0.0.1:-1\"", "")
	host, port, _ := strings.Cut(p.mqttAddr(), ":")
	nc := p.connect()

	// mosquitto_pub (QoS 1: it waits for the PUBACK) to a NATS subscriber.
	sub, err := nc.SubscribeSync("home.>")
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, pub, "-V", "mqttv311", "-h", host, "-p", port, "-i", "e2e-pub",
		"-q", "1", "-t", "home/hall/light", "-m", "on").CombinedOutput()
	require.NoError(t, err, string(out))
	m, err := sub.NextMsg(5 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "home.hall.light", m.Subject)
	require.Equal(t, "on", string(m.Data))

	// A NATS publisher to mosquitto_sub, which exits after one message.
	// It says nothing once subscribed, so the publisher repeats until the
	// subscriber has one (or gives up with the context).
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, subBin, "-V", "mqttv311", "-h", host, "-p", port, "-i", "e2e-sub",
		"-t", "home/+/temp", "-C", "1", "-W", "15", "-v")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for waiting := true; waiting; {
		select {
		case err := <-done:
			require.NoError(t, err, stderr.String())
			waiting = false
		case <-tick.C:
			require.NoError(t, nc.Publish("home.kitchen.temp", []byte("21.5")))
		}
	}
	require.Equal(t, "home/kitchen/temp 21.5\n", stdout.String())
}
