package server

// Texts sent to clients in -ERR, as upstream sends them. They are protocol
// constants, kept apart from Go error strings.
const (
	errTextMaxConns            = "maximum connections exceeded"
	errTextMaxSubs             = "maximum subscriptions exceeded"
	errTextMaxAccountConns     = "maximum account active connections exceeded"
	errTextInvalidPubSubject   = "Invalid Publish Subject"
	errTextInvalidSubject      = "Invalid Subject"
	errTextStale               = "Stale Connection"
	errTextNoRespondersHeaders = "no responders requires headers support"
	errTextBadClientProtocol   = "invalid client protocol"
)

// closeReason says why a connection closed, with upstream's wording (as
// /connz reports it).
type closeReason uint8

const (
	reasonClientClosed closeReason = iota
	reasonAuthTimeout
	reasonAuthViolation
	reasonSlowConsumerPending
	reasonSlowConsumerWriteDeadline
	reasonWriteError
	reasonReadError
	reasonParseError
	reasonStaleConnection
	reasonProtocolViolation
	reasonServerShutdown
	reasonMaxConnections
	reasonMaxPayload
	reasonMaxControlLine
	reasonTLSHandshakeError
	reasonMaxAccountConnections
	reasonKicked
	reasonDuplicateRoute
	reasonClusterNameConflict
	reasonRouteRemoved
	reasonUnauthMemory
	reasonBadClientProtocol
	reasonAuthExpired
	reasonAuthRevoked
)

var reasonText = [...]string{
	reasonClientClosed:              "Client Closed",
	reasonAuthTimeout:               "Authentication Timeout",
	reasonAuthViolation:             "Authentication Failure",
	reasonSlowConsumerPending:       "Slow Consumer (Pending Bytes)",
	reasonSlowConsumerWriteDeadline: "Slow Consumer (Write Deadline)",
	reasonWriteError:                "Write Error",
	reasonReadError:                 "Read Error",
	reasonParseError:                "Parse Error",
	reasonStaleConnection:           "Stale Connection",
	reasonProtocolViolation:         "Protocol Violation",
	reasonServerShutdown:            "Server Shutdown",
	reasonMaxConnections:            "Maximum Connections Exceeded",
	reasonMaxPayload:                "Maximum Message Payload Exceeded",
	reasonMaxControlLine:            "Maximum Control Line Exceeded",
	reasonTLSHandshakeError:         "TLS Handshake Error",
	reasonMaxAccountConnections:     "Maximum Account Connections Exceeded",
	reasonKicked:                    "Kicked",
	reasonDuplicateRoute:            "Duplicate Route",
	reasonClusterNameConflict:       "Cluster Name Conflict",
	reasonRouteRemoved:              "Route Removed",
	reasonUnauthMemory:              "Unauthenticated Memory Exceeded",
	reasonBadClientProtocol:         "Bad Client Protocol Version",
	reasonAuthExpired:               "Authentication Expired",
	reasonAuthRevoked:               "Credentials Revoked",
}

func (r closeReason) String() string {
	if int(r) < len(reasonText) {
		return reasonText[r]
	}
	return "Unknown"
}

// flushes reports whether pending output is still written before the
// socket closes: not when the peer is the problem.
func (r closeReason) flushes() bool {
	switch r {
	case reasonSlowConsumerPending, reasonSlowConsumerWriteDeadline, reasonWriteError, reasonReadError, reasonClientClosed, reasonTLSHandshakeError:
		return false
	}
	return true
}
