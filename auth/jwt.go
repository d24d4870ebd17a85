package auth

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// Operator mode (decentralized authentication): the server trusts one or
// more operators; accounts are JWTs signed by an operator (or one of its
// signing keys), users are JWTs signed by their account (or one of its
// signing keys). This file decodes and checks those JWTs into plain
// structs, so that the server needs no JWT library.

// ErrBadJWT is wrapped by the errors of the JWT decoders of this package
// (malformed, wrongly signed, expired or untrusted JWTs).
var ErrBadJWT = errors.New("auth: invalid JWT")

func badJWT(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadJWT}, args...)...)
}

// Operator is a trusted operator, decoded from its (self-signed) JWT.
type Operator struct {
	// PublicKey is the operator's public key ("O...").
	PublicKey string
	// Name is the JWT's name.
	Name string
	// SigningKeys are the operator's signing keys: account JWTs signed by
	// one of them are trusted as if the operator signed them.
	SigningKeys []string
	// SystemAccount is the public key of the system account the operator
	// names, "" for none.
	SystemAccount string
	// Audience is the JWT's "aud"; IssuedAt and Expires its times
	// (Expires zero: never).
	Audience          string
	IssuedAt, Expires time.Time
	// JWT is the encoded JWT.
	JWT string
}

// ReadOperator returns the operator of the operator option: s is either
// an operator JWT itself or the path of a file that holds one (plain or
// decorated, as nsc writes them). The JWT must be valid and not expired.
func ReadOperator(s string) (*Operator, error) {
	if op, err := DecodeOperator(s); err == nil {
		return op, nil
	} else if strings.HasPrefix(s, "eyJ") {
		return nil, err
	}
	b, err := os.ReadFile(s)
	if err != nil {
		return nil, fmt.Errorf("error parsing operator JWT: %v", err)
	}
	tok, err := jwt.ParseDecoratedJWT(b)
	if err != nil {
		return nil, fmt.Errorf("error parsing operator JWT: %v", err)
	}
	return DecodeOperator(strings.TrimSpace(tok))
}

// DecodeOperator decodes and checks an operator JWT.
func DecodeOperator(token string) (*Operator, error) {
	oc, err := jwt.DecodeOperatorClaims(token)
	if err != nil {
		return nil, badJWT("operator: %v", err)
	}
	if err := validate(oc); err != nil {
		return nil, badJWT("operator %s: %v", oc.Subject, err)
	}
	return &Operator{
		PublicKey:     oc.Subject,
		Name:          oc.Name,
		SigningKeys:   []string(oc.SigningKeys),
		SystemAccount: oc.SystemAccount,
		Audience:      oc.Audience,
		IssuedAt:      unix(oc.IssuedAt),
		Expires:       unix(oc.Expires),
		JWT:           token,
	}, nil
}

// validate reports the blocking validation problems of c, expiry and
// "not yet valid" included.
func validate(c jwt.Claims) error {
	var vr jwt.ValidationResults
	c.Validate(&vr)
	if errs := vr.Errors(); len(errs) > 0 {
		return errs[0]
	}
	if vr.IsBlocking(true) {
		for _, i := range vr.Issues {
			if i.Blocking || i.TimeCheck {
				return errors.New(i.Description)
			}
		}
	}
	return nil
}

// Trust is the set of keys that may sign account JWTs: the operators'
// public keys and signing keys, or the trusted_keys option. Immutable.
type Trust struct {
	keys map[string]bool
	// SystemAccount is the system account the first operator naming one
	// names ("" for none).
	SystemAccount string
}

// NewTrust returns the trust of the given operators and trusted keys.
// Every trusted key must be an operator public key.
func NewTrust(ops []*Operator, trustedKeys []string) (*Trust, error) {
	t := &Trust{keys: map[string]bool{}}
	for _, op := range ops {
		t.keys[op.PublicKey] = true
		for _, k := range op.SigningKeys {
			t.keys[k] = true
		}
		if t.SystemAccount == "" {
			t.SystemAccount = op.SystemAccount
		}
	}
	for _, k := range trustedKeys {
		if !nkeys.IsValidPublicOperatorKey(k) {
			return nil, fmt.Errorf("trusted Keys %q are required to be a valid public operator nkey", k)
		}
		t.keys[k] = true
	}
	return t, nil
}

// Trusts reports whether key may sign account JWTs.
func (t *Trust) Trusts(key string) bool { return t != nil && t.keys[key] }

// AccountLimits are the limits of an account JWT. For every number, a
// negative value means no limit (the JWT's -1); zero is a limit of zero.
type AccountLimits struct {
	Conn, LeafNodeConn, Subs, Payload, Data, Imports, Exports int64
	WildcardExports                                           bool
	DisallowBearer                                            bool
	// JetStream is the account's JetStream limits by tier: "" for the
	// JWT's untiered limits, "R1", "R3"... for tiered ones. Nil when the
	// JWT does not enable JetStream (no tier with memory or storage).
	JetStream map[string]JetStreamLimits
}

// JetStreamLimits are the JetStream limits of an account JWT (or of one
// of its tiers), as upstream applies them: -1 means no limit;
// MaxMemory or MaxStore 0 means no storage of that kind.
type JetStreamLimits struct {
	MaxMemory, MaxStore, MaxStreams, MaxConsumers int64
	MaxAckPending                                 int64
	MemoryMaxStreamBytes, StoreMaxStreamBytes     int64
	MaxBytesRequired                              bool
}

// jsLimits converts a JWT's JetStream limits; the per-stream byte caps
// and max ack pending are "no limit" unless positive, as upstream.
func jsLimits(l *jwt.JetStreamLimits) JetStreamLimits {
	unlimited := func(v int64) int64 {
		if v > 0 {
			return v
		}
		return -1
	}
	return JetStreamLimits{
		MaxMemory: l.MemoryStorage, MaxStore: l.DiskStorage, MaxStreams: l.Streams, MaxConsumers: l.Consumer,
		MaxAckPending:        unlimited(l.MaxAckPending),
		MemoryMaxStreamBytes: unlimited(l.MemoryMaxStreamBytes), StoreMaxStreamBytes: unlimited(l.DiskMaxStreamBytes),
		MaxBytesRequired: l.MaxBytesRequired,
	}
}

// AccountExport is one export of an account JWT.
type AccountExport struct {
	Subject           string
	Service           bool
	TokenReq          bool
	ResponseType      string // "Singleton", "Stream" or "Chunked"; "" is Singleton
	ResponseThreshold time.Duration
	AllowTrace        bool
	revocations       jwt.RevocationList
}

// AccountImport is one import of an account JWT.
type AccountImport struct {
	// Account is the exporter's public key.
	Account string
	// Subject, To and LocalSubject are the JWT's fields. For a stream,
	// Subject is in the exporter's namespace, LocalSubject renames it
	// for the importer and To (deprecated) is a prefix. For a service,
	// Subject is what the importer publishes and To the exporter's
	// subject, unless LocalSubject is set: then the importer publishes
	// LocalSubject and Subject is the exporter's.
	Subject, To, LocalSubject string
	Service                   bool
	// Token is the activation token for a private export, "" for none.
	Token      string
	AllowTrace bool
}

// AccountMapping is one subject mapping of an account JWT.
type AccountMapping struct {
	Source       string
	Destinations []AccountMappingDest
}

// AccountMappingDest is one weighted destination of an AccountMapping.
type AccountMappingDest struct {
	Subject string
	Weight  uint8
	Cluster string
}

// Account is an account decoded from its JWT and checked against a Trust.
// Immutable.
type Account struct {
	// PublicKey is the account's public key ("A..."), its name in the
	// server.
	PublicKey string
	Name      string
	// Issuer is the operator key that signed the JWT.
	Issuer   string
	IssuedAt time.Time
	// Expires is zero when the JWT does not expire.
	Expires  time.Time
	Limits   AccountLimits
	Exports  []AccountExport
	Imports  []AccountImport
	Mappings []AccountMapping
	// Callout is the JWT's authorization section (auth callout), nil
	// when it names no auth_users: clients of the account that are not
	// one of Callout.AuthUsers are authorized by the service answering
	// on CalloutSubject in the account (see CalloutExchange.DecideJWT).
	Callout *Callout
	// JWT is the encoded JWT.
	JWT string

	claims *jwt.AccountClaims
	// defaultPerms is the account's default user permissions; nil for
	// none. Compiled once.
	defaultPerms   *Permissions
	defaultChecker *Checker
}

// DecodeAccount decodes an account JWT and checks it: well formed,
// signed by a trusted key, valid now.
func (t *Trust) DecodeAccount(token string) (*Account, error) {
	ac, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		return nil, badJWT("account: %v", err)
	}
	if !nkeys.IsValidPublicAccountKey(ac.Subject) {
		return nil, badJWT("account: subject %q is not an account public key", ac.Subject)
	}
	if !t.Trusts(ac.Issuer) {
		return nil, badJWT("account %s: issuer %s is not trusted", ac.Subject, ac.Issuer)
	}
	if err := validate(ac); err != nil {
		return nil, badJWT("account %s: %v", ac.Subject, err)
	}
	a := &Account{
		PublicKey: ac.Subject,
		Name:      ac.Name,
		Issuer:    ac.Issuer,
		IssuedAt:  unix(ac.IssuedAt),
		Expires:   unix(ac.Expires),
		JWT:       token,
		claims:    ac,
	}
	l := &ac.Limits
	a.Limits = AccountLimits{
		Conn: l.Conn, LeafNodeConn: l.LeafNodeConn, Subs: l.Subs, Payload: l.Payload,
		Data: l.Data, Imports: l.Imports, Exports: l.Exports,
		WildcardExports: l.WildcardExports, DisallowBearer: l.DisallowBearer,
	}
	if l.IsJSEnabled() {
		a.Limits.JetStream = map[string]JetStreamLimits{}
		if len(l.JetStreamTieredLimits) > 0 {
			for tier, tl := range l.JetStreamTieredLimits {
				a.Limits.JetStream[tier] = jsLimits(&tl)
			}
		} else {
			a.Limits.JetStream[""] = jsLimits(&l.JetStreamLimits)
		}
	}
	if ea := &ac.Authorization; ea.IsEnabled() {
		a.Callout = &Callout{
			Issuer: ac.Subject, Account: ac.Subject, AuthUsers: []string(ea.AuthUsers),
			XKey: ea.XKey, AllowedAccounts: []string(ea.AllowedAccounts), jwtAcc: a,
		}
	}
	for _, e := range ac.Exports {
		rt := string(e.ResponseType)
		a.Exports = append(a.Exports, AccountExport{
			Subject: string(e.Subject), Service: e.IsService(), TokenReq: e.TokenReq,
			ResponseType: rt, ResponseThreshold: e.ResponseThreshold,
			AllowTrace: e.AllowTrace, revocations: e.Revocations,
		})
	}
	for _, im := range ac.Imports {
		a.Imports = append(a.Imports, AccountImport{
			Account: im.Account, Subject: string(im.Subject), To: string(im.To), LocalSubject: string(im.LocalSubject),
			Service: im.IsService(), Token: im.Token, AllowTrace: im.AllowTrace,
		})
	}
	for src, dests := range ac.Mappings {
		m := AccountMapping{Source: string(src)}
		for _, d := range dests {
			m.Destinations = append(m.Destinations, AccountMappingDest{Subject: string(d.Subject), Weight: d.Weight, Cluster: d.Cluster})
		}
		a.Mappings = append(a.Mappings, m)
	}
	if p := convertPerms(&ac.DefaultPermissions); p != nil {
		c, err := NewChecker(p)
		if err != nil {
			return nil, badJWT("account %s: default permissions: %v", ac.Subject, err)
		}
		a.defaultPerms, a.defaultChecker = p, c
	}
	return a, nil
}

func unix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0)
}

// Expired reports whether the account JWT has expired at now.
func (a *Account) Expired(now time.Time) bool {
	return !a.Expires.IsZero() && !now.Before(a.Expires)
}

// IsSigner reports whether key may sign for the account: the account's
// own key or one of its signing keys.
func (a *Account) IsSigner(key string) bool {
	return key == a.PublicKey || a.claims.SigningKeys.Contains(key)
}

// UserRevoked reports whether the account revokes the user with public
// key pub whose JWT was issued at issuedAt.
func (a *Account) UserRevoked(pub string, issuedAt time.Time) bool {
	return a.claims.Revocations.IsRevoked(pub, issuedAt)
}

// CheckActivation checks an activation token that the importer presents
// for the private export of a (the exporter) covering subject of the
// given kind: signed by a or one of its signing keys, issued to the
// importer, for a subject that contains subject, valid now and not
// revoked.
func (a *Account) CheckActivation(token, importer, subject string, service bool) error {
	act, err := jwt.DecodeActivationClaims(token)
	if err != nil {
		return badJWT("activation: %v", err)
	}
	if err := validate(act); err != nil {
		return badJWT("activation: %v", err)
	}
	if !a.IsSigner(act.Issuer) || (act.IssuerAccount != "" && act.IssuerAccount != a.PublicKey) {
		return badJWT("activation: not signed by account %s", a.PublicKey)
	}
	if act.Subject != importer {
		return badJWT("activation: issued to %s, not %s", act.Subject, importer)
	}
	if (act.ImportType == jwt.Service) != service {
		return badJWT("activation: wrong import type")
	}
	if !jwt.Subject(subject).IsContainedIn(act.ImportSubject) {
		return badJWT("activation: subject %q not within %q", subject, act.ImportSubject)
	}
	for _, e := range a.claims.Exports {
		if (e.Type == jwt.Service) == service && jwt.Subject(subject).IsContainedIn(e.Subject) && e.IsClaimRevoked(act) {
			return badJWT("activation: revoked")
		}
	}
	return nil
}

// convertPerms turns JWT permissions into Permissions; nil when they
// restrict nothing.
func convertPerms(p *jwt.Permissions) *Permissions {
	if len(p.Pub.Allow) == 0 && len(p.Pub.Deny) == 0 && len(p.Sub.Allow) == 0 && len(p.Sub.Deny) == 0 && p.Resp == nil {
		return nil
	}
	out := &Permissions{}
	if len(p.Pub.Allow) > 0 || len(p.Pub.Deny) > 0 {
		out.Publish = &SubjectPermission{Allow: nilIfEmpty(p.Pub.Allow), Deny: nilIfEmpty(p.Pub.Deny)}
	}
	if len(p.Sub.Allow) > 0 || len(p.Sub.Deny) > 0 {
		out.Subscribe = &SubjectPermission{Allow: nilIfEmpty(p.Sub.Allow), Deny: nilIfEmpty(p.Sub.Deny)}
	}
	if r := p.Resp; r != nil {
		out.Response = &ResponsePermission{MaxMsgs: r.MaxMsgs, Expires: r.Expires}
		if out.Response.MaxMsgs == 0 {
			out.Response.MaxMsgs = 1
		}
		if out.Response.Expires == 0 {
			out.Response.Expires = 2 * time.Minute
		}
		// As with allow_responses in a configuration file: without a
		// publish allow list, only responses may be published.
		if out.Publish == nil {
			out.Publish = &SubjectPermission{Allow: []string{}}
		}
	}
	return out
}

func nilIfEmpty(l jwt.StringList) []string {
	if len(l) == 0 {
		return nil
	}
	return append([]string(nil), l...)
}
