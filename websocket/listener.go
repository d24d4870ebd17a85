package websocket

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Listener is a net.Listener that accepts WebSocket connections on top of
// an inner listener. Handshakes run in the background, one goroutine per
// connection, so a slow client never delays Accept for the others.
type Listener struct {
	inner net.Listener
	// set is the configuration new handshakes use (SetConfig replaces
	// it); each handshake loads it once.
	set atomic.Pointer[settings]

	ready      chan *Conn
	done       chan struct{}
	acceptDone chan struct{} // closed when the accept loop stopped by itself
	acceptErr  error         // why, set before acceptDone is closed
	closeOnce  sync.Once
	closeErr   error
	wg         sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	pending map[net.Conn]struct{} // connections in their handshake
}

// NewListener starts accepting connections from inner and upgrading them to
// WebSocket. For wss:// give it a listener from tls.NewListener: the TLS
// handshake then happens inside the WebSocket handshake and its timeout.
// It fails only when cfg is invalid (an AllowedOrigins entry that does not
// parse). The Listener owns inner and closes it on Close.
func NewListener(inner net.Listener, cfg Config) (*Listener, error) {
	st, err := newSettings(cfg)
	if err != nil {
		return nil, err
	}
	l := &Listener{
		inner:      inner,
		ready:      make(chan *Conn),
		done:       make(chan struct{}),
		acceptDone: make(chan struct{}),
		pending:    make(map[net.Conn]struct{}),
	}
	l.set.Store(st)
	l.wg.Add(1)
	go l.acceptLoop()
	return l, nil
}

// settings are a Config ready for handshakes: the timeout with its
// default, the allowed origins parsed.
type settings struct {
	cfg     Config
	origins []origin
	timeout time.Duration
}

func newSettings(cfg Config) (*settings, error) {
	st := &settings{cfg: cfg, timeout: cfg.HandshakeTimeout}
	if st.timeout == 0 {
		st.timeout = DefaultHandshakeTimeout
	}
	for _, s := range cfg.AllowedOrigins {
		o, err := parseOrigin(s)
		if err != nil {
			return nil, errors.New("websocket: invalid allowed origin " + s + ": " + err.Error())
		}
		st.origins = append(st.origins, o)
	}
	return st, nil
}

// SetConfig makes the handshakes that start from now on use cfg (a
// configuration reload); connections already upgraded, or upgrading,
// keep what they negotiated. It fails, changing nothing, when cfg is
// invalid, as NewListener does.
func (l *Listener) SetConfig(cfg Config) error {
	st, err := newSettings(cfg)
	if err != nil {
		return err
	}
	l.set.Store(st)
	return nil
}

// Accept waits for the next connection whose handshake succeeded and
// returns it as a *Conn. After Close it returns net.ErrClosed; if the inner
// listener failed with a permanent error it returns that error.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-l.acceptDone:
		// Hand out connections still completing their handshake first.
		select {
		case c := <-l.ready:
			return c, nil
		default:
			return nil, l.acceptErr
		}
	}
}

// Close closes the inner listener, aborts the handshakes in progress and
// waits for every goroutine of the listener to end. Connections already
// returned by Accept stay open.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() {
		close(l.done)
		l.closeErr = l.inner.Close()
		l.mu.Lock()
		l.closed = true
		for nc := range l.pending {
			nc.Close()
		}
		l.mu.Unlock()
		l.wg.Wait()
	})
	return l.closeErr
}

// Addr returns the inner listener's address.
func (l *Listener) Addr() net.Addr { return l.inner.Addr() }

func (l *Listener) acceptLoop() {
	defer l.wg.Done()
	var backoff time.Duration
	for {
		nc, err := l.inner.Accept()
		if err != nil {
			select {
			case <-l.done:
				return
			default:
			}
			var ne interface{ Temporary() bool }
			if errors.As(err, &ne) && ne.Temporary() {
				// Out of file descriptors and the like: wait, as net/http does.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				t := time.NewTimer(backoff)
				select {
				case <-t.C:
					continue
				case <-l.done:
					t.Stop()
					return
				}
			}
			l.acceptErr = err
			close(l.acceptDone)
			return
		}
		backoff = 0
		if !l.track(nc) {
			nc.Close()
			return
		}
		l.wg.Add(1)
		go l.serve(nc)
	}
}

// track registers nc as handshaking so that Close can abort it. It reports
// false once the listener is closed.
func (l *Listener) track(nc net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.pending[nc] = struct{}{}
	return true
}

func (l *Listener) untrack(nc net.Conn) {
	l.mu.Lock()
	delete(l.pending, nc)
	l.mu.Unlock()
}

func (l *Listener) serve(nc net.Conn) {
	defer l.wg.Done()
	c, err := l.handshake(nc)
	l.untrack(nc)
	if err != nil {
		nc.Close()
		select {
		case <-l.done:
			return // aborted by Close, not the client's fault
		default:
		}
		if f := l.set.Load().cfg.OnHandshakeError; f != nil {
			f(err)
		}
		return
	}
	select {
	case l.ready <- c:
	case <-l.done:
		nc.Close()
	}
}
