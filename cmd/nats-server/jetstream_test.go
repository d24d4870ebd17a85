package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	js "natsd.dev/jetstream"
	"natsd.dev/jetstream/api"
	"natsd.dev/server/servertest"
)

// loadJS parses text as the configuration file (none when empty) and
// args as the command line, as run does, and returns what loadJetStream
// makes of them.
func loadJS(t *testing.T, text string, args ...string) (js.Options, bool, error) {
	t.Helper()
	if text != "" {
		path := writeFile(t, filepath.Join(t.TempDir(), "js.conf"), text)
		args = append([]string{"-c", path}, args...)
	}
	f, err := parseFlags(args, io.Discard)
	require.NoError(t, err)
	cfg, err := loadConfig(f, nil, io.Discard)
	require.NoError(t, err)
	return loadJetStream(cfg, f)
}

func TestLoadJetStream(t *testing.T) {
	for _, tt := range []struct {
		name, text string
		args       []string
		on         bool
		storeDir   string
	}{
		{name: "nothing"},
		{name: "-js", args: []string{"-js"}, on: true},
		{name: "--jetstream", args: []string{"--jetstream"}, on: true},
		{name: "-sd alone", args: []string{"-sd", "/d"}, storeDir: "/d"},
		{name: "-js -sd", args: []string{"-js", "-sd", "/d"}, on: true, storeDir: "/d"},
		{name: "--store_dir", args: []string{"-js", "--store_dir", "/d"}, on: true, storeDir: "/d"},
		{name: "file", text: "jetstream { store_dir: /f }", on: true, storeDir: "/f"},
		{name: "file top-level store_dir", text: "jetstream: enabled\nstore_dir: /f", on: true, storeDir: "/f"},
		{name: "-sd over file", text: "jetstream { store_dir: /f }", args: []string{"-sd", "/d"}, on: true, storeDir: "/d"},
		{name: "-js over disabled file", text: "jetstream: disabled", args: []string{"-js"}, on: true},
		{name: "-js=false over enabled file", text: "jetstream: enabled", args: []string{"-js=false"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o, on, err := loadJS(t, tt.text, tt.args...)
			require.NoError(t, err)
			require.Equal(t, tt.on, on)
			require.Equal(t, tt.storeDir, o.StoreDir)
		})
	}
}

func TestLoadJetStreamOptions(t *testing.T) {
	o, on, err := loadJS(t, `
jetstream { max_mem: 1GB, max_file: 2GB, domain: hub, sync_interval: always, strict: false }
accounts {
  A { jetstream { max_streams: 3 } }
  B { jetstream: disabled }
  C {}
}
`)
	require.NoError(t, err)
	require.True(t, on)
	a := js.Unlimited
	a.MaxStreams = 3
	require.Equal(t, js.Options{
		MaxMemory: 1 << 30, MaxStore: 2 << 30, Domain: "hub", NonStrict: true,
		Accounts: map[string]api.AccountLimits{"A": a},
	}, o)

	// Accounts without JetStream of their own: none has it.
	o, on, err = loadJS(t, "jetstream: enabled\naccounts { A {} }\n")
	require.NoError(t, err)
	require.True(t, on)
	require.NotNil(t, o.Accounts)
	require.Empty(t, o.Accounts)

	// No accounts at all: every account has it.
	o, _, err = loadJS(t, "jetstream: enabled\n")
	require.NoError(t, err)
	require.Nil(t, o.Accounts)
}

func TestLoadJetStreamSystemAccount(t *testing.T) {
	_, _, err := loadJS(t, "jetstream: enabled\naccounts { SYS { jetstream: enabled } }\nsystem_account: SYS\n")
	require.ErrorIs(t, err, js.ErrSystemAccount)
	// JetStream off: upstream says nothing either.
	_, on, err := loadJS(t, "accounts { SYS { jetstream: enabled } }\nsystem_account: SYS\n")
	require.NoError(t, err)
	require.False(t, on)
	// -js turns it on, and the check with it.
	_, _, err = loadJS(t, "accounts { SYS { jetstream: enabled } }\nsystem_account: SYS\n", "-js")
	require.ErrorIs(t, err, js.ErrSystemAccount)

	dir := t.TempDir()
	conf := writeFile(t, filepath.Join(dir, "sys.conf"), "jetstream: enabled\naccounts { $SYS { jetstream: enabled } }\n")
	code, _, errOut := runOnce(t, "-c", conf, "-t")
	require.Equal(t, 1, code)
	require.Equal(t, "nats-server: account $SYS: Not allowed to enable JetStream on the system account\n", errOut)
}

func TestCheckJetStreamReload(t *testing.T) {
	base := js.Options{StoreDir: "/a", MaxMemory: 1, MaxStore: 2, Domain: "d"}
	with := func(f func(o *js.Options)) js.Options {
		o := base
		f(&o)
		return o
	}
	for _, tt := range []struct {
		name         string
		oldOn, newOn bool
		nu           js.Options
		want         string
	}{
		{"unchanged", true, true, base, ""},
		{"both off", false, false, with(func(o *js.Options) { o.StoreDir = "/b" }), ""},
		{"turned on", false, true, base, ""},  // as upstream
		{"turned off", true, false, base, ""}, // as upstream
		{"turned on elsewhere", false, true, with(func(o *js.Options) { o.StoreDir = "/b" }), ""},
		{"store dir", true, true, with(func(o *js.Options) { o.StoreDir = "/b" }), "config reload not supported for jetstream storage dir"},
		{"max memory up", true, true, with(func(o *js.Options) { o.MaxMemory = 5 }), ""},
		{"max store down", true, true, with(func(o *js.Options) { o.MaxStore = 1 }), "config reload not supported for decreasing jetstream max memory and store"},
		{"domain", true, true, with(func(o *js.Options) { o.Domain = "e" }), "config reload not supported for JetStreamDomain: old=d, new=e"},
		{"strict", true, true, with(func(o *js.Options) { o.NonStrict = true }), "config reload not supported for NoJetStreamStrict: old=false, new=true"},
		{"accounts", true, true, with(func(o *js.Options) { o.Accounts = map[string]api.AccountLimits{"A": js.Unlimited} }), "config reload not supported for jetstream"},
		{"limits", true, true, with(func(o *js.Options) { o.Limits.MaxAckPending = 5 }), ""}, // reloads, as upstream
		{"unique tag", true, true, with(func(o *js.Options) { o.UniqueTag = "az" }), "config reload not supported for jetstream"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := checkJetStreamReload(tt.oldOn, base, tt.newOn, tt.nu)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tt.want)
		})
	}
}

// startJS starts the binary with args as start does.
func startJS(t *testing.T, args ...string) *proc {
	t.Helper()
	dir := t.TempDir()
	all := append([]string{"-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", dir}, args...)
	p := &proc{t: t, dir: dir, log: &servertest.Logs{}, done: make(chan struct{})}
	p.cmd = exec.Command(binary, all...)
	p.cmd.Stderr = p.log
	require.NoError(t, p.cmd.Start())
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("server log:\n%s", p.log.String())
		}
	})
	p.ports = filepath.Join(dir, fmt.Sprintf("nats-server_%d.ports", p.cmd.Process.Pid))
	exited := false
	servertest.WaitUntil(t, "the ports file or an exit", func() bool {
		select {
		case <-p.done:
			exited = true
			return true
		default:
		}
		b, err := os.ReadFile(p.ports)
		if err != nil {
			return false
		}
		var doc struct{ Nats []string }
		if json.Unmarshal(b, &doc) != nil || len(doc.Nats) != 1 {
			return false
		}
		_, port, ok := strings.Cut(strings.TrimPrefix(doc.Nats[0], "nats://127.0.0.1"), ":")
		p.port, _ = strconv.Atoi(port)
		return ok && p.port > 0
	})
	if exited {
		t.Fatalf("nats-server exited early: %v\n%s", p.err, p.log.String())
	}
	return p
}

// TestJetStreamFlagsE2E starts JetStream from the flags and checks with
// the client that the store directory and the account work.
func TestJetStreamFlagsE2E(t *testing.T) {
	sd := t.TempDir()
	p := startJS(t, "-js", "-sd", sd)
	nc := p.connect()
	jsc, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx := t.Context()
	_, err = jsc.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.FileStorage})
	require.NoError(t, err)
	_, err = jsc.Publish(ctx, "s.1", []byte("x"))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(sd, "jetstream"))
	require.NoError(t, err, "the store directory should hold a jetstream directory")
	_, err = jsc.AccountInfo(ctx)
	require.NoError(t, err)
}

// TestJetStreamConfigE2E starts JetStream from a file with a domain and
// account limits, and checks that a reload changing it is refused while
// the server keeps serving.
func TestJetStreamConfigE2E(t *testing.T) {
	dir := t.TempDir()
	text := func(sd string) string {
		return fmt.Sprintf(`jetstream { store_dir: %q, domain: hub }
accounts {
  A { jetstream { max_streams: 2 }, users [{user: a, password: a}] }
  B { users [{user: b, password: b}] }
}
`, sd)
	}
	conf := writeFile(t, filepath.Join(dir, "js.conf"), text(filepath.Join(dir, "one")))
	p := startJS(t, "-c", conf)

	nc := p.connect(nats.UserInfo("a", "a"))
	jsc, err := jetstream.New(nc)
	require.NoError(t, err)
	ai, err := jsc.AccountInfo(t.Context())
	require.NoError(t, err)
	require.Equal(t, "hub", ai.Domain)
	require.Equal(t, 2, ai.Limits.MaxStreams)

	// B enables nothing: as upstream, it has no JetStream.
	nb := p.connect(nats.UserInfo("b", "b"))
	jsb, err := jetstream.New(nb)
	require.NoError(t, err)
	_, err = jsb.AccountInfo(t.Context())
	require.ErrorIs(t, err, jetstream.ErrJetStreamNotEnabledForAccount)

	writeFile(t, conf, text(filepath.Join(dir, "two")))
	p.signal(syscall.SIGHUP)
	p.waitLog("config reload not supported for jetstream storage dir")
	_, err = jsc.AccountInfo(t.Context())
	require.NoError(t, err)

	// SIGTERM shuts JetStream down before the server; the exit is clean.
	p.signal(syscall.SIGTERM)
	require.Equal(t, 0, p.exitCode())
}
