package main

// Upstream nats-server's published security advisories that concern the
// JetStream API, replayed against the built binary with nats.go and raw
// $JS.API requests. See advisory_auth_e2e_test.go and docs/security.md.

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
)

// jsAPI sends a $JS.API request and returns the decoded answer (nil when
// none came within 5 s).
func jsAPI(t *testing.T, nc *nats.Conn, subject string, body any) map[string]any {
	t.Helper()
	var b []byte
	switch v := body.(type) {
	case nil:
	case string:
		b = []byte(v)
	default:
		b = jsonBody(t, v)
	}
	m, err := nc.Request(subject, b, 5*time.Second)
	if err != nil {
		return nil
	}
	var out map[string]any
	require.NoError(t, json.Unmarshal(m.Data, &out), "%s: %s", subject, m.Data)
	return out
}

// jsErr returns the description of an API answer's error ("" for none).
func jsErr(answer map[string]any) string {
	if e, ok := answer["error"].(map[string]any); ok {
		return fmt.Sprint(e["description"])
	}
	return ""
}

// jsServer starts the binary with JetStream in a temporary store and conf
// as the rest of its configuration; it returns the process and the store.
func jsServer(t *testing.T, conf string) (*proc, string) {
	t.Helper()
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	path := writeFile(t, filepath.Join(dir, "js.conf"), fmt.Sprintf("jetstream { store_dir: %q }\n%s", store, conf))
	return start(t, "-c", path), store
}

// streamMsgs returns the message count of stream name, as nc sees it.
func streamMsgs(t *testing.T, nc *nats.Conn, name string) float64 {
	t.Helper()
	info := jsAPI(t, nc, "$JS.API.STREAM.INFO."+name, nil)
	require.NotNil(t, info)
	require.Empty(t, jsErr(info), "%v", info)
	return info["state"].(map[string]any)["messages"].(float64)
}

// CVE-2022-26652: the stream restore of upstream's tar backups did not
// check the file names inside the archive ("zip slip"), so a user with
// JetStream access wrote files anywhere the server could. natsd's
// NATSARC1 archive names no files, and stream names are directories: a
// tar archive whose entries climb out of the store, and stream names
// holding path elements, must be refused without a file appearing
// outside the store.
func TestAdvisoryCVE2022_26652_RestoreCannotWriteOutside(t *testing.T) {
	p, store := jsServer(t, "")
	nc := p.connect()
	outside := filepath.Join(t.TempDir(), "escaped")

	// A tar archive, S2-compressed as the old backups were, with entries
	// that climb out of the store and one with an absolute path.
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	rel, err := filepath.Rel(filepath.Join(store, "jetstream", "$G", "streams", "R"), outside)
	require.NoError(t, err)
	for _, name := range []string{rel, outside, "../../../../../../../../" + strings.TrimPrefix(outside, "/")} {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: 5, Typeflag: tar.TypeReg}))
		_, err := tw.Write([]byte("pwned"))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	var sb bytes.Buffer
	sw := s2.NewWriter(&sb)
	_, err = sw.Write(tb.Bytes())
	require.NoError(t, err)
	require.NoError(t, sw.Close())

	answer := jsAPI(t, nc, "$JS.API.STREAM.RESTORE.R", map[string]any{
		"config": map[string]any{"name": "R", "subjects": []string{"r.>"}, "storage": "file"},
		"state":  map[string]any{"messages": 1, "bytes": 5},
	})
	require.NotNil(t, answer)
	require.Empty(t, jsErr(answer), "%v", answer)
	deliver, _ := answer["deliver_subject"].(string)
	require.NotEmpty(t, deliver, "%v", answer)
	chunks := sb.Bytes()
	for len(chunks) > 0 {
		n := min(len(chunks), 1024)
		if _, err := nc.Request(deliver, chunks[:n], 5*time.Second); err != nil {
			break // the server gave up on the archive
		}
		chunks = chunks[n:]
	}
	end, err := nc.Request(deliver, nil, 5*time.Second)
	if err == nil {
		require.Contains(t, string(end.Data), `"error"`, "a tar archive was restored: %s", end.Data)
	}
	_, err = os.Stat(outside)
	require.True(t, os.IsNotExist(err), "the archive wrote %s", outside)

	// Stream names with path elements, by create and by restore.
	for _, name := range []string{"a/b", `a\b`, "..", "../x", "x/../../y", "\x00"} {
		cfg := map[string]any{"name": name, "subjects": []string{"n.x"}, "storage": "file"}
		created := jsAPI(t, nc, "$JS.API.STREAM.CREATE."+name, cfg)
		require.True(t, created == nil || jsErr(created) != "", "stream %q created: %v", name, created)
		restored := jsAPI(t, nc, "$JS.API.STREAM.RESTORE."+name, map[string]any{"config": cfg, "state": map[string]any{}})
		require.True(t, restored == nil || jsErr(restored) != "", "stream %q restore started: %v", name, restored)
	}
	filepath.WalkDir(filepath.Dir(store), func(path string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		inside := path == filepath.Dir(store) || filepath.Base(path) == "js.conf" || strings.HasPrefix(path, store)
		require.True(t, inside, "%s outside the store", path)
		return nil
	})
	p.alive()
}

// CVE-2026-33222 (GHSA-9983-vrx2-fg9c, NATS-advisory 2026-12): a user
// allowed to restore one stream restored another stream's name and
// replaced its data. A restore request on $JS.API.STREAM.RESTORE.A naming
// stream B must be refused, and B keep its messages.
func TestAdvisoryCVE2026_33222_RestoreOnlyNamedStream(t *testing.T) {
	p, _ := jsServer(t, `
authorization {
  users: [
    {user: admin, password: a}
    {user: restorer, password: r, permissions: {
      publish: ["$JS.API.STREAM.RESTORE.A", "$JS.SNAPSHOT.RESTORE.A.>"]
      subscribe: ["_INBOX.>"]
    }}
  ]
}
`)
	admin := p.connect(nats.UserInfo("admin", "a"))
	created := jsAPI(t, admin, "$JS.API.STREAM.CREATE.B", map[string]any{"name": "B", "subjects": []string{"b.>"}})
	require.Empty(t, jsErr(created), "%v", created)
	for i := range 3 {
		_, err := admin.Request("b.x", []byte(fmt.Sprint(i)), 5*time.Second)
		require.NoError(t, err)
	}
	restorer := p.connect(nats.UserInfo("restorer", "r"))
	for _, cfg := range []map[string]any{
		{"name": "B", "subjects": []string{"b.>"}},
		{"name": "B"},
		{"name": "b"},
		{"name": "A\x00B"},
	} {
		answer := jsAPI(t, restorer, "$JS.API.STREAM.RESTORE.A", map[string]any{"config": cfg, "state": map[string]any{"messages": 0}})
		require.NotNil(t, answer)
		require.NotEmpty(t, jsErr(answer), "restore on A naming %v: %v", cfg["name"], answer)
	}
	// Its own stream's restore may start; it touches B in no way.
	answer := jsAPI(t, restorer, "$JS.API.STREAM.RESTORE.A", map[string]any{"config": map[string]any{"name": "A", "subjects": []string{"b.>"}}, "state": map[string]any{}})
	require.NotNil(t, answer)
	if deliver, _ := answer["deliver_subject"].(string); deliver != "" {
		end, err := restorer.Request(deliver, nil, 5*time.Second)
		require.NoError(t, err)
		require.Contains(t, string(end.Data), `"error"`, "an empty archive restored: %s", end.Data)
	}
	require.Equal(t, float64(3), streamMsgs(t, admin, "B"))
	p.alive()
}

// CVE-2022-42708: a stream or consumer created with an absurd replica
// count panicked the server, a DoS by any user with JetStream access.
// Every such request gets an answer (an error or a clamped value) and the
// server keeps serving.
func TestAdvisoryCVE2022_42708_ReplicaCounts(t *testing.T) {
	p, _ := jsServer(t, "")
	nc := p.connect()
	for i, r := range []string{"-1", "0", "2", "3", "5", "7", "1000", "2147483648", "9223372036854775807", "-9223372036854775808", "1e30", `"3"`} {
		name := fmt.Sprintf("R%d", i)
		answer := jsAPI(t, nc, "$JS.API.STREAM.CREATE."+name, fmt.Sprintf(`{"name":%q,"subjects":["r%d.>"],"num_replicas":%s}`, name, i, r))
		require.NotNil(t, answer, "num_replicas %s: no answer", r)
		if jsErr(answer) != "" {
			continue
		}
		update := jsAPI(t, nc, "$JS.API.STREAM.UPDATE."+name, fmt.Sprintf(`{"name":%q,"subjects":["r%d.>"],"num_replicas":%s}`, name, i, r))
		require.NotNil(t, update, "update with num_replicas %s: no answer", r)
		consumer := jsAPI(t, nc, "$JS.API.CONSUMER.CREATE."+name+".C", fmt.Sprintf(`{"stream_name":%q,"config":{"durable_name":"C","ack_policy":"explicit","num_replicas":%s}}`, name, r))
		require.NotNil(t, consumer, "consumer num_replicas %s: no answer", r)
	}
	base := jsAPI(t, nc, "$JS.API.STREAM.CREATE.OK", `{"name":"OK","subjects":["ok.>"]}`)
	require.Empty(t, jsErr(base), "%v", base)
	for _, r := range []string{"-1", "1000", "9223372036854775807"} {
		consumer := jsAPI(t, nc, "$JS.API.CONSUMER.CREATE.OK.C"+strings.TrimPrefix(r, "-"), fmt.Sprintf(`{"stream_name":"OK","config":{"durable_name":"C%s","ack_policy":"explicit","num_replicas":%s}}`, strings.TrimPrefix(r, "-"), r))
		require.NotNil(t, consumer, "consumer num_replicas %s: no answer", r)
	}
	p.alive()
}

// CVE-2025-30215 (GHSA-fhg8-qxh5-7q3w, NATS-advisory 2025-01): some
// administrative JetStream API requests (account purge, server remove,
// stream moves, peer removal) lacked access checks, so any user with
// JetStream API access in one account could act on another account's
// assets, and destroy them. Sent from one account (and from the owner
// itself, as they are system-account calls), none of them may touch
// another account's stream.
func TestAdvisoryCVE2025_30215_AdminAPIsScoped(t *testing.T) {
	p, _ := jsServer(t, `
accounts {
  A: { jetstream: enabled, users: [{user: a, password: a}] }
  B: { jetstream: enabled, users: [{user: b, password: b}] }
}
`)
	b := p.connect(nats.UserInfo("b", "b"))
	created := jsAPI(t, b, "$JS.API.STREAM.CREATE.S", map[string]any{"name": "S", "subjects": []string{"s.>"}})
	require.Empty(t, jsErr(created), "%v", created)
	for i := range 3 {
		_, err := b.Request("s.x", []byte(fmt.Sprint(i)), 5*time.Second)
		require.NoError(t, err)
	}
	a := p.connect(nats.UserInfo("a", "a"))
	for _, nc := range []*nats.Conn{a, b} {
		for _, subj := range []string{
			"$JS.API.ACCOUNT.PURGE.B",
			"$JS.API.SERVER.REMOVE",
			"$JS.API.ACCOUNT.STREAM.MOVE.B.S",
			"$JS.API.ACCOUNT.STREAM.CANCEL_MOVE.B.S",
			"$JS.API.STREAM.PEER.REMOVE.S",
			"$JS.API.STREAM.LEADER.STEPDOWN.S",
			"$JS.API.CONSUMER.LEADER.STEPDOWN.S.C",
			"$JS.API.META.LEADER.STEPDOWN",
		} {
			nc.Request(subj, []byte(`{"peer":"x","server":"x"}`), 500*time.Millisecond)
		}
	}
	require.Equal(t, float64(3), streamMsgs(t, b, "S"))
	p.alive()
}
