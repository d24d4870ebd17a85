package server_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// docsAccountsConf is the accounts example of the upstream documentation:
// public and restricted stream and service exports, imports with a prefix
// and with a local subject.
const docsAccountsConf = `
accounts: {
    A: {
        users: [ {user: a, password: a} ]
        exports: [
            {stream: puba.>}
            {service: pubq.>}
            {stream: b.>, accounts: [B]}
            {service: q.b, accounts: [B]}
        ]
    },
    B: {
        users: [ {user: b, password: b} ]
        imports: [
            {stream: {account: A, subject: b.>}}
            {service: {account: A, subject: q.b}}
        ]
    }
    C: {
        users: [ {user: c, password: c} ]
        imports: [
            {stream: {account: A, subject: puba.>}, prefix: from_a}
            {service: {account: A, subject: pubq.C}, to: Q}
        ]
    }
}
`

// expectMsg waits for one message on sub and checks its subject and data.
func expectMsg(t *testing.T, sub *nats.Subscription, subject, data string) {
	t.Helper()
	m, err := sub.NextMsg(2 * time.Second)
	require.NoError(t, err)
	require.Equal(t, subject, m.Subject)
	require.Equal(t, data, string(m.Data))
}

func syncSub(t *testing.T, nc *nats.Conn, subject string) *nats.Subscription {
	t.Helper()
	sub, err := nc.SubscribeSync(subject)
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	return sub
}

func TestDocsAccountsStreams(t *testing.T) {
	s := servertest.StartConfig(t, docsAccountsConf)
	a := servertest.Connect(t, s, nats.UserInfo("a", "a"))
	b := servertest.Connect(t, s, nats.UserInfo("b", "b"))
	c := servertest.Connect(t, s, nats.UserInfo("c", "c"))

	bAll := syncSub(t, b, ">")
	cAll := syncSub(t, c, ">")

	for _, subj := range []string{"puba.x", "b.y", "other"} {
		require.NoError(t, a.Publish(subj, []byte(subj)))
	}
	require.NoError(t, a.Flush())
	// B imported b.> without prefix; C imported puba.> under from_a.
	expectMsg(t, bAll, "b.y", "b.y")
	servertest.ExpectNoMsg(t, bAll, b)
	expectMsg(t, cAll, "from_a.puba.x", "puba.x")
	servertest.ExpectNoMsg(t, cAll, c)

	// Publishing in the importing account does not reach the exporter.
	aAll := syncSub(t, a, ">")
	require.NoError(t, b.Publish("b.y", nil))
	require.NoError(t, b.Flush())
	servertest.ExpectNoMsg(t, aAll, a)
}

func TestDocsAccountsServices(t *testing.T) {
	s := servertest.StartConfig(t, docsAccountsConf)
	a := servertest.Connect(t, s, nats.UserInfo("a", "a"))
	b := servertest.Connect(t, s, nats.UserInfo("b", "b"))
	c := servertest.Connect(t, s, nats.UserInfo("c", "c"))

	_, err := a.Subscribe("pubq.>", func(m *nats.Msg) { _ = m.Respond([]byte("A:" + m.Subject)) })
	require.NoError(t, err)
	_, err = a.Subscribe("q.b", func(m *nats.Msg) {
		// The responder sees a reply subject of its own account.
		if !strings.HasPrefix(m.Reply, "_R_.") {
			_ = m.Respond([]byte("bad reply " + m.Reply))
			return
		}
		_ = m.Respond(append([]byte("A:q.b:"), m.Data...))
	})
	require.NoError(t, err)
	require.NoError(t, a.Flush())

	r, err := c.Request("Q", nil, 2*time.Second)
	require.NoError(t, err)
	require.Equal(t, "A:pubq.C", string(r.Data))

	r, err = b.Request("q.b", []byte("hi"), 2*time.Second)
	require.NoError(t, err)
	require.Equal(t, "A:q.b:hi", string(r.Data))

	// C did not import q.b, nor B pubq.>: their requests find no one.
	_, err = c.Request("q.b", nil, time.Second)
	require.ErrorIs(t, err, nats.ErrNoResponders)
	_, err = b.Request("pubq.C", nil, time.Second)
	require.ErrorIs(t, err, nats.ErrNoResponders)

	// Many requests in flight, with the old-style inbox per request too.
	for i := range 50 {
		r, err := c.Request("Q", nil, 2*time.Second)
		require.NoError(t, err, i)
		require.Equal(t, "A:pubq.C", string(r.Data))
	}
	cOld := servertest.Connect(t, s, nats.UserInfo("c", "c"), nats.UseOldRequestStyle())
	r, err = cOld.Request("Q", nil, 2*time.Second)
	require.NoError(t, err)
	require.Equal(t, "A:pubq.C", string(r.Data))
}

func TestServiceImportNoResponders(t *testing.T) {
	s := servertest.StartConfig(t, docsAccountsConf)
	c := servertest.Connect(t, s, nats.UserInfo("c", "c"))
	// Imported but nobody in A answers: the requester learns at once.
	start := time.Now()
	_, err := c.Request("Q", nil, 2*time.Second)
	require.ErrorIs(t, err, nats.ErrNoResponders)
	require.Less(t, time.Since(start), time.Second)
}

// TestServiceResponseTypes: a singleton service delivers one response per
// request, a stream service all of them.
func TestServiceResponseTypes(t *testing.T) {
	s := servertest.StartConfig(t, `
accounts {
  A: {
    users: [ {user: a, password: a} ]
    exports: [
      {service: one}
      {service: many, response_type: stream, response_threshold: "1s"}
    ]
  }
  B: {
    users: [ {user: b, password: b} ]
    imports: [
      {service: {account: A, subject: one}}
      {service: {account: A, subject: many}}
    ]
  }
}`)
	a := servertest.Connect(t, s, nats.UserInfo("a", "a"))
	b := servertest.Connect(t, s, nats.UserInfo("b", "b"))
	responded := make(chan struct{}, 2)
	for _, subj := range []string{"one", "many"} {
		_, err := a.Subscribe(subj, func(m *nats.Msg) {
			for i := range 3 {
				_ = m.Respond([]byte{byte('0' + i)})
			}
			responded <- struct{}{}
		})
		require.NoError(t, err)
	}
	require.NoError(t, a.Flush())

	inbox := syncSub(t, b, "inbox.>")
	require.NoError(t, b.PublishRequest("one", "inbox.1", nil))
	expectMsg(t, inbox, "inbox.1", "0")
	<-responded // all three responses are written; a's flush sends them
	servertest.ExpectNoMsg(t, inbox, a, b)

	require.NoError(t, b.PublishRequest("many", "inbox.2", nil))
	for i := range 3 {
		expectMsg(t, inbox, "inbox.2", string(rune('0'+i)))
	}
	<-responded
	servertest.ExpectNoMsg(t, inbox, a, b)
}

// TestStreamImportTo: a stream import's to takes the exporter's wildcards
// in order.
func TestStreamImportTo(t *testing.T) {
	s := servertest.StartConfig(t, `
accounts {
  A: { users: [ {user: a, password: a} ], exports: [ {stream: "orders.*.*"} ] }
  B: {
    users: [ {user: b, password: b} ]
    imports: [ {stream: {account: A, subject: "orders.*.*"}, to: "shop.*.x.*"} ]
  }
}`)
	a := servertest.Connect(t, s, nats.UserInfo("a", "a"))
	b := servertest.Connect(t, s, nats.UserInfo("b", "b"))
	sub := syncSub(t, b, ">")
	require.NoError(t, a.Publish("orders.eu.42", []byte("o")))
	require.NoError(t, a.Flush())
	expectMsg(t, sub, "shop.eu.x.42", "o")
}

// TestServiceImportWildcardTo: a service import's local subject with
// wildcards maps onto the exported subject's.
func TestServiceImportWildcardTo(t *testing.T) {
	s := servertest.StartConfig(t, `
accounts {
  A: { users: [ {user: a, password: a} ], exports: [ {service: "api.>"} ] }
  B: {
    users: [ {user: b, password: b} ]
    imports: [ {service: {account: A, subject: "api.v1.*.>"}, to: "svc.*.>"} ]
  }
}`)
	a := servertest.Connect(t, s, nats.UserInfo("a", "a"))
	b := servertest.Connect(t, s, nats.UserInfo("b", "b"))
	_, err := a.Subscribe("api.>", func(m *nats.Msg) { _ = m.Respond([]byte(m.Subject)) })
	require.NoError(t, err)
	require.NoError(t, a.Flush())
	r, err := b.Request("svc.users.get.7", nil, 2*time.Second)
	require.NoError(t, err)
	require.Equal(t, "api.v1.users.get.7", string(r.Data))
}

// TestServiceImportChain: B imports a service from A and re-exports it to
// C; C's requests reach A and the answers come back through B.
func TestServiceImportChain(t *testing.T) {
	s := servertest.StartConfig(t, `
accounts {
  A: { users: [ {user: a, password: a} ], exports: [ {service: svc} ] }
  B: {
    imports: [ {service: {account: A, subject: svc}} ]
    exports: [ {service: svc} ]
  }
  C: { users: [ {user: c, password: c} ], imports: [ {service: {account: B, subject: svc}, to: req} ] }
}`)
	a := servertest.Connect(t, s, nats.UserInfo("a", "a"))
	c := servertest.Connect(t, s, nats.UserInfo("c", "c"))
	_, err := a.Subscribe("svc", func(m *nats.Msg) { _ = m.Respond([]byte("from A")) })
	require.NoError(t, err)
	require.NoError(t, a.Flush())
	r, err := c.Request("req", nil, 2*time.Second)
	require.NoError(t, err)
	require.Equal(t, "from A", string(r.Data))
}

// TestImportCycleEnds: two accounts importing the same service from each
// other do not loop forever.
func TestImportCycleEnds(t *testing.T) {
	s := servertest.StartConfig(t, `
accounts {
  A: { users: [ {user: a, password: a} ], exports: [ {service: svc} ], imports: [ {service: {account: B, subject: svc}} ] }
  B: { users: [ {user: b, password: b} ], exports: [ {service: svc} ], imports: [ {service: {account: A, subject: svc}} ] }
}`)
	a := servertest.Connect(t, s, nats.UserInfo("a", "a"))
	var got atomic.Int32
	b := servertest.Connect(t, s, nats.UserInfo("b", "b"))
	_, err := b.Subscribe("svc", func(m *nats.Msg) {
		got.Add(1)
		_ = m.Respond([]byte("B"))
	})
	require.NoError(t, err)
	require.NoError(t, b.Flush())
	r, err := a.Request("svc", nil, 2*time.Second)
	require.NoError(t, err)
	require.Equal(t, "B", string(r.Data))
	require.NoError(t, a.Flush())
	require.LessOrEqual(t, got.Load(), int32(8))
}

func TestMappings(t *testing.T) {
	s := servertest.StartConfig(t, `
mappings: {
  foo: bar
  "a.*.*": "b.$2.{{wildcard(1)}}"
  "part.*": "part.{{partition(3,1)}}.{{wildcard(1)}}"
}
accounts {
  A: {
    users: [ {user: a, password: a} ]
    mappings: { "x": "y" }
  }
}
authorization { users: [ {user: g, password: g} ] }
`)
	g := servertest.Connect(t, s, nats.UserInfo("g", "g"))
	a := servertest.Connect(t, s, nats.UserInfo("a", "a"))
	all := syncSub(t, g, ">")
	aAll := syncSub(t, a, ">")

	require.NoError(t, g.Publish("foo", []byte("1")))
	require.NoError(t, g.Publish("a.one.two", []byte("2")))
	require.NoError(t, g.Publish("x", []byte("3"))) // A's mapping, not $G's
	require.NoError(t, g.Publish("part.k", []byte("4")))
	require.NoError(t, a.Publish("x", []byte("5")))
	require.NoError(t, a.Publish("foo", []byte("6"))) // $G's mapping, not A's
	require.NoError(t, g.Flush())
	require.NoError(t, a.Flush())

	expectMsg(t, all, "bar", "1")
	expectMsg(t, all, "b.two.one", "2")
	expectMsg(t, all, "x", "3")
	m, err := all.NextMsg(2 * time.Second)
	require.NoError(t, err)
	require.Regexp(t, `^part\.[012]\.k$`, m.Subject)
	expectMsg(t, aAll, "y", "5")
	expectMsg(t, aAll, "foo", "6")

	// Requests follow the mapping, and so do their answers.
	_, err = g.Subscribe("bar", func(m *nats.Msg) { _ = m.Respond([]byte("mapped")) })
	require.NoError(t, err)
	require.NoError(t, g.Flush())
	r, err := g.Request("foo", nil, 2*time.Second)
	require.NoError(t, err)
	require.Equal(t, "mapped", string(r.Data))
}

func TestWeightedMappings(t *testing.T) {
	s := servertest.StartConfig(t, `
mappings: {
  "w.*": [
    {destination: "w80.$1", weight: 80%}
    {destination: "w20.$1", weight: "20%"}
  ]
  "half": [ {destination: "mapped", weight: 50} ]
  "zero": [ {destination: "never", weight: 0}, {destination: "always", weight: 100} ]
  "alone": [ {destination: "never", weight: 0} ]
}`)
	nc := servertest.Connect(t, s)
	// A weight of 0 is never taken, as upstream; a sole one leaves the
	// subject unmapped.
	sub, err := nc.SubscribeSync("*")
	require.NoError(t, err)
	require.NoError(t, nc.Publish("zero", nil))
	require.NoError(t, nc.Publish("alone", nil))
	for _, want := range []string{"always", "alone"} {
		m, err := sub.NextMsg(2 * time.Second)
		require.NoError(t, err)
		require.Equal(t, want, m.Subject)
	}
	require.NoError(t, sub.Unsubscribe())
	counts := map[string]int{}
	done := make(chan struct{})
	const n = 2000
	seen := 0
	_, err = nc.Subscribe(">", func(m *nats.Msg) {
		counts[strings.SplitN(m.Subject, ".", 2)[0]]++
		if seen++; seen == 2*n {
			close(done)
		}
	})
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	for i := range n {
		require.NoError(t, nc.Publish("w."+string(rune('a'+i%26)), nil))
		require.NoError(t, nc.Publish("half", nil))
	}
	require.NoError(t, nc.Flush())
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("got %d of %d messages", seen, 2*n)
	}
	// 80/20 within a few standard deviations (sd about 18 for n=2000).
	require.InDelta(t, 0.8*n, counts["w80"], 120, "%v", counts)
	require.Equal(t, n, counts["w80"]+counts["w20"])
	// What the weights leave keeps its subject.
	require.InDelta(t, 0.5*n, counts["mapped"], 150, "%v", counts)
	require.Equal(t, n, counts["mapped"]+counts["half"])
}

// TestClusterScopedMappings: destinations naming the server's cluster
// (SetClusterName, which a route also calls when it adopts a gossiped
// name) replace the others there; elsewhere only the others apply.
func TestClusterScopedMappings(t *testing.T) {
	s := servertest.StartConfig(t, `
mappings: {
  "o.*": [
    {destination: "east.$1", weight: 100%, cluster: east}
    {destination: "any.$1", weight: 100%}
  ]
  "only": [ {destination: "only.east", weight: 100%, cluster: east} ]
}`)
	nc := servertest.Connect(t, s)
	all := syncSub(t, nc, ">")
	publish := func(subjects ...string) {
		t.Helper()
		for _, subj := range subjects {
			require.NoError(t, nc.Publish(subj, []byte(subj)))
		}
		require.NoError(t, nc.Flush())
	}

	publish("o.1", "only")
	expectMsg(t, all, "any.1", "o.1")
	expectMsg(t, all, "only", "only")

	s.SetClusterName("east")
	publish("o.2", "only")
	expectMsg(t, all, "east.2", "o.2")
	expectMsg(t, all, "only.east", "only")

	s.SetClusterName("west")
	publish("o.3", "only")
	expectMsg(t, all, "any.3", "o.3")
	expectMsg(t, all, "only", "only")
}

// TestMappingWeightErrors: upstream 2.15.2's texts for weights (checked
// against the binary); the weights of each cluster add up on their own.
func TestMappingWeightErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"mappings {\n foo: {destination: a}\n}\n", `test.conf:2:7: Missing weight for mapping destination "a"`},
		{"mappings {\n foo: [{destination: a}, {destination: b, weight: 10}]\n}\n", `test.conf:2:8: Missing weight for mapping destination "a"`},
		{"mappings {\n foo: [{destination: a, weight: \"150%\"}]\n}\n", `test.conf:2:33: Invalid weight 150 for mapping destination`},
		{"mappings {\n foo: [{destination: a, weight: -1}]\n}\n", `test.conf:2:33: Invalid weight -1 for mapping destination`},
		{"mappings {\n foo: [{destination: a, weight: 60%, cluster: e}, {destination: b, weight: 50%, cluster: e}]\n}\n",
			`test.conf:2:2: Error adding mapping for "foo" : total weight needs to be <= 100`},
	} {
		_, _, err := applyText(t, tc.text)
		require.Error(t, err, tc.text)
		require.Contains(t, err.Error(), tc.want)
	}
	_, _, err := applyText(t, "mappings {\n foo: [{destination: a, weight: 60%, cluster: e}, {destination: b, weight: 50%, cluster: f}, {destination: c, weight: 50%}]\n}\n")
	require.NoError(t, err)
}

func TestLinksConfigErrors(t *testing.T) {
	_, _, err := applyText(t, `
accounts {
  A: { exports: [ {stream: "s.>", accounts: [B]}, {service: "q", response_type: sometimes} ] }
  B: {}
  C: {
    imports: [
      {stream: {account: A, subject: "s.x"}}
      {service: {account: A, subject: "s.x"}}
      {stream: {account: Z, subject: "s.x"}}
      {stream: {account: A, subject: "s.x"}, prefix: "p.*"}
      {service: {account: A, subject: "q"}, to: "r.*"}
    ]
  }
}
mappings: {
  "m.*": "n.$2"
  "w": [ {destination: a, weight: 60}, {destination: b, weight: 50} ]
}`)
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{
		`test.conf:3:81: unknown response type "sometimes"`,
		`test.conf:7:7: account C: stream import not authorized: "s.x" of account "A"`,
		`test.conf:8:7: account C: service import not authorized`,
		`test.conf:9:7: account C: stream import: account "Z" not defined`,
		`test.conf:10:7: account C: stream import prefix can not contain wildcard tokens`,
		`test.conf:11:7: account C: import to "r.*" does not fit subject "q"`,
		`test.conf:16:3: mapping "m.*" destination 1`,
		`test.conf:17:3: Error adding mapping for "w" : total weight needs to be <= 100`,
	} {
		require.Contains(t, msg, want)
	}

	// The same checks guard Options given to New directly.
	_, err = server.New(server.Options{
		Accounts: []string{"A", "B"},
		Imports:  []server.Import{{Account: "B", From: "A", Subject: "x"}},
	})
	require.ErrorIs(t, err, server.ErrBadOptions)
	require.ErrorContains(t, err, "stream import not authorized")
}

// TestServiceImportPermissions: a responder that may publish only
// responses (allow_responses) answers requests of another account, and
// an importer's publish permissions apply to its local subject.
func TestServiceImportPermissions(t *testing.T) {
	s := servertest.StartConfig(t, `
accounts {
  A: {
    users: [ {user: a, password: a, permissions: { publish: { deny: ">" }, subscribe: "svc", allow_responses: true } } ]
    exports: [ {service: svc} ]
  }
  B: {
    users: [
      {user: b, password: b}
      {user: nob, password: nob, permissions: { publish: { deny: "local" } } }
    ]
    imports: [ {service: {account: A, subject: svc}, to: local} ]
  }
}`)
	a := servertest.Connect(t, s, nats.UserInfo("a", "a"))
	_, err := a.Subscribe("svc", func(m *nats.Msg) { _ = m.Respond([]byte("ok")) })
	require.NoError(t, err)
	require.NoError(t, a.Flush())

	b := servertest.Connect(t, s, nats.UserInfo("b", "b"))
	r, err := b.Request("local", nil, 2*time.Second)
	require.NoError(t, err)
	require.Equal(t, "ok", string(r.Data))

	errs := make(chan error, 1)
	nob := servertest.Connect(t, s, nats.UserInfo("nob", "nob"), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case errs <- err:
		default:
		}
	}))
	require.NoError(t, nob.Publish("local", nil))
	select {
	case err := <-errs:
		require.Contains(t, err.Error(), `Permissions Violation for Publish to "local"`)
	case <-time.After(3 * time.Second):
		t.Fatal("publish to the imported subject not refused")
	}
}

// BenchmarkCrossAccount measures delivery through a stream import (with a
// prefix) and a service request/reply round trip through a service
// import, end to end with nats.go.
func BenchmarkCrossAccount(b *testing.B) {
	s := servertest.StartConfig(b, `
accounts {
  A: { users: [ {user: a, password: a} ], exports: [ {stream: "feed.>"}, {service: "svc"} ] }
  B: {
    users: [ {user: b, password: b} ]
    imports: [ {stream: {account: A, subject: "feed.>"}, prefix: a}, {service: {account: A, subject: svc}} ]
  }
}`)
	a := servertest.Connect(b, s, nats.UserInfo("a", "a"))
	bc := servertest.Connect(b, s, nats.UserInfo("b", "b"))
	b.Run("stream-import-128", func(b *testing.B) {
		payload := make([]byte, 128)
		got := make(chan struct{})
		n, want := 0, 0
		sub, err := bc.Subscribe("a.feed.x", func(*nats.Msg) {
			if n++; n == want {
				close(got)
			}
		})
		require.NoError(b, err)
		defer sub.Unsubscribe()
		require.NoError(b, bc.Flush())
		want = b.N
		b.SetBytes(128)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if err := a.Publish("feed.x", payload); err != nil {
				b.Fatal(err)
			}
		}
		select {
		case <-got:
		case <-time.After(30 * time.Second):
			b.Fatalf("got %d of %d", n, want)
		}
	})
	b.Run("service-request", func(b *testing.B) {
		sub, err := a.Subscribe("svc", func(m *nats.Msg) { _ = m.Respond(m.Data) })
		require.NoError(b, err)
		defer sub.Unsubscribe()
		require.NoError(b, a.Flush())
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := bc.Request("svc", nil, 5*time.Second); err != nil {
				b.Fatal(err)
			}
		}
	})
}
