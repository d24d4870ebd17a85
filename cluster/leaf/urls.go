package leaf

import (
	"encoding/json"
	"slices"

	"natsd.dev/cluster/internal/leafurls"
	"natsd.dev/protocol"
)

// The leaf node URLs of the hub's cluster, as upstream gossips them: a
// server with a leaf node listener gives its URL (unless no_advertise) to
// its routes, which send it to every peer in their INFO (leafnode_urls);
// the INFO this server sends its leaf nodes lists its own URL and the
// peers', and goes again to every accepted connection when the peers'
// change. A remote adds them to its URLs (remote.addURLs) and, when its
// hub goes away, dials the next one: it fails over to another server of
// the hub's cluster.

// watchURLs publishes this server's URL for the routes and watches the
// peers'.
func (lf *Leaf) watchURLs() {
	if lf.ln != nil && !lf.o.NoAdvertise && lf.info.IP != "" {
		leafurls.SetLocal(lf.s, []string{lf.info.IP})
		lf.advertised = true
	}
	lf.unwatchURLs = leafurls.WatchRemote(lf.s, lf.sendURLs)
}

// unwatch ends watchURLs (Shutdown).
func (lf *Leaf) unwatch() {
	if lf.unwatchURLs != nil {
		lf.unwatchURLs()
	}
	if lf.advertised {
		leafurls.ClearLocal(lf.s, []string{lf.info.IP})
	}
}

// leafNodeURLs are the URLs the INFO to a leaf node lists: always this
// server's own (even with no_advertise: upstream's remotes take an INFO
// without leaf node URLs for another port's), then the peers'.
func (lf *Leaf) leafNodeURLs() []string {
	urls := []string{lf.info.IP}
	for _, u := range leafurls.Remote(lf.s) {
		if !slices.Contains(urls, u) {
			urls = append(urls, u)
		}
	}
	return urls
}

// sendURLs sends every accepted connection past its handshake an INFO
// with the cluster's leaf node URLs, which changed.
func (lf *Leaf) sendURLs() {
	urls := lf.leafNodeURLs()
	lf.mu.Lock()
	var conns []*conn
	for c := range lf.conns {
		if !c.solicited && c.isReady() {
			conns = append(conns, c)
		}
	}
	lf.mu.Unlock()
	ws := lf.s.WebsocketConnectURLs()
	for _, c := range conns {
		info := lf.info
		info.CID = c.link.ID()
		info.Cluster = lf.s.ClusterName()
		info.LeafNodeURLs = urls
		info.WSConnectURLs = ws
		b, _ := json.Marshal(&info)
		_ = c.link.Write(protocol.AppendInfo(nil, b))
	}
}
