package server

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"natsd.dev/auth"
)

// Texts sent to clients about authentication and permissions, as upstream
// sends them.
const (
	errTextAuthViolation = "Authorization Violation"
	errTextAuthTimeout   = "Authentication Timeout"
	// The permission texts are followed by the quoted subject.
	errTextPubViolation = "Permissions Violation for Publish to "
	errTextSubViolation = "Permissions Violation for Subscription to "
)

// logTextAuthError starts upstream's log line for a failed login, which
// operators' tooling greps for.
const logTextAuthError = "authentication error"

// serverAuth is what the server keeps of Options.Authorization. It is
// immutable: Reload builds a new one and swaps the Server's pointer.
type serverAuth struct {
	// chain is nil when no authentication is configured.
	chain auth.Chain
	// nonce: every client gets a nonce in its INFO (nkey users exist).
	nonce bool
	// users: users are configured, so failed logins name the user.
	users bool
	// timeout bounds the time to a valid CONNECT.
	timeout time.Duration
	// cfg is the configuration the chain was built from (nil for none);
	// tlsMap is verify_and_map, where certificates name the users.
	cfg    *auth.Config
	tlsMap bool
}

// newServerAuth builds the authentication chain of o. A user bound to an
// account must name one of accs.
func newServerAuth(o *Options, accs map[string]*Account) (*serverAuth, error) {
	sa := &serverAuth{timeout: o.AuthTimeout, tlsMap: o.TLSMap}
	cfg := o.Authorization
	if cfg == nil {
		return sa, nil
	}
	if cfg.Timeout > 0 {
		sa.timeout = cfg.Timeout
	}
	for _, u := range cfg.Users {
		if u.Account != "" && accs[u.Account] == nil {
			name := u.Name
			if name == "" {
				name = u.Nkey
			}
			return nil, fmt.Errorf("%w: user %q: account %q does not exist", ErrBadOptions, name, u.Account)
		}
	}
	if err := checkCallout(cfg.Callout, accs); err != nil { // callout.go
		return nil, err
	}
	chain, err := cfg.Chain(o.TLSMap)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadOptions, err)
	}
	sa.chain = chain
	sa.cfg = cfg
	sa.nonce = chain.NeedsNonce()
	sa.users = cfg.User != "" || len(cfg.Users) > 0
	return sa, nil
}

// connKind is the kind of connection c is, for allowed_connection_types.
func (c *client) connKind() auth.ConnKind {
	if c.ws {
		return auth.KindWebsocket
	}
	return auth.KindStandard
}

// authRequest gathers the credentials of a CONNECT (opts nil: none, for
// a client that skipped CONNECT). The request is kept by the client, so
// that a reload can check it again against new users.
func (c *client) authRequest(opts *connectOpts) *auth.Request {
	req := &auth.Request{
		Kind:       c.connKind(),
		Nonce:      c.nonce,
		RemoteAddr: c.nc.RemoteAddr(),
	}
	if opts != nil {
		req.User, req.Password, req.Token = opts.User, opts.Pass, opts.Token
		req.Nkey, req.Sig, req.JWT = opts.Nkey, opts.Sig, opts.JWT
		if c.ws {
			c.wsCookies(req)
		}
	}
	// As before CONNECT, a client that skips it is not mapped by its
	// certificate (no_auth_user does not count certificates either).
	if tc, ok := c.nc.(*tls.Conn); ok && !c.ws && opts != nil {
		cs := tc.ConnectionState() // the handshake ended before the read loop
		req.TLS = &cs
	}
	return req
}

// authenticate checks the credentials of a CONNECT against the server's
// chain. It runs on the read goroutine: a bcrypt comparison costs a good
// part of a CPU second and must only hold up the client that sent it. On
// success it binds the identity's permissions to c and stops the auth
// timer; on failure it logs why and returns the error that makes the read
// loop answer -ERR 'Authorization Violation' and close. Without any
// authentication configured it binds an identity without permissions,
// so that a reload that turns authentication on can check the client.
func (c *client) authenticate(opts *connectOpts) error {
	req := c.authRequest(opts)
	for {
		// A reload between loading the chain and binding makes
		// bindIdentity refuse (errAuthReloaded): start again with the
		// new chain, so no client binds to a chain a reload replaced
		// after it checked the clients.
		sa := c.srv.auth.Load()
		err := c.authenticateWith(sa, req, opts)
		if err != errAuthReloaded {
			return err
		}
	}
}

// errAuthReloaded: the chain changed while a client authenticated.
var errAuthReloaded = errors.New("server: authorization reloaded")

func (c *client) authenticateWith(sa *serverAuth, req *auth.Request, opts *connectOpts) error {
	id := &auth.Identity{}
	var err error
	if sa.chain != nil {
		id, err = sa.chain.Authenticate(req)
	}
	var acc *Account
	viaCallout := false
	if sa.cfg != nil && sa.cfg.Callout != nil {
		id, acc, viaCallout, err = c.calloutAuth(sa, req, opts, id, err) // callout.go
	} else if err == nil {
		acc, err = c.srv.identityAccount(id)
		if err == nil && c.srv.op != nil {
			id, acc, viaCallout, err = c.operatorCallout(sa, req, opts, id, acc) // callout.go
		}
	}
	if err != nil {
		return c.authViolation(sa, req, err)
	}
	return c.bindIdentity(sa, req, id, acc, viaCallout)
}

// identityAccount is the account an authenticated identity binds to.
func (s *Server) identityAccount(id *auth.Identity) (*Account, error) {
	if id.Account == "" {
		return s.gAcc, nil
	}
	if acc := s.LookupAccount(id.Account); acc != nil {
		return acc, nil
	}
	return nil, fmt.Errorf("account %q not found", id.Account)
}

// authWithoutConnect handles an operation other than CONNECT from a client
// that has not authenticated yet. As upstream, the no_auth_user (if any)
// lets such a client in, so that telnet-style sessions work; otherwise it
// is an authorization violation.
func (c *client) authWithoutConnect() error {
	if err := c.authenticate(nil); err != nil {
		return err
	}
	c.connected = true
	c.connectedAt = time.Now()
	c.mu.Lock()
	c.connectSeen = true
	c.mu.Unlock()
	c.srv.connectEvent(c)
	return nil
}

// bindIdentity applies a successful authentication against sa:
// permissions for the read loop and, under the lock, the reply tracker
// deliveries use, the account (monitoring reads it under the lock; the
// read loop, which runs this, reads it without) and the credentials a
// reload checks again. The client has no subscriptions yet, so none has
// to move between sublists. An account at its connection limit refuses
// the client. If a reload replaced sa meanwhile, nothing is bound and
// the error is errAuthReloaded.
func (c *client) bindIdentity(sa *serverAuth, req *auth.Request, id *auth.Identity, acc *Account, viaCallout bool) error {
	if !acc.addConn() {
		c.srv.log.Error(c.logPrefix() + " - " + errTextMaxAccountConns + " - Account: " + acc.Name)
		return &closeError{text: errTextMaxAccountConns, reason: reasonMaxAccountConnections}
	}
	replies := auth.NewReplies(id.Checker.Response())
	c.mu.Lock()
	if c.srv.auth.Load() != sa {
		c.mu.Unlock()
		acc.conns.Add(-1)
		return errAuthReloaded
	}
	if c.authTimer != nil {
		c.authTimer.Stop()
		c.authTimer = nil
	}
	prev, prevCounted := c.acc, c.accCounted // a second CONNECT
	c.replies = replies
	c.authUser = id.Name
	c.bound = &authBinding{req: req, sa: sa, id: id, callout: viaCallout}
	c.acc = acc
	c.accCounted = true
	c.mu.Unlock()
	if prevCounted {
		prev.conns.Add(-1)
	}
	c.authPending = false
	c.checker = id.Checker
	c.publisher = nil
	if p := id.Checker.Permissions(); p != nil && p.Publish != nil {
		c.publisher = id.Checker.NewPublisher()
	}
	c.bindJWTUser(id.JWT)
	c.parser.MaxPayload = c.payloadLimit()
	return nil
}

// authBinding is what a client authenticated with (req), against which
// chain (sa) and as whom (id). Immutable; client.bound is guarded by
// client.mu.
type authBinding struct {
	req *auth.Request
	sa  *serverAuth
	id  *auth.Identity
	// callout: the auth callout service granted id (callout.go).
	callout bool
}

// allowReply reports whether allow_responses lets the client publish to
// the denied subject. The tracker is read under the lock because a reload
// may replace it; this runs only for publishes the permissions deny.
func (c *client) allowReply(subject []byte) bool {
	c.mu.Lock()
	r := c.replies
	c.mu.Unlock()
	return r.Allow(subject, time.Now())
}

// authViolation logs a failed authentication as upstream does (the user
// or nkey, never the secret), adding the reason, and returns the error
// that closes the connection with -ERR 'Authorization Violation'.
func (c *client) authViolation(sa *serverAuth, req *auth.Request, err error) error {
	line := c.logPrefix() + " - " + logTextAuthError
	switch {
	case req.Nkey != "" && sa.nonce:
		line += " - Nkey " + strconv.Quote(req.Nkey)
	case sa.users:
		line += " - User " + strconv.Quote(req.User)
	}
	line += " (" + authReason(err) + ")"
	c.srv.log.Error(line)
	return &closeError{text: errTextAuthViolation, reason: reasonAuthViolation}
}

// authReason is the part of an authentication error that says why, for
// the log: auth's errors read "auth: authorization violation: <why>".
func authReason(err error) string {
	if errors.Is(err, auth.ErrAuthorization) {
		return strings.TrimPrefix(err.Error(), auth.ErrAuthorization.Error()+": ")
	}
	return err.Error()
}

// wsCookies fills in the credentials a WebSocket client left out of its
// CONNECT from those its transport carried (the HTTP cookies the
// websocket block names: user_cookie, pass_cookie, token_cookie), as
// upstream does for browsers.
func (c *client) wsCookies(req *auth.Request) {
	cc, ok := c.nc.(CredentialsConn)
	if !ok {
		return
	}
	user, pass, token := cc.Credentials()
	fill := func(v string, dst *string) {
		if *dst == "" {
			*dst = v
		}
	}
	fill(user, &req.User)
	fill(pass, &req.Password)
	fill(token, &req.Token)
}

// authTimeout closes a client that did not authenticate in time.
func (c *client) authTimeout() {
	c.mu.Lock()
	if c.closed || c.authTimer == nil {
		c.mu.Unlock()
		return
	}
	c.authTimer = nil
	c.mu.Unlock()
	c.debugf(errTextAuthTimeout)
	c.sendErrAndClose(errTextAuthTimeout, reasonAuthTimeout)
}

// logUser names the client in permission violation logs as upstream does.
func (c *client) logUser() string { return logName(c.opts.Nkey, c.opts.User) }

// logName names a user of CONNECT in log lines as upstream does: by nkey,
// else by name, else "N/A".
func logName(nkey, user string) string {
	switch {
	case nkey != "":
		return "Nkey " + strconv.Quote(nkey)
	case user != "":
		return "User " + strconv.Quote(user)
	}
	return `User "N/A"`
}

// pubViolation drops a publish the permissions deny: -ERR, the connection
// stays open, and an error log line.
func (c *client) pubViolation(subject []byte) {
	q := strconv.Quote(string(subject))
	c.sendErr(errTextPubViolation + q)
	c.srv.log.Error(c.logPrefix() + " - Publish Violation - " + c.logUser() + ", Subject " + q)
}

// subViolation refuses a subscription the permissions deny.
func (c *client) subViolation(subject string, queue, sid []byte) {
	q := strconv.Quote(subject)
	text := errTextSubViolation + q
	line := c.logPrefix() + " - Subscription Violation - " + c.logUser() + ", Subject " + q
	if len(queue) > 0 {
		qq := strconv.Quote(string(queue))
		text += " using queue " + qq
		line += ", Queue: " + qq
	}
	c.sendErr(text)
	c.srv.log.Error(line + ", SID " + string(sid))
}

// redactConnect hides the password and token of a traced CONNECT, as
// upstream's trace does.
func redactConnect(arg []byte) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(arg, &m) != nil {
		return string(arg)
	}
	redacted := false
	for _, k := range []string{"pass", "auth_token"} {
		if _, ok := m[k]; ok {
			m[k] = json.RawMessage(`"[REDACTED]"`)
			redacted = true
		}
	}
	if !redacted {
		return string(arg)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// PasswordMatches reports whether given, the password a peer presented,
// matches configured, a password from the configuration: plain text is
// compared in constant time, a bcrypt hash ("$2a$...", see auth.IsBcrypt)
// with bcrypt. Modules that cannot import auth (cluster, for its routes'
// authorization {}) check their credentials with it. A bcrypt check takes
// tens of milliseconds: call it on the connection's own goroutine with no
// lock held.
func PasswordMatches(given, configured string) bool {
	return auth.SecretMatches(configured, given)
}
