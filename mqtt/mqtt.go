package mqtt

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/server"
)

// MQTT is a running MQTT front end of a server.
type MQTT struct {
	srv *server.Server
	// opt are the options in force: Start's with the defaults filled in,
	// then each Reload's. Readers load them once per use; Reload swaps the
	// pointer and never changes what it pointed to.
	opt atomic.Pointer[Options]
	log *slog.Logger
	ln  net.Listener

	mu       sync.Mutex
	accounts map[string]*account
	conns    map[*conn]struct{}
	closed   bool
	wg       sync.WaitGroup
}

// Start starts serving MQTT for srv: it binds o.Host:o.Port (a free port
// when Port is -1) and accepts clients until Shutdown. JetStream must be
// running on srv: sessions, retained messages and QoS 1/2 messages are
// kept in streams of each client's account.
func Start(srv *server.Server, o Options) (*MQTT, error) {
	o.normalize()
	m := &MQTT{srv: srv, log: srv.Logger(), accounts: make(map[string]*account), conns: make(map[*conn]struct{})}
	m.opt.Store(&o)
	port := o.Port
	if port < 0 {
		port = 0
	}
	host := o.Host
	if host == "" {
		host = "0.0.0.0"
	}
	// MQTT has its keepalive: no TCP keepalive (three system calls less
	// per connection).
	lc := net.ListenConfig{KeepAlive: -1}
	ln, err := lc.Listen(context.Background(), "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	scheme := "mqtt"
	if o.TLSConfig != nil {
		// Each handshake takes the configuration in force, so that a
		// Reload's certificates apply to the next client.
		ln = tls.NewListener(ln, &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return m.opts().TLSConfig, nil
		}})
		scheme = "tls"
	}
	if o.TLSConfig == nil && loopSupported && !noLoop {
		// Plain TCP: the event loop accepts and serves the clients.
		if ln, err = startLoop(m, ln); err != nil {
			return nil, err
		}
	} else {
		m.wg.Add(1)
		defer func() { go m.acceptLoop() }()
	}
	m.ln = ln
	m.log.Info("Listening for MQTT clients on " + scheme + "://" + ln.Addr().String())
	return m, nil
}

// normalize fills o's defaults in, as Start and Reload use them.
func (o *Options) normalize() {
	if o.AckWait <= 0 {
		o.AckWait = DefaultAckWait
	}
	if o.MaxAckPending <= 0 {
		o.MaxAckPending = DefaultMaxAckPending
	}
	if o.MaxAckPending > 65535 {
		o.MaxAckPending = 65535
	}
	if o.JSAPITimeout <= 0 {
		o.JSAPITimeout = DefaultJSAPITimeout
	}
}

// opts are the options in force; the caller must not change them.
func (m *MQTT) opts() *Options { return m.opt.Load() }

// Addr is the listener's address.
func (m *MQTT) Addr() net.Addr { return m.ln.Addr() }

func (m *MQTT) acceptLoop() {
	defer m.wg.Done()
	var delay time.Duration
	for {
		nc, err := m.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return // closed
		}
		delay = 0
		m.ServeConn(nc)
	}
}

// ServeConn serves an MQTT client on a connection accepted elsewhere (the
// WebSocket listener's /mqtt path); it returns at once.
func (m *MQTT) ServeConn(nc net.Conn) {
	c := newConn(m, wrapConn(m, nc))
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		nc.Close()
		return
	}
	m.conns[c] = struct{}{}
	m.wg.Add(1)
	m.mu.Unlock()
	go func() {
		c.serve()
		m.ended(c)
	}()
}

// ended forgets a connection whose serving ended.
func (m *MQTT) ended(c *conn) {
	m.mu.Lock()
	delete(m.conns, c)
	m.mu.Unlock()
	m.wg.Done()
}

// noLoop turns the event loop off: every client gets a goroutine (tests
// run both ways).
var noLoop = false

// Shutdown stops accepting, closes every MQTT connection (their wills are
// not sent: the server is going away, not the client) and waits for them
// within ctx.
func (m *MQTT) Shutdown(ctx context.Context) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	conns := make([]*conn, 0, len(m.conns))
	for c := range m.conns {
		conns = append(conns, c)
	}
	accs := make([]*account, 0, len(m.accounts))
	for _, a := range m.accounts {
		accs = append(accs, a)
	}
	m.mu.Unlock()
	m.ln.Close()
	for _, c := range conns {
		c.shutdown()
	}
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	for _, a := range accs {
		a.mu.Lock()
		if a.js != nil {
			a.nakInFlight()
			a.js.close()
		}
		a.mu.Unlock()
	}
	return err
}
