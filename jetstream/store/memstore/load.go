package memstore

import (
	"strings"
	"time"

	"natsd.dev/jetstream/store"
	"natsd.dev/sublist"
)

// A wildcard load either scans messages one by one or asks the index of
// every matching subject for its next sequence, whichever it expects to be
// cheaper: looking at one message costs about scanCost, asking one subject
// (a binary search over its sequences, mostly cache misses) indexCost.
// It always scans at least scanMin messages first, which finds the answer
// at once when matches are dense.
const (
	scanMin   = 16
	scanCost  = 1
	indexCost = 64
)

// wildInfo caches the subjects matching a wildcard filter until a subject
// enters or leaves the store. It is immutable once cached.
type wildInfo struct {
	gen  uint64
	subs []*subject
	msgs uint64   // messages on subs when cached: an estimate of density
	bits []uint64 // bit id is set for the id of every subject in subs
}

// has reports whether the subject with id matches.
func (w *wildInfo) has(id uint32) bool {
	i := int(id >> 6)
	return i < len(w.bits) && w.bits[i]&(1<<(id&63)) != 0
}

// wildcard returns the cached subjects matching filter; mu must be held.
func (s *Store) wildcard(filter string) *wildInfo {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if w := s.wcache[filter]; w != nil && w.gen == s.subjGen {
		return w
	}
	w := &wildInfo{gen: s.subjGen, bits: make([]uint64, (s.nextID+63)/64)}
	s.subjs.Match(filter, func(ss *subject) bool {
		w.subs = append(w.subs, ss)
		w.msgs += ss.n
		w.bits[ss.id>>6] |= 1 << (ss.id & 63)
		return true
	})
	if s.wcache == nil || len(s.wcache) >= 64 {
		s.wcache = make(map[string]*wildInfo)
	}
	s.wcache[strings.Clone(filter)] = w
	return w
}

// filterKind classifies a filter: all subjects, one literal subject, or a
// wildcard filter.
type filterKind uint8

const (
	filterAll filterKind = iota
	filterLiteral
	filterWild
)

func classify(filter string) (filterKind, error) {
	if filter == "" || filter == ">" {
		return filterAll, nil
	}
	if !sublist.ValidFilter(filter) {
		return 0, store.ErrInvalidFilter
	}
	if sublist.IsLiteral(filter) {
		return filterLiteral, nil
	}
	return filterWild, nil
}

func (s *Store) fill(seq uint64, into *store.StoredMsg) {
	m := s.log.at(seq)
	into.Set(m.ss.subj, m.buf[:m.hlen], m.buf[m.hlen:], seq, m.ts)
}

// LoadMsg implements store.StreamStore.
func (s *Store) LoadMsg(seq uint64, into *store.StoredMsg) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.ErrStoreClosed
	}
	if s.count == 0 || seq < s.first || seq > s.last {
		return store.ErrMsgNotFound
	}
	m := s.log.at(seq)
	if m.ss == nil {
		return store.ErrMsgNotFound
	}
	into.Set(m.ss.subj, m.buf[:m.hlen], m.buf[m.hlen:], seq, m.ts)
	return nil
}

// LoadNextMsg implements store.StreamStore.
func (s *Store) LoadNextMsg(filter string, start uint64, into *store.StoredMsg) error {
	kind, err := classify(filter)
	if err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.ErrStoreClosed
	}
	if seq := s.nextLocked(kind, filter, start); seq != 0 {
		s.fill(seq, into)
		return nil
	}
	return store.ErrMsgNotFound
}

// nextLocked returns the first live sequence >= start matching filter, or 0.
func (s *Store) nextLocked(kind filterKind, filter string, start uint64) uint64 {
	if s.count == 0 {
		return 0
	}
	start = max(start, s.first)
	if start > s.last {
		return 0
	}
	switch kind {
	case filterAll:
		return s.log.nextLive(start, s.last)
	case filterLiteral:
		ss, ok := s.subjs.Get(filter)
		if !ok {
			return 0
		}
		return s.nextAtOrAfter(ss, start)
	}
	w := s.wildcard(filter)
	switch len(w.subs) {
	case 0:
		return 0
	case 1:
		return s.nextAtOrAfter(w.subs[0], start)
	}
	budget := uint64(scanMin)
	if gap := s.count / max(w.msgs, 1); gap*scanCost <= uint64(len(w.subs))*indexCost {
		budget += 4 * gap
	}
	end := s.last
	if s.last-start >= budget {
		end = start + budget - 1
	}
	for q := start; q <= end; q++ {
		if m := s.log.at(q); m.ss != nil && w.has(m.id) {
			return q
		}
	}
	if end == s.last {
		return 0
	}
	from, best := end+1, uint64(0)
	for _, ss := range w.subs {
		if ss.seqs[len(ss.seqs)-1] < from || (best != 0 && ss.seqs[ss.head] >= best) {
			continue
		}
		if q := s.nextAtOrAfter(ss, from); q != 0 && (best == 0 || q < best) {
			best = q
		}
	}
	return best
}

// LoadLastMsg implements store.StreamStore.
func (s *Store) LoadLastMsg(filter string, into *store.StoredMsg) error {
	kind, err := classify(filter)
	if err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.ErrStoreClosed
	}
	if seq := s.lastLocked(kind, filter); seq != 0 {
		s.fill(seq, into)
		return nil
	}
	return store.ErrMsgNotFound
}

func (s *Store) lastLocked(kind filterKind, filter string) uint64 {
	if s.count == 0 {
		return 0
	}
	switch kind {
	case filterAll:
		return s.lastLive()
	case filterLiteral:
		if ss, ok := s.subjs.Get(filter); ok {
			return ss.seqs[len(ss.seqs)-1]
		}
		return 0
	}
	w := s.wildcard(filter)
	stop := s.first
	if s.last-s.first >= scanMin {
		stop = s.last - scanMin + 1
	}
	for q := s.last; q >= stop; q-- {
		if m := s.log.at(q); m.ss != nil && w.has(m.id) {
			return q
		}
	}
	var best uint64
	for _, ss := range w.subs {
		best = max(best, ss.seqs[len(ss.seqs)-1])
	}
	return best
}

// firstLive returns the lowest live sequence, or 0 if there is none.
func (s *Store) firstLive() uint64 {
	if s.count == 0 {
		return 0
	}
	return s.first
}

// lastLive returns the highest live sequence; count must be > 0.
func (s *Store) lastLive() uint64 {
	return s.log.prevLive(s.last)
}

// State implements store.StreamStore.
func (s *Store) State() store.StreamState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := store.StreamState{
		Msgs:        s.count,
		Bytes:       s.bytes,
		FirstSeq:    s.first,
		LastSeq:     s.last,
		NumSubjects: s.subjs.Len(),
		Consumers:   len(s.consumers),
	}
	if s.lastTS != 0 {
		st.LastTime = time.Unix(0, s.lastTS).UTC()
	}
	if s.count > 0 {
		st.FirstTime = time.Unix(0, s.log.at(s.first).ts).UTC()
		st.NumDeleted = int(s.last - s.first + 1 - s.count)
	}
	return st
}

// FilteredState implements store.StreamStore.
func (s *Store) FilteredState(filter string, start uint64) (store.FilteredState, error) {
	kind, err := classify(filter)
	if err != nil {
		return store.FilteredState{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.FilteredState{}, store.ErrStoreClosed
	}
	var fs store.FilteredState
	if s.count == 0 {
		return fs, nil
	}
	start = max(start, s.first)
	if start > s.last {
		return fs, nil
	}
	add := func(q uint64) {
		fs.Msgs++
		if fs.First == 0 || q < fs.First {
			fs.First = q
		}
		fs.Last = max(fs.Last, q)
	}
	switch {
	case kind == filterAll && start == s.first:
		return store.FilteredState{Msgs: s.count, First: s.first, Last: s.lastLive()}, nil
	case kind == filterAll && s.count == s.last-s.first+1:
		// No holes: every sequence in [start, last] holds a message.
		return store.FilteredState{Msgs: s.last - start + 1, First: start, Last: s.last}, nil
	case kind == filterLiteral:
		if ss, ok := s.subjs.Get(filter); ok {
			s.countSubject(ss, start, &fs)
		}
	case kind == filterWild && s.last-start >= 1024:
		for _, ss := range s.wildcard(filter).subs {
			var one store.FilteredState
			s.countSubject(ss, start, &one)
			if one.Msgs > 0 {
				fs.Msgs += one.Msgs
				if fs.First == 0 || one.First < fs.First {
					fs.First = one.First
				}
				fs.Last = max(fs.Last, one.Last)
			}
		}
	default:
		var w *wildInfo
		if kind == filterWild {
			w = s.wildcard(filter)
		}
		for q := s.log.nextLive(start, s.last); q != 0; q = s.log.nextLive(q+1, s.last) {
			if kind == filterAll || w.has(s.log.at(q).id) {
				add(q)
			}
		}
	}
	return fs, nil
}

// countSubject adds into fs the live messages of ss at or after start.
func (s *Store) countSubject(ss *subject, start uint64, fs *store.FilteredState) {
	list := ss.seqs[ss.head:]
	if start <= list[0] {
		*fs = store.FilteredState{Msgs: ss.n, First: list[0], Last: list[len(list)-1]}
		return
	}
	q := s.nextAtOrAfter(ss, start)
	if q == 0 {
		return
	}
	*fs = store.FilteredState{First: q, Last: list[len(list)-1]}
	for _, x := range list {
		if x >= q && s.alive(x) {
			fs.Msgs++
		}
	}
}

// SubjectsTotals implements store.StreamStore.
func (s *Store) SubjectsTotals(filter string) (map[string]uint64, error) {
	kind, err := classify(filter)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, store.ErrStoreClosed
	}
	out := make(map[string]uint64)
	if kind == filterLiteral {
		if ss, ok := s.subjs.Get(filter); ok {
			out[ss.subj] = ss.n
		}
		return out, nil
	}
	s.subjs.Match(filter, func(ss *subject) bool {
		out[ss.subj] = ss.n
		return true
	})
	return out, nil
}
