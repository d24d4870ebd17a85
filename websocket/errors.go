package websocket

import (
	"errors"
	"net"
	"strconv"
)

// ErrCloseSent is returned by Write once a close frame has been sent on the
// connection, either by Close/CloseWithStatus or in answer to the peer's
// close frame or protocol violation: RFC 6455 forbids data after it.
var ErrCloseSent = errors.New("websocket: close frame already sent")

// CloseError is returned by Conn.Read when the peer broke the protocol. The
// connection already sent a close frame with Code and Reason; the caller
// only has to Close it. A close frame from the peer is not a CloseError:
// Read returns io.EOF for it, as TCP would.
type CloseError struct {
	Code   StatusCode
	Reason string
}

func (e *CloseError) Error() string {
	return "websocket: closed with " + strconv.Itoa(int(e.Code)) + " (" + e.Code.String() + "): " + e.Reason
}

// HandshakeError describes an opening handshake that failed. It is passed
// to Config.OnHandshakeError; a Config.CheckRequest hook may also return
// one to choose the HTTP status of the rejection. Dial and
// ClientHandshake return one for an answer that does not upgrade.
type HandshakeError struct {
	// Status is the HTTP status sent to the client, or 0 when nothing was
	// sent (the client went away, timed out or failed the TLS handshake).
	// For a client end (Dial, ClientHandshake) it is the status the
	// server answered, 0 when the answer did not parse.
	Status int
	// Reason says what was wrong, in a few words. When Status is not 0
	// it is also the body of the HTTP answer.
	Reason string
	// RemoteAddr is the client's address.
	RemoteAddr net.Addr
	// Err is the underlying error, if any.
	Err error
}

func (e *HandshakeError) Error() string {
	s := "websocket: handshake"
	if e.RemoteAddr != nil {
		s += " from " + e.RemoteAddr.String()
	}
	if e.Status != 0 {
		s += " rejected with " + strconv.Itoa(e.Status)
	} else {
		s += " failed"
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *HandshakeError) Unwrap() error { return e.Err }
