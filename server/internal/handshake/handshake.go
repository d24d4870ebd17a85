// Package handshake holds the pieces of the client listener's TLS
// handshake that need nothing of the core: the connection_rate_limit
// counter and the read-ahead of handshake_first with a fallback delay.
//
// # Concurrency
//
// A RateLimiter is safe for concurrent use; its mutex is a leaf lock and
// its report runs on a timer with no lock held. A PrefixConn belongs to
// the goroutine that handshakes.
package handshake

import (
	"net"
	"sync"
	"time"
)

// RateLimiter admits at most limit TLS handshakes per second (tls {
// connection_rate_limit }) in fixed one-second windows, and reports the
// refusals once a second, as upstream's warning does.
type RateLimiter struct {
	limit  int64
	report func(blocked int64)

	mu      sync.Mutex
	end     time.Time // end of the current window
	count   int64     // admitted in the current window
	blocked int64     // refused since the last report
	timer   *time.Timer
}

// NewRateLimiter returns a limiter of limit handshakes per second; report
// gets the number refused in the last second, from a timer goroutine.
func NewRateLimiter(limit int64, report func(blocked int64)) *RateLimiter {
	return &RateLimiter{limit: limit, report: report}
}

// Limit is the number of handshakes admitted per second.
func (r *RateLimiter) Limit() int64 { return r.limit }

// Allow reports whether one more handshake may start now.
func (r *RateLimiter) Allow() bool {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.After(r.end) {
		r.end, r.count = now.Add(time.Second), 0
	}
	if r.count < r.limit {
		r.count++
		return true
	}
	r.blocked++
	if r.timer == nil {
		r.timer = time.AfterFunc(time.Second, r.flush)
	}
	return false
}

func (r *RateLimiter) flush() {
	r.mu.Lock()
	n := r.blocked
	r.blocked, r.timer = 0, nil
	r.mu.Unlock()
	if n > 0 {
		r.report(n)
	}
}

// PrefixConn replays the bytes read ahead of the TLS handshake before
// reading on from the socket.
type PrefixConn struct {
	net.Conn
	pre []byte // only the goroutine in the handshake touches it
}

// Read returns the bytes Await read ahead, then reads from the socket.
func (p *PrefixConn) Read(b []byte) (int, error) {
	if len(p.pre) > 0 {
		n := copy(b, p.pre)
		p.pre = p.pre[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}

// Await waits up to d for the client's first bytes and keeps them for
// Read. Like upstream it does not look at them: a client that sends
// anything before INFO is taken to be handshaking, and garbage fails the
// handshake.
func (p *PrefixConn) Await(d time.Duration) bool {
	buf := make([]byte, 8)
	p.Conn.SetReadDeadline(time.Now().Add(d))
	n, _ := p.Conn.Read(buf)
	p.Conn.SetReadDeadline(time.Time{})
	p.pre = buf[:n]
	return n > 0
}
