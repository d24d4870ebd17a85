package protocol

import "errors"

// Sentinel errors returned by Parser.Parse. They are wrapped with detail
// (the offending state or arguments), so compare with errors.Is.
var (
	// ErrUnknownOp: the bytes do not start an operation the parser's Role
	// accepts (including an empty line, or a verb that needs arguments
	// followed by the end of the line).
	ErrUnknownOp = errors.New("protocol: unknown protocol operation")
	// ErrMaxControlLine: a control line (verb and arguments, without the
	// line end) is longer than the parser's limit. It is detected while
	// the line streams in, so at most limit+2 bytes are ever buffered.
	ErrMaxControlLine = errors.New("protocol: maximum control line exceeded")
	// ErrMaxPayload: a message's declared size is larger than MaxPayload.
	ErrMaxPayload = errors.New("protocol: maximum payload exceeded")
	// ErrBadArgs: wrong number or shape of arguments, a size that is not a
	// decimal number of 1 to 9 digits, a header size larger than the total
	// size, a bad reply indicator in RMSG/LMSG/HMSG.
	ErrBadArgs = errors.New("protocol: invalid arguments")
	// ErrMissingCRLF: a message payload is not followed by "\r\n".
	// (Upstream treats this as a parser error and sends
	// 'Unknown Protocol Operation'.)
	ErrMissingCRLF = errors.New("protocol: payload not followed by CRLF")
)

// Texts a server sends to clients in "-ERR '<text>'" for parser-level
// failures, as upstream nats-server sends them. They are protocol facts,
// kept apart from the Go error strings above.
const (
	// TextUnknownOp is sent for ErrUnknownOp and ErrMissingCRLF.
	TextUnknownOp = "Unknown Protocol Operation"
	// TextMaxControlLine is sent for ErrMaxControlLine. Upstream 2.x sends
	// its error value's text, which has been lower case since 2.2
	// ("maximum control line exceeded"); 1.x and 2.0/2.1 sent
	// "Maximum Control Line Exceeded".
	TextMaxControlLine = "maximum control line exceeded"
	// TextMaxPayload is sent for ErrMaxPayload.
	TextMaxPayload = "Maximum Payload Violation"
	// TextInvalidPubSubject is sent (without closing the connection) by a
	// server in pedantic mode for a PUB/HPUB to a subject that is not a
	// valid literal subject. The parser does not validate subjects.
	TextInvalidPubSubject = "Invalid Publish Subject"
	// TextInvalidSubject is sent for a SUB with an invalid subject.
	TextInvalidSubject = "Invalid Subject"
	// TextAuthViolation is sent when a connection that must authenticate
	// sends anything before CONNECT.
	TextAuthViolation = "Authorization Violation"
)

// ClientText returns the text a server sends in "-ERR '<text>'" before
// closing a client connection whose parser failed with err, or "" when
// upstream closes the connection without sending anything (bad arguments
// such as "PUB foo" or "SUB", and errors returned by a Handler).
func ClientText(err error) string {
	switch {
	case errors.Is(err, ErrUnknownOp), errors.Is(err, ErrMissingCRLF):
		return TextUnknownOp
	case errors.Is(err, ErrMaxControlLine):
		return TextMaxControlLine
	case errors.Is(err, ErrMaxPayload):
		return TextMaxPayload
	}
	return ""
}
