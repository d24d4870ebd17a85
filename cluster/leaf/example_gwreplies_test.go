package leaf_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"natsd.dev/cluster/leaf"
	"natsd.dev/server"
)

// A server with gateways sets GatewayReplies: its leaf nodes hear of
// interest in every gateway reply, "_GR_.>", as upstream tells them.
func ExampleOptions_gatewayReplies() {
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
	defer hubSrv.Shutdown(context.Background())
	defer leafSrv.Shutdown(context.Background())
	hub, err := leaf.Start(hubSrv, &leaf.Options{Host: "127.0.0.1", Port: leaf.RandomPort, GatewayReplies: true})
	if err != nil {
		panic(err)
	}
	defer hub.Close()

	got := make(chan string, 1)
	unlisten := leafSrv.AddInterestListener(server.InterestFunc(func(ev server.InterestEvent) {
		if ev.Added && strings.HasPrefix(ev.Subject, "_GR_.") {
			select {
			case got <- ev.Subject:
			default:
			}
		}
	}))
	defer unlisten()
	edge, err := leaf.Start(leafSrv, &leaf.Options{Remotes: []*leaf.Remote{{
		URLs: []*url.URL{{Scheme: "nats-leaf", Host: hub.Addr().String()}},
	}}})
	if err != nil {
		panic(err)
	}
	defer edge.Close()
	select {
	case s := <-got:
		fmt.Println("the hub's interest:", s)
	case <-time.After(5 * time.Second):
		fmt.Println("none")
	}
	// Output: the hub's interest: _GR_.>
}
