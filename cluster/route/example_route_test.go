package route_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"time"

	"natsd.dev/cluster/route"
	"natsd.dev/server"
)

// Two servers form a cluster: the second points at the first.
func ExampleStart() {
	start := func(routes ...*url.URL) (*server.Server, *route.Cluster) {
		s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
		if err != nil {
			panic(err)
		}
		if err := s.Start(); err != nil {
			panic(err)
		}
		c, err := route.Start(s, &route.Options{Name: "example", Host: "127.0.0.1", Routes: routes})
		if err != nil {
			panic(err)
		}
		return s, c
	}
	s1, c1 := start()
	s2, c2 := start(&url.URL{Scheme: "nats-route", Host: c1.Addr().String()})
	for deadline := time.Now().Add(5 * time.Second); c1.NumRoutes() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println("peers:", c1.NumRoutes(), "cluster:", c2.Name())
	_ = c2.Shutdown(context.Background())
	_ = c1.Shutdown(context.Background())
	s2.Shutdown(context.Background())
	s1.Shutdown(context.Background())
	// Output: peers: 1 cluster: example
}

// A cluster started without a listener serves route connections on one
// the caller made (here plain TCP; a test may wrap it to inject faults).
func ExampleCluster_Serve() {
	s, _ := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	s.Start()
	defer s.Shutdown(context.Background())
	c, err := route.Start(s, &route.Options{Name: "example", Port: -1})
	if err != nil {
		panic(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	served := make(chan error, 1)
	go func() { served <- c.Serve(ln) }()

	s2, _ := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	s2.Start()
	defer s2.Shutdown(context.Background())
	c2, _ := route.Start(s2, &route.Options{Name: "example", Port: -1, Routes: []*url.URL{{Scheme: "nats-route", Host: ln.Addr().String()}}})
	for deadline := time.Now().Add(5 * time.Second); c.NumRoutes() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println("peers:", c.NumRoutes())
	_ = c2.Shutdown(context.Background())
	_ = c.Shutdown(context.Background())
	fmt.Println("Serve:", <-served)
	// Output:
	// peers: 1
	// Serve: cluster: closed
}
