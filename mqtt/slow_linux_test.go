//go:build linux

package mqtt_test

import (
	"bufio"
	"crypto/tls"
	"net"
	"syscall"
	"testing"
	"time"

	"natsd.dev/mqtt"
	"natsd.dev/mqtt/internal/packet"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
)

// The tests of this file are about clients that read slowly or not at
// all, on the event loop and after it (Linux: every plain TCP client is
// accepted by the loop).

// startWarmWith is startWarm with server options.
func startWarmWith(t *testing.T, so server.Options) *broker {
	t.Helper()
	b := start(t, so, mqtt.Options{}, "")
	r := b.raw(t)
	if _, code := r.connect(&packet.Connect{ClientID: "warm", CleanStart: true}); code != 0 {
		t.Fatalf("CONNACK %d", code)
	}
	r.write([]byte{packet.DISCONNECT << 4, 0})
	r.closed()
	waitServed(t, b.m, 0, 0)
	return b
}

// closedReason waits up to 10 s for the closed connection of client id
// and returns its reason.
func closedReason(t *testing.T, b *broker, id string) string {
	t.Helper()
	reason, ok := closedWithin(b, id, 10*time.Second)
	if !ok {
		t.Fatalf("client %q not closed within 10s", id)
	}
	return reason
}

// closedWithin waits up to d for the closed connection of client id and
// returns its reason; false when there is none by then.
func closedWithin(b *broker, id string, d time.Duration) (string, bool) {
	deadline := time.Now().Add(d)
	for {
		cz, err := b.s.Connz(&snapshot.ConnzOptions{State: snapshot.ConnClosed, MQTTClient: id})
		if err == nil && len(cz.Conns) > 0 {
			return cz.Conns[0].Reason, true
		}
		if time.Now().After(deadline) {
			return "", false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkSlowConsumers checks /varz's slow consumer counts.
func checkSlowConsumers(t *testing.T, b *broker, want int64) {
	t.Helper()
	vz, err := b.s.Varz(nil)
	if err != nil {
		t.Fatal(err)
	}
	if vz.SlowConsumers != want || vz.SlowConsumerStats == nil || vz.SlowConsumerStats.Clients != uint64(want) {
		t.Fatalf("slow_consumers %d, slow_consumer_stats %+v; want %d clients", vz.SlowConsumers, vz.SlowConsumerStats, want)
	}
}

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

// TestLoopFullSocketSlowConsumer: a client on the loop that sends pings
// and reads nothing fills its socket; what the socket did not take waits
// for it after the move to a goroutine, with the server's write deadline,
// and the connection is then closed as a slow consumer, counted as one.
func TestLoopFullSocketSlowConsumer(t *testing.T) {
	b := startWarmWith(t, server.Options{WriteDeadline: time.Second})
	d := net.Dialer{Control: smallRcvBuf}
	nc, err := d.Dial("tcp", b.m.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	r := &raw{tb: t, nc: nc, r: packet.NewReader(bufio.NewReader(nc), 4096), v: packet.V311}
	if _, code := r.connect(&packet.Connect{ClientID: "full", CleanStart: true}); code != 0 {
		t.Fatalf("CONNACK %d", code)
	}
	waitServed(t, b.m, 1, 1)
	start := time.Now()
	go func() {
		// Ends with an error once the server closes (or the test does).
		nc.SetWriteDeadline(time.Now().Add(20 * time.Second))
		nc.Write(pings(3_000_000))
	}()
	if reason := closedReason(t, b, "full"); reason != "Slow Consumer (Write Deadline)" {
		t.Fatalf("closed as %q after %v", reason, time.Since(start))
	}
	checkSlowConsumers(t, b, 1)
	waitServed(t, b.m, 0, 0)
}

// TestSlowReaderGetsWhatWasSent: a client that shrinks its receive
// buffer after connecting and floods the server with pings reads the
// answers more slowly than it asks for them. As upstream, it is closed as
// a slow consumer once a write waits past the write deadline, and what the
// server had sent before still reaches it: the connection ends, it is not
// reset (closing a socket with input unread sends a reset, which drops
// what the client's system holds for it). On the event loop, after it,
// and over TLS (served on a goroutine from the start).
func TestSlowReaderGetsWhatWasSent(t *testing.T) {
	for _, path := range []string{"loop", "goroutine", "tls"} {
		t.Run(path, func(t *testing.T) {
			var b *broker
			var r *raw
			switch path {
			case "tls":
				pki := servertest.NewPKI(t)
				b = start(t, server.Options{WriteDeadline: time.Second}, mqtt.Options{TLSConfig: pki.ServerConfig(false)}, "")
				r = b.rawTLS(t, pki.ClientConfig())
			default:
				b = startWarmWith(t, server.Options{WriteDeadline: time.Second})
				r = b.raw(t)
			}
			if _, code := r.connect(&packet.Connect{ClientID: "shrunk", CleanStart: true}); code != 0 {
				t.Fatalf("CONNACK %d", code)
			}
			switch path {
			case "goroutine":
				r.write(packet.AppendPublish(nil, r.v, &packet.Publish{Topic: []byte("t"), QoS: 1, PacketID: 1, Payload: []byte("x")}))
				if typ, _, _ := r.next(); typ != packet.PUBACK {
					t.Fatalf("got packet %d, want PUBACK", typ)
				}
				waitServed(t, b.m, 1, 0)
			case "tls":
				waitServed(t, b.m, 1, 0)
			default:
				waitServed(t, b.m, 1, 1)
			}
			slowReaderGetsAll(t, b, r)
		})
	}
}

// rawTLS is raw over TLS.
func (b *broker) rawTLS(tb testing.TB, cfg *tls.Config) *raw {
	tb.Helper()
	d := tls.Dialer{Config: cfg}
	nc, err := d.DialContext(tb.Context(), "tcp", b.m.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { nc.Close() })
	return &raw{tb: tb, nc: nc, r: packet.NewReader(bufio.NewReader(nc), 4096), v: packet.V311}
}

// slowReaderGetsAll shrinks the receive buffer of r's client "shrunk",
// floods the server with pings and checks that the client, closed as a
// slow consumer, still reads well past what its buffers held at the
// close.
func slowReaderGetsAll(t *testing.T, b *broker, r *raw) {
	t.Helper()
	nc := r.nc
	if w, ok := nc.(interface{ NetConn() net.Conn }); ok {
		nc = w.NetConn()
	}
	rc, err := nc.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	rc.Control(func(fd uintptr) {
		if err := syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096); err != nil {
			t.Error(err)
		}
	})
	go func() {
		r.nc.SetWriteDeadline(time.Now().Add(20 * time.Second))
		r.nc.Write(pings(3_000_000))
	}()
	closed := make(chan string, 1)
	go func() {
		reason, ok := closedWithin(b, "shrunk", 10*time.Second)
		if !ok {
			reason = "(not closed within 10s)"
		}
		closed <- reason
	}()
	// Read until the server has closed the connection, then 32 KB
	// more: twice what the client's buffers (8 KB in the system,
	// its reader's) may hold at the close, all a reset leaves it.
	const more = 16384
	after := -1 // answers still to read once closed
	for i := 0; after != 0; i++ {
		r.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		typ, _, _, err := r.r.Next()
		if err != nil || typ != packet.PINGRESP {
			if after < 0 {
				t.Fatalf("answer %d, before the server closed: type %d, %v", i, typ, err)
			}
			t.Fatalf("answer %d, %d after the server closed: type %d, %v", i, more-after, typ, err)
		}
		if after > 0 {
			after--
			continue
		}
		select {
		case reason := <-closed:
			if reason != "Slow Consumer (Write Deadline)" {
				t.Fatalf("closed as %q", reason)
			}
			after = more
		default:
		}
	}
	checkSlowConsumers(t, b, 1)
	waitServed(t, b.m, 0, 0)
}
