package jetstream

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"time"

	"natsd.dev/jetstream/api"
	"natsd.dev/jetstream/internal/stream"
	"natsd.dev/jetstream/store"
	"natsd.dev/server"
)

// maxNakDelay caps a -NAK's delay.
const maxNakDelay = 100 * 365 * 24 * time.Hour

// handleAck handles a message on $JS.ACK.<stream>.<consumer>.>.
// The reply subject nats.go acks to is
// $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>.
func (c *consumer) handleAck(m *server.Msg) {
	tok, ok := ackToken(m.Subject, 5)
	if !ok {
		// Only the reply subjects this server hands out, as upstream.
		return
	}
	sseq, ok := parseSeq(tok)
	if !ok {
		return
	}
	body := m.Data
	kind, rest := body, []byte(nil)
	if i := bytes.IndexByte(body, ' '); i >= 0 {
		kind, rest = body[:i], bytes.TrimSpace(body[i+1:])
	}
	var acked []uint64
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.active = time.Now()
	// A plain ack changes what the loop may deliver only when it frees a
	// slot of a full max_ack_pending, or for a priority group (overflow
	// by min_ack_pending): otherwise the loop is not woken for it.
	kick := true
	switch string(kind) {
	case "", "+ACK":
		kick = c.cfg.PriorityPolicy != api.PriorityNone ||
			(c.cfg.MaxAckPending > 0 && c.npend >= c.cfg.MaxAckPending)
		acked = c.ackLocked(sseq)
	case "+NXT":
		acked = c.ackLocked(sseq)
		if len(m.Reply) > 0 {
			// The request that follows the ack goes through the checks
			// of a pull request (max_waiting, bad values).
			defer c.handleNext(string(m.Reply), rest)
		}
	case "-NAK":
		if i, ok := c.findLocked(sseq); ok && !c.pending[i].done {
			var delay time.Duration
			if len(rest) > 0 {
				var d struct {
					Delay time.Duration `json:"delay"`
				}
				if json.Unmarshal(rest, &d) == nil {
					delay = d.Delay
				} else if dd, err := time.ParseDuration(string(rest)); err == nil {
					delay = dd
				}
			}
			p := &c.pending[i]
			c.nakedLocked(*p)
			if delay > 0 {
				// A delay of centuries is a century: the times below stay
				// within int64 nanoseconds (a wrapped one redelivered at once).
				delay = min(delay, maxNakDelay)
				// Redeliver once delay passed: shift the delivery time.
				p.ts = time.Now().Add(delay).UnixNano() - int64(c.waitFor(p.dc))
				c.armScan(time.Now().Add(delay).UnixNano())
			} else if !p.rdq {
				p.rdq = true
				c.rdq = append(c.rdq, sseq)
			}
			c.dirty = true
		}
	case "+WPI":
		if i, ok := c.findLocked(sseq); ok && !c.pending[i].done {
			c.pending[i].ts = time.Now().UnixNano()
			c.dirty = true
		}
	case "+TERM":
		if i, ok := c.findLocked(sseq); ok && !c.pending[i].done {
			p := c.pending[i]
			c.doneLocked(i)
			acked = []uint64{sseq}
			ev := struct {
				Type       string    `json:"type"`
				ID         string    `json:"id"`
				Time       time.Time `json:"timestamp"`
				Stream     string    `json:"stream"`
				Consumer   string    `json:"consumer"`
				ConsSeq    uint64    `json:"consumer_seq"`
				StreamSeq  uint64    `json:"stream_seq"`
				Deliveries uint64    `json:"deliveries"`
				Reason     string    `json:"reason,omitempty"`
				Domain     string    `json:"domain,omitempty"`
			}{"io.nats.jetstream.advisory.v1.terminated", newID(), time.Now().UTC(), c.stream, c.name, p.cseq, p.sseq, uint64(p.dc), string(rest), c.acc.js.opts.Domain}
			defer c.acc.advise(advisoryPrefix+"CONSUMER.MSG_TERMINATED."+c.stream+"."+c.name, ev)
		}
	default:
		c.mu.Unlock()
		return
	}
	if len(acked) > 0 {
		c.lastAck = c.active
	}
	evs := len(c.events) > 0
	c.mu.Unlock()
	if evs {
		c.publishEvents()
	}
	if kick {
		c.signal()
	}
	if len(acked) > 0 && c.ret != api.LimitsPolicy {
		c.se.ackedBy(c, acked)
	}
	if len(m.Reply) > 0 && string(kind) != "+NXT" {
		// AckSync: answer once the ack is durable.
		_ = c.flush(true)
		_ = c.sess.Publish(string(m.Reply), "", nil, nil)
	}
}

// ackToken returns the i-th token of an ack reply subject, which must
// have the 9 tokens of $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.
// <cseq>.<ts>.<pending>.
func ackToken(subj []byte, i int) ([]byte, bool) {
	var tok []byte
	n := 0
	for {
		j := bytes.IndexByte(subj, '.')
		t := subj
		if j >= 0 {
			t = subj[:j]
		}
		if n == i {
			tok = t
		}
		n++
		if j < 0 {
			break
		}
		subj = subj[j+1:]
	}
	return tok, n == 9
}

// parseSeq parses a sequence as strconv.ParseUint(s, 10, 64) does.
func parseSeq(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var n uint64
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		d := uint64(ch - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// ackLocked acks sseq (and, with ack all, everything before it) and
// returns the stream sequences newly acked. c.active is the ack's time.
func (c *consumer) ackLocked(sseq uint64) []uint64 {
	switch c.cfg.AckPolicy {
	case api.AckNone:
		return nil
	case api.AckAll:
		var out []uint64
		for i := c.head; i < len(c.pending) && c.pending[i].sseq <= sseq; i++ {
			if !c.pending[i].done {
				out = append(out, c.pending[i].sseq)
				if c.pending[i].sseq == sseq {
					c.ackSampledLocked(c.pending[i], c.active)
				}
				c.doneLocked(i)
			}
		}
		return out
	}
	if i, ok := c.findLocked(sseq); ok && !c.pending[i].done {
		c.ackSampledLocked(c.pending[i], c.active)
		c.doneLocked(i)
		return []uint64{sseq}
	}
	return nil
}

// handleFC takes a client's answer to a flow control request.
func (c *consumer) handleFC(m *server.Msg) {
	c.mu.Lock()
	if c.fcReply == string(m.Subject) {
		c.fcReply = ""
	}
	c.mu.Unlock()
	c.signal()
}

// handleNext takes a pull request ($JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>).
func (c *consumer) handleNext(reply string, data []byte) {
	// Upstream's name for the request: JSON errors name it ("Go struct
	// field JSApiConsumerGetNextRequest.batch ...") in the 400 status.
	type JSApiConsumerGetNextRequest api.PullRequest
	req := api.PullRequest{Batch: 1}
	data = bytes.TrimSpace(data)
	if len(data) > 0 {
		if data[0] == '{' {
			if err := json.Unmarshal(data, (*JSApiConsumerGetNextRequest)(&req)); err != nil {
				c.status(reply, "400 Bad Request - "+err.Error(), nil)
				return
			}
		} else if n, err := strconv.Atoi(string(data)); err == nil {
			req.Batch = n
		} // else: a body that is neither JSON nor a number asks for one message, as upstream
	}
	// Negative sizes are no limits, as upstream: a batch of one, no byte cap.
	req.Batch = max(req.Batch, 1)
	req.MaxBytes = max(req.MaxBytes, 0)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.active = time.Now()
	if len(c.waiting) >= c.cfg.MaxWaiting && c.active.Sub(c.pruned) >= 20*time.Millisecond {
		// At most every 20ms: a flood of requests against a full list
		// does not look up every waiting request's interest each time.
		c.pruned = c.active
		c.dropGoneLocked()
	}
	code := ""
	var kv []string
	switch {
	case c.cfg.DeliverSubject != "":
		code = "409 Consumer is push based"
	case (req.MinPending > 0 || req.MinAckPending > 0) && c.cfg.PriorityPolicy != api.PriorityOverflow:
		code = "400 Bad Request - Not a Overflow Priority consumer"
	case req.ID != "" && c.cfg.PriorityPolicy != api.PriorityPinnedClient:
		code = "400 Bad Request - Not a Pinned Client Priority consumer"
	case req.Priority < 0 || req.Priority > 9:
		code = "400 Bad Request - Priority must be between 0 and 9"
	case c.cfg.MaxRequestBatch > 0 && req.Batch > c.cfg.MaxRequestBatch:
		code = "409 Exceeded MaxRequestBatch of " + strconv.Itoa(c.cfg.MaxRequestBatch)
	case c.cfg.MaxRequestExp > 0 && req.Expires > c.cfg.MaxRequestExp:
		code = "409 Exceeded MaxRequestExpires of " + c.cfg.MaxRequestExp.String()
	case c.cfg.MaxRequestBytes > 0 && req.MaxBytes > c.cfg.MaxRequestBytes:
		code = "409 Exceeded MaxRequestMaxBytes of " + strconv.Itoa(c.cfg.MaxRequestBytes)
	case req.Expires < 0:
		// Expired before it came: upstream ends it at once.
		code = "408 Request Timeout"
		kv = []string{"Nats-Pending-Messages", strconv.Itoa(req.Batch), "Nats-Pending-Bytes", strconv.Itoa(req.MaxBytes)}
	case req.Heartbeat > 0 && req.Heartbeat*2 > req.Expires: // also without expires, as upstream
		code = "400 Bad Request - heartbeat value too large"
	case len(c.cfg.PriorityGroups) > 0 && req.Group == "":
		code = "400 Bad Request - Priority Group missing"
	case len(c.cfg.PriorityGroups) > 0 && !contains(c.cfg.PriorityGroups, req.Group):
		code = "400 Bad Request - Invalid Priority Group"
	case len(c.waiting) >= c.cfg.MaxWaiting:
		code = "409 Exceeded MaxWaiting"
	case c.pinned() && req.ID != "" && c.pinOfLocked(req.Group).id != "" && req.ID != c.pinOfLocked(req.Group).id:
		// Another client holds the pin. With nobody pinned the request
		// waits, and learns its id is stale once a message could go out.
		code = "423 Nats-Pin-Id mismatch"
	}
	if code == "" {
		c.addRequestLocked(reply, &req)
	}
	c.mu.Unlock()
	if code != "" {
		c.status(reply, code, kv)
		return
	}
	c.signal()
}

// dropGoneLocked removes the waiting requests nobody listens to any more
// (their client went away), as upstream does before refusing a request
// with 409 Exceeded MaxWaiting.
func (c *consumer) dropGoneLocked() {
	if c.sacc == nil {
		return
	}
	kept := c.waiting[:0]
	for _, r := range c.waiting {
		if c.sacc.HasInterest(r.reply) {
			kept = append(kept, r)
		}
	}
	clear(c.waiting[len(kept):])
	c.waiting = kept
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func (c *consumer) addRequestLocked(reply string, req *api.PullRequest) {
	now := time.Now()
	r := &pullReq{reply: reply, batch: max(req.Batch, 1), maxBytes: req.MaxBytes, noWait: req.NoWait, hb: req.Heartbeat, lastSend: now,
		group: req.Group, minPending: req.MinPending, minAckPending: req.MinAckPending, id: req.ID, priority: req.Priority}
	if c.pinned() && req.ID != "" {
		if p := c.pinOfLocked(req.Group); p.id == req.ID {
			p.lastPull = now
		}
	}
	if req.Expires > 0 {
		r.expires = now.Add(req.Expires)
		if req.NoWait {
			// no_wait with expires waits for messages if there are any
			// pending, as upstream's "no wait with expiry".
			r.noWait = true
		}
	}
	c.waiting = append(c.waiting, r)
}

// retention returns the stream's retention policy.
func (se *streamEntry) retention() api.RetentionPolicy { return se.Config().Retention }

// ackedLater runs ackedBy off the consumer's lock.
func (se *streamEntry) ackedLater(c *consumer, seq uint64) {
	go se.ackedBy(c, []uint64{seq})
}

// ackedBy removes the messages of an interest or work queue stream that
// every interested consumer has now acked.
func (se *streamEntry) ackedBy(by *consumer, seqs []uint64) {
	wq := se.retention() == api.WorkQueuePolicy
	others := se.cons.list()
	st := se.Store()
	var sm store.StoredMsg
	for _, s := range seqs {
		if !wq {
			if err := st.LoadMsg(s, &sm); err != nil {
				continue
			}
			subj := sm.Subject
			keep := false
			for _, o := range others {
				if o != by && o.matches(subj) && !o.hasAcked(s) {
					keep = true
					break
				}
			}
			if keep {
				continue
			}
		}
		se.Propose(&stream.Op{Kind: stream.OpDelete, Seq: s, NoErase: true})
	}
}

// hasAcked reports whether the consumer is done with stream sequence s.
func (c *consumer) hasAcked(s uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s > c.dsseq {
		return false
	}
	if c.cfg.AckPolicy == api.AckNone {
		return true
	}
	i, ok := c.findLocked(s)
	return !ok || c.pending[i].done
}

// reset makes stream sequence seq (0: the one after the ack floor) the
// next to deliver, as upstream's CONSUMER.RESET: pending acks and
// redeliveries are dropped, the consumer sequence starts again from 0 and
// everything below seq counts as acknowledged. On an interest stream the
// messages below seq that no other consumer still wants go (unless seq is
// past the stream's last sequence plus one); a work queue stream keeps
// them (they come again after a reset back).
func (c *consumer) reset(seq uint64) (uint64, *api.Error) {
	c.mu.Lock()
	lps := false
	if seq != 0 {
		bad := ""
		switch c.cfg.DeliverPolicy {
		case api.DeliverAll:
		case api.DeliverByStartSeq:
			if seq < c.cfg.OptStartSeq {
				bad = "below start seq"
			}
		case api.DeliverByStartTime:
			if first := stream.SeqAtTime(c.se.Store(), c.cfg.OptStartTime.UnixNano(), &c.sm); seq < first {
				bad = "below start time"
			}
		default:
			bad = "not allowed"
		}
		if bad != "" {
			c.mu.Unlock()
			return 0, api.ErrConsumerInvalidReset.With("err", bad)
		}
	} else {
		seq = c.floor.Stream + 1
		lps = c.cfg.DeliverPolicy == api.DeliverLastPerSubject
	}
	c.pending, c.head, c.npend, c.nredel = nil, 0, 0, 0
	c.rdq, c.lps = nil, nil
	c.dseq = 0
	c.next = seq
	c.dsseq = seq - 1
	c.floor = store.SequencePair{Stream: seq - 1}
	if lps {
		// Back to the last message of each subject above the floor.
		c.startLastPerSubject(seq - 1)
		seq = c.floor.Stream + 1
	}
	c.last, c.lastAck = time.Time{}, time.Time{}
	c.scanAt = 0
	c.npValid = false
	c.rpTs = 0
	c.dirty = true
	below := c.floor.Stream + 1
	filters := c.filterOrAll()
	c.mu.Unlock()
	_ = c.flush(true)
	// Only up to the stream's end: a reset past it (to a sequence not yet
	// stored plus one) keeps the messages, as upstream's does.
	if c.ret == api.InterestPolicy && below <= c.se.State().LastSeq+1 {
		c.se.releasedBy(c, filters, below)
	}
	c.signal()
	return seq, nil
}

// releasedBy removes the messages of an interest stream below stream
// sequence below that match filters (consumer by's, which no longer
// wants them) and that no other consumer still wants.
func (se *streamEntry) releasedBy(by *consumer, filters []string, below uint64) {
	others := se.cons.list()
	st := se.Store()
	var sm store.StoredMsg
	for _, f := range filters {
		if f == ">" {
			f = ""
		}
		for seq := uint64(0); ; seq = sm.Seq + 1 {
			if err := st.LoadNextMsg(f, seq, &sm); err != nil || sm.Seq >= below {
				break
			}
			keep := false
			for _, o := range others {
				if o != by && o.matches(sm.Subject) && !o.hasAcked(sm.Seq) {
					keep = true
					break
				}
			}
			if !keep {
				se.Propose(&stream.Op{Kind: stream.OpDelete, Seq: sm.Seq, NoErase: true})
			}
		}
	}
}
