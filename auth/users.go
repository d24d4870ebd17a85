package auth

import (
	"encoding/base64"
	"fmt"

	"github.com/nats-io/nkeys"
)

// User is one configured user: a name and password, or an nkey.
type User struct {
	// Name is the user name; empty for an nkey user. For a user meant for
	// certificate mapping (see NewCertMap) it is the e-mail address, DNS
	// name, URI or subject DN that the certificate must carry.
	Name string
	// Password is the password, plain or a bcrypt hash (see IsBcrypt).
	Password string
	// Nkey is the public key ("U...") of an nkey user. A user has a Name
	// or an Nkey, not both.
	Nkey string
	// Account is the account the user binds to; "" is the default account.
	Account string
	// Permissions restrict what the user may publish and subscribe to;
	// nil allows everything.
	Permissions *Permissions
	// AllowedConnectionTypes lists the kinds of connection the user may
	// use; nil or empty allows all.
	AllowedConnectionTypes []ConnKind
}

// entry is a User ready for authentication.
type entry struct {
	user  User
	kinds kindSet
	id    Identity
}

// Users authenticates configured users: name and password (plain or
// bcrypt) and nkey users, and the no_auth_user. It is immutable and safe
// for concurrent use.
type Users struct {
	byName map[string]*entry
	byNkey map[string]*entry
	noAuth *entry
}

// NewUsers compiles users. It returns an error if a user has neither or
// both of Name and Nkey, if a Name or Nkey appears twice, if an Nkey is not
// a valid public user key, or if Permissions do not compile (NewChecker).
// Users that share one *Permissions share one Checker.
//
// noAuthUser, if not "", names the user that requests without any
// credential (no user, password, token, nkey or JWT) authenticate as,
// like upstream's no_auth_user option; that user's allowed connection
// types still apply. It is an error if no user has that name.
func NewUsers(users []User, noAuthUser string) (*Users, error) {
	u := &Users{byName: map[string]*entry{}, byNkey: map[string]*entry{}}
	checkers := map[*Permissions]*Checker{}
	for i := range users {
		usr := users[i]
		e := &entry{user: usr, kinds: makeKindSet(usr.AllowedConnectionTypes)}
		switch {
		case usr.Name == "" && usr.Nkey == "":
			return nil, fmt.Errorf("auth: user %d: user entry requires a user", i)
		case usr.Name != "" && usr.Nkey != "":
			return nil, fmt.Errorf("auth: user %q: nkey users do not take usernames or passwords", usr.Name)
		case usr.Nkey != "":
			if !nkeys.IsValidPublicUserKey(usr.Nkey) {
				return nil, fmt.Errorf("auth: %q: not a valid public nkey for a user", usr.Nkey)
			}
			if _, dup := u.byNkey[usr.Nkey]; dup {
				return nil, fmt.Errorf("auth: duplicate nkey %q detected", usr.Nkey)
			}
			u.byNkey[usr.Nkey] = e
			e.id.Name = usr.Nkey
		default:
			if _, dup := u.byName[usr.Name]; dup {
				return nil, fmt.Errorf("auth: duplicate user %q detected", usr.Name)
			}
			u.byName[usr.Name] = e
			e.id.Name = usr.Name
		}
		e.id.Account = usr.Account
		if p := usr.Permissions; p != nil {
			c, ok := checkers[p]
			if !ok {
				var err error
				if c, err = NewChecker(p); err != nil {
					return nil, fmt.Errorf("auth: user %q: %w", e.id.Name, err)
				}
				checkers[p] = c
			}
			e.id.Permissions, e.id.Checker = p, c
		}
	}
	if noAuthUser != "" {
		e, ok := u.byName[noAuthUser]
		if !ok {
			return nil, fmt.Errorf("auth: no_auth_user: %q not present as user in authorization block or account configuration", noAuthUser)
		}
		u.noAuth = e
	}
	return u, nil
}

// NeedsNonce reports whether there are nkey users: the server must then
// send a nonce in INFO (see NewNonce) and put it in Request.Nonce.
func (u *Users) NeedsNonce() bool { return len(u.byNkey) > 0 }

// Authenticate implements Authenticator. A request with an Nkey is checked
// against the nkey users (when there are any): its Sig must verify its
// Nonce. Otherwise a request with a User is checked against the users by
// name and password. A request with no credential at all becomes the
// no_auth_user if one is set. Anything else is ErrNoMatch.
func (u *Users) Authenticate(r *Request) (*Identity, error) {
	var e *entry
	switch {
	case r.Nkey != "" && len(u.byNkey) > 0:
		e = u.byNkey[r.Nkey]
		if e == nil {
			return nil, deny("unknown nkey %q", cut(r.Nkey))
		}
		if err := VerifyNonce(r.Nkey, r.Sig, r.Nonce); err != nil {
			return nil, err
		}
	case r.User != "" && len(u.byName) > 0:
		e = u.byName[r.User]
		if e == nil {
			return nil, deny("unknown user %q", cut(r.User))
		}
		if !checkSecret(e.user.Password, r.Password) {
			return nil, deny("user %q: password mismatch", cut(r.User))
		}
	case r.NoAuthUser != "" && !r.hasCredentials():
		if e = u.byName[r.NoAuthUser]; e == nil {
			return nil, deny("no_auth_user %q unknown", cut(r.NoAuthUser))
		}
	case u.noAuth != nil && !r.hasCredentials():
		e = u.noAuth
	default:
		return nil, ErrNoMatch
	}
	if !e.kinds.allows(r.Kind) {
		return nil, deny("user %q: connection type %s not allowed", cut(e.id.Name), r.Kind)
	}
	id := e.id
	return &id, nil
}

// VerifyNonce checks that sig, as a client sends it in CONNECT (base64 URL
// encoding without padding, or standard base64), is the signature of nonce
// by the private key of the public user key pub. It returns nil or an
// error wrapping ErrAuthorization.
func VerifyNonce(pub, sig string, nonce []byte) error {
	if len(nonce) == 0 {
		return deny("nkey %q: no nonce was sent", cut(pub))
	}
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		if raw, err = base64.StdEncoding.DecodeString(sig); err != nil {
			return deny("nkey %q: signature is not valid base64", cut(pub))
		}
	}
	kp, err := nkeys.FromPublicKey(pub)
	if err != nil {
		return deny("nkey %q: not a valid public key", cut(pub))
	}
	if err := kp.Verify(nonce, raw); err != nil {
		return deny("nkey %q: signature not verified", cut(pub))
	}
	return nil
}
