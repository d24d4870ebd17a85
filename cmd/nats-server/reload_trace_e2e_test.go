package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// reloadTraceConf is account A with trace and A's msg_trace set by a
// reload (@TRACE@, @MSGTRACE@); debug logs each connection, the marker
// that ends a check for absent trace lines.
const reloadTraceConf = `
debug: true
trace: @TRACE@
accounts {
  A: {
    users: [{user: a, password: a}]
    @MSGTRACE@
  }
}
`

func reloadTraceText(trace, msgTrace bool) string {
	r := strings.NewReplacer("@TRACE@", "false", "@MSGTRACE@", "")
	if trace {
		r = strings.NewReplacer("@TRACE@", "true", "@MSGTRACE@", "")
	}
	text := r.Replace(reloadTraceConf)
	if msgTrace {
		text = strings.Replace(text, "users: [{user: a, password: a}]", "users: [{user: a, password: a}]\n    msg_trace: {dest: \"a.trace\", sampling: 100}", 1)
	}
	return text
}

// publishTraced publishes a message with a sampled traceparent, then
// one that names a.trace as its trace destination, and returns the
// ingress subject of the first trace event a.trace gets: "tp" when the
// account's msg_trace traced the first, "dest" otherwise.
func publishTraced(t *testing.T, nc *nats.Conn, atr *nats.Subscription) string {
	t.Helper()
	m := nats.NewMsg("tp")
	m.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	require.NoError(t, nc.PublishMsg(m))
	m = nats.NewMsg("dest")
	m.Header.Set("Nats-Trace-Dest", "a.trace")
	require.NoError(t, nc.PublishMsg(m))
	ev := nextTrace(t, atr)
	for _, e := range ev.Events {
		if e.Type == "in" {
			return e.Subject
		}
	}
	t.Fatalf("no ingress event: %v", ev.summary())
	return ""
}

// markLog connects a client and waits for its connection's debug line,
// so that every line the server logged before is in p.log.
func markLog(t *testing.T, p *proc) {
	t.Helper()
	before := strings.Count(p.log.String(), "Client connection created")
	nc := p.connect(nats.UserInfo("a", "a"))
	nc.Close()
	servertest.WaitUntil(t, "the marker connection", func() bool {
		return strings.Count(p.log.String(), "Client connection created") > before
	})
}

// A reload that turns trace on traces the connections already up, and
// one that sets an account's msg_trace traces its connections already
// up; reloads that turn them off stop both.
func TestReloadTraceAppliesToConnectionsUp(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "trace.conf")
	writeFile(t, conf, reloadTraceText(false, false))
	p := start(t, "-c", conf)
	nc := p.connect(nats.UserInfo("a", "a"))
	atr, err := nc.SubscribeSync("a.trace")
	require.NoError(t, err)
	require.NoError(t, nc.Publish("before.reload", nil))
	require.NoError(t, nc.Flush())
	require.Equal(t, "dest", publishTraced(t, nc, atr), "traced without msg_trace")

	p.reload(conf, reloadTraceText(true, true), 1)
	p.waitLog("Reloaded: trace = true")
	p.waitLog("Reloaded: accounts")
	require.NoError(t, nc.Publish("after.reload", nil))
	require.NoError(t, nc.Flush())
	p.waitLog("<<- [PUB after.reload 0]")
	require.Equal(t, "tp", publishTraced(t, nc, atr), "msg_trace not applied to a connection made before the reload")
	nextTrace(t, atr) // the event of "dest"
	require.NotContains(t, p.log.String(), "before.reload")

	p.reload(conf, reloadTraceText(false, false), 2)
	p.waitLog("Reloaded: trace = false")
	require.NoError(t, nc.Publish("off.reload", nil))
	require.NoError(t, nc.Flush())
	require.Equal(t, "dest", publishTraced(t, nc, atr), "msg_trace still applied after its removal")
	markLog(t, p)
	require.NotContains(t, p.log.String(), "off.reload")
}
