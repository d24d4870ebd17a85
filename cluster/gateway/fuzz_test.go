package gateway_test

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"natsd.dev/cluster/gateway"
	"natsd.dev/server/servertest"
)

// TestGatewayGarbage: bytes that are no protocol on the gateway port get
// upstream's -ERR and a close; a peer that talks before CONNECT is refused;
// the server goes on serving.
func TestGatewayGarbage(t *testing.T) {
	n := startNode(t, "a1", "A", gateway.Options{})
	rc := servertest.DialRaw(t, n.gw.Addr().String())
	if l := rc.ReadLine(); !strings.HasPrefix(l, "INFO ") || !strings.Contains(l, `"gateway":"A"`) {
		t.Fatalf("first line %q", l)
	}
	rc.Send("HELLO THERE\r\n")
	rc.ReadUntil("-ERR 'Unknown Protocol Operation'")
	rc.ExpectClosed()

	rc = servertest.DialRaw(t, n.gw.Addr().String())
	rc.ReadLine()
	rc.Send("RMSG $G foo 1\r\nx\r\n")
	rc.ReadUntil("-ERR 'Authorization Violation'")
	rc.ExpectClosed()

	c := servertest.Connect(t, n.s)
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
}

// FuzzGatewayPeer sends what a remote gateway might after a valid
// handshake. Oracles: no panic, no hang of the server (it still answers
// a client), and the connection either stays or closes.
func FuzzGatewayPeer(f *testing.F) {
	for _, s := range []string{
		"RMSG $G foo 2\r\nhi\r\n",
		"RS+ $G foo\r\nRS- $G foo\r\nRS+ $G foo q 3\r\nRS- $G foo q\r\n",
		"A- $G\r\nA+ $G\r\nA- NOPE\r\n",
		"INFO {\"gateway\":\"B\",\"gateway_cmd\":2,\"gateway_cmd_payload\":\"JEc=\"}\r\nRS+ $G x\r\nINFO {\"gateway\":\"B\",\"gateway_cmd\":3,\"gateway_cmd_payload\":\"JEc=\"}\r\n",
		"INFO {\"gateway\":\"C\",\"gateway_cmd\":1,\"gateway_urls\":[\"127.0.0.1:1\"]}\r\n",
		"HMSG $G foo + reply q 6 8\r\nNATS/1.0\r\n\r\r\n",
		"PING\r\nPONG\r\n-ERR 'x'\r\n",
	} {
		f.Add(s)
	}
	n := startNode(f, "a1", "A", gateway.Options{})
	client := servertest.Connect(f, n.s)
	f.Fuzz(func(t *testing.T, data string) {
		nc, err := net.DialTimeout("tcp", n.gw.Addr().String(), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(2 * time.Second))
		br := bufio.NewReader(nc)
		if _, err := br.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		nc.Write([]byte("CONNECT {\"gateway\":\"B\",\"name\":\"NB\"}\r\nINFO {\"gateway\":\"B\",\"server_id\":\"NB\"}\r\n" + data))
		nc.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		for {
			if _, err := br.ReadString('\n'); err != nil {
				break
			}
		}
		if err := client.FlushTimeout(2 * time.Second); err != nil {
			t.Fatalf("the server stopped answering: %v", err)
		}
	})
}
