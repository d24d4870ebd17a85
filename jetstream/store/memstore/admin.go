package memstore

import (
	"slices"
	"time"

	"natsd.dev/jetstream/internal/subjidx"
	"natsd.dev/jetstream/store"
)

// Purge implements store.StreamStore.
func (s *Store) Purge(req store.PurgeRequest) (uint64, error) {
	if req.Seq != 0 && req.Keep != 0 {
		return 0, store.ErrInvalidPurge
	}
	kind, err := classify(req.Filter)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, store.ErrStoreClosed
	}
	if kind == filterAll {
		switch {
		case req.Seq != 0:
			return s.compactLocked(req.Seq), nil
		case req.Keep != 0:
			if s.count <= req.Keep {
				return 0, nil
			}
			q := s.last
			for kept := uint64(1); ; kept++ {
				q = s.log.prevLive(q)
				if kept == req.Keep {
					break
				}
				q--
			}
			return s.compactLocked(q), nil
		}
		return s.purgeAllLocked(), nil
	}

	var subs []*subject
	if kind == filterLiteral {
		if ss, ok := s.subjs.Get(req.Filter); ok {
			subs = append(subs, ss)
		}
	} else {
		s.subjs.Match(req.Filter, func(ss *subject) bool {
			subs = append(subs, ss)
			return true
		})
	}
	var seqs []uint64
	for _, ss := range subs {
		for _, q := range ss.seqs[ss.head:] {
			if (req.Seq == 0 || q < req.Seq) && s.alive(q) {
				seqs = append(seqs, q)
			}
		}
	}
	if req.Keep != 0 {
		if uint64(len(seqs)) <= req.Keep {
			return 0, nil
		}
		if len(subs) > 1 {
			slices.Sort(seqs)
		}
		seqs = seqs[:uint64(len(seqs))-req.Keep]
	}
	for _, q := range seqs {
		s.removeLocked(q, false)
	}
	return uint64(len(seqs)), nil
}

// purgeAllLocked removes every message and returns how many there were.
func (s *Store) purgeAllLocked() uint64 {
	n := s.count
	s.subjs = subjidx.Index[*subject]{}
	s.subjGen++
	s.nextID, s.freeIDs = 0, s.freeIDs[:0]
	s.ttls = nil
	s.count, s.bytes = 0, 0
	if s.last != 0 || s.first != 0 {
		s.first = s.last + 1
	}
	s.log.reset(s.last + 1)
	return n
}

// Compact implements store.StreamStore.
func (s *Store) Compact(seq uint64) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, store.ErrStoreClosed
	}
	return s.compactLocked(seq), nil
}

func (s *Store) compactLocked(seq uint64) uint64 {
	if seq <= 1 || (s.count > 0 && seq <= s.first) {
		return 0
	}
	if seq > s.last {
		if s.count == 0 && seq == s.last+1 {
			return 0
		}
		n := s.purgeAllLocked()
		s.first, s.last, s.lastTS = seq, seq-1, 0
		s.log.reset(seq)
		return n
	}
	var n uint64
	for s.count > 0 && s.first < seq {
		s.removeLocked(s.first, false)
		n++
	}
	return n
}

// Truncate implements store.StreamStore.
func (s *Store) Truncate(seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrStoreClosed
	}
	if seq >= s.last {
		return nil
	}
	for q := s.last; s.count > 0 && q >= s.first; q-- {
		if q = s.log.prevLive(q); q <= seq {
			break
		}
		s.removeLocked(q, false)
	}
	s.last = seq
	s.ageNext = min(s.ageNext, seq+1)
	if s.count == 0 {
		s.first, s.lastTS = seq+1, 0
		s.log.reset(seq + 1)
		return nil
	}
	s.log.truncate(seq)
	s.lastTS = s.log.at(s.lastLive()).ts
	return nil
}

// UpdateConfig implements store.StreamStore.
func (s *Store) UpdateConfig(cfg store.Config) error {
	if err := validate(cfg); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return store.ErrStoreClosed
	}
	if cfg.Name != s.cfg.Name {
		s.mu.Unlock()
		return store.ErrInvalidConfig
	}
	s.cfg = cfg
	rm := removals{keep: cfg.OnRemove != nil}
	s.enforceLocked(nil, &rm)
	s.ageNext = s.first
	s.timerAt = 0
	if s.timer != nil {
		s.timer.Stop()
	}
	s.expireLocked(time.Now().UnixNano(), &rm)
	s.mu.Unlock()
	rm.call(cfg.OnRemove)
	return nil
}
