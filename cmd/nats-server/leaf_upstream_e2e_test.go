package main

// Leaf nodes between natsd and upstream nats-server (NATSD_UPSTREAM_SERVER
// names its binary; skipped without it): a natsd leaf on an upstream hub
// and an upstream leaf on a natsd hub, nats.go clients on both servers,
// messages, request/reply and queue traffic both ways. The same scenarios
// run upstream against upstream first: that pair is the reference that
// shows the harness itself asks only what upstream does.
//
// Helpers here are prefixed li (leaf interop) to stay clear of the other
// leaf tests of this package.

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// liBin is one server build taking part in a leaf node test.
type liBin struct{ name, path string }

// liPairs are the (hub, leaf) builds a mixed test runs: upstream on both
// sides (the reference), then natsd on each side against upstream.
func liPairs(t *testing.T) [][2]liBin {
	t.Helper()
	up := liBin{"upstream", servertest.UpstreamBinary(t)}
	nd := liBin{"natsd", binary}
	return [][2]liBin{{up, up}, {up, nd}, {nd, up}}
}

// liScenario is one leaf node deployment: the hub's and the leaf's
// configuration (given the hub's leaf node port and a test PKI's files)
// and the users of the clients that exchange traffic (hubUser, leafUser)
// and of clients in another account that must see none of it (hubOther,
// leafOther); an empty user connects without credentials, a nil one is
// no client at all.
type liScenario struct {
	name                string
	hub, leaf           func(leafPort int, f servertest.Files) string
	hubUser, leafUser   []string
	hubOther, leafOther []string
}

var liScenarios = []liScenario{
	{
		name: "plain",
		hub: func(lp int, _ servertest.Files) string {
			return fmt.Sprintf("leafnodes { listen: 127.0.0.1:%d }\n", lp)
		},
		leaf: func(lp int, _ servertest.Files) string {
			return fmt.Sprintf("leafnodes { remotes [ { url: \"nats-leaf://127.0.0.1:%d\" } ] }\n", lp)
		},
		hubUser: []string{}, leafUser: []string{},
	},
	{
		// leafnodes { authorization } binds the leaf connection to HUB;
		// the hub's clients of OTHER see none of its traffic.
		name: "authorization",
		hub: func(lp int, _ servertest.Files) string {
			return fmt.Sprintf(`leafnodes {
  listen: 127.0.0.1:%d
  authorization { user: leaf, password: s3cret, account: HUB }
}
accounts {
  HUB { users [ { user: hub, password: hub } ] }
  OTHER { users [ { user: other, password: other } ] }
}
`, lp)
		},
		leaf: func(lp int, _ servertest.Files) string {
			return fmt.Sprintf("leafnodes { remotes [ { url: \"nats-leaf://leaf:s3cret@127.0.0.1:%d\" } ] }\n", lp)
		},
		hubUser: []string{"hub", "hub"}, leafUser: []string{},
		hubOther: []string{"other", "other"},
	},
	{
		// Mutual TLS on the leaf connection, the remote with a tls://
		// URL and its own tls {} block.
		name: "tls",
		hub: func(lp int, f servertest.Files) string {
			return fmt.Sprintf(`leafnodes {
  listen: 127.0.0.1:%d
  tls { cert_file: %q, key_file: %q, ca_file: %q, verify: true, timeout: 2 }
}
`, lp, f.Cert, f.Key, f.CA)
		},
		leaf: func(lp int, f servertest.Files) string {
			return fmt.Sprintf(`leafnodes { remotes [ {
  url: "tls://127.0.0.1:%d"
  tls { cert_file: %q, key_file: %q, ca_file: %q }
} ] }
`, lp, f.Cert, f.Key, f.CA)
		},
		hubUser: []string{}, leafUser: []string{},
	},
	{
		// Accounts on both sides: the remote binds the leaf's LEAF
		// account, the hub's authorization binds its HUB account; OTHER
		// on either side sees nothing.
		name: "accounts on both sides",
		hub: func(lp int, _ servertest.Files) string {
			return fmt.Sprintf(`leafnodes {
  listen: 127.0.0.1:%d
  authorization { users [ { user: leaf, password: s3cret, account: HUB } ] }
}
accounts {
  HUB { users [ { user: hub, password: hub } ] }
  OTHER { users [ { user: other, password: other } ] }
}
`, lp)
		},
		leaf: func(lp int, _ servertest.Files) string {
			return fmt.Sprintf(`leafnodes { remotes [ { url: "nats-leaf://leaf:s3cret@127.0.0.1:%d", account: LEAF } ] }
accounts {
  LEAF { users [ { user: edge, password: edge } ] }
  OTHER { users [ { user: other, password: other } ] }
}
`, lp)
		},
		hubUser: []string{"hub", "hub"}, leafUser: []string{"edge", "edge"},
		hubOther: []string{"other", "other"}, leafOther: []string{"other", "other"},
	},
}

// liStart starts hub and leaf for sc and returns them with the leaf
// node port.
func liStart(t *testing.T, pair [2]liBin, sc liScenario) (hub, leaf *proc) {
	t.Helper()
	dir := t.TempDir()
	lp := servertest.FreePorts(t, 1)[0]
	files := servertest.NewPKI(t).Files()
	hub = startBinary(t, pair[0].path, "-c", writeFile(t, filepath.Join(dir, "hub.conf"), sc.hub(lp, files)))
	servertest.WaitListening(t, fmt.Sprintf("127.0.0.1:%d", lp))
	leaf = startBinary(t, pair[1].path, "-c", writeFile(t, filepath.Join(dir, "leaf.conf"), sc.leaf(lp, files)))
	return hub, leaf
}

// liConnect connects to p as user (see liScenario), nil for no client.
func liConnect(p *proc, user []string) *nats.Conn {
	p.t.Helper()
	switch len(user) {
	case 0:
		if user == nil {
			return nil
		}
		return p.connect()
	default:
		return p.connect(nats.UserInfo(user[0], user[1]))
	}
}

func TestLeafWithUpstream(t *testing.T) {
	for _, pair := range liPairs(t) {
		for _, sc := range liScenarios {
			t.Run(fmt.Sprintf("hub %s leaf %s/%s", pair[0].name, pair[1].name, sc.name), func(t *testing.T) {
				hub, leaf := liStart(t, pair, sc)
				hnc, lnc := liConnect(hub, sc.hubUser), liConnect(leaf, sc.leafUser)
				hOther, lOther := liConnect(hub, sc.hubOther), liConnect(leaf, sc.leafOther)
				var watch []*nats.Subscription
				var watchConns []*nats.Conn
				for _, nc := range []*nats.Conn{hOther, lOther} {
					if nc != nil {
						sub, err := nc.SubscribeSync(">")
						require.NoError(t, err)
						require.NoError(t, nc.Flush())
						watch, watchConns = append(watch, sub), append(watchConns, nc)
					}
				}
				liExchange(t, "leaf->hub", lnc, hnc)
				liExchange(t, "hub->leaf", hnc, lnc)
				// Whatever crossed the link went to the bound accounts
				// only: the hub and the leaf have handled all of it
				// (each direction's marker arrived last), so a message
				// for another account would sit in its client's queue.
				for i, sub := range watch {
					servertest.ExpectNoMsg(t, sub, watchConns[i])
				}
			})
		}
	}
}

// liExchange sends from the from side to the to side: plain messages, a
// request answered on the to side, and queue traffic, first with members
// only on the to side (every message crosses), then with members on both
// sides (each message delivered once, upstream picking the publisher's
// side).
func liExchange(t *testing.T, what string, from, to *nats.Conn) {
	t.Helper()
	subj := func(s string) string {
		return fmt.Sprintf("%s.%s", map[string]string{"leaf->hub": "l2h", "hub->leaf": "h2l"}[what], s)
	}

	// Queue members and the responder subscribe before the probe: once
	// the probe crosses, the link carries their interest too. Members
	// are synchronous subscriptions, never read: a connection queues a
	// message on its subscription as it reads it, so once a marker that
	// followed the queue messages arrives, their pending counts are
	// final.
	var farMembers, nearMembers []*nats.Subscription
	for range 2 {
		sub, err := to.QueueSubscribeSync(subj("q"), "workers")
		require.NoError(t, err)
		farMembers = append(farMembers, sub)
	}
	_, err := to.Subscribe(subj("svc"), func(m *nats.Msg) { m.Respond(append([]byte("re: "), m.Data...)) })
	require.NoError(t, err)
	farDone, err := to.SubscribeSync(subj("q.done"))
	require.NoError(t, err)
	seq, err := to.SubscribeSync(subj("seq"))
	require.NoError(t, err)
	probe, err := to.SubscribeSync(subj("probe"))
	require.NoError(t, err)
	require.NoError(t, to.Flush())
	servertest.PublishUntil(t, from, subj("probe"), []byte("probe"), probe)

	// Messages keep their order across the link.
	for i := range 100 {
		require.NoError(t, from.Publish(subj("seq"), fmt.Appendf(nil, "m%d", i)))
	}
	for i := range 100 {
		m := servertest.NextMsg(t, seq)
		require.Equal(t, fmt.Sprintf("m%d", i), string(m.Data), what)
	}

	// Request/reply: the reply crosses back on the requester's inbox.
	for i := range 10 {
		r, err := from.Request(subj("svc"), fmt.Appendf(nil, "req %d", i), 5*time.Second)
		require.NoError(t, err, what)
		require.Equal(t, fmt.Sprintf("re: req %d", i), string(r.Data))
	}

	// Queue members on the far side only: all of it crosses.
	const n = 200
	for range n {
		require.NoError(t, from.Publish(subj("q"), []byte("work")))
	}
	require.NoError(t, from.Publish(subj("q.done"), nil))
	servertest.NextMsg(t, farDone)
	require.Equal(t, n, liPending(t, farMembers), what+": queue messages to the far side")

	// Members on both sides: each message once, and the publisher's side
	// keeps them (local members first, as upstream).
	for range 2 {
		sub, err := from.QueueSubscribeSync(subj("q"), "workers")
		require.NoError(t, err)
		nearMembers = append(nearMembers, sub)
	}
	nearDone, err := from.SubscribeSync(subj("q.done"))
	require.NoError(t, err)
	require.NoError(t, from.Flush())
	for range n {
		require.NoError(t, from.Publish(subj("q"), []byte("work")))
	}
	require.NoError(t, from.Publish(subj("q.done"), nil))
	servertest.NextMsg(t, farDone)
	servertest.NextMsg(t, nearDone)
	near, far := liPending(t, nearMembers), liPending(t, farMembers)-n
	t.Logf("%s: queue members on both sides got near %d, far %d", what, near, far)
	require.Equal(t, n, near+far, what+": every queue message once")
	require.Equal(t, n, near, what+": the publisher's side prefers its own members")
}

// liPending sums the messages queued on subs.
func liPending(t *testing.T, subs []*nats.Subscription) int {
	t.Helper()
	total := 0
	for _, sub := range subs {
		n, _, err := sub.Pending()
		require.NoError(t, err)
		total += n
	}
	return total
}

// TestLeafPermissionsWithUpstream: the leaf logs in as a hub user with
// permissions. The hub tells the leaf its import (subscribe) and export
// (publish) permissions, so the leaf keeps its clients' interest in a
// denied subject and their messages on one to itself: nothing denied
// crosses, and the link is never closed for a violation.
func TestLeafPermissionsWithUpstream(t *testing.T) {
	for _, pair := range liPairs(t) {
		t.Run(fmt.Sprintf("hub %s leaf %s", pair[0].name, pair[1].name), func(t *testing.T) {
			sc := liScenario{
				hub: func(lp int, _ servertest.Files) string {
					return fmt.Sprintf(`leafnodes { listen: 127.0.0.1:%d }
accounts { A { users [
  { user: hub, password: hub }
  { user: leaf, password: pw, permissions: { subscribe: { deny: "secret.>" }, publish: { deny: "nopub.>" } } }
] } }
`, lp)
				},
				leaf: func(lp int, _ servertest.Files) string {
					return fmt.Sprintf("leafnodes { remotes [ { url: \"nats-leaf://leaf:pw@127.0.0.1:%d\" } ] }\n", lp)
				},
			}
			hub, leaf := liStart(t, pair, sc)
			hnc, lnc := hub.connect(nats.UserInfo("hub", "hub")), leaf.connect()

			// The leaf's interest in secret.> stays on the leaf.
			onLeaf, err := lnc.SubscribeSync("secret.x")
			require.NoError(t, err)
			open, err := lnc.SubscribeSync("open.x")
			require.NoError(t, err)
			require.NoError(t, lnc.Flush())
			servertest.PublishUntil(t, hnc, "open.x", []byte("probe"), open)
			require.NoError(t, hnc.Publish("secret.x", []byte("secret")))
			require.NoError(t, hnc.Publish("open.x", []byte("after")))
			require.Equal(t, "after", string(servertest.NextMsg(t, open).Data))
			servertest.ExpectNoMsg(t, onLeaf, lnc)

			// The leaf's messages on nopub.> stay on the leaf.
			onHub, err := hnc.SubscribeSync(">")
			require.NoError(t, err)
			require.NoError(t, hnc.Flush())
			servertest.PublishUntil(t, lnc, "open.y", []byte("probe"), onHub)
			require.NoError(t, lnc.Publish("nopub.y", []byte("denied")))
			require.NoError(t, lnc.Publish("open.y", []byte("after")))
			for {
				m := servertest.NextMsg(t, onHub)
				if string(m.Data) == "probe" {
					continue
				}
				require.Equal(t, "open.y", m.Subject, "a denied message crossed")
				break
			}

			// Traffic goes on, and neither side saw a violation.
			liExchange(t, "leaf->hub", lnc, hnc)
			liExchange(t, "hub->leaf", hnc, lnc)
			for _, p := range []*proc{hub, leaf} {
				require.NotContains(t, p.log.String(), "Violation")
			}
		})
	}
}

// TestLeafAllowListWithUpstream: the leaf's hub user may only subscribe
// within ok.>, svc.> and _INBOX.> and publish within ok.> and svc.>: the
// leaf's loop detection subject crosses whatever the lists say (as
// upstream exempts it), interest outside the allow list stays on the
// leaf, the leaf's requests to the hub get their replies, and nothing
// closes the link.
func TestLeafAllowListWithUpstream(t *testing.T) {
	for _, pair := range liPairs(t) {
		t.Run(fmt.Sprintf("hub %s leaf %s", pair[0].name, pair[1].name), func(t *testing.T) {
			sc := liScenario{
				hub: func(lp int, _ servertest.Files) string {
					return fmt.Sprintf(`leafnodes { listen: 127.0.0.1:%d }
accounts { A { users [
  { user: hub, password: hub }
  { user: leaf, password: pw, permissions: { subscribe: { allow: ["ok.>", "svc.>", "_INBOX.>"] }, publish: { allow: ["ok.>", "svc.>"] } } }
] } }
`, lp)
				},
				leaf: func(lp int, _ servertest.Files) string {
					return fmt.Sprintf("leafnodes { remotes [ { url: \"nats-leaf://leaf:pw@127.0.0.1:%d\" } ] }\n", lp)
				},
			}
			hub, leaf := liStart(t, pair, sc)
			hnc, lnc := hub.connect(nats.UserInfo("hub", "hub")), leaf.connect()

			// Interest outside the allow list stays on the leaf: the
			// hub's message on no.x goes nowhere, ok.x after it crosses.
			denied, err := lnc.SubscribeSync("no.x")
			require.NoError(t, err)
			open, err := lnc.SubscribeSync("ok.x")
			require.NoError(t, err)
			require.NoError(t, lnc.Flush())
			servertest.PublishUntil(t, hnc, "ok.x", []byte("probe"), open)
			require.NoError(t, hnc.Publish("no.x", []byte("denied")))
			require.NoError(t, hnc.Publish("ok.x", []byte("after")))
			require.Equal(t, "after", string(servertest.NextMsg(t, open).Data))
			servertest.ExpectNoMsg(t, denied, lnc)

			// A request from the leaf: the reply comes back to its inbox.
			_, err = hnc.Subscribe("svc.echo", func(m *nats.Msg) { m.Respond(append([]byte("re: "), m.Data...)) })
			require.NoError(t, err)
			require.NoError(t, hnc.Flush())
			servertest.WaitUntil(t, "a request answered across the link", func() bool {
				r, err := lnc.Request("svc.echo", []byte("hi"), time.Second)
				return err == nil && string(r.Data) == "re: hi"
			})
			for i := range 10 {
				r, err := lnc.Request("svc.echo", fmt.Appendf(nil, "%d", i), 5*time.Second)
				require.NoError(t, err)
				require.Equal(t, fmt.Sprintf("re: %d", i), string(r.Data))
			}
			for _, p := range []*proc{hub, leaf} {
				require.NotContains(t, p.log.String(), "Violation")
			}
		})
	}
}
