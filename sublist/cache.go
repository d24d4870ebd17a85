package sublist

import (
	"hash/maphash"
	"sync/atomic"
)

// The match cache is a fixed-size, set-associative hash table of
// atomically published entries:
//
//	slots: [ set 0: way0 .. way7 | set 1: way0 .. way7 | ... ]
//	        each slot is an atomic.Pointer to an immutable entry
//
// A key hashes to a preferred slot; it is looked up in the 8 slots of that
// slot's set, starting at the preferred one, so a hit is usually one load.
// Readers (cache hits) take no lock. Fills happen on a miss while holding
// the Sublist's read lock, so they never overlap with a writer; invalidation
// happens under the write lock. Hence a result that is stored was computed
// from the trie as it is until the next writer, and that writer removes it
// if it is affected. The table never grows: a full set evicts a slot, which
// bounds memory without a sweeper goroutine.

const (
	cacheWays     = 8
	cacheStripes  = 8 // hit counters, spread to limit cache-line contention
	defaultCacheN = 1024
)

type cacheEntry[T comparable] struct {
	hash uint64
	key  string
	res  *Result[T]
}

// paddedCounter sits alone on a cache line so that parallel matchers
// counting hits of different subjects do not contend.
type paddedCounter struct {
	n atomic.Uint64
	_ [56]byte
}

type matchCache[T comparable] struct {
	seed  maphash.Seed
	mask  uint64 // len(slots)-1
	slots []atomic.Pointer[cacheEntry[T]]
	hits  [cacheStripes]paddedCounter
	evict atomic.Uint64 // rotates the victim way of full sets
}

func newMatchCache[T comparable](size int) *matchCache[T] {
	n := cacheWays
	for n < size {
		n <<= 1
	}
	return &matchCache[T]{
		seed:  maphash.MakeSeed(),
		mask:  uint64(n - 1),
		slots: make([]atomic.Pointer[cacheEntry[T]], n),
	}
}

// lookup returns the cached result for key, whose hash is h, or nil.
func (c *matchCache[T]) lookup(h uint64, key string) *Result[T] {
	base := h & c.mask &^ (cacheWays - 1)
	for i := range uint64(cacheWays) {
		e := c.slots[base|((h+i)&(cacheWays-1))].Load()
		if e != nil && e.hash == h && e.key == key {
			c.hits[h%cacheStripes].n.Add(1)
			return e.res
		}
	}
	return nil
}

// lookupBytes is lookup for a key held in a byte slice.
func (c *matchCache[T]) lookupBytes(h uint64, key []byte) *Result[T] {
	base := h & c.mask &^ (cacheWays - 1)
	for i := range uint64(cacheWays) {
		e := c.slots[base|((h+i)&(cacheWays-1))].Load()
		if e != nil && e.hash == h && e.key == string(key) {
			c.hits[h%cacheStripes].n.Add(1)
			return e.res
		}
	}
	return nil
}

// store publishes res for key. Called with the Sublist's read lock held.
func (c *matchCache[T]) store(h uint64, key string, res *Result[T]) {
	e := &cacheEntry[T]{hash: h, key: key, res: res}
	base := h & c.mask &^ (cacheWays - 1)
	for i := range uint64(cacheWays) {
		if c.slots[base|((h+i)&(cacheWays-1))].CompareAndSwap(nil, e) {
			return
		}
	}
	victim := (h + c.evict.Add(1)) & (cacheWays - 1)
	c.slots[base|victim].Store(e)
}

// remove drops every entry for key (concurrent fills may have stored it
// twice). Called with the write lock held.
func (c *matchCache[T]) remove(h uint64, key string) {
	base := h & c.mask &^ (cacheWays - 1)
	for i := range uint64(cacheWays) {
		p := &c.slots[base|i]
		if e := p.Load(); e != nil && e.hash == h && e.key == key {
			p.Store(nil)
		}
	}
}

// removeMatching drops every entry whose subject filter matches. Called
// with the write lock held.
func (c *matchCache[T]) removeMatching(filter string) {
	for i := range c.slots {
		p := &c.slots[i]
		if e := p.Load(); e != nil && matchLiteral(e.key, filter) {
			p.Store(nil)
		}
	}
}

// removeMatchingAny drops every entry matched by one of filters. Called
// with the write lock held.
func (c *matchCache[T]) removeMatchingAny(filters []string) {
	for i := range c.slots {
		p := &c.slots[i]
		e := p.Load()
		if e == nil {
			continue
		}
		for _, f := range filters {
			if matchLiteral(e.key, f) {
				p.Store(nil)
				break
			}
		}
	}
}

// removeAll empties the cache. Called with the write lock held.
func (c *matchCache[T]) removeAll() {
	for i := range c.slots {
		c.slots[i].Store(nil)
	}
}

func (c *matchCache[T]) hitCount() uint64 {
	var n uint64
	for i := range c.hits {
		n += c.hits[i].n.Load()
	}
	return n
}
