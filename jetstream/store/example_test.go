package store_test

import (
	"errors"
	"fmt"

	"natsd.dev/jetstream/store"
	"natsd.dev/jetstream/store/memstore"
)

// A consumer-style walk over the messages matching a filter, reusing one
// StoredMsg so that the loop does not allocate.
func Example() {
	s, err := memstore.New(store.Config{Name: "ORDERS", MaxMsgsPerSubject: 2})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	for _, subj := range []string{"orders.eu", "orders.us", "orders.eu", "audit", "orders.eu"} {
		if _, err := s.StoreMsg(subj, nil, []byte("payload of "+subj), 0, 0); err != nil {
			panic(err)
		}
	}

	var m store.StoredMsg
	for start := uint64(1); ; start = m.Seq + 1 {
		err := s.LoadNextMsg("orders.*", start, &m)
		if errors.Is(err, store.ErrMsgNotFound) {
			break // caught up: wait for new messages, retry from start
		}
		if err != nil {
			panic(err)
		}
		fmt.Println(m.Seq, m.Subject, string(m.Data))
	}
	st := s.State()
	fmt.Printf("msgs=%d first=%d last=%d subjects=%d deleted=%d\n",
		st.Msgs, st.FirstSeq, st.LastSeq, st.NumSubjects, st.NumDeleted)
	// Output:
	// 2 orders.us payload of orders.us
	// 3 orders.eu payload of orders.eu
	// 5 orders.eu payload of orders.eu
	// msgs=4 first=2 last=5 subjects=3 deleted=0
}

// Acknowledging a publish only once its message is durable. The memory
// store reports every message durable before StoreMsg returns; a file store
// with group commit reports batches later, from its own goroutine.
func ExampleConfig_onDurable() {
	durable := make(chan uint64, 16)
	s, err := memstore.New(store.Config{
		OnDurable: func(seq uint64) { durable <- seq },
	})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	seq, _ := s.StoreMsg("events", nil, []byte("e1"), 0, 0)
	if d, ok := store.StreamStore(s).(store.Durable); ok {
		_ = d // a persistent store: d.WaitDurable(ctx, seq) also works
	}
	for upTo := range durable {
		if upTo >= seq {
			fmt.Println("ack", seq)
			break
		}
	}
	// Output: ack 1
}

// Limits remove old messages by themselves and say so.
func ExampleConfig_onRemove() {
	s, _ := memstore.New(store.Config{
		MaxMsgs: 2,
		OnRemove: func(seq uint64, subj string, why store.RemoveReason) {
			fmt.Println("removed", seq, subj, why)
		},
	})
	defer s.Close()
	for _, subj := range []string{"a", "b", "c"} {
		s.StoreMsg(subj, nil, nil, 0, 0)
	}
	// Output: removed 1 a MaxMsgs
}

// Errors are sentinels; a discard-new store refuses rather than removes.
func ExampleErrMaxMsgs() {
	s, _ := memstore.New(store.Config{MaxMsgs: 1, Discard: store.DiscardNew})
	defer s.Close()
	s.StoreMsg("a", nil, nil, 0, 0)
	_, err := s.StoreMsg("a", nil, nil, 0, 0)
	fmt.Println(errors.Is(err, store.ErrMaxMsgs))
	// Output: true
}
