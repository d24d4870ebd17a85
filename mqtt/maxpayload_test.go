package mqtt_test

import (
	"testing"

	"natsd.dev/mqtt"
	"natsd.dev/server"
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
