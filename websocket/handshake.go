package websocket

import (
	"bufio"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	// maxRequestBytes bounds the request line and headers of a handshake.
	// Browsers send cookies, so be generous.
	maxRequestBytes = 64 << 10
	// readBufferSize is the size of a connection's read buffer. Payload
	// reads at least this large bypass it and land in the caller's buffer.
	readBufferSize = 4096

	// acceptGUID is the fixed GUID of RFC 6455 section 1.3.
	acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

	// deflateResponse is what upstream answers to any permessage-deflate offer.
	deflateResponse = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
)

var errRequestTooLarge = errors.New("websocket: request header too large")

// limitedConnReader reads the handshake request from a connection and
// fails once more than a fixed number of bytes were asked for.
type limitedConnReader struct {
	r io.Reader
	n int
}

func (l *limitedConnReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errRequestTooLarge
	}
	if len(p) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= n
	return n, err
}

// handshake reads the upgrade request from nc, validates it and answers it.
// On failure it has already answered with an HTTP error when one applies;
// the caller closes nc.
func (l *Listener) handshake(nc net.Conn) (*Conn, error) {
	st := l.set.Load()
	if st.timeout > 0 {
		nc.SetDeadline(time.Now().Add(st.timeout))
	}
	br := bufio.NewReaderSize(&limitedConnReader{r: nc, n: maxRequestBytes}, readBufferSize)
	req, err := http.ReadRequest(br)
	if err != nil {
		he := &HandshakeError{RemoteAddr: nc.RemoteAddr(), Reason: "reading request", Err: err}
		var ne net.Error
		switch {
		case errors.Is(err, errRequestTooLarge):
			he.Status, he.Reason = http.StatusRequestHeaderFieldsTooLarge, "request header too large"
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &ne), !tlsDone(nc):
			// The client went away, was too slow or failed TLS: nobody to answer.
			return nil, he
		default:
			he.Status, he.Reason = http.StatusBadRequest, "malformed request"
		}
		writeHTTPError(nc, he.Status)
		return nil, he
	}
	req.RemoteAddr = nc.RemoteAddr().String()
	if cs, ok := nc.(interface{ ConnectionState() tls.ConnectionState }); ok {
		st := cs.ConnectionState()
		req.TLS = &st
	}
	neg, status, reason := l.check(st, req)
	if status == 0 && br.Buffered() > 0 {
		// RFC 6455 lets the client send frames only after our answer.
		status, reason = http.StatusBadRequest, "client sent data before the handshake completed"
	}
	if status == 0 && st.cfg.CheckRequest != nil {
		if err = st.cfg.CheckRequest(req); err != nil {
			status, reason = http.StatusForbidden, "rejected by CheckRequest"
			var he *HandshakeError
			if errors.As(err, &he) && he.Status >= 400 && he.Status <= 599 {
				status = he.Status
				if he.Reason != "" {
					reason = he.Reason
				}
			}
		}
	}
	if status != 0 {
		writeHTTPError(nc, status)
		return nil, &HandshakeError{Status: status, Reason: reason, RemoteAddr: nc.RemoteAddr(), Err: err}
	}

	buf := make([]byte, 0, 256)
	buf = append(buf, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	buf = append(buf, acceptKey(neg.key)...)
	buf = append(buf, "\r\n"...)
	if neg.compress {
		buf = append(buf, "Sec-WebSocket-Extensions: "...)
		buf = append(buf, deflateResponse...)
		if neg.windowBits {
			buf = append(buf, "; server_max_window_bits=15"...)
		}
		buf = append(buf, "\r\n"...)
	}
	if neg.noMask {
		buf = append(buf, NoMaskingHeader+": true\r\n"...)
	}
	if neg.subprotocol != "" {
		buf = append(buf, "Sec-WebSocket-Protocol: "...)
		buf = append(buf, neg.subprotocol...)
		buf = append(buf, "\r\n"...)
	}
	buf = append(buf, "\r\n"...)
	if _, err := nc.Write(buf); err != nil {
		return nil, &HandshakeError{RemoteAddr: nc.RemoteAddr(), Reason: "writing response", Err: err}
	}
	if st.timeout > 0 {
		nc.SetDeadline(time.Time{})
	}
	// Nothing is buffered (checked above): read frames straight from nc.
	br.Reset(nc)
	c := newConn(nc, br, neg.compress, st.cfg.MaxFrameSize, st.cfg.MaxMessageSize)
	c.req = req
	c.subprotocol = neg.subprotocol
	c.noMask = neg.noMask
	return c, nil
}

// tlsDone reports whether nc is not TLS or finished its TLS handshake.
func tlsDone(nc net.Conn) bool {
	cs, ok := nc.(interface{ ConnectionState() tls.ConnectionState })
	return !ok || cs.ConnectionState().HandshakeComplete
}

// negotiated is the outcome of a valid request.
type negotiated struct {
	key         string
	compress    bool
	windowBits  bool // the accepted offer named server_max_window_bits=15
	subprotocol string
	noMask      bool // the client may send unmasked frames
}

// check validates req as an opening handshake (RFC 6455 section 4.2.1)
// and returns the HTTP status and reason of the rejection, or status 0.
func (l *Listener) check(st *settings, req *http.Request) (neg negotiated, status int, reason string) {
	if req.Method != http.MethodGet {
		return neg, http.StatusMethodNotAllowed, "request method must be GET"
	}
	if !req.ProtoAtLeast(1, 1) {
		return neg, http.StatusBadRequest, "HTTP/1.1 or later required"
	}
	if req.Host == "" {
		return neg, http.StatusBadRequest, "'Host' missing in request"
	}
	if req.ContentLength != 0 || len(req.TransferEncoding) > 0 {
		return neg, http.StatusBadRequest, "request has a body"
	}
	if !headerHasToken(req.Header, "Upgrade", "websocket") {
		return neg, http.StatusBadRequest, "invalid value for header 'Upgrade'"
	}
	if !headerHasToken(req.Header, "Connection", "upgrade") {
		return neg, http.StatusBadRequest, "invalid value for header 'Connection'"
	}
	neg.key = req.Header.Get("Sec-WebSocket-Key")
	if k, err := base64.StdEncoding.DecodeString(neg.key); err != nil || len(k) != 16 {
		return neg, http.StatusBadRequest, "invalid 'Sec-WebSocket-Key'"
	}
	switch v := req.Header.Values("Sec-WebSocket-Version"); {
	case len(v) == 0:
		return neg, http.StatusBadRequest, "'Sec-WebSocket-Version' missing in request"
	case !headerHasToken(req.Header, "Sec-WebSocket-Version", "13"):
		return neg, http.StatusUpgradeRequired, "unsupported version"
	}
	if err := l.checkOrigin(st, req); err != "" {
		return neg, http.StatusForbidden, "origin not allowed: " + err
	}
	if st.cfg.Compression {
		neg.compress, neg.windowBits = acceptDeflate(req.Header)
	}
	if len(st.cfg.Subprotocols) > 0 {
		neg.subprotocol = pickSubprotocol(req.Header, st.cfg.Subprotocols)
	}
	if f := st.cfg.AllowNoMasking; f != nil && req.Header.Get(NoMaskingHeader) == "true" {
		neg.noMask = f(req)
	}
	return neg, 0, ""
}

// checkOrigin applies SameOrigin and AllowedOrigins and returns why the
// request is refused, or "".
func (l *Listener) checkOrigin(st *settings, req *http.Request) string {
	if !st.cfg.SameOrigin && len(st.origins) == 0 {
		return ""
	}
	s := req.Header.Get("Origin")
	if s == "" {
		s = req.Header.Get("Sec-WebSocket-Origin") // pre-RFC drafts
	}
	if s == "" {
		// Not a browser: the origin model does not apply (RFC 6455 section 1.6).
		return ""
	}
	o, err := parseOrigin(s)
	if err != nil {
		return "invalid origin " + strconv.Quote(s)
	}
	if st.cfg.SameOrigin {
		h, p, err := hostPort(req.Host, req.TLS != nil)
		if err != nil || h != o.host || p != o.port {
			return "not same origin"
		}
	}
	if len(st.origins) > 0 {
		for _, a := range st.origins {
			if a == o {
				return ""
			}
		}
		return "not in the allowed list"
	}
	return ""
}

// headerHasToken reports whether a comma-separated header contains token,
// compared without regard to case.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// acceptDeflate looks for a permessage-deflate offer that the server can
// take. Any offer is accepted the way upstream does, except one asking the
// server for a window smaller than 32 KiB, which this compressor cannot
// honour (RFC 7692 section 7.1.2.1 says to decline it). client_max_window_bits
// needs nothing: the decompressor always has a 32 KiB window.
func acceptDeflate(h http.Header) (ok, windowBits bool) {
	for _, v := range h.Values("Sec-WebSocket-Extensions") {
	offers:
		for offer := range strings.SplitSeq(v, ",") {
			params := strings.Split(offer, ";")
			if !strings.EqualFold(strings.TrimSpace(params[0]), "permessage-deflate") {
				continue
			}
			wb := false
			for _, p := range params[1:] {
				name, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				name = strings.ToLower(strings.TrimSpace(name))
				val = strings.Trim(strings.TrimSpace(val), `"`)
				switch name {
				case "server_no_context_takeover", "client_no_context_takeover", "client_max_window_bits":
				case "server_max_window_bits":
					if val != "15" {
						continue offers
					}
					wb = true
				default:
					continue offers
				}
			}
			return true, wb
		}
	}
	return false, false
}

// pickSubprotocol returns the first protocol offered by the client that
// the server supports.
func pickSubprotocol(h http.Header, supported []string) string {
	for _, v := range h.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			p = strings.TrimSpace(p)
			for _, s := range supported {
				if p == s {
					return s
				}
			}
		}
	}
	return ""
}

// acceptKey computes Sec-WebSocket-Accept (RFC 6455 section 4.2.2).
func acceptKey(key string) string {
	h := sha1.New()
	io.WriteString(h, key)
	io.WriteString(h, acceptGUID)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// writeHTTPError answers a failed handshake. Like upstream, it names the
// supported version on every failure, which RFC 6455 requires for 426.
func writeHTTPError(nc net.Conn, status int) {
	body := http.StatusText(status) + "\n"
	resp := "HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Connection: close\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	io.WriteString(nc, resp)
}
