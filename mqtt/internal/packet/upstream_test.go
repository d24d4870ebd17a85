package packet_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"natsd.dev/mqtt/internal/packet"
)

// startUpstream runs the upstream nats-server named by
// NATSD_UPSTREAM_SERVER with an MQTT listener until the test ends and
// returns the MQTT address; the test is skipped without the binary.
func startUpstream(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("NATSD_UPSTREAM_SERVER")
	if bin == "" {
		t.Skip("NATSD_UPSTREAM_SERVER not set")
	}
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	conf := filepath.Join(dir, "s.conf")
	cfg := fmt.Sprintf("server_name: s1\nlisten: 127.0.0.1:-1\njetstream {store_dir: %q}\nmqtt {listen: %q}\n", dir, addr)
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
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server MQTT listener %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// client is an MQTT 3.1.1 client made of this package's encoders and
// decoders.
type client struct {
	t    *testing.T
	conn net.Conn
	r    *packet.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn, r: packet.NewReader(conn, 4096)}
}

func (c *client) send(pkt []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(pkt); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) next() (typ, flags byte, body []byte) {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	typ, flags, body, err := c.r.Next()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return typ, flags, body
}

// TestUpstream speaks MQTT 3.1.1 with nats-server through the encoders and
// decoders: every packet type of a QoS 0, 1 and 2 exchange both ways.
func TestUpstream(t *testing.T) {
	addr := startUpstream(t)
	c := dial(t, addr)
	c.send(packet.AppendConnect(nil, &packet.Connect{Version: packet.V311, CleanStart: true, KeepAlive: 30, ClientID: "codec-1"}))
	typ, _, body := c.next()
	if sp, code, _, err := packet.DecodeConnack(packet.V311, body); typ != packet.CONNACK || err != nil || sp || code != packet.ConnAccepted {
		t.Fatalf("CONNACK: type %d, %v %d %v", typ, sp, code, err)
	}

	c.send(packet.AppendSubscribe(nil, packet.V311, &packet.Subscribe{PacketID: 1, Filters: []packet.SubFilter{{Filter: "t/+", QoS: 1}, {Filter: "q2/#", QoS: 2}, {Filter: "bad/#/x"}}}))
	typ, _, body = c.next()
	if pid, codes, _, err := packet.DecodeSuback(packet.V311, body); typ != packet.SUBACK || err != nil || pid != 1 || !bytes.Equal(codes, []byte{1, 2, 0x80}) {
		t.Fatalf("SUBACK: type %d, %d % x %v", typ, pid, codes, err)
	}

	// QoS 0 and 1: our own messages come back on our subscription.
	c.send(packet.AppendPublish(nil, packet.V311, &packet.Publish{Topic: []byte("t/zero"), Payload: []byte("p0")}))
	typ, flags, body := c.next()
	var p packet.Publish
	if err := packet.DecodePublish(packet.V311, flags, body, &p); typ != packet.PUBLISH || err != nil || string(p.Topic) != "t/zero" || p.QoS != 0 || string(p.Payload) != "p0" {
		t.Fatalf("QoS 0 delivery: type %d %+v %v", typ, p, err)
	}
	c.send(packet.AppendPublish(nil, packet.V311, &packet.Publish{Topic: []byte("t/one"), QoS: 1, PacketID: 2, Payload: []byte("p1")}))
	gotAck, gotMsg := false, false
	for !gotAck || !gotMsg {
		typ, flags, body := c.next()
		switch typ {
		case packet.PUBACK:
			var a packet.Ack
			if err := packet.DecodeAck(packet.V311, typ, flags, body, &a); err != nil || a.PacketID != 2 {
				t.Fatalf("PUBACK: %+v %v", a, err)
			}
			gotAck = true
		case packet.PUBLISH:
			if err := packet.DecodePublish(packet.V311, flags, body, &p); err != nil || string(p.Topic) != "t/one" || p.QoS != 1 || p.PacketID == 0 {
				t.Fatalf("QoS 1 delivery: %+v %v", p, err)
			}
			c.send(packet.AppendAck(nil, packet.V311, packet.PUBACK, &packet.Ack{PacketID: p.PacketID}))
			gotMsg = true
		default:
			t.Fatalf("unexpected %s", packet.TypeName(typ))
		}
	}

	// QoS 2 both ways: PUBREC, PUBREL (flags 0b0010), PUBCOMP.
	c.send(packet.AppendPublish(nil, packet.V311, &packet.Publish{Topic: []byte("q2/a/b"), QoS: 2, PacketID: 3, Payload: []byte("p2")}))
	seen := map[byte]int{}
	for seen[packet.PUBCOMP] == 0 || seen[packet.PUBREL] == 0 {
		typ, flags, body := c.next()
		seen[typ]++
		var a packet.Ack
		switch typ {
		case packet.PUBREC:
			if err := packet.DecodeAck(packet.V311, typ, flags, body, &a); err != nil || a.PacketID != 3 {
				t.Fatalf("PUBREC: %+v %v", a, err)
			}
			c.send(packet.AppendAck(nil, packet.V311, packet.PUBREL, &a))
		case packet.PUBCOMP:
			if err := packet.DecodeAck(packet.V311, typ, flags, body, &a); err != nil || a.PacketID != 3 {
				t.Fatalf("PUBCOMP: %+v %v", a, err)
			}
		case packet.PUBLISH:
			if err := packet.DecodePublish(packet.V311, flags, body, &p); err != nil || string(p.Topic) != "q2/a/b" || p.QoS != 2 || string(p.Payload) != "p2" {
				t.Fatalf("QoS 2 delivery: %+v %v", p, err)
			}
			c.send(packet.AppendAck(nil, packet.V311, packet.PUBREC, &packet.Ack{PacketID: p.PacketID}))
		case packet.PUBREL:
			if err := packet.DecodeAck(packet.V311, typ, flags, body, &a); err != nil || flags != 2 {
				t.Fatalf("PUBREL: flags %d %+v %v", flags, a, err)
			}
			c.send(packet.AppendAck(nil, packet.V311, packet.PUBCOMP, &a))
		default:
			t.Fatalf("unexpected %s", packet.TypeName(typ))
		}
	}

	c.send(packet.AppendUnsubscribe(nil, packet.V311, &packet.Unsubscribe{PacketID: 4, Filters: []string{"t/+", "q2/#"}}))
	typ, _, body = c.next()
	if pid, codes, _, err := packet.DecodeUnsuback(packet.V311, body); typ != packet.UNSUBACK || err != nil || pid != 4 || codes != nil {
		t.Fatalf("UNSUBACK: type %d, %d %v", typ, pid, err)
	}
	c.send(packet.AppendPingreq(nil))
	if typ, _, body = c.next(); typ != packet.PINGRESP || len(body) != 0 {
		t.Fatalf("PINGRESP: type %d % x", typ, body)
	}
	c.send(packet.AppendDisconnect(nil, packet.V311, nil))
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, _, err := c.r.Next(); err != io.EOF {
		t.Fatalf("after DISCONNECT: %v, want the server to close", err)
	}
}

// TestUpstreamRefusesV5 checks the CONNACK nats-server (3.1.1 only) sends
// an MQTT 5 client: return code 0x01 in a 3.1.1 CONNACK.
func TestUpstreamRefusesV5(t *testing.T) {
	c := dial(t, startUpstream(t))
	c.send(packet.AppendConnect(nil, &packet.Connect{Version: packet.V5, CleanStart: true, ClientID: "v5"}))
	typ, _, body := c.next()
	if sp, code, _, err := packet.DecodeConnack(packet.V311, body); typ != packet.CONNACK || err != nil || sp || code != packet.ConnRefusedProtocol {
		t.Fatalf("CONNACK: type %d, %v %d %v", typ, sp, code, err)
	}
}
