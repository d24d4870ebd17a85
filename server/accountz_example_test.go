package server_test

import (
	"context"
	"fmt"

	"natsd.dev/server"
	"natsd.dev/server/snapshot"
)

// An account's details as /accountz?acc=B shows them: its imports (with
// the system imports every account gets) and its subscriptions, which
// count the service imports as upstream's do.
func ExampleServer_Accountz() {
	s, err := server.New(server.Options{
		Host: "127.0.0.1", Port: server.RandomPort,
		Accounts: []string{"A", "B"},
		Exports:  []server.Export{{Account: "A", Subject: "svc.>", Service: true}},
		Imports:  []server.Import{{Account: "B", From: "A", Subject: "svc.>", Service: true, To: "asvc.>"}},
		// No system account: no system imports.
		NoSystemAccount: true,
	})
	if err != nil {
		panic(err)
	}
	if err := s.Start(); err != nil {
		panic(err)
	}
	defer s.Shutdown(context.Background())

	az, err := s.Accountz(&snapshot.AccountzOptions{Account: "B"})
	if err != nil {
		panic(err)
	}
	b := az.Account
	for _, im := range b.Imports {
		fmt.Println(im.Type, im.Account, im.Subject, "as", im.LocalSubject)
	}
	fmt.Println("subscriptions:", b.SubCnt)
	// Output:
	// service A svc.> as asvc.>
	// subscriptions: 1
}
