package server

import (
	"natsd.dev/sublist"
)

// Batch publishes a run of messages of one session as PublishAs does,
// with the per-message set-up done once per run: the delivery context is
// the batch's own, the destination's subscriptions are matched once for
// as long as it repeats, the counters reach the server's totals and the
// receivers' writers are woken once, at Flush. A JetStream consumer
// delivering a pull request's messages to its inbox uses it.
//
// Each message reaches the receivers' outbound buffers (or their session
// queues) during its PublishAs call, in call order, and in order with the
// session's other publishes; only the writers' wake-up waits for Flush.
// Subscriptions made or removed while a destination repeats are seen at
// the next change of destination or Flush (a removed one gets nothing
// once it is closed).
//
// A Batch is used by one goroutine at a time; call Flush before that
// goroutine waits for anything.
type Batch struct {
	sess *Session
	pc   pubCtx
	to   string
	r    *sublist.Result[*subscription]
	open bool // a message was published since the last Flush
	msgs int64
	size int64
}

// NewBatch returns a Batch publishing as sess.
func (sess *Session) NewBatch() *Batch {
	return &Batch{sess: sess}
}

// PublishAs delivers a message as Session.PublishAs does, to the local
// subscriptions matching to (and links, on to) under subject. The message
// is given as the server holds it: payload is the header block (hdrLen
// bytes, -1 without headers) followed by the data. PublishAs reads the
// slices only during the call. Errors as Session.PublishAs.
func (b *Batch) PublishAs(to string, subject, reply []byte, hdrLen int, payload []byte) error {
	sess := b.sess
	c := sess.c
	if !b.open || to != b.to {
		if !sublist.ValidLiteralSubject(to) {
			return sublist.ErrInvalidSubject
		}
		if c.isClosed() {
			return ErrClosed
		}
		b.to, b.r = to, c.acc.sl.Match(to)
		b.open = true
	}
	max := int(c.srv.maxPayload.Load())
	if a := c.acc.lim().MaxPayload; a > 0 && a < max {
		max = a
	}
	if len(payload) > max {
		return ErrMaxPayload
	}
	if len(reply) == 0 {
		reply = nil
	}
	pc := &b.pc
	pc.stallMax = sess.stall
	pc.stalled = 0 // the stall budget is per message, as PublishAs's
	pc.from = c
	pc.origin = ConnInProcess
	b.msgs++
	b.size += int64(len(payload))
	var skip *client
	if !c.opts.Echo {
		skip = c
	}
	r := b.r
	pc.deliverPlain(r.Plain, nil, skip, subject, reply, hdrLen, payload)
	for i := range r.Queues {
		pc.queueDone(pc.deliverQueue(r.Queues[i].Members, nil, skip, subject, reply, hdrLen, payload))
	}
	if len(pc.routes) > 0 {
		// As PublishAs: the presented subject after '@' in the reply.
		wire := reply
		if len(reply) > 0 {
			wire = make([]byte, 0, len(reply)+1+len(subject))
			wire = append(append(append(wire, reply...), '@'), subject...)
		}
		pc.sendRoutes(c.acc, []byte(to), wire, hdrLen, payload)
	}
	if pc.refused {
		pc.refused = false
		return ErrQueueFull
	}
	return nil
}

// Flush wakes the writers of the receivers of what was published since
// the last Flush and adds it to the counters (/varz, /connz). The next
// PublishAs matches its destination anew.
func (b *Batch) Flush() {
	if !b.open {
		return
	}
	b.open = false
	b.r = nil
	c := b.sess.c
	pc := &b.pc
	if b.msgs > 0 {
		c.inMsgsTotal.Add(b.msgs)
		c.inBytesTotal.Add(b.size)
		st := &c.srv.stats
		st.InMsgs.Add(b.msgs)
		st.InBytes.Add(b.size)
		if c.userConn() {
			st.InClientMsgs.Add(b.msgs)
			st.InClientBytes.Add(b.size)
		}
		b.msgs, b.size = 0, 0
	}
	pc.flushSignals()
	pc.flushStats(&c.srv.stats)
	// As release: a stall timer is not kept past the batch, nor the
	// publisher.
	pc.stallTimer, pc.from = nil, nil
}
