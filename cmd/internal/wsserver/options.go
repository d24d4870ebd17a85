package wsserver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"natsd.dev/server"
)

// Options configure the WebSocket listener, the websocket {} block of a
// configuration file. A zero Port means no listener.
//
// The authentication settings of the block that change who may connect
// (Authorization, JWTCookie, NoAuthUser) are refused (ErrNotSupported)
// rather than ignored until the server has what they need.
type Options struct {
	// Host and Port are the listener address. Host "" means
	// server.DefaultHost; Port server.RandomPort (-1) picks a free port;
	// 0 disables the listener.
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
	// NoAuthUser is the user a client without credentials becomes.
	// Refused until the listener has users of its own.
	NoAuthUser string
	// Authorization overrides the server's authentication for WebSocket
	// clients. Refused (ErrNotSupported) until supported.
	Authorization *Authorization

	// Leaf takes the connections upgraded on a path that starts with
	// LeafPath (/leafnode), leaf nodes dialing this server over ws:// or
	// wss:// as upstream's do: the command sets it to the leaf node
	// module's accept function when leafnodes {} has a port. It must not
	// block (start a goroutine) and owns the connection, a
	// server.TransportConn of kind websocket whose messages may inflate
	// to websocket.DefaultMaxMessageSize. Leaf nodes that asked for no
	// masking (ws_no_masking) get it. Nil closes such connections after
	// the upgrade, logging upstream's "Not configured to accept leaf node
	// connections". The configuration file does not set it.
	Leaf func(net.Conn)

	// Endpoints are the URL paths ("/mqtt") whose upgraded connections
	// speak another protocol than NATS: each goes to its endpoint instead
	// of the server. Every other path serves NATS. The configuration file
	// does not set them; the command does, for the front ends it runs.
	Endpoints map[string]Endpoint
}

// Endpoint serves the WebSocket connections upgraded on one URL path, as
// upstream serves MQTT clients on /mqtt of the websocket port.
type Endpoint struct {
	// Subprotocol is the Sec-WebSocket-Protocol the endpoint speaks
	// ("mqtt"), answered when the client offers it. The listener answers
	// the subprotocols of all its endpoints on any path, since the
	// handshake picks them before the path is looked at; NATS clients
	// offer none.
	Subprotocol string
	// Serve takes each connection upgraded on the path, as a
	// server.TransportConn of kind websocket; it must not block (start a
	// goroutine, as mqtt.MQTT.ServeConn does) and owns the connection.
	// Nil refuses upgrades on the path with 404 and logs Refusal as the
	// handshake error, as upstream does on /mqtt without MQTT.
	Serve   func(net.Conn)
	Refusal string
	// MessageOverhead is what a WebSocket message of the endpoint may
	// carry beyond the server's max_payload: a compressed message may
	// inflate to max_payload + MessageOverhead bytes (and carry 8 times
	// that compressed, websocket.CompressedSizeFactor), against
	// max_payload for NATS clients. MQTT puts a PUBLISH's topic and
	// properties next to its payload.
	MessageOverhead int64
}

// Authorization is the authorization {} block inside websocket {}: a
// single user or a token for WebSocket clients only.
type Authorization struct {
	Username string
	Password string
	Token    string
	// Timeout is the time a client has to send CONNECT.
	Timeout time.Duration
}

// ErrNotSupported wraps the settings refused until natsd has them; it is
// server.ErrNotSupported.
var ErrNotSupported = server.ErrNotSupported

// LeafPath starts the URL path on which leaf nodes upgrade (upstream's
// leaf remotes ask for it, after any path of the remote's URL).
const LeafPath = "/leafnode"

// errNoTLS is upstream's refusal of a listener without TLS that did not
// say no_tls.
var errNoTLS = errors.New("websocket requires TLS configuration")

// validate checks o the way upstream does before the listener starts.
func (o *Options) validate() error {
	if o.Port < server.RandomPort || o.Port > 65535 {
		return fmt.Errorf("%w: websocket port %d out of range", server.ErrBadOptions, o.Port)
	}
	if o.TLSConfig == nil && !o.NoTLS {
		return fmt.Errorf("%w: %w", server.ErrBadOptions, errNoTLS)
	}
	switch {
	case o.Authorization != nil:
		return fmt.Errorf("websocket authorization: %w", ErrNotSupported)
	case o.JWTCookie != "":
		return fmt.Errorf("websocket jwt_cookie (needs operator mode): %w", ErrNotSupported)
	case o.NoAuthUser != "":
		return fmt.Errorf("websocket no_auth_user (needs users): %w", ErrNotSupported)
	}
	for path := range o.Endpoints {
		if strings.HasPrefix(path, LeafPath) {
			return fmt.Errorf("%w: websocket endpoint %q is the leaf node path", server.ErrBadOptions, path)
		}
		if !strings.HasPrefix(path, "/") {
			return fmt.Errorf("%w: websocket endpoint %q is not a URL path", server.ErrBadOptions, path)
		}
	}
	return nil
}
