package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// Consumers whose clients are connected to another server than the one
// holding the stream: their deliveries (a pull request's reply subject, a
// push consumer's deliver subject) and their acks go through ordinary
// routing, over a route, a gateway or a leaf node connection, as
// upstream's do.

// TestJetStreamConsumeAcrossRoute: JetStream on A only, the client on B
// of the same cluster.
func TestJetStreamConsumeAcrossRoute(t *testing.T) {
	dir := t.TempDir()
	ports := servertest.FreePorts(t, 2)
	conf := func(name string, own, peer int, js string) string {
		return writeFile(t, filepath.Join(dir, name+".conf"), fmt.Sprintf(`
server_name: %s
%s
cluster { name: c1, listen: "127.0.0.1:%d", routes: ["nats-route://127.0.0.1:%d"] }
`, name, js, own, peer))
	}
	a := start(t, "-c", conf("A", ports[0], ports[1], `jetstream { store_dir: "`+filepath.Join(dir, "js")+`" }`))
	b := start(t, "-c", conf("B", ports[1], ports[0], ""))
	a.waitLog("Route connection created")
	b.waitLog("Route connection created")
	js, err := jetstream.New(b.connect())
	require.NoError(t, err)
	consumeFromAfar(t, js)
}

// TestJetStreamConsumeAcrossGateway: JetStream on the server of cluster
// A, the client on the server of cluster B.
func TestJetStreamConsumeAcrossGateway(t *testing.T) {
	dir := t.TempDir()
	ports := servertest.FreePorts(t, 2)
	gws := fmt.Sprintf(`[ { name: A, urls: ["nats://127.0.0.1:%d"] }, { name: B, urls: ["nats://127.0.0.1:%d"] } ]`, ports[0], ports[1])
	conf := func(name string, port int, js string) string {
		return writeFile(t, filepath.Join(dir, name+".conf"), fmt.Sprintf(`
server_name: %s
%s
gateway { name: %s, listen: "127.0.0.1:%d", gateways: %s }
`, name, js, name, port, gws))
	}
	a := start(t, "-c", conf("A", ports[0], `jetstream { store_dir: "`+filepath.Join(dir, "js")+`" }`))
	b := start(t, "-c", conf("B", ports[1], ""))
	a.waitLog(`Outbound gateway connection to "B"`)
	b.waitLog(`Outbound gateway connection to "A"`)
	js, err := jetstream.New(b.connect())
	require.NoError(t, err)
	consumeFromAfar(t, js)
}

// TestJetStreamConsumeAcrossLeaf: the hub runs JetStream with a domain,
// the client is on a leaf node without JetStream and names the domain.
func TestJetStreamConsumeAcrossLeaf(t *testing.T) {
	dir := t.TempDir()
	hub := start(t, "-c", writeFile(t, filepath.Join(dir, "hub.conf"), `
jetstream { domain: hub, store_dir: "`+filepath.Join(dir, "hubjs")+`" }
leafnodes { listen: "127.0.0.1:-1" }
`))
	leaf := start(t, "-c", writeFile(t, filepath.Join(dir, "leaf.conf"), `
leafnodes { reconnect: "100ms", remotes: [ { url: "nats-leaf://`+hub.leafAddr()+`" } ] }
`))
	leaf.waitLog("Leafnode connection created for account: $G")
	js, err := jetstream.NewWithDomain(leaf.connect(), "hub")
	require.NoError(t, err)
	consumeFromAfar(t, js)
}

// consumeFromAfar drives a stream on another server through js: a pull
// consumer (Fetch with acks and double acks, then Consume) and a push
// consumer (Consume), each message presented under the subject it was
// stored on with an ack reply nats.go parses, every ack reaching the
// consumer (nothing left pending, the ack floor at the end).
func consumeFromAfar(t *testing.T, js jetstream.JetStream) {
	t.Helper()
	var st jetstream.Stream
	jsUntil(t, "the stream created from afar", func(ctx context.Context) error {
		var err error
		st, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "FAR", Subjects: []string{"far.>"}})
		return err
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const n = 6
	for i := 1; i <= n; i++ {
		ack, err := js.Publish(ctx, fmt.Sprintf("far.%d", i), []byte(fmt.Sprint("m", i)))
		require.NoError(t, err)
		require.Equal(t, uint64(i), ack.Sequence)
	}
	check := func(m jetstream.Msg, i int) {
		t.Helper()
		require.Equal(t, fmt.Sprintf("far.%d", i), m.Subject())
		require.Equal(t, fmt.Sprint("m", i), string(m.Data()))
		md, err := m.Metadata()
		require.NoError(t, err, "reply %q", m.Reply())
		require.Equal(t, uint64(i), md.Sequence.Stream)
		require.Equal(t, "FAR", md.Stream)
	}
	settled := func(c jetstream.Consumer) {
		t.Helper()
		var ci *jetstream.ConsumerInfo
		eventually(t, "every ack to reach the consumer", func() bool {
			var err error
			ci, err = c.Info(ctx)
			require.NoError(t, err)
			return ci.NumAckPending == 0 && ci.AckFloor.Stream == n
		})
		require.Equal(t, uint64(n), ci.Delivered.Stream)
		require.Equal(t, 0, ci.NumRedelivered)
		require.Equal(t, uint64(0), ci.NumPending)
	}

	// Pull: Fetch with an ack and a double ack, then Consume.
	pull, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "pull", AckPolicy: jetstream.AckExplicitPolicy})
	require.NoError(t, err)
	batch, err := pull.Fetch(2, jetstream.FetchMaxWait(5*time.Second))
	require.NoError(t, err)
	i := 0
	for m := range batch.Messages() {
		i++
		check(m, i)
		if i == 1 {
			require.NoError(t, m.Ack())
		} else {
			require.NoError(t, m.DoubleAck(ctx))
		}
	}
	require.NoError(t, batch.Error())
	require.Equal(t, 2, i)
	got := make(chan jetstream.Msg, n)
	cc, err := pull.Consume(func(m jetstream.Msg) { got <- m })
	require.NoError(t, err)
	for i := 3; i <= n; i++ {
		select {
		case m := <-got:
			check(m, i)
			require.NoError(t, m.DoubleAck(ctx))
		case <-ctx.Done():
			t.Fatalf("pull Consume: message %d did not arrive", i)
		}
	}
	cc.Stop()
	settled(pull)

	// Push: the deliver subject's interest is on the client's server.
	push, err := js.CreateOrUpdatePushConsumer(ctx, "FAR", jetstream.ConsumerConfig{
		Durable: "push", DeliverSubject: "deliver.far", AckPolicy: jetstream.AckExplicitPolicy,
	})
	require.NoError(t, err)
	pgot := make(chan jetstream.Msg, n)
	pc, err := push.Consume(func(m jetstream.Msg) { pgot <- m })
	require.NoError(t, err)
	defer pc.Stop()
	for i := 1; i <= n; i++ {
		select {
		case m := <-pgot:
			check(m, i)
			require.NoError(t, m.Ack())
		case <-ctx.Done():
			t.Fatalf("push Consume: message %d did not arrive", i)
		}
	}
	pci, err := js.Consumer(ctx, "FAR", "pull")
	require.NoError(t, err)
	settled(pci)
	ppc, err := js.PushConsumer(ctx, "FAR", "push")
	require.NoError(t, err)
	eventually(t, "every push ack to reach the consumer", func() bool {
		ci, err := ppc.Info(ctx)
		require.NoError(t, err)
		// The deliver subject's interest on the other server binds it.
		require.True(t, ci.PushBound, "push_bound")
		return ci.NumAckPending == 0 && ci.AckFloor.Stream == n && ci.Delivered.Stream == n
	})
}
