package topic_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"natsd.dev/mqtt/internal/packet"
	"natsd.dev/mqtt/internal/topic"
)

// These tests compare the mapping with the upstream nats-server named by
// NATSD_UPSTREAM_SERVER (skipped without it): MQTT clients made of the
// packet codec on one side, a raw NATS client on the other.

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func startUpstream(t *testing.T) (natsAddr, mqttAddr string) {
	t.Helper()
	bin := os.Getenv("NATSD_UPSTREAM_SERVER")
	if bin == "" {
		t.Skip("NATSD_UPSTREAM_SERVER not set")
	}
	natsAddr, mqttAddr = freeAddr(t), freeAddr(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "s.conf")
	cfg := fmt.Sprintf("server_name: s1\nlisten: %q\njetstream {store_dir: %q}\nmqtt {listen: %q}\n", natsAddr, dir, mqttAddr)
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "-c", conf)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("nats-server output:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for _, a := range []string{natsAddr, mqttAddr} {
		for {
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("nats-server listener %s: %v", a, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return natsAddr, mqttAddr
}

// natsConn is a raw NATS client subscribed to ">".
type natsConn struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func dialNATS(t *testing.T, addr string) *natsConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	n := &natsConn{t: t, conn: conn, br: bufio.NewReader(conn)}
	n.line() // INFO
	n.write("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB > 1\r\nPING\r\n")
	for n.line() != "PONG" {
	}
	return n
}

func (n *natsConn) write(s string) {
	n.t.Helper()
	if _, err := io.WriteString(n.conn, s); err != nil {
		n.t.Fatal(err)
	}
}

func (n *natsConn) line() string {
	n.t.Helper()
	n.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	l, err := n.br.ReadString('\n')
	if err != nil {
		n.t.Fatalf("NATS read: %v", err)
	}
	return strings.TrimRight(l, "\r\n")
}

// msg returns the next message not on a JetStream or MQTT internal subject.
func (n *natsConn) msg() (subject, payload string) {
	n.t.Helper()
	for {
		l := n.line()
		if l == "PING" {
			n.write("PONG\r\n")
			continue
		}
		f := strings.Split(l, " ") // not Fields: U+00A0 is a space to it, not to NATS
		if len(f) < 4 || f[0] != "MSG" {
			continue
		}
		size, _ := strconv.Atoi(f[len(f)-1])
		buf := make([]byte, size+2)
		if _, err := io.ReadFull(n.br, buf); err != nil {
			n.t.Fatal(err)
		}
		if strings.HasPrefix(f[1], "$JS") || strings.HasPrefix(f[1], "$MQTT") {
			continue
		}
		return f[1], string(buf[:size])
	}
}

// mqttConn is an MQTT 3.1.1 client made of the packet codec.
type mqttConn struct {
	t    *testing.T
	conn net.Conn
	r    *packet.Reader
}

func dialMQTT(t *testing.T, addr, id string) *mqttConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	m := &mqttConn{t: t, conn: conn, r: packet.NewReader(conn, 4096)}
	m.send(packet.AppendConnect(nil, &packet.Connect{Version: packet.V311, CleanStart: true, KeepAlive: 60, ClientID: id}))
	if typ, _, body, err := m.next(); err != nil || typ != packet.CONNACK || !bytes.Equal(body, []byte{0, 0}) {
		t.Fatalf("CONNACK: %d % x %v", typ, body, err)
	}
	return m
}

func (m *mqttConn) send(pkt []byte) {
	m.t.Helper()
	if _, err := m.conn.Write(pkt); err != nil {
		m.t.Fatal(err)
	}
}

func (m *mqttConn) next() (typ, flags byte, body []byte, err error) {
	m.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	return m.r.Next()
}

// publishAcked publishes t at QoS 1 and waits for its PUBACK or for the
// server to close the connection, so that whatever it delivered is on its
// way to subscribers before anything another connection publishes next.
func (m *mqttConn) publishAcked(t string) {
	m.t.Helper()
	m.send(packet.AppendPublish(nil, packet.V311, &packet.Publish{Topic: []byte(t), QoS: 1, PacketID: 1, Payload: []byte(t)}))
	if typ, _, _, err := m.next(); err == nil && typ != packet.PUBACK {
		m.t.Fatalf("PUBLISH %q: got packet %d, want PUBACK or a close", t, typ)
	}
}

func (m *mqttConn) publish(t string) {
	m.t.Helper()
	m.send(packet.AppendPublish(nil, packet.V311, &packet.Publish{Topic: []byte(t), Payload: []byte(t)}))
}

func (m *mqttConn) subscribe(filter string) {
	m.t.Helper()
	m.send(packet.AppendSubscribe(nil, packet.V311, &packet.Subscribe{PacketID: 1, Filters: []packet.SubFilter{{Filter: filter}}}))
	if typ, _, body, err := m.next(); err != nil || typ != packet.SUBACK || !bytes.Equal(body, []byte{0, 1, 0}) {
		m.t.Fatalf("SUBACK for %q: %d % x %v", filter, typ, body, err)
	}
}

// receive returns the topic of the next PUBLISH, read without
// DecodePublish, which refuses the empty topic upstream can send.
func (m *mqttConn) receive() (topic, payload string) {
	m.t.Helper()
	typ, _, body, err := m.next()
	if err != nil || typ != packet.PUBLISH || len(body) < 2 {
		m.t.Fatalf("PUBLISH: %d % x %v", typ, body, err)
	}
	n := int(body[0])<<8 | int(body[1])
	return string(body[2 : 2+n]), string(body[2+n:])
}

// TestUpstreamTopicToSubject publishes MQTT topics and checks the subject
// NATS receives against AppendSubject, and that topics AppendSubject
// refuses reach no NATS subscriber.
func TestUpstreamTopicToSubject(t *testing.T) {
	natsAddr, mqttAddr := startUpstream(t)
	nc := dialNATS(t, natsAddr)
	mc := dialMQTT(t, mqttAddr, "pub")
	topics := []string{"a/b", "/a/b", "a/b/", "a//b", "//a/b", "a.b/c", "/", "//", "a", "a/./b", "a..b",
		"a/b/c/d", "$SYS/x", "a/$x", ".", "a/./", "x/é/y", "$share/g/x", "a/\u00a0/b", "a*b/c>", "./.", "/./"}
	for _, tp := range topics {
		mc.publish(tp)
		subj, payload := nc.msg()
		want, err := topic.AppendSubject(nil, []byte(tp))
		if err != nil || payload != tp || subj != string(want) {
			t.Errorf("topic %q: upstream subject %q (payload %q), AppendSubject %q, %v", tp, subj, payload, want, err)
		}
	}
	// natsd refuses every control character; upstream refuses some and
	// passes others on (upstream true).
	refused := []struct {
		topic    string
		upstream bool
	}{
		{"a b", false}, {"a/\tb", false}, {"a\rb", false}, {"a\nb", false}, {"a\x7fb", false},
		{"a\x01", true}, {"a\x1f/b", true},
	}
	for i, tt := range refused {
		if _, err := topic.AppendSubject(nil, []byte(tt.topic)); !errors.Is(err, topic.ErrInvalidTopic) {
			t.Errorf("AppendSubject(%q) = %v, want ErrInvalidTopic", tt.topic, err)
		}
		mc := dialMQTT(t, mqttAddr, "bad-"+strconv.Itoa(i))
		mc.publishAcked(tt.topic)
		mc = dialMQTT(t, mqttAddr, "marker-"+strconv.Itoa(i))
		mc.publish("marker")
		subj, payload := nc.msg()
		if delivered := payload != "marker"; delivered != tt.upstream {
			t.Errorf("topic %q: upstream delivered %v (subject %q), want %v", tt.topic, delivered, subj, tt.upstream)
		}
		if payload != "marker" {
			nc.msg()
		}
	}
}

// TestUpstreamSubjectToTopic publishes NATS subjects and checks both the
// topic MQTT subscribers receive against AppendTopic and which filters
// receive each against FilterSubjects.
func TestUpstreamSubjectToTopic(t *testing.T) {
	natsAddr, mqttAddr := startUpstream(t)
	nc := dialNATS(t, natsAddr)
	subjects := []string{"foo", "foo.bar", "bar", "/.foo", "foo./", "foo./.bar", "a//b", "/./.a", "a/b", "a///b",
		"//", "a./", "x.y.z", "a.//.b", "///", "a/.b", "a./b", "foo.bar.baz", "/", "*a.b>"}
	filters := map[string]string{ // filter: a subject it receives, sent last
		"#": "marker", "foo/#": "foo.marker", "foo/+": "foo.marker", "+/bar": "marker.bar", "/#": "/.marker", "+": "marker",
		"+/+": "m.m", "foo": "foo", "a.b/#": "a//b.marker",
	}
	subs := map[string]*mqttConn{}
	for f := range filters {
		subs[f] = dialMQTT(t, mqttAddr, "sub-"+strconv.Itoa(len(subs)))
		subs[f].subscribe(f)
	}
	for _, s := range subjects {
		nc.write(fmt.Sprintf("PUB %s %d\r\n%s\r\n", s, len(s), s))
	}
	for f, marker := range filters {
		nc.write(fmt.Sprintf("PUB %s 6\r\nmarker\r\n", marker))
		var got []string
		for {
			tp, payload := subs[f].receive()
			if payload == "marker" {
				break
			}
			if want := topic.AppendTopic(nil, []byte(payload)); tp != string(want) {
				t.Errorf("subject %q: upstream topic %q, AppendTopic %q", payload, tp, want)
			}
			got = append(got, payload)
		}
		var want []string
		fs, err := topic.FilterSubjects(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range subjects {
			if slices.ContainsFunc(fs, func(sub string) bool { return matchSubject(sub, s) }) {
				want = append(want, s)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("filter %q (subjects %q): upstream delivered %q, FilterSubjects match %q", f, fs, got, want)
		}
	}
}

// matchSubject reports whether a NATS subject matches a subscription subject.
func matchSubject(sub, subject string) bool {
	st, tt := strings.Split(sub, "."), strings.Split(subject, ".")
	for i, s := range st {
		if s == ">" {
			return len(tt) > i
		}
		if i >= len(tt) || s != "*" && s != tt[i] {
			return false
		}
	}
	return len(st) == len(tt)
}
