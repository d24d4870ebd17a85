package auth_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"

	"natsd.dev/auth"
)

// TestDescribeAccountJWT: the issuer, tags, decoded claims, validation
// issues and revocations of an account JWT; a token that is not a JWT is
// refused with ErrBadJWT.
func TestDescribeAccountJWT(t *testing.T) {
	op, _ := nkeys.CreateOperator()
	opPub, _ := op.PublicKey()
	acc, _ := nkeys.CreateAccount()
	pub, _ := acc.PublicKey()
	user, _ := nkeys.CreateUser()
	userPub, _ := user.PublicKey()
	ac := jwt.NewAccountClaims(pub)
	ac.Name = "A"
	ac.Tags.Add("team:blue")
	ac.Revoke(userPub)
	// An export of a wildcard service with a response type stream is
	// valid; a service import of a subject with a wildcard from no
	// account gives a blocking issue.
	ac.Imports.Add(&jwt.Import{Name: "bad", Subject: "svc.>", Type: jwt.Service})
	tok, err := ac.Encode(op)
	require.NoError(t, err)

	d, err := auth.DescribeAccountJWT(tok)
	require.NoError(t, err)
	require.Equal(t, opPub, d.Issuer)
	require.Equal(t, []string{"team:blue"}, d.Tags)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(d.Claims, &claims))
	require.Equal(t, pub, claims["sub"])
	require.Equal(t, "A", claims["name"])
	require.Contains(t, d.Revoked, userPub)
	require.WithinDuration(t, time.Now(), d.Revoked[userPub], time.Minute)
	require.NotEmpty(t, d.Issues)
	blocking := false
	for _, is := range d.Issues {
		blocking = blocking || is.Blocking
	}
	require.True(t, blocking, "%+v", d.Issues)

	_, err = auth.DescribeAccountJWT("not a jwt")
	require.ErrorIs(t, err, auth.ErrBadJWT)
}

// ExampleDescribeAccountJWT shows an account JWT as /accountz does.
func ExampleDescribeAccountJWT() {
	op, _ := nkeys.CreateOperator()
	acc, _ := nkeys.CreateAccount()
	pub, _ := acc.PublicKey()
	ac := jwt.NewAccountClaims(pub)
	ac.Name = "orders"
	ac.Tags.Add("team:blue")
	tok, _ := ac.Encode(op)

	d, err := auth.DescribeAccountJWT(tok)
	if err != nil {
		fmt.Println(err)
		return
	}
	var claims struct {
		Name string `json:"name"`
	}
	json.Unmarshal(d.Claims, &claims)
	fmt.Println(claims.Name, d.Tags, len(d.Issues))
	// Output: orders [team:blue] 0
}
