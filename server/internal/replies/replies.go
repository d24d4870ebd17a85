// Package replies keeps the reply subjects a server hands out for service
// requests that cross accounts ("_R_.<tag>.<random>"), each standing for
// one requester until it is answered (once, for a singleton export) or
// its threshold passes.
//
// # Concurrency
//
// A Table is safe for concurrent use; its mutex is a leaf lock, never
// held across a call out.
package replies

import (
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"time"
)

// Prefix starts the reply subjects that stand for a requester of another
// account, as upstream's. The next token names the server that holds the
// pending response: each exporting account subscribes to "_R_.<tag>.>"
// on its server, so in a cluster a response published on another server
// travels back over a route.
const Prefix = "_R_."

// IsReply reports whether subject starts with Prefix.
func IsReply(subject []byte) bool {
	return len(subject) > len(Prefix) && string(subject[:len(Prefix)]) == Prefix
}

// Table holds the pending replies of one exporting account; T says where
// the answers go. The zero Table is empty and ready.
type Table[T any] struct {
	mu        sync.Mutex
	m         map[string]*entry[T]
	lastSweep time.Time
}

type entry[T any] struct {
	to      T
	single  bool
	expires time.Time
}

// Add records a pending reply that leads to to for ttl (forgotten after
// the first answer when single) and returns its subject, under this
// server's tag. Expired entries are swept at most once a second.
func (r *Table[T]) Add(tag string, to T, single bool, ttl time.Duration) string {
	now := time.Now()
	subj := NewSubject(tag)
	r.mu.Lock()
	if r.m == nil {
		r.m = make(map[string]*entry[T])
	}
	if now.Sub(r.lastSweep) > time.Second {
		r.lastSweep = now
		for k, p := range r.m {
			if now.After(p.expires) {
				delete(r.m, k)
			}
		}
	}
	r.m[subj] = &entry[T]{to: to, single: single, expires: now.Add(ttl)}
	r.mu.Unlock()
	return subj
}

// Take returns where an answer on subj goes (ok false when nothing is
// pending there), and forgets subj when it allows a single answer or has
// expired.
func (r *Table[T]) Take(subj string) (to T, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.m[subj]
	if p == nil {
		return to, false
	}
	if time.Now().After(p.expires) {
		delete(r.m, subj)
		return to, false
	}
	if p.single {
		delete(r.m, subj)
	}
	return p.to, true
}

// Range calls fn with each pending reply that has not expired, in no
// particular order, until fn returns false. fn runs under the Table's
// mutex: it must not call the Table.
func (r *Table[T]) Range(fn func(subj string, to T) bool) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for subj, p := range r.m {
		if now.After(p.expires) {
			continue
		}
		if !fn(subj, p.to) {
			return
		}
	}
}

// Remove forgets subj.
func (r *Table[T]) Remove(subj string) {
	r.mu.Lock()
	delete(r.m, subj)
	r.mu.Unlock()
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewSubject returns "_R_.<tag>." and a random base62 token.
func NewSubject(tag string) string {
	b := make([]byte, 0, len(Prefix)+len(tag)+1+10)
	b = append(append(append(b, Prefix...), tag...), '.')
	x := rand.Uint64()
	for range 10 {
		b = append(b, base62[x%62])
		x /= 62
	}
	return string(b)
}

// Tag derives the reply subject token of a server from its ID.
func Tag(id string) string {
	h := fnv.New64a()
	h.Write([]byte(id))
	x := h.Sum64()
	b := make([]byte, 6)
	for i := range b {
		b[i] = base62[x%62]
		x /= 62
	}
	return string(b)
}
