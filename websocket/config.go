package websocket

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultHandshakeTimeout is the handshake timeout used when
// Config.HandshakeTimeout is zero (upstream's default).
const DefaultHandshakeTimeout = 2 * time.Second

// DefaultMaxFrameSize is the frame size limit used when Config.MaxFrameSize
// is zero. It matches the largest max_payload a NATS server accepts.
const DefaultMaxFrameSize = 64 << 20

// DefaultMaxMessageSize is the limit on an inflated compressed message used
// when Config.MaxMessageSize is zero: the largest max_payload a NATS server
// accepts.
const DefaultMaxMessageSize = 64 << 20

// CompressedSizeFactor bounds the compressed payload of a message: its
// frames together may carry at most this many times the message size limit
// (Config.MaxMessageSize, Conn.SetMaxMessageSize), as upstream nats-server
// allows, and, as it is inflated, at most 64 KiB plus this many compressed
// bytes per byte it inflated to so far. Deflate never makes real data
// more than about 1.13 times larger; a stream of empty deflate blocks,
// which inflates to nothing but costs a decoding step every 5 bytes, is
// cut off after 64 KiB.
const CompressedSizeFactor = 8

// Config configures a Listener. The zero value accepts any origin, does not
// compress, answers no subprotocol and times handshakes out after
// DefaultHandshakeTimeout.
type Config struct {
	// SameOrigin rejects (403) a request whose Origin header does not name
	// the host and port of its Host header. Missing ports default to 80,
	// or 443 for an https origin and for a Host reached over TLS.
	SameOrigin bool

	// AllowedOrigins, when not empty, rejects (403) a request whose Origin
	// is not one of these. Entries are "scheme://host[:port]"; a missing
	// port is 80 for http and 443 for https, and scheme, host and port must
	// all match. Requests without an Origin header (non-browser clients)
	// pass both checks, as with upstream nats-server.
	AllowedOrigins []string

	// Compression enables permessage-deflate (RFC 7692) for clients that
	// offer it. Like upstream nats-server, the server always answers
	// server_no_context_takeover and client_no_context_takeover: every
	// message is compressed on its own, so no window is kept per
	// connection.
	Compression bool

	// HandshakeTimeout bounds the time from accepting the TCP connection
	// (including a TLS handshake, if the inner listener does TLS) to the
	// end of the HTTP upgrade. Zero means DefaultHandshakeTimeout;
	// negative means no limit.
	HandshakeTimeout time.Duration

	// MaxFrameSize is the largest payload accepted in one data frame,
	// compressed or not. A larger frame closes the connection with 1009
	// as soon as its header arrives. Zero means DefaultMaxFrameSize;
	// negative means no limit: frames are streamed, never buffered whole.
	MaxFrameSize int64

	// MaxMessageSize bounds a compressed message: inflated, it may be at
	// most MaxMessageSize bytes long, and its frames together may carry at
	// most CompressedSizeFactor times as many compressed bytes (and no
	// more than 64 KiB plus CompressedSizeFactor per byte inflated so
	// far). A message is inflated as its frames arrive (past its first 4
	// KiB, collected first), so neither is ever buffered whole, and the
	// connection is closed with 1009 as soon as a limit is passed: Read never returns a byte of a message beyond
	// MaxMessageSize. Zero or negative means DefaultMaxMessageSize.
	// Conn.SetMaxMessageSize changes it for one connection. Uncompressed
	// messages are streamed and only MaxFrameSize applies to them.
	MaxMessageSize int64

	// Subprotocols lists the values of Sec-WebSocket-Protocol the server
	// speaks. The first value offered by the client that is in this list
	// is answered and reported by Conn.Subprotocol. When empty the header
	// is ignored and never answered, which is what upstream nats-server
	// does for NATS clients (it answers "mqtt" on its MQTT path only).
	Subprotocols []string

	// AllowNoMasking, if set, is asked about every request that carries
	// NoMaskingHeader: true (upstream's leaf nodes send it when
	// ws_no_masking is set): when it returns true the server answers the
	// header and accepts unmasked frames from that client (masked ones
	// still work). Nil, or false, answers nothing and requires masked
	// frames, as RFC 6455 does. Upstream honours the header on the
	// /leafnode path; a server does the same by checking r.URL.Path. It is
	// called from the handshake goroutines, possibly concurrently, before
	// CheckRequest.
	AllowNoMasking func(r *http.Request) bool

	// CheckRequest, if set, is called with every request that passed the
	// protocol and origin checks, before the server answers. A non-nil
	// error rejects the request with 403, or with the Status of a
	// *HandshakeError found in it by errors.As. The request is also
	// available later from Conn.Request, so cookies and headers do not
	// have to be kept from here. It is called from the handshake
	// goroutines, possibly concurrently.
	CheckRequest func(r *http.Request) error

	// OnHandshakeError, if set, is called with a *HandshakeError for every
	// failed handshake, from the goroutine that did the handshake, possibly
	// concurrently. The Listener never returns these errors from Accept.
	// Handshakes aborted by Listener.Close are not reported.
	OnHandshakeError func(err error)
}

// origin is a parsed scheme://host:port with the port made explicit.
type origin struct {
	scheme, host, port string
}

// parseOrigin parses an Origin value or an AllowedOrigins entry the way
// upstream does: as a request URI whose host is compared lower-cased and
// whose port defaults by scheme.
func parseOrigin(s string) (origin, error) {
	u, err := url.ParseRequestURI(s)
	if err != nil {
		return origin{}, err
	}
	if u.Host == "" {
		return origin{}, errors.New("websocket: origin " + s + " has no host")
	}
	h, p, err := hostPort(u.Host, u.Scheme == "https")
	if err != nil {
		return origin{}, err
	}
	return origin{scheme: u.Scheme, host: h, port: p}, nil
}

// hostPort splits hostport, supplying the default port for the scheme.
func hostPort(hostport string, secure bool) (host, port string, err error) {
	host, port, err = net.SplitHostPort(hostport)
	if err != nil {
		var ae *net.AddrError
		if !errors.As(err, &ae) || !strings.Contains(ae.Err, "missing port") {
			return "", "", err
		}
		host, port = hostport, "80"
		if secure {
			port = "443"
		}
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	}
	return strings.ToLower(host), port, nil
}
