package jetstream

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Consumer advisories and metrics (types and subjects as upstream).
const (
	metricPrefix      = "$JS.EVENT.METRIC."
	ackMetricType     = "io.nats.jetstream.metric.v1.consumer_ack"
	nakAdvisoryType   = "io.nats.jetstream.advisory.v1.nak"
	pauseAdvisoryType = "io.nats.jetstream.advisory.v1.consumer_pause"
)

type ackMetric struct {
	event
	Stream      string `json:"stream"`
	Consumer    string `json:"consumer"`
	ConsumerSeq uint64 `json:"consumer_seq"`
	StreamSeq   uint64 `json:"stream_seq"`
	Delay       int64  `json:"ack_time"`
	Deliveries  uint64 `json:"deliveries"`
	Domain      string `json:"domain,omitempty"`
}

type nakAdvisory struct {
	event
	Stream      string `json:"stream"`
	Consumer    string `json:"consumer"`
	ConsumerSeq uint64 `json:"consumer_seq"`
	StreamSeq   uint64 `json:"stream_seq"`
	Deliveries  uint64 `json:"deliveries"`
	Domain      string `json:"domain,omitempty"`
}

type pauseAdvisory struct {
	event
	Stream     string    `json:"stream"`
	Consumer   string    `json:"consumer"`
	Paused     bool      `json:"paused"`
	PauseUntil time.Time `json:"pause_until,omitempty"`
	Domain     string    `json:"domain,omitempty"`
}

// sampleRate parses sample_freq ("40" or "40%") into a percentage.
func sampleRate(s string) int {
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	if err != nil || n < 0 || n > 100 {
		return 0
	}
	return n
}

// queueEventLocked keeps an advisory to publish once c.mu is released
// (publishing under the consumer's lock could wait on a subscriber that
// waits on the consumer).
func (c *consumer) queueEventLocked(subject string, v any) {
	c.events = append(c.events, pendingEvent{subject, v})
}

type pendingEvent struct {
	subject string
	v       any
}

// publishEvents publishes the queued advisories; c.mu is not held.
func (c *consumer) publishEvents() {
	c.mu.Lock()
	evs := c.events
	c.events = nil
	c.mu.Unlock()
	for _, e := range evs {
		c.acc.advise(e.subject, e.v)
	}
}

// ackSampledLocked queues an ack metric for pending entry p when the
// consumer samples acks and this one is picked.
func (c *consumer) ackSampledLocked(p pend, now time.Time) {
	if c.sample == 0 || rand.IntN(100) >= c.sample {
		return
	}
	c.queueEventLocked(metricPrefix+"CONSUMER.ACK."+c.stream+"."+c.name, ackMetric{
		event: newEvent(ackMetricType), Stream: c.stream, Consumer: c.name,
		ConsumerSeq: p.cseq, StreamSeq: p.sseq, Delay: now.UnixNano() - p.ts, Deliveries: uint64(p.dc),
		Domain: c.acc.js.opts.Domain,
	})
}

// nakedLocked queues the advisory of a NAK of pending entry p.
func (c *consumer) nakedLocked(p pend) {
	c.queueEventLocked(advisoryPrefix+"CONSUMER.MSG_NAKED."+c.stream+"."+c.name, nakAdvisory{
		event: newEvent(nakAdvisoryType), Stream: c.stream, Consumer: c.name,
		ConsumerSeq: p.cseq, StreamSeq: p.sseq, Deliveries: uint64(p.dc), Domain: c.acc.js.opts.Domain,
	})
}

// pauseCheckLocked queues a pause advisory when the consumer's paused
// state changed: paused through the API or a config, resumed through the
// API or because pause_until passed.
func (c *consumer) pauseCheckLocked(now time.Time) {
	p := c.cfg.PauseUntil
	paused := p != nil && p.After(now)
	if paused == c.advPaused {
		return
	}
	c.advPaused = paused
	ev := pauseAdvisory{event: newEvent(pauseAdvisoryType), Stream: c.stream, Consumer: c.name, Paused: paused, Domain: c.acc.js.opts.Domain}
	if paused {
		ev.PauseUntil = p.UTC()
	}
	c.queueEventLocked(advisoryPrefix+"CONSUMER.PAUSE."+c.stream+"."+c.name, ev)
}
