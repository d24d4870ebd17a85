package jetstream_test

// CONSUMER.RESET as upstream 2.15.2 does it, on interest and work queue
// streams and for the deliver policies that restrict it.

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"
)

// fetchAck fetches up to n messages (no wait) and acks each (AckSync)
// when ack is set; it returns their stream sequences.
func fetchAck(t *testing.T, cons njs.Consumer, n int, ack bool) []uint64 {
	t.Helper()
	b, err := cons.FetchNoWait(n)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for m := range b.Messages() {
		md, err := m.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, md.Sequence.Stream)
		if ack {
			if err := m.DoubleAck(ctx(t)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := b.Error(); err != nil {
		t.Fatal(err)
	}
	return seqs
}

func resetTo(t *testing.T, st njs.Stream, cons string, seq uint64) *njs.ConsumerResetResponse {
	t.Helper()
	var r *njs.ConsumerResetResponse
	var err error
	if seq == 0 {
		r, err = st.ResetConsumer(ctx(t), cons)
	} else {
		r, err = st.ResetConsumerToSequence(ctx(t), cons, seq)
	}
	if err != nil {
		t.Fatalf("reset %s to %d: %v", cons, seq, err)
	}
	return r
}

// streamHas waits (bounded) until the stream holds exactly the messages
// first..last (count n).
func streamHas(t *testing.T, st njs.Stream, n, first uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		si, err := st.Info(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if si.State.Msgs == n && (n == 0 || si.State.FirstSeq == first) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream holds %d messages from %d, want %d from %d", si.State.Msgs, si.State.FirstSeq, n, first)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func publishN(t *testing.T, js njs.JetStream, subj string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := js.Publish(ctx(t), fmt.Sprintf("%s.%d", subj, i%3), []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
}

// On an interest stream a reset acknowledges everything below the new
// sequence: what no other consumer still wants goes at once, what
// another consumer wants goes once it acks; a reset back brings back only
// what is still there.
func TestConsumerResetInterest(t *testing.T) {
	js, st, _ := consSetup(t, njs.StreamConfig{Name: "RI", Subjects: []string{"RI.>"}, Retention: njs.InterestPolicy}, 0)
	c := ctx(t)
	a, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "A", AckPolicy: njs.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	publishN(t, js, "RI", 10)
	if got := fetchAck(t, a, 3, false); fmt.Sprint(got) != "[1 2 3]" {
		t.Fatalf("fetched %v", got)
	}
	r := resetTo(t, st, "A", 6)
	if r.ResetSeq != 6 || r.Delivered.Consumer != 0 || r.Delivered.Stream != 5 || r.AckFloor.Consumer != 0 || r.AckFloor.Stream != 5 ||
		r.NumAckPending != 0 || r.NumPending != 5 || r.Delivered.Last != nil {
		t.Fatalf("reset to 6: %+v", r.ConsumerInfo)
	}
	streamHas(t, st, 5, 6) // 1..5 (3 of them unacked) went
	if got := fetchAck(t, a, 2, true); fmt.Sprint(got) != "[6 7]" {
		t.Fatalf("after the reset %v", got)
	}
	streamHas(t, st, 3, 8)
	ci, err := a.Info(c)
	if err != nil {
		t.Fatal(err)
	}
	if ci.Delivered.Consumer != 2 || ci.AckFloor.Consumer != 2 || ci.AckFloor.Stream != 7 || ci.AckFloor.Last == nil {
		t.Fatalf("after acks: delivered %+v floor %+v", ci.Delivered, ci.AckFloor)
	}
	// Back to 2: only 8..10 are left to deliver.
	if r := resetTo(t, st, "A", 2); r.NumPending != 3 || r.AckFloor.Stream != 1 {
		t.Fatalf("reset to 2: %+v", r.ConsumerInfo)
	}
	if got := fetchAck(t, a, 10, false); fmt.Sprint(got) != "[8 9 10]" {
		t.Fatalf("after the reset back %v", got)
	}
	// Forward to the end, past the unacked 8..10: they go.
	resetTo(t, st, "A", 11)
	streamHas(t, st, 0, 0)
	// Past the end (last+1 is 13 below): upstream keeps what is stored.
	publishN(t, js, "RI", 2)
	streamHas(t, st, 2, 11)
	if r := resetTo(t, st, "A", 20); r.NumPending != 0 || r.AckFloor.Stream != 19 {
		t.Fatalf("reset past the end: %+v", r.ConsumerInfo)
	}
	si, err := st.Info(c)
	if err != nil {
		t.Fatal(err)
	}
	if si.State.Msgs != 2 {
		t.Fatalf("reset past the end removed messages: %+v", si.State)
	}
}

// With a second consumer on an interest stream, what it still wants
// stays; and a filtered consumer releases only its own subjects.
func TestConsumerResetInterestShared(t *testing.T) {
	js, st, _ := consSetup(t, njs.StreamConfig{Name: "RJ", Subjects: []string{"RJ.>"}, Retention: njs.InterestPolicy}, 0)
	c := ctx(t)
	a, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "A", AckPolicy: njs.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "B", AckPolicy: njs.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	f, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "F", AckPolicy: njs.AckExplicitPolicy, FilterSubject: "RJ.1"})
	if err != nil {
		t.Fatal(err)
	}
	publishN(t, js, "RJ", 9) // RJ.1 holds 2, 5, 8
	resetTo(t, st, "A", 6)
	streamHas(t, st, 9, 1)
	if got := fetchAck(t, b, 4, true); len(got) != 4 {
		t.Fatalf("B fetched %v", got)
	}
	// 1, 3, 4 went (A reset past them, B acked, F does not want them); 2
	// waits for F.
	streamHas(t, st, 6, 2)
	resetTo(t, st, "F", 6) // F releases 2 and 5; 5 is B's still
	streamHas(t, st, 5, 5)
	if got := fetchAck(t, b, 10, true); len(got) != 5 {
		t.Fatalf("B fetched %v", got)
	}
	// 5 went; 6..9 wait for A, 8 for F too.
	streamHas(t, st, 4, 6)
	// A reset back to 1 wants 6..9 again, B acked them: they stay.
	resetTo(t, st, "A", 1)
	if got := fetchAck(t, a, 10, true); fmt.Sprint(got) != "[6 7 8 9]" {
		t.Fatalf("A after the reset back %v", got)
	}
	streamHas(t, st, 1, 8) // F still wants 8
	if got := fetchAck(t, f, 10, true); fmt.Sprint(got) != "[8]" {
		t.Fatalf("F fetched %v", got)
	}
	streamHas(t, st, 0, 0)
}

// A work queue stream keeps what a reset skips (upstream removes work
// queue messages on acks only): a reset back delivers it again.
func TestConsumerResetWorkQueue(t *testing.T) {
	_, st, _ := consSetup(t, njs.StreamConfig{Name: "RW", Subjects: []string{"RW.>"}, Retention: njs.WorkQueuePolicy}, 10)
	a, err := st.CreateConsumer(ctx(t), njs.ConsumerConfig{Durable: "A", AckPolicy: njs.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	if got := fetchAck(t, a, 3, false); fmt.Sprint(got) != "[1 2 3]" {
		t.Fatalf("fetched %v", got)
	}
	if r := resetTo(t, st, "A", 6); r.NumPending != 5 || r.NumAckPending != 0 || r.Delivered.Consumer != 0 {
		t.Fatalf("reset to 6: %+v", r.ConsumerInfo)
	}
	if got := fetchAck(t, a, 10, true); fmt.Sprint(got) != "[6 7 8 9 10]" {
		t.Fatalf("after the reset %v", got)
	}
	streamHas(t, st, 5, 1)
	if r := resetTo(t, st, "A", 1); r.NumPending != 5 {
		t.Fatalf("reset to 1: %+v", r.ConsumerInfo)
	}
	if got := fetchAck(t, a, 10, true); fmt.Sprint(got) != "[1 2 3 4 5]" {
		t.Fatalf("after the reset back %v", got)
	}
	streamHas(t, st, 0, 0)
}

// A last_per_subject consumer starts below the first of its messages and
// a reset without a sequence brings them all back; resets to a sequence
// are refused where upstream refuses them, with its words.
func TestConsumerResetPolicies(t *testing.T) {
	js, st, nc := consSetup(t, njs.StreamConfig{Name: "RP", Subjects: []string{"RP.>"}}, 0)
	c := ctx(t)
	for _, s := range []string{"RP.a", "RP.b", "RP.a", "RP.c", "RP.a"} {
		if _, err := js.Publish(c, s, nil); err != nil {
			t.Fatal(err)
		}
	}
	lp, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "LP", AckPolicy: njs.AckExplicitPolicy, DeliverPolicy: njs.DeliverLastPerSubjectPolicy, FilterSubject: "RP.>"})
	if err != nil {
		t.Fatal(err)
	}
	if ci := lp.CachedInfo(); ci.Delivered.Stream != 1 || ci.AckFloor.Stream != 1 || ci.NumPending != 3 {
		t.Fatalf("last_per_subject start: %+v %+v pending %d", ci.Delivered, ci.AckFloor, ci.NumPending)
	}
	if r := resetTo(t, st, "LP", 0); r.ResetSeq != 2 || r.NumPending != 3 {
		t.Fatalf("reset: %+v", r)
	}
	if got := fetchAck(t, lp, 10, false); fmt.Sprint(got) != "[2 4 5]" {
		t.Fatalf("fetched %v", got)
	}
	if r := resetTo(t, st, "LP", 0); r.NumPending != 3 || r.NumAckPending != 0 {
		t.Fatalf("reset after delivery: %+v", r.ConsumerInfo)
	}
	if got := fetchAck(t, lp, 10, true); fmt.Sprint(got) != "[2 4 5]" {
		t.Fatalf("fetched again %v", got)
	}
	for _, cc := range []njs.ConsumerConfig{
		{Durable: "N", DeliverPolicy: njs.DeliverNewPolicy},
		{Durable: "L", DeliverPolicy: njs.DeliverLastPolicy},
		{Durable: "S", DeliverPolicy: njs.DeliverByStartSequencePolicy, OptStartSeq: 3},
	} {
		cc.AckPolicy = njs.AckExplicitPolicy
		if _, err := st.CreateConsumer(c, cc); err != nil {
			t.Fatal(err)
		}
	}
	future := time.Now().Add(time.Hour)
	if _, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "T", AckPolicy: njs.AckExplicitPolicy, DeliverPolicy: njs.DeliverByStartTimePolicy, OptStartTime: &future}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cons, desc string
		seq        uint64
	}{
		{"N", "invalid reset: not allowed", 2},
		{"L", "invalid reset: not allowed", 2},
		{"LP", "invalid reset: not allowed", 2},
		{"S", "invalid reset: below start seq", 2},
		{"T", "invalid reset: below start time", 2},
	} {
		if _, err := st.ResetConsumerToSequence(c, tc.cons, tc.seq); !errors.Is(err, njs.ErrConsumerInvalidReset) {
			t.Fatalf("reset %s: %v", tc.cons, err)
		}
		m, err := nc.Request("$JS.API.CONSUMER.RESET.RP."+tc.cons, fmt.Appendf(nil, `{"seq":%d}`, tc.seq), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var resp struct {
			Error struct {
				ErrCode     int    `json:"err_code"`
				Description string `json:"description"`
			} `json:"error"`
		}
		if err := json.Unmarshal(m.Data, &resp); err != nil || resp.Error.ErrCode != 10204 || resp.Error.Description != tc.desc {
			t.Fatalf("reset %s: %s, want %q", tc.cons, m.Data, tc.desc)
		}
	}
	// The start sequence itself and deliver new without a sequence are fine.
	if r := resetTo(t, st, "S", 3); r.ResetSeq != 3 || r.NumPending != 3 {
		t.Fatalf("reset to the start: %+v", r)
	}
	if r := resetTo(t, st, "N", 0); r.ResetSeq != 6 {
		t.Fatalf("reset of deliver new: %+v", r)
	}
}
