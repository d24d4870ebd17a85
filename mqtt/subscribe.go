package mqtt

import (
	"bytes"
	"strconv"
	"time"

	"errors"

	"natsd.dev/mqtt/internal/packet"
	"natsd.dev/mqtt/internal/topic"
	"natsd.dev/server"
	"natsd.dev/sublist"
)

// encoder frames messages of MQTT 3.1.1 QoS 0 subscriptions as PUBLISH
// packets, straight into the connection's outbound buffer (the session's
// lock is held: it runs for one message at a time).
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
	var subID uint32
	if len(sp.Props.SubscriptionIDs) > 0 {
		subID = sp.Props.SubscriptionIDs[0]
	}
	codes := make([]byte, len(sp.Filters))
	type grant struct {
		sub   *subscription
		isNew bool
		rh    byte
	}
	var granted []grant
	for i, f := range sp.Filters {
		group, _, ok := splitShared(f.Filter)
		if ok && group != "" && f.NoLocal {
			c.disconnect(packet.ProtocolError) // [MQTT-3.8.3-4]
			return false
		}
		sub, isNew, code := c.addSub(f, subID)
		codes[i] = code
		if sub != nil {
			granted = append(granted, grant{sub, isNew, f.RetainHandling})
		}
	}
	if c.s.persistent && len(granted) > 0 {
		if err := c.acc.saveSession(c.s); err != nil {
			c.m.log.Error("MQTT: could not store a session", "client", c.s.id, "error", err)
		}
	}
	c.wbuf = packet.AppendSuback(c.wbuf, c.v, sp.PacketID, codes, nil)
	c.flush()
	for _, g := range granted {
		// Retain handling: 0 sends them, 1 only for a new subscription, 2
		// never; a shared subscription gets none.
		if g.sub.group == "" && (g.rh == 0 || (g.rh == 1 && g.isNew)) {
			c.sendRetained(g.sub)
		}
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
// the same filter; it returns the subscription, whether it is new and the
// SUBACK code.
func (c *conn) addSub(f packet.SubFilter, subID uint32) (*subscription, bool, byte) {
	group, filter, ok := splitShared(f.Filter)
	if !ok || !packet.ValidTopicFilter(filter) {
		return nil, false, c.failCode(packet.TopicFilterInvalid)
	}
	subjects, err := filterSubjects(filter)
	if err != nil {
		return nil, false, c.failCode(packet.TopicFilterInvalid)
	}
	qos := min(f.QoS, 2)
	if qos == 2 && c.m.opts().DowngradeQoS2Sub {
		qos = 1
	}
	s := c.s
	s.mu.Lock()
	old := s.subs[f.Filter]
	s.mu.Unlock()
	if old != nil && old.core != nil && old.qos == qos && old.noLocal == f.NoLocal && old.rap == f.RetainAsPublished && old.subID == subID {
		// The same subscription again, as a client that resumes its
		// session sends it: it stays, so its consumers keep their place
		// and what is in flight is not delivered twice [MQTT-3.8.4-3].
		return old, false, qos
	}
	if old != nil {
		c.removeSub(old)
	}
	sub := &subscription{filter: f.Filter, group: group, qos: qos, noLocal: f.NoLocal, rap: f.RetainAsPublished, subID: subID, subjects: subjects, noDollar: startsWild(filter)}
	if err := c.activate(sub); err != nil {
		c.deactivate(sub)
		code := c.failCode(packet.UnspecifiedError)
		if errors.Is(err, server.ErrPermission) {
			code = c.failCode(packet.NotAuthorized)
		}
		return nil, false, code
	}
	s.mu.Lock()
	s.setSub(sub)
	s.mu.Unlock()
	return sub, old == nil, qos
}

// activate subscribes sub on this connection: core subscriptions for live
// messages and, for a persistent session's QoS 1/2 filter, its consumers.
func (c *conn) activate(sub *subscription) error {
	for _, subj := range sub.subjects {
		var h server.MsgHandler
		if sub.qos > 0 || c.v == packet.V5 || sub.noDollar {
			h = c.coreHandler(sub)
		}
		ss, err := c.sess.Subscribe(subj, sub.group, h)
		if err != nil {
			return err
		}
		sub.core = append(sub.core, ss)
	}
	if !c.s.persistent || !sub.stored() {
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
// session's consumers stay. What a consumer already pushed still reaches
// the handler (drained, not dropped): deliver tracks it for the session's
// next connection or sends it back, where dropped it would come again only
// after the consumer's ack wait.
func (c *conn) deactivate(sub *subscription) {
	for _, ss := range sub.core {
		ss.Unsubscribe()
	}
	for _, ss := range sub.push {
		ss.Drain()
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
	if s.persistent && sub.stored() {
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

// props builds the MQTT 5 properties of a delivery of a message with NATS
// header hdr and reply subject reply; it returns nil for 3.1.1, the
// retain flag to send, and false when the message expired (age is how
// long it has been stored).
func (c *conn) props(sub *subscription, hdr, reply []byte, age time.Duration) (*packet.Properties, bool, bool) {
	if c.v != packet.V5 {
		return nil, false, true
	}
	p := &packet.Properties{}
	retain, expiry := fromHeader(hdr, p)
	if expiry >= 0 {
		left := expiry - int64(age/time.Second)
		if left <= 0 {
			return nil, false, false
		}
		p.MessageExpiry = uint32(left)
		p.Set(packet.PropMessageExpiry)
	}
	if len(reply) > 0 {
		p.ResponseTopic = string(topic.AppendTopic(nil, reply))
		p.Set(packet.PropResponseTopic)
	}
	if sub.subID != 0 {
		p.SubscriptionIDs = []uint32{sub.subID}
		p.Set(packet.PropSubscriptionIDs)
	}
	return p, retain && sub.rap, true
}

// coreHandler delivers live messages to a subscription (every MQTT 5
// subscription, and the QoS 1/2 ones of 3.1.1).
func (c *conn) coreHandler(sub *subscription) server.MsgHandler {
	return func(m *server.Msg) {
		if (sub.noLocal && c.sess.Sent(m)) || (sub.noDollar && dollar(m.Subject)) {
			return
		}
		pq := qosOfHeader(m.Header)
		if pq > 0 && c.s.persistent && sub.stored() {
			return // stored for this session: its consumer delivers it
		}
		props, retain, ok := c.props(sub, m.Header, m.Reply, 0)
		if !ok {
			return
		}
		t := topic.AppendTopic(nil, m.Subject)
		c.deliver(min(pq, sub.qos), t, m.Data, props, retain, "", 0, false)
	}
}

// pushHandler delivers the messages a persistent session's consumer
// pushes.
func (c *conn) pushHandler(sub *subscription) server.MsgHandler {
	return func(m *server.Msg) {
		subject := bytes.TrimPrefix(m.Subject, []byte(msgsPrefix))
		seq, delivered, ts := ackInfo(m.Reply)
		ack := string(m.Reply)
		if !c.sess.MayReceive(string(subject)) {
			// The user may not have it (any more: a reload took the
			// permission away): stored messages obey the permissions too.
			c.acc.js.sess.Publish(ack, "", nil, nil)
			return
		}
		if (sub.noLocal && bytes.Contains(m.Header, []byte(hdrOrigin+": "+hashID(c.s.id)+"\r\n"))) || (sub.noDollar && dollar(subject)) {
			c.acc.js.sess.Publish(ack, "", nil, nil)
			return
		}
		var age time.Duration
		if ts > 0 {
			age = time.Since(time.Unix(0, ts))
		}
		props, retain, ok := c.props(sub, m.Header, nil, age)
		if !ok {
			c.acc.js.sess.Publish(ack, "", nil, nil) // expired
			return
		}
		qos := min(qosOfHeader(m.Header), sub.qos)
		t := topic.AppendTopic(nil, subject)
		if qos == 0 {
			c.acc.js.sess.Publish(ack, "", nil, nil)
			ack = ""
		}
		c.deliver(qos, t, m.Data, props, retain, ack, seq, delivered > 1)
	}
}

// hdrOrigin marks a stored message with the session that published it, for
// its no-local subscriptions.
const hdrOrigin = "Nmqtt-Origin"

// ackInfo reads the stream sequence, the delivery count and the timestamp
// from a JetStream ack subject ($JS.ACK.<stream>.<consumer>.<delivered>.
// <sseq>.<cseq>.<ts>.<pending>, with a domain and account hash in the
// longer form).
func ackInfo(reply []byte) (seq, delivered uint64, ts int64) {
	// The last five tokens are <delivered>.<sseq>.<cseq>.<ts>.<pending>
	// in both forms (the long one ends with a random token after them).
	var toks [9][]byte
	n := 0
	for rest := reply; n < len(toks); n++ {
		i := bytes.LastIndexByte(rest, '.')
		toks[n] = rest[i+1:]
		if i < 0 {
			n++
			break
		}
		rest = rest[:i]
	}
	end := 0 // index of <pending> counted from the end
	if n == len(toks) && bytes.Count(reply, []byte{'.'}) >= 11 {
		end = 1
	}
	if n < end+5 {
		return 0, 0, 0
	}
	num := func(b []byte) uint64 {
		v, _ := strconv.ParseUint(string(b), 10, 64)
		return v
	}
	delivered = num(toks[end+4])
	seq = num(toks[end+3])
	ts = int64(num(toks[end+1]))
	return seq, delivered, ts
}

// deliver sends a message to the client with qos. QoS 1/2 messages take a
// packet id and wait in the session until acknowledged; live ones wait
// for room in the window (the client's Receive Maximum and
// max_ack_pending), stored ones (seq != 0) wait for their consumer to
// send them again when there is none. A message larger than the client
// accepts is dropped, as MQTT 5 says.
func (c *conn) deliver(qos byte, t, payload []byte, props *packet.Properties, retain bool, ackReply string, seq uint64, dup bool) {
	// A stored message comes on the account's shared goroutine: it is
	// queued for the connection's writer, never written there (a slow
	// client must not hold the other sessions' deliveries).
	shared := seq != 0 || ackReply != ""
	p := packet.Publish{Topic: t, Retain: retain, Payload: payload}
	if props != nil {
		p.Props = *props
	}
	if qos == 0 {
		c.write(&p, shared)
		return
	}
	s := c.s
	s.mu.Lock()
	if seq != 0 {
		if pid, ok := s.bySeq[seq]; ok {
			om := s.out[pid]
			again := om != nil && !om.released && om.sent != c
			if again {
				om.sent = c
			}
			s.mu.Unlock()
			if again {
				p.QoS, p.Dup, p.PacketID = om.qos, true, pid
				c.write(&p, shared)
			}
			return
		}
	}
	for seq == 0 && len(s.out) >= c.window && s.conn == c {
		s.cond.Wait()
	}
	if gone := s.conn != c; gone || len(s.out) >= c.window {
		s.mu.Unlock()
		if gone && ackReply != "" {
			// Pushed while the connection was closing: the consumer
			// sends it again as soon as the client is back, not after
			// its ack wait.
			c.acc.js.sess.Publish(ackReply, "", nil, []byte("-NAK"))
		}
		return
	}
	pid := s.allocPID()
	om := &outMsg{qos: qos, ackReply: ackReply, seq: seq, sent: c}
	if s.persistent {
		om.topic, om.payload = t, append([]byte(nil), payload...)
	}
	s.track(pid, om)
	if seq != 0 {
		s.trackSeq(seq, pid)
	}
	s.mu.Unlock()
	p.QoS, p.Dup, p.PacketID = qos, dup, pid
	if !c.write(&p, shared) {
		c.ack(ackType(qos), pid) // too large for the client: dropped
	}
}

func ackType(qos byte) byte {
	if qos == 2 {
		return packet.PUBCOMP
	}
	return packet.PUBACK
}

// write sends a PUBLISH unless it is larger than the client's Maximum
// Packet Size; shared says the caller serves other sessions too (it
// queues rather than writes).
func (c *conn) write(p *packet.Publish, shared bool) bool {
	b := packet.AppendPublish(nil, c.v, p)
	if c.maxOut > 0 && len(b) > c.maxOut {
		return false
	}
	if shared {
		c.sess.Queue(b)
	} else {
		c.sess.Write(b)
	}
	return true
}

// retain keeps (or, with an empty payload, clears) the retained message
// of subject, in memory and in rmsgsStream.
func (a *account) retain(subject string, qos byte, hdr, payload []byte) {
	var err error
	if len(payload) == 0 {
		a.mu.Lock()
		delete(a.retained, subject)
		a.mu.Unlock()
		err = a.js.call("STREAM.PURGE."+rmsgsStream, map[string]any{"filter": rmsgsPrefix + subject}, nil)
	} else {
		r := &retained{subject: subject, qos: qos, hdr: append([]byte(nil), hdr...), payload: append([]byte(nil), payload...), at: time.Now()}
		a.mu.Lock()
		a.retained[subject] = r
		a.mu.Unlock()
		err = a.storeAck(rmsgsPrefix+subject, r.hdr, payload)
	}
	if err != nil {
		a.m.log.Warn("MQTT: could not store a retained message", "subject", subject, "error", err)
	}
}

// sendRetained sends the retained messages sub matches, each only if the
// client's user may receive it.
func (c *conn) sendRetained(sub *subscription) {
	a := c.acc
	var list []*retained
	a.mu.Lock()
	for subj, r := range a.retained {
		if sub.noDollar && dollar([]byte(subj)) {
			continue
		}
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
		props, _, ok := c.props(sub, r.hdr, nil, time.Since(r.at))
		if !ok {
			continue // expired
		}
		t := topic.AppendTopic(nil, []byte(r.subject))
		p := packet.Publish{Topic: t, Retain: true, Payload: r.payload}
		if props != nil {
			p.Props = *props
		}
		qos := min(r.qos, sub.qos)
		if qos == 0 {
			c.write(&p, false)
			continue
		}
		s := c.s
		s.mu.Lock()
		if s.conn != c || len(s.out) >= 65535 {
			s.mu.Unlock()
			return
		}
		pid := s.allocPID()
		s.track(pid, &outMsg{qos: qos, topic: t, payload: r.payload, sent: c})
		s.mu.Unlock()
		p.QoS, p.PacketID = qos, pid
		if !c.write(&p, false) {
			c.ack(ackType(qos), pid)
		}
	}
}
