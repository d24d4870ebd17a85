package server

import (
	"net"
	"slices"
	"strconv"
)

// ClientConnectURLs returns the host:port addresses at which clients reach
// this server: the client advertise address, else the listener's host and
// port, or every non-loopback address of the machine when the listener
// binds all interfaces. Routes gossip them so clients learn the cluster.
func (s *Server) ClientConnectURLs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ownConnectURLs()
}

func (s *Server) ownConnectURLs() []string {
	port := s.info.Port
	if s.opts.ClientAdvertise != "" {
		return s.connectURLs(port)
	}
	host := s.opts.Host
	if host != "" && host != "0.0.0.0" && host != "::" {
		return []string{net.JoinHostPort(host, strconv.Itoa(port))}
	}
	var urls []string
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLoopback() || !ipn.IP.IsGlobalUnicast() {
				continue
			}
			urls = append(urls, net.JoinHostPort(ipn.IP.String(), strconv.Itoa(port)))
		}
	}
	if len(urls) == 0 {
		urls = []string{net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	}
	return urls
}

// SetRemoteConnectURLs sets the client URLs of the other servers of the
// cluster. From the first call on, INFO connect_urls lists this server's
// own URLs followed by urls; when the list changes, clients that take
// asynchronous INFO (protocol 1, past their first PONG) get one.
func (s *Server) SetRemoteConnectURLs(urls []string) {
	s.mu.Lock()
	s.remoteURLs, s.remoteURLsSet = slices.Clone(urls), true
	s.setConnectURLsLocked()
}

// setConnectURLsLocked recomputes INFO connect_urls (this server's own
// URLs, then the remote ones once SetRemoteConnectURLs was called, else
// the client advertise address alone) and, when they changed, sends the
// clients that take asynchronous INFO the new INFO. s.mu is held; it is
// released.
func (s *Server) setConnectURLsLocked() {
	var all []string
	if s.remoteURLsSet {
		all = s.ownConnectURLs()
		for _, u := range s.remoteURLs {
			if !slices.Contains(all, u) {
				all = append(all, u)
			}
		}
	} else {
		all = s.connectURLs(s.info.Port)
	}
	if slices.Equal(all, s.info.ClientConnectURLs) {
		s.mu.Unlock()
		return
	}
	s.info.ClientConnectURLs = all
	info := s.info
	clients := s.clientsLocked()
	s.mu.Unlock()
	for _, c := range clients {
		c.sendAsyncInfo(info)
	}
}

// SetClusterName sets the cluster name clients see in INFO; mapping
// destinations scoped to that cluster apply from now on.
func (s *Server) SetClusterName(name string) {
	s.mu.Lock()
	s.info.Cluster = name
	s.mu.Unlock()
	s.clusterName.Store(&name)
}

// cluster returns the name SetClusterName set last, "" before.
func (s *Server) cluster() string {
	if p := s.clusterName.Load(); p != nil {
		return *p
	}
	return ""
}

// SetJetStream announces JetStream in INFO ("jetstream": true, with the
// domain and the API level, "api_lvl"), for the clients that connect
// from now on; level 0 withdraws it.
func (s *Server) SetJetStream(domain string, level int) {
	s.mu.Lock()
	s.info.JetStream, s.info.Domain, s.info.APILevel = level > 0, domain, level
	s.mu.Unlock()
}

// sendAsyncInfo sends info to a client that accepts asynchronous INFO.
func (c *client) sendAsyncInfo(info Info) {
	c.mu.Lock()
	ok := c.asyncInfo && !c.closed
	c.mu.Unlock()
	if ok {
		c.sendLameDuckInfo(info)
	}
}

// clientsLocked copies the socket clients out of the server's map, for
// code that visits them after releasing Server.mu; s.mu is held.
func (s *Server) clientsLocked() []*client {
	cs := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		cs = append(cs, c)
	}
	return cs
}
