package server_test

import (
	"context"
	"errors"
	"fmt"

	"natsd.dev/auth"
	"natsd.dev/server"
)

// A leaf node kind checks a leaf node's CONNECT against the server's
// users: the user's account is the one the connection binds to.
func ExampleServer_AuthenticateLeaf() {
	s, err := server.New(server.Options{
		Host: "127.0.0.1", Port: server.RandomPort,
		Accounts:      []string{"EDGE"},
		Authorization: &auth.Config{Users: []auth.User{{Name: "leaf", Password: "pw", Account: "EDGE"}}},
	})
	if err != nil {
		panic(err)
	}
	if err := s.Start(); err != nil {
		panic(err)
	}
	defer s.Shutdown(context.Background())
	acc, err := s.AuthenticateLeaf(server.LeafCredentials{User: "leaf", Password: "pw"})
	fmt.Println(acc, err, s.LeafAuthRequired())
	_, err = s.AuthenticateLeaf(server.LeafCredentials{User: "leaf", Password: "wrong"})
	fmt.Println(errors.Is(err, server.ErrLeafAuth))
	// Output:
	// EDGE <nil> true
	// true
}
