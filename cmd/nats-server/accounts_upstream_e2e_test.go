package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// securityConf is an upstream-style configuration with users, permission
// sets in variables, accounts with exports, imports, mappings and limits,
// a system account and no_auth_user.
const securityConf = `
authorization {
  timeout: 2
  users: [ {user: g, password: g} ]
}
ADMIN = { publish = ">", subscribe = ">" }
REQUESTOR = { publish = ["req.a", "req.b", "$SYS.REQ.USER.INFO"], subscribe = "_INBOX.>" }
accounts: {
  SYS: { users: [ {user: admin, password: admin} ] }
  APP: {
    users: [
      {user: joe, password: foo, permissions: $ADMIN}
      {user: bob, password: bar, permissions: $REQUESTOR}
    ]
    exports: [
      {stream: "events.>"}
      {service: "api.>", response_type: stream, response_threshold: "2s"}
      {service: "private", accounts: [OTHER]}
    ]
    mappings: {
      "orders.*": "orders.{{partition(4,1)}}.{{wildcard(1)}}"
      "pair.*.*": "pair.$2.$1"
      "whole.*.*": "whole.{{partition(5)}}.$1.$2"
    }
  }
  CLIENT: {
    users: [ {user: cli, password: cli} ]
    imports: [
      {stream: {account: APP, subject: "events.>"}, prefix: app}
      {service: {account: APP, subject: "api.users"}, to: users}
      {service: {account: APP, subject: "api.none"}, to: nobody}
    ]
    limits: { max_subs: 3 }
  }
  OTHER: {}
}
system_account: SYS
no_auth_user: joe
mappings: { "legacy.>": "new.>" }
`

// securityScenario exercises securityConf on the server at url and
// returns what a user would observe, one line per check.
func securityScenario(t *testing.T, url string) []string {
	t.Helper()
	var out []string
	note := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	dial := func(user, pass string, opts ...nats.Option) *nats.Conn {
		opts = append([]nats.Option{nats.NoReconnect(), nats.Timeout(2 * time.Second)}, opts...)
		if user != "" {
			opts = append(opts, nats.UserInfo(user, pass))
		}
		nc, err := nats.Connect(url, opts...)
		require.NoError(t, err, user)
		t.Cleanup(nc.Close)
		return nc
	}
	next := func(sub *nats.Subscription) string {
		m, err := sub.NextMsg(2 * time.Second)
		if err != nil {
			return err.Error()
		}
		return m.Subject + " " + string(m.Data)
	}
	errs := make(chan error, 16)
	onErr := nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err })
	nextErr := func() string {
		select {
		case err := <-errs:
			return strings.ToLower(err.Error())
		case <-time.After(2 * time.Second):
			return "no error"
		}
	}

	joe := dial("", "") // no_auth_user
	cli := dial("cli", "cli", onErr)
	bob := dial("bob", "bar", onErr)
	g := dial("g", "g")
	wrong, err := nats.Connect(url, nats.UserInfo("bob", "nope"), nats.NoReconnect())
	if wrong != nil {
		wrong.Close()
	}
	note("wrong password: %v", err)

	// A stream import with a prefix.
	events, err := cli.SubscribeSync("app.>")
	require.NoError(t, err)
	require.NoError(t, cli.Flush())
	require.NoError(t, joe.Publish("events.created", []byte("e1")))
	note("stream import: %s", next(events))

	// A service import with a stream response type: both responses.
	_, err = joe.Subscribe("api.users", func(m *nats.Msg) {
		_ = m.Respond([]byte("r1"))
		_ = m.Respond([]byte("r2"))
	})
	require.NoError(t, err)
	require.NoError(t, joe.Flush())
	inbox := nats.NewInbox()
	replies, err := cli.SubscribeSync(inbox)
	require.NoError(t, err)
	require.NoError(t, cli.PublishRequest("users", inbox, []byte("q")))
	note("service response 1: %s", strings.TrimPrefix(next(replies), inbox))
	note("service response 2: %s", strings.TrimPrefix(next(replies), inbox))
	_, err = cli.Request("nobody", nil, time.Second)
	note("service without responder: %v", err)
	_, err = cli.Request("private", nil, time.Second)
	note("restricted export not imported: %v", err)

	// Mappings: a partition and a token swap in APP, a prefix in $G.
	mapped, err := joe.SubscribeSync("*.>")
	require.NoError(t, err)
	require.NoError(t, joe.Flush())
	for _, subj := range []string{"orders.abc", "orders.k7", "orders.zz-top", "orders.1", "orders.2", "orders.b", "orders.customer-42", "pair.x.y", "whole.a.b", "whole.b.a", "whole.x.1", "whole.y.2"} {
		require.NoError(t, joe.Publish(subj, nil))
		note("mapping %s: %s", subj, strings.TrimSpace(next(mapped)))
	}
	gNew, err := g.SubscribeSync("new.>")
	require.NoError(t, err)
	require.NoError(t, g.Flush())
	require.NoError(t, g.Publish("legacy.a.b", nil))
	note("top-level mapping: %s", strings.TrimSpace(next(gNew)))

	// Permissions.
	require.NoError(t, bob.Publish("nope", nil))
	note("publish violation: %s", nextErr())
	_, err = bob.SubscribeSync("events.>")
	require.NoError(t, err)
	note("subscribe violation: %s", nextErr())

	// USER.INFO, answered for a user of an ordinary account.
	m, err := bob.Request("$SYS.REQ.USER.INFO", nil, 2*time.Second)
	if err != nil {
		note("user info: %v", err)
	} else {
		type list struct{ Allow, Deny []string }
		var doc struct {
			Data struct {
				User, Account string
				Permissions   struct{ Publish, Subscribe list }
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(m.Data, &doc), string(m.Data))
		// Upstream lists a permission set in no fixed order.
		d := doc.Data
		for _, l := range []*list{&d.Permissions.Publish, &d.Permissions.Subscribe} {
			sort.Strings(l.Allow)
			sort.Strings(l.Deny)
		}
		note("user info: %s %s %+v", d.User, d.Account, d.Permissions)
	}

	// The account's subscription limit (cli has two already).
	for _, subj := range []string{"c1", "c2"} {
		_, err := cli.SubscribeSync(subj)
		require.NoError(t, err)
	}
	require.NoError(t, cli.Flush())
	note("account max_subs: %s", nextErr())

	// CONNZ through the system import: this account's connections only.
	m, err = joe.Request("$SYS.REQ.SERVER.PING.CONNZ", nil, 2*time.Second)
	if err != nil {
		note("account connz: %v", err)
	} else {
		var doc struct {
			Data struct {
				Conns []struct {
					Account string `json:"account"`
				} `json:"connections"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(m.Data, &doc), string(m.Data))
		var accs []string
		for _, c := range doc.Data.Conns {
			accs = append(accs, c.Account)
		}
		sort.Strings(accs)
		note("account connz: %d connections %v", len(accs), accs)
	}
	return out
}

// TestSecurityConfigMatchesUpstream runs the same users, permissions,
// accounts, imports, exports and mappings on natsd and on upstream
// nats-server and compares what clients observe, line by line.
func TestSecurityConfigMatchesUpstream(t *testing.T) {
	bin := servertest.UpstreamBinary(t)
	conf := filepath.Join(t.TempDir(), "security.conf")
	require.NoError(t, os.WriteFile(conf, []byte(securityConf), 0o600))

	p := start(t, "-c", conf)
	ours := securityScenario(t, p.url())

	port := servertest.FreePorts(t, 1)[0]
	servertest.StartProcess(t, bin, "-c", conf, "-a", "127.0.0.1", "-p", strconv.Itoa(port))
	url := "nats://127.0.0.1:" + strconv.Itoa(port)
	servertest.WaitUntil(t, "upstream to listen", func() bool {
		nc, err := nats.Connect(url, nats.UserInfo("g", "g"))
		if err == nil {
			nc.Close()
		}
		return err == nil
	})
	theirs := securityScenario(t, url)
	require.Equal(t, theirs, ours)
	t.Logf("observed on both:\n%s", strings.Join(ours, "\n"))
}
