package jetstream_test

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// apiCall sends body to $JS.API.<subj> and decodes the answer.
func apiCall(t *testing.T, nc *nats.Conn, subj, body string) map[string]any {
	t.Helper()
	m, err := nc.Request("$JS.API."+subj, []byte(body), 5*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", subj, err)
	}
	var r map[string]any
	if err := json.Unmarshal(m.Data, &r); err != nil {
		t.Fatalf("%s: %v: %s", subj, err, m.Data)
	}
	return r
}

func apiErr(t *testing.T, r map[string]any, code float64, desc string) {
	t.Helper()
	e, _ := r["error"].(map[string]any)
	if e == nil || e["err_code"] != code || e["description"] != desc {
		t.Fatalf("got %v, want %v %q", r, code, desc)
	}
}

// metadata returns the answer's config metadata (of r["config"]).
func metadata(t *testing.T, r map[string]any) map[string]any {
	t.Helper()
	if r["error"] != nil {
		t.Fatalf("error answer: %v", r)
	}
	cfg, _ := r["config"].(map[string]any)
	if cfg == nil {
		t.Fatalf("no config: %v", r)
	}
	m, _ := cfg["metadata"].(map[string]any)
	return m
}

// hosting checks the ADR-44 keys of a create, update or info answer.
func hosting(t *testing.T, m map[string]any, req string) {
	t.Helper()
	if m["_nats.req.level"] != req || m["_nats.ver"] != server.Version || m["_nats.level"] != strconv.Itoa(jetstream.APILevel) {
		t.Fatalf("metadata %v, want required level %s", m, req)
	}
}

// TestStreamAnswersAsUpstream: the stream API's answers have the shape
// of upstream 2.15.2's (checked against its binary): the body must name
// the stream, ADR-44 metadata, did_create, and cluster information only
// in STREAM.INFO.
func TestStreamAnswersAsUpstream(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)

	for _, body := range []string{``, ` `, `{}`, `null`, `{"subjects":["e"]}`} {
		apiErr(t, apiCall(t, nc, "STREAM.CREATE.E", body), 10056, "stream name in subject does not match request")
	}
	const noName = `stream name is required and can not contain '.', '*', '>', '\', '/'`
	apiErr(t, apiCall(t, nc, "STREAM.UPDATE.E", ``), 10052, noName)
	apiErr(t, apiCall(t, nc, "STREAM.UPDATE.E", `{}`), 10052, noName)
	apiErr(t, apiCall(t, nc, "STREAM.UPDATE.E", `{"name":"X"}`), 10056, "stream name in subject does not match request")

	// Create: the server's keys replace those a request brings; the
	// answer has did_create and no paging or cluster.
	r := apiCall(t, nc, "STREAM.CREATE.S", `{"name":"S","subjects":["s.>"],"metadata":{"_nats.level":"9","_nats.ver":"x","k":"v"}}`)
	m := metadata(t, r)
	hosting(t, m, "0")
	if m["k"] != "v" || len(m) != 4 {
		t.Fatalf("metadata %v", m)
	}
	for _, k := range []string{"total", "offset", "limit", "cluster"} {
		if _, ok := r[k]; ok {
			t.Fatalf("create answer has %s: %v", k, r)
		}
	}
	if r["did_create"] != true || r["config"].(map[string]any)["allow_msg_ttl"] != false {
		t.Fatalf("create answer: %v", r)
	}
	// The answer's configuration sent back is the same configuration.
	back, err := json.Marshal(r["config"])
	if err != nil {
		t.Fatal(err)
	}
	if r := apiCall(t, nc, "STREAM.CREATE.S", string(back)); r["error"] != nil || r["did_create"] != true {
		t.Fatalf("create again with the answer's config: %v", r)
	}
	// Update: no paging, no cluster, the level follows the features.
	r = apiCall(t, nc, "STREAM.UPDATE.S", `{"name":"S","subjects":["s.>"],"allow_msg_ttl":true,"metadata":{"k":"v"}}`)
	hosting(t, metadata(t, r), "1")
	for _, k := range []string{"total", "cluster", "did_create"} {
		if _, ok := r[k]; ok {
			t.Fatalf("update answer has %s: %v", k, r)
		}
	}
	r = apiCall(t, nc, "STREAM.CREATE.C", `{"name":"C","subjects":["c"],"allow_msg_counter":true}`)
	hosting(t, metadata(t, r), "2")
	// Info: paging and the leader (without leader_since).
	r = apiCall(t, nc, "STREAM.INFO.S", ``)
	hosting(t, metadata(t, r), "1")
	cl, _ := r["cluster"].(map[string]any)
	if _, ok := r["total"]; !ok || cl == nil || cl["leader"] != s.Name() || len(cl) != 1 {
		t.Fatalf("info answer: %v", r)
	}
	// Subject paging only when a subject matches.
	if _, err := nc.Request("s.1", []byte("x"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	r = apiCall(t, nc, "STREAM.INFO.S", `{"subjects_filter":"nomatch","offset":5}`)
	if r["total"] != float64(0) || r["offset"] != float64(0) || r["limit"] != float64(0) {
		t.Fatalf("info, no subject matching: %v", r)
	}
	r = apiCall(t, nc, "STREAM.INFO.S", `{"subjects_filter":">"}`)
	if r["total"] != float64(1) || r["limit"] != float64(100000) {
		t.Fatalf("info, one subject: %v", r)
	}
	// List: the required level only, no cluster.
	r = apiCall(t, nc, "STREAM.LIST", ``)
	for _, x := range r["streams"].([]any) {
		si := x.(map[string]any)
		m := si["config"].(map[string]any)["metadata"].(map[string]any)
		if m["_nats.req.level"] == nil || m["_nats.ver"] != nil || m["_nats.level"] != nil || si["cluster"] != nil {
			t.Fatalf("listed: %v", si)
		}
	}
	// nats.go reads it all.
	js, err := njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx(t), "S")
	if err != nil {
		t.Fatal(err)
	}
	if st.CachedInfo().Config.Metadata["_nats.req.level"] != "1" {
		t.Fatalf("nats.go: %v", st.CachedInfo().Config.Metadata)
	}
}

// TestConsumerAnswersAsUpstream: ADR-44 metadata in consumer answers, and
// an ephemeral created without a name shows none in its configuration,
// as upstream 2.15.2.
func TestConsumerAnswersAsUpstream(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	if r := apiCall(t, nc, "STREAM.CREATE.S", `{"name":"S","subjects":["s.>"]}`); r["error"] != nil {
		t.Fatal(r)
	}
	// Unnamed ephemeral.
	r := apiCall(t, nc, "CONSUMER.CREATE.S", `{"stream_name":"S","config":{"ack_policy":"explicit"}}`)
	hosting(t, metadata(t, r), "0")
	name, _ := r["name"].(string)
	if len(name) != 8 || r["config"].(map[string]any)["name"] != nil {
		t.Fatalf("unnamed ephemeral: %v", r)
	}
	r = apiCall(t, nc, "CONSUMER.INFO.S."+name, ``)
	hosting(t, metadata(t, r), "0")
	if r["name"] != name || r["config"].(map[string]any)["name"] != nil {
		t.Fatalf("info of the unnamed ephemeral: %v", r)
	}
	// Named ephemeral and durable keep their names; the server's keys a
	// request brings are replaced.
	r = apiCall(t, nc, "CONSUMER.CREATE.S.EPH", `{"stream_name":"S","config":{"ack_policy":"explicit","inactive_threshold":5000000000}}`)
	if r["config"].(map[string]any)["name"] != "EPH" {
		t.Fatalf("named ephemeral: %v", r)
	}
	r = apiCall(t, nc, "CONSUMER.CREATE.S.D", `{"stream_name":"S","config":{"durable_name":"D","ack_policy":"explicit","priority_policy":"pinned_client","priority_groups":["g"],"priority_timeout":5000000000,"metadata":{"_nats.req.level":"7","x":"y"}}}`)
	m := metadata(t, r)
	hosting(t, m, "1")
	if m["x"] != "y" || r["config"].(map[string]any)["name"] != "D" {
		t.Fatalf("durable: %v", r)
	}
	// The answer's configuration sent back (action create) is the same.
	back, err := json.Marshal(map[string]any{"stream_name": "S", "config": r["config"], "action": "create"})
	if err != nil {
		t.Fatal(err)
	}
	if r := apiCall(t, nc, "CONSUMER.CREATE.S.D", string(back)); r["error"] != nil {
		t.Fatalf("create again with the answer's config: %v", r)
	}
	hosting(t, metadata(t, apiCall(t, nc, "CONSUMER.INFO.S.D", ``)), "1")
	// Every priority policy shows its first group (only a pinned one
	// pins), as upstream.
	for _, pol := range []string{"overflow", "prioritized", "pinned_client"} {
		r = apiCall(t, nc, "CONSUMER.CREATE.S."+pol, `{"stream_name":"S","config":{"name":"`+pol+`","ack_policy":"explicit","priority_policy":"`+pol+`","priority_groups":["a","b"]}}`)
		hosting(t, metadata(t, r), "1")
		gs, _ := r["priority_groups"].([]any)
		if len(gs) != 1 || gs[0].(map[string]any)["group"] != "a" || gs[0].(map[string]any)["pinned_ts"] != "0001-01-01T00:00:00Z" || gs[0].(map[string]any)["pinned_client_id"] != nil {
			t.Fatalf("%s groups: %v", pol, r)
		}
	}
	// The list shows the required level only, and no name for the
	// unnamed ephemeral.
	r = apiCall(t, nc, "CONSUMER.LIST.S", ``)
	seen := 0
	for _, x := range r["consumers"].([]any) {
		ci := x.(map[string]any)
		cfg := ci["config"].(map[string]any)
		m := cfg["metadata"].(map[string]any)
		if m["_nats.req.level"] == nil || m["_nats.ver"] != nil || m["_nats.level"] != nil {
			t.Fatalf("listed: %v", ci)
		}
		if ci["name"] == name {
			seen++
			if cfg["name"] != nil {
				t.Fatalf("listed unnamed ephemeral: %v", ci)
			}
		}
	}
	if seen != 1 {
		t.Fatalf("list: %v", r)
	}
}

// TestPinnedOnePinPerConsumer: a pinned_client consumer with several
// groups has one pin, as upstream 2.15.2's: the client pinned through one
// group holds them all (another group's request without its id waits and
// expires), info shows it under the first group, and UNPIN naming any of
// the groups frees it.
func TestPinnedOnePinPerConsumer(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	if r := apiCall(t, nc, "STREAM.CREATE.S", `{"name":"S","subjects":["s"]}`); r["error"] != nil {
		t.Fatal(r)
	}
	if r := apiCall(t, nc, "CONSUMER.CREATE.S.C", `{"stream_name":"S","config":{"name":"C","ack_policy":"explicit","priority_policy":"pinned_client","priority_groups":["g","h"]}}`); r["error"] != nil {
		t.Fatal(r)
	}
	for range 3 {
		if _, err := nc.Request("s", []byte("x"), 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	next := func(body string) *nats.Msg {
		t.Helper()
		m, err := nc.Request("$JS.API.CONSUMER.MSG.NEXT.S.C", []byte(body), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := next(`{"batch":1,"group":"h","expires":2000000000}`)
	id := m.Header.Get("Nats-Pin-Id")
	if id == "" {
		t.Fatalf("no pin: %v %q", m.Header, m.Data)
	}
	if m := next(`{"batch":1,"group":"g","expires":300000000}`); m.Header.Get("Status") != "408" {
		t.Fatalf("group g without the id: %v %q", m.Header, m.Data)
	}
	if m := next(`{"batch":1,"group":"g","expires":2000000000,"id":"` + id + `"}`); m.Header.Get("Nats-Pin-Id") != id {
		t.Fatalf("group g with the id: %v %q", m.Header, m.Data)
	}
	gs := apiCall(t, nc, "CONSUMER.INFO.S.C", ``)["priority_groups"].([]any)
	if len(gs) != 1 || gs[0].(map[string]any)["group"] != "g" || gs[0].(map[string]any)["pinned_client_id"] != id {
		t.Fatalf("info: %v", gs)
	}
	if r := apiCall(t, nc, "CONSUMER.UNPIN.S.C", `{"group":"g"}`); r["error"] != nil {
		t.Fatal(r)
	}
	gs = apiCall(t, nc, "CONSUMER.INFO.S.C", ``)["priority_groups"].([]any)
	if gs[0].(map[string]any)["pinned_client_id"] != nil {
		t.Fatalf("info after unpin: %v", gs)
	}
}
