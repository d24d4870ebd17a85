package leaf_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"natsd.dev/cluster/leaf"
	"natsd.dev/server"
	"natsd.dev/websocket"
)

// A hub whose websocket port hands the leaf nodes upgraded on /leafnode
// to AcceptWebsocket (what the command's websocket listener does), and a
// leaf server with a ws:// remote asking for no masking.
func ExampleLeaf_AcceptWebsocket() {
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
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	wl, err := websocket.NewListener(inner, websocket.Config{
		AllowNoMasking: func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/leafnode") },
	})
	if err != nil {
		panic(err)
	}
	go func() {
		for {
			nc, err := wl.Accept()
			if err != nil {
				return
			}
			hub.AcceptWebsocket(nc)
		}
	}()
	edge, err := leaf.Start(leafSrv, &leaf.Options{Remotes: []*leaf.Remote{{
		URLs:        []*url.URL{{Scheme: "ws", Host: wl.Addr().String()}},
		WSNoMasking: true,
	}}})
	if err != nil {
		panic(err)
	}
	for deadline := time.Now().Add(5 * time.Second); (hub.NumConnections() == 0 || edge.NumConnections() == 0) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println("hub:", hub.NumConnections(), "leaf:", edge.NumConnections())
	_ = edge.Shutdown(context.Background())
	wl.Close()
	_ = hub.Shutdown(context.Background())
	_ = leafSrv.Shutdown(context.Background())
	_ = hubSrv.Shutdown(context.Background())
	// Output: hub: 1 leaf: 1
}
