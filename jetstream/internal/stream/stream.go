package stream

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/jetstream/api"
	"natsd.dev/jetstream/internal/hdr"
	"natsd.dev/jetstream/store"
	"natsd.dev/sublist"
)

// Publisher sends messages on core NATS: PubAcks, republished messages.
// A server.Session is one.
type Publisher interface {
	Publish(subject, reply string, hdr, data []byte) error
}

// Opener opens the stream's store with the store configuration the stream
// derives from its own (limits and callbacks).
type Opener func(store.Config) (store.StreamStore, error)

// Options are what a stream needs from its account and server.
type Options struct {
	// Domain is put in PubAcks.
	Domain string
	// Out sends PubAcks and republished messages.
	Out Publisher
	// AckOnWrite acknowledges once a message is stored, before it is
	// durable (sync_interval set, or persist_mode async).
	AckOnWrite bool
	// Admit, if set, is asked before a message of size bytes is stored;
	// a non-nil error refuses it (account storage limits).
	Admit func(size uint64) *api.Error
	// Created is the stream's creation time; zero means now.
	Created time.Time
	// Interest, if set, tells whether a consumer still wants the message
	// of seq on subject (interest retention); nil means no consumer does.
	Interest func(seq uint64, subject string) bool
	// OnRemove, if set, is told about every message the store removed
	// by itself (limits, expiry), for consumers' bookkeeping.
	OnRemove func(seq uint64, subject string)
}

// Stream is one JetStream stream.
type Stream struct {
	opts Options

	mu      sync.Mutex // guards everything below and serializes Apply
	cfg     api.StreamConfig
	created time.Time
	st      store.StreamStore
	dedupe  dedupe
	lastID  string // Nats-Msg-Id of the last stored message
	xform   *sublist.Transform
	repub   *sublist.Transform
	ackHead []byte // `{"stream":"NAME"[,"domain":"D"],"seq":`
	closed  bool
	pending []pendingAck // acks waiting for durability, by seq
	durable atomic.Uint64
	kick    chan struct{}
	done    chan struct{}
	ackerWG sync.WaitGroup
	scratch store.StoredMsg
	pubBuf  []byte
	hdrBuf  []byte
}

type pendingAck struct {
	seq   uint64
	reply string
	body  []byte
}

// New creates a stream with the normalized cfg, opening its store through
// open. For a stream recovered from disk, the store already holds its
// messages.
func New(cfg api.StreamConfig, open Opener, o Options) (*Stream, error) {
	s := &Stream{opts: o, cfg: cfg, created: o.Created, kick: make(chan struct{}, 1), done: make(chan struct{})}
	if s.created.IsZero() {
		s.created = time.Now().UTC()
	}
	s.setDerived()
	st, err := open(s.storeConfig())
	if err != nil {
		return nil, err
	}
	s.st = st
	if d, ok := st.(store.Durable); ok && !o.AckOnWrite {
		s.durable.Store(d.DurableSeq())
		s.ackerWG.Add(1)
		go s.acker()
	} else {
		s.opts.AckOnWrite = true
	}
	if cfg.FirstSeq > 1 {
		if state := st.State(); state.LastSeq == 0 {
			if _, err := st.Compact(cfg.FirstSeq); err != nil {
				_ = st.Close()
				return nil, err
			}
		}
	}
	s.rebuildDedupe()
	return s, nil
}

func (s *Stream) setDerived() {
	s.xform, s.repub = nil, nil
	if t := s.cfg.SubjectTransform; t != nil {
		s.xform, _ = sublist.NewTransform(t.Source, t.Destination)
	}
	if rp := s.cfg.RePublish; rp != nil {
		src := rp.Source
		if src == "" {
			src = ">"
		}
		s.repub, _ = sublist.NewTransform(src, rp.Destination)
	}
	head := append([]byte(`{"stream":`), strconv.Quote(s.cfg.Name)...)
	if s.opts.Domain != "" {
		head = append(head, `,"domain":`...)
		head = append(head, strconv.Quote(s.opts.Domain)...)
	}
	s.ackHead = append(head, `,"seq":`...)
	s.dedupe.window = s.cfg.Duplicates
}

// storeConfig derives the store's configuration from the stream's.
func (s *Stream) storeConfig() store.Config {
	c := store.Config{
		Name:              s.cfg.Name,
		MaxMsgs:           s.cfg.MaxMsgs,
		MaxBytes:          s.cfg.MaxBytes,
		MaxAge:            s.cfg.MaxAge,
		MaxMsgsPerSubject: s.cfg.MaxMsgsPerSubject,
		MaxMsgSize:        int(s.cfg.MaxMsgSize),
		OnDurable:         s.onDurable,
	}
	if s.cfg.Discard == api.DiscardNew {
		c.Discard = store.DiscardNew
		c.DiscardNewPerSubject = s.cfg.DiscardNewPerSubject
	}
	if f := s.opts.OnRemove; f != nil {
		c.OnRemove = func(seq uint64, subject string, _ store.RemoveReason) { f(seq, subject) }
	}
	return c
}

// Config returns the stream's configuration.
func (s *Stream) Config() api.StreamConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// Name returns the stream's name.
func (s *Stream) Name() string { return s.cfg.Name }

// Created returns the stream's creation time.
func (s *Stream) Created() time.Time { return s.created }

// Store returns the stream's store, for reads.
func (s *Stream) Store() store.StreamStore { return s.st }

// State returns the store's state.
func (s *Stream) State() store.StreamState { return s.st.State() }

// Close stops the stream and closes its store (durably), sending the
// acks the final sync covers.
func (s *Stream) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	err := s.st.Close()
	close(s.done)
	s.ackerWG.Wait()
	s.flushAcks()
	return err
}

// Delete stops the stream and removes its data.
func (s *Stream) Delete() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.pending = nil
	s.mu.Unlock()
	err := s.st.Delete()
	close(s.done)
	s.ackerWG.Wait()
	return err
}

// Result is the outcome of applying an Op.
type Result struct {
	Seq       uint64
	Duplicate bool
	Purged    uint64
	Val       string
	Err       *api.Error
}

// OpKind names what an Op does.
type OpKind uint8

const (
	OpMsg    OpKind = iota + 1 // store a published message
	OpDelete                   // delete (or erase) one message
	OpPurge                    // purge by filter, sequence or keep
	OpUpdate                   // replace the configuration
	OpMirror                   // store a mirrored message at its origin sequence
	OpSource                   // store a sourced message
)

// Op is one change of a stream's state, as the log orders it.
type Op struct {
	Kind    OpKind
	Subject string
	Hdr     []byte
	Data    []byte
	TS      int64 // Unix nanoseconds, assigned by the proposer
	Seq     uint64
	NoErase bool
	Purge   store.PurgeRequest
	Config  *api.StreamConfig
}

// Propose orders op and applies it; on a single server it applies at
// once. It is the only way the stream's state changes.
func (s *Stream) Propose(op *Op) Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Result{Err: api.ErrStreamNotFound}
	}
	return s.applyLocked(op)
}

func (s *Stream) applyLocked(op *Op) Result {
	switch op.Kind {
	case OpMsg:
		return s.storeLocked(op)
	case OpMirror, OpSource:
		return s.copyLocked(op)
	case OpDelete:
		var err error
		if op.NoErase {
			err = s.st.RemoveMsg(op.Seq)
		} else {
			err = s.st.EraseMsg(op.Seq)
		}
		if err != nil {
			if errors.Is(err, store.ErrMsgNotFound) {
				return Result{Err: api.ErrStreamMsgDeleteFailed.With("err", "no message found")}
			}
			return Result{Err: api.ErrStreamMsgDeleteFailed.WithErr(err)}
		}
		return Result{Seq: op.Seq}
	case OpPurge:
		n, err := s.st.Purge(op.Purge)
		if err != nil {
			return Result{Err: api.ErrStreamPurgeFailed.WithErr(err)}
		}
		if op.Purge.Filter == "" && op.Purge.Seq == 0 && op.Purge.Keep == 0 {
			s.dedupe.reset()
			s.lastID = ""
		}
		return Result{Purged: n}
	case OpUpdate:
		if err := s.st.UpdateConfig(s.storeConfigFor(op.Config)); err != nil {
			return Result{Err: api.ErrStreamUpdate.WithErr(err)}
		}
		s.cfg = *op.Config
		s.setDerived()
		return Result{}
	}
	return Result{Err: api.ErrBadRequest}
}

func (s *Stream) storeConfigFor(cfg *api.StreamConfig) store.Config {
	old := s.cfg
	s.cfg = *cfg
	c := s.storeConfig()
	s.cfg = old
	return c
}

// ProcessMsg handles a message published to one of the stream's subjects:
// it proposes the store and acknowledges to reply (unless the stream has
// no_ack or reply is empty).
func (s *Stream) ProcessMsg(subject, reply string, h, data []byte) {
	res := s.Propose(&Op{Kind: OpMsg, Subject: subject, Hdr: h, Data: data, TS: time.Now().UnixNano()})
	if reply == "" || s.cfg.NoAck {
		return
	}
	if res.Err != nil {
		s.sendErr(reply, res.Err)
		return
	}
	body := s.ackBody(res)
	if s.opts.AckOnWrite || res.Seq <= s.durable.Load() {
		_ = s.opts.Out.Publish(reply, "", nil, body)
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.pending = append(s.pending, pendingAck{seq: res.Seq, reply: reply, body: body})
	s.mu.Unlock()
	if res.Seq <= s.durable.Load() {
		s.signal()
	}
}

func (s *Stream) sendErr(reply string, e *api.Error) {
	b, _ := jsonMarshal(api.PubAckResponse{Error: e})
	_ = s.opts.Out.Publish(reply, "", nil, b)
}

// ackBody renders the PubAck of res.
func (s *Stream) ackBody(res Result) []byte {
	b := make([]byte, 0, len(s.ackHead)+48)
	b = append(b, s.ackHead...)
	b = strconv.AppendUint(b, res.Seq, 10)
	if res.Duplicate {
		b = append(b, `,"duplicate":true`...)
	}
	if res.Val != "" {
		b = append(b, `,"val":`...)
		b = strconv.AppendQuote(b, res.Val)
	}
	return append(b, '}')
}

func (s *Stream) onDurable(seq uint64) {
	s.durable.Store(seq)
	s.signal()
}

func (s *Stream) signal() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// acker sends the acks the durable mark covers.
func (s *Stream) acker() {
	defer s.ackerWG.Done()
	for {
		select {
		case <-s.kick:
			s.flushAcks()
		case <-s.done:
			return
		}
	}
}

func (s *Stream) flushAcks() {
	d := s.durable.Load()
	s.mu.Lock()
	n := 0
	for n < len(s.pending) && s.pending[n].seq <= d {
		n++
	}
	if n == 0 {
		s.mu.Unlock()
		return
	}
	ready := make([]pendingAck, n)
	copy(ready, s.pending[:n])
	s.pending = append(s.pending[:0], s.pending[n:]...)
	s.mu.Unlock()
	for _, p := range ready {
		_ = s.opts.Out.Publish(p.reply, "", nil, p.body)
	}
}

// WaitDurable waits until seq is durable (tests, snapshots).
func (s *Stream) WaitDurable(ctx context.Context, seq uint64) error {
	if d, ok := s.st.(store.Durable); ok {
		return d.WaitDurable(ctx, seq)
	}
	return nil
}

// storeLocked is the publish path: checks, then store.
func (s *Stream) storeLocked(op *Op) Result {
	cfg := &s.cfg
	if cfg.Sealed {
		return Result{Err: api.ErrStreamSealed}
	}
	h := op.Hdr
	size := len(h) + len(op.Data)
	if cfg.MaxMsgSize > 0 && size > int(cfg.MaxMsgSize) {
		return Result{Err: api.ErrStreamMessageExceedsMaximum}
	}
	var msgID string
	var ttl time.Duration
	rollup := ""
	if len(h) > 0 {
		if v := hdr.Get(h, hdr.RequiredAPILevel); v != nil {
			if lvl, err := strconv.Atoi(string(v)); err != nil || lvl > APILevel {
				return Result{Err: api.ErrRequiredApiLevel}
			}
		}
		if v := hdr.Get(h, hdr.ExpectedStream); v != nil && string(v) != cfg.Name {
			return Result{Err: api.ErrStreamNotMatch}
		}
		if v := hdr.Get(h, hdr.MsgID); len(v) > 0 {
			msgID = string(v)
			if seq, ok := s.dedupe.lookup(msgID, op.TS); ok {
				return Result{Seq: seq, Duplicate: true}
			}
		}
		state := s.st.State()
		if v := hdr.Get(h, hdr.ExpectedLastSeq); v != nil {
			want, err := strconv.ParseUint(string(v), 10, 64)
			if err != nil || want != state.LastSeq {
				return Result{Err: api.ErrStreamWrongLastSequence.With("seq", strconv.FormatUint(state.LastSeq, 10))}
			}
		}
		if v := hdr.Get(h, hdr.ExpectedLastSubSeq); v != nil {
			want, err := strconv.ParseUint(string(v), 10, 64)
			filter := op.Subject
			if f := hdr.Get(h, hdr.ExpectedLastSubj); len(f) > 0 {
				filter = string(f)
			}
			var last uint64
			if lerr := s.st.LoadLastMsg(filter, &s.scratch); lerr == nil {
				last = s.scratch.Seq
			}
			if err != nil || want != last {
				return Result{Err: api.ErrStreamWrongLastSequence.With("seq", strconv.FormatUint(last, 10))}
			}
		}
		if v := hdr.Get(h, hdr.ExpectedLastMsgID); v != nil && string(v) != s.lastID {
			return Result{Err: api.ErrStreamWrongLastMsgID.With("id", s.lastID)}
		}
		if v := hdr.Get(h, hdr.Rollup); v != nil {
			if !cfg.AllowRollup || cfg.DenyPurge {
				return Result{Err: api.ErrStreamRollupFailed.With("err", "rollup not permitted")}
			}
			switch string(v) {
			case "sub", "all":
				rollup = string(v)
			default:
				return Result{Err: api.ErrStreamRollupFailed.With("err", "rollup value invalid: "+string(v))}
			}
		}
		if v := hdr.Get(h, hdr.TTL); v != nil {
			if !cfg.AllowMsgTTL {
				return Result{Err: api.ErrMessageTTLDisabled}
			}
			d, ok := ParseTTL(string(v))
			if !ok {
				return Result{Err: api.ErrMessageTTLInvalid}
			}
			ttl = d
		}
	}
	subject := op.Subject
	if s.xform != nil {
		if t, err := s.xform.Apply(subject); err == nil {
			subject = t
		}
	}
	if s.opts.Admit != nil {
		if e := s.opts.Admit(store.MsgSize(subject, h, op.Data)); e != nil {
			return Result{Err: e}
		}
	}
	var lastOnSubj uint64
	if s.repub != nil {
		if err := s.st.LoadLastMsg(subject, &s.scratch); err == nil {
			lastOnSubj = s.scratch.Seq
		}
	}
	seq, err := s.st.StoreMsg(subject, h, op.Data, op.TS, ttl)
	if err != nil {
		return Result{Err: storeError(err)}
	}
	if msgID != "" {
		s.dedupe.add(msgID, seq, op.TS)
	}
	s.lastID = msgID
	switch rollup {
	case "sub":
		_, _ = s.st.Purge(store.PurgeRequest{Filter: subject, Keep: 1})
	case "all":
		_, _ = s.st.Purge(store.PurgeRequest{Seq: seq})
	}
	if s.repub != nil && s.repub.Match(subject) {
		s.republish(subject, seq, lastOnSubj, op)
	}
	if cfg.Retention == api.InterestPolicy && (s.opts.Interest == nil || !s.opts.Interest(seq, subject)) {
		_ = s.st.RemoveMsg(seq)
	}
	return Result{Seq: seq}
}

// APILevel is the JetStream API level the stream code implements.
const APILevel = 1

func storeError(err error) *api.Error {
	switch {
	case errors.Is(err, store.ErrMaxMsgs):
		return api.ErrStreamStoreFailed.With("err", "maximum messages exceeded")
	case errors.Is(err, store.ErrMaxBytes):
		return api.ErrStreamStoreFailed.With("err", "maximum bytes exceeded")
	case errors.Is(err, store.ErrMaxMsgsPerSubject):
		return api.ErrStreamStoreFailed.With("err", "maximum messages per subject exceeded")
	case errors.Is(err, store.ErrMsgTooBig):
		return api.ErrStreamMessageExceedsMaximum
	}
	return api.ErrStreamStoreFailed.WithErr(err)
}

// republish sends the stored message to the republish destination with
// upstream's headers.
func (s *Stream) republish(subject string, seq, last uint64, op *Op) {
	dest, err := s.repub.Apply(subject)
	if err != nil {
		return
	}
	b := hdr.NewBuilder(s.hdrBuf, 0, "")
	if len(op.Hdr) > 0 {
		b.AddFrom(op.Hdr)
	}
	b.Add(hdr.Stream, s.cfg.Name).
		Add(hdr.Subject, subject).
		Add(hdr.Sequence, strconv.FormatUint(seq, 10)).
		Add(hdr.TimeStamp, time.Unix(0, op.TS).UTC().Format(time.RFC3339Nano)).
		Add(hdr.LastSequence, strconv.FormatUint(last, 10))
	data := op.Data
	if s.cfg.RePublish.HeadersOnly {
		b.Add(hdr.MsgSize, strconv.Itoa(len(op.Data)))
		data = nil
	}
	out := b.Bytes()
	s.hdrBuf = out[:0]
	_ = s.opts.Out.Publish(dest, "", out, data)
}

// ParseTTL reads a Nats-TTL value: a Go duration ("5s", "1h"), a number of
// seconds, or "never"; TTLs under one second are invalid.
func ParseTTL(v string) (time.Duration, bool) {
	if v == "never" {
		return store.NoExpiry, true
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n == -1 {
			return store.NoExpiry, true
		}
		d = time.Duration(n) * time.Second
	} else if pd, err := time.ParseDuration(v); err == nil {
		d = pd
	} else {
		return 0, false
	}
	if d < time.Second {
		return 0, false
	}
	return d, true
}

// rebuildDedupe reloads the msg ids of the messages inside the duplicate
// window, after a restart.
func (s *Stream) rebuildDedupe() {
	if s.cfg.Duplicates <= 0 {
		return
	}
	st := s.st.State()
	cutoff := time.Now().Add(-s.cfg.Duplicates).UnixNano()
	var ids []dedupeEntry
	for seq := st.LastSeq; seq >= st.FirstSeq && seq > 0; seq-- {
		if err := s.st.LoadMsg(seq, &s.scratch); err != nil {
			continue
		}
		if s.scratch.Time < cutoff {
			break
		}
		if id := hdr.Get(s.scratch.Hdr, hdr.MsgID); len(id) > 0 {
			ids = append(ids, dedupeEntry{id: string(id), seq: seq, ts: s.scratch.Time})
		}
		if seq == st.LastSeq {
			s.lastID = string(hdr.Get(s.scratch.Hdr, hdr.MsgID))
		}
	}
	for i := len(ids) - 1; i >= 0; i-- {
		s.dedupe.add(ids[i].id, ids[i].seq, ids[i].ts)
	}
}

var _ = bytes.Equal
