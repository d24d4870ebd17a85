package jetstream_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/server/servertest"
)

func consSetup(t *testing.T, scfg njs.StreamConfig, n int) (njs.JetStream, njs.Stream, *nats.Conn) {
	t.Helper()
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, err := njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.CreateStream(ctx(t), scfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if _, err := js.Publish(ctx(t), fmt.Sprintf("%s.%d", scfg.Name, i%3), []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	return js, st, nc
}

func TestConsumerPullFetchAck(t *testing.T) {
	_, st, _ := consSetup(t, njs.StreamConfig{Name: "S", Subjects: []string{"S.>"}}, 10)
	c := ctx(t)
	cons, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "D", AckPolicy: njs.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	ci, _ := cons.Info(c)
	if ci.Config.AckWait != 30*time.Second || ci.Config.MaxAckPending != 1000 || ci.Config.MaxWaiting != 512 || ci.Config.MaxDeliver != -1 || ci.NumPending != 10 {
		t.Fatalf("defaults: %+v", ci)
	}
	b, err := cons.Fetch(4, njs.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var got []njs.Msg
	for m := range b.Messages() {
		got = append(got, m)
	}
	if len(got) != 4 || b.Error() != nil {
		t.Fatalf("got %d msgs, err %v", len(got), b.Error())
	}
	if got[0].Subject() != "S.0" || string(got[1].Data()) != "1" {
		t.Fatalf("msg: %s %s", got[0].Subject(), got[1].Data())
	}
	md, _ := got[3].Metadata()
	if md.Sequence.Stream != 4 || md.Sequence.Consumer != 4 || md.NumDelivered != 1 || md.NumPending != 6 || md.Stream != "S" || md.Consumer != "D" {
		t.Fatalf("metadata %+v", md)
	}
	if err := got[0].DoubleAck(c); err != nil {
		t.Fatal(err)
	}
	if err := got[2].Ack(); err != nil {
		t.Fatal(err)
	}
	if err := got[1].DoubleAck(c); err != nil {
		t.Fatal(err)
	}
	ci, _ = cons.Info(c)
	if ci.NumAckPending != 1 || ci.AckFloor.Stream != 3 || ci.AckFloor.Consumer != 3 || ci.Delivered.Stream != 4 || ci.NumPending != 6 {
		t.Fatalf("info: ack_pending %d floor %+v delivered %+v pending %d", ci.NumAckPending, ci.AckFloor, ci.Delivered, ci.NumPending)
	}
	// FetchNoWait: the 6 left, then 404 ends the next.
	b, err = cons.FetchNoWait(10)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range b.Messages() {
		n++
		_ = m.Ack()
	}
	if n != 6 || b.Error() != nil {
		t.Fatalf("nowait: %d %v", n, b.Error())
	}
	b, _ = cons.FetchNoWait(10)
	for range b.Messages() {
		t.Fatal("unexpected message")
	}
}

func TestConsumerRedeliveryNakTerm(t *testing.T) {
	_, st, _ := consSetup(t, njs.StreamConfig{Name: "R", Subjects: []string{"R.>"}}, 3)
	c := ctx(t)
	cons, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "D", AckPolicy: njs.AckExplicitPolicy, AckWait: 500 * time.Millisecond, MaxDeliver: 2})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := cons.Fetch(3, njs.FetchMaxWait(2*time.Second))
	var ms []njs.Msg
	for m := range b.Messages() {
		ms = append(ms, m)
	}
	if len(ms) != 3 {
		t.Fatal(len(ms))
	}
	_ = ms[0].Term()
	_ = ms[1].NakWithDelay(400 * time.Millisecond)
	// ms[2] times out after 500ms.
	b, _ = cons.Fetch(2, njs.FetchMaxWait(3*time.Second))
	var seqs []uint64
	for m := range b.Messages() {
		md, _ := m.Metadata()
		if md.NumDelivered != 2 {
			t.Fatalf("delivered %d", md.NumDelivered)
		}
		seqs = append(seqs, md.Sequence.Stream)
	}
	if len(seqs) != 2 || seqs[0] != 2 || seqs[1] != 3 {
		t.Fatalf("redelivered %v", seqs)
	}
	ci, _ := cons.Info(c)
	if ci.NumRedelivered != 2 || ci.NumAckPending != 2 {
		t.Fatalf("info %+v", ci)
	}
	// max_deliver 2: nothing comes a third time.
	b, _ = cons.Fetch(1, njs.FetchMaxWait(1200*time.Millisecond))
	for m := range b.Messages() {
		t.Fatalf("third delivery of %s", m.Data())
	}
	if !errors.Is(b.Error(), nil) && !errors.Is(b.Error(), nats.ErrTimeout) {
		t.Fatal(b.Error())
	}
}

func TestConsumerConsumeAndDeliverPolicies(t *testing.T) {
	js, st, _ := consSetup(t, njs.StreamConfig{Name: "P", Subjects: []string{"P.>"}}, 9)
	c := ctx(t)
	for _, tc := range []struct {
		cfg  njs.ConsumerConfig
		want int
	}{
		{njs.ConsumerConfig{DeliverPolicy: njs.DeliverAllPolicy}, 9},
		{njs.ConsumerConfig{DeliverPolicy: njs.DeliverLastPolicy}, 1},
		{njs.ConsumerConfig{DeliverPolicy: njs.DeliverLastPerSubjectPolicy}, 3},
		{njs.ConsumerConfig{DeliverPolicy: njs.DeliverByStartSequencePolicy, OptStartSeq: 5}, 5},
		{njs.ConsumerConfig{FilterSubject: "P.1"}, 3},
		{njs.ConsumerConfig{FilterSubjects: []string{"P.1", "P.2"}}, 6},
		{njs.ConsumerConfig{DeliverPolicy: njs.DeliverNewPolicy}, 0},
	} {
		tc.cfg.AckPolicy = njs.AckNonePolicy
		cons, err := st.CreateConsumer(c, tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		ci, _ := cons.Info(c)
		if int(ci.NumPending) != tc.want {
			t.Fatalf("%+v: num_pending %d want %d", tc.cfg, ci.NumPending, tc.want)
		}
		b, _ := cons.FetchNoWait(100)
		n := 0
		for range b.Messages() {
			n++
		}
		if n != tc.want {
			t.Fatalf("%+v: got %d want %d", tc.cfg, n, tc.want)
		}
	}
	// Consume with acks.
	cons, _ := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "C", AckPolicy: njs.AckExplicitPolicy})
	got := make(chan njs.Msg, 100)
	cc, err := cons.Consume(func(m njs.Msg) { _ = m.Ack(); got <- m })
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Stop()
	for i := 0; i < 9; i++ {
		select {
		case <-got:
		case <-time.After(5 * time.Second):
			t.Fatal("consume stalled at", i)
		}
	}
	_, _ = js.Publish(c, "P.7", []byte("new"))
	select {
	case m := <-got:
		if string(m.Data()) != "new" {
			t.Fatal(string(m.Data()))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("new message not consumed")
	}
}

func TestConsumerPushAndOrdered(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, _ := njs.New(nc)
	c := ctx(t)
	st, err := js.CreateStream(c, njs.StreamConfig{Name: "O", Subjects: []string{"O.>"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		_, _ = js.Publish(c, "O.x", []byte(fmt.Sprint(i)))
	}
	oc, err := st.OrderedConsumer(c, njs.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	it, err := oc.Messages()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		m, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Data()) != fmt.Sprint(i) {
			t.Fatalf("ordered %d: %s", i, m.Data())
		}
	}
	it.Stop()

	ljs, _ := nc.JetStream()
	ch := make(chan *nats.Msg, 64)
	sub, err := ljs.ChanSubscribe("O.x", ch, nats.Durable("PUSH"), nats.ManualAck())
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	for i := 0; i < 20; i++ {
		select {
		case m := <-ch:
			if string(m.Data) != fmt.Sprint(i) {
				t.Fatalf("push %d: %s", i, m.Data)
			}
			_ = m.Ack()
		case <-time.After(5 * time.Second):
			t.Fatal("push stalled at", i)
		}
	}
	osub, err := ljs.SubscribeSync("O.x", nats.OrderedConsumer())
	if err != nil {
		t.Fatal(err)
	}
	defer osub.Unsubscribe()
	for i := 0; i < 20; i++ {
		m, err := osub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatal(i, err)
		}
		if string(m.Data) != fmt.Sprint(i) {
			t.Fatalf("legacy ordered %d: %s", i, m.Data)
		}
	}
}

func TestConsumerAPI(t *testing.T) {
	_, st, _ := consSetup(t, njs.StreamConfig{Name: "A", Subjects: []string{"A.>"}}, 1)
	c := ctx(t)
	if _, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "X", AckPolicy: njs.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "X", AckPolicy: njs.AckExplicitPolicy}); err != nil {
		t.Fatal("idempotent create:", err)
	}
	var ae *njs.APIError
	if _, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "X", AckPolicy: njs.AckAllPolicy}); !errors.As(err, &ae) || ae.ErrorCode != 10148 {
		t.Fatal("changed create:", err)
	}
	if _, err := st.UpdateConsumer(c, njs.ConsumerConfig{Durable: "Y"}); !errors.As(err, &ae) || ae.ErrorCode != 10149 {
		t.Fatal("update missing:", err)
	}
	if _, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "Z", FilterSubject: "B.x"}); !errors.As(err, &ae) || ae.ErrorCode != 10093 {
		t.Fatal("filter:", err)
	}
	if _, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "Z", DeliverPolicy: njs.DeliverByStartSequencePolicy}); !errors.As(err, &ae) || ae.ErrorCode != 10094 {
		t.Fatal("policy:", err)
	}
	lister := st.ConsumerNames(c)
	var names []string
	for n := range lister.Name() {
		names = append(names, n)
	}
	if len(names) != 1 || names[0] != "X" {
		t.Fatal(names)
	}
	if err := st.DeleteConsumer(c, "X"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Consumer(c, "X"); !errors.Is(err, njs.ErrConsumerNotFound) {
		t.Fatal(err)
	}
}

func TestConsumerRestart(t *testing.T) {
	dir := t.TempDir()
	s, jsd := startJS(t, jetstream.Options{StoreDir: dir})
	nc := servertest.Connect(t, s)
	js, _ := njs.New(nc)
	c := ctx(t)
	st, _ := js.CreateStream(c, njs.StreamConfig{Name: "K", Subjects: []string{"K.>"}})
	for i := 0; i < 5; i++ {
		_, _ = js.Publish(c, "K.x", []byte(fmt.Sprint(i)))
	}
	cons, _ := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "D", AckPolicy: njs.AckExplicitPolicy, AckWait: 300 * time.Millisecond})
	b, _ := cons.Fetch(3, njs.FetchMaxWait(2*time.Second))
	i := 0
	for m := range b.Messages() {
		if i != 1 {
			if err := m.DoubleAck(c); err != nil {
				t.Fatal(err)
			}
		}
		i++
	}
	nc.Close()
	_ = jsd.Shutdown(c)
	jsd2, err := jetstream.Start(s, jetstream.Options{StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer jsd2.Shutdown(c)
	nc = servertest.Connect(t, s)
	js, _ = njs.New(nc)
	cons, err = js.Consumer(c, "K", "D")
	if err != nil {
		t.Fatal(err)
	}
	ci, _ := cons.Info(c)
	if ci.NumAckPending != 1 || ci.AckFloor.Stream != 1 || ci.Delivered.Stream != 3 || ci.NumPending != 2 {
		t.Fatalf("recovered %+v", ci)
	}
	b, _ = cons.Fetch(3, njs.FetchMaxWait(3*time.Second))
	var got []string
	for m := range b.Messages() {
		got = append(got, string(m.Data()))
		_ = m.Ack()
	}
	sort.Strings(got) // 1 is redelivered once its ack wait ran out
	if fmt.Sprint(got) != "[1 3 4]" {
		t.Fatalf("after restart %v", got)
	}
}

func TestConsumerRetention(t *testing.T) {
	js, st, _ := consSetup(t, njs.StreamConfig{Name: "W", Subjects: []string{"W.>"}, Retention: njs.WorkQueuePolicy}, 0)
	c := ctx(t)
	cons, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "A", AckPolicy: njs.AckExplicitPolicy, FilterSubject: "W.a"})
	if err != nil {
		t.Fatal(err)
	}
	var ae *njs.APIError
	if _, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "B", AckPolicy: njs.AckExplicitPolicy, FilterSubjects: []string{"W.>"}}); !errors.As(err, &ae) || ae.ErrorCode != 10100 {
		t.Fatal("overlap:", err)
	}
	for i := 0; i < 3; i++ {
		_, _ = js.Publish(c, "W.a", nil)
	}
	b, _ := cons.Fetch(3, njs.FetchMaxWait(2*time.Second))
	for m := range b.Messages() {
		_ = m.DoubleAck(c)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		si, _ := st.Info(c)
		if si.State.Msgs == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("workqueue kept %d", si.State.Msgs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestConsumerRestartBeforeFirstDelivery: a DeliverNew consumer that has
// delivered nothing yet keeps its place across a restart: the messages
// stored after its creation are still new to it (they were skipped when
// the recovery applied DeliverNew to the stream as it was at the restart).
func TestConsumerRestartBeforeFirstDelivery(t *testing.T) {
	for _, before := range []int{0, 2} { // messages stored before the consumer
		t.Run(fmt.Sprint(before), func(t *testing.T) {
			dir := t.TempDir()
			s, jsd := startJS(t, jetstream.Options{StoreDir: dir})
			nc := servertest.Connect(t, s)
			js, _ := njs.New(nc)
			c := ctx(t)
			st, err := js.CreateStream(c, njs.StreamConfig{Name: "N", Subjects: []string{"N.>"}})
			if err != nil {
				t.Fatal(err)
			}
			for i := range before {
				_, _ = js.Publish(c, "N.x", []byte(fmt.Sprint("old ", i)))
			}
			if _, err := st.CreateConsumer(c, njs.ConsumerConfig{Durable: "D", AckPolicy: njs.AckExplicitPolicy, DeliverPolicy: njs.DeliverNewPolicy}); err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if _, err := js.Publish(c, "N.x", []byte(fmt.Sprint("new ", i))); err != nil {
					t.Fatal(err)
				}
			}
			nc.Close()
			_ = jsd.Shutdown(c)
			jsd2, err := jetstream.Start(s, jetstream.Options{StoreDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			defer jsd2.Shutdown(c)
			nc = servertest.Connect(t, s)
			js, _ = njs.New(nc)
			cons, err := js.Consumer(c, "N", "D")
			if err != nil {
				t.Fatal(err)
			}
			if ci, _ := cons.Info(c); ci.NumPending != 3 {
				t.Fatalf("recovered %+v", ci)
			}
			b, _ := cons.Fetch(3, njs.FetchMaxWait(3*time.Second))
			var got []string
			for m := range b.Messages() {
				got = append(got, string(m.Data()))
			}
			if fmt.Sprint(got) != "[new 0 new 1 new 2]" {
				t.Fatalf("after restart %v", got)
			}
		})
	}
}

// TestConsumerDurableCreateAPITwice: CONSUMER.DURABLE.CREATE names the
// consumer after its durable, so the same request again finds it (it made
// a second consumer with a random name that pushed every message again).
func TestConsumerDurableCreateAPITwice(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, _ := njs.New(nc)
	c := ctx(t)
	if _, err := js.CreateStream(c, njs.StreamConfig{Name: "P", Subjects: []string{"P.>"}}); err != nil {
		t.Fatal(err)
	}
	req := []byte(`{"stream_name":"P","config":{"durable_name":"D","deliver_subject":"push.D","ack_policy":"explicit","deliver_policy":"new"}}`)
	for range 2 {
		m, err := nc.Request("$JS.API.CONSUMER.DURABLE.CREATE.P.D", req, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Name   string `json:"name"`
			Config struct {
				Name string `json:"name"`
			} `json:"config"`
			Error any `json:"error"`
		}
		if err := json.Unmarshal(m.Data, &r); err != nil || r.Error != nil || r.Name != "D" || r.Config.Name != "D" {
			t.Fatalf("create: %v %s", err, m.Data)
		}
	}
	st, _ := js.Stream(c, "P")
	info, err := st.Info(c)
	if err != nil || info.State.Consumers != 1 {
		t.Fatalf("consumers: %v %+v", err, info.State)
	}
}
