// Package route connects natsd servers with routes: the cluster
// listener, solicited and gossiped routes forming a full mesh, interest
// propagation (RS+/RS-) and message forwarding (RMSG), connection pooling
// and S2 compression, following upstream nats-server 2.x's route protocol
// closely enough that natsd and upstream servers form one cluster.
//
// # Usage
//
// Start the server, then its cluster; shut the cluster down first:
//
//	s, _ := server.New(server.Options{...})
//	_ = s.Start()
//	c, err := route.Start(s, &route.Options{
//		Name:   "east",
//		Host:   "0.0.0.0",
//		Port:   6222,
//		Routes: []*url.URL{seedURL}, // nats-route://[user:pass@]host:port
//	})
//	...
//	_ = c.Shutdown(ctx)
//	_ = s.Shutdown(ctx)
//
// With Port -1 Start binds no listener; Serve(ln) then serves route
// connections on any net.Listener (tests pass listeners that inject
// faults). Options.Dialer replaces the *net.Dialer routes are dialed with
// (tests pass refusing dials or net.Pipe). Close is Shutdown without a
// deadline.
//
// Options come from the cluster {} block (ParseConfig) or the cluster
// flags. Every server may point at one seed: servers learn of each other
// through INFO gossip and connect to the rest, so the routes form a full
// mesh; a message crosses at most one route.
//
// # How it plugs into the server
//
// Through the server's inter-server link seam: each route connection is a
// server.Link of kind server.ConnRoute, created with RouteEncoder
// (RMSG/HMSG), the routes' forwarding policy (nothing that came over a
// route leaves over another: one hop) and the route's own close reasons
// (ReasonDuplicateRoute, ReasonClusterNameConflict, ReasonRouteRemoved,
// with upstream's texts). The core holds the peer's interest in the
// accounts' sublists and writes to the link when a message may go there.
// The cluster is one of the server's interest listeners: it counts the
// interest routes announce (local interest, and a leaf node's; never a
// route's, a gateway's or a hub's over a leaf connection this server is
// the spoke of) per account, subject, queue and origin cluster and sends
// RS+/RS- to the routes that carry the account, LS+/LS- with the origin
// for a leaf node that has a cluster name (upstream's form). A leaf
// node's message goes over a route as LMSG with its origin cluster (the
// route advertises "lnoc" in its INFO, so upstream sends it that way
// too); a peer's LS+ and LMSG reach Link.AddRemoteSubFrom and
// Link.DeliverFrom, so that neither goes back to that leaf cluster. The
// route also advertises "lnocu", as upstream 2.10+: to a peer that
// advertised it LS- names the origin ("LS- <origin> <account> <subject>
// [<queue>]"), and from such a peer LS- is read with it and its leaf
// interest is held per origin (Link.AddRemoteSubByOrigin,
// RemoveRemoteSubByOrigin), so two leaf clusters with interest in the
// same subject and queue stay apart; with a peer that did not, LS- has
// no origin and that interest is one, as upstream keeps it. It is
// also registered on the server's monitoring registry from Start until
// Shutdown: the ROUTEZ provider (/routez, $SYS ROUTEZ, the routes of
// STATSZ) and the "cluster" section of /varz (cluster, routes); and it
// hears of lame duck mode through Server.AddLameDuckListener, to send its
// peers INFO ldm. Its accept and
// dial loops run on the shared layer, cluster/internal/linknet. Routes
// pass servertest.RunLinkConformance.
//
// # Reload
//
// SetRoutes replaces the explicit routes and Reload applies the other
// keys a configuration reload may change on running routes (ping_interval,
// ping_max, connect_retries, connect_backoff, authorization, tls,
// advertise, no_advertise, pool_size, accounts, compression,
// permissions); a new authorization closes the accepted routes whose
// credentials no longer satisfy it, as upstream does, and a new
// pool_size, accounts, compression or permissions makes the routes anew
// (closed with "Client Closed", dialed again, the local interest
// recounted under the new import permissions). name, listen and turning
// TLS on or off are refused (ErrReloadUnsupported).
//
// # Wire protocol
//
// The dialer sends CONNECT, the acceptor INFO. With compression configured
// (the default "accept" counts) each waits for the other's INFO, picks the
// mode (SelectCompression) and both switch to S2 after the INFO that names
// it; the INFO that follows registers the route. With pooling (pool_size,
// default 3) the dialer sends its INFO, with route_pool_idx, once the
// route is registered, then dials the next pool connection; accounts use
// slot FNV-1a(name) mod pool size, pinned accounts (and the system account,
// as upstream pins it unasked) a dedicated route whose
// protocols omit the account. Then:
//
//	RS+ <account> <subject> [<queue> <weight>]
//	RS- <account> <subject> [<queue>]
//	RMSG <account> <subject> [<reply> | + <reply> <queue>... | "|" <queue>...] <size>
//	HMSG <account> <subject> [same] <header size> <total size>
//	LS+ <origin> <account> <subject> [<queue> <weight>]
//	LS- <account> <subject> [<queue>]
//	LMSG <origin> <account> <subject> [same] <header size> <total size>
//	PING, PONG, INFO (gossip of a new server, connect_urls, leafnode_urls and gateway_url updates, a remote gateway cluster learned: gateway, gateway_urls), -ERR
//
// With a gateway on the server, a routed message on a reply mapped by
// the gateway (_GR_.<cluster hash>.<server hash>.<reply>, which a peer
// read off a gateway for this server) is delivered with its original
// reply, and one mapped for another cluster is dropped, as upstream does;
// the gateway finds the route to a peer by its server ID through
// cluster/internal/gwurls (RouteTo).
//
// # Permissions
//
// Options.Permissions (the block's permissions {}) limit what crosses the
// routes, as upstream's import and export do, on interest and on each
// message: local interest is announced only for subjects Import allows,
// and routed messages Import refuses are dropped; a peer's interest is
// honoured only for subjects Export allows, and a message matching a
// peer's wildcard interest is forwarded only if Export allows its
// subject (a server.LinkFilter on each route). The compiled lists never
// change (a reload swaps them whole and re-makes the routes), take no
// lock and allocate nothing per message.
//
// # Concurrency
//
// A Cluster is safe for concurrent use. It owns one accept loop and, per
// route connection, one goroutine that dials or accepts, handshakes and
// reads; the server's link writer writes. Shutdown closes the listener and
// every route and waits for all of them. docs/locking.md lists the locks.
package route
