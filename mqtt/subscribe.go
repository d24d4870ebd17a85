package mqtt

import (
	"bytes"
	"errors"
	"strconv"
	"strings"

	"natsd.dev/mqtt/internal/packet"
	"natsd.dev/mqtt/internal/topic"
	"natsd.dev/server"
	"natsd.dev/sublist"
)

// encoder frames messages of QoS 0 subscriptions as PUBLISH packets,
// straight into the connection's outbound buffer (the session's lock is
// held: it runs for one message at a time).
type encoder struct {
	v     byte
	topic []byte
}

func (e *encoder) AppendMsgHeader(dst, subject, sid, reply []byte, hdrLen, size int) []byte {
	e.topic = topic.AppendTopic(e.topic[:0], subject)
	return packet.AppendPublishHeader(dst, e.v, e.topic, 0, false, false, 0, nil, size)
}

func (e *encoder) Trailer() []byte { return nil }

// subscribe handles a SUBSCRIBE: each filter is granted or refused, the
// SUBACK goes out, then the retained messages the new filters match.
func (c *conn) subscribe(flags byte, body []byte) bool {
	sp, err := packet.DecodeSubscribe(c.v, flags, body)
	if err != nil {
		c.disconnect(packet.MalformedPacket)
		return false
	}
	codes := make([]byte, len(sp.Filters))
	granted := make([]*subscription, 0, len(sp.Filters))
	for i, f := range sp.Filters {
		sub, code := c.addSub(f)
		codes[i] = code
		if sub != nil {
			granted = append(granted, sub)
		}
	}
	if c.s.persistent && len(granted) > 0 {
		if err := c.acc.saveSession(c.s); err != nil {
			c.m.log.Error("MQTT: could not store a session", "client", c.s.id, "error", err)
		}
	}
	c.wbuf = packet.AppendSuback(c.wbuf, c.v, sp.PacketID, codes, nil)
	c.flush()
	for _, sub := range granted {
		c.sendRetained(sub)
	}
	return true
}

// failCode is the SUBACK code of a refused filter.
func (c *conn) failCode(v5 byte) byte {
	if c.v == packet.V5 {
		return v5
	}
	return 0x80
}

// addSub makes one filter a subscription of the session, replacing one on
// the same filter; it returns the subscription and the SUBACK code.
func (c *conn) addSub(f packet.SubFilter) (*subscription, byte) {
	if !packet.ValidTopicFilter(f.Filter) || strings.HasPrefix(f.Filter, "$share/") {
		return nil, c.failCode(packet.TopicFilterInvalid)
	}
	subjects, err := filterSubjects(f.Filter)
	if err != nil {
		return nil, c.failCode(packet.TopicFilterInvalid)
	}
	qos := min(f.QoS, 2)
	if qos == 2 && c.m.o.DowngradeQoS2Sub {
		qos = 1
	}
	s := c.s
	s.mu.Lock()
	old := s.subs[f.Filter]
	s.mu.Unlock()
	if old != nil {
		c.removeSub(old)
	}
	sub := &subscription{filter: f.Filter, qos: qos, subjects: subjects}
	if err := c.activate(sub); err != nil {
		c.deactivate(sub)
		code := c.failCode(packet.UnspecifiedError)
		if errors.Is(err, server.ErrPermission) {
			code = c.failCode(packet.NotAuthorized)
		}
		return nil, code
	}
	s.mu.Lock()
	s.subs[f.Filter] = sub
	s.mu.Unlock()
	return sub, qos
}

// activate subscribes sub on this connection: core subscriptions for live
// messages and, for a persistent session's QoS 1/2 filter, its consumers.
func (c *conn) activate(sub *subscription) error {
	for _, subj := range sub.subjects {
		var h server.MsgHandler
		if sub.qos > 0 {
			h = c.coreHandler(sub)
		}
		ss, err := c.sess.Subscribe(subj, "", h)
		if err != nil {
			return err
		}
		sub.core = append(sub.core, ss)
	}
	if !c.s.persistent || sub.qos == 0 {
		return nil
	}
	a := c.acc
	for _, subj := range sub.subjects {
		name, err := a.createConsumer(c.s.id, subj)
		if err != nil {
			return err
		}
		ps, err := a.js.sess.Subscribe(deliverPrefix+name, "", c.pushHandler(sub))
		if err != nil {
			return err
		}
		sub.push = append(sub.push, ps)
		_ = a.durable.Insert(subj, "", c.s)
	}
	return nil
}

// deactivate stops sub's deliveries to this connection; a persistent
// session's consumers stay.
func (c *conn) deactivate(sub *subscription) {
	for _, ss := range sub.core {
		ss.Unsubscribe()
	}
	for _, ss := range sub.push {
		ss.Unsubscribe()
	}
	sub.core, sub.push = nil, nil
}

// removeSub ends a subscription: deliveries stop and its consumers go.
func (c *conn) removeSub(sub *subscription) {
	c.deactivate(sub)
	s, a := c.s, c.acc
	s.mu.Lock()
	if s.subs[sub.filter] == sub {
		delete(s.subs, sub.filter)
	}
	s.mu.Unlock()
	if s.persistent && sub.qos > 0 {
		for _, subj := range sub.subjects {
			_ = a.durable.Remove(subj, "", s)
			a.deleteConsumer(consumerName(s.id, subj))
		}
	}
}

func (c *conn) unsubscribe(flags byte, body []byte) bool {
	u, err := packet.DecodeUnsubscribe(c.v, flags, body)
	if err != nil {
		c.disconnect(packet.MalformedPacket)
		return false
	}
	codes := make([]byte, len(u.Filters))
	s := c.s
	changed := false
	for i, f := range u.Filters {
		s.mu.Lock()
		sub := s.subs[f]
		s.mu.Unlock()
		if sub == nil {
			codes[i] = packet.NoSubscriptionExisted
			continue
		}
		c.removeSub(sub)
		changed = true
	}
	if changed && s.persistent {
		if err := c.acc.saveSession(s); err != nil {
			c.m.log.Error("MQTT: could not store a session", "client", s.id, "error", err)
		}
	}
	c.wbuf = packet.AppendUnsuback(c.wbuf, c.v, u.PacketID, codes, nil)
	return true
}

// coreHandler delivers live messages to a QoS 1/2 subscription.
func (c *conn) coreHandler(sub *subscription) server.MsgHandler {
	return func(m *server.Msg) {
		pq := qosOfHeader(m.Header)
		if pq > 0 && c.s.persistent {
			return // stored for this session: its consumer delivers it
		}
		t := topic.AppendTopic(nil, m.Subject)
		c.deliver(min(pq, sub.qos), t, m.Data, "", 0, false)
	}
}

// pushHandler delivers the messages a persistent session's consumer
// pushes.
func (c *conn) pushHandler(sub *subscription) server.MsgHandler {
	return func(m *server.Msg) {
		subject := bytes.TrimPrefix(m.Subject, []byte(msgsPrefix))
		seq, delivered := ackInfo(m.Reply)
		qos := min(qosOfHeader(m.Header), sub.qos)
		t := topic.AppendTopic(nil, subject)
		if qos == 0 {
			c.acc.js.sess.Publish(string(m.Reply), "", nil, nil)
		}
		c.deliver(qos, t, m.Data, string(m.Reply), seq, delivered > 1)
	}
}

// ackInfo reads the stream sequence and the delivery count from a
// JetStream ack subject ($JS.ACK.<stream>.<consumer>.<delivered>.<sseq>...,
// with a domain and account hash in the longer form).
func ackInfo(reply []byte) (seq uint64, delivered uint64) {
	toks := strings.Split(string(reply), ".")
	i := 4
	if len(toks) >= 12 {
		i = 6
	}
	if len(toks) < i+2 {
		return 0, 0
	}
	delivered, _ = strconv.ParseUint(toks[i], 10, 64)
	seq, _ = strconv.ParseUint(toks[i+1], 10, 64)
	return seq, delivered
}

// deliver sends a message to the client with qos. QoS 1/2 messages take a
// packet id and wait in the session until acknowledged; live ones wait
// for room in the window (max_ack_pending), stored ones are bounded by
// their consumer's.
func (c *conn) deliver(qos byte, t, payload []byte, ackReply string, seq uint64, dup bool) {
	if qos == 0 {
		c.sess.Write(packet.AppendPublish(nil, c.v, &packet.Publish{Topic: t, Payload: payload}))
		return
	}
	s := c.s
	s.mu.Lock()
	if seq != 0 {
		if pid, ok := s.bySeq[seq]; ok {
			om := s.out[pid]
			s.mu.Unlock()
			if om != nil && !om.released {
				c.sess.Write(packet.AppendPublish(nil, c.v, &packet.Publish{Topic: t, QoS: om.qos, Dup: true, PacketID: pid, Payload: payload}))
			}
			return
		}
	}
	for seq == 0 && len(s.out) >= c.m.o.MaxAckPending && s.conn == c {
		s.cond.Wait()
	}
	if s.conn != c {
		s.mu.Unlock()
		return
	}
	pid := s.allocPID()
	om := &outMsg{qos: qos, ackReply: ackReply, seq: seq}
	if s.persistent {
		om.topic, om.payload = t, append([]byte(nil), payload...)
	}
	s.out[pid] = om
	if seq != 0 {
		s.bySeq[seq] = pid
	}
	s.mu.Unlock()
	c.sess.Write(packet.AppendPublish(nil, c.v, &packet.Publish{Topic: t, QoS: qos, Dup: dup, PacketID: pid, Payload: payload}))
}

// retain keeps (or, with an empty payload, clears) the retained message
// of subject, in memory and in rmsgsStream.
func (c *conn) retain(subject string, qos byte, payload []byte) {
	a := c.acc
	var err error
	if len(payload) == 0 {
		a.mu.Lock()
		delete(a.retained, subject)
		a.mu.Unlock()
		err = a.js.call("STREAM.PURGE."+rmsgsStream, map[string]any{"filter": rmsgsPrefix + subject}, nil)
	} else {
		a.mu.Lock()
		a.retained[subject] = &retained{subject: subject, qos: qos, payload: append([]byte(nil), payload...)}
		a.mu.Unlock()
		err = a.storeAck(rmsgsPrefix+subject, qosHeaders[qos], payload)
	}
	if err != nil {
		c.m.log.Warn("MQTT: could not store a retained message", "subject", subject, "error", err)
	}
}

// sendRetained sends the retained messages sub matches, each only if the
// client's user may receive it.
func (c *conn) sendRetained(sub *subscription) {
	a := c.acc
	var list []*retained
	a.mu.Lock()
	for subj, r := range a.retained {
		for _, f := range sub.subjects {
			if sublist.SubjectMatchesFilter(subj, f) {
				list = append(list, r)
				break
			}
		}
	}
	a.mu.Unlock()
	for _, r := range list {
		if !c.sess.MayReceive(r.subject) {
			continue
		}
		t := topic.AppendTopic(nil, []byte(r.subject))
		qos := min(r.qos, sub.qos)
		if qos == 0 {
			c.sess.Write(packet.AppendPublish(nil, c.v, &packet.Publish{Topic: t, Retain: true, Payload: r.payload}))
			continue
		}
		s := c.s
		s.mu.Lock()
		if s.conn != c {
			s.mu.Unlock()
			return
		}
		pid := s.allocPID()
		s.out[pid] = &outMsg{qos: qos, topic: t, payload: r.payload}
		s.mu.Unlock()
		c.sess.Write(packet.AppendPublish(nil, c.v, &packet.Publish{Topic: t, QoS: qos, Retain: true, PacketID: pid, Payload: r.payload}))
	}
}
