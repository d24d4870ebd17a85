package sys_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server"
	"natsd.dev/server/config"
	"natsd.dev/server/servertest"
	_ "natsd.dev/server/sys"
)

const systemConf = `
system_account: SYS
accounts {
  SYS: { users: [ { user: sys, password: psys } ] }
  A: { users: [ { user: a, password: pa } ] }
}
`

// sysRequest asks subject and decodes the answer.
func sysRequest(t *testing.T, nc *nats.Conn, subject, body string) map[string]any {
	t.Helper()
	m, err := nc.Request(subject, []byte(body), 3*time.Second)
	require.NoError(t, err, subject)
	var out map[string]any
	require.NoError(t, json.Unmarshal(m.Data, &out), string(m.Data))
	return out
}

func TestSystemAccountRequests(t *testing.T) {
	s := servertest.StartConfig(t, systemConf)
	sys := servertest.Connect(t, s, nats.UserInfo("sys", "psys"))
	a := servertest.Connect(t, s, nats.UserInfo("a", "pa"))
	_, err := a.SubscribeSync("a.sub")
	require.NoError(t, err)
	require.NoError(t, a.Flush())

	for _, subj := range []string{"$SYS.REQ.SERVER." + s.ID() + ".VARZ", "$SYS.REQ.SERVER.PING.VARZ"} {
		r := sysRequest(t, sys, subj, "")
		require.Equal(t, s.ID(), r["server"].(map[string]any)["id"], subj)
		d := r["data"].(map[string]any)
		require.Equal(t, s.ID(), d["server_id"], subj)
		require.EqualValues(t, 2, d["connections"], subj)
		require.Equal(t, "SYS", d["system_account"], subj)
	}
	for _, subj := range []string{"$SYS.REQ.SERVER." + s.ID() + ".CONNZ", "$SYS.REQ.SERVER.PING.CONNZ"} {
		d := sysRequest(t, sys, subj, `{"auth":true,"acc":"A"}`)["data"].(map[string]any)
		require.Equal(t, s.ID(), d["server_id"], subj)
		require.EqualValues(t, 1, d["num_connections"], subj)
		c := d["connections"].([]any)[0].(map[string]any)
		require.Equal(t, "A", c["account"], subj)
		require.Equal(t, "a", c["authorized_user"], subj)
	}
	az := sysRequest(t, sys, "$SYS.REQ.SERVER.PING.ACCOUNTZ", "")["data"].(map[string]any)
	require.Equal(t, []any{"$G", "A", "SYS"}, az["accounts"])
	require.Equal(t, "ok", sysRequest(t, sys, "$SYS.REQ.SERVER.PING.HEALTHZ", "")["data"].(map[string]any)["status"])

	st := sysRequest(t, sys, "$SYS.REQ.SERVER.PING", "")
	require.Equal(t, s.ID(), st["server"].(map[string]any)["id"])
	require.EqualValues(t, 2, st["statsz"].(map[string]any)["connections"])
	st = sysRequest(t, sys, "$SYS.REQ.SERVER."+s.ID()+".STATSZ", "")
	require.EqualValues(t, 2, st["statsz"].(map[string]any)["active_accounts"])

	// A filter that leaves this server out gets silence.
	expectSilence(t, sys, "$SYS.REQ.SERVER.PING.VARZ", `{"server_name":"elsewhere"}`)
	// The filter that matches is answered.
	r := sysRequest(t, sys, "$SYS.REQ.SERVER.PING.VARZ", `{"server_name":"`+s.Name()+`"}`)
	require.Equal(t, s.ID(), r["data"].(map[string]any)["server_id"])

	// Other accounts do not see $SYS.
	_, err = a.Request("$SYS.REQ.SERVER.PING.VARZ", nil, time.Second)
	require.ErrorIs(t, err, nats.ErrNoResponders)
	_, err = a.Request("$SYS.REQ.SERVER."+s.ID()+".CONNZ", nil, time.Second)
	require.ErrorIs(t, err, nats.ErrNoResponders)
}

func TestSystemAccountDefault(t *testing.T) {
	// An empty configuration has the system account $SYS, which answers
	// but which no user can reach.
	s := servertest.Start(t, config.Default().Options)
	require.Equal(t, server.DefaultSystemAccountName, s.SystemAccount().Name)
	nc := servertest.Connect(t, s)
	_, err := nc.Request("$SYS.REQ.SERVER.PING.VARZ", nil, time.Second)
	require.ErrorIs(t, err, nats.ErrNoResponders)

	sess, err := s.Attach(server.SessionOptions{Account: server.DefaultSystemAccountName})
	require.NoError(t, err)
	defer sess.Close()
	got := make(chan []byte, 1)
	_, err = sess.Subscribe("reply.x", "", func(m *server.Msg) {
		select {
		case got <- append([]byte(nil), m.Data...):
		default:
		}
	})
	require.NoError(t, err)
	require.NoError(t, sess.Publish("$SYS.REQ.SERVER.PING.VARZ", "reply.x", nil, nil))
	select {
	case b := <-got:
		var r map[string]any
		require.NoError(t, json.Unmarshal(b, &r))
		require.Equal(t, s.ID(), r["data"].(map[string]any)["server_id"])
	case <-time.After(3 * time.Second):
		t.Fatal("no answer from the system account")
	}

	s2 := servertest.Start(t, server.Options{})
	require.Nil(t, s2.SystemAccount())
	require.Equal(t, []string{"$G"}, mustAccountz(t, s2))
}

func mustAccountz(t *testing.T, s *server.Server) []string {
	t.Helper()
	az, err := s.Accountz(nil)
	require.NoError(t, err)
	return az.Accounts
}

func TestSystemConnectEvents(t *testing.T) {
	s := servertest.StartConfig(t, systemConf)
	sys := servertest.Connect(t, s, nats.UserInfo("sys", "psys"))
	sub, err := sys.SubscribeSync("$SYS.ACCOUNT.A.>")
	require.NoError(t, err)
	require.NoError(t, sys.Flush())

	a := servertest.Connect(t, s, nats.UserInfo("a", "pa"), nats.Name("events"))
	require.NoError(t, a.Publish("x", []byte("hello")))
	require.NoError(t, a.Flush())
	cid, err := a.GetClientID()
	require.NoError(t, err)

	m, err := sub.NextMsg(3 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "$SYS.ACCOUNT.A.CONNECT", m.Subject)
	var ce map[string]any
	require.NoError(t, json.Unmarshal(m.Data, &ce))
	require.Equal(t, "io.nats.server.advisory.v1.client_connect", ce["type"])
	require.NotEmpty(t, ce["id"])
	require.NotEmpty(t, ce["timestamp"])
	si := ce["server"].(map[string]any)
	require.Equal(t, s.ID(), si["id"])
	// Upstream 2.15.2's feature flags with their defaults, and its
	// capability bits (none without JetStream).
	require.Equal(t, map[string]any{"js_ack_fc_v2": false, "js_api_reply_v2": false, "js_raft_delete_range": true, "js_snapshot_sources": false}, si["feature_flags"])
	require.EqualValues(t, 0, si["flags"])
	cl := ce["client"].(map[string]any)
	require.Equal(t, "A", cl["acc"])
	require.Equal(t, "a", cl["user"])
	require.Equal(t, "events", cl["name"])
	require.Equal(t, "go", cl["lang"])
	require.EqualValues(t, cid, cl["id"])

	// The account's connection count follows on $SYS.ACCOUNT.A.SERVER.CONNS.
	m, err = sub.NextMsg(3 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "$SYS.ACCOUNT.A.SERVER.CONNS", m.Subject)

	a.Close()
	m, err = sub.NextMsg(3 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "$SYS.ACCOUNT.A.DISCONNECT", m.Subject)
	var de map[string]any
	require.NoError(t, json.Unmarshal(m.Data, &de))
	require.Equal(t, "io.nats.server.advisory.v1.client_disconnect", de["type"])
	require.Equal(t, "Client Closed", de["reason"])
	// As upstream 2.15.2: sent is what the client published, received
	// what it was delivered.
	require.EqualValues(t, 1, de["sent"].(map[string]any)["msgs"])
	require.EqualValues(t, 0, de["received"].(map[string]any)["msgs"])
	cl = de["client"].(map[string]any)
	require.Equal(t, "A", cl["acc"])
	require.Equal(t, "A", cl["name_tag"])
	require.NotEmpty(t, cl["stop"])

	// Users of other accounts do not see the advisories.
	b := servertest.Connect(t, s, nats.UserInfo("a", "pa"))
	bs, err := b.SubscribeSync("$SYS.>")
	require.NoError(t, err)
	require.NoError(t, b.Flush())
	servertest.Connect(t, s, nats.UserInfo("a", "pa")).Close()
	// The service publishes advisories in order: once the system user has
	// the DISCONNECT, b would have had the CONNECT and the DISCONNECT.
	for m, err = sub.NextMsg(3 * time.Second); err == nil && m.Subject != "$SYS.ACCOUNT.A.DISCONNECT"; m, err = sub.NextMsg(3 * time.Second) {
	}
	require.NoError(t, err)
	servertest.ExpectNoMsg(t, bs, b)
}

// expectSilence asserts that the request subj with body gets no answer.
// The service answers requests one at a time in order, so the answer to a
// HEALTHZ request sent after it on the same reply subject comes first
// only if there was none.
func expectSilence(t *testing.T, nc *nats.Conn, subj, body string) {
	t.Helper()
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	require.NoError(t, err)
	defer sub.Unsubscribe()
	require.NoError(t, nc.PublishRequest(subj, inbox, []byte(body)))
	require.NoError(t, nc.PublishRequest("$SYS.REQ.SERVER.PING.HEALTHZ", inbox, nil))
	_, r := nextJSON(t, sub, 5*time.Second)
	data, _ := r["data"].(map[string]any)
	require.Equal(t, "ok", data["status"], "%s answered: %v", subj, r)
}

// nextJSON waits for the next message of sub and decodes it.
func nextJSON(t *testing.T, sub *nats.Subscription, d time.Duration) (*nats.Msg, map[string]any) {
	t.Helper()
	m, err := sub.NextMsg(d)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(m.Data, &out), string(m.Data))
	return m, out
}

func TestSystemStatszHeartbeat(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for four heartbeats (about 4s)")
	}
	s := servertest.StartConfig(t, systemConf)
	subj := "$SYS.SERVER." + s.ID() + ".STATSZ"
	sys := servertest.Connect(t, s, nats.UserInfo("sys", "psys"))
	sub, err := sys.SubscribeSync(subj)
	require.NoError(t, err)
	require.NoError(t, sys.Flush())
	// A user of another account sees none of it.
	a := servertest.Connect(t, s, nats.UserInfo("a", "pa"))
	asub, err := a.SubscribeSync("$SYS.>")
	require.NoError(t, err)
	require.NoError(t, a.Flush())

	// The heartbeat starts at 250ms and doubles: 250ms, 500ms, 1s, 2s
	// after each other, so four arrive within about 4s.
	var times []time.Time
	for range 4 {
		m, st := nextJSON(t, sub, 5*time.Second)
		require.Equal(t, subj, m.Subject)
		require.Equal(t, s.ID(), st["server"].(map[string]any)["id"])
		stats := st["statsz"].(map[string]any)
		require.EqualValues(t, 2, stats["connections"])
		require.NotEmpty(t, stats["start"])
		times = append(times, time.Now())
	}
	// Intervals grow (generous bounds: the machine may be loaded).
	require.Greater(t, times[3].Sub(times[2]), times[1].Sub(times[0]))

	// A STATSZ request without a reply asks for a broadcast: it comes at
	// once (the next heartbeat is due 4s after the last one), once the 1s
	// rate limit since the last broadcast has passed.
	time.Sleep(1100 * time.Millisecond)
	asked := time.Now()
	require.NoError(t, sys.Publish("$SYS.REQ.SERVER.PING.STATSZ", nil))
	_, st := nextJSON(t, sub, 2500*time.Millisecond)
	require.Less(t, time.Since(asked), 2500*time.Millisecond)
	require.Equal(t, s.ID(), st["server"].(map[string]any)["id"])

	// a's copies would have been queued when sys's were.
	servertest.ExpectNoMsg(t, asub, a)
}

func TestSystemStatszStopsOnShutdown(t *testing.T) {
	s := servertest.StartConfig(t, systemConf)
	sys := servertest.Connect(t, s, nats.UserInfo("sys", "psys"))
	sub, err := sys.SubscribeSync("$SYS.SERVER." + s.ID() + ".STATSZ")
	require.NoError(t, err)
	require.NoError(t, sys.Flush())
	nextJSON(t, sub, 3*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Shutdown waits for the system goroutine, heartbeat included.
	require.NoError(t, s.Shutdown(ctx))
}

const systemPermsConf = `
system_account: SYS
accounts {
  SYS: { users: [
    { user: sys, password: psys }
    { user: ops, password: pops, permissions: { publish: { allow: ["$SYS.REQ.>"], deny: ["$SYS.REQ.SERVER.*.LDM"] }, subscribe: "_INBOX.>", allow_responses: { max: 3, expires: "1s" } } }
  ] }
  A: { users: [ { user: a, password: pa } ] }
  B: { users: [ { user: b, password: pb } ] }
}
`

func TestSystemAccountScopedRequests(t *testing.T) {
	s := servertest.StartConfig(t, systemPermsConf)
	sys := servertest.Connect(t, s, nats.UserInfo("sys", "psys"))
	ldm := make(chan struct{}, 1)
	a := servertest.Connect(t, s, nats.UserInfo("a", "pa"), nats.LameDuckModeHandler(func(*nats.Conn) {
		select {
		case ldm <- struct{}{}:
		default:
		}
	}))
	_, err := a.SubscribeSync("a.sub")
	require.NoError(t, err)
	require.NoError(t, a.Publish("a.x", []byte("hi")))
	require.NoError(t, a.Flush())
	b := servertest.Connect(t, s, nats.UserInfo("b", "pb"))
	_, err = b.SubscribeSync("b.sub")
	require.NoError(t, err)
	require.NoError(t, b.Flush())

	// IDZ: bare name, host and id.
	for _, subj := range []string{"$SYS.REQ.SERVER.PING.IDZ", "$SYS.REQ.SERVER." + s.ID() + ".IDZ"} {
		id := sysRequest(t, sys, subj, "")
		require.Equal(t, map[string]any{"name": s.Name(), "host": "127.0.0.1", "id": s.ID()}, id, subj)
	}

	// CONNZ of one account: only its connections, in the envelope.
	r := sysRequest(t, sys, "$SYS.REQ.ACCOUNT.A.CONNZ", `{"auth":true}`)
	require.Equal(t, s.ID(), r["server"].(map[string]any)["id"])
	d := r["data"].(map[string]any)
	require.EqualValues(t, 1, d["num_connections"])
	c := d["connections"].([]any)[0].(map[string]any)
	require.Equal(t, "A", c["account"])
	require.Equal(t, "a", c["authorized_user"])
	// The subject names the account, whatever the body says.
	d = sysRequest(t, sys, "$SYS.REQ.ACCOUNT.B.CONNZ", `{"acc":"A","auth":true}`)["data"].(map[string]any)
	require.Equal(t, "b", d["connections"].([]any)[0].(map[string]any)["authorized_user"])

	// SUBSZ of one account lists its subscriptions.
	d = sysRequest(t, sys, "$SYS.REQ.ACCOUNT.A.SUBSZ", "")["data"].(map[string]any)
	list := d["subscriptions_list"].([]any)
	require.Len(t, list, 1)
	require.Equal(t, "a.sub", list[0].(map[string]any)["subject"])

	// INFO: the account's details.
	d = sysRequest(t, sys, "$SYS.REQ.ACCOUNT.A.INFO", "")["data"].(map[string]any)
	require.Equal(t, "A", d["account_name"])
	require.EqualValues(t, 1, d["client_connections"])
	r = sysRequest(t, sys, "$SYS.REQ.ACCOUNT.NOPE.INFO", "")
	require.Nil(t, r["data"])
	require.EqualValues(t, 400, r["error"].(map[string]any)["code"])

	// CONNS: the account_connections event, not wrapped.
	r = sysRequest(t, sys, "$SYS.REQ.ACCOUNT.A.CONNS", "")
	require.Equal(t, "io.nats.server.advisory.v1.account_connections", r["type"])
	require.NotEmpty(t, r["id"])
	require.Equal(t, s.ID(), r["server"].(map[string]any)["id"])
	require.Equal(t, "A", r["acc"])
	require.EqualValues(t, 1, r["conns"])
	require.EqualValues(t, 1, r["total_conns"])
	require.EqualValues(t, 1, r["received"].(map[string]any)["msgs"])
	// An account without connections here, or unknown, gets silence.
	for _, subj := range []string{"$SYS.REQ.ACCOUNT.NOPE.CONNS", "$SYS.REQ.ACCOUNT.A.CONNS"} {
		body := ""
		if subj == "$SYS.REQ.ACCOUNT.A.CONNS" {
			body = `{"acc":"B"}` // must match the subject
		}
		expectSilence(t, sys, subj, body)
	}

	// STATZ of one account.
	d = sysRequest(t, sys, "$SYS.REQ.ACCOUNT.B.STATZ", "")["data"].(map[string]any)
	st := d["account_statz"].([]any)
	require.Len(t, st, 1)
	require.Equal(t, "B", st[0].(map[string]any)["acc"])

	// USER.INFO: the requester's own identity.
	r = sysRequest(t, sys, "$SYS.REQ.USER.INFO", "")
	require.Equal(t, s.ID(), r["server"].(map[string]any)["id"])
	require.Equal(t, map[string]any{"user": "sys", "account": "SYS"}, r["data"])
	ops := servertest.Connect(t, s, nats.UserInfo("ops", "pops"))
	d = sysRequest(t, ops, "$SYS.REQ.USER.INFO", "")["data"].(map[string]any)
	require.Equal(t, "ops", d["user"])
	require.Equal(t, "SYS", d["account"])
	perms := d["permissions"].(map[string]any)
	require.Equal(t, map[string]any{"allow": []any{"$SYS.REQ.>"}, "deny": []any{"$SYS.REQ.SERVER.*.LDM"}}, perms["publish"])
	require.Equal(t, map[string]any{"allow": []any{"_INBOX.>"}}, perms["subscribe"])
	require.Equal(t, map[string]any{"max": float64(3), "ttl": float64(time.Second)}, perms["responses"])

	// LDM: the client gets an INFO with ldm and stays connected.
	cid, err := a.GetClientID()
	require.NoError(t, err)
	r = sysRequest(t, sys, "$SYS.REQ.SERVER."+s.ID()+".LDM", fmt.Sprintf(`{"cid":%d}`, cid))
	require.Nil(t, r["error"])
	select {
	case <-ldm:
	case <-time.After(3 * time.Second):
		t.Fatal("no lame duck notice")
	}
	require.True(t, a.IsConnected())
	r = sysRequest(t, sys, "$SYS.REQ.SERVER."+s.ID()+".LDM", `{"cid":999999}`)
	require.Equal(t, "no such client id", r["error"].(map[string]any)["description"])

	// Users of other accounts see none of these.
	for _, subj := range []string{
		"$SYS.REQ.SERVER.PING.IDZ", "$SYS.REQ.ACCOUNT.A.CONNZ", "$SYS.REQ.ACCOUNT.A.SUBSZ",
		"$SYS.REQ.ACCOUNT.A.INFO", "$SYS.REQ.ACCOUNT.A.CONNS",
		"$SYS.REQ.SERVER." + s.ID() + ".LDM",
	} {
		_, err = a.Request(subj, []byte(fmt.Sprintf(`{"cid":%d}`, cid)), time.Second)
		require.ErrorIs(t, err, nats.ErrNoResponders, subj)
	}
}

func TestSystemAccountConnsEvents(t *testing.T) {
	s := servertest.StartConfig(t, systemConf+"\nauthorization { users: [ { user: g, password: pg } ] }\n")
	sys := servertest.Connect(t, s, nats.UserInfo("sys", "psys"))
	subNew, err := sys.SubscribeSync("$SYS.ACCOUNT.*.SERVER.CONNS")
	require.NoError(t, err)
	subOld, err := sys.SubscribeSync("$SYS.SERVER.ACCOUNT.*.CONNS")
	require.NoError(t, err)
	require.NoError(t, sys.Flush())

	a := servertest.Connect(t, s, nats.UserInfo("a", "pa"))
	require.NoError(t, a.Publish("x", []byte("hi")))
	require.NoError(t, a.Flush())
	for _, sub := range []*nats.Subscription{subNew, subOld} {
		m, ev := nextJSON(t, sub, 3*time.Second)
		if strings.Contains(m.Subject, ".SYS.") {
			// The system user's own connection, announced once its
			// subscription is in place.
			m, ev = nextJSON(t, sub, 3*time.Second)
		}
		require.Contains(t, m.Subject, ".A.")
		require.Equal(t, "io.nats.server.advisory.v1.account_connections", ev["type"])
		require.Equal(t, s.ID(), ev["server"].(map[string]any)["id"])
		require.Equal(t, "A", ev["acc"])
		require.EqualValues(t, 1, ev["conns"])
	}
	a.Close()
	for _, sub := range []*nats.Subscription{subNew, subOld} {
		_, ev := nextJSON(t, sub, 3*time.Second)
		require.Equal(t, "A", ev["acc"])
		require.EqualValues(t, 0, ev["conns"])
	}
	// Nothing more for A, and never anything for $G.
	// Events are published in order: the one of a new connection of A is
	// the next to come.
	servertest.Connect(t, s, nats.UserInfo("g", "pg")).Close()
	servertest.Connect(t, s, nats.UserInfo("a", "pa"))
	m, ev := nextJSON(t, subNew, 3*time.Second)
	for strings.Contains(m.Subject, ".SYS.") { // the system user's own heartbeat
		m, ev = nextJSON(t, subNew, 3*time.Second)
	}
	require.Equal(t, "A", ev["acc"], m.Subject)
	require.EqualValues(t, 1, ev["conns"])
}

// TestSystemImportsForEveryAccount: every account imports the system
// services users may ask about themselves, answered for their own account.
func TestSystemImportsForEveryAccount(t *testing.T) {
	s := servertest.StartConfig(t, `
system_account: SYS
accounts {
  SYS: { users: [ { user: sys, password: psys } ] }
  A: { users: [ { user: a, password: pa, permissions: { publish: { allow: ["$SYS.REQ.>", "_INBOX.>", "x"] } } } ] }
  B: { users: [ { user: b, password: pb } ] }
}
authorization { users: [ { user: g, password: pg } ] }`)
	a := servertest.Connect(t, s, nats.UserInfo("a", "pa"))
	servertest.Connect(t, s, nats.UserInfo("b", "pb"))
	g := servertest.Connect(t, s, nats.UserInfo("g", "pg"))

	d := sysRequest(t, a, "$SYS.REQ.USER.INFO", "")["data"].(map[string]any)
	require.Equal(t, "a", d["user"])
	require.Equal(t, "A", d["account"])
	require.Equal(t, []any{"$SYS.REQ.>", "_INBOX.>", "x"}, d["permissions"].(map[string]any)["publish"].(map[string]any)["allow"])
	d = sysRequest(t, g, "$SYS.REQ.USER.INFO", "")["data"].(map[string]any)
	require.Equal(t, "g", d["user"])
	require.Equal(t, "$G", d["account"])
	require.Nil(t, d["permissions"])

	// CONNZ through the ping subjects lists the requester's account only.
	for _, subj := range []string{"$SYS.REQ.SERVER.PING.CONNZ", "$SYS.REQ.ACCOUNT.PING.CONNZ"} {
		r := sysRequest(t, a, subj, "")
		conns := r["data"].(map[string]any)["connections"].([]any)
		require.Len(t, conns, 1, subj)
	}
	r := sysRequest(t, a, "$SYS.REQ.ACCOUNT.PING.STATZ", "")
	require.Nil(t, r["error"])
	// The rest of $SYS stays out of reach.
	_, err := a.Request("$SYS.REQ.SERVER.PING.VARZ", nil, time.Second)
	require.ErrorIs(t, err, nats.ErrNoResponders)
}

// TestSystemKick: a system user closes a connection by its client id.
func TestSystemKick(t *testing.T) {
	s := servertest.StartConfig(t, systemConf)
	sys := servertest.Connect(t, s, nats.UserInfo("sys", "psys"))
	closed := make(chan struct{})
	a := servertest.Connect(t, s, nats.UserInfo("a", "pa"), nats.NoReconnect(), nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	cid, err := a.GetClientID()
	require.NoError(t, err)
	r := sysRequest(t, sys, "$SYS.REQ.SERVER."+s.ID()+".KICK", fmt.Sprintf(`{"cid":%d}`, cid))
	require.Nil(t, r["error"])
	select {
	case <-closed:
	case <-time.After(3 * time.Second):
		t.Fatal("the client was not kicked")
	}
	require.Equal(t, "Kicked", servertest.ClosedReason(t, s))
	r = sysRequest(t, sys, "$SYS.REQ.SERVER."+s.ID()+".KICK", `{"cid":999999}`)
	require.Equal(t, "no such client id", r["error"].(map[string]any)["description"])
	_, err = servertest.Connect(t, s, nats.UserInfo("a", "pa")).Request("$SYS.REQ.SERVER."+s.ID()+".KICK", []byte(`{"cid":1}`), time.Second)
	require.ErrorIs(t, err, nats.ErrNoResponders)
}

// TestSystemReload: RELOAD runs the reloader the configuration's owner
// set; without one, or when it fails, the answer carries the error as a
// 500, as upstream's; only system users reach it.
func TestSystemReload(t *testing.T) {
	s := servertest.StartConfig(t, systemConf)
	sys := servertest.Connect(t, s, nats.UserInfo("sys", "psys"))
	subject := "$SYS.REQ.SERVER." + s.ID() + ".RELOAD"
	r := sysRequest(t, sys, subject, "")
	require.Equal(t, map[string]any{"code": float64(500), "description": server.ErrNoReloader.Error()}, r["error"])

	var calls atomic.Int32 // the reloader runs on the system goroutine
	s.SetReloader(func() error { calls.Add(1); return nil })
	r = sysRequest(t, sys, subject, "")
	require.Nil(t, r["error"])
	require.Nil(t, r["data"])
	require.Equal(t, s.ID(), r["server"].(map[string]any)["id"])
	require.Equal(t, int32(1), calls.Load())

	s.SetReloader(func() error { return errors.New("config reload not supported for server_name: old=, new=x") })
	r = sysRequest(t, sys, subject, "")
	require.Equal(t, map[string]any{"code": float64(500), "description": "config reload not supported for server_name: old=, new=x"}, r["error"])

	_, err := servertest.Connect(t, s, nats.UserInfo("a", "pa")).Request(subject, nil, time.Second)
	require.ErrorIs(t, err, nats.ErrNoResponders)
}

// TestAccountConnsTraffic: the account_connections event counts what the
// account's clients sent after they closed, splits it by link kind and
// counts the account's service imports as subscriptions, as upstream
// 2.15.2 does for the same session (4: the system imports every account
// has, with no client subscription; checked against the binary).
func TestAccountConnsTraffic(t *testing.T) {
	s := servertest.StartConfig(t, systemConf)
	sys := servertest.Connect(t, s, nats.UserInfo("sys", "psys"))
	sub, err := sys.SubscribeSync("$SYS.ACCOUNT.A.SERVER.CONNS")
	require.NoError(t, err)
	require.NoError(t, sys.Flush())

	a := servertest.Connect(t, s, nats.UserInfo("a", "pa"))
	require.NoError(t, a.Publish("x", []byte("hello")))
	require.NoError(t, a.Flush())
	a.Close()
	var ev map[string]any
	for ev == nil || ev["conns"] != 0.0 {
		m, err := sub.NextMsg(3 * time.Second)
		require.NoError(t, err)
		ev = nil
		require.NoError(t, json.Unmarshal(m.Data, &ev))
	}
	zero := map[string]any{"msgs": 0.0, "bytes": 0.0}
	require.Equal(t, map[string]any{"msgs": 1.0, "bytes": 5.0, "gateways": zero, "routes": zero, "leafs": zero}, ev["received"])
	require.Equal(t, map[string]any{"msgs": 0.0, "bytes": 0.0, "gateways": zero, "routes": zero, "leafs": zero}, ev["sent"])
	require.EqualValues(t, 4, ev["num_subscriptions"])
}
