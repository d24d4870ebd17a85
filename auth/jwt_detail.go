package auth

import (
	"encoding/json"
	"time"

	"github.com/nats-io/jwt/v2"
)

// AccountJWTDetail is what /accountz shows of an account JWT beyond the
// claims the server applies: who issued it, its tags, the whole decoded
// claims, the validation issues and the revoked users.
type AccountJWTDetail struct {
	Issuer string
	Tags   []string
	// Claims is the decoded JWT as JSON (upstream's decoded_jwt).
	Claims json.RawMessage
	// Issues are what validating the claims found (upstream's
	// validation_result_jwt).
	Issues []JWTIssue
	// Revoked maps a revoked user's public key to the revocation time.
	Revoked map[string]time.Time
}

// JWTIssue is one validation issue of a JWT.
type JWTIssue struct {
	Description string
	Blocking    bool
	TimeCheck   bool
}

// DescribeAccountJWT decodes an account JWT for display. It checks the
// signature (as decoding does) but not who signed it: the server applied
// the token already.
func DescribeAccountJWT(token string) (*AccountJWTDetail, error) {
	claims, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		return nil, badJWT("%v", err)
	}
	d := &AccountJWTDetail{Issuer: claims.Issuer, Tags: claims.Tags}
	if b, err := json.Marshal(claims); err == nil {
		d.Claims = b
	}
	var vr jwt.ValidationResults
	claims.Validate(&vr)
	for _, v := range vr.Issues {
		d.Issues = append(d.Issues, JWTIssue{Description: v.Description, Blocking: v.Blocking, TimeCheck: v.TimeCheck})
	}
	for pub, at := range claims.Revocations {
		if d.Revoked == nil {
			d.Revoked = map[string]time.Time{}
		}
		d.Revoked[pub] = time.Unix(at, 0)
	}
	return d, nil
}
