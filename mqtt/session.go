package mqtt

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"natsd.dev/mqtt/internal/topic"
	"natsd.dev/server"
)

// session is the MQTT session of one client id in one account: its
// subscriptions and the QoS 1/2 messages in flight. A clean session lives
// as long as its connection; a persistent one stays in its account (and
// in sessStream) after the client leaves, until a clean connection with
// the same id ends it.
type session struct {
	acc        *account
	id         string
	persistent bool
	user       string
	// expiry is how long the session outlives its connection, in
	// seconds (MQTT 5's Session Expiry Interval; never for a 3.1.1
	// persistent session); left is when its client went away.
	expiry uint32
	left   time.Time
	// timer ends the session once it expired; willTimer sends a will
	// with a delay, unless the client comes back first.
	timer, willTimer *time.Timer

	mu   sync.Mutex
	cond sync.Cond // signalled when the window opens or the connection goes
	conn *conn     // the live connection, nil while the client is away
	subs map[string]*subscription
	// Outgoing QoS 1/2 messages waiting for PUBACK, PUBREC or PUBCOMP,
	// by packet id; bySeq finds a persistent session's message again
	// when its consumer redelivers it.
	out     map[uint16]*outMsg
	bySeq   map[uint64]uint16
	nextPID uint16
	outN    uint64 // numbers the messages put in out
	// qos2in are the packet ids of QoS 2 messages received and not yet
	// released (PUBREL): a PUBLISH sent again with one of them is not
	// delivered again.
	qos2in map[uint16]struct{}
}

// subscription is one topic filter of a session.
type subscription struct {
	filter string // as subscribed, "$share/<group>/" included: the key in session.subs
	group  string // shared subscription's group (a NATS queue group)
	qos    byte
	// MQTT 5 options: no local, retain as published, the subscription
	// identifier (0: none).
	noLocal, rap bool
	subID        uint32
	subjects     []string // one or two NATS subjects ("a/#": "a" and "a.>")
	// noDollar: the filter starts with a wildcard, which does not match
	// topics that start with '$' [MQTT-4.7.2-1].
	noDollar bool
	// core are the server subscriptions on subjects, while the client is
	// connected; push are the subscriptions to the consumers' deliveries
	// (persistent sessions, QoS 1/2) and consumers their durable names.
	core      []*server.SessionSub
	push      []*server.SessionSub
	consumers []string
}

// stored reports whether the subscription has consumers in a persistent
// session: QoS 1/2 and not shared (a shared subscription gets live
// messages only).
func (sub *subscription) stored() bool { return sub.qos > 0 && sub.group == "" }

// outMsg is a message delivered with QoS 1 or 2 and not yet acknowledged.
type outMsg struct {
	qos      byte
	released bool   // PUBREC received, PUBREL sent: waiting for PUBCOMP
	ackReply string // the JetStream ack subject of a stored message
	seq      uint64 // its stream sequence
	// sent is the connection it was last sent on: a stored message the
	// consumer pushes again is sent again only to a new connection (MQTT
	// sends again on reconnect, never within a connection).
	sent *conn
	// n orders the messages in flight: they are sent again in the order
	// they were first sent [MQTT-4.6.0-1].
	n uint64
	// topic and payload are kept to send the message again when a
	// persistent session's client comes back.
	topic, payload []byte
}

// newSession returns an empty session. Its maps are made with their first
// entry (a clean session that only publishes at QoS 0 never needs them),
// so reading them works at once and writing goes through setSub, track,
// trackSeq and markQoS2.
func newSession(a *account, id string, persistent bool) *session {
	s := &session{acc: a, id: id, persistent: persistent}
	s.cond.L = &s.mu
	return s
}

// setSub records sub under its filter; s.mu is held.
func (s *session) setSub(sub *subscription) {
	if s.subs == nil {
		s.subs = make(map[string]*subscription)
	}
	s.subs[sub.filter] = sub
}

// track puts om in flight as pid; s.mu is held.
func (s *session) track(pid uint16, om *outMsg) {
	s.outN++
	om.n = s.outN
	if s.out == nil {
		s.out = make(map[uint16]*outMsg)
	}
	s.out[pid] = om
}

// trackSeq remembers that stream sequence seq is in flight as pid; s.mu is
// held.
func (s *session) trackSeq(seq uint64, pid uint16) {
	if s.bySeq == nil {
		s.bySeq = make(map[uint64]uint16)
	}
	s.bySeq[seq] = pid
}

// markQoS2 records a QoS 2 packet id received and not released yet (only
// the read loop, or the account's setup before any, uses qos2in).
func (s *session) markQoS2(pid uint16) {
	if s.qos2in == nil {
		s.qos2in = make(map[uint16]struct{})
	}
	s.qos2in[pid] = struct{}{}
}

// inFlight returns the packet ids in flight in the order they were sent;
// s.mu is held.
func (s *session) inFlight() []uint16 {
	pids := make([]uint16, 0, len(s.out))
	for pid := range s.out {
		pids = append(pids, pid)
	}
	slices.SortFunc(pids, func(a, b uint16) int { return cmp.Compare(s.out[a].n, s.out[b].n) })
	return pids
}

// allocPID returns a packet id not in flight; s.mu is held and the
// window has room.
func (s *session) allocPID() uint16 {
	for {
		s.nextPID++
		if s.nextPID == 0 {
			s.nextPID = 1
		}
		if _, used := s.out[s.nextPID]; !used {
			return s.nextPID
		}
	}
}

// never is the expiry of a session that does not expire.
const never = math.MaxUint32

// startsWild reports whether a filter (without its "$share/<group>/")
// starts with a wildcard level.
func startsWild(filter string) bool {
	return filter != "" && (filter[0] == '+' || filter[0] == '#')
}

// dollar reports whether a NATS subject is the topic of a '$' topic.
func dollar(subject []byte) bool { return len(subject) > 0 && subject[0] == '$' }

// filterSubjects maps an MQTT topic filter to its NATS subjects.
func filterSubjects(filter string) ([]string, error) {
	return topic.FilterSubjects(filter)
}

// splitShared splits a shared subscription's filter "$share/<group>/<f>";
// ok is false for a malformed one, group is "" for a plain filter.
func splitShared(filter string) (group, f string, ok bool) {
	rest, shared := strings.CutPrefix(filter, "$share/")
	if !shared {
		return "", filter, true
	}
	group, f, found := strings.Cut(rest, "/")
	if !found || group == "" || f == "" || strings.ContainsAny(group, "+#") {
		return "", "", false
	}
	return group, f, true
}
