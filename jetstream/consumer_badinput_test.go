package jetstream_test

import (
	"encoding/json"
	"fmt"
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
		{"max_deliver within backoff", "CONSUMER.CREATE.S", `{"ack_policy":"explicit","max_deliver":2,"backoff":[1000000000,2000000000]}`, api.ErrConsumerMaxDeliverBackoff, ""},
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
		for _, body := range []string{`{`, `{"config":{"ack_wait":"soon"}}`, `[]`, `{"config":{}}x`} {
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

var _ = nats.Connect
var _ njs.JetStream
var _ time.Duration
