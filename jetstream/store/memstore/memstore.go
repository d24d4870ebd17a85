// Package memstore is the in-memory store.StreamStore: every message lives
// on the Go heap, nothing survives the process.
//
// Each stored message costs one allocation, holding its header and payload;
// its subject is shared with every other message on that subject through a
// per-subject index. The index keeps, per subject, the ascending list of its
// sequences, so a load-next or load-last with a literal filter is a map
// lookup and a binary search whatever the number of other subjects, and a
// wildcard filter visits only the subjects that can match it.
//
// Durability: the store does not implement store.Durable. A message is as
// durable as it will ever be when StoreMsg returns, and StoreMsg calls
// Config.OnDurable before returning.
//
// Snapshots are built in memory under the store's read lock and then
// written out, so a snapshot briefly needs as much memory again as the
// store holds.
//
// # Locking
//
// Store.mu (RWMutex) guards the messages and indexes; loads take it shared.
// Taken while mu is held, never the other way round: Store.wmu (the
// wildcard cache) and consumer.mu. Store.durMu is taken only without mu and
// serialises OnDurable calls. No lock is held while OnRemove runs. The
// expiry timer's function takes mu like any caller.
//
// # Costs
//
// StoreMsg: one allocation for header+payload, amortised growth of the
// per-subject sequence list, a new 229 KB chunk of message slots every 4096
// messages. A chunk is freed as soon as its last message goes, so old
// survivors (a KV key never updated) do not pin the memory of the removed
// messages stored after them. SkipMsgs costs nothing per skipped sequence:
// a run of 64 or more becomes one gap entry of the log (shorter runs take
// empty slots), and a skip on an empty store just moves its range. Loads into a reused StoredMsg allocate nothing. A wildcard
// filter's matching subjects are computed once (until a subject appears or
// disappears) into a bitset over dense subject ids; a wildcard load then
// either scans messages testing one bit each, or binary-searches every
// matching subject's sequence list, whichever the filter's density says is
// cheaper.
package memstore

import (
	"strings"
	"sync"
	"time"

	"natsd.dev/jetstream/internal/subjidx"
	"natsd.dev/jetstream/store"
	"natsd.dev/sublist"
)

// Store is an in-memory stream store. Create it with New.
type Store struct {
	// durMu serialises OnDurable calls so their sequences increase. It is
	// taken without mu held.
	durMu   sync.Mutex
	durable uint64

	// wg counts expiry runs in progress, so Close can wait for them.
	wg sync.WaitGroup

	mu     sync.RWMutex
	cfg    store.Config
	closed bool
	// log holds the slots of sequences up to last: log.end == last+1.
	log         msgLog
	first, last uint64 // StreamState.FirstSeq and LastSeq
	lastTS      int64
	count       uint64
	bytes       uint64
	subjs       subjidx.Index[*subject]
	consumers   map[string]*consumer
	ttls        []ttlEntry // min-heap on exp; entries of removed messages stay until popped
	ageNext     uint64     // no message below it is waiting for MaxAge
	timer       *time.Timer
	timerAt     int64 // deadline the timer is armed for, 0 if none
	// subjGen changes whenever a subject enters or leaves subjs, which
	// invalidates wcache.
	subjGen uint64
	nextID  uint32   // subject ids below it have been handed out
	freeIDs []uint32 // ids of removed subjects, to reuse

	// wmu guards wcache; it is taken with mu held (read or write).
	wmu    sync.Mutex
	wcache map[string]*wildInfo
}

// msg is one stored message; ss == nil marks a removed (or never used) slot.
type msg struct {
	ss   *subject
	buf  []byte // header then payload
	hlen uint32
	id   uint32 // ss.id, kept here so scans need not touch ss
	ts   int64
	exp  int64 // 0: MaxAge applies; -1: never expires; >0: TTL deadline
}

// subject is the per-subject index entry.
type subject struct {
	subj string
	id   uint32 // dense and reused, for the bitsets of wildInfo
	// seqs[head:] is ascending and holds every stored sequence of this
	// subject, plus removed ones (dead) that are dropped lazily. When n > 0
	// the first and last entries are alive.
	seqs []uint64
	head int
	n    uint64 // live messages
}

type ttlEntry struct {
	exp int64
	seq uint64
}

var _ store.StreamStore = (*Store)(nil)

// New returns an empty store with cfg.
//
// Errors: store.ErrInvalidConfig.
func New(cfg store.Config) (*Store, error) {
	if err := validate(cfg); err != nil {
		return nil, err
	}
	return &Store{cfg: cfg}, nil
}

func validate(cfg store.Config) error {
	if cfg.DiscardNewPerSubject && cfg.Discard != store.DiscardNew {
		return store.ErrInvalidConfig
	}
	if cfg.Discard > store.DiscardNew {
		return store.ErrInvalidConfig
	}
	return nil
}

// alive reports whether seq holds a message. mu must be held.
func (s *Store) alive(seq uint64) bool {
	return s.count > 0 && seq >= s.first && seq <= s.last && s.log.at(seq).ss != nil
}

// removal is a message removed by a limit, to report to OnRemove.
type removal struct {
	seq  uint64
	subj string
	why  store.RemoveReason
}

// removals collects removals without allocating for the first one, the
// common case of a full store making room for one message.
type removals struct {
	keep bool // OnRemove is set
	n    int
	one  removal
	more []removal
}

func (r *removals) add(seq uint64, subj string, why store.RemoveReason) {
	if !r.keep {
		return
	}
	if r.n == 0 {
		r.one = removal{seq, subj, why}
	} else {
		r.more = append(r.more, removal{seq, subj, why})
	}
	r.n++
}

func (r *removals) call(cb func(uint64, string, store.RemoveReason)) {
	if r.n == 0 || cb == nil {
		return
	}
	cb(r.one.seq, r.one.subj, r.one.why)
	for _, x := range r.more {
		cb(x.seq, x.subj, x.why)
	}
}

// StoreMsg implements store.StreamStore.
func (s *Store) StoreMsg(subj string, hdr, data []byte, ts int64, ttl time.Duration) (uint64, error) {
	if !sublist.ValidLiteralSubject(subj) {
		return 0, store.ErrInvalidSubject
	}
	if ts == 0 {
		ts = time.Now().UnixNano()
	}
	exp := int64(0)
	switch {
	case ttl > 0:
		exp = ts + int64(ttl)
	case ttl < 0:
		exp = -1
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, store.ErrStoreClosed
	}
	if err := s.admitLocked(subj, hdr, data); err != nil {
		s.mu.Unlock()
		return 0, err
	}
	seq := s.last + 1
	ss := s.appendLocked(seq, subj, hdr, data, ts, exp)
	rm := removals{keep: s.cfg.OnRemove != nil}
	s.enforceLocked(ss, &rm)
	onRemove, onDurable := s.cfg.OnRemove, s.cfg.OnDurable
	s.mu.Unlock()

	rm.call(onRemove)
	if onDurable != nil {
		s.durMu.Lock()
		if seq > s.durable {
			s.durable = seq
			onDurable(seq)
		}
		s.durMu.Unlock()
	}
	return seq, nil
}

// admitLocked applies the limits that reject a message.
func (s *Store) admitLocked(subj string, hdr, data []byte) error {
	cfg := &s.cfg
	if cfg.MaxMsgSize > 0 && len(hdr)+len(data) > cfg.MaxMsgSize {
		return store.ErrMsgTooBig
	}
	size := store.MsgSize(subj, hdr, data)
	if cfg.MaxBytes > 0 && size > uint64(cfg.MaxBytes) {
		return store.ErrMaxBytes
	}
	if cfg.Discard != store.DiscardNew {
		return nil
	}
	// A message that pushes out its subject's oldest (MaxMsgsPerSubject
	// without DiscardNewPerSubject) replaces it rather than adding to the
	// store's totals.
	var freedMsgs, freedBytes uint64
	if cfg.MaxMsgsPerSubject > 0 {
		if ss, ok := s.subjs.Get(subj); ok && ss.n >= uint64(cfg.MaxMsgsPerSubject) {
			if cfg.DiscardNewPerSubject {
				return store.ErrMaxMsgsPerSubject
			}
			old := s.log.at(ss.seqs[ss.head])
			freedMsgs, freedBytes = 1, uint64(len(ss.subj)+len(old.buf))+16
		}
	}
	if cfg.MaxMsgs > 0 && s.count+1-freedMsgs > uint64(cfg.MaxMsgs) {
		return store.ErrMaxMsgs
	}
	if cfg.MaxBytes > 0 && s.bytes+size-freedBytes > uint64(cfg.MaxBytes) {
		return store.ErrMaxBytes
	}
	return nil
}

// appendLocked stores a message at seq > s.last, leaving any sequences in
// between empty, and returns its subject entry.
func (s *Store) appendLocked(seq uint64, subj string, hdr, data []byte, ts, exp int64) *subject {
	ss, ok := s.subjs.Get(subj)
	if !ok {
		ss = &subject{subj: strings.Clone(subj), id: s.newID()}
		s.subjs.Insert(ss.subj, ss)
		s.subjGen++
	}
	var buf []byte
	// Appending to a slice with no spare capacity allocates the copy
	// without first zeroing it (make would: 20% of a 4 KiB publish).
	switch {
	case len(data) > 0:
		buf = append(hdr[:len(hdr):len(hdr)], data...)
	case len(hdr) > 0:
		buf = append([]byte(nil), hdr...)
	}
	if s.count == 0 {
		s.log.reset(seq)
		s.first = seq
	}
	if seq != s.log.end {
		s.log.pad(seq)
	}
	s.log.push(msg{ss: ss, buf: buf, hlen: uint32(len(hdr)), id: ss.id, ts: ts, exp: exp})
	ss.seqs = append(ss.seqs, seq)
	ss.n++
	s.count++
	s.bytes += uint64(len(ss.subj)+len(buf)) + 16
	s.last, s.lastTS = seq, ts
	switch {
	case exp > 0:
		s.pushTTL(ttlEntry{exp, seq})
		s.armLocked(exp)
	case exp == 0 && s.cfg.MaxAge > 0:
		s.armLocked(ts + int64(s.cfg.MaxAge))
	}
	return ss
}

// enforceLocked applies the limits that remove old messages after ss (or,
// if nil, every subject) got a new one.
func (s *Store) enforceLocked(ss *subject, rm *removals) {
	cfg := &s.cfg
	if max := cfg.MaxMsgsPerSubject; max > 0 && !cfg.DiscardNewPerSubject {
		trim := func(ss *subject) {
			for ss.n > uint64(max) {
				seq := ss.seqs[ss.head]
				s.removeLocked(seq, false)
				rm.add(seq, ss.subj, store.RemovedMaxMsgsPerSubject)
			}
		}
		if ss != nil {
			trim(ss)
		} else {
			var over []*subject
			s.subjs.All(func(ss *subject) bool {
				if ss.n > uint64(max) {
					over = append(over, ss)
				}
				return true
			})
			for _, ss := range over {
				trim(ss)
			}
		}
	}
	if cfg.Discard != store.DiscardOld {
		return
	}
	for cfg.MaxMsgs > 0 && s.count > uint64(cfg.MaxMsgs) {
		seq := s.first
		rm.add(seq, s.removeLocked(seq, false).subj, store.RemovedMaxMsgs)
	}
	for cfg.MaxBytes > 0 && s.bytes > uint64(cfg.MaxBytes) {
		seq := s.first
		rm.add(seq, s.removeLocked(seq, false).subj, store.RemovedMaxBytes)
	}
}

// newID returns an unused subject id.
func (s *Store) newID() uint32 {
	if n := len(s.freeIDs); n > 0 {
		id := s.freeIDs[n-1]
		s.freeIDs = s.freeIDs[:n-1]
		return id
	}
	s.nextID++
	return s.nextID - 1
}

// removeLocked removes the message at seq, which must be alive, and
// returns its subject entry.
func (s *Store) removeLocked(seq uint64, erase bool) *subject {
	m := s.log.at(seq)
	ss := m.ss
	if erase {
		clear(m.buf)
	}
	s.count--
	s.bytes -= uint64(len(ss.subj)+len(m.buf)) + 16
	s.log.kill(seq)
	ss.n--
	if ss.n == 0 {
		s.subjs.Delete(ss.subj)
		s.freeIDs = append(s.freeIDs, ss.id)
		s.subjGen++
		ss.seqs, ss.head = nil, 0
	} else {
		s.dropSeq(ss, seq)
	}
	if seq == s.first {
		s.advanceFirstLocked()
	}
	return ss
}

// advanceFirstLocked moves first to the next live message after a removal
// of the first one, and gives back the slots before it now and then.
func (s *Store) advanceFirstLocked() {
	if s.count == 0 {
		s.first = s.last + 1
		s.log.reset(s.first)
		return
	}
	q := s.log.nextLive(s.first+1, s.last)
	s.first = q
	s.log.trimFront(q)
}

// dropSeq takes a removed seq out of ss's list, or leaves it dead there.
func (s *Store) dropSeq(ss *subject, seq uint64) {
	switch {
	case seq == ss.seqs[ss.head]:
		ss.head++
		for !s.alive(ss.seqs[ss.head]) {
			ss.head++
		}
	case seq == ss.seqs[len(ss.seqs)-1]:
		ss.seqs = ss.seqs[:len(ss.seqs)-1]
		for !s.alive(ss.seqs[len(ss.seqs)-1]) {
			ss.seqs = ss.seqs[:len(ss.seqs)-1]
		}
	}
	live := ss.n
	if dead := uint64(len(ss.seqs)-ss.head) - live; dead > live+8 {
		w := 0
		for _, q := range ss.seqs[ss.head:] {
			if s.alive(q) {
				ss.seqs[w] = q
				w++
			}
		}
		ss.seqs, ss.head = ss.seqs[:w], 0
	} else if ss.head >= 64 && ss.head > len(ss.seqs)/2 {
		n := copy(ss.seqs, ss.seqs[ss.head:])
		ss.seqs, ss.head = ss.seqs[:n], 0
	}
}

// nextAtOrAfter returns ss's first live sequence >= seq, or 0.
func (s *Store) nextAtOrAfter(ss *subject, seq uint64) uint64 {
	list := ss.seqs[ss.head:]
	if len(list) == 0 || seq > list[len(list)-1] {
		return 0
	}
	if seq <= list[0] {
		return list[0]
	}
	lo, hi := searchWindow(list, seq)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if list[mid] < seq {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	for _, q := range list[lo:] {
		if s.alive(q) {
			return q
		}
	}
	return 0
}

// searchWindow narrows the binary search for the first element >= seq of
// a long ascending list (with list[0] < seq <= list[len-1]). A subject's
// sequences are usually spread evenly over the stream, so interpolation
// lands next to the answer and galloping from there brackets it in a few
// probes instead of log2(len) cache misses.
func searchWindow(list []uint64, seq uint64) (lo, hi int) {
	n := len(list)
	if n < 64 {
		return 0, n
	}
	g := int(float64(seq-list[0]) / float64(list[n-1]-list[0]) * float64(n-1))
	g = min(max(g, 0), n-1)
	if list[g] >= seq {
		lo, hi = 0, g+1
		for step := 1; ; step <<= 1 {
			j := g - step
			if j < 0 {
				return lo, hi
			}
			if list[j] < seq {
				return j + 1, hi
			}
			hi = j + 1
		}
	}
	lo, hi = g+1, n
	for step := 1; ; step <<= 1 {
		j := g + step
		if j >= n {
			return lo, hi
		}
		if list[j] >= seq {
			return lo, j + 1
		}
		lo = j + 1
	}
}

// SkipMsgs implements store.StreamStore. A skipped range costs one gap
// entry in the message log (a short one, up to 63 sequences, empty
// slots), and none when the store is empty. Like StoreMsg it reports the
// new LastSeq to OnDurable before returning.
func (s *Store) SkipMsgs(seq, n uint64) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return store.ErrStoreClosed
	}
	if n == 0 {
		s.mu.Unlock()
		return nil
	}
	if seq != s.last+1 || n > 1<<63-seq {
		s.mu.Unlock()
		return store.ErrSequenceMismatch
	}
	next := seq + n
	if s.count == 0 {
		s.first = next
		s.log.reset(next)
	} else {
		s.log.pad(next)
	}
	s.last = next - 1
	onDurable := s.cfg.OnDurable
	s.mu.Unlock()

	if onDurable != nil {
		s.durMu.Lock()
		if next-1 > s.durable {
			s.durable = next - 1
			onDurable(next - 1)
		}
		s.durMu.Unlock()
	}
	return nil
}

// RemoveMsg implements store.StreamStore.
func (s *Store) RemoveMsg(seq uint64) error { return s.remove(seq, false) }

// EraseMsg implements store.StreamStore. The message's bytes are zeroed.
func (s *Store) EraseMsg(seq uint64) error { return s.remove(seq, true) }

func (s *Store) remove(seq uint64, erase bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrStoreClosed
	}
	if !s.alive(seq) {
		return store.ErrMsgNotFound
	}
	s.removeLocked(seq, erase)
	return nil
}

// Close implements store.StreamStore. The messages stay readable through
// State only.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return store.ErrStoreClosed
	}
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
	}
	for _, c := range s.consumers {
		c.close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// Delete implements store.StreamStore.
func (s *Store) Delete() error {
	err := s.Close()
	s.mu.Lock()
	s.log = msgLog{}
	s.subjs, s.ttls, s.consumers = subjidx.Index[*subject]{}, nil, nil
	s.subjGen++
	s.nextID, s.freeIDs = 0, nil
	s.count, s.bytes = 0, 0
	if s.last != 0 {
		s.first = s.last + 1
	}
	s.mu.Unlock()
	return err
}
