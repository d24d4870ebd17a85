package stream

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"natsd.dev/jetstream/api"
	"natsd.dev/jetstream/internal/hdr"
	"natsd.dev/jetstream/store"
)

// Headers of the publish path that the hdr package does not name.
const (
	HdrBatchID        = "Nats-Batch-Id"
	HdrBatchSeq       = "Nats-Batch-Sequence"
	HdrBatchCommit    = "Nats-Batch-Commit"
	HdrCounterSources = "Nats-Counter-Sources"
)

// APILevel is the JetStream API level the publish path implements
// (ADR-44): 1 per-message TTL, 2 counters and atomic batches, 3 the "eob"
// batch commit. A publish asking for more (Nats-Required-Api-Level) is
// refused.
const APILevel = 3

// maxHeader is the largest header block a stored message may have; the
// stores encode its length in 16 bits, as upstream.
const maxHeader = math.MaxUint16

// msgIn is a message being checked and stored: what was published, after
// the subject transform, and what the checks derived from its headers.
type msgIn struct {
	subject string
	hdr     []byte
	data    []byte
	ts      int64
	ttl     time.Duration
	msgID   string
	rollup  string // "sub" or "all"
	val     string // counter total after this message
	marker  bool
}

// batchDiff is what the earlier messages of an atomic batch being checked
// would change, for the checks of the later ones: they all run against
// the stream as it was before the batch.
type batchDiff struct {
	n        int                 // messages checked so far
	subjects map[string]int      // messages per subject
	counters map[string]*big.Int // running counter totals
	bytes    uint64
}

func (d *batchDiff) add(m *msgIn) {
	if d.subjects == nil {
		d.subjects = make(map[string]int)
	}
	d.subjects[m.subject]++
	d.n++
	d.bytes += store.MsgSize(m.subject, m.hdr, m.data)
}

// storeLocked is the publish path of one message: checks, then store.
func (s *Stream) storeLocked(op *Op) Result {
	if s.cfg.Sealed {
		return Result{Err: api.ErrStreamSealed}
	}
	m := msgIn{subject: op.Subject, hdr: op.Hdr, data: op.Data, ts: op.TS, marker: op.Marker}
	if !op.Marker {
		m.subject = s.transform(m.subject)
	}
	if dup, e := s.checkLocked(&m, nil); e != nil {
		return Result{Err: e}
	} else if dup != 0 {
		return Result{Seq: dup, Duplicate: true}
	}
	if s.opts.Admit != nil {
		if e := s.opts.Admit(store.MsgSize(m.subject, m.hdr, m.data)); e != nil {
			return Result{Err: e}
		}
	}
	return s.commitLocked(&m)
}

func (s *Stream) transform(subject string) string {
	if s.xform != nil {
		if t, err := s.xform.Apply(subject); err == nil {
			return t
		}
	}
	return subject
}

// checkLocked runs upstream's checks of a published message, in upstream's
// order, and fills in what m's headers ask for. It returns the sequence of
// the original message if m is a duplicate, or the error that refuses it.
// d is nil for a single message and the batch's diff inside a batch.
func (s *Stream) checkLocked(m *msgIn, d *batchDiff) (uint64, *api.Error) {
	cfg := &s.cfg
	h := m.hdr
	var incr *big.Int
	if len(h) > 0 {
		if v := hdr.Get(h, hdr.RequiredAPILevel); len(v) > 0 {
			if lvl, err := strconv.Atoi(string(v)); err != nil || lvl > APILevel {
				return 0, api.ErrRequiredApiLevel
			}
		}
		if len(h) > maxHeader {
			return 0, api.ErrStreamHeaderExceedsMaximum
		}
		if v := hdr.Get(h, hdr.Incr); len(v) > 0 {
			n, ok := new(big.Int).SetString(string(v), 10)
			switch {
			case !ok:
				return 0, api.ErrMessageIncrInvalid
			case !cfg.AllowMsgCounter:
				return 0, api.ErrMessageIncrDisabled
			case len(m.data) > 0:
				return 0, api.ErrMessageIncrPayload
			case counterForbidden(h):
				return 0, api.ErrMessageIncrInvalid
			}
			incr = n
		}
		if v := hdr.Get(h, hdr.ExpectedStream); len(v) > 0 && string(v) != cfg.Name {
			return 0, api.ErrStreamNotMatch
		}
		if v := hdr.Get(h, hdr.TTL); len(v) > 0 {
			ttl, ok := ParseTTL(string(v))
			if ttl != 0 || !ok {
				if !cfg.AllowMsgTTL {
					return 0, api.ErrMessageTTLDisabled
				}
				if !ok {
					return 0, api.ErrMessageTTLInvalid
				}
			}
			m.ttl = ttl
		}
		if v := hdr.Get(h, hdr.MsgID); len(v) > 0 {
			m.msgID = string(v)
			if seq, ok := s.dedupe.lookup(m.msgID, m.ts); ok {
				return seq, nil
			}
		}
	}
	if cfg.AllowMsgCounter {
		if incr == nil {
			return 0, api.ErrMessageIncrMissing
		}
		if e := s.countLocked(m, incr, d); e != nil {
			return 0, e
		}
		h = m.hdr
	}
	if len(h) > 0 {
		if e := s.checkExpectedLocked(m, d); e != nil {
			return 0, e
		}
		if v := hdr.Get(h, hdr.Rollup); len(v) > 0 {
			// A marker rolls up its subject whatever the stream allows
			// (Normalize turns rollups on with markers anyway).
			if !m.marker && (!cfg.AllowRollup || cfg.DenyPurge) {
				return 0, api.ErrStreamRollupFailed.With("err", "rollup not permitted")
			}
			r := strings.ToLower(string(v))
			switch r {
			case "sub":
				if d != nil && d.subjects[m.subject] > 0 {
					return 0, api.ErrStreamRollupFailed.With("err", "batch rollup sub invalid")
				}
			case "all":
				if d != nil && d.n > 0 {
					return 0, api.ErrStreamRollupFailed.With("err", "batch rollup all invalid")
				}
			default:
				return 0, api.ErrStreamRollupFailed.With("err", fmt.Sprintf("rollup value invalid: %q", string(v)))
			}
			m.rollup = r
		}
	}
	if cfg.MaxMsgSize > 0 && len(m.hdr)+len(m.data) > int(cfg.MaxMsgSize) {
		return 0, api.ErrStreamMessageExceedsMaximum
	}
	s.raiseTTL(m)
	if d != nil {
		d.add(m)
	}
	return 0, nil
}

// checkExpectedLocked runs the optimistic concurrency checks of the
// Nats-Expected-* headers. Inside a batch, the expected last sequence may
// only be on the first message, and an expected subject sequence only on
// a subject the batch has not written yet (upstream's "wrong last
// sequence" without a number, 10164).
func (s *Stream) checkExpectedLocked(m *msgIn, d *batchDiff) *api.Error {
	h := m.hdr
	if v := hdr.Get(h, hdr.ExpectedLastSeq); len(v) > 0 {
		if d != nil && d.n > 0 {
			return api.ErrStreamWrongLastSequenceConstant
		}
		last := s.st.State().LastSeq
		if want, err := strconv.ParseUint(string(v), 10, 64); err != nil || want != last {
			return api.ErrStreamWrongLastSequence.With("seq", strconv.FormatUint(last, 10))
		}
	}
	subj := hdr.Get(h, hdr.ExpectedLastSubj)
	if v := hdr.Get(h, hdr.ExpectedLastSubSeq); len(v) > 0 {
		filter := m.subject
		if len(subj) > 0 {
			filter = string(subj)
		}
		if d != nil && d.subjects[filter] > 0 {
			return api.ErrStreamWrongLastSequenceConstant
		}
		want, perr := strconv.ParseUint(string(v), 10, 64)
		var last uint64
		if err := s.st.LoadLastMsg(filter, &s.scratch); err == nil {
			last = s.scratch.Seq
		}
		if perr != nil || want != last {
			return api.ErrStreamWrongLastSequence.With("seq", strconv.FormatUint(last, 10))
		}
	} else if len(subj) > 0 {
		return api.ErrStreamExpectedLastSeqPerSubjectInvalid
	}
	if v := hdr.Get(h, hdr.ExpectedLastMsgID); len(v) > 0 && string(v) != s.lastID {
		return api.ErrStreamWrongLastMsgID.With("id", s.lastID)
	}
	return nil
}

// raiseTTL makes a per-message TTL at least the subject delete marker TTL,
// as upstream does so that a marker is never missed (unless a subject
// keeps one message, when the next message replaces the marker anyway),
// and corrects the message's Nats-TTL header to match.
func (s *Stream) raiseTTL(m *msgIn) {
	sdm := s.cfg.SubjectDeleteMarkerTTL
	if m.marker || sdm <= 0 || m.ttl <= 0 || m.ttl >= sdm || s.cfg.MaxMsgsPerSubject == 1 {
		return
	}
	m.ttl = sdm.Truncate(time.Second)
	m.hdr = hdr.NewBuilder(nil, 0, "").AddFrom(m.hdr, hdr.TTL).Add(hdr.TTL, m.ttl.String()).Bytes()
}

// commitLocked stores a checked message and applies what follows from it:
// dedupe, rollup, republish, interest retention.
func (s *Stream) commitLocked(m *msgIn) Result {
	var lastOnSubj uint64
	if s.repub != nil {
		if err := s.st.LoadLastMsg(m.subject, &s.scratch); err == nil {
			lastOnSubj = s.scratch.Seq
		}
	}
	// After the largest sequence (first_seq near 2^64) the next would
	// wrap to 0: refuse instead of corrupting the stream's order.
	if s.seqFull {
		if s.st.State().LastSeq == math.MaxUint64 {
			return Result{Err: api.ErrStreamStoreFailed.With("err", "sequence space exhausted")}
		}
		s.seqFull = false // a purge or truncate made room
	}
	seq, err := s.st.StoreMsg(m.subject, m.hdr, m.data, m.ts, m.ttl)
	if err != nil {
		return Result{Err: storeError(err)}
	}
	s.seqFull = seq == math.MaxUint64
	if m.msgID != "" {
		s.dedupe.add(m.msgID, seq, m.ts)
	}
	s.lastID = m.msgID
	if m.marker {
		if s.markers == nil {
			s.markers = make(map[uint64]string)
		}
		s.markers[seq] = m.subject
	}
	switch m.rollup {
	case "sub":
		_, _ = s.st.Purge(store.PurgeRequest{Filter: m.subject, Keep: 1})
	case "all":
		_, _ = s.st.Purge(store.PurgeRequest{Seq: seq})
	}
	if s.repub != nil && s.repub.Match(m.subject) {
		s.republish(m, seq, lastOnSubj)
	}
	if s.cfg.Retention == api.InterestPolicy && (s.opts.Interest == nil || !s.opts.Interest(seq, m.subject)) {
		_ = s.st.RemoveMsg(seq)
	}
	return Result{Seq: seq, Val: m.val}
}

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
func (s *Stream) republish(m *msgIn, seq, last uint64) {
	dest, err := s.repub.Apply(m.subject)
	if err != nil {
		return
	}
	b := hdr.NewBuilder(s.hdrBuf, 0, "")
	if len(m.hdr) > 0 {
		b.AddFrom(m.hdr)
	}
	b.Add(hdr.Stream, s.cfg.Name).
		Add(hdr.Subject, m.subject).
		Add(hdr.Sequence, strconv.FormatUint(seq, 10)).
		Add(hdr.TimeStamp, time.Unix(0, m.ts).UTC().Format(time.RFC3339Nano)).
		Add(hdr.LastSequence, strconv.FormatUint(last, 10))
	data := m.data
	if s.cfg.RePublish.HeadersOnly {
		b.Add(hdr.MsgSize, strconv.Itoa(len(m.data)))
		data = nil
	}
	out := b.Bytes()
	s.hdrBuf = out[:0]
	_ = s.opts.Out.Publish(dest, "", out, data)
}

// ParseTTL reads a Nats-TTL value as upstream does: "never" (any case) is
// store.NoExpiry; a Go duration ("5s", "1h") of at least one second,
// truncated to whole seconds; or a number of seconds, where 0 means no TTL
// of its own. Anything else (negative numbers, "500ms", "0s") is invalid.
func ParseTTL(v string) (time.Duration, bool) {
	if strings.EqualFold(v, "never") {
		return store.NoExpiry, true
	}
	if d, err := time.ParseDuration(v); err == nil {
		if d < time.Second {
			return 0, false
		}
		return d.Truncate(time.Second), true
	}
	n, err := strconv.ParseUint(v, 10, 63)
	if err != nil || n > uint64(math.MaxInt64/int64(time.Second)) {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}
