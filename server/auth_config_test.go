package server_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"natsd.dev/auth"
	"natsd.dev/server"
	"natsd.dev/server/config"
)

func TestConfigAuthorization(t *testing.T) {
	c, w, err := applyText(t, `
ADMIN = { publish: ">", subscribe: ">" }
authorization {
  timeout: 0.5
  default_permissions { publish: "public.>", subscribe: { deny: "secret.>" } }
  users [
    { user: admin, password: "$2a$04$abcdefghijklmnopqrstuu5Ok6IwYgxy1D0Eai1dtuV1nRqVr6Cjq", permissions: $ADMIN }
    { user: guest, password: guest }
    { nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4 }
  ]
}
no_auth_user: guest
`)
	require.NoError(t, err)
	require.Empty(t, w)
	a := c.Options.Authorization
	require.NotNil(t, a)
	require.Equal(t, 500*time.Millisecond, c.Options.AuthTimeout)
	require.Equal(t, "guest", a.NoAuthUser)
	require.Len(t, a.Users, 3)
	require.Equal(t, []string{">"}, a.Users[0].Permissions.Publish.Allow)
	require.Equal(t, []string{"public.>"}, a.Users[1].Permissions.Publish.Allow, "default permissions")

	// The options start a server that wants authentication.
	s, err := server.New(c.Options)
	require.NoError(t, err)
	v, err := s.Varz(nil)
	require.NoError(t, err)
	require.True(t, v.AuthRequired)
	require.Equal(t, 0.5, v.AuthTimeout)
}

func TestConfigAuthorizationSingleUserAndToken(t *testing.T) {
	c, _, err := applyText(t, "authorization { user: u, password: p, timeout: 3 }\n")
	require.NoError(t, err)
	require.Equal(t, &auth.Config{User: "u", Password: "p", Timeout: 3 * time.Second}, c.Options.Authorization)
	require.Equal(t, 3*time.Second, c.Options.AuthTimeout)

	c, _, err = applyText(t, "authorization { token: s3cr3t }\n")
	require.NoError(t, err)
	require.Equal(t, "s3cr3t", c.Options.Authorization.Token)
}

func TestConfigAuthorizationErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
		is         error
	}{
		{"account in user", "authorization {\n users [\n  { user: a, password: b, account: A }\n ]\n}\n",
			[]string{`test.conf:3:36: account "A" not defined`}, config.ErrBadValue},
		{"user and token", "authorization {\n user: a\n token: b\n}\n",
			[]string{"test.conf:3:2: Cannot have a user/pass and token"}, auth.ErrBadConfig},
		{"bad subject", "authorization {\n users [ { user: a, permissions: { publish: \"foo..bar\" } } ]\n}\n",
			[]string{`test.conf:2:45: subject "foo..bar" is not a valid subject`}, auth.ErrBadConfig},
		{"not a map", "authorization: 1\n", []string{"test.conf:1:16: authorization: expected a map, got integer 1"}, config.ErrBadValue},
		{"unknown no_auth_user", "authorization { users [ { user: a } ] }\nno_auth_user: b\n",
			[]string{`test.conf:2:15: no_auth_user: "b" not present as user or nkey in authorization block or account configuration`}, config.ErrBadValue},
		{"no_auth_user without users", "no_auth_user: b\n",
			[]string{`test.conf:1:15: no_auth_user: "b" not present as user or nkey in authorization block or account configuration`}, config.ErrBadValue},
		{"account nkey", "accounts { A: { nkey: ABC } }\n", []string{"test.conf:1:17: account A: nkey is not supported yet"}, server.ErrNotSupported},
		{"account unknown key", "accounts {\n A: { users: [ {user: a} ], color: red }\n}\n", []string{`test.conf:2:29: unknown field "color" in account A`}, server.ErrUnknownField},
		{"account bad user", "accounts {\n A: { users: [ {pass: a} ] }\n}\n", []string{"test.conf:2:16: User entry requires a user"}, auth.ErrBadConfig},
		{"global account", "accounts { $G: {} }\n", []string{`test.conf:1:12: account name "$G" is reserved for the global account`}, config.ErrBadValue},
		{"system_account global", "system_account: \"$G\"\n", []string{`test.conf:1:17: system_account cannot be the global account "$G"`}, config.ErrBadValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := applyText(t, tc.text)
			require.Error(t, err)
			var msgs []string
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				msgs = append(msgs, e.Error())
			}
			require.Equal(t, tc.want, msgs)
			require.True(t, errors.Is(err, tc.is), "%v", err)
		})
	}
}
