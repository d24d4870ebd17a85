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

// A reload adds a remote to running leaf nodes and, later, disables it;
// Leafz lists the connection while it is up.
func ExampleLeaf_Reload() {
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
	edge, err := leaf.Start(leafSrv, &leaf.Options{})
	if err != nil {
		panic(err)
	}
	wait := func(n int) {
		for deadline := time.Now().Add(5 * time.Second); hub.NumConnections() != n && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
	}
	r := &leaf.Remote{URLs: []*url.URL{{Scheme: "nats-leaf", Host: hub.Addr().String()}}}
	changes, err := edge.Reload(&leaf.Options{Remotes: []*leaf.Remote{r}})
	fmt.Println(changes[0].Change, err)
	wait(1)
	fmt.Println("listed by the hub:", hub.Leafz(nil).NumLeafs)

	disabled := *r
	disabled.Disabled = true
	changes, _ = edge.Reload(&leaf.Options{Remotes: []*leaf.Remote{&disabled}})
	fmt.Println(changes[0].Change)
	wait(0)
	fmt.Println("listed by the hub:", hub.Leafz(nil).NumLeafs)

	_, err = edge.Reload(&leaf.Options{Host: "127.0.0.1", Port: leaf.RandomPort})
	fmt.Println(err)
	_ = edge.Shutdown(context.Background())
	_ = hub.Shutdown(context.Background())
	_ = leafSrv.Shutdown(context.Background())
	_ = hubSrv.Shutdown(context.Background())
	// Output:
	// added <nil>
	// listed by the hub: 1
	// disabled
	// listed by the hub: 0
	// config reload not supported for LeafNode: field "Host": old=, new=127.0.0.1
}

// BlockChanges names the keys of the leafnodes {} block itself that a
// reload applies, for the log.
func ExampleBlockChanges() {
	old := &leaf.Options{Port: 7422, Users: []leaf.User{{Username: "a", Password: "pa"}}}
	nu := &leaf.Options{Port: 7422, Users: []leaf.User{{Username: "b", Password: "pb"}},
		Compression: leaf.Compression{Mode: leaf.CompressionS2Best}}
	fmt.Println(leaf.CheckReload(old, nu))
	fmt.Println(leaf.BlockChanges(old, nu))
	// Output:
	// <nil>
	// [leafnodes authorization leafnodes compression = s2_best]
}
