package jetstream_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// startJS starts a server with JetStream in a temporary directory.
func startJS(tb testing.TB, o jetstream.Options) (*server.Server, *jetstream.JetStream) {
	tb.Helper()
	s := servertest.Start(tb, server.Options{})
	if o.StoreDir == "" {
		o.StoreDir = tb.TempDir()
	}
	js, err := jetstream.Start(s, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = js.Shutdown(context.Background()) })
	return s, js
}

func ctx(tb testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	tb.Cleanup(cancel)
	return c
}

func TestStreamLifecycle(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, err := njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	c := ctx(t)
	st, err := js.CreateStream(c, njs.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		ack, err := js.Publish(c, "orders.new", []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		if ack.Stream != "ORDERS" || ack.Sequence != uint64(i+1) {
			t.Fatalf("ack %+v", ack)
		}
	}
	info, err := st.Info(c)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 10 || info.State.LastSeq != 10 {
		t.Fatalf("state %+v", info.State)
	}
	if _, err := js.CreateStream(c, njs.StreamConfig{Name: "OTHER", Subjects: []string{"orders.new"}}); err == nil {
		t.Fatal("overlap accepted")
	} else {
		var ae *njs.APIError
		if !errors.As(err, &ae) || ae.ErrorCode != 10065 {
			t.Fatalf("overlap error %v", err)
		}
	}
	// Dedupe.
	a1, err := js.Publish(c, "orders.x", []byte("1"), njs.WithMsgID("id-1"))
	if err != nil {
		t.Fatal(err)
	}
	a2, err := js.Publish(c, "orders.x", []byte("1"), njs.WithMsgID("id-1"))
	if err != nil {
		t.Fatal(err)
	}
	if !a2.Duplicate || a2.Sequence != a1.Sequence {
		t.Fatalf("dup %+v %+v", a1, a2)
	}
	// Expected last sequence.
	var ae *njs.APIError
	if _, err := js.Publish(c, "orders.x", nil, njs.WithExpectLastSequence(3)); !errors.As(err, &ae) || ae.ErrorCode != 10071 || ae.Description != "wrong last sequence: 11" {
		t.Fatalf("wrong last seq: %v", err)
	}
	m, err := st.GetMsg(c, 2)
	if err != nil || m.Subject != "orders.new" {
		t.Fatalf("get %v %v", m, err)
	}
	if err := st.DeleteMsg(c, 2); err != nil {
		t.Fatal(err)
	}
	if err := st.Purge(c); err != nil {
		t.Fatal(err)
	}
	names := js.StreamNames(c)
	var got []string
	for n := range names.Name() {
		got = append(got, n)
	}
	if len(got) != 1 || got[0] != "ORDERS" {
		t.Fatalf("names %v %v", got, names.Err())
	}
	if err := js.DeleteStream(c, "ORDERS"); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Stream(c, "ORDERS"); !errors.Is(err, njs.ErrStreamNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	ai, err := js.AccountInfo(c)
	if err != nil || ai.Streams != 0 {
		t.Fatalf("account info %+v %v", ai, err)
	}
}

func TestNoStreamNoResponders(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, _ := njs.New(nc)
	if _, err := js.Publish(ctx(t), "nothing.here", nil); !errors.Is(err, njs.ErrNoStreamResponse) {
		t.Fatalf("got %v", err)
	}
	_ = nats.ErrNoResponders
}
