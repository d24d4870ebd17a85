package gateway_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/cluster/gateway"
	"natsd.dev/server/servertest"
)

// TestGatewayReplyMapped: a request leaving A carries its reply as
// _GR_.<hash of A>.<hash of a1's ID>.<reply>, and the answer on that
// subject reaches the requester with the original reply subject.
func TestGatewayReplyMapped(t *testing.T) {
	b := startNode(t, "b1", "B", gateway.Options{})
	a := startNode(t, "a1", "A", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("B", b)}})
	waitGateways(t, a, "B")
	waitGateways(t, b, "A")
	ca := servertest.Connect(t, a.s)
	cb := servertest.Connect(t, b.s)
	svc, _ := cb.SubscribeSync("svc")
	cb.Flush()
	replies, _ := ca.SubscribeSync("my.reply")
	ca.Flush()
	servertest.PublishUntil(t, ca, "svc", []byte("w"), svc)
	if err := ca.PublishRequest("svc", "my.reply", []byte("q")); err != nil {
		t.Fatal(err)
	}
	var req *nats.Msg
	for req == nil || string(req.Data) != "q" {
		req = servertest.NextMsg(t, svc)
	}
	want := "_GR_." + gateway.GRHash("A") + "." + gateway.GRHash(a.s.ID()) + ".my.reply"
	if req.Reply != want {
		t.Fatalf("reply %q, want %q", req.Reply, want)
	}
	if err := req.Respond([]byte("a")); err != nil {
		t.Fatal(err)
	}
	if got := servertest.NextMsg(t, replies); got.Subject != "my.reply" || string(got.Data) != "a" {
		t.Fatalf("got %q on %q", got.Data, got.Subject)
	}
	// A reply mapped by another cluster is dropped, as upstream does.
	other := "_GR_." + gateway.GRHash("C") + "." + gateway.GRHash(a.s.ID()) + ".my.reply"
	cb.Publish(other, []byte("x"))
	cb.Publish(want, []byte("b"))
	if got := servertest.NextMsg(t, replies); string(got.Data) != "b" {
		t.Fatalf("got %q", got.Data)
	}
}

// TestGatewayReplyToOtherServer: the requester is on a2, the responder's
// cluster reaches A through a1 only, and every request uses a fresh
// inbox answered at once: the reply goes from a1 to a2 over the route
// whatever interest in the inbox a1 has heard of.
func TestGatewayReplyToOtherServer(t *testing.T) {
	a1 := startNode(t, "a1", "A", gateway.Options{})
	b := startNode(t, "b1", "B", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("A", a1)}})
	waitGateways(t, b, "A")
	waitGateways(t, a1, "B")
	a2 := startNode(t, "a2", "A", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("B", b)}}, a1)
	servertest.WaitUntil(t, "a2's outbound connection to B", func() bool { return len(a2.gw.OutboundGateways()) == 1 })
	cb := servertest.Connect(t, b.s)
	cb.Subscribe("svc", func(m *nats.Msg) { m.Respond(append([]byte("re: "), m.Data...)) })
	cb.Flush()
	ca2 := servertest.Connect(t, a2.s)
	servertest.WaitUntil(t, "svc's interest at a2", func() bool {
		_, err := ca2.Request("svc", nil, 200*time.Millisecond)
		return err == nil
	})
	for i := range 20 {
		inbox := nats.NewInbox()
		sub, err := ca2.SubscribeSync(inbox)
		if err != nil {
			t.Fatal(err)
		}
		if err := ca2.PublishRequest("svc", inbox, []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		if m := servertest.NextMsg(t, sub); string(m.Data) != fmt.Sprintf("re: %d", i) {
			t.Fatalf("got %q", m.Data)
		}
		sub.Unsubscribe()
	}
}
