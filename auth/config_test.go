package auth_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"natsd.dev/auth"
	"natsd.dev/confparse"
)

// authBlock parses conf and returns its authorization block.
func authBlock(t *testing.T, conf string) *confparse.Map {
	t.Helper()
	m, err := confparse.ParseWithOptions("test.conf", []byte(conf), confparse.Options{
		Env: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatal(err)
	}
	v, ok := m.Get("authorization")
	if !ok || v.Kind != confparse.KindMap {
		t.Fatal("no authorization block")
	}
	return v.Map
}

func TestParseAuthorization(t *testing.T) {
	const nkey = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4"
	admin := &auth.Permissions{
		Publish:   &auth.SubjectPermission{Allow: []string{">"}},
		Subscribe: &auth.SubjectPermission{Allow: []string{">"}},
	}
	tests := []struct {
		name string
		conf string
		want *auth.Config
	}{
		{"single user", `authorization { user: derek, password: "T0pS3cr3t", timeout: 1 }`,
			&auth.Config{User: "derek", Password: "T0pS3cr3t", Timeout: time.Second}},
		{"token bcrypt, float timeout", `authorization { token: $2a$11$3kIDaCxw.Glsl1.u5nKa6eUnNDLV5HV9tIuUp7EHhMt6Nm9myW1aS
			timeout: 0.5 }`,
			&auth.Config{Token: "$2a$11$3kIDaCxw.Glsl1.u5nKa6eUnNDLV5HV9tIuUp7EHhMt6Nm9myW1aS", Timeout: 500 * time.Millisecond}},
		{"users with variables and defaults", `
ADMIN = { publish = ">", subscribe = ">" }
REQUESTOR = {
  publish = ["req.a", "req.b"]
  subscribe = "_INBOX.>"
}
authorization {
  default_permissions = { publish = "SANDBOX.*", subscribe = { allow: ["PUBLIC.>", "q.* workers"], deny: "PUBLIC.secret" } }
  users = [
    {user: admin, password: secret, permissions: $ADMIN}
    {user: client, password: pw, permissions: $REQUESTOR, allowed_connection_types: ["STANDARD", "websocket"]}
    {user: other, password: pw}
    {nkey: ` + nkey + `}
  ]
}`, &auth.Config{
			DefaultPermissions: &auth.Permissions{
				Publish:   &auth.SubjectPermission{Allow: []string{"SANDBOX.*"}},
				Subscribe: &auth.SubjectPermission{Allow: []string{"PUBLIC.>", "q.* workers"}, Deny: []string{"PUBLIC.secret"}},
			},
			Users: []auth.User{
				{Name: "admin", Password: "secret", Permissions: admin},
				{Name: "client", Password: "pw", AllowedConnectionTypes: []auth.ConnKind{auth.KindStandard, auth.KindWebsocket},
					Permissions: &auth.Permissions{
						Publish:   &auth.SubjectPermission{Allow: []string{"req.a", "req.b"}},
						Subscribe: &auth.SubjectPermission{Allow: []string{"_INBOX.>"}},
					}},
				{Name: "other", Password: "pw", Permissions: &auth.Permissions{
					Publish:   &auth.SubjectPermission{Allow: []string{"SANDBOX.*"}},
					Subscribe: &auth.SubjectPermission{Allow: []string{"PUBLIC.>", "q.* workers"}, Deny: []string{"PUBLIC.secret"}},
				}},
				{Nkey: nkey, Permissions: &auth.Permissions{
					Publish:   &auth.SubjectPermission{Allow: []string{"SANDBOX.*"}},
					Subscribe: &auth.SubjectPermission{Allow: []string{"PUBLIC.>", "q.* workers"}, Deny: []string{"PUBLIC.secret"}},
				}},
			}}},
		{"allow_responses true", `authorization { users = [ {user: svc, password: pw, permissions: { subscribe: "svc.>", allow_responses: true }} ] }`,
			&auth.Config{Users: []auth.User{{Name: "svc", Password: "pw", Permissions: &auth.Permissions{
				Publish:   &auth.SubjectPermission{Allow: []string{}},
				Subscribe: &auth.SubjectPermission{Allow: []string{"svc.>"}},
				Response:  &auth.ResponsePermission{MaxMsgs: 1, Expires: 2 * time.Minute},
			}}}}},
		{"allow_responses map keeps publish allow", `authorization { users = [ {user: svc, password: pw, permissions: {
			pub: {allow: "x", deny: ["y", "z"]}, allow_responses: {max: 5, expires: "1m"} }} ] }`,
			&auth.Config{Users: []auth.User{{Name: "svc", Password: "pw", Permissions: &auth.Permissions{
				Publish:  &auth.SubjectPermission{Allow: []string{"x"}, Deny: []string{"y", "z"}},
				Response: &auth.ResponsePermission{MaxMsgs: 5, Expires: time.Minute},
			}}}}},
		{"allow_responses false, max 0 keeps default", `authorization { users = [
			{user: a, permissions: { allow_responses: false }}
			{user: b, permissions: { allow_responses: { max: 0, ttl: "-1s" } }} ] }`,
			&auth.Config{Users: []auth.User{{Name: "a", Permissions: &auth.Permissions{}},
				{Name: "b", Permissions: &auth.Permissions{Publish: &auth.SubjectPermission{Allow: []string{}},
					Response: &auth.ResponsePermission{MaxMsgs: 1, Expires: -time.Second}}}}}},
		{"variable only used as variable", `authorization { X = "a.b", users = [ {user: a, permissions: { publish: $X }} ] }`,
			&auth.Config{Users: []auth.User{{Name: "a", Permissions: &auth.Permissions{Publish: &auth.SubjectPermission{Allow: []string{"a.b"}}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := auth.ParseAuthorization(authBlock(t, tt.conf))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %s\nwant %s", dump(got), dump(tt.want))
			}
		})
	}
}

func dump(c *auth.Config) string {
	var b strings.Builder
	b.WriteString(strings.ReplaceAll(strings.TrimSpace(stringify(c)), "\n", " "))
	return b.String()
}

func stringify(v any) string {
	switch v := v.(type) {
	case *auth.Config:
		s := "Config{" + v.User + "/" + v.Password + " tok=" + v.Token + " t=" + v.Timeout.String() + " def=" + stringify(v.DefaultPermissions) + " users=["
		for _, u := range v.Users {
			s += "{" + u.Name + "/" + u.Password + " " + u.Nkey + " " + stringify(u.Permissions)
			for _, k := range u.AllowedConnectionTypes {
				s += " " + k.String()
			}
			s += "}"
		}
		return s + "]}"
	case *auth.Permissions:
		if v == nil {
			return "nil"
		}
		s := "P{pub=" + stringify(v.Publish) + " sub=" + stringify(v.Subscribe)
		if v.Response != nil {
			s += " resp=" + itoa(v.Response.MaxMsgs) + "/" + v.Response.Expires.String()
		}
		return s + "}"
	case *auth.SubjectPermission:
		if v == nil {
			return "nil"
		}
		return "allow" + strings.Join(v.Allow, ",") + "(" + map[bool]string{true: "nil", false: "set"}[v.Allow == nil] + ") deny" + strings.Join(v.Deny, ",")
	}
	return "?"
}

func TestParseAuthorizationErrors(t *testing.T) {
	tests := []struct {
		name string
		conf string
		want []string // "line:col: message" of each error, in order
	}{
		{"token and user", "authorization {\n  user: a\n  password: b\n  token: c\n}",
			[]string{"test.conf:4:3: Cannot have a user/pass and token"}},
		{"users and token", "authorization {\n  token: c\n  users: [{user: a}]\n}",
			[]string{"test.conf:3:3: Can not have a token and a users array"}},
		{"users and user", "authorization {\n  user: x\n  users: [{user: a}]\n}",
			[]string{"test.conf:3:3: Can not have a single user/pass and a users array"}},
		{"many at once", `authorization {
  timeout: "1s"
  users: [
    {user: a, password: b, permissions: {publish: "foo..bar", subscribe: {allow: ["ok", 5], deny: "x y z"}}}
    {password: nouser}
    {user: a}
    {nkey: UBAD}
    {nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4, user: n}
    {user: c, allowed_connection_types: ["STANDARD", "ROUTER"], bogus: 1}
    false
  ]
  colour: blue
}`, []string{
			`test.conf:2:12: timeout: expected a number of seconds, got string "1s"`,
			`test.conf:4:51: subject "foo..bar" is not a valid subject`,
			`test.conf:4:89: Subject in permissions array cannot be cast to string`,
			`test.conf:4:99: subject "x y z" is not a valid subject`,
			`test.conf:5:5: User entry requires a user`,
			`test.conf:6:5: Duplicate user "a" detected`,
			`test.conf:7:12: Not a valid public nkey for a user`,
			`test.conf:8:5: Nkey users do not take usernames or passwords`,
			`test.conf:9:54: unknown connection type "ROUTER"`,
			`test.conf:9:65: unknown field "bogus" in user entry`,
			`test.conf:10:5: Expected user entry to be a map/struct, got boolean false`,
			`test.conf:12:3: unknown field "colour"`,
		}},
		{"permissions", `authorization {
  default_permissions: {
    publish: 5
    subscribe: {allow: "a", only: "b"}
    allow_responses: {max: "x", expires: 5, ttl: "soon", what: 1}
    everything: true
  }
  users: {}
}`, []string{
			`test.conf:3:14: Expected subject permissions to be a subject, or array of subjects, got integer 5`,
			`test.conf:4:29: Unknown field name "only" parsing subject permissions, only 'allow' or 'deny' are permitted`,
			`test.conf:5:28: max: expected an integer, got string "x"`,
			`test.conf:5:42: error parsing expires, not a duration string`,
			`test.conf:5:50: error parsing expires: time: invalid duration "soon"`,
			`test.conf:5:58: Unknown field "what" parsing permissions`,
			`test.conf:6:5: Unknown field "everything" parsing permissions`,
			`test.conf:8:10: Expected users field to be an array, got map`,
		}},
		{"bad permission kinds", "authorization {\n  permissions: [a]\n  users: [{user: a, permissions: {allow_responses: 1}}]\n}", []string{
			`test.conf:2:16: Expected permissions to be a map/struct, got array`,
			`test.conf:3:52: error parsing response permissions, expected a boolean or a map`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := auth.ParseAuthorization(authBlock(t, tt.conf))
			var list confparse.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error %v is not an ErrorList", err)
			}
			var got []string
			for _, e := range list {
				got = append(got, e.Error())
				if !errors.Is(e, auth.ErrBadConfig) && !errors.Is(e, auth.ErrUnknownField) {
					t.Errorf("%v wraps neither ErrBadConfig nor ErrUnknownField", e)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(tt.want, "\n\t"))
			}
		})
	}
}

func TestConfigChain(t *testing.T) {
	const conf = `authorization {
  users = [
    {user: alice, password: pw, permissions: {publish: "a.>"}}
    {user: anon, password: anon-pw}
  ]
}`
	c, err := auth.ParseAuthorization(authBlock(t, conf))
	if err != nil {
		t.Fatal(err)
	}
	c.NoAuthUser = "anon"
	chain, err := c.Chain(false)
	if err != nil {
		t.Fatal(err)
	}
	id, err := chain.Authenticate(&auth.Request{User: "alice", Password: "pw"})
	if err != nil || !id.Checker.CanPublish([]byte("a.b")) || id.Checker.CanPublish([]byte("b")) {
		t.Fatalf("alice: %v %v", id, err)
	}
	if id, err := chain.Authenticate(&auth.Request{}); err != nil || id.Name != "anon" {
		t.Fatalf("no_auth_user: %v %v", id, err)
	}

	single := &auth.Config{User: "derek", Password: "pw"}
	chain, err = single.Chain(false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chain.Authenticate(&auth.Request{User: "derek", Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	token := &auth.Config{Token: "tok"}
	if chain, _ = token.Chain(false); len(chain) != 1 {
		t.Fatalf("token chain %v", chain)
	}
	if chain, err = (&auth.Config{}).Chain(false); chain != nil || err != nil {
		t.Fatalf("empty config: %v %v", chain, err)
	}
	if _, err = (&auth.Config{NoAuthUser: "ghost"}).Chain(false); err == nil {
		t.Fatal("unknown no_auth_user accepted")
	}
	if chain, err = c.Chain(true); err != nil || len(chain) != 1 {
		t.Fatalf("verify_and_map chain: %v %v", chain, err)
	}
}

func TestParsePermissions(t *testing.T) {
	m, err := confparse.Parse([]byte(`p: { publish: ["a", "b.*"], subscribe: "c.> grp" }`))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := m.Get("p")
	p, err := auth.ParsePermissions(v)
	if err != nil {
		t.Fatal(err)
	}
	c := mustChecker(t, p)
	if !c.CanPublish([]byte("b.x")) || c.CanPublish([]byte("c")) || !c.CanSubscribe("c.x", "grp") || c.CanSubscribe("c.x", "") {
		t.Fatal("wrong permissions")
	}
	m, _ = confparse.Parse([]byte(`users: [{user: a}, {nkey: x}]`))
	v, _ = m.Get("users")
	if _, err := auth.ParseUsers(v); !errors.Is(err, auth.ErrBadConfig) {
		t.Fatalf("ParseUsers: %v", err)
	}
}

func TestConfigHasUser(t *testing.T) {
	c := &auth.Config{
		User: "single", Password: "p",
		Users: []auth.User{{Name: "alice"}, {Nkey: "UNKEY"}, {Name: "", Password: "x"}},
	}
	for _, tc := range []struct {
		name string
		c    *auth.Config
		req  auth.Request
		want bool
	}{
		{"single user", c, auth.Request{User: "single"}, true},
		{"listed user", c, auth.Request{User: "alice", Password: "wrong"}, true},
		{"removed user", c, auth.Request{User: "bob"}, false},
		{"nkey", c, auth.Request{Nkey: "UNKEY"}, true},
		{"removed nkey", c, auth.Request{Nkey: "UOTHER", User: "alice"}, false},
		{"no name matches no nameless user", c, auth.Request{}, false},
		{"no single user", &auth.Config{Users: []auth.User{{Name: "alice"}}}, auth.Request{}, false},
		{"nil config", nil, auth.Request{User: "alice"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.HasUser(&tc.req); got != tc.want {
				t.Errorf("HasUser(%+v) = %v, want %v", tc.req, got, tc.want)
			}
		})
	}
}
