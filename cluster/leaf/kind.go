package leaf

import (
	"natsd.dev/protocol"
	"natsd.dev/server"
)

// The leaf kind's own close reasons (server.LinkKindReason up), with
// upstream's texts for the logs.
const (
	// ReasonDuplicateLeaf closes the older of two connections from the
	// same server bound to the same account.
	ReasonDuplicateLeaf = server.LinkKindReason + iota
	// ReasonClusterNamesIdentical refuses a leaf node of our own cluster.
	ReasonClusterNamesIdentical
	// ReasonWrongGateway refuses a gateway on the leaf node port.
	ReasonWrongGateway
	// ReasonWrongPort refuses a client on the leaf node port, or a remote
	// that dialed another kind of port.
	ReasonWrongPort
	// ReasonMissingAccount closes a remote whose local account is gone.
	ReasonMissingAccount
	// ReasonMinimumVersion refuses a leaf node older than min_version.
	ReasonMinimumVersion
	// ReasonMaxAccountConnections refuses a leaf node whose account has
	// max_leafnodes leaf connections already.
	ReasonMaxAccountConnections
)

var leafReasons = []string{
	ReasonDuplicateLeaf - server.LinkKindReason:         "Duplicate Remote LeafNode Connection",
	ReasonClusterNamesIdentical - server.LinkKindReason: "Cluster Names Identical",
	ReasonWrongGateway - server.LinkKindReason:          "Wrong Gateway",
	ReasonWrongPort - server.LinkKindReason:             "Wrong Port",
	ReasonMissingAccount - server.LinkKindReason:        "Missing Account",
	ReasonMinimumVersion - server.LinkKindReason:        "Minimum Version Required",
	ReasonMaxAccountConnections - server.LinkKindReason: "Maximum Account Connections Exceeded",
}

// reasonText is the log text of a leaf connection's close reason.
func reasonText(reason server.LinkCloseReason) string {
	if i := int(reason) - int(server.LinkKindReason); i >= 0 && i < len(leafReasons) {
		return leafReasons[i]
	}
	return reason.String()
}

// Encoder writes the messages delivered to a leaf node connection: LMSG,
// and HMSG in its leaf form for messages with headers. A leaf connection
// is bound to one account, so neither names it. Its zero value is ready.
type Encoder struct{}

// AppendMsgHeader implements server.LinkEncoder; account is ignored.
func (Encoder) AppendMsgHeader(dst, _, subject, reply []byte, queues [][]byte, hdrLen, size int) []byte {
	if hdrLen >= 0 {
		return protocol.AppendLHMsgHeader(dst, subject, reply, queues, hdrLen, size)
	}
	return protocol.AppendLMsgHeader(dst, subject, reply, queues, size)
}

// Forwarding policies. The hub side of a connection gets what every
// origin published (its leaf announced interest in it); the spoke side
// (this server dialed a hub) gets nothing that came over a route: every
// server of a leaf's cluster has its own connection to the hub, and a
// routed message already left through the connection of the server it
// was published on. What the spoke side receives has the origin ConnHub,
// which routes and gateways never get (the hub's messages reach every
// server of the leaf's cluster through its own connection).
var (
	hubForward   = server.DefaultForwardPolicy(server.ConnLeaf)
	spokeForward = server.ForwardFrom(server.ConnClient, server.ConnInProcess, server.ConnGateway, server.ConnLeaf, server.ConnHub)
)
