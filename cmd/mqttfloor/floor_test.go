//go:build linux

package main

import (
	"bytes"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang"
)

// startFloor serves on a free port of 127.0.0.1 until the test ends.
func startFloor(t *testing.T) string {
	t.Helper()
	lfd, addr, err := listen("127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- serve(lfd, p[0]) }()
	t.Cleanup(func() {
		syscall.Write(p[1], []byte{1})
		if err := <-done; err != nil {
			t.Error(err)
		}
		syscall.Close(p[0])
		syscall.Close(p[1])
	})
	return addr
}

// TestAnswersSplitAtEveryByte sends CONNECT, a QoS 1 PUBLISH of 128 B
// (two-byte remaining length), a QoS 0 PUBLISH, PINGREQ and DISCONNECT
// split at every byte, and checks the answers and the close.
func TestAnswersSplitAtEveryByte(t *testing.T) {
	addr := startFloor(t)
	in := []byte{0x10, 16, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 4, 't', 'e', 's', 't'}
	pub := []byte{0x32, 0x80 | (2 + 3 + 2 + 128 - 128), 1, 0, 3, 'a', '/', 'b', 0x12, 0x34}
	pub = append(pub, bytes.Repeat([]byte{'x'}, 128)...)
	in = append(in, pub...)
	in = append(in, 0x30, 5, 0, 3, 'a', '/', 'b') // QoS 0: no answer
	in = append(in, 0xc0, 0, 0xe0, 0)
	want := []byte{0x20, 2, 0, 0, 0x40, 2, 0x12, 0x34, 0xd0, 0}
	for split := 1; split < len(in); split++ {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		nc.Write(in[:split])
		time.Sleep(time.Millisecond) // let the floor read the first part alone
		nc.Write(in[split:])
		got, err := io.ReadAll(nc) // up to the floor's close
		nc.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("split %d: got %x (%v), want %x", split, got, err, want)
		}
	}
}

// TestPahoClient connects the Paho client, publishes at QoS 1 (acked) and
// disconnects.
func TestPahoClient(t *testing.T) {
	addr := startFloor(t)
	opts := mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("floor").SetAutoReconnect(false)
	c := mqtt.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	for i := range 10 {
		if tok := c.Publish("a/b", 1, false, []byte{byte(i)}); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %d: %v", i, tok.Error())
		}
	}
	c.Disconnect(100)
}

// TestListenRefusesBadAddress checks the error for an address that is
// not IPv4.
func TestListenRefusesBadAddress(t *testing.T) {
	if _, _, err := listen("not-an-ip", 0); err == nil || err.Error() != `"not-an-ip" is not an IPv4 address` {
		t.Fatalf("got %v", err)
	}
}
