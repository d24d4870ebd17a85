package memstore

import (
	"time"

	"natsd.dev/jetstream/store"
)

// pushTTL adds e to the TTL heap.
func (s *Store) pushTTL(e ttlEntry) {
	h := append(s.ttls, e)
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if h[p].exp <= h[i].exp {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
	s.ttls = h
}

// popTTL removes the heap's minimum.
func (s *Store) popTTL() ttlEntry {
	h := s.ttls
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && h[r].exp < h[l].exp {
			c = r
		}
		if h[i].exp <= h[c].exp {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	s.ttls = h
	return top
}

// armLocked makes sure the expiry timer fires no later than deadline.
func (s *Store) armLocked(deadline int64) {
	if s.closed || (s.timerAt != 0 && s.timerAt <= deadline) {
		return
	}
	s.timerAt = deadline
	d := time.Duration(deadline - time.Now().UnixNano())
	if s.timer == nil {
		s.timer = time.AfterFunc(d, s.expire)
	} else {
		s.timer.Reset(d)
	}
}

// expire runs on the timer's goroutine.
func (s *Store) expire() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.wg.Add(1)
	defer s.wg.Done()
	rm := removals{keep: s.cfg.OnRemove != nil}
	s.timerAt = 0
	s.expireLocked(time.Now().UnixNano(), &rm)
	cb := s.cfg.OnRemove
	s.mu.Unlock()
	rm.call(cb)
}

// expireLocked removes what is due at now and arms the timer for the next
// deadline. s.timerAt must be 0 or a deadline still pending.
func (s *Store) expireLocked(now int64, rm *removals) {
	for len(s.ttls) > 0 && s.ttls[0].exp <= now {
		e := s.popTTL()
		if s.alive(e.seq) && s.log.at(e.seq).exp == e.exp {
			rm.add(e.seq, s.removeLocked(e.seq, false).subj, store.RemovedTTL)
		}
	}
	// Drop entries of removed messages so the heap does not outgrow the
	// store when TTL'd messages are removed by other means.
	for len(s.ttls) > 0 && !s.alive(s.ttls[0].seq) {
		s.popTTL()
	}
	if len(s.ttls) > 0 {
		s.armLocked(s.ttls[0].exp)
	}
	maxAge := int64(s.cfg.MaxAge)
	if maxAge <= 0 {
		return
	}
	q := max(s.ageNext, s.first)
	for ; s.count > 0 && q <= s.last; q++ {
		if q = s.log.nextLive(max(q, s.first), s.last); q == 0 {
			q = s.last + 1
			break
		}
		m := s.log.at(q)
		if m.exp != 0 {
			continue
		}
		if m.ts+maxAge > now {
			s.armLocked(m.ts + maxAge)
			break
		}
		rm.add(q, s.removeLocked(q, false).subj, store.RemovedMaxAge)
	}
	s.ageNext = q
}
