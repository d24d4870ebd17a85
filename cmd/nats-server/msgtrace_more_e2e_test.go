package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// msgTraceMoreConf: a stream import and a service export that allow
// tracing, account A's msg_trace (traceparent activation) and
// JetStream in A. @DIR@ is the store directory.
const msgTraceMoreConf = `
jetstream { store_dir: "@DIR@" }
accounts {
  A: {
    jetstream: enabled
    users: [{user: a, password: a}]
    exports: [{stream: "ev.>"}, {service: "svc.>", allow_trace: true}]
    msg_trace: {dest: "a.trace", sampling: "100%"}
  }
  B: {
    users: [{user: b, password: b}]
    imports: [{stream: {account: A, subject: "ev.>"}, allow_trace: true}, {service: {account: A, subject: "svc.>"}, to: "bsvc.>"}]
  }
}
`

// runMsgTraceMore plays the scenario of msgTraceMoreConf against the
// server at url and returns the events' summaries.
func runMsgTraceMore(t *testing.T, url string) [][]string {
	t.Helper()
	a := servertest.ConnectWhenReady(t, url, nats.UserInfo("a", "a"), nats.Name("a"))
	b := servertest.ConnectWhenReady(t, url, nats.UserInfo("b", "b"), nats.Name("b"))
	trA, err := a.SubscribeSync("tr")
	require.NoError(t, err)
	atr, err := a.SubscribeSync("a.trace")
	require.NoError(t, err)
	svc, err := a.SubscribeSync("svc.>")
	require.NoError(t, err)
	trB, err := b.SubscribeSync("tr")
	require.NoError(t, err)
	evs, err := b.SubscribeSync("ev.>")
	require.NoError(t, err)
	require.NoError(t, a.Flush())
	require.NoError(t, b.Flush())
	var out [][]string

	// The stream import allows the trace: it goes on into B.
	m := nats.NewMsg("ev.x")
	m.Header.Set("Nats-Trace-Dest", "tr")
	require.NoError(t, a.PublishMsg(m))
	out = append(out, nextTrace(t, trA).summary())
	_, err = evs.NextMsg(5 * time.Second)
	require.NoError(t, err)

	// The service export allows it: it goes on into A, whose
	// subscriber sees a trace destination that leads back to B's.
	m = nats.NewMsg("bsvc.x")
	m.Header.Set("Nats-Trace-Dest", "tr")
	m.Reply = "rep"
	require.NoError(t, b.PublishMsg(m))
	out = append(out, nextTrace(t, trB).summary())
	got, err := svc.NextMsg(5 * time.Second)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(got.Header.Get("Nats-Trace-Dest"), "_R_."), "%v", got.Header)

	// A traceparent that is not sampled traces nothing (the next event
	// is the sampled one's); a sampled one traces to A's msg_trace dest.
	m = nats.NewMsg("ev.no")
	m.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00")
	require.NoError(t, a.PublishMsg(m))
	m = nats.NewMsg("ev.tp")
	m.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	require.NoError(t, a.PublishMsg(m))
	ev := nextTrace(t, atr)
	require.Equal(t, map[string][]string{"traceparent": {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}, ev.Request.Header)
	out = append(out, ev.summary())

	// Compressed events, as Accept-Encoding asks.
	for _, enc := range []string{"gzip", "snappy", "s2"} {
		m = nats.NewMsg("nobody")
		m.Header.Set("Nats-Trace-Dest", "tr")
		m.Header.Set("Accept-Encoding", enc)
		require.NoError(t, a.PublishMsg(m))
		r, err := trA.NextMsg(5 * time.Second)
		require.NoError(t, err)
		var zr io.Reader
		switch ce := r.Header.Get("Content-Encoding"); ce {
		case "gzip":
			zr, err = gzip.NewReader(bytes.NewReader(r.Data))
			require.NoError(t, err)
		case "snappy":
			zr = s2.NewReader(bytes.NewReader(r.Data))
		default:
			t.Fatalf("Accept-Encoding %s: Content-Encoding %q", enc, ce)
		}
		plain, err := io.ReadAll(zr)
		require.NoError(t, err, enc)
		var tev traceEvent
		require.NoError(t, json.Unmarshal(plain, &tev), "%s", plain)
		out = append(out, append([]string{enc + " " + r.Header.Get("Content-Encoding")}, tev.summary()...))
	}

	// JetStream: a stream stores the traced message and says so; an
	// interest stream without consumers keeps nothing; trace only, the
	// stream reports and does not store.
	js, err := jetstream.New(a)
	require.NoError(t, err)
	ctx := t.Context()
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ST", Subjects: []string{"js.>"}, Storage: jetstream.MemoryStorage})
	require.NoError(t, err)
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "IN", Subjects: []string{"ji.>"}, Storage: jetstream.MemoryStorage, Retention: jetstream.InterestPolicy})
	require.NoError(t, err)
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "D", Subjects: []string{"jd.>"}, Storage: jetstream.MemoryStorage, MaxMsgs: 1, Discard: jetstream.DiscardNew})
	require.NoError(t, err)
	for _, p := range []struct{ subj, only string }{{"js.x", ""}, {"ji.x", ""}, {"js.y", "true"}, {"jd.x", ""}, {"jd.x", ""}} {
		m = nats.NewMsg(p.subj)
		m.Header.Set("Nats-Trace-Dest", "tr")
		if p.only != "" {
			m.Header.Set("Nats-Trace-Only", p.only)
		}
		require.NoError(t, a.PublishMsg(m))
		out = append(out, nextTrace(t, trA).summary())
	}
	info, err := st.Info(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, info.State.Msgs, "trace only stored nothing")
	return out
}

var msgTraceMoreWant = [][]string{
	{"in kind=0 name=a acc=A subj=ev.x", "se kind=0 name= acc=B to=ev.x", "eg kind=0 name=b acc=B sub=ev.>"},
	{"in kind=0 name=b acc=B subj=bsvc.x", "si kind=0 name= acc=A from=bsvc.x to=svc.x", "eg kind=0 name=a acc=A sub=svc.>"},
	{"in kind=0 name=a acc=A subj=ev.tp", "se kind=0 name= acc=B to=ev.tp", "eg kind=0 name=b acc=B sub=ev.>"},
	{"gzip gzip", "in kind=0 name=a acc=A subj=nobody"},
	{"snappy snappy", "in kind=0 name=a acc=A subj=nobody"},
	{"s2 snappy", "in kind=0 name=a acc=A subj=nobody"},
	{"in kind=0 name=a acc=A subj=js.x", "js kind=0 name= stream=ST subject=js.x"},
	{"in kind=0 name=a acc=A subj=ji.x", "js kind=0 name= stream=IN subject=ji.x nointerest"},
	{"in kind=0 name=a acc=A subj=js.y", "js kind=0 name= stream=ST subject=js.y"},
	{"in kind=0 name=a acc=A subj=jd.x", "js kind=0 name= stream=D subject=jd.x"},
	{"in kind=0 name=a acc=A subj=jd.x", "js kind=0 name= error=maximum messages exceeded stream=D subject=jd.x"},
}

// TestMsgTraceAllowTraceSamplingJetStream: allow_trace lets a trace go
// on across a stream import and a service export, an account's
// msg_trace traces sampled traceparent messages, Accept-Encoding
// compresses the events (gzip, snappy), and streams report "js" events
// (with the error of a refused store);
// the same events as upstream's when NATSD_UPSTREAM_SERVER is set.
func TestMsgTraceAllowTraceSamplingJetStream(t *testing.T) {
	conf := func() string {
		dir := t.TempDir()
		return writeFile(t, filepath.Join(dir, "more.conf"), strings.ReplaceAll(msgTraceMoreConf, "@DIR@", dir))
	}
	p := start(t, "-c", conf())
	require.Equal(t, msgTraceMoreWant, runMsgTraceMore(t, p.url()))

	if os.Getenv(servertest.UpstreamEnv) == "" {
		return
	}
	u := startBinary(t, servertest.UpstreamBinary(t), "-c", conf())
	require.Equal(t, msgTraceMoreWant, runMsgTraceMore(t, u.url()), "upstream's events")
}

// TestMsgTraceTraceParentAcrossRoute: a sampled traceparent message of
// an account with msg_trace crosses a route with its traceparent and
// Nats-Trace-Hop only (as upstream's); the peer, whose account has the
// msg_trace, publishes its own event: without sampling it again (B
// samples 1% of what it does not get with a hop). With
// NATSD_UPSTREAM_SERVER set, again with upstream's binary as B.
func TestMsgTraceTraceParentAcrossRoute(t *testing.T) {
	t.Run("natsd", func(t *testing.T) { runTraceParentAcrossRoute(t, binary) })
	if os.Getenv(servertest.UpstreamEnv) != "" {
		t.Run("upstream peer", func(t *testing.T) { runTraceParentAcrossRoute(t, servertest.UpstreamBinary(t)) })
	}
}

func runTraceParentAcrossRoute(t *testing.T, peer string) {
	dir := t.TempDir()
	confA := writeFile(t, filepath.Join(dir, "a.conf"),
		`accounts { A: { users: [{user: a, password: a}], msg_trace: {dest: "a.trace"} } }`+"\n")
	confB := writeFile(t, filepath.Join(dir, "b.conf"),
		`accounts { A: { users: [{user: a, password: a}], msg_trace: {dest: "a.trace", sampling: 1} } }`+"\n")
	a := start(t, "-c", confA, "-n", "A", "--cluster_name", "tp", "--cluster", "nats://127.0.0.1:-1")
	a.waitLog("Listening for route connections on 127.0.0.1:")
	b := startBinary(t, peer, "-c", confB, "-n", "B", "--cluster_name", "tp", "--cluster", "nats://127.0.0.1:-1", "--routes", a.clusterURL())
	user := nats.UserInfo("a", "a")
	tr := a.connect(user, nats.Name("tracer"))
	events, err := tr.SubscribeSync("a.trace")
	require.NoError(t, err)
	require.NoError(t, tr.Flush())
	remote := b.connect(user, nats.Name("remote"))
	got, err := remote.SubscribeSync("x.>")
	require.NoError(t, err)
	require.NoError(t, remote.Flush())
	pub := a.connect(user, nats.Name("pub"))
	// Interest crosses the route asynchronously, both ways.
	var m *nats.Msg
	for i := 0; i < 100 && m == nil; i++ {
		require.NoError(t, pub.Publish("x.warm", nil))
		m, _ = got.NextMsg(50 * time.Millisecond)
	}
	require.NotNil(t, m, "no route")
	for m != nil {
		m, _ = got.NextMsg(50 * time.Millisecond)
	}
	bc := b.connect(user)
	var w *nats.Msg
	for i := 0; i < 100 && w == nil; i++ {
		require.NoError(t, bc.Publish("a.trace", []byte("warm")))
		w, _ = events.NextMsg(50 * time.Millisecond)
	}
	require.NotNil(t, w, "no interest in a.trace on B")
	for w != nil {
		w, _ = events.NextMsg(50 * time.Millisecond)
	}

	tm := nats.NewMsg("x.y")
	tm.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	require.NoError(t, pub.PublishMsg(tm))
	byServer := map[string]*traceEvent{}
	for range 2 {
		ev := nextTrace(t, events)
		byServer[ev.Server.Name] = ev
	}
	require.Len(t, byServer, 2)
	require.Equal(t, []string{"in kind=0 name=pub acc=A subj=x.y", "eg kind=1 name=B hop=1"}, byServer["A"].summary())
	require.Equal(t, []string{"1"}, byServer["B"].Request.Header["Nats-Trace-Hop"])
	require.Nil(t, byServer["B"].Request.Header["Nats-Trace-Dest"])
	require.Equal(t, []string{"in kind=1 name=A acc=A subj=x.y", "eg kind=0 name=remote sub=x.>"}, byServer["B"].summary())
}
