package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"

	"natsd.dev/server"
)

// A module that runs links registers a listener for interest changes;
// each event says where the interest came from.
func ExampleServer_AddInterestListener() {
	s, _ := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	s.Start()
	defer s.Shutdown(context.Background())

	var mu sync.Mutex
	var seen []string
	remove := s.AddInterestListener(server.InterestFunc(func(ev server.InterestEvent) {
		mu.Lock()
		seen = append(seen, fmt.Sprintf("%v %s from a %v", ev.Added, ev.Subject, ev.Origin))
		mu.Unlock()
	}))
	defer remove()

	ic, _ := s.NewInternalClient("")
	sub, _ := ic.Subscribe("orders.>", "", func(*server.Msg) {})
	sub.Unsubscribe()
	ic.Close()

	mu.Lock()
	defer mu.Unlock()
	for _, line := range seen {
		fmt.Println(line)
	}
	// Output:
	// true orders.> from a in-process
	// false orders.> from a in-process
}

// A link kind creates each link with its kind, encoder, forwarding policy
// and close reasons; the peer's interest is then held by the core, and
// messages published here on a matching subject are written to the link.
func ExampleServer_NewLink() {
	s, _ := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	s.Start()
	defer s.Shutdown(context.Background())

	near, far := net.Pipe()
	l, _ := s.NewLink(near, server.LinkConfig{
		Kind:    server.ConnLeaf,
		Encoder: server.RouteEncoder{}, // a leaf kind brings its LMSG encoder
		Forward: server.DefaultForwardPolicy(server.ConnLeaf),
		Reasons: []string{"Loop Detected"},
		OnClose: func(r server.LinkCloseReason) {},
	})
	l.AddRemoteSub([]byte(server.GlobalAccountName), []byte("greet"), nil, 1)

	ic, _ := s.NewInternalClient("")
	defer ic.Close()
	ic.Publish("greet", "", nil, []byte("hi"))

	buf := make([]byte, 64)
	n, _ := far.Read(buf)
	fmt.Printf("%q\n", buf[:n])
	fmt.Println(l.Kind(), l.ReasonText(server.LinkKindReason))
	// Output:
	// "RMSG $G greet 2\r\nhi\r\n"
	// leaf Loop Detected
}

// The forwarding table: which origins' messages a link of each kind gets.
func ExampleDefaultForwardPolicy() {
	kinds := []server.ConnKind{server.ConnClient, server.ConnInProcess, server.ConnRoute, server.ConnGateway, server.ConnLeaf, server.ConnHub}
	for _, to := range kinds[2:5] {
		p := server.DefaultForwardPolicy(to)
		fmt.Printf("%-8s", to)
		for _, from := range kinds {
			fmt.Printf(" %v", p.Allows(from))
		}
		fmt.Println()
	}
	// Output:
	// route    true true false true true false
	// gateway  true true false false true false
	// leaf     true true true true true true
}

// A leaf node peer's cluster is the origin of its messages: over a route
// they go as LMSG with that origin (RouteEncoder is an OriginEncoder), and
// they never reach interest of that cluster, here a second connection
// from the same leaf cluster. A route's message from another leaf cluster
// (DeliverFrom) does (the links here all write with the default
// RouteEncoder, hence LMSG; a leaf kind brings its own encoder).
func ExampleLink_SetRemoteCluster() {
	s, _ := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	s.Start()
	defer s.Shutdown(context.Background())
	newLink := func(kind server.ConnKind) (*server.Link, net.Conn) {
		near, far := net.Pipe()
		l, _ := s.NewLink(near, server.LinkConfig{Kind: kind})
		return l, far
	}
	read := func(c net.Conn) string {
		buf := make([]byte, 128)
		n, _ := c.Read(buf)
		return string(buf[:n])
	}
	route, routeFar := newLink(server.ConnRoute)
	leafA, _ := newLink(server.ConnLeaf)
	leafB, leafBFar := newLink(server.ConnLeaf)
	leafA.SetRemoteCluster("spoke")
	leafB.SetRemoteCluster("spoke")
	g := []byte(server.GlobalAccountName)
	route.AddRemoteSub(g, []byte("orders"), nil, 1)
	leafB.AddRemoteSub(g, []byte("orders"), nil, 1)

	leafA.Deliver(g, []byte("orders"), nil, nil, -1, []byte("a"))
	leafA.EndBatch()
	fmt.Printf("%q\n", read(routeFar))
	route.DeliverFrom([]byte("other"), g, []byte("orders"), nil, nil, -1, []byte("b"))
	route.EndBatch()
	fmt.Printf("%q\n", read(leafBFar))
	// Output:
	// "LMSG spoke $G orders 0 1\r\na\r\n"
	// "LMSG other $G orders 0 1\r\nb\r\n"
}

// A link owner traces its own protocol only while the link says so: a
// Reload whose logger takes trace records turns it on for the links up.
func ExampleLink_Tracing() {
	s, _ := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort, Logger: slog.New(slog.DiscardHandler)})
	s.Start()
	defer s.Shutdown(context.Background())

	near, far := net.Pipe()
	defer far.Close()
	l, _ := s.NewLink(near, server.LinkConfig{Kind: server.ConnRoute, Encoder: server.RouteEncoder{}, Forward: server.DefaultForwardPolicy(server.ConnRoute)})
	fmt.Println(l.Tracing())

	o := s.Options()
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: server.LevelTrace}))
	s.Reload(o)
	fmt.Println(l.Tracing())
	// Output:
	// false
	// true
}
