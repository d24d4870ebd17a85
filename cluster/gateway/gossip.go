package gateway

import (
	"net/url"
	"slices"

	"natsd.dev/cluster/internal/gwurls"
)

// Gossip over routes, as upstream: this server's gateway URL goes to its
// cluster peers in their route INFO (gateway_url); the peers' URLs join
// this server's INFO gateway_urls, sent again to the inbound connections
// when they change, so a remote cluster that knows one server of this
// cluster learns all. A remote cluster this server learns from a
// connection is announced to the peers, which dial it too.

// watchRoutes starts the gossip with the route module; the returned
// function ends it.
func (gw *Gateway) watchRoutes() func() {
	gwurls.SetLocal(gw.s, gw.info.GatewayURL)
	stopR := gwurls.WatchRemote(gw.s, gw.peerURLsChanged)
	stopL := gwurls.WatchLearned(gw.s, gw.learned)
	gwurls.SetKnown(gw.s, gw.knownRemotes)
	gw.peerURLsChanged()
	own := gw.info.GatewayURL
	return func() {
		stopR()
		stopL()
		gwurls.SetKnown(gw.s, nil)
		gwurls.ClearLocal(gw.s, own)
	}
}

// peerURLsChanged sets our INFO gateway_urls to our URL and the cluster
// peers', and sends the INFO again to every inbound connection.
func (gw *Gateway) peerURLsChanged() {
	gw.mu.Lock()
	urls := []string{gw.info.GatewayURL}
	for _, u := range gwurls.Remote(gw.s) {
		if !slices.Contains(urls, u) {
			urls = append(urls, u)
		}
	}
	if slices.Equal(urls, gw.info.GatewayURLs) || gw.closed {
		gw.mu.Unlock()
		return
	}
	gw.info.GatewayURLs = urls
	gw.mu.Unlock()
	p := gw.infoProto()
	gw.imu.Lock()
	defer gw.imu.Unlock()
	for c := range gw.inbound {
		_ = c.link.Write(p)
	}
}

// learned dials remote cluster name, which a cluster peer announced.
func (gw *Gateway) learned(name string, urls []string) {
	gw.addRemote(name, parseHosts(urls), true, nil)
}

// announce tells the cluster peers of remote cluster name, new here.
func (gw *Gateway) announce(name string, urls []*url.URL) {
	hosts := make([]string, 0, len(urls))
	for _, u := range urls {
		hosts = append(hosts, u.Host)
	}
	gwurls.Announce(gw.s, name, hosts)
}

// knownRemotes lists the remote clusters this server has an outbound
// connection to, with their gateway URLs, for a new route peer.
func (gw *Gateway) knownRemotes() map[string][]string {
	gw.mu.Lock()
	defer gw.mu.Unlock()
	out := map[string][]string{}
	for name, r := range gw.remotes {
		if r.out == nil {
			continue
		}
		var hosts []string
		for _, u := range r.urls {
			hosts = append(hosts, u.Host)
		}
		out[name] = hosts
	}
	return out
}

// parseHosts turns host:port strings into gateway URLs, skipping bad ones.
func parseHosts(hosts []string) []*url.URL {
	return remoteURLs(&gwInfo{GatewayURLs: hosts})
}
