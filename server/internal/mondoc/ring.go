package mondoc

import "sync"

// Ring keeps the last max closed connections, oldest overwritten first.
// The zero Ring keeps none until SetMax.
type Ring struct {
	mu   sync.Mutex
	max  int
	buf  []*Closed
	next int // where the next entry goes once buf is full
}

// Keeps reports whether the ring keeps anything (max > 0), so a caller
// can skip copying a connection that would be dropped.
func (r *Ring) Keeps() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.max > 0
}

// Add keeps cc, dropping the oldest entry when the ring is full.
func (r *Ring) Add(cc *Closed) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.max <= 0:
	case len(r.buf) < r.max:
		r.buf = append(r.buf, cc)
	default:
		r.buf[r.next] = cc
		r.next = (r.next + 1) % len(r.buf)
	}
}

// List returns the entries oldest first, in a new slice.
func (r *Ring) List() []*Closed {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Closed, 0, len(r.buf))
	out = append(out, r.buf[r.next:]...)
	return append(out, r.buf[:r.next]...)
}

// SetMax changes how many entries the ring keeps (negative is 0),
// dropping the oldest ones that no longer fit.
func (r *Ring) SetMax(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	all := append(append([]*Closed{}, r.buf[r.next:]...), r.buf[:r.next]...)
	if n < 0 {
		n = 0
	}
	if len(all) > n {
		all = all[len(all)-n:]
	}
	r.max, r.buf, r.next = n, all, 0
}
