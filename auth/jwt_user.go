package auth

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
)

// JWTUser is what a user JWT says about a connected user, beyond its
// permissions: the server enforces it for the life of the connection.
type JWTUser struct {
	// PublicKey is the user's public key ("U..."); Name the JWT's name.
	PublicKey, Name string
	// Account is the public key of the user's account.
	Account string
	// Issuer is the key that signed the JWT (the account or one of its
	// signing keys).
	Issuer   string
	IssuedAt time.Time
	// Expires is zero when the JWT does not expire; the server closes the
	// connection at that time with 'User Authentication Expired'.
	Expires time.Time
	// MaxSubs, MaxPayload and MaxData are the user's limits; negative
	// means no limit.
	MaxSubs, MaxPayload, MaxData int64
	// Bearer: the JWT is a bearer token (no nonce signature).
	Bearer bool
}

// AccountSource gives the account JWTs user JWTs refer to. The server
// implements it over its account resolver (and its cache of accounts
// built from JWTs). Account returns the account of the public key pub,
// checked against the server's Trust, or an error. It must be safe for
// concurrent use.
type AccountSource interface {
	Account(pub string) (*Account, error)
}

// JWTAuth authenticates users by their user JWT (CONNECT's "jwt") and the
// signature of the nonce with the user's key ("sig"), or by a bearer JWT.
// Immutable and safe for concurrent use.
type JWTAuth struct {
	src      AccountSource
	sentinel string
	now      func() time.Time
}

// NewJWTAuth returns the authenticator of operator mode. Accounts come
// from src. defaultSentinel, when not "", is the user JWT (a bearer
// token) a request without a JWT authenticates with (default_sentinel),
// as upstream: whatever else it carries, it becomes that user.
func NewJWTAuth(src AccountSource, defaultSentinel string) *JWTAuth {
	return &JWTAuth{src: src, sentinel: defaultSentinel, now: time.Now}
}

// NeedsNonce implements NonceRequirer: user JWTs sign the nonce.
func (j *JWTAuth) NeedsNonce() bool { return true }

// Authenticate implements Authenticator. A request without a JWT gets
// ErrNoMatch, unless a default sentinel is set.
func (j *JWTAuth) Authenticate(r *Request) (*Identity, error) {
	token := r.JWT
	if token == "" {
		if j.sentinel == "" {
			return nil, ErrNoMatch
		}
		token = j.sentinel
	}
	uc, err := jwt.DecodeUserClaims(token)
	if err != nil {
		return nil, deny("user JWT not valid: %v", err)
	}
	if err := validate(uc); err != nil {
		return nil, deny("user JWT %s not valid: %v", cut(uc.Subject), err)
	}
	now := j.now()
	if uc.Expires > 0 && now.Unix() >= uc.Expires {
		return nil, deny("user JWT %s expired", cut(uc.Subject))
	}
	accPub := uc.IssuerAccount
	if accPub == "" {
		accPub = uc.Issuer
	}
	acc, err := j.src.Account(accPub)
	if err != nil {
		return nil, deny("user JWT %s: account %s: %v", cut(uc.Subject), cut(accPub), err)
	}
	if acc.Expired(now) {
		return nil, deny("user JWT %s: account %s expired", cut(uc.Subject), acc.PublicKey)
	}
	if !acc.IsSigner(uc.Issuer) {
		return nil, deny("user JWT %s: issuer %s is not a signing key of account %s", cut(uc.Subject), uc.Issuer, acc.PublicKey)
	}
	upl := uc.UserPermissionLimits
	if uc.Issuer != acc.PublicKey {
		if sc, ok := acc.claims.SigningKeys.GetScope(uc.Issuer); ok && sc != nil {
			us, ok := sc.(*jwt.UserScope)
			if !ok {
				return nil, deny("user JWT %s: unknown signing key scope", cut(uc.Subject))
			}
			if upl, err = applyTemplate(us.Template, uc, acc); err != nil {
				return nil, deny("user JWT %s: %v", cut(uc.Subject), err)
			}
		}
	}
	if upl.BearerToken {
		if acc.Limits.DisallowBearer {
			return nil, deny("user JWT %s: bearer token not allowed by account %s", cut(uc.Subject), acc.PublicKey)
		}
	} else if err := VerifyNonce(uc.Subject, r.Sig, r.Nonce); err != nil {
		return nil, err
	}
	if acc.UserRevoked(uc.Subject, unix(uc.IssuedAt)) {
		return nil, deny("user JWT %s revoked", cut(uc.Subject))
	}
	windowEnd, err := checkUserLimits(&upl, r, now)
	if err != nil {
		return nil, deny("user JWT %s: %v", cut(uc.Subject), err)
	}
	id := &Identity{
		Name:    uc.Subject,
		Account: acc.PublicKey,
		JWT: &JWTUser{
			PublicKey: uc.Subject, Name: uc.Name, Account: acc.PublicKey, Issuer: uc.Issuer,
			IssuedAt: unix(uc.IssuedAt), Expires: earliest(unix(uc.Expires), windowEnd),
			MaxSubs: upl.Subs, MaxPayload: upl.Payload, MaxData: upl.Data,
			Bearer: upl.BearerToken,
		},
	}
	if p := convertPerms(&upl.Permissions); p != nil {
		c, err := NewChecker(p)
		if err != nil {
			return nil, deny("user JWT %s: %v", cut(uc.Subject), err)
		}
		id.Permissions, id.Checker = p, c
	} else if acc.defaultPerms != nil {
		id.Permissions, id.Checker = acc.defaultPerms, acc.defaultChecker
	}
	return id, nil
}

// earliest returns the earlier of two times, zero meaning never.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// checkUserLimits checks the allowed connection types, source networks
// and times of day of a user JWT. With times, it returns when the time
// window the user connects in ends (the server closes the connection
// then, as upstream).
func checkUserLimits(upl *jwt.UserPermissionLimits, r *Request, now time.Time) (time.Time, error) {
	if len(upl.AllowedConnectionTypes) > 0 {
		var kinds []ConnKind
		for _, t := range upl.AllowedConnectionTypes {
			if k, err := ParseConnKind(t); err == nil {
				kinds = append(kinds, k)
			}
		}
		if len(kinds) == 0 || !makeKindSet(kinds).allows(r.Kind) {
			return time.Time{}, fmt.Errorf("connection type %s not allowed", r.Kind)
		}
	}
	if len(upl.Src) > 0 {
		ip := remoteIP(r.RemoteAddr)
		ok := false
		for _, c := range upl.Src {
			if _, n, err := net.ParseCIDR(c); err == nil && ip != nil && n.Contains(ip) {
				ok = true
				break
			}
		}
		if !ok {
			return time.Time{}, fmt.Errorf("source address %v not allowed", r.RemoteAddr)
		}
	}
	if len(upl.Times) > 0 {
		loc := time.Local
		if upl.Locale != "" {
			l, err := time.LoadLocation(upl.Locale)
			if err != nil {
				return time.Time{}, fmt.Errorf("time location %q: %v", upl.Locale, err)
			}
			loc = l
		}
		end, ok := inTimes(upl.Times, now.In(loc))
		if !ok {
			return time.Time{}, fmt.Errorf("connection outside of the allowed times")
		}
		return end, nil
	}
	return time.Time{}, nil
}

func remoteIP(a net.Addr) net.IP {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.IP
	case nil:
		return nil
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return nil
	}
	return net.ParseIP(host)
}

// inTimes reports whether the clock time of now is within one of the
// ranges ("15:04:05" start and end; an end before the start spans
// midnight), and when that range ends.
func inTimes(ranges []jwt.TimeRange, now time.Time) (time.Time, bool) {
	sec := now.Hour()*3600 + now.Minute()*60 + now.Second()
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	endAt := func(es int, nextDay bool) time.Time {
		d := midnight
		if nextDay {
			d = d.AddDate(0, 0, 1)
		}
		return d.Add(time.Duration(es) * time.Second)
	}
	for _, tr := range ranges {
		s, err1 := time.Parse(time.TimeOnly, tr.Start)
		e, err2 := time.Parse(time.TimeOnly, tr.End)
		if err1 != nil || err2 != nil {
			continue
		}
		ss := s.Hour()*3600 + s.Minute()*60 + s.Second()
		es := e.Hour()*3600 + e.Minute()*60 + e.Second()
		switch {
		case ss <= es:
			if sec >= ss && sec < es {
				return endAt(es, false), true
			}
		case sec >= ss:
			return endAt(es, true), true
		case sec < es:
			return endAt(es, false), true
		}
	}
	return time.Time{}, false
}

var templateRE = regexp.MustCompile(`\{\{\s*([a-z-]+)\(\s*([^)]*?)\s*\)\s*\}\}`)

// applyTemplate fills in a scoped signing key's template for the user:
// {{name()}}, {{subject()}}, {{account-name()}}, {{account-subject()}},
// {{tag(x)}} and {{account-tag(x)}} (every value of the tag "x:value";
// several values make one subject each). A template that names a tag the
// user or account does not have fails.
func applyTemplate(t jwt.UserPermissionLimits, uc *jwt.UserClaims, acc *Account) (jwt.UserPermissionLimits, error) {
	out := t
	var err error
	expand := func(l jwt.StringList) jwt.StringList {
		if err != nil || len(l) == 0 {
			return l
		}
		var res jwt.StringList
		for _, s := range l {
			var vals []string
			if vals, err = expandOne(s, uc, acc); err != nil {
				return nil
			}
			res = append(res, vals...)
		}
		return res
	}
	out.Pub.Allow = expand(t.Pub.Allow)
	out.Pub.Deny = expand(t.Pub.Deny)
	out.Sub.Allow = expand(t.Sub.Allow)
	out.Sub.Deny = expand(t.Sub.Deny)
	return out, err
}

func expandOne(s string, uc *jwt.UserClaims, acc *Account) ([]string, error) {
	m := templateRE.FindStringSubmatchIndex(s)
	if m == nil {
		if strings.Contains(s, "{{") {
			return nil, fmt.Errorf("template %q not valid", s)
		}
		return []string{s}, nil
	}
	fn, arg := s[m[2]:m[3]], s[m[4]:m[5]]
	var vals []string
	tagVals := func(tags jwt.TagList) {
		p := strings.ToLower(arg) + ":"
		for _, tag := range tags {
			if strings.HasPrefix(strings.ToLower(tag), p) {
				vals = append(vals, tag[len(p):])
			}
		}
	}
	switch fn {
	case "name":
		vals = []string{uc.Name}
	case "subject":
		vals = []string{uc.Subject}
	case "account-name":
		vals = []string{acc.Name}
	case "account-subject":
		vals = []string{acc.PublicKey}
	case "tag":
		tagVals(uc.Tags)
	case "account-tag":
		tagVals(acc.claims.Tags)
	default:
		return nil, fmt.Errorf("template function %q not known", fn)
	}
	if len(vals) == 0 {
		return nil, fmt.Errorf("generated invalid subject %q: no value for %s(%s)", s, fn, arg)
	}
	var out []string
	for _, v := range vals {
		if v == "" || strings.ContainsAny(v, " \t.*>") {
			return nil, fmt.Errorf("generated invalid subject %q: value %q", s, v)
		}
		rest, err := expandOne(s[:m[0]]+v+s[m[1]:], uc, acc)
		if err != nil {
			return nil, err
		}
		out = append(out, rest...)
	}
	return out, nil
}
