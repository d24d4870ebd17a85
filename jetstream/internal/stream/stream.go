package stream

import (
	"context"
	"errors"
	"math"
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
//
// Lock order: mu, then bmu or markMu. OnRemove, which a store may call on
// the goroutine of a StoreMsg made under mu, takes markMu only.
type Stream struct {
	opts Options
	name string // cfg.Name, which never changes

	// Copies of configuration flags for the paths that must not take mu
	// (ProcessMsg's ack, batch staging, the store's OnRemove); written
	// under mu whenever cfg changes.
	noAck    atomic.Bool
	atomicOK atomic.Bool
	sdmTTL   atomic.Int64

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
	// failed is the error of a store that can no longer make messages
	// durable (a failed write or sync); the acks pending then, and any
	// added later, are answered with it.
	failed *api.Error
	// seqFull is set once the store holds sequence 2^64-1 (see
	// commitLocked).
	seqFull bool
	markers map[uint64]string
	scratch store.StoredMsg
	hdrBuf  []byte

	durable atomic.Uint64
	kick    chan struct{}
	done    chan struct{}
	bgWG    sync.WaitGroup // acker, failure watcher and marker writer
	// stopWatch ends watchFailure's wait (nil without one).
	stopWatch context.CancelFunc

	markMu    sync.Mutex // guards markQ
	markQ     []removal
	markKick  chan struct{}
	batchSets batches
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
	s := &Stream{
		opts: o, name: cfg.Name, cfg: cfg, created: o.Created,
		kick: make(chan struct{}, 1), done: make(chan struct{}), markKick: make(chan struct{}, 1),
	}
	if s.created.IsZero() {
		s.created = time.Now().UTC()
	}
	s.setDerived()
	st, err := open(s.storeConfig())
	if err != nil {
		return nil, err
	}
	s.st = st
	if cfg.FirstSeq > 1 {
		if state := st.State(); state.LastSeq == 0 {
			if _, err := st.Compact(cfg.FirstSeq); err != nil {
				_ = st.Close()
				return nil, err
			}
		}
	}
	s.rebuild()
	s.seqFull = st.State().LastSeq == math.MaxUint64
	if d, ok := st.(store.Durable); ok && !o.AckOnWrite {
		s.durable.Store(d.DurableSeq())
		s.bgWG.Add(2)
		go s.acker()
		ctx, cancel := context.WithCancel(context.Background())
		s.stopWatch = cancel
		go s.watchFailure(ctx, d)
	} else {
		s.opts.AckOnWrite = true
	}
	s.bgWG.Add(1)
	go s.markerLoop()
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
	s.noAck.Store(s.cfg.NoAck)
	s.atomicOK.Store(s.cfg.AllowAtomicPublish)
	s.sdmTTL.Store(int64(s.cfg.SubjectDeleteMarkerTTL))
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
		OnRemove:          s.onRemove,
	}
	if s.cfg.Discard == api.DiscardNew {
		c.Discard = store.DiscardNew
		c.DiscardNewPerSubject = s.cfg.DiscardNewPerSubject
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
func (s *Stream) Name() string { return s.name }

// Created returns the stream's creation time.
func (s *Stream) Created() time.Time { return s.created }

// Store returns the stream's store, for reads.
func (s *Stream) Store() store.StreamStore { return s.st }

// State returns the store's state.
func (s *Stream) State() store.StreamState { return s.st.State() }

// Close stops the stream and closes its store (durably), sending the
// acks the final sync covers. Batches being staged are dropped.
func (s *Stream) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.abandonBatches()
	err := s.st.Close()
	if s.stopWatch != nil {
		s.stopWatch()
	}
	close(s.done)
	s.bgWG.Wait()
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
	s.abandonBatches()
	err := s.st.Delete()
	if s.stopWatch != nil {
		s.stopWatch()
	}
	close(s.done)
	s.bgWG.Wait()
	return err
}

// Result is the outcome of applying an Op.
type Result struct {
	Seq       uint64
	Duplicate bool
	Purged    uint64
	Val       string // counter value after an increment (ADR-49)
	BatchID   string // atomic batch committed (ADR-50)
	BatchSize int
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
	OpBatch                    // store an atomic batch, all or nothing
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
	// Marker marks an OpMsg as a subject delete marker the stream wrote
	// itself: its subject is already the stored one (no transform).
	Marker bool
	// BatchID and Batch are an OpBatch's messages, in batch order.
	BatchID string
	Batch   []BatchMsg
}

// BatchMsg is one message of an atomic batch, as published.
type BatchMsg struct {
	Subject string
	Hdr     []byte
	Data    []byte
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
	case OpBatch:
		return s.storeBatchLocked(op)
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
		delete(s.markers, op.Seq)
		return Result{Seq: op.Seq}
	case OpPurge:
		n, err := s.st.Purge(op.Purge)
		if err != nil {
			return Result{Err: api.ErrStreamPurgeFailed.WithErr(err)}
		}
		if op.Purge.Filter == "" && op.Purge.Seq == 0 && op.Purge.Keep == 0 {
			s.dedupe.reset()
			s.lastID = ""
			s.markers = nil
		}
		return Result{Purged: n}
	case OpUpdate:
		if err := s.st.UpdateConfig(s.storeConfigFor(op.Config)); err != nil {
			return Result{Err: api.ErrStreamUpdate.WithErr(err)}
		}
		s.cfg = *op.Config
		s.setDerived()
		if !s.cfg.AllowAtomicPublish {
			s.abandonBatches()
		}
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
// it proposes the store (or stages it, for a message of an atomic batch)
// and acknowledges to reply (unless the stream has no_ack or reply is
// empty).
func (s *Stream) ProcessMsg(subject, reply string, h, data []byte) {
	if len(h) > 0 {
		if id := hdr.Get(h, HdrBatchID); len(id) > 0 {
			s.processBatchMsg(string(id), subject, reply, h, data)
			return
		}
	}
	res := s.Propose(&Op{Kind: OpMsg, Subject: subject, Hdr: h, Data: data, TS: time.Now().UnixNano()})
	s.ack(reply, res)
}

// ack answers reply with res: an error, or the PubAck once res.Seq is
// durable.
func (s *Stream) ack(reply string, res Result) {
	if reply == "" || s.noAck.Load() {
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
	if f := s.failed; f != nil && res.Seq > s.durable.Load() {
		s.mu.Unlock()
		s.sendErr(reply, f)
		return
	}
	s.pending = append(s.pending, pendingAck{seq: res.Seq, reply: reply, body: body})
	s.mu.Unlock()
	if res.Seq <= s.durable.Load() {
		s.signal()
	}
}

// sendErr answers a publish with an error, as upstream does: the error
// and the stream's name with sequence 0.
func (s *Stream) sendErr(reply string, e *api.Error) {
	if s.noAck.Load() {
		return
	}
	b, _ := jsonMarshal(api.PubAckResponse{Error: e, PubAck: &api.PubAck{Stream: s.name}})
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
	if res.BatchID != "" {
		b = append(b, `,"batch":`...)
		b = strconv.AppendQuote(b, res.BatchID)
		b = append(b, `,"count":`...)
		b = strconv.AppendInt(b, int64(res.BatchSize), 10)
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
	defer s.bgWG.Done()
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

// watchFailure waits for the store to fail: a message it stored but
// could not make durable must get an error, not wait for an ack forever
// (and no ack, since it may be lost).
func (s *Stream) watchFailure(ctx context.Context, d store.Durable) {
	defer s.bgWG.Done()
	err := d.WaitDurable(ctx, math.MaxUint64)
	if err == nil || ctx.Err() != nil || errors.Is(err, store.ErrStoreClosed) {
		return
	}
	s.flushAcks() // what became durable before the failure is acked
	e := storeError(err)
	s.mu.Lock()
	s.failed = e
	d0 := s.durable.Load()
	var lost []pendingAck
	kept := s.pending[:0]
	for _, p := range s.pending {
		if p.seq <= d0 {
			kept = append(kept, p)
		} else {
			lost = append(lost, p)
		}
	}
	s.pending = kept
	s.mu.Unlock()
	s.signal()
	for _, p := range lost {
		s.sendErr(p.reply, e)
	}
}

// WaitDurable waits until seq is durable (tests, snapshots).
func (s *Stream) WaitDurable(ctx context.Context, seq uint64) error {
	if d, ok := s.st.(store.Durable); ok {
		return d.WaitDurable(ctx, seq)
	}
	return nil
}

// rebuild reloads, after a restart, what the stream keeps in memory about
// its recent messages: the msg ids inside the duplicate window, the last
// msg id, and which messages are subject delete markers (they live at most
// SubjectDeleteMarkerTTL).
func (s *Stream) rebuild() {
	st := s.st.State()
	if st.Msgs == 0 {
		return
	}
	if err := s.st.LoadMsg(st.LastSeq, &s.scratch); err == nil {
		s.lastID = string(hdr.Get(s.scratch.Hdr, hdr.MsgID))
	}
	span := s.cfg.Duplicates
	if m := s.cfg.SubjectDeleteMarkerTTL; m > 0 {
		span = max(span, m+time.Minute)
	}
	if span <= 0 {
		return
	}
	now := time.Now()
	dupCut := now.Add(-s.cfg.Duplicates).UnixNano()
	cutoff := now.Add(-span).UnixNano()
	var ids []dedupeEntry
	for seq := st.LastSeq; seq >= st.FirstSeq && seq > 0; seq-- {
		if err := s.st.LoadMsg(seq, &s.scratch); err != nil {
			continue
		}
		if s.scratch.Time < cutoff {
			break
		}
		h := s.scratch.Hdr
		if len(h) == 0 {
			continue
		}
		if id := hdr.Get(h, hdr.MsgID); len(id) > 0 && s.cfg.Duplicates > 0 && s.scratch.Time >= dupCut {
			ids = append(ids, dedupeEntry{id: string(id), seq: seq, ts: s.scratch.Time})
		}
		if hdr.Get(h, hdr.MarkerReason) != nil {
			if s.markers == nil {
				s.markers = make(map[uint64]string)
			}
			s.markers[seq] = s.scratch.Subject
		}
	}
	for i := len(ids) - 1; i >= 0; i-- {
		s.dedupe.add(ids[i].id, ids[i].seq, ids[i].ts)
	}
}
