package main

// The nats CLI's consumer commands against the built binary.

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// cliConsumerInfo is the part of `nats consumer info -j` (the server's
// CONSUMER.INFO response) the test looks at.
type cliConsumerInfo struct {
	Stream string `json:"stream_name"`
	Name   string `json:"name"`
	Config struct {
		Durable       string `json:"durable_name"`
		Name          string `json:"name"`
		Description   string `json:"description"`
		DeliverPolicy string `json:"deliver_policy"`
		AckPolicy     string `json:"ack_policy"`
		AckWait       int64  `json:"ack_wait"`
		MaxDeliver    int    `json:"max_deliver"`
		FilterSubject string `json:"filter_subject"`
		ReplayPolicy  string `json:"replay_policy"`
		MaxAckPending int    `json:"max_ack_pending"`
		MaxWaiting    int    `json:"max_waiting"`
		MaxBatch      int    `json:"max_batch"`
		DeliverSubj   string `json:"deliver_subject"`
		HeadersOnly   bool   `json:"headers_only"`
	} `json:"config"`
	Delivered struct {
		Consumer uint64 `json:"consumer_seq"`
		Stream   uint64 `json:"stream_seq"`
	} `json:"delivered"`
	AckFloor struct {
		Consumer uint64 `json:"consumer_seq"`
		Stream   uint64 `json:"stream_seq"`
	} `json:"ack_floor"`
	NumAckPending  int    `json:"num_ack_pending"`
	NumRedelivered int    `json:"num_redelivered"`
	NumWaiting     int    `json:"num_waiting"`
	NumPending     uint64 `json:"num_pending"`
}

// TestNatsCLIConsumerE2E drives a pull consumer's life with the nats CLI:
// add with every prompt answered by a flag, info, ls, next with and
// without acks, and rm.
func TestNatsCLIConsumerE2E(t *testing.T) {
	bin := natsCLIBinary(t)
	p := startJS(t, "-js", "-sd", t.TempDir())
	c := newNatsCLI(t, bin, p)
	c.run("stream", "add", "ORD", "--subjects", "ord.>", "--defaults")
	c.run("pub", "ord.new", "msg {{Count}}", "--count", "5")
	c.run("pub", "ord.other", "skip")

	out := c.run("consumer", "add", "ORD", "PC", "--pull", "--ack", "explicit", "--deliver", "all",
		"--filter", "ord.new", "--max-deliver", "5", "--max-pending", "100", "--wait", "30s",
		"--replay", "instant", "--description", "pull consumer", "--max-waiting", "64",
		"--max-pull-batch", "10", "--no-headers-only", "--defaults")
	require.Contains(t, out, "Information for Consumer ORD > PC")

	var ci cliConsumerInfo
	c.json(&ci, "consumer", "info", "ORD", "PC", "-j")
	require.Equal(t, "ORD", ci.Stream)
	require.Equal(t, "PC", ci.Name)
	cfg := ci.Config
	require.Equal(t, "PC", cfg.Durable)
	require.Equal(t, "PC", cfg.Name)
	require.Equal(t, "pull consumer", cfg.Description)
	require.Equal(t, "all", cfg.DeliverPolicy)
	require.Equal(t, "explicit", cfg.AckPolicy)
	require.EqualValues(t, 30*time.Second, cfg.AckWait)
	require.Equal(t, 5, cfg.MaxDeliver)
	require.Equal(t, "ord.new", cfg.FilterSubject)
	require.Equal(t, "instant", cfg.ReplayPolicy)
	require.Equal(t, 100, cfg.MaxAckPending)
	require.Equal(t, 64, cfg.MaxWaiting)
	require.Equal(t, 10, cfg.MaxBatch)
	require.Empty(t, cfg.DeliverSubj)
	require.False(t, cfg.HeadersOnly)
	require.EqualValues(t, 5, ci.NumPending, "the filter leaves out ord.other")
	require.Zero(t, ci.Delivered.Stream)
	require.Zero(t, ci.NumAckPending)

	// A second consumer, with defaults for all else, for ls.
	c.run("consumer", "add", "ORD", "ALL", "--pull", "--ack", "none", "--deliver", "last", "--defaults")
	var names []string
	c.json(&names, "consumer", "ls", "ORD", "-j")
	require.Equal(t, []string{"ALL", "PC"}, names)
	require.Equal(t, "ALL\nPC", strings.TrimSpace(c.run("consumer", "ls", "ORD", "-n")))
	c.json(&ci, "consumer", "info", "ORD", "ALL", "-j")
	require.Equal(t, "none", ci.Config.AckPolicy)
	require.Equal(t, "last", ci.Config.DeliverPolicy)
	require.EqualValues(t, 1, ci.NumPending, "deliver last: the last message only")

	// next --ack: two messages, acked (the CLI waits for the ack's
	// confirmation).
	out = c.run("consumer", "next", "ORD", "PC", "--ack", "--count", "2")
	require.Contains(t, out, "msg 1")
	require.Contains(t, out, "msg 2")
	require.Contains(t, out, "str seq: 2")
	require.Equal(t, 2, strings.Count(out, "Acknowledged message"), out)
	// next --no-ack --raw: the third message, left pending.
	require.Equal(t, "msg 3", strings.TrimSpace(c.run("consumer", "next", "ORD", "PC", "--no-ack", "--raw")))

	c.json(&ci, "consumer", "info", "ORD", "PC", "-j")
	require.EqualValues(t, 3, ci.Delivered.Consumer)
	require.EqualValues(t, 3, ci.Delivered.Stream)
	require.EqualValues(t, 2, ci.AckFloor.Consumer)
	require.EqualValues(t, 2, ci.AckFloor.Stream)
	require.Equal(t, 1, ci.NumAckPending)
	require.Zero(t, ci.NumRedelivered)
	require.EqualValues(t, 2, ci.NumPending)

	c.run("consumer", "rm", "ORD", "PC", "-f")
	c.json(&names, "consumer", "ls", "ORD", "-j")
	require.Equal(t, []string{"ALL"}, names)
	c.run("consumer", "rm", "ORD", "ALL", "-f")
	var none []string
	c.json(&none, "consumer", "ls", "ORD", "-j")
	require.Empty(t, none)
}
