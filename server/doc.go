// Package server is the natsd broker core: it accepts NATS client
// connections, keeps their subscriptions in per-account subscription lists
// and delivers published messages.
//
// # Usage
//
//	s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
//	if err != nil { ... }
//	if err := s.Start(); err != nil { ... }
//	defer s.Shutdown(context.Background())
//	fmt.Println(s.ClientURL()) // nats://127.0.0.1:<port>
//
// Options{} uses upstream nats-server's defaults for every field. Start binds
// the listener and returns once the server is ready; Serve adds further
// listeners (TLS, WebSocket) that deliver NATS clients. Shutdown(ctx) stops
// accepting, flushes what every client has pending and waits for the
// server's goroutines; LameDuck(ctx) first tells clients to move elsewhere
// and closes them gradually. Reload applies new limits, TLS settings and
// authorization to a running server, checking connected clients again.
//
// In-process users (JetStream, MQTT, system services) publish and subscribe
// through an InternalClient, which takes the same delivery path as a socket
// client without one.
//
// # Inter-server links
//
// One seam serves every kind of link between servers (routes, gateways,
// leaf nodes); the core holds the peers' interest and delivers to them,
// the kind's module (cluster/route, ...) owns the handshake and the read
// side. A link kind:
//
//  1. Creates each link with NewLink(conn, LinkConfig{...}): its Kind
//     (ConnRoute, ConnGateway, ConnLeaf), its LinkEncoder (RouteEncoder
//     writes RMSG/HMSG; a leaf kind brings LMSG), its ForwardPolicy (zero
//     is DefaultForwardPolicy(Kind)), the texts of its own close reasons
//     (numbered from LinkKindReason) and OnClose. The core starts the
//     link's writer goroutine; the caller keeps the read side.
//  2. Hears of interest through AddInterestListener, which replays the
//     existing interest atomically with the registration and then reports
//     every change, local or held by any link, with its origin (ConnClient,
//     ConnInProcess, or the link's kind, and the Link). Any number of
//     listeners may be registered; each filters by origin (a route
//     announces local interest and a leaf node's, never a route's) and
//     never announces interest back over the link it came from.
//  3. Registers the peer's interest with AddRemoteSub and RemoveRemoteSub
//     (queue interest with a weight: the peer's member count); SetFilter
//     first, if some subjects must never cross (export permissions), and
//     SetHeaders, SetPinnedAccount as the handshake decides.
//  4. On its reader goroutine, hands each message from the peer to
//     Deliver (account, subject, reply, queue groups, header length,
//     payload) and calls EndBatch once per read. Deliver delivers to local
//     subscribers, and to the links whose forwarding policy admits the
//     link's kind as origin (never back to the same link): routes admit
//     none from routes, so a message crosses one route at most.
//  5. Writes its own protocol (PING, INFO, RS+) with Write; Flush only for
//     a last -ERR before closing.
//  6. Closes with Close(reason): the link's interest leaves the sublists
//     and the listeners hear of it, what is queued is flushed unless the
//     reason forbids it, OnClose runs once. The server closes every link
//     when it shuts down (LinkServerShutdown).
//
// Messages published here reach a link through the forwarding policy
// table (DefaultForwardPolicy): the delivery path asks the policy of each
// matching interest, never tests for a kind, so adding a kind touches no
// file of the delivery path. Every kind must pass
// servertest.RunLinkConformance; servertest.ConnectFake is the reference.
//
// What runs where: OnClose runs on the goroutine that closed the link;
// interest listeners on the goroutine that changed the interest (a
// client's reader, a link's reader, a closing connection), concurrently,
// holding Server.interestMu for reading, so they must not block nor change
// interest themselves; LinkFilter.Allow and LinkEncoder run on publishers'
// goroutines under the link's lock and must not allocate. Memory: the
// slices passed to AddRemoteSub, RemoveRemoteSub, Deliver and Write are
// read during the call only (Write copies); an InterestEvent's strings
// may be kept.
//
// A link is never closed for its backlog: a write past the deadline that
// made progress is retried. The route module also fills /routez and /varz
// through a RouteMonitor and may hear of lame duck mode
// (LameDuckListener). SetRemoteConnectURLs puts the other servers' client
// URLs in INFO connect_urls and sends the change to the clients that take
// asynchronous INFO.
//
// # Concurrency
//
// All Server and InternalClient methods are safe for concurrent use. Each
// connection has one read goroutine, which owns its parser and publishes,
// and one write goroutine, which owns the socket's write side. A publisher
// appends each message to the subscriber's outbound buffer under that
// client's mutex and wakes the subscriber's writer once per read batch;
// writers send everything queued with one writev. A subscriber whose backlog
// passes 3/4 of max_pending makes its publishers wait briefly (at most 10ms
// per read batch); past max_pending it is closed as a slow consumer. No
// goroutine, channel operation, map write or clock read happens per message.
// docs/locking.md lists every mutex and the order they are taken in.
//
// Internal subscription handlers run on the publisher's goroutine and must
// not block.
//
// # Memory
//
// Msg slices passed to a MsgHandler are views into the publisher's buffers,
// valid only during the call. Outbound data lives in 32 KiB chunks from a
// shared pool, so an idle connection holds no output buffer.
//
// # Errors
//
// Clients receive upstream's -ERR texts ('Unknown Protocol Operation',
// 'Maximum Payload Violation', 'Invalid Subject', 'Stale Connection', ...);
// those are protocol constants. Go errors returned by this package are the
// Err sentinels, wrapped with detail.
package server
