package server_test

import (
	"context"
	"fmt"
	"net"

	"natsd.dev/server"
)

// A peer's interest in an account this server does not have is kept
// aside and registered when a reload adds the account.
func ExampleLink_NumParkedSubs() {
	s, _ := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	s.Start()
	defer s.Shutdown(context.Background())

	near, _ := net.Pipe()
	l, _ := s.NewLink(near, server.LinkConfig{Kind: server.ConnRoute})
	err := l.AddRemoteSub([]byte("ORDERS"), []byte("orders.>"), nil, 1)
	fmt.Println(err, l.NumParkedSubs(), l.NumRemoteSubs())

	_ = s.Reload(server.Options{Host: "127.0.0.1", Port: server.RandomPort, Accounts: []string{"ORDERS"}})
	fmt.Println(l.NumParkedSubs(), l.NumRemoteSubs(), s.LookupAccount("ORDERS").NumSubscriptions())
	// Output:
	// server: unknown account 1 0
	// 0 1 1
}

// A leaf node module checks that the peer may publish to the trace
// destination of a message it forwards.
func ExampleTraceDest() {
	for _, hdr := range []string{
		"NATS/1.0\r\nNats-Trace-Dest: trace.dest\r\n\r\n",
		"NATS/1.0\r\nNats-Trace-Dest: trace disabled\r\n\r\n",
		"NATS/1.0\r\nX-Other: 1\r\n\r\n",
	} {
		fmt.Println(server.TraceDest([]byte(hdr)))
	}
	// Output:
	// trace.dest true
	//  false
	//  false
}

// A route peer that names the origin cluster in LS- ("lnocu") has its
// leaf interest held per origin: two leaf clusters with interest in the
// same subject and queue are two interests, and one leaving keeps the
// other's.
func ExampleLink_AddRemoteSubByOrigin() {
	s, _ := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	s.Start()
	defer s.Shutdown(context.Background())

	near, _ := net.Pipe()
	l, _ := s.NewLink(near, server.LinkConfig{Kind: server.ConnRoute})
	acc := []byte(server.GlobalAccountName)
	_ = l.AddRemoteSubByOrigin([]byte("EDGE1"), acc, []byte("orders.new"), []byte("workers"), 1)
	_ = l.AddRemoteSubByOrigin([]byte("EDGE2"), acc, []byte("orders.new"), []byte("workers"), 1)
	fmt.Println(l.NumRemoteSubs())

	l.RemoveRemoteSubByOrigin([]byte("EDGE1"), acc, []byte("orders.new"), []byte("workers"))
	fmt.Println(l.NumRemoteSubs(), s.GlobalAccount().NumSubscriptions())
	// Output:
	// 2
	// 1 1
}
