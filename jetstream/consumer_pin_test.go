package jetstream_test

// pinned_client priority groups (ADR-42) as upstream 2.15.2 runs them:
// when a pin ends, what a waiting or returning client holding the old id
// is told, and that a restart forgets the pin.

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/server/servertest"
)

// pinnedConsumer creates a pinned_client consumer C with group "jobs".
func pinnedConsumer(t *testing.T, st njs.Stream, ttl time.Duration) njs.Consumer {
	t.Helper()
	cons, err := st.CreateConsumer(ctx(t), njs.ConsumerConfig{Durable: "C", AckPolicy: njs.AckExplicitPolicy,
		PriorityPolicy: njs.PriorityPolicyPinned, PriorityGroups: []string{"jobs"}, PinnedTTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	return cons
}

// fetchPinned fetches one message of group "jobs" with nats.go and
// returns its Nats-Pin-Id.
func fetchPinned(t *testing.T, cons njs.Consumer) string {
	t.Helper()
	b, err := cons.Fetch(1, njs.FetchPriorityGroup("jobs"), njs.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	id := ""
	for m := range b.Messages() {
		id = m.Headers().Get("Nats-Pin-Id")
	}
	if id == "" || b.Error() != nil {
		t.Fatalf("no pinned message: id %q, %v", id, b.Error())
	}
	return id
}

func pinnedID(t *testing.T, cons njs.Consumer) string {
	t.Helper()
	ci, err := cons.Info(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(ci.PriorityGroups) != 1 || ci.PriorityGroups[0].Group != "jobs" {
		t.Fatalf("priority groups %+v", ci.PriorityGroups)
	}
	return ci.PriorityGroups[0].PinnedClientID
}

// A waiting request of the pinned client does not keep its pin: the pin
// ends priority_timeout after the client's last request, the standby is
// pinned with the next message and the waiting request learns its id is
// stale then.
func TestConsumerPinTimeoutIgnoresWaitingRequest(t *testing.T) {
	js, st, nc := consSetup(t, njs.StreamConfig{Name: "PT", Subjects: []string{"PT.>"}}, 1)
	cons := pinnedConsumer(t, st, time.Second)
	events, err := nc.SubscribeSync("$JS.EVENT.ADVISORY.CONSUMER.UNPINNED.PT.C")
	if err != nil {
		t.Fatal(err)
	}
	id := fetchPinned(t, cons)
	pinnedAt := time.Now()
	// The pinned client long-polls with its id (nothing to deliver), a
	// standby without one.
	a := pull(t, nc, "PT", "C", `{"batch":1,"group":"jobs","expires":20000000000,"id":"`+id+`"}`)
	b := pull(t, nc, "PT", "C", `{"batch":1,"group":"jobs","expires":20000000000}`)
	adv := nextMsg(t, events)
	if !strings.Contains(string(adv.Data), `"reason":"timeout"`) {
		t.Fatalf("unpinned advisory %s", adv.Data)
	}
	if d := time.Since(pinnedAt); d > 5*time.Second {
		t.Fatalf("pin ended after %v, priority_timeout is 1s", d)
	}
	ci, err := cons.Info(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if ci.NumWaiting != 2 || ci.PriorityGroups[0].PinnedClientID != "" {
		t.Fatalf("after the timeout: waiting %d, pinned %q", ci.NumWaiting, ci.PriorityGroups[0].PinnedClientID)
	}
	if _, err := js.Publish(ctx(t), "PT.x", []byte("next")); err != nil {
		t.Fatal(err)
	}
	m := nextMsg(t, b)
	id2 := m.Header.Get("Nats-Pin-Id")
	if string(m.Data) != "next" || id2 == "" || id2 == id {
		t.Fatalf("standby got %q pin %q (old %q)", m.Data, id2, id)
	}
	wantStatus(t, a, "423", "Nats-Wrong-Pin-Id")
	// Back with the old id while another client holds the pin: refused
	// on arrival.
	wantStatus(t, pull(t, nc, "PT", "C", `{"batch":1,"group":"jobs","expires":1000000000,"id":"`+id+`"}`), "423", "Nats-Pin-Id mismatch")
	if got := pinnedID(t, cons); got != id2 {
		t.Fatalf("pinned %q, want %q", got, id2)
	}
}

// After an UNPIN a request served under the old pin keeps waiting: it is
// told "423 Nats-Wrong-Pin-Id" only once a message could go out, and that
// message then waits for a client without a stale id.
func TestConsumerPinStaleRequestWaitsForMessage(t *testing.T) {
	js, st, nc := consSetup(t, njs.StreamConfig{Name: "PS", Subjects: []string{"PS.>"}}, 1)
	cons := pinnedConsumer(t, st, time.Minute)
	long := pull(t, nc, "PS", "C", `{"batch":5,"group":"jobs","expires":20000000000}`)
	m := nextMsg(t, long)
	id := m.Header.Get("Nats-Pin-Id")
	if id == "" {
		t.Fatalf("no pin: %v", m.Header)
	}
	if err := st.UnpinConsumer(ctx(t), "C", "jobs"); err != nil {
		t.Fatal(err)
	}
	// Nothing to deliver: a no_wait request with the stale id is answered
	// as any other (it does not get 423 before a message could go out).
	wantStatus(t, pull(t, nc, "PS", "C", `{"batch":1,"group":"jobs","no_wait":true,"id":"`+id+`"}`), "404", "No Messages")
	if _, err := js.Publish(ctx(t), "PS.x", []byte("next")); err != nil {
		t.Fatal(err)
	}
	// The long poll's first answer after the unpin is this 423, not an
	// earlier one.
	wantStatus(t, long, "423", "Nats-Wrong-Pin-Id")
	ci, err := cons.Info(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if ci.NumPending != 1 || ci.NumWaiting != 0 || ci.PriorityGroups[0].PinnedClientID != "" {
		t.Fatalf("after the stale request: pending %d waiting %d pinned %q", ci.NumPending, ci.NumWaiting, ci.PriorityGroups[0].PinnedClientID)
	}
	// nats.go: a fetch takes the message and the new pin; after another
	// UNPIN its next fetch carries the stale id, gets the 423, drops the
	// id and the fetch after is pinned anew.
	id2 := fetchPinned(t, cons)
	if id2 == id {
		t.Fatalf("pinned again with the old id %q", id2)
	}
	if err := st.UnpinConsumer(ctx(t), "C", "jobs"); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx(t), "PS.x", []byte("more")); err != nil {
		t.Fatal(err)
	}
	b, err := cons.Fetch(1, njs.FetchPriorityGroup("jobs"), njs.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for m := range b.Messages() {
		t.Fatalf("fetch with the stale pin got %q", m.Data())
	}
	if !errors.Is(b.Error(), njs.ErrPinIDMismatch) {
		t.Fatalf("fetch with the stale pin: %v", b.Error())
	}
	if id3 := fetchPinned(t, cons); id3 == id2 || id3 == id {
		t.Fatalf("pinned with an old id %q", id3)
	}
}

// With nobody pinned, a request carrying an id waits like any other and
// learns its id is stale when a message arrives; the message stays for a
// client without one.
func TestConsumerPinBogusIDWithNobodyPinned(t *testing.T) {
	js, st, nc := consSetup(t, njs.StreamConfig{Name: "PB", Subjects: []string{"PB.>"}}, 0)
	cons := pinnedConsumer(t, st, time.Minute)
	bogus := pull(t, nc, "PB", "C", `{"batch":1,"group":"jobs","expires":20000000000,"id":"bogus"}`)
	waitWaiting(t, cons, 1)
	if _, err := js.Publish(ctx(t), "PB.x", []byte("m")); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, bogus, "423", "Nats-Wrong-Pin-Id")
	m := nextMsg(t, pull(t, nc, "PB", "C", `{"batch":1,"group":"jobs","no_wait":true}`))
	if string(m.Data) != "m" || m.Header.Get("Nats-Pin-Id") == "" {
		t.Fatalf("client without id got %q %v", m.Data, m.Header)
	}
}

// waitWaiting polls (bounded) until the consumer has n waiting requests.
func waitWaiting(t *testing.T, cons njs.Consumer, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ci, err := cons.Info(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if ci.NumWaiting == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("num_waiting %d, want %d", ci.NumWaiting, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Upstream keeps pins in memory only: after a restart nobody is pinned,
// the next client is pinned anew and the old id is refused.
func TestConsumerPinForgottenOnRestart(t *testing.T) {
	dir := t.TempDir()
	s, jsd := startJS(t, jetstream.Options{StoreDir: dir})
	nc := servertest.Connect(t, s)
	js, err := njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.CreateStream(ctx(t), njs.StreamConfig{Name: "PR", Subjects: []string{"PR.>"}})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := js.Publish(ctx(t), "PR.x", nil); err != nil {
			t.Fatal(err)
		}
	}
	cons := pinnedConsumer(t, st, time.Minute)
	id := fetchPinned(t, cons)
	if got := pinnedID(t, cons); got != id {
		t.Fatalf("pinned %q, want %q", got, id)
	}
	nc.Close()
	if err := jsd.Shutdown(ctx(t)); err != nil {
		t.Fatal(err)
	}
	jsd2, err := jetstream.Start(s, jetstream.Options{StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = jsd2.Shutdown(ctx(t)) })
	nc = servertest.Connect(t, s)
	js, err = njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	cons, err = js.Consumer(ctx(t), "PR", "C")
	if err != nil {
		t.Fatal(err)
	}
	ci, err := cons.Info(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if ci.PriorityGroups[0].PinnedClientID != "" || ci.NumAckPending != 1 || ci.Delivered.Last != nil {
		t.Fatalf("after the restart: pinned %q, ack pending %d, last active %v", ci.PriorityGroups[0].PinnedClientID, ci.NumAckPending, ci.Delivered.Last)
	}
	id2 := fetchPinned(t, cons)
	if id2 == id {
		t.Fatalf("the restart kept pin %q", id)
	}
	wantStatus(t, pull(t, nc, "PR", "C", `{"batch":1,"group":"jobs","no_wait":true,"id":"`+id+`"}`), "423", "Nats-Pin-Id mismatch")
}

// Upstream 2.15.2 takes updates of priority_policy and priority_groups
// (ADR-42 meant to refuse them); the consumer then serves by the new
// policy, and a pin of the old configuration is gone.
func TestConsumerUpdatePriorityPolicy(t *testing.T) {
	_, st, nc := consSetup(t, njs.StreamConfig{Name: "PU", Subjects: []string{"PU.>"}}, 6)
	c := ctx(t)
	cfg := njs.ConsumerConfig{Durable: "C", AckPolicy: njs.AckExplicitPolicy,
		PriorityPolicy: njs.PriorityPolicyOverflow, PriorityGroups: []string{"jobs"}}
	cons, err := st.CreateConsumer(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.PriorityPolicy = njs.PriorityPolicyPinned
	if cons, err = st.UpdateConsumer(c, cfg); err != nil {
		t.Fatalf("overflow to pinned_client: %v", err)
	}
	if ci := cons.CachedInfo(); ci.Config.PriorityPolicy != njs.PriorityPolicyPinned || ci.Config.PinnedTTL != 2*time.Minute {
		t.Fatalf("updated config %+v", ci.Config)
	}
	fetchPinned(t, cons)
	cfg.PriorityGroups = []string{"other"}
	if cons, err = st.UpdateConsumer(c, cfg); err != nil {
		t.Fatalf("groups changed: %v", err)
	}
	if ci, _ := cons.Info(c); len(ci.PriorityGroups) != 1 || ci.PriorityGroups[0].Group != "other" || ci.PriorityGroups[0].PinnedClientID != "" {
		t.Fatalf("after the groups changed: %+v", ci.PriorityGroups)
	}
	wantStatus(t, pull(t, nc, "PU", "C", `{"batch":1,"no_wait":true,"group":"jobs"}`), "400", "Bad Request - Invalid Priority Group")
	cfg.PriorityPolicy, cfg.PriorityGroups, cfg.PinnedTTL = njs.PriorityPolicyNone, nil, 0
	if cons, err = st.UpdateConsumer(c, cfg); err != nil {
		t.Fatalf("pinned_client to none: %v", err)
	}
	m := nextMsg(t, pull(t, nc, "PU", "C", `{"batch":1,"no_wait":true}`))
	if len(m.Data) == 0 || m.Header.Get("Nats-Pin-Id") != "" {
		t.Fatalf("without a policy: %q %v", m.Data, m.Header)
	}
	if ci, _ := cons.Info(c); len(ci.PriorityGroups) != 0 {
		t.Fatalf("priority groups without a policy: %+v", ci.PriorityGroups)
	}
}

// What an update may not change, in upstream's words.
func TestConsumerUpdateRefusals(t *testing.T) {
	_, st, _ := consSetup(t, njs.StreamConfig{Name: "UR", Subjects: []string{"UR.>"}}, 0)
	c := ctx(t)
	pullCfg := njs.ConsumerConfig{Durable: "P", AckPolicy: njs.AckExplicitPolicy}
	if _, err := st.CreateConsumer(c, pullCfg); err != nil {
		t.Fatal(err)
	}
	pushCfg := njs.ConsumerConfig{Durable: "Q", AckPolicy: njs.AckExplicitPolicy, DeliverSubject: "ur.out"}
	if _, err := st.CreateConsumer(c, pushCfg); err != nil {
		t.Fatal(err)
	}
	refused := func(cfg njs.ConsumerConfig, desc string) {
		t.Helper()
		_, err := st.UpdateConsumer(c, cfg)
		var apiErr *njs.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode != 10012 || apiErr.Description != desc {
			t.Fatalf("update %+v: %v, want 10012 %q", cfg, err, desc)
		}
	}
	c1 := pullCfg
	c1.MemoryStorage = true
	refused(c1, "storage type can not be updated")
	c1 = pullCfg
	c1.DeliverSubject = "ur.push"
	refused(c1, "can not update pull consumer to push based")
	c1 = pullCfg
	c1.MaxWaiting = 10
	refused(c1, "max waiting can not be updated")
	c2 := pushCfg
	c2.DeliverSubject = ""
	refused(c2, "can not update push consumer to pull based")
	// A push consumer's deliver group may change.
	c2 = pushCfg
	c2.DeliverGroup = "workers"
	if _, err := st.UpdateConsumer(c, c2); err != nil {
		t.Fatalf("deliver group: %v", err)
	}
	// max_deliver as long as the backoff list is fine, shorter is not.
	c1 = pullCfg
	c1.BackOff, c1.MaxDeliver = []time.Duration{time.Second, 2 * time.Second}, 2
	if _, err := st.UpdateConsumer(c, c1); err != nil {
		t.Fatalf("backoff of max_deliver values: %v", err)
	}
	c1.MaxDeliver = 1
	var apiErr *njs.APIError
	if _, err := st.UpdateConsumer(c, c1); !errors.As(err, &apiErr) || apiErr.ErrorCode != 10116 {
		t.Fatalf("backoff longer than max_deliver: %v", err)
	}
}

// Failover with nats.go's Consume: the pinned client gets everything;
// once it stops, the standby is pinned priority_timeout later and gets
// what follows, under a new Nats-Pin-Id.
func TestConsumerPinFailoverConsume(t *testing.T) {
	js, st, _ := consSetup(t, njs.StreamConfig{Name: "PF", Subjects: []string{"PF.>"}}, 0)
	// The pinned client pulls again every second (each pull's expiry), well
	// within priority_timeout.
	cons := pinnedConsumer(t, st, 3*time.Second)
	type got struct {
		who  string
		data string
		pin  string
	}
	ch := make(chan got, 100)
	consume := func(who string) njs.ConsumeContext {
		// A handle of its own: nats.go keeps the pin id per handle.
		h, err := js.Consumer(ctx(t), "PF", "C")
		if err != nil {
			t.Fatal(err)
		}
		cc, err := h.Consume(func(m njs.Msg) {
			ch <- got{who, string(m.Data()), m.Headers().Get("Nats-Pin-Id")}
			_ = m.Ack()
		}, njs.PullPriorityGroup("jobs"), njs.PullExpiry(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return cc
	}
	a := consume("a")
	defer a.Stop()
	recv := func() got {
		t.Helper()
		select {
		case g := <-ch:
			return g
		case <-time.After(15 * time.Second):
			t.Fatal("no message")
		}
		return got{}
	}
	if _, err := js.Publish(ctx(t), "PF.x", []byte("1")); err != nil {
		t.Fatal(err)
	}
	first := recv()
	if first.who != "a" || first.pin == "" {
		t.Fatalf("first message %+v", first)
	}
	b := consume("b")
	defer b.Stop()
	waitWaiting(t, cons, 2)
	for i := 2; i <= 3; i++ {
		if _, err := js.Publish(ctx(t), "PF.x", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		if g := recv(); g.who != "a" || g.pin != first.pin {
			t.Fatalf("while a is pinned: %+v", g)
		}
	}
	a.Stop()
	<-a.Closed()
	stopped := time.Now()
	if _, err := js.Publish(ctx(t), "PF.x", []byte("4")); err != nil {
		t.Fatal(err)
	}
	g := recv()
	if g.who != "b" || g.data != "4" || g.pin == "" || g.pin == first.pin {
		t.Fatalf("after a stopped: %+v", g)
	}
	// Not before priority_timeout after a's last pull (at most a second
	// before it stopped).
	if d := time.Since(stopped); d > 10*time.Second || d < time.Second {
		t.Fatalf("failover took %v", d)
	}
}
