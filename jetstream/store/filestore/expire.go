package filestore

import (
	"time"

	"natsd.dev/jetstream/store"
)

// ttlEntry schedules the TTL expiry of one message.
type ttlEntry struct {
	exp int64
	seq uint64
}

// ttlHeap is a min-heap of TTL expiries. Entries of messages removed
// otherwise stay until they reach the top and are then skipped.
type ttlHeap []ttlEntry

func (h *ttlHeap) push(e ttlEntry) {
	*h = append(*h, e)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if a[p].exp <= a[i].exp {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *ttlHeap) pop() ttlEntry {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a = a[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && a[l].exp < a[m].exp {
			m = l
		}
		if r < n && a[r].exp < a[m].exp {
			m = r
		}
		if m == i {
			break
		}
		a[m], a[i] = a[i], a[m]
		i = m
	}
	*h = a
	return top
}

// armLocked makes the expiry goroutine wake at t (Unix nanoseconds) at the
// latest.
func (s *Store) armLocked(t int64) {
	if s.timerAt != 0 && t >= s.timerAt {
		return
	}
	s.timerAt = t
	select {
	case s.expCh <- struct{}{}:
	default:
	}
}

// expireLoop owns the expiry timer. One timer serves the whole store: it is
// set to the earliest of the next MaxAge expiry (of the oldest message
// subject to MaxAge) and the top of the TTL heap.
func (s *Store) expireLoop() {
	defer s.wg.Done()
	t := time.NewTimer(time.Hour)
	t.Stop()
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-s.expCh:
		case <-t.C:
			s.mu.Lock()
			if s.closed {
				s.mu.Unlock()
				return
			}
			s.timerAt = 0
			s.expireLocked(time.Now().UnixNano())
			rm, cb := s.takeRemovedLocked()
			if len(rm) > 0 {
				s.kickLocked()
			}
			s.mu.Unlock()
			fire(rm, cb)
		}
		s.mu.Lock()
		at := s.timerAt
		s.mu.Unlock()
		t.Stop()
		if at != 0 {
			t.Reset(time.Duration(at - time.Now().UnixNano()))
		}
	}
}

// expireLocked removes what has expired by now and sets timerAt to the
// next expiry.
func (s *Store) expireLocked(now int64) {
	next := int64(0)
	for len(s.ttls) > 0 {
		e := s.ttls[0]
		sl := s.live(e.seq)
		if sl == nil || sl.rlen&exemptBit == 0 {
			s.ttls.pop()
			continue
		}
		if e.exp > now {
			next = e.exp
			break
		}
		s.ttls.pop()
		s.removeLocked(e.seq, store.RemovedTTL, true)
	}
	if maxAge := int64(s.scfg.MaxAge); maxAge > 0 && s.msgs > 0 {
		q := max(s.ageSeq, s.first)
		for ; q <= s.last; q++ {
			if q = s.nextLive(q); q == 0 {
				q = s.last + 1
				break
			}
			sl := s.slot(q)
			if sl.rlen&exemptBit != 0 {
				continue
			}
			if sl.ts+maxAge > now {
				if next == 0 || sl.ts+maxAge < next {
					next = sl.ts + maxAge
				}
				break
			}
			s.removeLocked(q, store.RemovedMaxAge, true)
		}
		s.ageSeq = q
	}
	if next != 0 {
		s.armLocked(next)
	}
}
