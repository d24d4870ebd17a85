package mqtt_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"natsd.dev/mqtt"
	"natsd.dev/mqtt/internal/packet"
	"natsd.dev/server"
)

// The tests of this file go through the event loop that serves plain TCP
// clients on Linux (loop_linux.go); elsewhere they run on goroutines and
// check the same behaviour.

// waitServed waits until m serves all connections, onLoop of them on the
// event loop (onLoop < 0: any number).
func waitServed(t *testing.T, m *mqtt.MQTT, all, onLoop int) {
	t.Helper()
	if !mqtt.LoopSupported && onLoop > 0 {
		onLoop = 0
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		a, l := mqtt.Served(m)
		if a == all && (onLoop < 0 || l == onLoop) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("served %d (%d on the loop), want %d (%d)", a, l, all, onLoop)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startWarm starts a broker whose account is set up: the first client of
// an account, whose CONNECT sets up its JetStream state, goes to a
// goroutine; the later ones stay on the loop.
func startWarm(t *testing.T, o mqtt.Options) *broker {
	t.Helper()
	b := start(t, server.Options{}, o, "")
	r := b.raw(t)
	if _, code := r.connect(&packet.Connect{ClientID: "warm", CleanStart: true}); code != 0 {
		t.Fatalf("CONNACK %d", code)
	}
	r.write([]byte{packet.DISCONNECT << 4, 0})
	r.closed()
	waitServed(t, b.m, 0, 0)
	return b
}

func TestLoopManyClients(t *testing.T) {
	b := startWarm(t, mqtt.Options{})
	const n = 100
	clients := make([]*raw, n)
	for i := range clients {
		clients[i] = b.raw(t)
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i, r := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.write(packet.AppendConnect(nil, &packet.Connect{ProtoName: "MQTT", Version: packet.V311, ClientID: fmt.Sprintf("many-%d", i), CleanStart: true, KeepAlive: 30}))
			r.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
			if typ, _, body, err := r.r.Next(); err != nil || typ != packet.CONNACK || len(body) != 2 || body[1] != 0 {
				errs <- fmt.Errorf("client %d: CONNACK %d %x %v", i, typ, body, err)
				return
			}
			r.write(packet.AppendPingreq(nil))
			if typ, _, _, err := r.r.Next(); err != nil || typ != packet.PINGRESP {
				errs <- fmt.Errorf("client %d: PINGRESP %d %v", i, typ, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	waitServed(t, b.m, n, n)
	for _, r := range clients {
		r.write([]byte{packet.DISCONNECT << 4, 0})
	}
	for _, r := range clients {
		r.closed()
	}
	waitServed(t, b.m, 0, 0)
}

// TestLoopSplitPackets sends a client's packets in two writes split at
// every byte, then one byte per write: the loop keeps the partial packet
// and answers once it is whole, also across the move to a goroutine that
// the PUBLISH causes.
func TestLoopSplitPackets(t *testing.T) {
	b := startWarm(t, mqtt.Options{})
	var stream []byte
	stream = packet.AppendConnect(stream, &packet.Connect{ProtoName: "MQTT", Version: packet.V311, ClientID: "split", CleanStart: true, KeepAlive: 30})
	stream = packet.AppendPingreq(stream)
	stream = packet.AppendPublish(stream, packet.V311, &packet.Publish{Topic: []byte("split/t"), QoS: 1, PacketID: 7, Payload: []byte("hello")})
	stream = packet.AppendPingreq(stream)
	stream = append(stream, packet.DISCONNECT<<4, 0)
	check := func(t *testing.T, r *raw) {
		t.Helper()
		want := []byte{packet.CONNACK, packet.PINGRESP, packet.PUBACK, packet.PINGRESP}
		for _, w := range want {
			typ, _, body := r.next()
			if typ != w {
				t.Fatalf("got packet %d, want %d", typ, w)
			}
			if typ == packet.PUBACK && (len(body) != 2 || body[1] != 7) {
				t.Fatalf("PUBACK %x", body)
			}
		}
		r.closed()
	}
	for k := 1; k < len(stream); k++ {
		t.Run(fmt.Sprint("at", k), func(t *testing.T) {
			r := b.raw(t)
			r.write(stream[:k])
			time.Sleep(time.Millisecond) // most often read apart
			r.write(stream[k:])
			check(t, r)
		})
	}
	t.Run("bytewise", func(t *testing.T) {
		r := b.raw(t)
		for i := range stream {
			r.write(stream[i : i+1])
			time.Sleep(100 * time.Microsecond)
		}
		check(t, r)
	})
	waitServed(t, b.m, 0, 0)
}

// TestLoopSlowReader: a client that sends many PINGREQs and reads no
// PINGRESP fills its socket; the server keeps what the socket does not
// take, moves the connection off the loop, and every answer arrives once
// the client reads.
func TestLoopSlowReader(t *testing.T) {
	b := startWarm(t, mqtt.Options{})
	// A small receive buffer, set before the handshake.
	d := net.Dialer{Control: smallRcvBuf}
	nc, err := d.Dial("tcp", b.m.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	r := &raw{tb: t, nc: nc, r: packet.NewReader(bufio.NewReader(nc), 4096), v: packet.V311}
	if _, code := r.connect(&packet.Connect{ClientID: "slow", CleanStart: true}); code != 0 {
		t.Fatalf("CONNACK %d", code)
	}
	waitServed(t, b.m, 1, 1)
	const n = 3_000_000 // 6 MB of answers: more than the largest send buffer (tcp_wmem)
	pings := make([]byte, 0, 2*n)
	for range n {
		pings = packet.AppendPingreq(pings)
	}
	werr := make(chan error, 1)
	go func() {
		nc.SetWriteDeadline(time.Now().Add(20 * time.Second))
		_, err := nc.Write(pings)
		werr <- err
	}()
	// The connection leaves the loop once its socket is full.
	waitServed(t, b.m, 1, 0)
	nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	for i := range n {
		typ, _, _, err := r.r.Next()
		if err != nil || typ != packet.PINGRESP {
			t.Fatalf("answer %d: type %d, %v", i, typ, err)
		}
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	r.write([]byte{packet.DISCONNECT << 4, 0})
	r.closed()
	waitServed(t, b.m, 0, 0)
}

// TestLoopCloseMidPacket: a client that goes away in the middle of a
// packet, before or after its CONNECT, is let go.
func TestLoopCloseMidPacket(t *testing.T) {
	b := startWarm(t, mqtt.Options{})
	connect := packet.AppendConnect(nil, &packet.Connect{ProtoName: "MQTT", Version: packet.V311, ClientID: "mid", CleanStart: true})
	r := b.raw(t)
	r.write(connect[:len(connect)/2])
	waitServed(t, b.m, 1, 1)
	r.nc.Close()
	waitServed(t, b.m, 0, 0)

	r = b.raw(t)
	if _, code := r.connect(&packet.Connect{ClientID: "mid", CleanStart: true}); code != 0 {
		t.Fatalf("CONNACK %d", code)
	}
	pub := packet.AppendPublish(nil, packet.V311, &packet.Publish{Topic: []byte("mid"), Payload: []byte("payload")})
	r.write(pub[:3])
	waitServed(t, b.m, 1, 1)
	r.nc.Close()
	waitServed(t, b.m, 0, 0)
	// The client id is free again: a new connection is no takeover.
	r = b.raw(t)
	if present, code := r.connect(&packet.Connect{ClientID: "mid", CleanStart: true}); code != 0 || present {
		t.Fatalf("CONNACK %d present %v", code, present)
	}
	waitServed(t, b.m, 1, 1)
}

// TestLoopConnectTimeout: a connection that sends no CONNECT within the
// authentication timeout is closed.
func TestLoopConnectTimeout(t *testing.T) {
	b := startWarm(t, mqtt.Options{AuthTimeout: 0.5})
	r := b.raw(t)
	waitServed(t, b.m, 1, 1)
	start := time.Now()
	r.closed()
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("closed after %v, before the timeout", d)
	}
	waitServed(t, b.m, 0, 0)
}

// TestLoopTakeover: a second connection with the same client id takes a
// loop-served one over; an MQTT 5 client is told why.
func TestLoopTakeover(t *testing.T) {
	b := startWarm(t, mqtt.Options{})
	first := b.raw(t)
	first.v = packet.V5
	if _, code := first.connect(&packet.Connect{ClientID: "twice", CleanStart: true, KeepAlive: 30}); code != 0 {
		t.Fatalf("CONNACK %d", code)
	}
	waitServed(t, b.m, 1, 1)
	second := b.raw(t)
	second.v = packet.V5
	if present, code := second.connect(&packet.Connect{ClientID: "twice", CleanStart: true, KeepAlive: 30}); code != 0 || present {
		t.Fatalf("CONNACK %d present %v", code, present)
	}
	typ, _, body := first.next()
	if typ != packet.DISCONNECT || len(body) == 0 || body[0] != packet.SessionTakenOver {
		t.Fatalf("first connection got %d %x, want DISCONNECT 0x8E", typ, body)
	}
	first.closed()
	second.write(packet.AppendPingreq(nil))
	if typ, _, _ := second.next(); typ != packet.PINGRESP {
		t.Fatalf("got %d, want PINGRESP", typ)
	}
	waitServed(t, b.m, 1, -1)
}

// TestLoopShutdown: the shutdown ends loop-served clients (an MQTT 5 one
// hears why) and waits for them.
func TestLoopShutdown(t *testing.T) {
	b := startWarm(t, mqtt.Options{})
	var rs []*raw
	for i := range 20 {
		r := b.raw(t)
		if i%2 == 0 {
			r.v = packet.V5
		}
		if _, code := r.connect(&packet.Connect{ClientID: fmt.Sprint("down-", i), CleanStart: true}); code != 0 {
			t.Fatalf("CONNACK %d", code)
		}
		rs = append(rs, r)
	}
	pending := b.raw(t) // no CONNECT yet
	waitServed(t, b.m, 21, 21)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.m.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.v == packet.V5 {
			typ, _, body := r.next()
			if typ != packet.DISCONNECT || len(body) == 0 || body[0] != packet.ServerShuttingDown {
				t.Fatalf("got %d %x, want DISCONNECT 0x8B", typ, body)
			}
		}
		r.closed()
	}
	pending.closed()
	if _, err := net.DialTimeout("tcp", b.m.Addr().String(), time.Second); err == nil {
		t.Fatal("the listener still accepts")
	} else if errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
}
