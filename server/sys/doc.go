// Package sys is the system account's service of a natsd server: it
// answers the $SYS requests ($SYS.REQ.SERVER.<id|PING>.<KIND> for the
// monitoring kinds and STATSZ, IDZ, PROFILEZ, LDM, KICK and RELOAD (which
// runs server.Server.ReloadConfig, the reload the configuration's owner
// set with SetReloader, and answers its error as a 500); the per-account
// $SYS.REQ.ACCOUNT.<acc>.<KIND>; $SYS.REQ.USER.INFO), publishes the client
// CONNECT/DISCONNECT advisories, the failed authentication advisory
// (CLIENT.AUTH.ERR, and as upstream a DISCONNECT of $G), the account connection events, the server's LAMEDUCK
// and SHUTDOWN events and the STATSZ heartbeat, as upstream nats-server
// does.
//
// It is built only on the server's public API: one in-process session
// (server.Server.Attach, Kind "System", bound to the system account) and
// exported accessors (Varz, Connz, AccountStatz, MonitorRequest,
// SystemResponse, ServerInfo, KickClient, LameDuckClient, ReloadConfig,
// ...). It is the
// proof that the session seam suffices for an in-process service.
//
// # Usage
//
// Importing the package registers it with the server package
// (server.RegisterSystemService):
//
//	import _ "natsd.dev/server/sys"
//
// Then:
//
//  1. server.New, for a server with a system account, calls Attach, which
//     attaches the service's session and subscribes it to the request
//     subjects. Without this package linked in, nothing answers $SYS.
//  2. server.Start runs Service.Run on a goroutine the server's Shutdown
//     waits for; Run returns when the server shuts down and closes the
//     session, which removes its subscriptions.
//  3. The core reports each accepted CONNECT and each close
//     (ClientConnected, ClientDisconnected) from the client's goroutines;
//     the service queues them without blocking and publishes them from
//     Run; failed authentications the same way (ClientAuthFailed, the
//     server.AuthErrorListener capability).
//  4. The LAMEDUCK event goes out from the server's lame duck listener
//     (added by Attach) and SHUTDOWN from ServerShutdown (the
//     server.ShutdownListener capability), both on the caller's goroutine
//     before clients and routes close, so that they still carry them.
//  5. A PROFILEZ request runs on a goroutine of its own (a CPU profile
//     samples for up to a minute, without holding up other requests),
//     one at a time; Run waits for it before it returns.
//
// # Concurrency
//
// The session's handlers (its own goroutine) copy each request out of the
// message and queue it for Run; Run answers one at a time, building the
// answer (a CONNZ locks every client) away from any publisher's goroutine.
// The session is best-effort (server.SessionOptions.Drop): a request that
// finds its queue full is dropped and its requester times out, as
// upstream's; advisories past a queue of 1024 are dropped the same way.
// Nothing here ever slows a publisher.
//
// # Memory
//
// Requests are copied out of the session's queue slot (valid only during
// the handler); answers are new slices that Session.Publish copies.
package sys
