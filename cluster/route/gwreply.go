package route

import (
	"natsd.dev/cluster/internal/gwurls"
	"natsd.dev/server"
)

// routeTo is the cluster's gwurls.RouteFunc: the link to the peer whose
// server ID match accepts that carries account, its dedicated route or
// the pool connection for the account (the one the account's interest
// is announced on), as upstream's gateway picks the route of a mapped
// reply.
func (c *Cluster) routeTo(account string, match func(serverID string) bool) *server.Link {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, p := range c.routes {
		if !match(id) {
			continue
		}
		if r := p.pinned[account]; r != nil && r.registered {
			return r.link
		}
		idx := 0
		if !p.noPool {
			idx = poolIdx(account, c.pool().size)
		}
		if idx < len(p.conns) {
			if r := p.conns[idx]; r != nil && r.registered {
				return r.link
			}
		}
		return nil
	}
	return nil
}

// unmapReply is what a routed message's subject becomes: a reply mapped
// for this cluster's gateway is delivered with its original subject, one
// for another cluster dropped (drop), as upstream does.
func (c *Cluster) unmapReply(subject []byte) (out []byte, drop bool) {
	if len(subject) < 5 || subject[0] != '_' || subject[1] != 'G' {
		return subject, false
	}
	return gwurls.UnmapReply(c.s, subject)
}
