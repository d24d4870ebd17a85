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
// A key hashes to two sets of 8 slots and a preferred way; it is looked up
// in the first set, then the second, each from the preferred way, so a hit
// is usually one load.
// Readers (cache hits) take no lock. Fills happen on a miss while holding
// the Sublist's read lock, so they never overlap with a writer; invalidation
// happens under the write lock. Hence a result that is stored was computed
// from the trie as it is until the next writer, and that writer removes it
// if it is affected. The table never grows: when both sets are full a slot
// is evicted, which bounds memory without a sweeper goroutine.
//
// A wildcard insert or remove must find every cached subject its filter
// matches. Dereferencing all entries costs a cache miss or two each, so
// each slot also has a signature word (see signature): the scan reads the
// contiguous signatures and only looks at entries whose signature admits
// the filter. Fills OR their signature in (two fills racing on one slot
// leave a superset, never a miss); the scan, which runs under the write
// lock with no fill in progress, resets or tightens them.
//
// Admission: many subjects are matched once and never again (JetStream
// ack subjects, "$JS.ACK.<stream>.<consumer>.<n>.<seq>...", fresh reply
// inboxes). Storing them would cost an entry and a copy of the subject
// each and evict hot entries for nothing, so a miss stores its result
// only when the subject was already seen recently. A doorkeeper remembers
// the subjects seen: a Bloom filter of 32 bits per cache slot, split in
// 64-bit words; a key sets two bits of one word, chosen by its hash. A
// miss whose bits are all set admits its key, otherwise it sets them.
// Every mask+1 misses the filter is cleared, which is how it ages with no
// sweeper: a key is admitted when its second miss comes before the next
// clearing. Keys only add bits, so two keys can never keep each other out
// (a table of fingerprints, where one overwrites the other, can: two hot
// subjects alternating on one index would never be admitted); a false
// positive admits a key early, which is harmless; with at most mask+1
// keys in 32*(mask+1) bits it happens to about one first sight in 500
// (measured, averaged between clearings). The doorkeeper holds no
// results, so it needs no invalidation: what it admits is computed by the
// fill as before.

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
	sigs  []atomic.Uint64 // per slot: OR of signatures stored since the last scan
	hits  [cacheStripes]paddedCounter
	evict atomic.Uint64 // rotates the victim way of full sets
	// door is the doorkeeper's Bloom filter (see admit), 32 bits per slot.
	door     []atomic.Uint64
	doorMask uint64 // len(door)-1
}

func newMatchCache[T comparable](size int) *matchCache[T] {
	n := cacheWays
	for n < size {
		n <<= 1
	}
	return &matchCache[T]{
		seed:     maphash.MakeSeed(),
		mask:     uint64(n - 1),
		slots:    make([]atomic.Pointer[cacheEntry[T]], n),
		sigs:     make([]atomic.Uint64, n),
		door:     make([]atomic.Uint64, n/2),
		doorMask: uint64(n/2 - 1),
	}
}

// admit reports whether a key with hash h that missed should be stored:
// whether it was seen since the doorkeeper was last cleared. Otherwise it
// records the key, so that its next miss admits it. It takes no lock;
// races with other misses or with ageDoor lose a sighting or admit early,
// both harmless.
func (c *matchCache[T]) admit(h uint64) bool {
	w := &c.door[(h>>12)&c.doorMask]
	bits := uint64(1)<<(h&63) | uint64(1)<<((h>>6)&63)
	if w.Load()&bits == bits {
		return true
	}
	w.Or(bits)
	return false
}

// ageDoor clears the doorkeeper. The Sublist calls it every mask+1
// misses, so a key must miss twice within about that many misses to be
// admitted.
func (c *matchCache[T]) ageDoor() {
	for i := range c.door {
		c.door[i].Store(0)
	}
}

// sets returns the first slots of the two sets where key with hash h may
// live. Two choices make conflict evictions rare even when the working set
// approaches the capacity; they can coincide, which is harmless.
func (c *matchCache[T]) sets(h uint64) (uint64, uint64) {
	return h & c.mask &^ (cacheWays - 1), (h >> 32) & c.mask &^ (cacheWays - 1)
}

// lookup returns the cached result for key, whose hash is h, or nil.
func (c *matchCache[T]) lookup(h uint64, key string) *Result[T] {
	b1, b2 := c.sets(h)
	for _, base := range [2]uint64{b1, b2} {
		for i := range uint64(cacheWays) {
			e := c.slots[base|((h+i)&(cacheWays-1))].Load()
			if e != nil && e.hash == h && e.key == key {
				c.hits[h%cacheStripes].n.Add(1)
				return e.res
			}
		}
	}
	return nil
}

// lookupBytes is lookup for a key held in a byte slice.
func (c *matchCache[T]) lookupBytes(h uint64, key []byte) *Result[T] {
	b1, b2 := c.sets(h)
	for _, base := range [2]uint64{b1, b2} {
		for i := range uint64(cacheWays) {
			e := c.slots[base|((h+i)&(cacheWays-1))].Load()
			if e != nil && e.hash == h && e.key == string(key) {
				c.hits[h%cacheStripes].n.Add(1)
				return e.res
			}
		}
	}
	return nil
}

// store publishes res for key. Called with the Sublist's read lock held.
func (c *matchCache[T]) store(h uint64, key string, res *Result[T]) {
	e := &cacheEntry[T]{hash: h, key: key, res: res}
	sig := signature(key)
	b1, b2 := c.sets(h)
	for _, base := range [2]uint64{b1, b2} {
		for i := range uint64(cacheWays) {
			j := base | ((h + i) & (cacheWays - 1))
			if c.slots[j].CompareAndSwap(nil, e) {
				c.sigs[j].Or(sig)
				return
			}
		}
	}
	r := c.evict.Add(1)
	base := b1
	if r&cacheWays != 0 {
		base = b2
	}
	j := base | ((h + r) & (cacheWays - 1))
	c.slots[j].Store(e)
	c.sigs[j].Or(sig)
}

// remove drops every entry for key (concurrent fills may have stored it
// twice). Called with the write lock held.
func (c *matchCache[T]) remove(h uint64, key string) {
	// A slot whose signature lacks key's bits cannot hold it: reading the
	// contiguous signatures saves dereferencing up to 16 entries.
	var sig uint64 // computed on the first slot that was ever filled
	b1, b2 := c.sets(h)
	for _, base := range [2]uint64{b1, b2} {
		for i := range uint64(cacheWays) {
			slotSig := c.sigs[base|i].Load()
			if slotSig == 0 {
				continue // nothing stored here since the last reset
			}
			if sig == 0 {
				sig = signature(key)
			}
			if slotSig&sig != sig {
				continue
			}
			p := &c.slots[base|i]
			if e := p.Load(); e != nil && e.hash == h && e.key == key {
				p.Store(nil)
				c.sigs[base|i].Store(0) // no fill runs under the write lock
			}
		}
	}
}

// removeMatching drops every entry whose subject filter matches. Called
// with the write lock held.
func (c *matchCache[T]) removeMatching(filter string) {
	need, counts := filterSignature(filter)
	for i := range c.slots {
		sig := c.sigs[i].Load()
		if sig&need != need || sig&counts == 0 {
			continue // no subject stored here since the last scan can match
		}
		p := &c.slots[i]
		e := p.Load()
		switch {
		case e == nil:
			c.sigs[i].Store(0)
		case matchLiteral(e.key, filter):
			p.Store(nil)
			c.sigs[i].Store(0)
		default:
			c.sigs[i].Store(signature(e.key))
		}
	}
}

// removeMatchingAny drops every entry matched by one of filters. Called
// with the write lock held.
func (c *matchCache[T]) removeMatchingAny(filters []string) {
	for _, f := range filters {
		c.removeMatching(f)
	}
}

// removeAll empties the cache. Called with the write lock held.
func (c *matchCache[T]) removeAll() {
	for i := range c.slots {
		c.slots[i].Store(nil)
		c.sigs[i].Store(0)
	}
}

func (c *matchCache[T]) hitCount() uint64 {
	var n uint64
	for i := range c.hits {
		n += c.hits[i].n.Load()
	}
	return n
}

// A signature summarizes a subject in 64 bits: the low 8 bits say how many
// tokens it has (bit k for k+1 tokens, bit 7 for 8 or more) and the other
// 56 bits are a one-bit-per-token Bloom filter of (position, token) pairs.
// A filter can only match a subject whose signature has all the bits of
// the filter's literal tokens and one of the token counts it allows.

const sigCountBits = 8

func tokenBit(pos int, tok string) uint64 {
	h := uint32(2166136261) ^ uint32(pos)*0x9e3779b1
	for i := 0; i < len(tok); i++ {
		h ^= uint32(tok[i])
		h *= 16777619
	}
	return 1 << (sigCountBits + (h>>8)%(64-sigCountBits))
}

func countBit(n int) uint64 {
	return 1 << (min(n, sigCountBits) - 1)
}

// signature returns the signature of a literal subject.
func signature(subject string) uint64 {
	var sig uint64
	n := 0
	for rest, more := subject, true; more; n++ {
		var tok string
		tok, rest, more = cut(rest)
		sig |= tokenBit(n, tok)
	}
	return sig | countBit(n)
}

// filterSignature returns the token bits a subject must have to match
// filter and the token counts it may have.
func filterSignature(filter string) (need, counts uint64) {
	n := 0
	for rest, more := filter, true; more; n++ {
		var tok string
		tok, rest, more = cut(rest)
		switch tok {
		case ">":
			// n+1 or more tokens.
			return need, ^(countBit(n+1) - 1) & (1<<sigCountBits - 1)
		case "*":
		default:
			need |= tokenBit(n, tok)
		}
	}
	return need, countBit(n)
}
