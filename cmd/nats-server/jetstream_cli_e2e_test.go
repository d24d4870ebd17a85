package main

// End-to-end tests of JetStream in the built binary with the nats CLI
// (natscli), the tool operators use: its commands must work unchanged
// and show what the server holds. .ci/run installs the pinned natscli
// (NatsCLIVersion) and names it in NATSD_NATS_CLI.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/stretchr/testify/require"
)

// natsCLIEnv names the nats CLI binary; natsCLIVersion is the release
// .ci/run installs (`nats --version` prints it).
const (
	natsCLIEnv     = "NATSD_NATS_CLI"
	natsCLIVersion = "v0.5.0"
)

// cliTimeout bounds every nats CLI command; each needs well under a
// second.
const cliTimeout = 30 * time.Second

// missingTool skips the test when a tool it needs is not installed, as
// the tests that need upstream's binary do, except under CI (CI=true),
// where .ci/run installs every tool: there a missing one fails the test
// rather than hiding it.
func missingTool(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; under CI=true this is a failure")
	}
	t.Skip(msg)
}

// natsCLI is the nats CLI of one test: the binary, run against one
// server with a configuration directory of its own (no user contexts).
type natsCLI struct {
	t   *testing.T
	bin string
	env []string
}

// natsCLIBinary returns the nats CLI NATSD_NATS_CLI names, or skips
// (fails under CI) when it names no executable.
func natsCLIBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv(natsCLIEnv)
	if bin == "" {
		missingTool(t, natsCLIEnv+" not set (.ci/run installs natscli "+natsCLIVersion+")")
	}
	if st, err := os.Stat(bin); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		missingTool(t, natsCLIEnv+"="+bin+" is not an executable")
	}
	return bin
}

// newNatsCLI returns the CLI bin for server p.
func newNatsCLI(t *testing.T, bin string, p *proc) *natsCLI {
	t.Helper()
	home := t.TempDir()
	env := []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "NATS_URL=" + p.url()}
	for _, kv := range os.Environ() {
		// The user's NATS_* settings and home must not leak in.
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "NATS_") && k != "HOME" && k != "XDG_CONFIG_HOME" {
			env = append(env, kv)
		}
	}
	return &natsCLI{t: t, bin: bin, env: env}
}

// runIn runs the CLI with args and stdin, requires a zero exit status and
// returns its standard output and error together (the CLI prints some
// confirmations on either).
func (c *natsCLI) runIn(stdin string, args ...string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = c.env
	cmd.Dir = c.t.TempDir()
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		c.t.Fatalf("nats %s: no exit within %v\n%s", strings.Join(args, " "), cliTimeout, out.String())
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		c.t.Fatalf("nats %s: exit status %d\n%s", strings.Join(args, " "), exit.ExitCode(), out.String())
	}
	require.NoError(c.t, err, "nats %s", strings.Join(args, " "))
	return out.String()
}

func (c *natsCLI) run(args ...string) string {
	c.t.Helper()
	return c.runIn("", args...)
}

// json runs the CLI and decodes the JSON document in its output into v.
// Some commands print lines before it ("Stream X was created", the
// configuration diff of edit); the document starts a line.
func (c *natsCLI) json(v any, args ...string) {
	c.t.Helper()
	out := c.run(args...)
	loc := jsonStart.FindStringIndex(out)
	require.NotNil(c.t, loc, "nats %s: no JSON in\n%s", strings.Join(args, " "), out)
	require.NoError(c.t, json.NewDecoder(strings.NewReader(out[loc[0]:])).Decode(v), "nats %s:\n%s", strings.Join(args, " "), out)
}

var jsonStart = regexp.MustCompile(`(?m)^(\{|\[|null)`)

// cliStreamInfo is the part of `nats stream info -j` (the server's
// STREAM.INFO response) the tests look at.
type cliStreamInfo struct {
	Config struct {
		Name        string   `json:"name"`
		Description string   `json:"description"`
		Subjects    []string `json:"subjects"`
		Retention   string   `json:"retention"`
		Storage     string   `json:"storage"`
		Discard     string   `json:"discard"`
		MaxMsgs     int64    `json:"max_msgs"`
		MaxBytes    int64    `json:"max_bytes"`
		MaxAge      int64    `json:"max_age"`
		MaxMsgSize  int64    `json:"max_msg_size"`
		MaxPerSubj  int64    `json:"max_msgs_per_subject"`
		Duplicates  int64    `json:"duplicate_window"`
		Replicas    int      `json:"num_replicas"`
		AllowDirect bool     `json:"allow_direct"`
		AllowRollup bool     `json:"allow_rollup_hdrs"`
		DenyDelete  bool     `json:"deny_delete"`
		DenyPurge   bool     `json:"deny_purge"`
	} `json:"config"`
	State struct {
		Msgs        uint64 `json:"messages"`
		Bytes       uint64 `json:"bytes"`
		FirstSeq    uint64 `json:"first_seq"`
		LastSeq     uint64 `json:"last_seq"`
		NumSubjects int    `json:"num_subjects"`
	} `json:"state"`
}

// cliMsg is `nats stream get -j`: the stored message as the server's
// STREAM.MSG.GET returns it.
type cliMsg struct {
	Subject string `json:"subject"`
	Seq     uint64 `json:"seq"`
	Header  []byte `json:"hdrs"`
	Data    []byte `json:"data"`
}

// TestNatsCLIStreamE2E drives a file stream's whole life with the nats
// CLI: add with a full configuration, list, publish (core and JetStream,
// with headers), get, edit, backup and restore (the NATSARC1 archive as
// upstream 2.15 makes it), purge and remove, plus account info.
func TestNatsCLIStreamE2E(t *testing.T) {
	bin := natsCLIBinary(t)
	p := startJS(t, "-js", "-sd", t.TempDir())
	c := newNatsCLI(t, bin, p)
	require.Contains(t, c.run("--version"), natsCLIVersion)

	// add: every prompt answered by a flag.
	var si cliStreamInfo
	c.json(&si, "stream", "add", "ORDERS", "--subjects", "orders.>", "--storage", "file",
		"--retention", "limits", "--discard", "old", "--max-msgs", "1000", "--max-bytes=-1",
		"--max-age", "1y", "--max-msg-size=-1", "--max-msgs-per-subject=-1",
		"--dupe-window", "2m", "--replicas", "1", "--allow-direct", "--no-allow-rollup",
		"--no-deny-delete", "--no-deny-purge", "--description", "orders", "--defaults", "-j")
	cfg := si.Config
	require.Equal(t, "ORDERS", cfg.Name)
	require.Equal(t, "orders", cfg.Description)
	require.Equal(t, []string{"orders.>"}, cfg.Subjects)
	require.Equal(t, "limits", cfg.Retention)
	require.Equal(t, "file", cfg.Storage)
	require.Equal(t, "old", cfg.Discard)
	require.EqualValues(t, 1000, cfg.MaxMsgs)
	require.EqualValues(t, -1, cfg.MaxBytes)
	require.EqualValues(t, 365*24*time.Hour, cfg.MaxAge)
	require.EqualValues(t, -1, cfg.MaxMsgSize)
	require.EqualValues(t, -1, cfg.MaxPerSubj)
	require.EqualValues(t, 2*time.Minute, cfg.Duplicates)
	require.Equal(t, 1, cfg.Replicas)
	require.True(t, cfg.AllowDirect)
	require.False(t, cfg.AllowRollup || cfg.DenyDelete || cfg.DenyPurge)
	require.Zero(t, si.State.Msgs)

	// ls: JSON, names only, and the table.
	var names []string
	c.json(&names, "stream", "ls", "-j")
	require.Equal(t, []string{"ORDERS"}, names)
	require.Equal(t, "ORDERS\n", c.run("stream", "ls", "-n"))
	require.Contains(t, c.run("stream", "ls"), "ORDERS")

	// pub: 5 core messages the stream captures, then 3 through
	// JetStream with a header, each acknowledged with its sequence.
	out := c.run("pub", "orders.new", "msg {{Count}}", "--count", "5")
	require.Equal(t, 5, strings.Count(out, `Published 5 bytes to "orders.new"`), out)
	out = c.run("pub", "orders.js", "js {{Count}}", "--count", "3", "--jetstream", "-H", "Kind:cli")
	for _, want := range []string{"Sequence: 6", "Sequence: 7", "Sequence: 8"} {
		require.Contains(t, out, "Stored in Stream: ORDERS "+want)
	}

	info := func() cliStreamInfo {
		t.Helper()
		var si cliStreamInfo
		c.json(&si, "stream", "info", "ORDERS", "-j")
		return si
	}
	si = info()
	require.EqualValues(t, 8, si.State.Msgs)
	require.EqualValues(t, 1, si.State.FirstSeq)
	require.EqualValues(t, 8, si.State.LastSeq)
	require.Equal(t, 2, si.State.NumSubjects)

	// get: by sequence, with the header the CLI sent.
	var m cliMsg
	c.json(&m, "stream", "get", "ORDERS", "2", "-j")
	require.Equal(t, cliMsg{Subject: "orders.new", Seq: 2, Data: []byte("msg 2")}, cliMsg{Subject: m.Subject, Seq: m.Seq, Data: m.Data})
	require.Empty(t, m.Header)
	c.json(&m, "stream", "get", "ORDERS", "7", "-j")
	require.Equal(t, "orders.js", m.Subject)
	require.Equal(t, "js 2", string(m.Data))
	require.Equal(t, "NATS/1.0\r\nKind: cli\r\n\r\n", string(m.Header))
	require.Contains(t, c.run("stream", "get", "ORDERS", "7"), "js 2")

	// An atomic batch from stdin needs allow_atomic: added by edit below.
	// edit: a lower max_msgs with discard old trims the oldest at once.
	c.json(&si, "stream", "edit", "ORDERS", "--max-msgs", "5", "--description", "edited", "--allow-batch", "-f", "-j")
	require.EqualValues(t, 5, si.Config.MaxMsgs)
	require.Equal(t, "edited", si.Config.Description)
	si = info()
	require.EqualValues(t, 5, si.State.Msgs)
	require.EqualValues(t, 4, si.State.FirstSeq)
	require.EqualValues(t, 8, si.State.LastSeq)
	out = c.runIn("b1\nb2\n", "pub", "orders.batch", "--atomic", "--send-on", "newline", "--force-stdin")
	require.Contains(t, out, "Messages: 2 Sequence: 10", out)
	si = info()
	require.EqualValues(t, 5, si.State.Msgs)
	require.EqualValues(t, 6, si.State.FirstSeq)
	require.EqualValues(t, 10, si.State.LastSeq)

	// backup: the CLI stores the server's snapshot as sent (S2 framed);
	// inside is the NATSARC1 archive, which `nats backup` reads.
	bk := filepath.Join(t.TempDir(), "orders")
	require.Contains(t, c.run("stream", "backup", "ORDERS", bk), `for stream "ORDERS"`)
	arc, err := os.Open(filepath.Join(bk, "stream.arc.s2"))
	require.NoError(t, err)
	defer arc.Close()
	magic := make([]byte, 8)
	_, err = io.ReadFull(s2.NewReader(arc), magic)
	require.NoError(t, err)
	require.Equal(t, "NATSARC1", string(magic))
	var bi struct {
		Config struct {
			Name string `json:"name"`
		} `json:"config"`
		Msgs     uint64 `json:"messages"`
		FirstSeq uint64 `json:"first_seq"`
		LastSeq  uint64 `json:"last_seq"`
		Declared struct {
			Msgs    uint64 `json:"messages"`
			LastSeq uint64 `json:"last_seq"`
		} `json:"declared"`
	}
	c.json(&bi, "backup", "info", bk, "-j", "--no-progress")
	require.Equal(t, "ORDERS", bi.Config.Name)
	require.EqualValues(t, 5, bi.Msgs)
	require.EqualValues(t, 6, bi.FirstSeq)
	require.EqualValues(t, 10, bi.LastSeq)
	require.EqualValues(t, 5, bi.Declared.Msgs)
	require.EqualValues(t, 10, bi.Declared.LastSeq)
	require.Regexp(t, `OK: .*5 messages.*sequences 6 to 10`, c.run("backup", "validate", bk))

	// rm, then restore: the same configuration, messages and sequences.
	c.run("stream", "rm", "-f", "ORDERS")
	c.json(&names, "stream", "ls", "-j")
	require.Empty(t, names)
	require.Contains(t, c.run("stream", "restore", bk), `Restored stream "ORDERS"`)
	si = info()
	require.Equal(t, "edited", si.Config.Description)
	require.EqualValues(t, 5, si.Config.MaxMsgs)
	require.EqualValues(t, 5, si.State.Msgs)
	require.EqualValues(t, 6, si.State.FirstSeq)
	require.EqualValues(t, 10, si.State.LastSeq)
	c.json(&m, "stream", "get", "ORDERS", "7", "-j")
	require.Equal(t, "js 2", string(m.Data))
	require.Equal(t, "NATS/1.0\r\nKind: cli\r\n\r\n", string(m.Header))
	c.json(&m, "stream", "get", "ORDERS", "10", "-j")
	require.Equal(t, "b2", string(m.Data))

	// account info (text only): the account and its one stream.
	out = c.run("account", "info")
	require.Regexp(t, `Account: \$G\n`, out)
	require.Regexp(t, `Streams: 1 of Unlimited`, out)
	require.Regexp(t, `Connected Server Version: 2\.`, out)

	// purge keeps the sequence; the next message follows it.
	require.Contains(t, c.run("stream", "purge", "-f", "ORDERS"), "Purged 5 messages from ORDERS")
	si = info()
	require.Zero(t, si.State.Msgs)
	require.EqualValues(t, 11, si.State.FirstSeq)
	require.EqualValues(t, 10, si.State.LastSeq)
	require.Contains(t, c.run("pub", "orders.x", "after", "-J"), "Sequence: 11")

	c.run("stream", "rm", "-f", "ORDERS")
	require.Equal(t, "", c.run("stream", "ls", "-n"))
	require.Contains(t, c.run("stream", "ls"), "No Streams defined")
}
