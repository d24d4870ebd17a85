package server_test

import (
	"context"
	"fmt"

	"natsd.dev/server"
)

// A JetStream-like deliverer hands a run of stored messages to one inbox
// through a Batch: one match of the inbox, one wake-up of the receiver.
func ExampleSession_NewBatch() {
	s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	if err != nil {
		panic(err)
	}
	defer s.Shutdown(context.Background())

	inbox, err := s.Attach(server.SessionOptions{Account: server.GlobalAccountName})
	if err != nil {
		panic(err)
	}
	defer inbox.Close()
	got := make(chan string, 3)
	if _, err := inbox.Subscribe("_INBOX.x", "", func(m *server.Msg) {
		got <- string(m.Subject) + " " + string(m.Reply) + " " + string(m.Data)
	}); err != nil {
		panic(err)
	}

	consumer, err := s.Attach(server.SessionOptions{Kind: server.SessionJetStream, Account: server.GlobalAccountName})
	if err != nil {
		panic(err)
	}
	defer consumer.Close()
	b := consumer.NewBatch()
	for i, data := range []string{"a", "b", "c"} {
		reply := fmt.Sprintf("$JS.ACK.S.C.1.%d", i+1)
		// Presented under the stored subject, sent to the inbox.
		if err := b.PublishAs("_INBOX.x", []byte("orders.new"), []byte(reply), -1, []byte(data)); err != nil {
			panic(err)
		}
	}
	b.Flush()
	for range 3 {
		fmt.Println(<-got)
	}
	// Output:
	// orders.new $JS.ACK.S.C.1.1 a
	// orders.new $JS.ACK.S.C.1.2 b
	// orders.new $JS.ACK.S.C.1.3 c
}
