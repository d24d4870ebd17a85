//go:build linux

package mqtt

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"natsd.dev/mqtt/internal/packet"
	"natsd.dev/server"
)

// The event loop serves plain TCP clients on Linux: one goroutine holds an
// epoll set of their sockets (level-triggered), waits for it in the
// runtime's poller (the set's descriptor is readable when a socket is) and
// handles what arrived, so that a client's accept, CONNECT, pings and
// DISCONNECT cost no goroutine start, no goroutine wake-up of their own
// and no runtime timer (the loop checks keepalives every loopTick). Its
// socket calls never block and skip entersyscall (loop_sys_linux.go).
//
// A connection leaves the loop for a goroutine of its own, for good and
// with what it had buffered, at its first PUBLISH, SUBSCRIBE or
// UNSUBSCRIBE (a goroutine woken by the runtime's poller for its socket
// alone answers a stream of packets sooner than a loop behind a second
// epoll), and at any step that may wait: credentials to check, a will, a
// persistent session, a client id in use, an account not set up yet, a
// socket that does not take what is written. It is then served as a TLS
// or WebSocket client is, through a runtime net.Conn on a duplicate of the
// socket (loopConn.inner).

const (
	loopSupported = true
	// loopBatch bounds the packets the loop handles for one connection
	// before it turns to the others; the rest waits for the next round
	// (epoll, level-triggered, reports a socket that holds more; the
	// packets already read wait in loop.again).
	loopBatch = 64
	// loopTick is how often the loop checks keepalives and CONNECT
	// deadlines.
	loopTick = 250 * time.Millisecond
	// loopPendingMax bounds what a connection still served by the loop
	// holds for a socket that did not take it.
	loopPendingMax = 1 << 20
)

var errLoopClosed = errors.New("mqtt: connection closed")

// loop is the event loop of one listener.
type loop struct {
	m    *MQTT
	ep   int // epoll
	epf  *os.File
	rc   syscall.RawConn // epf's
	lfd  int             // the listening socket; -1 once closed
	addr net.Addr
	wr   int // wake pipe, write end
	rd   int // wake pipe, read end

	mu     sync.Mutex
	woken  []*conn     // connections to look at: kicked, closing, pending output
	stop   bool        // the listener is closed
	done   atomic.Bool // stop seen: the loop ends once it holds no connection
	wakeUp atomic.Bool
	gone   chan struct{} // closed when the listener is

	conns    map[int]*conn // the loop's own: only its goroutine uses it
	again    []*conn       // to serve again before waiting: packets left buffered
	again2   []*conn       // again's other array
	lastScan time.Time
	paused   time.Time // accept paused (out of descriptors) until then
}

// startLoop takes ln's socket over for an event loop and returns the
// listener Start keeps (Addr and Close; it accepts nothing itself).
func startLoop(m *MQTT, ln net.Listener) (net.Listener, error) {
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return nil, errors.New("mqtt: not a TCP listener")
	}
	f, err := tl.File()
	if err != nil {
		return nil, err
	}
	lfd, err := syscall.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		return nil, err
	}
	l := &loop{m: m, lfd: lfd, addr: ln.Addr(), conns: make(map[int]*conn), gone: make(chan struct{}), ep: -1, rd: -1, wr: -1}
	// The runtime's poller forgets the socket when ln closes; the loop's
	// copy stays open, polled only by the loop.
	ln.Close()
	fail := func(err error) (net.Listener, error) {
		l.closeFDs()
		return nil, err
	}
	syscall.CloseOnExec(lfd)
	if err := syscall.SetNonblock(lfd, true); err != nil {
		return fail(err)
	}
	if l.ep, err = syscall.EpollCreate1(syscall.EPOLL_CLOEXEC); err != nil {
		return fail(err)
	}
	// The loop waits for its epoll descriptor in the runtime's poller, as
	// a goroutine waits for a socket: no thread blocks in a system call.
	syscall.SetNonblock(l.ep, true)
	l.epf = os.NewFile(uintptr(l.ep), "mqtt-epoll")
	if l.rc, err = l.epf.SyscallConn(); err != nil {
		return fail(err)
	}
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		return fail(err)
	}
	l.rd, l.wr = p[0], p[1]
	for _, fd := range []int{l.lfd, l.rd} {
		if err := syscall.EpollCtl(l.ep, syscall.EPOLL_CTL_ADD, fd, &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fd)}); err != nil {
			return fail(err)
		}
	}
	m.wg.Add(1)
	go l.run()
	return &loopListener{l: l}, nil
}

func (l *loop) closeFDs() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.epf != nil {
		l.epf.Close()
		l.epf, l.ep = nil, -1
	}
	for _, fd := range []*int{&l.lfd, &l.ep, &l.rd, &l.wr} {
		if *fd >= 0 {
			syscall.Close(*fd)
			*fd = -1
		}
	}
}

// loopListener is the loop's listener as Start keeps it.
type loopListener struct{ l *loop }

// Accept waits until the listener closes: the loop accepts.
func (ln *loopListener) Accept() (net.Conn, error) {
	<-ln.l.gone
	return nil, net.ErrClosed
}

// Close stops accepting.
func (ln *loopListener) Close() error {
	l := ln.l
	l.mu.Lock()
	if l.stop {
		l.mu.Unlock()
		return nil
	}
	l.stop = true
	close(l.gone)
	l.mu.Unlock()
	l.kick()
	return nil
}

func (ln *loopListener) Addr() net.Addr { return ln.l.addr }

// wake asks the loop to look at c.
func (l *loop) wake(c *conn) {
	l.mu.Lock()
	l.woken = append(l.woken, c)
	l.mu.Unlock()
	l.kick()
}

func (l *loop) kick() {
	if l.wakeUp.CompareAndSwap(false, true) {
		b := [1]byte{1}
		l.mu.Lock()
		if l.wr >= 0 {
			syscall.Write(l.wr, b[:])
		}
		l.mu.Unlock()
	}
}

func (l *loop) run() {
	defer l.m.wg.Done()
	evs := make([]syscall.EpollEvent, 128)
	var n int
	var err error
	poll := func(uintptr) bool {
		var e syscall.Errno
		n, e = rawEpollPoll(l.ep, evs)
		if e != 0 && e != syscall.EINTR {
			err = e
		} else {
			err = nil
		}
		// Connections with packets left in their reader are served
		// again without waiting: epoll reports sockets, not buffers.
		return n != 0 || err != nil || len(l.again) > 0
	}
	// A ticker wakes the loop for its keepalive and CONNECT deadlines.
	stopTick := make(chan struct{})
	defer close(stopTick)
	go func() {
		t := time.NewTicker(loopTick)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				l.kick()
			case <-stopTick:
				return
			}
		}
	}()
	for {
		if rerr := l.rc.Read(poll); rerr != nil {
			err = rerr
		}
		if err != nil && err != syscall.EINTR {
			l.m.log.Error("MQTT: event loop", "error", err)
			time.Sleep(10 * time.Millisecond)
		}
		now := time.Now()
		for i := 0; i < n; i++ {
			switch fd := int(evs[i].Fd); fd {
			case l.lfd:
				l.accept(now)
			case l.rd:
				if l.woke(now) {
					return
				}
			default:
				if c := l.conns[fd]; c != nil {
					c.lastRead = now
					l.serve(c)
				}
			}
		}
		if len(l.again) > 0 {
			again := l.again
			l.again = l.again2[:0]
			for _, c := range again {
				c.lc.again = false
				if l.conns[c.lc.fd] == c {
					l.serve(c)
				}
			}
			clear(again)
			l.again2 = again[:0]
		}
		if now.Sub(l.lastScan) >= loopTick {
			l.lastScan = now
			l.scan(now)
		}
		if l.done.Load() && len(l.conns) == 0 {
			l.closeFDs()
			return
		}
	}
}

// woke handles the wake pipe; it reports true when the loop is done.
func (l *loop) woke(now time.Time) bool {
	var b [64]byte
	for {
		if n, _ := syscall.Read(l.rd, b[:]); n <= 0 {
			break
		}
	}
	l.wakeUp.Store(false)
	l.mu.Lock()
	woken := l.woken
	l.woken = nil
	stop := l.stop
	l.mu.Unlock()
	for _, c := range woken {
		if l.conns[c.lc.fd] != c {
			continue // left the loop meanwhile
		}
		switch {
		case c.kicked.Load() || c.closing.Load():
			l.fail(c, os.ErrDeadlineExceeded)
		case c.live && c.lc.needHandoff.Load():
			l.handoff(c, 0, 0, nil, false)
		}
	}
	if stop && l.lfd >= 0 {
		syscall.EpollCtl(l.ep, syscall.EPOLL_CTL_DEL, l.lfd, nil)
		syscall.Close(l.lfd)
		l.lfd = -1
		l.done.Store(true)
	}
	if stop && len(l.conns) == 0 {
		l.closeFDs()
		return true
	}
	return false
}

// accept takes the connections waiting in the backlog.
func (l *loop) accept(now time.Time) {
	for range loopBatch {
		fd, raddr, err := rawAccept(l.lfd)
		if err != 0 {
			switch err {
			case syscall.EAGAIN, syscall.EINTR, syscall.ECONNABORTED:
			default:
				// Out of descriptors: the backlog waits (the listener would
				// stay readable and keep the loop spinning).
				l.m.log.Error("MQTT: accept", "error", err)
				syscall.EpollCtl(l.ep, syscall.EPOLL_CTL_DEL, l.lfd, nil)
				l.paused = now.Add(100 * time.Millisecond)
			}
			return
		}
		lc := &loopConn{l: l, fd: fd, raddr: raddr}
		c := newConn(l.m, lc)
		lc.c, c.lc = c, lc
		c.r = packet.NewReader(loopReader{lc}, 512)
		c.r.SetMax(preAuthMax)
		c.lastRead = now
		c.deadline = now.Add(l.m.connectTimeout())
		l.m.mu.Lock()
		if l.m.closed {
			l.m.mu.Unlock()
			rawClose(fd)
			continue
		}
		l.m.conns[c] = struct{}{}
		l.m.wg.Add(1)
		l.m.mu.Unlock()
		if rawEpollCtl(l.ep, syscall.EPOLL_CTL_ADD, fd, syscall.EPOLLIN|syscall.EPOLLRDHUP) != 0 {
			lc.Close()
			lc.release(false)
			l.m.ended(c)
			continue
		}
		l.conns[fd] = c
		l.serve(c) // the CONNECT may be there already
	}
}

// scan ends the connections whose CONNECT or keepalive is late.
func (l *loop) scan(now time.Time) {
	if !l.paused.IsZero() && now.After(l.paused) {
		l.paused = time.Time{}
		if l.lfd >= 0 {
			syscall.EpollCtl(l.ep, syscall.EPOLL_CTL_ADD, l.lfd, &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(l.lfd)})
		}
	}
	for _, c := range l.conns {
		switch {
		case !c.live && now.After(c.deadline):
			l.fail(c, os.ErrDeadlineExceeded)
		case c.live && c.ka > 0 && now.Sub(c.lastRead) > c.ka:
			l.fail(c, os.ErrDeadlineExceeded)
		}
	}
}

// serve reads and handles what c sent, up to loopBatch packets; a
// connection that may have more buffered is served again in the next
// round.
func (l *loop) serve(c *conn) {
	full := true
	for range loopBatch {
		typ, flags, body, err := c.r.Next()
		if err == packet.ErrWouldBlock {
			full = false
			break
		}
		if err != nil {
			l.fail(c, err)
			return
		}
		if !c.live {
			if typ != packet.CONNECT {
				l.fail(c, io.EOF)
				return
			}
			if !l.connect(c, body) {
				return
			}
			continue
		}
		if typ == packet.PUBLISH || typ == packet.SUBSCRIBE || typ == packet.UNSUBSCRIBE {
			// Traffic: a goroutine reads it with the runtime's poller,
			// which wakes it for its socket alone (no second epoll),
			// and a subscription or a retained message may wait for
			// JetStream.
			c.flush()
			l.handoff(c, typ, flags, body, true)
			return
		}
		if !c.handle(typ, flags, body) {
			l.finish(c, true)
			return
		}
	}
	c.flush()
	if c.lc.needHandoff.Load() {
		l.handoff(c, 0, 0, nil, false)
		return
	}
	if full && !c.lc.again {
		// The reader may hold whole packets the socket no longer has:
		// epoll would not report the connection for them.
		c.lc.again = true
		l.again = append(l.again, c)
	}
}

// connect handles c's CONNECT; it reports false when c left the loop.
func (l *loop) connect(c *conn, body []byte) bool {
	cp, ok := c.decodeConnect(body)
	if !ok {
		l.finish(c, false)
		return false
	}
	if cp.Will != nil || !cp.CleanStart || cp.Props.SessionExpiry > 0 || cp.HasUsername || cp.HasPassword || l.m.mayCallout() {
		// A persistent session, a will, credentials to check (bcrypt, a
		// callout, which may ask about a client without any too): all of
		// it on a goroutine.
		l.leave(c, func() {
			if c.attach(cp) && c.bind(cp, false) == bindDone {
				c.connected()
				c.readLoop()
				c.cleanup()
			}
		})
		return false
	}
	if !c.attach(cp) {
		l.finish(c, false)
		return false
	}
	switch c.bind(cp, true) {
	case bindDone:
		c.live = true
		c.connected()
		return true
	case bindFailed:
		l.finish(c, false)
		return false
	}
	l.leave(c, func() {
		if c.bind(cp, false) == bindDone {
			c.connected()
			c.readLoop()
			c.cleanup()
		}
	})
	return false
}

// mayCallout reports whether authentication may ask a service (an auth
// callout, or an account's in operator mode) and so wait.
func (m *MQTT) mayCallout() bool {
	if m.srv.Trust() != nil {
		return true
	}
	o := m.srv.Options()
	return o.Authorization != nil && o.Authorization.Callout != nil
}

// fail ends c after a read error (or a timeout, a takeover, the shutdown).
func (l *loop) fail(c *conn, err error) {
	if !c.live {
		c.lc.mu.Lock()
		c.lc.ending = true
		c.lc.mu.Unlock()
		c.nc.Close()
		l.finish(c, false)
		return
	}
	c.readFailed(err)
	l.finish(c, true)
}

// finish ends c on the loop: its session is cleaned up when it had one.
func (l *loop) finish(c *conn, cleanup bool) {
	delete(l.conns, c.lc.fd)
	c.lc.mu.Lock()
	c.lc.ending = true
	c.lc.mu.Unlock()
	if cleanup {
		c.cleanup()
	}
	c.lc.release(false)
	close(c.done)
	l.m.ended(c)
}

// handoff moves a live c to a goroutine, which first handles the packet
// the loop stopped at (when have).
func (l *loop) handoff(c *conn, typ, flags byte, body []byte, have bool) {
	l.leave(c, func() {
		if have {
			if !c.handle(typ, flags, body) {
				c.cleanup()
				return
			}
			if !c.r.Buffered() {
				c.flush()
			}
		}
		c.readLoop()
		c.cleanup()
	})
}

// leave moves c to a goroutine of its own that runs fn.
func (l *loop) leave(c *conn, fn func()) {
	delete(l.conns, c.lc.fd)
	if !c.lc.release(true) {
		// Closed meanwhile: what the client sent last is not handled.
		if c.live {
			c.readFailed(io.EOF)
			c.cleanup()
		}
		close(c.done)
		l.m.ended(c)
		return
	}
	c.r.SetSource(deadlineReader{c})
	go func() {
		switch {
		case !c.lc.hasPending():
		case c.sess != nil:
			// Through the session, as any write, with the server's
			// write deadline: a socket that does not take it in time
			// closes the connection as a slow consumer, logged with
			// the bytes it attempted. Nothing else writes the
			// connection before: it has no subscription yet (a
			// SUBSCRIBE moves it first, a persistent session is bound
			// on this goroutine).
			c.sess.Write(c.lc.takePending())
		default:
			if err := c.lc.flushPending(); err != nil {
				c.nc.Close()
			}
		}
		fn()
		close(c.done)
		l.m.ended(c)
	}()
}

// loopReader reads a loop connection's socket without blocking.
type loopReader struct{ lc *loopConn }

// Read reads what the socket holds. A read that did not fill p emptied
// the socket's queue: the next Read reports ErrWouldBlock without a
// system call (epoll, level-triggered, reports the socket again if more
// came meanwhile).
func (r loopReader) Read(p []byte) (int, error) {
	if r.lc.drained {
		r.lc.drained = false
		return 0, packet.ErrWouldBlock
	}
	for {
		n, err := rawRead(r.lc.fd, p)
		switch {
		case err == syscall.EAGAIN:
			return 0, packet.ErrWouldBlock
		case err == syscall.EINTR:
			continue
		case err != 0:
			return 0, err
		case n > 0:
			r.lc.drained = n < len(p)
			return n, nil
		}
		return 0, io.EOF
	}
}

// loopConn is the net.Conn of a client the loop accepted, as its server
// session writes it. While the loop serves the connection it writes the
// socket without blocking; what the socket does not take waits in
// pending and the connection leaves the loop. Once it left, a runtime
// net.Conn on a duplicate of the socket (inner) does the I/O.
type loopConn struct {
	l     *loop
	c     *conn
	fd    int
	raddr *net.TCPAddr

	wmu sync.Mutex // one writer at a time, pending first

	mu          sync.Mutex // the fields below; held for raw writes and close(fd)
	inner       net.Conn   // after the connection left the loop
	off         bool       // the loop no longer polls fd
	closed      bool       // Close was called
	fdClosed    bool       // fd closed, or left to linger, which closes it: no raw call on it
	pending     []byte
	ending      bool // the loop ends the connection: it closes fd itself
	drained     bool // the loop's: the last read emptied the socket
	again       bool // the loop's: in loop.again
	rdl, wdl    time.Time
	iov         net.Buffers
	rc          syscall.RawConn // inner's
	rfn         func(uintptr) bool
	rp          []byte // Read's buffer, for rfn
	rn          int    // rfn's results
	re          syscall.Errno
	needHandoff atomic.Bool
}

// release takes fd out of the loop's poll set. With handoff it makes
// inner for a goroutine and reports false when the connection is closed
// already; otherwise fd closes once Close is called (or now, if it was).
func (lc *loopConn) release(handoff bool) bool {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if !lc.off {
		lc.off = true
		if !lc.closed || handoff {
			// (Closing the only descriptor of the socket takes it out of
			// the poll set.)
			rawEpollCtl(lc.l.ep, syscall.EPOLL_CTL_DEL, lc.fd, 0)
		}
	}
	if handoff && !lc.closed {
		nc, err := lc.dupConn()
		if err == nil {
			if lc.rc, err = nc.(syscall.Conn).SyscallConn(); err == nil {
				lc.inner = nc
				lc.rfn = lc.readFn
				if !lc.rdl.IsZero() {
					nc.SetReadDeadline(lc.rdl)
				}
				return true
			}
			nc.Close()
		}
		lc.l.m.log.Warn("MQTT: could not move a connection off the event loop", "error", err)
		lc.closed = true
	}
	if lc.closed && !lc.fdClosed {
		lc.fdClosed = true
		rawClose(lc.fd)
	}
	return false
}

// dupConn makes a runtime net.Conn on a duplicate of fd.
func (lc *loopConn) dupConn() (net.Conn, error) {
	fd, err := syscall.Dup(lc.fd)
	if err != nil {
		return nil, err
	}
	syscall.CloseOnExec(fd)
	f := os.NewFile(uintptr(fd), "mqtt")
	defer f.Close()
	return net.FileConn(f)
}

// hasPending reports whether bytes wait for the socket.
func (lc *loopConn) hasPending() bool {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	return len(lc.pending) > 0
}

// takePending hands what waits for the socket to the caller, which writes
// it next.
func (lc *loopConn) takePending() []byte {
	lc.wmu.Lock()
	defer lc.wmu.Unlock()
	lc.mu.Lock()
	defer lc.mu.Unlock()
	p := lc.pending
	lc.pending = nil
	return p
}

// flushPending writes, on the goroutine the connection moved to, what the
// socket had not taken while the loop served it.
func (lc *loopConn) flushPending() error {
	lc.wmu.Lock()
	defer lc.wmu.Unlock()
	return lc.flushPendingLocked()
}

func (lc *loopConn) flushPendingLocked() error {
	lc.mu.Lock()
	p, inner, wdl := lc.pending, lc.inner, lc.wdl
	lc.pending = nil
	lc.mu.Unlock()
	if len(p) == 0 || inner == nil {
		return nil
	}
	// A session's write sets its deadline first; without one, the
	// server's.
	if now := time.Now(); !wdl.After(now) {
		wdl = now.Add(lc.l.m.writeDeadline())
	}
	inner.SetWriteDeadline(wdl)
	_, err := inner.Write(p)
	lc.mu.Lock()
	inner.SetWriteDeadline(lc.wdl)
	lc.mu.Unlock()
	return err
}

func (lc *loopConn) Write(b []byte) (int, error) {
	lc.wmu.Lock()
	defer lc.wmu.Unlock()
	lc.mu.Lock()
	if lc.inner == nil {
		n, err := lc.writeRawLocked(b)
		lc.mu.Unlock()
		return n, err
	}
	inner, closed := lc.inner, lc.closed
	lc.mu.Unlock()
	if closed {
		return 0, errLoopClosed
	}
	if err := lc.flushPendingLocked(); err != nil {
		return 0, err
	}
	// The socket first, without blocking (nor a runtime timer for the
	// deadline); the runtime's connection waits for room for the rest.
	lc.mu.Lock()
	if lc.fdClosed {
		lc.mu.Unlock()
		return 0, errLoopClosed
	}
	total := len(b)
	for len(b) > 0 {
		n, err := rawWrite(lc.fd, b)
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			break
		}
		if err != 0 {
			lc.mu.Unlock()
			return total - len(b), err
		}
		b = b[n:]
	}
	wdl := lc.wdl
	lc.mu.Unlock()
	if len(b) == 0 {
		return total, nil
	}
	inner.SetWriteDeadline(wdl)
	n, err := inner.Write(b)
	return total - len(b) + n, err
}

// WriteBuffers writes a batch (the session's writer): with one writev
// once the connection left the loop.
func (lc *loopConn) WriteBuffers(v [][]byte) (int64, error) {
	lc.wmu.Lock()
	defer lc.wmu.Unlock()
	lc.mu.Lock()
	if lc.inner == nil {
		var total int64
		for _, b := range v {
			n, err := lc.writeRawLocked(b)
			total += int64(n)
			if err != nil {
				lc.mu.Unlock()
				return total, err
			}
		}
		lc.mu.Unlock()
		return total, nil
	}
	inner, closed := lc.inner, lc.closed
	lc.mu.Unlock()
	if closed {
		return 0, errLoopClosed
	}
	if err := lc.flushPendingLocked(); err != nil {
		return 0, err
	}
	lc.mu.Lock()
	wdl := lc.wdl
	lc.mu.Unlock()
	inner.SetWriteDeadline(wdl)
	lc.iov = v
	n, err := lc.iov.WriteTo(inner)
	lc.iov = nil
	return n, err
}

// writeRawLocked writes b to the socket without blocking; what it does
// not take goes to pending and the loop is asked to move the connection
// to a goroutine. lc.mu is held.
func (lc *loopConn) writeRawLocked(b []byte) (int, error) {
	if lc.closed || lc.fdClosed {
		return 0, errLoopClosed
	}
	total := len(b)
	if len(lc.pending) == 0 {
		for len(b) > 0 {
			n, err := rawWrite(lc.fd, b)
			if err == syscall.EINTR {
				continue
			}
			if err == syscall.EAGAIN {
				break
			}
			if err != 0 {
				return total - len(b), err
			}
			b = b[n:]
		}
		if len(b) == 0 {
			return total, nil
		}
	}
	if len(lc.pending)+len(b) > loopPendingMax {
		return total - len(b), errLoopClosed
	}
	lc.pending = append(lc.pending, b...)
	if !lc.needHandoff.Swap(true) {
		lc.l.wake(lc.c)
	}
	return total, nil
}

// Read is used once the connection left the loop.
// It waits in the runtime's poller (with the read deadline) and reads
// without entersyscall.
func (lc *loopConn) Read(p []byte) (int, error) {
	lc.mu.Lock()
	rc, closed := lc.rc, lc.closed
	lc.mu.Unlock()
	if rc == nil || closed {
		return 0, errLoopClosed
	}
	lc.rp = p
	err := rc.Read(lc.rfn)
	lc.rp = nil
	switch {
	case err != nil:
		return 0, err
	case lc.re != 0:
		return 0, lc.re
	case lc.rn == 0 && len(p) > 0:
		return 0, io.EOF
	}
	return lc.rn, nil
}

// readFn is Read's call back: false (wait) when the socket is empty.
func (lc *loopConn) readFn(fd uintptr) bool {
	for {
		n, e := rawRead(int(fd), lc.rp)
		if e == syscall.EINTR {
			continue
		}
		if e == syscall.EAGAIN {
			return false
		}
		lc.rn, lc.re = n, e
		return true
	}
}

// Close closes the connection. While the loop polls it, the socket is
// shut down (the loop sees the end and lets it go); otherwise it closes,
// after a linger when the peer sent bytes not read yet.
func (lc *loopConn) Close() error {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if lc.closed {
		return nil
	}
	lc.closed = true
	if lc.inner != nil {
		if !lc.fdClosed && rawUnread(lc.fd) {
			lc.fdClosed = true // no raw write from now on: linger closes fd
			// Shutdown waits for it too (the connection is still
			// counted in wg while it closes, so the count is not zero).
			m := lc.l.m
			m.wg.Add(1)
			go func() {
				defer m.wg.Done()
				linger(lc.inner)
				rawClose(lc.fd)
			}()
			return nil
		}
		lc.inner.Close()
	}
	if lc.off {
		if !lc.fdClosed {
			lc.fdClosed = true
			rawClose(lc.fd)
		}
		return nil
	}
	if !lc.ending {
		// Wakes the loop, which lets fd go.
		rawShutdown(lc.fd)
	}
	return nil
}

// writeDeadline is the server's write deadline.
func (m *MQTT) writeDeadline() time.Duration {
	if d := m.srv.Options().WriteDeadline; d > 0 {
		return d
	}
	return server.DefaultWriteDeadline
}

func (lc *loopConn) LocalAddr() net.Addr  { return lc.l.addr }
func (lc *loopConn) RemoteAddr() net.Addr { return lc.raddr }

func (lc *loopConn) SetDeadline(t time.Time) error {
	lc.SetReadDeadline(t)
	return lc.SetWriteDeadline(t)
}

// SetReadDeadline: while the loop serves the connection only a deadline
// now or past means something (a takeover, the shutdown): the loop is
// woken to end it. The loop keeps the keepalive itself.
func (lc *loopConn) SetReadDeadline(t time.Time) error {
	lc.mu.Lock()
	lc.rdl = t
	inner, off, closed := lc.inner, lc.off, lc.closed
	lc.mu.Unlock()
	if closed {
		return nil // (a linger keeps its own)
	}
	if inner != nil {
		return inner.SetReadDeadline(t)
	}
	if !off && !t.IsZero() && !t.After(time.Now()) {
		lc.l.wake(lc.c)
	}
	return nil
}

// SetWriteDeadline is kept for the writes that have to wait (a runtime
// timer is set only then).
func (lc *loopConn) SetWriteDeadline(t time.Time) error {
	lc.mu.Lock()
	lc.wdl = t
	lc.mu.Unlock()
	return nil
}

// onLoop reports whether the loop serves the connection now.
func (lc *loopConn) onLoop() bool {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	return !lc.off
}
