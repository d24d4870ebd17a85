package gateway_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/cluster/gateway"
	"natsd.dev/server/servertest"
)

// numSubs is the number of entries of the server's sublists, gateways'
// interest included (monitoring leaves it out, as upstream), without the
// reply mapping's own interest (_GR_.<hash>.>), which comes and goes with
// each gateway connection.
func numSubs(t testing.TB, n *node) int {
	t.Helper()
	total := 0
	for _, name := range n.s.AccountNames() {
		if acc := n.s.LookupAccount(name); acc != nil {
			total += int(acc.SublistStats().NumSubs)
		}
	}
	return total - gateway.GRSubs(n.gw)
}

// fakeRemote accepts a1's outbound connection as remote gateway X (a
// raw TCP peer) and completes the handshake.
func fakeRemote(t *testing.T) (ln net.Listener, accept func() (net.Conn, *bufio.Reader)) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, func() (net.Conn, *bufio.Reader) {
		t.Helper()
		ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
		nc, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		fmt.Fprintf(nc, "INFO {\"server_id\":\"NX\",\"gateway\":\"X\",\"gateway_url\":%q,\"gateway_iom\":true,\"headers\":true,\"proto\":1}\r\n", ln.Addr().String())
		br := bufio.NewReader(nc)
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			if strings.HasPrefix(l, "CONNECT ") {
				break
			}
		}
		// Drain what a1 sends from now on, so it never blocks on us.
		go func() {
			nc.SetReadDeadline(time.Time{})
			buf := make([]byte, 32*1024)
			for {
				if _, err := nc.Read(buf); err != nil {
					return
				}
			}
		}()
		return nc, br
	}
}

// TestGatewayInterestFlood: a remote gateway sends thousands of RS+ and
// RS- (plain and queue, repeated): the server keeps answering its
// clients, holds one entry per distinct interest whatever the repeats,
// drops what RS- lifts, and holds nothing of the peer once it closes.
func TestGatewayInterestFlood(t *testing.T) {
	ln, accept := fakeRemote(t)
	n := startNode(t, "a1", "A", gateway.Options{Gateways: []gateway.RemoteGateway{
		{Name: "X", URLs: []*url.URL{{Scheme: "nats", Host: ln.Addr().String()}}}}})
	client := servertest.Connect(t, n.s)
	if err := client.Flush(); err != nil {
		t.Fatal(err)
	}
	base := numSubs(t, n)
	nc, _ := accept()
	servertest.WaitUntil(t, "outbound to X", func() bool {
		out := n.gw.OutboundGateways()
		return len(out) == 1 && out[0] == "X"
	})
	const distinct = 3000
	send := func(format string, repeat int) {
		var b strings.Builder
		for r := 0; r < repeat; r++ {
			for i := 0; i < distinct; i++ {
				fmt.Fprintf(&b, format, i)
			}
			if _, err := nc.Write([]byte(b.String())); err != nil {
				t.Fatal(err)
			}
			b.Reset()
		}
	}
	send("RS+ $G flood.%d\r\n", 3)
	send("RS+ $G fq.%d grp 1\r\n", 1)
	servertest.WaitUntil(t, "the flood's interest", func() bool {
		return numSubs(t, n) >= base+2*distinct
	})
	if err := client.FlushTimeout(2 * time.Second); err != nil {
		t.Fatalf("the server stopped answering during the flood: %v", err)
	}
	// Repeats of a subject do not add entries: memory follows the
	// distinct interest, not the number of protocol lines.
	if got := numSubs(t, n); got > base+2*distinct {
		t.Fatalf("%d subscriptions for %d distinct interests (base %d)", got, 2*distinct, base)
	}
	send("RS- $G flood.%d\r\n", 1)
	send("RS- $G fq.%d grp\r\n", 1)
	servertest.WaitUntil(t, "RS- lifts the interest", func() bool { return numSubs(t, n) == base })
	// Again, then the peer goes: nothing of it stays.
	send("RS+ $G flood.%d\r\n", 1)
	servertest.WaitUntil(t, "the interest again", func() bool { return numSubs(t, n) >= base+distinct })
	nc.Close()
	servertest.WaitUntil(t, "the closed peer's interest gone", func() bool { return numSubs(t, n) == base })
	sub, _ := client.SubscribeSync("local")
	client.Flush()
	servertest.PublishUntil(t, client, "local", []byte("x"), sub)
}

// TestGatewayDisappearsMidRequest: the responder's cluster goes while a
// request waits for its reply: the requester gets a timeout (and no
// responders once the remote interest is gone), the server holds no
// interest of the gone gateway, and local traffic goes on.
func TestGatewayDisappearsMidRequest(t *testing.T) {
	b := startNode(t, "b1", "B", gateway.Options{})
	a := startNode(t, "a1", "A", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("B", b)}})
	waitGateways(t, a, "B")
	ca := servertest.Connect(t, a.s)
	cb := servertest.Connect(t, b.s)
	// nats.go's first request subscribes its reply inbox for good.
	if _, err := ca.Request("nobody", nil, 2*time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("request to nobody: %v", err)
	}
	base := numSubs(t, a)
	got := make(chan struct{}, 16)
	if _, err := cb.Subscribe("svc", func(*nats.Msg) { got <- struct{}{} }); err != nil {
		t.Fatal(err)
	}
	cb.Flush()
	servertest.WaitUntil(t, "B's interest at a1", func() bool { return numSubs(t, a) > base })
	done := make(chan error, 1)
	go func() {
		_, err := ca.Request("svc", []byte("q"), 2*time.Second)
		done <- err
	}()
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the request did not reach B")
	}
	// B goes before it answers.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.gw.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, nats.ErrNoResponders) {
			t.Fatalf("request: %v, want a timeout or no responders", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the request never ended")
	}
	servertest.WaitUntil(t, "B's interest gone at a1", func() bool {
		return numSubs(t, a) == base && len(a.gw.LinkStats()) == 0
	})
	_, err := ca.Request("svc", nil, 2*time.Second)
	if !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("request after B went: %v, want no responders", err)
	}
	ca.Subscribe("local.svc", func(m *nats.Msg) { m.Respond([]byte("ok")) })
	ca.Flush()
	m, err := ca.Request("local.svc", nil, 2*time.Second)
	if err != nil || string(m.Data) != "ok" {
		t.Fatalf("local request: %v", err)
	}
	if got := numSubs(t, a); got != base+1 {
		t.Fatalf("%d subscriptions, want %d: a leak", got, base+1)
	}
}
