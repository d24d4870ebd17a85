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

// TestJetStreamJSClientE2E runs testdata/jsclient/test.mjs, JetStream
// through the official JavaScript clients for Node (@nats-io/jetstream
// and @nats-io/transport-node, pinned in its package.json; .ci/run
// installs them with npm ci), against the built binary. The script
// asserts every answer itself and ends with a RESULT line this test
// checks again.
func TestJetStreamJSClientE2E(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("testdata", "jsclient"))
	require.NoError(t, err)
	node, err := exec.LookPath("node")
	if err != nil { // .ci/run installs nodejs
		missingTool(t, "node not installed")
	}
	for _, pkg := range []string{"jetstream", "transport-node"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "@nats-io", pkg, "package.json")); err != nil {
			missingTool(t, "testdata/jsclient/node_modules missing; run `npm ci` in cmd/nats-server/testdata/jsclient (.ci/run does)")
		}
	}

	p := startJS(t, "-js", "-sd", t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "test.mjs", p.url())
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	require.NoError(t, ctx.Err(), "node test.mjs did not finish\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	require.NoError(t, err, "node test.mjs\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())

	_, line, ok := strings.Cut(stdout.String(), "RESULT ")
	require.True(t, ok, "no RESULT line:\n%s", stdout.String())
	var res struct {
		ServerVersion string `json:"server_version"`
		Info          struct {
			Msgs        uint64 `json:"messages"`
			LastSeq     uint64 `json:"last_seq"`
			NumSubjects int    `json:"num_subjects"`
		} `json:"info"`
		Get struct {
			Seq     uint64 `json:"seq"`
			Subject string `json:"subject"`
			Data    string `json:"data"`
			Kind    string `json:"kind"`
		} `json:"get"`
		Purged  uint64   `json:"purged"`
		Names   []string `json:"names"`
		Account struct {
			Streams int `json:"streams"`
			Level   int `json:"level"`
		} `json:"account"`
	}
	require.NoError(t, json.Unmarshal([]byte(line), &res), line)
	require.True(t, strings.HasPrefix(res.ServerVersion, "2."), res.ServerVersion)
	// 3 stored, one duplicate by msgID and four refused expectations
	// that stored nothing, 7 more: 10 messages on 9 subjects.
	require.EqualValues(t, 10, res.Info.Msgs)
	require.EqualValues(t, 10, res.Info.LastSeq)
	require.Equal(t, 9, res.Info.NumSubjects)
	require.Equal(t, uint64(2), res.Get.Seq)
	require.Equal(t, "orders.express", res.Get.Subject)
	require.Equal(t, "two", res.Get.Data)
	require.Equal(t, "express", res.Get.Kind)
	require.EqualValues(t, 5, res.Purged)
	require.Equal(t, []string{"AUDIT", "ORDERS"}, res.Names)
	require.Equal(t, 2, res.Account.Streams)
	require.Positive(t, res.Account.Level)

	// What the script left behind, seen by the Go client.
	jsc, err := jetstream.New(p.connect())
	require.NoError(t, err)
	names := jsc.StreamNames(t.Context())
	var got []string
	for n := range names.Name() {
		got = append(got, n)
	}
	require.NoError(t, names.Err())
	require.Equal(t, []string{"ORDERS"}, got)
}
