package stream

import (
	"natsd.dev/jetstream/api"
	"natsd.dev/jetstream/store"
)

// copyLocked applies OpMirror and OpSource: a message copied from another
// stream, stored without the publish checks of a client's message. A
// mirror keeps the origin's sequence (Op.Seq) and time, skipping the
// sequences the origin no longer holds; a duplicate or older sequence is
// ignored, so a mirror restarted from an earlier point converges.
func (s *Stream) copyLocked(op *Op) Result {
	if s.opts.Admit != nil {
		if e := s.opts.Admit(store.MsgSize(op.Subject, op.Hdr, op.Data)); e != nil {
			return Result{Err: e}
		}
	}
	if op.Kind == OpMirror {
		last := s.st.State().LastSeq
		if op.Seq <= last {
			return Result{Seq: last, Duplicate: true}
		}
		if gap := op.Seq - last - 1; gap > 0 {
			if err := s.skipLocked(last+1, gap); err != nil {
				return Result{Err: api.ErrStreamStoreFailed.WithErr(err)}
			}
		}
	}
	seq, err := s.st.StoreMsg(op.Subject, op.Hdr, op.Data, op.TS, 0)
	if err != nil {
		return Result{Err: storeError(err)}
	}
	return Result{Seq: seq}
}

// skipLocked makes the next stored sequence seq+n.
func (s *Stream) skipLocked(seq, n uint64) error { return s.st.SkipMsgs(seq, n) }
