package gateway_test

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"natsd.dev/cluster/gateway"
	"natsd.dev/server/servertest"
)

// stuckRemote is remote cluster X, a raw TCP peer that completes the
// handshake of a1's outbound connection, asks for "foo" (RS+) and then
// reads nothing more, so that a1's writes to it pass their deadline.
func stuckRemote(t *testing.T) *url.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		t.Cleanup(func() { nc.Close() })
		// A small receive buffer fills sooner.
		_ = nc.(*net.TCPConn).SetReadBuffer(4096)
		fmt.Fprintf(nc, "INFO {\"server_id\":\"NX\",\"gateway\":\"X\",\"gateway_url\":%q,\"gateway_iom\":true,\"headers\":true,\"proto\":1}\r\n", ln.Addr().String())
		br := bufio.NewReader(nc)
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if strings.HasPrefix(l, "CONNECT ") {
				break
			}
		}
		fmt.Fprintf(nc, "RS+ $G foo\r\n")
	}()
	return &url.URL{Scheme: "nats", Host: ln.Addr().String()}
}

// TestGatewayWriteDeadline: the block's write_deadline bounds the writes
// to a gateway, and write_timeout says what a write past it does: close
// closes the connection as a slow consumer; retry (the default) reports
// the slow consumer and keeps the connection.
func TestGatewayWriteDeadline(t *testing.T) {
	for _, policy := range []string{"close", "retry"} {
		t.Run(policy, func(t *testing.T) {
			a := startNode(t, "a1", "A", gateway.Options{
				WriteDeadline: 200 * time.Millisecond,
				WriteTimeout:  policy,
				Gateways:      []gateway.RemoteGateway{{Name: "X", URLs: []*url.URL{stuckRemote(t)}}},
			})
			servertest.WaitUntil(t, "the outbound connection to X", func() bool { return len(a.gw.OutboundGateways()) == 1 })
			nc := servertest.Connect(t, a.s)
			payload := make([]byte, 64*1024)
			deadline := time.Now().Add(20 * time.Second)
			for !strings.Contains(a.log.String(), "Slow Consumer Detected: WriteDeadline of 200ms exceeded") {
				if time.Now().After(deadline) {
					t.Fatalf("no slow consumer after 20s; log:\n%s", a.log.String())
				}
				if err := nc.Publish("foo", payload); err != nil {
					t.Fatal(err)
				}
			}
			if policy == "close" {
				servertest.WaitUntil(t, "the connection to X closed", func() bool { return len(a.gw.OutboundGateways()) == 0 })
				a.log.WaitFor(t, "Gateway connection closed: Slow Consumer (Write Deadline)")
				return
			}
			if got := a.gw.OutboundGateways(); len(got) != 1 {
				t.Fatalf("retry closed the connection: %v", got)
			}
		})
	}
}
