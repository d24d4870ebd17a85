package filestore_test

import (
	"context"
	"fmt"
	"os"

	"natsd.dev/jetstream/store"
	"natsd.dev/jetstream/store/filestore"
)

// A publish is acknowledged once its sequence is durable: WaitDurable
// returns after the group commit that covers it.
func Example() {
	dir, _ := os.MkdirTemp("", "filestore-example-")
	defer os.RemoveAll(dir)

	s, err := filestore.Open(filestore.Config{Dir: dir}, store.Config{Name: "ORDERS", MaxMsgsPerSubject: 10})
	if err != nil {
		panic(err)
	}
	seq, _ := s.StoreMsg("orders.new", nil, []byte(`{"id":1}`), 0, 0)
	if err := s.WaitDurable(context.Background(), seq); err != nil {
		panic(err)
	}
	s.Close()

	// After a restart (or a crash) the message is there.
	s, _ = filestore.Open(filestore.Config{Dir: dir}, store.Config{Name: "ORDERS"})
	defer s.Close()
	var m store.StoredMsg
	s.LoadLastMsg("orders.new", &m)
	fmt.Println(m.Seq, m.Subject, string(m.Data), s.RecoveryReport().Err())
	// Output: 1 orders.new {"id":1} <nil>
}
