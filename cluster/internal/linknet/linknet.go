// Package linknet is the dial/accept layer the cluster module's link kinds
// (routes now; gateways and leaf nodes later) share: a Group owns one
// kind's goroutines (the accept loops of its listeners, its dial loops and
// one goroutine per connection), dials through an injectable Dialer, and
// stops them all with Shutdown(ctx).
//
// # Usage
//
//  1. NewGroup(kind, log) when the kind starts; Context and Done tell the
//     kind's loops when to stop.
//  2. Serve(ln, handle) on the kind's listener (it blocks: run it with Go);
//     handle runs on a goroutine of its own per accepted connection and
//     owns it.
//  3. Go(f) for every other goroutine (dial loops, reconnects); it refuses
//     once Shutdown began, so nothing starts behind it.
//  4. Dial(d, addr) dials with the group's context, so Shutdown aborts a
//     dial in progress; Sleep(d) waits between attempts or until Shutdown.
//  5. Track(nc) a connection still in its handshake (no link yet), so
//     that shutdown closes it; Untrack it once its link owns it.
//  6. Shutdown(ctx) closes the listeners and tracked connections, cancels
//     the context and waits for every goroutine (or ctx). The kind closes its connections between
//     Close and Wait, which Shutdown does in one step.
//
// # Concurrency
//
// A Group is safe for concurrent use. Timers are the standard library's,
// so tests run the loops under testing/synctest.
package linknet

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"natsd.dev/server"
)

// ErrClosed is returned by Serve and Dial once Shutdown began.
var ErrClosed = errors.New("cluster: closed")

// Dialer opens outbound connections; *net.Dialer and *tls.Dialer fit, and
// tests pass net.Pipe or failing dials.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Group owns one link kind's goroutines and listeners.
type Group struct {
	kind   string
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
	lns    map[net.Listener]struct{}
	raw    map[net.Conn]struct{} // connections without a link yet
}

// NewGroup returns a running group for the link kind named kind ("route":
// it names the kind in log lines); log nil discards.
func NewGroup(kind string, log *slog.Logger) *Group {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Group{kind: kind, log: log, ctx: ctx, cancel: cancel, lns: make(map[net.Listener]struct{}), raw: make(map[net.Conn]struct{})}
}

// Context is canceled when Shutdown begins.
func (g *Group) Context() context.Context { return g.ctx }

// Done is closed when Shutdown begins.
func (g *Group) Done() <-chan struct{} { return g.ctx.Done() }

// Closed reports whether Shutdown began.
func (g *Group) Closed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closed
}

// Go runs f on a goroutine Shutdown waits for, and reports whether it did:
// not once Shutdown began.
func (g *Group) Go(f func()) bool {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return false
	}
	g.wg.Add(1)
	g.mu.Unlock()
	go func() {
		defer g.wg.Done()
		f()
	}()
	return true
}

// Serve accepts connections on ln until ln fails or Shutdown, handing each
// to handle on a goroutine of its own; temporary accept errors back off
// (server.AcceptLoop). Shutdown closes ln. Serve returns ErrClosed after
// Shutdown, else the reason ln stopped (net.ErrClosed when its owner
// closed it).
func (g *Group) Serve(ln net.Listener, handle func(net.Conn)) error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		ln.Close()
		return ErrClosed
	}
	g.lns[ln] = struct{}{}
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.lns, ln)
		g.mu.Unlock()
	}()
	server.AcceptLoop(ln, g.kind, g.log, g.ctx.Done(), func(nc net.Conn) {
		if !g.Go(func() { handle(nc) }) {
			nc.Close()
		}
	})
	if g.Closed() {
		return ErrClosed
	}
	return net.ErrClosed
}

// Track records a connection that has no link yet (in its TLS or
// protocol handshake), so that Close closes it. Once Close began it closes
// nc and reports false. Untrack it when its link takes it over or it is
// done.
func (g *Group) Track(nc net.Conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		nc.Close()
		return false
	}
	g.raw[nc] = struct{}{}
	return true
}

// Untrack forgets a connection Track recorded.
func (g *Group) Untrack(nc net.Conn) {
	g.mu.Lock()
	delete(g.raw, nc)
	g.mu.Unlock()
}

// Dial connects to address over TCP through d, aborted by Shutdown.
func (g *Group) Dial(d Dialer, address string) (net.Conn, error) {
	if g.ctx.Err() != nil {
		return nil, ErrClosed
	}
	return d.DialContext(g.ctx, "tcp", address)
}

// Sleep waits d and reports true, or false when Shutdown began first.
func (g *Group) Sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-g.ctx.Done():
		return false
	}
}

// Close begins shutdown: no goroutine starts after it, the context is
// canceled, the listeners and the tracked connections close. It reports
// whether this call began it.
func (g *Group) Close() bool {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return false
	}
	g.closed = true
	lns := make([]net.Listener, 0, len(g.lns))
	for ln := range g.lns {
		lns = append(lns, ln)
	}
	raw := make([]net.Conn, 0, len(g.raw))
	for nc := range g.raw {
		raw = append(raw, nc)
	}
	clear(g.raw)
	g.mu.Unlock()
	g.cancel()
	for _, ln := range lns {
		ln.Close()
	}
	for _, nc := range raw {
		nc.Close()
	}
	return true
}

// Wait waits for the group's goroutines, or until ctx ends (then it
// returns ctx's error; the goroutines still end on their own).
func (g *Group) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		g.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown is Close then Wait.
func (g *Group) Shutdown(ctx context.Context) error {
	g.Close()
	return g.Wait(ctx)
}

// ReadLoop feeds what rd reads, 64 KiB at a time at most (as upstream
// reads inter-server links), to parse until rd fails or parse does: each
// read marks the link active (Touch) and ends a delivery batch (EndBatch)
// after it is parsed. A parse failure goes to parseErr, which answers the
// peer and closes; a read failure closes the link as the peer's doing.
func ReadLoop(rd io.Reader, link *server.Link, parse func([]byte) error, parseErr func(error)) {
	buf := make([]byte, 64*1024)
	for {
		n, err := rd.Read(buf)
		if n > 0 {
			link.Touch()
			perr := parse(buf[:n])
			link.EndBatch()
			if perr != nil {
				parseErr(perr)
				return
			}
		}
		if err != nil {
			link.Close(server.LinkClientClosed)
			return
		}
	}
}
