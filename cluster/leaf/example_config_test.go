package leaf_test

import (
	"fmt"

	"natsd.dev/cluster/leaf"
	"natsd.dev/confparse"
)

// ExampleParseConfig turns the leafnodes {} block of a configuration
// file into Options: a hub listener for leaf nodes with one user bound
// to an account, and a remote hub this server connects to as a leaf.
func ExampleParseConfig() {
	m, err := confparse.Parse([]byte(`
leafnodes {
  port: 7422
  authorization { user: leaf, password: s3cr3t, account: EDGE }
  remotes: [
    { url: "nats-leaf://hub.example.com:7422", account: APP, deny_imports: ["private.>"] }
  ]
}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	o, warnings, err := leaf.ParseConfig(m.Lookup("leafnodes"))
	if err != nil {
		fmt.Println(err) // one "line:col: message" per problem
		return
	}
	r := o.Remotes[0]
	fmt.Println(o.Port, o.Username, o.Account, len(warnings))
	fmt.Println(r.URLs[0].Host, r.Account, r.DenyImports)
	// Output:
	// 7422 leaf EDGE 0
	// hub.example.com:7422 APP [private.>]
}
