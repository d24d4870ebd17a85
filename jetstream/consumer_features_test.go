package jetstream_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/server/servertest"
)

// nextMsg waits (bounded) for the next message of a sync subscription.
func nextMsg(t *testing.T, sub *nats.Subscription) *nats.Msg {
	t.Helper()
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func isStatus(m *nats.Msg, code string) bool {
	return len(m.Data) == 0 && m.Header.Get("Status") == code
}

// TestConsumerFlowControlStall drives a flow controlled push consumer with
// a raw subscription that does not answer: delivery stops at the window,
// heartbeats report the stall, and the answer resumes delivery.
func TestConsumerFlowControlStall(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, _ := njs.New(nc)
	c := ctx(t)
	if _, err := js.CreateStream(c, njs.StreamConfig{Name: "FC", Subjects: []string{"FC.>"}}); err != nil {
		t.Fatal(err)
	}
	const total = 1000
	for i := 0; i < total; i++ {
		js.PublishAsync(fmt.Sprintf("FC.%d", i), []byte("x"))
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-c.Done():
		t.Fatal("publish")
	}
	sub, err := nc.SubscribeSync("fc.deliver")
	if err != nil {
		t.Fatal(err)
	}
	_ = sub.SetPendingLimits(-1, -1)
	if _, err := js.CreateOrUpdateConsumer(c, "FC", njs.ConsumerConfig{Durable: "D", DeliverSubject: "fc.deliver", FlowControl: true,
		IdleHeartbeat: 200 * time.Millisecond, AckPolicy: njs.AckNonePolicy}); err != nil {
		t.Fatal(err)
	}
	data, fcs := 0, []string{}
	for data < 512 { // fcEvery + fcWindow messages, then the stall
		m := nextMsg(t, sub)
		switch {
		case isStatus(m, "100") && m.Header.Get("Description") == "FlowControl Request":
			if !strings.HasPrefix(m.Reply, "$JS.FC.FC.D.") {
				t.Fatalf("flow control reply %q", m.Reply)
			}
			fcs = append(fcs, m.Reply)
		case len(m.Data) > 0:
			data++
		}
	}
	if len(fcs) != 1 {
		t.Fatalf("flow control requests before the stall: %v", fcs)
	}
	// Stalled: the next thing is a heartbeat naming the request, not data.
	var stalled string
	for stalled == "" {
		m := nextMsg(t, sub)
		if len(m.Data) > 0 {
			data++
			if data > 256+512 {
				t.Fatalf("delivered %d messages past an unanswered request", data)
			}
			continue
		}
		if isStatus(m, "100") && m.Header.Get("Description") == "Idle Heartbeat" {
			stalled = m.Header.Get("Nats-Consumer-Stalled")
			if m.Header.Get("Nats-Last-Consumer") != fmt.Sprint(data) || m.Header.Get("Nats-Last-Stream") != fmt.Sprint(data) {
				t.Fatalf("heartbeat %v after %d messages", m.Header, data)
			}
		}
	}
	if stalled != fcs[0] {
		t.Fatalf("stalled %q, request %q", stalled, fcs[0])
	}
	if data != 256+512 {
		t.Fatalf("stalled after %d messages", data)
	}
	// Answering resumes; keep answering until everything arrived.
	_ = nc.Publish(stalled, nil)
	for data < total {
		m := nextMsg(t, sub)
		if len(m.Data) > 0 {
			data++
		} else if m.Reply != "" {
			_ = nc.Publish(m.Reply, nil)
		}
	}
}

// TestConsumerFlowControlLegacy runs nats.go's push subscription with flow
// control and heartbeats and a slow handler: everything arrives in order.
func TestConsumerFlowControlLegacy(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, _ := nc.JetStream(nats.PublishAsyncMaxPending(4096))
	if _, err := js.AddStream(&nats.StreamConfig{Name: "FL", Subjects: []string{"FL.>"}}); err != nil {
		t.Fatal(err)
	}
	const total = 1500
	for i := 0; i < total; i++ {
		if _, err := js.PublishAsync("FL.x", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(10 * time.Second):
		t.Fatal("publish")
	}
	spy := servertest.Connect(t, s)
	fcsub, _ := spy.SubscribeSync("$JS.FC.FL.>")
	_ = spy.Flush()
	done := make(chan struct{})
	next := 0
	bad := make(chan string, 1)
	sub, err := js.Subscribe("FL.x", func(m *nats.Msg) {
		if string(m.Data) != fmt.Sprint(next) {
			select {
			case bad <- fmt.Sprintf("got %s want %d", m.Data, next):
			default:
			}
		}
		next++
		if next%100 == 0 {
			time.Sleep(20 * time.Millisecond) // a slow subscriber
		}
		if next == total {
			close(done)
		}
	}, nats.Durable("FLD"), nats.EnableFlowControl(), nats.IdleHeartbeat(200*time.Millisecond), nats.AckNone())
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	select {
	case <-done:
	case e := <-bad:
		t.Fatal(e)
	case <-time.After(20 * time.Second):
		t.Fatalf("received %d of %d", next, total)
	}
	select {
	case e := <-bad:
		t.Fatal(e)
	default:
	}
	// The client answered flow control requests.
	if _, err := fcsub.NextMsg(5 * time.Second); err != nil {
		t.Fatal("no flow control answer:", err)
	}
}
