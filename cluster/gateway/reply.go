package gateway

import (
	"bytes"
	"crypto/sha256"

	"natsd.dev/cluster/internal/gwurls"
	"natsd.dev/protocol"
	"natsd.dev/server"
)

// Reply mapping, as upstream: the reply subject of a message leaving over
// a gateway becomes "_GR_.<cluster hash>.<server hash>.<reply>", the
// hashes of this cluster's gateway name and of this server's ID. A
// responder in the remote cluster answers on that subject; its server
// sends it to the gateway whose cluster hash it names (each outbound
// connection holds the interest "_GR_.<remote hash>.>" in every
// account), and the server here that reads it restores the reply and
// delivers it.

// Upstream's reply prefix and hash length.
const (
	grPrefix     = "_GR_."
	oldGRPrefix  = "$GR."
	grHashLen    = 6
	grServerOff  = len(grPrefix) + grHashLen + 1
	grSubjectOff = grServerOff + grHashLen + 1
)

// grHash returns the 6 base62 characters upstream derives from name
// (the first bytes of its SHA-256, each reduced modulo 62).
func grHash(name string) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	sum := sha256.Sum256([]byte(name))
	var b [grHashLen]byte
	for i := range b {
		b[i] = digits[int(sum[i]%62)]
	}
	return string(b[:])
}

// grReplyPrefix returns "_GR_.<cluster hash>.<server hash>." for a
// cluster's gateway name and a server's ID.
func grReplyPrefix(cluster, serverID string) []byte {
	return []byte(grPrefix + grHash(cluster) + "." + grHash(serverID) + ".")
}

// grEncoder is the gateway links' encoder: RMSG/HMSG with the reply
// mapped. The prefix adds 19 bytes, within server.LinkMsgOverhead
// beyond the route form's own at most 33.
type grEncoder struct {
	prefix []byte // "_GR_.<cluster hash>.<server hash>."
}

// AppendMsgHeader implements server.LinkEncoder.
func (e grEncoder) AppendMsgHeader(dst, account, subject, reply []byte, queues [][]byte, hdrLen, size int) []byte {
	if len(reply) > 0 && !isGRSubject(reply) && !bytes.HasPrefix(reply, jsAckPrefix) {
		var buf [256]byte
		var r []byte
		if len(e.prefix)+len(reply) <= len(buf) {
			r = buf[:0]
		}
		r = append(r, e.prefix...)
		reply = append(r, reply...)
	}
	return server.RouteEncoder{}.AppendMsgHeader(dst, account, subject, reply, queues, hdrLen, size)
}

// jsAckPrefix starts the acknowledgement replies of JetStream
// deliveries. They are never mapped: the server holding the consumer
// always holds the interest in them (announced to every gateway), and a
// delivery's reply carries the subject it is presented under after '@'
// ("$JS.ACK.<tokens>@<subject>"), which the receiving server recognises
// by the prefix alone, as upstream's, whose mapping only touches replies
// a recent subscription of the account matches.
var jsAckPrefix = []byte("$JS.ACK.")

// isGRSubject tells whether subject is a mapped reply (upstream's
// current or old prefix).
func isGRSubject(subject []byte) bool {
	return bytes.HasPrefix(subject, []byte(grPrefix)) || bytes.HasPrefix(subject, []byte(oldGRPrefix))
}

// grInterest returns the subject of the interest an outbound connection
// to the cluster named remote holds in every account: the replies mapped
// by that cluster's servers.
func grInterest(remote string) []byte {
	return []byte(grPrefix + grHash(remote) + ".>")
}

// deliverReply handles a message of the remote on a mapped reply subject
// (the caller checked the prefix), as upstream: one for another server
// of this cluster goes, as it is, over the route to that server (found by
// its server hash), which restores the reply; one for this server, or
// for a server no route reaches, is delivered with its original subject
// to the interest it has here and over routes; one for another cluster,
// or in upstream's old form, is dropped.
func (c *conn) deliverReply(f *protocol.Frame) {
	s := f.Subject
	gw := c.gw
	if len(s) <= grSubjectOff || !bytes.HasPrefix(s, []byte(grPrefix)) ||
		string(s[len(grPrefix):len(grPrefix)+grHashLen]) != gw.grCluster || s[grServerOff-1] != '.' || s[grSubjectOff-1] != '.' {
		return
	}
	if !bytes.HasPrefix(s, gw.grPrefix) {
		if l := gw.routeByHash(string(f.Account), s[grServerOff:grSubjectOff-1]); l != nil {
			if l.WriteMsg(f.Account, s, f.Reply, f.HeaderLen, f.Payload) == nil {
				return
			}
		}
	}
	_ = c.link.Deliver(f.Account, s[grSubjectOff:], f.Reply, f.Queues, f.HeaderLen, f.Payload)
}

// routeByHash returns the route link to the server of this cluster whose
// ID hashes to hash that carries account, nil when there is none.
func (gw *Gateway) routeByHash(account string, hash []byte) *server.Link {
	routeTo := gwurls.RouteTo(gw.s)
	if routeTo == nil {
		return nil
	}
	return routeTo(account, func(id string) bool {
		return gw.idHash(id) == string(hash)
	})
}

// idHash returns grHash(id), remembered: the route peers' IDs.
func (gw *Gateway) idHash(id string) string {
	if h, ok := gw.idHashes.Load(id); ok {
		return h.(string)
	}
	h := grHash(id)
	gw.idHashes.Store(id, h)
	return h
}

// stats returns the link's counters, without the reply interest the
// connection holds of its own (upstream's counts only the remote's).
func (c *conn) stats() server.LinkStats {
	st := c.link.Stats()
	st.NumSubs -= int(c.grSubs.Load())
	return st
}
