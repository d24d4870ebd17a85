package main

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
)

// TestJetStreamAnswersMatchUpstream sends the same JetStream API calls to
// the built binary and to upstream's (NATSD_UPSTREAM_SERVER) and compares
// the answers field for field, leaving out what differs by nature (times,
// server names, random consumer names, the server's version and API
// level values).
func TestJetStreamAnswersMatchUpstream(t *testing.T) {
	up := os.Getenv("NATSD_UPSTREAM_SERVER")
	if up == "" {
		t.Skip("NATSD_UPSTREAM_SERVER is not set")
	}
	ours := startBinary(t, binary, "-js", "-sd", t.TempDir()).connect()
	theirs := startBinary(t, up, "-js", "-sd", t.TempDir()).connect()
	calls := []struct{ subj, body string }{
		{"STREAM.CREATE.A", ``},
		{"STREAM.CREATE.A", `{}`},
		{"STREAM.UPDATE.A", ``},
		{"STREAM.UPDATE.A", `{"name":"X"}`},
		{"STREAM.CREATE.A", `{"name":"A","subjects":["a.>"],"metadata":{"_nats.level":"9","k":"v"}}`},
		{"STREAM.CREATE.A", `{"name":"A","subjects":["a.>"],"metadata":{"_nats.req.level":"0","_nats.ver":"x","k":"v"}}`},
		{"STREAM.UPDATE.A", `{"name":"A","subjects":["a.>"],"allow_msg_ttl":true,"metadata":{"k":"v"}}`},
		{"STREAM.CREATE.C", `{"name":"C","subjects":["c"],"allow_msg_counter":true}`},
		{"STREAM.CREATE.B", `{"name":"B","subjects":["b"],"allow_atomic":true,"persist_mode":"async"}`},
		{"STREAM.INFO.A", ``},
		{"STREAM.INFO.A", `{"subjects_filter":"nomatch","offset":5}`},
		{"STREAM.LIST", ``},
		// Unnamed (on another stream than the listed one: random names).
		{"CONSUMER.CREATE.C", `{"stream_name":"C","config":{"ack_policy":"explicit"}}`},
		{"CONSUMER.CREATE.A.E", `{"stream_name":"A","config":{"ack_policy":"explicit","inactive_threshold":5000000000}}`},
		{"CONSUMER.CREATE.A.F.a.x", `{"stream_name":"A","config":{"ack_policy":"explicit"}}`},
		{"CONSUMER.CREATE.A.F.a.x", `{"stream_name":"A","config":{"ack_policy":"explicit","filter_subject":"a.x"}}`},
		{"CONSUMER.DURABLE.CREATE.A.D", `{"stream_name":"A","config":{"durable_name":"D","ack_policy":"explicit","metadata":{"_nats.ver":"1","x":"y"}}}`},
		{"CONSUMER.DURABLE.CREATE.A.D", `{"stream_name":"A","config":{"durable_name":"D","ack_policy":"explicit","metadata":{"_nats.req.level":"0","x":"y"}},"action":"create"}`},
		{"CONSUMER.CREATE.A.O", `{"stream_name":"A","config":{"name":"O","ack_policy":"explicit","priority_policy":"overflow","priority_groups":["g","h"]}}`},
		{"CONSUMER.CREATE.A.P", `{"stream_name":"A","config":{"name":"P","ack_policy":"explicit","priority_policy":"pinned_client","priority_groups":["g"],"priority_timeout":60000000000}}`},
		{"CONSUMER.CREATE.A.Z", `{"stream_name":"A","config":{"name":"Z","ack_policy":"explicit","priority_policy":"prioritized","priority_groups":["g"]}}`},
		{"CONSUMER.INFO.A.D", ``},
		{"CONSUMER.INFO.A.O", ``},
		{"CONSUMER.LIST.A", ``},
		{"CONSUMER.RESET.A.D", `{bad`},
		{"CONSUMER.RESET.A.D", `{"seq":1}`},
	}
	for _, c := range calls {
		a, b := apiAnswer(t, theirs, c.subj, c.body), apiAnswer(t, ours, c.subj, c.body)
		require.Equal(t, a, b, "%s %s", c.subj, c.body)
	}
	// No answer from either for a reset of what does not exist: each
	// answers the call after it first.
	for _, subj := range []string{"CONSUMER.RESET.A.nope", "CONSUMER.RESET.NOPE.D", "CONSUMER.RESET.A"} {
		for _, nc := range []*nats.Conn{theirs, ours} {
			inbox := nc.NewRespInbox()
			sub, err := nc.SubscribeSync(inbox + ".*")
			require.NoError(t, err)
			require.NoError(t, nc.PublishRequest("$JS.API."+subj, inbox+".reset", nil))
			require.NoError(t, nc.PublishRequest("$JS.API.CONSUMER.INFO.A.D", inbox+".info", nil))
			m, err := sub.NextMsg(5 * time.Second)
			require.NoError(t, err)
			require.Equal(t, inbox+".info", m.Subject, subj)
			require.NoError(t, sub.Unsubscribe())
		}
	}
}

// apiAnswer sends a JetStream API call and returns its answer without
// the fields that differ by nature between two servers.
func apiAnswer(t *testing.T, nc *nats.Conn, subj, body string) any {
	t.Helper()
	m, err := nc.Request("$JS.API."+subj, []byte(body), 5*time.Second)
	require.NoError(t, err, subj)
	var v any
	require.NoError(t, json.Unmarshal(m.Data, &v), "%s: %s", subj, m.Data)
	return scrub(v, "")
}

func scrub(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			switch k {
			case "ts", "created", "leader", "last_active", "first_ts", "last_ts", "pinned_ts", "pause_remaining":
				out[k] = "-"
				continue
			case "_nats.ver", "_nats.level":
				out[k] = "server's"
				continue
			case "name":
				// An unnamed ephemeral's random name.
				if s, ok := e.(string); ok && len(s) == 8 && key == "" {
					out[k] = "random"
					continue
				}
			}
			out[k] = scrub(e, k)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = scrub(e, key)
		}
		return out
	}
	return v
}
