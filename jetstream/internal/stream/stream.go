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
// A server.Session is one. Publish must copy what it keeps of hdr and
// data: the stream reuses them once it returns.
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
	direct   atomic.Bool // cfg.AllowDirect, for every direct get
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
	// rebuilt is closed once a restart's dedupe window is recovered.
	rebuilt chan struct{}
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
		rebuilt: make(chan struct{}),
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
	if s.ackHead == nil {
		// Built once: the name and the domain never change, and acks
		// read it without the lock while an update runs.
		head := append([]byte(`{"stream":`), strconv.Quote(s.cfg.Name)...)
		if s.opts.Domain != "" {
			head = append(head, `,"domain":`...)
			head = append(head, strconv.Quote(s.opts.Domain)...)
		}
		s.ackHead = append(head, `,"seq":`...)
	}
	s.dedupe.window = s.cfg.Duplicates
	s.noAck.Store(s.cfg.NoAck)
	s.direct.Store(s.cfg.AllowDirect)
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

// AllowDirect reports whether the stream's configuration allows direct
// gets, without taking the stream's lock.
func (s *Stream) AllowDirect() bool { return s.direct.Load() }

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
		if c, ok := s.st.(compressionSetter); ok {
			c.SetCompression(op.Config.Compression == api.S2Compression)
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

// compressionSetter is a store that compresses what it writes (the file
// store); an update of the stream's compression reaches it through it.
type compressionSetter interface{ SetCompression(on bool) }

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
// empty). It returns why the store was refused (nil when stored or
// staged), for message tracing's "js" event.
func (s *Stream) ProcessMsg(subject, reply string, h, data []byte) *api.Error {
	if len(h) > 0 {
		if id := hdr.Get(h, HdrBatchID); len(id) > 0 {
			s.processBatchMsg(string(id), subject, reply, h, data)
			return nil
		}
		if hdr.Has(h, hdr.MsgID) || hdr.Has(h, hdr.ExpectedLastMsgID) {
			<-s.rebuilt // the dedupe window of a restart
		}
	}
	res := s.Propose(&Op{Kind: OpMsg, Subject: subject, Hdr: h, Data: data, TS: time.Now().UnixNano()})
	s.ack(reply, res)
	return res.Err
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
	if s.opts.AckOnWrite || res.Seq <= s.durable.Load() {
		// Sent now: rendered in a pooled buffer (Publish copies).
		bp := ackBufs.Get().(*[]byte)
		body := s.appendAck((*bp)[:0], res)
		_ = s.opts.Out.Publish(reply, "", nil, body)
		*bp = body[:0]
		ackBufs.Put(bp)
		return
	}
	body := s.appendAck(make([]byte, 0, len(s.ackHead)+48), res)
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

// ackBufs hold the PubAcks being sent at once.
var ackBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// appendAck renders the PubAck of res into b.
func (s *Stream) appendAck(b []byte, res Result) []byte {
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

// recent is what a restart recovers from the newest messages: the msg
// ids inside the duplicate window, the delete markers, the msg id of the
// last message.
type recent struct {
	lastSeq uint64
	lastID  string
	ids     []dedupeEntry
	markers map[uint64]string
}

// scanRecent reads st's messages within the duplicate window (and the
// marker TTL) without any lock of the stream: the store is safe for
// concurrent use.
func scanRecent(st store.StreamStore, dups, markerTTL time.Duration) recent {
	var r recent
	var m store.StoredMsg
	state := st.State()
	if state.Msgs == 0 {
		return r
	}
	r.lastSeq = state.LastSeq
	if err := st.LoadMsg(state.LastSeq, &m); err == nil {
		r.lastID = string(hdr.Get(m.Hdr, hdr.MsgID))
	}
	span := dups
	if markerTTL > 0 {
		span = max(span, markerTTL+time.Minute)
	}
	if span <= 0 {
		return r
	}
	now := time.Now()
	dupCut := now.Add(-dups).UnixNano()
	// Forward from the first message inside the span: LoadNextMsg reads
	// whole blocks, where loading one sequence at a time would cost a
	// read per message (a restart with a million fresh messages).
	for seq := SeqAtTime(st, now.Add(-span).UnixNano(), &m); st.LoadNextMsg("", seq, &m) == nil; seq = m.Seq + 1 {
		if len(m.Hdr) == 0 {
			continue
		}
		if id := hdr.Get(m.Hdr, hdr.MsgID); len(id) > 0 && dups > 0 && m.Time >= dupCut {
			r.ids = append(r.ids, dedupeEntry{id: string(id), seq: m.Seq, ts: m.Time})
		}
		if hdr.Get(m.Hdr, hdr.MarkerReason) != nil {
			if r.markers == nil {
				r.markers = make(map[uint64]string)
			}
			r.markers[m.Seq] = m.Subject
		}
	}
	return r
}

// rebuild recovers the dedupe window, the last msg id and the delete
// markers after a restart. With delete markers it does so before the
// stream runs (an expiring marker must be known as one); otherwise in the
// background, so that a restart with many fresh messages starts at once:
// until it is done, a publish that needs the window (Nats-Msg-Id,
// Nats-Expected-Last-Msg-Id) waits for it (see ProcessMsg).
func (s *Stream) rebuild() {
	dups, mttl := s.cfg.Duplicates, s.cfg.SubjectDeleteMarkerTTL
	if mttl > 0 || s.st.State().Msgs == 0 {
		s.merge(scanRecent(s.st, dups, mttl))
		close(s.rebuilt)
		return
	}
	s.bgWG.Add(1)
	go func() {
		defer s.bgWG.Done()
		r := scanRecent(s.st, dups, mttl)
		s.mu.Lock()
		s.merge(r)
		s.mu.Unlock()
		close(s.rebuilt)
	}()
}

// merge installs r; the caller holds mu or owns the stream.
func (s *Stream) merge(r recent) {
	if s.st.State().LastSeq == r.lastSeq {
		s.lastID = r.lastID
	}
	for _, e := range r.ids {
		s.dedupe.add(e.id, e.seq, e.ts)
	}
	for seq, subj := range r.markers {
		if s.markers == nil {
			s.markers = make(map[uint64]string)
		}
		s.markers[seq] = subj
	}
}

// SeqAtTime returns the sequence of the first message of st stored at or
// after ts (Unix nanoseconds; LastSeq+1 if none), by binary search on the
// message times, which grow with the sequence. m is scratch space.
func SeqAtTime(st store.StreamStore, ts int64, m *store.StoredMsg) uint64 {
	s := st.State()
	if s.Msgs == 0 {
		return s.LastSeq + 1
	}
	lo, hi := s.FirstSeq, s.LastSeq+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if err := st.LoadNextMsg("", mid, m); err != nil || m.Time >= ts {
			hi = mid
		} else {
			lo = m.Seq + 1
		}
	}
	if st.LoadNextMsg("", lo, m) == nil {
		return m.Seq
	}
	return s.LastSeq + 1
}
