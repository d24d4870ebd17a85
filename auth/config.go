package auth

import (
	"errors"
	"strings"
	"time"

	"natsd.dev/confparse"
	"natsd.dev/sublist"

	"github.com/nats-io/nkeys"
)

// Configuration errors. Every *confparse.Error that ParseAuthorization,
// ParsePermissions and ParseUsers return wraps one of them.
var (
	// ErrBadConfig marks a value of the wrong type, an invalid subject or
	// nkey, or options that cannot go together.
	ErrBadConfig = errors.New("auth: invalid configuration")
	// ErrUnknownField marks a key that upstream does not know either.
	ErrUnknownField = errors.New("auth: unknown field")
)

// Config is what the authorization {} block configures, plus the
// top-level options that the server adds before calling Chain.
type Config struct {
	// User and Password are the single user of authorization { user,
	// password } (or --user/--pass).
	User, Password string
	// Token is authorization { token } (or --auth).
	Token string
	// Timeout is authorization { timeout }: how long a client has to send
	// CONNECT; 0 when not set (the server applies its default).
	Timeout time.Duration
	// Users are the users of authorization { users }, default
	// permissions already applied. The server appends the users of its
	// accounts {} blocks (with Account set) before calling Chain.
	Users []User
	// DefaultPermissions is authorization { default_permissions }. It has
	// been applied to Users without permissions; the server applies it to
	// account users the same way.
	DefaultPermissions *Permissions
	// NoAuthUser is the top-level no_auth_user, set by the server.
	NoAuthUser string
	// Callout is authorization { auth_callout }, nil when not set.
	Callout *Callout
}

// Chain builds the authenticators for c. With verifyAndMap (the client
// TLS block's verify_and_map), only the certificate maps to users.
// Otherwise users and nkey users (with the single user of User/Password
// among them) come first, then the token. It returns a nil Chain when c
// configures no authentication at all.
func (c *Config) Chain(verifyAndMap bool) (Chain, error) {
	users := c.Users
	if c.User != "" {
		users = append([]User{{Name: c.User, Password: c.Password}}, users...)
	}
	var chain Chain
	if len(users) > 0 || c.NoAuthUser != "" {
		u, err := NewUsers(users, c.NoAuthUser)
		if err != nil {
			return nil, err
		}
		if verifyAndMap {
			return Chain{NewCertMap(u)}, nil
		}
		chain = append(chain, u)
	}
	if c.Token != "" {
		chain = append(chain, NewToken(c.Token))
	}
	if chain == nil && c.Callout != nil {
		// The callout decides for everyone: authentication is required.
		chain = Chain{}
	}
	return chain, nil
}

// HasUser reports whether c still configures the user req names: by
// Nkey when req has one, else by User (the single user or one of Users).
// On a configuration reload the server closes the clients whose user is
// gone, before checking the others' credentials with the new Chain. A
// nil c configures no one.
func (c *Config) HasUser(req *Request) bool {
	if c == nil {
		return false
	}
	if req.Nkey != "" {
		for i := range c.Users {
			if c.Users[i].Nkey == req.Nkey {
				return true
			}
		}
		return false
	}
	if c.User != "" && c.User == req.User {
		return true
	}
	for i := range c.Users {
		if c.Users[i].Name != "" && c.Users[i].Name == req.User {
			return true
		}
	}
	return false
}

// newDecoder returns the decoder of a parse: its type errors wrap
// ErrBadConfig.
func newDecoder() *confparse.Decoder {
	return &confparse.Decoder{BadValue: ErrBadConfig}
}

// unknown reports ent as an unknown field, unless it only defines a
// variable; where says in what ("" or " in user entry").
func unknown(d *confparse.Decoder, ent *confparse.Entry, where string) {
	if !ent.UsedAsVariable {
		d.Errorf(ent.KeyPos, ErrUnknownField, "unknown field %q%s", ent.Key, where)
	}
}

// str reads a string as d.Str does; a value of another type reads as "".
func str(d *confparse.Decoder, key string, v *confparse.Value) string {
	var s string
	d.Str(key, v, &s)
	return s
}

// ParseAuthorization reads an authorization {} block (m is its map). It
// reports every problem at once as a confparse.ErrorList whose errors
// carry the file:line:col of the offending value and wrap ErrBadConfig or
// ErrUnknownField. Keys are upstream's: user/username, pass/password,
// token, timeout (seconds, integer or float), users, and
// default_permissions (also default_permission and permissions).
// Permission sets may come from variables (permissions: $ADMIN), which
// confparse has already resolved.
func ParseAuthorization(m *confparse.Map) (*Config, error) {
	e := newDecoder()
	c := &Config{}
	var userPos, tokenPos, usersPos *confparse.Pos
	for i := range m.Entries {
		ent := &m.Entries[i]
		v := ent.Value
		switch strings.ToLower(ent.Key) {
		case "user", "username":
			c.User = str(e, ent.Key, v)
			userPos = &ent.KeyPos
		case "pass", "password":
			c.Password = str(e, ent.Key, v)
			userPos = &ent.KeyPos
		case "token":
			c.Token = str(e, ent.Key, v)
			tokenPos = &ent.KeyPos
		case "timeout":
			e.Seconds("timeout", v, &c.Timeout)
			if c.Timeout < 0 {
				e.Errorf(v.Pos, ErrBadConfig, "timeout: must not be negative")
			}
		case "users":
			c.Users = parseUsers(e, v)
			usersPos = &ent.KeyPos
		case "default_permission", "default_permissions", "permissions":
			c.DefaultPermissions = parsePermissions(e, v)
		case "auth_callout", "auth_hook":
			c.Callout = parseCallout(e, ent)
		default:
			unknown(e, ent, "")
		}
	}
	if userPos != nil && tokenPos != nil {
		e.Errorf(*tokenPos, ErrBadConfig, "Cannot have a user/pass and token")
	}
	if usersPos != nil && c.User != "" {
		e.Errorf(*usersPos, ErrBadConfig, "Can not have a single user/pass and a users array")
	}
	if usersPos != nil && c.Token != "" {
		e.Errorf(*usersPos, ErrBadConfig, "Can not have a token and a users array")
	}
	if c.DefaultPermissions != nil {
		for i := range c.Users {
			if c.Users[i].Permissions == nil {
				c.Users[i].Permissions = c.DefaultPermissions
			}
		}
	}
	if err := e.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// ParseUsers reads a users array, as found in authorization {} and in the
// accounts {} blocks: maps with user/username and pass/password, or nkey,
// and optional permissions and allowed_connection_types. Errors are as
// for ParseAuthorization.
func ParseUsers(v *confparse.Value) ([]User, error) {
	e := newDecoder()
	users := parseUsers(e, v)
	return users, e.Err()
}

func parseUsers(e *confparse.Decoder, v *confparse.Value) []User {
	if v.Kind != confparse.KindArray {
		e.Errorf(v.Pos, ErrBadConfig, "Expected users field to be an array, got %s", v.Describe())
		return nil
	}
	var users []User
	names := map[string]bool{}
	for _, uv := range v.Array {
		if uv.Kind != confparse.KindMap {
			e.Errorf(uv.Pos, ErrBadConfig, "Expected user entry to be a map/struct, got %s", uv.Describe())
			continue
		}
		var u User
		for i := range uv.Map.Entries {
			ent := &uv.Map.Entries[i]
			val := ent.Value
			switch strings.ToLower(ent.Key) {
			case "nkey":
				if u.Nkey = str(e, ent.Key, val); u.Nkey != "" && !nkeys.IsValidPublicUserKey(u.Nkey) {
					e.Errorf(val.Pos, ErrBadConfig, "Not a valid public nkey for a user")
				}
			case "user", "username":
				u.Name = str(e, ent.Key, val)
			case "pass", "password":
				u.Password = str(e, ent.Key, val)
			case "permission", "permissions", "authorization":
				u.Permissions = parsePermissions(e, val)
			case "allowed_connection_types", "allowed_connection_type":
				u.AllowedConnectionTypes = parseConnKinds(e, val)
			default:
				unknown(e, ent, " in user entry")
			}
		}
		switch {
		case u.Nkey == "" && u.Name == "":
			e.Errorf(uv.Pos, ErrBadConfig, "User entry requires a user")
			continue
		case u.Nkey != "" && (u.Name != "" || u.Password != ""):
			e.Errorf(uv.Pos, ErrBadConfig, "Nkey users do not take usernames or passwords")
			continue
		}
		key := "user " + u.Name
		if u.Nkey != "" {
			key = "nkey " + u.Nkey
		}
		if names[key] {
			if u.Nkey != "" {
				e.Errorf(uv.Pos, ErrBadConfig, "Duplicate nkey %q detected", u.Nkey)
			} else {
				e.Errorf(uv.Pos, ErrBadConfig, "Duplicate user %q detected", u.Name)
			}
			continue
		}
		names[key] = true
		users = append(users, u)
	}
	return users
}

func parseConnKinds(e *confparse.Decoder, v *confparse.Value) []ConnKind {
	vals := []*confparse.Value{v}
	if v.Kind == confparse.KindArray {
		vals = v.Array
	}
	kinds := []ConnKind{}
	for _, kv := range vals {
		var s string
		if !e.Str("allowed_connection_types", kv, &s) {
			continue
		}
		k, err := ParseConnKind(s)
		if err != nil {
			e.Errorf(kv.Pos, ErrBadConfig, "unknown connection type %q", s)
			continue
		}
		kinds = append(kinds, k)
	}
	if len(kinds) == 0 {
		return nil
	}
	return kinds
}

// ParsePermissions reads a permissions map: publish (pub, import) and
// subscribe (sub, export), each a subject, a list of subjects, or a map
// with allow and deny lists, and allow_responses (publish_allow_responses),
// true or a map with max (max_msgs, max_messages, max_responses) and
// expires (expiration, ttl). As upstream, allow_responses without a
// publish allow list denies publishing anywhere else. Errors are as for
// ParseAuthorization; subjects are validated.
func ParsePermissions(v *confparse.Value) (*Permissions, error) {
	e := newDecoder()
	p := parsePermissions(e, v)
	if err := e.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

func parsePermissions(e *confparse.Decoder, v *confparse.Value) *Permissions {
	if v.Kind != confparse.KindMap {
		e.Errorf(v.Pos, ErrBadConfig, "Expected permissions to be a map/struct, got %s", v.Describe())
		return nil
	}
	p := &Permissions{}
	for i := range v.Map.Entries {
		ent := &v.Map.Entries[i]
		switch strings.ToLower(ent.Key) {
		case "pub", "publish", "import":
			p.Publish = parseSubjectPermission(e, ent.Value, false)
		case "sub", "subscribe", "export":
			p.Subscribe = parseSubjectPermission(e, ent.Value, true)
		case "allow_responses", "publish_allow_responses":
			p.Response = parseResponses(e, ent.Value)
		default:
			if !ent.UsedAsVariable {
				e.Errorf(ent.KeyPos, ErrUnknownField, "Unknown field %q parsing permissions", ent.Key)
			}
		}
	}
	if p.Response != nil {
		if p.Publish == nil {
			p.Publish = &SubjectPermission{}
		}
		if p.Publish.Allow == nil {
			p.Publish.Allow = []string{}
		}
	}
	return p
}

// parseSubjectPermission returns nil for a permission with no subject at
// all ("publish: []", "publish: {}"), which allows everything.
func parseSubjectPermission(e *confparse.Decoder, v *confparse.Value, queues bool) *SubjectPermission {
	sp := &SubjectPermission{}
	if v.Kind != confparse.KindMap {
		sp.Allow = parseSubjects(e, v, queues)
		return nonEmpty(sp)
	}
	for i := range v.Map.Entries {
		ent := &v.Map.Entries[i]
		switch strings.ToLower(ent.Key) {
		case "allow":
			sp.Allow = parseSubjects(e, ent.Value, queues)
		case "deny":
			sp.Deny = parseSubjects(e, ent.Value, queues)
		default:
			if !ent.UsedAsVariable {
				e.Errorf(ent.KeyPos, ErrUnknownField, "Unknown field name %q parsing subject permissions, only 'allow' or 'deny' are permitted", ent.Key)
			}
		}
	}
	return nonEmpty(sp)
}

func nonEmpty(sp *SubjectPermission) *SubjectPermission {
	if sp.Allow == nil && sp.Deny == nil {
		return nil
	}
	return sp
}

func parseSubjects(e *confparse.Decoder, v *confparse.Value, queues bool) []string {
	vals := []*confparse.Value{v}
	switch v.Kind {
	case confparse.KindArray:
		vals = v.Array
	case confparse.KindString:
	default:
		e.Errorf(v.Pos, ErrBadConfig, "Expected subject permissions to be a subject, or array of subjects, got %s", v.Describe())
		return nil
	}
	var subjects []string
	for _, sv := range vals {
		if sv.Kind != confparse.KindString {
			e.Errorf(sv.Pos, ErrBadConfig, "Subject in permissions array cannot be cast to string")
			continue
		}
		subject, queue, ok := sv.Str, "", true
		if queues {
			subject, queue, ok = splitQueue(sv.Str)
		}
		if !ok || !sublist.ValidSubject(subject) || (queue != "" && !sublist.ValidSubject(queue)) {
			e.Errorf(sv.Pos, ErrBadConfig, "subject %q is not a valid subject", sv.Str)
			continue
		}
		subjects = append(subjects, sv.Str)
	}
	return subjects
}

func parseResponses(e *confparse.Decoder, v *confparse.Value) *ResponsePermission {
	rp := &ResponsePermission{MaxMsgs: DefaultResponseMaxMsgs, Expires: DefaultResponseExpires}
	switch v.Kind {
	case confparse.KindBool:
		if !v.Bool {
			return nil
		}
		return rp
	case confparse.KindMap:
	default:
		e.Errorf(v.Pos, ErrBadConfig, "error parsing response permissions, expected a boolean or a map")
		return nil
	}
	for i := range v.Map.Entries {
		ent := &v.Map.Entries[i]
		val := ent.Value
		switch strings.ToLower(ent.Key) {
		case "max", "max_msgs", "max_messages", "max_responses":
			if val.Kind != confparse.KindInt || val.Int != int64(int(val.Int)) {
				e.Errorf(val.Pos, ErrBadConfig, "%s: expected an integer, got %s", ent.Key, val.Describe())
				continue
			}
			if val.Int != 0 { // 0 keeps the default, negative is unlimited
				rp.MaxMsgs = int(val.Int)
			}
		case "expires", "expiration", "ttl":
			if val.Kind != confparse.KindString {
				e.Errorf(val.Pos, ErrBadConfig, "error parsing expires, not a duration string")
				continue
			}
			d, err := time.ParseDuration(val.Str)
			if err != nil {
				e.Errorf(val.Pos, ErrBadConfig, "error parsing expires: %v", err)
				continue
			}
			if d != 0 {
				rp.Expires = d
			}
		default:
			if !ent.UsedAsVariable {
				e.Errorf(ent.KeyPos, ErrUnknownField, "Unknown field %q parsing permissions", ent.Key)
			}
		}
	}
	return rp
}
