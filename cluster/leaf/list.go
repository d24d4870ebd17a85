package leaf

import (
	"sort"
	"time"

	"natsd.dev/server"
)

// connInfo describes one leaf node connection for monitoring (/leafz,
// the leaf section of /varz): what upstream's Leafz lists.
type connInfo struct {
	ID            uint64
	Name          string // the remote server's name
	Cluster       string // the remote server's cluster, if any
	Account       string // the local account the connection is bound to
	RemoteAccount string // the account the other side bound it to
	IP            string
	Port          int
	Solicited     bool // we dialed it (we are the leaf); else we are its hub
	Spoke         bool
	RTT           time.Duration
	Compression   string // the mode settled on ("off", "not supported", a level)
	Stats         server.LinkStats
	// Subs lists the peer's interest ("subject" or "subject queue").
	Subs []string
}

// connections lists the leaf node connections past their handshake, by
// connection id; with subs, each with the interest its peer registered.
func (lf *Leaf) connections(subs bool) []connInfo {
	lf.mu.Lock()
	conns := make([]*conn, 0, len(lf.conns))
	for c := range lf.conns {
		if c.isReady() {
			conns = append(conns, c)
		}
	}
	lf.mu.Unlock()
	out := make([]connInfo, 0, len(conns))
	for _, c := range conns {
		c.mu.Lock()
		ci := connInfo{
			ID: c.link.ID(), Name: c.remoteName, Cluster: c.remoteCluster, Account: c.account,
			RemoteAccount: c.remoteAccount, IP: c.host, Port: c.port, Solicited: c.solicited,
			Spoke: c.spoke.Load(), RTT: c.rtt, Compression: c.compression,
		}
		c.mu.Unlock()
		ci.Stats = c.link.Stats()
		if subs {
			ci.Subs, _ = c.link.Subjects(false)
			sort.Strings(ci.Subs)
		}
		out = append(out, ci)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
