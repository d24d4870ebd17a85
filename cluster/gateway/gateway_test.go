package gateway_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/cluster/gateway"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
)

type lineHandler struct{ w *servertest.Logs }

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelDebug }
func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	fmt.Fprintf(h.w, "[%s] %s\n", r.Level, r.Message)
	return nil
}
func (h *lineHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *lineHandler) WithGroup(string) slog.Handler      { return h }

// node is one server with a gateway.
type node struct {
	s   *server.Server
	gw  *gateway.Gateway
	log *servertest.Logs
}

// startNode runs a server named name of cluster cluster with a gateway on
// a free port dialing remotes, linked to the given servers of its cluster
// by the test kit's fake routes (a link kind imports no other kind).
func startNode(t testing.TB, name, cluster string, o gateway.Options, peers ...*node) *node {
	t.Helper()
	lb := &servertest.Logs{}
	s := servertest.Start(t, server.Options{ServerName: name, Port: 0, Logger: slog.New(&lineHandler{w: lb})})
	n := &node{s: s, log: lb}
	o.Name, o.Host, o.Port = cluster, "127.0.0.1", 0
	gw, err := gateway.Start(s, &o)
	if err != nil {
		t.Fatal(err)
	}
	n.gw = gw
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = gw.Shutdown(ctx)
		s.Shutdown(ctx)
	})
	for _, p := range peers {
		servertest.ConnectFake(t, server.ConnRoute, s, p.s)
	}
	return n
}

func (n *node) gwURL() *url.URL { return &url.URL{Scheme: "nats", Host: n.gw.Addr().String()} }

func remoteTo(name string, nodes ...*node) gateway.RemoteGateway {
	rg := gateway.RemoteGateway{Name: name}
	for _, n := range nodes {
		rg.URLs = append(rg.URLs, n.gwURL())
	}
	return rg
}

// waitGateways waits until n has outbound and inbound connections to
// every cluster named.
func waitGateways(t testing.TB, n *node, names ...string) {
	t.Helper()
	slices.Sort(names)
	servertest.WaitUntil(t, "gateways "+strings.Join(names, ","), func() bool {
		out := n.gw.OutboundGateways()
		in := slices.Compact(n.gw.InboundGateways())
		return slices.Equal(out, names) && slices.Equal(in, names)
	})
}

// TestGatewayPubSubBothWays links two single-server clusters, only A
// configured with B: B learns A from the inbound connection.
func TestGatewayPubSubBothWays(t *testing.T) {
	b := startNode(t, "b1", "B", gateway.Options{})
	a := startNode(t, "a1", "A", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("B", b)}})
	waitGateways(t, a, "B")
	waitGateways(t, b, "A")

	ca := servertest.Connect(t, a.s)
	cb := servertest.Connect(t, b.s)
	subB, _ := cb.SubscribeSync("to.b")
	cb.Flush()
	subA, _ := ca.SubscribeSync("to.a")
	ca.Flush()
	// Interest-only from the start: a message crosses once the
	// subscription's RS+ has reached the other cluster.
	servertest.PublishUntil(t, ca, "to.b", []byte("hello b"), subB)
	servertest.PublishUntil(t, cb, "to.a", []byte("hello a"), subA)
	// Headers cross too.
	msg := nats.NewMsg("to.b")
	msg.Header.Set("K", "V")
	msg.Data = []byte("h")
	ca.PublishMsg(msg)
	m := servertest.NextMsg(t, subB)
	for string(m.Data) == "hello b" { // more copies PublishUntil sent
		m = servertest.NextMsg(t, subB)
	}
	if m.Header.Get("K") != "V" {
		t.Fatalf("header %v", m.Header)
	}
}

// TestGatewayRequestReply makes a request in A answered in B and back.
func TestGatewayRequestReply(t *testing.T) {
	b := startNode(t, "b1", "B", gateway.Options{Gateways: []gateway.RemoteGateway{}})
	a := startNode(t, "a1", "A", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("B", b)}})
	waitGateways(t, a, "B")
	waitGateways(t, b, "A")
	ca := servertest.Connect(t, a.s)
	cb := servertest.Connect(t, b.s)
	cb.Subscribe("svc", func(m *nats.Msg) { m.Respond(append([]byte("re: "), m.Data...)) })
	cb.Flush()
	// Interest-only: the request crosses once B's RS+ for svc reached A.
	servertest.WaitUntil(t, "the first answer", func() bool {
		_, err := ca.Request("svc", nil, 200*time.Millisecond)
		return err == nil
	})
	for i := range 5 {
		m, err := ca.Request("svc", []byte(fmt.Sprint(i)), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Data) != fmt.Sprintf("re: %d", i) {
			t.Fatalf("got %q", m.Data)
		}
	}
}

// TestGatewayNoInterest: the remote says it has no interest (RS-) after
// the first message on a subject and the sender stops sending; a later
// subscription there clears it (RS+).
func TestGatewayNoInterest(t *testing.T) {
	b := startNode(t, "b1", "B", gateway.Options{})
	gateway.KeepOptimistic(b.gw)
	a := startNode(t, "a1", "A", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("B", b)}})
	waitGateways(t, a, "B")
	waitGateways(t, b, "A")
	ca := servertest.Connect(t, a.s)
	cb := servertest.Connect(t, b.s)
	ca.Publish("nobody", []byte("x"))
	ca.Flush()
	// B answers RS-: A stops sending after the first message.
	servertest.WaitUntil(t, "A told no interest", func() bool {
		before := outMsgs(a)
		ca.Publish("nobody", []byte("x"))
		ca.Flush() // A decided before it answered the flush
		return outMsgs(a) == before
	})
	sub, _ := cb.SubscribeSync("nobody")
	cb.Flush()
	servertest.PublishUntil(t, ca, "nobody", []byte("now"), sub)
}

// outMsgs counts the messages a server sent over its gateways.
func outMsgs(n *node) int64 {
	var total int64
	for _, st := range n.gw.LinkStats() {
		total += st.OutMsgs
	}
	return total
}

// TestGatewayQueueLocalFirst: queue members in both clusters; messages
// published in A go to A's member while it is there, then to B's.
func TestGatewayQueueLocalFirst(t *testing.T) {
	b := startNode(t, "b1", "B", gateway.Options{})
	a1 := startNode(t, "a1", "A", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("B", b)}})
	waitGateways(t, a1, "B")
	waitGateways(t, b, "A")
	ca := servertest.Connect(t, a1.s)
	cb := servertest.Connect(t, b.s)
	qb, _ := cb.QueueSubscribeSync("work", "q")
	cb.Flush()
	qa, _ := ca.QueueSubscribeSync("work", "q")
	ca.Flush()
	// B's member reaches A as queue interest (interest-only: the only
	// interest A's outbound connection holds).
	servertest.WaitUntil(t, "queue interest in A", func() bool { return numRemoteSubs(a1) == 1 })
	for range 20 {
		ca.Publish("work", []byte("m"))
	}
	ca.Flush()
	for range 20 {
		servertest.NextMsg(t, qa)
	}
	servertest.ExpectNoMsg(t, qb, cb)
	// A's member leaves: the messages go to B's.
	qa.Unsubscribe()
	ca.Flush()
	servertest.PublishUntil(t, ca, "work", []byte("m"), qb)
}

func numRemoteSubs(n *node) int {
	total := 0
	for _, st := range n.gw.LinkStats() {
		total += st.NumSubs
	}
	return total
}

// TestGatewayWrongName: a remote whose gateway name is not the one
// configured is refused, and the reason is logged.
func TestGatewayWrongName(t *testing.T) {
	b := startNode(t, "b1", "B", gateway.Options{})
	a := startNode(t, "a1", "A", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("C", b)}})
	servertest.WaitUntil(t, "refused", func() bool {
		return strings.Contains(a.log.String(), `Connection to "B" rejected, wanted "C"`) &&
			strings.Contains(b.log.String(), `Connection from "A" rejected, wanted to connect to "C", this is "B"`)
	})
	if got := a.gw.OutboundGateways(); len(got) != 0 {
		t.Fatalf("outbound %v", got)
	}
}

// TestGatewayCredentials: a gateway with authorization refuses a remote
// without the right credentials and accepts one with them.
func TestGatewayCredentials(t *testing.T) {
	b := startNode(t, "b1", "B", gateway.Options{Username: "gw", Password: "s3cr3t"})
	bad := b.gwURL()
	bad.User = url.UserPassword("gw", "wrong")
	a := startNode(t, "a1", "A", gateway.Options{Gateways: []gateway.RemoteGateway{{Name: "B", URLs: []*url.URL{bad}}}})
	servertest.WaitUntil(t, "refused", func() bool {
		return strings.Contains(b.log.String(), "Authorization Violation") &&
			strings.Contains(a.log.String(), "Gateway Error 'Authorization Violation'")
	})
	if got := b.gw.InboundGateways(); len(got) != 0 {
		t.Fatalf("inbound %v", got)
	}
	_ = a
	good := b.gwURL()
	good.User = url.UserPassword("gw", "s3cr3t")
	c := startNode(t, "c1", "C", gateway.Options{Username: "gw", Password: "s3cr3t", Gateways: []gateway.RemoteGateway{{Name: "B", URLs: []*url.URL{good}}}})
	waitGateways(t, c, "B")
	waitGateways(t, b, "C")
}

// TestGatewayRejectUnknown: with reject_unknown_cluster, a cluster that
// is not configured is refused.
func TestGatewayRejectUnknown(t *testing.T) {
	b := startNode(t, "b1", "B", gateway.Options{RejectUnknown: true})
	a := startNode(t, "a1", "A", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("B", b)}})
	servertest.WaitUntil(t, "refused", func() bool {
		return strings.Contains(b.log.String(), `Rejecting connection from gateway "A"`)
	})
	if got := b.gw.InboundGateways(); len(got) != 0 {
		t.Fatalf("inbound %v", got)
	}
	_ = a
}

// TestGatewayImplicitDiscovery: cluster C knows only A, A knows B; C
// learns B from A's gossip and B learns C from C's connection, and
// messages go from C to B directly.
func TestGatewayImplicitDiscovery(t *testing.T) {
	b := startNode(t, "b1", "B", gateway.Options{})
	a := startNode(t, "a1", "A", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("B", b)}})
	c := startNode(t, "c1", "C", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("A", a)}})
	waitGateways(t, a, "B", "C")
	waitGateways(t, b, "A", "C")
	waitGateways(t, c, "A", "B")
	cc := servertest.Connect(t, c.s)
	cb := servertest.Connect(t, b.s)
	sub, _ := cb.SubscribeSync("c.to.b")
	cb.Flush()
	servertest.PublishUntil(t, cc, "c.to.b", []byte("x"), sub)
}

// TestGatewayTwoServerClusters: two clusters of two servers each; every
// server has its own gateways, messages and requests cross from any
// server to any, and queue groups prefer the local cluster.
func TestGatewayTwoServerClusters(t *testing.T) {
	// B's servers list A's; A's servers list b1 only, and learn b2
	// from its INFO.
	b1 := startNode(t, "b1", "B", gateway.Options{})
	a1 := startNode(t, "a1", "A", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("B", b1)}})
	a2 := startNode(t, "a2", "A", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("B", b1)}}, a1)
	b2 := startNode(t, "b2", "B", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("A", a1, a2)}}, b1)
	// Each server has one outbound connection to the other cluster (b1
	// learns A from its inbound connections); a server may have no
	// inbound one.
	servertest.WaitUntil(t, "every server connected to the other cluster", func() bool {
		return slices.Equal(a1.gw.OutboundGateways(), []string{"B"}) && slices.Equal(a2.gw.OutboundGateways(), []string{"B"}) &&
			slices.Equal(b1.gw.OutboundGateways(), []string{"A"}) && slices.Equal(b2.gw.OutboundGateways(), []string{"A"})
	})
	if t.Failed() {
		return
	}
	ca2 := servertest.Connect(t, a2.s)
	cb1 := servertest.Connect(t, b1.s)
	cb2 := servertest.Connect(t, b2.s)
	sub, _ := ca2.SubscribeSync("x")
	ca2.Flush()
	servertest.PublishUntil(t, cb1, "x", []byte("1"), sub)
	servertest.PublishUntil(t, cb2, "x", []byte("2"), sub)
	cb2.Subscribe("svc", func(m *nats.Msg) { m.Respond([]byte("ok")) })
	cb2.Flush()
	servertest.WaitUntil(t, "a request across", func() bool {
		m, err := ca2.Request("svc", nil, 500*time.Millisecond)
		return err == nil && string(m.Data) == "ok"
	})
	// Queue: a member on b1 and one in A; b2 publishes, b1's gets all.
	qb, _ := cb1.QueueSubscribeSync("jobs", "w")
	cb1.Flush()
	// b2 learns b1's member over the route.
	servertest.PublishUntil(t, cb2, "jobs", []byte("j"), qb)
	base := numRemoteSubs(b2)
	qa, _ := ca2.QueueSubscribeSync("jobs", "w")
	ca2.Flush()
	servertest.WaitUntil(t, "A's queue interest at b2", func() bool { return numRemoteSubs(b2) > base })
	for range 30 {
		cb2.Publish("jobs", []byte("j"))
	}
	cb2.Flush()
	for range 30 {
		servertest.NextMsg(t, qb)
	}
	servertest.ExpectNoMsg(t, qa, ca2)
}

// TestGatewayz: the GATEWAYZ provider lists the outbound connection to
// each cluster and the inbound ones, gw_name filters, and /varz has the
// gateway section.
func TestGatewayz(t *testing.T) {
	b := startNode(t, "b1", "B", gateway.Options{})
	a := startNode(t, "a1", "A", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("B", b)}})
	waitGateways(t, a, "B")
	waitGateways(t, b, "A")
	v, err := a.s.Snapshot(server.KindGatewayz, &snapshot.GatewayzOptions{})
	if err != nil {
		t.Fatal(err)
	}
	z := v.(*snapshot.Gatewayz)
	if z.Name != "A" || z.Port != a.gw.Addr().(*net.TCPAddr).Port || z.OutboundGateways["B"] == nil || !z.OutboundGateways["B"].IsConfigured ||
		len(z.InboundGateways["B"]) != 1 || z.OutboundGateways["B"].Connection.Name != b.s.ID() {
		t.Fatalf("gatewayz %+v", z)
	}
	v, _ = b.s.Snapshot(server.KindGatewayz, &snapshot.GatewayzOptions{})
	if zb := v.(*snapshot.Gatewayz); zb.OutboundGateways["A"] == nil || zb.OutboundGateways["A"].IsConfigured {
		t.Fatalf("B's gatewayz %+v", zb)
	}
	v, _ = a.s.Snapshot(server.KindGatewayz, &snapshot.GatewayzOptions{Name: "C"})
	if z := v.(*snapshot.Gatewayz); len(z.OutboundGateways) != 0 || len(z.InboundGateways) != 0 {
		t.Fatalf("gw_name=C %+v", z)
	}
	vz, _ := a.s.Varz(nil)
	if vz.Gateway.Name != "A" || !slices.Equal(vz.Gateway.Gateways, []string{"B"}) {
		t.Fatalf("varz gateway %+v", vz.Gateway)
	}
}

// TestGatewayInterestOnlySwitch: after too many subjects nobody wants, the
// receiving side switches the account to interest-only mode (INFO
// gateway_cmd 2, its interest, gateway_cmd 3); from then on only the
// subjects it has interest in are sent, and new interest and its end are
// announced (RS+/RS-).
func TestGatewayInterestOnlySwitch(t *testing.T) {
	b := startNode(t, "b1", "B", gateway.Options{})
	gateway.KeepOptimistic(b.gw)
	gateway.SetMaxNoInterest(b.gw, 10)
	a := startNode(t, "a1", "A", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("B", b)}})
	waitGateways(t, a, "B")
	waitGateways(t, b, "A")
	ca := servertest.Connect(t, a.s)
	cb := servertest.Connect(t, b.s)
	keep, _ := cb.SubscribeSync("keep")
	cb.Flush()
	for i := range 12 {
		ca.Publish(fmt.Sprintf("none.%d", i), []byte("x"))
	}
	ca.Flush()
	servertest.WaitUntil(t, "the switch", func() bool {
		return strings.Contains(b.log.String(), `switching account "$G" to Interest-Only mode`) &&
			strings.Contains(a.log.String(), `account "$G" switched to Interest-Only mode`)
	})
	servertest.PublishUntil(t, ca, "keep", []byte("k"), keep)
	// Nothing else is sent.
	before := outMsgs(a)
	for i := range 20 {
		ca.Publish(fmt.Sprintf("other.%d", i), []byte("x"))
	}
	ca.Flush()
	if got := outMsgs(a); got != before {
		t.Fatalf("%d messages sent without interest", got-before)
	}
	// New interest is announced, and its end.
	later, _ := cb.SubscribeSync("later.*")
	cb.Flush()
	servertest.PublishUntil(t, ca, "later.x", []byte("l"), later)
	later.Unsubscribe()
	cb.Flush()
	servertest.WaitUntil(t, "the end of interest", func() bool {
		before := outMsgs(a)
		ca.Publish("later.y", []byte("l"))
		ca.Flush()
		return outMsgs(a) == before
	})
}

// TestGatewayAccountAddedLater: an account created by a reload after the
// gateways connected gets its messages across too.
func TestGatewayAccountAddedLater(t *testing.T) {
	b := startNode(t, "b1", "B", gateway.Options{})
	a := startNode(t, "a1", "A", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("B", b)}})
	waitGateways(t, a, "B")
	waitGateways(t, b, "A")
	for _, n := range []*node{a, b} {
		o := n.s.Options()
		o.Accounts = []string{"Y"}
		if err := n.s.Reload(o); err != nil {
			t.Fatal(err)
		}
	}
	ib, err := b.s.NewInternalClient("Y")
	if err != nil {
		t.Fatal(err)
	}
	defer ib.Close()
	got := make(chan string, 100)
	if _, err := ib.Subscribe("in.y", "", func(m *server.Msg) { got <- string(m.Data) }); err != nil {
		t.Fatal(err)
	}
	ia, err := a.s.NewInternalClient("Y")
	if err != nil {
		t.Fatal(err)
	}
	defer ia.Close()
	// A's own interest in Y (a subscription) makes its gateways carry Y.
	if _, err := ia.Subscribe("local.y", "", func(*server.Msg) {}); err != nil {
		t.Fatal(err)
	}
	servertest.WaitUntil(t, "a message of Y across", func() bool {
		ia.Publish("in.y", "", nil, []byte("y"))
		select {
		case m := <-got:
			return m == "y"
		case <-time.After(50 * time.Millisecond):
			return false
		}
	})
}

// TestGatewayzAccounts: /gatewayz?accs=1 reports each connection's
// accounts as upstream: the no-interest count and queue interest on the
// sender's outbound connection, the no-interest told on the receiver's
// inbound one, then the interest-only mode on both; acc_name keeps one.
func TestGatewayzAccounts(t *testing.T) {
	b := startNode(t, "b1", "B", gateway.Options{})
	gateway.KeepOptimistic(b.gw)
	gateway.SetMaxNoInterest(b.gw, 10)
	a := startNode(t, "a1", "A", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("B", b)}})
	waitGateways(t, a, "B")
	waitGateways(t, b, "A")
	ca := servertest.Connect(t, a.s)
	cb := servertest.Connect(t, b.s)
	gz := func(n *node, o *snapshot.GatewayzOptions) *snapshot.Gatewayz {
		v, err := n.s.Snapshot(server.KindGatewayz, o)
		if err != nil {
			t.Fatal(err)
		}
		return v.(*snapshot.Gatewayz)
	}
	outAcc := func(o *snapshot.GatewayzOptions) *snapshot.AccountGatewayz {
		rg := gz(a, o).OutboundGateways["B"]
		if rg == nil || len(rg.Accounts) != 1 {
			return nil
		}
		return rg.Accounts[0]
	}
	inAcc := func() *snapshot.AccountGatewayz {
		rgs := gz(b, &snapshot.GatewayzOptions{Accounts: true})
		for _, rg := range rgs.InboundGateways["A"] {
			if len(rg.Accounts) == 1 {
				return rg.Accounts[0]
			}
		}
		return nil
	}
	// Without accs, no accounts.
	if rg := gz(a, &snapshot.GatewayzOptions{}).OutboundGateways["B"]; rg == nil || rg.Accounts != nil {
		t.Fatalf("outbound without accs: %+v", rg)
	}
	for i := range 3 {
		ca.Publish(fmt.Sprintf("none.%d", i), []byte("x"))
	}
	ca.Flush()
	servertest.WaitUntil(t, "3 no-interest subjects on both sides", func() bool {
		o, i := outAcc(&snapshot.GatewayzOptions{Accounts: true}), inAcc()
		return o != nil && o.Name == "$G" && o.InterestMode == "Optimistic" && o.NoInterestCount == 3 &&
			o.InterestOnlyThreshold == gateway.DefaultMaxNoInterest && i != nil && i.InterestOnlyThreshold == 10 && i.Name == "$G" && i.NoInterestCount == 3
	})
	q, _ := cb.QueueSubscribeSync("work", "q")
	keep, _ := cb.SubscribeSync("keep")
	cb.Flush()
	servertest.WaitUntil(t, "the queue interest counted", func() bool {
		o := outAcc(&snapshot.GatewayzOptions{AccountName: "$G"})
		return o != nil && o.NumQueueSubscriptions == 1 && o.TotalSubscriptions == 1
	})
	if rg := gz(a, &snapshot.GatewayzOptions{AccountName: "OTHER"}).OutboundGateways["B"]; rg == nil || len(rg.Accounts) != 0 {
		t.Fatalf("acc_name OTHER: %+v", rg)
	}
	for i := range 12 {
		ca.Publish(fmt.Sprintf("more.%d", i), []byte("x"))
	}
	ca.Flush()
	servertest.WaitUntil(t, "Interest-Only on both sides", func() bool {
		o, i := outAcc(&snapshot.GatewayzOptions{Accounts: true}), inAcc()
		// B's plain interest ("keep") and its queue group.
		return o != nil && o.InterestMode == "Interest-Only" && o.TotalSubscriptions == 2 &&
			o.NumQueueSubscriptions == 1 && i != nil && i.InterestMode == "Interest-Only"
	})
	q.Unsubscribe()
	keep.Unsubscribe()
	cb.Flush()
	servertest.WaitUntil(t, "the interest gone", func() bool {
		o := outAcc(&snapshot.GatewayzOptions{Accounts: true})
		return o != nil && o.TotalSubscriptions == 0 && o.NumQueueSubscriptions == 0
	})
	if z := gz(a, &snapshot.GatewayzOptions{Name: "C"}); z.OutboundGateways != nil {
		t.Fatalf("gw_name C: %+v", z.OutboundGateways)
	}
}

// TestGatewayInterestOnlyFromStart: as upstream 2.9+, the acceptor's INFO
// says gateway_iom and every account is interest-only from the start on
// both sides: nothing is sent without interest, the interest is told
// (RS+), and /gatewayz shows the mode.
func TestGatewayInterestOnlyFromStart(t *testing.T) {
	b := startNode(t, "b1", "B", gateway.Options{})
	a := startNode(t, "a1", "A", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("B", b)}})
	waitGateways(t, a, "B")
	waitGateways(t, b, "A")
	ca := servertest.Connect(t, a.s)
	cb := servertest.Connect(t, b.s)
	mode := func(n *node, out bool) string {
		v, _ := n.s.Snapshot(server.KindGatewayz, &snapshot.GatewayzOptions{AccountName: "$G"})
		z := v.(*snapshot.Gatewayz)
		var rgs []*snapshot.RemoteGatewayz
		for _, rg := range z.OutboundGateways {
			if out {
				rgs = append(rgs, rg)
			}
		}
		for _, l := range z.InboundGateways {
			if !out {
				rgs = append(rgs, l...)
			}
		}
		if len(rgs) != 1 || len(rgs[0].Accounts) != 1 {
			return ""
		}
		return rgs[0].Accounts[0].InterestMode
	}
	servertest.WaitUntil(t, "interest-only on every connection", func() bool {
		return mode(a, true) == "Interest-Only" && mode(a, false) == "Interest-Only" &&
			mode(b, true) == "Interest-Only" && mode(b, false) == "Interest-Only"
	})
	before := outMsgs(a)
	for i := range 20 {
		ca.Publish(fmt.Sprintf("none.%d", i), []byte("x"))
	}
	ca.Flush()
	if got := outMsgs(a); got != before {
		t.Fatalf("%d messages sent without interest", got-before)
	}
	sub, _ := cb.SubscribeSync("wanted")
	cb.Flush()
	servertest.PublishUntil(t, ca, "wanted", []byte("w"), sub)
	// And back: A's interest reaches B.
	subA, _ := ca.SubscribeSync("back")
	ca.Flush()
	servertest.PublishUntil(t, cb, "back", []byte("b"), subA)
}
