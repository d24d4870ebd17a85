package stream

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/jetstream/api"
	"natsd.dev/jetstream/internal/hdr"
	"natsd.dev/jetstream/store"
)

// Atomic batch publish (ADR-50). A publisher sends messages carrying
// Nats-Batch-Id and Nats-Batch-Sequence 1, 2, ...; the last one also has
// Nats-Batch-Commit: "1" (store it too) or "eob" (commit without it). The
// stream stages the messages apart, without its lock, and on commit
// proposes them as one OpBatch: the log orders the batch as one entry and
// apply stores all of it or none. Intermediate messages that carry a reply
// get an empty one; the commit gets the PubAck of the last message with
// "batch" and "count".

// Limits of atomic batches, upstream's defaults.
const (
	MaxBatchInflightPerStream = 50
	MaxBatchInflightTotal     = 1000
	MaxBatchSize              = 1000
	MaxBatchIDLen             = 64
)

// BatchTimeout is how long a batch may go without a message before it is
// abandoned. A variable so that tests can shorten it.
var BatchTimeout = 10 * time.Second

// inflightBatches counts the batches being staged in the whole process.
var inflightBatches atomic.Int32

// batches are the batches a stream is staging.
type batches struct {
	mu    sync.Mutex
	group map[string]*batch
}

type batch struct {
	msgs  []BatchMsg
	next  uint64     // sequence the next message must carry
	err   *api.Error // the batch failed; told at commit
	timer *time.Timer
}

// processBatchMsg stages (or commits) one message of an atomic batch.
func (s *Stream) processBatchMsg(id, subject, reply string, h, data []byte) {
	if !s.atomicOK.Load() {
		s.replyErr(reply, api.ErrAtomicPublishDisabled)
		return
	}
	if len(id) > MaxBatchIDLen {
		s.replyErr(reply, api.ErrAtomicPublishInvalidBatchID)
		return
	}
	seq, err := strconv.ParseUint(string(hdr.Get(h, HdrBatchSeq)), 10, 64)
	if err != nil || seq == 0 {
		s.replyErr(reply, api.ErrAtomicPublishMissingSeq)
		return
	}
	commit := false
	eob := false
	switch c := string(hdr.Get(h, HdrBatchCommit)); c {
	case "":
	case "1":
		commit = true
	case "eob":
		commit, eob = true, true
	default:
		s.dropBatch(id)
		s.replyErr(reply, api.ErrAtomicPublishInvalidBatchCommit)
		return
	}

	bs := &s.batchSets
	bs.mu.Lock()
	b := bs.group[id]
	if b == nil {
		if seq != 1 {
			bs.mu.Unlock()
			s.replyErr(reply, api.ErrAtomicPublishIncompleteBatch)
			return
		}
		if len(bs.group) >= MaxBatchInflightPerStream || inflightBatches.Load() >= MaxBatchInflightTotal {
			bs.mu.Unlock()
			s.replyErr(reply, api.ErrAtomicPublishTooManyInflight)
			return
		}
		if bs.group == nil {
			bs.group = make(map[string]*batch)
		}
		b = &batch{next: 1}
		bs.group[id] = b
		inflightBatches.Add(1)
		b.timer = time.AfterFunc(BatchTimeout, func() { s.expireBatch(id, b) })
	} else if seq != b.next {
		s.removeBatchLocked(id, b)
		bs.mu.Unlock()
		s.replyErr(reply, api.ErrAtomicPublishIncompleteBatch)
		return
	} else {
		b.timer.Reset(BatchTimeout)
	}
	b.next++
	if b.err == nil && !eob {
		switch {
		case len(hdr.Get(h, hdr.MsgID)) > 0:
			b.err = api.ErrAtomicPublishUnsupportedHeaderBatch.With("header", hdr.MsgID)
		case len(hdr.Get(h, hdr.ExpectedLastMsgID)) > 0:
			b.err = api.ErrAtomicPublishUnsupportedHeaderBatch.With("header", hdr.ExpectedLastMsgID)
		case len(b.msgs) >= MaxBatchSize:
			b.err = api.ErrAtomicPublishTooLargeBatch.With("size", strconv.Itoa(MaxBatchSize))
		default:
			b.msgs = append(b.msgs, BatchMsg{Subject: subject, Hdr: clone(h), Data: clone(data)})
		}
	}
	if !commit {
		e := b.err
		bs.mu.Unlock()
		if e != nil {
			s.replyErr(reply, e)
		} else if reply != "" && !s.noAck.Load() {
			_ = s.opts.Out.Publish(reply, "", nil, nil)
		}
		return
	}
	s.removeBatchLocked(id, b)
	bs.mu.Unlock()
	if b.err != nil {
		s.replyErr(reply, b.err)
		return
	}
	if len(b.msgs) == 0 {
		s.replyErr(reply, api.ErrAtomicPublishIncompleteBatch)
		return
	}
	if eob {
		// eob itself asks for API level 3; a higher requirement fails.
		if v := hdr.Get(h, hdr.RequiredAPILevel); len(v) > 0 {
			if lvl, err := strconv.Atoi(string(v)); err != nil || lvl > APILevel {
				s.replyErr(reply, api.ErrRequiredApiLevel)
				return
			}
		}
	}
	res := s.Propose(&Op{Kind: OpBatch, BatchID: id, Batch: b.msgs, TS: time.Now().UnixNano()})
	s.ack(reply, res)
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

func (s *Stream) replyErr(reply string, e *api.Error) {
	if reply != "" {
		s.sendErr(reply, e)
	}
}

// removeBatchLocked forgets b; bs.mu is held.
func (s *Stream) removeBatchLocked(id string, b *batch) {
	if s.batchSets.group[id] != b {
		return
	}
	b.timer.Stop()
	delete(s.batchSets.group, id)
	inflightBatches.Add(-1)
}

func (s *Stream) dropBatch(id string) {
	bs := &s.batchSets
	bs.mu.Lock()
	if b := bs.group[id]; b != nil {
		s.removeBatchLocked(id, b)
	}
	bs.mu.Unlock()
}

// expireBatch abandons b when it went BatchTimeout without a message.
func (s *Stream) expireBatch(id string, b *batch) {
	bs := &s.batchSets
	bs.mu.Lock()
	s.removeBatchLocked(id, b)
	bs.mu.Unlock()
}

// abandonBatches drops every batch being staged (stream closed, or atomic
// publish disabled).
func (s *Stream) abandonBatches() {
	bs := &s.batchSets
	bs.mu.Lock()
	for id, b := range bs.group {
		s.removeBatchLocked(id, b)
	}
	bs.mu.Unlock()
}

// InflightBatches returns how many batches the stream is staging.
func (s *Stream) InflightBatches() int {
	bs := &s.batchSets
	bs.mu.Lock()
	defer bs.mu.Unlock()
	return len(bs.group)
}

// storeBatchLocked applies an OpBatch: every message is checked against
// the stream as it was before the batch (plus what the batch's earlier
// messages change), and only if all pass are they stored.
func (s *Stream) storeBatchLocked(op *Op) Result {
	cfg := &s.cfg
	if cfg.Sealed {
		return Result{Err: api.ErrStreamSealed}
	}
	if !cfg.AllowAtomicPublish {
		return Result{Err: api.ErrAtomicPublishDisabled}
	}
	d := &batchDiff{}
	msgs := make([]msgIn, len(op.Batch))
	for i, bm := range op.Batch {
		m := &msgs[i]
		*m = msgIn{subject: s.transform(bm.Subject), hdr: bm.Hdr, data: bm.Data, ts: op.TS}
		if _, e := s.checkLocked(m, d); e != nil {
			return Result{Err: e}
		}
	}
	if e := s.batchLimitsLocked(d); e != nil {
		return Result{Err: e}
	}
	if s.opts.Admit != nil {
		if e := s.opts.Admit(d.bytes); e != nil {
			return Result{Err: e}
		}
	}
	before := s.st.State().LastSeq
	lastID := s.lastID
	var res Result
	for i := range msgs {
		res = s.commitLocked(&msgs[i])
		if res.Err != nil {
			// Not foreseen by the checks; take back what was stored.
			_ = s.st.Truncate(before)
			s.lastID = lastID
			return res
		}
	}
	res.BatchID, res.BatchSize = op.BatchID, len(msgs)
	return res
}

// batchLimitsLocked refuses a batch that would not fit under discard new
// limits as a whole, so that no message of it is stored.
func (s *Stream) batchLimitsLocked(d *batchDiff) *api.Error {
	cfg := &s.cfg
	if cfg.Discard != api.DiscardNew {
		return nil
	}
	if cfg.DiscardNewPerSubject && cfg.MaxMsgsPerSubject > 0 {
		for subj, n := range d.subjects {
			fs, err := s.st.FilteredState(subj, 0)
			if err == nil && fs.Msgs+uint64(n) > uint64(cfg.MaxMsgsPerSubject) {
				return storeError(store.ErrMaxMsgsPerSubject)
			}
		}
	}
	st := s.st.State()
	if cfg.MaxMsgs > 0 && st.Msgs+uint64(d.n) > uint64(cfg.MaxMsgs) {
		return storeError(store.ErrMaxMsgs)
	}
	if cfg.MaxBytes > 0 && st.Bytes+d.bytes > uint64(cfg.MaxBytes) {
		return storeError(store.ErrMaxBytes)
	}
	return nil
}

// InflightBatchesTotal returns how many batches every stream of the
// process is staging.
func InflightBatchesTotal() int { return int(inflightBatches.Load()) }
