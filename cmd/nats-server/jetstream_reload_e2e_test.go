package main

import (
	"fmt"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

// TestJetStreamReloadLimits reloads jetstream { limits {} }, as upstream
// ("Reloaded: JetStream limits"): a consumer created afterwards (nats.go's
// jetstream package) is checked against the new max_ack_pending, and
// /varz shows the new limits.
func TestJetStreamReloadLimits(t *testing.T) {
	dir := t.TempDir()
	block := "http_port: -1\njetstream { store_dir: %q\n%s}\n"
	store := filepath.Join(dir, "js")
	conf := writeFile(t, filepath.Join(dir, "js.conf"), fmt.Sprintf(block, store, ""))
	p := start(t, "-c", conf)
	js, err := jetstream.New(p.connect())
	require.NoError(t, err)
	st, err := js.CreateStream(t.Context(), jetstream.StreamConfig{Name: "RL", Subjects: []string{"rl.>"}})
	require.NoError(t, err)
	_, err = st.CreateOrUpdateConsumer(t.Context(), jetstream.ConsumerConfig{Durable: "BEFORE", AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 50})
	require.NoError(t, err)

	writeFile(t, conf, fmt.Sprintf(block, store, "  limits { max_ack_pending: 10 }\n"))
	p.signal(syscall.SIGHUP)
	p.waitLog("Reloaded: JetStream limits")
	p.waitLog("Reloaded server configuration")

	_, err = st.CreateOrUpdateConsumer(t.Context(), jetstream.ConsumerConfig{Durable: "AFTER", AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 50})
	require.ErrorContains(t, err, "consumer max ack pending exceeds system limit of 10")
	_, err = st.CreateOrUpdateConsumer(t.Context(), jetstream.ConsumerConfig{Durable: "AFTER", AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 10})
	require.NoError(t, err)

	var varz struct {
		JetStream struct {
			Limits struct {
				MaxAckPending int `json:"max_ack_pending"`
			} `json:"limits"`
		} `json:"jetstream"`
	}
	getJSON(t, p.monitorURL()+"/varz", &varz)
	require.Equal(t, 10, varz.JetStream.Limits.MaxAckPending)

	// Other JetStream keys still need a restart, as upstream.
	writeFile(t, conf, fmt.Sprintf(block, store, "  limits { max_ack_pending: 10 }\n  unique_tag: az\n"))
	p.signal(syscall.SIGHUP)
	p.waitLog("[ERR] Failed to reload server configuration: config reload not supported for jetstream")
}
