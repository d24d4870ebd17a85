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
// and closes them gradually. Reload applies new limits, TLS settings,
// authorization and accounts (with their exports, imports, mappings and
// limits) to a running server, checking connected clients again.
//
// In-process users (JetStream, MQTT, system services) attach as sessions
// (see In-process sessions below). InternalClient remains for taps that
// must run on the publisher's goroutine and never block.
//
// # In-process sessions
//
// A protocol front end (MQTT speaks its own wire format on its own socket
// but publishes and subscribes in the NATS subject space) or an in-process
// consumer (JetStream capture and delivery, the system services) attaches
// with Attach(SessionOptions) and gets a *Session. The contract:
//
//  1. Identity. A session either names an Account (bound to it, no
//     permissions) or carries credentials (User/Password, Token, Nkey with
//     Sign) that the server's authentication chain checks as a CONNECT's
//     (and, with auth_callout, the callout service, as for a CONNECT),
//     with ConnKind as the connection type; it then has the user's
//     permissions (allow_responses included: Publish may answer the
//     reply subject of a message the session received) and counts
//     against the account's connection limit. A failed authentication is
//     an error from Attach; nothing is listed.
//  2. Listing. The session is in /connz with its Kind ("Client",
//     "JetStream", "System", "Account"), Type ("mqtt", ... for Kind
//     "Client"), Name, Lang, Version and MQTTClient, under its own cid
//     (Session.ID). As upstream lists no internal client, only Kind
//     "Client" sessions (front ends' users) are in the default listing
//     and in /connz?state=closed after Close; the others are shown by
//     their cid (/connz?cid=N).
//  3. Subscribe(subject, queue, h). Permissions and the subscription limits
//     of the server and the account apply (ErrPermission, ErrTooManySubs).
//     With a handler h, each matching message is copied into the session's
//     bounded queue (QueueLen messages, one queue per session, so order is
//     kept per subscription and across the session's subscriptions) and
//     h runs on the session's own goroutine, one message at a time. With
//     SessionOptions.Inline, a socket client's read loop that finds the
//     queue empty and no handler running runs h itself (still one at a
//     time, in order): a request is answered at the end of the client's
//     read batch without waking another goroutine (JetStream's streams
//     capture so). With
//     h nil, messages go to SessionOptions.Conn through the outbound
//     machinery of a socket client (its Encoder frames them; max_pending
//     and write_deadline close the session as a slow consumer).
//     SessionSub.Unsubscribe drops what is still queued for the
//     subscription; SessionSub.Drain hands it to h first (a handler that
//     must account for every message, e.g. a JetStream consumer's, whose
//     lost deliveries come back only after their ack wait).
//  4. Flow control. A publisher that finds a must-not-lose session's queue
//     full waits for room, bounded: an in-process publisher for its own
//     session's Stall (10ms by default), a socket client up to the
//     write_deadline (its read loop stops, so TCP pushes back on the
//     client). If the queue is still full the message is refused, never
//     dropped silently: Session.Publish and InternalClient.Publish return
//     ErrQueueFull (every other subscriber got the message), a socket
//     client gets -ERR 'Slow Consumer: Session Queue Full' (the connection
//     stays open on the server's side; nats.go closes on an -ERR it does
//     not know, so the application learns of it) and the server logs a
//     warning. A queue group member with a full queue passes the message
//     to another member; the publisher is refused only when none takes
//     it. Only a session with Drop (best-effort services such as the
//     $SYS requests) loses messages instead, counted by Session.Dropped.
//  5. Publish(subject, reply, hdr, data) delivers as a client's PUB would,
//     after the user's publish permissions. It copies what it needs into
//     pooled buffers and allocates nothing in steady state. PublishAs
//     delivers to one subject under another (JetStream's deliveries); a
//     Batch (NewBatch) publishes a run of those with the destination
//     matched once while it repeats and the receivers' writers woken once,
//     at Flush, each message still reaching their buffers in order.
//  6. Close removes the session's own subscriptions (never walks the
//     account's sublist), drops what its queue holds, closes Conn and ends
//     its goroutine; the server's shutdown closes every session. No
//     handler starts after Close returns; one running then finishes.
//     Done and CloseReason tell the owner when and why the server closed
//     a session (shutdown, slow consumer on Conn, reload).
//  7. Counting. A session of Kind "Client" is a connection as its
//     user's socket client is: in /varz connections and
//     total_connections, in its account's connections (/accstatz,
//     /accountz, $SYS), announced on $SYS.ACCOUNT.<acc>.CONNECT and
//     DISCONNECT (client kind "Client", client_type its Type). The
//     internal kinds are not counted nor announced (upstream counts no
//     internal client). The server's max_connections does not apply.
//  8. Reload. A configuration reload checks a credentialed session as
//     it does its user's socket clients: a removed user, a user moved to
//     another account or credentials that fail close the session
//     (Session.Done is closed; Session.CloseReason is "Client Closed" or
//     "Authentication Failure"); a session that stays gets the new
//     permissions at once and loses, without notice but a log line as a
//     client's, the subscriptions they refuse. A session bound to an
//     Account is not checked.
//
// The conformance suite every session implementation passes is
// servertest.RunSessions.
//
// # System services
//
// The $SYS requests, advisories and STATSZ heartbeat are package
// natsd.dev/server/sys, built only on Attach and exported accessors
// (SystemResponse, ServerInfo, KickClient, ...). Importing it registers it
// (RegisterSystemService): New then attaches it to a server with a system
// account and Start runs it. The core reports client connects and closes
// (and the attach and close of sessions of Kind "Client") to it through
// the SystemService interface; a service that also implements
// AuthErrorListener hears of failed authentications, and one that
// implements ShutdownListener of Shutdown before anything closes.
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
//     (numbered from LinkKindReason), OnClose, and QueueLast for a kind
//     whose queue members are the last choice of a group (gateways: a
//     member in the local cluster first). The core starts the link's
//     writer goroutine; the caller keeps the read side.
//  2. Hears of interest through AddInterestListener, which replays the
//     existing interest atomically with the registration and then reports
//     every change, local or held by any link, with its origin (ConnClient,
//     ConnInProcess, or the link's origin, and the Link, and for a leaf
//     node's interest its OriginCluster). Any number of
//     listeners may be registered; each filters by origin (a route
//     announces local interest and a leaf node's, never a route's) and
//     never announces interest back over the link it came from.
//  3. Registers the peer's interest with AddRemoteSub and RemoveRemoteSub
//     (queue interest with a weight: the peer's member count; interest in
//     an account the server lacks gives ErrUnknownAccount and is kept,
//     NumParkedSubs, until a reload adds the account); SetFilter
//     first, if some subjects must never cross (export permissions), and
//     SetHeaders, SetPinnedAccount, SetForward as the handshake decides. A
//     leaf node kind authenticates its peers' CONNECT against the server's
//     users with AuthenticateLeaf (the account the link is bound to) and
//     reads the cluster's name with ClusterName.
//  4. On its reader goroutine, hands each message from the peer to
//     Deliver (account, subject, reply, queue groups, header length,
//     payload) and calls EndBatch once per read. Deliver delivers to local
//     subscribers, and to the links whose forwarding policy admits the
//     link's kind as origin (never back to the same link): routes admit
//     none from routes, so a message crosses one route at most.
//     LocalInterest tells whether anything but links of the kind wants a
//     subject (a gateway answers "no interest" when nothing does). A link's
//     origin may differ from its kind (LinkConfig.Origin, SetOrigin): a
//     leaf kind's links to its hub have the origin ConnHub, which routes
//     and gateways never get. A leaf node peer's cluster
//     (SetRemoteCluster) is the origin cluster of its interest and
//     messages; a route carries them on its behalf with
//     AddRemoteSubFrom and DeliverFrom (LS+ and LMSG with the origin), or
//     AddRemoteSubByOrigin when the peer's LS- names the origin too
//     ("lnocu": the interest of each origin is kept apart), an
//     OriginEncoder writes them over a route, and a message never reaches
//     interest of the leaf node cluster it came from.
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
// made progress is retried. A link module describes its links through
// the monitoring registry (the route module registers ROUTEZ and the
// "cluster" section of /varz; see Monitoring) and hears of lame duck mode
// through AddLameDuckListener (see Lame duck mode). SetRemoteConnectURLs
// puts the other servers' client URLs in INFO connect_urls and sends the
// change to the clients that take asynchronous INFO.
//
// # Monitoring
//
// The documents of upstream's monitoring endpoints (Varz, Connz, Subsz,
// Routez, Leafz, Gatewayz, JSInfo, ...) are the types of package
// natsd.dev/server/snapshot; the server keeps one monitoring registry of
// who answers them.
//
// Every kind of monitoring document (VARZ, CONNZ, ROUTEZ, LEAFZ, JSZ, ...)
// is answered by one Provider, and that one provider answers both the
// monitor's HTTP endpoint (/routez) and the system account's
// $SYS.REQ.SERVER.<id|PING>.<KIND> request, so the two never disagree. The
// server provides the core kinds itself and a default for the kinds other
// modules own (an empty document, or "disabled" for JSZ); a module replaces
// the default by registering its own. /varz is assembled from the core's
// fields plus the sections that modules contribute (cluster, gateway,
// leaf, jetstream, mqtt, websocket, and the monitor's http fields).
//
// Usage:
//
//  1. A module that owns a kind registers its provider once, after
//     server.New and before it starts serving, typically with ProviderFunc
//     over a function taking the kind's options type of package snapshot
//     (the table below).
//  2. A module that adds a section to /varz registers a contributor under
//     the section's name ("cluster", "gateway", "leaf", "jetstream",
//     "mqtt", "websocket", "http"). Every Varz snapshot (HTTP /varz, $SYS
//     VARZ, STATSZ) calls the contributors in the order of their section
//     names, after the core fields are filled; each sets only its own
//     fields of the document it is handed.
//  3. Readers ask for a document with Snapshot(kind, opts), or look the
//     provider up with Provider(kind); MonitorRequest wraps the same answer
//     in upstream's $SYS envelope. A provider must neither change nor keep
//     the options it is handed: callers reuse them.
//  4. Registering again under a kind or section replaces the previous
//     registration; registering nil removes it, and the kind answers with
//     the server's default again. A module removes its registrations when
//     it shuts down.
//
// For a module that runs leaf nodes:
//
//	s.RegisterProvider(server.KindLeafz, server.ProviderFunc(
//		func(o *snapshot.LeafzOptions) (*snapshot.Leafz, error) { ... }))
//	s.RegisterVarz("leaf", server.VarzFunc(func(v *snapshot.Varz) {
//		v.LeafNode, v.Leafs = ..., ...
//	}))
//
// Kinds are the last token of upstream's request subjects and are matched
// without regard to case ("leafz" is LEAFZ); ACCSTATZ is another name of
// STATZ. The options and documents of the upstream kinds:
//
//	kind      options                        document                default
//	VARZ      *snapshot.VarzOptions          *snapshot.Varz          the core
//	CONNZ     *snapshot.ConnzOptions         *snapshot.Connz         the core
//	SUBSZ     *snapshot.SubszOptions         *snapshot.Subsz         the core
//	ACCOUNTZ  *snapshot.AccountzOptions      *snapshot.Accountz      the core
//	STATZ     *snapshot.AccountStatzOptions  *snapshot.AccountStatz  the core
//	HEALTHZ   *snapshot.HealthzOptions       *snapshot.HealthStatus  the core
//	ROUTEZ    *snapshot.RoutezOptions        *snapshot.Routez        no routes
//	GATEWAYZ  *snapshot.GatewayzOptions      *snapshot.Gatewayz      no gateways
//	LEAFZ     *snapshot.LeafzOptions         *snapshot.Leafz         no leaf nodes
//	JSZ       *snapshot.JszOptions           any JSON document       *snapshot.JSInfo, disabled
//
// A provider may answer other kinds too; the monitor serves the upstream
// endpoints and the system account subscribes to the upstream subjects,
// while Snapshot and MonitorRequest answer any registered kind.
//
// Errors: a provider returns a *snapshot.MonitorError for a request the caller
// got wrong (HTTP 400, or the error of the $SYS envelope, with its Text);
// any other error is the server's fault. A provider that also implements
// HealthChecker takes part in HEALTHZ. ACCOUNTZ asks JSZ about the
// account it details (Account set): a *snapshot.JSInfo that is not
// Disabled makes the account import $JS.API.> as upstream's, and one with
// AccountDetails makes it jetstream_enabled.
//
// Concurrency: registration and lookup are safe for concurrent use; lookups take no
// lock (the registry is copied on write). Providers and contributors are
// called concurrently, from HTTP handlers and from the system account's
// goroutine, with no server lock held; they must not block for long, and
// a contributor must not ask for a Varz snapshot itself.
//
// The modules that register: cluster/route (ROUTEZ and "cluster", from
// Start until Shutdown), the WebSocket listener of the command
// (cmd/internal/wsserver: "websocket", while the listener runs, lame duck
// mode included), jetstream (JSZ with its HealthChecker, and "jetstream",
// from Start until Shutdown) and the monitor ("http", from New until
// Shutdown).
//
// # Tracing
//
// With a Logger that enables LevelTrace (-V) every connection and link
// logs the protocol it reads and writes in upstream's words (trace.go);
// Options.TraceVerbose adds the system account's in-process clients and
// Options.MaxTracedMsgLen cuts the payloads. A Reload whose Logger turns
// trace on or off applies it to the connections and links already up
// (the in-process InternalClients keep theirs); a link's owner asks
// Link.Tracing before it traces its own protocol, and logs through
// Server.Logger, which follows the reloads. A Reload also applies
// Options.AccountMsgTrace to the accounts, their connections up
// included. Message tracing (ADR-41,
// msgtrace.go) needs no option: a message with a Nats-Trace-Dest header
// makes the server publish a snapshot.MsgTraceEvent to that subject in
// the publisher's account (Options.AccountMsgTrace adds traceparent
// activation, Export.AllowTrace and Import.AllowTrace let a trace cross
// accounts); a link's owner names the peer server with
// Link.SetRemoteName for those events, and a session attached with
// SessionOptions.Traced reports its part (Msg.TraceJetStream).
//
// # Lame duck mode
//
// LameDuck stops accepting clients, tells them (INFO ldm) and closes them
// over the lame duck duration before it shuts the server down. A module
// that must act at that moment (cluster/route tells its peers, so they
// stop advertising this server's client URLs) registers a func with
// AddLameDuckListener, typically when it starts, and calls the returned
// remove func when it stops. The funcs run once, on the goroutine that
// called LameDuck, in the order they were added, with no server lock
// held: after INFO says ldm and before the listeners close and the
// clients hear of it. They must not block for long (the grace period
// waits for them) and must not call Shutdown; they may call any other
// Server method, take their module's locks and write to links.
//
// # Concurrency
//
// All Server and InternalClient methods are safe for concurrent use. Each
// connection has one read goroutine, which owns its parser and publishes,
// and one write goroutine, which writes what is queued. A publisher
// appends each message to the subscriber's outbound buffer under that
// client's mutex, and once per read batch either writes a small backlog
// (up to 8 KiB, a plain TCP socket nobody is writing, the batch's only
// destination, after the reader sat idle for 50us) itself with
// non-blocking writes, handing what the socket does not take to the
// writer, or wakes the subscriber's writer; writers send everything queued
// with one writev. Links are written the same way. A subscriber whose backlog
// passes 3/4 of max_pending makes its publishers wait briefly (at most 10ms
// per read batch); past max_pending it is closed as a slow consumer. No
// goroutine, channel operation, map write or clock read happens per message.
// docs/locking.md lists every mutex and the order they are taken in.
//
// InternalClient handlers run on the publisher's goroutine and must not
// block. Session handlers run on the session's goroutine and may block:
// that slows, then refuses, the session's publishers (contract item 4);
// a handler may publish, through its own or another session, but a
// session whose handler publishes into its own full queue refuses itself
// after its Stall.
//
// # Memory
//
// Msg slices passed to a MsgHandler are views, valid only during the call:
// into the publisher's buffers for an InternalClient, into the session's
// queue slot for a Session (the slot is reused once the handler returns).
// Copy what you keep. Session.Publish copies its arguments before it
// returns. Outbound data lives in 32 KiB chunks from a
// shared pool, so an idle connection holds no output buffer.
//
// # Transports and configuration
//
// The core imports no transport. A listener of another transport hands
// its connections to Serve (ServeWebsocket for WebSocket, which also
// fills INFO's ws_connect_urls; the transport module contributes the
// websocket section of /varz itself, RegisterVarz); what
// only the transport knows reaches the core through optional interfaces
// of the net.Conn: TransportConn (its kind), CredentialsConn (cookies
// standing for CONNECT credentials), PendingBytesConn (what it buffers
// inside Read, counted in the memory budget of connections that have not
// authenticated, Options.MaxUnauthMemory; see unauth.go) and NetConn()
// net.Conn (the TLS connection under a wrapper). Options.OnStart starts such listeners with
// the server, before the client listener. The nats-server command's
// WebSocket glue is natsd.dev/cmd/internal/wsserver.
//
// Configuration files are parsed by natsd.dev/server/config into Options;
// modules register the blocks they own there.
//
// # Layout
//
// This package is the core: connections (client.go, outbound.go, tls.go, unauth.go),
// accounts and cross-account delivery (account.go, exports.go,
// crossaccount.go), in-process users (session.go, internal.go), links and
// interest (link.go, link_kind.go, interest.go), authentication (auth.go,
// auth_reload.go; the auth callout's transport and the server's nkey and
// curve key in callout.go, its protocol in package auth), operator mode
// (operator.go: Options.Operator, the AccountResolver seam with
// MemoryResolver, accounts built from their JWTs on first use,
// UpdateAccountClaims, ResolveAccount, OnJWTAccount through which
// JetStream learns of JWT accounts and their JetStream limits,
// the account JWT's leaf limit as MaxLeafNodes; the account JWT's auth
// callout in callout.go; operator_resolver.go: the ResolverStarter and
// ResolverCloser capabilities a resolver may have, Trust,
// AccountClaims, RemoveAccountClaims and resolver_pinned_accounts),
// the monitoring registry and the core's own documents
// (snapshot*.go, connz.go, system.go) and the lifecycle (server.go).
// Packages of their own in this module:
//
//   - config: configuration files into Options, blocks registered by
//     modules, and TLS files into a tls.Config (LoadTLSConfig).
//   - snapshot: the monitoring JSON documents and $SYS advisories; no logic.
//   - sys: the $SYS services, built on the session API.
//   - resolver: the full, cache and URL account resolvers of operator
//     mode and their $SYS claims requests, built on the session API.
//   - logger: slog handlers in upstream's log format (file, syslog).
//   - servertest: the test kit and the seams' conformance suites.
//   - internal/mondoc: /connz, /subsz, /accountz, /accstatz and $SYS
//     monitoring answers, the /healthz status and /varz's process
//     fields, assembled from plain data the core copies out of its state.
//   - internal/replies: the pending "_R_." reply subjects of service
//     requests that cross accounts.
//   - internal/handshake: TLS connection_rate_limit and the
//     handshake_first read-ahead.
//   - internal/procstat: the process's CPU and memory for /varz.
//   - internal/logswap: the log handler Reload swaps.
//
// The internal packages are not API; they import nothing of the core.
//
// # Errors
//
// Clients receive upstream's -ERR texts ('Unknown Protocol Operation',
// 'Maximum Payload Violation', 'Invalid Subject', 'Stale Connection', ...);
// those are protocol constants. Go errors returned by this package are the
// Err sentinels, wrapped with detail.
package server
