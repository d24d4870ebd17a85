package servertest_test

import (
	"testing"

	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

func TestExpectNoMsg(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	sub := servertest.Connect(t, s)
	pub := servertest.Connect(t, s)
	ss, err := sub.SubscribeSync("only.this")
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.Flush(); err != nil {
		t.Fatal(err)
	}
	pub.Publish("not.this", []byte("x"))
	servertest.ExpectNoMsg(t, ss, pub, sub)

	// A message that did arrive is caught at once.
	pub.Publish("only.this", []byte("y"))
	ft := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		servertest.ExpectNoMsg(ft, ss, pub, sub)
	}()
	<-done
	if !ft.failed {
		t.Fatal("ExpectNoMsg missed a delivered message")
	}
	pub.Publish("only.this", []byte("z"))
	if m := servertest.NextMsg(t, ss); string(m.Data) != "z" {
		t.Fatalf("got %q", m.Data)
	}
}

func TestClosedReason(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	servertest.Connect(t, s).Close()
	if got := servertest.ClosedReason(t, s); got != "Client Closed" {
		t.Fatalf("reason %q", got)
	}
	servertest.Connect(t, s).Close()
	servertest.WaitUntil(t, "two closed", func() bool { return servertest.ClosedCount(t, s, "Client Closed") == 2 })
}

func TestPublishUntil(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	pub, subc := servertest.Connect(t, s), servertest.Connect(t, s)
	sub, err := subc.SubscribeSync("late")
	if err != nil {
		t.Fatal(err)
	}
	servertest.PublishUntil(t, pub, "late", []byte("marker"), sub)
}
