package auth

import (
	"bytes"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"natsd.dev/confparse"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// Auth callout facts, as upstream's.
const (
	// CalloutSubject is where the server sends authorization requests,
	// in the callout account.
	CalloutSubject = "$SYS.REQ.USER.AUTH"
	// CalloutXKeyHeader carries the server's public curve key on an
	// encrypted request.
	CalloutXKeyHeader = "Nats-Server-Xkey"
	// calloutAudience is the audience of every authorization request.
	calloutAudience = "nats-authorization-request"
	jwtPrefix       = "eyJ"
)

// Callout is authorization { auth_callout { ... } }: clients that are not
// one of AuthUsers are authorized by an external service answering
// authorization requests on CalloutSubject in Account.
type Callout struct {
	// Issuer is the public account nkey that signs the user JWTs the
	// service answers with.
	Issuer string
	// Account is the account the requests are sent in ("$G" when the
	// block does not name one).
	Account string
	// AuthUsers are the users (names or nkeys) that bypass the callout:
	// the service itself connects as one of them.
	AuthUsers []string
	// XKey, when set, is the service's public curve key: requests are
	// encrypted for it, and responses may be encrypted for the server.
	XKey string
	// AllowedAccounts, when set, limits the callout to clients that
	// authenticated into one of these accounts (or into none). In
	// operator mode (the account JWT's authorization section) it lists
	// the accounts, besides Account, that responses may place users in
	// ("*": any).
	AllowedAccounts []string

	// jwtAcc is the account JWT of an operator mode callout, nil in
	// configuration mode.
	jwtAcc *Account
}

// IsAuthUser reports whether the user named name (a user name or nkey)
// bypasses the callout.
func (c *Callout) IsAuthUser(name string) bool {
	return name != "" && slices.Contains(c.AuthUsers, name)
}

// Delegates reports whether a client that authenticated into account
// (its configured user's account, "" or "$G" for none) goes through the
// callout, per AllowedAccounts.
func (c *Callout) Delegates(account string) bool {
	if len(c.AllowedAccounts) == 0 || account == "" || account == "$G" {
		return true
	}
	return slices.Contains(c.AllowedAccounts, account)
}

// CalloutServer describes the server in an authorization request.
type CalloutServer struct {
	Name, Host, ID, Version, Cluster string
	Tags                             []string
}

// CalloutClient describes the client in an authorization request, as
// CONNECT and the connection show it.
type CalloutClient struct {
	Host                string
	ID                  uint64
	User                string // the authenticated user, if any
	Name, Lang, Version string
	Protocol            int
	Kind, Type, MQTT    string // "Client", "nats"/"websocket"/"mqtt", MQTT client id
	NameTag             string
	Tags                []string
}

// CalloutKeys are the server's keys for callouts: Server signs the
// requests (its public key is the server's id, the audience the
// responses must name); XKey (a curve key) encrypts them when the
// callout has an XKey.
type CalloutKeys struct {
	Server nkeys.KeyPair
	XKey   nkeys.KeyPair
}

// NewCalloutKeys makes a server's keys: a server nkey, whose public key
// the server uses as its id, and a curve key, whose public key it
// advertises in INFO ("xkey"). It returns them with their public keys.
func NewCalloutKeys() (keys CalloutKeys, id, xkey string, err error) {
	if keys.Server, err = nkeys.CreateServer(); err == nil {
		if id, err = keys.Server.PublicKey(); err == nil {
			if keys.XKey, err = nkeys.CreateCurveKeys(); err == nil {
				xkey, err = keys.XKey.PublicKey()
			}
		}
	}
	if err != nil {
		return CalloutKeys{}, "", "", fmt.Errorf("auth: creating server keys: %w", err)
	}
	return keys, id, xkey, nil
}

// CalloutError is a failed callout. Its text is upstream's, for the
// server's log; it wraps ErrAuthorization.
type CalloutError struct{ Text string }

func (e *CalloutError) Error() string { return e.Text }

// Unwrap returns ErrAuthorization.
func (e *CalloutError) Unwrap() error { return ErrAuthorization }

func calloutErr(format string, args ...any) error {
	s := fmt.Sprintf(format, args...)
	// Upstream capitalizes the first letter of what it logs.
	if r, n := utf8.DecodeRuneInString(s); n > 0 {
		s = string(unicode.ToUpper(r)) + s[n:]
	}
	return &CalloutError{Text: s}
}

// CalloutExchange is one authorization request and the checks of its
// response. Build it with Callout.NewExchange.
type CalloutExchange struct {
	cfg      *Callout
	user     string // the public user nkey the response must be for
	serverID string
	xkp      nkeys.KeyPair // nil when not encrypting
	kind     ConnKind
	remote   net.Addr
	payload  []byte
}

// NewExchange builds the authorization request for a client presenting
// req (its CONNECT credentials, nonce and TLS state), described by client,
// on server: a JWT of jwt/v2's AuthorizationRequestClaims signed with
// keys.Server, with a fresh user nkey the response must be for, expiring
// after timeout; sealed for c.XKey with keys.XKey when c has an XKey.
func (c *Callout) NewExchange(server CalloutServer, client CalloutClient, req *Request, timeout time.Duration, keys CalloutKeys) (*CalloutExchange, error) {
	ukp, err := nkeys.CreateUser()
	if err != nil {
		return nil, calloutErr("error creating auth callout user key: %v", err)
	}
	pub, _ := ukp.PublicKey()
	ex := &CalloutExchange{cfg: c, user: pub, serverID: server.ID, kind: req.Kind, remote: req.RemoteAddr}
	claim := jwt.NewAuthorizationRequestClaims(c.Issuer)
	claim.Audience = calloutAudience
	claim.UserNkey = pub
	claim.Server = jwt.ServerID{Name: server.Name, Host: server.Host, ID: server.ID, Version: server.Version, Cluster: server.Cluster, Tags: server.Tags}
	if c.XKey != "" {
		if keys.XKey == nil {
			return nil, calloutErr("error encrypting auth request claim on account %q: no server xkey", c.Account)
		}
		ex.xkp = keys.XKey
		claim.Server.XKey, _ = keys.XKey.PublicKey()
	}
	claim.Expires = time.Now().Add(timeout).UTC().Unix()
	claim.ClientInformation = jwt.ClientInformation{
		Host: client.Host, ID: client.ID, User: client.User, Name: client.Name,
		Tags: client.Tags, NameTag: client.NameTag, Kind: client.Kind, Type: client.Type, MQTT: client.MQTT,
	}
	claim.ConnectOptions = jwt.ConnectOptions{
		JWT: req.JWT, Nkey: req.Nkey, SignedNonce: req.Sig, Token: req.Token,
		Username: req.User, Password: req.Password,
		Name: client.Name, Lang: client.Lang, Version: client.Version, Protocol: client.Protocol,
	}
	if req.Sig != "" {
		claim.ClientInformation.Nonce = string(req.Nonce)
	}
	if req.TLS != nil {
		claim.TLS = calloutTLS(req.TLS)
	}
	b, err := claim.Encode(keys.Server)
	if err != nil {
		return nil, calloutErr("error encoding auth request claim on account %q: %v", c.Account, err)
	}
	ex.payload = []byte(b)
	if ex.xkp != nil {
		ex.payload, err = ex.xkp.Seal(ex.payload, c.XKey)
		if err != nil {
			return nil, calloutErr("error encrypting auth request claim on account %q: %v", c.Account, err)
		}
	}
	return ex, nil
}

// calloutTLS describes a TLS connection as upstream's requests do.
func calloutTLS(cs *tls.ConnectionState) *jwt.ClientTLS {
	ct := &jwt.ClientTLS{Version: tlsVersionName(cs.Version), Cipher: tls.CipherSuiteName(cs.CipherSuite)}
	encode := func(raw []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: raw}))
	}
	for _, chain := range cs.VerifiedChains {
		var certs []string
		for _, cert := range chain {
			certs = append(certs, encode(cert.Raw))
		}
		ct.VerifiedChains = append(ct.VerifiedChains, certs)
	}
	if len(ct.VerifiedChains) == 0 {
		for _, cert := range cs.PeerCertificates {
			ct.Certs = append(ct.Certs, encode(cert.Raw))
		}
	}
	return ct
}

func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "1.0"
	case tls.VersionTLS11:
		return "1.1"
	case tls.VersionTLS12:
		return "1.2"
	case tls.VersionTLS13:
		return "1.3"
	}
	return fmt.Sprintf("Unknown [0x%x]", v)
}

// Payload is the request's message body: the JWT, or its sealed form.
func (ex *CalloutExchange) Payload() []byte { return ex.payload }

// XKeyHeader is the value of the CalloutXKeyHeader header the request
// carries ("" when it is not encrypted).
func (ex *CalloutExchange) XKeyHeader() string {
	if ex.xkp == nil {
		return ""
	}
	k, _ := ex.xkp.PublicKey()
	return k
}

// UserKey is the public user nkey the response must be for.
func (ex *CalloutExchange) UserKey() string { return ex.user }

// Decide checks the service's response (the reply's payload) and returns
// the Identity it grants: the user JWT's account (its audience, which
// hasAccount must know), permissions, name, and in Identity.JWT its
// limits and expiry (the earlier of the JWT's and the end of its connect
// time window). Every failure is a *CalloutError with upstream's text.
// It is for configuration mode; see DecideJWT for operator mode.
func (ex *CalloutExchange) Decide(resp []byte, hasAccount func(name string) bool) (*Identity, error) {
	acc := ex.cfg.Account
	uc, upl, end, err := ex.checkUser(resp)
	if err != nil {
		return nil, err
	}
	if uc.IssuerAccount != "" {
		return nil, calloutErr("error non operator mode account %q: attempted to use issuer_account", acc)
	}
	if uc.Issuer != ex.cfg.Issuer {
		return nil, calloutErr("wrong issuer for auth callout response on account %q, expected %q got %q", acc, ex.cfg.Issuer, uc.Issuer)
	}
	// In configuration mode the user JWT's audience places the user.
	if !hasAccount(uc.Audience) {
		return nil, calloutErr("no valid account %q for auth callout response on account %q: account missing", uc.Audience, acc)
	}
	return calloutIdentity(uc, upl, uc.Audience, end, nil)
}

// DecideJWT is Decide for an operator mode callout (Account.Callout):
// the user JWT is issued by the callout account, or by an account its
// allowed accounts name (issuer_account with one of its signing keys),
// and places the user in that account, which src resolves. A scoped
// signing key's template replaces the JWT's permissions and limits.
func (ex *CalloutExchange) DecideJWT(resp []byte, src AccountSource) (*Identity, error) {
	acc := ex.cfg.Account
	uc, upl, end, err := ex.checkUser(resp)
	if err != nil {
		return nil, err
	}
	target := uc.Issuer
	if uc.IssuerAccount != "" {
		target = uc.IssuerAccount
	}
	if target != acc && !ex.cfg.allowsAccount(target) {
		return nil, calloutErr("account %q not permitted as valid account option for auth callout for account %q", uc.Issuer, acc)
	}
	ta, err := src.Account(target)
	if err != nil {
		return nil, calloutErr("no valid account %q for auth callout response on account %q: %v", target, acc, err)
	}
	if !ta.IsSigner(uc.Issuer) {
		return nil, calloutErr("user JWT issuer %q is not known", uc.Issuer)
	}
	if uc.Issuer != ta.PublicKey {
		if sc, ok := ta.claims.SigningKeys.GetScope(uc.Issuer); ok && sc != nil {
			us, ok := sc.(*jwt.UserScope)
			if !ok {
				return nil, calloutErr("user JWT is not a valid scoped user")
			}
			if upl, err = applyTemplate(us.Template, uc, ta); err != nil {
				return nil, calloutErr("user JWT generated invalid permissions: %v", err)
			}
		}
	}
	return calloutIdentity(uc, upl, ta.PublicKey, end, ta)
}

// allowsAccount reports whether an operator mode callout may place users
// in the account pub.
func (c *Callout) allowsAccount(pub string) bool {
	return slices.Contains(c.AllowedAccounts, pub) || slices.Contains(c.AllowedAccounts, jwt.AnyAccount)
}

// checkUser decodes the response and makes the checks common to both
// modes on the user JWT inside: valid, for the expected user, in its
// connect times, connection type and source networks. It returns the
// user's permissions and limits and when its time window ends (zero:
// never).
func (ex *CalloutExchange) checkUser(resp []byte) (*jwt.UserClaims, jwt.UserPermissionLimits, time.Time, error) {
	acc := ex.cfg.Account
	var none jwt.UserPermissionLimits
	uc, err := ex.decodeResponse(resp)
	if err != nil {
		return nil, none, time.Time{}, err
	}
	vr := jwt.CreateValidationResults()
	uc.Validate(vr)
	if len(vr.Issues) > 0 {
		return nil, none, time.Time{}, calloutErr("Error validating user JWT: %v", vr.Issues[0])
	}
	if uc.Subject != ex.user {
		return nil, none, time.Time{}, calloutErr("Expected authorized user of %q but got %q on account %q", ex.user, uc.Subject, acc)
	}
	now := time.Now()
	if !calloutInTimes(uc.Times, uc.Locale, now) {
		return nil, none, time.Time{}, calloutErr("authorized user on account %q outside of valid connect times", acc)
	}
	var end time.Time
	if len(uc.Times) > 0 {
		loc := time.Local
		if uc.Locale != "" {
			loc, _ = time.LoadLocation(uc.Locale) // calloutInTimes checked it
		}
		end, _ = inTimes(uc.Times, now.In(loc))
	}
	kinds, err := calloutConnKinds(uc.AllowedConnectionTypes)
	if err != nil {
		return nil, none, time.Time{}, calloutErr("authorized user on account %q using invalid connection type", acc)
	}
	if len(kinds) > 0 && !slices.Contains(kinds, ex.kind) {
		return nil, none, time.Time{}, calloutErr("authorized user on account %q not allowed to use connection type", acc)
	}
	if len(uc.Src) > 0 && !srcAllowed(uc.Src, ex.remote) {
		return nil, none, time.Time{}, calloutErr("authorized user on account %q not allowed to connect from %v", acc, ex.remote)
	}
	return uc, uc.UserPermissionLimits, end, nil
}

// srcAllowed reports whether the address a is in one of the networks of
// a user JWT's src list.
func srcAllowed(nets jwt.CIDRList, a net.Addr) bool {
	ip := remoteIP(a)
	for _, c := range nets {
		if _, n, err := net.ParseCIDR(c); err == nil && ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// calloutIdentity is the Identity of a user the callout admitted into
// account: its permissions (the account's default permissions when the
// JWT has none, in operator mode) and, in JWT, what the server enforces
// while it is connected: its expiry.
func calloutIdentity(uc *jwt.UserClaims, upl jwt.UserPermissionLimits, account string, windowEnd time.Time, ta *Account) (*Identity, error) {
	perms := jwtPermissions(&upl.Permissions)
	var checker *Checker
	if perms == nil && ta != nil && ta.defaultPerms != nil {
		perms, checker = ta.defaultPerms, ta.defaultChecker
	} else {
		var err error
		if checker, err = NewChecker(perms); err != nil {
			return nil, calloutErr("Could not register auth callout user: %v", err)
		}
	}
	name := uc.Name
	if name == "" {
		name = uc.Subject
	}
	return &Identity{Name: name, Account: account, Permissions: perms, Checker: checker, JWT: &JWTUser{
		PublicKey: uc.Subject, Name: uc.Name, Account: account, Issuer: uc.Issuer,
		IssuedAt: unix(uc.IssuedAt), Expires: earliest(unix(uc.Expires), windowEnd),
		// Upstream does not apply a callout user JWT's subs, payload
		// and data limits (the account's still apply): neither do we.
		MaxSubs: -1, MaxPayload: -1, MaxData: -1, Bearer: upl.BearerToken,
	}}, nil
}

// decodeResponse opens, decodes and checks the authorization response
// and returns the user claims inside.
func (ex *CalloutExchange) decodeResponse(msg []byte) (*jwt.UserClaims, error) {
	acc := ex.cfg.Account
	if len(msg) == 0 {
		return nil, calloutErr("auth callout violation: %q on account %q", "no reason supplied", acc)
	}
	encrypted := false
	if ex.xkp != nil && !bytes.HasPrefix(msg, []byte(jwtPrefix)) {
		var err error
		msg, err = ex.xkp.Open(msg, ex.cfg.XKey)
		if err != nil {
			return nil, calloutErr("error decrypting auth callout response on account %q: %v", acc, err)
		}
		encrypted = true
	}
	cr, err := jwt.DecodeAuthorizationResponseClaims(string(msg))
	if err != nil {
		return nil, calloutErr("%v", err)
	}
	vr := jwt.CreateValidationResults()
	cr.Validate(vr)
	if len(vr.Issues) > 0 {
		return nil, calloutErr("authorization response had validation errors: %v", vr.Issues[0])
	}
	if cr.Subject != ex.user {
		return nil, calloutErr("auth callout violation: auth callout response is not for expected user")
	}
	if cr.Audience != ex.serverID {
		return nil, calloutErr("auth callout violation: auth callout response is not for server")
	}
	if cr.Error != "" {
		return nil, calloutErr("auth callout service returned an error: %v", cr.Error)
	}
	// In operator mode an unencrypted response must be signed by the
	// callout account or one of its signing keys.
	if ja := ex.cfg.jwtAcc; ja != nil && !encrypted {
		signer := cr.Issuer
		if cr.IssuerAccount != "" {
			signer = cr.IssuerAccount
		}
		if signer != ja.PublicKey && !ja.claims.SigningKeys.Contains(signer) {
			return nil, calloutErr("auth callout signing key is unknown")
		}
	}
	uc, err := jwt.DecodeUserClaims(cr.Jwt)
	if err != nil {
		return nil, calloutErr("%v", err)
	}
	return uc, nil
}

// calloutConnKinds reads a user JWT's allowed connection types. Unknown
// types are ignored, as upstream does, unless none is known.
func calloutConnKinds(types []string) ([]ConnKind, error) {
	var kinds []ConnKind
	for _, t := range types {
		if k, err := ParseConnKind(t); err == nil {
			kinds = append(kinds, k)
		}
	}
	if len(types) > 0 && len(kinds) == 0 {
		return nil, fmt.Errorf("no valid connection type in %q", types)
	}
	return kinds, nil
}

// jwtPermissions converts a user JWT's permissions as upstream does: an
// empty pub or sub list allows everything, and a response permission
// turns off the blanket publish allow, with defaults for zero values.
func jwtPermissions(jp *jwt.Permissions) *Permissions {
	var p *Permissions
	if len(jp.Pub.Allow) > 0 || len(jp.Pub.Deny) > 0 {
		p = &Permissions{Publish: &SubjectPermission{Allow: jp.Pub.Allow, Deny: jp.Pub.Deny}}
	}
	if len(jp.Sub.Allow) > 0 || len(jp.Sub.Deny) > 0 {
		if p == nil {
			p = &Permissions{}
		}
		p.Subscribe = &SubjectPermission{Allow: jp.Sub.Allow, Deny: jp.Sub.Deny}
	}
	if jp.Resp != nil {
		if p == nil {
			p = &Permissions{}
		}
		rp := &ResponsePermission{MaxMsgs: jp.Resp.MaxMsgs, Expires: jp.Resp.Expires}
		if rp.MaxMsgs == 0 {
			rp.MaxMsgs = DefaultResponseMaxMsgs
		}
		if rp.Expires == 0 {
			rp.Expires = DefaultResponseExpires
		}
		p.Response = rp
		if p.Publish == nil {
			p.Publish = &SubjectPermission{}
		}
		if p.Publish.Allow == nil {
			p.Publish.Allow = []string{}
		}
	}
	return p
}

// parseCallout reads authorization { auth_callout {...} } (ent is its
// entry) with upstream's keys and error texts.
func parseCallout(e *confparse.Decoder, ent *confparse.Entry) *Callout {
	v := ent.Value
	if v.Kind != confparse.KindMap {
		e.Errorf(ent.KeyPos, ErrBadConfig, "Expected authorization callout to be a map/struct, got %s", goValue(v))
		return nil
	}
	c := &Callout{}
	ok := true
	strs := func(key string, val *confparse.Value, what string) []string {
		if val.Kind != confparse.KindArray {
			e.Errorf(val.Pos, ErrBadConfig, "Expected %s field to be an array, got %s", what, val.Describe())
			ok = false
			return nil
		}
		var out []string
		for _, sv := range val.Array {
			var s string
			if e.Str(key, sv, &s) {
				out = append(out, s)
			} else {
				ok = false
			}
		}
		return out
	}
	for i := range v.Map.Entries {
		f := &v.Map.Entries[i]
		val := f.Value
		switch strings.ToLower(f.Key) {
		case "issuer":
			c.Issuer = str(e, f.Key, val)
			if !nkeys.IsValidPublicAccountKey(c.Issuer) {
				e.Errorf(f.KeyPos, ErrBadConfig, "Expected callout user to be a valid public account nkey, got %q", c.Issuer)
				ok = false
			}
		case "account", "acc":
			c.Account = str(e, f.Key, val)
		case "auth_users", "users":
			c.AuthUsers = strs(f.Key, val, "auth_users")
		case "xkey", "key":
			c.XKey = str(e, f.Key, val)
			if !nkeys.IsValidPublicCurveKey(c.XKey) {
				e.Errorf(f.KeyPos, ErrBadConfig, "Expected callout xkey to be a valid public xkey, got %q", c.XKey)
				ok = false
			}
		case "allowed_accounts":
			c.AllowedAccounts = strs(f.Key, val, "allowed accounts")
		default:
			if !f.UsedAsVariable {
				e.Errorf(f.KeyPos, ErrUnknownField, "Unknown field %q parsing authorization callout", f.Key)
			}
		}
	}
	if !ok {
		return nil
	}
	if c.Account == "" {
		c.Account = "$G"
	}
	// Upstream reports what is missing at the block's last key.
	pos := ent.KeyPos
	if n := len(v.Map.Entries); n > 0 {
		pos = v.Map.Entries[n-1].KeyPos
	}
	if c.Issuer == "" {
		e.Errorf(pos, ErrBadConfig, "Authorization callouts require an issuer to be specified")
		return nil
	}
	if len(c.AuthUsers) == 0 {
		e.Errorf(pos, ErrBadConfig, "Authorization callouts require authorized users to be specified")
		return nil
	}
	return c
}

// calloutInTimes reports whether now falls in one of a user JWT's connect
// time ranges ("15:04:05" start and end, in locale, the server's local
// time when empty; a range whose end is before its start spans midnight).
// No range means any time; a range or locale that does not parse allows
// none, as upstream.
func calloutInTimes(ranges []jwt.TimeRange, locale string, now time.Time) bool {
	if len(ranges) == 0 {
		return true
	}
	loc := time.Local
	if locale != "" {
		var err error
		if loc, err = time.LoadLocation(locale); err != nil {
			return false
		}
	}
	now = now.In(loc)
	y, m, d := now.Date()
	at := func(s string) (time.Time, bool) {
		t, err := time.ParseInLocation("15:04:05", s, loc)
		if err != nil {
			return time.Time{}, false
		}
		return time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), 0, loc), true
	}
	for _, r := range ranges {
		start, ok1 := at(r.Start)
		end, ok2 := at(r.End)
		if !ok1 || !ok2 {
			return false
		}
		switch {
		case start.Before(now) && end.After(now):
			return true
		case start.After(end) && (end.After(now) || start.Before(now)):
			return true // across midnight: before its end, or after its start
		}
	}
	return false
}

// goValue renders a scalar as upstream's messages do (Go's %v of the
// parsed value); other values as Describe does.
func goValue(v *confparse.Value) string {
	switch v.Kind {
	case confparse.KindString:
		return v.Str
	case confparse.KindInt:
		return fmt.Sprint(v.Int)
	case confparse.KindFloat:
		return fmt.Sprint(v.Float)
	case confparse.KindBool:
		return fmt.Sprint(v.Bool)
	}
	return v.Describe()
}
