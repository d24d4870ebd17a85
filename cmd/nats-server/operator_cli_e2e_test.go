package main

// The nats CLI against operator mode: .creds files, `nats account
// info` showing the JetStream limits of the account JWT, and a
// request/reply across accounts through JWT exports and imports.

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"
)

// cliOperator is an operator with accounts SYS, A (JetStream limits,
// exporting the service "svc.>") and B (importing it), and a user of A
// and of B as .creds files.
type cliOperator struct {
	conf, credsA, credsB string
}

func newCLIOperator(t *testing.T, extra string) *cliOperator {
	dir := t.TempDir()
	opKP, _ := nkeys.CreateOperator()
	opPub, _ := opKP.PublicKey()
	sysKP, _ := nkeys.CreateAccount()
	sysPub, _ := sysKP.PublicKey()
	aKP, _ := nkeys.CreateAccount()
	aPub, _ := aKP.PublicKey()
	bKP, _ := nkeys.CreateAccount()
	oc := jwt.NewOperatorClaims(opPub)
	oc.SystemAccount = sysPub
	opJWT, err := oc.Encode(opKP)
	require.NoError(t, err)
	preload := map[string]string{}
	account := func(kp nkeys.KeyPair, name string, edit func(*jwt.AccountClaims)) {
		pub, _ := kp.PublicKey()
		ac := jwt.NewAccountClaims(pub)
		ac.Name = name
		if edit != nil {
			edit(ac)
		}
		tok, err := ac.Encode(opKP)
		require.NoError(t, err)
		preload[pub] = tok
	}
	account(sysKP, "SYS", nil)
	account(aKP, "A", func(ac *jwt.AccountClaims) {
		ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: 1 << 20, DiskStorage: 10 << 20, Streams: 3, Consumer: 7}
		ac.Exports.Add(&jwt.Export{Subject: "svc.>", Type: jwt.Service})
	})
	account(bKP, "B", func(ac *jwt.AccountClaims) {
		ac.Imports.Add(&jwt.Import{Account: aPub, Subject: "svc.>", Type: jwt.Service})
	})
	c := &cliOperator{}
	c.credsA, _ = writeCreds(t, dir, "ua", aKP, nil)
	c.credsB, _ = writeCreds(t, dir, "ub", bKP, nil)
	var b strings.Builder
	b.WriteString("operator: " + opJWT + "\nsystem_account: " + sysPub + "\nresolver: MEMORY\nresolver_preload: {\n")
	for pub, tok := range preload {
		b.WriteString("  " + pub + ": " + tok + "\n")
	}
	b.WriteString("}\n" + extra)
	c.conf = writeFile(t, filepath.Join(dir, "op.conf"), b.String())
	return c
}

func TestOperatorNatsCLIE2E(t *testing.T) {
	t.Run("natsd", func(t *testing.T) { testOperatorNatsCLI(t, binary) })
	t.Run("upstream", func(t *testing.T) {
		up := os.Getenv("NATSD_UPSTREAM_SERVER")
		if up == "" {
			t.Skip("NATSD_UPSTREAM_SERVER is not set")
		}
		testOperatorNatsCLI(t, up)
	})
}

func testOperatorNatsCLI(t *testing.T, server string) {
	bin := natsCLIBinary(t)
	op := newCLIOperator(t, "jetstream { store_dir: \""+t.TempDir()+"\" }\n")
	p := startBinary(t, server, "-c", op.conf)
	cli := newNatsCLI(t, bin, p)

	// nats pub with a user's creds reaches a subscriber of the account.
	a := p.connect(nats.UserCredentials(op.credsA))
	sub, err := a.SubscribeSync("greet")
	require.NoError(t, err)
	require.NoError(t, a.Flush())
	cli.run("--creds", op.credsA, "pub", "greet", "hello")
	m, err := sub.NextMsg(5 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "hello", string(m.Data))

	// nats sub with creds receives what a client of the account sends.
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--creds", op.credsA, "sub", "news", "--count", "1")
	cmd.Env = cli.env
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = cmd.Stdout
	require.NoError(t, cmd.Start())
	lines := bufio.NewScanner(out)
	var got strings.Builder
	subscribed := false
	for !subscribed && lines.Scan() {
		got.WriteString(lines.Text() + "\n")
		subscribed = strings.Contains(lines.Text(), "Subscribing on news")
	}
	require.True(t, subscribed, got.String())
	// The CLI prints the line before its SUB reaches the server: publish
	// until it has the message.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for lines.Scan() {
			got.WriteString(lines.Text() + "\n")
		}
	}()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for exited := false; !exited; {
		select {
		case <-done:
			exited = true
		case <-tick.C:
			require.NoError(t, a.Publish("news", []byte("extra extra")))
		case <-deadline:
			t.Fatalf("nats sub got nothing:\n%s", got.String())
		}
	}
	require.NoError(t, cmd.Wait())
	require.Contains(t, got.String(), "extra extra")

	// A request from B to A's service, through B's import.
	_, err = a.Subscribe("svc.echo", func(m *nats.Msg) { _ = m.Respond(append([]byte("echo: "), m.Data...)) })
	require.NoError(t, err)
	require.NoError(t, a.Flush())
	reply := cli.run("--creds", op.credsB, "request", "svc.echo", "ping")
	require.Contains(t, reply, "echo: ping")

	// nats account info shows the JetStream limits of A's JWT.
	info := cli.run("--creds", op.credsA, "account", "info")
	for _, want := range []string{"Memory: 0 B of 1.0 MiB", "Storage: 0 B of 10 MiB", "Streams: 0 of 3", "Consumers: Maximum 7 per stream"} {
		require.Contains(t, info, want, info)
	}
	// The limit holds: a fourth stream is refused with upstream's error.
	js, err := jetstream.New(a)
	require.NoError(t, err)
	for i := range 3 {
		_, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: fmt.Sprint("S", i), Subjects: []string{fmt.Sprint("s", i)}, Storage: jetstream.MemoryStorage})
		require.NoError(t, err)
	}
	_, err = js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "S3", Subjects: []string{"s3"}, Storage: jetstream.MemoryStorage})
	require.ErrorContains(t, err, "maximum number of streams reached")
	info = cli.run("--creds", op.credsA, "account", "info")
	require.Contains(t, info, "Streams: 3 of 3", info)

	// B's JWT does not enable JetStream.
	b := p.connect(nats.UserCredentials(op.credsB))
	jsb, err := jetstream.New(b)
	require.NoError(t, err)
	_, err = jsb.AccountInfo(context.Background())
	require.ErrorIs(t, err, jetstream.ErrJetStreamNotEnabledForAccount)
}

// TestOperatorJWTLimitsE2E holds natsd and (when NATSD_UPSTREAM_SERVER
// names it) upstream to the same account JWT limits: 0 connections or
// subscriptions means none, and leaf node connections beyond the
// account's "leaf" limit are refused.
func TestOperatorJWTLimitsE2E(t *testing.T) {
	t.Run("natsd", func(t *testing.T) { testOperatorJWTLimits(t, binary) })
	t.Run("upstream", func(t *testing.T) {
		up := os.Getenv("NATSD_UPSTREAM_SERVER")
		if up == "" {
			t.Skip("NATSD_UPSTREAM_SERVER is not set")
		}
		testOperatorJWTLimits(t, up)
	})
}

func testOperatorJWTLimits(t *testing.T, bin string) {
	dir := t.TempDir()
	opKP, _ := nkeys.CreateOperator()
	opPub, _ := opKP.PublicKey()
	sysKP, _ := nkeys.CreateAccount()
	sysPub, _ := sysKP.PublicKey()
	oc := jwt.NewOperatorClaims(opPub)
	oc.SystemAccount = sysPub
	opJWT, err := oc.Encode(opKP)
	require.NoError(t, err)
	preload := map[string]string{}
	account := func(name string, edit func(*jwt.AccountClaims)) nkeys.KeyPair {
		kp, _ := nkeys.CreateAccount()
		if name == "SYS" {
			kp = sysKP
		}
		pub, _ := kp.PublicKey()
		ac := jwt.NewAccountClaims(pub)
		ac.Name = name
		if edit != nil {
			edit(ac)
		}
		tok, err := ac.Encode(opKP)
		require.NoError(t, err)
		preload[pub] = tok
		return kp
	}
	account("SYS", nil)
	zero := account("Z", func(ac *jwt.AccountClaims) { ac.Limits.Conn = 0 })
	nosubs := account("S", func(ac *jwt.AccountClaims) { ac.Limits.Subs = 0 })
	leafy := account("L", func(ac *jwt.AccountClaims) { ac.Limits.LeafNodeConn = 1 })
	var b strings.Builder
	b.WriteString("operator: " + opJWT + "\nsystem_account: " + sysPub + "\nresolver: MEMORY\nleafnodes { listen: \"127.0.0.1:-1\" }\nresolver_preload: {\n")
	for pub, tok := range preload {
		b.WriteString("  " + pub + ": " + tok + "\n")
	}
	b.WriteString("}\n")
	hub := startBinary(t, bin, "-c", writeFile(t, filepath.Join(dir, "hub.conf"), b.String()))

	credsZ, _ := writeCreds(t, dir, "z", zero, nil)
	_, err = hub.dial(nats.UserCredentials(credsZ))
	require.Error(t, err)
	require.Contains(t, strings.ToLower(err.Error()), "maximum account active connections exceeded")

	// An account, then a user, with a subscription limit of 0.
	credsS, _ := writeCreds(t, dir, "s", nosubs, nil)
	credsU, _ := writeCreds(t, dir, "u", leafy, func(uc *jwt.UserClaims) { uc.Limits.Subs = 0 })
	for _, creds := range []string{credsS, credsU} {
		errs := make(chan error, 2)
		s, err := hub.dial(nats.UserCredentials(creds), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
		if err != nil {
			// Upstream's -ERR sometimes arrives while the client connects.
			require.Contains(t, strings.ToLower(err.Error()), "maximum subscriptions exceeded")
			continue
		}
		_, err = s.SubscribeSync("x")
		require.NoError(t, err)
		select {
		case err := <-errs:
			require.Contains(t, strings.ToLower(err.Error()), "maximum subscriptions exceeded")
		case <-time.After(5 * time.Second):
			t.Fatal("no subscription limit error")
		}
	}

	// Two leaf nodes into L: the second is one too many.
	leafConf := func(name string) string {
		creds, _ := writeCreds(t, dir, name, leafy, nil)
		return writeFile(t, filepath.Join(dir, name+".conf"),
			"leafnodes { reconnect: \"100ms\", remotes: [ { url: \"nats-leaf://"+hub.leafAddr()+"\", credentials: \""+creds+"\" } ] }\n")
	}
	first := startBinary(t, bin, "-c", leafConf("leaf1"))
	first.waitLog("Leafnode connection created")
	hub.waitLog("Leafnode connection created")
	second := startBinary(t, bin, "-c", leafConf("leaf2"))
	second.waitLog("maximum account active connections exceeded")
	hub.waitLog("maximum account active connections exceeded")
}
