package mqtt_test

import (
	"bytes"
	"fmt"
	"net"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/nats-io/nats.go"
	"natsd.dev/auth"
	"natsd.dev/mqtt"
	"natsd.dev/mqtt/internal/packet"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

func TestPubSubQoS0BothWays(t *testing.T) {
	b := start(t, server.Options{}, mqtt.Options{}, "")
	sub := b.client(t, "")
	got := make(received, 10)
	wait(t, sub.Subscribe("sensors/+/temp", 0, got.handler))

	nc := servertest.Connect(t, b.s)
	ns, err := nc.SubscribeSync("sensors.*.temp")
	if err != nil {
		t.Fatal(err)
	}
	nc.Flush()

	pub := b.client(t, "")
	wait(t, pub.Publish("sensors/kitchen/temp", 0, false, "21.5"))
	m := got.next(t)
	if m.Topic() != "sensors/kitchen/temp" || string(m.Payload()) != "21.5" || m.Qos() != 0 || m.Retained() {
		t.Fatalf("MQTT subscriber got %q %q qos %d retained %v", m.Topic(), m.Payload(), m.Qos(), m.Retained())
	}
	nm, err := ns.NextMsg(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if nm.Subject != "sensors.kitchen.temp" || string(nm.Data) != "21.5" {
		t.Fatalf("NATS subscriber got %q %q", nm.Subject, nm.Data)
	}

	// NATS to MQTT.
	if err := nc.Publish("sensors.hall.temp", []byte("19")); err != nil {
		t.Fatal(err)
	}
	m = got.next(t)
	if m.Topic() != "sensors/hall/temp" || string(m.Payload()) != "19" {
		t.Fatalf("from NATS: %q %q", m.Topic(), m.Payload())
	}
}

func TestQoS1And2(t *testing.T) {
	b := start(t, server.Options{}, mqtt.Options{}, "")
	sub := b.client(t, "")
	got := make(received, 10)
	wait(t, sub.Subscribe("q/1", 1, got.handler))
	wait(t, sub.Subscribe("q/2", 2, got.handler))
	pub := b.client(t, "")
	for _, tc := range []struct {
		topic       string
		pubQoS, qos byte
	}{
		{"q/1", 1, 1}, {"q/1", 2, 1}, {"q/2", 2, 2}, {"q/2", 1, 1}, {"q/2", 0, 0},
	} {
		payload := fmt.Sprintf("%s pub %d", tc.topic, tc.pubQoS)
		wait(t, pub.Publish(tc.topic, tc.pubQoS, false, payload))
		m := got.next(t)
		if string(m.Payload()) != payload || m.Qos() != tc.qos {
			t.Fatalf("%s: got %q at QoS %d, want QoS %d", payload, m.Payload(), m.Qos(), tc.qos)
		}
	}
}

func TestRetained(t *testing.T) {
	b := start(t, server.Options{}, mqtt.Options{}, "")
	pub := b.client(t, "")
	wait(t, pub.Publish("home/door", 1, true, "open"))
	wait(t, pub.Publish("home/window", 0, true, "shut"))
	wait(t, pub.Publish("home/window", 1, true, "ajar")) // one per topic

	sub := b.client(t, "")
	got := make(received, 10)
	wait(t, sub.Subscribe("home/#", 1, got.handler))
	seen := map[string]string{}
	for range 2 {
		m := got.next(t)
		if !m.Retained() {
			t.Fatalf("%s delivered without the retain flag", m.Topic())
		}
		seen[m.Topic()] = string(m.Payload())
	}
	if seen["home/door"] != "open" || seen["home/window"] != "ajar" {
		t.Fatalf("retained %v", seen)
	}
	// A live message is not flagged retained, even if published so.
	wait(t, pub.Publish("home/door", 0, true, "closed"))
	if m := got.next(t); m.Retained() || string(m.Payload()) != "closed" {
		t.Fatalf("live retained publish delivered as %q retained=%v", m.Payload(), m.Retained())
	}
	// An empty retained message clears the topic.
	wait(t, pub.Publish("home/window", 1, true, ""))
	got.next(t) // the empty message itself, live

	sub2 := b.client(t, "")
	got2 := make(received, 10)
	wait(t, sub2.Subscribe("home/+", 0, got2.handler))
	m := got2.next(t)
	if m.Topic() != "home/door" || string(m.Payload()) != "closed" {
		t.Fatalf("after clearing: got %q %q", m.Topic(), m.Payload())
	}
	// Nothing else was retained: a marker published now comes next.
	wait(t, pub.Publish("home/marker", 0, false, "end"))
	if m := got2.next(t); m.Topic() != "home/marker" {
		t.Fatalf("a cleared retained message came back: %q %q", m.Topic(), m.Payload())
	}

	// Retained messages survive a restart.
	b.stop(t)
	b = start(t, server.Options{}, mqtt.Options{}, b.dir)
	sub3 := b.client(t, "")
	got3 := make(received, 10)
	wait(t, sub3.Subscribe("home/door", 0, got3.handler))
	if m := got3.next(t); string(m.Payload()) != "closed" || !m.Retained() {
		t.Fatalf("after restart: %q retained=%v", m.Payload(), m.Retained())
	}
}

func TestWill(t *testing.T) {
	b := start(t, server.Options{}, mqtt.Options{}, "")
	sub := b.client(t, "")
	got := make(received, 10)
	wait(t, sub.Subscribe("wills/#", 1, got.handler))

	// Graceful: no will.
	r := b.raw(t)
	if _, code := r.connect(&packet.Connect{ClientID: "w1", CleanStart: true, Will: &packet.Will{Topic: "wills/w1", Payload: []byte("gone"), QoS: 1}}); code != 0 {
		t.Fatalf("CONNACK %d", code)
	}
	r.write(packet.AppendDisconnect(nil, packet.V311, &packet.Disconnect{}))
	r.closed()

	// Abnormal close: the will goes out.
	r = b.raw(t)
	if _, code := r.connect(&packet.Connect{ClientID: "w2", CleanStart: true, Will: &packet.Will{Topic: "wills/w2", Payload: []byte("lost"), QoS: 1}}); code != 0 {
		t.Fatalf("CONNACK %d", code)
	}
	r.nc.Close()
	m := got.next(t)
	if m.Topic() != "wills/w2" || string(m.Payload()) != "lost" {
		t.Fatalf("will: %q %q", m.Topic(), m.Payload())
	}
}

func TestKeepAlive(t *testing.T) {
	b := start(t, server.Options{}, mqtt.Options{}, "")
	sub := b.client(t, "")
	got := make(received, 10)
	wait(t, sub.Subscribe("ka", 0, got.handler))
	r := b.raw(t)
	if _, code := r.connect(&packet.Connect{ClientID: "ka", CleanStart: true, KeepAlive: 1, Will: &packet.Will{Topic: "ka", Payload: []byte("timeout")}}); code != 0 {
		t.Fatalf("CONNACK %d", code)
	}
	// A ping within the keepalive is answered.
	r.write(packet.AppendPingreq(nil))
	if typ, _, _ := r.next(); typ != packet.PINGRESP {
		t.Fatalf("got %d, want PINGRESP", typ)
	}
	start := time.Now()
	r.closed() // then silence: closed after 1.5 keepalives
	if d := time.Since(start); d < time.Second {
		t.Fatalf("closed after %v, before the keepalive", d)
	}
	if m := got.next(t); string(m.Payload()) != "timeout" {
		t.Fatalf("will %q", m.Payload())
	}
}

// TestKeepAliveBusy: a client that sends packets more often than the
// server moves its read deadline (every eighth of 1.5 keepalives) stays
// connected for longer than 1.5 keepalives, and once silent is closed
// within 1.5 to 1.69 keepalives of its last packet.
func TestKeepAliveBusy(t *testing.T) {
	b := start(t, server.Options{}, mqtt.Options{}, "")
	r := b.raw(t)
	if _, code := r.connect(&packet.Connect{ClientID: "busy", CleanStart: true, KeepAlive: 1}); code != 0 {
		t.Fatalf("CONNACK %d", code)
	}
	ping := packet.AppendPingreq(nil)
	for end := time.Now().Add(2500 * time.Millisecond); time.Now().Before(end); {
		r.write(ping)
		if typ, _, _ := r.next(); typ != packet.PINGRESP {
			t.Fatalf("got %d, want PINGRESP", typ)
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	r.closed()
	// The bounds have slack for a loaded machine: the test catches a
	// deadline not moved (closed within the busy loop), one too short,
	// or one moved far away.
	if d := time.Since(start); d < 1400*time.Millisecond || d > 4*time.Second {
		t.Fatalf("closed %v after the last packet, want 1.5s to 1.69s after its last packet", d)
	}
}

func TestPersistentSession(t *testing.T) {
	b := start(t, server.Options{}, mqtt.Options{}, "")
	persistent := func(o *paho.ClientOptions) { o.SetCleanSession(false) }
	got := make(received, 100)
	handler := func(o *paho.ClientOptions) {
		o.SetDefaultPublishHandler(got.handler)
	}
	c := b.client(t, "dev-1", persistent, handler)
	wait(t, c.Subscribe("cmd/dev-1/#", 1, got.handler))
	c.Disconnect(100)

	pub := b.client(t, "")
	wait(t, pub.Publish("cmd/dev-1/set", 0, false, "qos0 while away")) // not kept
	for i := range 5 {
		wait(t, pub.Publish("cmd/dev-1/set", 1, false, fmt.Sprint("offline ", i)))
	}

	// Back: the session is present and the QoS 1 messages come.
	r := b.raw(t)
	present, code := r.connect(&packet.Connect{ClientID: "dev-1"})
	if code != 0 || !present {
		t.Fatalf("CONNACK code %d present %v", code, present)
	}
	for i := range 5 {
		typ, flags, body := r.next()
		if typ != packet.PUBLISH {
			t.Fatalf("got packet %d", typ)
		}
		var p packet.Publish
		if err := packet.DecodePublish(r.v, flags, body, &p); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprint("offline ", i); string(p.Payload) != want || p.QoS != 1 || string(p.Topic) != "cmd/dev-1/set" {
			t.Fatalf("got %q qos %d on %q, want %q", p.Payload, p.QoS, p.Topic, want)
		}
		r.write(packet.AppendAck(nil, r.v, packet.PUBACK, &packet.Ack{PacketID: p.PacketID}))
	}
	r.write(packet.AppendDisconnect(nil, r.v, &packet.Disconnect{}))
	r.closed()

	// The session and its subscription survive a restart.
	b.stop(t)
	b = start(t, server.Options{}, mqtt.Options{}, b.dir)
	pub = b.client(t, "")
	wait(t, pub.Publish("cmd/dev-1/x", 1, false, "after restart"))
	r = b.raw(t)
	present, code = r.connect(&packet.Connect{ClientID: "dev-1"})
	if code != 0 || !present {
		t.Fatalf("after restart: CONNACK code %d present %v", code, present)
	}
	typ, flags, body := r.next()
	var p packet.Publish
	if typ != packet.PUBLISH || packet.DecodePublish(r.v, flags, body, &p) != nil || string(p.Payload) != "after restart" {
		t.Fatalf("after restart: packet %d %q", typ, p.Payload)
	}
	r.write(packet.AppendAck(nil, r.v, packet.PUBACK, &packet.Ack{PacketID: p.PacketID}))

	// A clean connection ends the session.
	r.write(packet.AppendDisconnect(nil, r.v, &packet.Disconnect{}))
	r.closed()
	r = b.raw(t)
	if present, _ := r.connect(&packet.Connect{ClientID: "dev-1", CleanStart: true}); present {
		t.Fatal("clean session reported present")
	}
	r.write(packet.AppendDisconnect(nil, r.v, &packet.Disconnect{}))
	r.closed()
	r = b.raw(t)
	if present, _ := r.connect(&packet.Connect{ClientID: "dev-1"}); present {
		t.Fatal("session still present after a clean connection")
	}
}

func TestRedeliveryOnReconnect(t *testing.T) {
	b := start(t, server.Options{}, mqtt.Options{}, "")
	r := b.raw(t)
	if _, code := r.connect(&packet.Connect{ClientID: "redeliver"}); code != 0 {
		t.Fatalf("CONNACK %d", code)
	}
	r.write(packet.AppendSubscribe(nil, r.v, &packet.Subscribe{PacketID: 1, Filters: []packet.SubFilter{{Filter: "jobs", QoS: 1}}}))
	if typ, _, _ := r.next(); typ != packet.SUBACK {
		t.Fatalf("got %d, want SUBACK", typ)
	}
	pub := b.client(t, "")
	wait(t, pub.Publish("jobs", 1, false, "job-1"))
	typ, flags, body := r.next()
	var p packet.Publish
	if typ != packet.PUBLISH || packet.DecodePublish(r.v, flags, body, &p) != nil || p.Dup {
		t.Fatalf("first delivery: %d dup=%v", typ, p.Dup)
	}
	r.nc.Close() // no PUBACK

	r = b.raw(t)
	if present, code := r.connect(&packet.Connect{ClientID: "redeliver"}); code != 0 || !present {
		t.Fatalf("CONNACK %d present %v", code, present)
	}
	typ, flags, body = r.next()
	var again packet.Publish
	if typ != packet.PUBLISH || packet.DecodePublish(r.v, flags, body, &again) != nil {
		t.Fatalf("no redelivery: packet %d", typ)
	}
	if !again.Dup || string(again.Payload) != "job-1" || again.QoS != 1 {
		t.Fatalf("redelivery %q dup=%v qos=%d", again.Payload, again.Dup, again.QoS)
	}
}

func TestTakeover(t *testing.T) {
	users := []auth.User{{Name: "alice", Password: "a"}, {Name: "bob", Password: "b"}}
	b := start(t, server.Options{Authorization: &auth.Config{Users: users}}, mqtt.Options{}, "")
	lost := make(chan struct{})
	first := b.client(t, "same-id", func(o *paho.ClientOptions) {
		o.SetUsername("alice").SetPassword("a").SetConnectionLostHandler(func(paho.Client, error) { close(lost) })
	})
	_ = first
	// Another user may not take the id over.
	r := b.raw(t)
	if _, code := r.connect(&packet.Connect{ClientID: "same-id", CleanStart: true, HasUsername: true, Username: "bob", HasPassword: true, Password: []byte("b")}); code != packet.ConnRefusedNotAuthorized {
		t.Fatalf("takeover by another user: CONNACK %d", code)
	}
	// A wrong password is refused.
	r = b.raw(t)
	if _, code := r.connect(&packet.Connect{ClientID: "x", CleanStart: true, HasUsername: true, Username: "alice", HasPassword: true, Password: []byte("wrong")}); code != packet.ConnRefusedNotAuthorized {
		t.Fatalf("wrong password: CONNACK %d", code)
	}
	// The same user takes it over: the first connection is closed.
	r = b.raw(t)
	if _, code := r.connect(&packet.Connect{ClientID: "same-id", CleanStart: true, HasUsername: true, Username: "alice", HasPassword: true, Password: []byte("a")}); code != 0 {
		t.Fatalf("takeover by the same user: CONNACK %d", code)
	}
	select {
	case <-lost:
	case <-time.After(10 * time.Second):
		t.Fatal("the first connection was not closed")
	}
}

func TestPermissionsRetainedAndPublish(t *testing.T) {
	perms := &auth.Permissions{
		Publish:   &auth.SubjectPermission{Deny: []string{"secret.>"}},
		Subscribe: &auth.SubjectPermission{Deny: []string{"secret.>"}},
	}
	users := []auth.User{{Name: "admin", Password: "a"}, {Name: "guest", Password: "g", Permissions: perms}}
	b := start(t, server.Options{Authorization: &auth.Config{Users: users}}, mqtt.Options{}, "")
	admin := b.client(t, "", func(o *paho.ClientOptions) { o.SetUsername("admin").SetPassword("a") })
	wait(t, admin.Publish("secret/plan", 1, true, "classified"))
	wait(t, admin.Publish("public/news", 1, true, "hello"))

	guest := b.client(t, "", func(o *paho.ClientOptions) { o.SetUsername("guest").SetPassword("g") })
	got := make(received, 10)
	wait(t, guest.Subscribe("#", 1, got.handler))
	if m := got.next(t); m.Topic() != "public/news" {
		t.Fatalf("guest got %q", m.Topic())
	}
	// The guest's publish to a denied subject reaches nobody.
	adminGot := make(received, 10)
	wait(t, admin.Subscribe("#", 1, adminGot.handler))
	for range 2 {
		adminGot.next(t) // the two retained messages
	}
	wait(t, guest.Publish("secret/plan", 1, true, "overwritten"))
	wait(t, guest.Publish("public/end", 1, false, "marker"))
	if m := adminGot.next(t); m.Topic() != "public/end" {
		t.Fatalf("denied publish delivered: %q %q", m.Topic(), m.Payload())
	}
	// And it did not replace the retained message.
	late := b.client(t, "", func(o *paho.ClientOptions) { o.SetUsername("admin").SetPassword("a") })
	lateGot := make(received, 10)
	wait(t, late.Subscribe("secret/plan", 0, lateGot.handler))
	if m := lateGot.next(t); string(m.Payload()) != "classified" {
		t.Fatalf("retained became %q", m.Payload())
	}
	// The guest's subscription to a denied filter is refused.
	if tok := guest.Subscribe("secret/#", 0, got.handler); tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
		st := tok.(*paho.SubscribeToken)
		if st.Result()["secret/#"] != 0x80 {
			t.Fatalf("denied subscribe granted QoS %d", st.Result()["secret/#"])
		}
	}
}

func TestBadInput(t *testing.T) {
	b := start(t, server.Options{}, mqtt.Options{}, "")
	t.Run("no CONNECT first", func(t *testing.T) {
		r := b.raw(t)
		r.write(packet.AppendPingreq(nil))
		r.closed()
	})
	t.Run("unsupported protocol level", func(t *testing.T) {
		r := b.raw(t)
		c := packet.AppendConnect(nil, &packet.Connect{ProtoName: "MQTT", Version: 4, ClientID: "x", CleanStart: true})
		i := bytes.Index(c, []byte("MQTT")) + 4
		c[i] = 9
		r.write(c)
		typ, _, body := r.next()
		if typ != packet.CONNACK || len(body) < 2 || body[1] != packet.ConnRefusedProtocol {
			t.Fatalf("got %d %x", typ, body)
		}
		r.closed()
	})
	t.Run("empty client id with a persistent session", func(t *testing.T) {
		r := b.raw(t)
		if _, code := r.connect(&packet.Connect{}); code != packet.ConnRefusedIDRejected {
			t.Fatalf("CONNACK %d", code)
		}
	})
	t.Run("huge declared length before CONNECT", func(t *testing.T) {
		r := b.raw(t)
		r.write([]byte{0x10, 0xff, 0xff, 0xff, 0x7f, 0, 4})
		r.closed()
	})
	t.Run("topic with NUL", func(t *testing.T) {
		r := b.raw(t)
		if _, code := r.connect(&packet.Connect{ClientID: "nul", CleanStart: true}); code != 0 {
			t.Fatalf("CONNACK %d", code)
		}
		r.write(packet.AppendPublish(nil, r.v, &packet.Publish{Topic: []byte("a\x00b"), Payload: []byte("x")}))
		r.closed()
	})
	t.Run("topic with a space", func(t *testing.T) {
		r := b.raw(t)
		if _, code := r.connect(&packet.Connect{ClientID: "sp", CleanStart: true}); code != 0 {
			t.Fatalf("CONNACK %d", code)
		}
		r.write(packet.AppendPublish(nil, r.v, &packet.Publish{Topic: []byte("a b"), Payload: []byte("x")}))
		r.closed()
	})
	t.Run("reserved flags", func(t *testing.T) {
		r := b.raw(t)
		if _, code := r.connect(&packet.Connect{ClientID: "rf", CleanStart: true}); code != 0 {
			t.Fatalf("CONNACK %d", code)
		}
		sub := packet.AppendSubscribe(nil, r.v, &packet.Subscribe{PacketID: 1, Filters: []packet.SubFilter{{Filter: "a"}}})
		sub[0] = 0x80 // flags must be 0b0010
		r.write(sub)
		r.closed()
	})
	// The broker still serves.
	c := b.client(t, "")
	wait(t, c.Publish("still/here", 0, false, "yes"))
}

func TestNATSHeaderCarriesQoS(t *testing.T) {
	b := start(t, server.Options{}, mqtt.Options{}, "")
	nc := servertest.Connect(t, b.s)
	ns, err := nc.SubscribeSync("h.>")
	if err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	pub := b.client(t, "")
	wait(t, pub.Publish("h/1", 1, false, "x"))
	m, err := ns.NextMsg(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Nmqtt-Pub") != "1" {
		t.Fatalf("header %v", m.Header)
	}
	wait(t, pub.Publish("h/0", 0, false, "x"))
	if m, err = ns.NextMsg(10 * time.Second); err != nil || m.Header.Get("Nmqtt-Pub") != "0" || m.Subject != "h.0" {
		t.Fatalf("QoS 0: %v %+v", err, m)
	}
	_ = nats.ErrTimeout
}

func TestQoS2ExactlyOnceAcrossRestart(t *testing.T) {
	b := start(t, server.Options{}, mqtt.Options{}, "")
	// The receiving side: a persistent subscriber gets a QoS 2 message
	// and sends PUBREC; the server's PUBREL is pending.
	sub := b.raw(t)
	if _, code := sub.connect(&packet.Connect{ClientID: "q2-sub"}); code != 0 {
		t.Fatalf("CONNACK %d", code)
	}
	sub.write(packet.AppendSubscribe(nil, sub.v, &packet.Subscribe{PacketID: 1, Filters: []packet.SubFilter{{Filter: "q2/#", QoS: 2}}}))
	if typ, _, _ := sub.next(); typ != packet.SUBACK {
		t.Fatalf("got %d, want SUBACK", typ)
	}
	// The sending side: a persistent publisher's QoS 2 message, PUBREC
	// received, PUBREL not sent yet.
	pub := b.raw(t)
	if _, code := pub.connect(&packet.Connect{ClientID: "q2-pub"}); code != 0 {
		t.Fatalf("CONNACK %d", code)
	}
	pub.write(packet.AppendPublish(nil, pub.v, &packet.Publish{Topic: []byte("q2/x"), QoS: 2, PacketID: 5, Payload: []byte("once")}))
	if typ, _, body := pub.next(); typ != packet.PUBREC || body[1] != 5 {
		t.Fatalf("got %d %x, want PUBREC 5", typ, body)
	}
	typ, flags, body := sub.next()
	var p packet.Publish
	if typ != packet.PUBLISH || packet.DecodePublish(sub.v, flags, body, &p) != nil || p.QoS != 2 || string(p.Payload) != "once" {
		t.Fatalf("subscriber got %d %q", typ, p.Payload)
	}
	sub.write(packet.AppendAck(nil, sub.v, packet.PUBREC, &packet.Ack{PacketID: p.PacketID}))
	if typ, _, _ := sub.next(); typ != packet.PUBREL {
		t.Fatalf("got %d, want PUBREL", typ)
	}

	b.stop(t)
	b = start(t, server.Options{}, mqtt.Options{}, b.dir)

	// The subscriber is sent the PUBREL again, not the message.
	sub = b.raw(t)
	if present, code := sub.connect(&packet.Connect{ClientID: "q2-sub"}); code != 0 || !present {
		t.Fatalf("CONNACK %d present %v", code, present)
	}
	if typ, _, body := sub.next(); typ != packet.PUBREL || uint16(body[0])<<8|uint16(body[1]) != p.PacketID {
		t.Fatalf("after restart: got %d %x, want PUBREL %d", typ, body, p.PacketID)
	}
	sub.write(packet.AppendAck(nil, sub.v, packet.PUBCOMP, &packet.Ack{PacketID: p.PacketID}))

	// The publisher sends its message again: acknowledged, not delivered.
	pub = b.raw(t)
	if present, code := pub.connect(&packet.Connect{ClientID: "q2-pub"}); code != 0 || !present {
		t.Fatalf("CONNACK %d present %v", code, present)
	}
	pub.write(packet.AppendPublish(nil, pub.v, &packet.Publish{Topic: []byte("q2/x"), QoS: 2, Dup: true, PacketID: 5, Payload: []byte("once")}))
	if typ, _, _ := pub.next(); typ != packet.PUBREC {
		t.Fatalf("got %d, want PUBREC", typ)
	}
	pub.write(packet.AppendAck(nil, pub.v, packet.PUBREL, &packet.Ack{PacketID: 5}))
	if typ, _, _ := pub.next(); typ != packet.PUBCOMP {
		t.Fatalf("got %d, want PUBCOMP", typ)
	}
	pub.write(packet.AppendPublish(nil, pub.v, &packet.Publish{Topic: []byte("q2/end"), QoS: 1, PacketID: 6, Payload: []byte("marker")}))
	typ, flags, body = sub.next()
	if typ != packet.PUBLISH || packet.DecodePublish(sub.v, flags, body, &p) != nil || string(p.Payload) != "marker" {
		t.Fatalf("subscriber got %d %q, want the marker (a duplicate?)", typ, p.Payload)
	}
}

func TestNoAuthUserOfTheBlock(t *testing.T) {
	users := []auth.User{{Name: "alice", Password: "a"}, {Name: "bob", Password: "b"}}
	so := server.Options{Authorization: &auth.Config{Users: users}}
	b := start(t, so, mqtt.Options{}, "")
	r := b.raw(t)
	if _, code := r.connect(&packet.Connect{ClientID: "anon", CleanStart: true}); code != packet.ConnRefusedNotAuthorized {
		t.Fatalf("no credentials, no no_auth_user: CONNACK %d", code)
	}
	b.stop(t)
	b = start(t, so, mqtt.Options{NoAuthUser: "bob"}, "")
	r = b.raw(t)
	if _, code := r.connect(&packet.Connect{ClientID: "anon", CleanStart: true}); code != 0 {
		t.Fatalf("no credentials, no_auth_user bob: CONNACK %d", code)
	}
	// A wrong password is still refused.
	r = b.raw(t)
	if _, code := r.connect(&packet.Connect{ClientID: "x", CleanStart: true, HasUsername: true, Username: "bob", HasPassword: true, Password: []byte("nope")}); code != packet.ConnRefusedNotAuthorized {
		t.Fatalf("wrong password: CONNACK %d", code)
	}
}

func TestTokenInPassword(t *testing.T) {
	b := start(t, server.Options{Authorization: &auth.Config{Token: "s3cret"}}, mqtt.Options{}, "")
	r := b.raw(t)
	if _, code := r.connect(&packet.Connect{ClientID: "tok", CleanStart: true, HasUsername: true, Username: "any", HasPassword: true, Password: []byte("s3cret")}); code != 0 {
		t.Fatalf("token as password: CONNACK %d", code)
	}
	r = b.raw(t)
	if _, code := r.connect(&packet.Connect{ClientID: "tok2", CleanStart: true, HasUsername: true, Username: "any", HasPassword: true, Password: []byte("wrong")}); code != packet.ConnRefusedNotAuthorized {
		t.Fatalf("wrong token: CONNACK %d", code)
	}
}

func TestStoredMessagesObeyPermissionsAfterReload(t *testing.T) {
	open := []auth.User{{Name: "dev", Password: "d"}, {Name: "admin", Password: "a"}}
	so := server.Options{Authorization: &auth.Config{Users: open}}
	b := start(t, so, mqtt.Options{}, "")
	login := &packet.Connect{ClientID: "dev-1", HasUsername: true, Username: "dev", HasPassword: true, Password: []byte("d")}
	r := b.raw(t)
	if _, code := r.connect(login); code != 0 {
		t.Fatalf("CONNACK %d", code)
	}
	r.write(packet.AppendSubscribe(nil, r.v, &packet.Subscribe{PacketID: 1, Filters: []packet.SubFilter{{Filter: "data/#", QoS: 1}}}))
	if typ, _, _ := r.next(); typ != packet.SUBACK {
		t.Fatalf("got %d, want SUBACK", typ)
	}
	r.write(packet.AppendDisconnect(nil, r.v, &packet.Disconnect{}))
	r.closed()

	admin := b.client(t, "", func(o *paho.ClientOptions) { o.SetUsername("admin").SetPassword("a") })
	wait(t, admin.Publish("data/secret", 1, false, "stored while away"))
	wait(t, admin.Publish("data/public", 1, false, "fine"))

	// The reload takes data.secret away from dev: the stored message on
	// it is not replayed, the other one is.
	deny := &auth.Permissions{Subscribe: &auth.SubjectPermission{Deny: []string{"data.secret"}}}
	so.Authorization = &auth.Config{Users: []auth.User{{Name: "dev", Password: "d", Permissions: deny}, {Name: "admin", Password: "a"}}}
	so.Host, so.Port = "127.0.0.1", b.s.Addr().(*net.TCPAddr).Port
	if err := b.s.Reload(so); err != nil {
		t.Fatal(err)
	}
	r = b.raw(t)
	if present, code := r.connect(login); code != 0 || !present {
		t.Fatalf("CONNACK %d present %v", code, present)
	}
	typ, flags, body := r.next()
	var p packet.Publish
	if typ != packet.PUBLISH || packet.DecodePublish(r.v, flags, body, &p) != nil || string(p.Payload) != "fine" {
		t.Fatalf("got %d %q on %q, want only the permitted message", typ, p.Payload, p.Topic)
	}
}

// TestDollarTopics: a filter that starts with a wildcard does not match
// a topic that starts with '$' [MQTT-4.7.2-1], at any QoS, live or
// retained; a filter that names the '$' level does.
func TestDollarTopics(t *testing.T) {
	b := start(t, server.Options{}, mqtt.Options{}, "")
	pub := b.client(t, "")
	wait(t, pub.Publish("$app/state", 1, true, "retained"))
	for q := range byte(3) {
		sub := b.client(t, "")
		got := make(received, 10)
		wait(t, sub.SubscribeMultiple(map[string]byte{"#": q, "+/state": q}, got.handler))
		// Another client: paho hands a message to every handler whose
		// filter matches, '#' included.
		named := make(received, 10)
		wait(t, b.client(t, "").Subscribe("$app/#", q, named.handler))
		if m := named.next(t); m.Topic() != "$app/state" || !m.Retained() {
			t.Fatalf("QoS %d: '$app/#' got %s retained=%v", q, m.Topic(), m.Retained())
		}
		wait(t, pub.Publish("$app/state", q, false, "live"))
		if m := named.next(t); string(m.Payload()) != "live" {
			t.Fatalf("QoS %d: '$app/#' got %q", q, m.Payload())
		}
		// The wildcard filters get the next plain message first (twice:
		// both match it).
		wait(t, pub.Publish("app/state", q, false, "plain"))
		for range 2 {
			if m := got.next(t); m.Topic() != "app/state" {
				t.Fatalf("QoS %d: a wildcard filter got %s %q", q, m.Topic(), m.Payload())
			}
		}
	}
}
