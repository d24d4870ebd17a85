package memstore_test

import (
	"fmt"

	"natsd.dev/jetstream/store"
	"natsd.dev/jetstream/store/memstore"
)

// A memory store keeps the last message per subject for a KV-style bucket
// and finds it without scanning other subjects.
func ExampleNew() {
	s, err := memstore.New(store.Config{Name: "KV_config", MaxMsgsPerSubject: 1})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	for _, kv := range [][2]string{{"$KV.config.a", "1"}, {"$KV.config.b", "2"}, {"$KV.config.a", "3"}} {
		if _, err := s.StoreMsg(kv[0], nil, []byte(kv[1]), 0, 0); err != nil {
			panic(err)
		}
	}
	var m store.StoredMsg
	if err := s.LoadLastMsg("$KV.config.a", &m); err != nil {
		panic(err)
	}
	st := s.State()
	fmt.Printf("%s=%s seq=%d msgs=%d\n", m.Subject, m.Data, m.Seq, st.Msgs)
	// Output: $KV.config.a=3 seq=3 msgs=2
}
