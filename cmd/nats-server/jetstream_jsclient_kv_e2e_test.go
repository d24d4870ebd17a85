package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

// TestJetStreamJSClientKVE2E runs testdata/jsclient/kv.mjs, Key-Value and
// Object Store through the official JavaScript clients for Node
// (@nats-io/kv and @nats-io/obj, pinned in its package.json), against the
// built binary. The script asserts every answer itself and ends with a
// RESULT line this test checks again; the Go client then reads what the
// script left behind.
func TestJetStreamJSClientKVE2E(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("testdata", "jsclient"))
	require.NoError(t, err)
	node, err := exec.LookPath("node")
	if err != nil { // .ci/run installs nodejs
		missingTool(t, "node not installed")
	}
	for _, pkg := range []string{"kv", "obj", "transport-node"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "@nats-io", pkg, "package.json")); err != nil {
			missingTool(t, "testdata/jsclient/node_modules missing; run `npm ci` in cmd/nats-server/testdata/jsclient (.ci/run does)")
		}
	}

	p := startJS(t, "-js", "-sd", t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "kv.mjs", p.url())
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	require.NoError(t, ctx.Err(), "node kv.mjs did not finish\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	require.NoError(t, err, "node kv.mjs\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())

	_, line, ok := strings.Cut(stdout.String(), "RESULT ")
	require.True(t, ok, "no RESULT line:\n%s", stdout.String())
	var res struct {
		Keys       []string `json:"keys"`
		History    int      `json:"history"`
		Values     uint64   `json:"values"`
		Objects    []string `json:"objects"`
		ObjectSize int      `json:"object_size"`
		TTLOps     []string `json:"ttl_ops"`
	}
	require.NoError(t, json.Unmarshal([]byte(line), &res), line)
	require.Equal(t, []string{"a.1", "a.2", "b.1", "color", "size"}, res.Keys)
	require.Equal(t, 2, res.History)
	require.Positive(t, res.Values)
	require.Equal(t, []string{"alias", "big.bin", "small"}, res.Objects)
	require.Equal(t, 300*1024+5, res.ObjectSize)
	require.Equal(t, []string{"PUT", "PURGE"}, res.TTLOps)

	// What the script left behind, seen by the Go client.
	js, err := jetstream.New(p.connect())
	require.NoError(t, err)
	kv, err := js.KeyValue(ctx, "settings")
	require.NoError(t, err)
	e, err := kv.Get(ctx, "a.2")
	require.NoError(t, err)
	require.Equal(t, "new", string(e.Value()))
	_, err = kv.Get(ctx, "a.1")
	require.ErrorIs(t, err, jetstream.ErrKeyNotFound)
	obs, err := js.ObjectStore(ctx, "files")
	require.NoError(t, err)
	big, err := obs.GetBytes(ctx, "big.bin")
	require.NoError(t, err)
	require.Len(t, big, 300*1024+5)
	for i, b := range big {
		if b != byte(i*31) {
			t.Fatalf("byte %d: %d", i, b)
		}
	}
	st, err := obs.Status(ctx)
	require.NoError(t, err)
	require.True(t, st.Sealed())
}
