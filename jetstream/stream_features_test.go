package jetstream_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/jetstream/internal/stream"
	"natsd.dev/server/servertest"
)

// pubResp is a PubAck or an error as the wire carries it.
type pubResp struct {
	Error *struct {
		Code        int    `json:"code"`
		ErrCode     int    `json:"err_code"`
		Description string `json:"description"`
	} `json:"error"`
	Stream    string `json:"stream"`
	Seq       uint64 `json:"seq"`
	Duplicate bool   `json:"duplicate"`
	Val       string `json:"val"`
	Batch     string `json:"batch"`
	Count     int    `json:"count"`
}

// hdrs builds a header from key, value pairs.
func hdrs(kv ...string) nats.Header {
	h := nats.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// request publishes subject with headers and data and returns the raw
// reply (nil data for an empty one).
func request(tb testing.TB, nc *nats.Conn, subject string, h nats.Header, data string) *nats.Msg {
	tb.Helper()
	m := &nats.Msg{Subject: subject, Header: h, Data: []byte(data)}
	r, err := nc.RequestMsg(m, 5*time.Second)
	if err != nil {
		tb.Fatalf("request %s %v: %v", subject, h, err)
	}
	return r
}

func pub(tb testing.TB, nc *nats.Conn, subject string, h nats.Header, data string) pubResp {
	tb.Helper()
	r := request(tb, nc, subject, h, data)
	var p pubResp
	if err := json.Unmarshal(r.Data, &p); err != nil {
		tb.Fatalf("reply %q: %v", r.Data, err)
	}
	return p
}

// wantOK checks that p acknowledges seq.
func wantOK(tb testing.TB, p pubResp, seq uint64) {
	tb.Helper()
	if p.Error != nil || p.Seq != seq {
		tb.Fatalf("want ack of seq %d, got %+v (error %+v)", seq, p, p.Error)
	}
}

// wantErr checks that p is the error code with the description desc ("" to
// skip) and carries the stream's name as upstream's error PubAcks do.
func wantErr(tb testing.TB, p pubResp, code int, desc string) {
	tb.Helper()
	if p.Error == nil || p.Error.ErrCode != code || (desc != "" && p.Error.Description != desc) {
		tb.Fatalf("want error %d %q, got %+v (error %+v)", code, desc, p, p.Error)
	}
	if p.Stream == "" {
		tb.Fatalf("error without the stream's name: %+v", p)
	}
}

func setup(tb testing.TB) (*nats.Conn, njs.JetStream) {
	tb.Helper()
	s, _ := startJS(tb, jetstream.Options{})
	nc := servertest.Connect(tb, s)
	js, err := njs.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	return nc, js
}

func createStream(tb testing.TB, js njs.JetStream, cfg njs.StreamConfig) njs.Stream {
	tb.Helper()
	st, err := js.CreateStream(ctx(tb), cfg)
	if err != nil {
		tb.Fatalf("create %s: %v", cfg.Name, err)
	}
	return st
}

func wantCreateErr(tb testing.TB, js njs.JetStream, cfg njs.StreamConfig, code int, desc string) {
	tb.Helper()
	_, err := js.CreateStream(ctx(tb), cfg)
	var ae *njs.APIError
	if !errors.As(err, &ae) || int(ae.ErrorCode) != code || (desc != "" && ae.Description != desc) {
		tb.Fatalf("create %+v: want %d %q, got %v", cfg, code, desc, err)
	}
}

func msgs(tb testing.TB, st njs.Stream) uint64 {
	tb.Helper()
	info, err := st.Info(ctx(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return info.State.Msgs
}

// eventually polls cond every 20ms for up to 10s.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPublishExpectations(t *testing.T) {
	nc, js := setup(t)
	createStream(t, js, njs.StreamConfig{Name: "S", Subjects: []string{"s.>"}})

	wantOK(t, pub(t, nc, "s.a", hdrs("Nats-Expected-Stream", "S"), "1"), 1)
	wantErr(t, pub(t, nc, "s.a", hdrs("Nats-Expected-Stream", "T"), "x"), 10060, "expected stream does not match")

	wantOK(t, pub(t, nc, "s.b", hdrs("Nats-Expected-Last-Sequence", "1"), "2"), 2)
	wantErr(t, pub(t, nc, "s.b", hdrs("Nats-Expected-Last-Sequence", "1"), "x"), 10071, "wrong last sequence: 2")

	wantOK(t, pub(t, nc, "s.a", hdrs("Nats-Expected-Last-Subject-Sequence", "1"), "3"), 3)
	wantErr(t, pub(t, nc, "s.a", hdrs("Nats-Expected-Last-Subject-Sequence", "1"), "x"), 10071, "wrong last sequence: 3")
	// 0 means the subject must be empty.
	wantOK(t, pub(t, nc, "s.new", hdrs("Nats-Expected-Last-Subject-Sequence", "0"), "4"), 4)
	// The subject of the check can be another one, a wildcard too.
	wantOK(t, pub(t, nc, "s.c", hdrs("Nats-Expected-Last-Subject-Sequence", "4", "Nats-Expected-Last-Subject-Sequence-Subject", "s.*"), "5"), 5)
	wantErr(t, pub(t, nc, "s.c", hdrs("Nats-Expected-Last-Subject-Sequence", "1", "Nats-Expected-Last-Subject-Sequence-Subject", "s.a"), "x"), 10071, "wrong last sequence: 3")
	wantOK(t, pub(t, nc, "s.c", hdrs("Nats-Expected-Last-Subject-Sequence", "3", "Nats-Expected-Last-Subject-Sequence-Subject", "s.a"), "6"), 6)
	wantErr(t, pub(t, nc, "s.c", hdrs("Nats-Expected-Last-Subject-Sequence-Subject", "s.a"), "x"), 10193, "missing sequence for expected last sequence per subject")

	wantOK(t, pub(t, nc, "s.d", hdrs("Nats-Msg-Id", "m1"), "7"), 7)
	wantOK(t, pub(t, nc, "s.d", hdrs("Nats-Expected-Last-Msg-Id", "m1", "Nats-Msg-Id", "m2"), "8"), 8)
	wantErr(t, pub(t, nc, "s.d", hdrs("Nats-Expected-Last-Msg-Id", "m1"), "x"), 10070, "wrong last msg ID: m2")

	// Duplicates are acknowledged with the original's sequence.
	p := pub(t, nc, "s.d", hdrs("Nats-Msg-Id", "m1"), "again")
	if p.Error != nil || !p.Duplicate || p.Seq != 7 {
		t.Fatalf("duplicate: %+v", p)
	}

	wantOK(t, pub(t, nc, "s.e", hdrs("Nats-Required-Api-Level", "1"), "9"), 9)
	wantErr(t, pub(t, nc, "s.e", hdrs("Nats-Required-Api-Level", "99"), "x"), 10185, "JetStream minimum api level required")
}

func TestPublishDedupeSurvivesRestart(t *testing.T) {
	s, js0 := startJS(t, jetstream.Options{})
	dir := storeDirOf(js0)
	nc := servertest.Connect(t, s)
	js, _ := njs.New(nc)
	createStream(t, js, njs.StreamConfig{Name: "D", Subjects: []string{"d"}, Duplicates: time.Minute})
	wantOK(t, pub(t, nc, "d", hdrs("Nats-Msg-Id", "a"), "1"), 1)
	wantOK(t, pub(t, nc, "d", hdrs("Nats-Msg-Id", "b"), "2"), 2)

	if err := js0.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	js1, err := jetstream.Start(s, jetstream.Options{StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = js1.Shutdown(context.Background()) })

	p := pub(t, nc, "d", hdrs("Nats-Msg-Id", "a"), "1")
	if p.Error != nil || !p.Duplicate || p.Seq != 1 {
		t.Fatalf("duplicate after restart: %+v", p)
	}
	// The last msg id is known again too.
	wantOK(t, pub(t, nc, "d", hdrs("Nats-Expected-Last-Msg-Id", "b"), "3"), 3)
}

// storeDirOf returns the StoreDir js was started with (the parent of its
// jetstream directory).
func storeDirOf(js *jetstream.JetStream) string {
	return strings.TrimSuffix(js.StoreDir(), "/jetstream")
}

func TestPublishRollup(t *testing.T) {
	nc, js := setup(t)
	createStream(t, js, njs.StreamConfig{Name: "NR", Subjects: []string{"nr"}})
	wantErr(t, pub(t, nc, "nr", hdrs("Nats-Rollup", "sub"), ""), 10111, "rollup not permitted")
	wantCreateErr(t, js, njs.StreamConfig{Name: "BAD", Subjects: []string{"bad"}, AllowRollup: true, DenyPurge: true}, 10052, "roll-ups require the purge permission")

	st := createStream(t, js, njs.StreamConfig{Name: "R", Subjects: []string{"r.>"}, AllowRollup: true})
	for i := range 3 {
		wantOK(t, pub(t, nc, "r.a", nil, "a"), uint64(2*i+1))
		wantOK(t, pub(t, nc, "r.b", nil, "b"), uint64(2*i+2))
	}
	wantErr(t, pub(t, nc, "r.a", hdrs("Nats-Rollup", "bad"), ""), 10111, `rollup value invalid: "bad"`)
	wantOK(t, pub(t, nc, "r.a", hdrs("Nats-Rollup", "sub"), "a!"), 7)
	if n := msgs(t, st); n != 4 {
		t.Fatalf("after subject rollup: %d messages", n)
	}
	wantOK(t, pub(t, nc, "r.b", hdrs("Nats-Rollup", "all"), "b!"), 8)
	if n := msgs(t, st); n != 1 {
		t.Fatalf("after rollup all: %d messages", n)
	}
}

func TestPublishLimits(t *testing.T) {
	nc, js := setup(t)
	createStream(t, js, njs.StreamConfig{Name: "SZ", Subjects: []string{"sz"}, MaxMsgSize: 10})
	wantOK(t, pub(t, nc, "sz", nil, "0123456789"), 1)
	wantErr(t, pub(t, nc, "sz", nil, "0123456789A"), 10054, "message size exceeds maximum allowed")

	createStream(t, js, njs.StreamConfig{Name: "DM", Subjects: []string{"dm"}, MaxMsgs: 2, Discard: njs.DiscardNew})
	wantOK(t, pub(t, nc, "dm", nil, "1"), 1)
	wantOK(t, pub(t, nc, "dm", nil, "2"), 2)
	wantErr(t, pub(t, nc, "dm", nil, "3"), 10077, "maximum messages exceeded")

	createStream(t, js, njs.StreamConfig{Name: "DB", Subjects: []string{"db"}, MaxBytes: 100, Discard: njs.DiscardNew})
	wantOK(t, pub(t, nc, "db", nil, strings.Repeat("x", 40)), 1)
	wantErr(t, pub(t, nc, "db", nil, strings.Repeat("x", 40)), 10077, "maximum bytes exceeded")

	createStream(t, js, njs.StreamConfig{Name: "DP", Subjects: []string{"dp.*"}, MaxMsgsPerSubject: 1, Discard: njs.DiscardNew, DiscardNewPerSubject: true})
	wantOK(t, pub(t, nc, "dp.a", nil, "1"), 1)
	wantOK(t, pub(t, nc, "dp.b", nil, "1"), 2)
	wantErr(t, pub(t, nc, "dp.a", nil, "2"), 10077, "maximum messages per subject exceeded")

	createStream(t, js, njs.StreamConfig{Name: "FS", Subjects: []string{"fs"}, FirstSeq: 100})
	wantOK(t, pub(t, nc, "fs", nil, "1"), 100)

	// The transform applies before the checks: the expected subject
	// sequence looks at the stored subject.
	st := createStream(t, js, njs.StreamConfig{Name: "TR", Subjects: []string{"in.>"}, SubjectTransform: &njs.SubjectTransformConfig{Source: "in.>", Destination: "out.>"}})
	wantOK(t, pub(t, nc, "in.x", nil, "1"), 1)
	wantOK(t, pub(t, nc, "in.x", hdrs("Nats-Expected-Last-Subject-Sequence", "1"), "2"), 2)
	m, err := st.GetMsg(ctx(t), 2)
	if err != nil || m.Subject != "out.x" {
		t.Fatalf("transformed: %+v %v", m, err)
	}

	sealed := createStream(t, js, njs.StreamConfig{Name: "SE", Subjects: []string{"se"}})
	wantOK(t, pub(t, nc, "se", nil, "1"), 1)
	cfg := sealed.CachedInfo().Config
	cfg.Sealed = true
	if _, err := js.UpdateStream(ctx(t), cfg); err != nil {
		t.Fatal(err)
	}
	wantErr(t, pub(t, nc, "se", nil, "2"), 10109, "invalid operation on sealed stream")
}

func TestPublishRepublish(t *testing.T) {
	nc, js := setup(t)
	createStream(t, js, njs.StreamConfig{Name: "RP", Subjects: []string{"rp.>"}, RePublish: &njs.RePublish{Source: "rp.>", Destination: "out.>"}})
	createStream(t, js, njs.StreamConfig{Name: "RH", Subjects: []string{"rh.>"}, RePublish: &njs.RePublish{Destination: "hdr.>", HeadersOnly: true}})
	sub, err := nc.SubscribeSync("out.>")
	if err != nil {
		t.Fatal(err)
	}
	hsub, err := nc.SubscribeSync("hdr.>")
	if err != nil {
		t.Fatal(err)
	}
	wantOK(t, pub(t, nc, "rp.a", hdrs("X-Mine", "y"), "one"), 1)
	wantOK(t, pub(t, nc, "rp.a", nil, "two"), 2)
	for i, want := range []struct{ data, last string }{{"one", "0"}, {"two", "1"}} {
		m, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		seq := strconv.Itoa(i + 1)
		if m.Subject != "out.a" || string(m.Data) != want.data || m.Header.Get("Nats-Stream") != "RP" ||
			m.Header.Get("Nats-Subject") != "rp.a" || m.Header.Get("Nats-Sequence") != seq ||
			m.Header.Get("Nats-Last-Sequence") != want.last || m.Header.Get("Nats-Time-Stamp") == "" {
			t.Fatalf("republished %d: %s %q %v", i, m.Subject, m.Data, m.Header)
		}
		if _, err := time.Parse(time.RFC3339Nano, m.Header.Get("Nats-Time-Stamp")); err != nil {
			t.Fatal(err)
		}
		if i == 0 && m.Header.Get("X-Mine") != "y" {
			t.Fatalf("original header lost: %v", m.Header)
		}
	}
	wantOK(t, pub(t, nc, "rh.z", nil, "12345"), 1)
	m, err := hsub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "hdr.rh.z" || len(m.Data) != 0 || m.Header.Get("Nats-Msg-Size") != "5" {
		t.Fatalf("headers only: %s %q %v", m.Subject, m.Data, m.Header)
	}
}

func TestPublishMessageTTL(t *testing.T) {
	nc, js := setup(t)
	createStream(t, js, njs.StreamConfig{Name: "NOTTL", Subjects: []string{"nottl"}})
	wantErr(t, pub(t, nc, "nottl", hdrs("Nats-TTL", "5s"), ""), 10166, "per-message TTL is disabled")

	st := createStream(t, js, njs.StreamConfig{Name: "TTL", Subjects: []string{"ttl.>"}, AllowMsgTTL: true})
	for _, bad := range []string{"500ms", "0s", "-1", "abc", "1x"} {
		wantErr(t, pub(t, nc, "ttl.x", hdrs("Nats-TTL", bad), ""), 10165, "invalid per-message TTL")
	}
	wantOK(t, pub(t, nc, "ttl.keep", hdrs("Nats-TTL", "never"), "k"), 1)
	wantOK(t, pub(t, nc, "ttl.keep", hdrs("Nats-TTL", "1h"), "k"), 2)
	wantOK(t, pub(t, nc, "ttl.keep", hdrs("Nats-TTL", "3600"), "k"), 3)
	// nats.go's own option sends seconds.
	if _, err := js.Publish(ctx(t), "ttl.short", []byte("s"), njs.WithMsgTTL(time.Second)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the 1s message to expire", func() bool {
		_, err := st.GetLastMsgForSubject(ctx(t), "ttl.short")
		return errors.Is(err, njs.ErrMsgNotFound)
	})
	if n := msgs(t, st); n != 3 {
		t.Fatalf("%d messages left, want the 3 long-lived", n)
	}
}

func TestSubjectDeleteMarkers(t *testing.T) {
	nc, js := setup(t)
	wantCreateErr(t, js, njs.StreamConfig{Name: "X", Subjects: []string{"x"}, SubjectDeleteMarkerTTL: 500 * time.Millisecond}, 10052, "subject delete marker TTL must be at least 1 second")
	// A marker TTL turns on TTLs and rollups.
	st := createStream(t, js, njs.StreamConfig{Name: "M", Subjects: []string{"m.>"}, SubjectDeleteMarkerTTL: time.Second})
	if c := st.CachedInfo().Config; !c.AllowMsgTTL || !c.AllowRollup {
		t.Fatalf("config %+v", c)
	}
	wantOK(t, pub(t, nc, "m.a", hdrs("Nats-TTL", "1s"), "v"), 1)
	wantOK(t, pub(t, nc, "m.b", nil, "stays"), 2)
	var marker *njs.RawStreamMsg
	eventually(t, "the delete marker", func() bool {
		m, err := st.GetLastMsgForSubject(ctx(t), "m.a")
		if err == nil && m.Sequence > 1 {
			marker = m
			return true
		}
		return false
	})
	if marker.Header.Get("Nats-Marker-Reason") != "MaxAge" || marker.Header.Get("Nats-TTL") != "1s" ||
		marker.Header.Get("Nats-Rollup") != "sub" || len(marker.Data) != 0 {
		t.Fatalf("marker %+v", marker)
	}
	// The marker expires in turn, and leaves no marker behind.
	eventually(t, "the marker to expire", func() bool { return msgs(t, st) == 1 })
	info, err := st.Info(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.State.LastSeq != 3 {
		t.Fatalf("a marker of the marker: %+v", info.State)
	}

	// MaxAge leaves markers too.
	age := createStream(t, js, njs.StreamConfig{Name: "A", Subjects: []string{"a.>"}, MaxAge: time.Second, SubjectDeleteMarkerTTL: time.Second, Storage: njs.MemoryStorage})
	wantOK(t, pub(t, nc, "a.k", nil, "v1"), 1)
	wantOK(t, pub(t, nc, "a.k", nil, "v2"), 2)
	eventually(t, "the MaxAge marker", func() bool {
		m, err := age.GetLastMsgForSubject(ctx(t), "a.k")
		return err == nil && m.Sequence == 3 && m.Header.Get("Nats-Marker-Reason") == "MaxAge"
	})
	// A message TTL shorter than the marker TTL is raised to it.
	long := createStream(t, js, njs.StreamConfig{Name: "L", Subjects: []string{"l"}, SubjectDeleteMarkerTTL: time.Hour})
	wantOK(t, pub(t, nc, "l", hdrs("Nats-TTL", "1s"), "v"), 1)
	m, err := long.GetMsg(ctx(t), 1)
	if err != nil || m.Header.Get("Nats-TTL") != "1h0m0s" {
		t.Fatalf("raised TTL: %+v %v", m, err)
	}
}

func TestCounters(t *testing.T) {
	nc, js := setup(t)
	for _, c := range []struct {
		cfg  njs.StreamConfig
		desc string
	}{
		{njs.StreamConfig{Discard: njs.DiscardNew}, "counter stream cannot use discard new"},
		{njs.StreamConfig{AllowMsgTTL: true}, "counter stream cannot use message TTLs"},
		{njs.StreamConfig{Retention: njs.WorkQueuePolicy}, "counter stream can only use limits retention"},
	} {
		c.cfg.Name, c.cfg.Subjects, c.cfg.AllowMsgCounter = "BAD", []string{"bad"}, true
		wantCreateErr(t, js, c.cfg, 10052, c.desc)
	}
	createStream(t, js, njs.StreamConfig{Name: "PLAIN", Subjects: []string{"plain"}})
	wantErr(t, pub(t, nc, "plain", hdrs("Nats-Incr", "1"), ""), 10168, "message counters is disabled")

	st := createStream(t, js, njs.StreamConfig{Name: "C", Subjects: []string{"c.>"}, AllowMsgCounter: true})
	wantErr(t, pub(t, nc, "c.a", nil, ""), 10169, "message counter increment is missing")
	wantErr(t, pub(t, nc, "c.a", hdrs("Nats-Incr", "1"), "body"), 10170, "message counter has payload")
	wantErr(t, pub(t, nc, "c.a", hdrs("Nats-Incr", "one"), ""), 10171, "message counter increment is invalid")
	for _, k := range []string{"Nats-Rollup", "Nats-Expected-Last-Sequence", "Nats-Expected-Last-Subject-Sequence", "Nats-Expected-Stream", "Nats-Expected-Last-Msg-Id"} {
		wantErr(t, pub(t, nc, "c.a", hdrs("Nats-Incr", "1", k, "0"), ""), 10171, "message counter increment is invalid")
	}
	steps := []struct{ incr, val string }{
		{"+5", "5"}, {"-7", "-2"}, {"0", "-2"}, {"99999999999999999999999999", "99999999999999999999999997"}, {"3", "100000000000000000000000000"},
	}
	for i, s := range steps {
		p := pub(t, nc, "c.a", hdrs("Nats-Incr", s.incr), "")
		wantOK(t, p, uint64(i+1))
		if p.Val != s.val {
			t.Fatalf("incr %s: val %q, want %q", s.incr, p.Val, s.val)
		}
	}
	m, err := st.GetLastMsgForSubject(ctx(t), "c.a")
	if err != nil || string(m.Data) != `{"val":"100000000000000000000000000"}` || m.Header.Get("Nats-Incr") != "3" {
		t.Fatalf("stored counter %+v %v", m, err)
	}
	// Subjects count apart.
	if p := pub(t, nc, "c.b", hdrs("Nats-Incr", "2"), ""); p.Val != "2" {
		t.Fatalf("other subject %+v", p)
	}
}

// batchMsg publishes message seq of batch id; commit is "", "1" or "eob".
func batchMsg(id string, seq int, commit string, kv ...string) nats.Header {
	h := hdrs(kv...)
	h.Set("Nats-Batch-Id", id)
	h.Set("Nats-Batch-Sequence", strconv.Itoa(seq))
	if commit != "" {
		h.Set("Nats-Batch-Commit", commit)
	}
	return h
}

func TestAtomicBatch(t *testing.T) {
	nc, js := setup(t)
	plain := createStream(t, js, njs.StreamConfig{Name: "P", Subjects: []string{"p"}})
	wantErr(t, pub(t, nc, "p", batchMsg("b", 1, "1"), ""), 10174, "atomic publish is disabled")

	cfg := plain.CachedInfo().Config
	cfg.AllowAtomicPublish = true
	if _, err := js.UpdateStream(ctx(t), cfg); err != nil {
		t.Fatal(err)
	}
	wantErr(t, pub(t, nc, "p", hdrs("Nats-Batch-Id", "b"), ""), 10175, "atomic publish sequence is missing")
	wantErr(t, pub(t, nc, "p", batchMsg("b", 2, ""), ""), 10176, "atomic publish batch is incomplete")
	wantErr(t, pub(t, nc, "p", batchMsg(strings.Repeat("A", 65), 1, "1"), ""), 10179, "atomic publish batch ID is invalid")
	p := pub(t, nc, "p", batchMsg(strings.Repeat("A", 64), 1, "1"), "one")
	wantOK(t, p, 1)
	if p.Batch != strings.Repeat("A", 64) || p.Count != 1 {
		t.Fatalf("single batch %+v", p)
	}
	wantErr(t, pub(t, nc, "p", batchMsg("c", 1, "yes"), ""), 10200, "atomic publish batch commit is invalid")

	st := createStream(t, js, njs.StreamConfig{Name: "B", Subjects: []string{"b.>"}, AllowAtomicPublish: true})
	// Intermediate messages with a reply get an empty one; nothing is
	// stored before the commit.
	for i := 1; i <= 4; i++ {
		r := request(t, nc, fmt.Sprintf("b.%d", i), batchMsg("x", i, ""), strconv.Itoa(i))
		if len(r.Data) != 0 {
			t.Fatalf("intermediate ack %q", r.Data)
		}
	}
	if n := msgs(t, st); n != 0 {
		t.Fatalf("%d messages stored before the commit", n)
	}
	p = pub(t, nc, "b.5", batchMsg("x", 5, "1"), "5")
	wantOK(t, p, 5)
	if p.Batch != "x" || p.Count != 5 {
		t.Fatalf("commit ack %+v", p)
	}
	for i := 1; i <= 5; i++ {
		m, err := st.GetMsg(ctx(t), uint64(i))
		if err != nil || m.Subject != fmt.Sprintf("b.%d", i) || string(m.Data) != strconv.Itoa(i) {
			t.Fatalf("msg %d: %+v %v", i, m, err)
		}
	}

	// eob commits without storing the commit message.
	if err := nc.PublishMsg(&nats.Msg{Subject: "b.e", Header: batchMsg("e", 1, ""), Data: []byte("e1")}); err != nil {
		t.Fatal(err)
	}
	p = pub(t, nc, "b.e", batchMsg("e", 2, "eob"), "not stored")
	wantOK(t, p, 6)
	if p.Count != 1 || msgs(t, st) != 6 {
		t.Fatalf("eob %+v", p)
	}

	// A gap abandons the batch.
	if err := nc.PublishMsg(&nats.Msg{Subject: "b.g", Header: batchMsg("g", 1, "")}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, pub(t, nc, "b.g", batchMsg("g", 3, "1"), ""), 10176, "")
	wantErr(t, pub(t, nc, "b.g", batchMsg("g", 2, "1"), ""), 10176, "")

	// Unsupported headers fail the batch at its commit.
	if err := nc.PublishMsg(&nats.Msg{Subject: "b.u", Header: batchMsg("u", 1, "", "Nats-Msg-Id", "m")}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, pub(t, nc, "b.u", batchMsg("u", 2, "1"), ""), 10177, "atomic publish unsupported header used: Nats-Msg-Id")
	wantErr(t, pub(t, nc, "b.u", batchMsg("u2", 1, "1", "Nats-Expected-Last-Msg-Id", "m"), ""), 10177, "atomic publish unsupported header used: Nats-Expected-Last-Msg-Id")

	// All or nothing: a failed expectation in the third message leaves
	// the stream as it was.
	before := msgs(t, st)
	for i := 1; i <= 2; i++ {
		if err := nc.PublishMsg(&nats.Msg{Subject: "b.n", Header: batchMsg("n", i, "")}); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, pub(t, nc, "b.other", batchMsg("n", 3, "1", "Nats-Expected-Last-Subject-Sequence", "99"), ""), 10071, "wrong last sequence: 0")
	if n := msgs(t, st); n != before {
		t.Fatalf("failed batch stored something: %d -> %d", before, n)
	}
	// Only the first message may expect the last sequence.
	if r := request(t, nc, "b.n", batchMsg("n3", 1, "", "Nats-Expected-Last-Sequence", "6"), ""); len(r.Data) != 0 {
		t.Fatalf("staging with an expectation: %q", r.Data)
	}
	wantErr(t, pub(t, nc, "b.n", batchMsg("n3", 2, "1", "Nats-Expected-Last-Sequence", "6"), ""), 10164, "wrong last sequence")
	if n := msgs(t, st); n != before {
		t.Fatalf("failed batch stored something: %d -> %d", before, n)
	}
}

func TestAtomicBatchLimits(t *testing.T) {
	nc, js := setup(t)
	st := createStream(t, js, njs.StreamConfig{Name: "L", Subjects: []string{"l.>"}, AllowAtomicPublish: true, MaxMsgs: 3, Discard: njs.DiscardNew})
	for i := 1; i <= 3; i++ {
		if err := nc.PublishMsg(&nats.Msg{Subject: "l.x", Header: batchMsg("big", i, "")}); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, pub(t, nc, "l.x", batchMsg("big", 4, "1"), ""), 10077, "maximum messages exceeded")
	if n := msgs(t, st); n != 0 {
		t.Fatalf("a batch over discard new limits stored %d", n)
	}

	// Too large: the batch fails and the commit says so.
	wide := createStream(t, js, njs.StreamConfig{Name: "W", Subjects: []string{"w"}, AllowAtomicPublish: true, Storage: njs.MemoryStorage})
	for i := 1; i <= stream.MaxBatchSize+1; i++ {
		if err := nc.PublishMsg(&nats.Msg{Subject: "w", Header: batchMsg("w", i, "")}); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, pub(t, nc, "w", batchMsg("w", stream.MaxBatchSize+2, "1"), ""), 10199, "")
	if n := msgs(t, wide); n != 0 {
		t.Fatalf("too large batch stored %d", n)
	}

	// Counters add up inside a batch.
	createStream(t, js, njs.StreamConfig{Name: "CB", Subjects: []string{"cb"}, AllowAtomicPublish: true, AllowMsgCounter: true})
	for i := 1; i <= 2; i++ {
		if err := nc.PublishMsg(&nats.Msg{Subject: "cb", Header: batchMsg("c", i, "", "Nats-Incr", "10")}); err != nil {
			t.Fatal(err)
		}
	}
	p := pub(t, nc, "cb", batchMsg("c", 3, "1", "Nats-Incr", "1"), "")
	wantOK(t, p, 3)
	if p.Val != "21" || p.Count != 3 {
		t.Fatalf("counter batch %+v", p)
	}
}

func TestAtomicBatchTimeout(t *testing.T) {
	old := stream.BatchTimeout
	stream.BatchTimeout = 200 * time.Millisecond
	t.Cleanup(func() { stream.BatchTimeout = old })
	nc, js := setup(t)
	createStream(t, js, njs.StreamConfig{Name: "T", Subjects: []string{"t"}, AllowAtomicPublish: true})
	base := stream.InflightBatchesTotal()
	if err := nc.PublishMsg(&nats.Msg{Subject: "t", Header: batchMsg("slow", 1, "")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the batch to be staged", func() bool { return stream.InflightBatchesTotal() == base+1 })
	eventually(t, "the batch to be abandoned", func() bool { return stream.InflightBatchesTotal() == base })
	wantErr(t, pub(t, nc, "t", batchMsg("slow", 2, "1"), ""), 10176, "atomic publish batch is incomplete")
}

// TestNoAckUpdateRace publishes to a stream while its no_ack flag flips:
// the ack path reads the flag without the stream's lock (-race checks).
func TestNoAckUpdateRace(t *testing.T) {
	nc, js := setup(t)
	st := createStream(t, js, njs.StreamConfig{Name: "N", Subjects: []string{"n"}})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		cfg := st.CachedInfo().Config
		for i := range 20 {
			cfg.NoAck = i%2 == 0
			if _, err := js.UpdateStream(ctx(t), cfg); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 200 {
		if err := nc.PublishMsg(&nats.Msg{Subject: "n", Reply: nats.NewInbox(), Data: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	eventually(t, "every message stored", func() bool { return msgs(t, st) == 200 })
}
