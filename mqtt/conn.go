package mqtt

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/auth"
	"natsd.dev/mqtt/internal/packet"
	"natsd.dev/mqtt/internal/topic"
	"natsd.dev/server"
)

const (
	// preAuthMax bounds a packet before the client is authenticated: a
	// CONNECT with a will and credentials fits, and the reader grows its
	// buffer only with the bytes that arrive.
	preAuthMax = 64 << 10
	// maxPacket bounds any later packet (topic, properties and a payload
	// of the largest max_payload a server allows).
	maxPacket = 64<<20 + 64<<10
	// defaultConnectTimeout is how long a new connection may take to
	// send its CONNECT when no auth timeout is configured.
	defaultConnectTimeout = 2 * time.Second
)

// conn is one client connection: its read loop decodes packets and acts
// on them; what it writes goes through its server session's outbound
// machinery, after the messages delivered to it before.
type conn struct {
	m  *MQTT
	nc net.Conn
	r  *packet.Reader
	v  byte // protocol level: packet.V311 or packet.V5

	acc  *account
	s    *session
	sess *server.Session
	enc  *encoder

	ka       time.Duration // read deadline from the keepalive; 0: none
	will     *packet.Will
	graceful bool        // DISCONNECT received: no will
	closing  atomic.Bool // the server shuts down: no will
	kicked   atomic.Bool // a newer connection of the client takes over
	cause    server.CloseCause
	done     chan struct{}

	wbuf []byte // packets the read loop writes, flushed before it waits
	subj []byte
	pub  packet.Publish

	ackMu   sync.Mutex
	acks    []*pendingAck // acknowledgements waiting for earlier ones
	pending int           // of them not ready yet
}

// pendingAck is a PUBACK or PUBREC held back until the message is stored,
// so that acknowledgements leave in the order of their PUBLISH packets.
type pendingAck struct {
	pkt   []byte
	ready bool
}

func newConn(m *MQTT, nc net.Conn) *conn {
	return &conn{m: m, nc: nc, done: make(chan struct{})}
}

// deadlineReader reads the connection with the keepalive's deadline.
type deadlineReader struct{ c *conn }

func (d deadlineReader) Read(p []byte) (int, error) {
	if d.c.kicked.Load() || d.c.closing.Load() {
		return 0, os.ErrDeadlineExceeded
	}
	if d.c.ka > 0 {
		d.c.nc.SetReadDeadline(time.Now().Add(d.c.ka))
	}
	return d.c.nc.Read(p)
}

func (c *conn) serve() {
	defer close(c.done)
	c.r = packet.NewReader(deadlineReader{c}, 4096)
	c.r.SetMax(preAuthMax)
	timeout := defaultConnectTimeout
	if t := c.m.o.AuthTimeout; t > 0 {
		timeout = time.Duration(t * float64(time.Second))
	}
	c.nc.SetReadDeadline(time.Now().Add(timeout))
	typ, _, body, err := c.r.Next()
	if err != nil || typ != packet.CONNECT {
		c.nc.Close()
		return
	}
	c.nc.SetReadDeadline(time.Time{})
	if !c.connect(body) {
		return
	}
	c.r.SetMax(maxPacket)
	c.readLoop()
	c.cleanup()
}

// refuse answers a CONNECT with a failure code and closes.
func (c *conn) refuse(v, code byte) bool {
	c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	c.nc.Write(packet.AppendConnack(nil, v, false, code, nil))
	c.nc.Close()
	return false
}

// connectCode picks the CONNACK code of a refusal in the client's version.
func connectCode(v, v3, v5 byte) byte {
	if v == packet.V5 {
		return v5
	}
	return v3
}

func (c *conn) connect(body []byte) bool {
	cp, err := packet.DecodeConnect(body)
	if err != nil {
		var re *packet.ReasonError
		if errors.As(err, &re) {
			v := byte(packet.V311)
			if re.Code >= 0x80 {
				v = packet.V5
			}
			return c.refuse(v, re.Code)
		}
		c.nc.Close()
		return false
	}
	c.v = cp.Version
	v := c.v
	if cp.Props.Has(packet.PropAuthMethod) {
		return c.refuse(v, packet.BadAuthMethod) // enhanced authentication is not supported
	}
	id := cp.ClientID
	assigned := false
	if id == "" {
		if !cp.CleanStart && v == packet.V311 {
			return c.refuse(v, packet.ConnRefusedIDRejected)
		}
		id, assigned = newClientID(), true
	}
	so := server.SessionOptions{
		Kind:       server.SessionClient,
		Type:       "mqtt",
		MQTTClient: id,
		RemoteAddr: c.nc.RemoteAddr(),
		ConnKind:   auth.KindMQTT,
		Conn:       c.nc,
		QueueLen:   server.DefaultSessionQueue,
	}
	c.enc = &encoder{v: v}
	so.Encoder = c.enc
	o := &c.m.o
	switch {
	case o.Username != "" || o.Token != "":
		ok := (o.Username != "" && cp.Username == o.Username && string(cp.Password) == o.Password) ||
			(o.Token != "" && string(cp.Password) == o.Token)
		if !ok {
			return c.refuse(v, connectCode(v, packet.ConnRefusedNotAuthorized, packet.BadUserNameOrPassword))
		}
	case cp.HasUsername:
		so.User, so.Password = cp.Username, string(cp.Password)
	case cp.HasPassword:
		so.Token = string(cp.Password)
	}
	sess, err := c.m.srv.Attach(so)
	if err != nil {
		if errors.Is(err, server.ErrServerStopped) {
			return c.refuse(v, connectCode(v, packet.ConnRefusedServerUnavailable, packet.ServerUnavailable))
		}
		c.m.log.Warn("MQTT client authentication failed", "client", id, "remote", c.nc.RemoteAddr().String(), "error", err)
		return c.refuse(v, connectCode(v, packet.ConnRefusedNotAuthorized, packet.NotAuthorized))
	}
	c.sess = sess
	acc, err := c.m.account(sess.Account())
	if err != nil {
		c.m.log.Error("MQTT: the account's JetStream state is not available", "account", sess.Account(), "error", err)
		sess.Close()
		return c.refuse(v, connectCode(v, packet.ConnRefusedServerUnavailable, packet.ServerUnavailable))
	}
	c.acc = acc
	user := sess.User()
	present, ok := c.bindSession(id, user, cp.CleanStart)
	if !ok {
		sess.Write(packet.AppendConnack(nil, v, false, connectCode(v, packet.ConnRefusedNotAuthorized, packet.NotAuthorized), nil))
		sess.CloseFor(server.CloseAuthFailure)
		return false
	}
	c.will = cp.Will
	if cp.KeepAlive > 0 {
		c.ka = time.Duration(cp.KeepAlive) * 1500 * time.Millisecond
	}
	var props *packet.Properties
	if v == packet.V5 {
		props = &packet.Properties{}
		if assigned {
			props.AssignedClientID = id
			props.Set(packet.PropAssignedClientID)
		}
		props.ReceiveMaximum = uint16(min(o.MaxAckPending, 65535))
		props.Set(packet.PropReceiveMaximum)
		props.MaximumQoS = 2
		if o.RejectQoS2Pub {
			props.MaximumQoS = 1
			props.Set(packet.PropMaximumQoS)
		}
		props.SharedSubAvailable = 0
		props.Set(packet.PropSharedSubAvailable)
		props.SubIDAvailable = 0
		props.Set(packet.PropSubIDAvailable)
		props.TopicAliasMaximum = 0
	}
	c.wbuf = packet.AppendConnack(c.wbuf, v, present, 0, props)
	c.flush() // before any message of the resumed subscriptions
	c.resume()
	c.flush()
	return true
}

// newClientID makes an id for a client that sent none.
func newClientID() string {
	var b [16]byte
	rand.Read(b[:])
	return "natsd-" + base64.RawURLEncoding.EncodeToString(b[:])
}

// bindSession finds or creates the session of client id: it takes over a
// live connection of the same user (another user is refused), ends a
// stored session when the client asks for a clean one, and reports
// whether a stored session was resumed.
func (c *conn) bindSession(id, user string, clean bool) (present, ok bool) {
	a := c.acc
	for {
		a.mu.Lock()
		s := a.sessions[id]
		if s != nil && s.user != user {
			a.mu.Unlock()
			c.m.log.Warn("MQTT: client id in use by another user", "client", id)
			return false, false
		}
		var old *conn
		if s != nil {
			s.mu.Lock()
			old = s.conn
			s.mu.Unlock()
		}
		if old == nil {
			defer a.mu.Unlock()
			if s != nil && s.persistent && !clean {
				s.mu.Lock()
				s.conn = c
				s.mu.Unlock()
				c.s = s
				return true, true
			}
			if s != nil && s.persistent {
				a.dropStored(s)
			}
			s = newSession(a, id, !clean)
			s.user = user
			s.conn = c
			a.sessions[id] = s
			c.s = s
			if !clean {
				if err := a.saveSession(s); err != nil {
					c.m.log.Error("MQTT: could not store a session", "client", id, "error", err)
					delete(a.sessions, id)
					return false, false
				}
			}
			return false, true
		}
		a.mu.Unlock()
		old.takeover()
		<-old.done
	}
}

// dropStored ends a persistent session for good: its consumers and record
// go; a.mu is held.
func (a *account) dropStored(s *session) {
	s.mu.Lock()
	subs := s.subs
	s.subs = make(map[string]*subscription)
	s.mu.Unlock()
	for _, sub := range subs {
		if sub.qos > 0 {
			for _, subj := range sub.subjects {
				_ = a.durable.Remove(subj, "", s)
				a.deleteConsumer(consumerName(s.id, subj))
			}
		}
	}
	if err := a.deleteSession(s); err != nil {
		a.m.log.Warn("MQTT: could not remove a session record", "client", s.id, "error", err)
	}
	delete(a.sessions, s.id)
}

// resume sends a resumed session's unacknowledged messages again, then
// makes its subscriptions live on this connection.
func (c *conn) resume() {
	s := c.s
	s.mu.Lock()
	for pid, om := range s.out {
		if om.released {
			c.wbuf = packet.AppendAck(c.wbuf, c.v, packet.PUBREL, &packet.Ack{PacketID: pid})
			continue
		}
		c.wbuf = packet.AppendPublish(c.wbuf, c.v, &packet.Publish{Topic: om.topic, QoS: om.qos, Dup: true, PacketID: pid, Payload: om.payload})
	}
	subs := make([]*subscription, 0, len(s.subs))
	for _, sub := range s.subs {
		subs = append(subs, sub)
	}
	s.mu.Unlock()
	c.flush()
	for _, sub := range subs {
		if c.activate(sub) != nil {
			c.m.log.Warn("MQTT: a stored subscription is not allowed any more", "client", s.id, "filter", sub.filter)
		}
	}
}

func (c *conn) readLoop() {
	for {
		typ, flags, body, err := c.r.Next()
		if err != nil {
			switch {
			case c.closing.Load():
				c.cause = server.CloseServerShutdown
				c.disconnect(packet.ServerShuttingDown)
			case c.kicked.Load():
				c.cause = server.CloseKicked
				c.disconnect(packet.SessionTakenOver)
			case errors.Is(err, packet.ErrTooLarge):
				c.cause = server.CloseProtocolViolation
				c.disconnect(packet.PacketTooLarge)
			case errors.Is(err, packet.ErrMalformed), errors.Is(err, packet.ErrProtocol):
				c.cause = server.CloseProtocolViolation
				c.disconnect(packet.MalformedPacket)
			case isTimeout(err):
				c.cause = server.CloseStale
				c.disconnect(packet.KeepAliveTimeout)
			}
			return
		}
		if !c.handle(typ, flags, body) {
			return
		}
		if !c.r.Buffered() {
			c.flush()
		}
	}
}

// flush hands what the read loop wrote to the session's writer.
func (c *conn) flush() {
	if len(c.wbuf) == 0 {
		return
	}
	c.ackMu.Lock()
	if len(c.acks) > 0 {
		// Acknowledgements still wait for a store: queue behind them.
		c.acks = append(c.acks, &pendingAck{pkt: append([]byte(nil), c.wbuf...), ready: true})
		c.ackMu.Unlock()
		c.wbuf = c.wbuf[:0]
		return
	}
	c.ackMu.Unlock()
	c.sess.Write(c.wbuf)
	c.wbuf = c.wbuf[:0]
}

// disconnect sends an MQTT 5 DISCONNECT with a reason before closing
// (MQTT 3.1.1 just closes).
func (c *conn) disconnect(reason byte) {
	if reason >= 0x80 && c.cause == server.CloseClientClosed {
		c.cause = server.CloseProtocolViolation
	}
	if c.v == packet.V5 {
		c.wbuf = packet.AppendDisconnect(c.wbuf, c.v, &packet.Disconnect{Reason: reason})
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// handle acts on one packet; false closes the connection.
func (c *conn) handle(typ, flags byte, body []byte) bool {
	switch typ {
	case packet.PUBLISH:
		return c.publish(flags, body)
	case packet.PUBACK, packet.PUBREC, packet.PUBREL, packet.PUBCOMP:
		var a packet.Ack
		if err := packet.DecodeAck(c.v, typ, flags, body, &a); err != nil {
			c.disconnect(packet.MalformedPacket)
			return false
		}
		c.ack(typ, a.PacketID)
		return true
	case packet.SUBSCRIBE:
		return c.subscribe(flags, body)
	case packet.UNSUBSCRIBE:
		return c.unsubscribe(flags, body)
	case packet.PINGREQ:
		c.wbuf = packet.AppendPingresp(c.wbuf)
		return true
	case packet.DISCONNECT:
		d, err := packet.DecodeDisconnect(c.v, flags, body)
		c.graceful = err == nil && d.Reason != packet.DisconnectWithWill
		return false
	case packet.AUTH:
		c.disconnect(packet.BadAuthMethod)
		return false
	}
	// A second CONNECT or a packet only a server sends.
	c.disconnect(packet.ProtocolError)
	return false
}

// ack handles the client's acknowledgement of a message delivered to it.
func (c *conn) ack(typ byte, pid uint16) {
	s := c.s
	switch typ {
	case packet.PUBREL:
		delete(s.qos2in, pid) // only the read loop uses qos2in
		c.wbuf = packet.AppendAck(c.wbuf, c.v, packet.PUBCOMP, &packet.Ack{PacketID: pid})
		return
	case packet.PUBREC:
		s.mu.Lock()
		om := s.out[pid]
		var reply string
		if om != nil && om.qos == 2 && !om.released {
			om.released, reply = true, om.ackReply
			om.payload = nil
		}
		s.mu.Unlock()
		if reply != "" {
			c.acc.js.sess.Publish(reply, "", nil, nil)
		}
		c.wbuf = packet.AppendAck(c.wbuf, c.v, packet.PUBREL, &packet.Ack{PacketID: pid})
		return
	}
	s.mu.Lock()
	om := s.out[pid]
	if om == nil || (typ == packet.PUBACK) != (om.qos == 1) {
		s.mu.Unlock()
		return
	}
	delete(s.out, pid)
	if om.seq != 0 {
		delete(s.bySeq, om.seq)
	}
	s.cond.Broadcast()
	s.mu.Unlock()
	if om.ackReply != "" && !om.released {
		c.acc.js.sess.Publish(om.ackReply, "", nil, nil)
	}
}

// takeover ends the connection for a newer one of the same client: its
// read loop wakes up and cleans up (the will goes out).
func (c *conn) takeover() {
	c.kicked.Store(true)
	c.nc.SetReadDeadline(time.Now())
}

// shutdown ends the connection for the server's shutdown (no will).
func (c *conn) shutdown() {
	c.closing.Store(true)
	c.nc.SetReadDeadline(time.Now())
}

// cleanup runs when the read loop ends: the will goes out unless the
// client said goodbye, and the session's deliveries stop.
func (c *conn) cleanup() {
	s, a := c.s, c.acc
	s.mu.Lock()
	subs := make([]*subscription, 0, len(s.subs))
	for _, sub := range s.subs {
		subs = append(subs, sub)
	}
	s.mu.Unlock()
	for _, sub := range subs {
		c.deactivate(sub)
	}
	if c.will != nil && !c.graceful && !c.closing.Load() {
		c.publishWill()
	}
	c.flush()
	s.mu.Lock()
	if s.conn == c {
		s.conn = nil
	}
	if !s.persistent {
		s.out = make(map[uint16]*outMsg)
		s.bySeq = make(map[uint64]uint16)
	}
	s.cond.Broadcast() // a delivery waiting for the window gives up
	s.mu.Unlock()
	c.sess.CloseFor(c.cause)
	a.mu.Lock()
	if !s.persistent && a.sessions[s.id] == s {
		delete(a.sessions, s.id)
	}
	a.mu.Unlock()
}

func (c *conn) publishWill() {
	w := c.will
	subj, err := topic.AppendSubject(nil, []byte(w.Topic))
	if err != nil {
		return
	}
	subject := string(subj)
	if err := c.sess.Publish(subject, "", qosHeaders[w.QoS], w.Payload); err != nil {
		return
	}
	if w.Retain {
		c.retain(subject, w.QoS, w.Payload)
	}
	if w.QoS > 0 && c.acc.needsStore(subject) {
		if err := c.acc.storeAck(msgsPrefix+subject, qosHeaders[w.QoS], w.Payload); err != nil {
			c.m.log.Warn("MQTT: could not store a will message", "client", c.s.id, "error", err)
		}
	}
}

// publish handles a PUBLISH from the client.
func (c *conn) publish(flags byte, body []byte) bool {
	p := &c.pub
	if err := packet.DecodePublish(c.v, flags, body, p); err != nil {
		c.disconnect(packet.MalformedPacket)
		return false
	}
	if p.QoS == 2 && c.m.o.RejectQoS2Pub {
		c.disconnect(packet.QoSNotSupported)
		return false
	}
	if !packet.ValidTopicName(p.Topic) {
		c.disconnect(packet.TopicNameInvalid)
		return false
	}
	subj, err := topic.AppendSubject(c.subj[:0], p.Topic)
	if err != nil {
		c.disconnect(packet.TopicNameInvalid)
		return false
	}
	c.subj = subj
	if p.QoS == 2 {
		if _, dup := c.s.qos2in[p.PacketID]; dup {
			c.wbuf = packet.AppendAck(c.wbuf, c.v, packet.PUBREC, &packet.Ack{PacketID: p.PacketID})
			return true
		}
	}
	subject := string(subj)
	reason := byte(packet.Success)
	err = c.sess.Publish(subject, "", qosHeaders[p.QoS], p.Payload)
	switch {
	case err == nil:
		if p.Retain {
			c.retain(subject, p.QoS, p.Payload)
		}
	case errors.Is(err, server.ErrPermission):
		reason = packet.NotAuthorized
	case errors.Is(err, server.ErrMaxPayload):
		reason = packet.PacketTooLarge
	case errors.Is(err, server.ErrQueueFull):
		reason = packet.QuotaExceeded
	default:
		return false
	}
	if p.QoS == 0 {
		return true
	}
	typ := byte(packet.PUBACK)
	if p.QoS == 2 {
		typ = packet.PUBREC
		c.s.qos2in[p.PacketID] = struct{}{}
	}
	if reason == packet.Success && p.QoS > 0 && c.acc.needsStore(subject) {
		c.storeThenAck(subject, p, typ)
		return true
	}
	if c.v != packet.V5 {
		reason = 0
	}
	c.wbuf = packet.AppendAck(c.wbuf, c.v, typ, &packet.Ack{PacketID: p.PacketID, Reason: reason})
	return true
}

// storeThenAck stores a QoS 1/2 message for the persistent sessions that
// want it and acknowledges it once JetStream has it.
func (c *conn) storeThenAck(subject string, p *packet.Publish, typ byte) {
	c.flush()
	pa := &pendingAck{}
	c.ackMu.Lock()
	c.acks = append(c.acks, pa)
	c.ackMu.Unlock()
	pid, v := p.PacketID, c.v
	c.acc.js.publishAsync(msgsPrefix+subject, qosHeaders[p.QoS], p.Payload, func(m *server.Msg, err error) {
		reason := byte(packet.Success)
		if err == nil {
			err = pubAckError(m.Data)
		}
		if err != nil {
			c.m.log.Warn("MQTT: could not store a QoS message", "client", c.s.id, "subject", subject, "error", err)
			if v != packet.V5 {
				// MQTT 3.1.1 has no negative acknowledgement: close so that
				// the client sends the message again.
				c.nc.Close()
				return
			}
			reason = packet.UnspecifiedError
		}
		c.ackMu.Lock()
		pa.pkt, pa.ready = packet.AppendAck(nil, v, typ, &packet.Ack{PacketID: pid, Reason: reason}), true
		var out []byte
		i := 0
		for ; i < len(c.acks) && c.acks[i].ready; i++ {
			out = append(out, c.acks[i].pkt...)
		}
		c.acks = c.acks[i:]
		if len(out) > 0 {
			c.sess.Write(out)
		}
		c.ackMu.Unlock()
	})
}
