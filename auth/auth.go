package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Errors returned by authenticators. Callers test them with errors.Is.
var (
	// ErrAuthorization is wrapped by every authentication failure. It is
	// the only thing a client may learn: the server answers it with
	// -ERR 'Authorization Violation' and closes the connection. The
	// wrapping error's text says why (unknown user, bad signature, ...)
	// for the server's log; it never contains a password or token.
	ErrAuthorization = errors.New("auth: authorization violation")

	// ErrNoMatch is returned (wrapped in ErrAuthorization) by an
	// Authenticator that does not apply to a Request: it holds no
	// credential of the kind that authenticator checks. A Chain then asks
	// the next authenticator.
	ErrNoMatch = fmt.Errorf("%w: no matching credentials", ErrAuthorization)
)

// deny returns an authentication failure with a reason for the log.
func deny(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrAuthorization}, args...)...)
}

// Request is what a connection presents to be authenticated. The server
// fills it from the CONNECT protocol message, the TLS state and the socket.
// Authenticators only read it.
type Request struct {
	// Kind is the kind of connection (listener) the request came from.
	Kind ConnKind
	// User and Password are CONNECT's "user" and "pass".
	User, Password string
	// Token is CONNECT's "auth_token".
	Token string
	// Nkey is CONNECT's "nkey" (a public user key, "U...") and Sig its
	// "sig": the signature of Nonce, base64 URL encoded without padding
	// as clients send it (standard base64 is accepted too).
	Nkey, Sig string
	// JWT is CONNECT's "jwt" (reserved for operator mode; not checked by
	// the authenticators of this package yet).
	JWT string
	// Nonce is the nonce sent in this connection's INFO, as sent (the
	// base64 text, not the raw random bytes): clients sign that text.
	Nonce []byte
	// TLS is the connection's TLS state, nil for a plain connection.
	TLS *tls.ConnectionState
	// RemoteAddr is the client's address, for the authenticators' own use.
	RemoteAddr net.Addr
	// NoAuthUser, when set, is the user a request without credentials
	// becomes instead of the configured no_auth_user (a front end's own
	// setting: the mqtt block's no_auth_user).
	NoAuthUser string
}

// hasCredentials reports whether r carries any credential of its own
// (client certificates do not count, as for upstream's no_auth_user).
func (r *Request) hasCredentials() bool {
	return r.User != "" || r.Password != "" || r.Token != "" || r.Nkey != "" || r.JWT != ""
}

// Identity is who an authenticated connection is.
type Identity struct {
	// Name is the user name, the nkey public key, or "" for a token.
	Name string
	// Account is the account the connection binds to; "" means the
	// server's default (global) account.
	Account string
	// Permissions are the user's permissions as configured, nil for none.
	Permissions *Permissions
	// Checker is Permissions compiled; nil allows everything. It is
	// shared by every connection of the user, which is what keeps its
	// caches warm.
	Checker *Checker
	// JWT is set for a user authenticated by a user JWT (operator mode):
	// its account, expiry and limits. Nil otherwise.
	JWT *JWTUser
}

// Authenticator decides whether a Request is who it claims to be.
//
// Authenticate returns the Identity on success. On failure it returns an
// error wrapping ErrAuthorization: ErrNoMatch when the request holds no
// credential this authenticator checks, another error when it does and
// they are wrong. It must be safe for concurrent use and must not retain r.
type Authenticator interface {
	Authenticate(r *Request) (*Identity, error)
}

// AuthenticatorFunc adapts a function to the Authenticator interface.
type AuthenticatorFunc func(r *Request) (*Identity, error)

// Authenticate returns f(r).
func (f AuthenticatorFunc) Authenticate(r *Request) (*Identity, error) { return f(r) }

// NonceRequirer is implemented by authenticators that need the server to
// send a nonce in INFO (nkey users). The server checks it once, with a type
// assertion, when it builds its Chain.
type NonceRequirer interface {
	NeedsNonce() bool
}

// Chain asks its authenticators in order. The first success wins. An
// authenticator returning ErrNoMatch passes the request on; any other
// failure ends the chain with that error, so that a user who gave a wrong
// password is not let in by a later authenticator. A Chain that nothing
// matches returns ErrNoMatch. An empty Chain authenticates nobody; a
// server without authentication does not call it.
type Chain []Authenticator

// Authenticate implements Authenticator.
func (c Chain) Authenticate(r *Request) (*Identity, error) {
	for _, a := range c {
		id, err := a.Authenticate(r)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, ErrNoMatch) {
			return nil, err
		}
	}
	return nil, ErrNoMatch
}

// NeedsNonce reports whether any authenticator of c needs a nonce.
func (c Chain) NeedsNonce() bool {
	for _, a := range c {
		if n, ok := a.(NonceRequirer); ok && n.NeedsNonce() {
			return true
		}
	}
	return false
}

// IsBcrypt reports whether s is a bcrypt hash as upstream recognizes one:
// "$2a$", "$2b$", "$2x$" or "$2y$" followed by a two-digit cost and '$'.
// Passwords and tokens that are bcrypt hashes are compared with bcrypt.
func IsBcrypt(s string) bool {
	if len(s) < 7 || s[0] != '$' || s[1] != '2' || s[3] != '$' || s[6] != '$' {
		return false
	}
	switch s[2] {
	case 'a', 'b', 'x', 'y':
	default:
		return false
	}
	return isDigit(s[4]) && isDigit(s[5])
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// SecretMatches reports whether given, what a peer sent, matches
// configured, a password or token from the configuration: with bcrypt
// when configured is a bcrypt hash (see IsBcrypt), else in constant time.
// It is for other modules' own credentials (routes' authorization {}).
func SecretMatches(configured, given string) bool { return checkSecret(configured, given) }

// checkSecret compares a configured password or token (plain or bcrypt)
// with what the client sent. Plain secrets compare in constant time; they
// are hashed first so that not even their length leaks through timing.
func checkSecret(configured, given string) bool {
	if IsBcrypt(configured) {
		return bcrypt.CompareHashAndPassword([]byte(configured), []byte(given)) == nil
	}
	a, b := sha256.Sum256([]byte(configured)), sha256.Sum256([]byte(given))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

type tokenAuth struct {
	token string
}

// NewToken returns the authenticator of the --auth option and of
// authorization { token }: a request whose Token equals token (which may
// be a bcrypt hash, see IsBcrypt) is authenticated with an empty
// Identity (no name, default account, no permissions). A request without
// a token gets ErrNoMatch.
func NewToken(token string) Authenticator {
	return &tokenAuth{token: token}
}

func (t *tokenAuth) Authenticate(r *Request) (*Identity, error) {
	if r.Token == "" {
		return nil, ErrNoMatch
	}
	if !checkSecret(t.token, r.Token) {
		return nil, deny("token mismatch")
	}
	return &Identity{}, nil
}

// cut trims s for log messages, so that a hostile client cannot flood the
// log through a long user name.
func cut(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}
