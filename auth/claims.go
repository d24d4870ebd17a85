package auth

import (
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// Claims are the fields every NATS JWT has, decoded without checking who
// signed it for what (the account resolvers read them from the JWTs they
// store and from the requests they are sent).
type Claims struct {
	// ID is the JWT's "jti", Subject its "sub", Issuer its "iss".
	ID, Subject, Issuer string
	// IssuedAt is "iat"; Expires "exp", zero when the JWT does not expire.
	IssuedAt, Expires time.Time
	// Data is the JWT's "nats" object as generic JSON values (for a
	// claims delete request, its "accounts" list).
	Data map[string]any
}

// DecodeClaims decodes any NATS JWT and checks its signature (the
// issuer's key signed it), not what it claims: the caller checks the
// issuer and the content. It fails with an error wrapping ErrBadJWT.
func DecodeClaims(token string) (*Claims, error) {
	gc, err := jwt.DecodeGeneric(token)
	if err != nil {
		return nil, badJWT("%v", err)
	}
	return &Claims{
		ID: gc.ID, Subject: gc.Subject, Issuer: gc.Issuer,
		IssuedAt: unix(gc.IssuedAt), Expires: unix(gc.Expires),
		Data: gc.Data,
	}, nil
}

// IsAccountKey reports whether s is a valid account public key ("A...",
// checksum included).
func IsAccountKey(s string) bool { return nkeys.IsValidPublicAccountKey(s) }
