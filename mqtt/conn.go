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

	id       string    // client id
	assigned bool      // id made by the server (the client sent none)
	lc       *loopConn // nc when the event loop serves the connection
	live     bool      // loop: CONNACK sent
	lastRead time.Time // loop: when the client last sent bytes
	deadline time.Time // loop: the CONNECT is due by then

	acc  *account
	s    *session
	sess *server.Session
	enc  *encoder
	encv encoder // what enc points to: one allocation less per connection

	ka       time.Duration // read deadline from the keepalive; 0: none
	kaSet    time.Time     // when the read loop last moved the deadline
	window   int           // QoS 1/2 deliveries in flight at most
	maxOut   int           // the client's Maximum Packet Size; 0: none
	aliases  map[uint16][]byte
	hbuf     []byte
	will     *packet.Will
	graceful bool        // DISCONNECT received: no will
	closing  atomic.Bool // the server shuts down: no will
	kicked   atomic.Bool // a newer connection of the client takes over
	cause    server.CloseCause
	done     chan struct{}

	wbuf        []byte // packets the read loop writes, flushed before it waits
	wbuf0       [16]byte
	subj        []byte
	lastSubject string
	pub         packet.Publish

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
	c := &conn{m: m, nc: nc, done: make(chan struct{})}
	c.wbuf = c.wbuf0[:0] // a CONNACK fits
	return c
}

// deadlineReader reads the connection with the keepalive's deadline.
type deadlineReader struct{ c *conn }

// Read reads with a deadline at least the keepalive's time away: it is
// moved (a runtime timer changed) only once an eighth of that time passed
// since it was last moved, to 9/8 of it, so that a busy connection does
// not move it on every read. The client thus has 1.5 to 1.69 times its
// Keep Alive to send its next packet.
func (d deadlineReader) Read(p []byte) (int, error) {
	c := d.c
	if c.kicked.Load() || c.closing.Load() {
		return 0, os.ErrDeadlineExceeded
	}
	if c.ka > 0 {
		if now := time.Now(); now.Sub(c.kaSet) >= c.ka/8 {
			c.kaSet = now
			c.nc.SetReadDeadline(now.Add(c.ka + c.ka/8))
		}
	}
	return c.nc.Read(p)
}

func (c *conn) serve() {
	defer close(c.done)
	c.r = packet.NewReader(deadlineReader{c}, 512)
	c.r.SetMax(preAuthMax)
	c.nc.SetReadDeadline(time.Now().Add(c.m.connectTimeout()))
	typ, _, body, err := c.r.Next()
	if err != nil || typ != packet.CONNECT {
		c.nc.Close()
		return
	}
	if !c.connect(body) {
		return
	}
	c.connected()
	c.readLoop()
	c.cleanup()
}

// connectTimeout is how long a new connection may take to send its
// CONNECT.
func (m *MQTT) connectTimeout() time.Duration {
	if t := m.opts().AuthTimeout; t > 0 {
		return time.Duration(t * float64(time.Second))
	}
	return defaultConnectTimeout
}

// connected readies the read side once the CONNACK went out.
func (c *conn) connected() {
	if c.ka == 0 && c.lc == nil {
		// With a keepalive the first read moves the deadline anyway.
		c.nc.SetReadDeadline(time.Time{})
	}
	c.r.SetMax(maxPacket)
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
	cp, ok := c.decodeConnect(body)
	if !ok || !c.attach(cp) {
		return false
	}
	return c.bind(cp, false) == bindDone
}

// decodeConnect decodes a CONNECT and refuses what no server accepts: it
// reports false once it has answered and closed.
func (c *conn) decodeConnect(body []byte) (*packet.Connect, bool) {
	cp, err := packet.DecodeConnect(body)
	if err != nil {
		var re *packet.ReasonError
		if errors.As(err, &re) {
			v := byte(packet.V311)
			if re.Code >= 0x80 {
				v = packet.V5
			}
			return nil, c.refuse(v, re.Code)
		}
		c.nc.Close()
		return nil, false
	}
	c.v = cp.Version
	v := c.v
	if cp.Props.Has(packet.PropAuthMethod) {
		return nil, c.refuse(v, packet.BadAuthMethod) // enhanced authentication is not supported
	}
	c.id = cp.ClientID
	if c.id == "" {
		if !cp.CleanStart && v == packet.V311 {
			return nil, c.refuse(v, packet.ConnRefusedIDRejected)
		}
		c.id, c.assigned = newClientID(), true
	}
	return cp, true
}

// attach checks the CONNECT's credentials and attaches the client's
// server session; it reports false once it has refused and closed.
func (c *conn) attach(cp *packet.Connect) bool {
	v, id := c.v, c.id
	so := server.SessionOptions{
		Kind:       server.SessionClient,
		Type:       "mqtt",
		MQTTClient: id,
		RemoteAddr: c.nc.RemoteAddr(),
		ConnKind:   auth.KindMQTT,
		Conn:       c.nc,
		QueueLen:   server.DefaultSessionQueue,
	}
	c.encv = encoder{v: v}
	c.enc = &c.encv
	so.Encoder = c.enc
	if tc := tlsConnOf(c.nc); tc != nil {
		st := tc.ConnectionState()
		so.TLS = &st
	}
	if c.m.opts().NoAuthUser != "" {
		so.NoAuthUser = c.m.opts().NoAuthUser
	}
	o := c.m.opts()
	switch {
	case o.Username != "" || o.Token != "":
		ok := (o.Username != "" && cp.Username == o.Username && string(cp.Password) == o.Password) ||
			(o.Token != "" && string(cp.Password) == o.Token)
		if !ok {
			return c.refuse(v, connectCode(v, packet.ConnRefusedNotAuthorized, packet.BadUserNameOrPassword))
		}
	case cp.HasUsername:
		// With users the name and password are checked; with a token
		// (authorization { token }) the password is the token, the name
		// anything, as upstream.
		so.User, so.Password = cp.Username, string(cp.Password)
		if cp.HasPassword {
			so.Token = so.Password
		}
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
	return true
}

// Results of bind.
const (
	bindDone   = iota // the CONNACK went out
	bindFailed        // refused and closed
	bindLater         // noWait: it would wait (JetStream, a takeover); nothing done
)

// bind binds the attached client to its MQTT session and answers the
// CONNECT. With noWait (the event loop) it does nothing and returns
// bindLater when that would wait for JetStream or for another connection.
func (c *conn) bind(cp *packet.Connect, noWait bool) int {
	v, id, assigned, sess, o := c.v, c.id, c.assigned, c.sess, c.m.opts()
	var acc *account
	var err error
	if noWait {
		if acc = c.m.readyAccount(sess.Account()); acc == nil {
			return bindLater
		}
	} else if acc, err = c.m.account(sess.Account()); err != nil {
		c.m.log.Error("MQTT: the account's JetStream state is not available", "account", sess.Account(), "error", err)
		sess.Write(packet.AppendConnack(nil, v, false, connectCode(v, packet.ConnRefusedServerUnavailable, packet.ServerUnavailable), nil))
		sess.CloseFor(server.CloseClientClosed)
		return bindFailed
	}
	c.acc = acc
	// A 3.1.1 session persists unless clean; an MQTT 5 one for its Session
	// Expiry Interval.
	expiry := uint32(0)
	if v == packet.V5 {
		expiry = cp.Props.SessionExpiry
	} else if !cp.CleanStart {
		expiry = never
	}
	present, ok, later := c.bindSession(id, sess.User(), cp.CleanStart, expiry, noWait)
	if later {
		return bindLater
	}
	if !ok {
		sess.Write(packet.AppendConnack(nil, v, false, connectCode(v, packet.ConnRefusedNotAuthorized, packet.NotAuthorized), nil))
		sess.CloseFor(server.CloseAuthFailure)
		return bindFailed
	}
	c.will = cp.Will
	if cp.KeepAlive > 0 {
		c.ka = time.Duration(cp.KeepAlive) * 1500 * time.Millisecond
	}
	c.window = o.MaxAckPending
	if cp.Props.Has(packet.PropReceiveMaximum) {
		c.window = min(c.window, int(cp.Props.ReceiveMaximum))
	}
	if cp.Props.Has(packet.PropMaximumPacketSize) {
		c.maxOut = int(min(cp.Props.MaximumPacketSize, 1<<30))
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
		if o.RejectQoS2Pub {
			props.MaximumQoS = 1
			props.Set(packet.PropMaximumQoS)
		}
		props.MaximumPacketSize = maxPacket
		props.Set(packet.PropMaximumPacketSize)
		props.TopicAliasMaximum = aliasMax
		props.Set(packet.PropTopicAliasMaximum)
	}
	c.wbuf = packet.AppendConnack(c.wbuf, v, present, 0, props)
	c.flush() // before any message of the resumed subscriptions
	c.resume()
	c.flush()
	return bindDone
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
// whether a stored session was resumed. With noWait it reports later,
// having done nothing, instead of waiting (for the account's lock, a
// takeover or JetStream): only a new session without expiry is made then.
func (c *conn) bindSession(id, user string, clean bool, expiry uint32, noWait bool) (present, ok, later bool) {
	a := c.acc
	for {
		if noWait {
			if !a.mu.TryLock() {
				return false, false, true
			}
			if a.sessions[id] != nil || expiry > 0 {
				a.mu.Unlock()
				return false, false, true
			}
		} else {
			a.mu.Lock()
		}
		s := a.sessions[id]
		if s != nil && s.user != user {
			a.mu.Unlock()
			c.m.log.Warn("MQTT: client id in use by another user", "client", id)
			return false, false, false
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
				s.expiry = expiry
				s.mu.Unlock()
				if s.timer != nil {
					s.timer.Stop()
				}
				if s.willTimer != nil {
					s.willTimer.Stop() // back in time: no will
				}
				c.s = s
				return true, true, false
			}
			if s != nil && s.persistent {
				a.dropStored(s)
			}
			s = newSession(a, id, expiry > 0)
			s.user = user
			s.expiry = expiry
			s.conn = c
			a.sessions[id] = s
			c.s = s
			if s.persistent {
				if err := a.saveSession(s); err != nil {
					c.m.log.Error("MQTT: could not store a session", "client", id, "error", err)
					delete(a.sessions, id)
					return false, false, false
				}
			}
			return false, true, false
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
	s.subs = nil
	s.mu.Unlock()
	for _, sub := range subs {
		if sub.qos > 0 {
			for _, subj := range sub.subjects {
				_ = a.durable.Remove(subj, "", s)
				a.deleteConsumer(consumerName(s.id, subj))
			}
		}
	}
	for _, p := range [][2]string{{qos2Stream, qos2Prefix}, {outStream, outPrefix}} {
		_ = a.js.call("STREAM.PURGE."+p[0], map[string]any{"filter": p[1] + hashID(s.id) + ".>"}, nil)
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
	for _, pid := range s.inFlight() {
		om := s.out[pid]
		if om.released {
			c.wbuf = packet.AppendAck(c.wbuf, c.v, packet.PUBREL, &packet.Ack{PacketID: pid})
			continue
		}
		om.sent = c
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
			c.readFailed(err)
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

// readFailed records why reading ended, with the DISCONNECT an MQTT 5
// client gets for it.
func (c *conn) readFailed(err error) {
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
		if c.v != packet.V5 && len(body) == 0 {
			c.graceful = true // 3.1.1's, the only form it has (flags checked by the reader)
			return false
		}
		d, err := packet.DecodeDisconnect(c.v, flags, body)
		if err != nil {
			c.disconnect(packet.MalformedPacket)
			return false
		}
		c.graceful = d.Reason != packet.DisconnectWithWill
		if d.Props.Has(packet.PropSessionExpiry) {
			s := c.s
			s.mu.Lock()
			was := s.expiry
			if was != 0 {
				s.expiry = d.Props.SessionExpiry
			}
			s.mu.Unlock()
			if was == 0 && d.Props.SessionExpiry != 0 {
				c.graceful = false // [MQTT-3.14.2-2]: a protocol error
				c.disconnect(packet.ProtocolError)
			}
		}
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
		if _, ok := s.qos2in[pid]; ok && s.persistent {
			c.acc.clearInflight(qos2Stream, qos2Prefix, s, pid)
		}
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
			if s.persistent {
				// Kept before the message leaves the consumer: after a
				// restart the PUBREL is sent again, not the message.
				if err := c.acc.markInflight(outPrefix, s, pid); err != nil {
					c.m.log.Warn("MQTT: could not store a QoS 2 state", "client", s.id, "error", err)
				}
			}
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
	if om.released && s.persistent {
		c.acc.clearInflight(outStream, outPrefix, s, pid)
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
// client said goodbye (after its delay, unless the client is back by
// then), the session's deliveries stop, and the session ends or waits for
// its client for its expiry interval.
func (c *conn) cleanup() {
	s, a := c.s, c.acc
	s.mu.Lock()
	subs := make([]*subscription, 0, len(s.subs))
	for _, sub := range s.subs {
		subs = append(subs, sub)
	}
	expiry := s.expiry
	s.mu.Unlock()
	for _, sub := range subs {
		c.deactivate(sub)
	}
	if w := c.will; w != nil && !c.graceful && !c.closing.Load() {
		if d := w.Props.WillDelay; d > 0 && expiry > 0 {
			c.willLater(w, time.Duration(min(d, expiry))*time.Second)
		} else {
			c.publishWill(c.sess, w)
		}
	}
	c.flush()
	s.mu.Lock()
	if s.conn == c {
		s.conn = nil
	}
	if !s.persistent {
		s.out, s.bySeq = nil, nil
	}
	s.cond.Broadcast() // a delivery waiting for the window gives up
	s.mu.Unlock()
	c.sess.CloseFor(c.cause)
	if c.closing.Load() {
		return // the server stops: stored sessions stay as they are
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sessions[s.id] != s {
		return // ended meanwhile (a clean connection of the same client)
	}
	switch {
	case expiry == 0 && s.persistent:
		a.dropStored(s) // resumed with no expiry: it ends now
	case expiry == 0:
		delete(a.sessions, s.id)
	case expiry != never:
		s.left = time.Now()
		if err := a.saveSession(s); err != nil {
			c.m.log.Warn("MQTT: could not store a session", "client", s.id, "error", err)
		}
		a.expireLater(s, time.Duration(expiry)*time.Second)
	}
}

// willLater sends the will after its delay, through the account (the
// client's permission to publish it is checked now), unless the client
// comes back first.
func (c *conn) willLater(w *packet.Will, d time.Duration) {
	subj, err := topic.AppendSubject(nil, []byte(w.Topic))
	if err != nil || !c.sess.MayPublish(string(subj)) {
		return
	}
	s, a := c.s, c.acc
	s.mu.Lock()
	if s.willTimer != nil {
		s.willTimer.Stop()
	}
	s.willTimer = time.AfterFunc(d, func() {
		s.mu.Lock()
		away := s.conn == nil
		s.mu.Unlock()
		if away {
			c.publishWill(a.js.sess, w)
		}
	})
	s.mu.Unlock()
}

// publishWill publishes the will through via (the client's session, or the
// account's once the client is gone).
func (c *conn) publishWill(via *server.Session, w *packet.Will) {
	subj, err := topic.AppendSubject(nil, []byte(w.Topic))
	if err != nil {
		return
	}
	reply := ""
	if w.Props.Has(packet.PropResponseTopic) {
		if r, err := topic.AppendSubject(nil, []byte(w.Props.ResponseTopic)); err == nil {
			reply = string(r)
		}
	}
	subject := string(subj)
	hdr := c.header(nil, w.QoS, w.Retain, &w.Props)
	if err := via.Publish(subject, reply, hdr, w.Payload); err != nil {
		return
	}
	if w.Retain {
		c.acc.retain(subject, w.QoS, hdr, w.Payload)
	}
	if w.QoS > 0 && c.acc.needsStore(subject) {
		if err := c.acc.storeAck(msgsPrefix+subject, c.originHeader(hdr), w.Payload); err != nil {
			c.m.log.Warn("MQTT: could not store a will message", "client", c.s.id, "error", err)
		}
	}
}

// header is the NATS header block of a message this client publishes.
func (c *conn) header(dst []byte, qos byte, retain bool, props *packet.Properties) []byte {
	if !retain && (c.v != packet.V5 || onlyAlias(props)) {
		return qosHeaders[qos]
	}
	return buildHeader(dst, qos, retain, props)
}

// originHeader is hdr with this session as the origin, for the copy that
// is stored for persistent sessions (their no-local subscriptions).
func (c *conn) originHeader(hdr []byte) []byte {
	out := make([]byte, 0, len(hdr)+len(hdrOrigin)+30)
	out = append(out, hdr[:len(hdr)-2]...)
	out = appendField(out, hdrOrigin, hashID(c.s.id))
	return append(out, "\r\n"...)
}

// aliasMax is the Topic Alias Maximum this server gives MQTT 5 clients.
const aliasMax = 64

// publish handles a PUBLISH from the client.
func (c *conn) publish(flags byte, body []byte) bool {
	p := &c.pub
	if err := packet.DecodePublish(c.v, flags, body, p); err != nil {
		c.disconnect(packet.MalformedPacket)
		return false
	}
	if p.QoS == 2 && c.m.opts().RejectQoS2Pub {
		c.disconnect(packet.QoSNotSupported)
		return false
	}
	if p.Props.Has(packet.PropSubscriptionIDs) {
		c.disconnect(packet.ProtocolError) // only a server sends them
		return false
	}
	t := p.Topic
	if p.Props.Has(packet.PropTopicAlias) {
		al := p.Props.TopicAlias
		if al == 0 || al > aliasMax {
			c.disconnect(packet.TopicAliasInvalid)
			return false
		}
		if len(t) == 0 {
			if t = c.aliases[al]; t == nil {
				c.disconnect(packet.ProtocolError)
				return false
			}
		} else {
			if c.aliases == nil {
				c.aliases = make(map[uint16][]byte)
			}
			c.aliases[al] = append(c.aliases[al][:0], t...)
		}
	}
	if !packet.ValidTopicName(t) {
		c.disconnect(packet.TopicNameInvalid)
		return false
	}
	subj, err := topic.AppendSubject(c.subj[:0], t)
	if err != nil {
		c.disconnect(packet.TopicNameInvalid)
		return false
	}
	c.subj = subj
	reply := ""
	if p.Props.Has(packet.PropResponseTopic) {
		r, err := topic.AppendSubject(nil, []byte(p.Props.ResponseTopic))
		if err != nil || !packet.ValidTopicName([]byte(p.Props.ResponseTopic)) {
			c.disconnect(packet.TopicNameInvalid)
			return false
		}
		reply = string(r)
	}
	if p.QoS == 2 {
		if _, dup := c.s.qos2in[p.PacketID]; dup {
			c.wbuf = packet.AppendAck(c.wbuf, c.v, packet.PUBREC, &packet.Ack{PacketID: p.PacketID})
			return true
		}
		if len(c.s.qos2in) >= c.m.opts().MaxAckPending {
			// More QoS 2 messages unreleased than allowed: a flood.
			c.disconnect(packet.ReceiveMaxExceeded)
			return false
		}
		if c.s.persistent {
			// Kept before the message goes out: a PUBLISH sent again after
			// a restart is recognised and not delivered twice.
			if err := c.acc.markInflight(qos2Prefix, c.s, p.PacketID); err != nil {
				c.m.log.Warn("MQTT: could not store a QoS 2 state", "client", c.s.id, "error", err)
				return false
			}
		}
	}
	// A client usually publishes to a few topics: the last subject's
	// string is reused (the comparison does not allocate).
	if string(subj) != c.lastSubject {
		c.lastSubject = string(subj)
	}
	subject := c.lastSubject
	hdr := c.header(c.hbuf[:0], p.QoS, p.Retain, &p.Props)
	if len(hdr) > 0 && &hdr[0] != &qosHeaders[p.QoS][0] {
		c.hbuf = hdr
	}
	reason := byte(packet.Success)
	err = c.sess.Publish(subject, reply, hdr, p.Payload)
	switch {
	case err == nil:
		if p.Retain {
			c.acc.retain(subject, p.QoS, hdr, p.Payload)
		}
	case errors.Is(err, server.ErrPermission):
		reason = packet.NotAuthorized
	case errors.Is(err, server.ErrMaxPayload):
		// As upstream closes its MQTT clients (logged by the session):
		// a DISCONNECT with Packet too large first for MQTT 5.
		c.cause = server.CloseMaxPayload
		c.disconnect(packet.PacketTooLarge)
		return false
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
		c.s.markQoS2(p.PacketID)
	}
	if reason == packet.Success && c.acc.needsStore(subject) {
		c.storeThenAck(subject, c.originHeader(hdr), p, typ)
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
func (c *conn) storeThenAck(subject string, hdr []byte, p *packet.Publish, typ byte) {
	c.flush()
	pa := &pendingAck{}
	c.ackMu.Lock()
	c.acks = append(c.acks, pa)
	c.ackMu.Unlock()
	pid, v := p.PacketID, c.v
	c.acc.js.publishAsync(msgsPrefix+subject, hdr, p.Payload, func(m *server.Msg, err error) {
		reason := byte(packet.Success)
		if err == nil {
			err = pubAckError(m.Data)
		}
		if err != nil {
			c.m.log.Warn("MQTT: could not store a QoS message", "client", c.s.id, "subject", subject, "error", err)
			if v != packet.V5 {
				// MQTT 3.1.1 has no negative acknowledgement: close so that
				// the client sends the message again.
				c.sess.CloseFor(server.CloseClientClosed)
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
			c.sess.Queue(out) // on the account's goroutine: never block it
		}
		c.ackMu.Unlock()
	})
}
