// Package leaf connects natsd servers as leaf nodes: the leaf node
// listener (this server is the hub) and remotes (this server is a leaf
// of another's hub), following upstream nats-server 2.x's leaf node
// protocol (LS+, LS-, LMSG) so natsd and upstream servers mix.
//
// ParseConfig turns the leafnodes {} block (alias leaf) of a
// configuration file into Options, with upstream's keys, errors and
// start-up checks; ParseRemoteURL, CheckMinVersion and RemoteName are its
// pieces for the flags and the runtime.
//
// # Usage
//
// Start the server (and its cluster), then its leaf nodes; shut the leaf
// nodes down first:
//
//	s, _ := server.New(server.Options{...})
//	_ = s.Start()
//	lf, err := leaf.Start(s, &leaf.Options{
//		Host: "0.0.0.0", Port: leaf.DefaultPort, // the hub side
//		Remotes: []*leaf.Remote{{URLs: []*url.URL{hubURL}}}, // the leaf side
//	})
//	...
//	_ = lf.Shutdown(ctx)
//
// Port 0 binds no listener (a server with remotes only); RandomPort a
// free one (Addr tells which). Each remote dials its URLs in random order
// (in order with NoRandomize) until one answers, and again after
// Options.Reconnect (plus jitter) when the connection closes; a hub's
// leafnode_urls join the list. Disabled remotes are not dialed. Close is
// Shutdown without a deadline.
//
// # The handshake
//
// As upstream: the hub sends INFO (nonce, client id, leafnode_urls,
// headers, cluster, info_on_connect); with leafnodes { tls } the TLS
// handshake follows the INFO (or comes first with TLSHandshakeFirst). The
// leaf (after TLS when its URL is tls://, it has a tls {} block, or the
// hub requires it) sends CONNECT with the URL's user and password, or
// the nonce signed by the seed of a .creds file (jwt, sig) or of an nkey
// (nkey, sig), its name, cluster, headers, deny_pub (its deny_imports)
// and remote_account. The hub authenticates it against leafnodes {
// authorization } (user/password, token or users, each bound to an
// account) or, without it, against the server's own users
// (Server.AuthenticateLeaf: the user's account is the one the leaf node
// binds to), answers INFO with connect_info and remote_account, and both
// sides send their interest. With tls { verify_and_map } the verified
// client certificate names the user instead (its e-mail addresses, DNS
// names, URIs, then its subject DN; server.LeafCertUser), one of the
// authorization users or, without them, one of the server's; a user in
// CONNECT is ignored with upstream's warning. An account's limits {
// max_leafnodes } bounds the leaf connections bound to it on the hub: one
// more gets -ERR 'maximum account active connections exceeded' and is
// closed (Maximum Account Connections Exceeded); the leaf node dials
// again after its reconnect delay. Wrong credentials get -ERR 'Authorization
// Violation' and the connection closes; the remote logs the error and
// dials again after its reconnect delay. A leaf node with our cluster's
// name is refused ("remote leafnode has same cluster name"), a client on
// the leaf port too ("attempted to connect to leaf node port"); a remote
// whose first INFO is not a leaf node's ("attempted to connect to wrong
// port") or does not come within FirstInfoTimeout gives up and dials
// again.
//
// S2 compression is negotiated as upstream's (compress.go): s2_auto by
// default on both sides, the hub's mode in its INFO, the leaf's offer in
// an INFO of its own before its CONNECT, both switching to S2 after it.
// Remotes with ws:// and wss:// URLs dial the hub's websocket port
// (ws.go); the command hands the leaf nodes its websocket listener
// upgrades on /leafnode to AcceptWebsocket.
//
// In nats-server (cmd/nats-server) the leafnodes {} block starts a Leaf
// after the server and its cluster, a SIGHUP or $SYS RELOAD calls Reload
// (or Start, when no leaf nodes ran and the new block has remotes), and
// shutdown stops it before the cluster.
//
// # How it plugs into the server
//
// Through the server's inter-server link seam: each connection is a
// server.Link of kind server.ConnLeaf, created with Encoder (LMSG, and
// HMSG in its leaf form: a leaf connection is bound to one account, so
// neither carries it) and the kind's close reasons (ReasonDuplicateLeaf,
// ReasonClusterNamesIdentical, ReasonWrongGateway, ReasonWrongPort,
// ReasonMissingAccount, ReasonMinimumVersion, upstream's texts). The hub
// side forwards messages from every origin (server.DefaultForwardPolicy);
// the spoke side (this server dialed a hub, or the server that dialed us
// said it is the hub: Remote.Hub) nothing that came over a route, as
// every server of a leaf cluster has its own connection.
//
// Each connection is an interest listener of its own account
// (Server.AddInterestListener, which replays the existing interest when
// the handshake ends): it counts interest per subject and queue and sends
// LS+ on the first subscriber, LS- on the last, and for queue groups LS+
// with the member count as weight on every change. It never announces the
// interest its own peer registered; a spoke announces only local interest
// and that of the leaf nodes it is the hub of, a hub everything (so a
// subscription on a leaf of one hub server is reached from every server
// of the hub's cluster: the route module announces leaf-origin interest).
// The peer's LS+ and LS- go to Link.AddRemoteSub and RemoveRemoteSub, its
// LMSG and HMSG to Link.Deliver, in the bound account. The peer's cluster
// name is the link's remote cluster (Link.SetRemoteCluster): its interest
// and messages cross the routes with that origin and never come back to a
// connection of that cluster, and interest of that origin cluster is not
// announced to it (as upstream). The spoke side's link has the origin
// server.ConnHub: what the hub sends it goes to local subscribers and
// other leaf nodes, never over the routes, and the hub's interest is not
// announced to them. A leaf cluster connected to several servers of a hub
// cluster thus gets every message once. A server with gateways
// (Options.GatewayReplies) announces "_GR_.>" to every connection when
// it is ready, as upstream, instead of the gateways' own
// "_GR_.<cluster hash>.>" interest, so that the replies mapped for other
// clusters come to it from the leaf nodes.
//
// # Loops and permissions
//
// Every server announces one loop detection subject per account
// ($LDS.<unique>) to each leaf connection; a server that receives its own
// over a leaf connection closes it with upstream's "Loop detected for
// leafnode account=..." error, and the side that dialed waits 30 seconds
// before dialing again. A remote's DenyExports are a server.LinkFilter on
// the messages sent to the hub (and the hub's interest in them is
// ignored); its DenyImports drop the hub's messages on those subjects,
// keep our interest in them from the hub, and go to the hub in CONNECT
// (deny_pub), which filters what it sends.
//
// # JetStream
//
// As upstream decides it when a connection binds its account (jetstream.go):
// the API without a domain ($JS.API.>, $KV.>, $OBJ.>, and in the system
// account $JSC.> and $NRG.>) crosses neither way, unless the server's
// default_js_domain (Options.DefaultJSDomains) maps the account to the
// empty domain; a domain's API ($JS.<domain>.API.>) crosses, so clients
// reach the JetStream of the other side through its domain; a server
// whose JetStream has a domain keeps messages on its own domain's API
// from leaving when the other side is not the same domain. natsd never
// extends one domain over a leaf node connection.
//
// # Leaf node URLs
//
// As upstream gossips them (urls.go): a server with a listener gives its
// URL (unless NoAdvertise) to its routes, which send it to their peers in
// INFO leafnode_urls; the INFO sent to leaf nodes lists this server's URL
// and its peers', and is sent again to the leaf nodes when they change. A
// remote adds the URLs it learns to its list and keeps them: when its hub
// goes away it dials the next one, another server of the hub's cluster.
//
// # Wire protocol
//
// After the handshake both sides speak the leaf node protocol: LS+
// <subject> [<queue> <weight>] and LS- <subject> [<queue>] carry interest
// (no account: the connection is bound to one); LMSG <subject> [<reply>]
// <size> (with queue groups LMSG <subject> + <reply> <queues...> <size>,
// or | in place of + <reply> without a reply) and HMSG in its leaf form
// carry messages; PING/PONG keep the connection alive (the first PING after a
// second measures the RTT, then every ping_interval, ping_max
// outstanding), INFO updates leafnode_urls, -ERR says why the peer closes.
//
// # Monitoring
//
// From Start until Shutdown a Leaf answers its server's LEAFZ (/leafz,
// $SYS.REQ.SERVER.<id>.LEAFZ, $SYS.REQ.SERVER.PING.LEAFZ and
// $SYS.REQ.ACCOUNT.<acc>.LEAFZ) with Leafz: each connection past its
// handshake with upstream's fields (id, name, is_spoke, account, ip,
// port, rtt, in/out msgs and bytes, subscriptions, subscriptions_list
// with subs, compression: the mode settled on), filtered by account
// with acc. It fills the leaf section of /varz (Varz: the listener's
// host, port, auth and TLS timeouts, TLS flags; each remote's
// local_account, urls and deny rules) and the leafnodes count. Each connection counts in its account
// (server.Account.AddLeafNode): /accountz leafnode_connections and the
// leafnodes and total_conns of account statistics. As upstream, STATSZ
// has no leaf node count.
//
// # Reload
//
// Reload applies a new leafnodes {} block as a configuration reload does
// upstream: remotes added start dialing; remotes removed or disabled stop
// dialing and their connection closes (Client Closed); remotes enabled
// dial again; the listener's tls {} block and the remotes' apply to the
// next handshakes (turning TLS on or off is a change). A remote is the
// same across a reload when its account, URLs and other settings are;
// one whose settings changed is removed and added. The listener's
// compression and tls { handshake_first } reload as upstream's: a
// connection that compresses changes its level in place, one that must
// negotiate again is closed (its leaf node dials again). Beyond
// upstream, the authorization's user, password, token, account and
// users reload while an authorization stays in force: an accepted leaf
// node whose credentials no longer pass, or that its user now binds to
// another account, gets -ERR 'Authorization Violation' and is closed.
// Every other change (listener, authorization on or off, timeouts,
// min_version, advertise) is refused by CheckReload with upstream's
// text, config reload not supported for LeafNode: field "<Name>":
// old=..., new=..., and the reload changes nothing. DiffRemotes and
// RemoteChange.String give upstream's log lines ("LeafNode Remote
// urls=[...], account=... removed", "... Disabled value is: true"),
// BlockChanges those of the block's own keys ("leafnodes compression =
// s2_best", "leafnodes authorization").
//
// A leaf node that logs in as one of the server's users is held to that
// user's permissions (Server.AuthenticateLeafUser), as upstream holds
// it: the INFO answering its CONNECT tells it its subscribe permissions
// (import) and publish permissions (export); an LS+ the subscribe
// permissions deny gets -ERR 'Permissions Violation for Subscription to
// "x"', a message the publish permissions deny -ERR 'Permissions
// Violation for Publish to "x"', and the connection closes as a protocol
// violation (plain interest in $LDS., _INBOX. and _GR_. subjects is
// exempt, as upstream exempts it); messages that a subscribe deny covers
// are not sent to its wildcard interest. A remote applies its hub's import and export in
// turn: interest the hub would refuse and messages it may not publish
// stay on the leaf. Bytes before CONNECT that are not an operation get
// -ERR 'Authorization Violation', as any operation there does.
//
// # Concurrency
//
// A Leaf is safe for concurrent use. Each connection has one reader
// goroutine (the parser, the handshake state) and the link's writer; the
// listener's accept loop and each remote's dial loop run on the shared
// layer cluster/internal/linknet, and Shutdown waits for all of them. A
// remote's dial loop has its own context, which Reload cancels to stop
// it; reloads are serialized, and the list of remotes and of connections
// are guarded by the Leaf's mutex. Monitoring reads each connection under
// its own lock and never blocks a connection's reader.
package leaf
