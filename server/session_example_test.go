package server_test

import (
	"context"
	"fmt"

	"natsd.dev/server"
)

// An in-process consumer attaches as a session bound to an account,
// subscribes with a handler that runs on the session's goroutine, and
// publishes without a socket.
func ExampleServer_Attach() {
	s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	if err != nil {
		panic(err)
	}
	defer s.Shutdown(context.Background())

	capture, err := s.Attach(server.SessionOptions{Kind: server.SessionJetStream, Name: "capture", Account: server.GlobalAccountName})
	if err != nil {
		panic(err)
	}
	defer capture.Close()
	got := make(chan string, 1)
	// The handler's Msg is a view into the session's queue: copy to keep.
	if _, err := capture.Subscribe("orders.>", "", func(m *server.Msg) { got <- string(m.Subject) + " " + string(m.Data) }); err != nil {
		panic(err)
	}

	front, err := s.Attach(server.SessionOptions{Type: "mqtt", MQTTClient: "sensor-1"})
	if err != nil {
		panic(err)
	}
	defer front.Close()
	// ErrQueueFull here would mean the capture session could not keep up.
	if err := front.Publish("orders.new", "", nil, []byte("42")); err != nil {
		panic(err)
	}
	fmt.Println(<-got)
	// Output: orders.new 42
}

// A subscription whose handler must see every message it was given (it
// acknowledges each, say) drains: what was queued before still reaches the
// handler, nothing new is queued.
func ExampleSessionSub_Drain() {
	s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	if err != nil {
		panic(err)
	}
	defer s.Shutdown(context.Background())
	sess, err := s.Attach(server.SessionOptions{})
	if err != nil {
		panic(err)
	}
	defer sess.Close()
	got := make(chan string, 3)
	sub, err := sess.Subscribe("jobs", "", func(m *server.Msg) { got <- string(m.Data) })
	if err != nil {
		panic(err)
	}
	_ = sess.Publish("jobs", "", nil, []byte("a"))
	_ = sess.Publish("jobs", "", nil, []byte("b"))
	_ = sub.Drain()
	_ = sess.Publish("jobs", "", nil, []byte("c")) // after the drain: not delivered
	fmt.Println(<-got, <-got)
	// Output: a b
}
