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
// A module that connects servers (cluster's routes) wraps each connection
// in a Link (NewLink): the core then keeps the peer's interest
// (AddRemoteSub, RemoveRemoteSub; queue interest with a weight) in the
// accounts' sublists and writes RMSG/HMSG to the link when a local client
// publishes on a matching subject, one per link, naming the queue groups
// it was chosen for (local queue members first). Messages the peer sends
// go to Link.Deliver, which delivers to local subscribers only: a message
// crosses one link at most. The module learns of local interest changes
// through its InterestListener (SetInterestListener replays the existing
// interest atomically with the registration), fills /routez and /varz
// through a RouteMonitor, and may hear of lame duck mode
// (LameDuckListener). SetRemoteConnectURLs puts the other servers' client
// URLs in INFO connect_urls and sends the change to the clients that take
// asynchronous INFO. A link is never closed for its backlog: a write past
// the deadline that made progress is retried.
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
// # Transports and configuration
//
// The core imports no transport. A listener of another transport hands
// its connections to Serve (ServeWebsocket for WebSocket, which also
// fills INFO's ws_connect_urls and the websocket section of /varz); what
// only the transport knows reaches the core through optional interfaces
// of the net.Conn: TransportConn (its kind), CredentialsConn (cookies
// standing for CONNECT credentials) and NetConn() net.Conn (the TLS
// connection under a wrapper). Options.OnStart starts such listeners with
// the server, before the client listener. The nats-server command's
// WebSocket glue is natsd.dev/cmd/internal/wsserver.
//
// Configuration files are parsed by natsd.dev/server/config into Options;
// modules register the blocks they own there.
//
// # Errors
//
// Clients receive upstream's -ERR texts ('Unknown Protocol Operation',
// 'Maximum Payload Violation', 'Invalid Subject', 'Stale Connection', ...);
// those are protocol constants. Go errors returned by this package are the
// Err sentinels, wrapped with detail.
package server
