package server

import (
	"crypto/tls"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/server/snapshot"
)

// The memory budget of connections that have not authenticated (natsd's
// own; upstream has none). A client connection is unauthenticated from
// accept until its first operation is accepted: a CONNECT that
// authenticates or, where no credentials are needed (or no_auth_user
// lets it in), any other operation. Until then it is charged an estimate
// of the memory it holds (unauthBaseBytes, its read buffer and parser
// scratch, unauthTLSBytes while a TLS connection, and what its
// transport reports through PendingBytesConn), against a budget per
// connection and one for the whole server:
//
//   - a connection past its own budget is closed;
//   - while the server-wide total is past its budget, new connections
//     are refused, and the oldest unauthenticated connections are closed
//     until the total is back under 7/8 of the budget, so that the
//     server recovers at once and the newest connections, the ones
//     most likely to be real clients of a storm, get through.
//
// Both get -ERR 'maximum unauthenticated memory exceeded' and the close
// reason "Unauthenticated Memory Exceeded"; /varz counts them (section
// "unauthenticated") and the server logs a summary at most once per
// unauthLogInterval.
const (
	// unauthBaseBytes is what an idle connection costs before it has
	// sent anything, beyond its read buffer: its client struct, its two
	// goroutines' stacks, timers, the INFO queued for it. Measured with
	// 2000 silent connections (docs/configuration.md).
	unauthBaseBytes = 12 * 1024
	// unauthTLSBytes is what crypto/tls holds for a connection in or
	// just after its handshake: a full input record and the handshake
	// state.
	unauthTLSBytes = 24 * 1024
	// unauthSweepInterval is how often the transports' PendingBytes are
	// sampled while connections whose transport reports them are
	// unauthenticated (their buffering happens inside Read, out of the
	// read loop's sight).
	unauthSweepInterval = 100 * time.Millisecond
	// unauthLogInterval bounds the refusal and close reports to one per
	// interval.
	unauthLogInterval = 10 * time.Second
)

// Defaults of the unauthenticated budget: far above what a normal
// deployment's connection storms hold (about 13 KiB per plain
// connection between accept and CONNECT), far below what an attack
// with thousands of stalled or buffering connections would take.
const (
	DefaultMaxUnauthMemory     = 512 * 1024 * 1024
	DefaultMaxUnauthConnMemory = 256 * 1024
)

const errTextUnauthMemory = "maximum unauthenticated memory exceeded"

// PendingBytesConn is an optional interface of a net.Conn whose
// transport buffers data inside Read (a WebSocket connection assembling
// fragments of a message, inflating a compressed one): PendingBytes
// returns about how many bytes it holds for data not yet returned by
// Read. The core counts it against the budget of unauthenticated
// connections. It is called from another goroutine than the reader's,
// while a Read may be blocked, so it must be safe for concurrent use and
// must not wait for Read (an atomic counter the reader updates fits).
// The core looks for it on the connection handed to it and, through
// NetConn() net.Conn, on the connections it wraps.
type PendingBytesConn interface {
	PendingBytes() int
}

// pendingBytesOf finds the PendingBytesConn of nc or of a connection it
// wraps; nil when none.
func pendingBytesOf(nc net.Conn) PendingBytesConn {
	for range 4 { // wrappers nest a few levels at most
		if pb, ok := nc.(PendingBytesConn); ok {
			return pb
		}
		w, ok := nc.(interface{ NetConn() net.Conn })
		if !ok {
			return nil
		}
		if nc = w.NetConn(); nc == nil {
			return nil
		}
	}
	return nil
}

// unauthState is the server's list of unauthenticated connections,
// oldest first, and their charges.
type unauthState struct {
	mu sync.Mutex
	// head and tail of the list, linked through client.unauthPrev and
	// unauthNext (guarded by mu, as is client.unauthIn and unauthCharge).
	head, tail *client
	count      int
	// sweepers counts listed clients with a PendingBytesConn; the sweep
	// timer runs while it is not zero.
	sweepers int
	sweep    *time.Timer
	sweepOn  bool
	// bytes is the total charge of the listed clients.
	bytes int64
	// since the last report
	logRefused, logClosed uint64
	logTimer              *time.Timer

	refused atomic.Uint64 // new connections refused, ever
	closed  atomic.Uint64 // unauthenticated connections closed, ever
}

// Limits, published by applyLimits: 0 or less is no limit.
type unauthLimits struct {
	max, connMax atomic.Int64
}

// unauthMax and unauthConnMax resolve the options: 0 means the default,
// a negative value no limit.
func (o *Options) unauthMax() int64 {
	switch {
	case o.MaxUnauthMemory < 0:
		return 0
	case o.MaxUnauthMemory == 0:
		return DefaultMaxUnauthMemory
	}
	return o.MaxUnauthMemory
}

func (o *Options) unauthConnMax() int64 {
	switch {
	case o.MaxUnauthConnMemory < 0:
		return 0
	case o.MaxUnauthConnMemory == 0:
		return DefaultMaxUnauthConnMemory
	}
	return o.MaxUnauthConnMemory
}

// admitUnauth lists a new client connection as unauthenticated, or
// reports false when the server is past its budget: the caller refuses
// the connection, logs (logUnauthStart(logStart)) and closes the oldest
// listed ones (evictUnauth) once it holds no lock. It runs under
// Server.mu (unauth.mu is a leaf).
func (s *Server) admitUnauth(c *client) (admitted, logStart bool) {
	u := &s.unauth
	max := s.unauthLimits.max.Load()
	charge := int64(unauthBaseBytes + startReadBuf)
	if _, ok := c.nc.(*tls.Conn); ok {
		charge += unauthTLSBytes
	}
	c.unauthPB = pendingBytesOf(c.nc)
	c.unauthHeld.Store(startReadBuf)
	u.mu.Lock()
	if max > 0 && u.bytes+charge > max {
		u.logRefused++
		logStart = u.armLogLocked(s)
		u.mu.Unlock()
		u.refused.Add(1)
		return false, logStart
	}
	c.unauthIn = true
	c.unauthCharge = charge
	u.bytes += charge
	u.count++
	c.unauthPrev = u.tail
	if u.tail != nil {
		u.tail.unauthNext = c
	} else {
		u.head = c
	}
	u.tail = c
	if c.unauthPB != nil {
		u.sweepers++
		if !u.sweepOn {
			u.sweepOn = true
			if u.sweep == nil {
				u.sweep = time.AfterFunc(unauthSweepInterval, s.sweepUnauth)
			} else {
				u.sweep.Reset(unauthSweepInterval)
			}
		}
	}
	u.mu.Unlock()
	c.unauth = true
	return true, false
}

// removeLocked takes c off the list and returns its charge to the total.
func (u *unauthState) removeLocked(c *client) {
	if !c.unauthIn {
		return
	}
	c.unauthIn = false
	u.bytes -= c.unauthCharge
	c.unauthCharge = 0
	u.count--
	if c.unauthPrev != nil {
		c.unauthPrev.unauthNext = c.unauthNext
	} else {
		u.head = c.unauthNext
	}
	if c.unauthNext != nil {
		c.unauthNext.unauthPrev = c.unauthPrev
	} else {
		u.tail = c.unauthPrev
	}
	c.unauthPrev, c.unauthNext = nil, nil
	if c.unauthPB != nil {
		u.sweepers--
	}
}

// leaveUnauth takes c off the list: it authenticated, or it closed.
func (c *client) leaveUnauth() {
	c.unauth = false
	u := &c.srv.unauth
	u.mu.Lock()
	u.removeLocked(c)
	u.mu.Unlock()
}

// removeUnauth takes c off the list if it is there (closeWith, from any
// goroutine).
func (c *client) removeUnauth() {
	u := &c.srv.unauth
	u.mu.Lock()
	u.removeLocked(c)
	u.mu.Unlock()
}

// chargeUnauth sets c's charge to what it holds now (unauthHeld, its
// reader's part: read buffer and parser scratch; its transport's
// buffers) and enforces both budgets. It runs on c's reader after each
// batch while c is unauthenticated, and on the sweep timer for clients
// whose transport reports PendingBytes.
func (c *client) chargeUnauth() {
	s := c.srv
	charge := int64(unauthBaseBytes) + c.unauthHeld.Load()
	if _, ok := c.nc.(*tls.Conn); ok {
		charge += unauthTLSBytes
	}
	if c.unauthPB != nil {
		charge += int64(max(c.unauthPB.PendingBytes(), 0))
	}
	u := &s.unauth
	u.mu.Lock()
	if !c.unauthIn {
		u.mu.Unlock()
		return
	}
	u.bytes += charge - c.unauthCharge
	c.unauthCharge = charge
	if connMax := s.unauthLimits.connMax.Load(); connMax > 0 && charge > connMax {
		u.removeLocked(c)
		u.logClosed++
		first := u.armLogLocked(s)
		u.mu.Unlock()
		u.closed.Add(1)
		s.logUnauthStart(first)
		c.sendErrAndClose(errTextUnauthMemory, reasonUnauthMemory)
		return
	}
	over := false
	if max := s.unauthLimits.max.Load(); max > 0 && u.bytes > max {
		over = true
	}
	u.mu.Unlock()
	if over {
		s.evictUnauth()
	}
}

// evictUnauth closes the oldest unauthenticated connections until the
// total is under 7/8 of the budget.
func (s *Server) evictUnauth() {
	max := s.unauthLimits.max.Load()
	if max <= 0 {
		return
	}
	low := max - max/8
	u := &s.unauth
	var victims []*client
	u.mu.Lock()
	for u.bytes > low && u.head != nil {
		c := u.head
		u.removeLocked(c)
		victims = append(victims, c)
	}
	u.logClosed += uint64(len(victims))
	first := len(victims) > 0 && u.armLogLocked(s)
	u.mu.Unlock()
	u.closed.Add(uint64(len(victims)))
	s.logUnauthStart(first)
	for _, c := range victims {
		c.sendErrAndClose(errTextUnauthMemory, reasonUnauthMemory)
	}
}

// sweepUnauth samples the transports' buffers of the unauthenticated
// connections that report them (see PendingBytesConn), with no lock held
// while it asks them, and rearms itself while there are any.
func (s *Server) sweepUnauth() {
	select {
	case <-s.quit:
		return
	default:
	}
	u := &s.unauth
	u.mu.Lock()
	list := make([]*client, 0, u.sweepers)
	for c := u.head; c != nil; c = c.unauthNext {
		if c.unauthPB != nil {
			list = append(list, c)
		}
	}
	u.mu.Unlock()
	for _, c := range list {
		// The reader's own part (read buffer, parser) is already in the
		// charge; keep it and refresh the transport's.
		c.chargeUnauth()
	}
	u.mu.Lock()
	if u.sweepers > 0 {
		u.sweep.Reset(unauthSweepInterval)
	} else {
		u.sweepOn = false
	}
	u.mu.Unlock()
}

// armLogLocked makes sure a report of refusals and closes goes out at
// the end of the current interval; true when it starts one, and the
// caller logs the start (logUnauthStart) once it released the lock.
func (u *unauthState) armLogLocked(s *Server) bool {
	if u.logTimer != nil {
		return false
	}
	u.logTimer = time.AfterFunc(unauthLogInterval, s.logUnauth)
	return true
}

// logUnauthStart logs the first refusal or close of a period.
func (s *Server) logUnauthStart(first bool) {
	if !first {
		return
	}
	s.log.Warn("Unauthenticated connections past their memory budget (" + strconv.FormatInt(s.unauthLimits.max.Load(), 10) +
		" bytes in all, " + strconv.FormatInt(s.unauthLimits.connMax.Load(), 10) + " per connection): refusing new connections and closing the oldest")
}

// logUnauth reports the refusals and closes of the last interval, and
// stops reporting once an interval passed without any.
func (s *Server) logUnauth() {
	u := &s.unauth
	u.mu.Lock()
	refused, closed := u.logRefused, u.logClosed
	u.logRefused, u.logClosed = 0, 0
	count, bytes := u.count, u.bytes
	quiet := refused == 0 && closed == 0
	if quiet {
		u.logTimer = nil
	} else {
		u.logTimer.Reset(unauthLogInterval)
	}
	u.mu.Unlock()
	if quiet {
		return
	}
	select {
	case <-s.quit:
		return
	default:
	}
	s.log.Warn("Unauthenticated memory budget: refused " + strconv.FormatUint(refused, 10) +
		" new connection(s) and closed " + strconv.FormatUint(closed, 10) +
		" unauthenticated connection(s) in the last " + unauthLogInterval.String() +
		"; " + strconv.Itoa(count) + " unauthenticated connection(s) hold about " + strconv.FormatInt(bytes, 10) + " bytes")
}

// stopUnauth stops the timers at shutdown.
func (s *Server) stopUnauth() {
	u := &s.unauth
	u.mu.Lock()
	if u.sweep != nil {
		u.sweep.Stop()
	}
	if u.logTimer != nil {
		u.logTimer.Stop()
	}
	u.mu.Unlock()
}

// unauthVarz is the "unauthenticated" section of /varz.
func (s *Server) unauthVarz() *snapshot.UnauthenticatedVarz {
	u := &s.unauth
	u.mu.Lock()
	v := &snapshot.UnauthenticatedVarz{Connections: u.count, Bytes: u.bytes}
	u.mu.Unlock()
	v.MaxMemory = s.unauthLimits.max.Load()
	v.MaxConnMemory = s.unauthLimits.connMax.Load()
	v.Refused = u.refused.Load()
	v.Closed = u.closed.Load()
	return v
}
