//go:build unix

package mqtt

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// TestLingerConnPlainTCP: a plain TCP connection served on a goroutine
// from the start (as on systems without the event loop) that closes with
// input unread lingers: its peer reads what was written (a batch, one
// writev), then the end of the stream, not a reset.
func TestLingerConnPlainTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	m := &MQTT{}
	tc := sc.(*net.TCPConn)
	nc := lingerBuffersConn{lingerConn: &lingerConn{Conn: sc, m: m}, bw: tcpBuffers{tc}}
	client.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := client.Write(make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	for i := 0; !unreadTCP(tc); i++ {
		if i == 1000 {
			t.Fatal("the client's bytes did not arrive within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 2048)
	if n, err := nc.WriteBuffers([][]byte{data[:10000], data[10000:]}); err != nil || n != int64(len(data)) {
		t.Fatalf("WriteBuffers: %d, %v", n, err)
	}
	if err := nc.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(client)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %d of %d bytes, then %v", len(got), len(data), err)
	}
	client.Close()
	m.wg.Wait() // the linger ends with the peer's close
}
