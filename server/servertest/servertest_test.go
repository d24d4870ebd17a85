package servertest_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

func TestStartConnectLogs(t *testing.T) {
	s, logs := servertest.StartWithLogs(t, server.Options{})
	nc := servertest.Connect(t, s)
	sub, err := nc.SubscribeSync("kit.test")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish("kit.test", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil || string(m.Data) != "hi" {
		t.Fatalf("got %v, %v", m, err)
	}
	logs.WaitFor(t, "Server is ready")
}

func TestWaitUntilFailsWhenConditionNeverHolds(t *testing.T) {
	ft := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		servertest.WaitUntilWithin(ft, 20*time.Millisecond, "never", func() bool { return false })
	}()
	<-done
	if !ft.failed {
		t.Fatal("WaitUntilWithin returned without failing")
	}
}

// fakeTB records a Fatalf and stops the goroutine the way testing.T does.
type fakeTB struct {
	testing.TB
	failed bool
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(string, ...any) {
	f.failed = true
	runtime.Goexit()
}

func TestStartConfig(t *testing.T) {
	s := servertest.StartConfig(t, "authorization { user: u, password: p }\nmax_payload: 2048\n")
	nc := servertest.Connect(t, s, nats.UserInfo("u", "p"))
	if got := nc.MaxPayload(); got != 2048 {
		t.Fatalf("max payload %d", got)
	}
}
