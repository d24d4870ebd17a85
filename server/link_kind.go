package server

import (
	"strconv"
	"time"

	"natsd.dev/protocol"
)

// ConnKind is the kind of a connection as the delivery path sees it: where
// a message or an interest came from (its origin), and the kind of a link
// it may be forwarded to.
type ConnKind uint8

// Kinds of connections.
const (
	// ConnClient is a NATS client connection.
	ConnClient ConnKind = iota
	// ConnInProcess is an in-process user (InternalClient, system
	// services, JetStream).
	ConnInProcess
	// ConnRoute is a route to a server of the same cluster.
	ConnRoute
	// ConnGateway is a gateway to another cluster.
	ConnGateway
	// ConnLeaf is a leaf node connection.
	ConnLeaf
	// ConnHub is not a link kind but an origin: messages and interest
	// from the hub over a leaf node connection this server is the spoke
	// of (LinkConfig.Origin, Link.SetOrigin). As upstream, a spoke never
	// forwards its hub's messages nor announces its hub's interest over
	// its routes or gateways: the hub's cluster reaches the spoke's
	// cluster through each spoke's own connection.
	ConnHub

	numConnKinds
)

var connKindNames = [numConnKinds]string{"client", "in-process", "route", "gateway", "leaf", "hub"}

// connKindTags are the letters of the links' log prefixes ("rid:N").
var connKindTags = [numConnKinds]string{"cid", "cid", "rid", "gid", "lid", "lid"}

// String returns the kind's name ("client", "route", ...).
func (k ConnKind) String() string {
	if k < numConnKinds {
		return connKindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// IsLink reports whether k is a kind of inter-server link.
func (k ConnKind) IsLink() bool { return k >= ConnRoute && k < numConnKinds }

// ForwardPolicy says from which origins messages may be delivered to a
// link: a set of ConnKinds. The delivery path asks it for every link
// interest a message matches; it never tests for a link's kind.
type ForwardPolicy uint8

// ForwardFrom returns the policy that admits messages from the given
// origins.
func ForwardFrom(origins ...ConnKind) ForwardPolicy {
	var p ForwardPolicy
	for _, k := range origins {
		p |= 1 << k
	}
	return p
}

// Allows reports whether a message that arrived from origin may be
// delivered to a link with this policy.
func (p ForwardPolicy) Allows(origin ConnKind) bool { return p&(1<<origin) != 0 }

// DefaultForwardPolicy is the forwarding table of the link kinds, as
// upstream forwards:
//
//	to \ from   client  in-process  route  gateway  leaf  hub
//	route       yes     yes         no     yes      yes   no    (one hop in the cluster)
//	gateway     yes     yes         no     no       yes   no    (by interest mode, in the gateway kind)
//	leaf        yes     yes         yes    yes      yes   yes   (loops detected by the leaf kind)
//
// Other kinds (and ConnHub, an origin only) forward nothing.
func DefaultForwardPolicy(kind ConnKind) ForwardPolicy {
	switch kind {
	case ConnRoute:
		return ForwardFrom(ConnClient, ConnInProcess, ConnGateway, ConnLeaf)
	case ConnGateway:
		return ForwardFrom(ConnClient, ConnInProcess, ConnLeaf)
	case ConnLeaf:
		return ForwardFrom(ConnClient, ConnInProcess, ConnRoute, ConnGateway, ConnLeaf, ConnHub)
	}
	return 0
}

// LinkEncoder writes the control line of a message delivered to a link
// (RMSG/HMSG for routes, LMSG for leaf nodes). It runs on publishers'
// goroutines, concurrently, under the link's lock: it must not block,
// keep any argument, or allocate.
type LinkEncoder interface {
	// AppendMsgHeader appends the control line, CRLF included, of a
	// message on subject with reply (may be empty) for the queue groups
	// queues (may be empty), and returns the extended dst. account is nil
	// on a link pinned to one account. hdrLen is the header length at the
	// start of the payload, -1 without headers; size is the payload
	// length. It appends at most LinkMsgOverhead bytes beyond the lengths
	// of account, subject, reply and the queue names plus one per queue.
	AppendMsgHeader(dst, account, subject, reply []byte, queues [][]byte, hdrLen, size int) []byte
}

// OriginEncoder is a LinkEncoder that also writes the message of a leaf
// node of cluster origin (LMSG over a route). When a link's encoder
// implements it, the messages that came from a leaf node with a cluster
// name reach the link in this form. Same rules as AppendMsgHeader; it
// appends at most LinkMsgOverhead bytes beyond the names (origin
// included).
type OriginEncoder interface {
	LinkEncoder
	AppendOriginMsgHeader(dst, origin, account, subject, reply []byte, queues [][]byte, hdrLen, size int) []byte
}

// LinkMsgOverhead bounds what a LinkEncoder appends beyond the names.
const LinkMsgOverhead = 64

// RouteEncoder encodes RMSG and HMSG, the route protocol's messages. Its
// zero value is ready.
type RouteEncoder struct{}

// AppendMsgHeader implements LinkEncoder.
func (RouteEncoder) AppendMsgHeader(dst, account, subject, reply []byte, queues [][]byte, hdrLen, size int) []byte {
	if hdrLen >= 0 {
		return protocol.AppendRHMsgHeader(dst, account, subject, reply, queues, hdrLen, size)
	}
	return protocol.AppendRMsgHeader(dst, account, subject, reply, queues, size)
}

// AppendOriginMsgHeader implements OriginEncoder: LMSG with the origin
// cluster, upstream's form of a leaf node's message over a route.
func (RouteEncoder) AppendOriginMsgHeader(dst, origin, account, subject, reply []byte, queues [][]byte, hdrLen, size int) []byte {
	return protocol.AppendRouteLMsgHeader(dst, origin, account, subject, reply, queues, hdrLen, size)
}

// LinkConfig is how a link kind configures each of its links (NewLink).
type LinkConfig struct {
	// Kind is the link's kind (ConnRoute, ConnGateway, ConnLeaf): the
	// origin reported for the interest it registers and matched against
	// forwarding policies for the messages it delivers. Zero (ConnClient)
	// means ConnRoute.
	Kind ConnKind
	// Encoder writes messages delivered to the link; nil is RouteEncoder.
	Encoder LinkEncoder
	// Forward says which origins' messages the link gets; zero is
	// DefaultForwardPolicy(Kind).
	Forward ForwardPolicy
	// Origin is the origin reported for the interest the link registers
	// and matched against forwarding policies for the messages it
	// delivers; zero is Kind. A leaf kind gives ConnHub to the links of
	// which this server is the spoke.
	Origin ConnKind
	// Reasons are the texts of the kind's own close reasons:
	// Reasons[i] names LinkKindReason+i (see Link.ReasonText).
	Reasons []string
	// OnClose, if not nil, runs once when the link closes, on the
	// goroutine that closed it; it must not block.
	OnClose func(LinkCloseReason)
	// QueueLast makes the link's queue members the last choice of a
	// queue group: one is picked only when no local member and no
	// member of a link without QueueLast is there (a gateway: members
	// in the local cluster first, as upstream).
	QueueLast bool
	// WriteDeadline bounds one write to the peer; zero is the server's
	// write_deadline (a gateway's or a route's own write_deadline).
	WriteDeadline time.Duration
	// CloseOnWriteTimeout closes the link when a write passes its
	// deadline (upstream's write_timeout "close"); without it the link
	// is reported as a slow consumer and the write goes on (upstream's
	// "retry", the default of routes, gateways and leaf nodes).
	CloseOnWriteTimeout bool
}

// LinkCloseReason says why a link closed. The values below LinkKindReason
// are the core's, the same for every kind; a kind numbers its own from
// LinkKindReason up and names them in LinkConfig.Reasons.
type LinkCloseReason uint8

// Reasons for closing a link that every kind shares.
const (
	LinkClientClosed LinkCloseReason = iota
	LinkServerShutdown
	LinkAuthViolation
	LinkProtocolViolation
	LinkParseError
	LinkStaleConnection
	LinkReadError
	LinkAuthTimeout
	LinkSlowConsumerPending
	LinkSlowConsumerWriteDeadline
	LinkWriteError
)

// LinkKindReason is the first close reason a link kind defines itself.
// A kind's reasons flush what is queued before the socket closes (a final
// -ERR reaches the peer).
const LinkKindReason LinkCloseReason = 64

// reasonKindBase is where a kind's reasons sit among the closeReasons.
const reasonKindBase closeReason = 128

var linkReasons = [...]closeReason{
	LinkClientClosed:              reasonClientClosed,
	LinkServerShutdown:            reasonServerShutdown,
	LinkAuthViolation:             reasonAuthViolation,
	LinkProtocolViolation:         reasonProtocolViolation,
	LinkParseError:                reasonParseError,
	LinkStaleConnection:           reasonStaleConnection,
	LinkReadError:                 reasonReadError,
	LinkAuthTimeout:               reasonAuthTimeout,
	LinkSlowConsumerPending:       reasonSlowConsumerPending,
	LinkSlowConsumerWriteDeadline: reasonSlowConsumerWriteDeadline,
	LinkWriteError:                reasonWriteError,
}

func (r LinkCloseReason) reason() closeReason {
	if r >= LinkKindReason && r < LinkKindReason+64 {
		return reasonKindBase + closeReason(r-LinkKindReason)
	}
	if int(r) < len(linkReasons) {
		return linkReasons[r]
	}
	return reasonClientClosed
}

// linkReason maps a connection's close reason back to the link's.
func linkReason(reason closeReason) LinkCloseReason {
	if reason >= reasonKindBase {
		return LinkKindReason + LinkCloseReason(reason-reasonKindBase)
	}
	for i, r := range linkReasons {
		if r == reason {
			return LinkCloseReason(i)
		}
	}
	return LinkClientClosed
}

// String returns upstream's text for a shared reason ("Server Shutdown",
// ...); a kind's own reasons are named by Link.ReasonText.
func (r LinkCloseReason) String() string {
	if r >= LinkKindReason {
		return "Link Close Reason " + strconv.Itoa(int(r))
	}
	return r.reason().String()
}
