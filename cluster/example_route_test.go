package cluster_test

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"natsd.dev/cluster"
	"natsd.dev/server"
)

// Two servers form a cluster: the second points at the first.
func ExampleStart() {
	start := func(routes ...*url.URL) (*server.Server, *cluster.Cluster) {
		s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
		if err != nil {
			panic(err)
		}
		if err := s.Start(); err != nil {
			panic(err)
		}
		c, err := cluster.Start(s, &cluster.Options{Name: "example", Host: "127.0.0.1", Routes: routes})
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
	c2.Shutdown()
	c1.Shutdown()
	s2.Shutdown(context.Background())
	s1.Shutdown(context.Background())
	// Output: peers: 1 cluster: example
}
