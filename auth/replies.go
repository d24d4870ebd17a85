package auth

import (
	"sync"
	"time"
)

// MaxReplies bounds the reply subjects a Replies tracks. Past it, Add
// first forgets expired and used-up replies, then arbitrary ones.
const MaxReplies = 4096

// Replies implements allow_responses for one connection: the server calls
// Add for each message with a reply subject it delivers to the
// connection, and Allow when the connection publishes to a subject its
// Checker denies. It is safe for concurrent use (deliveries come from
// other connections' goroutines); times are passed in so that the caller
// reads the clock once per operation and tests control it.
type Replies struct {
	max     int
	expires time.Duration

	mu sync.Mutex
	m  map[string]reply
}

type reply struct {
	left     int   // responses still allowed; negative: unlimited
	deadline int64 // UnixNano after which none is; 0: never
}

// NewReplies returns an empty tracker for rp, or nil when rp is nil; a
// nil *Replies allows nothing.
func NewReplies(rp *ResponsePermission) *Replies {
	if rp == nil {
		return nil
	}
	return &Replies{max: rp.MaxMsgs, expires: rp.Expires, m: map[string]reply{}}
}

// Add records that a message with reply subject subject was delivered at
// now. subject is copied.
func (r *Replies) Add(subject []byte, now time.Time) {
	if r == nil || len(subject) == 0 {
		return
	}
	e := reply{left: r.max}
	if r.max == 0 {
		e.left = DefaultResponseMaxMsgs
	}
	if r.expires > 0 {
		e.deadline = now.Add(r.expires).UnixNano()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.m[string(subject)]; !ok && len(r.m) >= MaxReplies {
		r.pruneLocked(now.UnixNano())
	}
	r.m[string(subject)] = e
}

// pruneLocked drops expired and used-up replies, and then as many others
// as needed to make room for one more.
func (r *Replies) pruneLocked(now int64) {
	for k, e := range r.m {
		if e.left == 0 || (e.deadline != 0 && now > e.deadline) {
			delete(r.m, k)
		}
	}
	for k := range r.m {
		if len(r.m) < MaxReplies {
			break
		}
		delete(r.m, k)
	}
}

// Allow reports whether publishing to subject at now is a permitted
// response, and if so counts it. It allocates nothing.
func (r *Replies) Allow(subject []byte, now time.Time) bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.m[string(subject)]
	if !ok {
		return false
	}
	if e.deadline != 0 && now.UnixNano() > e.deadline {
		delete(r.m, string(subject))
		return false
	}
	if e.left > 0 {
		e.left--
		if e.left == 0 {
			delete(r.m, string(subject))
			return true
		}
		r.m[string(subject)] = e
	}
	return true
}

// Len returns the number of reply subjects tracked, for monitoring.
func (r *Replies) Len() int {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.m)
}
