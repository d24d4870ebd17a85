package main

// Upstream nats-server's published security advisories that concern its
// MQTT front end, replayed against the built binary with paho and with raw
// MQTT packets where the attack needs bytes a client library will not
// send. See advisory_auth_e2e_test.go and docs/security.md.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// mqttPacket frames an MQTT control packet: first byte, remaining length
// (variable byte integer), body.
func mqttPacket(first byte, body []byte) []byte {
	out := []byte{first}
	n := len(body)
	for {
		b := byte(n % 128)
		n /= 128
		if n > 0 {
			b |= 0x80
		}
		out = append(out, b)
		if n == 0 {
			break
		}
	}
	return append(out, body...)
}

func mqttString(s string) []byte {
	return append([]byte{byte(len(s) >> 8), byte(len(s))}, s...)
}

// mqttConnectPacket is an MQTT 3.1.1 CONNECT with a clean session, a 30 s
// keepalive and, when user is set, a user name and password.
func mqttConnectPacket(clientID, user, pass string) []byte {
	flags := byte(0x02)
	if user != "" {
		flags |= 0xc0
	}
	body := append(mqttString("MQTT"), 4, flags, 0, 30)
	body = append(body, mqttString(clientID)...)
	if user != "" {
		body = append(body, mqttString(user)...)
		body = append(body, mqttString(pass)...)
	}
	return mqttPacket(0x10, body)
}

// mqttRaw is a raw MQTT client connection.
type mqttRaw struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dialMQTTRaw(t *testing.T, addr string) *mqttRaw {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	return &mqttRaw{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (c *mqttRaw) send(b []byte) error {
	c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := c.nc.Write(b)
	return err
}

// read returns the next packet's first byte and body.
func (c *mqttRaw) read() (byte, []byte) {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	first, err := c.br.ReadByte()
	require.NoError(c.t, err)
	n, mul := 0, 1
	for {
		b, err := c.br.ReadByte()
		require.NoError(c.t, err)
		n += int(b&0x7f) * mul
		mul *= 128
		if b&0x80 == 0 {
			break
		}
	}
	body := make([]byte, n)
	_, err = io.ReadFull(c.br, body)
	require.NoError(c.t, err)
	return first, body
}

// connect sends CONNECT and requires CONNACK accepted.
func (c *mqttRaw) connect(clientID, user, pass string) {
	c.t.Helper()
	require.NoError(c.t, c.send(mqttConnectPacket(clientID, user, pass)))
	first, body := c.read()
	require.Equal(c.t, byte(0x20), first)
	require.Equal(c.t, []byte{0, 0}, body, "CONNACK")
}

// subscribe sends SUBSCRIBE for filter at QoS 0 and returns the SUBACK's
// return code, or -1 when the server closed the connection instead.
func (c *mqttRaw) subscribe(id uint16, filter string) int {
	c.t.Helper()
	body := append([]byte{byte(id >> 8), byte(id)}, mqttString(filter)...)
	if c.send(mqttPacket(0x82, append(body, 0))) != nil {
		return -1
	}
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	first, err := c.br.Peek(1)
	if err != nil {
		return -1
	}
	require.Equal(c.t, byte(0x90), first[0]&0xf0, "SUBACK")
	_, b := c.read()
	require.Len(c.t, b, 3)
	return int(b[2])
}

// mqttServer starts the binary with MQTT and JetStream, a user admin
// allowed everything and a user limited holding perms; extra is more
// configuration.
func mqttServer(t *testing.T, perms, extra string) *proc {
	t.Helper()
	return startMQTT(t, `  listen: "127.0.0.1:-1"`, fmt.Sprintf(`
authorization {
  users: [
    {user: admin, password: a}
    {user: limited, password: l, permissions: %s}
  ]
}
%s`, perms, extra))
}

// collector subscribes c to filter and returns the topics it receives.
func collect(t *testing.T, c paho.Client, filter string, qos byte) <-chan string {
	t.Helper()
	ch := make(chan string, 256)
	tok := c.Subscribe(filter, qos, func(_ paho.Client, m paho.Message) { ch <- m.Topic() })
	require.True(t, tok.WaitTimeout(5*time.Second))
	require.NoError(t, tok.Error())
	return ch
}

// until returns the topics received on ch up to and including marker
// (at most 10 s).
func until(t *testing.T, ch <-chan string, marker string) []string {
	t.Helper()
	var got []string
	timeout := time.After(10 * time.Second)
	for {
		select {
		case topic := <-ch:
			got = append(got, topic)
			if topic == marker {
				return got
			}
		case <-timeout:
			t.Fatalf("no %s; got %q", marker, got)
		}
	}
}

func login(user, pass string) func(*paho.ClientOptions) {
	return func(o *paho.ClientOptions) { o.SetUsername(user).SetPassword(pass) }
}

// CVE-2026-33216 (GHSA-v722-jcv5-w7mc, NATS-advisory 2026-05): the
// password of an MQTT client was taken for a JWT and shown by the
// monitoring endpoints. No monitoring answer may hold it, open or closed.
func TestAdvisoryCVE2026_33216_MQTTPasswordNotInMonitoring(t *testing.T) {
	const secret = "mqtt-pass-91ab3c"
	p := startMQTT(t, `  listen: "127.0.0.1:-1"`, `http_port: -1
authorization { users: [{user: meter, password: "`+secret+`"}] }
`)
	c := pahoConnect(t, "tcp://"+p.mqttAddr(), "meter-7", login("meter", secret))
	collect(t, c, "readings/#", 1)
	check := func() {
		hc := http.Client{Timeout: 5 * time.Second}
		for _, path := range []string{"/connz?auth=1&subs=detail", "/connz?state=all&auth=true", "/varz", "/accountz?acc=$G", "/subsz?subs=1", "/metrics"} {
			resp, err := hc.Get(p.monitorURL() + path)
			require.NoError(t, err, path)
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			require.NotContains(t, string(b), secret, path)
		}
	}
	check()
	c.Disconnect(100)
	check()
}

// CVE-2026-33215 (GHSA-fcjp-h8cc-6879, NATS-advisory 2026-06): a client
// connecting with a victim's MQTT client ID (or one that resembles it in
// the subjects sessions are kept under) took over the victim's session and
// its messages. Another user's CONNECT with the same client ID, or with
// IDs holding subject wildcards and separators, must leave the victim
// connected with its persistent session and its messages, and give the
// intruder none of them. (Upstream 2.15.2 lets another user take a
// client ID over, as MQTT 3.1.1 describes, and the newcomer inherits the
// session; natsd refuses a takeover by another user: not authorized.)
func TestAdvisoryCVE2026_33215_MQTTClientIDHijack(t *testing.T) {
	p := mqttServer(t, `{publish: ">", subscribe: ">"}`, "")
	broker := "tcp://" + p.mqttAddr()
	victim := pahoConnect(t, broker, "victim-id", login("admin", "a"), func(o *paho.ClientOptions) { o.SetCleanSession(false) })
	got := collect(t, victim, "inbox/#", 1)

	stolen := make(chan string, 16)
	for _, id := range []string{"victim-id", "victim.id", "victim-*", "victim->", "*", ">", "victim-id ", "VICTIM-ID"} {
		o := paho.NewClientOptions().AddBroker(broker).SetClientID(id).SetUsername("limited").SetPassword("l").
			SetCleanSession(false).SetConnectTimeout(5 * time.Second).SetAutoReconnect(false).SetProtocolVersion(4)
		o.SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) { stolen <- m.Topic() })
		intruder := paho.NewClient(o)
		tok := intruder.Connect()
		require.True(t, tok.WaitTimeout(10*time.Second))
		if tok.Error() == nil {
			t.Cleanup(func() { intruder.Disconnect(100) })
		}
	}

	nc := p.connect(nats.UserInfo("admin", "a"))
	require.NoError(t, nc.Publish("inbox.1", []byte("for the victim")))
	require.NoError(t, nc.Publish("inbox.marker", nil))
	require.Equal(t, []string{"inbox/1", "inbox/marker"}, until(t, got, "inbox/marker"))
	require.True(t, victim.IsConnectionOpen(), "the victim was disconnected")
	select {
	case topic := <-stolen:
		t.Fatalf("an intruder got %s", topic)
	default:
	}
}

// CVE-2026-33217 (GHSA-jxxm-27vp-c3m5, NATS-advisory 2026-07) and its
// sequel GHSA-4g68-3pwx-5vfj (2026-21): permissions were not applied to
// the $MQTT.> subjects MQTT keeps its state and QoS flow in, so an MQTT
// client could subscribe to them ($MQTT/deliver/pubrel/# among them) and
// publish into them. A client whose permissions do not grant them gets a
// refused SUBACK, receives nothing from them, and cannot publish into
// them.
func TestAdvisoryCVE2026_33217_GHSA_4g68_MQTTInternalSubjects(t *testing.T) {
	p := mqttServer(t, `{publish: "open.>", subscribe: "open.>"}`, "")
	addr := p.mqttAddr()
	raw := dialMQTTRaw(t, addr)
	raw.connect("limited-raw", "limited", "l")
	for i, filter := range []string{"$MQTT/#", "$MQTT/deliver/pubrel/#", "$MQTT/sess/#", "$MQTT/JSA/#", "$MQTT/+/+/#", "#"} {
		require.Equal(t, 0x80, raw.subscribe(uint16(i+1), filter), "SUBSCRIBE %s", filter)
	}

	// Real QoS 2 traffic while the limited client listens on what it was
	// granted, and tries to publish into the internal subjects.
	admin := pahoConnect(t, "tcp://"+addr, "admin-qos2", login("admin", "a"))
	adminGot := collect(t, admin, "open/#", 2)
	nc := p.connect(nats.UserInfo("admin", "a"))
	internal, err := nc.SubscribeSync("$MQTT.>")
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	limited := pahoConnect(t, "tcp://"+addr, "limited-paho", login("limited", "l"))
	limitedGot := collect(t, limited, "open/+", 2)
	for _, topic := range []string{"$MQTT/sess/forged", "$MQTT/deliver/pubrel/forged", "$MQTT/JSA/forged/SM"} {
		limited.Publish(topic, 1, false, "forged").WaitTimeout(2 * time.Second)
	}
	tok := admin.Publish("open/q2", 2, false, "qos2")
	require.True(t, tok.WaitTimeout(5*time.Second))
	require.NoError(t, tok.Error())
	require.True(t, limited.Publish("open/marker", 1, false, "m").WaitTimeout(5*time.Second))
	for _, topic := range until(t, limitedGot, "open/marker") {
		require.True(t, strings.HasPrefix(topic, "open/"), topic)
	}
	until(t, adminGot, "open/marker")
	require.NoError(t, nc.Flush())
	for {
		m, err := internal.NextMsg(0)
		if err != nil {
			break
		}
		require.NotEqual(t, "forged", string(m.Data), "a publish reached %s", m.Subject)
	}
	// Nothing reached the raw client's refused subscriptions either.
	raw.send(mqttPacket(0xc0, nil)) // PINGREQ
	first, _ := raw.read()
	require.Equal(t, byte(0xd0), first, "the next packet after the refused SUBSCRIBEs is the PINGRESP")
}

// GHSA-7qmq-8cc4-hxwg (NATS-advisory 2026-26): retained messages and the
// QoS 1 replay of a persistent session were sent without the delivery-time
// check of the subscriber's deny rules, so a broad subscription got
// retained or stored messages on denied topics. Neither path may deliver a
// denied topic.
func TestAdvisoryGHSA_7qmq_8cc4_hxwg_MQTTRetainedAndReplayHonourDeny(t *testing.T) {
	p := mqttServer(t, `{publish: ">", subscribe: {allow: ">", deny: "secret.>"}}`, "")
	broker := "tcp://" + p.mqttAddr()
	admin := pahoConnect(t, broker, "admin-pub", login("admin", "a"))
	for _, topic := range []string{"secret/r", "open/r"} {
		tok := admin.Publish(topic, 1, true, "retained "+topic)
		require.True(t, tok.WaitTimeout(5*time.Second))
		require.NoError(t, tok.Error())
	}

	// Retained: a wildcard subscription gets open/r only.
	limited := pahoConnect(t, broker, "limited-sess", login("limited", "l"), func(o *paho.ClientOptions) { o.SetCleanSession(false) })
	got := collect(t, limited, "+/r", 1)
	require.True(t, admin.Publish("open/r", 1, false, "marker").WaitTimeout(5*time.Second))
	for _, topic := range until(t, got, "open/r") {
		require.NotEqual(t, "secret/r", topic)
	}
	limited.Disconnect(100)

	// Replay: QoS 1 messages stored while the persistent session was away.
	for _, topic := range []string{"secret/r", "open/r"} {
		tok := admin.Publish(topic, 1, false, "stored "+topic)
		require.True(t, tok.WaitTimeout(5*time.Second))
		require.NoError(t, tok.Error())
	}
	replayed := make(chan string, 16)
	back := pahoConnect(t, broker, "limited-sess", login("limited", "l"), func(o *paho.ClientOptions) {
		o.SetCleanSession(false).SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) { replayed <- m.Topic() })
	})
	_ = back
	require.True(t, admin.Publish("open/r", 1, false, "marker").WaitTimeout(5*time.Second))
	var seen []string
	for len(seen) < 2 || seen[len(seen)-1] != "open/r" || strings.Count(strings.Join(seen, " "), "open/r") < 2 {
		select {
		case topic := <-replayed:
			seen = append(seen, topic)
		case <-time.After(10 * time.Second):
			t.Fatalf("replay incomplete: %q", seen)
		}
	}
	require.NotContains(t, seen, "secret/r")
}

// GHSA-r72h-j7qq-v6qg (NATS-advisory 2026-25): the server kept the bytes
// of an MQTT CONNECT that announced a huge length and arrived slowly,
// before authentication, until the authentication timeout. Fifty such
// clients announcing 256 MiB each and sending 4 MiB must each be closed
// before they finish, with the server's peak memory bounded.
func TestAdvisoryGHSA_r72h_j7qq_v6qg_MQTTPartialConnect(t *testing.T) {
	p := startMQTT(t, `  listen: "127.0.0.1:-1"`, "authorization { users: [{user: u, password: p}] }\n")
	addr := p.mqttAddr()
	p.alive()
	before := p.peakRSS()
	const conns, perConn, chunk = 50, 4 << 20, 32 << 10
	head := append([]byte{0x10, 0xff, 0xff, 0xff, 0x7f}, mqttString("MQTT")...)
	head = append(head, 4, 0xc2, 0, 30)
	head = append(head, mqttString("partial")...)
	fill := make([]byte, chunk)
	sent := make(chan int, conns)
	for range conns {
		go func() {
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				sent <- -1
				return
			}
			defer c.Close()
			// A small send buffer: the kernel's own (up to 4 MiB here,
			// tcp_wmem) plus the server's receive buffer could take the
			// whole 4 MiB before a loaded server reads a byte.
			_ = c.(*net.TCPConn).SetWriteBuffer(64 << 10)
			n := 0
			c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.Write(head); err == nil {
				for n < perConn {
					if _, err := c.Write(fill); err != nil {
						break
					}
					n += chunk
				}
			}
			sent <- n
		}()
	}
	for range conns {
		n := <-sent
		require.GreaterOrEqual(t, n, 0)
		require.Less(t, n, perConn, "a client sent 4 MiB of a CONNECT without being closed")
	}
	p.alive()
	grown := p.peakRSS() - before
	t.Logf("peak RSS grew by %d MiB for %d partial CONNECTs", grown>>20, conns)
	require.Less(t, grown, int64(128<<20))
}

// GHSA-qrcv-3558-gj4f (NATS-advisory 2026-22): an MQTT subscription
// filter holding protocol control characters was forwarded to routes as
// it was, so the subscriber injected protocol operations into the
// cluster. Two clustered servers: an MQTT client on one subscribes with
// filters that hold CR, LF, spaces and tabs around an RMSG; the other
// server's NATS subscriber must get no injected message and the route
// must keep working; natsd refuses such filters (SUBACK 0x80).
func TestAdvisoryGHSA_qrcv_3558_gj4f_MQTTFilterInjection(t *testing.T) {
	ports := servertest.FreePorts(t, 2)
	dir := t.TempDir()
	conf := func(name string, own, peer int) string {
		return writeFile(t, filepath.Join(dir, name+".conf"), fmt.Sprintf(`
server_name: %s
jetstream { store_dir: %q }
mqtt { listen: "127.0.0.1:-1" }
cluster { name: c, listen: "127.0.0.1:%d", routes: ["nats-route://127.0.0.1:%d"] }
`, name, filepath.Join(dir, name), own, peer))
	}
	a := start(t, "-c", conf("a", ports[0], ports[1]))
	b := start(t, "-c", conf("b", ports[1], ports[0]))
	a.waitLog("Route connection created")
	b.waitLog("Route connection created")
	nb := b.connect()
	injected, err := nb.SubscribeSync("evil.>")
	require.NoError(t, err)
	check, err := nb.SubscribeSync("check")
	require.NoError(t, err)
	require.NoError(t, nb.Flush())

	raw := dialMQTTRaw(t, a.mqttAddr())
	raw.connect("injector", "", "")
	for i, filter := range []string{
		"x\r\nRMSG $G evil.rmsg 5\r\nhello\r\n",
		"x\r\nRS+ $G evil.>\r\n",
		"x\r\nPUB evil.pub 5\r\nhello",
		"x y\r\nRMSG $G evil.space 2\r\nhi",
		"x\tRMSG $G evil.tab 2\r\nhi",
		"x\nRMSG $G evil.lf 2\nhi\n",
	} {
		code := raw.subscribe(uint16(i+1), filter)
		require.True(t, code == 0x80 || code == -1, "SUBSCRIBE %q: SUBACK %d, want refused (0x80) or closed", filter, code)
		if code == -1 {
			raw = dialMQTTRaw(t, a.mqttAddr())
			raw.connect(fmt.Sprintf("injector-%d", i), "", "")
		}
	}
	na := a.connect()
	servertest.WaitUntil(t, "the route carries a message again", func() bool {
		na.Publish("check", nil)
		na.Flush()
		_, err := check.NextMsg(100 * time.Millisecond)
		return err == nil
	})
	servertest.ExpectNoMsg(t, injected, nb)
	a.alive()
	b.alive()
}
