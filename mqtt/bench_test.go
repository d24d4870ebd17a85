package mqtt_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"natsd.dev/mqtt"
	"natsd.dev/mqtt/internal/packet"
	"natsd.dev/server"
)

// BenchmarkConnect is one MQTT 3.1.1 client's life: TCP connect, CONNECT,
// CONNACK, DISCONNECT, and the server closing the connection.
func BenchmarkConnect(b *testing.B) {
	br := start(b, server.Options{}, mqtt.Options{}, "")
	addr := br.m.Addr().String()
	buf := make([]byte, 64)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		nc.Write(packet.AppendConnect(nil, &packet.Connect{ProtoName: "MQTT", Version: packet.V311, CleanStart: true, ClientID: "bench-" + strconv.Itoa(i)}))
		if n, err := nc.Read(buf); err != nil || n < 4 || buf[0] != packet.CONNACK<<4 || buf[3] != 0 {
			b.Fatalf("CONNACK %x %v", buf[:n], err)
		}
		nc.Write(packet.AppendDisconnect(nil, packet.V311, &packet.Disconnect{}))
		if _, err := nc.Read(buf); err == nil {
			b.Fatal("not closed")
		}
		nc.(*net.TCPConn).SetLinger(0)
		nc.Close()
	}
}

// BenchmarkConnectParallel is mqttbench's connect-rate in process: 4
// workers each loop over a client's life (TCP connect, CONNECT with a new
// client id and a clean session, CONNACK, DISCONNECT, the server's close).
// Besides ns/op it reports cpu-ns/op, the process's CPU time (client and
// server) per cycle, which a shared machine disturbs less than wall time.
func BenchmarkConnectParallel(b *testing.B) {
	br := start(b, server.Options{}, mqtt.Options{}, "")
	addr := br.m.Addr().String()
	const workers = 4
	var next atomic.Int64
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 64)
			var pkt []byte
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				nc, err := net.Dial("tcp", addr)
				if err != nil {
					errs <- err
					return
				}
				nc.SetDeadline(time.Now().Add(10 * time.Second))
				pkt = packet.AppendConnect(pkt[:0], &packet.Connect{ProtoName: "MQTT", Version: packet.V311, CleanStart: true, ClientID: "bench-" + strconv.FormatInt(i, 10)})
				nc.Write(pkt)
				if n, err := io.ReadAtLeast(nc, buf, 4); err != nil || buf[0] != packet.CONNACK<<4 || buf[3] != 0 {
					errs <- fmt.Errorf("CONNACK %x %v", buf[:n], err)
					nc.Close()
					return
				}
				nc.Write(packet.AppendDisconnect(pkt[:0], packet.V311, &packet.Disconnect{}))
				if _, err := nc.Read(buf); err != io.EOF {
					errs <- fmt.Errorf("not closed: %v", err)
					nc.Close()
					return
				}
				nc.(*net.TCPConn).SetLinger(0)
				nc.Close()
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkQoS1RoundTrip is a QoS 1 PUBLISH answered by its PUBACK, one at
// a time, with nobody subscribed.
func BenchmarkQoS1RoundTrip(b *testing.B) {
	br := start(b, server.Options{}, mqtt.Options{}, "")
	r := br.raw(b)
	if _, code := r.connect(&packet.Connect{ClientID: "rtt", CleanStart: true}); code != 0 {
		b.Fatalf("CONNACK %d", code)
	}
	payload := make([]byte, 128)
	var pkt []byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		pid := uint16(i%65535 + 1)
		pkt = packet.AppendPublish(pkt[:0], packet.V311, &packet.Publish{Topic: []byte("bench/rtt"), QoS: 1, PacketID: pid, Payload: payload})
		r.nc.Write(pkt)
		typ, _, body, err := r.r.Next()
		if err != nil || typ != packet.PUBACK || uint16(body[0])<<8|uint16(body[1]) != pid {
			b.Fatalf("got %d %x %v", typ, body, err)
		}
	}
}

// BenchmarkQoS0PubSub streams QoS 0 publishes of 128 B from one client to
// another; b.N messages delivered.
func BenchmarkQoS0PubSub(b *testing.B) {
	br := start(b, server.Options{}, mqtt.Options{}, "")
	sub := br.raw(b)
	if _, code := sub.connect(&packet.Connect{ClientID: "sub", CleanStart: true}); code != 0 {
		b.Fatalf("CONNACK %d", code)
	}
	sub.write(packet.AppendSubscribe(nil, sub.v, &packet.Subscribe{PacketID: 1, Filters: []packet.SubFilter{{Filter: "bench/q0", QoS: 0}}}))
	if typ, _, _ := sub.next(); typ != packet.SUBACK {
		b.Fatalf("got %d", typ)
	}
	pub := br.raw(b)
	if _, code := pub.connect(&packet.Connect{ClientID: "pub", CleanStart: true}); code != 0 {
		b.Fatalf("CONNACK %d", code)
	}
	one := packet.AppendPublish(nil, packet.V311, &packet.Publish{Topic: []byte("bench/q0"), Payload: make([]byte, 128)})
	batch := make([]byte, 0, 64<<10)
	for len(batch)+len(one) <= cap(batch) {
		batch = append(batch, one...)
	}
	perBatch := len(batch) / len(one)
	done := make(chan error, 1)
	b.ReportAllocs()
	b.SetBytes(128)
	b.ResetTimer()
	go func() {
		r := packet.NewReader(bufio.NewReaderSize(sub.nc, 64<<10), 64<<10)
		sub.nc.SetReadDeadline(time.Now().Add(time.Minute))
		for range b.N {
			if _, _, _, err := r.Next(); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for sent := 0; sent < b.N; sent += perBatch {
		n := min(perBatch, b.N-sent)
		pub.write(batch[:n*len(one)])
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkQoS1Persistent streams QoS 1 publishes of 128 B, 100 in flight,
// to a persistent session's QoS 1 subscription: every message is stored
// durably (fsync shared by the messages in flight) before its PUBACK and
// delivered through the session's consumer; the subscriber acknowledges
// each one.
func BenchmarkQoS1Persistent(b *testing.B) {
	br := start(b, server.Options{}, mqtt.Options{}, "")
	sub := br.raw(b)
	if _, code := sub.connect(&packet.Connect{ClientID: "psub"}); code != 0 {
		b.Fatalf("CONNACK %d", code)
	}
	sub.write(packet.AppendSubscribe(nil, sub.v, &packet.Subscribe{PacketID: 1, Filters: []packet.SubFilter{{Filter: "bench/p", QoS: 1}}}))
	if typ, _, _ := sub.next(); typ != packet.SUBACK {
		b.Fatalf("got %d", typ)
	}
	pub := br.raw(b)
	if _, code := pub.connect(&packet.Connect{ClientID: "ppub", CleanStart: true}); code != 0 {
		b.Fatalf("CONNACK %d", code)
	}
	payload := make([]byte, 128)
	done := make(chan error, 1)
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		r := packet.NewReader(bufio.NewReaderSize(sub.nc, 64<<10), 64<<10)
		sub.nc.SetReadDeadline(time.Now().Add(5 * time.Minute))
		var p packet.Publish
		var acks []byte
		for got := 0; got < b.N; {
			typ, flags, body, err := r.Next()
			if err != nil {
				done <- err
				return
			}
			if typ != packet.PUBLISH || packet.DecodePublish(packet.V311, flags, body, &p) != nil {
				continue
			}
			if !p.Dup {
				got++
			}
			acks = packet.AppendAck(acks, packet.V311, packet.PUBACK, &packet.Ack{PacketID: p.PacketID})
			if !r.Buffered() || got == b.N {
				sub.nc.Write(acks)
				acks = acks[:0]
			}
		}
		done <- nil
	}()
	const window = 100
	var out []byte
	inflight, sent := 0, 0
	pr := packet.NewReader(bufio.NewReaderSize(pub.nc, 64<<10), 64<<10)
	pub.nc.SetReadDeadline(time.Now().Add(5 * time.Minute))
	for acked := 0; acked < b.N; {
		for inflight < window && sent < b.N {
			sent++
			inflight++
			out = packet.AppendPublish(out, packet.V311, &packet.Publish{Topic: []byte("bench/p"), QoS: 1, PacketID: uint16(sent%65535 + 1), Payload: payload})
		}
		if len(out) > 0 {
			pub.nc.Write(out)
			out = out[:0]
		}
		typ, _, _, err := pr.Next()
		if err != nil {
			b.Fatal(err)
		}
		if typ == packet.PUBACK {
			acked++
			inflight--
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
