package mqtt_test

import (
	"testing"
	"time"

	"natsd.dev/mqtt"
	"natsd.dev/mqtt/internal/packet"
	"natsd.dev/server"
)

// TestRedeliveryOrderAndOnce: a persistent session's QoS 1 and 2
// messages, unacknowledged when the connection drops, are sent again on
// the next connection in their first order [MQTT-4.6.0-1], each once (the
// session and its consumer both know them); once acknowledged they do
// not come back. Repeated: the consumer's push and the session's resend
// race.
func TestRedeliveryOrderAndOnce(t *testing.T) {
	b := start(t, server.Options{}, mqtt.Options{}, "")
	for i := range 10 {
		id := "rd-" + string(rune('a'+i))
		r := b.raw(t)
		r.connect(&packet.Connect{ClientID: id})
		r.write(packet.AppendSubscribe(nil, r.v, &packet.Subscribe{PacketID: 1, Filters: []packet.SubFilter{{Filter: id + "/#", QoS: 2}}}))
		r.next()
		pub := b.raw(t)
		pub.connect(&packet.Connect{ClientID: id + "p", CleanStart: true})
		pub.write(packet.AppendPublish(nil, pub.v, &packet.Publish{Topic: []byte(id + "/q1"), QoS: 1, PacketID: 1, Payload: []byte("one")}))
		pub.next()
		pub.write(packet.AppendPublish(nil, pub.v, &packet.Publish{Topic: []byte(id + "/q2"), QoS: 2, PacketID: 2, Payload: []byte("two")}))
		pub.next()
		pub.write(packet.AppendAck(nil, pub.v, packet.PUBREL, &packet.Ack{PacketID: 2}))
		pub.next()
		for range 2 {
			r.next()
		}
		r.nc.Close()
		r = b.raw(t)
		r.connect(&packet.Connect{ClientID: id})
		var again []packet.Publish
		for range 2 {
			typ, flags, body := r.next()
			var p packet.Publish
			if typ != packet.PUBLISH || packet.DecodePublish(r.v, flags, body, &p) != nil || !p.Dup {
				t.Fatalf("%d: second: %d %+v", i, typ, p)
			}
			again = append(again, p)
		}
		if string(again[0].Payload) != "one" {
			t.Fatalf("%d: sent again out of order: %q first", i, again[0].Payload)
		}
		for _, p := range again {
			if p.QoS == 1 {
				r.write(packet.AppendAck(nil, r.v, packet.PUBACK, &packet.Ack{PacketID: p.PacketID}))
			} else {
				r.write(packet.AppendAck(nil, r.v, packet.PUBREC, &packet.Ack{PacketID: p.PacketID}))
				if typ, _, _ := r.next(); typ != packet.PUBREL {
					t.Fatalf("%d: want PUBREL got %d", i, typ)
				}
				r.write(packet.AppendAck(nil, r.v, packet.PUBCOMP, &packet.Ack{PacketID: p.PacketID}))
			}
		}
		r.write(packet.AppendDisconnect(nil, r.v, &packet.Disconnect{}))
		r.closed()
		r = b.raw(t)
		r.connect(&packet.Connect{ClientID: id})
		pub.write(packet.AppendPublish(nil, pub.v, &packet.Publish{Topic: []byte(id + "/marker"), QoS: 1, PacketID: 3, Payload: []byte("marker")}))
		typ, flags, body := r.next()
		var p packet.Publish
		if typ != packet.PUBLISH || packet.DecodePublish(r.v, flags, body, &p) != nil || string(p.Payload) != "marker" {
			t.Fatalf("%d: third: %d %q dup=%v qos=%d", i, typ, p.Payload, p.Dup, p.QoS)
		}
		r.nc.Close()
		pub.nc.Close()
	}
}

// TestSlowPersistentClientDoesNotHoldOthers: stored messages of every
// persistent session of an account are pushed on one goroutine; a client
// that stops reading must not hold another client's deliveries (they are
// queued for each connection's writer, not written on that goroutine).
func TestSlowPersistentClientDoesNotHoldOthers(t *testing.T) {
	b := start(t, server.Options{}, mqtt.Options{}, "")
	slow := b.raw(t)
	if _, code := slow.connect(&packet.Connect{ClientID: "slow"}); code != 0 {
		t.Fatalf("CONNACK %d", code)
	}
	slow.write(packet.AppendSubscribe(nil, slow.v, &packet.Subscribe{PacketID: 1, Filters: []packet.SubFilter{{Filter: "slow/#", QoS: 1}}}))
	if typ, _, _ := slow.next(); typ != packet.SUBACK {
		t.Fatalf("got %d, want SUBACK", typ)
	}
	fast := b.raw(t)
	if _, code := fast.connect(&packet.Connect{ClientID: "fast"}); code != 0 {
		t.Fatalf("CONNACK %d", code)
	}
	fast.write(packet.AppendSubscribe(nil, fast.v, &packet.Subscribe{PacketID: 1, Filters: []packet.SubFilter{{Filter: "fast/#", QoS: 1}}}))
	if typ, _, _ := fast.next(); typ != packet.SUBACK {
		t.Fatalf("got %d, want SUBACK", typ)
	}
	// The slow client reads nothing from now on: 16 MiB for it fill its
	// socket's buffers.
	pub := b.raw(t)
	if _, code := pub.connect(&packet.Connect{ClientID: "pub", CleanStart: true}); code != 0 {
		t.Fatalf("CONNACK %d", code)
	}
	big := make([]byte, 64<<10)
	for i := range 256 {
		pub.write(packet.AppendPublish(nil, pub.v, &packet.Publish{Topic: []byte("slow/x"), QoS: 1, PacketID: uint16(i + 1), Payload: big}))
		if typ, _, _ := pub.next(); typ != packet.PUBACK {
			t.Fatalf("got %d, want PUBACK", typ)
		}
	}
	pub.write(packet.AppendPublish(nil, pub.v, &packet.Publish{Topic: []byte("fast/x"), QoS: 1, PacketID: 999, Payload: []byte("go")}))
	fast.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	typ, flags, body, err := fast.r.Next()
	if err != nil {
		t.Fatalf("the fast client got nothing while the slow one was stuck: %v", err)
	}
	var p packet.Publish
	if typ != packet.PUBLISH || packet.DecodePublish(fast.v, flags, body, &p) != nil || string(p.Payload) != "go" {
		t.Fatalf("got %d %q", typ, p.Payload)
	}
}

// TestInFlightAfterCleanRestart: a stored message sent to a client that
// never acknowledged it is sent again as soon as the client comes back
// after a clean restart, not after the consumer's ack wait (30 s).
func TestInFlightAfterCleanRestart(t *testing.T) {
	b := start(t, server.Options{}, mqtt.Options{}, "")
	r := b.raw(t)
	if _, code := r.connect(&packet.Connect{ClientID: "inflight"}); code != 0 {
		t.Fatalf("CONNACK %d", code)
	}
	r.write(packet.AppendSubscribe(nil, r.v, &packet.Subscribe{PacketID: 1, Filters: []packet.SubFilter{{Filter: "inflight/#", QoS: 1}}}))
	if typ, _, _ := r.next(); typ != packet.SUBACK {
		t.Fatalf("got %d, want SUBACK", typ)
	}
	pub := b.raw(t)
	if _, code := pub.connect(&packet.Connect{ClientID: "inflight-pub", CleanStart: true}); code != 0 {
		t.Fatalf("CONNACK %d", code)
	}
	pub.write(packet.AppendPublish(nil, pub.v, &packet.Publish{Topic: []byte("inflight/x"), QoS: 1, PacketID: 1, Payload: []byte("unacked")}))
	if typ, _, _ := pub.next(); typ != packet.PUBACK {
		t.Fatalf("got %d, want PUBACK", typ)
	}
	if typ, _, _ := r.next(); typ != packet.PUBLISH {
		t.Fatalf("got %d, want PUBLISH", typ)
	}
	r.nc.Close() // no PUBACK
	b.stop(t)
	b = start(t, server.Options{}, mqtt.Options{}, b.dir)
	r = b.raw(t)
	if present, code := r.connect(&packet.Connect{ClientID: "inflight"}); code != 0 || !present {
		t.Fatalf("CONNACK %d present %v", code, present)
	}
	r.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	typ, flags, body, err := r.r.Next()
	var p packet.Publish
	if err != nil || typ != packet.PUBLISH || packet.DecodePublish(r.v, flags, body, &p) != nil || string(p.Payload) != "unacked" || !p.Dup {
		t.Fatalf("after the restart: %v %d %q dup=%v", err, typ, p.Payload, p.Dup)
	}
}
