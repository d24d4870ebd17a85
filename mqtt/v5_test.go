package mqtt_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
	"natsd.dev/mqtt"
	"natsd.dev/mqtt/internal/packet"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// v5 is a paho.golang (MQTT 5) client and the messages it received.
type v5 struct {
	c   *paho.Client
	got chan *paho.Publish
	ca  *paho.Connack
	dis chan *paho.Disconnect
}

func ctx10(tb testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	tb.Cleanup(cancel)
	return c
}

// client5 connects an MQTT 5 client with cp (ClientID and KeepAlive
// defaulted).
func (b *broker) client5(tb testing.TB, cp *paho.Connect) *v5 {
	tb.Helper()
	nc, err := net.Dial("tcp", b.m.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	v := &v5{got: make(chan *paho.Publish, 100), dis: make(chan *paho.Disconnect, 1)}
	v.c = paho.NewClient(paho.ClientConfig{
		Conn: nc,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			v.got <- pr.Packet
			return true, nil
		}},
		OnServerDisconnect: func(d *paho.Disconnect) { v.dis <- d },
	})
	if cp.ClientID == "" && !strings.Contains(tb.Name(), "Assigned") {
		cp.ClientID = "v5-" + strings.ReplaceAll(tb.Name(), "/", "-") + "-" + time.Now().Format("150405.000000")
	}
	ca, err := v.c.Connect(ctx10(tb), cp)
	if err != nil {
		tb.Fatalf("connect: %v (%+v)", err, ca)
	}
	v.ca = ca
	tb.Cleanup(func() { v.c.Disconnect(&paho.Disconnect{}) })
	return v
}

func (v *v5) next(tb testing.TB) *paho.Publish {
	tb.Helper()
	select {
	case p := <-v.got:
		return p
	case <-time.After(10 * time.Second):
		tb.Fatal("no message within 10s")
		return nil
	}
}

func (v *v5) sub(tb testing.TB, s *paho.Subscribe) *paho.Suback {
	tb.Helper()
	sa, err := v.c.Subscribe(ctx10(tb), s)
	if err != nil {
		tb.Fatalf("subscribe: %v", err)
	}
	return sa
}

func (v *v5) pub(tb testing.TB, p *paho.Publish) {
	tb.Helper()
	if _, err := v.c.Publish(ctx10(tb), p); err != nil {
		tb.Fatalf("publish: %v", err)
	}
}

func u32(n uint32) *uint32 { return &n }
func u16(n uint16) *uint16 { return &n }

func TestV5ConnackAndAssignedID(t *testing.T) {
	b := start(t, server.Options{}, mqtt.Options{MaxAckPending: 100}, "")
	v := b.client5(t, &paho.Connect{CleanStart: true})
	p := v.ca.Properties
	if p == nil || p.AssignedClientID == "" {
		t.Fatalf("no assigned client id: %+v", p)
	}
	if p.ReceiveMaximum == nil || *p.ReceiveMaximum != 100 || p.TopicAliasMaximum == nil || *p.TopicAliasMaximum == 0 {
		t.Fatalf("CONNACK properties %+v", p)
	}
}

func TestV5UserPropertiesAndNATSHeaders(t *testing.T) {
	b := start(t, server.Options{}, mqtt.Options{}, "")
	nc := servertest.Connect(t, b.s)
	ns, _ := nc.SubscribeSync("props.>")
	nc.Flush()
	v := b.client5(t, &paho.Connect{CleanStart: true})
	v.sub(t, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "props/#", QoS: 1}}})

	v.pub(t, &paho.Publish{Topic: "props/a", QoS: 1, Payload: []byte("x"), Properties: &paho.PublishProperties{
		ContentType: "text/plain", User: paho.UserProperties{{Key: "trace", Value: "t1"}, {Key: "trace", Value: "t2"}},
	}})
	m, err := ns.NextMsg(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Header.Values("trace"); len(got) != 2 || got[0] != "t1" || got[1] != "t2" {
		t.Fatalf("NATS headers %v", m.Header)
	}
	if m.Header.Get("Nmqtt-Pub") != "1" || m.Header.Get("Nmqtt-Content-Type") != "text/plain" {
		t.Fatalf("NATS headers %v", m.Header)
	}
	p := v.next(t)
	if p.Properties == nil || p.Properties.ContentType != "text/plain" || len(p.Properties.User) != 2 || p.Properties.User[1].Value != "t2" {
		t.Fatalf("MQTT properties %+v", p.Properties)
	}

	// NATS headers become user properties.
	hm := nats.NewMsg("props.b")
	hm.Header.Set("Order-Id", "42")
	hm.Data = []byte("from nats")
	if err := nc.PublishMsg(hm); err != nil {
		t.Fatal(err)
	}
	p = v.next(t)
	if string(p.Payload) != "from nats" || p.Properties.User.Get("Order-Id") != "42" {
		t.Fatalf("from NATS: %q %+v", p.Payload, p.Properties)
	}
}

func TestV5RequestReplyWithNATS(t *testing.T) {
	b := start(t, server.Options{}, mqtt.Options{}, "")
	nc := servertest.Connect(t, b.s)

	// An MQTT 5 responder answers a NATS request.
	responder := b.client5(t, &paho.Connect{CleanStart: true})
	responder.sub(t, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "svc/time", QoS: 0}}})
	go func() {
		p, ok := <-responder.got
		if !ok || p.Properties == nil || p.Properties.ResponseTopic == "" {
			return
		}
		responder.c.Publish(context.Background(), &paho.Publish{Topic: p.Properties.ResponseTopic, Payload: []byte("noon"),
			Properties: &paho.PublishProperties{CorrelationData: p.Properties.CorrelationData}})
	}()
	resp, err := nc.Request("svc.time", []byte("?"), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Data) != "noon" {
		t.Fatalf("reply %q", resp.Data)
	}

	// A NATS responder answers an MQTT 5 request, correlation data kept.
	sub, err := nc.Subscribe("svc.echo", func(m *nats.Msg) {
		r := nats.NewMsg(m.Reply)
		r.Header = m.Header
		r.Data = append([]byte("echo "), m.Data...)
		m.RespondMsg(r)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	nc.Flush()
	req := b.client5(t, &paho.Connect{CleanStart: true})
	req.sub(t, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "replies/me", QoS: 1}}})
	req.pub(t, &paho.Publish{Topic: "svc/echo", QoS: 1, Payload: []byte("hi"), Properties: &paho.PublishProperties{
		ResponseTopic: "replies/me", CorrelationData: []byte{1, 2, 3},
	}})
	p := req.next(t)
	if string(p.Payload) != "echo hi" || p.Properties == nil || string(p.Properties.CorrelationData) != "\x01\x02\x03" {
		t.Fatalf("reply %q %+v", p.Payload, p.Properties)
	}
}

func TestV5SharedSubscriptions(t *testing.T) {
	b := start(t, server.Options{}, mqtt.Options{}, "")
	w1 := b.client5(t, &paho.Connect{CleanStart: true})
	w2 := b.client5(t, &paho.Connect{CleanStart: true})
	for _, w := range []*v5{w1, w2} {
		w.sub(t, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "$share/workers/jobs/+", QoS: 1}}})
	}
	// A NATS queue subscriber in the same group shares the work too.
	nc := servertest.Connect(t, b.s)
	nq := make(chan *nats.Msg, 100)
	if _, err := nc.ChanQueueSubscribe("jobs.*", "workers", nq); err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	pub := b.client5(t, &paho.Connect{CleanStart: true})
	const n = 60
	for range n {
		pub.pub(t, &paho.Publish{Topic: "jobs/x", QoS: 1, Payload: []byte("j")})
	}
	total := 0
	deadline := time.After(10 * time.Second)
	for total < n {
		select {
		case <-w1.got:
		case <-w2.got:
		case <-nq:
		case <-deadline:
			t.Fatalf("%d of %d jobs delivered", total, n)
		}
		total++
	}
	// Each job went to one member only: a marker after them comes next.
	w1.c.Unsubscribe(ctx10(t), &paho.Unsubscribe{Topics: []string{"$share/workers/jobs/+"}})
	w1.sub(t, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "jobs/end", QoS: 1}}})
	pub.pub(t, &paho.Publish{Topic: "jobs/end", QoS: 1, Payload: []byte("end")})
	if p := w1.next(t); string(p.Payload) != "end" {
		t.Fatalf("a job was delivered twice: %q", p.Payload)
	}
}

func TestV5SubscriptionOptions(t *testing.T) {
	b := start(t, server.Options{}, mqtt.Options{}, "")
	v := b.client5(t, &paho.Connect{CleanStart: true})
	id := 7
	v.sub(t, &paho.Subscribe{
		Properties:    &paho.SubscribeProperties{SubscriptionIdentifier: &id},
		Subscriptions: []paho.SubscribeOptions{{Topic: "opt/#", QoS: 1, NoLocal: true, RetainAsPublished: true}},
	})
	other := b.client5(t, &paho.Connect{CleanStart: true})

	v.pub(t, &paho.Publish{Topic: "opt/self", QoS: 1, Payload: []byte("mine")}) // no local: not echoed
	other.pub(t, &paho.Publish{Topic: "opt/x", QoS: 1, Retain: true, Payload: []byte("theirs")})
	p := v.next(t)
	if string(p.Payload) != "theirs" {
		t.Fatalf("got %q first: no-local failed", p.Payload)
	}
	if !p.Retain {
		t.Fatal("retain as published: flag lost")
	}
	if p.Properties == nil || p.Properties.SubscriptionIdentifier == nil || *p.Properties.SubscriptionIdentifier != 7 {
		t.Fatalf("subscription identifier %+v", p.Properties)
	}

	// Retain handling 2: no retained messages at subscribe.
	late := b.client5(t, &paho.Connect{CleanStart: true})
	late.sub(t, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "opt/x", QoS: 0, RetainHandling: 2}}})
	other.pub(t, &paho.Publish{Topic: "opt/x", QoS: 1, Payload: []byte("live")})
	if p := late.next(t); string(p.Payload) != "live" || p.Retain {
		t.Fatalf("retain handling 2 sent %q retain=%v", p.Payload, p.Retain)
	}
}

func TestV5SessionExpiry(t *testing.T) {
	b := start(t, server.Options{}, mqtt.Options{}, "")
	c := b.client5(t, &paho.Connect{ClientID: "exp-1", CleanStart: true, Properties: &paho.ConnectProperties{SessionExpiryInterval: u32(60)}})
	c.sub(t, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "exp/1", QoS: 1}}})
	c.c.Disconnect(&paho.Disconnect{})

	// Back within the interval: present, and the message sent meanwhile
	// arrives. The new connection shortens the interval to 1 s.
	pub := b.client5(t, &paho.Connect{CleanStart: true})
	pub.pub(t, &paho.Publish{Topic: "exp/1", QoS: 1, Payload: []byte("kept")})
	c = b.client5(t, &paho.Connect{ClientID: "exp-1", Properties: &paho.ConnectProperties{SessionExpiryInterval: u32(1)}})
	if !c.ca.SessionPresent {
		t.Fatal("session not present within its expiry")
	}
	if p := c.next(t); string(p.Payload) != "kept" {
		t.Fatalf("got %q", p.Payload)
	}
	c.c.Disconnect(&paho.Disconnect{})

	// After the interval the session is gone: its record leaves the
	// sessions stream (watched from NATS, so that no connection of the
	// client disturbs it), and the client finds no session.
	nc := servertest.Connect(t, b.s)
	js, err := njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	servertest.WaitUntil(t, "the session to expire", func() bool {
		st, err := js.Stream(context.Background(), "$MQTT_sess")
		if err != nil {
			return false
		}
		info, err := st.Info(context.Background())
		return err == nil && info.State.Msgs == 0
	})
	r := b.raw(t)
	r.v = packet.V5
	if present, _ := r.connect(&packet.Connect{ClientID: "exp-1"}); present {
		t.Fatal("the session outlived its expiry")
	}
	r.nc.Close()

	// Expiry 0 ends the session at disconnect, even when the client
	// does not start clean.
	z := b.client5(t, &paho.Connect{ClientID: "exp-0"})
	z.sub(t, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "exp/0", QoS: 1}}})
	z.c.Disconnect(&paho.Disconnect{})
	r = b.raw(t)
	r.v = packet.V5
	if present, _ := r.connect(&packet.Connect{ClientID: "exp-0"}); present {
		t.Fatal("a session with expiry 0 survived")
	}
}

func TestV5MessageExpiryAndAliases(t *testing.T) {
	b := start(t, server.Options{}, mqtt.Options{}, "")
	pub := b.client5(t, &paho.Connect{CleanStart: true})
	pub.pub(t, &paho.Publish{Topic: "ttl/short", QoS: 1, Retain: true, Payload: []byte("soon gone"), Properties: &paho.PublishProperties{MessageExpiry: u32(1)}})
	pub.pub(t, &paho.Publish{Topic: "ttl/long", QoS: 1, Retain: true, Payload: []byte("stays"), Properties: &paho.PublishProperties{MessageExpiry: u32(3600)}})
	time.Sleep(1100 * time.Millisecond) // let the short one expire (the interval is in seconds)
	s := b.client5(t, &paho.Connect{CleanStart: true})
	s.sub(t, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "ttl/#", QoS: 1}}})
	p := s.next(t)
	if string(p.Payload) != "stays" || p.Properties == nil || p.Properties.MessageExpiry == nil || *p.Properties.MessageExpiry > 3600 {
		t.Fatalf("got %q %+v", p.Payload, p.Properties)
	}

	// Topic aliases: the topic once, then the alias alone.
	r := b.raw(t)
	r.v = packet.V5
	if _, code := r.connect(&packet.Connect{ClientID: "alias", CleanStart: true}); code != 0 {
		t.Fatalf("CONNACK %x", code)
	}
	var props packet.Properties
	props.TopicAlias = 3
	props.Set(packet.PropTopicAlias)
	r.write(packet.AppendPublish(nil, r.v, &packet.Publish{Topic: []byte("ttl/alias"), Payload: []byte("a1"), Props: props}))
	r.write(packet.AppendPublish(nil, r.v, &packet.Publish{Topic: nil, Payload: []byte("a2"), Props: props}))
	for _, want := range []string{"a1", "a2"} {
		if p := s.next(t); p.Topic != "ttl/alias" || string(p.Payload) != want {
			t.Fatalf("alias: got %q on %q", p.Payload, p.Topic)
		}
	}
	// An alias beyond the maximum is a protocol error.
	props.TopicAlias = 60000
	r.write(packet.AppendPublish(nil, r.v, &packet.Publish{Topic: []byte("x"), Payload: []byte("a3"), Props: props}))
	typ, _, body := r.next()
	if typ != packet.DISCONNECT {
		t.Fatalf("got %d, want DISCONNECT", typ)
	}
	if d, err := packet.DecodeDisconnect(r.v, 0, body); err != nil || d.Reason != packet.TopicAliasInvalid {
		t.Fatalf("DISCONNECT %+v %v", d, err)
	}
}

func TestV5FlowControlAndPacketSize(t *testing.T) {
	b := start(t, server.Options{}, mqtt.Options{}, "")
	r := b.raw(t)
	r.v = packet.V5
	var cp packet.Properties
	cp.ReceiveMaximum = 2
	cp.Set(packet.PropReceiveMaximum)
	cp.MaximumPacketSize = 200
	cp.Set(packet.PropMaximumPacketSize)
	if _, code := r.connect(&packet.Connect{ClientID: "flow", CleanStart: true, Props: cp}); code != 0 {
		t.Fatalf("CONNACK %x", code)
	}
	r.write(packet.AppendSubscribe(nil, r.v, &packet.Subscribe{PacketID: 1, Filters: []packet.SubFilter{{Filter: "flow/#", QoS: 1}}}))
	if typ, _, _ := r.next(); typ != packet.SUBACK {
		t.Fatalf("got %d, want SUBACK", typ)
	}
	pub := b.client5(t, &paho.Connect{CleanStart: true})
	pub.pub(t, &paho.Publish{Topic: "flow/big", QoS: 1, Payload: make([]byte, 500)}) // larger than the client takes: dropped
	for _, m := range []string{"m1", "m2", "m3"} {
		pub.pub(t, &paho.Publish{Topic: "flow/x", QoS: 1, Payload: []byte(m)})
	}
	var pids []uint16
	for _, want := range []string{"m1", "m2"} {
		typ, flags, body := r.next()
		var p packet.Publish
		if typ != packet.PUBLISH || packet.DecodePublish(r.v, flags, body, &p) != nil || string(p.Payload) != want {
			t.Fatalf("got %d %q, want %q", typ, p.Payload, want)
		}
		pids = append(pids, p.PacketID)
	}
	// m3 waits for room: acknowledging m1 lets it through.
	r.write(packet.AppendAck(nil, r.v, packet.PUBACK, &packet.Ack{PacketID: pids[0]}))
	typ, flags, body := r.next()
	var p packet.Publish
	if typ != packet.PUBLISH || packet.DecodePublish(r.v, flags, body, &p) != nil || string(p.Payload) != "m3" {
		t.Fatalf("got %d %q, want m3", typ, p.Payload)
	}
}

func TestV5EnhancedAuthAndTakeover(t *testing.T) {
	b := start(t, server.Options{}, mqtt.Options{}, "")
	r := b.raw(t)
	r.v = packet.V5
	var cp packet.Properties
	cp.AuthMethod = "SCRAM-SHA-1"
	cp.Set(packet.PropAuthMethod)
	if _, code := r.connect(&packet.Connect{ClientID: "auth", CleanStart: true, Props: cp}); code != packet.BadAuthMethod {
		t.Fatalf("enhanced auth: CONNACK %x", code)
	}
	first := b.client5(t, &paho.Connect{ClientID: "dup", CleanStart: true})
	b.client5(t, &paho.Connect{ClientID: "dup", CleanStart: true})
	select {
	case d := <-first.dis:
		if d.ReasonCode != packet.SessionTakenOver {
			t.Fatalf("DISCONNECT reason %x", d.ReasonCode)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no DISCONNECT for the taken-over connection")
	}
}
