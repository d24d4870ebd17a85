package gwurls

import (
	"bytes"
	"sync"

	"natsd.dev/server"
)

// Mapped replies inside a cluster, as upstream routes them: a server that
// reads a reply mapped for another server of its cluster off a gateway
// ("_GR_.<cluster hash>.<server hash>.<reply>") sends it, as it is, over
// the route to that server (RouteTo, which the route module sets); a
// server that reads such a reply off a route delivers it with its
// original subject (UnmapReply, with the cluster hash the gateway module
// sets).

// Upstream's reply prefix and the offsets of its parts.
const (
	grPrefix     = "_GR_."
	grHashLen    = 6
	grServerOff  = len(grPrefix) + grHashLen + 1
	grSubjectOff = grServerOff + grHashLen + 1
)

// RouteFunc returns the route link to the cluster peer whose server ID
// match accepts that carries account's messages (its dedicated route,
// or the pool connection for the account), nil when there is none.
type RouteFunc func(account string, match func(serverID string) bool) *server.Link

var (
	replyCluster sync.Map // *server.Server -> string (cluster hash)
	routeTo      sync.Map // *server.Server -> RouteFunc
)

// SetReplyCluster sets the hash of s's gateway (cluster) name, "" when
// s has no gateway.
func SetReplyCluster(s *server.Server, hash string) {
	if hash == "" {
		replyCluster.Delete(s)
		return
	}
	replyCluster.Store(s, hash)
}

// UnmapReply tells the route module what to do with a routed message on
// subject: when s has a gateway and subject is a reply mapped for s's
// cluster, deliver the original reply (out); one mapped for another
// cluster is dropped (drop), as upstream does; anything else is
// delivered as it is.
func UnmapReply(s *server.Server, subject []byte) (out []byte, drop bool) {
	if !bytes.HasPrefix(subject, []byte(grPrefix)) {
		return subject, false
	}
	v, ok := replyCluster.Load(s)
	if !ok {
		return subject, false
	}
	if len(subject) <= grSubjectOff || subject[grServerOff-1] != '.' || subject[grSubjectOff-1] != '.' ||
		string(subject[len(grPrefix):len(grPrefix)+grHashLen]) != v.(string) {
		return nil, true
	}
	return subject[grSubjectOff:], false
}

// SetRouteTo sets s's RouteFunc (nil: none).
func SetRouteTo(s *server.Server, f RouteFunc) {
	if f == nil {
		routeTo.Delete(s)
		return
	}
	routeTo.Store(s, f)
}

// RouteTo returns s's RouteFunc, nil when s has no routes module.
func RouteTo(s *server.Server) RouteFunc {
	if v, ok := routeTo.Load(s); ok {
		return v.(RouteFunc)
	}
	return nil
}
