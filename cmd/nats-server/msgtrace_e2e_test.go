package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// traceEvent is the part of a message trace event (ADR-41) the tests
// compare: what varies between runs and servers (times, cids, the
// server's identity) is left out.
type traceEvent struct {
	Server struct {
		Name string `json:"name"`
	} `json:"server"`
	Request struct {
		Header  map[string][]string `json:"header"`
		MsgSize int                 `json:"msgsize"`
	} `json:"request"`
	Hops   int `json:"hops"`
	Events []struct {
		Type    string    `json:"type"`
		Time    time.Time `json:"ts"`
		Kind    int       `json:"kind"`
		CID     uint64    `json:"cid"`
		Name    string    `json:"name"`
		Account string    `json:"acc"`
		Subject string    `json:"subj"`
		From    string    `json:"from"`
		To      string    `json:"to"`
		Sub     string    `json:"sub"`
		Queue   string    `json:"queue"`
		Hop     string    `json:"hop"`
		Error   string    `json:"error"`
		// JetStream ("js") events.
		Stream     string `json:"stream"`
		JSSubject  string `json:"subject"`
		NoInterest bool   `json:"nointerest"`
	} `json:"events"`
}

// summary renders e's events one per line, without times and cids.
func (e *traceEvent) summary() []string {
	var out []string
	for _, ev := range e.Events {
		line := ev.Type + " kind=" + strconv.Itoa(ev.Kind) + " name=" + ev.Name
		for _, kv := range [][2]string{{"acc", ev.Account}, {"subj", ev.Subject}, {"from", ev.From}, {"to", ev.To}, {"sub", ev.Sub}, {"queue", ev.Queue}, {"hop", ev.Hop}, {"error", ev.Error}, {"stream", ev.Stream}, {"subject", ev.JSSubject}} {
			if kv[1] != "" {
				line += " " + kv[0] + "=" + kv[1]
			}
		}
		if ev.NoInterest {
			line += " nointerest"
		}
		out = append(out, line)
	}
	return out
}

func nextTrace(t *testing.T, sub *nats.Subscription) *traceEvent {
	t.Helper()
	m, err := sub.NextMsg(5 * time.Second)
	require.NoError(t, err, "no trace event")
	var ev traceEvent
	require.NoError(t, json.Unmarshal(m.Data, &ev), "%s", m.Data)
	for _, e := range ev.Events {
		require.False(t, e.Time.IsZero(), "%s", m.Data)
	}
	return &ev
}

const msgTraceConf = `
mappings { orders.new: orders.in }
authorization {
  users: [
    {user: a, password: a}
    {user: l, password: l, permissions: {publish: ["orders.>", "trace.>"], subscribe: ">"}}
  ]
}
`

// runMsgTrace plays the single-server scenario against the server at url
// (natsd or upstream) and returns the trace events' summaries.
func runMsgTrace(t *testing.T, url string) [][]string {
	t.Helper()
	tr := servertest.ConnectWhenReady(t, url, nats.UserInfo("a", "a"), nats.Name("tracer"))
	events, err := tr.SubscribeSync("trace.dest")
	require.NoError(t, err)
	sub := servertest.ConnectWhenReady(t, url, nats.UserInfo("a", "a"), nats.Name("sub"))
	got, err := sub.SubscribeSync("orders.in")
	require.NoError(t, err)
	_, err = sub.QueueSubscribeSync("orders.in", "workers")
	require.NoError(t, err)
	require.NoError(t, sub.Flush())
	require.NoError(t, tr.Flush())
	pub := servertest.ConnectWhenReady(t, url, nats.UserInfo("l", "l"), nats.Name("pub"))
	var out [][]string

	// Traced and delivered, through the mapping.
	m := nats.NewMsg("orders.new")
	m.Header.Set("Nats-Trace-Dest", "trace.dest")
	m.Data = []byte("one")
	require.NoError(t, pub.PublishMsg(m))
	ev := nextTrace(t, events)
	require.Equal(t, map[string][]string{"Nats-Trace-Dest": {"trace.dest"}}, ev.Request.Header)
	require.Equal(t, 44, ev.Request.MsgSize)
	out = append(out, ev.summary())
	d, err := got.NextMsg(5 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "one", string(d.Data))

	// Trace only: the same events, no delivery (the next message the
	// subscriber gets is the marker published after it).
	m = nats.NewMsg("orders.new")
	m.Header.Set("Nats-Trace-Dest", "trace.dest")
	m.Header.Set("Nats-Trace-Only", "true")
	m.Data = []byte("two")
	require.NoError(t, pub.PublishMsg(m))
	out = append(out, nextTrace(t, events).summary())
	require.NoError(t, pub.Publish("orders.in", []byte("marker")))
	d, err = got.NextMsg(5 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "marker", string(d.Data))

	// A publish the permissions deny: the ingress says why.
	m = nats.NewMsg("denied.x")
	m.Header.Set("Nats-Trace-Dest", "trace.dest")
	require.NoError(t, pub.PublishMsg(m))
	out = append(out, nextTrace(t, events).summary())
	return out
}

var msgTraceWant = [][]string{
	{
		"in kind=0 name=pub acc=$G subj=orders.new",
		"sm kind=0 name= to=orders.in",
		"eg kind=0 name=sub sub=orders.in",
		"eg kind=0 name=sub sub=orders.in queue=workers",
	},
	{
		"in kind=0 name=pub acc=$G subj=orders.new",
		"sm kind=0 name= to=orders.in",
		"eg kind=0 name=sub sub=orders.in",
		"eg kind=0 name=sub sub=orders.in queue=workers",
	},
	{`in kind=0 name=pub acc=$G subj=denied.x error=Permissions Violation for Publish to "denied.x"`},
}

// TestMsgTraceSingleServer: a message with Nats-Trace-Dest makes natsd
// publish the trace event (ingress, subject mapping, one egress per
// subscription), Nats-Trace-Only withholds the message, a denied publish
// is traced with its error; the same as upstream's events when
// NATSD_UPSTREAM_SERVER is set.
func TestMsgTraceSingleServer(t *testing.T) {
	conf := writeFile(t, filepath.Join(t.TempDir(), "trace.conf"), msgTraceConf)
	p := start(t, "-c", conf)
	require.Equal(t, msgTraceWant, runMsgTrace(t, p.url()))

	if os.Getenv(servertest.UpstreamEnv) == "" {
		return
	}
	bin := servertest.UpstreamBinary(t)
	port := servertest.FreePorts(t, 1)[0]
	servertest.StartProcess(t, bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-c", conf)
	require.Equal(t, msgTraceWant, runMsgTrace(t, "nats://127.0.0.1:"+strconv.Itoa(port)), "upstream's events")
}

// TestMsgTraceAcrossRoute: the origin reports its route egress with hop
// "1" (and hops 1); the peer gets the message with Nats-Trace-Hop: 1 and
// publishes its own event (route ingress, client egress), which reaches
// the tracer on the origin.
func TestMsgTraceAcrossRoute(t *testing.T) {
	a := start(t, "-n", "A", "--cluster_name", "tr", "--cluster", "nats://127.0.0.1:-1")
	a.waitLog("Listening for route connections on 127.0.0.1:")
	b := start(t, "-n", "B", "--cluster_name", "tr", "--cluster", "nats://127.0.0.1:-1", "--routes", a.clusterURL())
	tr := a.connect(nats.Name("tracer"))
	events, err := tr.SubscribeSync("trace.dest")
	require.NoError(t, err)
	require.NoError(t, tr.Flush())
	remote := b.connect(nats.Name("remote"))
	got, err := remote.SubscribeSync("x.>")
	require.NoError(t, err)
	require.NoError(t, remote.Flush())
	pub := a.connect(nats.Name("pub"))
	// Interest crosses the route asynchronously: publish until the
	// remote subscriber gets a plain message.
	var m *nats.Msg
	for i := 0; i < 100 && m == nil; i++ {
		require.NoError(t, pub.Publish("x.warm", nil))
		m, _ = got.NextMsg(50 * time.Millisecond)
	}
	require.NotNil(t, m, "no route")
	for m != nil {
		m, _ = got.NextMsg(50 * time.Millisecond) // the other warm-ups
	}
	// The trace events reach the tracer's server from B over the route
	// too: wait until B knows of the tracer's interest.
	bc := b.connect()
	var w *nats.Msg
	for i := 0; i < 100 && w == nil; i++ {
		require.NoError(t, bc.Publish("trace.dest", []byte("warm")))
		w, _ = events.NextMsg(50 * time.Millisecond)
	}
	require.NotNil(t, w, "no interest in trace.dest on B")
	for w != nil {
		w, _ = events.NextMsg(50 * time.Millisecond)
	}

	tm := nats.NewMsg("x.y")
	tm.Header.Set("Nats-Trace-Dest", "trace.dest")
	tm.Data = []byte("hi")
	require.NoError(t, pub.PublishMsg(tm))
	byServer := map[string]*traceEvent{}
	for range 2 {
		ev := nextTrace(t, events)
		byServer[ev.Server.Name] = ev
	}
	require.Len(t, byServer, 2)
	require.Equal(t, 1, byServer["A"].Hops)
	require.Equal(t, []string{"in kind=0 name=pub acc=$G subj=x.y", "eg kind=1 name=B hop=1"}, byServer["A"].summary())
	require.Equal(t, []string{"trace.dest"}, byServer["B"].Request.Header["Nats-Trace-Dest"])
	require.Equal(t, []string{"1"}, byServer["B"].Request.Header["Nats-Trace-Hop"])
	require.Equal(t, []string{"in kind=1 name=A acc=$G subj=x.y", "eg kind=0 name=remote sub=x.>"}, byServer["B"].summary())
	d, err := got.NextMsg(5 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "hi", string(d.Data))

	// The nats CLI's "nats trace" reads both servers' events.
	if os.Getenv(natsCLIEnv) == "" {
		return
	}
	out := newNatsCLI(t, natsCLIBinary(t), a).run("trace", "x.cli", "hello")
	for _, want := range []string{
		`server:"A"`, `--> Router "B" rid:`, `Router "A" rid:`, `server:"B"`,
		`--C Client "remote" cid:`, `subject:"x.>"`, "Router: 1", "Client: 1",
	} {
		require.Contains(t, out, want)
	}
	// Without --deliver the CLI traces only: the next message the
	// remote subscriber gets is the marker published after it.
	require.NoError(t, pub.Publish("x.marker", nil))
	d, err = got.NextMsg(5 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "x.marker", d.Subject)
}

const msgTraceAccountsConf = `
accounts {
  A: { users: [{user: a, password: a}], exports: [{stream: "ev.>"}, {service: "svc.>"}] }
  B: {
    users: [{user: b, password: b}]
    imports: [{stream: {account: A, subject: "ev.>"}}, {service: {account: A, subject: "svc.>"}, to: "bsvc.>"}]
  }
}
`

// runMsgTraceAccounts traces a stream export and a service import at the
// server at url: each trace ends at the account boundary with an "se" or
// "si" event; the stream's importer gets the message as published, the
// service's exporter with Nats-Trace-Dest "trace disabled".
func runMsgTraceAccounts(t *testing.T, url string) [][]string {
	t.Helper()
	a := servertest.ConnectWhenReady(t, url, nats.UserInfo("a", "a"), nats.Name("a"))
	b := servertest.ConnectWhenReady(t, url, nats.UserInfo("b", "b"), nats.Name("b"))
	trA, err := a.SubscribeSync("tr")
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

	m := nats.NewMsg("ev.x")
	m.Header.Set("Nats-Trace-Dest", "tr")
	m.Data = []byte("ev")
	require.NoError(t, a.PublishMsg(m))
	out = append(out, nextTrace(t, trA).summary())
	got, err := evs.NextMsg(5 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "tr", got.Header.Get("Nats-Trace-Dest"))

	m = nats.NewMsg("bsvc.x")
	m.Header.Set("Nats-Trace-Dest", "tr")
	m.Reply = "rep"
	m.Data = []byte("req")
	require.NoError(t, b.PublishMsg(m))
	out = append(out, nextTrace(t, trB).summary())
	got, err = svc.NextMsg(5 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "trace disabled", got.Header.Get("Nats-Trace-Dest"))
	return out
}

var msgTraceAccountsWant = [][]string{
	{"in kind=0 name=a acc=A subj=ev.x", "se kind=0 name= acc=B to=ev.x"},
	{"in kind=0 name=b acc=B subj=bsvc.x", "si kind=0 name= acc=A from=bsvc.x to=svc.x"},
}

// TestMsgTraceAccountBoundary: a trace ends where the message crosses
// into another account without allow_trace, as upstream's does; the same events as upstream's when
// NATSD_UPSTREAM_SERVER is set.
func TestMsgTraceAccountBoundary(t *testing.T) {
	conf := writeFile(t, filepath.Join(t.TempDir(), "acc.conf"), msgTraceAccountsConf)
	p := start(t, "-c", conf)
	require.Equal(t, msgTraceAccountsWant, runMsgTraceAccounts(t, p.url()))

	if os.Getenv(servertest.UpstreamEnv) == "" {
		return
	}
	bin := servertest.UpstreamBinary(t)
	port := servertest.FreePorts(t, 1)[0]
	servertest.StartProcess(t, bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-c", conf)
	require.Equal(t, msgTraceAccountsWant, runMsgTraceAccounts(t, "nats://127.0.0.1:"+strconv.Itoa(port)), "upstream's events")
}
