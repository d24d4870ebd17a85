package main

// /accountz, /accstatz and the subscription counts of /varz and statsz,
// held to upstream's answers for the same configuration: accounts from a
// configuration file and accounts from JWTs (operator mode).

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// accountzServer is one running server of an accountz test: its
// monitoring URL and client URL.
type accountzServer struct{ mon, url string }

// startAccountz starts bin with conf, clients and monitoring on free
// ports (not -p -1: upstream's /varz may keep the port it showed before
// its client listener started).
func startAccountz(t *testing.T, bin, conf string) accountzServer {
	t.Helper()
	ports := servertest.FreePorts(t, 2)
	logs := servertest.StartProcess(t, bin, "-c", conf, "-a", "127.0.0.1", "-p", strconv.Itoa(ports[0]), "-m", strconv.Itoa(ports[1]))
	client, mon := "127.0.0.1:"+strconv.Itoa(ports[0]), "127.0.0.1:"+strconv.Itoa(ports[1])
	servertest.WaitListening(t, mon)
	servertest.WaitListening(t, client)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log:\n%s", bin, logs.String())
		}
	})
	return accountzServer{mon: "http://" + mon, url: "nats://" + client}
}

// doc fetches a monitoring path as a generic JSON document.
func (s accountzServer) doc(t *testing.T, path string) map[string]any {
	t.Helper()
	code, b := httpGet(t, s.mon+path)
	require.Equal(t, http.StatusOK, code, "%s: %s", path, b)
	var d map[string]any
	require.NoError(t, json.Unmarshal(b, &d), string(b))
	return d
}

// accountDetail returns /accountz?acc=name's account_detail without what
// differs from one run to the next (update_time) or by implementation
// (the sublist's cache statistics: only num_subscriptions is kept), its
// imports and exports sorted (upstream lists them in map order).
func (s accountzServer) accountDetail(t *testing.T, name string) map[string]any {
	t.Helper()
	d, ok := s.doc(t, "/accountz?acc="+name)["account_detail"].(map[string]any)
	require.True(t, ok, "no account_detail for %s", name)
	delete(d, "update_time")
	if st, ok := d["sublist_stats"].(map[string]any); ok {
		d["sublist_stats"] = map[string]any{"num_subscriptions": st["num_subscriptions"]}
	}
	// A pending response is under a random reply subject, for a random
	// inbox: keep the rest.
	if rs, ok := d["responses"].(map[string]any); ok {
		var l []any
		for subj, r := range rs {
			m := r.(map[string]any)
			require.Equal(t, subj, m["to"])
			require.Equal(t, subj, m["local_subject"])
			require.Regexp(t, `^_R_\.`, subj)
			require.Regexp(t, `^_INBOX\.`, m["subject"])
			delete(m, "to")
			delete(m, "local_subject")
			delete(m, "subject")
			l = append(l, m)
		}
		d["responses"] = l
	}
	for _, k := range []string{"imports", "exports", "responses"} {
		if l, ok := d[k].([]any); ok {
			slices.SortFunc(l, func(a, b any) int {
				x, _ := json.Marshal(a)
				y, _ := json.Marshal(b)
				return slices.Compare(x, y)
			})
		}
	}
	return d
}

// accStatz returns /accstatz?unused=1 by account: name and
// num_subscriptions.
func (s accountzServer) accStatz(t *testing.T) map[string][2]any {
	t.Helper()
	out := map[string][2]any{}
	for _, a := range s.doc(t, "/accstatz?unused=1")["account_statz"].([]any) {
		m := a.(map[string]any)
		out[m["acc"].(string)] = [2]any{m["name"], m["num_subscriptions"]}
	}
	return out
}

// checkSubscriptionCounts checks that /varz subscriptions is the sum of
// /accstatz num_subscriptions, and that /subsz and the STATSZ answer of
// the system connection sys say the same.
func checkSubscriptionCounts(t *testing.T, s accountzServer, sys *nats.Conn) {
	t.Helper()
	// The first request creates sys's response subscription; ask twice.
	var statsz struct {
		Statsz struct {
			Subs float64 `json:"subscriptions"`
		} `json:"statsz"`
	}
	for range 2 {
		m, err := sys.Request("$SYS.REQ.SERVER.PING.STATSZ", nil, 5*time.Second)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(m.Data, &statsz), string(m.Data))
	}
	sum := 0.0
	for _, a := range s.doc(t, "/accstatz?unused=1")["account_statz"].([]any) {
		sum += a.(map[string]any)["num_subscriptions"].(float64)
	}
	varz := s.doc(t, "/varz")["subscriptions"].(float64)
	require.Equal(t, sum, varz, "/varz subscriptions against /accstatz")
	require.Equal(t, varz, statsz.Statsz.Subs, "STATSZ subscriptions against /varz")
	require.Equal(t, varz, s.doc(t, "/subsz")["num_subscriptions"], "/subsz num_subscriptions against /varz")
}

// The detail of a configuration file's accounts: mappings, exports,
// imports (the system imports every account gets included), name_tag,
// is_system, and subscriptions that count service imports; /varz and
// STATSZ count the same subscriptions as /accstatz. With
// NATSD_UPSTREAM_SERVER, each document equals upstream's.
func TestAccountzConfigAccounts(t *testing.T) {
	dir := t.TempDir()
	conf := writeFile(t, filepath.Join(dir, "accounts.conf"), `
accounts {
  A: { users: [{user: a, password: a}]
       exports: [{service: "svc.>"}, {stream: "feed.>"}, {service: "priv", accounts: [B]}]
       mappings: {"old.>": "new.>", "split": [{destination: "one", weight: 40%}, {destination: "two", weight: 60%}], "part": [{destination: "some", weight: 30%}]} }
  B: { users: [{user: b, password: b}]
       imports: [{service: {account: A, subject: "svc.>"}, to: "asvc.>"},
                 {service: {account: A, subject: "priv"}, share: true},
                 {stream: {account: A, subject: "feed.>"}, prefix: "af"}] }
  SYS: { users: [{user: sys, password: sys}] }
}
system_account: SYS
`)
	type result struct {
		details map[string]map[string]any
		statz   map[string][2]any
	}
	run := func(bin string) result {
		s := startAccountz(t, bin, conf)
		a := servertest.ConnectWhenReady(t, s.url, nats.UserInfo("a", "a"))
		b := servertest.ConnectWhenReady(t, s.url, nats.UserInfo("b", "b"))
		sys := servertest.ConnectWhenReady(t, s.url, nats.UserInfo("sys", "sys"))
		_, err := a.SubscribeSync("x.>")
		require.NoError(t, err)
		_, err = a.Subscribe("svc.>", func(m *nats.Msg) { _ = m.Respond([]byte("ok")) })
		require.NoError(t, err)
		require.NoError(t, a.Flush())
		_, err = b.SubscribeSync("y.>")
		require.NoError(t, err)
		// A request through the import: upstream then has A's response
		// subscription, which natsd makes at start.
		_, err = b.Request("asvc.1", nil, 5*time.Second)
		require.NoError(t, err)
		checkSubscriptionCounts(t, s, sys)
		r := result{details: map[string]map[string]any{}, statz: s.accStatz(t)}
		for _, name := range []string{"A", "B", "SYS", "$G"} {
			r.details[name] = s.accountDetail(t, name)
		}
		return r
	}
	ours := run(binary)

	a := ours.details["A"]
	require.Equal(t, "A", a["name_tag"])
	require.Equal(t, map[string]any{
		"old.>": []any{map[string]any{"subject": "new.>", "weight": 100.0}},
		// Upstream shows the weights summed up, and what they leave
		// unmapped as the source subject.
		"split": []any{map[string]any{"subject": "one", "weight": 40.0}, map[string]any{"subject": "two", "weight": 100.0}},
		"part":  []any{map[string]any{"subject": "some", "weight": 30.0}, map[string]any{"subject": "part", "weight": 100.0}},
	}, a["mappings"])
	require.Contains(t, a["exports"], map[string]any{"subject": "svc.>", "type": "service", "response_type": "Singleton"})
	require.Contains(t, a["exports"], map[string]any{"subject": "feed.>", "type": "stream"})
	require.Contains(t, a["exports"], map[string]any{"subject": "priv", "type": "service", "response_type": "Singleton", "approved_accounts": []any{"B"}})
	b := ours.details["B"]
	require.Contains(t, b["imports"], map[string]any{"subject": "svc.>", "account": "A", "to": "asvc.>", "local_subject": "asvc.>", "type": "service", "invalid": false, "share": false, "tracking": false})
	require.Contains(t, b["imports"], map[string]any{"subject": "priv", "account": "A", "to": "priv", "local_subject": "priv", "type": "service", "invalid": false, "share": true, "tracking": false})
	require.Contains(t, b["imports"], map[string]any{"subject": "feed.>", "account": "A", "local_subject": "af.feed.>", "type": "stream", "invalid": false, "share": false, "tracking": false})
	require.Contains(t, b["imports"], map[string]any{"subject": "$SYS.REQ.USER.B.INFO", "account": "SYS", "to": "$SYS.REQ.USER.INFO", "local_subject": "$SYS.REQ.USER.INFO", "type": "service", "invalid": false, "share": true, "tracking": false})
	// B: 4 system imports, 2 service imports, y.> and the requester's
	// response subscription.
	require.Equal(t, 8.0, b["subscriptions"])
	require.Equal(t, [2]any{"B", 8.0}, ours.statz["B"])
	require.Equal(t, true, ours.details["SYS"]["is_system"])

	up := os.Getenv(servertest.UpstreamEnv)
	if up == "" {
		return
	}
	theirs := run(up)
	for _, name := range []string{"A", "B", "$G"} {
		require.Equal(t, theirs.details[name], ours.details[name], "account %s", name)
		require.Equal(t, theirs.statz[name], ours.statz[name], "/accstatz of %s", name)
	}
	requireSystemAccountAsUpstream(t, theirs.details["SYS"], ours.details["SYS"])
	require.Equal(t, theirs.statz["SYS"][0], ours.statz["SYS"][0])
}

// requireSystemAccountAsUpstream compares the system account's details
// but for what natsd does not have: the subscriptions of the system
// services it does not run (upstream's system account has more), and
// the export of $SYS.DEBUG.SUBSCRIBERS, which it does not serve.
func requireSystemAccountAsUpstream(t *testing.T, theirs, ours map[string]any) {
	t.Helper()
	for _, d := range []map[string]any{theirs, ours} {
		delete(d, "subscriptions")
		delete(d, "sublist_stats")
	}
	ex, _ := theirs["exports"].([]any)
	theirs["exports"] = slices.DeleteFunc(slices.Clone(ex), func(e any) bool {
		return e.(map[string]any)["subject"] == "$SYS.DEBUG.SUBSCRIBERS"
	})
	require.Equal(t, theirs, ours, "system account")
}

// accountzOperator mints an operator, a system account with a user, an
// account A (tags, a mapping, a stream and a service export, a revoked
// user) and an account B importing both, and writes a configuration
// with a memory resolver.
type accountzOperator struct {
	conf, sysCreds, aCreds, bCreds string
	sysPub, aPub, bPub             string
}

func newAccountzOperator(t *testing.T) *accountzOperator {
	t.Helper()
	dir := t.TempDir()
	st := &accountzOperator{}
	opKP, _ := nkeys.CreateOperator()
	opPub, _ := opKP.PublicKey()
	sysKP, _ := nkeys.CreateAccount()
	aKP, _ := nkeys.CreateAccount()
	bKP, _ := nkeys.CreateAccount()
	st.sysPub, _ = sysKP.PublicKey()
	st.aPub, _ = aKP.PublicKey()
	st.bPub, _ = bKP.PublicKey()
	oc := jwt.NewOperatorClaims(opPub)
	oc.Name = "OP"
	oc.SystemAccount = st.sysPub
	opJWT, err := oc.Encode(opKP)
	require.NoError(t, err)
	preload := ""
	account := func(pub, name string, edit func(*jwt.AccountClaims)) {
		ac := jwt.NewAccountClaims(pub)
		ac.Name = name
		if edit != nil {
			edit(ac)
		}
		tok, err := ac.Encode(opKP)
		require.NoError(t, err)
		preload += "  " + pub + ": " + tok + "\n"
	}
	revoked, _ := nkeys.CreateUser()
	revokedPub, _ := revoked.PublicKey()
	account(st.sysPub, "SYS", nil)
	account(st.aPub, "A", func(ac *jwt.AccountClaims) {
		ac.Tags.Add("team:blue")
		ac.Exports.Add(&jwt.Export{Subject: "feed.>", Type: jwt.Stream}, &jwt.Export{Subject: "news.>", Type: jwt.Stream},
			&jwt.Export{Subject: "svc.>", Type: jwt.Service, ResponseType: jwt.ResponseTypeStream})
		ac.Mappings = jwt.Mapping{"old.>": {{Subject: "new.>", Weight: 100}}}
		ac.RevokeAt(revokedPub, time.Unix(1700000000, 0))
	})
	account(st.bPub, "B", func(ac *jwt.AccountClaims) {
		ac.Imports.Add(&jwt.Import{Account: st.aPub, Subject: "feed.>", Type: jwt.Stream},
			&jwt.Import{Account: st.aPub, Subject: "svc.>", LocalSubject: "asvc.>", Type: jwt.Service},
			// The deprecated prefix: a warning of the JWT's validation.
			&jwt.Import{Account: st.aPub, Subject: "news.>", To: "nw", Type: jwt.Stream})
	})
	creds := func(acc nkeys.KeyPair, name string) string {
		ukp, _ := nkeys.CreateUser()
		upub, _ := ukp.PublicKey()
		uc := jwt.NewUserClaims(upub)
		uc.Name = name
		tok, err := uc.Encode(acc)
		require.NoError(t, err)
		seed, _ := ukp.Seed()
		b, err := jwt.FormatUserConfig(tok, seed)
		require.NoError(t, err)
		return writeFile(t, filepath.Join(dir, name+".creds"), string(b))
	}
	st.sysCreds, st.aCreds, st.bCreds = creds(sysKP, "sys"), creds(aKP, "a"), creds(bKP, "b")
	st.conf = writeFile(t, filepath.Join(dir, "op.conf"), "operator: "+opJWT+"\nsystem_account: "+st.sysPub+
		"\nresolver: MEMORY\nresolver_preload: {\n"+preload+"}\n")
	return st
}

// In operator mode /accountz shows the account's JWT (encoded and
// decoded), its issuer, name (name_tag), tags and revoked users, with
// the links the JWT sets up; /accstatz and the account_connections event
// name the account by its JWT's name. With NATSD_UPSTREAM_SERVER, each
// equals upstream's.
func TestAccountzOperatorAccounts(t *testing.T) {
	st := newAccountzOperator(t)
	type result struct {
		details map[string]map[string]any
		statz   map[string][2]any
		event   map[string]any
	}
	run := func(bin string) result {
		s := startAccountz(t, bin, st.conf)
		sys := servertest.ConnectWhenReady(t, s.url, nats.UserCredentials(st.sysCreds))
		events, err := sys.SubscribeSync("$SYS.ACCOUNT." + st.aPub + ".SERVER.CONNS")
		require.NoError(t, err)
		require.NoError(t, sys.Flush())
		a := servertest.ConnectWhenReady(t, s.url, nats.UserCredentials(st.aCreds))
		b := servertest.ConnectWhenReady(t, s.url, nats.UserCredentials(st.bCreds))
		m, err := events.NextMsg(5 * time.Second)
		require.NoError(t, err)
		var ev map[string]any
		require.NoError(t, json.Unmarshal(m.Data, &ev))
		_, err = a.Subscribe("svc.>", func(m *nats.Msg) { _ = m.Respond([]byte("ok")) })
		require.NoError(t, err)
		require.NoError(t, a.Flush())
		_, err = b.Request("asvc.1", nil, 5*time.Second)
		require.NoError(t, err)
		checkSubscriptionCounts(t, s, sys)
		r := result{details: map[string]map[string]any{}, statz: s.accStatz(t),
			event: map[string]any{"acc": ev["acc"], "name": ev["name"], "conns": ev["conns"]}}
		for _, name := range []string{st.aPub, st.bPub, st.sysPub, "$G"} {
			r.details[name] = s.accountDetail(t, name)
		}
		return r
	}
	ours := run(binary)

	a := ours.details[st.aPub]
	require.Equal(t, "A", a["name_tag"])
	require.Equal(t, []any{"team:blue"}, a["tags"])
	require.NotEmpty(t, a["jwt"])
	require.Equal(t, "A", a["decoded_jwt"].(map[string]any)["name"])
	require.Contains(t, a["exports"], map[string]any{"subject": "svc.>", "type": "service", "response_type": "Streamed"})
	require.Len(t, a["revoked_user"], 1)
	// The streamed service's response stays pending after the answer.
	require.Equal(t, []any{map[string]any{"account": st.bPub, "type": 2.0, "invalid": false, "share": false, "tracking": false}}, a["responses"])
	require.Equal(t, [2]any{"A", 6.0}, ours.statz[st.aPub], "x: 4 system imports, svc.> and the response subscription")
	require.Equal(t, map[string]any{"acc": st.aPub, "name": "A", "conns": 1.0}, ours.event)
	require.Equal(t, "SYS", ours.statz[st.sysPub][0])
	b := ours.details[st.bPub]
	require.Equal(t, []any{map[string]any{"description": "the field to has been deprecated (use LocalSubject instead)", "blocking": false, "time_check": false}}, b["validation_result_jwt"])
	require.Contains(t, b["imports"], map[string]any{"subject": "news.>", "account": st.aPub, "local_subject": "nw.news.>", "type": "stream", "invalid": false, "share": false, "tracking": false})

	up := os.Getenv(servertest.UpstreamEnv)
	if up == "" {
		return
	}
	theirs := run(up)
	for _, name := range []string{st.aPub, st.bPub, "$G"} {
		require.Equal(t, theirs.details[name], ours.details[name], "account %s", name)
		require.Equal(t, theirs.statz[name], ours.statz[name], "/accstatz of %s", name)
	}
	requireSystemAccountAsUpstream(t, theirs.details[st.sysPub], ours.details[st.sysPub])
	require.Equal(t, theirs.statz[st.sysPub][0], ours.statz[st.sysPub][0])
	require.Equal(t, theirs.event, ours.event)
}

// With JetStream, jetstream_enabled says which accounts have it, and, as
// upstream, every account imports $JS.API.> from the system account,
// which exports it. The subscription counts are left out of the
// comparison: natsd's JetStream subscribes its API in each account where
// upstream has the one import.
func TestAccountzJetStream(t *testing.T) {
	dir := t.TempDir()
	conf := func(name string) string {
		return writeFile(t, filepath.Join(dir, name+".conf"), `
jetstream { store_dir: `+strconv.Quote(filepath.Join(dir, name))+` }
accounts {
  A: { users: [{user: a, password: a}], jetstream: enabled }
  B: { users: [{user: b, password: b}] }
  SYS: { users: [{user: sys, password: sys}] }
}
system_account: SYS
`)
	}
	run := func(bin, name string) map[string]map[string]any {
		s := startAccountz(t, bin, conf(name))
		out := map[string]map[string]any{}
		for _, acc := range []string{"A", "B", "SYS", "$G"} {
			d := s.accountDetail(t, acc)
			delete(d, "subscriptions")
			delete(d, "sublist_stats")
			out[acc] = d
		}
		return out
	}
	ours := run(binary, "ours")
	require.Equal(t, true, ours["A"]["jetstream_enabled"])
	require.Equal(t, false, ours["B"]["jetstream_enabled"])
	jsImport := map[string]any{"subject": "$JS.API.>", "account": "SYS", "to": "$JS.API.>", "local_subject": "$JS.API.>", "type": "service", "invalid": false, "share": true, "tracking": false}
	require.Contains(t, ours["B"]["imports"], jsImport)
	require.Contains(t, ours["$G"]["imports"], jsImport)
	require.NotContains(t, ours["SYS"]["imports"], jsImport)
	require.Contains(t, ours["SYS"]["exports"], map[string]any{"subject": "$JS.API.>", "type": "service", "response_type": "Singleton"})

	up := os.Getenv(servertest.UpstreamEnv)
	if up == "" {
		return
	}
	theirs := run(up, "upstream")
	for _, acc := range []string{"A", "B", "$G"} {
		require.Equal(t, theirs[acc], ours[acc], "account %s", acc)
	}
	requireSystemAccountAsUpstream(t, theirs["SYS"], ours["SYS"])
}
