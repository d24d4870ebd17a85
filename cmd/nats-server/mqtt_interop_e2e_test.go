package main

// Interoperability tests of the binary's MQTT front end, after the
// scenarios of the Eclipse Paho interoperability suite (basic, retained
// messages, offline message queueing, will message, overlapping
// subscriptions, keepalive, redelivery on reconnect, zero-length client
// id, subscribe failure, $-topics, unsubscribe), each run with
// paho.mqtt.golang (MQTT 3.1.1) and paho.golang (MQTT 5.0) against the
// built binary, plus restarts of the binary (SIGTERM and SIGKILL) with
// persistent sessions, monitoring and authentication shared with NATS.
//
// Where MQTT leaves a choice to the server, the test says what natsd
// does (as upstream's binary does):
//   - overlapping subscriptions: one copy per matching subscription, each
//     at the lower of its QoS and the message's;
//   - QoS 0 messages are not queued for a client that is away.

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	paho5 "github.com/eclipse/paho.golang/paho"
	paho5log "github.com/eclipse/paho.golang/paho/log"
	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// interopWait bounds every wait for a packet or a message.
const interopWait = 10 * time.Second

// mqServer is the binary with JetStream and MQTT on a store directory
// that survives restarts.
type mqServer struct {
	t    *testing.T
	conf string
	p    *proc
	addr string // the MQTT listener's host:port
}

// startInterop starts the binary with an mqtt {} block on a free port,
// monitoring, and extra configuration.
func startInterop(t *testing.T, extra string) *mqServer {
	t.Helper()
	dir := t.TempDir()
	conf := writeFile(t, filepath.Join(dir, "interop.conf"), fmt.Sprintf(
		"jetstream { store_dir: %q }\nmqtt { listen: \"127.0.0.1:-1\" }\nhttp_port: -1\n%s", filepath.Join(dir, "js"), extra))
	s := &mqServer{t: t, conf: conf}
	s.p = start(t, "-c", conf)
	s.addr = s.p.mqttAddr()
	return s
}

// restart stops the process with sig (SIGKILL: no chance to clean up)
// and starts it again on the same configuration and store.
func (s *mqServer) restart(sig syscall.Signal) {
	s.t.Helper()
	s.p.signal(sig)
	code := s.p.exitCode()
	if sig == syscall.SIGTERM {
		require.Equal(s.t, 0, code, s.p.log.String())
	}
	s.p = start(s.t, "-c", s.conf)
	s.addr = s.p.mqttAddr()
}

// mqMsg is a message an MQTT client received, whatever its version.
type mqMsg struct {
	topic, payload    string
	qos               byte
	retain, duplicate bool
	user              map[string]string // MQTT 5 user properties
}

// connOpts are the CONNECT options of a test client.
type connOpts struct {
	id         string
	persistent bool // 3.1.1: clean session false; 5.0: clean start false and a session expiry
	keepAlive  uint16
	user, pass string
	will       *mqMsg
	manualAck  bool // the client acknowledges nothing unless told
}

// mqClient is one MQTT connection of either protocol version.
type mqClient interface {
	// publish sends a message and waits for its acknowledgement.
	publish(topic string, qos byte, retain bool, payload string)
	// subscribe subscribes to filters (with their QoS) and returns the
	// SUBACK codes in order.
	subscribe(filters []string, qos []byte) []byte
	// unsubscribe returns the UNSUBACK codes (3.1.1: none).
	unsubscribe(filters ...string) []byte
	next() mqMsg
	// drop closes the TCP connection without DISCONNECT.
	drop()
	// mute makes the connection swallow everything the client writes.
	mute()
	disconnect()
}

// muteConn is a client's TCP connection that can go silent: writes are
// then dropped, as on a network that lost the route to the server.
type muteConn struct {
	net.Conn
	mu    sync.Mutex
	muted bool
}

func (c *muteConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	muted := c.muted
	c.mu.Unlock()
	if muted {
		return len(b), nil
	}
	return c.Conn.Write(b)
}

func (c *muteConn) silence() {
	c.mu.Lock()
	c.muted = true
	c.mu.Unlock()
}

func dialMute(t *testing.T, addr string) *muteConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	return &muteConn{Conn: nc}
}

// connectVersion connects a client of MQTT version v (4: 3.1.1, 5: 5.0).
func (s *mqServer) connectVersion(v int, o connOpts) mqClient {
	s.t.Helper()
	if v == 5 {
		c, ca, err := s.dial5(o)
		require.NoError(s.t, err, "CONNACK %+v", ca)
		return c
	}
	return s.connect3(o)
}

// next waits for a message on ch.
func nextMsg(t *testing.T, ch <-chan mqMsg) mqMsg {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(interopWait):
		t.Fatalf("no message within %v", interopWait)
		return mqMsg{}
	}
}

// client3 is a paho.mqtt.golang (MQTT 3.1.1) client.
type client3 struct {
	t    *testing.T
	c    paho.Client
	conn *muteConn
	got  chan mqMsg
	mu   sync.Mutex
	held []paho.Message // received, not acknowledged (manualAck)
}

// options3 are the paho options of o on s, for a client that reports
// what it receives to got.
func (s *mqServer) options3(o connOpts, c *client3) *paho.ClientOptions {
	po := paho.NewClientOptions().AddBroker("tcp://" + s.addr).SetClientID(o.id).SetProtocolVersion(4).
		SetConnectTimeout(5 * time.Second).SetAutoReconnect(false).SetConnectRetry(false).
		SetCleanSession(!o.persistent).SetKeepAlive(30 * time.Second).
		SetPingTimeout(interopWait).SetAutoAckDisabled(o.manualAck)
	if o.keepAlive > 0 {
		po.SetKeepAlive(time.Duration(o.keepAlive) * time.Second)
	}
	if o.user != "" || o.pass != "" {
		po.SetUsername(o.user).SetPassword(o.pass)
	}
	if o.will != nil {
		po.SetWill(o.will.topic, o.will.payload, o.will.qos, o.will.retain)
	}
	addr := s.addr
	po.SetCustomOpenConnectionFn(func(*url.URL, paho.ClientOptions) (net.Conn, error) {
		c.conn = dialMute(s.t, addr)
		return c.conn, nil
	})
	po.SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) {
		if o.manualAck {
			c.mu.Lock()
			c.held = append(c.held, m)
			c.mu.Unlock()
		}
		c.got <- mqMsg{topic: m.Topic(), payload: string(m.Payload()), qos: m.Qos(), retain: m.Retained(), duplicate: m.Duplicate()}
	})
	return po
}

// dial3 connects a 3.1.1 client and returns the CONNECT error.
func (s *mqServer) dial3(o connOpts) (*client3, error) {
	c := &client3{t: s.t, got: make(chan mqMsg, 100)}
	c.c = paho.NewClient(s.options3(o, c))
	tok := c.c.Connect()
	require.True(s.t, tok.WaitTimeout(interopWait), "CONNACK within %v", interopWait)
	if tok.Error() != nil {
		return c, tok.Error()
	}
	s.t.Cleanup(func() { c.c.Disconnect(0) })
	return c, nil
}

func (s *mqServer) connect3(o connOpts) *client3 {
	s.t.Helper()
	c, err := s.dial3(o)
	require.NoError(s.t, err)
	return c
}

func (c *client3) wait(tok paho.Token) {
	c.t.Helper()
	require.True(c.t, tok.WaitTimeout(interopWait), "no acknowledgement within %v", interopWait)
	require.NoError(c.t, tok.Error())
}

func (c *client3) publish(topic string, qos byte, retain bool, payload string) {
	c.t.Helper()
	c.wait(c.c.Publish(topic, qos, retain, payload))
}

func (c *client3) subscribe(filters []string, qos []byte) []byte {
	c.t.Helper()
	m := make(map[string]byte, len(filters))
	for i, f := range filters {
		m[f] = qos[i]
	}
	tok := c.c.SubscribeMultiple(m, nil)
	c.wait(tok)
	res := tok.(*paho.SubscribeToken).Result()
	codes := make([]byte, len(filters))
	for i, f := range filters {
		codes[i] = res[f]
	}
	return codes
}

func (c *client3) unsubscribe(filters ...string) []byte {
	c.t.Helper()
	c.wait(c.c.Unsubscribe(filters...))
	return nil
}

func (c *client3) next() mqMsg { c.t.Helper(); return nextMsg(c.t, c.got) }
func (c *client3) drop()       { c.conn.Conn.Close() }
func (c *client3) mute()       { c.conn.silence() }
func (c *client3) disconnect() { c.c.Disconnect(250) }

// client5 is a paho.golang (MQTT 5.0) client.
type client5 struct {
	t *testing.T
	c *paho5.Client
	// conn is the bare TCP connection: paho.golang writes a packet as
	// net.Buffers, in one writev only on a *net.TCPConn (through a
	// wrapper its goroutines' packets could interleave).
	conn net.Conn
	got  chan mqMsg
	ca   *paho5.Connack
}

// idlePinger is a paho.golang Pinger that never pings: a client whose
// keepalive lapses.
type idlePinger struct{}

func (idlePinger) Run(ctx context.Context, _ net.Conn, _ uint16) error {
	<-ctx.Done()
	return nil
}
func (idlePinger) PacketSent()              {}
func (idlePinger) PacketReceived()          {}
func (idlePinger) PingResp()                {}
func (idlePinger) SetDebug(paho5log.Logger) {}

// dial5 connects a 5.0 client; a refusal returns the CONNACK and an error.
func (s *mqServer) dial5(o connOpts) (*client5, *paho5.Connack, error) {
	t := s.t
	c := &client5{t: t, got: make(chan mqMsg, 100), conn: dialMute(t, s.addr).Conn}
	cfg := paho5.ClientConfig{
		Conn:                       c.conn,
		EnableManualAcknowledgment: o.manualAck,
		OnPublishReceived: []func(paho5.PublishReceived) (bool, error){func(pr paho5.PublishReceived) (bool, error) {
			p := pr.Packet
			m := mqMsg{topic: p.Topic, payload: string(p.Payload), qos: p.QoS, retain: p.Retain, duplicate: p.Duplicate()}
			if p.Properties != nil && len(p.Properties.User) > 0 {
				m.user = map[string]string{}
				for _, u := range p.Properties.User {
					m.user[u.Key] = u.Value
				}
			}
			c.got <- m
			return true, nil
		}},
	}
	if o.keepAlive > 0 {
		cfg.PingHandler = idlePinger{}
	}
	c.c = paho5.NewClient(cfg)
	cp := &paho5.Connect{ClientID: o.id, CleanStart: !o.persistent, KeepAlive: o.keepAlive}
	if o.keepAlive == 0 {
		cp.KeepAlive = 30
	}
	if o.persistent {
		expiry := uint32(3600)
		cp.Properties = &paho5.ConnectProperties{SessionExpiryInterval: &expiry}
	}
	if o.user != "" {
		cp.Username, cp.UsernameFlag = o.user, true
	}
	if o.pass != "" {
		cp.Password, cp.PasswordFlag = []byte(o.pass), true
	}
	if o.will != nil {
		cp.WillMessage = &paho5.WillMessage{Topic: o.will.topic, Payload: []byte(o.will.payload), QoS: o.will.qos, Retain: o.will.retain}
	}
	ctx, cancel := context.WithTimeout(t.Context(), interopWait)
	defer cancel()
	ca, err := c.c.Connect(ctx, cp)
	c.ca = ca
	if err != nil {
		return c, ca, err
	}
	t.Cleanup(func() {
		// After drop or disconnect the client is done already.
		select {
		case <-c.c.Done():
		default:
			c.c.Disconnect(&paho5.Disconnect{})
		}
	})
	return c, ca, nil
}

func (c *client5) ctx() context.Context {
	ctx, cancel := context.WithTimeout(c.t.Context(), interopWait)
	c.t.Cleanup(cancel)
	return ctx
}

func (c *client5) publish(topic string, qos byte, retain bool, payload string) {
	c.t.Helper()
	c.publishProps(topic, qos, retain, payload, nil)
}

func (c *client5) publishProps(topic string, qos byte, retain bool, payload string, props *paho5.PublishProperties) {
	c.t.Helper()
	res, err := c.c.Publish(c.ctx(), &paho5.Publish{Topic: topic, QoS: qos, Retain: retain, Payload: []byte(payload), Properties: props})
	require.NoError(c.t, err)
	if qos > 0 {
		require.Equal(c.t, byte(0), res.ReasonCode)
	}
}

func (c *client5) subscribe(filters []string, qos []byte) []byte {
	c.t.Helper()
	s := &paho5.Subscribe{}
	for i, f := range filters {
		s.Subscriptions = append(s.Subscriptions, paho5.SubscribeOptions{Topic: f, QoS: qos[i]})
	}
	sa, err := c.c.Subscribe(c.ctx(), s)
	// paho.golang returns the SUBACK with an error when a code is a
	// failure; the codes are what the tests look at.
	if sa == nil {
		require.NoError(c.t, err)
	}
	return sa.Reasons
}

func (c *client5) unsubscribe(filters ...string) []byte {
	c.t.Helper()
	ua, err := c.c.Unsubscribe(c.ctx(), &paho5.Unsubscribe{Topics: filters})
	if ua == nil {
		require.NoError(c.t, err)
	}
	return ua.Reasons
}

func (c *client5) next() mqMsg { c.t.Helper(); return nextMsg(c.t, c.got) }
func (c *client5) drop()       { c.conn.Close() }

// mute: a 5.0 client with a keepalive has the idle pinger, which already
// sends nothing.
func (c *client5) mute() {}
func (c *client5) disconnect() {
	c.t.Helper()
	require.NoError(c.t, c.c.Disconnect(&paho5.Disconnect{}))
}

// versions are the protocol levels every scenario runs with.
var versions = []struct {
	name string
	v    int
}{{"3.1.1", 4}, {"5.0", 5}}

// clientID names a client after the test, so that runs never share one.
func clientID(t *testing.T, role string) string {
	return strings.NewReplacer("/", "-", ".", "_").Replace(t.Name()) + "-" + role
}

// nextIs checks that the next message c receives is on topic with
// payload and QoS qos, and returns it.
func nextIs(t *testing.T, c mqClient, topic, payload string, qos byte) mqMsg {
	t.Helper()
	m := c.next()
	require.Equal(t, topic, m.topic, "%+v", m)
	require.Equal(t, payload, m.payload, "%+v", m)
	require.Equal(t, qos, m.qos, "%+v", m)
	return m
}

// nothingBefore checks that the next message c receives is the marker
// that pub publishes on topic (which c's subscriptions match): whatever
// should not have been delivered would have come first.
func nothingBefore(t *testing.T, c, pub mqClient, topic string) {
	t.Helper()
	pub.publish(topic, 1, false, "marker")
	m := c.next()
	require.Equal(t, mqMsg{topic: topic, payload: "marker", qos: m.qos}, mqMsg{topic: m.topic, payload: m.payload, qos: m.qos})
}

func TestMQTTInteropBasic(t *testing.T) {
	s := startInterop(t, "")
	for _, pv := range versions {
		for _, sv := range versions {
			t.Run(pv.name+" to "+sv.name, func(t *testing.T) {
				sub := s.connectVersion(sv.v, connOpts{id: clientID(t, "sub")})
				pub := s.connectVersion(pv.v, connOpts{id: clientID(t, "pub")})
				require.Equal(t, []byte{2}, sub.subscribe([]string{"basic/+"}, []byte{2}))
				for q := range byte(3) {
					topic := fmt.Sprintf("basic/qos%d", q)
					pub.publish(topic, q, false, "qos "+topic)
					m := nextIs(t, sub, topic, "qos "+topic, q)
					require.False(t, m.retain)
					require.False(t, m.duplicate)
				}
				sub.disconnect()
				pub.disconnect()
			})
		}
	}
}

func TestMQTTInteropRetained(t *testing.T) {
	s := startInterop(t, "")
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			root := "retained" + v.name
			pub := s.connectVersion(v.v, connOpts{id: clientID(t, "pub")})
			for q := range byte(3) {
				pub.publish(fmt.Sprintf("%s/qos%d", root, q), q, true, fmt.Sprintf("retained %d", q))
			}
			sub := s.connectVersion(v.v, connOpts{id: clientID(t, "sub")})
			require.Equal(t, []byte{2}, sub.subscribe([]string{root + "/#"}, []byte{2}))
			got := map[string]mqMsg{}
			for range 3 {
				m := sub.next()
				got[m.topic] = m
			}
			for q := range byte(3) {
				topic := fmt.Sprintf("%s/qos%d", root, q)
				require.Equal(t, mqMsg{topic: topic, payload: fmt.Sprintf("retained %d", q), qos: q, retain: true}, got[topic])
			}
			// A live message matching the subscription is not retained
			// for this subscriber [MQTT-3.3.1-9].
			pub.publish(root+"/qos1", 1, true, "again")
			m := nextIs(t, sub, root+"/qos1", "again", 1)
			require.False(t, m.retain, "retain flag on a live delivery")

			// An empty retained message clears the topic.
			for q := range byte(3) {
				pub.publish(fmt.Sprintf("%s/qos%d", root, q), 1, true, "")
			}
			for range 3 {
				require.Empty(t, sub.next().payload)
			}
			late := s.connectVersion(v.v, connOpts{id: clientID(t, "late")})
			late.subscribe([]string{root + "/#"}, []byte{1})
			nothingBefore(t, late, late, root+"/marker")
		})
	}
}

// TestMQTTInteropOfflineQueueing: a persistent session's QoS 1 and 2
// subscriptions get what was published while the client was away (QoS 0
// messages are not kept), also after the binary restarts, whether it
// stopped cleanly or was killed.
func TestMQTTInteropOfflineQueueing(t *testing.T) {
	for _, v := range versions {
		for _, restart := range []struct {
			name string
			sig  syscall.Signal
		}{{"no restart", 0}, {"SIGTERM", syscall.SIGTERM}, {"SIGKILL", syscall.SIGKILL}} {
			t.Run(v.name+" "+restart.name, func(t *testing.T) {
				s := startInterop(t, "")
				o := connOpts{id: clientID(t, "away"), persistent: true}
				away := s.connectVersion(v.v, o)
				require.Equal(t, []byte{0, 1, 2}, away.subscribe([]string{"offline/q0", "offline/q1", "offline/q2"}, []byte{0, 1, 2}))
				away.disconnect()
				// Gone before the messages come: a message pushed to a
				// connection still closing waits in the session, and after
				// a restart for its consumer's ack wait (a known limit).
				s.waitGone(o.id)

				pub := s.connectVersion(v.v, connOpts{id: clientID(t, "pub")})
				for q := range byte(3) {
					for _, topic := range []string{"offline/q0", "offline/q1", "offline/q2"} {
						pub.publish(topic, q, false, fmt.Sprintf("%s at %d", topic, q))
					}
				}
				pub.disconnect()
				if restart.sig != 0 {
					s.restart(restart.sig)
				}
				back := s.connectVersion(v.v, o)
				want := map[string]byte{}
				for q := byte(1); q < 3; q++ {
					for sq, topic := range []string{"offline/q0", "offline/q1", "offline/q2"} {
						if sq > 0 {
							want[fmt.Sprintf("%s at %d", topic, q)] = min(q, byte(sq))
						}
					}
				}
				for range len(want) {
					m := back.next()
					q, ok := want[m.payload]
					require.True(t, ok, "unexpected or repeated %+v", m)
					require.Equal(t, q, m.qos, "%+v", m)
					delete(want, m.payload)
				}
				// The QoS 0 subscription and the QoS 0 messages got nothing.
				nothingBefore(t, back, back, "offline/q1")
			})
		}
	}
}

func TestMQTTInteropWill(t *testing.T) {
	s := startInterop(t, "")
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			root := "will" + v.name
			watcher := s.connectVersion(v.v, connOpts{id: clientID(t, "watcher")})
			watcher.subscribe([]string{root + "/#"}, []byte{2})

			// Closed by the network: the will is published.
			w := &mqMsg{topic: root + "/gone", payload: "abrupt", qos: 1}
			c := s.connectVersion(v.v, connOpts{id: clientID(t, "dropped"), will: w})
			c.drop()
			nextIs(t, watcher, root+"/gone", "abrupt", 1)

			// DISCONNECT: it is not.
			id := clientID(t, "polite")
			c = s.connectVersion(v.v, connOpts{id: id, will: &mqMsg{topic: root + "/gone", payload: "polite", qos: 1}})
			c.disconnect()
			s.waitGone(id)
			nothingBefore(t, watcher, watcher, root+"/marker")
		})
	}
}

// waitGone waits until /connz no longer lists MQTT client id.
func (s *mqServer) waitGone(id string) {
	s.t.Helper()
	servertest.WaitUntil(s.t, "client "+id+" gone from /connz", func() bool {
		var connz struct {
			Conns []struct {
				MQTTClient string `json:"mqtt_client"`
			} `json:"connections"`
		}
		getJSON(s.t, s.p.monitorURL()+"/connz?mqtt_client="+url.QueryEscape(id), &connz)
		return len(connz.Conns) == 0
	})
}

// TestMQTTInteropOverlappingSubscriptions documents natsd's choice
// [MQTT-3.3.5-1]: a message that matches several subscriptions of a
// client is delivered once per subscription, each at its own QoS.
func TestMQTTInteropOverlappingSubscriptions(t *testing.T) {
	s := startInterop(t, "")
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			root := "overlap" + v.name
			c := s.connectVersion(v.v, connOpts{id: clientID(t, "c")})
			require.Equal(t, []byte{2, 1}, c.subscribe([]string{root + "/#", root + "/+"}, []byte{2, 1}))
			c.publish(root+"/a", 2, false, "both")
			got := []byte{c.next().qos, c.next().qos}
			require.ElementsMatch(t, []byte{1, 2}, got)
			nothingBefore(t, c, c, root+"/a/b") // matches "#" only
		})
	}
}

// TestMQTTInteropKeepalive: a client that goes silent is closed after
// one and a half keepalives, and its will is published.
func TestMQTTInteropKeepalive(t *testing.T) {
	s := startInterop(t, "")
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			root := "keepalive" + v.name
			watcher := s.connectVersion(v.v, connOpts{id: clientID(t, "watcher")})
			watcher.subscribe([]string{root + "/#"}, []byte{1})
			c := s.connectVersion(v.v, connOpts{id: clientID(t, "silent"), keepAlive: 1, will: &mqMsg{topic: root + "/expired", payload: "timed out", qos: 1}})
			c.mute()
			muted := time.Now()
			nextIs(t, watcher, root+"/expired", "timed out", 1)
			// 1.5 s, and never the client's own timeout (10 s).
			require.Less(t, time.Since(muted), 5*time.Second)
		})
	}
}

// TestMQTTInteropRedeliveryOnReconnect: QoS 1 and 2 messages a client
// received and did not acknowledge come again, with DUP set, when its
// persistent session resumes.
func TestMQTTInteropRedeliveryOnReconnect(t *testing.T) {
	s := startInterop(t, "")
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			root := "redeliver" + v.name
			o := connOpts{id: clientID(t, "sub"), persistent: true, manualAck: true}
			c := s.connectVersion(v.v, o)
			c.subscribe([]string{root + "/#"}, []byte{2})
			pub := s.connectVersion(v.v, connOpts{id: clientID(t, "pub")})
			pub.publish(root+"/q1", 1, false, "one")
			pub.publish(root+"/q2", 2, false, "two")
			require.False(t, nextIs(t, c, root+"/q1", "one", 1).duplicate)
			require.False(t, nextIs(t, c, root+"/q2", "two", 2).duplicate)
			c.drop()
			s.waitGone(o.id)

			o.manualAck = false
			c = s.connectVersion(v.v, o)
			got := map[string]mqMsg{}
			for range 2 {
				m := c.next()
				got[m.payload] = m
			}
			require.Equal(t, mqMsg{topic: root + "/q1", payload: "one", qos: 1, duplicate: true}, got["one"])
			require.Equal(t, mqMsg{topic: root + "/q2", payload: "two", qos: 2, duplicate: true}, got["two"])
			// Acknowledged now (the client acknowledges after its handler
			// returned: wait until the server has the acknowledgements),
			// they do not come a third time.
			s.waitAcked()
			c.disconnect()
			s.waitGone(o.id)
			c = s.connectVersion(v.v, o)
			nothingBefore(t, c, pub, root+"/marker")
		})
	}
}

// waitAcked waits until no stored MQTT message waits for an
// acknowledgement: the consumers of $MQTT_msgs have none pending.
func (s *mqServer) waitAcked() {
	s.t.Helper()
	nc, err := nats.Connect(s.p.url())
	require.NoError(s.t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(s.t, err)
	require.Eventually(s.t, func() bool {
		st, err := js.Stream(context.Background(), "$MQTT_msgs")
		if err != nil {
			return false
		}
		pending := 0
		lister := st.ListConsumers(context.Background())
		for ci := range lister.Info() {
			pending += ci.NumAckPending
		}
		return lister.Err() == nil && pending == 0
	}, interopWait, 10*time.Millisecond)
}

func TestMQTTInteropZeroLengthClientID(t *testing.T) {
	s := startInterop(t, "")
	// 3.1.1: a clean session may leave the id to the server
	// [MQTT-3.1.3-6]; a persistent one is refused with CONNACK 2
	// [MQTT-3.1.3-8].
	c := s.connect3(connOpts{})
	c.subscribe([]string{"zero/id"}, []byte{1})
	nothingBefore(t, c, c, "zero/id")
	_, err := s.dial3(connOpts{persistent: true})
	require.ErrorIs(t, err, packets.ErrorRefusedIDRejected)

	// 5.0: the server assigns one and says which [MQTT-3.2.2-16], for a
	// session that stays too.
	for _, persistent := range []bool{false, true} {
		c5, _, err := s.dial5(connOpts{persistent: persistent})
		require.NoError(t, err)
		require.NotNil(t, c5.ca.Properties)
		require.NotEmpty(t, c5.ca.Properties.AssignedClientID)
		var connz struct {
			Conns []struct {
				MQTTClient string `json:"mqtt_client"`
			} `json:"connections"`
		}
		getJSON(t, s.p.monitorURL()+"/connz?mqtt_client="+url.QueryEscape(c5.ca.Properties.AssignedClientID), &connz)
		require.Len(t, connz.Conns, 1)
		c5.disconnect()
	}
}

// TestMQTTInteropSubscribeFailure: a filter the user may not subscribe
// to is refused in the SUBACK (3.1.1: 0x80; 5.0: 0x87 Not authorized),
// the others of the same SUBSCRIBE are granted.
func TestMQTTInteropSubscribeFailure(t *testing.T) {
	s := startInterop(t, `authorization { users: [{user: limited, password: pw, permissions: { subscribe: { deny: ["secret.>"] } } }] }`+"\n")
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			c := s.connectVersion(v.v, connOpts{id: clientID(t, "c"), user: "limited", pass: "pw"})
			want := []byte{0x80, 1}
			if v.v == 5 {
				want[0] = 0x87
			}
			require.Equal(t, want, c.subscribe([]string{"secret/x", "open/x"}, []byte{1, 1}))
			c.publish("secret/x", 1, false, "hidden")
			nothingBefore(t, c, c, "open/x")
		})
	}
}

// TestMQTTInteropDollarTopics: a filter that starts with a wildcard does
// not match a topic that starts with '$' [MQTT-4.7.2-1]; a filter that
// names the '$' level does.
func TestMQTTInteropDollarTopics(t *testing.T) {
	s := startInterop(t, "")
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			root := "dollar" + strings.ReplaceAll(v.name, ".", "")
			wild := s.connectVersion(v.v, connOpts{id: clientID(t, "wild")})
			wild.subscribe([]string{"#", "+/" + root, "+/+/" + root}, []byte{0, 1, 2})
			named := s.connectVersion(v.v, connOpts{id: clientID(t, "named")})
			named.subscribe([]string{"$" + root + "/#"}, []byte{1})
			pub := s.connectVersion(v.v, connOpts{id: clientID(t, "pub")})
			for q := range byte(3) {
				pub.publish("$"+root+"/x", q, false, "dollar")
				pub.publish("$x/"+root, q, false, "dollar")
				pub.publish("$x/y/"+root, q, q == 1, "dollar retained") // retained too
			}
			nextIs(t, named, "$"+root+"/x", "dollar", 0)
			// '#' and "+/..." get the plain topic only (two copies: it
			// matches "#" and "+/<root>").
			pub.publish("x/"+root, 1, false, "plain")
			for range 2 {
				require.Equal(t, "x/"+root, wild.next().topic)
			}
			// A later '#' subscription gets no retained '$' message.
			late := s.connectVersion(v.v, connOpts{id: clientID(t, "late")})
			late.subscribe([]string{"#"}, []byte{1})
			nothingBefore(t, late, late, "late/"+root)
		})
	}
}

func TestMQTTInteropUnsubscribe(t *testing.T) {
	s := startInterop(t, "")
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			root := "unsub" + v.name
			c := s.connectVersion(v.v, connOpts{id: clientID(t, "c")})
			c.subscribe([]string{root + "/a", root + "/b", root + "/c"}, []byte{0, 1, 2})
			codes := c.unsubscribe(root+"/a", root+"/b", root+"/none")
			if v.v == 5 {
				require.Equal(t, []byte{0, 0, 0x11}, codes) // 0x11: no subscription existed
			}
			c.publish(root+"/a", 1, false, "a")
			c.publish(root+"/b", 2, false, "b")
			nothingBefore(t, c, c, root+"/c")
		})
	}
}

// TestMQTTInteropResubscribeOnResume: a client that resumes its
// persistent session and subscribes again to the same filters (as
// mosquitto_sub and most clients do) gets each queued message once: the
// SUBSCRIBE does not start the subscription over. With QoS 2 a second
// copy would break exactly-once delivery.
func TestMQTTInteropResubscribeOnResume(t *testing.T) {
	for _, v := range versions {
		for _, restart := range []struct {
			name string
			sig  syscall.Signal
		}{{"no restart", 0}, {"SIGTERM", syscall.SIGTERM}, {"SIGKILL", syscall.SIGKILL}} {
			t.Run(v.name+" "+restart.name, func(t *testing.T) {
				s := startInterop(t, "")
				o := connOpts{id: clientID(t, "away"), persistent: true}
				filters, qos := []string{"again/q1", "again/q2"}, []byte{1, 2}
				c := s.connectVersion(v.v, o)
				c.subscribe(filters, qos)
				// The consumers have delivered (and had acknowledged)
				// something before the client goes away.
				pub := s.connectVersion(v.v, connOpts{id: clientID(t, "pub")})
				pub.publish("again/q1", 1, false, "seen")
				pub.publish("again/q2", 2, false, "seen")
				// Two topics, two consumers: MQTT orders messages per
				// topic only, so either may come first.
				seen := map[string]byte{}
				for range 2 {
					m := c.next()
					require.Equal(t, "seen", m.payload, "%+v", m)
					seen[m.topic] = m.qos
				}
				require.Equal(t, map[string]byte{"again/q1": 1, "again/q2": 2}, seen)
				c.disconnect()
				s.waitGone(o.id)
				for i := range 3 {
					pub.publish("again/q1", 1, false, fmt.Sprint("q1 ", i))
					pub.publish("again/q2", 2, false, fmt.Sprint("q2 ", i))
				}
				pub.disconnect()
				if restart.sig != 0 {
					s.restart(restart.sig)
				}
				c = s.connectVersion(v.v, o)
				require.Equal(t, qos, c.subscribe(filters, qos))
				want := map[string]bool{}
				for i := range 3 {
					want[fmt.Sprint("q1 ", i)], want[fmt.Sprint("q2 ", i)] = true, true
				}
				for range len(want) {
					m := c.next()
					require.True(t, want[m.payload], "unexpected or repeated %+v", m)
					delete(want, m.payload)
				}
				nothingBefore(t, c, c, "again/q2")
			})
		}
	}
}

// TestMQTTInteropMonitoring: /connz lists MQTT clients of both versions
// as upstream does (kind "Client", type "mqtt", mqtt_client, the
// authorized user, the subscriptions as NATS subjects) and filters on
// mqtt_client; /varz has the mqtt section.
func TestMQTTInteropMonitoring(t *testing.T) {
	s := startInterop(t, `authorization { users: [{user: meter, password: pw}] }`+"\n")
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			id := clientID(t, "listed")
			c := s.connectVersion(v.v, connOpts{id: id, user: "meter", pass: "pw"})
			c.subscribe([]string{"meters/+/kwh"}, []byte{1})
			var connz struct {
				NumConns int `json:"num_connections"`
				Conns    []struct {
					Kind       string   `json:"kind"`
					Type       string   `json:"type"`
					MQTTClient string   `json:"mqtt_client"`
					User       string   `json:"authorized_user"`
					Subs       []string `json:"subscriptions_list"`
				} `json:"connections"`
			}
			getJSON(t, s.p.monitorURL()+"/connz?subs=1&auth=1&mqtt_client="+url.QueryEscape(id), &connz)
			require.Equal(t, 1, connz.NumConns)
			got := connz.Conns[0]
			require.Equal(t, "Client", got.Kind)
			require.Equal(t, "mqtt", got.Type)
			require.Equal(t, id, got.MQTTClient)
			require.Equal(t, "meter", got.User)
			require.Equal(t, []string{"meters.*.kwh"}, got.Subs)
		})
	}
	var varz struct {
		MQTT struct {
			Host string `json:"host"`
			Port int    `json:"port"`
		} `json:"mqtt"`
	}
	getJSON(t, s.p.monitorURL()+"/varz", &varz)
	require.Equal(t, s.addr, fmt.Sprintf("%s:%d", varz.MQTT.Host, varz.MQTT.Port))
}

// TestMQTTInteropConnectionTypesAndSharedUsers: the server's users,
// passwords and tokens serve NATS and MQTT clients alike;
// allowed_connection_types keeps a STANDARD-only user out of MQTT (CONNACK
// 5, or 0x87 Not authorized for 5.0, as upstream refuses 3.1.1) and an
// MQTT-only user out of NATS.
func TestMQTTInteropConnectionTypesAndSharedUsers(t *testing.T) {
	s := startInterop(t, `authorization { users: [
  {user: natsonly, password: pw, allowed_connection_types: ["STANDARD"]}
  {user: mqttonly, password: pw, allowed_connection_types: ["MQTT"]}
  {user: both, password: pw}
] }
`)
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			refused := func(user, pass string) {
				t.Helper()
				o := connOpts{id: clientID(t, "refused-"+user), user: user, pass: pass}
				if v.v == 5 {
					_, ca, err := s.dial5(o)
					require.Error(t, err)
					require.Equal(t, byte(0x87), ca.ReasonCode)
					return
				}
				_, err := s.dial3(o)
				require.ErrorIs(t, err, packets.ErrorRefusedNotAuthorised)
			}
			refused("natsonly", "pw")
			refused("both", "wrong")
			mq := s.connectVersion(v.v, connOpts{id: clientID(t, "mqttonly"), user: "mqttonly", pass: "pw"})
			both := s.connectVersion(v.v, connOpts{id: clientID(t, "both"), user: "both", pass: "pw"})
			both.subscribe([]string{"shared/users"}, []byte{1})
			mq.publish("shared/users", 1, false, "from mqttonly")
			nextIs(t, both, "shared/users", "from mqttonly", 1)
		})
	}
	_, err := s.p.dial(nats.UserInfo("mqttonly", "pw"))
	require.ErrorContains(t, err, "Authorization Violation")
	_, err = s.p.dial(nats.UserInfo("natsonly", "pw"))
	require.NoError(t, err)

	// A token: the MQTT client sends it as its password.
	tok := startInterop(t, "authorization { token: s3cr3t }\n")
	for _, v := range versions {
		c := tok.connectVersion(v.v, connOpts{id: clientID(t, "token-"+v.name), user: "any", pass: "s3cr3t"})
		c.subscribe([]string{"token/ok"}, []byte{1})
		nc, err := tok.p.dial(nats.Token("s3cr3t"))
		require.NoError(t, err)
		require.NoError(t, nc.Publish("token.ok", []byte("nats")))
		m := c.next()
		require.Equal(t, "nats", m.payload)
	}
}
