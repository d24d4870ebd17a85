// Package gateway links clusters into a supercluster, as upstream
// nats-server's gateways do: the gateway {} block of the configuration
// file (ParseConfig, Options), and the gateway connections themselves
// (Start), built on the server's inter-server link seam with the kind
// server.ConnGateway.
//
// # Configuration
//
// ParseConfig reads upstream's keys: name, host, port, listen,
// advertise, connect_retries, connect_backoff, reject_unknown_cluster
// (alias reject_unknown), authorization { user, password, timeout },
// tls {} and gateways [ { name, url, urls, tls } ]. Every error of the
// block is reported at once, with its file:line:col and upstream's text.
// CheckClusterName applies upstream's rule between the cluster's name and
// the gateway's.
//
// # Connections
//
// Start binds the gateway listener and dials every configured remote
// cluster. Each server has one outbound connection per remote cluster
// (messages leave on it) and the inbound connections the remote servers
// dialed (messages arrive on them). The handshake is upstream's: the
// acceptor sends INFO (gateway, gateway_url, gateway_urls), the dialer
// checks the gateway name and answers CONNECT (gateway, credentials) and
// its own INFO. A server learns remote clusters from its configuration,
// from the INFO of inbound connections (it dials back) and from gossip
// (INFO gateway_cmd 1: the clusters a peer is connected to).
//
// Interest is upstream's optimistic mode: the outbound connection holds
// the interest ">" in every account of the server, filtered by what the
// remote said it does not want: RS- (a subject) and A- (an account),
// lifted by RS+ and A+. The inbound side answers a message nobody here
// wants with RS- (A- for an unknown account) once, and lifts it when
// interest appears. Queue subscriptions are announced with RS+/RS- (the
// counts of every origin but gateways), and a gateway's queue members are
// the last choice of a group (server.LinkConfig.QueueLast): a message goes
// to a member in the local cluster when there is one.
//
// As upstream 2.9+, every account is interest-only from the start: the
// acceptor's INFO says gateway_iom, and when it registers an inbound
// connection (and when an account appears later) it switches each
// account to interest-only mode as below; the dialer, told gateway_iom,
// sends an account's messages only to the interest the remote announced.
// With a remote that does not say gateway_iom (before 2.9) an account
// starts optimistic, and after DefaultMaxNoInterest subjects answered
// RS- in one account, the receiving side switches the account to
// interest-only mode, as upstream:
// INFO gateway_cmd 2, RS+ for the account's plain interest, INFO
// gateway_cmd 3, then RS+/RS- as interest changes; the sender then sends
// only what matches.
//
// Replies are mapped as upstream's: a message leaving over a gateway has
// its reply rewritten to _GR_.<cluster hash>.<server hash>.<reply> (6
// base62 characters of the SHA-256 of the gateway name and of the
// server ID) unless it is mapped already or is a JetStream delivery's
// acknowledgement reply ($JS.ACK.<tokens>@<subject>, presented by the
// receiving server as the subject and the ack reply); every outbound connection
// holds the interest _GR_.<remote cluster hash>.> in every account, so
// the answer goes back to the requester's cluster whatever its interest
// mode. A mapped reply read off a gateway for this cluster is handled as
// upstream does: one for another server of the cluster goes, as it is,
// over the route to the server its hash names (the route module finds
// the link that carries the account, cluster/internal/gwurls), and that
// server, natsd or upstream, delivers it with the original reply; one
// for this server, or for a server no route reaches, is delivered with
// the original reply to the interest it has here and over the routes.
// No subscription is made for the mapped replies. One for another
// cluster is dropped, as upstream does.
//
// Inside a cluster, gateways gossip over routes as upstream's do
// (cluster/internal/gwurls): each server's gateway URL goes to its route
// peers (route INFO gateway_url) and joins their INFO gateway_urls, sent
// again to the inbound connections when it changes, so a remote cluster
// that knows one server learns all (and fails over to them); a remote
// cluster a server learns from a connection is announced to its route
// peers (route INFO gateway, gateway_urls), which dial it too.
//
// # Monitoring
//
// The gateway registers the GATEWAYZ provider (/gatewayz and
// $SYS.REQ.SERVER.<id>.GATEWAYZ) and the gateway section of /varz. With
// accs (or acc_name) each connection lists its accounts as upstream: an
// outbound one the accounts the remote told something (no-interest,
// queue interest, a mode switch), an inbound one those this server told
// the remote, with the interest mode and counts. subs=1 (subs=detail)
// adds, on an outbound connection, the subjects of the remote's interest
// in each account (its subscriptions: subject, queue group, the
// connection's cid), as upstream.
//
// The block's write_deadline bounds each write to a gateway connection
// (server.LinkConfig.WriteDeadline), and write_timeout close closes a
// connection whose write passes it; the default (retry) reports a slow
// consumer and goes on writing, as upstream.
//
// # Reload
//
// Reload applies a new gateway {} block to the running gateways: the
// content of the block's and the remotes' tls {} blocks (certificates,
// CAs, verification) serves the next handshakes while the established
// connections stay, as upstream reloads it; beyond upstream,
// reject_unknown_cluster applies to the connections accepted from then
// on and remote clusters added to Gateways are dialed (one already
// learned by gossip becomes configured). CheckReload refuses anything
// else (the name, the listener, the authorization, a remote removed or
// its URLs changed, TLS turned on or off) with an error wrapping
// ErrReloadUnsupported, config reload not supported for Gateway: field
// "<Name>": old=..., new=..., and returns the changes for the log
// (Change: "gateway tls", "gateway reject_unknown_cluster = true",
// "gateway remote \"B\" added").
//
// # Locks
//
// docs/locking.md names the package's locks and their order.
package gateway
