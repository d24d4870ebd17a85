// Package auth implements NATS authentication and authorization as
// upstream nats-server 2.x does them: users with plain or bcrypt
// passwords, tokens, nkey users signing a nonce, no_auth_user, allowed
// connection types, TLS certificate mapping (verify_and_map), and
// publish/subscribe permissions with allow and deny lists, queue-group
// entries and allow_responses. It also parses the authorization {} block
// of the configuration file.
//
// The server owns the connections, accounts and reply tracking; this
// package decides, and knows nothing about sockets or goroutines.
//
// # Usage
//
// At startup (and on reload) the server:
//
//  1. Parses the authorization {} block with ParseAuthorization, and the
//     users of each accounts {} block with ParseUsers, setting User.Account
//     and applying Config.DefaultPermissions to users without permissions.
//     Command line options (--user, --pass, --auth) override Config.User,
//     Config.Password and Config.Token; the top-level no_auth_user goes in
//     Config.NoAuthUser.
//  2. Appends the account users to Config.Users and calls Config.Chain,
//     passing the client TLS block's verify_and_map. A nil Chain means no
//     authentication: INFO says auth_required false and CONNECT is not
//     checked. (Chain may also be assembled by hand from NewUsers,
//     NewToken and NewCertMap.)
//  3. Remembers Chain.NeedsNonce(): when true, every client gets its own
//     NewNonce in INFO's "nonce" field.
//
// On reload the server also checks each connected client again: one
// whose user the new Config no longer has (Config.HasUser with the
// client's Request) is closed; the others are authenticated again with
// the new Chain and get the new Identity's Checker.
//
// For each client connection the server:
//
//  1. Sends INFO (auth_required, and the nonce if needed) and starts the
//     auth timer (Config.Timeout, the server's default when 0).
//  2. On CONNECT, fills a Request: Kind from the listener (standard,
//     WebSocket, MQTT, leaf node...), User/Password/Token/Nkey/Sig/JWT
//     from the JSON, Nonce with the bytes it sent in INFO, TLS with the
//     handshake's state.
//  3. Calls Chain.Authenticate off the accept loop, on the connection's
//     own goroutine: a bcrypt check at cost 11 takes a good fraction of
//     a CPU second by design (see BenchmarkPassword), and must slow down
//     only the client that presented it.
//  4. On error, logs the error's text (it names the user and the reason,
//     never the secret), sends -ERR 'Authorization Violation' and closes
//     the connection. The client learns nothing else.
//  5. On success, binds the connection to Identity.Account ("" is the
//     global account) and keeps Identity.Checker (nil: no restrictions),
//     and reports Identity.Name as the authorized user in monitoring.
//
// On the connection's hot paths the server:
//
//  1. Before a PUB/HPUB, calls CanPublish(subject) on the connection's
//     Publisher (Checker.NewPublisher, made once per connection; it
//     remembers the decisions for the last eight subjects). If it says no and
//     Checker.Response() is set, the subject may still be a reply to a
//     request this client received: the connection keeps a Replies
//     (NewReplies(Checker.Response())), calls Replies.Add for each message
//     with a reply subject it delivers to the client, and allows the
//     publish if Replies.Allow(subject, now) says so. Otherwise the server
//     drops the message and sends -ERR 'Permissions Violation for Publish
//     to "x"'.
//  2. On SUB, after checking the subject is a valid filter, calls
//     Checker.CanSubscribe(subject, queue); if false it sends -ERR
//     'Permissions Violation for Subscription to "x"' and does not
//     subscribe. If allowed and Checker.NeedsDeliveryFilter(subject), it
//     marks the subscription and, for each message delivered through it,
//     drops those for which Checker.CanDeliver(subject) is false.
//
// # Concurrency
//
// Everything built by this package (Chain, Users, the authenticators,
// Checker) is immutable after construction, apart from the Checker's
// caches, and safe for concurrent use. Replies is per connection and
// guarded by its own mutex, never held across a call out. A Checker is meant to be shared by
// all connections of a user: Users builds one per distinct *Permissions.
// Authenticate calls may run in parallel; none of them blocks on I/O, but
// bcrypt and signature checks cost CPU (about 0.1-0.7 s for bcrypt at
// cost 11, about 0.1 ms for an nkey signature on a small machine). The
// package starts no goroutines and never logs.
//
// # Memory
//
// CanPublish and CanDeliver keep up to 512 recent decisions each, in a
// fixed table of atomically replaced entries (no lock, no sweeper). A hit
// costs a hash, an atomic load and a comparison, about as much as the
// cached sublist lookup a publish needs anyway, and allocates nothing; a
// miss walks the permission tries and allocates one entry. A Publisher
// adds copies of the last eight subjects per connection, and answers one
// of them again with length checks and a byte comparison, touching no
// shared memory. The subject slices passed in are never
// retained.
//
// # Errors
//
// Every authentication failure wraps ErrAuthorization, so the server
// needs one errors.Is test to answer 'Authorization Violation'. A request
// that no authenticator of a Chain applies to fails with ErrNoMatch (which
// wraps ErrAuthorization as well). Wrong credentials end the chain at the
// authenticator that recognized them. Configuration problems come back
// together as a confparse.ErrorList of *confparse.Error values carrying
// file:line:col, each wrapping ErrBadConfig or ErrUnknownField; texts
// follow upstream's where upstream has one. NewChecker's errors wrap
// ErrInvalidPermission. No function panics on its input.
//
// # Differences from upstream
//
// A wildcard subscription is allowed only when an allow entry covers all
// of it: upstream lets "foo.>" through an allowed "foo.*". A plain deny
// entry denies a subscription whatever queue-group deny entries also
// match it. Passwords are compared in constant time including their
// length. Auth callout works in configuration and operator mode (see
// below); operator mode (JWT) is described after it.
//
// # Auth callout
//
// authorization { auth_callout { issuer, auth_users, account, xkey,
// allowed_accounts } } is parsed into Config.Callout (and makes Chain
// non-nil: authentication is required). For a client that is not one of
// Callout.AuthUsers (IsAuthUser on the chain's Identity.Name; a client
// the chain refused goes to the callout too) and whose account
// Callout.Delegates, the server:
//
//  1. Calls Callout.NewExchange with its own description, the client's
//     and the client's Request, the auth timeout and its keys (its server
//     nkey, whose public key is its id, and a curve key when Callout.XKey
//     is set). The exchange holds a fresh user nkey the answer must be for.
//  2. Publishes CalloutExchange.Payload to CalloutSubject in
//     Callout.Account with a reply subject, adding the header
//     CalloutXKeyHeader: XKeyHeader() when that is not "".
//  3. Waits for the reply up to the auth timeout (then logs upstream's
//     "Authorization callout response not received in time on account"
//     and refuses the client), and passes its payload to
//     CalloutExchange.Decide with a function telling which accounts
//     exist. The Identity it returns is bound as a chain's would be
//     (Identity.Account is the user JWT's audience); its errors are
//     *CalloutError values with upstream's log text, wrapping
//     ErrAuthorization.
//
// The server also denies publishing to CalloutSubject to every client
// of the callout account. NewExchange signs (ed25519) and, with an xkey,
// seals; Decide verifies two signatures: about 0.3 ms per callout on a
// small machine, 0.6 ms with encryption (BenchmarkCalloutExchange).
// Decide applies the user JWT's connect times (times, locale), allowed
// connection types and source networks (src), and returns its expiry in
// Identity.JWT: the server closes the connection at the earlier of the
// JWT's expiry and the end of its connect time window, as upstream. As
// upstream, the user JWT's subs, payload and data limits are not applied
// (Identity.JWT says -1, no limit); the account's limits are.
//
// In operator mode the callout is the account JWT's authorization
// section (auth_users, allowed_accounts, xkey): DecodeAccount returns it
// as Account.Callout, with the account as Issuer and Account. Clients
// whose user JWT places them in that account and who are not one of its
// auth_users go through the callout in that account, and the server
// checks the answer with CalloutExchange.DecideJWT: the response is
// signed by the account or one of its signing keys (unless encrypted),
// the user JWT is issued by the account or, with issuer_account, by an
// account of allowed_accounts ("*": any), which the AccountSource
// resolves and which the user is bound to.
//
// # Operator mode (JWT)
//
// jwt.go and jwt_user.go decode the JWTs of decentralized authentication
// with github.com/nats-io/jwt/v2 into plain structs, so that the server
// needs no JWT library:
//
//  1. ReadOperator (the operator option: a file or the JWT) and
//     DecodeOperator give an Operator; NewTrust(operators, trustedKeys)
//     the Trust of the operators' keys and signing keys.
//  2. Trust.DecodeAccount checks an account JWT (well formed, signed by a
//     trusted key, valid now) and returns an Account: its limits,
//     exports, imports, mappings; Account.CheckActivation checks the
//     activation token of an import of a private export,
//     Account.UserRevoked and Account.IsSigner what a new JWT of the
//     account means for connected users.
//  3. NewJWTAuth(source, defaultSentinel) is the Authenticator of
//     operator mode: it takes the account a user JWT names from the
//     AccountSource (the server, which caches what it builds), checks
//     the JWT (signer, expiry, nonce signature or bearer, revocation,
//     connection type, source network, times of day), fills in a scoped
//     signing key's template, and returns an Identity whose Account is
//     the account's public key and whose JWT field carries what the
//     server enforces while the user is connected (expiry, limits).
//  4. DescribeAccountJWT decodes an account JWT for display (/accountz:
//     issuer, tags, the decoded claims, validation issues, revocations).
package auth
