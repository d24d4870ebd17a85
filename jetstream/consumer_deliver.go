package jetstream

import (
	"bytes"
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"time"

	"natsd.dev/jetstream/api"
	"natsd.dev/jetstream/internal/stream"
	"natsd.dev/jetstream/store"
)

// Push flow control (ADR-9): a consumer with flow_control asks its client
// for an answer ("100 FlowControl Request" with a reply subject under
// $JS.FC) every fcEvery messages or fcBytes bytes, and stalls when
// fcWindow messages or 2*fcBytes bytes went out past a request the client
// has not answered; the answer (or a reply to a stalled heartbeat's
// Nats-Consumer-Stalled subject) resumes delivery.
const (
	fcWindow = 512
	fcEvery  = fcWindow / 2
	fcBytes  = 1 << 20
)

// loop is the consumer's delivery goroutine: it delivers whatever can be
// delivered, then waits for new messages, pull requests, acks, timers.
func (c *consumer) loop() {
	defer c.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	flush := time.NewTicker(flushEvery)
	defer flush.Stop()
	for {
		newCh := c.se.waitNew()
		wake := c.work()
		if c.inactive() {
			go c.remove()
			return
		}
		d := time.Hour
		if !wake.IsZero() {
			d = max(time.Until(wake), time.Millisecond)
		}
		timer.Reset(d)
		select {
		case <-c.stop:
			return
		case <-c.kick:
		case <-newCh:
		case <-timer.C:
		case <-flush.C:
			_ = c.flush(false)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

func (c *consumer) signal() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// inactive reports whether an ephemeral consumer (or one with an
// inactive threshold) went unused for its threshold.
func (c *consumer) inactive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.cfg.InactiveThresh
	if t <= 0 || c.closed {
		return false
	}
	if c.cfg.DeliverSubject != "" {
		if c.sacc != nil && c.sacc.HasInterest(c.cfg.DeliverSubject) {
			c.active = time.Now()
			return false
		}
	} else if len(c.waiting) > 0 {
		c.active = time.Now()
		return false
	}
	return time.Since(c.active) > t
}

// out is one message to publish once the lock is released: a delivery
// (to set), through the consumer's Batch, whose subject, ack reply and
// payload (a header block of hl bytes, -1 for none, then the data) are
// views of the batch's arena; or a status or flow control message (to
// empty) through Session.Publish.
type out struct {
	to, subj, reply string
	hdr             []byte
	dsubj, dreply   []byte
	payload         []byte
	hl              int
}

// Delivery batches: work delivers up to deliverBatch messages (or about
// deliverBatchBytes of them) under one hold of the lock and publishes
// them in one go, so that the clock, the timers, the destination's
// interest and the receiver's writer are dealt with once per batch, not
// per message. The arena that holds a batch starts at arenaMin bytes and
// is not kept above arenaMax.
const (
	deliverBatch      = 64
	deliverBatchBytes = 64 << 10
	arenaMin          = 1 << 10
	arenaMax          = 256 << 10
)

// work delivers what it can and returns when it wants to run again.
func (c *consumer) work() time.Time {
	var wake time.Time
	soon := func(t time.Time) {
		if !t.IsZero() && (wake.IsZero() || t.Before(wake)) {
			wake = t
		}
	}
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return wake
		}
		now := time.Now()
		c.beginBatchLocked()
		outs := c.expireLocked(now, c.outs[:0])
		c.scanLocked(now.UnixNano())
		more := false
		for n := 1; ; n++ {
			o, ok, w := c.nextLocked(now)
			soon(w)
			if !ok {
				outs = c.noWaitDoneLocked(outs)
				break
			}
			outs = append(outs, o)
			if fc, ok := c.flowControlLocked(len(o.dsubj) + len(o.payload)); ok {
				outs = append(outs, fc)
			}
			if n >= deliverBatch || len(c.arena)+c.spill >= deliverBatchBytes {
				more = true
				break
			}
		}
		soon(c.wakeLocked(now))
		c.pauseCheckLocked(now)
		evs := len(c.events) > 0
		c.outs = outs
		c.inBatch, c.lastSeq, c.seenReq, c.seenPush = false, 0, nil, false
		c.mu.Unlock()
		if evs {
			c.publishEvents()
		}
		for i := range outs {
			m := &outs[i]
			if m.to != "" {
				_ = c.batch.PublishAs(m.to, m.dsubj, m.dreply, m.hl, m.payload)
			} else {
				_ = c.sess.Publish(m.subj, m.reply, m.hdr, nil)
			}
		}
		c.batch.Flush()
		clear(outs)
		if !more {
			return wake
		}
		wake = time.Time{}
	}
}

// beginBatchLocked starts a delivery batch: an empty arena (grown when
// the last batch's messages spilled out of it, within arenaMax) and fresh
// per-batch caches.
func (c *consumer) beginBatchLocked() {
	// A consumer that never delivered has none; one that delivers a
	// message at a time keeps a small one.
	if cap(c.arena) > arenaMax || (c.spill > 0 && cap(c.arena) < arenaMax) {
		c.arena = make([]byte, 0, min(max(cap(c.arena)+c.spill, arenaMin), arenaMax))
	}
	c.arena, c.spill = c.arena[:0], 0
	c.inBatch, c.lastSeq, c.seenReq, c.seenPush = true, 0, nil, false
}

// loadSlotLocked returns the StoredMsg a delivery loads into: its buffer
// is the arena's free tail, so a store that fills it in place (as
// StoredMsg.Set does when it fits) puts the message straight into the
// batch.
func (c *consumer) loadSlotLocked() *store.StoredMsg {
	sm := &c.bm
	sm.Buf = c.arena[len(c.arena):]
	return sm
}

// payloadLocked keeps the message loaded into sm for the batch (the
// arena's tail it was loaded into is taken) and returns its payload: hdr
// (when not empty) followed by data, contiguous, with the header's
// length (-1 without).
func (c *consumer) payloadLocked(sm *store.StoredMsg, hdr, data []byte) ([]byte, int) {
	n := len(sm.Buf)
	if free := c.arena[len(c.arena):cap(c.arena)]; n > 0 && len(free) >= n && &free[0] == &sm.Buf[0] {
		c.arena = c.arena[:len(c.arena)+n]
	} else {
		// The store allocated a buffer of its own for it: the batch
		// keeps that one, and the next arena is larger.
		c.spill += n
	}
	if len(hdr) == 0 {
		return data, -1
	}
	if n == len(hdr)+len(data) && &sm.Buf[0] == &hdr[0] && (len(data) == 0 || &sm.Buf[len(hdr)] == &data[0]) {
		return sm.Buf[:n:n], len(hdr)
	}
	// A header the delivery changed (headers_only, a pin id).
	start := len(c.arena)
	c.arena = append(append(c.arena, hdr...), data...)
	return c.arena[start:len(c.arena):len(c.arena)], len(hdr)
}

// wakeLocked is when timers need the loop: expiries, heartbeats, scans.
func (c *consumer) wakeLocked(now time.Time) time.Time {
	var w time.Time
	soon := func(t time.Time) {
		if !t.IsZero() && (w.IsZero() || t.Before(w)) {
			w = t
		}
	}
	for _, r := range c.waiting {
		soon(r.expires)
		if r.hb > 0 {
			soon(r.lastSend.Add(r.hb))
		}
	}
	if c.scanAt > 0 {
		soon(time.Unix(0, c.scanAt))
	}
	soon(c.pinWake)
	if hb := c.cfg.Heartbeat; hb > 0 {
		soon(c.hbAt)
	}
	if c.cfg.InactiveThresh > 0 {
		soon(c.active.Add(c.cfg.InactiveThresh + time.Millisecond))
	}
	if p := c.cfg.PauseUntil; p != nil && p.After(now) {
		soon(*p)
	}
	return w
}

func statusHdr(code string, kv ...string) []byte {
	b := []byte("NATS/1.0 " + code + "\r\n")
	for i := 0; i+1 < len(kv); i += 2 {
		b = append(b, kv[i]+": "+kv[i+1]+"\r\n"...)
	}
	return append(b, "\r\n"...)
}

// status sends a status message to a pull request's reply.
func (c *consumer) status(reply, code string, kv []string) {
	_ = c.sess.Publish(reply, "", statusHdr(code, kv...), nil)
}

func pendingKV(r *pullReq) []string {
	return []string{"Nats-Pending-Messages", strconv.Itoa(r.batch), "Nats-Pending-Bytes", strconv.Itoa(r.maxBytes)}
}

// expireLocked ends expired requests (408) and sends due heartbeats.
func (c *consumer) expireLocked(now time.Time, outs []out) []out {
	kept := c.waiting[:0]
	for _, r := range c.waiting {
		if !r.expires.IsZero() && !now.Before(r.expires) {
			outs = append(outs, out{subj: r.reply, hdr: statusHdr("408 Request Timeout", pendingKV(r)...)})
			continue
		}
		if r.hb > 0 && now.Sub(r.lastSend) >= r.hb {
			r.lastSend = now
			outs = append(outs, out{subj: r.reply, hdr: statusHdr("100 Idle Heartbeat")})
		}
		kept = append(kept, r)
	}
	clear(c.waiting[len(kept):])
	c.waiting = kept
	outs, c.pinWake = c.pinsLocked(now, outs)
	outs = c.noWaitLocked(outs)
	if hb := c.cfg.Heartbeat; hb > 0 && c.cfg.DeliverSubject != "" {
		if c.hbAt.IsZero() {
			c.hbAt = now.Add(hb)
		} else if !now.Before(c.hbAt) {
			kv := []string{"Nats-Last-Consumer", strconv.FormatUint(c.dseq, 10), "Nats-Last-Stream", strconv.FormatUint(c.dsseq, 10)}
			if c.stalledLocked() {
				kv = append(kv, "Nats-Consumer-Stalled", c.fcReply)
			}
			outs = append(outs, out{subj: c.cfg.DeliverSubject, hdr: statusHdr("100 Idle Heartbeat", kv...)})
			c.hbAt = now.Add(hb)
		}
	}
	return outs
}

// scanLocked queues the pending messages whose ack wait ran out.
func (c *consumer) scanLocked(now int64) {
	if c.scanAt == 0 || now < c.scanAt || c.cfg.AckPolicy == api.AckNone {
		return
	}
	var next int64
	for i := c.head; i < len(c.pending); i++ {
		p := &c.pending[i]
		if p.done || p.rdq {
			continue
		}
		due := dueAt(p.ts, c.waitFor(p.dc))
		if due <= now {
			p.rdq = true
			c.rdq = append(c.rdq, p.sseq)
			continue
		}
		if next == 0 || due < next {
			next = due
		}
	}
	// Coalesce scans: a late redelivery by a few ms, not a scan per message.
	if next > 0 {
		next = max(next, now+int64(5*time.Millisecond))
	}
	c.scanAt = next
}

// dueAt is ts plus d in nanoseconds, the largest time when that does
// not fit (an ack wait near the largest duration would otherwise wrap
// into the past and redeliver at once).
func dueAt(ts int64, d time.Duration) int64 {
	if due := ts + int64(d); d <= 0 || due > ts {
		return due
	}
	return math.MaxInt64
}

// waitFor is the ack wait after the dc-th delivery.
func (c *consumer) waitFor(dc uint32) time.Duration {
	if b := c.cfg.BackOff; len(b) > 0 {
		i := int(dc) - 1
		if i >= len(b) {
			i = len(b) - 1
		}
		return b[max(i, 0)]
	}
	return c.cfg.AckWait
}

func (c *consumer) armScan(at int64) {
	if c.scanAt == 0 || at < c.scanAt {
		c.scanAt = at
	}
}

// target is where the next message goes: a pull request or the deliver
// subject. ok is false when nobody takes messages now.
func (c *consumer) targetLocked() (r *pullReq, ok bool) {
	if c.cfg.DeliverSubject != "" {
		if !c.seenPush {
			if c.sacc == nil || !c.sacc.HasInterest(c.cfg.DeliverSubject) {
				return nil, false
			}
			c.seenPush = c.inBatch // checked once per batch
		}
		if c.stalledLocked() {
			return nil, false
		}
		return nil, true
	}
	return c.choosePullLocked()
}

func (c *consumer) dropFirst() {
	c.waiting[0] = nil
	c.waiting = c.waiting[1:]
}

// nextLocked finds the next message and a target for it and records the
// delivery. It returns the message to publish, whether there was one,
// and when to look again if something waits (a paused consumer).
func (c *consumer) nextLocked(now time.Time) (out, bool, time.Time) {
	if p := c.cfg.PauseUntil; p != nil && p.After(now) {
		return out{}, false, *p
	}
	if c.cfg.RateLimit > 0 && now.Before(c.rlAt) {
		return out{}, false, c.rlAt
	}
	for {
		r, ok := c.targetLocked()
		if !ok {
			return out{}, false, time.Time{}
		}
		ackd := c.cfg.AckPolicy != api.AckNone
		full := ackd && c.cfg.MaxAckPending > 0 && c.npend >= c.cfg.MaxAckPending && len(c.rdq) == 0
		sm := c.loadSlotLocked()
		seq, redeliver, found, loaded := uint64(0), false, false, false
		if !full {
			seq, redeliver, found, loaded = c.pickLocked(sm)
		}
		if !found {
			if r != nil && r.noWait {
				// Also after some messages: upstream 2.15 ends a no_wait
				// request with 404, without pending counts.
				c.dropFirst()
				return out{subj: r.reply, hdr: statusHdr("404 No Messages")}, true, time.Time{}
			}
			return out{}, false, time.Time{}
		}
		if !loaded || sm.Seq != seq {
			if err := c.se.Store().LoadMsg(seq, sm); err != nil {
				// Removed meanwhile (limits, acks of other consumers).
				if redeliver {
					c.forgetLocked(seq)
				}
				continue
			}
		}
		if redeliver && c.cfg.MaxDeliver > 0 {
			if i, ok := c.findLocked(seq); ok && int(c.pending[i].dc) >= c.cfg.MaxDeliver {
				c.maxDelivered(i)
				continue
			}
		}
		if !redeliver && c.cfg.ReplayPolicy == api.ReplayOriginal && c.rpTs != 0 {
			// Keep the original spacing of the messages.
			if due := c.rpAt.Add(time.Duration(sm.Time - c.rpTs)); now.Before(due) {
				c.unpickLocked(seq)
				return out{}, false, due
			}
		}
		hdr, data := sm.Hdr, sm.Data
		if c.cfg.HeadersOnly {
			hdr = appendHeader(hdr, "Nats-Msg-Size", strconv.Itoa(len(data)))
			data = nil
		}
		size := len(sm.Subject) + len(hdr) + len(data)
		if r != nil && c.pinned() {
			size += len("Nats-Pin-Id: \r\n") + idLen
		}
		if r != nil && r.maxBytes > 0 && size > r.maxBytes {
			c.dropFirst()
			if redeliver {
				c.rdq = append([]uint64{seq}, c.rdq...)
			} else {
				c.unpickLocked(seq)
			}
			if r.sent == 0 {
				return out{subj: r.reply, hdr: statusHdr("409 Message Size Exceeds MaxBytes")}, true, time.Time{}
			}
			return out{subj: r.reply, hdr: statusHdr("408 Request Timeout", pendingKV(r)...)}, true, time.Time{}
		}
		if id := c.pinForLocked(r, now); id != "" {
			hdr = appendHeader(hdr, "Nats-Pin-Id", id)
		}
		c.dseq++
		ts := now.UnixNano()
		var dc uint32 = 1
		if redeliver {
			i, _ := c.findLocked(seq)
			p := &c.pending[i]
			if p.dc == 1 {
				c.nredel++
			}
			p.dc++
			p.cseq, p.ts, p.rdq = c.dseq, ts, false
			dc = p.dc
			c.armScan(dueAt(ts, c.waitFor(dc)))
		} else {
			c.dsseq = seq
			if ackd {
				c.pending = append(c.pending, pend{sseq: seq, cseq: c.dseq, ts: ts, dc: 1})
				c.npend++
				c.armScan(dueAt(ts, c.waitFor(1)))
			} else {
				c.floor = store.SequencePair{Consumer: c.dseq, Stream: seq}
			}
		}
		if !redeliver && seq > c.dsseq {
			c.dsseq = seq
		}
		c.dirty = true
		c.last = now
		c.hbAt = now.Add(c.cfg.Heartbeat)
		if !redeliver && c.npValid && c.np > 0 {
			c.np--
		}
		np := c.replyPendingLocked()
		payload, hl := c.payloadLocked(sm, hdr, data)
		start := len(c.arena)
		c.arena = append(c.arena, sm.Subject...)
		mid := len(c.arena)
		c.arena = c.appendAckReply(c.arena, dc, seq, sm.Time, np)
		dsubj, dreply := c.arena[start:mid:mid], c.arena[mid:len(c.arena):len(c.arena)]
		to := c.cfg.DeliverSubject
		if r != nil {
			to = r.reply
			r.batch--
			r.sent++
			r.lastSend = now
			if r.maxBytes > 0 {
				r.maxBytes -= size
				if r.maxBytes <= 0 {
					r.batch = 0
				}
			}
			if r.batch <= 0 {
				c.dropFirst()
			}
		}
		if !redeliver && c.cfg.ReplayPolicy == api.ReplayOriginal {
			c.rpTs, c.rpAt = sm.Time, now
		}
		if bps := c.cfg.RateLimit; bps > 0 {
			d := time.Duration(float64(size) * 8 / float64(bps) * float64(time.Second))
			c.rlAt = now.Add(d)
		}
		if !ackd && c.ret != api.LimitsPolicy {
			c.se.ackedLater(c, seq)
		}
		return out{to: to, dsubj: dsubj, dreply: dreply, payload: payload, hl: hl}, true, time.Time{}
	}
}

// appendAckReply appends the reply of a delivery to b:
// $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>.
func (c *consumer) appendAckReply(b []byte, dc uint32, seq uint64, ts int64, np uint64) []byte {
	b = append(b, c.ackPre...)
	b = append(strconv.AppendUint(b, uint64(dc), 10), '.')
	b = append(strconv.AppendUint(b, seq, 10), '.')
	b = append(strconv.AppendUint(b, c.dseq, 10), '.')
	b = append(strconv.AppendInt(b, ts, 10), '.')
	return strconv.AppendUint(b, np, 10)
}

// flowControlLocked counts a message of size bytes just delivered to a
// push consumer with flow control and returns a flow control request
// when one is due.
func (c *consumer) flowControlLocked(size int) (out, bool) {
	if !c.cfg.FlowControl || c.cfg.DeliverSubject == "" {
		return out{}, false
	}
	c.fcSince++
	c.fcSize += size
	if c.fcReply != "" || (c.fcSince < fcEvery && c.fcSize < fcBytes) {
		return out{}, false
	}
	c.fcN++
	c.fcReply = "$JS.FC." + c.stream + "." + c.name + "." + strconv.FormatUint(c.fcN, 36)
	c.fcSince, c.fcSize = 0, 0
	return out{subj: c.cfg.DeliverSubject, reply: c.fcReply, hdr: statusHdr("100 FlowControl Request")}, true
}

// stalledLocked reports whether a push consumer waits for the answer to
// its flow control request.
func (c *consumer) stalledLocked() bool {
	return c.cfg.FlowControl && c.fcReply != "" && (c.fcSince >= fcWindow || c.fcSize >= 2*fcBytes)
}

// pickLocked chooses the next stream sequence: a redelivery first, then
// the last-per-subject list, then the next matching message. loaded
// reports that the search loaded messages into sm: the chosen one when
// sm.Seq is seq.
func (c *consumer) pickLocked(sm *store.StoredMsg) (seq uint64, redeliver, ok, loaded bool) {
	c.fromLps = false
	for len(c.rdq) > 0 {
		s := c.rdq[0]
		c.rdq = c.rdq[1:]
		if i, ok := c.findLocked(s); ok && !c.pending[i].done {
			return s, true, true, false
		}
	}
	if len(c.lps) > 0 {
		s := c.lps[0]
		c.lps = c.lps[1:]
		c.fromLps = true
		return s, false, true, false
	}
	st := c.se.Store()
	best := uint64(0)
	if len(c.filters) <= 1 {
		f := ""
		if len(c.filters) == 1 {
			f = c.filters[0]
		}
		if err := st.LoadNextMsg(f, c.next, sm); err != nil {
			return 0, false, false, false
		}
		best = sm.Seq
	} else {
		for _, f := range c.filters {
			if err := st.LoadNextMsg(f, c.next, sm); err == nil {
				loaded = true
				if best == 0 || sm.Seq < best {
					best = sm.Seq
				}
			}
		}
		if best == 0 {
			return 0, false, false, false
		}
	}
	c.next = best + 1
	return best, false, true, true
}

// unpickLocked puts back a new (not redelivered) sequence pickLocked
// returned, to be picked again.
func (c *consumer) unpickLocked(seq uint64) {
	if c.fromLps {
		c.lps = append([]uint64{seq}, c.lps...)
		return
	}
	c.next = seq
}

// findLocked finds the pending entry of stream sequence seq.
func (c *consumer) findLocked(seq uint64) (int, bool) {
	p := c.pending[c.head:]
	i := sort.Search(len(p), func(i int) bool { return p[i].sseq >= seq })
	if i < len(p) && p[i].sseq == seq {
		return c.head + i, true
	}
	return 0, false
}

// forgetLocked drops a pending message that no longer exists.
func (c *consumer) forgetLocked(seq uint64) {
	if i, ok := c.findLocked(seq); ok {
		c.doneLocked(i)
	}
}

// doneLocked marks pending[i] acked (or given up) and moves the floor.
func (c *consumer) doneLocked(i int) {
	p := &c.pending[i]
	if p.done {
		return
	}
	p.done = true
	c.npend--
	if p.dc > 1 {
		c.nredel--
	}
	c.dirty = true
	for c.head < len(c.pending) && c.pending[c.head].done {
		c.head++
	}
	if c.head == len(c.pending) {
		c.pending = c.pending[:0]
		c.head = 0
		c.floor = store.SequencePair{Consumer: c.dseq, Stream: c.dsseq}
		return
	}
	f := c.pending[c.head]
	c.floor = store.SequencePair{Consumer: min(f.cseq, c.dseq) - 1, Stream: f.sseq - 1}
	if c.head > 1024 && c.head > len(c.pending)/2 {
		n := copy(c.pending, c.pending[c.head:])
		c.pending = c.pending[:n]
		c.head = 0
	}
}

// maxDelivered gives up on pending[i] after max_deliver deliveries.
func (c *consumer) maxDelivered(i int) {
	p := c.pending[i]
	c.doneLocked(i)
	ev := struct {
		Type       string    `json:"type"`
		ID         string    `json:"id"`
		Time       time.Time `json:"timestamp"`
		Stream     string    `json:"stream"`
		Consumer   string    `json:"consumer"`
		StreamSeq  uint64    `json:"stream_seq"`
		Deliveries uint64    `json:"deliveries"`
		Domain     string    `json:"domain,omitempty"`
	}{"io.nats.jetstream.advisory.v1.max_deliver", newID(), time.Now().UTC(), c.stream, c.name, p.sseq, uint64(p.dc), c.acc.js.opts.Domain}
	go c.acc.advise(advisoryPrefix+"CONSUMER.MAX_DELIVERIES."+c.stream+"."+c.name, ev)
}

// appendHeader adds a header line to a header block (or starts one).
func appendHeader(h []byte, key, val string) []byte {
	if len(h) == 0 {
		return []byte("NATS/1.0\r\n" + key + ": " + val + "\r\n\r\n")
	}
	b := make([]byte, 0, len(h)+len(key)+len(val)+4)
	b = append(b, bytes.TrimSuffix(h, []byte("\r\n"))...)
	return append(b, key+": "+val+"\r\n\r\n"...)
}

var _ = json.Marshal
var _ = stream.SeqAtTime
