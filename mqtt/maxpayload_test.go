package mqtt_test

import (
	"fmt"
	"testing"

	"natsd.dev/mqtt"
	"natsd.dev/mqtt/internal/packet"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// TestSmallMaxPayload: a server max_payload smaller than the JetStream
// requests the MQTT front end makes for an account (stream and consumer
// configurations) limits clients only: a client connects, and QoS 1 and
// QoS 2 messages within the limit go through the streams to a subscriber.
func TestSmallMaxPayload(t *testing.T) {
	b := start(t, server.Options{MaxPayload: 100}, mqtt.Options{}, "")
	sub := b.client(t, "")
	got := make(received, 10)
	wait(t, sub.Subscribe("small/+", 2, got.handler))
	pub := b.client(t, "")
	for _, qos := range []byte{1, 2} {
		wait(t, pub.Publish("small/x", qos, false, "fits"))
		if m := got.next(t); string(m.Payload()) != "fits" || m.Qos() != qos {
			t.Fatalf("got %q at QoS %d, want QoS %d", m.Payload(), m.Qos(), qos)
		}
	}
}

// TestOverMaxPayloadCloses: a PUBLISH whose message (the MQTT headers
// the server adds included) is over max_payload closes the connection,
// as upstream closes its MQTT clients, with the reason "Maximum Message
// Payload Exceeded" in /connz; an MQTT 5 client first gets a DISCONNECT
// with Packet too large. Neither gets a PUBACK that would tell it the
// message was taken.
func TestOverMaxPayloadCloses(t *testing.T) {
	for _, v := range []byte{packet.V311, packet.V5} {
		for _, qos := range []byte{0, 1} {
			t.Run(fmt.Sprintf("v%d-qos%d", v, qos), func(t *testing.T) {
				b := start(t, server.Options{MaxPayload: 100}, mqtt.Options{}, "")
				r := b.raw(t)
				if _, code := r.connect(&packet.Connect{ClientID: "big", CleanStart: true, Version: v}); code != 0 {
					t.Fatalf("CONNACK %d", code)
				}
				r.write(packet.AppendPublish(nil, v, &packet.Publish{Topic: []byte("big/one"), QoS: qos, PacketID: 1, Payload: make([]byte, 101)}))
				if v == packet.V5 {
					typ, flags, body := r.next()
					if typ != packet.DISCONNECT {
						t.Fatalf("got packet %d %x, want DISCONNECT", typ, body)
					}
					if d, err := packet.DecodeDisconnect(v, flags, body); err != nil || d.Reason != packet.PacketTooLarge {
						t.Fatalf("DISCONNECT %x: %v, want reason 0x95", body, err)
					}
				}
				r.closed()
				if got := servertest.ClosedReason(t, b.s); got != "Maximum Message Payload Exceeded" {
					t.Fatalf("closed as %q", got)
				}
			})
		}
	}
}
