package jetstream_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/server/servertest"
)

// fillStream creates a stream on <prefix>.> and stores, in order:
// 1 a "a1" (with header X-Custom: one), 2 b "b1", 3 a "a2", 4 b "b2", 5 a "a3".
func fillStream(t *testing.T, js njs.JetStream, name, prefix string, direct bool) njs.Stream {
	t.Helper()
	c := ctx(t)
	st, err := js.CreateStream(c, njs.StreamConfig{Name: name, Subjects: []string{prefix + ".>"}, AllowDirect: direct})
	if err != nil {
		t.Fatal(err)
	}
	msgs := []struct{ subj, data string }{{"a", "a1"}, {"b", "b1"}, {"a", "a2"}, {"b", "b2"}, {"a", "a3"}}
	for i, m := range msgs {
		nm := nats.NewMsg(prefix + "." + m.subj)
		nm.Data = []byte(m.data)
		if i == 0 {
			nm.Header.Set("X-Custom", "one")
		}
		if _, err := js.PublishMsg(c, nm); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// TestGetMsgDirectAndNot runs nats.go's message reads through the direct
// path (AllowDirect) and through STREAM.MSG.GET: both must agree.
func TestGetMsgDirectAndNot(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, err := njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		seq  uint64
		subj string
		data string
	}
	got := map[bool][]result{}
	for _, direct := range []bool{true, false} {
		t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) {
			name, prefix := "PLAIN", "p"
			if direct {
				name, prefix = "DIRECT", "d"
			}
			fillStream(t, js, name, prefix, direct)
			c := ctx(t)
			st, err := js.Stream(c, name) // fresh info: nats.go picks the path from it
			if err != nil {
				t.Fatal(err)
			}
			if st.CachedInfo().Config.AllowDirect != direct {
				t.Fatalf("allow_direct %v", st.CachedInfo().Config.AllowDirect)
			}
			check := func(m *njs.RawStreamMsg, err error, seq uint64, subj, data string) {
				t.Helper()
				if err != nil {
					t.Fatalf("seq %d: %v", seq, err)
				}
				if m.Sequence != seq || m.Subject != prefix+"."+subj || string(m.Data) != data {
					t.Fatalf("got seq %d %q %q, want %d %q %q", m.Sequence, m.Subject, m.Data, seq, subj, data)
				}
				if time.Since(m.Time) > time.Minute || m.Time.Location() != time.UTC {
					t.Fatalf("time %v", m.Time)
				}
				got[direct] = append(got[direct], result{m.Sequence, subj, data})
			}
			m, err := st.GetMsg(c, 1)
			check(m, err, 1, "a", "a1")
			if v := m.Header.Get("X-Custom"); v != "one" {
				t.Fatalf("header %v", m.Header)
			}
			if direct {
				if m.Header.Get("Nats-Stream") != name || m.Header.Get("Nats-Sequence") != "1" || m.Header.Get("Nats-Subject") != "d.a" {
					t.Fatalf("direct headers %v", m.Header)
				}
			}
			m, err = st.GetMsg(c, 2)
			check(m, err, 2, "b", "b1")
			m, err = st.GetLastMsgForSubject(c, prefix+".a")
			check(m, err, 5, "a", "a3")
			if !direct { // a wildcard cannot be appended to a subject one publishes to
				m, err = st.GetLastMsgForSubject(c, prefix+".*")
				if err != nil || m.Sequence != 5 {
					t.Fatalf("last of p.*: %v %v", m, err)
				}
			}
			m, err = st.GetMsg(c, 2, njs.WithGetMsgSubject(prefix+".a"))
			check(m, err, 3, "a", "a2")
			m, err = st.GetMsg(c, 5, njs.WithGetMsgSubject(prefix+".b"))
			if !errors.Is(err, njs.ErrMsgNotFound) {
				t.Fatalf("next b from 5: %v %v", m, err)
			}
			if _, err := st.GetMsg(c, 99); !errors.Is(err, njs.ErrMsgNotFound) {
				t.Fatalf("seq 99: %v", err)
			}
			if _, err := st.GetLastMsgForSubject(c, prefix+".none"); !errors.Is(err, njs.ErrMsgNotFound) {
				t.Fatalf("last none: %v", err)
			}
			if err := st.DeleteMsg(c, 4); err != nil {
				t.Fatal(err)
			}
			if _, err := st.GetMsg(c, 4); !errors.Is(err, njs.ErrMsgNotFound) {
				t.Fatalf("deleted seq 4: %v", err)
			}
			m, err = st.GetLastMsgForSubject(c, prefix+".b")
			check(m, err, 2, "b", "b1")
		})
	}
	d, p := got[true], got[false]
	if len(d) != len(p) {
		t.Fatalf("%d direct results, %d plain", len(d), len(p))
	}
	for i := range d {
		if d[i].seq != p[i].seq || d[i].subj != p[i].subj || d[i].data != p[i].data {
			t.Fatalf("result %d: direct %+v plain %+v", i, d[i], p[i])
		}
	}
}

// collect reads a batch reply up to and including its EOB.
func collect(t *testing.T, sub *nats.Subscription) []*nats.Msg {
	t.Helper()
	var out []*nats.Msg
	for len(out) < 2000 {
		m, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("after %d messages: %v", len(out), err)
		}
		out = append(out, m)
		if m.Header.Get("Status") != "" {
			return out
		}
	}
	t.Fatal("no EOB")
	return nil
}

// batchHdrs checks a batch message's sequence and batch headers.
func batchHdrs(t *testing.T, m *nats.Msg, seq, pending, last uint64) {
	t.Helper()
	h := m.Header
	if h.Get("Nats-Sequence") != strconv.FormatUint(seq, 10) || h.Get("Nats-Num-Pending") != strconv.FormatUint(pending, 10) ||
		h.Get("Nats-Last-Sequence") != strconv.FormatUint(last, 10) {
		t.Fatalf("want seq %d pending %d last %d, got %v", seq, pending, last, h)
	}
	if _, err := time.Parse(time.RFC3339Nano, h.Get("Nats-Time-Stamp")); err != nil {
		t.Fatal(err)
	}
}

// eob checks an end-of-batch status.
func eob(t *testing.T, m *nats.Msg, pending, last uint64, upTo string) {
	t.Helper()
	h := m.Header
	if h.Get("Status") != "204" || h.Get("Description") != "EOB" || len(m.Data) != 0 ||
		h.Get("Nats-Num-Pending") != strconv.FormatUint(pending, 10) || h.Get("Nats-Last-Sequence") != strconv.FormatUint(last, 10) ||
		h.Get("Nats-UpTo-Sequence") != upTo {
		t.Fatalf("want EOB pending %d last %d upto %q, got %v %q", pending, last, upTo, h, m.Data)
	}
}

func TestDirectGetRaw(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, err := njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	fillStream(t, js, "D", "d", true)
	fillStream(t, js, "N", "n", false)
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	batch := func(t *testing.T, req string) []*nats.Msg {
		t.Helper()
		if err := nc.PublishRequest("$JS.API.DIRECT.GET.D", inbox, []byte(req)); err != nil {
			t.Fatal(err)
		}
		return collect(t, sub)
	}

	t.Run("batch", func(t *testing.T) {
		ms := batch(t, `{"seq":1,"batch":3}`)
		if len(ms) != 4 {
			t.Fatalf("%d messages", len(ms))
		}
		for i, m := range ms[:3] {
			batchHdrs(t, m, uint64(i+1), uint64(4-i), uint64(i))
			if m.Header.Get("Nats-Stream") != "D" {
				t.Fatal(m.Header)
			}
		}
		if string(ms[0].Data) != "a1" || ms[0].Header.Get("X-Custom") != "one" || string(ms[2].Data) != "a2" {
			t.Fatalf("data %q %v %q", ms[0].Data, ms[0].Header, ms[2].Data)
		}
		eob(t, ms[3], 2, 3, "")
	})
	t.Run("batch next_by_subj", func(t *testing.T) {
		ms := batch(t, `{"seq":2,"batch":10,"next_by_subj":"d.a"}`)
		if len(ms) != 3 {
			t.Fatalf("%d messages", len(ms))
		}
		batchHdrs(t, ms[0], 3, 1, 0)
		batchHdrs(t, ms[1], 5, 0, 3)
		eob(t, ms[2], 0, 5, "")
	})
	t.Run("max_bytes", func(t *testing.T) {
		ms := batch(t, `{"seq":1,"batch":10,"max_bytes":1}`)
		if len(ms) != 2 {
			t.Fatalf("%d messages", len(ms))
		}
		batchHdrs(t, ms[0], 1, 4, 0)
		eob(t, ms[1], 4, 1, "")
		// Messages 2 and 3 are 5 bytes each (subject and data): the
		// second one reaches a budget of 8.
		ms = batch(t, `{"seq":2,"batch":10,"max_bytes":8}`)
		if len(ms) != 3 {
			t.Fatalf("%d messages", len(ms))
		}
		eob(t, ms[2], 2, 3, "")
	})
	t.Run("start_time", func(t *testing.T) {
		r, err := nc.Request("$JS.API.DIRECT.GET.D", []byte(`{"seq":3}`), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		ts := r.Header.Get("Nats-Time-Stamp")
		ms := batch(t, `{"start_time":"`+ts+`","batch":5}`)
		if len(ms) != 4 {
			t.Fatalf("%d messages", len(ms))
		}
		batchHdrs(t, ms[0], 3, 2, 0)
		eob(t, ms[3], 0, 5, "")
		later := time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)
		r, err = nc.Request("$JS.API.DIRECT.GET.D", []byte(`{"start_time":"`+later+`"}`), 5*time.Second)
		if err != nil || r.Header.Get("Status") != "404" {
			t.Fatalf("start in the future: %v %v", r, err)
		}
	})
	t.Run("multi_last", func(t *testing.T) {
		ms := batch(t, `{"multi_last":["d.*"]}`)
		if len(ms) != 3 {
			t.Fatalf("%d messages", len(ms))
		}
		batchHdrs(t, ms[0], 4, 1, 0)
		batchHdrs(t, ms[1], 5, 0, 4)
		eob(t, ms[2], 0, 5, "5")

		ms = batch(t, `{"multi_last":["d.a","d.b"],"up_to_seq":3}`)
		if len(ms) != 3 {
			t.Fatalf("%d messages", len(ms))
		}
		batchHdrs(t, ms[0], 2, 1, 0)
		batchHdrs(t, ms[1], 3, 0, 2)
		if string(ms[0].Data) != "b1" || string(ms[1].Data) != "a2" {
			t.Fatalf("data %q %q", ms[0].Data, ms[1].Data)
		}
		eob(t, ms[2], 0, 3, "3")

		ms = batch(t, `{"multi_last":["d.>"],"batch":1}`)
		if len(ms) != 2 {
			t.Fatalf("%d messages", len(ms))
		}
		batchHdrs(t, ms[0], 4, 1, 0)
		eob(t, ms[1], 1, 4, "5")

		ms = batch(t, `{"multi_last":["d.>"],"seq":5}`)
		if len(ms) != 2 {
			t.Fatalf("%d messages", len(ms))
		}
		batchHdrs(t, ms[0], 5, 0, 0)
		eob(t, ms[1], 0, 5, "5")

		// Up to the time of message 2: only message 1 is older.
		r, err := nc.Request("$JS.API.DIRECT.GET.D", []byte(`{"seq":2}`), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		ms = batch(t, `{"multi_last":["d.>"],"up_to_time":"`+r.Header.Get("Nats-Time-Stamp")+`"}`)
		if len(ms) != 2 {
			t.Fatalf("%d messages", len(ms))
		}
		batchHdrs(t, ms[0], 1, 0, 0)
		eob(t, ms[1], 0, 1, "1")
	})
	t.Run("no_hdr", func(t *testing.T) {
		r, err := nc.Request("$JS.API.DIRECT.GET.D", []byte(`{"seq":1,"no_hdr":true}`), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Header) != 0 || string(r.Data) != "a1" {
			t.Fatalf("no_hdr: %v %q", r.Header, r.Data)
		}
		ms := batch(t, `{"seq":1,"batch":2,"no_hdr":true}`)
		if len(ms) != 3 || len(ms[0].Header) != 0 || len(ms[1].Header) != 0 {
			t.Fatalf("no_hdr batch: %d %v", len(ms), ms[0].Header)
		}
		eob(t, ms[2], 3, 2, "")
	})
	t.Run("subject appended", func(t *testing.T) {
		r, err := nc.Request("$JS.API.DIRECT.GET.D.d.b", nil, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if r.Header.Get("Nats-Sequence") != "4" || r.Header.Get("Nats-Subject") != "d.b" || string(r.Data) != "b2" ||
			r.Header.Get("Nats-Num-Pending") != "" {
			t.Fatalf("last d.b: %v %q", r.Header, r.Data)
		}
	})
	t.Run("statuses", func(t *testing.T) {
		for _, tc := range []struct {
			subj, body, code, desc string
		}{
			{"D", `{"seq":99}`, "404", "Message Not Found"},
			{"D", `{"seq":99,"batch":3}`, "404", "Message Not Found"},
			{"D", `{"last_by_subj":"d.zzz"}`, "404", "Message Not Found"},
			{"D", `{"multi_last":["d.zzz"]}`, "404", "No Results"},
			{"D", ``, "408", "Empty Request"},
			{"D", `{"batch":3}`, "408", "Empty Request"},
			{"D", `{"seq":`, "408", "Malformed Request"},
			{"D", `{"seq":1,"last_by_subj":"d.a"}`, "408", "Bad Request"},
			{"D", `{"last_by_subj":"d.a","batch":2}`, "408", "Bad Request"},
			{"D", `{"next_by_subj":"d.a","multi_last":["d.a"]}`, "408", "Bad Request"},
			{"D", `{"multi_last":["d.a"],"up_to_seq":1,"up_to_time":"2020-01-01T00:00:00Z"}`, "408", "Bad Request"},
			{"D.d.a", `{"seq":1}`, "408", "Bad Request"},
		} {
			r, err := nc.Request("$JS.API.DIRECT.GET."+tc.subj, []byte(tc.body), 5*time.Second)
			if err != nil {
				t.Fatalf("%s %s: %v", tc.subj, tc.body, err)
			}
			if r.Header.Get("Status") != tc.code || r.Header.Get("Description") != tc.desc || len(r.Data) != 0 {
				t.Fatalf("%s %s: got %v %q", tc.subj, tc.body, r.Header, r.Data)
			}
		}
	})
	t.Run("too many subjects", func(t *testing.T) {
		c := ctx(t)
		if _, err := js.CreateStream(c, njs.StreamConfig{Name: "M", Subjects: []string{"m.>"}, AllowDirect: true, Storage: njs.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
		for i := range 1025 {
			if _, err := js.PublishAsync(fmt.Sprintf("m.%d", i), nil); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-c.Done():
			t.Fatal("publish acks")
		}
		r, err := nc.Request("$JS.API.DIRECT.GET.M", []byte(`{"multi_last":["m.>"]}`), 5*time.Second)
		if err != nil || r.Header.Get("Status") != "413" || r.Header.Get("Description") != "Too Many Results" {
			t.Fatalf("1025 subjects: %v %v", r, err)
		}
	})
	t.Run("no responders", func(t *testing.T) {
		// Upstream has no responder for a stream without allow_direct.
		for _, tc := range []struct{ subj, body string }{{"N", `{"seq":1}`}, {"NOPE", `{"seq":1}`}, {"N.n.a", ""}} {
			_, err := nc.Request("$JS.API.DIRECT.GET."+tc.subj, []byte(tc.body), 5*time.Second)
			if !errors.Is(err, nats.ErrNoResponders) {
				t.Fatalf("%s: %v", tc.subj, err)
			}
		}
	})
	t.Run("not counted", func(t *testing.T) {
		before, err := js.AccountInfo(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := nc.Request("$JS.API.DIRECT.GET.D", []byte(`{"seq":1}`), 5*time.Second); err != nil {
				t.Fatal(err)
			}
		}
		after, err := js.AccountInfo(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		// Only the second INFO call counts.
		if after.API.Total != before.API.Total+1 {
			t.Fatalf("api total %d then %d", before.API.Total, after.API.Total)
		}
	})
}

// TestMsgGetAPI checks STREAM.MSG.GET's JSON answers.
func TestMsgGetAPI(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, err := njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	fillStream(t, js, "S", "s", false)
	type resp struct {
		Type    string `json:"type"`
		Message *struct {
			Subject string    `json:"subject"`
			Seq     uint64    `json:"seq"`
			Hdrs    *string   `json:"hdrs"`
			Data    *string   `json:"data"`
			Time    time.Time `json:"time"`
		} `json:"message"`
		Error *struct {
			Code    int `json:"code"`
			ErrCode int `json:"err_code"`
		} `json:"error"`
	}
	get := func(t *testing.T, body string) resp {
		t.Helper()
		r, err := nc.Request("$JS.API.STREAM.MSG.GET.S", []byte(body), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var out resp
		if err := json.Unmarshal(r.Data, &out); err != nil {
			t.Fatalf("%s: %v", r.Data, err)
		}
		if out.Type != "io.nats.jetstream.api.v1.stream_msg_get_response" {
			t.Fatalf("type %q", out.Type)
		}
		return out
	}
	for _, tc := range []struct {
		body string
		seq  uint64
	}{
		{`{"seq":1}`, 1},
		{`{"seq":2,"next_by_subj":"s.a"}`, 3},
		{`{"next_by_subj":"s.b"}`, 2},
		{`{"last_by_subj":"s.b"}`, 4},
		{`{"last_by_subj":"s.>"}`, 5},
	} {
		r := get(t, tc.body)
		if r.Error != nil || r.Message == nil || r.Message.Seq != tc.seq {
			t.Fatalf("%s: %+v", tc.body, r)
		}
	}
	r := get(t, `{"seq":1}`)
	m := r.Message
	d, _ := base64.StdEncoding.DecodeString(*m.Data)
	h, _ := base64.StdEncoding.DecodeString(*m.Hdrs)
	if m.Subject != "s.a" || string(d) != "a1" || string(h) != "NATS/1.0\r\nX-Custom: one\r\n\r\n" ||
		m.Time.Location() != time.UTC || time.Since(m.Time) > time.Minute {
		t.Fatalf("message %+v %q %q", m, d, h)
	}
	if r := get(t, `{"seq":1,"no_hdr":true}`); r.Message == nil || r.Message.Hdrs != nil {
		t.Fatalf("no_hdr %+v", r.Message)
	}
	if r := get(t, `{"seq":2}`); r.Message.Hdrs != nil {
		t.Fatal("hdrs on a message without")
	}
	for _, tc := range []struct {
		body    string
		errCode int
	}{
		{``, 10003},
		{`{}`, 10003},
		{`{"seq":1,"last_by_subj":"s.a"}`, 10003},
		{`{"last_by_subj":"s.a","next_by_subj":"s.a"}`, 10003},
		{`{"seq":1,"batch":2}`, 10003},
		{`{"seq":1,"start_time":"2020-01-01T00:00:00Z"}`, 10003},
		{`{"seq":99}`, 10037},
		{`{"last_by_subj":"s.zzz"}`, 10037},
		{`{"seq":5,"next_by_subj":"s.b"}`, 10037},
	} {
		r := get(t, tc.body)
		if r.Error == nil || r.Error.ErrCode != tc.errCode || r.Message != nil {
			t.Fatalf("%s: %+v", tc.body, r)
		}
	}
	// start_time finds the first message at or after it.
	r = get(t, `{"seq":3}`)
	b, _ := json.Marshal(map[string]any{"start_time": r.Message.Time})
	if r := get(t, string(b)); r.Message == nil || r.Message.Seq != 3 {
		t.Fatalf("start_time %s: %+v", b, r)
	}
}

// TestDirectGetConcurrentBatches runs many batches at once (more than run
// in parallel) beside other API calls, then shuts down with batches in
// flight.
func TestDirectGetConcurrentBatches(t *testing.T) {
	s, sjs := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, err := njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	c := ctx(t)
	if _, err := js.CreateStream(c, njs.StreamConfig{Name: "C", Subjects: []string{"c.>"}, AllowDirect: true}); err != nil {
		t.Fatal(err)
	}
	const n = 500
	for i := range n {
		if _, err := js.PublishAsync(fmt.Sprintf("c.%d", i%7), []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-c.Done():
		t.Fatal("publish acks")
	}
	const reqs = 40
	subs := make([]*nats.Subscription, reqs)
	for i := range subs {
		inbox := nats.NewInbox()
		if subs[i], err = nc.SubscribeSync(inbox); err != nil {
			t.Fatal(err)
		}
		if err := subs[i].SetPendingLimits(-1, -1); err != nil {
			t.Fatal(err)
		}
		if err := nc.PublishRequest("$JS.API.DIRECT.GET.C", inbox, []byte(`{"seq":1,"batch":1000}`)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := js.AccountInfo(c); err != nil {
		t.Fatal(err)
	}
	for i, sub := range subs {
		ms := collect(t, sub)
		if len(ms) != n+1 {
			t.Fatalf("batch %d: %d messages", i, len(ms))
		}
		eob(t, ms[n], 0, n, "")
	}
	for range reqs {
		if err := nc.PublishRequest("$JS.API.DIRECT.GET.C", nats.NewInbox(), []byte(`{"seq":1,"batch":1000}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := sjs.Shutdown(c); err != nil {
		t.Fatal(err)
	}
}
