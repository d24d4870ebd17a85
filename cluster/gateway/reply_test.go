package gateway_test

import (
	"testing"

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
