package config_test

import (
	"natsd.dev/server/resolver"
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"
)

// mintOperator returns an operator JWT, the operator's key and a
// signed account JWT with the account's public key.
func mintOperator(t *testing.T) (opJWT string, opKP nkeys.KeyPair, accPub, accJWT string) {
	t.Helper()
	opKP, _ = nkeys.CreateOperator()
	opPub, _ := opKP.PublicKey()
	oc := jwt.NewOperatorClaims(opPub)
	oc.Name = "OP"
	var err error
	opJWT, err = oc.Encode(opKP)
	require.NoError(t, err)
	accKP, _ := nkeys.CreateAccount()
	accPub, _ = accKP.PublicKey()
	accJWT, err = jwt.NewAccountClaims(accPub).Encode(opKP)
	require.NoError(t, err)
	return opJWT, opKP, accPub, accJWT
}

func TestOperatorKeys(t *testing.T) {
	opJWT, opKP, accPub, accJWT := mintOperator(t)
	path := filepath.Join(t.TempDir(), "op.jwt")
	require.NoError(t, os.WriteFile(path, []byte(opJWT), 0o600))
	c, _, err := applyText(t, `
operators: ["`+path+`", "`+opJWT+`"]
resolver: MEMORY
resolver_preload: { `+accPub+`: "`+accJWT+`" }
default_sentinel: "x"
`)
	require.NoError(t, err)
	op := c.Options.Operator
	require.NotNil(t, op)
	require.Len(t, op.Operators, 2)
	require.Equal(t, "OP", op.Operators[0].Name)
	require.Equal(t, "x", op.DefaultSentinel)
	got, err := op.Resolver.Fetch(accPub)
	require.NoError(t, err)
	require.Equal(t, accJWT, got)

	opPub, _ := opKP.PublicKey()
	c, _, err = applyText(t, "trusted_keys: "+opPub+"\nresolver: memory\n")
	require.NoError(t, err)
	require.Equal(t, []string{opPub}, c.Options.Operator.TrustedKeys)
}

func TestOperatorKeysErrors(t *testing.T) {
	opJWT, _, accPub, _ := mintOperator(t)
	_, otherKP, _, _ := mintOperator(t)
	kp, _ := nkeys.CreateAccount()
	pub, _ := kp.PublicKey()
	untrusted, err := jwt.NewAccountClaims(pub).Encode(otherKP)
	require.NoError(t, err)
	for text, want := range map[string]string{
		"operator: /nonexistent/op.jwt":                                                                   "test.conf:1:11: error parsing operator JWT",
		"operator: 1":                                                                                     "expected string or array of strings",
		"trusted_keys: [NOTAKEY]":                                                                         `trusted Keys "NOTAKEY" are required to be a valid public operator nkey`,
		"operator: " + opJWT + "\nresolver: URL(ftp://x/)":                                                "error parsing account resolver url",
		"operator: " + opJWT + "\nresolver: { type: full }":                                               "dir has no value and needs to point to a directory",
		"operator: " + opJWT + "\nresolver: { type: full, dir: /tmp, ttl: \"1m\" }":                       "FULL does not accept ttl",
		"operator: " + opJWT + "\nresolver: { type: cache, dir: /tmp, allow_delete: true }":               "CACHE does not accept allow_delete",
		"operator: " + opJWT + "\nresolver: { type: full, dir: /tmp, hard_delete: true }":                 "hard_delete has no effect without delete",
		"operator: " + opJWT + "\nresolver: FILE":                                                         `error parsing account resolver, should be MEM or  URL("url")`,
		"operator: " + opJWT + "\nresolver_pinned_accounts: [NOPE]":                                       "error parsing resolver_pinned_accounts",
		"operator: " + opJWT + "\nresolver: MEMORY\nresolver_preload: { " + pub + ": " + untrusted + " }": `preload account error for "` + pub + `"`,
		"operator: " + opJWT + "\nresolver: MEMORY\nresolver_preload: { " + accPub + ": 12 }":             "expected string",
	} {
		_, _, err := applyText(t, text)
		require.ErrorContains(t, err, want, text)
	}
}

func TestOperatorResolverKeys(t *testing.T) {
	opJWT, _, accPub, _ := mintOperator(t)
	dir := t.TempDir()
	c, _, err := applyText(t, "operator: "+opJWT+"\nresolver: { type: full, dir: \""+dir+"\", allow_delete: true, interval: \"2m\", timeout: \"1s\", limit: 10 }\nresolver_pinned_accounts: "+accPub+"\n")
	require.NoError(t, err)
	r, ok := c.Options.Operator.Resolver.(*resolver.Resolver)
	require.True(t, ok, "%T", c.Options.Operator.Resolver)
	require.Equal(t, dir, r.Store().Dir())
	require.Equal(t, []string{accPub}, c.Options.Operator.PinnedAccounts)

	c, _, err = applyText(t, "operator: "+opJWT+"\nresolver: { type: cache, dir: \""+dir+"\", ttl: \"1h\" }\n")
	require.NoError(t, err)
	_, ok = c.Options.Operator.Resolver.(*resolver.Resolver)
	require.True(t, ok)

	c, _, err = applyText(t, "operator: "+opJWT+"\nresolver: URL(\"http://127.0.0.1:9090/jwt/v1/accounts/\")\nresolver_tls: { timeout: 2 }\n")
	require.NoError(t, err)
	_, ok = c.Options.Operator.Resolver.(*resolver.URL)
	require.True(t, ok, "%T", c.Options.Operator.Resolver)
}
