package server

import (
	"fmt"
	"log/slog"
	"net"
	"slices"
)

// TransportWebsocket is the Transport of WebSocket connections.
const TransportWebsocket = "websocket"

// TransportConn is an optional interface of a net.Conn handed to the
// server by a listener added with Serve, for connections of another
// transport than plain TCP. The core imports no transport: what only
// some transports know reaches it through this interface and
// CredentialsConn, found by type assertion.
//
// The core uses RemoteAddr for the client's address (in logs, /connz and
// $SYS events), so a transport that knows a better one (from
// X-Forwarded-For, say) returns it there. A connection that wraps another
// has NetConn() net.Conn, as *tls.Conn does, so that /connz finds the TLS
// state under it. A connection with WriteBuffers([][]byte) (int64, error)
// gets the outbound batches whole (a WebSocket frame each).
type TransportConn interface {
	net.Conn
	// Transport names the transport. TransportWebsocket makes the
	// connection a WebSocket client: the "wid:" tag in logs,
	// allowed_connection_types WEBSOCKET, type "websocket" in /connz and
	// $SYS events. Any other name is a standard client.
	Transport() string
}

// CredentialsConn is an optional interface of a net.Conn whose transport
// carries credentials outside CONNECT: the cookies a browser sends with
// the WebSocket upgrade (user_cookie, pass_cookie, token_cookie).
type CredentialsConn interface {
	net.Conn
	// Credentials returns the user, password and token the transport
	// carried, "" for each it did not; each fills in what the client's
	// CONNECT left out.
	Credentials() (user, password, token string)
}

// transportOf returns nc's Transport, "" for a plain connection.
func transportOf(nc net.Conn) string {
	if tc, ok := nc.(TransportConn); ok {
		return tc.Transport()
	}
	return ""
}

// WebsocketInfo is what the core needs to know about a listener of
// WebSocket clients, which a module runs (see ServeWebsocket). The
// module contributes the websocket section of /varz itself (RegisterVarz).
type WebsocketInfo struct {
	// ConnectURLs are INFO's ws_connect_urls.
	ConnectURLs []string
}

// ServeWebsocket is Serve for a listener of WebSocket clients, whose
// connections should be TransportConns saying TransportWebsocket: INFO
// says info.ConnectURLs as ws_connect_urls from the first client on. A
// server has one WebSocket listener; a second is refused
// (ErrBadOptions), as is any after Shutdown (ErrServerStopped).
func (s *Server) ServeWebsocket(ln net.Listener, info WebsocketInfo) error {
	s.mu.Lock()
	switch {
	case s.shutdown:
		s.mu.Unlock()
		return ErrServerStopped
	case s.wsInfo != nil:
		s.mu.Unlock()
		return fmt.Errorf("%w: websocket listener already started", ErrBadOptions)
	}
	info.ConnectURLs = slices.Clone(info.ConnectURLs)
	s.wsInfo = &info
	s.info.WSConnectURLs = info.ConnectURLs // before the first client's INFO
	s.mu.Unlock()
	if err := s.Serve(ln); err != nil {
		s.mu.Lock()
		s.wsInfo = nil
		s.info.WSConnectURLs = nil
		s.mu.Unlock()
		return err
	}
	return nil
}

// WebsocketConnectURLs returns the host:port addresses of the server's
// websocket port (INFO's ws_connect_urls, WebsocketInfo.ConnectURLs),
// nil without one; the leaf node module tells them its leaf nodes.
func (s *Server) WebsocketConnectURLs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.info.WSConnectURLs)
}

// Logger returns the server's logger (Options.Logger, or one that
// discards), for the modules that log on its behalf. Reload's logging
// changes reach it.
func (s *Server) Logger() *slog.Logger {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log
}
