package jetstream_test

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/jetstream/api"
	"natsd.dev/jetstream/internal/snapshot"
	"natsd.dev/server/servertest"
)

// The helpers below speak the protocol as the nats CLI (jsm.go) does:
// the snapshot request first, the subscription to the deliver subject
// only once it was answered, each chunk acknowledged; the restore as one
// request per 64 KiB chunk and an empty one to end.

type snapResult struct {
	Resp   api.SnapshotResponse
	Data   []byte
	Status string // of the closing empty message
	Desc   string
	Chunks int
}

func snapshotStream(t *testing.T, nc *nats.Conn, name string, req api.SnapshotRequest, ack bool) snapResult {
	t.Helper()
	if req.DeliverSubject == "" {
		req.DeliverSubject = nc.NewRespInbox() // as jsm.go: under the request multiplexer's wildcard
	}
	var r snapResult
	b, _ := json.Marshal(req)
	m, err := nc.Request("$JS.API.STREAM.SNAPSHOT."+name, b, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(m.Data, &r.Resp); err != nil {
		t.Fatal(err)
	}
	if r.Resp.Error != nil {
		return r
	}
	sub, err := nc.SubscribeSync(req.DeliverSubject)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	for {
		m, err := sub.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatalf("snapshot chunk: %v", err)
		}
		if len(m.Data) == 0 {
			r.Status, r.Desc = m.Header.Get("Status"), m.Header.Get("Description")
			return r
		}
		r.Chunks++
		r.Data = append(r.Data, m.Data...)
		if ack {
			if m.Reply == "" || !strings.HasPrefix(m.Reply, "$JS.SNAPSHOT.ACK."+name+".") {
				t.Fatalf("chunk reply %q", m.Reply)
			}
			if err := m.Respond(nil); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// restoreStream restores data; it returns the final response, or the
// error response the restore stopped with.
func restoreStream(t *testing.T, nc *nats.Conn, name string, cfg api.StreamConfig, st api.StreamState, data []byte) api.StreamInfoResponse {
	t.Helper()
	var out api.StreamInfoResponse
	b, _ := json.Marshal(api.RestoreRequest{Config: cfg, State: st})
	m, err := nc.Request("$JS.API.STREAM.RESTORE."+name, b, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var rr api.RestoreResponse
	if err := json.Unmarshal(m.Data, &rr); err != nil {
		t.Fatal(err)
	}
	if rr.Type != api.TypeStreamRestoreResponse {
		t.Fatalf("restore response %s", m.Data)
	}
	if rr.Error != nil {
		out.Error = rr.Error
		return out
	}
	if !strings.HasPrefix(rr.DeliverSubject, "$JS.SNAPSHOT.RESTORE."+name+".") {
		t.Fatalf("deliver subject %q", rr.DeliverSubject)
	}
	for len(data) > 0 {
		n := min(len(data), 64<<10)
		m, err := nc.Request(rr.DeliverSubject, data[:n], 5*time.Second)
		if err != nil {
			t.Fatalf("chunk: %v", err)
		}
		data = data[n:]
		if len(m.Data) > 0 {
			if err := json.Unmarshal(m.Data, &out); err != nil || out.Error == nil {
				t.Fatalf("chunk reply %q", m.Data)
			}
			return out
		}
	}
	m, err = nc.Request(rr.DeliverSubject, nil, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(m.Data, &out); err != nil {
		t.Fatal(err)
	}
	if out.Type != api.TypeStreamCreateResponse {
		t.Fatalf("final response type %q", out.Type)
	}
	return out
}

type storedMsg struct {
	Subject string
	Hdr     nats.Header
	Data    string
	Time    time.Time
}

func allMsgs(t *testing.T, st njs.Stream, first, last uint64) map[uint64]storedMsg {
	t.Helper()
	out := map[uint64]storedMsg{}
	for q := first; q <= last; q++ {
		m, err := st.GetMsg(ctx(t), q)
		if errors.Is(err, njs.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out[q] = storedMsg{m.Subject, m.Header, string(m.Data), m.Time}
	}
	return out
}

// advisories collects the snapshot and restore advisories.
func advisories(t *testing.T, nc *nats.Conn) *nats.Subscription {
	t.Helper()
	sub, err := nc.SubscribeSync("$JS.EVENT.ADVISORY.STREAM.*.*")
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func expectAdvisory(t *testing.T, sub *nats.Subscription, subject, typ string) map[string]any {
	t.Helper()
	for {
		m, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("advisory %s: %v", subject, err)
		}
		if m.Subject != subject {
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			t.Fatal(err)
		}
		if ev["type"] != typ {
			t.Fatalf("%s: type %v", subject, ev["type"])
		}
		return ev
	}
}

func TestSnapshotRestoreRoundTrip(t *testing.T) {
	for _, storage := range []njs.StorageType{njs.FileStorage, njs.MemoryStorage} {
		t.Run(storage.String(), func(t *testing.T) { testRoundTrip(t, storage) })
	}
}

func testRoundTrip(t *testing.T, storage njs.StorageType) {
	dir := t.TempDir()
	s, js0 := startJS(t, jetstream.Options{StoreDir: dir})
	nc := servertest.Connect(t, s)
	js, _ := njs.New(nc)
	c := ctx(t)
	adv := advisories(t, nc)
	st, err := js.CreateStream(c, njs.StreamConfig{
		Name: "ORDERS", Subjects: []string{"orders.>"}, Storage: storage, AllowMsgTTL: true, Duplicates: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		m := nats.NewMsg(fmt.Sprintf("orders.%d", i%17))
		m.Data = bytes.Repeat([]byte{byte('a' + i%26)}, i%300)
		if i%10 == 0 {
			m.Header.Set("Nats-Msg-Id", fmt.Sprintf("id-%d", i))
			m.Header.Set("X-Seq", fmt.Sprint(i))
		}
		if i == 500 {
			m.Header.Set("Nats-TTL", "1h")
		}
		if _, err := js.PublishMsg(c, m); err != nil {
			t.Fatal(err)
		}
	}
	// Delete the first three, every 7th, a run in the middle and the last.
	del := []uint64{1, 2, 3, 1000}
	for q := uint64(7); q < 1000; q += 7 {
		del = append(del, q)
	}
	for q := uint64(600); q < 650; q++ {
		if q%7 != 0 {
			del = append(del, q)
		}
	}
	for _, q := range del {
		if err := st.DeleteMsg(c, q); err != nil {
			t.Fatalf("delete %d: %v", q, err)
		}
	}
	before, err := st.Info(c)
	if err != nil {
		t.Fatal(err)
	}
	if before.State.FirstSeq != 4 || before.State.LastSeq != 1000 || before.State.NumDeleted == 0 {
		t.Fatalf("state before %+v", before.State)
	}
	msgs := allMsgs(t, st, 1, 1000)

	snap := snapshotStream(t, nc, "ORDERS", api.SnapshotRequest{ChunkSize: 4096, WindowSize: 16 << 10}, true)
	if snap.Resp.Error != nil || snap.Status != "204" {
		t.Fatalf("snapshot: %+v status %q %q", snap.Resp.Error, snap.Status, snap.Desc)
	}
	if snap.Resp.Type != api.TypeStreamSnapshotResponse || snap.Resp.Config.Name != "ORDERS" || snap.Resp.State.Msgs != before.State.Msgs {
		t.Fatalf("snapshot response %+v", snap.Resp)
	}
	if snap.Chunks < 2 {
		t.Fatalf("%d chunks", snap.Chunks)
	}
	expectAdvisory(t, adv, "$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_CREATE.ORDERS", "io.nats.jetstream.advisory.v1.snapshot_create")
	ev := expectAdvisory(t, adv, "$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_COMPLETE.ORDERS", "io.nats.jetstream.advisory.v1.snapshot_complete")
	if ev["error"] != nil {
		t.Fatalf("complete advisory %v", ev)
	}
	// What the client stored is an S2-compressed NATSARC1 archive.
	d := snapshot.NewDecoder(snapshot.NewReader(s2.NewReader(bytes.NewReader(snap.Data))), 1<<20)
	var n int
	for {
		it, err := d.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatal(err)
		}
		if it.Kind == snapshot.KindMsg {
			n++
		}
	}
	if uint64(n) != before.State.Msgs {
		t.Fatalf("archive holds %d messages, stream %d", n, before.State.Msgs)
	}

	if err := js.DeleteStream(c, "ORDERS"); err != nil {
		t.Fatal(err)
	}
	out := restoreStream(t, nc, "ORDERS", *snap.Resp.Config, *snap.Resp.State, snap.Data)
	if out.Error != nil {
		t.Fatalf("restore: %v", out.Error)
	}
	expectAdvisory(t, adv, "$JS.EVENT.ADVISORY.STREAM.RESTORE_CREATE.ORDERS", "io.nats.jetstream.advisory.v1.restore_create")
	ev = expectAdvisory(t, adv, "$JS.EVENT.ADVISORY.STREAM.RESTORE_COMPLETE.ORDERS", "io.nats.jetstream.advisory.v1.restore_complete")
	if ev["bytes"] != float64(len(snap.Data)) {
		t.Fatalf("restore advisory bytes %v, sent %d", ev["bytes"], len(snap.Data))
	}
	check := func(st njs.Stream) {
		t.Helper()
		after, err := st.Info(c)
		if err != nil {
			t.Fatal(err)
		}
		a, b := after.State, before.State
		if a.Msgs != b.Msgs || a.Bytes != b.Bytes || a.FirstSeq != b.FirstSeq || a.LastSeq != b.LastSeq ||
			a.NumDeleted != b.NumDeleted || a.NumSubjects != b.NumSubjects || !a.FirstTime.Equal(b.FirstTime) {
			t.Fatalf("state after restore\n%+v\nbefore\n%+v", a, b)
		}
		got := allMsgs(t, st, 1, 1000)
		if len(got) != len(msgs) {
			t.Fatalf("%d messages after restore, %d before", len(got), len(msgs))
		}
		for q, m := range msgs {
			g := got[q]
			if g.Subject != m.Subject || g.Data != m.Data || !g.Time.Equal(m.Time) || fmt.Sprint(g.Hdr) != fmt.Sprint(m.Hdr) {
				t.Fatalf("message %d: %+v, was %+v", q, g, m)
			}
		}
	}
	st, err = js.Stream(c, "ORDERS")
	if err != nil {
		t.Fatal(err)
	}
	check(st)
	// Sequences go on, and the duplicate window came back.
	ack, err := js.Publish(c, "orders.x", nil)
	if err != nil || ack.Sequence != 1001 {
		t.Fatalf("publish after restore: %+v %v", ack, err)
	}
	ack, err = js.Publish(c, "orders.x", nil, njs.WithMsgID("id-990"))
	if err != nil || !ack.Duplicate || ack.Sequence != 991 {
		t.Fatalf("duplicate after restore: %+v %v", ack, err)
	}
	if storage == njs.MemoryStorage {
		return
	}
	// A file stream survives a restart as restored.
	if err := st.DeleteMsg(c, 1001); err != nil {
		t.Fatal(err)
	}
	if err := js0.Shutdown(c); err != nil {
		t.Fatal(err)
	}
	js1, err := jetstream.Start(s, jetstream.Options{StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = js1.Shutdown(c) })
	st, err = js.Stream(c, "ORDERS")
	if err != nil {
		t.Fatal(err)
	}
	before.State.LastSeq = 1001
	before.State.NumDeleted++
	check(st)
	if left, _ := os.ReadDir(filepath.Join(dir, "jetstream", "$G", "_restore")); len(left) != 0 {
		t.Fatalf("staging left behind: %v", left)
	}
}

// setup creates a stream, snapshots it and returns the snapshot, with the
// stream deleted.
func snapSetup(t *testing.T, o jetstream.Options) (*nats.Conn, njs.JetStream, snapResult, string) {
	t.Helper()
	if o.StoreDir == "" {
		o.StoreDir = t.TempDir()
	}
	s, _ := startJS(t, o)
	nc := servertest.Connect(t, s)
	js, _ := njs.New(nc)
	c := ctx(t)
	if _, err := js.CreateStream(c, njs.StreamConfig{Name: "S", Subjects: []string{"s.>"}}); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		if _, err := js.Publish(c, "s.x", bytes.Repeat([]byte{byte(i)}, 500+i)); err != nil {
			t.Fatal(err)
		}
	}
	snap := snapshotStream(t, nc, "S", api.SnapshotRequest{ChunkSize: 2048}, true)
	if snap.Status != "204" {
		t.Fatalf("snapshot %+v", snap)
	}
	if err := js.DeleteStream(c, "S"); err != nil {
		t.Fatal(err)
	}
	return nc, js, snap, o.StoreDir
}

// assertNothingRestored checks that a failed restore left no stream and
// no directory.
func assertNothingRestored(t *testing.T, js njs.JetStream, dir, name string) {
	t.Helper()
	if _, err := js.Stream(ctx(t), name); !errors.Is(err, njs.ErrStreamNotFound) {
		t.Fatalf("stream after failed restore: %v", err)
	}
	acct := filepath.Join(dir, "jetstream", "$G")
	if _, err := os.Stat(filepath.Join(acct, "streams", name)); !os.IsNotExist(err) {
		t.Fatalf("stream directory after failed restore: %v", err)
	}
	// The staging store goes away once the restore ended; allow the
	// ending a moment.
	deadline := time.Now().Add(5 * time.Second)
	for {
		left, _ := os.ReadDir(filepath.Join(acct, "_restore"))
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("staging left behind: %v", left)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func wantAPIErr(t *testing.T, e *api.Error, code uint16, desc string) {
	t.Helper()
	if e == nil || e.ErrCode != code || !strings.HasPrefix(e.Description, desc) {
		t.Fatalf("got %+v, want %d %q", e, code, desc)
	}
}

func TestRestoreTruncatedOrCorrupt(t *testing.T) {
	nc, js, snap, dir := snapSetup(t, jetstream.Options{})
	cfg, st := *snap.Resp.Config, *snap.Resp.State
	for name, data := range map[string][]byte{
		"truncated": snap.Data[:len(snap.Data)/2],
		"tail cut":  snap.Data[:len(snap.Data)-1],
		"corrupt": func() []byte {
			b := bytes.Clone(snap.Data)
			for i := len(b) / 3; i < len(b)/3+64; i++ {
				b[i] ^= 0x5a
			}
			return b
		}(),
		"garbage": []byte("this is not an archive at all"),
	} {
		t.Run(name, func(t *testing.T) {
			out := restoreStream(t, nc, "S", cfg, st, data)
			wantAPIErr(t, out.Error, 10062, "restore failed: ")
			assertNothingRestored(t, js, dir, "S")
		})
	}
	// The name is free again: the intact archive restores.
	if out := restoreStream(t, nc, "S", cfg, st, snap.Data); out.Error != nil || out.State.Msgs != 300 {
		t.Fatalf("restore %+v", out)
	}
}

// TestRestorePathTraversal is the regression test for CVE-2022-26652: an
// archive entry naming a path outside the store must not write there.
func TestRestorePathTraversal(t *testing.T) {
	nc, js, snap, dir := snapSetup(t, jetstream.Options{StoreDir: filepath.Join(t.TempDir(), "a", "b")})
	cfg, st := *snap.Resp.Config, *snap.Resp.State
	// A legacy (tar) backup with a ../../evil entry.
	var tb bytes.Buffer
	zw := s2.NewWriter(&tb)
	tw := tar.NewWriter(zw)
	for _, name := range []string{"../../evil", "/tmp/evil-abs", "meta.inf"} {
		body := []byte("pwned")
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	tw.Close()
	zw.Close()
	out := restoreStream(t, nc, "S", cfg, st, tb.Bytes())
	wantAPIErr(t, out.Error, 10062, "restore failed: unsupported backup format")
	assertNothingRestored(t, js, dir, "S")
	// A NATSARC1 archive whose consumer entry names a path.
	var ab bytes.Buffer
	w, zc := snapshot.Create(&ab)
	w.WriteState(1, &api.StreamState{Consumers: 1})
	w.WriteEntry(snapshot.Header{Name: "consumers/../../evil"}, nil, []byte(`{"config":{},"state":{}}`))
	w.WriteEnd()
	zc.Close()
	out = restoreStream(t, nc, "S", cfg, st, ab.Bytes())
	wantAPIErr(t, out.Error, 10062, "restore failed: snapshot: invalid archive: invalid consumer name")
	assertNothingRestored(t, js, dir, "S")
	for _, p := range []string{
		filepath.Join(dir, "..", "..", "evil"), filepath.Join(dir, "jetstream", "evil"),
		filepath.Join(dir, "jetstream", "$G", "evil"), filepath.Join(dir, "evil"), "/tmp/evil-abs",
	} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("%s exists: %v", p, err)
		}
	}
}

func TestRestoreOverExisting(t *testing.T) {
	nc, js, snap, _ := snapSetup(t, jetstream.Options{})
	cfg, st := *snap.Resp.Config, *snap.Resp.State
	c := ctx(t)
	if _, err := js.CreateStream(c, njs.StreamConfig{Name: "S", Subjects: []string{"s.>"}}); err != nil {
		t.Fatal(err)
	}
	out := restoreStream(t, nc, "S", cfg, st, snap.Data)
	wantAPIErr(t, out.Error, 10130, "stream name already in use, cannot restore")
	if err := js.DeleteStream(c, "S"); err != nil {
		t.Fatal(err)
	}
	// Subjects taken by another stream.
	if _, err := js.CreateStream(c, njs.StreamConfig{Name: "X", Subjects: []string{"s.x"}}); err != nil {
		t.Fatal(err)
	}
	out = restoreStream(t, nc, "S", cfg, st, snap.Data)
	wantAPIErr(t, out.Error, 10065, "subjects overlap with an existing stream")
	if err := js.DeleteStream(c, "X"); err != nil {
		t.Fatal(err)
	}
	// While a restore of S is under way, S cannot be created nor restored.
	b, _ := json.Marshal(api.RestoreRequest{Config: cfg, State: st})
	m, err := nc.Request("$JS.API.STREAM.RESTORE.S", b, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var rr api.RestoreResponse
	json.Unmarshal(m.Data, &rr)
	if rr.Error != nil {
		t.Fatal(rr.Error)
	}
	var ae *njs.APIError
	if _, err := js.CreateStream(c, njs.StreamConfig{Name: "S", Subjects: []string{"s.>"}}); !errors.As(err, &ae) || ae.ErrorCode != 10058 {
		t.Fatalf("create during restore: %v", err)
	}
	out = restoreStream(t, nc, "S", cfg, st, snap.Data)
	wantAPIErr(t, out.Error, 10130, "stream name already in use")
	// A mismatched name is refused.
	other := cfg
	other.Name = "T"
	out = restoreStream(t, nc, "S2", other, st, snap.Data)
	wantAPIErr(t, out.Error, 10056, "stream name in subject does not match request")
	// The pending restore completes.
	for d := snap.Data; len(d) > 0; {
		n := min(len(d), 64<<10)
		if _, err := nc.Request(rr.DeliverSubject, d[:n], 5*time.Second); err != nil {
			t.Fatal(err)
		}
		d = d[n:]
	}
	m, err = nc.Request(rr.DeliverSubject, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var fin api.StreamInfoResponse
	json.Unmarshal(m.Data, &fin)
	if fin.Error != nil || fin.State.Msgs != 300 {
		t.Fatalf("final %s", m.Data)
	}
}

func TestRestoreLimits(t *testing.T) {
	_, _, snap, _ := snapSetup(t, jetstream.Options{})
	cfg, st := *snap.Resp.Config, *snap.Resp.State
	// Restored onto a server whose account has less room.
	lim := jetstream.Unlimited
	lim.MaxStreams = 1
	lim.MaxStore = 100 << 10
	dir := t.TempDir()
	s, _ := startJS(t, jetstream.Options{StoreDir: dir, Accounts: map[string]api.AccountLimits{"$G": lim}})
	nc := servertest.Connect(t, s)
	js, _ := njs.New(nc)
	if st.Bytes < 100<<10 {
		t.Fatalf("snapshot too small for the test: %d", st.Bytes)
	}
	// The state announces more than the account may store.
	out := restoreStream(t, nc, "S", cfg, st, snap.Data)
	wantAPIErr(t, out.Error, 10047, "insufficient storage resources available")
	// Understating the size does not help: the messages are counted.
	small := st
	small.Bytes = 10
	out = restoreStream(t, nc, "S", cfg, small, snap.Data)
	wantAPIErr(t, out.Error, 10047, "insufficient storage resources available")
	assertNothingRestored(t, js, dir, "S")
	// Stream count.
	if _, err := js.CreateStream(ctx(t), njs.StreamConfig{Name: "OTHER", Subjects: []string{"o"}}); err != nil {
		t.Fatal(err)
	}
	out = restoreStream(t, nc, "S", cfg, small, snap.Data)
	wantAPIErr(t, out.Error, 10027, "maximum number of streams reached")
	assertNothingRestored(t, js, dir, "S")
}

func TestSnapshotFlowControl(t *testing.T) {
	t.Cleanup(jetstream.SetTransferTimeouts(200*time.Millisecond, 300*time.Millisecond, 300*time.Millisecond))
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, _ := njs.New(nc)
	c := ctx(t)
	if _, err := js.CreateStream(c, njs.StreamConfig{Name: "S", Subjects: []string{"s"}}); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		// Incompressible payloads so that the archive spans many chunks.
		b := make([]byte, 1000)
		for k := range b {
			b[k] = byte((i*7919 + k*104729) >> 3)
		}
		if _, err := js.Publish(c, "s", b); err != nil {
			t.Fatal(err)
		}
	}
	adv := advisories(t, nc)
	// A client that never acknowledges gets the window, then 408.
	r := snapshotStream(t, nc, "S", api.SnapshotRequest{ChunkSize: 1024, WindowSize: 4096}, false)
	if r.Status != "408" || r.Desc != "No Flow Response" || r.Chunks != 4 {
		t.Fatalf("no acks: %d chunks, %q %q", r.Chunks, r.Status, r.Desc)
	}
	ev := expectAdvisory(t, adv, "$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_COMPLETE.S", "io.nats.jetstream.advisory.v1.snapshot_complete")
	if ev["error"] != "no flow response" {
		t.Fatalf("advisory %v", ev)
	}
	// Nobody subscribed to the deliver subject.
	b, _ := json.Marshal(api.SnapshotRequest{DeliverSubject: "nobody.listens"})
	if _, err := nc.Request("$JS.API.STREAM.SNAPSHOT.S", b, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	ev = expectAdvisory(t, adv, "$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_COMPLETE.S", "io.nats.jetstream.advisory.v1.snapshot_complete")
	if ev["error"] != "no interest" {
		t.Fatalf("advisory %v", ev)
	}
	// Request errors.
	for _, tc := range []struct {
		stream, body string
		code         uint16
	}{
		{"S", "", 10003},
		{"S", `{"deliver_subject":"a.*"}`, 10015},
		{"S", `{}`, 10015},
		{"NOPE", `{"deliver_subject":"x"}`, 10059},
		{"S", `{"deliver_subject":`, 10025},
	} {
		m, err := nc.Request("$JS.API.STREAM.SNAPSHOT."+tc.stream, []byte(tc.body), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var resp api.SnapshotResponse
		json.Unmarshal(m.Data, &resp)
		if resp.Error == nil || resp.Error.ErrCode != tc.code {
			t.Fatalf("%s %q: %s", tc.stream, tc.body, m.Data)
		}
	}
}

func TestRestoreIdleTimeout(t *testing.T) {
	t.Cleanup(jetstream.SetTransferTimeouts(2*time.Second, 5*time.Second, 200*time.Millisecond))
	dir := t.TempDir()
	s, _ := startJS(t, jetstream.Options{StoreDir: dir})
	nc := servertest.Connect(t, s)
	js, _ := njs.New(nc)
	b, _ := json.Marshal(api.RestoreRequest{Config: api.StreamConfig{Name: "S", Subjects: []string{"s"}}})
	m, err := nc.Request("$JS.API.STREAM.RESTORE.S", b, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var rr api.RestoreResponse
	json.Unmarshal(m.Data, &rr)
	// Half an archive, then silence.
	var ab bytes.Buffer
	w, zc := snapshot.Create(&ab)
	w.WriteState(1, &api.StreamState{})
	zc.Close()
	if _, err := nc.Request(rr.DeliverSubject, ab.Bytes(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	// Once the restore timed out, the name is free again.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := js.CreateStream(ctx(t), njs.StreamConfig{Name: "S", Subjects: []string{"s"}})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("name still reserved: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "jetstream", "$G", "_restore")); len(left) != 0 {
		t.Fatalf("staging left behind: %v", left)
	}
	if _, err := nc.Request(rr.DeliverSubject, nil, 200*time.Millisecond); !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, nats.ErrTimeout) {
		t.Fatalf("after timeout: %v", err)
	}
}

func TestSnapshotRestoreEmpty(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, _ := njs.New(nc)
	c := ctx(t)
	for _, purge := range []bool{false, true} {
		st, err := js.CreateStream(c, njs.StreamConfig{Name: "E", Subjects: []string{"e"}})
		if err != nil {
			t.Fatal(err)
		}
		if purge {
			for range 5 {
				if _, err := js.Publish(c, "e", []byte("x")); err != nil {
					t.Fatal(err)
				}
			}
			if err := st.Purge(c); err != nil {
				t.Fatal(err)
			}
		}
		snap := snapshotStream(t, nc, "E", api.SnapshotRequest{}, true)
		if snap.Status != "204" {
			t.Fatalf("snapshot %+v", snap)
		}
		if err := js.DeleteStream(c, "E"); err != nil {
			t.Fatal(err)
		}
		out := restoreStream(t, nc, "E", *snap.Resp.Config, *snap.Resp.State, snap.Data)
		if out.Error != nil {
			t.Fatal(out.Error)
		}
		if a, b := out.State, *snap.Resp.State; a.Msgs != 0 || a.FirstSeq != b.FirstSeq || a.LastSeq != b.LastSeq {
			t.Fatalf("purge=%v: restored %+v, was %+v", purge, a, b)
		}
		ack, err := js.Publish(c, "e", nil)
		if err != nil || ack.Sequence != snap.Resp.State.LastSeq+1 {
			t.Fatalf("publish after restore: %+v %v", ack, err)
		}
		if err := js.DeleteStream(c, "E"); err != nil {
			t.Fatal(err)
		}
	}
}
