package monitor_test

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"natsd.dev/monitor"
	"natsd.dev/server"
	"natsd.dev/server/snapshot"
)

// jsInfoProvider answers JSZ with a fixed JSInfo of one stream per
// account and records the health options it is asked with; it fails
// health for stream "BAD" as a JetStream checker does.
type jsInfoProvider struct {
	mu     sync.Mutex
	health *snapshot.HealthzOptions
}

func (p *jsInfoProvider) NewOptions() any { return new(snapshot.JszOptions) }

func (p *jsInfoProvider) Snapshot(opts any) (any, error) {
	o := opts.(*snapshot.JszOptions)
	ji := &snapshot.JSInfo{ID: "js", Streams: 2, Messages: 7, Bytes: 700, Config: snapshot.JetStreamConfig{MaxMemory: 1 << 20, MaxStore: 1 << 30}}
	ji.Memory, ji.Store, ji.Accounts, ji.API = 200, 500, 2, snapshot.JetStreamAPIStats{Level: 1, Total: 9, Errors: 1}
	if o.Accounts {
		ji.AccountDetails = []*snapshot.AccountDetail{
			{Name: "A", ID: "A"}, {Name: "B", ID: "B"},
		}
		if o.Streams {
			ji.AccountDetails[0].Streams = []snapshot.StreamDetail{{Name: "ORDERS", State: snapshot.StreamState{Msgs: 5, Bytes: 500, FirstSeq: 1, LastSeq: 5, Consumers: 2}}}
			ji.AccountDetails[1].Streams = []snapshot.StreamDetail{{Name: "CACHE", State: snapshot.StreamState{Msgs: 2, Bytes: 200, FirstSeq: 3, LastSeq: 4}}}
		}
	}
	return ji, nil
}

func (p *jsInfoProvider) CheckHealth(o *snapshot.HealthzOptions) error {
	p.mu.Lock()
	cp := *o
	p.health = &cp
	p.mu.Unlock()
	if o.Stream == "BAD" {
		return &snapshot.HealthError{StatusCode: http.StatusNotFound, Errors: []snapshot.HealthzError{{
			Type: snapshot.HealthzErrorStream, Account: o.Account, Stream: o.Stream,
			Error: `JetStream stream "BAD" not found on account "A"`}}}
	}
	return nil
}

func (p *jsInfoProvider) last() snapshot.HealthzOptions {
	p.mu.Lock()
	defer p.mu.Unlock()
	return *p.health
}

func TestHealthzJetStreamOptions(t *testing.T) {
	e := start(t, server.Options{}, monitor.Options{})
	p := &jsInfoProvider{}
	e.srv.RegisterProvider(server.KindJsz, p)

	code, _, body := e.get(t, "/healthz?account=A&stream=S&consumer=C&details=true&js-meta-only=1")
	require.Equal(t, http.StatusOK, code, string(body))
	require.JSONEq(t, `{"status":"ok"}`, string(body))
	require.Equal(t, snapshot.HealthzOptions{Account: "A", Stream: "S", Consumer: "C", Details: true, JSMetaOnly: true}, p.last())
	e.get(t, "/healthz?js-enabled=true")
	require.Equal(t, snapshot.HealthzOptions{JSEnabled: true, JSEnabledOnly: true}, p.last())

	// A checker's HealthError sets the code and the problems.
	code, _, body = e.get(t, "/healthz?account=A&stream=BAD")
	require.Equal(t, http.StatusNotFound, code)
	require.JSONEq(t, `{"status":"unavailable","error":"JetStream stream \"BAD\" not found on account \"A\""}`, string(body))
	code, _, body = e.get(t, "/healthz?account=A&stream=BAD&details=1")
	require.Equal(t, http.StatusNotFound, code)
	require.JSONEq(t, `{"status":"error","errors":[{"type":"STREAM","account":"A","stream":"BAD","error":"JetStream stream \"BAD\" not found on account \"A\""}]}`, string(body))

	// A stream without its account is a bad request, before any check.
	code, _, body = e.get(t, "/healthz?stream=S")
	require.Equal(t, http.StatusBadRequest, code)
	require.JSONEq(t, `{"status":"error","error":"\"account\" must not be empty when checking stream health"}`, string(body))
	code, _, _ = e.get(t, "/healthz?details=maybe")
	require.Equal(t, http.StatusBadRequest, code)
}

func TestMetricsJetStream(t *testing.T) {
	e := start(t, server.Options{}, monitor.Options{})
	// Without JetStream (the "disabled" document) there are no JetStream
	// families.
	_, _, body := e.get(t, "/metrics")
	ex := parseExposition(t, body, false)
	require.NotContains(t, ex.types, "natsd_jsz_streams")

	e.srv.RegisterProvider(server.KindJsz, &jsInfoProvider{})
	_, _, body = e.get(t, "/metrics")
	ex = parseExposition(t, body, false)
	require.Equal(t, "gauge", ex.types["natsd_stream_messages"])
	require.Equal(t, "counter", ex.types["natsd_jsz_api_requests_total"])
	for name, want := range map[string]float64{
		"natsd_jsz_streams":                                   2,
		"natsd_jsz_messages":                                  7,
		"natsd_jsz_bytes":                                     700,
		"natsd_jsz_memory_bytes":                              200,
		"natsd_jsz_storage_bytes":                             500,
		"natsd_jsz_accounts":                                  2,
		"natsd_jsz_max_memory_bytes":                          1 << 20,
		"natsd_jsz_api_requests_total":                        9,
		"natsd_jsz_api_errors_total":                          1,
		`natsd_stream_messages{account="A",stream="ORDERS"}`:  5,
		`natsd_stream_bytes{account="A",stream="ORDERS"}`:     500,
		`natsd_stream_consumers{account="A",stream="ORDERS"}`: 2,
		`natsd_stream_last_seq{account="A",stream="ORDERS"}`:  5,
		`natsd_stream_messages{account="B",stream="CACHE"}`:   2,
		`natsd_stream_first_seq{account="B",stream="CACHE"}`:  3,
		`natsd_stream_consumers{account="B",stream="CACHE"}`:  0,
		`natsd_account_subscriptions{account="$G"}`:           0,
		"natsd_healthz_ok":                                    1,
	} {
		require.Contains(t, ex.samples, name)
		require.EqualValues(t, want, ex.samples[name], name)
	}

	// A provider answering another document type adds nothing.
	e.srv.RegisterProvider(server.KindJsz, server.ProviderFunc(func(*snapshot.JszOptions) (json.RawMessage, error) {
		return json.RawMessage(`{}`), nil
	}))
	_, _, body = e.get(t, "/metrics")
	ex = parseExposition(t, body, false)
	require.NotContains(t, ex.types, "natsd_stream_messages")
}
