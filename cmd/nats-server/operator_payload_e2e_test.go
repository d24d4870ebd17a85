package main

// Operator mode against upstream nats-server (NATSD_UPSTREAM_SERVER, when
// set): a JWT payload limit of 0, in an account or a user JWT, and what a
// deleted account leaves behind. The same scenario runs on both binaries
// and must read the same; ours must also read as written here.

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// jwtRaw is a raw client authenticated with a user JWT.
type jwtRaw struct{ rc *servertest.RawConn }

// rawJWTClient dials p, signs the INFO nonce with ukp and sends CONNECT
// (protocol 1, headers) with the user JWT tok; it returns the client and
// the greeting INFO's max_payload.
func rawJWTClient(t *testing.T, p *proc, tok string, ukp nkeys.KeyPair) (*jwtRaw, int64) {
	t.Helper()
	rc := p.rawClient()
	var info struct {
		Nonce      string `json:"nonce"`
		MaxPayload int64  `json:"max_payload"`
	}
	require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(rc.Info, "INFO ")), &info))
	sig, err := ukp.Sign([]byte(info.Nonce))
	require.NoError(t, err)
	c, err := json.Marshal(map[string]any{
		"verbose": false, "pedantic": false, "headers": true, "protocol": 1,
		"jwt": tok, "sig": base64.RawURLEncoding.EncodeToString(sig),
	})
	require.NoError(t, err)
	rc.Send("CONNECT " + string(c) + "\r\n")
	return &jwtRaw{rc: rc}, info.MaxPayload
}

// step sends ops and a PING and returns the lines that came back up to
// the PONG, or up to the end of the connection ("<closed>"); an INFO is
// shown by its max_payload only.
func (c *jwtRaw) step(ops string) string {
	c.rc.Send(ops + "PING\r\n")
	var got []string
	for range 10 {
		line, err := c.rc.TryReadLine(5 * time.Second)
		switch {
		case errors.Is(err, io.EOF) || err != nil && strings.Contains(err.Error(), "reset by peer"):
			return strings.Join(append(got, "<closed>"), " | ")
		case err != nil:
			return strings.Join(append(got, "<"+err.Error()+">"), " | ")
		}
		if rest, ok := strings.CutPrefix(line, "INFO "); ok {
			var info struct {
				MaxPayload int64 `json:"max_payload"`
			}
			_ = json.Unmarshal([]byte(rest), &info)
			line = "INFO max_payload=" + strconv.FormatInt(info.MaxPayload, 10)
		}
		got = append(got, line)
		if line == "PONG" {
			break
		}
	}
	return strings.Join(got, " | ")
}

// newJWTUser mints a user of the account acc, edited by edit.
func newJWTUser(t *testing.T, acc nkeys.KeyPair, edit func(*jwt.UserClaims)) (string, nkeys.KeyPair) {
	t.Helper()
	ukp, _ := nkeys.CreateUser()
	pub, _ := ukp.PublicKey()
	uc := jwt.NewUserClaims(pub)
	if edit != nil {
		edit(uc)
	}
	tok, err := uc.Encode(acc)
	require.NoError(t, err)
	return tok, ukp
}

// TestOperatorPayloadZeroE2E: an account JWT's limits.payload 0, or a
// user JWT's, lets the client publish empty messages only. As upstream:
// the INFO that follows the first PONG says max_payload 0 (the greeting,
// sent before authentication, the server's), an empty PUB passes, a PUB of one byte
// or any HPUB (its headers count) gets -ERR 'Maximum Payload Violation'
// and the connection is closed at its control line. A payload limit of 0
// pushed for an account applies to its connected clients; nats.go, told
// by the INFO, refuses a non-empty publish itself.
func TestOperatorPayloadZeroE2E(t *testing.T) {
	st := newResolverSetup(t)
	bKP, _ := nkeys.CreateAccount()
	bPub, _ := bKP.PublicKey()
	bJWT, err := jwt.NewAccountClaims(bPub).Encode(st.skKP)
	require.NoError(t, err)
	cKP, _ := nkeys.CreateAccount()
	cPub, _ := cKP.PublicKey()
	cJWT, err := jwt.NewAccountClaims(cPub).Encode(st.skKP)
	require.NoError(t, err)
	cIssued := time.Now().Unix()
	aJWT := st.accountJWT(t, func(ac *jwt.AccountClaims) { ac.Limits.Payload = 0 })
	// c0 is C with limits.payload 0, issued in a later second than C's
	// first JWT (the servers refuse an older one).
	c0JWT := func() string {
		time.Sleep(time.Until(time.Unix(cIssued+1, 0)))
		c0 := jwt.NewAccountClaims(cPub)
		c0.Limits.Payload = 0
		tok, err := c0.Encode(st.skKP)
		require.NoError(t, err)
		return tok
	}
	type user struct {
		name string
		tok  string
		kp   nkeys.KeyPair
	}
	var users []user
	for _, u := range []struct {
		name  string
		acc   nkeys.KeyPair
		limit int64
	}{{"A(0)/user(-1)", st.aKP, -1}, {"A(0)/user(5)", st.aKP, 5}, {"B(-1)/user(0)", bKP, 0}, {"B(-1)/user(5)", bKP, 5}} {
		tok, kp := newJWTUser(t, u.acc, func(uc *jwt.UserClaims) { uc.Limits.Payload = u.limit })
		users = append(users, user{u.name, tok, kp})
	}
	cTok, cUser := newJWTUser(t, cKP, nil)
	ops := []string{"PUB foo 0\r\n\r\n", "PUB foo 1\r\nx\r\n", "PUB foo 6\r\nxxxxxx\r\n", "HPUB foo 12 12\r\nNATS/1.0\r\n\r\n\r\n"}

	run := func(bin, name string) []string {
		dir := filepath.Join(st.dir, name)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for pub, tok := range map[string]string{st.sysPub: st.sysJWT, st.aPub: aJWT, bPub: bJWT, cPub: cJWT} {
			writeFile(t, filepath.Join(dir, pub+".jwt"), tok)
		}
		conf := writeFile(t, filepath.Join(st.dir, name+".conf"), `
operator: "`+st.opFile+`"
system_account: `+st.sysPub+`
resolver: { type: full, dir: "`+dir+`" }
`)
		p := startBinary(t, bin, "-c", conf)
		var out []string
		for _, u := range users {
			for _, op := range ops {
				c, greeting := rawJWTClient(t, p, u.tok, u.kp)
				out = append(out, fmt.Sprintf("%s greeting=%d connect: %s; %q: %s", u.name, greeting, c.step(""), op, c.step(op)))
			}
		}
		// A limit of 0 pushed while a client of C is connected.
		c, _ := rawJWTClient(t, p, cTok, cUser)
		out = append(out, "C(-1) before the push: "+c.step("")+"; "+c.step("PUB foo 2\r\nxx\r\n"))
		sys := p.connect(nats.UserCredentials(st.sysCreds))
		push(t, sys, "$SYS.REQ.CLAIMS.UPDATE", c0JWT(), cPub)
		out = append(out, "C(0) after the push: "+c.step("PUB foo 0\r\n\r\n")+"; "+c.step("PUB foo 2\r\nxx\r\n"))

		// nats.go learns the limit from the INFO after CONNECT.
		seed, err := cUser.Seed()
		require.NoError(t, err)
		nc := p.connect(nats.UserJWTAndSeed(cTok, string(seed)))
		servertest.WaitUntil(t, "max_payload 0 in nats.go", func() bool { return nc.MaxPayload() == 0 })
		sub, err := nc.SubscribeSync("foo")
		require.NoError(t, err)
		out = append(out, fmt.Sprintf("nats.go: publish 1 byte: %v; publish empty: %v", nc.Publish("foo", []byte("x")), nc.Publish("foo", nil)))
		m, err := sub.NextMsg(5 * time.Second)
		require.NoError(t, err)
		out = append(out, fmt.Sprintf("nats.go: received %q, connected %v", m.Data, nc.IsConnected()))
		return out
	}

	want := []string{}
	for _, u := range users {
		limit := "0"
		if u.name == "B(-1)/user(5)" {
			limit = "5"
		}
		for _, op := range ops {
			res := "-ERR 'Maximum Payload Violation' | <closed>"
			if op == ops[0] || op == ops[1] && limit == "5" {
				res = "PONG"
			}
			want = append(want, fmt.Sprintf("%s greeting=1048576 connect: PONG; %q: INFO max_payload=%s | %s", u.name, op, limit, res))
		}
	}
	want = append(want,
		"C(-1) before the push: PONG; INFO max_payload=1048576 | PONG",
		"C(0) after the push: PONG; -ERR 'Maximum Payload Violation' | <closed>",
		"nats.go: publish 1 byte: nats: maximum payload exceeded; publish empty: <nil>",
		`nats.go: received "", connected true`)

	ours := run(binary, "ours")
	require.Equal(t, want, ours)
	if up := os.Getenv("NATSD_UPSTREAM_SERVER"); up != "" {
		require.Equal(t, run(up, "up"), ours)
	}
}

// TestOperatorDeletedAccountE2E: an account deleted from the full
// resolver ($SYS.REQ.CLAIMS.DELETE signed by the operator) stays in the
// server's list, as upstream's: /accountz still names it and its detail
// says "expired": true; its client was closed with 'Account
// Authentication Expired' and a new one is refused. A JWT pushed for it
// again builds it at once ("expired": false) and its clients connect.
// Upstream drops the deleted account's service import subscriptions (the
// four system imports every account has) until then: /accstatz counts
// them the same. An account whose JWT expires reads expired too, its
// imports kept.
func TestOperatorDeletedAccountE2E(t *testing.T) {
	st := newResolverSetup(t)
	bKP, _ := nkeys.CreateAccount()
	bPub, _ := bKP.PublicKey()
	bCreds, _ := st.creds(t, bKP, "b")
	aJWT := st.accountJWT(t, nil)
	aIssued := time.Now().Unix()
	names := map[string]string{st.aPub: "A", bPub: "B", st.sysPub: "SYS", "$G": "$G"}

	run := func(bin, name string) []string {
		// B's JWT expires in 3 seconds.
		bc := jwt.NewAccountClaims(bPub)
		bc.Name = "B"
		bc.Expires = time.Now().Add(3 * time.Second).Unix()
		bJWT, err := bc.Encode(st.skKP)
		require.NoError(t, err)
		dir := filepath.Join(st.dir, name)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for pub, tok := range map[string]string{st.sysPub: st.sysJWT, st.aPub: aJWT, bPub: bJWT} {
			writeFile(t, filepath.Join(dir, pub+".jwt"), tok)
		}
		conf := writeFile(t, filepath.Join(st.dir, name+".conf"), `
operator: "`+st.opFile+`"
system_account: `+st.sysPub+`
resolver: { type: full, dir: "`+dir+`", allow_delete: true }
`)
		p := startBinary(t, bin, "-c", conf, "-m", "-1")
		mon := p.monitorURL()
		var out []string
		list := func() string {
			var doc struct{ Accounts []string }
			getJSON(t, mon+"/accountz", &doc)
			var l []string
			for _, a := range doc.Accounts {
				l = append(l, cmpOr(names[a], a))
			}
			slices.Sort(l)
			return strings.Join(l, ",")
		}
		detail := func(pub string) string {
			var doc struct {
				Account struct {
					Expired bool `json:"expired"`
					Conns   int  `json:"client_connections"`
				} `json:"account_detail"`
			}
			getJSON(t, mon+"/accountz?acc="+pub, &doc)
			// (upstream's /accstatz has no filter by account)
			var stz struct {
				Accounts []struct {
					Acc  string `json:"acc"`
					Subs int    `json:"num_subscriptions"`
				} `json:"account_statz"`
			}
			getJSON(t, mon+"/accstatz?unused=1", &stz)
			subs := -1
			for _, a := range stz.Accounts {
				if a.Acc == pub {
					subs = a.Subs
				}
			}
			return fmt.Sprintf("%s expired=%v conns=%d subs=%d", names[pub], doc.Account.Expired, doc.Account.Conns, subs)
		}
		sys := p.connect(nats.UserCredentials(st.sysCreds))
		a, aErrs := closedWith(t, p, nats.UserCredentials(st.a1Creds))
		b, bErrs := closedWith(t, p, nats.UserCredentials(bCreds))
		require.NoError(t, a.Flush())
		require.NoError(t, b.Flush())
		out = append(out, "before: "+list()+"; "+detail(st.aPub)+"; "+detail(bPub))

		gc := jwt.NewGenericClaims(st.opPub)
		gc.Data["accounts"] = []string{st.aPub}
		tok, err := gc.Encode(st.opKP)
		require.NoError(t, err)
		r := sysRequest(t, sys, "$SYS.REQ.CLAIMS.DELETE", tok)
		out = append(out, "delete: "+string(r.Data))
		waitErr(t, aErrs, "account authentication expired")
		servertest.WaitUntil(t, "A's client gone", func() bool { return strings.Contains(detail(st.aPub), "conns=0") })
		out = append(out, "deleted: "+list()+"; "+detail(st.aPub))
		_, err = p.dial(nats.UserCredentials(st.a1Creds))
		out = append(out, fmt.Sprintf("A's client again: %v", err))

		time.Sleep(time.Until(time.Unix(aIssued+1, 0)))
		push(t, sys, "$SYS.REQ.CLAIMS.UPDATE", st.accountJWT(t, nil), st.aPub)
		out = append(out, "pushed again: "+list()+"; "+detail(st.aPub))
		a2 := p.connect(nats.UserCredentials(st.a1Creds))
		require.NoError(t, a2.Flush())
		out = append(out, "connected again: "+detail(st.aPub))

		waitErr(t, bErrs, "account authentication expired")
		servertest.WaitUntil(t, "B's client gone", func() bool { return strings.Contains(detail(bPub), "conns=0") })
		out = append(out, "B expired: "+list()+"; "+detail(bPub))
		return out
	}
	want := []string{
		"before: $G,A,B,SYS; A expired=false conns=1 subs=4; B expired=false conns=1 subs=4",
		`delete: {"code":200,"message":"deleted 1 accounts"}`,
		"deleted: $G,A,B,SYS; A expired=true conns=0 subs=0",
		"A's client again: nats: Authorization Violation",
		"pushed again: $G,A,B,SYS; A expired=false conns=0 subs=4",
		"connected again: A expired=false conns=1 subs=4",
		"B expired: $G,A,B,SYS; B expired=true conns=0 subs=4",
	}
	ours := run(binary, "ours")
	require.Equal(t, want, ours)
	if up := os.Getenv("NATSD_UPSTREAM_SERVER"); up != "" {
		require.Equal(t, run(up, "up"), ours)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
