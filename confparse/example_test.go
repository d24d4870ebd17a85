package confparse_test

import (
	"errors"
	"fmt"
	"os"

	"natsd.dev/confparse"
)

func Example() {
	conf := []byte(`
port: 4222
max_payload: 1MB
authorization {
  users = [
    {user: alice, password: "s3cret"}
  ]
}
`)
	m, err := confparse.Parse(conf)
	if err != nil {
		fmt.Println(err)
		return
	}
	port, _ := m.Get("port")
	size, _ := m.Get("MAX_PAYLOAD") // keys match case-insensitively
	fmt.Println(port.Kind, port.Int, "at", port.Pos)
	fmt.Println(size.Kind, size.Int)
	auth, _ := m.Get("authorization")
	users, _ := auth.Map.Get("users")
	for _, u := range users.Array {
		name, _ := u.Map.Get("user")
		fmt.Println("user", name.Str, "at", name.Pos)
	}
	// Output:
	// int 4222 at 2:7
	// int 1048576
	// user alice at 6:12
}

func Example_errors() {
	conf := []byte(`port: 4222
host =
size: 10kbb
token: $MISSING
`)
	_, err := confparse.ParseWithOptions("server.conf", conf, confparse.Options{
		Env: func(string) (string, bool) { return "", false },
	})
	fmt.Println(err)
	fmt.Println("undefined variable:", errors.Is(err, confparse.ErrUndefinedVariable))
	// Output:
	// server.conf:2:7: expected a value for key "host", found end of line
	// server.conf:3:7: invalid size suffix in 10kbb (use k, kb, ki, kib, m, mb, ... e, eb, ei, eib)
	// server.conf:4:8: variable $MISSING is not defined in an enclosing block or the environment
	// undefined variable: true
}

func Example_variables() {
	conf := []byte(`
TOKEN: "s3cr3t"
authorization {
  token: $TOKEN
  timeout: $TIMEOUT
}
`)
	env := map[string]string{"TIMEOUT": "2.5"}
	m, err := confparse.ParseWithOptions("", conf, confparse.Options{
		Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	auth, _ := m.Get("authorization")
	tok, _ := auth.Map.Get("token")
	timeout, _ := auth.Map.Get("timeout")
	fmt.Printf("%s from $%s at %s\n", tok.Str, tok.Var, tok.Pos)
	fmt.Println(timeout.Kind, timeout.Float)
	fmt.Println("TOKEN used as variable:", m.Lookup("TOKEN").UsedAsVariable)
	// Output:
	// s3cr3t from $TOKEN at 4:10
	// float 2.5
	// TOKEN used as variable: true
}

func ExampleFormat() {
	m, err := confparse.Parse([]byte(`
VAR = 10
a { b: [1, 2, 3], c: $VAR, "key with space": yes }
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	os.Stdout.Write(confparse.Format(m))
	// Output:
	// VAR: 10
	// a {
	//   b [1, 2, 3]
	//   c: 10
	//   "key with space": true
	// }
}

func ExampleOptions_readFile() {
	files := map[string]string{
		"main.conf":  "include users.conf\nport: 4222\n",
		"users.conf": "users: [{user: a}]\n",
	}
	read := func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, os.ErrNotExist
	}
	m, err := confparse.ParseFileWithOptions("main.conf", confparse.Options{ReadFile: read})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range m.Entries {
		fmt.Println(e.Key, "at", e.KeyPos)
	}
	// Output:
	// users at users.conf:1:1
	// port at main.conf:2:1
}

func ExampleOptions_pedantic() {
	conf := []byte(`
LIMIT: 100
port: 4222
Port: 4223
max_connections: $LIMIT
`)
	_, err := confparse.ParseWithOptions("p.conf", conf, confparse.Options{Pedantic: true})
	fmt.Println(err)
	fmt.Println(errors.Is(err, confparse.ErrDuplicateKey))

	// Without pedantic mode both keys are kept as written; Get returns the
	// last, and LIMIT is marked so option processing does not flag it as
	// an unknown option.
	m, _ := confparse.Parse(conf)
	port, _ := m.Get("port")
	fmt.Println(port.Int, m.Lookup("LIMIT").UsedAsVariable)
	// Output:
	// p.conf:4:1: key "Port" duplicates "port" defined at p.conf:3:1 (keys are case-insensitive)
	// true
	// 4223 true
}
