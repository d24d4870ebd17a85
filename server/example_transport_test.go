package server_test

import (
	"context"
	"fmt"
	"net"

	"github.com/nats-io/nats.go"

	"natsd.dev/server"
	"natsd.dev/server/snapshot"
)

// kindConn is a connection of a transport module: it says what it is.
type kindConn struct{ net.Conn }

func (kindConn) Transport() string { return server.TransportWebsocket }

// kindListener wraps each accepted connection.
type kindListener struct{ net.Listener }

func (l kindListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return kindConn{nc}, nil
}

// A transport module hands its connections to the core as net.Conns; the
// optional TransportConn interface says what kind they are.
func ExampleServer_ServeWebsocket() {
	s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	if err != nil {
		panic(err)
	}
	if err := s.Start(); err != nil {
		panic(err)
	}
	defer s.Shutdown(context.Background())

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	if err := s.ServeWebsocket(kindListener{ln}, server.WebsocketInfo{ConnectURLs: []string{"ws.example.com:443"}}); err != nil {
		panic(err)
	}
	nc, err := nats.Connect("nats://"+ln.Addr().String(), nats.Name("browser"))
	if err != nil {
		panic(err)
	}
	defer nc.Close()
	nc.Flush()

	cz, _ := s.Connz(&snapshot.ConnzOptions{})
	v, _ := s.Varz(nil)
	fmt.Println(cz.Conns[0].Name, cz.Conns[0].Type, v.WSConnectURLs)
	// Output: browser websocket [ws.example.com:443]
}
