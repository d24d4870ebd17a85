package resolver_test

import (
	"fmt"
	"os"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"natsd.dev/server/resolver"
)

// A full resolver keeps one file per account, <public key>.jwt; what a
// push stores, Fetch returns.
func ExampleNewFull() {
	dir, _ := os.MkdirTemp("", "jwt")
	defer os.RemoveAll(dir)
	r, err := resolver.NewFull(resolver.Options{Dir: dir, Delete: resolver.RenameDeleted})
	if err != nil {
		fmt.Println(err)
		return
	}
	op, _ := nkeys.CreateOperator()
	acc, _ := nkeys.CreateAccount()
	pub, _ := acc.PublicKey()
	tok, _ := jwt.NewAccountClaims(pub).Encode(op)
	changed, _ := r.Store().Save(pub, tok)
	got, _ := r.Fetch(pub)
	_, statErr := os.Stat(dir + "/" + pub + ".jwt")
	fmt.Println(changed, got == tok, statErr == nil, len(r.Store().List()))
	// Output: true true true 1
}

// The URL resolver appends the account's public key to its base URL.
func ExampleNewURL() {
	_, err := resolver.NewURL("ftp://example.com/", nil, 0)
	fmt.Println(err)
	// Output: error parsing account resolver url: unsupported scheme "ftp"
}
