package route_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/cluster/route"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
)

// lineHandler writes "[LEVEL] message" lines, messages unquoted.
type lineHandler struct {
	w     *servertest.Logs
	trace bool
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= slog.LevelDebug || (h.trace && l >= server.LevelTrace)
}
func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	fmt.Fprintf(h.w, "[%s] %s\n", r.Level, r.Message)
	return nil
}
func (h *lineHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *lineHandler) WithGroup(string) slog.Handler      { return h }

type node struct {
	t   testing.TB
	s   *server.Server
	c   *route.Cluster
	o   route.Options
	log *servertest.Logs
}

// startNode runs a server on a free port with a cluster listener on a
// free port (or o.Port) and the routes of o.
func startNode(t testing.TB, name string, o route.Options) *node {
	t.Helper()
	return startNodeWith(t, server.Options{}, name, o)
}

// startNodeWith is startNode with more server options.
func startNodeWith(t testing.TB, so server.Options, name string, o route.Options) *node {
	t.Helper()
	lb := &servertest.Logs{}
	so.ServerName, so.Port = name, 0
	so.Logger = slog.New(&lineHandler{w: lb, trace: so.Logger != nil})
	s := servertest.Start(t, so)
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	c, err := route.Start(s, &o)
	if err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, s: s, c: c, o: o, log: lb}
	t.Cleanup(n.stop)
	return n
}

func (n *node) stop() {
	n.c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n.s.Shutdown(ctx)
}

func (n *node) routeURL() *url.URL {
	return &url.URL{Scheme: "nats-route", Host: n.c.Addr().String()}
}

func (n *node) connect(t testing.TB, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(n.s.ClientURL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func waitRoutes(t testing.TB, want int, nodes ...*node) {
	t.Helper()
	servertest.WaitUntilWithin(t, 5*time.Second, fmt.Sprintf("%d routes on each node", want), func() bool {
		for _, n := range nodes {
			if n.c.NumRoutes() != want {
				return false
			}
		}
		return true
	})
}

// waitInterest waits until n holds at least want subscriptions (local and
// remote) in the global account.
func waitInterest(t testing.TB, n *node, want int) {
	t.Helper()
	servertest.WaitUntilWithin(t, 5*time.Second, "interest to propagate", func() bool {
		return n.s.GlobalAccount().NumSubscriptions() >= want
	})
}

// mesh3 starts a seed and two servers that only know the seed.
func mesh3(t testing.TB) (a, b, c *node) {
	a = startNode(t, "A", route.Options{Name: "test"})
	b = startNode(t, "B", route.Options{Name: "test", Routes: []*url.URL{a.routeURL()}})
	c = startNode(t, "C", route.Options{Name: "test", Routes: []*url.URL{a.routeURL()}})
	waitRoutes(t, 2, a, b, c)
	return a, b, c
}

func TestMeshThroughSeed(t *testing.T) {
	a, b, c := mesh3(t)
	// B and C found each other through the seed's gossip.
	// Each pair fills its pool: three connections, slots 0 to 2.
	for _, n := range []*node{a, b, c} {
		servertest.WaitUntilWithin(t, 5*time.Second, "full pools", func() bool {
			rz := n.c.Routez(nil)
			if rz.NumRoutes != 2*route.DefaultPoolSize {
				return false
			}
			slots := map[string]int{}
			for _, r := range rz.Routes {
				slots[r.RemoteID] |= 1 << r.PoolIdx
			}
			return len(slots) == 2 && slots[rz.Routes[0].RemoteID] == 7
		})
	}
	if !strings.Contains(a.log.String(), "Registering remote route") {
		t.Fatalf("seed log lacks registration:\n%s", a.log.String())
	}

	sub := c.connect(t)
	got, err := sub.SubscribeSync("greet.*")
	if err != nil {
		t.Fatal(err)
	}
	sub.Flush()
	waitInterest(t, b, 1)
	pub := b.connect(t)
	pub.Publish("greet.b", []byte("hello"))
	m, err := got.NextMsg(2 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "greet.b" || string(m.Data) != "hello" {
		t.Fatalf("got %q %q", m.Subject, m.Data)
	}
	// Headers cross the route.
	hm := nats.NewMsg("greet.h")
	hm.Header.Set("X-Test", "1")
	hm.Data = []byte("with header")
	pub.PublishMsg(hm)
	m, err = got.NextMsg(2 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("X-Test") != "1" || string(m.Data) != "with header" {
		t.Fatalf("header message %v %q", m.Header, m.Data)
	}

	// Request/reply across nodes: responder on A, requester on C.
	resp := a.connect(t)
	resp.Subscribe("svc", func(m *nats.Msg) { m.Respond(append([]byte("re:"), m.Data...)) })
	resp.Flush()
	waitInterest(t, c, 2)
	r, err := sub.Request("svc", []byte("ping"), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Data) != "re:ping" {
		t.Fatalf("reply %q", r.Data)
	}

	// One hop: a message B receives over a route is not sent on to C.
	if out := c.s.Counters().InMsgs.Load(); out < 2 {
		t.Fatalf("C counted %d messages in", out)
	}

	// Unsubscribe removes the interest everywhere.
	got.Unsubscribe()
	sub.Flush()
	servertest.WaitUntilWithin(t, 5*time.Second, "interest removal", func() bool {
		return b.s.GlobalAccount().NumSubscriptions() == 2 // A's svc, C's reply inbox
	})
}

func TestQueueGroupsAcrossNodes(t *testing.T) {
	a, b, c := mesh3(t)
	// Each member's messages and a marker share one channel, so that the
	// marker, published last, comes after every message its server sent
	// it: counting up to the marker needs no waiting for silence.
	member := func(n *node, q string) chan *nats.Msg {
		nc := n.connect(t)
		ch := make(chan *nats.Msg, 1024)
		if _, err := nc.ChanQueueSubscribe("work", q, ch); err != nil {
			t.Fatal(err)
		}
		if _, err := nc.ChanSubscribe("mark", ch); err != nil {
			t.Fatal(err)
		}
		nc.Flush()
		return ch
	}
	untilMark := func(ch chan *nats.Msg) int {
		n := 0
		for {
			select {
			case m := <-ch:
				if m.Subject == "mark" {
					return n
				}
				n++
			case <-time.After(5 * time.Second):
				t.Fatal("no marker")
			}
		}
	}
	var members []chan *nats.Msg
	for _, n := range []*node{b, b, c, c} {
		members = append(members, member(n, "q"))
	}
	servertest.WaitUntilWithin(t, 5*time.Second, "queue interest on A", func() bool {
		// q and mark from each remote server (q weighted).
		return a.s.GlobalAccount().NumSubscriptions() == 4
	})
	pub := a.connect(t)
	const N = 400
	for i := 0; i < N; i++ {
		pub.Publish("work", []byte("x"))
	}
	pub.Publish("mark", nil)
	pub.Flush()
	var counts [4]int
	for i, ch := range members {
		counts[i] = untilMark(ch)
	}
	if total := counts[0] + counts[1] + counts[2] + counts[3]; total != N {
		t.Fatalf("delivered %d, want exactly %d", total, N)
	}
	onB, onC := counts[0]+counts[1], counts[2]+counts[3]
	if onB == 0 || onC == 0 {
		t.Fatalf("no spread across servers: B %d C %d", onB, onC)
	}

	// A local member is preferred.
	local := member(a, "q")
	for i := 0; i < 100; i++ {
		pub.Publish("work", []byte("x"))
	}
	pub.Publish("mark", nil)
	pub.Flush()
	if n := untilMark(local); n != 100 {
		t.Fatalf("the local member got %d of 100", n)
	}
	for i, ch := range members {
		if n := untilMark(ch); n != 0 {
			t.Fatalf("%d messages went to remote member %d while a local one existed", n, i)
		}
	}
}

func TestRestartNodeMeshHealsAndClientFailsOver(t *testing.T) {
	a, b, c := mesh3(t)

	// The client on C learns the others' client URLs from connect_urls.
	reconnected := make(chan struct{}, 1)
	cli := c.connect(t, nats.ReconnectWait(50*time.Millisecond), nats.MaxReconnects(-1),
		nats.ReconnectHandler(func(*nats.Conn) {
			select {
			case reconnected <- struct{}{}:
			default:
			}
		}))
	servertest.WaitUntilWithin(t, 5*time.Second, "connect_urls", func() bool { return len(cli.DiscoveredServers()) == 2 })

	// The seed goes away and comes back on the same cluster port.
	seedAddr := a.c.Addr().String()
	a.stop()
	waitRoutes(t, 1, b, c)
	_, port, _ := net.SplitHostPort(seedAddr)
	var p int
	fmt.Sscan(port, &p)
	// The port was just released; give the kernel a moment if it is slow
	// to let it go.
	var a2 *node
	servertest.WaitUntilWithin(t, 3*time.Second, "the seed's port", func() bool {
		ln, err := net.Listen("tcp", seedAddr)
		if err != nil {
			return false
		}
		ln.Close()
		return true
	})
	a2 = startNode(t, "A2", route.Options{Name: "test", Port: p})
	waitRoutes(t, 2, a2, b, c)

	// C dies: its client fails over to another server and still works.
	got, err := cli.SubscribeSync("after")
	if err != nil {
		t.Fatal(err)
	}
	c.stop()
	select {
	case <-reconnected:
	case <-time.After(10 * time.Second):
		t.Fatalf("client did not reconnect: status %v, servers %v", cli.Status(), cli.Servers())
	}
	cli.Flush()
	waitInterest(t, b, 1)
	waitInterest(t, a2, 1)
	for _, n := range []*node{a2, b} {
		p := n.connect(t)
		p.Publish("after", []byte(n.s.Name()))
		p.Flush()
		if _, err := got.NextMsg(2 * time.Second); err != nil {
			t.Fatalf("after failover, from %s: %v", n.s.Name(), err)
		}
	}
}

func TestClusterNameConflict(t *testing.T) {
	a := startNode(t, "A", route.Options{Name: "alpha"})
	b := startNode(t, "B", route.Options{Name: "beta", Routes: []*url.URL{a.routeURL()}})
	servertest.WaitUntilWithin(t, 5*time.Second, "conflict log line", func() bool {
		return strings.Contains(a.log.String(), `Rejecting connection, cluster name "beta" does not match "alpha"`)
	})
	if a.c.NumRoutes() != 0 || b.c.NumRoutes() != 0 {
		t.Fatal("route formed across cluster names")
	}
}

func TestClusterNameGeneratedAndAdopted(t *testing.T) {
	a := startNode(t, "A", route.Options{})
	if !strings.Contains(a.log.String(), "Cluster name was dynamically generated, consider setting one") {
		t.Fatalf("no warning:\n%s", a.log.String())
	}
	b := startNode(t, "B", route.Options{Name: "fixed", Routes: []*url.URL{a.routeURL()}})
	waitRoutes(t, 1, a, b)
	if a.c.Name() != "fixed" {
		t.Fatalf("A's name %q, want the peer's configured name", a.c.Name())
	}
	// Two generated names settle on one.
	x := startNode(t, "X", route.Options{})
	y := startNode(t, "Y", route.Options{Routes: []*url.URL{x.routeURL()}})
	waitRoutes(t, 1, x, y)
	if x.c.Name() != y.c.Name() {
		t.Fatalf("names differ: %q %q", x.c.Name(), y.c.Name())
	}
}

func TestRouteAuthorization(t *testing.T) {
	a := startNode(t, "A", route.Options{Name: "test", Username: "ruser", Password: "s3cret"})
	good := a.routeURL()
	good.User = url.UserPassword("ruser", "s3cret")
	b := startNode(t, "B", route.Options{Name: "test", Routes: []*url.URL{good}})
	waitRoutes(t, 1, a, b)

	bad := a.routeURL()
	bad.User = url.UserPassword("ruser", "wrong")
	startNode(t, "C", route.Options{Name: "test", Routes: []*url.URL{bad}})
	servertest.WaitUntilWithin(t, 5*time.Second, "auth failure logged", func() bool {
		return strings.Contains(a.log.String(), "authentication error")
	})
	if a.c.NumRoutes() != 1 {
		t.Fatalf("A has %d routes", a.c.NumRoutes())
	}

	// Raw TCP: a wrong CONNECT gets upstream's error text.
	raw := servertest.DialRaw(t, a.c.Addr().String())
	raw.Send("CONNECT {\"user\":\"ruser\",\"pass\":\"nope\",\"name\":\"X\",\"cluster\":\"test\"}\r\n")
	if got := raw.ReadUntil("Authorization Violation"); !strings.Contains(got, "-ERR 'Authorization Violation'") {
		t.Fatalf("got %q", got)
	}
}

func TestGarbagePeerIsCutOff(t *testing.T) {
	a := startNode(t, "A", route.Options{Name: "test"})
	b := startNode(t, "B", route.Options{Name: "test", Routes: []*url.URL{a.routeURL()}})
	waitRoutes(t, 1, a, b)

	raw := servertest.DialRaw(t, a.c.Addr().String())
	raw.Send("THIS IS NOT NATS\r\n")
	got := raw.ReadUntil("Unknown Protocol Operation")
	if !strings.Contains(got, "-ERR 'Unknown Protocol Operation'") {
		t.Fatalf("got %q", got)
	}
	// Cut off: the socket is closed.
	raw.ExpectClosed()
	// A peer that stops mid-message is dropped when it goes away.
	raw2 := servertest.DialRaw(t, a.c.Addr().String())
	raw2.Send("CONNECT {\"name\":\"Z\",\"cluster\":\"test\"}\r\nRMSG $G foo 100\r\nhalf")
	raw2.Conn.Close()

	// The real route is untouched.
	if a.c.NumRoutes() != 1 {
		t.Fatalf("A has %d routes", a.c.NumRoutes())
	}
	sub := b.connect(t)
	s, _ := sub.SubscribeSync("still")
	sub.Flush()
	waitInterest(t, a, 1)
	p := a.connect(t)
	p.Publish("still", []byte("ok"))
	if _, err := s.NextMsg(2 * time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestSelfRouteIgnored(t *testing.T) {
	a := startNode(t, "A", route.Options{Name: "test"})
	// A second cluster on the same server is not possible, so point a
	// node at itself through its own listener by starting a peer whose
	// routes list both the seed and itself.
	b := startNode(t, "B", route.Options{Name: "test", Routes: []*url.URL{a.routeURL()}})
	waitRoutes(t, 1, a, b)
	// Gossip never makes a server connect to itself, and counts stay at 1.
	time.Sleep(200 * time.Millisecond)
	if a.c.NumRoutes() != 1 || b.c.NumRoutes() != 1 {
		t.Fatalf("routes A %d B %d", a.c.NumRoutes(), b.c.NumRoutes())
	}
}

func TestDuplicateRoutesResolved(t *testing.T) {
	// Both servers solicit each other: one route remains on each side.
	a := startNode(t, "A", route.Options{Name: "test"})
	b := startNode(t, "B", route.Options{Name: "test", Routes: []*url.URL{a.routeURL()}})
	waitRoutes(t, 1, a, b)
	c := startNode(t, "C", route.Options{Name: "test", Routes: []*url.URL{a.routeURL(), b.routeURL()}})
	waitRoutes(t, 2, a, b, c)
	sub := c.connect(t)
	s, _ := sub.SubscribeSync("dup")
	sub.Flush()
	waitInterest(t, a, 1)
	waitInterest(t, b, 1)
	p := a.connect(t)
	p.Publish("dup", nil)
	p.Flush()
	if _, err := s.NextMsg(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	// Duplicates are resolved on INFO, before a route is registered and
	// sent interest: after the message crossed, each server holds C's
	// interest once (twice would deliver twice) and counts one route per
	// peer.
	for _, n := range []*node{a, b} {
		if got := n.s.GlobalAccount().NumSubscriptions(); got != 1 {
			t.Fatalf("%s holds C's interest %d times", n.s.Name(), got)
		}
	}
	for _, n := range []*node{a, b, c} {
		if got := n.c.NumRoutes(); got != 2 {
			t.Fatalf("%s has %d routes, want 2", n.s.Name(), got)
		}
	}
}

func TestMonitoringThroughServer(t *testing.T) {
	a := startNode(t, "A", route.Options{Name: "mon"})
	b := startNode(t, "B", route.Options{Name: "mon", Routes: []*url.URL{a.routeURL()}})
	waitRoutes(t, 1, a, b)
	servertest.WaitUntilWithin(t, 5*time.Second, "full pool", func() bool { return len(a.c.Routez(nil).Routes) == route.DefaultPoolSize })
	sub := b.connect(t)
	sub.SubscribeSync("mon.x")
	sub.Flush()
	waitInterest(t, a, 1)
	rz, err := a.s.Routez(&snapshot.RoutezOptions{Subscriptions: true})
	if err != nil {
		t.Fatal(err)
	}
	if rz.NumRoutes != route.DefaultPoolSize || rz.ID != a.s.ID() {
		t.Fatalf("routez %+v", rz)
	}
	var subs []string
	for _, r := range rz.Routes {
		if r.RemoteID != b.s.ID() || r.RemoteName != "B" {
			t.Fatalf("route %+v", r)
		}
		subs = append(subs, r.Subs...)
	}
	if len(subs) != 1 || subs[0] != "mon.x" {
		t.Fatalf("route subscriptions %v", subs)
	}
	v, err := a.s.Varz(nil)
	if err != nil {
		t.Fatal(err)
	}
	if v.Cluster.Name != "mon" || v.Cluster.Port == 0 || v.Routes != route.DefaultPoolSize || v.Cluster.PoolSize != route.DefaultPoolSize {
		t.Fatalf("varz cluster %+v routes %d", v.Cluster, v.Routes)
	}
	if len(v.ClientConnectURLs) != 2 {
		t.Fatalf("varz connect_urls %v", v.ClientConnectURLs)
	}
}

func TestStalledPeerIsCutOff(t *testing.T) {
	a := startNode(t, "A", route.Options{Name: "test", PingInterval: 50 * time.Millisecond, MaxPingsOut: 2})
	raw := servertest.DialRaw(t, a.c.Addr().String())
	// A well-behaved handshake, then silence: PINGs go unanswered.
	raw.Send("CONNECT {\"name\":\"NFAKE\",\"cluster\":\"test\",\"headers\":true}\r\nINFO {\"server_id\":\"NFAKE\",\"server_name\":\"fake\",\"cluster\":\"test\",\"port\":1,\"headers\":true}\r\n")
	waitRoutes(t, 1, a)
	got := raw.ReadUntil("Stale Connection")
	if !strings.Contains(got, "PING") || !strings.Contains(got, "-ERR 'Stale Connection'") {
		t.Fatalf("got %q", got)
	}
	waitRoutes(t, 0, a)
	servertest.WaitUntilWithin(t, 2*time.Second, "the close logged", func() bool {
		return strings.Contains(a.log.String(), "Router connection closed: Stale Connection")
	})
}

func TestRouteTrace(t *testing.T) {
	traced := server.Options{Logger: slog.New(slog.DiscardHandler)} // asks startNodeWith for -V
	a := startNodeWith(t, traced, "A", route.Options{Name: "trace"})
	b := startNode(t, "B", route.Options{Name: "trace", Routes: []*url.URL{a.routeURL()}})
	waitRoutes(t, 1, a, b)
	sub := b.connect(t)
	s, _ := sub.QueueSubscribeSync("traced", "workers")
	sub.Flush()
	waitInterest(t, a, 1)
	pub := a.connect(t)
	pub.Publish("traced", []byte("hi"))
	if _, err := s.NextMsg(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	servertest.WaitUntilWithin(t, 2*time.Second, "trace lines", func() bool {
		l := a.log.String()
		return strings.Contains(l, "<<- [RS+ $G traced workers 1]") &&
			strings.Contains(l, "->> [RMSG $G traced ") && strings.Contains(l, `->> MSG_PAYLOAD: ["hi"]`)
	})
	// What comes over the route is traced with its payload too.
	bsub := a.connect(t)
	bs, _ := bsub.SubscribeSync("back")
	bsub.Flush()
	waitInterest(t, b, 2) // B's queue subscriber and A's "back"
	b.connect(t).Publish("back", []byte("from B"))
	if _, err := bs.NextMsg(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	servertest.WaitUntilWithin(t, 2*time.Second, "inbound trace lines", func() bool {
		l := a.log.String()
		return strings.Contains(l, "<<- [RMSG $G back 6]") && strings.Contains(l, `<<- MSG_PAYLOAD: ["from B"]`)
	})
	for _, line := range strings.Split(a.log.String(), "\n") {
		if strings.Contains(line, "rid:") && strings.Contains(line, "CONNECT {\"") {
			t.Fatalf("route CONNECT traced in full: %s", line)
		}
	}
}

func TestLameDuckLeavesConnectURLs(t *testing.T) {
	a := startNodeWith(t, server.Options{LameDuckGracePeriod: time.Hour, LameDuckDuration: time.Second}, "A", route.Options{Name: "ldm"})
	b := startNode(t, "B", route.Options{Name: "ldm", Routes: []*url.URL{a.routeURL()}})
	waitRoutes(t, 1, a, b)
	cli := b.connect(t)
	servertest.WaitUntilWithin(t, 5*time.Second, "A's URL on B's client", func() bool { return len(cli.DiscoveredServers()) == 1 })
	a.connect(t) // a client keeps A in its grace period
	go a.s.LameDuck(context.Background())
	servertest.WaitUntilWithin(t, 5*time.Second, "A's URL withdrawn", func() bool {
		v, _ := b.s.Varz(nil)
		return len(v.ClientConnectURLs) == 1
	})
}

func TestSlowRouteIsKept(t *testing.T) {
	// A client with this backlog would be cut off; a route is held back
	// and kept, as upstream's routes are. A write that passes its deadline
	// with nothing written closes a route (upstream's rule too), so the
	// deadline leaves room for a peer that a loaded machine does not
	// schedule for a while: 100ms was passed now and then on 2 busy cores.
	so := server.Options{MaxPending: 1 << 20, MaxPayload: 64 << 10, WriteDeadline: time.Second}
	a := startNodeWith(t, so, "A", route.Options{Name: "test", Compression: route.Compression{Mode: route.CompressionOff}})
	conn, err := net.Dial("tcp", a.c.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "CONNECT {\"name\":\"NSLOW\",\"cluster\":\"test\",\"headers\":true}\r\nINFO {\"server_id\":\"NSLOW\",\"cluster\":\"test\",\"port\":1,\"headers\":true}\r\nRS+ $G slow\r\n")
	waitInterest(t, a, 1)

	const n, size = 3000, 2048
	got := make(chan int64, 1)
	var rerr error
	go func() {
		var total int64
		buf := make([]byte, 32<<10)
		deadline := time.Now().Add(30 * time.Second)
		for total < n*size && time.Now().Before(deadline) {
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			m, err := conn.Read(buf)
			total += int64(m)
			if err != nil {
				rerr = err
				break
			}
			time.Sleep(5 * time.Millisecond) // a slow peer
		}
		got <- total
	}()
	pub := a.connect(t)
	payload := make([]byte, size)
	for range n {
		if err := pub.Publish("slow", payload); err != nil {
			t.Fatal(err)
		}
	}
	pub.Flush()
	if total := <-got; total < n*size {
		t.Fatalf("peer read %d bytes, want at least %d (%v); log:\n%s", total, n*size, rerr, a.log.String())
	}
	t.Logf("slow consumer reports: %d", strings.Count(a.log.String(), "Slow Consumer Detected"))
	if a.c.NumRoutes() != 1 || strings.Contains(a.log.String(), "Router connection closed") {
		t.Fatalf("slow route closed:\n%s", a.log.String())
	}
}

func TestRouteRTT(t *testing.T) {
	a := startNode(t, "A", route.Options{Name: "rtt"})
	b := startNode(t, "B", route.Options{Name: "rtt", Routes: []*url.URL{a.routeURL()}})
	waitRoutes(t, 1, a, b)
	servertest.WaitUntilWithin(t, 5*time.Second, "an RTT in /routez", func() bool {
		rz := a.c.Routez(nil)
		return len(rz.Routes) > 0 && rz.Routes[0].RTT != ""
	})
}
