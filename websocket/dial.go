package websocket

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// NoMaskingHeader is the request header with which a client asks the
// server to let it send unmasked frames, and the response header with
// which the server agrees, both with the value "true". It is an extension
// of upstream nats-server for leaf node connections, whose peers are
// servers that gain nothing from masking (RFC 6455 masks against proxies
// that a browser's scripts could poison).
const NoMaskingHeader = "Nats-No-Masking"

// deflateOffer is the permessage-deflate offer a client sends, upstream's:
// every message compressed on its own in both directions.
const deflateOffer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

// ErrBadHandshake marks a server's answer to the opening handshake that
// does not upgrade the connection: not 101, or without the right Upgrade,
// Connection or Sec-WebSocket-Accept.
var ErrBadHandshake = errors.New("websocket: invalid websocket connection")

// ErrBadExtension marks a server's answer that accepts permessage-deflate
// without server_no_context_takeover and client_no_context_takeover,
// which this client cannot honour (upstream's "compression negotiation
// error").
var ErrBadExtension = errors.New("websocket: compression negotiation error")

// DialConfig configures the client end of a connection (Dial,
// ClientHandshake). The zero value dials with a *net.Dialer, offers no
// extension, masks its frames and times the handshake out after
// DefaultHandshakeTimeout.
type DialConfig struct {
	// Dialer opens the TCP connection; nil is a *net.Dialer. A
	// *net.Dialer fits, and so does anything with its DialContext.
	Dialer interface {
		DialContext(ctx context.Context, network, address string) (net.Conn, error)
	}
	// TLSConfig is used for wss:// URLs; nil is the default
	// configuration, with ServerName taken from the URL when not set.
	TLSConfig *tls.Config
	// Header holds more request headers (Authorization, Origin, ...).
	Header http.Header
	// Compression offers permessage-deflate without context takeover. A
	// server that does not answer it leaves the connection uncompressed.
	Compression bool
	// NoMasking asks the server, with NoMaskingHeader, to accept
	// unmasked frames. A server that does not answer it gets masked
	// frames, as RFC 6455 wants.
	NoMasking bool
	// HandshakeTimeout bounds the TLS handshake and the HTTP upgrade (not
	// the TCP dial, which ctx bounds). Zero means DefaultHandshakeTimeout;
	// negative means no limit beyond ctx.
	HandshakeTimeout time.Duration
	// MaxFrameSize and MaxMessageSize bound what the server may send, as
	// Config's do for a Listener.
	MaxFrameSize   int64
	MaxMessageSize int64
}

// Dial connects to a ws:// or wss:// URL (http:// and https:// are
// accepted as their equivalents) and performs the opening handshake with
// ClientHandshake. The URL's path and query are the request's; a missing
// port is 80 or 443. ctx bounds the dial and the handshake; once Dial
// returns, ctx no longer matters.
func Dial(ctx context.Context, rawURL string, cfg DialConfig) (*Conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	secure, err := schemeSecure(u)
	if err != nil {
		return nil, err
	}
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if secure {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	d := cfg.Dialer
	if d == nil {
		d = &net.Dialer{}
	}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if secure {
		tc := cfg.TLSConfig.Clone()
		if tc == nil {
			tc = &tls.Config{}
		}
		if tc.ServerName == "" && !tc.InsecureSkipVerify {
			tc.ServerName = u.Hostname()
		}
		tlsConn := tls.Client(nc, tc)
		hctx, cancel := handshakeContext(ctx, cfg.HandshakeTimeout)
		err = tlsConn.HandshakeContext(hctx)
		cancel()
		if err != nil {
			nc.Close()
			return nil, err
		}
		nc = tlsConn
	}
	c, err := ClientHandshake(ctx, nc, u, cfg)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// schemeSecure tells wss:// (and https://) from ws:// (and http://).
func schemeSecure(u *url.URL) (bool, error) {
	switch strings.ToLower(u.Scheme) {
	case "ws", "http":
		return false, nil
	case "wss", "https":
		return true, nil
	}
	return false, errors.New("websocket: unsupported URL scheme " + u.Scheme)
}

func handshakeContext(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d == 0 {
		d = DefaultHandshakeTimeout
	}
	if d < 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// ClientHandshake performs the opening handshake (RFC 6455 section 4.1)
// on nc, which is connected to the server and has done TLS already for
// wss:// (the caller dialed it, as a leaf node dials its remote): it sends
// the upgrade request for u's host, path and query and checks the answer.
// It does not close nc when it fails. A refused upgrade gives a
// *HandshakeError with the server's Status that wraps ErrBadHandshake (or
// ErrBadExtension); I/O errors come as they are. ctx and
// cfg.HandshakeTimeout bound it: when either ends it first, the error is
// ctx's (context.DeadlineExceeded is a net.Error whose Timeout is true).
func ClientHandshake(ctx context.Context, nc net.Conn, u *url.URL, cfg DialConfig) (*Conn, error) {
	secure, err := schemeSecure(u)
	if err != nil {
		return nil, err
	}
	var raw [16]byte
	rand.Read(raw[:])
	key := base64.StdEncoding.EncodeToString(raw[:])

	scheme := "http"
	if secure {
		scheme = "https"
	}
	ru := &url.URL{Scheme: scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}
	req := &http.Request{
		Method:     http.MethodGet,
		URL:        ru,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header, len(cfg.Header)+5),
		Host:       u.Host,
	}
	for k, v := range cfg.Header {
		req.Header[k] = append([]string(nil), v...)
	}
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Key", key)
	req.Header.Set("Sec-WebSocket-Version", "13")
	if cfg.Compression {
		req.Header.Set("Sec-WebSocket-Extensions", deflateOffer)
	}
	if cfg.NoMasking {
		req.Header.Set(NoMaskingHeader, "true")
	}

	hctx, cancel := handshakeContext(ctx, cfg.HandshakeTimeout)
	defer cancel()
	if dl, ok := hctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	// Unblock the I/O when ctx is canceled before the deadline.
	stop := context.AfterFunc(hctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	lr := &limitedConnReader{r: nc, n: maxRequestBytes}
	br := bufio.NewReaderSize(lr, readBufferSize)
	resp, err := writeAndRead(nc, br, req)
	if !stop() {
		// ctx ended (canceled, or the handshake timed out): the deadline
		// set by AfterFunc may have cut the I/O, and may still be set.
		return nil, hctx.Err()
	}
	nc.SetDeadline(time.Time{})
	if err != nil {
		return nil, err
	}
	neg, err := checkResponse(resp, key, cfg)
	if err != nil {
		return nil, err
	}
	if br.Buffered() == 0 {
		br.Reset(nc)
	} else {
		// The server's first frames came with the answer: keep reading
		// through the buffer, the limit lifted.
		lr.n = math.MaxInt
	}
	c := newConn(nc, br, neg.compress, cfg.MaxFrameSize, cfg.MaxMessageSize)
	c.client = true
	c.noMask = neg.noMask
	c.resp = resp
	c.subprotocol = resp.Header.Get("Sec-WebSocket-Protocol")
	var seed [32]byte
	rand.Read(seed[:])
	c.rng = mrand.NewChaCha8(seed)
	return c, nil
}

func writeAndRead(nc net.Conn, br *bufio.Reader, req *http.Request) (*http.Response, error) {
	if err := req.Write(nc); err != nil {
		return nil, err
	}
	return readResponse(br, req)
}

// readResponse reads the server's answer to req from br. The body of an
// error answer is not read: the connection is closed after it.
func readResponse(br *bufio.Reader, req *http.Request) (*http.Response, error) {
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		if errors.Is(err, errRequestTooLarge) {
			return nil, &HandshakeError{Reason: "response header too large", Err: ErrBadHandshake}
		}
		return nil, err
	}
	return resp, nil
}

// clientNegotiated is what a valid answer settled.
type clientNegotiated struct {
	compress bool
	noMask   bool
}

// checkResponse validates the server's answer (RFC 6455 section 4.1, the
// client's checks; RFC 7692 for the extension) the way upstream's leaf
// node does: an answer without the extension leaves the connection
// uncompressed, one that accepts it must keep no context in either
// direction, and one without NoMaskingHeader gets masked frames.
func checkResponse(resp *http.Response, key string, cfg DialConfig) (neg clientNegotiated, err error) {
	fail := func(reason string, base error) error {
		return &HandshakeError{Status: resp.StatusCode, Reason: reason, Err: base}
	}
	switch {
	case resp.StatusCode != http.StatusSwitchingProtocols:
		return neg, fail("unexpected status "+resp.Status, ErrBadHandshake)
	case !headerHasToken(resp.Header, "Upgrade", "websocket"):
		return neg, fail("invalid value for header 'Upgrade'", ErrBadHandshake)
	case !headerHasToken(resp.Header, "Connection", "upgrade"):
		return neg, fail("invalid value for header 'Connection'", ErrBadHandshake)
	case resp.Header.Get("Sec-WebSocket-Accept") != acceptKey(key):
		return neg, fail("invalid 'Sec-WebSocket-Accept'", ErrBadHandshake)
	}
	if ext := resp.Header.Values("Sec-WebSocket-Extensions"); len(ext) > 0 {
		ok, srvNoCtx, cliNoCtx, bad := parseDeflateAnswer(ext)
		switch {
		case bad || (ok && !cfg.Compression):
			return neg, fail("unexpected extension", ErrBadExtension)
		case ok && !(srvNoCtx && cliNoCtx):
			return neg, fail("context takeover required", ErrBadExtension)
		}
		neg.compress = ok
	}
	neg.noMask = cfg.NoMasking && resp.Header.Get(NoMaskingHeader) == "true"
	return neg, nil
}

// parseDeflateAnswer reads the extensions a server accepted: ok when it is
// permessage-deflate, with its no-context-takeover parameters; bad for
// another extension, more than one, or a window smaller than 32 KiB for
// the server's messages (the decompressor's window is 32 KiB, so a
// smaller one for the client's is fine: the stateless compressor keeps no
// window).
func parseDeflateAnswer(values []string) (ok, srvNoCtx, cliNoCtx, bad bool) {
	for _, v := range values {
		for ext := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(ext) == "" {
				continue
			}
			params := strings.Split(ext, ";")
			if ok || !strings.EqualFold(strings.TrimSpace(params[0]), "permessage-deflate") {
				return false, false, false, true
			}
			ok = true
			for _, p := range params[1:] {
				name, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				name = strings.ToLower(strings.TrimSpace(name))
				val = strings.Trim(strings.TrimSpace(val), `"`)
				switch name {
				case "server_no_context_takeover":
					srvNoCtx = true
				case "client_no_context_takeover":
					cliNoCtx = true
				case "server_max_window_bits", "client_max_window_bits":
					// Any window fits: the client compresses without one
					// and inflates with the largest.
					if val != "" && !validWindowBits(val) {
						return false, false, false, true
					}
				default:
					return false, false, false, true
				}
			}
		}
	}
	return ok, srvNoCtx, cliNoCtx, false
}

func validWindowBits(v string) bool {
	if len(v) == 1 {
		return v[0] >= '8' && v[0] <= '9'
	}
	return len(v) == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5'
}

// Response returns the server's answer to the opening handshake of a
// client connection (its headers; no body), or nil for a server
// connection. The caller must not modify it.
func (c *Conn) Response() *http.Response { return c.resp }

// Masked reports whether the frames this end sends are masked: a client
// masks them unless the server agreed to NoMaskingHeader; a server never
// does.
func (c *Conn) Masked() bool { return c.maskWrites() }

var _ io.ReadWriteCloser = (*Conn)(nil)
