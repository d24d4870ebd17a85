package leaf_test

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/cluster"
	"natsd.dev/cluster/leaf"
	"natsd.dev/confparse"
	"natsd.dev/server"
	"natsd.dev/server/config"
	"natsd.dev/server/servertest"
)

// startHub starts a server with a leaf node listener on a free port.
func startHub(t *testing.T, so server.Options, lo leaf.Options) (*server.Server, *leaf.Leaf, *servertest.Logs) {
	t.Helper()
	s, logs := servertest.StartWithLogs(t, so)
	lo.Host, lo.Port = "127.0.0.1", leaf.RandomPort
	lf, err := leaf.Start(s, &lo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lf.Close)
	return s, lf, logs
}

// startLeaf starts a server whose leaf node options are lo (remotes).
func startLeaf(t *testing.T, so server.Options, lo leaf.Options) (*server.Server, *leaf.Leaf, *servertest.Logs) {
	t.Helper()
	s, logs := servertest.StartWithLogs(t, so)
	lo.Reconnect = 50 * time.Millisecond
	lf, err := leaf.Start(s, &lo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lf.Close)
	return s, lf, logs
}

// optionsFrom is the server options of a configuration file's text (the
// accounts and users of a hub).
func optionsFrom(t *testing.T, text string) server.Options {
	t.Helper()
	path := filepath.Join(t.TempDir(), "server.conf")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := config.ParseFile(path, confparse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Options
	o.Host, o.Port = "127.0.0.1", server.RandomPort
	return o
}

func leafURL(lf *leaf.Leaf, userinfo *url.Userinfo) *url.URL {
	return &url.URL{Scheme: "nats-leaf", Host: lf.Addr().String(), User: userinfo}
}

func remoteTo(lf *leaf.Leaf, userinfo *url.Userinfo) leaf.Options {
	return leaf.Options{Remotes: []*leaf.Remote{{URLs: []*url.URL{leafURL(lf, userinfo)}}}}
}

func waitConns(t *testing.T, lf *leaf.Leaf, n int) {
	t.Helper()
	servertest.WaitUntil(t, "leaf node connections", func() bool { return lf.NumConnections() == n })
}

func syncSub(t *testing.T, nc *nats.Conn, subject string) *nats.Subscription {
	t.Helper()
	sub, err := nc.SubscribeSync(subject)
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return sub
}

func nextMsg(t *testing.T, sub *nats.Subscription) *nats.Msg {
	t.Helper()
	m, err := sub.NextMsg(servertest.DefaultWait)
	if err != nil {
		t.Fatalf("no message on %s: %v", sub.Subject, err)
	}
	return m
}

// Pub/sub both ways, request/reply and headers between a hub and a leaf.
func TestLeafPubSubRequestReply(t *testing.T) {
	hs, hub, _ := startHub(t, server.Options{}, leaf.Options{})
	ls, spoke, logs := startLeaf(t, server.Options{}, remoteTo(hub, nil))
	waitConns(t, hub, 1)
	waitConns(t, spoke, 1)
	logs.WaitFor(t, "Leafnode connection created for account: $G")
	hl, ll := servertest.WatchInterest(t, hs), servertest.WatchInterest(t, ls)
	hc, lc := servertest.Connect(t, hs), servertest.Connect(t, ls)

	onLeaf := syncSub(t, lc, "to.leaf")
	hl.WaitFor(t, "to.leaf", server.ConnLeaf, true)
	if err := hc.Publish("to.leaf", []byte("down")); err != nil {
		t.Fatal(err)
	}
	if m := nextMsg(t, onLeaf); string(m.Data) != "down" {
		t.Fatalf("leaf got %q", m.Data)
	}
	onHub := syncSub(t, hc, "to.hub")
	ll.WaitFor(t, "to.hub", server.ConnLeaf, true)
	hm := nats.NewMsg("to.hub")
	hm.Header.Set("X-Dir", "up")
	hm.Data = []byte("up")
	if err := lc.PublishMsg(hm); err != nil {
		t.Fatal(err)
	}
	if m := nextMsg(t, onHub); string(m.Data) != "up" || m.Header.Get("X-Dir") != "up" {
		t.Fatalf("hub got %q %v", m.Data, m.Header)
	}

	// A service on the hub answers a requester on the leaf, and back.
	if _, err := hc.Subscribe("svc.hub", func(m *nats.Msg) { _ = m.Respond([]byte("hub:" + string(m.Data))) }); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.Subscribe("svc.leaf", func(m *nats.Msg) { _ = m.Respond([]byte("leaf:" + string(m.Data))) }); err != nil {
		t.Fatal(err)
	}
	hc.Flush()
	lc.Flush()
	ll.WaitFor(t, "svc.hub", server.ConnLeaf, true)
	hl.WaitFor(t, "svc.leaf", server.ConnLeaf, true)
	r, err := lc.Request("svc.hub", []byte("q"), servertest.DefaultWait)
	if err != nil || string(r.Data) != "hub:q" {
		t.Fatalf("request leaf to hub: %v %v", r, err)
	}
	r, err = hc.Request("svc.leaf", []byte("q"), servertest.DefaultWait)
	if err != nil || string(r.Data) != "leaf:q" {
		t.Fatalf("request hub to leaf: %v %v", r, err)
	}

	// Unsubscribing on the leaf takes the interest away on the hub.
	if err := onLeaf.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	hl.WaitFor(t, "to.leaf", server.ConnLeaf, false)
}

// A queue group with members on both sides: a message published on one
// side goes to one member only, a local one when there is one.
func TestLeafQueueGroup(t *testing.T) {
	hs, hub, _ := startHub(t, server.Options{}, leaf.Options{})
	ls, spoke, _ := startLeaf(t, server.Options{}, remoteTo(hub, nil))
	waitConns(t, spoke, 1)
	hl := servertest.WatchInterest(t, hs)
	hc, lc := servertest.Connect(t, hs), servertest.Connect(t, ls)
	lch := make(chan *nats.Msg, 100)
	if _, err := lc.ChanQueueSubscribe("work", "q", lch); err != nil {
		t.Fatal(err)
	}
	lc.Flush()
	ev := hl.WaitFor(t, "work", server.ConnLeaf, true)
	if ev.Queue != "q" {
		t.Fatalf("queue interest reported as %+v", ev)
	}
	// Only the leaf has members: every message crosses once.
	for range 10 {
		if err := hc.Publish("work", nil); err != nil {
			t.Fatal(err)
		}
	}
	hc.Flush()
	for i := range 10 {
		select {
		case <-lch:
		case <-time.After(servertest.DefaultWait):
			t.Fatalf("leaf member got %d of 10", i)
		}
	}
	// A member on the hub too: messages published on the leaf go to
	// the leaf's own member (local first) and never to both.
	hch := make(chan *nats.Msg, 100)
	if _, err := hc.ChanQueueSubscribe("work", "q", hch); err != nil {
		t.Fatal(err)
	}
	hc.Flush()
	marker := syncSub(t, lc, "marker")
	hl.WaitFor(t, "marker", server.ConnLeaf, true)
	for range 20 {
		if err := lc.Publish("work", nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := hc.Publish("marker", nil); err != nil {
		t.Fatal(err)
	}
	nextMsg(t, marker)
	lc.Flush()
	servertest.WaitUntil(t, "the leaf's member to get every message", func() bool { return len(lch) == 20 })
	if n := len(hch); n != 0 {
		t.Fatalf("the hub's member got %d messages published on the leaf, which has a member", n)
	}
}

// A subscription on a leaf of one hub server is reached from every
// server of the hub's cluster, and the leaf reaches subscribers on the
// other server.
func TestLeafHubCluster(t *testing.T) {
	h1, hub1, _ := startHub(t, server.Options{}, leaf.Options{})
	h2 := servertest.Start(t, server.Options{})
	c1, err := cluster.Start(h1, &cluster.Options{Name: "hub", Host: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c1.Close)
	c2, err := cluster.Start(h2, &cluster.Options{Name: "hub", Host: "127.0.0.1", Routes: []*url.URL{{Scheme: "nats-route", Host: c1.Addr().String()}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c2.Close)
	servertest.WaitUntil(t, "the route", func() bool { return c1.NumRoutes() > 0 && c2.NumRoutes() > 0 })
	ls, spoke, _ := startLeaf(t, server.Options{}, remoteTo(hub1, nil))
	waitConns(t, spoke, 1)
	l2, ll := servertest.WatchInterest(t, h2), servertest.WatchInterest(t, ls)
	lc, c2c := servertest.Connect(t, ls), servertest.Connect(t, h2)

	onLeaf := syncSub(t, lc, "far")
	l2.WaitFor(t, "far", server.ConnRoute, true)
	if err := c2c.Publish("far", []byte("from h2")); err != nil {
		t.Fatal(err)
	}
	if m := nextMsg(t, onLeaf); string(m.Data) != "from h2" {
		t.Fatalf("leaf got %q", m.Data)
	}
	onH2 := syncSub(t, c2c, "near")
	ll.WaitFor(t, "near", server.ConnLeaf, true)
	if err := lc.Publish("near", []byte("from leaf")); err != nil {
		t.Fatal(err)
	}
	if m := nextMsg(t, onH2); string(m.Data) != "from leaf" {
		t.Fatalf("h2 got %q", m.Data)
	}
}

// leafnodes { authorization { user, password, account } } binds the leaf
// node to the account; wrong credentials are refused with upstream's
// error and the remote keeps retrying.
func TestLeafAuthorization(t *testing.T) {
	so := server.Options{Accounts: []string{"A"}}
	hs, hub, hlogs := startHub(t, so, leaf.Options{Username: "leaf", Password: "s3cret", Account: "A"})
	_, bad, blogs := startLeaf(t, server.Options{}, remoteTo(hub, url.UserPassword("leaf", "wrong")))
	blogs.WaitFor(t, "Leafnode Error 'Authorization Violation'")
	hlogs.WaitFor(t, `authentication error - User "leaf"`)
	// It retries with its reconnect delay.
	servertest.WaitUntil(t, "a second refused attempt", func() bool {
		return strings.Count(blogs.String(), "Authorization Violation") >= 2
	})
	if bad.NumConnections() != 0 {
		t.Fatal("a refused remote counts as connected")
	}
	ls, spoke, _ := startLeaf(t, server.Options{}, remoteTo(hub, url.UserPassword("leaf", "s3cret")))
	waitConns(t, spoke, 1)
	hl := servertest.WatchInterest(t, hs)
	lc := servertest.Connect(t, ls)
	onLeaf := syncSub(t, lc, "acc.a")
	ev := hl.WaitFor(t, "acc.a", server.ConnLeaf, true)
	if ev.Account != "A" {
		t.Fatalf("the leaf's interest is in account %q, want A", ev.Account)
	}
	// A client of the global account does not reach it; one of A does.
	g := servertest.Connect(t, hs)
	if err := g.Publish("acc.a", []byte("global")); err != nil {
		t.Fatal(err)
	}
	g.Flush()
	ic, err := hs.NewInternalClient("A")
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	if err := ic.Publish("acc.a", "", nil, []byte("from A")); err != nil {
		t.Fatal(err)
	}
	if m := nextMsg(t, onLeaf); string(m.Data) != "from A" {
		t.Fatalf("leaf got %q, want only account A's message", m.Data)
	}
}

// Without leafnodes { authorization }, a leaf node authenticates as one
// of the server's users and binds to that user's account.
func TestLeafServerUsers(t *testing.T) {
	so := optionsFrom(t, `accounts { HUBACC: { users: [ { user: edge, password: pw }, { user: app, password: pw } ] } }`)
	hs, hub, _ := startHub(t, so, leaf.Options{})
	_, _, blogs := startLeaf(t, server.Options{}, remoteTo(hub, url.UserPassword("edge", "nope")))
	blogs.WaitFor(t, "Leafnode Error 'Authorization Violation'")
	ls, spoke, _ := startLeaf(t, server.Options{}, remoteTo(hub, url.UserPassword("edge", "pw")))
	waitConns(t, spoke, 1)
	hl := servertest.WatchInterest(t, hs)
	onLeaf := syncSub(t, servertest.Connect(t, ls), "edge.in")
	if ev := hl.WaitFor(t, "edge.in", server.ConnLeaf, true); ev.Account != "HUBACC" {
		t.Fatalf("interest in account %q, want HUBACC", ev.Account)
	}
	app := servertest.Connect(t, hs, nats.UserInfo("app", "pw"))
	if err := app.Publish("edge.in", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if m := nextMsg(t, onLeaf); string(m.Data) != "hi" {
		t.Fatalf("leaf got %q", m.Data)
	}
}

// Two servers that are each other's leaf node form a loop: it is
// detected with upstream's error and the remote waits before dialing
// again.
func TestLeafLoopDetected(t *testing.T) {
	a, hubA, alogs := startHub(t, server.Options{}, leaf.Options{})
	bs, blogs := servertest.StartWithLogs(t, server.Options{})
	hubB, err := leaf.Start(bs, &leaf.Options{Host: "127.0.0.1", Port: leaf.RandomPort, Reconnect: 50 * time.Millisecond,
		Remotes: []*leaf.Remote{{URLs: []*url.URL{leafURL(hubA, nil)}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hubB.Close)
	waitConns(t, hubA, 1)
	// a dials b back: a loop.
	lo := remoteTo(hubB, nil)
	lo.Reconnect = 50 * time.Millisecond
	spokeA, err := leaf.Start(a, &lo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(spokeA.Close)
	// Either side may see its own loop detection subject first.
	servertest.WaitUntil(t, "the loop to be detected", func() bool {
		return strings.Contains(alogs.String()+blogs.String(), `Loop detected for leafnode account="$G". Delaying attempt to reconnect for 30s`)
	})
}

// A leaf node of the hub's own cluster is refused with upstream's error.
func TestLeafSameClusterRefused(t *testing.T) {
	hs, hub, hlogs := startHub(t, server.Options{}, leaf.Options{})
	hs.SetClusterName("one")
	ls, _ := servertest.StartWithLogs(t, server.Options{})
	ls.SetClusterName("one")
	lo := remoteTo(hub, nil)
	lf, err := leaf.Start(ls, &lo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lf.Close)
	hlogs.WaitFor(t, "remote leafnode has same cluster name")
	hlogs.WaitFor(t, "Leafnode connection closed: Cluster Names Identical")
}

// deny_exports keeps messages from leaving for the hub, deny_imports
// keeps the hub's messages out; other subjects cross.
func TestLeafDenyImportsExports(t *testing.T) {
	hs, hub, _ := startHub(t, server.Options{}, leaf.Options{})
	lo := remoteTo(hub, nil)
	lo.Remotes[0].DenyExports = []string{"secret.>"}
	lo.Remotes[0].DenyImports = []string{"private.*"}
	ls, spoke, _ := startLeaf(t, server.Options{}, lo)
	waitConns(t, spoke, 1)
	hl, ll := servertest.WatchInterest(t, hs), servertest.WatchInterest(t, ls)
	hc, lc := servertest.Connect(t, hs), servertest.Connect(t, ls)

	// Exports: the hub subscribes to both; only "open" crosses.
	hsub := syncSub(t, hc, ">")
	ll.WaitFor(t, ">", server.ConnLeaf, true)
	for _, s := range []string{"secret.x", "open.x"} {
		if err := lc.Publish(s, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if m := nextMsg(t, hsub); m.Subject != "open.x" {
		t.Fatalf("the hub got %q first: deny_exports let it out", m.Subject)
	}
	hsub.Unsubscribe()

	// Imports: the leaf asks for nothing under private.*, and drops
	// what the hub sends anyway.
	lsub := syncSub(t, lc, "private.a")
	marker := syncSub(t, lc, "pub.a")
	hl.WaitFor(t, "pub.a", server.ConnLeaf, true)
	if _, ok := hl.Find("private.a", server.ConnLeaf, true); ok {
		t.Fatal("the leaf announced interest deny_imports refuses")
	}
	for _, s := range []string{"private.a", "pub.a"} {
		if err := hc.Publish(s, nil); err != nil {
			t.Fatal(err)
		}
	}
	nextMsg(t, marker)
	if m, err := lsub.NextMsg(10 * time.Millisecond); err == nil {
		t.Fatalf("the leaf got %q despite deny_imports", m.Subject)
	}
}

// Remotes bound to different local accounts keep their traffic apart.
func TestLeafRemotesPerAccount(t *testing.T) {
	so := optionsFrom(t, `accounts { A: { users: [ { user: a, password: pw } ] }, B: { users: [ { user: b, password: pw } ] } }`)
	hs, hub, _ := startHub(t, so, leaf.Options{})
	lso := server.Options{Accounts: []string{"LA", "LB"}}
	ls, spoke, _ := startLeaf(t, lso, leaf.Options{Remotes: []*leaf.Remote{
		{URLs: []*url.URL{leafURL(hub, url.UserPassword("a", "pw"))}, Account: "LA"},
		{URLs: []*url.URL{leafURL(hub, url.UserPassword("b", "pw"))}, Account: "LB"},
	}})
	waitConns(t, spoke, 2)
	waitConns(t, hub, 2)
	hl := servertest.WatchInterest(t, hs)
	la, err := ls.NewInternalClient("LA")
	if err != nil {
		t.Fatal(err)
	}
	defer la.Close()
	got := make(chan string, 10)
	if _, err := la.Subscribe("x", "", func(m *server.Msg) { got <- "LA:" + string(m.Data) }); err != nil {
		t.Fatal(err)
	}
	if ev := hl.WaitFor(t, "x", server.ConnLeaf, true); ev.Account != "A" {
		t.Fatalf("LA's interest reached account %q, want A", ev.Account)
	}
	for _, u := range []string{"b", "a"} {
		nc := servertest.Connect(t, hs, nats.UserInfo(u, "pw"))
		if err := nc.Publish("x", []byte(u)); err != nil {
			t.Fatal(err)
		}
		nc.Flush()
	}
	select {
	case m := <-got:
		if m != "LA:a" {
			t.Fatalf("LA got %q, want only account A's message", m)
		}
	case <-time.After(servertest.DefaultWait):
		t.Fatal("LA got nothing")
	}
}

// After the hub restarts, the remote connects again and its interest is
// restored.
func TestLeafReconnectAfterHubRestart(t *testing.T) {
	hs, hub, _ := startHub(t, server.Options{}, leaf.Options{})
	addr := hub.Addr().String()
	ls, spoke, _ := startLeaf(t, server.Options{}, leaf.Options{Remotes: []*leaf.Remote{{URLs: []*url.URL{{Scheme: "nats-leaf", Host: addr}}}}})
	waitConns(t, spoke, 1)
	lc := servertest.Connect(t, ls)
	onLeaf := syncSub(t, lc, "again")
	hub.Close()
	waitConns(t, spoke, 0)
	host, port := splitHostPort(t, addr)
	hub2, err := leaf.Start(hs, &leaf.Options{Host: host, Port: port})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hub2.Close)
	waitConns(t, spoke, 1)
	hl := servertest.WatchInterest(t, hs)
	hl.WaitFor(t, "again", server.ConnLeaf, true)
	if err := servertest.Connect(t, hs).Publish("again", []byte("back")); err != nil {
		t.Fatal(err)
	}
	if m := nextMsg(t, onLeaf); string(m.Data) != "back" {
		t.Fatalf("leaf got %q", m.Data)
	}
}

// A disabled remote is not dialed; URL lists are tried in order with
// no_randomize, the unreachable one skipped.
func TestLeafDisabledAndURLList(t *testing.T) {
	_, hub, hlogs := startHub(t, server.Options{}, leaf.Options{})
	dead := &url.URL{Scheme: "nats-leaf", Host: "127.0.0.1:1"}
	_, spoke, logs := startLeaf(t, server.Options{}, leaf.Options{Remotes: []*leaf.Remote{
		{URLs: []*url.URL{leafURL(hub, nil)}, Disabled: true},
		{URLs: []*url.URL{dead, leafURL(hub, nil)}, NoRandomize: true},
	}})
	waitConns(t, spoke, 1)
	if !strings.Contains(logs.String(), `Error trying to connect as leafnode to remote server "127.0.0.1:1" (attempt 1)`) {
		t.Errorf("the first URL was not tried first:\n%s", logs.String())
	}
	if n := strings.Count(hlogs.String(), "Leafnode connection created"); n != 1 {
		t.Errorf("the hub saw %d leaf connections, want 1 (the disabled remote dialed?)", n)
	}
}

func splitHostPort(t *testing.T, hp string) (string, int) {
	t.Helper()
	u, err := url.Parse("x://" + hp)
	if err != nil {
		t.Fatal(err)
	}
	var port int
	for _, ch := range u.Port() {
		port = port*10 + int(ch-'0')
	}
	return u.Hostname(), port
}

// Start refuses what it cannot run: an account that does not exist, a
// single user next to a users list.
func TestLeafStartRefuses(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	for name, o := range map[string]leaf.Options{
		`cannot find local account "NOPE" specified in leafnode remote`: {Remotes: []*leaf.Remote{{URLs: []*url.URL{{Scheme: "nats-leaf", Host: "127.0.0.1:1"}}, Account: "NOPE"}}},
		"can not have a single user/pass and a users array":             {Username: "a", Users: []leaf.User{{Username: "b"}}},
	} {
		lf, err := leaf.Start(s, &o)
		if err == nil {
			lf.Close()
			t.Errorf("Start accepted options that want %q", name)
		} else if !strings.Contains(err.Error(), name) {
			t.Errorf("Start: %v, want %q", err, name)
		}
	}
}

// JetStream's API never crosses a leaf connection (upstream's deny for
// sides that are not one extended domain): the hub's $JS.API interest is
// not announced, and a request on it from the leaf does not cross.
func TestLeafJetStreamAPIDenied(t *testing.T) {
	hs, hub, _ := startHub(t, server.Options{}, leaf.Options{})
	ls, spoke, _ := startLeaf(t, server.Options{}, remoteTo(hub, nil))
	waitConns(t, spoke, 1)
	ll := servertest.WatchInterest(t, ls)
	hc, lc := servertest.Connect(t, hs), servertest.Connect(t, ls)
	api := syncSub(t, hc, "$JS.API.>")
	all := syncSub(t, hc, ">")
	ll.WaitFor(t, ">", server.ConnLeaf, true)
	if _, ok := ll.Find("$JS.API.>", server.ConnLeaf, true); ok {
		t.Fatal("the hub announced $JS.API.> to its leaf")
	}
	for _, s := range []string{"$JS.API.INFO", "$KV.b.k", "app.x"} {
		if err := lc.Publish(s, nil); err != nil {
			t.Fatal(err)
		}
	}
	if m := nextMsg(t, all); m.Subject != "app.x" {
		t.Fatalf("the hub got %q first: JetStream's subjects crossed", m.Subject)
	}
	if m, err := api.NextMsg(10 * time.Millisecond); err == nil {
		t.Fatalf("the hub's $JS.API subscriber got %q from the leaf", m.Subject)
	}
}
