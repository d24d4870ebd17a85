package jetstream_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/server/servertest"
)

// nextMsg waits (bounded) for the next message of a sync subscription.
func nextMsg(t *testing.T, sub *nats.Subscription) *nats.Msg {
	t.Helper()
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func isStatus(m *nats.Msg, code string) bool {
	return len(m.Data) == 0 && m.Header.Get("Status") == code
}

// TestConsumerFlowControlStall drives a flow controlled push consumer with
// a raw subscription that does not answer: delivery stops at the window,
// heartbeats report the stall, and the answer resumes delivery.
func TestConsumerFlowControlStall(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, _ := njs.New(nc)
	c := ctx(t)
	if _, err := js.CreateStream(c, njs.StreamConfig{Name: "FC", Subjects: []string{"FC.>"}}); err != nil {
		t.Fatal(err)
	}
	const total = 1000
	for i := 0; i < total; i++ {
		js.PublishAsync(fmt.Sprintf("FC.%d", i), []byte("x"))
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-c.Done():
		t.Fatal("publish")
	}
	sub, err := nc.SubscribeSync("fc.deliver")
	if err != nil {
		t.Fatal(err)
	}
	_ = sub.SetPendingLimits(-1, -1)
	if _, err := js.CreateOrUpdateConsumer(c, "FC", njs.ConsumerConfig{Durable: "D", DeliverSubject: "fc.deliver", FlowControl: true,
		IdleHeartbeat: 200 * time.Millisecond, AckPolicy: njs.AckNonePolicy}); err != nil {
		t.Fatal(err)
	}
	data, fcs := 0, []string{}
	for data < 512 { // fcEvery + fcWindow messages, then the stall
		m := nextMsg(t, sub)
		switch {
		case isStatus(m, "100") && m.Header.Get("Description") == "FlowControl Request":
			if !strings.HasPrefix(m.Reply, "$JS.FC.FC.D.") {
				t.Fatalf("flow control reply %q", m.Reply)
			}
			fcs = append(fcs, m.Reply)
		case len(m.Data) > 0:
			data++
		}
	}
	if len(fcs) != 1 {
		t.Fatalf("flow control requests before the stall: %v", fcs)
	}
	// Stalled: the next thing is a heartbeat naming the request, not data.
	var stalled string
	for stalled == "" {
		m := nextMsg(t, sub)
		if len(m.Data) > 0 {
			data++
			if data > 256+512 {
				t.Fatalf("delivered %d messages past an unanswered request", data)
			}
			continue
		}
		if isStatus(m, "100") && m.Header.Get("Description") == "Idle Heartbeat" {
			stalled = m.Header.Get("Nats-Consumer-Stalled")
			if m.Header.Get("Nats-Last-Consumer") != fmt.Sprint(data) || m.Header.Get("Nats-Last-Stream") != fmt.Sprint(data) {
				t.Fatalf("heartbeat %v after %d messages", m.Header, data)
			}
		}
	}
	if stalled != fcs[0] {
		t.Fatalf("stalled %q, request %q", stalled, fcs[0])
	}
	if data != 256+512 {
		t.Fatalf("stalled after %d messages", data)
	}
	// Answering resumes; keep answering until everything arrived.
	_ = nc.Publish(stalled, nil)
	for data < total {
		m := nextMsg(t, sub)
		if len(m.Data) > 0 {
			data++
		} else if m.Reply != "" {
			_ = nc.Publish(m.Reply, nil)
		}
	}
}

// TestConsumerFlowControlLegacy runs nats.go's push subscription with flow
// control and heartbeats and a slow handler: everything arrives in order.
func TestConsumerFlowControlLegacy(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, _ := nc.JetStream(nats.PublishAsyncMaxPending(4096))
	if _, err := js.AddStream(&nats.StreamConfig{Name: "FL", Subjects: []string{"FL.>"}}); err != nil {
		t.Fatal(err)
	}
	const total = 1500
	for i := 0; i < total; i++ {
		if _, err := js.PublishAsync("FL.x", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(10 * time.Second):
		t.Fatal("publish")
	}
	spy := servertest.Connect(t, s)
	fcsub, _ := spy.SubscribeSync("$JS.FC.FL.>")
	_ = spy.Flush()
	done := make(chan struct{})
	var got atomic.Int64
	next := 0
	bad := make(chan string, 1)
	sub, err := js.Subscribe("FL.x", func(m *nats.Msg) {
		if string(m.Data) != fmt.Sprint(next) {
			select {
			case bad <- fmt.Sprintf("got %s want %d", m.Data, next):
			default:
			}
		}
		next++
		got.Store(int64(next))
		if next%100 == 0 {
			time.Sleep(20 * time.Millisecond) // a slow subscriber
		}
		if next == total {
			close(done)
		}
	}, nats.Durable("FLD"), nats.EnableFlowControl(), nats.IdleHeartbeat(200*time.Millisecond), nats.AckNone())
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	select {
	case <-done:
	case e := <-bad:
		t.Fatal(e)
	case <-time.After(20 * time.Second):
		t.Fatalf("received %d of %d", got.Load(), total)
	}
	select {
	case e := <-bad:
		t.Fatal(e)
	default:
	}
	// The client answered flow control requests.
	if _, err := fcsub.NextMsg(5 * time.Second); err != nil {
		t.Fatal("no flow control answer:", err)
	}
}

// TestConsumerReplayOriginalAndRateLimit checks that replay_policy original
// keeps the stored spacing and rate_limit_bps slows a push consumer down.
func TestConsumerReplayOriginalAndRateLimit(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, _ := njs.New(nc)
	c := ctx(t)
	st, err := js.CreateStream(c, njs.StreamConfig{Name: "R", Subjects: []string{"R.>"}})
	if err != nil {
		t.Fatal(err)
	}
	const gap = 300 * time.Millisecond
	for i := 0; i < 3; i++ {
		if i > 0 {
			time.Sleep(gap) // the spacing to replay
		}
		if _, err := js.Publish(c, "R.x", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "ORIG", ReplayPolicy: njs.ReplayOriginalPolicy})
	if err != nil {
		t.Fatal(err)
	}
	it, err := cons.Messages()
	if err != nil {
		t.Fatal(err)
	}
	var at []time.Time
	for i := 0; i < 3; i++ {
		m, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		at = append(at, time.Now())
		_ = m.Ack()
	}
	it.Stop()
	for i := 1; i < 3; i++ {
		if d := at[i].Sub(at[i-1]); d < gap-50*time.Millisecond {
			t.Fatalf("replay original: gap %d was %v, stored %v", i, d, gap)
		}
	}

	// rate_limit_bps: 10 messages of 1000 bytes at 20 kB/s take 0.45 s or more.
	for i := 0; i < 10; i++ {
		if _, err := js.Publish(c, "R.big", make([]byte, 1000)); err != nil {
			t.Fatal(err)
		}
	}
	sub, _ := nc.SubscribeSync("rl.deliver")
	start := time.Now()
	if _, err := js.CreateOrUpdateConsumer(c, "R", njs.ConsumerConfig{Durable: "RL", DeliverSubject: "rl.deliver", FilterSubject: "R.big",
		RateLimit: 8 * 20000, AckPolicy: njs.AckNonePolicy}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		nextMsg(t, sub)
	}
	if d := time.Since(start); d < 450*time.Millisecond {
		t.Fatalf("rate limited delivery of 10 kB at 20 kB/s took %v", d)
	}
}

// TestConsumerAdvisoriesAndMetrics checks ack samples, the NAK advisory and
// the pause and resume advisories.
func TestConsumerAdvisoriesAndMetrics(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, _ := njs.New(nc)
	c := ctx(t)
	st, err := js.CreateStream(c, njs.StreamConfig{Name: "A", Subjects: []string{"A.>"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		_, _ = js.Publish(c, "A.x", []byte("x"))
	}
	events, _ := nc.SubscribeSync("$JS.EVENT.>")
	_ = nc.Flush()
	cons, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "S", SampleFrequency: "100%", AckPolicy: njs.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(2, njs.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []njs.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if len(msgs) != 2 {
		t.Fatalf("fetched %d", len(msgs))
	}
	if err := msgs[0].DoubleAck(c); err != nil {
		t.Fatal(err)
	}
	if err := msgs[1].Nak(); err != nil {
		t.Fatal(err)
	}
	want := func(subject string) map[string]any {
		t.Helper()
		for {
			m := nextMsg(t, events)
			if m.Subject == subject {
				var v map[string]any
				if err := jsonUnmarshal(m.Data, &v); err != nil {
					t.Fatal(err)
				}
				return v
			}
		}
	}
	ack := want("$JS.EVENT.METRIC.CONSUMER.ACK.A.S")
	if ack["type"] != "io.nats.jetstream.metric.v1.consumer_ack" || ack["stream_seq"] != 1.0 || ack["consumer_seq"] != 1.0 ||
		ack["deliveries"] != 1.0 || ack["stream"] != "A" || ack["consumer"] != "S" {
		t.Fatalf("ack metric %v", ack)
	}
	if d, _ := ack["ack_time"].(float64); d <= 0 {
		t.Fatalf("ack_time %v", ack["ack_time"])
	}
	nak := want("$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.A.S")
	if nak["type"] != "io.nats.jetstream.advisory.v1.nak" || nak["stream_seq"] != 2.0 || nak["consumer_seq"] != 2.0 || nak["deliveries"] != 1.0 {
		t.Fatalf("nak advisory %v", nak)
	}

	until := time.Now().Add(400 * time.Millisecond)
	if _, err := js.PauseConsumer(c, "A", "S", until); err != nil {
		t.Fatal(err)
	}
	p := want("$JS.EVENT.ADVISORY.CONSUMER.PAUSE.A.S")
	if p["type"] != "io.nats.jetstream.advisory.v1.consumer_pause" || p["paused"] != true || p["pause_until"] == nil {
		t.Fatalf("pause advisory %v", p)
	}
	p = want("$JS.EVENT.ADVISORY.CONSUMER.PAUSE.A.S") // the pause ran out
	if p["paused"] != false {
		t.Fatalf("resume advisory %v", p)
	}
	if _, err := js.PauseConsumer(c, "A", "S", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if p = want("$JS.EVENT.ADVISORY.CONSUMER.PAUSE.A.S"); p["paused"] != true {
		t.Fatalf("pause advisory %v", p)
	}
	if _, err := js.ResumeConsumer(c, "A", "S"); err != nil {
		t.Fatal(err)
	}
	if p = want("$JS.EVENT.ADVISORY.CONSUMER.PAUSE.A.S"); p["paused"] != false {
		t.Fatalf("resume advisory %v", p)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// pull sends one raw pull request and returns a subscription on its inbox.
func pull(t *testing.T, nc *nats.Conn, stream, cons, body string) *nats.Subscription {
	t.Helper()
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT."+stream+"."+cons, inbox, []byte(body)); err != nil {
		t.Fatal(err)
	}
	return sub
}

// wantStatus waits for a status message with code and description.
func wantStatus(t *testing.T, sub *nats.Subscription, code, descr string) {
	t.Helper()
	m := nextMsg(t, sub)
	if !isStatus(m, code) || m.Header.Get("Description") != descr {
		t.Fatalf("want %s %s, got %q %v", code, descr, m.Data, m.Header)
	}
}

func TestConsumerPriorityOverflow(t *testing.T) {
	js, st, nc := consSetup(t, njs.StreamConfig{Name: "OV", Subjects: []string{"OV.>"}}, 10)
	c := ctx(t)
	cons, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "C", AckPolicy: njs.AckExplicitPolicy,
		PriorityPolicy: njs.PriorityPolicyOverflow, PriorityGroups: []string{"jobs"}})
	if err != nil {
		t.Fatal(err)
	}
	_ = js
	wantStatus(t, pull(t, nc, "OV", "C", `{"batch":1,"no_wait":true}`), "400", "Bad Request - Priority Group missing")
	wantStatus(t, pull(t, nc, "OV", "C", `{"batch":1,"no_wait":true,"group":"x"}`), "400", "Bad Request - Invalid Priority Group")
	// 10 pending: a request for at least 20 is not served.
	wantStatus(t, pull(t, nc, "OV", "C", `{"batch":1,"no_wait":true,"group":"jobs","min_pending":20}`), "404", "No Messages")
	// A waiting conditional request is served once the stream holds enough.
	waiting := pull(t, nc, "OV", "C", `{"batch":1,"expires":5000000000,"group":"jobs","min_pending":12}`)
	for i := 0; i < 2; i++ {
		if _, err := js.Publish(c, "OV.more", nil); err != nil {
			t.Fatal(err)
		}
	}
	if m := nextMsg(t, waiting); len(m.Header.Get("Status")) > 0 {
		t.Fatalf("overflow request not served: %v", m.Header)
	}
	// min_ack_pending: 1 pending ack now; 1 is enough, 2 is not.
	wantStatus(t, pull(t, nc, "OV", "C", `{"batch":1,"no_wait":true,"group":"jobs","min_ack_pending":2}`), "404", "No Messages")
	if m := nextMsg(t, pull(t, nc, "OV", "C", `{"batch":1,"no_wait":true,"group":"jobs","min_ack_pending":1}`)); m.Header.Get("Status") != "" {
		t.Fatalf("min_ack_pending 1 not served: %v", m.Header)
	}
	// nats.go's fetch with the group and no condition.
	b, err := cons.Fetch(3, njs.FetchPriorityGroup("jobs"), njs.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range b.Messages() {
		n++
	}
	if n != 3 || b.Error() != nil {
		t.Fatalf("fetched %d: %v", n, b.Error())
	}
}

func TestConsumerPriorityPinned(t *testing.T) {
	js, st, nc := consSetup(t, njs.StreamConfig{Name: "PN", Subjects: []string{"PN.>"}}, 10)
	c := ctx(t)
	cons, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "C", AckPolicy: njs.AckExplicitPolicy,
		PriorityPolicy: njs.PriorityPolicyPinned, PriorityGroups: []string{"A"}, PinnedTTL: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	events, _ := nc.SubscribeSync("$JS.EVENT.ADVISORY.CONSUMER.*.PN.C")
	_ = nc.Flush()
	m, err := cons.Next(njs.FetchPriorityGroup("A"), njs.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	id := m.Headers().Get("Nats-Pin-Id")
	if id == "" {
		t.Fatalf("first message has no Nats-Pin-Id: %v", m.Headers())
	}
	_ = m.Ack()
	adv := nextMsg(t, events)
	var pinned map[string]any
	_ = jsonUnmarshal(adv.Data, &pinned)
	if adv.Subject != "$JS.EVENT.ADVISORY.CONSUMER.PINNED.PN.C" || pinned["type"] != "io.nats.jetstream.advisory.v1.consumer_group_pinned" ||
		pinned["pinned_id"] != id || pinned["group"] != "A" {
		t.Fatalf("pinned advisory %s %s", adv.Subject, adv.Data)
	}
	info, err := cons.Info(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.PriorityGroups) != 1 || info.PriorityGroups[0].PinnedClientID != id {
		t.Fatalf("info priority groups %+v", info.PriorityGroups)
	}
	// Another client: a wrong id gets 423, none waits (no_wait: 404).
	wantStatus(t, pull(t, nc, "PN", "C", `{"batch":1,"no_wait":true,"group":"A","id":"bogus"}`), "423", "Nats-Pin-Id mismatch")
	wantStatus(t, pull(t, nc, "PN", "C", `{"batch":1,"no_wait":true,"group":"A"}`), "404", "No Messages")
	// The pinned id is served.
	if m := nextMsg(t, pull(t, nc, "PN", "C", `{"batch":1,"no_wait":true,"group":"A","id":"`+id+`"}`)); m.Header.Get("Nats-Pin-Id") != id {
		t.Fatalf("pinned request: %v", m.Header)
	}
	// UNPIN: the next client without an id is pinned anew.
	if err := st.UnpinConsumer(c, "C", "A"); err != nil {
		t.Fatal(err)
	}
	adv = nextMsg(t, events)
	var unpinned map[string]any
	_ = jsonUnmarshal(adv.Data, &unpinned)
	if adv.Subject != "$JS.EVENT.ADVISORY.CONSUMER.UNPINNED.PN.C" || unpinned["type"] != "io.nats.jetstream.advisory.v1.consumer_group_unpinned" || unpinned["reason"] != "admin" {
		t.Fatalf("unpinned advisory %s %s", adv.Subject, adv.Data)
	}
	if err := st.UnpinConsumer(c, "C", "B"); !errors.Is(err, njs.ErrConsumerNotFound) && (err == nil || !strings.Contains(err.Error(), "priority group")) {
		t.Fatalf("unpin of an unknown group: %v", err)
	}
	// Nobody is pinned: the old id is not refused on arrival, but told it
	// is stale as soon as a message could go to a new pin.
	wantStatus(t, pull(t, nc, "PN", "C", `{"batch":1,"no_wait":true,"group":"A","id":"`+id+`"}`), "423", "Nats-Wrong-Pin-Id")
	m2 := nextMsg(t, pull(t, nc, "PN", "C", `{"batch":1,"expires":2000000000,"group":"A"}`))
	id2 := m2.Header.Get("Nats-Pin-Id")
	if id2 == "" || id2 == id {
		t.Fatalf("new pin %q (old %q)", id2, id)
	}
	if adv = nextMsg(t, events); !strings.HasSuffix(adv.Subject, ".PINNED.PN.C") {
		t.Fatalf("advisory %s", adv.Subject)
	}
	// Nobody pulls with the new id: after priority_timeout the pin goes.
	adv = nextMsg(t, events)
	unpinned = nil
	_ = jsonUnmarshal(adv.Data, &unpinned)
	if !strings.HasSuffix(adv.Subject, ".UNPINNED.PN.C") || unpinned["reason"] != "timeout" {
		t.Fatalf("timeout advisory %s %s", adv.Subject, adv.Data)
	}
	// A long poll served under a pin ends with 423 once the pin is gone
	// and a message could go to another client.
	long := pull(t, nc, "PN", "C", `{"batch":100,"expires":5000000000,"group":"A"}`)
	for i := 0; i < 7; i++ { // what is left of the 10
		if m := nextMsg(t, long); len(m.Data) == 0 || m.Header.Get("Nats-Pin-Id") == "" {
			t.Fatalf("long poll message %d: %q %v", i, m.Data, m.Header)
		}
	}
	if err := st.UnpinConsumer(c, "C", "A"); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(c, "PN.more", nil); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, long, "423", "Nats-Wrong-Pin-Id")
}

func TestConsumerReset(t *testing.T) {
	js, st, _ := consSetup(t, njs.StreamConfig{Name: "RS", Subjects: []string{"RS.>"}}, 10)
	c := ctx(t)
	cons, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "C", AckPolicy: njs.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	b, err := cons.Fetch(5, njs.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for range b.Messages() {
	}
	resp, err := js.ResetConsumer(c, "RS", "C")
	if err != nil {
		t.Fatal(err)
	}
	if resp.ResetSeq != 1 || resp.NumAckPending != 0 || resp.NumPending != 10 {
		t.Fatalf("reset %+v", resp)
	}
	seqOf := func() uint64 {
		t.Helper()
		m, err := cons.Next(njs.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		md, _ := m.Metadata()
		return md.Sequence.Stream
	}
	if s := seqOf(); s != 1 {
		t.Fatalf("after reset got %d", s)
	}
	resp, err = st.ResetConsumerToSequence(c, "C", 7)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ResetSeq != 7 || resp.NumPending != 4 {
		t.Fatalf("reset to 7: %+v", resp)
	}
	if s := seqOf(); s != 7 {
		t.Fatalf("after reset to 7 got %d", s)
	}
	if _, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "S", AckPolicy: njs.AckExplicitPolicy,
		DeliverPolicy: njs.DeliverByStartSequencePolicy, OptStartSeq: 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ResetConsumerToSequence(c, "S", 3); !errors.Is(err, njs.ErrConsumerInvalidReset) {
		t.Fatalf("reset below the start sequence: %v", err)
	}
}

// waitMsgs polls the stream's message count (bounded) until it is n.
func waitMsgs(t *testing.T, st njs.Stream, n uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		si, err := st.Info(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if si.State.Msgs == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream holds %d messages, want %d", si.State.Msgs, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func fetchN(t *testing.T, cons njs.Consumer, n int) []njs.Msg {
	t.Helper()
	b, err := cons.Fetch(n, njs.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var l []njs.Msg
	for m := range b.Messages() {
		l = append(l, m)
	}
	if len(l) != n {
		t.Fatalf("fetched %d of %d: %v", len(l), n, b.Error())
	}
	return l
}

func TestConsumerAckAllAndStartTime(t *testing.T) {
	js, st, _ := consSetup(t, njs.StreamConfig{Name: "AA", Subjects: []string{"AA.>"}}, 3)
	c := ctx(t)
	time.Sleep(20 * time.Millisecond) // a start time between the two halves
	start := time.Now()
	for i := 0; i < 3; i++ {
		if _, err := js.Publish(c, "AA.late", nil); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "ALL", AckPolicy: njs.AckAllPolicy})
	if err != nil {
		t.Fatal(err)
	}
	msgs := fetchN(t, cons, 5)
	if err := msgs[2].DoubleAck(c); err != nil {
		t.Fatal(err)
	}
	ci, err := cons.Info(c)
	if err != nil {
		t.Fatal(err)
	}
	if ci.AckFloor.Stream != 3 || ci.AckFloor.Consumer != 3 || ci.NumAckPending != 2 || ci.NumPending != 1 {
		t.Fatalf("ack all: floor %+v ack pending %d pending %d", ci.AckFloor, ci.NumAckPending, ci.NumPending)
	}
	if err := msgs[4].DoubleAck(c); err != nil {
		t.Fatal(err)
	}
	if ci, _ = cons.Info(c); ci.AckFloor.Stream != 5 || ci.NumAckPending != 0 {
		t.Fatalf("ack all of 5: floor %+v ack pending %d", ci.AckFloor, ci.NumAckPending)
	}

	bt, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "BT", AckPolicy: njs.AckExplicitPolicy,
		DeliverPolicy: njs.DeliverByStartTimePolicy, OptStartTime: &start})
	if err != nil {
		t.Fatal(err)
	}
	m := fetchN(t, bt, 1)[0]
	if md, _ := m.Metadata(); md.Sequence.Stream != 4 || m.Subject() != "AA.late" {
		t.Fatalf("by_start_time delivered %d %s", md.Sequence.Stream, m.Subject())
	}
}

func TestConsumerPullLimits409(t *testing.T) {
	js, st, nc := consSetup(t, njs.StreamConfig{Name: "L", Subjects: []string{"L.>"}}, 0)
	c := ctx(t)
	if _, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "C", AckPolicy: njs.AckExplicitPolicy, MaxWaiting: 1,
		MaxRequestBatch: 5, MaxRequestExpires: time.Second, MaxRequestMaxBytes: 100}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, pull(t, nc, "L", "C", `{"batch":6}`), "409", "Exceeded MaxRequestBatch of 5")
	wantStatus(t, pull(t, nc, "L", "C", `{"batch":1,"expires":2000000000}`), "409", "Exceeded MaxRequestExpires of 1s")
	wantStatus(t, pull(t, nc, "L", "C", `{"batch":1,"max_bytes":101}`), "409", "Exceeded MaxRequestMaxBytes of 100")
	waiting := pull(t, nc, "L", "C", `{"batch":1}`)
	_ = nc.Flush()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ci, err := js.Consumer(c, "L", "C")
		if err != nil {
			t.Fatal(err)
		}
		if ci.CachedInfo().NumWaiting == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the request never waited")
		}
		time.Sleep(10 * time.Millisecond)
	}
	wantStatus(t, pull(t, nc, "L", "C", `{"batch":1}`), "409", "Exceeded MaxWaiting")
	if err := st.DeleteConsumer(c, "C"); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, waiting, "409", "Consumer Deleted")
}

func TestConsumerInactiveEphemeral(t *testing.T) {
	_, st, nc := consSetup(t, njs.StreamConfig{Name: "E", Subjects: []string{"E.>"}}, 1)
	c := ctx(t)
	adv, _ := nc.SubscribeSync("$JS.EVENT.ADVISORY.CONSUMER.DELETED.E.>")
	_ = nc.Flush()
	cons, err := st.CreateConsumer(c, njs.ConsumerConfig{AckPolicy: njs.AckExplicitPolicy, InactiveThreshold: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	name := cons.CachedInfo().Name
	if m := nextMsg(t, adv); m.Subject != "$JS.EVENT.ADVISORY.CONSUMER.DELETED.E."+name {
		t.Fatalf("advisory %s", m.Subject)
	}
	if _, err := st.Consumer(c, name); !errors.Is(err, njs.ErrConsumerNotFound) {
		t.Fatalf("inactive ephemeral still there: %v", err)
	}
}

func TestConsumerInterestRetention(t *testing.T) {
	js, st, _ := consSetup(t, njs.StreamConfig{Name: "I", Subjects: []string{"I.>"}, Retention: njs.InterestPolicy}, 0)
	c := ctx(t)
	all, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "ALL", AckPolicy: njs.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	onlyA, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "A", AckPolicy: njs.AckExplicitPolicy, FilterSubject: "I.a"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"I.a", "I.a", "I.b"} {
		if _, err := js.Publish(c, s, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range fetchN(t, all, 3) {
		if err := m.DoubleAck(c); err != nil {
			t.Fatal(err)
		}
	}
	waitMsgs(t, st, 2) // I.b had only ALL's interest; A holds both I.a
	if err := fetchN(t, onlyA, 1)[0].DoubleAck(c); err != nil {
		t.Fatal(err)
	}
	waitMsgs(t, st, 1)
	// A goes away with the last I.a unacked: nobody else wants it.
	if err := st.DeleteConsumer(c, "A"); err != nil {
		t.Fatal(err)
	}
	waitMsgs(t, st, 0)
}

func TestConsumerWorkQueueDisjoint(t *testing.T) {
	js, st, _ := consSetup(t, njs.StreamConfig{Name: "WQ", Subjects: []string{"WQ.>"}, Retention: njs.WorkQueuePolicy}, 0)
	c := ctx(t)
	a, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "A", AckPolicy: njs.AckExplicitPolicy, FilterSubject: "WQ.a"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "B", AckPolicy: njs.AckExplicitPolicy, FilterSubjects: []string{"WQ.b", "WQ.c.>"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"WQ.a", "WQ.b", "WQ.c.x", "WQ.a"} {
		if _, err := js.Publish(c, s, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range fetchN(t, a, 2) {
		if m.Subject() != "WQ.a" {
			t.Fatalf("A got %s", m.Subject())
		}
		_ = m.DoubleAck(c)
	}
	waitMsgs(t, st, 2)
	for _, m := range fetchN(t, b, 2) {
		if m.Subject() == "WQ.a" {
			t.Fatalf("B got %s", m.Subject())
		}
		_ = m.DoubleAck(c)
	}
	waitMsgs(t, st, 0)
}

func TestConsumerPriorityPrioritized(t *testing.T) {
	js, st, nc := consSetup(t, njs.StreamConfig{Name: "PP", Subjects: []string{"PP.>"}}, 0)
	c := ctx(t)
	if _, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "C", AckPolicy: njs.AckExplicitPolicy,
		PriorityPolicy: njs.PriorityPolicyPrioritized, PriorityGroups: []string{"g"}}); err != nil {
		t.Fatal(err)
	}
	low := pull(t, nc, "PP", "C", `{"batch":1,"expires":5000000000,"group":"g","priority":5}`)
	high := pull(t, nc, "PP", "C", `{"batch":1,"expires":5000000000,"group":"g","priority":1}`)
	_ = nc.Flush()
	deadline := time.Now().Add(5 * time.Second)
	for {
		cons, err := st.Consumer(c, "C")
		if err != nil {
			t.Fatal(err)
		}
		if cons.CachedInfo().NumWaiting == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("requests never waited")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := js.Publish(c, "PP.x", []byte("first")); err != nil {
		t.Fatal(err)
	}
	if m := nextMsg(t, high); string(m.Data) != "first" {
		t.Fatalf("priority 1 got %q %v", m.Data, m.Header)
	}
	if _, err := js.Publish(c, "PP.x", []byte("second")); err != nil {
		t.Fatal(err)
	}
	if m := nextMsg(t, low); string(m.Data) != "second" {
		t.Fatalf("priority 5 got %q %v", m.Data, m.Header)
	}
}

// TestConsumerNoWaitWithExpires: no_wait takes precedence over expires
// (ADR-13): what is there is delivered, then the request ends at once.
func TestConsumerNoWaitWithExpires(t *testing.T) {
	_, st, nc := consSetup(t, njs.StreamConfig{Name: "NW", Subjects: []string{"NW.>"}}, 2)
	if _, err := st.CreateConsumer(ctx(t), njs.ConsumerConfig{Durable: "C", AckPolicy: njs.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	sub := pull(t, nc, "NW", "C", `{"batch":5,"no_wait":true,"expires":10000000000}`)
	for i := 0; i < 2; i++ {
		if m := nextMsg(t, sub); len(m.Data) == 0 {
			t.Fatalf("message %d: %v", i, m.Header)
		}
	}
	// Upstream 2.15.2 ends it with 404 too (no pending counts), not 408.
	m := nextMsg(t, sub)
	if !isStatus(m, "404") || m.Header.Get("Description") != "No Messages" || m.Header.Get("Nats-Pending-Messages") != "" {
		t.Fatalf("end of a partly served no_wait request: %v", m.Header)
	}
	wantStatus(t, pull(t, nc, "NW", "C", `{"batch":5,"no_wait":true,"expires":10000000000}`), "404", "No Messages")
}
