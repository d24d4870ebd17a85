package main

// End-to-end tests of the binary's MQTT front end: the mqtt {} block
// starts a listener after JetStream that a real MQTT client (paho) uses
// next to NATS clients, also over the WebSocket listener's /mqtt path;
// /varz describes it and a reload that changes it is refused.

import (
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// mqttListenRE is the line the server logs when MQTT listens.
var mqttListenRE = regexp.MustCompile(`Listening for MQTT clients on (?:mqtt|tls)://([0-9.]+):(\d+)`)

// mqttAddr waits for the MQTT listener's log line and returns its
// host:port.
func (p *proc) mqttAddr() string {
	p.t.Helper()
	p.waitLog("Listening for MQTT clients on ")
	m := mqttListenRE.FindStringSubmatch(p.log.String())
	require.NotNil(p.t, m, p.log.String())
	return m[1] + ":" + m[2]
}

// startMQTT runs the binary with JetStream in a temporary directory and
// the given mqtt {} block (and extra configuration).
func startMQTT(t *testing.T, block, extra string) *proc {
	t.Helper()
	dir := t.TempDir()
	conf := writeFile(t, filepath.Join(dir, "mqtt.conf"), fmt.Sprintf("jetstream { store_dir: %q }\nmqtt {\n%s\n}\n%s", filepath.Join(dir, "js"), block, extra))
	return start(t, "-c", conf)
}

// pahoConnect connects a paho client to broker ("tcp://host:port" or
// "ws://host:port/mqtt") and disconnects it when the test ends.
func pahoConnect(t *testing.T, broker, clientID string, opts ...func(*paho.ClientOptions)) paho.Client {
	t.Helper()
	o := paho.NewClientOptions().AddBroker(broker).SetClientID(clientID).
		SetConnectTimeout(5 * time.Second).SetAutoReconnect(false).SetConnectRetry(false).
		SetCleanSession(true).SetKeepAlive(30 * time.Second)
	for _, f := range opts {
		f(o)
	}
	c := paho.NewClient(o)
	tok := c.Connect()
	require.True(t, tok.WaitTimeout(10*time.Second), "CONNACK within 10s")
	require.NoError(t, tok.Error())
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

// pahoToNATS publishes with QoS 0 from c on topic and checks that a NATS
// subscriber of p on the mapped subject gets the payload.
func pahoToNATS(t *testing.T, p *proc, c paho.Client, topic, subject string) {
	t.Helper()
	nc := p.connect()
	sub, err := nc.SubscribeSync(subject)
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	payload := "hello from " + topic
	tok := c.Publish(topic, 0, false, payload)
	require.True(t, tok.WaitTimeout(5*time.Second))
	require.NoError(t, tok.Error())
	m, err := sub.NextMsg(5 * time.Second)
	require.NoError(t, err)
	require.Equal(t, subject, m.Subject)
	require.Equal(t, payload, string(m.Data))
}

func TestMQTTPahoPublishToNATS(t *testing.T) {
	p := startMQTT(t, "  listen: \"127.0.0.1:-1\"", "")
	addr := p.mqttAddr()
	// As upstream: JetStream first, then MQTT, then the client listener.
	log := p.log.String()
	js, mq, cl := strings.Index(log, "Starting JetStream"), strings.Index(log, "Listening for MQTT clients"), strings.Index(log, "Listening for client connections")
	require.True(t, js >= 0 && js < mq && mq < cl, "start order:\n%s", log)

	c := pahoConnect(t, "tcp://"+addr, "e2e-paho")
	pahoToNATS(t, p, c, "sensors/kitchen/temp", "sensors.kitchen.temp")

	// Shutdown stops MQTT before JetStream.
	p.signal(syscall.SIGTERM)
	require.Equal(t, 0, p.exitCode())
}

func TestMQTTOverWebsocket(t *testing.T) {
	p := startMQTT(t, "  listen: \"127.0.0.1:-1\"", "websocket { listen: \"127.0.0.1:-1\", no_tls: true }\n")
	p.mqttAddr()
	url := p.websocketURL()
	c := pahoConnect(t, url+"/mqtt", "e2e-ws")
	pahoToNATS(t, p, c, "ws/topic", "ws.topic")

	// NATS clients keep the other paths.
	exchange(t, servertest.ConnectURL(t, url), p.connect())
}

func TestMQTTVarz(t *testing.T) {
	p := startMQTT(t, "  listen: \"127.0.0.1:-1\"\n  no_auth_user: alice\n  authorization { timeout: 3 }\n  ack_wait: \"5s\"\n  js_domain: d",
		"http_port: -1\nauthorization { users: [{user: alice, password: x}] }\n")
	addr := p.mqttAddr()
	var varz struct {
		MQTT map[string]any `json:"mqtt"`
	}
	getJSON(t, p.monitorURL()+"/varz", &varz)
	_, port, _ := strings.Cut(addr, ":")
	n, _ := strconv.Atoi(port)
	require.Equal(t, map[string]any{
		"host": "127.0.0.1", "port": float64(n), "no_auth_user": "alice", "auth_timeout": float64(3),
		"tls_timeout": float64(2), "js_domain": "d", "ack_wait": float64(5 * time.Second),
	}, varz.MQTT)
}

// TestMQTTReloadConsumerKeys reloads ack_wait and max_ack_pending, as
// upstream: "Reloaded: MQTT <key> = <value>" is logged, /varz shows the
// new ack_wait, and the JetStream consumer of a subscription a paho
// client makes after the reload has the new values (read with nats.go's
// jetstream package).
func TestMQTTReloadConsumerKeys(t *testing.T) {
	dir := t.TempDir()
	js := fmt.Sprintf("http_port: -1\njetstream { store_dir: %q }\n", filepath.Join(dir, "js"))
	conf := writeFile(t, filepath.Join(dir, "r.conf"), js+"mqtt { listen: \"127.0.0.1:-1\" }\n")
	p := start(t, "-c", conf)
	addr := p.mqttAddr()

	writeFile(t, conf, js+"mqtt { listen: \"127.0.0.1:-1\", ack_wait: \"7s\", max_ack_pending: 11 }\n")
	p.signal(syscall.SIGHUP)
	p.waitLog("Reloaded: MQTT ack_wait = 7s")
	p.waitLog("Reloaded: MQTT max_ack_pending = 11")
	p.waitLog("Reloaded server configuration")
	var varz struct {
		MQTT map[string]any `json:"mqtt"`
	}
	getJSON(t, p.monitorURL()+"/varz", &varz)
	require.Equal(t, float64(7*time.Second), varz.MQTT["ack_wait"])

	c := pahoConnect(t, "tcp://"+addr, "after-reload", func(o *paho.ClientOptions) { o.SetCleanSession(false) })
	tok := c.Subscribe("reload/qos1", 1, func(paho.Client, paho.Message) {})
	require.True(t, tok.WaitTimeout(5*time.Second))
	require.NoError(t, tok.Error())
	jsc, err := jetstream.New(p.connect())
	require.NoError(t, err)
	st, err := jsc.Stream(t.Context(), "$MQTT_msgs")
	require.NoError(t, err)
	var found bool
	for ci := range st.ListConsumers(t.Context()).Info() {
		if ci.Config.FilterSubject == "$MQTT.msgs.reload.qos1" {
			found = true
			require.Equal(t, 7*time.Second, ci.Config.AckWait)
			require.Equal(t, 11, ci.Config.MaxAckPending)
		}
	}
	require.True(t, found, "no consumer for the subscription made after the reload")
}

func TestMQTTReloadRefused(t *testing.T) {
	dir := t.TempDir()
	js := fmt.Sprintf("jetstream { store_dir: %q }\n", filepath.Join(dir, "js"))
	conf := writeFile(t, filepath.Join(dir, "r.conf"), js+"mqtt { listen: \"127.0.0.1:-1\" }\nmax_payload: 1KB\n")
	p := start(t, "-c", conf)
	addr := p.mqttAddr()

	writeFile(t, conf, js+"mqtt { listen: \"127.0.0.1:-1\", js_domain: d }\nmax_payload: 2KB\n")
	p.signal(syscall.SIGHUP)
	p.waitLog("[ERR] Failed to reload server configuration: config reload not supported for MQTT: js_domain: old=, new=d")
	require.Equal(t, int64(1024), p.connect().MaxPayload(), "the running configuration is kept")

	writeFile(t, conf, js+"mqtt { listen: \"127.0.0.1:-1\", authorization { user: a } }\nmax_payload: 2KB\n")
	p.signal(syscall.SIGHUP)
	p.waitLog("config reload not supported for MQTT: authorization user: old=, new=a")
	writeFile(t, conf, js+"authorization { users: [{user: alice, password: x}] }\nmqtt { listen: \"127.0.0.1:-1\", no_auth_user: bob }\nmax_payload: 2KB\n")
	p.signal(syscall.SIGHUP)
	p.waitLog("config reload not supported for MQTT: no_auth_user: old=, new=bob")

	// The same block reloads with the rest.
	writeFile(t, conf, js+"mqtt { listen: \"127.0.0.1:-1\" }\nmax_payload: 2KB\n")
	p.signal(syscall.SIGHUP)
	p.waitLog("Reloaded server configuration")
	require.Equal(t, int64(2048), p.connect().MaxPayload())
	pahoConnect(t, "tcp://"+addr, "after-reload")
}

// TestMQTTPortInUse checks upstream's fatal line for a port MQTT cannot
// bind, and that the process exits 1.
func TestMQTTPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	dir := t.TempDir()
	conf := writeFile(t, filepath.Join(dir, "busy.conf"), fmt.Sprintf("jetstream { store_dir: %q }\nmqtt { listen: %q }\n", filepath.Join(dir, "js"), ln.Addr().String()))
	code, stderr := runBin(t, binary, "-c", conf, "-a", "127.0.0.1", "-p", "-1")
	require.Equal(t, 1, code, stderr)
	require.Contains(t, stderr, "[FTL] Unable to listen for MQTT connections: listen tcp "+ln.Addr().String()+": bind: address already in use")
}

// TestMQTTTLSAndAuthorization runs the block's tls {} and authorization {}:
// a TLS listener (logged as tls://) that takes the block's user only.
func TestMQTTTLSAndAuthorization(t *testing.T) {
	pki := servertest.NewPKI(t)
	f := pki.Files()
	p := startMQTT(t, fmt.Sprintf("  listen: \"127.0.0.1:-1\"\n  tls { cert_file: %q, key_file: %q }\n  authorization { user: meter, password: s3cr3t }", f.Cert, f.Key), "")
	p.waitLog("Listening for MQTT clients on tls://127.0.0.1:")
	broker := "ssl://" + p.mqttAddr()
	withTLS := func(o *paho.ClientOptions) { o.SetTLSConfig(pki.ClientConfig()) }
	c := pahoConnect(t, broker, "meter-1", withTLS, func(o *paho.ClientOptions) { o.SetUsername("meter").SetPassword("s3cr3t") })
	pahoToNATS(t, p, c, "meters/1", "meters.1")

	// A wrong password gets CONNACK "not authorized" (5).
	o := paho.NewClientOptions().AddBroker(broker).SetClientID("intruder").SetUsername("meter").SetPassword("nope").
		SetConnectTimeout(5 * time.Second).SetAutoReconnect(false).SetTLSConfig(pki.ClientConfig()).
		SetProtocolVersion(4) // no fallback to 3.1, whose refusal would hide this one
	bad := paho.NewClient(o)
	tok := bad.Connect()
	require.True(t, tok.WaitTimeout(10*time.Second))
	require.ErrorIs(t, tok.Error(), packets.ErrorRefusedNotAuthorised)
}

// TestMQTTReloadChecksUsers checks that a reload checks the unchanged
// block against the new users, as upstream does: the block's own user
// cannot stay once the server has users.
func TestMQTTReloadChecksUsers(t *testing.T) {
	dir := t.TempDir()
	head := fmt.Sprintf("jetstream { store_dir: %q }\nmqtt { listen: \"127.0.0.1:-1\", authorization { user: a, password: b } }\n", filepath.Join(dir, "js"))
	conf := writeFile(t, filepath.Join(dir, "r.conf"), head)
	p := start(t, "-c", conf)
	p.mqttAddr()
	writeFile(t, conf, head+"authorization { users: [{user: alice, password: x}] }\n")
	p.signal(syscall.SIGHUP)
	p.waitLog("[ERR] Failed to reload server configuration: mqtt authentication username not compatible with presence of users/nkeys")
}
