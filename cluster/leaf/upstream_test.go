package leaf_test

// In-process natsd leaf nodes against an upstream nats-server process
// (NATSD_UPSTREAM_SERVER names its binary; skipped without it): what only
// the inside of natsd shows, the interest upstream announces (account,
// queue groups, removal), deny lists against upstream's traffic, and a
// reconnect to a restarted upstream hub.

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"

	"natsd.dev/cluster/leaf"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// upstreamProc is an upstream nats-server process the test can stop
// before it ends.
type upstreamProc struct {
	cmd  *exec.Cmd
	done chan struct{}
	logs *servertest.Logs
}

// startUpstream runs the upstream binary with the configuration text
// until stop or the end of the test.
func startUpstream(t *testing.T, bin, conf string) *upstreamProc {
	t.Helper()
	path := filepath.Join(t.TempDir(), "upstream.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &upstreamProc{cmd: exec.Command(bin, "-c", path), done: make(chan struct{}), logs: &servertest.Logs{}}
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("upstream output:\n%s", p.logs.String())
		}
	})
	return p
}

func (p *upstreamProc) stop() {
	p.cmd.Process.Kill()
	<-p.done
}

// upstreamHubConf is an upstream hub whose leaf connections with user
// leaf bind to its account HUB; OTHER is an account they never reach.
const upstreamHubConf = `listen: 127.0.0.1:%d
leafnodes {
  listen: 127.0.0.1:%d
  authorization { users [ { user: leaf, password: s3cret, account: HUB } ] }
}
accounts {
  HUB { users [ { user: hub, password: hub } ] }
  OTHER { users [ { user: other, password: other } ] }
}
`

// A natsd leaf bound to its account EDGE on an upstream hub: upstream's
// interest arrives in EDGE only, queue groups with their group, and goes
// away on unsubscribe; deny_imports and deny_exports hold against
// upstream's traffic.
func TestLeafOnUpstreamHub(t *testing.T) {
	bin := servertest.UpstreamBinary(t)
	ports := servertest.FreePorts(t, 2)
	startUpstream(t, bin, fmt.Sprintf(upstreamHubConf, ports[0], ports[1]))
	servertest.WaitListening(t, fmt.Sprintf("127.0.0.1:%d", ports[1]))

	so := servertest.ConfigOptions(t, `accounts {
  EDGE { users [ { user: edge, password: edge } ] }
  ELSE { users [ { user: else, password: else } ] }
}`)
	ls, spoke, _ := startLeaf(t, so, leaf.Options{Remotes: []*leaf.Remote{{
		URLs:        []*url.URL{{Scheme: "nats-leaf", User: url.UserPassword("leaf", "s3cret"), Host: fmt.Sprintf("127.0.0.1:%d", ports[1])}},
		Account:     "EDGE",
		DenyImports: []string{"secret.>"},
		DenyExports: []string{"private.>"},
	}}})
	waitConns(t, spoke, 1)
	ll := servertest.WatchInterest(t, ls)
	var mu sync.Mutex
	var strays []server.InterestEvent
	t.Cleanup(ls.AddInterestListener(server.InterestFunc(func(ev server.InterestEvent) {
		if ev.Origin == server.ConnLeaf && ev.Account != "EDGE" {
			mu.Lock()
			strays = append(strays, ev)
			mu.Unlock()
		}
	})))

	hubURL := fmt.Sprintf("nats://127.0.0.1:%d", ports[0])
	hc := servertest.ConnectWhenReady(t, hubURL, nats.UserInfo("hub", "hub"))
	other := servertest.ConnectWhenReady(t, hubURL, nats.UserInfo("other", "other"))
	syncSub(t, other, "up.other")
	plain := syncSub(t, hc, "up.plain")
	if _, err := hc.QueueSubscribeSync("up.q", "g"); err != nil {
		t.Fatal(err)
	}
	hc.Flush()
	if ev := ll.WaitFor(t, "up.plain", server.ConnLeaf, true); ev.Account != "EDGE" {
		t.Fatalf("upstream's interest in account %q, want EDGE", ev.Account)
	}
	if ev := ll.WaitFor(t, "up.q", server.ConnLeaf, true); ev.Account != "EDGE" || ev.Queue != "g" {
		t.Fatalf("upstream's queue interest %+v, want group g in EDGE", ev)
	}
	// OTHER subscribed first: had its interest crossed, it would have
	// come before HUB's.
	if _, ok := ll.Find("up.other", server.ConnLeaf, true); ok {
		t.Fatal("interest of the hub's OTHER account reached the leaf")
	}
	mu.Lock()
	if len(strays) > 0 {
		t.Fatalf("upstream's interest landed outside EDGE: %+v", strays)
	}
	mu.Unlock()
	if err := plain.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	hc.Flush()
	ll.WaitFor(t, "up.plain", server.ConnLeaf, false)

	// deny_imports: the hub's secret.> never reaches the leaf's clients;
	// what follows it on the link does.
	lc := servertest.Connect(t, ls, nats.UserInfo("edge", "edge"))
	all := syncSub(t, lc, ">")
	servertest.PublishUntil(t, hc, "open.probe", []byte("probe"), all)
	for _, subj := range []string{"secret.x", "open.x"} {
		if err := hc.Publish(subj, []byte(subj)); err != nil {
			t.Fatal(err)
		}
	}
	hc.Flush()
	for {
		m := nextMsg(t, all)
		if m.Subject == "open.probe" {
			continue // PublishUntil may have sent more than one
		}
		if m.Subject != "open.x" {
			t.Fatalf("the leaf got %s across deny_imports", m.Subject)
		}
		break
	}

	// deny_exports: the leaf's private.> never reaches the hub.
	hall2 := syncSub(t, hc, ">")
	servertest.PublishUntil(t, lc, "open.probe2", []byte("probe2"), hall2)
	for _, subj := range []string{"private.y", "open.y"} {
		if err := lc.Publish(subj, []byte(subj)); err != nil {
			t.Fatal(err)
		}
	}
	lc.Flush()
	for {
		m := nextMsg(t, hall2)
		if m.Subject == "open.probe2" {
			continue
		}
		if m.Subject != "open.y" {
			t.Fatalf("the hub got %s across deny_exports", m.Subject)
		}
		break
	}
}

// An upstream leaf on a natsd hub whose leafnodes { authorization } binds
// it to account A: its interest, plain and queue, lands in A and nowhere
// else, traffic crosses both ways, and its interest goes when it does.
func TestUpstreamLeafOnHub(t *testing.T) {
	bin := servertest.UpstreamBinary(t)
	so := servertest.ConfigOptions(t, `accounts {
  A { users [ { user: a, password: a } ] }
  B { users [ { user: b, password: b } ] }
}`)
	hs, hub, _ := startHub(t, so, leaf.Options{Users: []leaf.User{{Username: "leaf", Password: "s3cret", Account: "A"}}})
	hl := servertest.WatchInterest(t, hs)
	var mu sync.Mutex
	var strays []server.InterestEvent
	t.Cleanup(hs.AddInterestListener(server.InterestFunc(func(ev server.InterestEvent) {
		if ev.Origin == server.ConnLeaf && ev.Account != "A" {
			mu.Lock()
			strays = append(strays, ev)
			mu.Unlock()
		}
	})))
	port := servertest.FreePorts(t, 1)[0]
	up := startUpstream(t, bin, fmt.Sprintf("listen: 127.0.0.1:%d\nleafnodes { reconnect: 1, remotes [ { url: %q } ] }\n",
		port, leafURL(hub, url.UserPassword("leaf", "s3cret")).String()))
	waitConns(t, hub, 1)

	uc := servertest.ConnectWhenReady(t, fmt.Sprintf("nats://127.0.0.1:%d", port))
	onLeaf := syncSub(t, uc, "edge.plain")
	for range 3 {
		if _, err := uc.QueueSubscribeSync("edge.q", "g"); err != nil {
			t.Fatal(err)
		}
	}
	uc.Flush()
	if ev := hl.WaitFor(t, "edge.plain", server.ConnLeaf, true); ev.Account != "A" {
		t.Fatalf("upstream leaf's interest in account %q, want A", ev.Account)
	}
	if ev := hl.WaitFor(t, "edge.q", server.ConnLeaf, true); ev.Account != "A" || ev.Queue != "g" {
		t.Fatalf("upstream leaf's queue interest %+v, want group g in A", ev)
	}

	a := servertest.Connect(t, hs, nats.UserInfo("a", "a"))
	b := servertest.Connect(t, hs, nats.UserInfo("b", "b"))
	// B's message is published first: were it to cross, it would arrive
	// before A's.
	if err := b.Publish("edge.plain", []byte("from B")); err != nil {
		t.Fatal(err)
	}
	b.Flush()
	if err := a.Publish("edge.plain", []byte("from A")); err != nil {
		t.Fatal(err)
	}
	if m := nextMsg(t, onLeaf); string(m.Data) != "from A" {
		t.Fatalf("the upstream leaf got %q, want only account A's message", m.Data)
	}
	onHub := syncSub(t, a, "hub.in")
	servertest.PublishUntil(t, uc, "hub.in", []byte("up"), onHub)
	if _, err := a.Subscribe("hub.svc", func(m *nats.Msg) { m.Respond([]byte("answer")) }); err != nil {
		t.Fatal(err)
	}
	a.Flush()
	servertest.WaitUntil(t, "a request answered across the link", func() bool {
		r, err := uc.Request("hub.svc", nil, servertest.DefaultWait/10)
		return err == nil && string(r.Data) == "answer"
	})

	mu.Lock()
	if len(strays) > 0 {
		t.Fatalf("the upstream leaf's interest landed outside A: %+v", strays)
	}
	mu.Unlock()

	up.stop()
	waitConns(t, hub, 0)
	hl.WaitFor(t, "edge.plain", server.ConnLeaf, false)
	hl.WaitFor(t, "edge.q", server.ConnLeaf, false)
}

// A natsd leaf reconnects to an upstream hub that restarts, and the
// interest of both sides is restored.
func TestLeafReconnectToUpstreamHub(t *testing.T) {
	bin := servertest.UpstreamBinary(t)
	ports := servertest.FreePorts(t, 2)
	conf := fmt.Sprintf(upstreamHubConf, ports[0], ports[1])
	up := startUpstream(t, bin, conf)
	servertest.WaitListening(t, fmt.Sprintf("127.0.0.1:%d", ports[1]))
	ls, spoke, _ := startLeaf(t, server.Options{}, leaf.Options{Remotes: []*leaf.Remote{{
		URLs: []*url.URL{{Scheme: "nats-leaf", User: url.UserPassword("leaf", "s3cret"), Host: fmt.Sprintf("127.0.0.1:%d", ports[1])}},
	}}})
	waitConns(t, spoke, 1)
	lc := servertest.Connect(t, ls)
	onLeaf := syncSub(t, lc, "again")

	up.stop()
	waitConns(t, spoke, 0)
	startUpstream(t, bin, conf)
	waitConns(t, spoke, 1)
	hc := servertest.ConnectWhenReady(t, fmt.Sprintf("nats://127.0.0.1:%d", ports[0]), nats.UserInfo("hub", "hub"))
	servertest.PublishUntil(t, hc, "again", []byte("back"), onLeaf)
	onHub := syncSub(t, hc, "again.up")
	servertest.PublishUntil(t, lc, "again.up", []byte("up"), onHub)
}
