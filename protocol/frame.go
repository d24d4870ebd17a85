package protocol

// Frame is one parsed operation. Every slice is a view into the caller's
// buffer (or the parser's scratch space when an operation spans two Parse
// calls) and is valid only until the handler returns; copy what you keep.
// Fields an operation does not carry are nil, except HeaderLen (-1) and
// Weight (0).
type Frame struct {
	Op      Op
	Account []byte // RS+, RS-, RMSG, route HMSG, route LS+/LS-/LMSG, A+, A-
	// Origin is the origin cluster of LS+, LS- and LMSG received over a
	// route (a subscription or message that came from a leafnode).
	Origin  []byte
	Subject []byte
	Reply   []byte
	Queue   []byte   // SUB, RS+, RS-, LS+, LS-
	Queues  [][]byte // queue names carried by RMSG/LMSG/route or leaf HMSG
	SID     []byte   // SUB, UNSUB, RoleServer MSG/HMSG
	Weight  int32    // RS+/LS+ queue weight (1 when absent)
	// Max is UNSUB's maximum number of messages; 0 when absent or not a
	// number (upstream then unsubscribes at once, as for 0).
	Max int64
	// HeaderLen is the length of the header block at the start of Payload
	// for HPUB, HMSG and route LMSG; -1 when the operation has no headers.
	HeaderLen int
	// Payload holds the message bytes (headers included) without the
	// trailing CRLF.
	Payload []byte
	// Arg is the JSON text of INFO/CONNECT (surrounding blanks removed)
	// and the text of -ERR with the surrounding single quotes removed.
	Arg []byte
}

// Header returns the header block of an HPUB/HMSG frame, or nil.
func (f *Frame) Header() []byte {
	if f.HeaderLen < 0 || f.HeaderLen > len(f.Payload) {
		return nil
	}
	return f.Payload[:f.HeaderLen]
}

// Body returns the message body: Payload without the header block.
func (f *Frame) Body() []byte {
	if f.HeaderLen <= 0 || f.HeaderLen > len(f.Payload) {
		return f.Payload
	}
	return f.Payload[f.HeaderLen:]
}

// Handler receives parsed frames. An error returned by HandleFrame stops
// Parse and is returned from it unchanged.
type Handler interface {
	HandleFrame(f *Frame) error
}

// LineHandler is a Handler that also wants a message operation (PUB, HPUB,
// MSG, HMSG, RMSG, LMSG) as soon as its control line is parsed, before
// its payload is read: HandleLine gets the Frame without Payload, once
// per operation however the input is split, and HandleFrame later gets
// it complete. A server checks there what upstream checks at the control
// line (a publish subject, headers support), so that its answer comes
// even when the payload then proves malformed. An error returned by
// HandleLine stops Parse and is returned from it unchanged.
type LineHandler interface {
	Handler
	HandleLine(f *Frame) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(f *Frame) error

// HandleFrame calls fn(f).
func (fn HandlerFunc) HandleFrame(f *Frame) error { return fn(f) }
