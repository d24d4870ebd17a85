package leaf_test

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"natsd.dev/cluster/leaf"
	"natsd.dev/server"
)

// A hub with a leaf node listener and a leaf server that connects to it.
func ExampleStart() {
	start := func() *server.Server {
		s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
		if err != nil {
			panic(err)
		}
		if err := s.Start(); err != nil {
			panic(err)
		}
		return s
	}
	hubSrv, leafSrv := start(), start()
	hub, err := leaf.Start(hubSrv, &leaf.Options{Host: "127.0.0.1", Port: leaf.RandomPort})
	if err != nil {
		panic(err)
	}
	edge, err := leaf.Start(leafSrv, &leaf.Options{Remotes: []*leaf.Remote{{
		URLs: []*url.URL{{Scheme: "nats-leaf", Host: hub.Addr().String()}},
	}}})
	if err != nil {
		panic(err)
	}
	for deadline := time.Now().Add(5 * time.Second); edge.NumConnections() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println("hub:", hub.NumConnections(), "leaf:", edge.NumConnections())
	_ = edge.Shutdown(context.Background())
	_ = hub.Shutdown(context.Background())
	_ = leafSrv.Shutdown(context.Background())
	_ = hubSrv.Shutdown(context.Background())
	// Output: hub: 1 leaf: 1
}
