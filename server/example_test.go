package server_test

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/server"
)

// A server on a free loopback port, used by a nats.go client.
func Example() {
	s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	if err != nil {
		panic(err)
	}
	if err := s.Start(); err != nil {
		panic(err)
	}
	defer s.Shutdown(context.Background())

	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		panic(err)
	}
	defer nc.Close()
	sub, _ := nc.SubscribeSync("greet.*")
	nc.Publish("greet.joe", []byte("hello"))
	m, err := sub.NextMsg(time.Second)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Subject, string(m.Data))
	// Output: greet.joe hello
}

// An in-process service answering requests from socket clients.
func ExampleInternalClient() {
	s, _ := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	s.Start()
	defer s.Shutdown(context.Background())

	ic, _ := s.NewInternalClient("")
	defer ic.Close()
	ic.Subscribe("time.now", "", func(m *server.Msg) {
		ic.Publish(string(m.Reply), "", nil, []byte("it is late"))
	})

	nc, _ := nats.Connect(s.ClientURL())
	defer nc.Close()
	resp, err := nc.Request("time.now", nil, time.Second)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(resp.Data))
	// Output: it is late
}
