package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"time"

	"natsd.dev/server/snapshot"
	"natsd.dev/websocket"
)

// WebsocketOptions configure the WebSocket listener, the websocket {}
// block of a configuration file. A zero Port means no listener.
//
// The authentication settings (cookies, no_auth_user, authorization) are
// carried for the day the server authenticates clients; until then
// StartWebsocket refuses the ones that would change who may connect
// (Authorization, JWTCookie, NoAuthUser) rather than ignore them.
type WebsocketOptions struct {
	// Host and Port are the listener address. Host "" means DefaultHost;
	// Port RandomPort (-1) picks a free port; 0 disables the listener.
	Host string
	Port int
	// Advertise is the host:port WebSocket clients are told to use
	// (ws_connect_urls); empty means the listener address.
	Advertise string
	// NoTLS allows a plain ws:// listener. Without it TLSConfig is
	// required, as upstream requires.
	NoTLS bool
	// TLSConfig makes the listener wss://. When set it is used even if
	// NoTLS is true, as upstream does.
	TLSConfig *tls.Config
	// SameOrigin and AllowedOrigins check the Origin header that browsers
	// send; a request that fails gets 403. See websocket.Config.
	SameOrigin     bool
	AllowedOrigins []string
	// Compression enables permessage-deflate for clients that ask for it.
	Compression bool
	// HandshakeTimeout bounds the TLS and HTTP upgrade handshakes; zero
	// means websocket.DefaultHandshakeTimeout (2s, upstream's default).
	HandshakeTimeout time.Duration

	// JWTCookie, UsernameCookie, PasswordCookie and TokenCookie name the
	// HTTP cookies whose values stand for the CONNECT credentials a
	// browser client did not send (upstream's jwt_cookie, user_cookie,
	// pass_cookie and token_cookie). JWTCookie needs operator mode and is
	// refused until the server has it.
	JWTCookie      string
	UsernameCookie string
	PasswordCookie string
	TokenCookie    string
	// NoAuthUser is the user a client without credentials becomes. It
	// needs configured users, so it is refused until the server has them.
	NoAuthUser string
	// Authorization overrides the server's authentication for WebSocket
	// clients. Refused (ErrNotSupported) until the server authenticates.
	Authorization *WebsocketAuthorization
}

// WebsocketAuthorization is the authorization {} block inside websocket {}:
// a single user or a token for WebSocket clients only.
type WebsocketAuthorization struct {
	Username string
	Password string
	Token    string
	// Timeout is the time a client has to send CONNECT.
	Timeout time.Duration
}

// errWebsocketNoTLS is upstream's refusal of a listener without TLS that
// did not say no_tls.
var errWebsocketNoTLS = errors.New("websocket requires TLS configuration")

// validate checks o the way upstream does before the listener starts.
func (o *WebsocketOptions) validate() error {
	if o.Port < RandomPort || o.Port > 65535 {
		return fmt.Errorf("%w: websocket port %d out of range", ErrBadOptions, o.Port)
	}
	if o.TLSConfig == nil && !o.NoTLS {
		return fmt.Errorf("%w: %w", ErrBadOptions, errWebsocketNoTLS)
	}
	switch {
	case o.Authorization != nil:
		return fmt.Errorf("websocket authorization: %w", ErrNotSupported)
	case o.JWTCookie != "":
		return fmt.Errorf("websocket jwt_cookie (needs operator mode): %w", ErrNotSupported)
	case o.NoAuthUser != "":
		return fmt.Errorf("websocket no_auth_user (needs users): %w", ErrNotSupported)
	}
	return nil
}

// StartWebsocket starts serving NATS clients over WebSocket as o says:
// it binds the listener, adds TLS unless o.TLSConfig is nil (then o.NoTLS
// must be set), and serves the upgraded connections like TCP ones until
// Shutdown. Start calls it for Options.Websocket; call it yourself only to
// add a listener to a running server. It fails when o is invalid, when the
// address cannot be bound (a *ListenError) or after Shutdown.
func (s *Server) StartWebsocket(o WebsocketOptions) error {
	if o.Port == 0 {
		return fmt.Errorf("%w: websocket port not set", ErrBadOptions)
	}
	if err := o.validate(); err != nil {
		return err
	}
	s.mu.Lock()
	stopped := s.shutdown
	s.mu.Unlock()
	if stopped {
		return ErrServerStopped
	}
	if s.websocketListener() != nil {
		return fmt.Errorf("%w: websocket listener already started", ErrBadOptions)
	}
	if o.Host == "" {
		o.Host = DefaultHost
	}
	port := o.Port
	if port == RandomPort {
		port = 0
	}
	addr := net.JoinHostPort(o.Host, strconv.Itoa(port))
	inner, err := net.Listen("tcp", addr)
	if err != nil {
		return &websocketListenError{ListenError{Addr: addr, Err: err}}
	}
	port = inner.Addr().(*net.TCPAddr).Port
	scheme := "ws"
	if o.TLSConfig != nil {
		scheme = "wss"
		inner = tls.NewListener(inner, o.TLSConfig)
	}
	secure := o.TLSConfig != nil
	wl, err := websocket.NewListener(inner, websocket.Config{
		SameOrigin:       o.SameOrigin,
		AllowedOrigins:   o.AllowedOrigins,
		Compression:      o.Compression,
		HandshakeTimeout: o.HandshakeTimeout,
		OnHandshakeError: func(err error) { s.logHandshakeError(err, secure) },
	})
	if err != nil {
		inner.Close()
		return fmt.Errorf("%w: %w", ErrBadOptions, err)
	}
	o.Port = port
	s.mu.Lock()
	s.info.WSConnectURLs = websocketConnectURLs(o, port) // before the first client's INFO
	s.mu.Unlock()
	if err := s.Serve(&wsListener{Listener: wl, secure: secure, opts: o}); err != nil {
		wl.Close()
		return err
	}
	log := s.wsLogger()
	log.Info("Listening for websocket clients on " + scheme + "://" + net.JoinHostPort(o.Host, strconv.Itoa(port)))
	if !secure {
		log.Warn("Websocket not configured with TLS. DO NOT USE IN PRODUCTION!")
	}
	return nil
}

// websocketListenError is a ListenError with upstream's websocket wording.
type websocketListenError struct{ ListenError }

func (e *websocketListenError) Error() string {
	return "Unable to listen for websocket connections: " + e.Err.Error()
}

func (e *websocketListenError) Unwrap() error { return &e.ListenError }

// websocketConnectURLs is what INFO's ws_connect_urls says: the advertised
// address if any; otherwise nothing, as for connect_urls of a lone server.
func websocketConnectURLs(o WebsocketOptions, port int) []string {
	if o.Advertise == "" {
		return nil
	}
	adv := o.Advertise
	if _, _, err := net.SplitHostPort(adv); err != nil {
		adv = net.JoinHostPort(adv, strconv.Itoa(port))
	}
	return []string{adv}
}

// wsListener is the WebSocket listener as the server holds it, so that
// the listener's address and scheme can be found again.
type wsListener struct {
	*websocket.Listener
	secure bool
	opts   WebsocketOptions // as started: Host and Port filled in
}

// websocketListener returns the running WebSocket listener, or nil.
func (s *Server) websocketListener() *wsListener {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ln := range s.extra {
		if wl, ok := ln.(*wsListener); ok {
			return wl
		}
	}
	return nil
}

// WebsocketAddr returns the address of the WebSocket listener, nil when
// none is running.
func (s *Server) WebsocketAddr() net.Addr {
	if wl := s.websocketListener(); wl != nil {
		return wl.Addr()
	}
	return nil
}

// WebsocketTLS reports whether the WebSocket listener serves wss://.
func (s *Server) WebsocketTLS() bool {
	wl := s.websocketListener()
	return wl != nil && wl.secure
}

// WebsocketURL returns a ws:// or wss:// URL that reaches the WebSocket
// listener ("" when none is running); an unspecified listen address is
// reached on 127.0.0.1.
func (s *Server) WebsocketURL() string {
	wl := s.websocketListener()
	if wl == nil {
		return ""
	}
	addr := wl.Addr().(*net.TCPAddr)
	host := "127.0.0.1"
	if !addr.IP.IsUnspecified() {
		host = addr.IP.String()
	}
	scheme := "ws"
	if wl.secure {
		scheme = "wss"
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// websocketVarz is the websocket section of /varz: the listener's
// settings as it runs (the bound port, not -1), empty when there is none.
func (s *Server) websocketVarz() snapshot.WebsocketOptsVarz {
	wl := s.websocketListener()
	if wl == nil {
		return snapshot.WebsocketOptsVarz{}
	}
	o := wl.opts
	return snapshot.WebsocketOptsVarz{
		Host:             o.Host,
		Port:             o.Port,
		Advertise:        o.Advertise,
		NoAuthUser:       o.NoAuthUser,
		HandshakeTimeout: o.HandshakeTimeout,
		NoTLS:            !wl.secure,
		SameOrigin:       o.SameOrigin,
		AllowedOrigins:   append([]string(nil), o.AllowedOrigins...),
		Compression:      o.Compression,
	}
}

// wsLogger returns the server's logger; Reload may swap it.
func (s *Server) wsLogger() *slog.Logger {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log
}

// logHandshakeError logs a failed upgrade as upstream does: a rejected
// request is an error naming the client and the reason; a failed TLS
// handshake is an error too; a client that went away or timed out before
// sending a request is only worth a debug line.
func (s *Server) logHandshakeError(err error, secure bool) {
	var he *websocket.HandshakeError
	if !errors.As(err, &he) {
		s.wsLogger().Error("websocket: " + err.Error())
		return
	}
	addr := "?"
	if he.RemoteAddr != nil {
		addr = he.RemoteAddr.String()
	}
	log := s.wsLogger()
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
