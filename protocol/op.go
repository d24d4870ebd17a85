package protocol

// Op identifies a protocol operation.
type Op uint8

// The operations of the client protocol and of the route, gateway and
// leafnode protocols. The comment after each names its wire form; the
// package documentation lists the exact argument layouts.
const (
	OpUnknown Op = iota
	OpInfo       // INFO {json}
	OpConnect    // CONNECT {json}
	OpPub        // PUB <subject> [reply] <size>
	OpHPub       // HPUB <subject> [reply] <hdr size> <total size>
	OpSub        // SUB <subject> [queue] <sid>
	OpUnsub      // UNSUB <sid> [max]
	OpMsg        // MSG (RoleServer only)
	OpHMsg       // HMSG (layout depends on Role)
	OpPing       // PING
	OpPong       // PONG
	OpOK         // +OK
	OpErr        // -ERR 'text'
	OpRSub       // RS+ [account] <subject> [<queue> <weight>]
	OpRUnsub     // RS- [account] <subject> [<queue>]
	OpRMsg       // RMSG [account] <subject> [reply-or-queues] <size>
	OpLSub       // LS+ (layout depends on Role)
	OpLUnsub     // LS- (layout depends on Role)
	OpLMsg       // LMSG (layout depends on Role)
	OpASub       // A+ <account>
	OpAUnsub     // A- <account>

	numOps
)

var opStrings = [numOps]string{
	OpUnknown: "UNKNOWN",
	OpInfo:    "INFO",
	OpConnect: "CONNECT",
	OpPub:     "PUB",
	OpHPub:    "HPUB",
	OpSub:     "SUB",
	OpUnsub:   "UNSUB",
	OpMsg:     "MSG",
	OpHMsg:    "HMSG",
	OpPing:    "PING",
	OpPong:    "PONG",
	OpOK:      "+OK",
	OpErr:     "-ERR",
	OpRSub:    "RS+",
	OpRUnsub:  "RS-",
	OpRMsg:    "RMSG",
	OpLSub:    "LS+",
	OpLUnsub:  "LS-",
	OpLMsg:    "LMSG",
	OpASub:    "A+",
	OpAUnsub:  "A-",
}

// String returns the operation's name as written on the wire ("PUB",
// "RS+", "+OK", ...), or "UNKNOWN" for OpUnknown and values out of range.
func (o Op) String() string {
	if o < numOps {
		return opStrings[o]
	}
	return "UNKNOWN"
}

// Role says whose bytes are being parsed; it decides which operations are
// accepted and how the arguments of MSG, HMSG, LS+, LS- and LMSG are read.
type Role uint8

const (
	// RoleClient parses bytes a client sends to a server (the zero value).
	RoleClient Role = iota
	// RoleServer parses bytes a server sends to a client:
	// MSG <subject> <sid> [reply] <size> and
	// HMSG <subject> <sid> [reply] <hdr> <total>.
	RoleServer
	// RoleRoute parses bytes a route or gateway peer sends (RS+, RS-,
	// RMSG, A+, A-, HMSG with an account, LS+/LS-/LMSG with an origin
	// cluster).
	RoleRoute
	// RoleLeaf parses bytes a leafnode peer sends (LS+, LS-, LMSG and
	// HMSG without an account).
	RoleLeaf
)

// String returns "client", "server", "route" or "leaf".
func (r Role) String() string {
	switch r {
	case RoleClient:
		return "client"
	case RoleServer:
		return "server"
	case RoleRoute:
		return "route"
	case RoleLeaf:
		return "leaf"
	}
	return "unknown"
}

// Which operations each role accepts. Everything else is an unknown
// operation for that role, as upstream's parser rejects inter-server verbs
// on client connections.
var roleOps = [4]uint32{
	RoleClient: 1<<OpInfo | 1<<OpConnect | 1<<OpPub | 1<<OpHPub | 1<<OpSub | 1<<OpUnsub |
		1<<OpPing | 1<<OpPong | 1<<OpOK | 1<<OpErr,
	RoleServer: 1<<OpInfo | 1<<OpMsg | 1<<OpHMsg | 1<<OpPing | 1<<OpPong | 1<<OpOK | 1<<OpErr,
	RoleRoute: 1<<OpInfo | 1<<OpConnect | 1<<OpPing | 1<<OpPong | 1<<OpOK | 1<<OpErr |
		1<<OpRSub | 1<<OpRUnsub | 1<<OpRMsg | 1<<OpHMsg | 1<<OpLSub | 1<<OpLUnsub | 1<<OpLMsg |
		1<<OpASub | 1<<OpAUnsub,
	RoleLeaf: 1<<OpInfo | 1<<OpConnect | 1<<OpPing | 1<<OpPong | 1<<OpOK | 1<<OpErr |
		1<<OpLSub | 1<<OpLUnsub | 1<<OpLMsg | 1<<OpHMsg,
}

// Accepts reports whether a parser in role r accepts operation o.
func (r Role) Accepts(o Op) bool {
	return r < 4 && o < numOps && roleOps[r]&(1<<o) != 0
}
