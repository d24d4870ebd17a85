package leaf

import (
	"context"
	"net"
	"net/url"
	"path"
	"strings"

	"natsd.dev/websocket"
)

// Leaf nodes over WebSocket, as upstream: a remote whose URLs are ws://
// or wss:// dials the hub's websocket port (its websocket {} block), does
// TLS first for wss://, then the HTTP upgrade on the path wsLeafPath
// (after the URL's own path, if any), offering permessage-deflate when
// ws_compression is set and asking for unmasked frames
// (websocket.NoMaskingHeader) when ws_no_masking is. The leaf node
// protocol (INFO, CONNECT, LS+, LMSG, ...) then runs inside the
// WebSocket messages, with S2 compression on top when both sides want
// it, exactly as over TCP; the hub's tls_required does not apply (TLS is
// the wss:// URL's business). The hub side is the command's websocket
// listener, which hands the connections upgraded on wsLeafPath to
// Leaf.AcceptWebsocket.

// wsLeafPath is the URL path upstream's leaf nodes upgrade on, and on
// which its websocket port tells them from clients.
const wsLeafPath = "/leafnode"

// isWS reports whether u is a WebSocket URL (ws:// or wss://).
func isWS(u *url.URL) bool { return IsWebsocketURL(u) }

// isWSS reports whether u is a secure WebSocket URL.
func isWSS(u *url.URL) bool { return strings.EqualFold(u.Scheme, "wss") }

// dialAddr is the host:port to dial for u: a ws:// or wss:// URL without
// a port means 80 or 443, a nats-leaf:// or tls:// one 7422 (upstream
// requires none: its URLs always carry one, but a missing port must not
// dial port 0).
func dialAddr(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	port := "7422"
	switch {
	case isWSS(u):
		port = "443"
	case isWS(u):
		port = "80"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// wsRequestURL is the URL of the upgrade request for remote URL u:
// upstream's leaf path after u's own path, without credentials.
func wsRequestURL(u *url.URL) *url.URL {
	p := wsLeafPath
	if cur := strings.TrimPrefix(u.Path, "/"); cur != "" {
		p = "/" + path.Join(cur, wsLeafPath)
	}
	return &url.URL{Scheme: strings.ToLower(u.Scheme), Host: u.Host, Path: p}
}

// wsUpgrade runs the WebSocket handshake of a solicited connection over
// nc (TLS done for wss://), bounded by the remote's first INFO timeout
// as upstream bounds it. It logs upstream's error line on failure.
func (c *conn) wsUpgrade(nc net.Conn) (net.Conn, bool) {
	r := c.remote.r
	ctx, cancel := context.WithTimeout(c.lf.g.Context(), r.FirstInfoTimeout)
	defer cancel()
	wc, err := websocket.ClientHandshake(ctx, nc, wsRequestURL(c.url), websocket.DialConfig{
		Compression:      r.WSCompression,
		NoMasking:        r.WSNoMasking,
		HandshakeTimeout: -1, // ctx bounds it
	})
	if err != nil {
		c.lf.log.Error(nc.RemoteAddr().String() + " - Error soliciting websocket connection: " + err.Error())
		return nil, false
	}
	c.lf.log.Debug(nc.RemoteAddr().String() + " - Leafnode compression=" + boolText(wc.Compressed()) + " masking=" + boolText(wc.Masked()))
	return wc, true
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// wsAccepted is a connection the websocket listener upgraded for a leaf
// node: its TLS, if any, is done, and the leaf node listener's tls {}
// does not apply.
type wsAccepted struct{ net.Conn }

// WriteBuffers sends a batch as one WebSocket message when the
// connection can (a *websocket.Conn does), else with writev.
func (c *wsAccepted) WriteBuffers(v [][]byte) (int64, error) {
	if bw, ok := c.Conn.(interface{ WriteBuffers([][]byte) (int64, error) }); ok {
		return bw.WriteBuffers(v)
	}
	b := net.Buffers(v)
	return b.WriteTo(c.Conn)
}

// isWSConn reports whether nc came through AcceptWebsocket.
func isWSConn(nc net.Conn) bool {
	_, ok := nc.(*wsAccepted)
	return ok
}

// AcceptWebsocket runs a leaf node connection that a websocket listener
// upgraded on upstream's leaf path (/leafnode): the command sets it as
// its websocket listener's leaf handler when leafnodes {} has a port
// (see the command's wsserver.Options.Leaf). The connection is served as
// one accepted on the leaf node port, except that the port's tls {} does
// not apply: TLS, if any, was the websocket listener's. It returns at
// once; the connection runs on a goroutine of the Leaf, which owns it
// (after Shutdown it is closed at once).
func (lf *Leaf) AcceptWebsocket(nc net.Conn) {
	wc := &wsAccepted{Conn: nc}
	if !lf.g.Go(func() { lf.accepted(wc) }) {
		nc.Close()
	}
}

// hubURLs are the hub cluster's URLs an INFO tells a remote about: its
// websocket ports (ws_connect_urls) for a remote whose URLs are ws:// or
// wss:// (as upstream: a leaf that reaches its hub through WebSocket may
// not reach its leaf node port), else its leaf node ports
// (leafnode_urls).
func (r *remote) hubURLs(info *leafInfo) []string {
	if len(r.r.URLs) > 0 && isWS(r.r.URLs[0]) {
		return info.WSConnectURLs
	}
	return info.LeafNodeURLs
}

// learnedScheme is the scheme of the URLs a remote learns from the hub:
// the configured URLs' for WebSocket ones (wss:// when any is: a secure
// remote stays secure), else nats-leaf (TLS then follows the remote's
// configuration and the hub's INFO).
func (r *remote) learnedScheme() string {
	scheme := "nats-leaf"
	for _, u := range r.r.URLs {
		switch {
		case isWSS(u):
			return "wss"
		case isWS(u):
			scheme = "ws"
		}
	}
	return scheme
}
