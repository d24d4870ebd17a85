package server_test

import (
	"context"
	"fmt"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"natsd.dev/auth"
	"natsd.dev/server"
)

// A server in operator mode with the memory resolver: the account is
// built from its JWT when its first user connects with a user JWT.
func ExampleMemoryResolver() {
	opKP, _ := nkeys.CreateOperator()
	opPub, _ := opKP.PublicKey()
	opJWT, _ := jwt.NewOperatorClaims(opPub).Encode(opKP)
	op, _ := auth.DecodeOperator(opJWT)

	accKP, _ := nkeys.CreateAccount()
	accPub, _ := accKP.PublicKey()
	accJWT, _ := jwt.NewAccountClaims(accPub).Encode(opKP)

	s, err := server.New(server.Options{
		Port: server.RandomPort,
		Operator: &server.OperatorOptions{
			Operators: []*auth.Operator{op},
			Resolver:  server.NewMemoryResolver(map[string]string{accPub: accJWT}),
		},
	})
	if err != nil {
		panic(err)
	}
	if err := s.Start(); err != nil {
		panic(err)
	}
	defer s.Shutdown(context.Background())

	uKP, _ := nkeys.CreateUser()
	uPub, _ := uKP.PublicKey()
	uJWT, _ := jwt.NewUserClaims(uPub).Encode(accKP)
	uSeed, _ := uKP.Seed()
	nc, err := nats.Connect(s.ClientURL(), nats.UserJWTAndSeed(uJWT, string(uSeed)))
	if err != nil {
		panic(err)
	}
	defer nc.Close()
	fmt.Println(s.LookupAccount(accPub) != nil)
	// Output: true
}

// OnJWTAccount tells a module (JetStream) of every account the server
// builds from its JWT, with the JWT's JetStream limits by tier.
func ExampleServer_OnJWTAccount() {
	opKP, _ := nkeys.CreateOperator()
	opPub, _ := opKP.PublicKey()
	opJWT, _ := jwt.NewOperatorClaims(opPub).Encode(opKP)
	op, _ := auth.DecodeOperator(opJWT)

	accKP, _ := nkeys.CreateAccount()
	accPub, _ := accKP.PublicKey()
	ac := jwt.NewAccountClaims(accPub)
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: 1 << 20, DiskStorage: -1, Streams: 10, Consumer: -1}
	accJWT, _ := ac.Encode(opKP)

	s, err := server.New(server.Options{
		Port: server.RandomPort,
		Operator: &server.OperatorOptions{
			Operators: []*auth.Operator{op},
			Resolver:  server.NewMemoryResolver(map[string]string{accPub: accJWT}),
		},
	})
	if err != nil {
		panic(err)
	}
	if err := s.Start(); err != nil {
		panic(err)
	}
	defer s.Shutdown(context.Background())
	s.OnJWTAccount(func(account string, tiers map[string]server.AccountJetStreamLimits) {
		if account == accPub {
			fmt.Println(tiers[""].MaxMemory, tiers[""].MaxStreams)
		}
	})
	// The account is built, and the listener called, when it is first
	// needed.
	if _, err := s.ResolveAccount(accPub); err != nil {
		panic(err)
	}
	// Output: 1048576 10
}
