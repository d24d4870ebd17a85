// Package resolver holds the account resolvers of operator mode beyond a
// fixed set of JWTs (server.MemoryResolver): the full and cache
// resolvers, which keep account JWTs in a directory and serve the
// system account's claims requests, and the URL resolver, which fetches
// them from an account server over HTTP(S). They are what upstream
// nats-server's resolver { type: full|cache } and resolver:
// URL(http://...) configure.
//
// Every resolver is a server.AccountResolver (Fetch by account public
// key) with the server.ResolverStarter and server.ResolverCloser
// capabilities: the server starts it once its system account exists and
// closes it on shutdown. It is built on the server's public API only
// (sessions of the system account, UpdateAccountClaims,
// RemoveAccountClaims, AccountClaims, Trust), as package sys is.
//
// # Usage
//
//	r, err := resolver.NewFull(resolver.Options{Dir: "/var/lib/nats/jwt", Delete: resolver.RenameDeleted})
//	...
//	opts.Operator = &server.OperatorOptions{Operators: ops, Resolver: r}
//	s, err := server.New(opts) // calls r.Start(s)
//
// # Requests (subjects of the system account, as upstream's)
//
//   - $SYS.REQ.CLAIMS.UPDATE and $SYS.REQ.ACCOUNT.<pub>.CLAIMS.UPDATE
//     (also the older $SYS.ACCOUNT.<pub>.CLAIMS.UPDATE): the body is an
//     account JWT signed by a trusted operator key. The full resolver
//     stores it, the cache only when it holds the account; an account
//     the server built gets it at once (server.UpdateAccountClaims: new
//     limits, revocations). The answer is
//     {"server":{...},"data":{"account":"<pub>","code":200,"message":"jwt updated"}}
//     or an "error" with code 500 and a description.
//   - $SYS.REQ.ACCOUNT.<pub>.CLAIMS.LOOKUP (full resolver): the stored
//     JWT, or an empty message when there is none.
//   - $SYS.REQ.CLAIMS.LIST: {"server":{...},"data":["<pub>",...]}.
//   - $SYS.REQ.CLAIMS.DELETE: a JWT self-signed by an operator key with
//     {"accounts":["<pub>",...]} in its data; only with allow_delete.
//     The accounts' clients are closed and the accounts forgotten.
//   - $SYS.REQ.CLAIMS.PACK (full resolver): the synchronization between
//     the full resolvers of a cluster. Every interval (and at start) each
//     sends the XOR of the SHA-256 of its JWTs; every other server whose
//     hash differs answers with its JWTs, one "<pub>|<jwt>" a message,
//     then an empty message (one whose hash is the same, the empty
//     message alone); the newer JWTs are merged. Upstream's servers
//     answer in the queue group "responder", natsd's each (a queue member
//     on the requesting server would take the request itself).
//
// Every server of a cluster subscribes to the update subjects, so a JWT
// pushed to one server reaches the resolvers of all of them over the
// routes. A full resolver that has no JWT for an account asks the
// cluster (LOOKUP) before it answers "not found"; the cache resolver
// always does, and keeps what it got up to its limit and TTL.
//
// # Directory format
//
// One file per account, named <public key>.jwt, holding the encoded JWT,
// as upstream's resolvers write them; a deleted account's file is
// renamed <public key>.jwt.deleted (allow_delete) or removed
// (hard_delete, the cache). A file that is not an account JWT for the
// key its name says is reported (Resolver.Damaged, a warning in the log)
// and left out; the other accounts stay usable.
//
// # Concurrency
//
// Requests are handled one at a time on the resolver's session; fetches
// run on the caller's goroutine and wait for the replies delivered to a
// second session, so that a handler that needs a fetch (an update whose
// imports name an account not built yet) does not wait for itself.
package resolver
