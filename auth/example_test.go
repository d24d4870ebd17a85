package auth_test

import (
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/nats-io/nkeys"

	"natsd.dev/auth"
	"natsd.dev/confparse"
)

// Example shows the server's side: parse the authorization block, build
// the chain once, then authenticate each CONNECT and check each publish.
func Example() {
	m, err := confparse.Parse([]byte(`
ADMIN = { publish = ">", subscribe = ">" }
authorization {
  timeout: 2
  default_permissions = { publish = "public.>", subscribe = { allow: ">", deny: "admin.>" } }
  users = [
    {user: admin, password: "s3cret", permissions: $ADMIN}
    {user: guest, password: "guest"}
  ]
}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	block, _ := m.Get("authorization")
	cfg, err := auth.ParseAuthorization(block.Map)
	if err != nil {
		fmt.Println(err) // file:line:col: message, one per problem
		return
	}
	chain, err := cfg.Chain(false)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("auth timeout:", cfg.Timeout, "nonce needed:", chain.NeedsNonce())

	id, err := chain.Authenticate(&auth.Request{Kind: auth.KindStandard, User: "guest", Password: "guest"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("user:", id.Name)
	fmt.Println("publish public.news:", id.Checker.CanPublish([]byte("public.news")))
	fmt.Println("publish orders.new:", id.Checker.CanPublish([]byte("orders.new")))
	fmt.Println("subscribe admin.>:", id.Checker.CanSubscribe("admin.>", ""))
	fmt.Println("subscribe >:", id.Checker.CanSubscribe(">", ""), "filtered:", id.Checker.NeedsDeliveryFilter(">"))

	_, err = chain.Authenticate(&auth.Request{User: "admin", Password: "wrong"})
	fmt.Println("client gets 'Authorization Violation':", errors.Is(err, auth.ErrAuthorization))
	fmt.Println("log:", err)
	// Output:
	// auth timeout: 2s nonce needed: false
	// user: guest
	// publish public.news: true
	// publish orders.new: false
	// subscribe admin.>: false
	// subscribe >: true filtered: true
	// client gets 'Authorization Violation': true
	// log: auth: authorization violation: user "admin": password mismatch
}

// ExampleVerifyNonce shows nkey authentication: the server sends a nonce
// in INFO, the client returns its public key and the signature.
func ExampleVerifyNonce() {
	kp, _ := nkeys.CreateUser() // the client's key pair
	pub, _ := kp.PublicKey()    // configured as {nkey: "U..."}

	nonce := auth.NewNonce()                         // goes into INFO {"nonce": "..."}
	raw, _ := kp.Sign(nonce)                         // the client signs the nonce text
	sig := base64.RawURLEncoding.EncodeToString(raw) // CONNECT {"sig": "..."}

	users, _ := auth.NewUsers([]auth.User{{Nkey: pub, Account: "ORDERS"}}, "")
	fmt.Println("send nonce:", users.NeedsNonce())
	id, err := users.Authenticate(&auth.Request{Nkey: pub, Sig: sig, Nonce: nonce})
	fmt.Println(id.Account, err)
	// Output:
	// send nonce: true
	// ORDERS <nil>
}

// ExampleChecker shows queue-group permissions and allow_responses.
func ExampleChecker() {
	c, err := auth.NewChecker(&auth.Permissions{
		Publish:   &auth.SubjectPermission{Allow: []string{}}, // only replies
		Subscribe: &auth.SubjectPermission{Allow: []string{"svc.* workers"}},
		Response:  &auth.ResponsePermission{MaxMsgs: auth.DefaultResponseMaxMsgs, Expires: auth.DefaultResponseExpires},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.CanSubscribe("svc.add", "workers"), c.CanSubscribe("svc.add", ""), c.CanSubscribe("svc.add", "others"))
	// The server allows a reply to a request it delivered, tracked on
	// the connection, when CanPublish says no and Response is set.
	fmt.Println(c.CanPublish([]byte("_INBOX.abc")), c.Response().MaxMsgs, c.Response().Expires)
	// Output:
	// true false false
	// false 1 2m0s
}
