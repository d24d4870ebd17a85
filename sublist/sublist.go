package sublist

import (
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Sublist is a subscription trie: it maps subscription filters (with
// optional queue group names) to values of type T, and subjects to the
// values whose filters match them. It is safe for concurrent use; matches
// run in parallel with each other, writers are serialized. The zero value
// is not usable: use New or NewWithOptions.
type Sublist[T comparable] struct {
	// cache is created on the first miss (idle sublists stay small) and
	// never replaced; nil when caching is off. Its fills happen under mu's
	// read lock, its invalidations under the write lock.
	cache     atomic.Pointer[matchCache[T]]
	cacheSize int // 0: no cache

	misses atomic.Uint64 // matches not answered by the cache
	empty  *Result[T]    // shared result for no interest

	mu      sync.RWMutex
	root    level[T]
	count   int
	inserts uint64
	removes uint64
}

// Options configures a Sublist. The zero value gives the defaults.
type Options struct {
	// NoCache turns the match cache off: every Match walks the trie. With
	// the cache on, a subject's result is cached on its second miss in a
	// short while, not its first (see "What is cached" in the package doc).
	NoCache bool
	// CacheSize bounds the number of cached results; 0 means 1024, the
	// same bound as upstream. It is rounded up to a power of two, at
	// least 8. The cache is 8-way set associative: with a working set of
	// more than about half of CacheSize subjects some of them start
	// evicting each other.
	CacheSize int
}

// Sub names one subscription, for RemoveBatch.
type Sub[T comparable] struct {
	Subject string
	Queue   string
	Value   T
}

// Result is the outcome of a Match: the values of the plain subscriptions
// and the queue groups whose filters match the subject. A Result is shared:
// it may be cached and returned to other callers, so it must be treated as
// read-only. It stays valid after later inserts and removes, which build
// new results and never modify a published one. A subject with no interest
// yields a Result with nil slices.
type Result[T any] struct {
	Plain []T
	// Queues has one entry per queue group name. Members of the same group
	// matched through different filters (e.g. "foo.*" and "foo.bar") are
	// merged into one Group, as upstream does.
	Queues []Group[T]
}

// Group is a queue group in a Result. Deliver to one of its Members.
type Group[T any] struct {
	Name    string
	Members []T
}

// Stats is a snapshot of a Sublist's counters, the numbers upstream's
// /subsz monitoring endpoint reports (the JSON tags are upstream's names).
type Stats struct {
	NumSubs    int    `json:"num_subscriptions"`
	NumCache   int    `json:"num_cache"`   // cached results
	NumInserts uint64 `json:"num_inserts"` // subscriptions added
	NumRemoves uint64 `json:"num_removes"` // subscriptions removed
	NumMatches uint64 `json:"num_matches"` // Match, MatchBytes and HasInterest calls
	// CacheHitRate is the fraction of NumMatches answered from the cache.
	// A subject misses at least twice before it is cached.
	CacheHitRate float64 `json:"cache_hit_rate"`
	// MaxFanout and AvgFanout describe the cached results: the fanout of a
	// result is its number of plain subscriptions plus its number of queue
	// groups (a queue group receives one message).
	MaxFanout int     `json:"max_fanout"`
	AvgFanout float64 `json:"avg_fanout"`
}

// New returns an empty Sublist with the default match cache.
func New[T comparable]() *Sublist[T] {
	return NewWithOptions[T](Options{})
}

// NewWithOptions returns an empty Sublist configured by o.
func NewWithOptions[T comparable](o Options) *Sublist[T] {
	s := &Sublist[T]{empty: &Result[T]{}}
	if !o.NoCache {
		s.cacheSize = o.CacheSize
		if s.cacheSize <= 0 {
			s.cacheSize = defaultCacheN
		}
	}
	return s
}

// Insert adds a subscription of v to subject, a filter that may contain
// wildcards, in queue group queue ("" for a plain subscription). It returns
// ErrInvalidSubject if ValidFilter(subject) is false. Inserting a
// subscription that is already there (same subject, queue and value) does
// nothing and returns nil: each (subject, queue, value) is held once.
func (s *Sublist[T]) Insert(subject, queue string, v T) error {
	valid, literal := scanSubject(subject)
	if !valid {
		return ErrInvalidSubject
	}
	s.mu.Lock()
	n := s.root.insertPath(subject)
	if n.add(queue, v) {
		s.count++
		s.inserts++
		s.invalidate(subject, literal)
	}
	s.mu.Unlock()
	return nil
}

// insertPath returns the node for filter, creating what is missing. The
// map keys it creates are views of one private copy of filter, so the
// caller's string is not retained.
func (l *level[T]) insertPath(filter string) *node[T] {
	owned := ""
	start := 0
	for {
		end := strings.IndexByte(filter[start:], sep)
		last := end < 0
		if last {
			end = len(filter)
		} else {
			end += start
		}
		tok := filter[start:end]
		var slot **node[T]
		var n *node[T]
		switch tok {
		case "*":
			slot = &l.pwc
			n = l.pwc
		case ">":
			slot = &l.fwc
			n = l.fwc
		default:
			n = l.get(tok)
		}
		if n == nil {
			n = newNode[T](!last)
			if slot != nil {
				*slot = n
			} else {
				if owned == "" {
					owned = strings.Clone(filter)
				}
				l.put(owned[start:end], n)
			}
		}
		if last {
			return n
		}
		if n.next == nil {
			n.next = &level[T]{}
		}
		l = n.next
		start = end + 1
	}
}

// newNode allocates a node, with its next level in the same allocation when
// the node is inner.
func newNode[T comparable](inner bool) *node[T] {
	if !inner {
		// A leaf usually gets exactly one subscriber: room for it comes
		// in the same allocation.
		nv := &struct {
			n node[T]
			v [1]T
		}{}
		nv.n.plain = nv.v[:0:1]
		return &nv.n
	}
	nl := &struct {
		n node[T]
		l level[T]
	}{}
	nl.n.next = &nl.l
	return &nl.n
}

// Remove removes the subscription of v to subject in queue group queue. It
// returns ErrInvalidSubject for an invalid subject and ErrNotFound if there
// is no such subscription.
func (s *Sublist[T]) Remove(subject, queue string, v T) error {
	valid, literal := scanSubject(subject)
	if !valid {
		return ErrInvalidSubject
	}
	s.mu.Lock()
	err := s.remove(subject, queue, v)
	if err == nil {
		s.invalidate(subject, literal)
	}
	s.mu.Unlock()
	return err
}

// RemoveBatch removes many subscriptions under one lock acquisition, e.g.
// when a connection closes. It removes all it can and returns the first
// error (ErrInvalidSubject or ErrNotFound) it met, if any.
func (s *Sublist[T]) RemoveBatch(subs []Sub[T]) error {
	var first error
	s.mu.Lock()
	c := s.cache.Load()
	var wild []string
	for i := range subs {
		sub := &subs[i]
		var err error
		valid, literal := scanSubject(sub.Subject)
		if !valid {
			err = ErrInvalidSubject
		} else {
			err = s.remove(sub.Subject, sub.Queue, sub.Value)
		}
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		if c == nil || len(wild) > maxBatchWild {
			continue
		}
		if literal {
			c.remove(maphash.String(c.seed, sub.Subject), sub.Subject)
		} else {
			wild = append(wild, sub.Subject)
		}
	}
	switch {
	case len(wild) > maxBatchWild:
		c.removeAll()
	case len(wild) > 0:
		c.removeMatchingAny(wild)
	}
	s.mu.Unlock()
	return first
}

// maxBatchWild is how many wildcard filters RemoveBatch checks every cached
// subject against before it finds emptying the cache cheaper.
const maxBatchWild = 16

// remove does the work of Remove without cache invalidation. Called with
// the write lock held and a valid subject.
func (s *Sublist[T]) remove(subject, queue string, v T) error {
	type step struct {
		l   *level[T]
		tok string
		n   *node[T]
	}
	var buf [16]step
	path := buf[:0]
	l := &s.root
	for rest, more := subject, true; more; {
		var tok string
		tok, rest, more = cut(rest)
		if l == nil {
			return ErrNotFound
		}
		var n *node[T]
		switch tok {
		case "*":
			n = l.pwc
		case ">":
			n = l.fwc
		default:
			n = l.get(tok)
		}
		if n == nil {
			return ErrNotFound
		}
		path = append(path, step{l, tok, n})
		l = n.next
	}
	if !path[len(path)-1].n.remove(queue, v) {
		return ErrNotFound
	}
	s.count--
	s.removes++
	// Prune what is left empty, deepest first.
	for i := len(path) - 1; i >= 0; i-- {
		st := path[i]
		if st.n.next != nil && st.n.next.empty() {
			st.n.next = nil
		}
		if st.n.next != nil || st.n.hasSubs() {
			break
		}
		switch st.tok {
		case "*":
			st.l.pwc = nil
		case ">":
			st.l.fwc = nil
		default:
			st.l.del(st.tok)
		}
	}
	return nil
}

// invalidate drops the cached results that a change to filter affects.
// Called with the write lock held.
func (s *Sublist[T]) invalidate(filter string, literal bool) {
	c := s.cache.Load()
	if c == nil {
		return
	}
	if literal {
		c.remove(maphash.String(c.seed, filter), filter)
	} else {
		c.removeMatching(filter)
	}
}

// Match returns the subscriptions whose filters match subject. A cache hit
// takes no lock and allocates nothing; a miss allocates the Result (unless
// there is no interest) and, on the subject's second miss, a cache entry.
// The Result is shared and read-only (see Result). Tokens of subject are
// taken literally: a subject with an empty token matches nothing, and a
// "*" or ">" token in subject is only matched by wildcard filters, as
// upstream does.
func (s *Sublist[T]) Match(subject string) *Result[T] {
	if c := s.cache.Load(); c != nil {
		h := maphash.String(c.seed, subject)
		if r := c.lookup(h, subject); r != nil {
			return r
		}
		return s.matchSlow(subject, c, h)
	}
	return s.matchSlow(subject, nil, 0)
}

// MatchBytes is Match for a subject held in a byte slice, such as a view of
// a read buffer. It does not retain subject and allocates nothing on a
// cache hit.
func (s *Sublist[T]) MatchBytes(subject []byte) *Result[T] {
	if c := s.cache.Load(); c != nil {
		h := maphash.Bytes(c.seed, subject)
		if r := c.lookupBytes(h, subject); r != nil {
			return r
		}
		return s.matchSlow(bytesView(subject), c, h)
	}
	return s.matchSlow(bytesView(subject), nil, 0)
}

// bytesView returns b as a string without copying. The string must not
// outlive the call that b was passed to: matchSlow only reads it and
// copies it before the cache keeps it.
func bytesView(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// matchSlow walks the trie and, if the cache admits subject (its second
// miss in a short while), caches the result. h is subject's hash in c when
// c is not nil. subject is not retained: the cache keeps a copy.
func (s *Sublist[T]) matchSlow(subject string, c *matchCache[T], h uint64) *Result[T] {
	s.miss(c)
	var tokBuf [32]string
	toks, ok := tokenize(subject, tokBuf[:0])
	if !ok {
		return s.empty
	}
	if c == nil && s.cacheSize > 0 {
		c = s.cache.Load()
		if c == nil {
			s.cache.CompareAndSwap(nil, newMatchCache[T](s.cacheSize))
			c = s.cache.Load()
		}
		h = maphash.String(c.seed, subject)
	}
	// A subject seen once is not stored: it costs no entry, no copy and
	// no eviction. The decision needs no lock; the fill below happens
	// under the read lock, so no writer runs between computing the result
	// and storing it (see matchCache).
	admit := c != nil && c.admit(h)
	var nodeBuf [32]*node[T]
	s.mu.RLock()
	r := s.build(matchLevel(&s.root, toks, nodeBuf[:0]))
	if admit {
		c.store(h, strings.Clone(subject), r)
	}
	s.mu.RUnlock()
	return r
}

// miss counts a match that the cache c (nil if not created) did not
// answer, and ages c's doorkeeper every len(c.slots) misses.
func (s *Sublist[T]) miss(c *matchCache[T]) {
	if n := s.misses.Add(1); c != nil && n&c.mask == 0 {
		c.ageDoor()
	}
}

// tokenize appends the tokens of subject to toks. It reports false if a
// token is empty.
func tokenize(subject string, toks []string) ([]string, bool) {
	start := 0
	for i := 0; i < len(subject); i++ {
		if subject[i] == sep {
			if i == start {
				return toks, false
			}
			toks = append(toks, subject[start:i])
			start = i + 1
		}
	}
	if start >= len(subject) {
		return toks, false
	}
	return append(toks, subject[start:]), true
}

// matchLevel appends to out the nodes whose filters match toks below l.
func matchLevel[T comparable](l *level[T], toks []string, out []*node[T]) []*node[T] {
	var pwc, n *node[T]
	for i, t := range toks {
		if l == nil {
			return out
		}
		if l.fwc != nil {
			out = append(out, l.fwc)
		}
		if pwc = l.pwc; pwc != nil && pwc.next != nil && i+1 < len(toks) {
			out = matchLevel(pwc.next, toks[i+1:], out)
		}
		n = l.get(t)
		l = nil
		if n != nil {
			l = n.next
		}
	}
	if n != nil && n.hasSubs() {
		out = append(out, n)
	}
	if pwc != nil && pwc.hasSubs() {
		out = append(out, pwc)
	}
	return out
}

// hasInterest reports whether any filter below l matches toks.
func hasInterest[T comparable](l *level[T], toks []string) bool {
	var pwc, n *node[T]
	for i, t := range toks {
		if l == nil {
			return false
		}
		if l.fwc != nil && l.fwc.hasSubs() {
			return true
		}
		if pwc = l.pwc; pwc != nil && pwc.next != nil && i+1 < len(toks) {
			if hasInterest(pwc.next, toks[i+1:]) {
				return true
			}
		}
		n = l.get(t)
		l = nil
		if n != nil {
			l = n.next
		}
	}
	return (n != nil && n.hasSubs()) || (pwc != nil && pwc.hasSubs())
}

// build makes a new Result from the matched nodes.
func (s *Sublist[T]) build(nodes []*node[T]) *Result[T] {
	np, nq := 0, 0
	for _, n := range nodes {
		np += len(n.plain)
		if n.more != nil {
			nq += len(n.more.queues)
		}
	}
	if np == 0 && nq == 0 {
		return s.empty
	}
	if np == 1 && nq == 0 {
		// The most common fanout: one allocation for the result and value.
		one := &struct {
			r Result[T]
			v [1]T
		}{}
		for _, n := range nodes {
			if len(n.plain) == 1 {
				one.v[0] = n.plain[0]
			}
		}
		one.r.Plain = one.v[:]
		return &one.r
	}
	r := &Result[T]{}
	if np > 0 {
		r.Plain = s.buildPlain(nodes, np)
	}
	if nq == 0 {
		return r
	}
	r.Queues = make([]Group[T], 0, nq)
	var byName map[string]int // only for many groups: the linear search is quadratic
	if nq > 16 {
		byName = make(map[string]int, nq)
	}
	for _, n := range nodes {
		if n.more == nil {
			continue
		}
		for _, g := range n.more.queues {
			j := -1
			if byName != nil {
				if k, ok := byName[g.name]; ok {
					j = k
				}
			} else {
				for k := range r.Queues {
					if r.Queues[k].Name == g.name {
						j = k
						break
					}
				}
			}
			if j >= 0 {
				// The clipped alias (if any) makes append copy.
				r.Queues[j].Members = append(r.Queues[j].Members, g.members...)
				continue
			}
			if byName != nil {
				byName[g.name] = len(r.Queues)
			}
			// Alias the group's array (clipped, so that nobody appends
			// into it); its next remove copies first.
			g.shared.Store(true)
			r.Queues = append(r.Queues, Group[T]{Name: g.name, Members: slices.Clip(g.members)})
		}
	}
	r.Queues = slices.Clip(r.Queues)
	for i := range r.Queues {
		r.Queues[i].Members = slices.Clip(r.Queues[i].Members)
	}
	return r
}

// buildPlain returns the plain values of nodes, np in all. A large set
// from a single node is aliased instead of copied (see nodeMore).
func (s *Sublist[T]) buildPlain(nodes []*node[T], np int) []T {
	for _, n := range nodes {
		if len(n.plain) == 0 {
			continue
		}
		if len(n.plain) == np && n.more != nil && n.more.plainIdx != nil {
			n.more.plainShared.Store(true)
			return slices.Clip(n.plain)
		}
		break
	}
	plain := make([]T, 0, np)
	for _, n := range nodes {
		plain = append(plain, n.plain...)
	}
	return plain
}

// HasInterest reports whether any subscription matches subject. It is
// cheaper than Match on a cache miss because it builds no Result and stops
// at the first match; it does not fill the cache.
func (s *Sublist[T]) HasInterest(subject string) bool {
	c := s.cache.Load()
	if c != nil {
		if r := c.lookup(maphash.String(c.seed, subject), subject); r != nil {
			return len(r.Plain) > 0 || len(r.Queues) > 0
		}
	}
	s.miss(c)
	var tokBuf [32]string
	toks, ok := tokenize(subject, tokBuf[:0])
	if !ok {
		return false
	}
	s.mu.RLock()
	found := hasInterest(&s.root, toks)
	s.mu.RUnlock()
	return found
}

// Count returns the number of subscriptions.
func (s *Sublist[T]) Count() int {
	s.mu.RLock()
	n := s.count
	s.mu.RUnlock()
	return n
}

// All calls fn for every subscription, in no particular order, until fn
// returns false. It works on a snapshot taken under the read lock, so fn
// may call any method of s; changes made meanwhile are not seen.
func (s *Sublist[T]) All(fn func(subject, queue string, v T) bool) {
	type entry struct {
		subject, queue string
		v              T
	}
	s.mu.RLock()
	all := make([]entry, 0, s.count)
	var walk func(l *level[T], prefix []byte)
	visit := func(n *node[T], prefix []byte, tok string) {
		subj := append(prefix, tok...)
		if n.hasSubs() {
			str := string(subj)
			for _, v := range n.plain {
				all = append(all, entry{str, "", v})
			}
			if n.more != nil {
				for _, g := range n.more.queues {
					for _, v := range g.members {
						all = append(all, entry{str, g.name, v})
					}
				}
			}
		}
		if n.next != nil {
			walk(n.next, append(subj, sep))
		}
	}
	walk = func(l *level[T], prefix []byte) {
		l.literals(func(tok string, n *node[T]) { visit(n, prefix, tok) })
		if l.pwc != nil {
			visit(l.pwc, prefix, "*")
		}
		if l.fwc != nil {
			visit(l.fwc, prefix, ">")
		}
	}
	walk(&s.root, make([]byte, 0, 64))
	s.mu.RUnlock()
	for _, e := range all {
		if !fn(e.subject, e.queue, e.v) {
			return
		}
	}
}

// Stats returns a snapshot of the counters. It scans the cache, so it is
// meant for monitoring, not for hot paths.
func (s *Sublist[T]) Stats() Stats {
	s.mu.RLock()
	st := Stats{NumSubs: s.count, NumInserts: s.inserts, NumRemoves: s.removes}
	s.mu.RUnlock()
	var hits uint64
	if c := s.cache.Load(); c != nil {
		hits = c.hitCount()
		total := 0
		for i := range c.slots {
			e := c.slots[i].Load()
			if e == nil {
				continue
			}
			st.NumCache++
			f := len(e.res.Plain) + len(e.res.Queues)
			total += f
			st.MaxFanout = max(st.MaxFanout, f)
		}
		if st.NumCache > 0 {
			st.AvgFanout = float64(total) / float64(st.NumCache)
		}
	}
	st.NumMatches = hits + s.misses.Load()
	if st.NumMatches > 0 {
		st.CacheHitRate = float64(hits) / float64(st.NumMatches)
	}
	return st
}
