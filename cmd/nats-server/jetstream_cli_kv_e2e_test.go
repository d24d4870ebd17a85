package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// start runs the CLI with args in the background (a watch that never
// ends by itself) and returns its output so far; the process is killed at
// the end of the test.
func (c *natsCLI) start(args ...string) *servertest.Logs {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = c.env
	cmd.Dir = c.t.TempDir()
	out := &servertest.Logs{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(c.t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	c.t.Cleanup(func() {
		cancel()
		<-done
	})
	return out
}

// TestNatsCLIKVE2E drives a KV bucket with the nats CLI: add, put, get
// (latest, raw, by revision), create, update, ls (buckets and keys),
// history, del of a key, a bounded watch seeing the current values and
// later changes, info, and del of the bucket; the Go client checks what
// the CLI wrote.
func TestNatsCLIKVE2E(t *testing.T) {
	bin := natsCLIBinary(t)
	p := startJS(t, "-js", "-sd", t.TempDir())
	c := newNatsCLI(t, bin, p)

	out := c.run("kv", "add", "CFG", "--history", "5", "--description", "settings", "--marker-ttl", "1s")
	require.Contains(t, out, "Bucket Name: CFG")
	require.Contains(t, out, "History Kept: 5")
	require.Contains(t, out, "Per-Key TTL Supported: true")
	require.Contains(t, out, "JetStream Stream: KV_CFG")

	require.Equal(t, "1\n", c.run("kv", "put", "CFG", "color", "1"))
	require.Equal(t, "2\n", c.run("kv", "put", "CFG", "color", "2"))
	c.run("kv", "put", "CFG", "size.a", "L")
	out = c.run("kv", "get", "CFG", "color")
	require.Contains(t, out, "CFG > color revision: 2")
	require.Equal(t, "2", c.run("kv", "get", "CFG", "color", "--raw"))
	require.Contains(t, c.run("kv", "get", "CFG", "color", "--revision", "1"), "CFG > color revision: 1")
	require.Equal(t, "x", strings.TrimSpace(c.run("kv", "create", "CFG", "new", "x")))
	require.Equal(t, "y", strings.TrimSpace(c.run("kv", "update", "CFG", "new", "y", "4")))

	require.Equal(t, "CFG\n", c.run("kv", "ls", "-n"))
	require.Contains(t, c.run("kv", "ls"), "settings")
	keys := strings.Fields(c.run("kv", "ls", "CFG"))
	require.ElementsMatch(t, []string{"color", "size.a", "new"}, keys)
	out = c.run("kv", "history", "CFG", "color")
	require.Contains(t, out, "History for CFG > color")
	require.Equal(t, 2, strings.Count(out, " PUT "), out)

	// A watch of the whole bucket: the current values, then later changes.
	w := c.start("kv", "watch", "CFG")
	servertest.WaitUntil(t, "the watch's initial values", func() bool {
		s := w.String()
		return strings.Contains(s, "PUT CFG > color: 2") && strings.Contains(s, "PUT CFG > new: y")
	})
	c.run("kv", "del", "-f", "CFG", "size.a")
	c.run("kv", "put", "CFG", "color", "3")
	servertest.WaitUntil(t, "the watch's updates", func() bool {
		s := w.String()
		return strings.Contains(s, "DELETE CFG > size.a") && strings.Contains(s, "PUT CFG > color: 3")
	})
	c.runFail("kv", "get", "CFG", "size.a")

	out = c.run("kv", "info", "CFG")
	require.Contains(t, out, "Values Stored: 7")
	require.Contains(t, out, "Limit Marker TTL: 1s")

	// What the CLI wrote, seen by the Go client.
	js, err := jetstream.New(p.connect())
	require.NoError(t, err)
	kv, err := js.KeyValue(t.Context(), "CFG")
	require.NoError(t, err)
	e, err := kv.Get(t.Context(), "color")
	require.NoError(t, err)
	require.Equal(t, "3", string(e.Value()))

	c.run("kv", "del", "-f", "CFG")
	require.Equal(t, "", strings.TrimSpace(c.run("kv", "ls", "-n")))
}

// runFail runs the CLI and requires a non-zero exit.
func (c *natsCLI) runFail(args ...string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = c.env
	out, err := cmd.CombinedOutput()
	require.Error(c.t, err, "nats %s succeeded:\n%s", strings.Join(args, " "), out)
	require.NoError(c.t, ctx.Err())
	return string(out)
}

// TestNatsCLIObjectE2E drives an Object Store bucket with the nats CLI:
// add, put a multi-chunk file, info, ls, get it back (the CLI checks the
// digest), rm an object, seal and rm the bucket.
func TestNatsCLIObjectE2E(t *testing.T) {
	bin := natsCLIBinary(t)
	p := startJS(t, "-js", "-sd", t.TempDir())
	c := newNatsCLI(t, bin, p)

	out := c.run("object", "add", "FILES", "--description", "files")
	require.Contains(t, out, "Bucket Name: FILES")
	require.Contains(t, out, "JetStream Stream: OBJ_FILES")

	dir := t.TempDir()
	data := make([]byte, 700_000)
	rand.New(rand.NewSource(1)).Read(data)
	src := filepath.Join(dir, "in.bin")
	require.NoError(t, os.WriteFile(src, data, 0o600))
	sum := sha256.Sum256(data)
	out = c.run("object", "put", "FILES", src, "--name", "big.bin", "--chunk-size", "65536", "--no-progress", "-f")
	require.Contains(t, out, "Chunks: 11")
	require.Contains(t, out, "SHA-256 "+hex.EncodeToString(sum[:]))
	c.run("object", "put", "FILES", src, "--name", "copy.bin", "-H", "X-Kind:copy", "--no-progress", "-f")

	out = c.run("object", "info", "FILES", "copy.bin")
	require.Contains(t, out, "Object information for FILES > copy.bin")
	require.Contains(t, out, "X-Kind: copy")
	out = c.run("object", "ls", "FILES")
	require.Contains(t, out, "big.bin")
	require.Contains(t, out, "copy.bin")
	require.Equal(t, "FILES\n", c.run("object", "ls", "-n"))

	dst := filepath.Join(dir, "out.bin")
	c.run("object", "get", "FILES", "big.bin", "-O", dst, "--no-progress", "-f")
	got, err := os.ReadFile(dst)
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got), "object read back differs")

	require.Contains(t, c.run("object", "rm", "-f", "FILES", "copy.bin"), "Removed FILES > copy.bin")
	require.Contains(t, c.runFail("object", "info", "FILES", "copy.bin"), "object not found")
	out = c.run("object", "ls", "FILES")
	require.NotContains(t, out, "copy.bin")

	require.Contains(t, c.run("object", "seal", "-f", "FILES"), "Sealed: true")
	js, err := jetstream.New(p.connect())
	require.NoError(t, err)
	obs, err := js.ObjectStore(t.Context(), "FILES")
	require.NoError(t, err)
	b, err := obs.GetBytes(t.Context(), "big.bin")
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, b))

	c.run("object", "rm", "-f", "FILES")
	require.Equal(t, "", strings.TrimSpace(c.run("object", "ls", "-n")))
}
