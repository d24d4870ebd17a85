package route_test

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/cluster/route"
	"natsd.dev/server/servertest"
)

const crossAccountConf = `
accounts {
  A: {
    users: [ {user: a, password: a} ]
    exports: [ {service: svc}, {service: many, response_type: stream}, {stream: "feed.>"} ]
  }
  B: {
    users: [ {user: b, password: b} ]
    imports: [
      {service: {account: A, subject: svc}, to: ask}
      {service: {account: A, subject: many}}
      {stream: {account: A, subject: "feed.>"}, prefix: a}
    ]
  }
}`

// TestImportsAcrossNodes: a requester of B on one node reaches A's
// responder on another through a service import, and its responses come
// back over the route; a stream A publishes on one node reaches B's
// subscriber on the other.
func TestImportsAcrossNodes(t *testing.T) {
	n1 := startNodeWith(t, servertest.ConfigOptions(t, crossAccountConf), "N1", route.Options{Name: "acc"})
	n2 := startNodeWith(t, servertest.ConfigOptions(t, crossAccountConf), "N2", route.Options{Name: "acc", Routes: []*url.URL{n1.routeURL()}})
	waitRoutes(t, 1, n1, n2)

	a := n1.connect(t, nats.UserInfo("a", "a"))
	if _, err := a.Subscribe("svc", func(m *nats.Msg) { _ = m.Respond([]byte("from A on N1")) }); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Subscribe("many", func(m *nats.Msg) {
		for _, s := range []string{"1", "2", "3"} {
			_ = m.Respond([]byte(s))
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	b := n2.connect(t, nats.UserInfo("b", "b"))
	feed, err := b.SubscribeSync("a.feed.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	acc, _ := n2.s.LookupAccount("A"), 0
	servertest.WaitUntilWithin(t, 5*time.Second, "A's interest on N2", func() bool {
		return acc.NumSubscriptions() >= 3 // svc, many and N2's own response subscription
	})
	servertest.WaitUntilWithin(t, 5*time.Second, "B's interest on N1", func() bool {
		return n1.s.LookupAccount("B").NumSubscriptions() >= 1
	})

	for i := range 20 {
		r, err := b.Request("ask", nil, 2*time.Second)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if string(r.Data) != "from A on N1" {
			t.Fatalf("got %q", r.Data)
		}
	}
	inbox, err := b.SubscribeSync("inbox.x")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.PublishRequest("many", "inbox.x", nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1", "2", "3"} {
		m, err := inbox.NextMsg(2 * time.Second)
		if err != nil || string(m.Data) != want {
			t.Fatalf("stream response %s: %v %v", want, m, err)
		}
	}

	if err := a.Publish("feed.x", []byte("f")); err != nil {
		t.Fatal(err)
	}
	m, err := feed.NextMsg(2 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "a.feed.x" || string(m.Data) != "f" {
		t.Fatalf("got %s %q", m.Subject, m.Data)
	}
	// A marker published next comes next: no duplicate came before it.
	if err := a.Publish("feed.end", nil); err != nil {
		t.Fatal(err)
	}
	if m := servertest.NextMsg(t, feed); m.Subject != "a.feed.end" {
		t.Fatalf("a duplicate: %s %q", m.Subject, m.Data)
	}
}

// TestStatszAcrossNodes: a system user's $SYS.REQ.SERVER.PING reaches every
// node of a mesh, and each answer lists its routes and counts the servers.
func TestStatszAcrossNodes(t *testing.T) {
	const conf = `
accounts { SYS: { users: [ {user: sys, password: sys} ] } }
system_account: SYS`
	n1 := startNodeWith(t, servertest.ConfigOptions(t, conf), "N1", route.Options{Name: "sz"})
	n2 := startNodeWith(t, servertest.ConfigOptions(t, conf), "N2", route.Options{Name: "sz", Routes: []*url.URL{n1.routeURL()}})
	n3 := startNodeWith(t, servertest.ConfigOptions(t, conf), "N3", route.Options{Name: "sz", Routes: []*url.URL{n1.routeURL()}})
	waitRoutes(t, 2, n1, n2, n3)

	sys := n2.connect(t, nats.UserInfo("sys", "sys"))
	// The requester's inbox interest has to reach the other nodes: ask
	// until all three answer (bounded).
	for attempt := 0; ; attempt++ {
		if attempt == 20 {
			t.Fatal("not every node answered")
		}
		inbox := nats.NewInbox()
		sub, err := sys.SubscribeSync(inbox)
		if err != nil {
			t.Fatal(err)
		}
		if err := sys.PublishRequest("$SYS.REQ.SERVER.PING", inbox, nil); err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for {
			m, err := sub.NextMsg(300 * time.Millisecond)
			if err != nil {
				break
			}
			var doc struct {
				Server struct{ Name string } `json:"server"`
				Stats  struct {
					Routes        []struct{ Name string } `json:"routes"`
					ActiveServers int                     `json:"active_servers"`
				} `json:"statsz"`
			}
			if err := json.Unmarshal(m.Data, &doc); err != nil {
				t.Fatal(err)
			}
			names[doc.Server.Name] = true
			if doc.Stats.ActiveServers != 3 || len(doc.Stats.Routes) < 2 {
				t.Fatalf("%s: %s", doc.Server.Name, m.Data)
			}
		}
		_ = sub.Unsubscribe()
		if len(names) == 3 {
			return
		}
	}
}
