package jetstream_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/jetstream/api"
	"natsd.dev/server/servertest"
)

// TestConsumerBadConfigs sends malformed consumer configurations through
// raw API requests and checks each gets upstream's error code, err_code
// and description.
func TestConsumerBadConfigs(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{Limits: jetstream.ServerLimits{MaxAckPending: 100}})
	nc := servertest.Connect(t, s)
	for _, sc := range []string{
		`{"name":"S","subjects":["S.>"],"storage":"memory"}`,
		`{"name":"WQ","subjects":["wq.>"],"storage":"memory","retention":"workqueue"}`,
		`{"name":"LIM","subjects":["lim.>"],"storage":"memory","max_consumers":1}`,
	} {
		var c struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal([]byte(sc), &c)
		if r, raw := apiRequest(t, nc, "STREAM.CREATE."+c.Name, []byte(sc)); r.Error != nil {
			t.Fatalf("create %s: %s", c.Name, raw)
		}
	}
	long := strings.Repeat("n", 256)
	bigMeta := `{"k":"` + strings.Repeat("v", 128*1024) + `"}`
	cases := []struct {
		what, op, cfg string
		want          *api.Error
		desc          string
	}{
		{"max_waiting negative", "CONSUMER.CREATE.S", `{"max_waiting":-1}`, api.ErrConsumerMaxWaitingNegative, ""},
		{"ack_wait negative", "CONSUMER.CREATE.S", `{"ack_policy":"explicit","ack_wait":-1000000000}`, api.ErrConsumerAckWaitNegative, ""},
		{"backoff negative", "CONSUMER.CREATE.S", `{"ack_policy":"explicit","backoff":[1000000000,-5]}`, api.ErrConsumerBackOffNegative, ""},
		{"max_deliver below backoff", "CONSUMER.CREATE.S", `{"ack_policy":"explicit","max_deliver":1,"backoff":[1000000000,2000000000]}`, api.ErrConsumerMaxDeliverBackoff, ""},
		{"description too long", "CONSUMER.CREATE.S", `{"description":"` + strings.Repeat("d", 4097) + `"}`, api.ErrConsumerDescriptionTooLong, "consumer description is too long, maximum allowed is 4096"},
		{"name too long", "CONSUMER.CREATE.S", `{"name":"` + long + `"}`, api.ErrConsumerNameTooLong, "consumer name is too long, maximum allowed is 255"},
		{"durable with star", "CONSUMER.DURABLE.CREATE.S.d*x", `{"durable_name":"d*x","ack_policy":"explicit"}`, api.ErrConsumerBadDurableName, ""},
		{"name with gt", "CONSUMER.CREATE.S", `{"name":"a>b"}`, api.ErrConsumerBadDurableName, ""},
		{"deliver subject invalid", "CONSUMER.CREATE.S", `{"deliver_subject":"a..b"}`, api.ErrConsumerInvalidDeliverSubject, ""},
		{"deliver subject wildcard", "CONSUMER.CREATE.S", `{"deliver_subject":"out.*"}`, api.ErrConsumerDeliverToWildcards, ""},
		{"deliver subject in stream", "CONSUMER.CREATE.S", `{"deliver_subject":"S.deliver"}`, api.ErrConsumerDeliverCycle, ""},
		{"pull ack none on workqueue", "CONSUMER.CREATE.WQ", `{"ack_policy":"none"}`, api.ErrConsumerPullRequiresAck, ""},
		{"push ack all on workqueue", "CONSUMER.CREATE.WQ", `{"ack_policy":"all","deliver_subject":"wqout"}`, api.ErrConsumerWQRequiresExplicitAck, ""},
		{"max_ack_pending over limit", "CONSUMER.CREATE.S", `{"ack_policy":"explicit","max_ack_pending":101}`, api.ErrConsumerMaxPendingAckExcess, "consumer max ack pending exceeds system limit of 100"},
		{"replicas over stream", "CONSUMER.CREATE.S", `{"num_replicas":3}`, api.ErrConsumerReplicasExceedsStream, ""},
		{"metadata too large", "CONSUMER.CREATE.S", `{"metadata":` + bigMeta + `}`, api.ErrConsumerMetadataLength, "consumer metadata exceeds maximum size of 128KB"},
		{"filter_subject with filter_subjects", "CONSUMER.CREATE.S", `{"filter_subject":"S.a","filter_subjects":["S.b"]}`, api.ErrConsumerDuplicateFilterSubjects, ""},
		{"overlapping filters", "CONSUMER.CREATE.S", `{"filter_subjects":["S.a","S.*"]}`, api.ErrConsumerOverlappingSubjectFilters, ""},
		{"subject filter with filter_subjects", "CONSUMER.CREATE.S.c1.S.a", `{"name":"c1","filter_subjects":["S.b","S.c"]}`, api.ErrConsumerMultipleFiltersNotAllowed, ""},
		{"subject filter without filter_subject", "CONSUMER.CREATE.S.c2.S.a", `{"name":"c2"}`, api.ErrConsumerCreateFilterSubjectMismatch, ""},
		{"subject filter with another filter_subject", "CONSUMER.CREATE.S.c3.S.a", `{"name":"c3","filter_subject":"S.b"}`, api.ErrConsumerCreateFilterSubjectMismatch, ""},
		{"empty filter", "CONSUMER.CREATE.S", `{"filter_subjects":["S.a",""]}`, api.ErrConsumerEmptyFilter, ""},
		{"opt_start_seq with deliver all", "CONSUMER.CREATE.S", `{"deliver_policy":"all","opt_start_seq":5}`, api.ErrConsumerInvalidPolicy, "consumer delivery policy is all, but optional start sequence is also set"},
		{"by_start_sequence without seq", "CONSUMER.CREATE.S", `{"deliver_policy":"by_start_sequence"}`, api.ErrConsumerInvalidPolicy, "consumer delivery policy is deliver by start sequence, but optional start sequence is not set"},
		{"heartbeat on pull", "CONSUMER.CREATE.S", `{"idle_heartbeat":1000000000}`, api.ErrConsumerHBRequiresPush, ""},
		{"flow control on pull", "CONSUMER.CREATE.S", `{"flow_control":true}`, api.ErrConsumerFCRequiresPush, ""},
	}
	for _, tc := range cases {
		stream := strings.Split(tc.op, ".")[2]
		if tc.op == "CONSUMER.DURABLE.CREATE.S.d*x" {
			stream = "S"
		}
		body := `{"stream_name":"` + stream + `","config":` + tc.cfg + `}`
		r, raw := apiRequest(t, nc, tc.op, []byte(body))
		desc := tc.desc
		if desc == "" {
			desc = tc.want.Description
		}
		if r.Type != "io.nats.jetstream.api.v1.consumer_create_response" || r.Error == nil ||
			r.Error.Code != tc.want.Code || r.Error.ErrCode != int(tc.want.ErrCode) || r.Error.Description != desc {
			t.Errorf("%s: want %d/%d %q, got %.300s", tc.what, tc.want.Code, tc.want.ErrCode, desc, raw)
		}
	}

	// Malformed JSON is 10025 on every create subject.
	for _, op := range []string{"CONSUMER.CREATE.S", "CONSUMER.CREATE.S.x", "CONSUMER.DURABLE.CREATE.S.x"} {
		for _, body := range []string{`{`, `{"config":{"ack_wait":"soon"}}`, `[]`, `{"config":{}}x`,
			`{"config":{"ack_policy":"sometimes"}}`, `{"config":{"deliver_policy":"whenever"}}`, `{"config":{"replay_policy":"fast"}}`,
			`{"config":{"max_deliver":1e30}}`, `{"config":{"opt_start_time":"yesterday"}}`} {
			r, raw := apiRequest(t, nc, op, []byte(body))
			if r.Error == nil || r.Error.Code != 400 || r.Error.ErrCode != int(api.ErrInvalidJSON.ErrCode) {
				t.Errorf("%s %q: want 10025, got %s", op, body, raw)
			}
		}
	}

	// The stream's max_consumers: the second consumer is refused.
	if r, raw := apiRequest(t, nc, "CONSUMER.CREATE.LIM.a", []byte(`{"stream_name":"LIM","config":{"name":"a"}}`)); r.Error != nil {
		t.Fatalf("first consumer: %s", raw)
	}
	r, raw := apiRequest(t, nc, "CONSUMER.CREATE.LIM.b", []byte(`{"stream_name":"LIM","config":{"name":"b"}}`))
	if r.Error == nil || r.Error.ErrCode != int(api.ErrMaximumConsumersLimit.ErrCode) || r.Error.Code != 400 || r.Error.Description != api.ErrMaximumConsumersLimit.Description {
		t.Errorf("stream max_consumers: got %s", raw)
	}
	// Nothing of the refused configurations was created.
	var names struct {
		Total int `json:"total"`
	}
	_, raw = apiRequest(t, nc, "CONSUMER.NAMES.S", nil)
	if err := json.Unmarshal(raw, &names); err != nil || names.Total != 0 {
		t.Errorf("consumers of S after refusals: %s", raw)
	}
}

// TestConsumerAccountMaxConsumers checks the account's max_consumers.
func TestConsumerAccountMaxConsumers(t *testing.T) {
	lim := jetstream.Unlimited
	lim.MaxConsumers = 2
	s, _ := startJS(t, jetstream.Options{Accounts: map[string]api.AccountLimits{"$G": lim}})
	nc := servertest.Connect(t, s)
	if r, raw := apiRequest(t, nc, "STREAM.CREATE.S", []byte(`{"name":"S","subjects":["S.>"],"storage":"memory"}`)); r.Error != nil {
		t.Fatalf("create: %s", raw)
	}
	for i := 0; i < 3; i++ {
		r, raw := apiRequest(t, nc, fmt.Sprintf("CONSUMER.CREATE.S.c%d", i), []byte(fmt.Sprintf(`{"stream_name":"S","config":{"name":"c%d"}}`, i)))
		if i < 2 && r.Error != nil {
			t.Fatalf("consumer %d: %s", i, raw)
		}
		if i == 2 && (r.Error == nil || r.Error.ErrCode != int(api.ErrMaximumConsumersLimit.ErrCode)) {
			t.Fatalf("third consumer: want 10026, got %s", raw)
		}
	}
}

// pullSetup makes stream S (subjects S.>) with n messages and a durable
// pull consumer C with cfg's extra settings.
func pullSetup(t *testing.T, n int, cfg njs.ConsumerConfig) (*nats.Conn, njs.JetStream, njs.Consumer) {
	t.Helper()
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, err := njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.CreateStream(ctx(t), njs.StreamConfig{Name: "S", Subjects: []string{"S.>"}, Storage: njs.MemoryStorage})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if _, err := js.Publish(ctx(t), fmt.Sprintf("S.%d", i), []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Durable = "C"
	if cfg.AckPolicy == njs.AckNonePolicy {
		cfg.AckPolicy = njs.AckExplicitPolicy
	}
	cons, err := st.CreateConsumer(ctx(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js, cons
}

// TestConsumerPullBadRequests sends pull requests with absurd or
// malformed values: malformed ones get upstream's 400s, negative sizes are
// no limits, a negative expiry ends the request, huge values are served
// without the server holding anything in proportion.
func TestConsumerPullBadRequests(t *testing.T) {
	nc, js, cons := pullSetup(t, 3, njs.ConsumerConfig{})
	const next = "$JS.API.CONSUMER.MSG.NEXT.S.C"
	// Upstream 2.15.2's answers, word for word.
	for _, tc := range []struct{ body, status, desc string }{
		{`{"batch":1,"expires":100000000000000000000}`, "400", "Bad Request - json: cannot unmarshal number 100000000000000000000 into Go struct field JSApiConsumerGetNextRequest.expires of type time.Duration"},
		{`{"batch":`, "400", "Bad Request - unexpected end of JSON input"},
		{`{"batch":"ten"}`, "400", "Bad Request - json: cannot unmarshal string into Go struct field JSApiConsumerGetNextRequest.batch of type int"},
		{`{"batch":1,"idle_heartbeat":1000000000}`, "400", "Bad Request - heartbeat value too large"},
		{`{"batch":1,"idle_heartbeat":1000000000,"expires":1500000000}`, "400", "Bad Request - heartbeat value too large"},
		{`{"batch":1,"min_pending":5}`, "400", "Bad Request - Not a Overflow Priority consumer"},
		{`{"batch":1,"id":"x"}`, "400", "Bad Request - Not a Pinned Client Priority consumer"},
		{`{"batch":1,"priority":10}`, "400", "Bad Request - Priority must be between 0 and 9"},
		// Expired before it came: ended at once, nothing delivered.
		{`{"batch":2,"expires":-1}`, "408", "Request Timeout"},
	} {
		inbox := nats.NewInbox()
		sub, err := nc.SubscribeSync(inbox)
		if err != nil {
			t.Fatal(err)
		}
		if err := nc.PublishRequest(next, inbox, []byte(tc.body)); err != nil {
			t.Fatal(err)
		}
		m := nextMsg(t, sub)
		if m.Header.Get("Status") != tc.status || m.Header.Get("Description") != tc.desc || len(m.Data) != 0 {
			t.Errorf("%s: want %s %q, got %q %v %q", tc.body, tc.status, tc.desc, m.Subject, m.Header, m.Data)
		}
		if tc.status == "408" && m.Header.Get("Nats-Pending-Messages") != "2" {
			t.Errorf("%s: pending %v", tc.body, m.Header)
		}
		_ = sub.Unsubscribe()
	}
	// A negative batch asks for one message and a negative max_bytes sets
	// no limit, as upstream's.
	for i, body := range []string{`{"batch":-1}`, `-5`, `{"batch":1,"max_bytes":-1}`} {
		m, err := nc.Request(next, []byte(body), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if m.Header.Get("Status") != "" || string(m.Data) != fmt.Sprint(i) {
			t.Fatalf("%s: got %v %q", body, m.Header, m.Data)
		}
		if err := m.AckSync(); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 3; i++ {
		if _, err := js.Publish(ctx(t), "S.more", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}

	// A batch of a billion with a second's expiry gets the three messages
	// and then 408 Request Timeout.
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.PublishRequest(next, inbox, []byte(`{"batch":1000000000,"expires":1000000000}`)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		m := nextMsg(t, sub)
		if m.Header.Get("Status") != "" || string(m.Data) != fmt.Sprint(i) {
			t.Fatalf("message %d: got %q %v %q", i, m.Subject, m.Header, m.Data)
		}
		_ = m.Ack()
	}
	if m := nextMsg(t, sub); m.Header.Get("Status") != "408" {
		t.Fatalf("after the messages: want 408, got %v", m.Header)
	}

	// An expiry of a hundred years waits; a later publish is delivered.
	if err := nc.PublishRequest(next, inbox, []byte(`{"batch":1,"expires":3153600000000000000}`)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ci, err := cons.Info(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if ci.NumWaiting == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the 100-year request is not waiting: %+v", ci)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := js.Publish(ctx(t), "S.late", []byte("late")); err != nil {
		t.Fatal(err)
	}
	if m := nextMsg(t, sub); string(m.Data) != "late" {
		t.Fatalf("100-year request: got %v %q", m.Header, m.Data)
	} else if err := m.Ack(); err != nil {
		t.Fatal(err)
	}
	// +NXT with a bad request gets the same answer as MSG.NEXT.
	if _, err := js.Publish(ctx(t), "S.nxt", []byte("nxt")); err != nil {
		t.Fatal(err)
	}
	if err := nc.PublishRequest(next, inbox, []byte(`1`)); err != nil {
		t.Fatal(err)
	}
	m := nextMsg(t, sub)
	if string(m.Data) != "nxt" {
		t.Fatalf("got %v %q", m.Header, m.Data)
	}
	nxtInbox := nats.NewInbox()
	nsub, err := nc.SubscribeSync(nxtInbox)
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.PublishRequest(m.Reply, nxtInbox, []byte(`+NXT {"batch":1,"priority":12}`)); err != nil {
		t.Fatal(err)
	}
	if r := nextMsg(t, nsub); r.Header.Get("Status") != "400" {
		t.Fatalf("+NXT with a bad request: got %v %q", r.Header, r.Data)
	}
	// A negative batch is a batch of one there too.
	if _, err := js.Publish(ctx(t), "S.after", []byte("after")); err != nil {
		t.Fatal(err)
	}
	if err := nc.PublishRequest(next, inbox, []byte(`1`)); err != nil {
		t.Fatal(err)
	}
	m = nextMsg(t, sub)
	if string(m.Data) != "after" {
		t.Fatalf("got %v %q", m.Header, m.Data)
	}
	if _, err := js.Publish(ctx(t), "S.after2", []byte("after2")); err != nil {
		t.Fatal(err)
	}
	if err := nc.PublishRequest(m.Reply, nxtInbox, []byte(`+NXT {"batch":-3}`)); err != nil {
		t.Fatal(err)
	}
	if r := nextMsg(t, nsub); string(r.Data) != "after2" {
		t.Fatalf("+NXT with a negative batch: got %v %q", r.Header, r.Data)
	} else if err := r.AckSync(); err != nil {
		t.Fatal(err)
	}
	ci, err := cons.Info(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if ci.NumAckPending != 0 || ci.AckFloor.Stream != 10 || ci.NumWaiting != 0 {
		t.Fatalf("after the requests: %+v", ci)
	}
	// A body that is neither JSON nor a number asks for one message.
	if _, err := js.Publish(ctx(t), "S.g", []byte("g")); err != nil {
		t.Fatal(err)
	}
	if err := nc.PublishRequest(next, inbox, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if m := nextMsg(t, sub); string(m.Data) != "g" {
		t.Fatalf("garbage body: got %v %q", m.Header, m.Data)
	}
}

// TestConsumerFilterMatchesNothing: a consumer whose filter matches no
// message has nothing pending and gets a later matching message.
func TestConsumerFilterMatchesNothing(t *testing.T) {
	_, js, cons := pullSetup(t, 5, njs.ConsumerConfig{FilterSubject: "S.none"})
	b, err := cons.Fetch(1, njs.FetchMaxWait(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	for m := range b.Messages() {
		t.Fatalf("unexpected message %s", m.Subject())
	}
	if err := b.Error(); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	ci, err := cons.Info(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if ci.NumPending != 0 || ci.Delivered.Consumer != 0 {
		t.Fatalf("info: %+v", ci)
	}
	if _, err := js.Publish(ctx(t), "S.none", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if ci, err = cons.Info(ctx(t)); err != nil || ci.NumPending != 1 {
		t.Fatalf("info after publish: %+v %v", ci, err)
	}
	b, err = cons.Fetch(1, njs.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range b.Messages() {
		if m.Subject() != "S.none" {
			t.Fatalf("got %s", m.Subject())
		}
		n++
	}
	if n != 1 {
		t.Fatalf("got %d messages, err %v", n, b.Error())
	}
}

// TestConsumerForgedAcks: acks for sequences never delivered and
// malformed ack subjects change nothing.
func TestConsumerForgedAcks(t *testing.T) {
	nc, _, cons := pullSetup(t, 3, njs.ConsumerConfig{})
	b, err := cons.FetchNoWait(2)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []njs.Msg
	for m := range b.Messages() {
		msgs = append(msgs, m)
	}
	if len(msgs) != 2 {
		t.Fatalf("fetched %d", len(msgs))
	}
	for _, subj := range []string{
		"$JS.ACK.S.C.1.999.999.0.0",                // never delivered
		"$JS.ACK.S.C.1.3.3.0.0",                    // stored, not delivered
		"$JS.ACK.S.C.1.0.0.0.0",                    // sequence 0
		"$JS.ACK.S.C.1.18446744073709551615.1.0.0", // max uint64
		"$JS.ACK.S.C.x.y.z.w.v",                    // not numbers
		"$JS.ACK.S.C.1.-2.2.0.0",                   // negative
		"$JS.ACK.S.C.1.2",                          // too few tokens
		"$JS.ACK.S.C.1.2.2.0.0.extra",              // too many tokens
		"$JS.ACK.S.C.1.2.2.0.0.a.b.c",              // v2 length, not ours
		"$JS.ACK.S.OTHER.1.2.2.0.0",                // another consumer
		"$JS.ACK.T.C.1.2.2.0.0",                    // another stream
	} {
		for _, body := range []string{"+ACK", "", "-NAK", "+TERM", "+WPI", "+NXT 5", "garbage"} {
			if err := nc.Publish(subj, []byte(body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A real ack of the first message, synchronous: the forged ones sent
	// before it on this connection were handled by then.
	if err := msgs[0].DoubleAck(ctx(t)); err != nil {
		t.Fatal(err)
	}
	ci, err := cons.Info(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if ci.NumAckPending != 1 || ci.AckFloor.Stream != 1 || ci.AckFloor.Consumer != 1 ||
		ci.Delivered.Stream != 2 || ci.Delivered.Consumer != 2 || ci.NumPending != 1 || ci.NumRedelivered != 0 || ci.NumWaiting != 0 {
		t.Fatalf("state changed by forged acks: %+v", ci)
	}
}

// TestConsumerAckAfterDelete: acks to a deleted consumer are ignored and
// do not bring it back.
func TestConsumerAckAfterDelete(t *testing.T) {
	nc, js, cons := pullSetup(t, 3, njs.ConsumerConfig{})
	b, err := cons.FetchNoWait(3)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []njs.Msg
	for m := range b.Messages() {
		msgs = append(msgs, m)
	}
	if len(msgs) != 3 {
		t.Fatalf("fetched %d", len(msgs))
	}
	if err := js.DeleteConsumer(ctx(t), "S", "C"); err != nil {
		t.Fatal(err)
	}
	_ = msgs[0].Ack()
	_ = msgs[1].Nak()
	_ = msgs[2].Term()
	_ = msgs[0].InProgress()
	inbox := nats.NewInbox()
	if err := nc.PublishRequest(msgs[1].Reply(), inbox, []byte("+NXT")); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Consumer(ctx(t), "S", "C"); !errors.Is(err, njs.ErrConsumerNotFound) {
		t.Fatalf("consumer after acks: %v", err)
	}
	st, err := js.Stream(ctx(t), "S")
	if err != nil {
		t.Fatal(err)
	}
	if st.CachedInfo().State.Consumers != 0 || st.CachedInfo().State.Msgs != 3 {
		t.Fatalf("stream after acks: %+v", st.CachedInfo().State)
	}
	// A new consumer of the same name starts afresh.
	c2, err := st.CreateConsumer(ctx(t), njs.ConsumerConfig{Durable: "C", AckPolicy: njs.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	if ci := c2.CachedInfo(); ci.NumPending != 3 || ci.AckFloor.Stream != 0 || ci.NumAckPending != 0 {
		t.Fatalf("recreated consumer: %+v", ci)
	}
}

// TestConsumerMaxWaitingFlood: 10k waiting pull requests against
// max_waiting 512: the extras get 409 Exceeded MaxWaiting.
func TestConsumerMaxWaitingFlood(t *testing.T) {
	srv, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, srv)
	js, err := njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.CreateStream(ctx(t), njs.StreamConfig{Name: "S", Subjects: []string{"S.>"}, Storage: njs.MemoryStorage})
	if err != nil {
		t.Fatal(err)
	}
	cons, err := st.CreateConsumer(ctx(t), njs.ConsumerConfig{Durable: "C", AckPolicy: njs.AckExplicitPolicy, MaxWaiting: 512})
	if err != nil {
		t.Fatal(err)
	}
	const n = 10000
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	statuses := make(chan string, n)
	sub, err := nc.Subscribe("flood.>", func(m *nats.Msg) {
		statuses <- m.Header.Get("Status") + " " + m.Header.Get("Description")
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	_ = sub.SetPendingLimits(-1, -1)
	for i := 0; i < n; i++ {
		if err := nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.S.C", fmt.Sprintf("flood.%d", i), []byte(`{"batch":1,"expires":60000000000}`)); err != nil {
			t.Fatal(err)
		}
	}
	want := n - 512
	timeout := time.After(20 * time.Second)
	for got := 0; got < want; got++ {
		select {
		case s := <-statuses:
			if s != "409 Exceeded MaxWaiting" {
				t.Fatalf("status %d: %q", got, s)
			}
		case <-timeout:
			t.Fatalf("got %d of %d 409 statuses", got, want)
		}
	}
	ci, err := cons.Info(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if ci.NumWaiting != 512 {
		t.Fatalf("num_waiting %d", ci.NumWaiting)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grow := int64(after.HeapAlloc) - int64(before.HeapAlloc); grow > 64<<20 {
		t.Fatalf("heap grew by %d bytes for 512 waiting requests", grow)
	}

	// The waiting requests' client goes away: a new client's requests
	// take their places instead of getting 409 until they expire.
	nc.Close()
	s2 := servertest.Connect(t, srv)
	in2 := nats.NewInbox()
	sub2, err := s2.SubscribeSync(in2)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := s2.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.S.C", in2, []byte(`{"batch":1,"no_wait":true}`)); err != nil {
			t.Fatal(err)
		}
		m := nextMsg(t, sub2)
		if m.Header.Get("Status") == "404" {
			break
		}
		if m.Header.Get("Status") != "409" || time.Now().After(deadline) {
			t.Fatalf("request after the waiting client left: %v", m.Header)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestConsumerDisconnectRedelivers: messages a client fetched and never
// acked before going away are redelivered to another after ack_wait.
func TestConsumerDisconnectRedelivers(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc1 := servertest.Connect(t, s)
	js1, err := njs.New(nc1)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js1.CreateStream(ctx(t), njs.StreamConfig{Name: "S", Subjects: []string{"S.>"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := js1.Publish(ctx(t), "S.x", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	c1, err := st.CreateConsumer(ctx(t), njs.ConsumerConfig{Durable: "C", AckPolicy: njs.AckExplicitPolicy, AckWait: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c1.FetchNoWait(3)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range b.Messages() {
		n++
	}
	if n != 3 {
		t.Fatalf("first client fetched %d", n)
	}
	nc1.Close()

	nc2 := servertest.Connect(t, s)
	js2, err := njs.New(nc2)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := js2.Consumer(ctx(t), "S", "C")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < 3 && time.Now().Before(deadline) {
		b, err := c2.Fetch(3-len(got), njs.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range b.Messages() {
			md, err := m.Metadata()
			if err != nil || md.NumDelivered != 2 {
				t.Fatalf("redelivery metadata: %+v %v", md, err)
			}
			got = append(got, string(m.Data()))
			if err := m.DoubleAck(ctx(t)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if strings.Join(got, ",") != "0,1,2" {
		t.Fatalf("redelivered %v", got)
	}
	ci, err := c2.Info(ctx(t))
	if err != nil || ci.NumAckPending != 0 || ci.AckFloor.Stream != 3 || ci.NumRedelivered != 0 {
		t.Fatalf("info: %+v %v", ci, err)
	}
}

// TestConsumerQueuePush: two queue subscribers on a push consumer's
// deliver subject share the deliveries.
func TestConsumerQueuePush(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, err := njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.CreateStream(ctx(t), njs.StreamConfig{Name: "S", Subjects: []string{"S.>"}, Storage: njs.MemoryStorage})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	var counts [2]chan string
	for i := range counts {
		counts[i] = make(chan string, n)
		ch := counts[i]
		if _, err := nc.QueueSubscribe("dq", "g", func(m *nats.Msg) {
			ch <- string(m.Data)
			_ = m.Ack()
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateOrUpdatePushConsumer(ctx(t), njs.ConsumerConfig{Durable: "Q", DeliverSubject: "dq", DeliverGroup: "g", AckPolicy: njs.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if _, err := js.Publish(ctx(t), "S.x", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	var per [2]int
	timeout := time.After(10 * time.Second)
	for len(seen) < n {
		select {
		case d := <-counts[0]:
			seen[d] = true
			per[0]++
		case d := <-counts[1]:
			seen[d] = true
			per[1]++
		case <-timeout:
			t.Fatalf("got %d of %d (%v)", len(seen), n, per)
		}
	}
	if per[0] == 0 || per[1] == 0 {
		t.Fatalf("deliveries not shared: %v", per)
	}
	// A plain (non-queue) subscriber on the deliver subject is refused
	// as upstream? Not checked: only the sharing is.
}

// TestConsumerAckAfterDeleteRestart: acks to a deleted file-backed
// consumer leave nothing that brings it back after a restart.
func TestConsumerAckAfterDeleteRestart(t *testing.T) {
	dir := t.TempDir()
	s, jsd := startJS(t, jetstream.Options{StoreDir: dir})
	nc := servertest.Connect(t, s)
	js, err := njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.CreateStream(ctx(t), njs.StreamConfig{Name: "F", Subjects: []string{"F.>"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := js.Publish(ctx(t), "F.x", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := st.CreateConsumer(ctx(t), njs.ConsumerConfig{Durable: "D", AckPolicy: njs.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	b, err := cons.FetchNoWait(3)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []njs.Msg
	for m := range b.Messages() {
		msgs = append(msgs, m)
	}
	if len(msgs) != 3 {
		t.Fatalf("fetched %d", len(msgs))
	}
	if err := js.DeleteConsumer(ctx(t), "F", "D"); err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		// Each gets no answer: the consumer is gone.
		if err := m.DoubleAck(ctx(t)); err == nil {
			t.Fatal("double ack to a deleted consumer answered")
		}
	}
	nc.Close()
	if err := jsd.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	jsd2, err := jetstream.Start(s, jetstream.Options{StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer jsd2.Shutdown(context.Background())
	nc = servertest.Connect(t, s)
	js, err = njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Consumer(ctx(t), "F", "D"); !errors.Is(err, njs.ErrConsumerNotFound) {
		t.Fatalf("consumer after restart: %v", err)
	}
}

// TestConsumerLegacyQueueSubscribe: nats.go's legacy QueueSubscribe
// creates a queue push consumer and binds a second member to it; the
// two share the messages.
func TestConsumerLegacyQueueSubscribe(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.AddStream(&nats.StreamConfig{Name: "L", Subjects: []string{"L.>"}, Storage: nats.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	const n = 200
	got := make(chan [2]string, 2*n)
	for i := 0; i < 2; i++ {
		member := fmt.Sprint(i)
		if _, err := js.QueueSubscribe("L.x", "workers", func(m *nats.Msg) {
			got <- [2]string{member, string(m.Data)}
			_ = m.Ack()
		}, nats.Durable("workers"), nats.ManualAck()); err != nil {
			t.Fatalf("member %d: %v", i, err)
		}
	}
	for i := 0; i < n; i++ {
		if _, err := js.Publish("L.x", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	per := map[string]int{}
	timeout := time.After(10 * time.Second)
	for len(seen) < n {
		select {
		case g := <-got:
			seen[g[1]] = true
			per[g[0]]++
		case <-timeout:
			t.Fatalf("got %d of %d (%v)", len(seen), n, per)
		}
	}
	if per["0"] == 0 || per["1"] == 0 {
		t.Fatalf("deliveries not shared: %v", per)
	}
	ci, err := js.ConsumerInfo("L", "workers")
	if err != nil {
		t.Fatal(err)
	}
	if ci.Config.DeliverGroup != "workers" || !ci.PushBound {
		t.Fatalf("consumer: %+v", ci)
	}
}

// TestConsumerNakAbsurdDelay: a -NAK with a delay of centuries or a
// negative one does not crash or spin; the huge one is not redelivered
// ahead of new messages.
func TestConsumerNakAbsurdDelay(t *testing.T) {
	nc, js, cons := pullSetup(t, 2, njs.ConsumerConfig{})
	b, err := cons.FetchNoWait(2)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []njs.Msg
	for m := range b.Messages() {
		msgs = append(msgs, m)
	}
	if len(msgs) != 2 {
		t.Fatalf("fetched %d", len(msgs))
	}
	if err := nc.Publish(msgs[0].Reply(), []byte(`-NAK {"delay":9223372036854775807}`)); err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish(msgs[1].Reply(), []byte(`-NAK {"delay":-5}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx(t), "S.new", []byte("new")); err != nil {
		t.Fatal(err)
	}
	var got []string
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < 2 && time.Now().Before(deadline) {
		b, err := cons.Fetch(2-len(got), njs.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range b.Messages() {
			got = append(got, string(m.Data()))
			if err := m.DoubleAck(ctx(t)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The negative delay redelivers message 1 at once; the huge one
	// keeps message 0 back.
	sort.Strings(got)
	if strings.Join(got, ",") != "1,new" {
		t.Fatalf("got %v", got)
	}
	ci, err := cons.Info(ctx(t))
	if err != nil || ci.NumAckPending != 1 {
		t.Fatalf("info: %+v %v", ci, err)
	}
}

// TestConsumerHugeAckWait: an ack_wait (or backoff) near the largest
// duration does not wrap around into an immediate redelivery.
func TestConsumerHugeAckWait(t *testing.T) {
	for _, cfg := range []njs.ConsumerConfig{
		{AckWait: time.Duration(math.MaxInt64)},
		{BackOff: []time.Duration{time.Duration(math.MaxInt64)}},
	} {
		_, js, cons := pullSetup(t, 1, cfg)
		b, err := cons.FetchNoWait(1)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for range b.Messages() {
			n++
		}
		if n != 1 {
			t.Fatalf("fetched %d", n)
		}
		if _, err := js.Publish(ctx(t), "S.new", []byte("new")); err != nil {
			t.Fatal(err)
		}
		b, err = cons.Fetch(1, njs.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range b.Messages() {
			if string(m.Data()) != "new" {
				t.Fatalf("%+v: redelivered %q at once", cfg, m.Data())
			}
		}
		ci, err := cons.Info(ctx(t))
		if err != nil || ci.NumRedelivered != 0 || ci.NumAckPending != 2 {
			t.Fatalf("%+v: info %+v %v", cfg, ci, err)
		}
	}
}

// TestConsumerPullMaxExpires: a request with the largest expiry (and the
// largest heartbeat) waits for a message rather than expiring at once.
func TestConsumerPullMaxExpires(t *testing.T) {
	nc, js, cons := pullSetup(t, 0, njs.ConsumerConfig{})
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{
		`{"batch":1,"expires":9223372036854775807}`,
		`{"batch":1,"expires":9223372036854775807,"idle_heartbeat":4611686018427387903}`,
	} {
		if err := nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.S.C", inbox, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ci, err := cons.Info(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if ci.NumWaiting == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("requests not waiting: %+v", ci)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := 0; i < 2; i++ {
		if _, err := js.Publish(ctx(t), "S.x", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		if m := nextMsg(t, sub); string(m.Data) != fmt.Sprint(i) {
			t.Fatalf("request %d: got %v %q", i, m.Header, m.Data)
		}
	}
}

// TestConsumerPullWithoutReply: a pull request without a reply subject
// is ignored: no message is handed to nobody.
func TestConsumerPullWithoutReply(t *testing.T) {
	nc, _, cons := pullSetup(t, 1, njs.ConsumerConfig{})
	for _, body := range []string{"", "1", `{"batch":5,"expires":60000000000}`} {
		if err := nc.Publish("$JS.API.CONSUMER.MSG.NEXT.S.C", []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	b, err := cons.Fetch(1, njs.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range b.Messages() {
		md, err := m.Metadata()
		if err != nil || md.NumDelivered != 1 || string(m.Data()) != "0" {
			t.Fatalf("got %q %+v %v", m.Data(), md, err)
		}
		n++
	}
	if n != 1 {
		t.Fatalf("fetched %d (%v)", n, b.Error())
	}
	ci, err := cons.Info(ctx(t))
	if err != nil || ci.NumWaiting != 0 || ci.Delivered.Consumer != 1 {
		t.Fatalf("info %+v %v", ci, err)
	}
}

// TestConsumerManyFilters: a create with 50,000 filter_subjects is
// answered promptly (the overlap check is not pairwise), both when they
// are disjoint and when the last overlaps one of them.
func TestConsumerManyFilters(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	if r, raw := apiRequest(t, nc, "STREAM.CREATE.S", []byte(`{"name":"S","subjects":["S.>"],"storage":"memory"}`)); r.Error != nil {
		t.Fatalf("create: %s", raw)
	}
	var f []string
	for i := 0; i < 50000; i++ {
		f = append(f, fmt.Sprintf(`"S.%d.*"`, i))
	}
	body := `{"stream_name":"S","config":{"filter_subjects":[` + strings.Join(f, ",") + `]}}`
	if r, raw := apiRequest(t, nc, "CONSUMER.CREATE.S", []byte(body)); r.Error != nil {
		t.Fatalf("disjoint filters: %.300s", raw)
	}
	body = `{"stream_name":"S","config":{"filter_subjects":[` + strings.Join(f, ",") + `,"S.*.x"]}}`
	r, raw := apiRequest(t, nc, "CONSUMER.CREATE.S", []byte(body))
	if r.Error == nil || r.Error.ErrCode != int(api.ErrConsumerOverlappingSubjectFilters.ErrCode) {
		t.Fatalf("overlapping filters: %.300s", raw)
	}
}

// TestConsumerWorkQueueManyFilters: on a work queue stream, a consumer
// whose 50,000 filters overlap another's is refused promptly, one whose
// filters are disjoint accepted. Under -short (the race detector's run,
// ten times slower) 5,000 filters. The consumers are durable: an
// ephemeral one goes after 5 s without a client (its inactive threshold),
// and on a loaded machine, with the race detector, the first went before
// the third was checked against it (which was then accepted).
func TestConsumerWorkQueueManyFilters(t *testing.T) {
	n := 50000
	if testing.Short() {
		n = 5000
	}
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	if r, raw := apiRequest(t, nc, "STREAM.CREATE.WQ", []byte(`{"name":"WQ","subjects":["wq.>"],"storage":"memory","retention":"workqueue"}`)); r.Error != nil {
		t.Fatalf("create: %s", raw)
	}
	filters := func(format string) string {
		var f []string
		for i := 0; i < n; i++ {
			f = append(f, fmt.Sprintf(format, i))
		}
		return strings.Join(f, ",")
	}
	create := func(name, fs string) apiReply {
		// Promptly: a pairwise check of 50,000 filters against 50,000
		// takes minutes; a linear one a second, or some under -race on
		// 2 busy cores (up to 5.3 s seen).
		m, err := nc.Request("$JS.API.CONSUMER.CREATE.WQ."+name, []byte(`{"stream_name":"WQ","config":{"durable_name":"`+name+`","ack_policy":"explicit","filter_subjects":[`+fs+`]}}`), 30*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var r apiReply
		if err := json.Unmarshal(m.Data, &r); err != nil {
			t.Fatalf("%s: answer is not JSON: %v: %.300q", name, err, m.Data)
		}
		return r
	}
	if r := create("a", filters(`"wq.%d.*"`)); r.Error != nil {
		t.Fatalf("a: %+v", r.Error)
	}
	if r := create("b", filters(`"wq.%d"`)); r.Error != nil {
		t.Fatalf("b (disjoint): %+v", r.Error)
	}
	if r := create("c", filters(`"wq.x%d"`)+`,"wq.`+strconv.Itoa(n-1)+`.y"`); r.Error == nil || r.Error.ErrCode != int(api.ErrConsumerWQConsumerNotUnique.ErrCode) {
		t.Fatalf("c (overlapping): %+v", r.Error)
	}
}

// TestConsumerAPIBodies: request bodies of the consumer API read as
// upstream 2.15.2 reads them (answers checked against its binary).
func TestConsumerAPIBodies(t *testing.T) {
	nc, _, _ := pullSetup(t, 1, njs.ConsumerConfig{PriorityPolicy: njs.PriorityPolicyPinned, PriorityGroups: []string{"g"}})
	call := func(subj, body string) map[string]any {
		t.Helper()
		m, err := nc.Request("$JS.API."+subj, []byte(body), 5*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", subj, err)
		}
		var r map[string]any
		if err := json.Unmarshal(m.Data, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	wantErr := func(r map[string]any, code float64, desc string) {
		t.Helper()
		e, _ := r["error"].(map[string]any)
		if e == nil || e["err_code"] != code || e["description"] != desc {
			t.Fatalf("got %v, want %v %q", r, code, desc)
		}
	}
	// The request must name the stream of the subject.
	wantErr(call("CONSUMER.CREATE.S.X", ``), 10056, "stream name in subject does not match request")
	wantErr(call("CONSUMER.CREATE.S.X", `{"config":{"durable_name":"X","ack_policy":"explicit"}}`), 10056, "stream name in subject does not match request")
	// No config is the zero config.
	if r := call("CONSUMER.CREATE.S.Z", `{"stream_name":"S"}`); r["error"] != nil || r["name"] != "Z" || r["config"].(map[string]any)["ack_policy"] != "none" {
		t.Fatalf("create without config: %v", r)
	}
	// The durable API names the consumer after its durable.
	if r := call("CONSUMER.DURABLE.CREATE.S.D", `{"stream_name":"S","config":{"durable_name":"D","ack_policy":"explicit"}}`); r["error"] != nil || r["name"] != "D" {
		t.Fatalf("durable create: %v", r)
	}
	// UNPIN and RESET decode plainly: no offsets, unknown fields pass.
	wantErr(call("CONSUMER.UNPIN.S.C", ``), 10025, "invalid JSON: unexpected end of JSON input")
	wantErr(call("CONSUMER.UNPIN.S.C", `{"bogus":1}`), 10025, "invalid JSON: consumer group not specified")
	wantErr(call("CONSUMER.UNPIN.S.C", `{"group":"g"} x`), 10025, "invalid JSON: invalid character 'x' after top-level value")
	wantErr(call("CONSUMER.UNPIN.S.C", `{"group":"h"}`), 10160, "Provided priority group does not exist for this consumer")
	if r := call("CONSUMER.UNPIN.S.C", `{"group":"g","bogus":1}`); r["error"] != nil {
		t.Fatalf("unpin: %v", r)
	}
	r := call("CONSUMER.RESET.S.C", `{bad`)
	wantErr(r, 10025, "invalid JSON: invalid character 'b' looking for beginning of object key string")
	if v, ok := r["reset_seq"]; !ok || v != float64(0) {
		t.Fatalf("a failed reset carries reset_seq 0: %v", r)
	}
	// RESET of a consumer or stream that does not exist, or on a subject
	// without both tokens, is not answered (upstream 2.15.2): the API
	// answers in order, so the call after them is answered first.
	inbox := nc.NewRespInbox()
	sub, err := nc.SubscribeSync(inbox + ".*")
	if err != nil {
		t.Fatal(err)
	}
	for i, subj := range []string{"CONSUMER.RESET.S.nope", "CONSUMER.RESET.NOPE.C", "CONSUMER.RESET.S", "CONSUMER.RESET.NOPE.nope"} {
		if err := nc.PublishRequest("$JS.API."+subj, fmt.Sprint(inbox, ".", i), []byte(`{bad`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.PublishRequest("$JS.API.CONSUMER.INFO.S.C", inbox+".info", nil); err != nil {
		t.Fatal(err)
	}
	if m, err := sub.NextMsg(5 * time.Second); err != nil || m.Subject != inbox+".info" {
		t.Fatalf("first answer: %v %v", m, err)
	}
	if r := call("CONSUMER.RESET.S.C", `{"seq":1,"bogus":1}`); r["error"] != nil || r["reset_seq"] != float64(1) {
		t.Fatalf("reset: %v", r)
	}
	// A failed PAUSE carries the response's fields too.
	if r := call("CONSUMER.PAUSE.S.nope", `{}`); r["paused"] != false || r["pause_until"] != "0001-01-01T00:00:00Z" {
		t.Fatalf("pause of a missing consumer: %v", r)
	}
}
