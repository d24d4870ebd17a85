package gateway_test

import (
	"strings"
	"testing"

	"natsd.dev/cluster/gateway"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
)

// TestGatewayInterestNotInSubsz: as upstream, neither the reply
// mapping's _GR_. interest nor the interest a remote cluster sent (RS+)
// shows in /subsz or in the account's subscription count; a local
// subscription does.
func TestGatewayInterestNotInSubsz(t *testing.T) {
	b := startNode(t, "b1", "B", gateway.Options{})
	a := startNode(t, "a1", "A", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("B", b)}})
	waitGateways(t, a, "B")
	waitGateways(t, b, "A")
	ca := servertest.Connect(t, a.s)
	cb := servertest.Connect(t, b.s)
	base := a.s.GlobalAccount().NumSubscriptions()
	subB, _ := cb.SubscribeSync("remote.only")
	cb.Flush()
	// B's interest has reached A once a message crosses.
	servertest.PublishUntil(t, ca, "remote.only", []byte("x"), subB)
	ca.SubscribeSync("local.only")
	ca.Flush()
	sz, err := a.s.Subsz(&snapshot.SubszOptions{Subscriptions: true, Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	local := false
	for _, sd := range sz.Subs {
		if strings.HasPrefix(sd.Subject, "_GR_.") || sd.Subject == "remote.only" {
			t.Fatalf("/subsz lists gateway interest: %+v", sd)
		}
		local = local || sd.Subject == "local.only"
	}
	if !local {
		t.Fatal("/subsz misses the local subscription")
	}
	if int(sz.Stats.NumSubs) != len(sz.Subs) || sz.Total != len(sz.Subs) {
		t.Fatalf("num_subscriptions %d, total %d, listed %d", sz.Stats.NumSubs, sz.Total, len(sz.Subs))
	}
	if got := a.s.GlobalAccount().NumSubscriptions(); got != base+1 {
		t.Fatalf("$G counts %d subscriptions, want %d (the local one)", got, base+1)
	}
	if raw := int(a.s.GlobalAccount().SublistStats().NumSubs); raw <= base+1 {
		t.Fatalf("the sublist holds %d entries: B's interest is missing", raw)
	}
}
