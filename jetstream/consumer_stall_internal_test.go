package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// stallState is what a consumer holds of its pull requests and
// deliveries.
type stallState struct {
	waiting int
	dseq    uint64
	npend   int
	report  string
}

// stallState describes the consumer's delivery state: what a test that
// saw a pull consumer stop delivering checks and prints.
func (c *consumer) stallState() stallState {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	now := time.Now()
	fmt.Fprintf(&b, "next=%d dseq=%d dsseq=%d npend=%d max_ack_pending=%d rdq=%d scanAt=%v closed=%v floor=%+v\n",
		c.next, c.dseq, c.dsseq, c.npend, c.cfg.MaxAckPending, len(c.rdq),
		time.Duration(c.scanAt-now.UnixNano()), c.closed, c.floor)
	st := c.se.State()
	fmt.Fprintf(&b, "stream first=%d last=%d msgs=%d\n", st.FirstSeq, st.LastSeq, st.Msgs)
	fmt.Fprintf(&b, "waiting=%d\n", len(c.waiting))
	for i, r := range c.waiting {
		interest := c.sacc != nil && c.sacc.HasInterest(r.reply)
		fmt.Fprintf(&b, "  [%d] reply=%s batch=%d sent=%d maxBytes=%d hb=%v last send %v ago, expires in %v, interest=%v\n",
			i, r.reply, r.batch, r.sent, r.maxBytes, r.hb, now.Sub(r.lastSend), r.expires.Sub(now), interest)
	}
	return stallState{waiting: len(c.waiting), dseq: c.dseq, npend: c.npend, report: b.String()}
}

// lookupConsumer returns the consumer of the global account's stream.
func lookupConsumer(js *JetStream, stream, name string) *consumer {
	a := js.account("$G")
	if a == nil {
		return nil
	}
	a.mu.Lock()
	se := a.streams[stream]
	a.mu.Unlock()
	if se == nil {
		return nil
	}
	return se.cons.get(name)
}

// TestPullConsumeNoServerStall drains a stream through nats.go's pull
// iterator (Messages), with and without acks and with batches small and
// large (many pull requests), for 10s (3s with -short), with heartbeats every
// second so that a stall shows within two.
//
// nats.go (v1.55.0 and v1.56.0) loses a wake-up of its own: its iterator
// skips the next pull request while the previous one is still being sent
// (fetchInProgress) and looks again only when a message comes, so when the
// server delivers all of that request meanwhile it sends no more requests
// and Next fails with ErrNoHeartbeat; upstream nats-server 2.15.2 does
// exactly the same under the same load (no waiting pull, nothing pending).
// The test tells that case from a server stall by what the server got: a
// stall is the server's when it holds a request (it owes messages or idle
// heartbeats), delivered fewer messages than it was asked for, or sent
// some the client never got. Such a failure prints the consumer's state.
func TestPullConsumeNoServerStall(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	js, err := Start(s, Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = js.Shutdown(context.Background()) })
	nc := servertest.Connect(t, s)
	cl, err := njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := cl.CreateStream(c, njs.StreamConfig{Name: "B", Subjects: []string{"b"}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 30_000
	data := make([]byte, 128)
	for i := 0; i < n; i++ {
		for {
			if _, err := cl.PublishAsync("b", data); err == nil {
				break
			}
			select {
			case <-cl.PublishAsyncComplete():
			case <-time.After(5 * time.Second):
				t.Fatal("publish stalled")
			}
		}
	}
	select {
	case <-cl.PublishAsyncComplete():
	case <-time.After(10 * time.Second):
		t.Fatal("publish acks stalled")
	}
	// Every pull request the client sends, as another connection sees it.
	var asked atomic.Int64
	spy := servertest.Connect(t, s)
	if _, err := spy.Subscribe("$JS.API.CONSUMER.MSG.NEXT.B.*", func(m *nats.Msg) {
		var r struct {
			Batch int `json:"batch"`
		}
		if json.Unmarshal(m.Data, &r) == nil {
			asked.Add(int64(r.Batch))
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := spy.Flush(); err != nil {
		t.Fatal(err)
	}
	batches := []int{20, 63, 64, 65, 500}
	const perRound = 5000 // each round's consumer takes the first ones
	window := 10 * time.Second
	if testing.Short() {
		window = 3 * time.Second
	}
	deadline := time.Now().Add(window)
	clientMisses := 0
	rounds := 0
	for round := 0; time.Now().Before(deadline); round++ {
		rounds++
		name := fmt.Sprintf("C%d", round)
		ack := njs.AckExplicitPolicy
		if round%2 == 1 {
			ack = njs.AckNonePolicy
		}
		cons, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: name, AckPolicy: ack})
		if err != nil {
			t.Fatal(err)
		}
		co := lookupConsumer(js, "B", name)
		if co == nil {
			t.Fatal("consumer not found")
		}
		asked.Store(0)
		it, err := cons.Messages(njs.PullHeartbeat(time.Second), njs.PullMaxMessages(batches[round%len(batches)]))
		if err != nil {
			t.Fatal(err)
		}
		got := uint64(0)
		suspect := "" // the state at a first silence with a request waiting
		for got < perRound && time.Now().Before(deadline) {
			m, err := it.Next()
			if errors.Is(err, njs.ErrNoHeartbeat) {
				// Nothing for two heartbeats: whose stall is it?
				ss := co.stallState()
				switch {
				case ss.waiting == 0 && ss.dseq == uint64(asked.Load()) && ss.dseq == got:
					clientMisses++ // nats.go's: it did not ask again; the next Next does
					continue
				case ss.waiting > 0 && suspect == "" && ss.dseq == got:
					// It owes heartbeats: once may be a starved machine,
					// twice in a row (nats.go asked again meanwhile) is not.
					suspect = ss.report
					continue
				}
				it.Stop()
				t.Fatalf("round %d (ack %v, batch %d): server stalled after %d messages: asked for %d, delivered %d\n%s%s",
					round, ack, batches[round%len(batches)], got, asked.Load(), ss.dseq, suspect, ss.report)
			}
			if err != nil {
				t.Fatalf("round %d: message %d: %v", round, got, err)
			}
			got++
			suspect = ""
			if ack == njs.AckExplicitPolicy {
				_ = m.Ack()
			}
		}
		it.Stop()
	}
	t.Logf("%d rounds; nats.go missed a pull request %d time(s)", rounds, clientMisses)
}
