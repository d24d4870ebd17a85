package mqtt

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"natsd.dev/server"
	"natsd.dev/sublist"
)

// The streams MQTT keeps its state in, in each account that has MQTT
// clients (upstream's names and subjects).
const (
	sessStream  = "$MQTT_sess"
	sessPrefix  = "$MQTT.sess."
	msgsStream  = "$MQTT_msgs"
	msgsPrefix  = "$MQTT.msgs."
	rmsgsStream = "$MQTT_rmsgs"
	rmsgsPrefix = "$MQTT.rmsgs."
	// The QoS 2 exchanges of persistent sessions in flight: packet ids
	// received and not released yet, and PUBRELs sent and not completed
	// (subjects <prefix><session hash>.<packet id>).
	qos2Stream = "$MQTT_qos2in"
	qos2Prefix = "$MQTT.qos2.in."
	outStream  = "$MQTT_out"
	outPrefix  = "$MQTT.out."
	// deliverPrefix is where the consumers of persistent sessions push.
	deliverPrefix = "$MQTT.sub."
	// hdrPub is the header that carries an MQTT message's QoS on NATS.
	hdrPub = "Nmqtt-Pub"
)

// account is MQTT's state in one account: its JetStream client, the
// sessions of its clients (live ones and persistent ones kept for later),
// the retained messages, and which subjects persistent sessions must get
// at QoS 1/2 (so that only those messages are stored).
type account struct {
	m    *MQTT
	name string
	js   *jsClient

	mu       sync.Mutex
	sessions map[string]*session // by client id
	retained map[string]*retained
	// durable holds the NATS subjects of persistent sessions' QoS 1/2
	// subscriptions: a QoS 1/2 message on a subject it has interest in is
	// stored in msgsStream before it is acknowledged.
	durable *sublist.Sublist[*session]
}

// retained is a retained message, by subject.
type retained struct {
	subject string
	qos     byte
	hdr     []byte // its NATS header block (MQTT 5 properties)
	payload []byte
	at      time.Time // when it was published (for its expiry)
}

// sessRecord is a persistent session as stored in sessStream.
type sessRecord struct {
	ID     string       `json:"id"`
	User   string       `json:"user,omitempty"`
	Subs   []subsRecord `json:"subs,omitempty"`
	Expiry uint32       `json:"expiry,omitempty"` // seconds; 0: never (3.1.1)
	Left   time.Time    `json:"left,omitzero"`    // when the client went away
}

type subsRecord struct {
	Filter  string `json:"filter"`
	QoS     byte   `json:"qos"`
	NoLocal bool   `json:"nl,omitempty"`
	RAP     bool   `json:"rap,omitempty"`
	SubID   uint32 `json:"id,omitempty"`
}

// account returns the MQTT state of the named account, setting it up
// (streams, stored sessions and retained messages) on first use.
func (m *MQTT) account(name string) (*account, error) {
	m.mu.Lock()
	a := m.accounts[name]
	if a == nil {
		a = &account{m: m, name: name}
		m.accounts[name] = a
	}
	m.mu.Unlock()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.js != nil {
		return a, nil
	}
	if err := a.setup(); err != nil {
		if a.js != nil {
			a.js.close()
			a.js = nil
		}
		return nil, err
	}
	return a, nil
}

// readyAccount is the account named name when its JetStream state is set
// up and nobody holds it (the event loop does not wait); otherwise nil.
func (m *MQTT) readyAccount(name string) *account {
	m.mu.Lock()
	a := m.accounts[name]
	m.mu.Unlock()
	if a == nil || !a.mu.TryLock() {
		return nil
	}
	ready := a.js != nil
	a.mu.Unlock()
	if !ready {
		return nil
	}
	return a
}

// setup creates the streams and loads what they hold; a.mu is held.
func (a *account) setup() error {
	js, err := newJSClient(a.m.srv, a.name, a.m.opts().JSDomain, a.m.opts().JSAPITimeout)
	if err != nil {
		return err
	}
	a.js = js
	a.sessions = make(map[string]*session)
	a.retained = make(map[string]*retained)
	a.durable = sublist.New[*session]()
	streams := []map[string]any{
		{"name": sessStream, "subjects": []string{sessPrefix + ">"}, "storage": "file", "retention": "limits", "max_msgs_per_subject": 1},
		{"name": msgsStream, "subjects": []string{msgsPrefix + ">"}, "storage": "file", "retention": "interest"},
		{"name": rmsgsStream, "subjects": []string{rmsgsPrefix + ">"}, "storage": "file", "retention": "limits", "max_msgs_per_subject": 1},
		{"name": qos2Stream, "subjects": []string{qos2Prefix + ">"}, "storage": "file", "retention": "limits", "max_msgs_per_subject": 1},
		{"name": outStream, "subjects": []string{outPrefix + ">"}, "storage": "file", "retention": "limits", "max_msgs_per_subject": 1},
	}
	for _, cfg := range streams {
		if n := a.m.opts().StreamReplicas; n > 0 {
			cfg["num_replicas"] = n
		}
		if err := js.call("STREAM.CREATE."+cfg["name"].(string), cfg, nil); err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.ErrCode != 10058 { // stream name already in use
				return err
			}
		}
	}
	if err := a.scan(sessStream, sessPrefix+">", a.loadSession); err != nil {
		return err
	}
	if err := a.scan(rmsgsStream, rmsgsPrefix+">", a.loadRetained); err != nil {
		return err
	}
	byHash := make(map[string]*session, len(a.sessions))
	for _, s := range a.sessions {
		byHash[hashID(s.id)] = s
	}
	err = a.scan(qos2Stream, qos2Prefix+">", func(sm *storedMsg) {
		if s, pid := inflightOf(byHash, sm.Subject, qos2Prefix); s != nil {
			s.markQoS2(pid)
		}
	})
	if err != nil {
		return err
	}
	return a.scan(outStream, outPrefix+">", func(sm *storedMsg) {
		if s, pid := inflightOf(byHash, sm.Subject, outPrefix); s != nil {
			s.track(pid, &outMsg{qos: 2, released: true})
		}
	})
}

// inflightOf finds the session and packet id of a QoS 2 record.
func inflightOf(byHash map[string]*session, subject, prefix string) (*session, uint16) {
	h, id, ok := strings.Cut(strings.TrimPrefix(subject, prefix), ".")
	n, err := strconv.ParseUint(id, 10, 16)
	if !ok || err != nil || n == 0 {
		return nil, 0
	}
	return byHash[h], uint16(n)
}

// inflightSubject is the record of packet id pid of session s.
func inflightSubject(prefix string, s *session, pid uint16) string {
	return prefix + hashID(s.id) + "." + strconv.Itoa(int(pid))
}

// markInflight stores the record of a QoS 2 exchange of a persistent
// session; it returns once JetStream has it.
func (a *account) markInflight(prefix string, s *session, pid uint16) error {
	return a.storeAck(inflightSubject(prefix, s, pid), nil, nil)
}

// clearInflight removes it (in the background: a leftover record only
// makes a later duplicate be acknowledged instead of delivered).
func (a *account) clearInflight(stream, prefix string, s *session, pid uint16) {
	a.js.publishAsync(a.js.prefix+"STREAM.PURGE."+stream, nil, []byte(`{"filter":"`+inflightSubject(prefix, s, pid)+`"}`), func(*server.Msg, error) {})
}

// storedMsg is a message of a MSG.GET answer.
type storedMsg struct {
	Subject string    `json:"subject"`
	Seq     uint64    `json:"seq"`
	Hdrs    []byte    `json:"hdrs"`
	Data    []byte    `json:"data"`
	Time    time.Time `json:"time"`
}

// scan calls fn with every message of stream on filter, in order.
func (a *account) scan(stream, filter string, fn func(*storedMsg)) error {
	seq := uint64(1)
	for {
		var r struct {
			Message storedMsg `json:"message"`
		}
		err := a.js.call("STREAM.MSG.GET."+stream, map[string]any{"seq": seq, "next_by_subj": filter}, &r)
		var ae *apiError
		if errors.As(err, &ae) && ae.ErrCode == 10037 { // no message found
			return nil
		}
		if err != nil {
			return err
		}
		fn(&r.Message)
		seq = r.Message.Seq + 1
	}
}

func (a *account) loadSession(sm *storedMsg) {
	var rec sessRecord
	if json.Unmarshal(sm.Data, &rec) != nil || rec.ID == "" {
		a.m.log.Warn("MQTT: ignoring an unreadable session record", "account", a.name, "subject", sm.Subject)
		return
	}
	s := newSession(a, rec.ID, true)
	s.user = rec.User
	s.expiry = rec.Expiry
	if s.expiry == 0 {
		s.expiry = never
	}
	s.left = rec.Left
	if s.left.IsZero() {
		s.left = time.Now() // connected when the server stopped
	}
	for _, sr := range rec.Subs {
		group, f, ok := splitShared(sr.Filter)
		if !ok {
			continue
		}
		subjects, err := filterSubjects(f)
		if err != nil {
			continue
		}
		sub := &subscription{filter: sr.Filter, group: group, qos: sr.QoS, noLocal: sr.NoLocal, rap: sr.RAP, subID: sr.SubID, subjects: subjects, noDollar: startsWild(f)}
		s.setSub(sub)
		if sub.stored() {
			for _, subj := range subjects {
				_ = a.durable.Insert(subj, "", s)
			}
		}
	}
	a.sessions[rec.ID] = s
	if s.expiry != never {
		a.expireLater(s, time.Until(s.left.Add(time.Duration(s.expiry)*time.Second)))
	}
}

func (a *account) loadRetained(sm *storedMsg) {
	subject := strings.TrimPrefix(sm.Subject, rmsgsPrefix)
	a.retained[subject] = &retained{subject: subject, qos: qosOfHeader(sm.Hdrs), hdr: sm.Hdrs, payload: sm.Data, at: sm.Time}
}

// recordSubject is where a client's persistent session is stored.
func recordSubject(clientID string) string {
	return sessPrefix + hashID(clientID)
}

// hashID turns a client id (any UTF-8) into a token usable in subjects
// and consumer names.
func hashID(clientID string) string {
	h := sha256.Sum256([]byte(clientID))
	return hex.EncodeToString(h[:12])
}

// saveSession stores s's record; it returns once JetStream has it.
func (a *account) saveSession(s *session) error {
	rec := sessRecord{ID: s.id, User: s.user}
	s.mu.Lock()
	if s.expiry != never {
		rec.Expiry = s.expiry
		if s.conn == nil {
			rec.Left = s.left
		}
	}
	for _, sub := range s.subs {
		rec.Subs = append(rec.Subs, subsRecord{Filter: sub.filter, QoS: sub.qos, NoLocal: sub.noLocal, RAP: sub.rap, SubID: sub.subID})
	}
	s.mu.Unlock()
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return a.storeAck(recordSubject(s.id), nil, data)
}

// deleteSession removes s's record.
func (a *account) deleteSession(s *session) error {
	return a.js.call("STREAM.PURGE."+sessStream, map[string]any{"filter": recordSubject(s.id)}, nil)
}

// storeAck publishes a message to a stream and waits for its PubAck.
func (a *account) storeAck(subject string, hdr, data []byte) error {
	ans, err := a.js.request(subject, hdr, data)
	if err != nil {
		return err
	}
	return pubAckError(ans)
}

// pubAckError decodes a PubAck's error, nil for a positive one.
func pubAckError(data []byte) error {
	if !bytes.Contains(data, []byte(`"error"`)) {
		return nil // the common case, without decoding
	}
	var r struct {
		Error *apiError `json:"error"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return err
	}
	if r.Error != nil {
		return r.Error
	}
	return nil
}

// consumerName is the durable name of the consumer that feeds one NATS
// subject of a persistent session's subscription.
func consumerName(clientID, subject string) string {
	h := sha256.Sum256([]byte(subject))
	return hashID(clientID) + "_" + base64.RawURLEncoding.EncodeToString(h[:9])
}

// createConsumer makes sure the consumer of a persistent session's QoS 1/2
// subscription on subject exists; it pushes to deliverPrefix+name.
func (a *account) createConsumer(clientID, subject string) (string, error) {
	name := consumerName(clientID, subject)
	cfg := map[string]any{
		"durable_name":    name,
		"deliver_subject": deliverPrefix + name,
		"filter_subject":  msgsPrefix + subject,
		"ack_policy":      "explicit",
		"ack_wait":        a.m.opts().AckWait.Nanoseconds(),
		"max_ack_pending": a.m.opts().MaxAckPending,
		"deliver_policy":  "new",
		"max_deliver":     -1,
	}
	if a.m.opts().ConsumerMemoryStorage {
		cfg["mem_storage"] = true
	}
	if n := a.m.opts().ConsumerReplicas; n > 0 {
		cfg["num_replicas"] = n
	}
	if t := a.m.opts().ConsumerInactiveThreshold; t > 0 {
		cfg["inactive_threshold"] = t.Nanoseconds()
	}
	req := map[string]any{"stream_name": msgsStream, "config": cfg}
	err := a.js.call("CONSUMER.DURABLE.CREATE."+msgsStream+"."+name, req, nil)
	var ae *apiError
	if errors.As(err, &ae) && ae.ErrCode == 10148 { // consumer already exists (same config)
		err = nil
	}
	return name, err
}

func (a *account) deleteConsumer(name string) {
	err := a.js.call("CONSUMER.DELETE."+msgsStream+"."+name, nil, nil)
	var ae *apiError
	if err != nil && !(errors.As(err, &ae) && ae.ErrCode == 10014) { // consumer not found
		a.m.log.Warn("MQTT: could not delete a consumer", "account", a.name, "consumer", name, "error", err)
	}
}

// needsStore reports whether a QoS 1/2 message on subject must be stored
// for a persistent session.
func (a *account) needsStore(subject string) bool {
	return a.durable.HasInterest(subject)
}

// qosOfHeader reads the QoS an MQTT publisher gave a message from its NATS
// header block; 0 when it has none.
func qosOfHeader(hdr []byte) byte {
	i := bytes.Index(hdr, pubKey)
	if i < 0 {
		return 0
	}
	v := bytes.TrimLeft(hdr[i+len(pubKey):], " ")
	if len(v) > 0 && (v[0] == '1' || v[0] == '2') {
		return v[0] - '0'
	}
	return 0
}

var pubKey = []byte("\r\n" + hdrPub + ":")

// qosHeaders are the header blocks of MQTT messages by QoS: NATS
// subscribers see the QoS an MQTT publisher gave (as upstream's do).
var qosHeaders = [3][]byte{
	[]byte("NATS/1.0\r\n" + hdrPub + ": 0\r\n\r\n"),
	[]byte("NATS/1.0\r\n" + hdrPub + ": 1\r\n\r\n"),
	[]byte("NATS/1.0\r\n" + hdrPub + ": 2\r\n\r\n"),
}

var errNoJetStream = errors.New("mqtt: JetStream is not available for the account")

// jsUnavailable tells whether err means the account has no JetStream.
func jsUnavailable(err error) bool {
	var ae *apiError
	return errors.Is(err, errTimeout) || errors.Is(err, server.ErrClosed) || (errors.As(err, &ae) && ae.ErrCode == 10039)
}

// expireLater ends a persistent session once d has passed with its client
// away (at once when d <= 0); a.mu is held.
func (a *account) expireLater(s *session, d time.Duration) {
	if s.timer != nil {
		s.timer.Stop()
	}
	s.timer = time.AfterFunc(max(d, 0), func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		s.mu.Lock()
		away := s.conn == nil
		s.mu.Unlock()
		if away && a.sessions[s.id] == s {
			a.dropStored(s)
		}
	})
}

// nakInFlight hands the stored messages the account's sessions have in
// flight back to their consumers, due at once, before the server stops:
// the sessions' memory of them goes with the process, and the consumers
// would otherwise send them again only after their ack wait. Each NAK
// asks for an answer, which a consumer sends once it has taken the NAK,
// and nakInFlight waits for them all (each at most the API timeout), so
// none is lost in the JetStream shutdown that follows. a.mu is held.
func (a *account) nakInFlight() {
	var wg sync.WaitGroup
	for _, s := range a.sessions {
		s.mu.Lock()
		var replies []string
		for _, om := range s.out {
			if om.ackReply != "" && !om.released {
				replies = append(replies, om.ackReply)
			}
		}
		s.mu.Unlock()
		for _, r := range replies {
			// A delay of 1ns: the consumer keeps the message due since
			// its delivery, so it is due again as soon as it recovers.
			wg.Add(1)
			a.js.publishAsync(r, nil, nakNow, func(*server.Msg, error) { wg.Done() })
		}
	}
	wg.Wait()
}

// nakNow is the NAK nakInFlight sends.
var nakNow = []byte(`-NAK {"delay":1}`)
