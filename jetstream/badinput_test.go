package jetstream_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
)

// apiReply is what every JSON API answer has in common.
type apiReply struct {
	Type  string `json:"type"`
	Error *struct {
		Code        int    `json:"code"`
		ErrCode     int    `json:"err_code"`
		Description string `json:"description"`
	} `json:"error"`
}

// apiRequest sends body to $JS.API.<op> and decodes the answer, failing
// the test when there is none or it is not JSON.
func apiRequest(tb testing.TB, nc *nats.Conn, op string, body []byte) (apiReply, []byte) {
	tb.Helper()
	m, err := nc.Request("$JS.API."+op, body, 5*time.Second)
	if err != nil {
		tb.Fatalf("%s %q: %v", op, body, err)
	}
	var r apiReply
	if err := json.Unmarshal(m.Data, &r); err != nil {
		tb.Fatalf("%s %q: answer is not JSON: %v: %q", op, body, err, m.Data)
	}
	return r, m.Data
}

// wantAPIError checks that r is an error of err_code code whose
// description starts with prefix.
func wantAPIError(tb testing.TB, what string, r apiReply, raw []byte, code int, prefix string) {
	tb.Helper()
	if r.Error == nil || r.Error.ErrCode != code || !strings.HasPrefix(r.Error.Description, prefix) {
		tb.Fatalf("%s: want %d %q..., got %s", what, code, prefix, raw)
	}
}

// badJSONCalls are the JSON API calls with a body, a stream "S" with
// messages existing, and a body of a wrong type for each.
var badJSONCalls = []struct {
	op, rtype, wrongType string
}{
	{"STREAM.CREATE.T", "stream_create_response", `{"name":"T","max_msgs":"10"}`},
	{"STREAM.UPDATE.S", "stream_update_response", `{"name":"S","subjects":"s.x"}`},
	{"STREAM.INFO.S", "stream_info_response", `{"deleted_details":"yes"}`},
	{"STREAM.NAMES", "stream_names_response", `{"offset":"1"}`},
	{"STREAM.LIST", "stream_list_response", `{"subject":7}`},
	{"STREAM.PURGE.S", "stream_purge_response", `{"seq":-1}`},
	{"STREAM.MSG.GET.S", "stream_msg_get_response", `{"seq":"1"}`},
	{"STREAM.MSG.DELETE.S", "stream_msg_delete_response", `{"seq":true}`},
	{"STREAM.SNAPSHOT.S", "stream_snapshot_response", `{"deliver_subject":5}`},
	{"STREAM.RESTORE.T", "stream_restore_response", `{"config":[]}`},
}

// badBodies are malformed for every call: truncated, not an object,
// numbers no Go integer holds, values after the object.
var badBodies = []string{
	`{`,
	`{"name":`,
	`{"seq":1,`,
	`[]`,
	`[{"name":"S"}]`,
	`"S"`,
	`42`,
	`{"seq":1e400}`,
	`{"offset":123456789012345678901234567890}`,
	`{"seq":18446744073709551616}`,
	`{} x`,
	`{}}`,
	"\x00\xff",
}

func TestBadInputMalformedJSON(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, _ := njs.New(nc)
	c := ctx(t)
	if _, err := js.CreateStream(c, njs.StreamConfig{Name: "S", Subjects: []string{"s.>"}}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := js.Publish(c, "s.a", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	for _, call := range badJSONCalls {
		bodies := append([]string{call.wrongType, `{"bogus_field":1}`}, badBodies...)
		for _, body := range bodies {
			r, raw := apiRequest(t, nc, call.op, []byte(body))
			what := fmt.Sprintf("%s %q", call.op, body)
			wantAPIError(t, what, r, raw, 10025, "invalid JSON: ")
			if r.Error.Code != 400 || r.Type != "io.nats.jetstream.api.v1."+call.rtype {
				t.Fatalf("%s: %s", what, raw)
			}
		}
	}
	// A syntax error says where it is, as upstream.
	r, raw := apiRequest(t, nc, "STREAM.NAMES", []byte(`{"offset":x}`))
	wantAPIError(t, "offset", r, raw, 10025, "invalid JSON: invalid character 'x' looking for beginning of value at offset 11")
	// Nothing changed: S has its 3 messages, T does not exist.
	info, err := js.Stream(c, "S")
	if err != nil || info.CachedInfo().State.Msgs != 3 {
		t.Fatalf("S after bad requests: %v", err)
	}
	if _, err := js.Stream(c, "T"); !errors.Is(err, njs.ErrStreamNotFound) {
		t.Fatalf("T: %v", err)
	}
	// Calls without a body refuse one, as upstream; an empty object is
	// no body.
	for _, op := range []string{"INFO", "STREAM.DELETE.S"} {
		r, raw := apiRequest(t, nc, op, []byte(`{"x":1}`))
		wantAPIError(t, op, r, raw, 10038, "expected an empty request payload")
	}
	for _, body := range []string{"", "{}", " { } "} {
		if r, raw := apiRequest(t, nc, "INFO", []byte(body)); r.Error != nil {
			t.Fatalf("INFO %q: %s", body, raw)
		}
	}
	if r, raw := apiRequest(t, nc, "STREAM.DELETE.S", []byte("{}")); r.Error != nil {
		t.Fatalf("delete: %s", raw)
	}
}

func TestBadInputNonStrict(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{NonStrict: true})
	nc := servertest.Connect(t, s)
	r, raw := apiRequest(t, nc, "STREAM.CREATE.S", []byte(`{"name":"S","subjects":["s"],"future_field":{"x":[1,2]}}`))
	if r.Error != nil || r.Type != "io.nats.jetstream.api.v1.stream_create_response" {
		t.Fatalf("non-strict create: %s", raw)
	}
	r, raw = apiRequest(t, nc, "STREAM.NAMES", []byte(`{"offset":0,"later":true}`))
	if r.Error != nil {
		t.Fatalf("non-strict names: %s", raw)
	}
	// Malformed JSON stays an error.
	for _, body := range []string{`{`, `[]`, `{"offset":"1"}`, `{} x`} {
		r, raw := apiRequest(t, nc, "STREAM.NAMES", []byte(body))
		wantAPIError(t, body, r, raw, 10025, "invalid JSON: ")
	}
}

// TestBadInputLimits creates streams with absurd limits: each is refused
// with upstream's error, or accepted when upstream accepts it.
func TestBadInputLimits(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{Limits: jetstream.ServerLimits{Duplicates: time.Hour}})
	nc := servertest.Connect(t, s)
	long := strings.Repeat("n", 256)
	for _, tt := range []struct {
		name, cfg string
		code      int    // 0: accepted
		desc      string // prefix
	}{
		{"max_age negative", `"max_age":-1`, 10052, "max age can not be negative"},
		{"max_age tiny", `"max_age":1000`, 10052, "max age needs to be >= 100ms"},
		{"duplicate_window negative", `"duplicate_window":-5`, 10052, "duplicates window can not be negative"},
		{"duplicate_window tiny", `"duplicate_window":10`, 10052, "duplicates window needs to be >= 100ms"},
		{"duplicate_window over max_age", `"max_age":1000000000,"duplicate_window":2000000000`, 10052, "duplicates window can not be larger then max age"},
		{"duplicate_window over server limit", `"duplicate_window":7200000000000`, 10052, "duplicates window can not be larger then server limit of 1h0m0s"},
		{"max_age huge", `"max_age":9223372036854775807`, 0, ""},
		{"max_age overflows", `"max_age":9223372036854775808`, 10025, "invalid JSON: "},
		{"num_replicas negative", `"num_replicas":-1`, 10133, "replicas count cannot be negative"},
		{"num_replicas huge", `"num_replicas":1000000`, 10052, "maximum replicas is 5"},
		{"num_replicas 3", `"num_replicas":3`, 10074, "replicas > 1 not supported in non-clustered mode"},
		{"max_msg_size over int32", `"max_msg_size":4294967296`, 10025, "invalid JSON: "},
		{"max_msgs overflows", `"max_msgs":1e19`, 10025, "invalid JSON: "},
		{"max_bytes huge", `"max_bytes":9223372036854775807`, 10047, "insufficient storage resources available"},
		{"max_bytes memory huge", `"max_bytes":9223372036854775807,"storage":"memory"`, 10047, "insufficient storage resources available"},
		{"max_msgs_per_subject negative", `"max_msgs_per_subject":-7`, 0, ""},
		{"discard new per subject", `"discard":"new","discard_new_per_subject":true`, 10052, "discard new per subject requires max msgs per subject > 0"},
		{"first_seq huge", `"first_seq":18446744073709551615`, 0, ""},
		{"description too long", `"description":"` + strings.Repeat("d", 4097) + `"`, 10052, "stream description is too long, maximum allowed is 4096"},
		{"storage unknown", `"storage":"tape"`, 10025, "invalid JSON: "},
		{"retention unknown", `"retention":"forever"`, 10025, "invalid JSON: "},
		{"subject invalid", `"subjects":["a..b"]`, 10052, ""},
		{"subject empty", `"subjects":[""]`, 10052, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			name := strings.ReplaceAll(tt.name, " ", "_")
			body := `{"name":"` + name + `","subjects":["` + name + `.>"],` + tt.cfg + `}`
			if strings.Contains(tt.cfg, `"subjects"`) {
				body = `{"name":"` + name + `",` + tt.cfg + `}`
			}
			r, raw := apiRequest(t, nc, "STREAM.CREATE."+name, []byte(body))
			if tt.code == 0 {
				if r.Error != nil {
					t.Fatalf("refused: %s", raw)
				}
				return
			}
			wantAPIError(t, tt.name, r, raw, tt.code, tt.desc)
		})
	}
	// Names: refused whatever the subject token carries.
	for _, tt := range []struct {
		subj, name string
		code       int
		desc       string
	}{
		{"X", "a.b", 10056, "stream name in subject does not match request"},
		{"X", "Y", 10056, "stream name in subject does not match request"},
		{"X", "a b", 10056, ""},
		{"a/b", "a/b", 10128, "Stream name can not contain path separators"},
		{`a\b`, `a\b`, 10128, "Stream name can not contain path separators"},
		{long, long, 10052, "stream name is too long, maximum allowed is 255"},
	} {
		body, _ := json.Marshal(map[string]any{"name": tt.name})
		r, raw := apiRequest(t, nc, "STREAM.CREATE."+tt.subj, body)
		wantAPIError(t, tt.subj, r, raw, tt.code, tt.desc)
	}
	// A name that is not one token never reaches a stream call.
	for _, subj := range []string{"STREAM.CREATE.a.b", "STREAM.INFO.a.b", "STREAM.DELETE.a.b.c"} {
		r, raw := apiRequest(t, nc, subj, []byte(`{"name":"a.b"}`))
		wantAPIError(t, subj, r, raw, 10003, "bad request")
	}
}

// TestBadInputFirstSeqHuge: a stream whose first sequence is the last
// one stores one message, then refuses more with an error instead of
// wrapping its sequence around.
func TestBadInputFirstSeqHuge(t *testing.T) {
	for _, storage := range []njs.StorageType{njs.FileStorage, njs.MemoryStorage} {
		t.Run(storage.String(), func(t *testing.T) {
			dir := t.TempDir()
			s, js0 := startJS(t, jetstream.Options{StoreDir: dir})
			nc := servertest.Connect(t, s)
			js, _ := njs.New(nc)
			c := ctx(t)
			if _, err := js.CreateStream(c, njs.StreamConfig{Name: "S", Subjects: []string{"s"}, FirstSeq: math.MaxUint64, Storage: storage}); err != nil {
				t.Fatal(err)
			}
			ack, err := js.Publish(c, "s", []byte("last"))
			if err != nil || ack.Sequence != math.MaxUint64 {
				t.Fatalf("first publish %+v %v", ack, err)
			}
			var ae *njs.APIError
			if ack, err := js.Publish(c, "s", []byte("wrap")); !errors.As(err, &ae) {
				t.Fatalf("second publish %+v %v", ack, err)
			}
			st, _ := js.Stream(c, "S")
			info := st.CachedInfo()
			if info.State.Msgs != 1 || info.State.LastSeq != math.MaxUint64 {
				t.Fatalf("state %+v", info.State)
			}
			m, err := st.GetMsg(c, math.MaxUint64)
			if err != nil || string(m.Data) != "last" {
				t.Fatalf("get %v %v", m, err)
			}
			_ = js0
		})
	}
}

// TestBadInputDiskFull fills the disk under a file stream: the publish
// that does not fit gets an error PubAck, every acknowledged message
// stays readable, /healthz reports the stream, and after a restart with
// space again nothing acknowledged is lost or damaged.
func TestBadInputDiskFull(t *testing.T) {
	space := jetstream.FailStoreSpace(t, 48<<10)
	dir := t.TempDir()
	s, js0 := startJS(t, jetstream.Options{StoreDir: dir})
	nc := servertest.Connect(t, s)
	js, _ := njs.New(nc)
	c := ctx(t)
	if _, err := js.CreateStream(c, njs.StreamConfig{Name: "DISK", Subjects: []string{"disk.>"}}); err != nil {
		t.Fatal(err)
	}
	acked := map[uint64][]byte{}
	var pubErr error
	for i := range 1000 {
		data := bytes.Repeat([]byte{byte('a' + i%26)}, 1000)
		ack, err := js.Publish(c, fmt.Sprintf("disk.%d", i), data)
		if err != nil {
			pubErr = err
			break
		}
		acked[ack.Sequence] = data
	}
	var ae *njs.APIError
	if !errors.As(pubErr, &ae) || ae.ErrorCode != 10077 || !strings.Contains(ae.Description, "no space left on device") {
		t.Fatalf("publish on a full disk: %v (after %d acks)", pubErr, len(acked))
	}
	if len(acked) == 0 {
		t.Fatal("nothing fit")
	}
	// Space frees: the store refuses writes after a failed one all the
	// same (what it wrote last may be torn), until it is opened again.
	space.Store(1 << 40)
	if _, err := js.Publish(c, "disk.more", []byte("x")); !errors.As(err, &ae) || ae.ErrorCode != 10077 {
		t.Fatalf("publish after the failure: %v", err)
	}
	st, err := js.Stream(c, "DISK")
	if err != nil {
		t.Fatal(err)
	}
	for seq, data := range acked {
		m, err := st.GetMsg(c, seq)
		if err != nil || !bytes.Equal(m.Data, data) {
			t.Fatalf("acked %d before restart: %v", seq, err)
		}
	}
	h := healthz(t, s, &snapshot.HealthzOptions{Account: "$G", Stream: "DISK"})
	if h.StatusCode != 503 || !strings.Contains(h.Error, "no space left on device") {
		t.Fatalf("healthz %+v", h)
	}
	// Restart on the same directory.
	if err := js0.Shutdown(context.Background()); err != nil {
		t.Logf("shutdown: %v", err)
	}
	s2, _ := startJS(t, jetstream.Options{StoreDir: dir})
	nc2 := servertest.Connect(t, s2)
	js2, _ := njs.New(nc2)
	st2, err := js2.Stream(c, "DISK")
	if err != nil {
		t.Fatal(err)
	}
	info := st2.CachedInfo()
	if info.State.Msgs < uint64(len(acked)) {
		t.Fatalf("after restart %d messages, %d acked", info.State.Msgs, len(acked))
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := st2.GetMsg(c, seq)
		if data, ok := acked[seq]; ok {
			if err != nil || !bytes.Equal(m.Data, data) {
				t.Fatalf("acked %d after restart: %v", seq, err)
			}
			continue
		}
		// A stored but unacknowledged message must be whole if present.
		if err == nil && (len(m.Data) != 1000 || m.Data[0] != byte('a'+(seq-1)%26)) {
			t.Fatalf("unacked %d read back damaged: %q", seq, m.Data)
		}
	}
	if h := healthz(t, s2, &snapshot.HealthzOptions{Account: "$G", Stream: "DISK"}); h.Status != "ok" {
		t.Fatalf("healthz after restart %+v", h)
	}
	if _, err := js2.Publish(c, "disk.again", []byte("y")); err != nil {
		t.Fatalf("publish after restart: %v", err)
	}
}

// accountsConf has accounts A and B with JetStream; C imports B's stream
// info (only) under B.JS.
const accountsConf = `
system_account: SYS
accounts {
	SYS { users [{user: sys, password: psys}] }
	A { users [{user: a, password: pa}] }
	B {
		users [{user: b, password: pb}]
		exports [{service: "$JS.API.STREAM.INFO.>"}]
	}
	C {
		users [{user: c, password: pc}]
		imports [{service: {account: B, subject: "$JS.API.STREAM.INFO.>"}, to: "B.JS.STREAM.INFO.>"}]
	}
}
`

// TestBadInputOtherAccounts: an account reaches another's streams through
// none of its API calls, the system calls (CVE-2025-30215) change nothing
// from a user account, and an import reaches only what is exported.
func TestBadInputOtherAccounts(t *testing.T) {
	s := servertest.StartConfig(t, accountsConf)
	js0, err := jetstream.Start(s, jetstream.Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = js0.Shutdown(context.Background()) })
	ncB := servertest.Connect(t, s, nats.UserInfo("b", "pb"))
	jsB, _ := njs.New(ncB)
	c := ctx(t)
	if _, err := jsB.CreateStream(c, njs.StreamConfig{Name: "S", Subjects: []string{"s.>"}}); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := jsB.Publish(c, "s.x", []byte("b")); err != nil {
			t.Fatal(err)
		}
	}
	intact := func(what string) {
		t.Helper()
		st, err := jsB.Stream(c, "S")
		if err != nil || st.CachedInfo().State.Msgs != 5 {
			t.Fatalf("B's stream after %s: %v", what, err)
		}
	}
	ncA := servertest.Connect(t, s, nats.UserInfo("a", "pa"))
	for _, op := range []string{"STREAM.INFO.S", "STREAM.DELETE.S", "STREAM.PURGE.S", "STREAM.MSG.DELETE.S", "STREAM.MSG.GET.S", "STREAM.UPDATE.S", "STREAM.SNAPSHOT.S"} {
		body := map[string]string{
			"STREAM.MSG.DELETE.S": `{"seq":1}`, "STREAM.MSG.GET.S": `{"seq":1}`,
			"STREAM.UPDATE.S": `{"name":"S","subjects":["s.>"]}`, "STREAM.SNAPSHOT.S": `{"deliver_subject":"x"}`,
		}[op]
		r, raw := apiRequest(t, ncA, op, []byte(body))
		wantAPIError(t, "A "+op, r, raw, 10059, "stream not found")
		intact("A " + op)
	}
	if r, raw := apiRequest(t, ncA, "STREAM.NAMES", nil); r.Error != nil || strings.Contains(string(raw), `"S"`) {
		t.Fatalf("A's names: %s", raw)
	}
	if _, err := ncA.Request("DIRECT.GET.S", nil, time.Second); err == nil {
		t.Fatal("direct get answered in A")
	}
	// The system calls, from a user account and from one without
	// JetStream: an error answer, nothing done.
	ncSys := servertest.Connect(t, s, nats.UserInfo("sys", "psys"))
	for _, nc := range []*nats.Conn{ncA, ncB, ncSys} {
		for _, op := range []string{"ACCOUNT.PURGE.B", "SERVER.REMOVE", "ACCOUNT.STREAM.MOVE.B.S", "ACCOUNT.STREAM.CANCEL_MOVE.B.S", "META.LEADER.STEPDOWN", "SERVER.EVACUATE"} {
			body := []byte(`{"peer":"x","server":"x"}`)
			r, raw := apiRequest(t, nc, op, body)
			if r.Error == nil || r.Type == "" {
				t.Fatalf("%s: %s", op, raw)
			}
			intact(op)
		}
	}
	// C reaches B's stream info through its import, and nothing else.
	ncC := servertest.Connect(t, s, nats.UserInfo("c", "pc"))
	m, err := ncC.Request("B.JS.STREAM.INFO.S", nil, 5*time.Second)
	if err != nil || !strings.Contains(string(m.Data), `"messages":5`) {
		t.Fatalf("imported info: %v %v", m, err)
	}
	for _, subj := range []string{"B.JS.STREAM.DELETE.S", "B.JS.STREAM.PURGE.S", "$JS.API.STREAM.DELETE.S"} {
		m, err := ncC.Request(subj, nil, 2*time.Second)
		if err == nil {
			var r apiReply
			_ = json.Unmarshal(m.Data, &r)
			if r.Error == nil {
				t.Fatalf("%s answered %s", subj, m.Data)
			}
		}
		intact("C " + subj)
	}
}

// TestBadInputStoreDir: a store directory that cannot be created or
// written stops Start with ErrStoreDir.
func TestBadInputStoreDir(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A file where <StoreDir>/jetstream or an account's directory goes.
	inPlace := filepath.Join(root, "inplace")
	if err := os.MkdirAll(inPlace, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(inPlace, "jetstream"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	accFile := filepath.Join(root, "accfile")
	if err := os.MkdirAll(filepath.Join(accFile, "jetstream", "$G"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(accFile, "jetstream", "$G", "streams"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dirs := []string{file, filepath.Join(file, "sub"), inPlace, accFile}
	if os.Geteuid() != 0 {
		ro := filepath.Join(root, "ro")
		if err := os.Mkdir(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		roJS := filepath.Join(root, "rojs")
		if err := os.MkdirAll(filepath.Join(roJS, "jetstream"), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(roJS, "jetstream"), 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(filepath.Join(roJS, "jetstream"), 0o750) })
		dirs = append(dirs, ro, roJS)
	}
	for _, d := range dirs {
		s := servertest.Start(t, server.Options{})
		js, err := jetstream.Start(s, jetstream.Options{StoreDir: d})
		if err == nil {
			_ = js.Shutdown(context.Background())
			t.Fatalf("%s: started", d)
		}
		if !errors.Is(err, jetstream.ErrStoreDir) {
			t.Fatalf("%s: %v", d, err)
		}
		// The server runs on, without JetStream.
		nc := servertest.Connect(t, s)
		if _, err := nc.Request("$JS.API.INFO", nil, time.Second); err == nil {
			t.Fatalf("%s: JetStream answers", d)
		}
	}
}

// TestBadInputBigRequests: oversized requests, many subjects and many
// streams are answered in bounded time.
func TestBadInputBigRequests(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	// 900 KB of metadata (1 MB does not fit in max_payload).
	start := time.Now()
	body, _ := json.Marshal(map[string]any{"name": "M", "metadata": map[string]string{"k": strings.Repeat("v", 900<<10)}})
	r, raw := apiRequest(t, nc, "STREAM.CREATE.M", body)
	wantAPIError(t, "metadata", r, raw[:min(len(raw), 300)], 10052, "stream metadata exceeds maximum size")
	// Many small entries add up.
	md := map[string]string{}
	for i := range 200 {
		md[fmt.Sprint("key", i)] = strings.Repeat("v", 1000)
	}
	body, _ = json.Marshal(map[string]any{"name": "M", "metadata": md})
	r, raw = apiRequest(t, nc, "STREAM.CREATE.M", body)
	wantAPIError(t, "metadata entries", r, raw[:min(len(raw), 300)], 10052, "stream metadata exceeds maximum size")
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("metadata took %v", d)
	}
	// 10k subjects in one stream.
	start = time.Now()
	subjects := make([]string, 10_000)
	for i := range subjects {
		subjects[i] = fmt.Sprintf("many.%d", i)
	}
	subjects[0] = "wild.*" // one wildcard among the literals
	body, _ = json.Marshal(map[string]any{"name": "MANY", "subjects": subjects})
	if r, raw := apiRequest(t, nc, "STREAM.CREATE.MANY", body); r.Error != nil {
		t.Fatalf("10k subjects: %s", raw[:min(len(raw), 300)])
	}
	subjects[1] = "many.5" // a duplicate
	body, _ = json.Marshal(map[string]any{"name": "MANY2", "subjects": subjects[1:]})
	r, raw = apiRequest(t, nc, "STREAM.CREATE.MANY2", body)
	wantAPIError(t, "duplicates", r, raw[:min(len(raw), 300)], 10052, "duplicate subjects detected")
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("10k subjects took %v", d)
	}
	js, _ := njs.New(nc)
	if ack, err := js.Publish(ctx(t), "many.9999", nil); err != nil || ack.Stream != "MANY" {
		t.Fatalf("publish %+v %v", ack, err)
	}
}

// manyStreams: 10k streams take about 100s, two fsyncs of the stream's
// meta file each (more when other tests share the disk), so the default is
// lower; run "go test -run ManyStreams -args -streams=10000" for 10k.
var manyStreams = flag.Int("streams", 2000, "streams TestBadInputManyStreams creates")

// TestBadInputManyStreams creates many streams (at most 500 with -short)
// as fast as the API answers them: every create is answered, in bounded
// time, and all are listed.
func TestBadInputManyStreams(t *testing.T) {
	n := *manyStreams
	if testing.Short() {
		n = min(n, 500)
	}
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	start := time.Now()
	replies := make(chan *nats.Msg, n)
	sub, err := nc.ChanSubscribe(nats.NewInbox()+".*", replies)
	if err != nil {
		t.Fatal(err)
	}
	prefix := sub.Subject[:len(sub.Subject)-1]
	for i := range n {
		name := fmt.Sprint("S", i)
		body := []byte(`{"name":"` + name + `","subjects":["many.` + name + `"],"storage":"memory"}`)
		if err := nc.PublishRequest("$JS.API.STREAM.CREATE."+name, prefix+name, body); err != nil {
			t.Fatal(err)
		}
	}
	timeout := time.After(time.Duration(n) * 150 * time.Millisecond)
	for i := range n {
		select {
		case m := <-replies:
			var r apiReply
			if err := json.Unmarshal(m.Data, &r); err != nil || r.Error != nil {
				t.Fatalf("create %d: %s", i, m.Data)
			}
		case <-timeout:
			t.Fatalf("%d of %d creates answered in %v", i, n, time.Since(start))
		}
	}
	t.Logf("%d streams in %v", n, time.Since(start))
	r, raw := apiRequest(t, nc, "STREAM.NAMES", nil)
	if r.Error != nil || !strings.Contains(string(raw), fmt.Sprintf(`"total":%d`, n)) {
		t.Fatalf("names %s", raw[:min(len(raw), 300)])
	}
}

// fuzzOps are the API calls FuzzAPIRequests picks from (by index), with
// the response type each answers with.
var fuzzOps = []struct{ op, rtype string }{
	{"INFO", "account_info_response"},
	{"STREAM.CREATE.F", "stream_create_response"},
	{"STREAM.UPDATE.F", "stream_update_response"},
	{"STREAM.INFO.F", "stream_info_response"},
	{"STREAM.NAMES", "stream_names_response"},
	{"STREAM.LIST", "stream_list_response"},
	{"STREAM.PURGE.F", "stream_purge_response"},
	{"STREAM.MSG.GET.F", "stream_msg_get_response"},
	{"STREAM.MSG.DELETE.F", "stream_msg_delete_response"},
	{"STREAM.DELETE.F", "stream_delete_response"},
	{"STREAM.SNAPSHOT.F", "stream_snapshot_response"},
	{"STREAM.RESTORE.R", "stream_restore_response"},
	{"STREAM.LEADER.STEPDOWN.F", "stream_leader_stepdown_response"},
	{"ACCOUNT.PURGE.X", "error_response"},
	{"NO.SUCH.CALL", ""}, // no responders, as upstream
}

// FuzzAPIRequests sends arbitrary bodies to the API calls. The oracle:
// every request is answered, in time, with JSON that has the call's
// "type" and either no error or an error with code, err_code and
// description; and the server keeps answering.
func FuzzAPIRequests(f *testing.F) {
	for i, body := range []string{
		``, `{}`, `{"name":"F","subjects":["f.>"]}`, `{"name":"F","max_msgs":-2,"max_age":1}`,
		`{"seq":1}`, `{"last_by_subj":"f.x"}`, `{"filter":"f.*","keep":1}`, `{"offset":-5}`,
		`{"deliver_subject":"snap.x","chunk_size":1}`, `{"config":{"name":"R"}}`, `{`, `[]`,
		`{"name":"F","subjects":[">"],"no_ack":true}`, `{"subjects_filter":">","deleted_details":true}`,
	} {
		f.Add(uint8(i), []byte(body))
	}
	s, _ := startJS(f, jetstream.Options{})
	nc := servertest.Connect(f, s)
	f.Fuzz(func(t *testing.T, pick uint8, body []byte) {
		call := fuzzOps[int(pick)%len(fuzzOps)]
		if len(body) > 64<<10 {
			body = body[:64<<10]
		}
		// The stream exists for most calls.
		_, _ = nc.Request("$JS.API.STREAM.CREATE.F", []byte(`{"name":"F","subjects":["f.>"]}`), 5*time.Second)
		_ = nc.Publish("f.x", []byte("m"))
		m, err := nc.Request("$JS.API."+call.op, body, 5*time.Second)
		if call.rtype == "" {
			if !errors.Is(err, nats.ErrNoResponders) {
				t.Fatalf("%s %q: %v, want no responders", call.op, body, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("%s %q: %v", call.op, body, err)
		}
		var r struct {
			Type  string          `json:"type"`
			Error json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal(m.Data, &r); err != nil {
			t.Fatalf("%s %q: not JSON: %q", call.op, body, m.Data)
		}
		if r.Type != "io.nats.jetstream.api.v1."+call.rtype {
			t.Fatalf("%s %q: type %q", call.op, body, r.Type)
		}
		if r.Error != nil {
			var e struct {
				Code        *int    `json:"code"`
				ErrCode     *int    `json:"err_code"`
				Description *string `json:"description"`
			}
			if err := json.Unmarshal(r.Error, &e); err != nil || e.Code == nil || *e.Code == 0 ||
				e.ErrCode == nil || *e.ErrCode == 0 || e.Description == nil || *e.Description == "" {
				t.Fatalf("%s %q: error %s", call.op, body, r.Error)
			}
		}
	})
}
