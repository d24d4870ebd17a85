package server

import (
	"errors"
	"sync"
	"time"

	"natsd.dev/server/internal/mondoc"
	"natsd.dev/server/snapshot"
)

// The core's side of the system services: the services themselves ($SYS
// requests, advisories, STATSZ) live in package natsd.dev/server/sys, built
// on Attach and the exported accessors below. A program that imports
// package sys (cmd/nats-server does) gets them on every server with a
// system account; without it, $SYS requests go unanswered.

// Subjects of the system account that the core's imports name (see
// systemImports).
const (
	sysServerPing       = "$SYS.REQ.SERVER.PING"
	sysAccountPingStatz = "$SYS.REQ.ACCOUNT.PING.STATZ"
	sysAccountReqPrefix = "$SYS.REQ.ACCOUNT."
	sysUserInfo         = "$SYS.REQ.USER.INFO"
)

// SystemService is the system account's service, started by New on a
// server with a system account (see RegisterSystemService).
type SystemService interface {
	// Run serves until quit closes (the server's shutdown). Start runs it
	// on a goroutine that Shutdown waits for.
	Run(quit <-chan struct{})
	// ClientConnected and ClientDisconnected report a client's accepted
	// CONNECT and its close (after an accepted CONNECT), on the client's
	// goroutines, and the attach and close of a session of Kind
	// "Client", on the goroutines of Attach and of the close: they must
	// not block. The service owns ev. A global account client's events
	// that nobody in the system account subscribes to are not reported
	// (that account's connection count is not announced either).
	ClientConnected(ev *snapshot.ConnectEventMsg)
	ClientDisconnected(ev *snapshot.DisconnectEventMsg)
}

// ShutdownListener is an optional capability of a SystemService: Shutdown
// calls ServerShutdown once, on its own goroutine, before the listeners,
// clients and links close, so that what it publishes still reaches them
// (upstream's $SYS.SERVER.<id>.SHUTDOWN event).
type ShutdownListener interface {
	ServerShutdown()
}

// AuthErrorListener is an optional capability of a SystemService: it
// hears of every client whose CONNECT failed authentication, on the
// client's read goroutine, and must not block. ev is a client_disconnect
// advisory with reason "Authentication Failure", the client in the
// global account (upstream's $SYS.SERVER.<id>.CLIENT.AUTH.ERR); the
// service owns it.
type AuthErrorListener interface {
	ClientAuthFailed(ev *snapshot.DisconnectEventMsg)
}

var (
	sysFactoryMu sync.Mutex
	sysFactory   func(*Server) (SystemService, error)
)

// RegisterSystemService sets the function New calls, for a server with a
// system account, to attach its system service. Package sys registers
// itself when imported; a later call replaces the function.
func RegisterSystemService(attach func(*Server) (SystemService, error)) {
	sysFactoryMu.Lock()
	sysFactory = attach
	sysFactoryMu.Unlock()
}

// startSystem attaches the registered system service. It runs in New;
// Start starts its Run.
func (s *Server) startSystem() error {
	if s.sysAcc == nil {
		return nil
	}
	sysFactoryMu.Lock()
	attach := sysFactory
	sysFactoryMu.Unlock()
	if attach == nil {
		return nil
	}
	svc, err := attach(s)
	if err != nil {
		return err
	}
	s.sys = svc
	return nil
}

// runSystem runs the system service until the server shuts down.
func (s *Server) runSystem() {
	defer s.wg.Done()
	s.sys.Run(s.quit)
}

// Advisory types, as upstream names them.
const (
	connectEventType    = "io.nats.server.advisory.v1.client_connect"
	disconnectEventType = "io.nats.server.advisory.v1.client_disconnect"
)

// clientInfoLocked describes c for an advisory; c.mu is held.
func (c *client) clientInfoLocked(server string) snapshot.ClientInfo {
	start := c.start.UTC()
	ci := snapshot.ClientInfo{
		Start:      &start,
		Host:       c.host,
		ID:         c.cid,
		Account:    c.acc.Name,
		User:       c.authUser,
		Name:       c.name,
		Lang:       c.lang,
		Version:    c.version,
		Server:     server,
		NameTag:    c.acc.Name,
		Kind:       "Client",
		ClientType: "nats",
	}
	if c.ws {
		ci.ClientType = "websocket"
	}
	if c.sess != nil {
		ci.ClientType = c.sess.typ // as /connz shows it
	}
	if c.rtt > 0 {
		ci.RTT = c.rtt
	}
	return ci
}

// connectEvent reports the accepted CONNECT of c (or the attach of a
// session of Kind "Client") to the system service. It runs on c's read
// goroutine (Attach's caller for a session).
func (s *Server) connectEvent(c *client) {
	if s.sys == nil || !c.userConn() || s.connEventUnheard(c, connectSubjectG) {
		return
	}
	c.mu.Lock()
	ci := c.clientInfoLocked(s.Name())
	c.mu.Unlock()
	s.sys.ClientConnected(&snapshot.ConnectEventMsg{Type: connectEventType, Client: ci})
}

// disconnectEvent reports the close of c, after its CONNECT was accepted,
// to the system service.
func (s *Server) disconnectEvent(c *client) {
	if s.sys == nil || !c.userConn() || s.connEventUnheard(c, disconnectSubjectG) {
		return
	}
	c.mu.Lock()
	if !c.connectSeen {
		c.mu.Unlock()
		return
	}
	ci := c.clientInfoLocked(s.Name())
	stop := c.stop.UTC()
	ci.Stop = &stop
	ev := &snapshot.DisconnectEventMsg{
		Type:     disconnectEventType,
		Client:   ci,
		Sent:     snapshot.DataStats{Msgs: c.inMsgsTotal.Load(), Bytes: c.inBytesTotal.Load()},
		Received: snapshot.DataStats{Msgs: c.outMsgs, Bytes: c.outBytes},
		Reason:   c.reason.String(),
	}
	c.mu.Unlock()
	s.sys.ClientDisconnected(ev)
}

// The subjects of the global account's connect and disconnect events.
const (
	connectSubjectG    = "$SYS.ACCOUNT." + GlobalAccountName + ".CONNECT"
	disconnectSubjectG = "$SYS.ACCOUNT." + GlobalAccountName + ".DISCONNECT"
)

// connEventUnheard reports whether c's event on subject would go nowhere:
// c is in the global account, whose connection count the system service
// does not announce, and nobody in the system account subscribes to the
// subject. Such an event is neither built nor queued, so a connection
// does not wake the service's goroutine twice for nothing.
func (s *Server) connEventUnheard(c *client, subject string) bool {
	c.mu.Lock()
	acc := c.acc
	c.mu.Unlock()
	sys := s.sysAcc
	return acc != nil && acc.Name == GlobalAccountName && sys != nil && !sys.HasInterest(subject)
}

// authErrorEvent reports a CONNECT that failed authentication (err, from
// authenticate) to the system service.
func (s *Server) authErrorEvent(c *client, opts *connectOpts, err error) {
	l, ok := s.sys.(AuthErrorListener)
	var ce *closeError
	if !ok || !errors.As(err, &ce) || ce.reason != reasonAuthViolation {
		return
	}
	c.mu.Lock()
	start, stop := c.start.UTC(), time.Now().UTC()
	ci := snapshot.ClientInfo{
		Start:      &start,
		Host:       c.host,
		ID:         c.cid,
		Account:    GlobalAccountName,
		User:       opts.User,
		Name:       opts.Name,
		Lang:       opts.Lang,
		Version:    opts.Version,
		Stop:       &stop,
		NameTag:    GlobalAccountName,
		Kind:       "Client",
		ClientType: "nats",
	}
	if ci.User == "" {
		ci.User = opts.Nkey
	}
	if c.ws {
		ci.ClientType = "websocket"
	}
	if c.rtt > 0 {
		ci.RTT = c.rtt
	}
	ev := &snapshot.DisconnectEventMsg{
		Type:     disconnectEventType,
		Client:   ci,
		Sent:     snapshot.DataStats{Msgs: c.inMsgsTotal.Load(), Bytes: c.inBytesTotal.Load()},
		Received: snapshot.DataStats{Msgs: c.outMsgs, Bytes: c.outBytes},
		Reason:   reasonAuthViolation.String(),
	}
	c.mu.Unlock()
	l.ClientAuthFailed(ev)
}

// Accessors for the system service (package sys), which uses nothing
// unexported of the core.

// ErrNoAnswer is returned by a SystemResponse run function that decides,
// after looking, that the request gets no answer at all.
var ErrNoAnswer = mondoc.ErrSilent

// ErrNoClient is returned by KickClient and LameDuckClient for a connection
// id that names no client, with upstream's text.
var ErrNoClient = errors.New("no such client id")

// SystemResponse answers a $SYS request the way the monitoring requests are
// answered: req's JSON is decoded into opts (when not nil) with its event
// filter, a filter that leaves this server out gives ErrNotForUs, and
// run's result (or error) is wrapped in a snapshot.ServerAPIResponse. A run that
// returns ErrNoAnswer gives ErrNoAnswer.
func (s *Server) SystemResponse(req []byte, opts any, run func() (any, error)) ([]byte, error) {
	return s.zRequest(req, opts, run)
}

// ServerInfo is this server's part of system messages (a new sequence
// number each call).
func (s *Server) ServerInfo() *snapshot.ServerInfo { return s.serverInfo() }

// EventFiltered reports whether f leaves this server out.
func (s *Server) EventFiltered(f *snapshot.EventFilterOptions) bool { return s.filtered(f) }

// ActiveAccounts counts the accounts with a client on this server.
func (s *Server) ActiveAccounts() int { return len(s.accountCounts()) }

// HasInterest reports whether a message published in a on subject may
// reach someone (a subscription, or a stream import of it).
func (a *Account) HasInterest(subject string) bool { return a.hasInterest(subject) }

// KickClient closes the client connection cid (reason Kicked).
func (s *Server) KickClient(cid uint64) error {
	c := s.clientByID(cid)
	if c == nil {
		return ErrNoClient
	}
	s.log.Info(c.logPrefix() + " - Kicked by a system request")
	c.closeConnection(reasonKicked)
	return nil
}

// LameDuckClient tells the client connection cid that this server is
// going away (INFO with ldm true), so that it reconnects elsewhere.
func (s *Server) LameDuckClient(cid uint64) error {
	c := s.clientByID(cid)
	if c == nil {
		return ErrNoClient
	}
	s.mu.Lock()
	info := s.info
	s.mu.Unlock()
	info.LameDuckMode = true
	c.sendLameDuckInfo(info)
	return nil
}

func (s *Server) clientByID(cid uint64) *client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.clients[cid]; c != nil && c.kind == kindClient {
		return c
	}
	return nil
}
