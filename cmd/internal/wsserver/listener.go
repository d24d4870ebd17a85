package wsserver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"natsd.dev/server"
	"natsd.dev/server/snapshot"
	"natsd.dev/websocket"
)

// Listener is a running WebSocket listener of a server. The server owns
// it: Shutdown closes it. While it runs it contributes the websocket
// section of /varz; the section goes when the listener closes, except in
// lame duck mode, which closes the listener only to refuse new clients
// before the server shuts down.
type Listener struct {
	ln     *websocket.Listener
	secure bool
	s      *server.Server
	cl     *connListener

	// vmu guards varz alone: the registry calls contributeVarz, and mu is
	// held while registering.
	vmu  sync.Mutex
	varz snapshot.WebsocketOptsVarz // the /varz section
	// tlsConfig is the TLS configuration new wss:// handshakes use
	// (SetTLSConfig replaces it); nil for ws://.
	tlsConfig *atomic.Pointer[tls.Config]

	mu         sync.Mutex
	o          Options // the options in force (Reload)
	registered bool    // the varz section is on the registry
	closed     bool    // the server closed the listener
	lameDuck   bool    // the server entered lame duck mode
	unlameDuck func()  // removes the lame duck listener
}

// Start serves NATS clients of s over WebSocket as o says: it binds the
// listener, adds TLS unless o.TLSConfig is nil (then o.NoTLS must be
// set), and hands the upgraded connections to s (server.ServeWebsocket)
// until s shuts down. Put it in server.Options.OnStart to have it start
// with the server, before the client listener, as nats-server does. It
// fails when o is invalid, when the address cannot be bound (a
// *server.ListenError), when s has a WebSocket listener already or after
// Shutdown.
func Start(s *server.Server, o Options) (*Listener, error) {
	if o.Port == 0 {
		return nil, fmt.Errorf("%w: websocket port not set", server.ErrBadOptions)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.Host == "" {
		o.Host = server.DefaultHost
	}
	o.Endpoints = maps.Clone(o.Endpoints) // the listener's own
	port := max(o.Port, 0)
	addr := net.JoinHostPort(o.Host, strconv.Itoa(port))
	inner, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &listenError{server.ListenError{Addr: addr, Err: err}}
	}
	port = inner.Addr().(*net.TCPAddr).Port
	scheme := "ws"
	secure := o.TLSConfig != nil
	var tlsConfig *atomic.Pointer[tls.Config]
	if secure {
		scheme = "wss"
		// Each handshake takes the configuration in force, so that
		// SetTLSConfig applies to the next client.
		tlsConfig = new(atomic.Pointer[tls.Config])
		tlsConfig.Store(o.TLSConfig)
		inner = tls.NewListener(inner, &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return tlsConfig.Load(), nil
		}})
	}
	wl, err := websocket.NewListener(inner, wsConfig(s, o, secure))
	if err != nil {
		inner.Close()
		return nil, fmt.Errorf("%w: %w", server.ErrBadOptions, err)
	}
	o.Port = port
	l := &Listener{ln: wl, secure: secure, s: s, tlsConfig: tlsConfig, o: o, varz: varzOf(o, secure)}
	cl := &connListener{Listener: wl, onClose: l.stopped, endpoints: o.Endpoints, leaf: o.Leaf,
		maxPayload: func() int64 { return int64(s.Options().MaxPayload) },
		noLeaf:     func() { s.Logger().Error("Not configured to accept leaf node connections") }}
	cl.cookies.Store(cookiesOf(o))
	l.cl = cl
	if err := s.ServeWebsocket(cl, server.WebsocketInfo{ConnectURLs: connectURLs(o, port)}); err != nil {
		wl.Close()
		return nil, err
	}
	l.register()
	log := s.Logger()
	log.Info("Listening for websocket clients on " + scheme + "://" + net.JoinHostPort(o.Host, strconv.Itoa(port)))
	if !secure {
		log.Warn("Websocket not configured with TLS. DO NOT USE IN PRODUCTION!")
	}
	return l, nil
}

// wsConfig is the websocket.Config of o.
func wsConfig(s *server.Server, o Options, secure bool) websocket.Config {
	return websocket.Config{
		SameOrigin:       o.SameOrigin,
		AllowedOrigins:   o.AllowedOrigins,
		Compression:      o.Compression,
		HandshakeTimeout: o.HandshakeTimeout,
		Subprotocols:     subprotocols(o.Endpoints),
		CheckRequest:     checkEndpoint(o.Endpoints),
		AllowNoMasking:   isLeaf,
		OnHandshakeError: func(err error) { logHandshakeError(s, err, secure) },
	}
}

// varzOf is the websocket section of /varz for o (bound port).
func varzOf(o Options, secure bool) snapshot.WebsocketOptsVarz {
	return snapshot.WebsocketOptsVarz{
		Host:             o.Host,
		Port:             o.Port,
		Advertise:        o.Advertise,
		NoAuthUser:       o.NoAuthUser,
		HandshakeTimeout: o.HandshakeTimeout,
		NoTLS:            !secure,
		SameOrigin:       o.SameOrigin,
		AllowedOrigins:   slices.Clone(o.AllowedOrigins),
		Compression:      o.Compression,
		TLSCertNotAfter:  server.TLSCertNotAfter(o.TLSConfig),
	}
}

func cookiesOf(o Options) *cookieNames {
	return &cookieNames{user: o.UsernameCookie, pass: o.PasswordCookie, token: o.TokenCookie}
}

// ErrReloadUnsupported is returned (wrapped) by Reload for a change it
// cannot apply to the running listener.
var ErrReloadUnsupported = errors.New("wsserver: config reload not supported")

// Reload applies a new websocket {} block to the running listener, for
// the handshakes that start from now on: tls {} (certificates, CA,
// verification; see SetTLSConfig), same_origin, allowed_origins,
// compression, handshake_timeout and the user, pass and token cookies.
// Connections up keep what they negotiated. Upstream 2.15.2 reloads the
// TLS certificates only; the others are safe for new connections alone,
// so natsd reloads them too. Any other difference (the address, advertise,
// no_tls and TLS on or off, jwt_cookie, no_auth_user, authorization, the
// endpoints) is refused with an error wrapping ErrReloadUnsupported, and
// nothing changes.
func (l *Listener) Reload(o Options) error {
	if o.Host == "" {
		o.Host = server.DefaultHost
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := l.o
	if (o.TLSConfig == nil) != (cur.TLSConfig == nil) {
		return fmt.Errorf("%w: %w", ErrReloadUnsupported, ErrTLSOnOff)
	}
	if o.Host != cur.Host || (o.Port != cur.Port && o.Port != -1) || o.Advertise != cur.Advertise || o.NoTLS != cur.NoTLS ||
		o.JWTCookie != cur.JWTCookie || o.NoAuthUser != cur.NoAuthUser || o.Authorization != nil || cur.Authorization != nil {
		return fmt.Errorf("%w: only tls, same_origin, allowed_origins, compression, handshake_timeout and the cookies reload", ErrReloadUnsupported)
	}
	o.Port, o.Endpoints, o.Leaf = cur.Port, cur.Endpoints, cur.Leaf
	if err := l.ln.SetConfig(wsConfig(l.s, o, l.secure)); err != nil {
		return err
	}
	if o.TLSConfig != nil {
		l.tlsConfig.Store(o.TLSConfig)
	}
	l.cl.cookies.Store(cookiesOf(o))
	l.o = o
	l.vmu.Lock()
	l.varz = varzOf(o, l.secure)
	l.vmu.Unlock()
	return nil
}

// ErrTLSOnOff is returned by SetTLSConfig when the configuration would
// turn TLS on or off: the scheme (ws:// or wss://) is fixed at Start.
var ErrTLSOnOff = errors.New("wsserver: turning TLS on or off needs a restart")

// SetTLSConfig makes the wss:// handshakes that start from now on use c,
// as a configuration reload of the websocket block's tls {} does
// upstream (new certificates, CA, verification); connections already up
// keep their session. c must not be changed afterwards. A ws:// listener
// cannot take one, nor a wss:// listener a nil one (ErrTLSOnOff).
func (l *Listener) SetTLSConfig(c *tls.Config) error {
	if (c == nil) != (l.tlsConfig == nil) {
		return ErrTLSOnOff
	}
	if c != nil {
		l.tlsConfig.Store(c)
	}
	return nil
}

// varzSection is the section of /varz a Listener contributes.
const varzSection = "websocket"

// register contributes the websocket section of /varz and listens for
// lame duck mode, unless the server closed the listener already.
func (l *Listener) register() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.s.RegisterVarz(varzSection, server.VarzFunc(l.contributeVarz))
	l.registered = true
	l.unlameDuck = l.s.AddLameDuckListener(func() {
		l.mu.Lock()
		l.lameDuck = true
		l.mu.Unlock()
	})
}

// stopped runs when the server closes the listener: the varz section
// goes, unless the server is in lame duck mode (it shuts down next, and
// /varz still describes the listener meanwhile, as upstream's does).
func (l *Listener) stopped() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	if !l.registered {
		return
	}
	l.unlameDuck()
	if !l.lameDuck {
		l.s.RegisterVarz(varzSection, nil)
	}
}

// contributeVarz is the websocket section of /varz: the listener's
// settings as it runs (the bound port, not -1).
func (l *Listener) contributeVarz(v *snapshot.Varz) {
	l.vmu.Lock()
	defer l.vmu.Unlock()
	v.Websocket = l.varz
	v.Websocket.AllowedOrigins = slices.Clone(l.varz.AllowedOrigins)
}

// Addr returns the listener's address.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// TLS reports whether the listener serves wss://.
func (l *Listener) TLS() bool { return l.secure }

// URL returns a ws:// or wss:// URL that reaches the listener; an
// unspecified listen address is reached on 127.0.0.1.
func (l *Listener) URL() string {
	addr := l.ln.Addr().(*net.TCPAddr)
	host := "127.0.0.1"
	if !addr.IP.IsUnspecified() {
		host = addr.IP.String()
	}
	scheme := "ws"
	if l.secure {
		scheme = "wss"
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// listenError is a ListenError with upstream's websocket wording.
type listenError struct{ server.ListenError }

func (e *listenError) Error() string {
	return "Unable to listen for websocket connections: " + e.Err.Error()
}

func (e *listenError) Unwrap() error { return &e.ListenError }

// connectURLs is what INFO's ws_connect_urls says: the advertised address
// if any; otherwise nothing, as for connect_urls of a lone server.
func connectURLs(o Options, port int) []string {
	if o.Advertise == "" {
		return nil
	}
	adv := o.Advertise
	if _, _, err := net.SplitHostPort(adv); err != nil {
		adv = net.JoinHostPort(adv, strconv.Itoa(port))
	}
	return []string{adv}
}

// cookieNames are the cookies that stand for CONNECT credentials.
type cookieNames struct{ user, pass, token string }

// subprotocols are the Sec-WebSocket-Protocol values of the endpoints.
func subprotocols(eps map[string]Endpoint) []string {
	var out []string
	for _, ep := range eps {
		if ep.Subprotocol != "" && !slices.Contains(out, ep.Subprotocol) {
			out = append(out, ep.Subprotocol)
		}
	}
	slices.Sort(out)
	return out
}

// checkEndpoint refuses with 404 the upgrades on the path of an endpoint
// that serves nothing; nil when there is none.
func checkEndpoint(eps map[string]Endpoint) func(*http.Request) error {
	refused := false
	for _, ep := range eps {
		refused = refused || ep.Serve == nil
	}
	if !refused {
		return nil
	}
	return func(r *http.Request) error {
		if ep, ok := eps[r.URL.Path]; ok && ep.Serve == nil {
			return &websocket.HandshakeError{Status: http.StatusNotFound, Reason: ep.Refusal}
		}
		return nil
	}
}

// isLeaf reports whether r upgrades a leaf node connection: its path
// starts with LeafPath, as upstream tells them apart. Leaf nodes alone
// may ask for no masking (websocket.NoMaskingHeader).
func isLeaf(r *http.Request) bool {
	return r.URL != nil && strings.HasPrefix(r.URL.EscapedPath(), LeafPath)
}

// connListener hands the server each connection upgraded for NATS as a
// conn, those upgraded on an endpoint's path to the endpoint and leaf
// nodes to leaf.
type connListener struct {
	*websocket.Listener
	cookies    atomic.Pointer[cookieNames] // Reload replaces them
	onClose    func()
	endpoints  map[string]Endpoint // read-only
	leaf       func(net.Conn)      // nil: leaf connections refused
	noLeaf     func()              // logs a refused leaf connection
	maxPayload func() int64        // the server's max_payload in force
}

// Close closes the listener and tells the Listener it stopped.
func (l *connListener) Close() error {
	err := l.Listener.Close()
	l.onClose()
	return err
}

func (l *connListener) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		wc, ok := nc.(*websocket.Conn)
		if !ok {
			return nc, nil
		}
		// A compressed message may inflate to max_payload (as upstream
		// allows) and is refused with 1009 as soon as it passes it; one
		// read when the connection comes follows a reload.
		maxMsg := l.maxPayload()
		c := &conn{Conn: wc, cookies: l.cookies.Load()}
		if req := wc.Request(); req != nil && isLeaf(req) {
			// A leaf node flushes batches of messages as one WebSocket
			// message: the transport's default cap, not max_payload.
			wc.SetMaxMessageSize(0)
			if l.leaf == nil {
				l.noLeaf()
				wc.Close()
				continue
			}
			l.leaf(c)
			continue
		}
		if req := wc.Request(); req != nil && len(l.endpoints) > 0 {
			if ep, ok := l.endpoints[req.URL.Path]; ok && ep.Serve != nil {
				wc.SetMaxMessageSize(maxMsg + ep.MessageOverhead)
				ep.Serve(c)
				continue
			}
		}
		wc.SetMaxMessageSize(maxMsg)
		return c, nil
	}
}

// conn is a WebSocket connection as the server sees it: a
// server.TransportConn and server.CredentialsConn. The embedded
// *websocket.Conn brings WriteBuffers (one frame per outbound batch),
// NetConn (the TLS state for /connz) and PendingBytes (what the transport
// holds for a message being read, for the budget of connections that have
// not authenticated).
type conn struct {
	*websocket.Conn
	cookies *cookieNames
}

// Transport implements server.TransportConn.
func (c *conn) Transport() string { return server.TransportWebsocket }

// Credentials implements server.CredentialsConn: the values of the
// cookies the websocket block names, from the upgrade request.
func (c *conn) Credentials() (user, password, token string) {
	req := c.Request()
	if req == nil {
		return "", "", ""
	}
	get := func(name string) string {
		if name == "" {
			return ""
		}
		if ck, err := req.Cookie(name); err == nil {
			return ck.Value
		}
		return ""
	}
	return get(c.cookies.user), get(c.cookies.pass), get(c.cookies.token)
}

// logHandshakeError logs a failed upgrade as upstream does: a rejected
// request is an error naming the client and the reason; a failed TLS
// handshake is an error too; a client that went away or timed out before
// sending a request is only worth a debug line.
func logHandshakeError(s *server.Server, err error, secure bool) {
	log := s.Logger()
	var he *websocket.HandshakeError
	if !errors.As(err, &he) {
		log.Error("websocket: " + err.Error())
		return
	}
	addr := "?"
	if he.RemoteAddr != nil {
		addr = he.RemoteAddr.String()
	}
	if he.Status != 0 {
		log.Error(addr + " - websocket handshake error: " + he.Reason)
		return
	}
	cause := he.Reason
	if he.Err != nil {
		cause = he.Err.Error()
	}
	var ne net.Error
	quiet := he.Err == nil || errors.Is(he.Err, io.EOF) || errors.Is(he.Err, io.ErrUnexpectedEOF) ||
		errors.Is(he.Err, net.ErrClosed) || (errors.As(he.Err, &ne) && ne.Timeout())
	switch {
	case secure && !quiet:
		log.Error("websocket: TLS handshake error from " + addr + ": " + cause)
	default:
		log.Debug(addr + " - websocket handshake error: " + cause)
	}
}
