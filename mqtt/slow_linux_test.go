//go:build linux

package mqtt_test

import (
	"testing"
	"time"

	"natsd.dev/mqtt"
	"natsd.dev/mqtt/internal/packet"
)

// The tests of this file are about clients that read slowly or not at
// all, on the event loop and after it (Linux: every plain TCP client is
// accepted by the loop).

// pings is n PINGREQ packets.
func pings(n int) []byte {
	b := make([]byte, 0, 2*n)
	for range n {
		b = packet.AppendPingreq(b)
	}
	return b
}

// TestLoopBufferedPackets: packets that arrived together, more than the
// loop handles for a connection in one round, are all answered although
// the socket has nothing more to report.
func TestLoopBufferedPackets(t *testing.T) {
	b := startWarm(t, mqtt.Options{})
	r := b.raw(t)
	if _, code := r.connect(&packet.Connect{ClientID: "burst", CleanStart: true}); code != 0 {
		t.Fatalf("CONNACK %d", code)
	}
	waitServed(t, b.m, 1, 1)
	const n = 1000
	r.write(pings(n))
	for i := range n {
		r.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		typ, _, _, err := r.r.Next()
		if err != nil || typ != packet.PINGRESP {
			t.Fatalf("answer %d of %d: type %d, %v", i, n, typ, err)
		}
	}
	waitServed(t, b.m, 1, 1) // pings keep it on the loop
	r.write([]byte{packet.DISCONNECT << 4, 0})
	r.closed()
	waitServed(t, b.m, 0, 0)
}
