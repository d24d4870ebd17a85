package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

// jsUntil retries f (an API call through the leaf connection, whose
// interest takes a moment to cross) until it succeeds or the wait ends.
func jsUntil(t *testing.T, what string, f func(ctx context.Context) error) {
	t.Helper()
	var last error
	eventually(t, what, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		last = f(ctx)
		return last == nil
	})
	require.NoError(t, last)
}

// A leaf node without JetStream uses its hub's: with the hub's domain
// (jetstream.NewWithDomain), and with the plain API where
// default_js_domain maps the account to the hub's domain, as upstream.
// Streams, publishes with acks and a KV bucket live on the hub.
func TestLeafJetStreamHubFromLeafWithoutJetStream(t *testing.T) {
	hubFromLeaf(t, binary, binary)
}

// The same with upstream's server as the hub, then as the leaf node
// (NATSD_UPSTREAM_SERVER).
func TestLeafJetStreamHubFromLeafUpstream(t *testing.T) {
	up := os.Getenv("NATSD_UPSTREAM_SERVER")
	if up == "" {
		t.Skip("NATSD_UPSTREAM_SERVER is not set")
	}
	t.Run("upstream hub", func(t *testing.T) { hubFromLeaf(t, up, binary) })
	t.Run("upstream leaf", func(t *testing.T) { hubFromLeaf(t, binary, up) })
}

func hubFromLeaf(t *testing.T, hubBin, leafBin string) {
	dir := t.TempDir()
	hub := startBinary(t, hubBin, "-c", writeFile(t, filepath.Join(dir, "hub.conf"), `
jetstream { domain: hub, store_dir: "`+filepath.Join(dir, "hubjs")+`" }
leafnodes { listen: "127.0.0.1:-1" }
`))
	leaf := startBinary(t, leafBin, "-c", writeFile(t, filepath.Join(dir, "leaf.conf"), `
default_js_domain: { "$G": hub }
leafnodes { reconnect: "100ms", remotes: [ { url: "nats-leaf://`+hub.leafAddr()+`" } ] }
`))
	leaf.waitLog("Leafnode connection created for account: $G")
	hub.waitLog(`JetStream using domains: local "hub", remote ""`)

	lnc := leaf.connect()
	ljs, err := jetstream.NewWithDomain(lnc, "hub")
	require.NoError(t, err)
	jsUntil(t, "the hub's JetStream through its domain", func(ctx context.Context) error {
		info, err := ljs.AccountInfo(ctx)
		if err == nil && info.Domain != "hub" {
			return errors.New("domain " + info.Domain)
		}
		return err
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = ljs.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}})
	require.NoError(t, err)
	jsUntil(t, "a publish on the leaf stored on the hub", func(ctx context.Context) error {
		_, err := ljs.Publish(ctx, "orders.1", []byte("one"))
		return err
	})

	// The plain API of the leaf goes to the hub's domain
	// (default_js_domain); the stream is the hub's.
	pjs, err := jetstream.New(lnc)
	require.NoError(t, err)
	var st jetstream.Stream
	jsUntil(t, "the plain API mapped to the hub's domain", func(ctx context.Context) error {
		st, err = pjs.Stream(ctx, "ORDERS")
		return err
	})
	ack, err := pjs.Publish(ctx, "orders.2", []byte("two"))
	require.NoError(t, err)
	require.Equal(t, "ORDERS", ack.Stream)
	require.Equal(t, "hub", ack.Domain)

	hjs, err := jetstream.New(hub.connect())
	require.NoError(t, err)
	hst, err := hjs.Stream(ctx, "ORDERS")
	require.NoError(t, err)
	require.Equal(t, uint64(2), hst.CachedInfo().State.Msgs)
	m, err := st.GetMsg(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, "one", string(m.Data))

	// A consumer on the hub's stream, consumed from the leaf.
	cons, err := ljs.CreateOrUpdateConsumer(ctx, "ORDERS", jetstream.ConsumerConfig{Durable: "leafc", AckPolicy: jetstream.AckExplicitPolicy})
	require.NoError(t, err)
	batch, err := cons.Fetch(2, jetstream.FetchMaxWait(5*time.Second))
	require.NoError(t, err)
	var got []string
	for msg := range batch.Messages() {
		got = append(got, string(msg.Data()))
		require.NoError(t, msg.Ack())
	}
	require.NoError(t, batch.Error())
	require.Equal(t, []string{"one", "two"}, got)

	// A KV bucket on the hub, written and read from the leaf through the
	// domain ($JS.hub.API.$KV.>).
	kv, err := ljs.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "cfg"})
	require.NoError(t, err)
	jsUntil(t, "a KV put through the domain", func(ctx context.Context) error {
		_, err := kv.Put(ctx, "color", []byte("blue"))
		return err
	})
	hkv, err := hjs.KeyValue(ctx, "cfg")
	require.NoError(t, err)
	e, err := hkv.Get(ctx, "color")
	require.NoError(t, err)
	require.Equal(t, "blue", string(e.Value()))
	e, err = kv.Get(ctx, "color")
	require.NoError(t, err)
	require.Equal(t, "blue", string(e.Value()))
}

// A hub and a leaf each with JetStream and a domain: the plain API stays
// on each side, $JS.<domain>.API reaches the named domain's JetStream
// across the link both ways.
func TestLeafJetStreamTwoDomains(t *testing.T) { twoDomains(t, binary, binary) }

// The same and the plain API's deny with upstream's server on one side
// (NATSD_UPSTREAM_SERVER).
func TestLeafJetStreamDomainsUpstream(t *testing.T) {
	up := os.Getenv("NATSD_UPSTREAM_SERVER")
	if up == "" {
		t.Skip("NATSD_UPSTREAM_SERVER is not set")
	}
	t.Run("upstream hub", func(t *testing.T) { twoDomains(t, up, binary) })
	t.Run("upstream leaf", func(t *testing.T) { twoDomains(t, binary, up) })
	t.Run("plain API upstream hub", func(t *testing.T) { plainDenied(t, up, binary) })
	t.Run("plain API upstream leaf", func(t *testing.T) { plainDenied(t, binary, up) })
}

func twoDomains(t *testing.T, hubBin, leafBin string) {
	dir := t.TempDir()
	hub := startBinary(t, hubBin, "-c", writeFile(t, filepath.Join(dir, "hub.conf"), `
jetstream { domain: hub, store_dir: "`+filepath.Join(dir, "hubjs")+`" }
leafnodes { listen: "127.0.0.1:-1" }
`))
	leaf := startBinary(t, leafBin, "-c", writeFile(t, filepath.Join(dir, "leaf.conf"), `
jetstream { domain: leaf, store_dir: "`+filepath.Join(dir, "leafjs")+`" }
leafnodes { reconnect: "100ms", remotes: [ { url: "nats-leaf://`+hub.leafAddr()+`" } ] }
`))
	leaf.waitLog("Leafnode connection created for account: $G")
	leaf.waitLog(`JetStream using domains: local "leaf", remote "hub"`)
	hub.waitLog(`JetStream using domains: local "hub", remote "leaf"`)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	lnc, hnc := leaf.connect(), hub.connect()
	ljs, err := jetstream.New(lnc)
	require.NoError(t, err)
	hjs, err := jetstream.New(hnc)
	require.NoError(t, err)

	// The plain API is each side's own.
	for _, c := range []struct {
		js     jetstream.JetStream
		domain string
	}{{ljs, "leaf"}, {hjs, "hub"}} {
		info, err := c.js.AccountInfo(ctx)
		require.NoError(t, err)
		require.Equal(t, c.domain, info.Domain)
	}
	_, err = ljs.CreateStream(ctx, jetstream.StreamConfig{Name: "EDGE", Subjects: []string{"edge.>"}})
	require.NoError(t, err)
	_, err = hjs.CreateStream(ctx, jetstream.StreamConfig{Name: "CORE", Subjects: []string{"core.>"}})
	require.NoError(t, err)
	_, err = hjs.Stream(ctx, "EDGE")
	require.ErrorIs(t, err, jetstream.ErrStreamNotFound)
	_, err = ljs.Stream(ctx, "CORE")
	require.ErrorIs(t, err, jetstream.ErrStreamNotFound)

	// Each domain from the other side.
	toHub, err := jetstream.NewWithDomain(lnc, "hub")
	require.NoError(t, err)
	toLeaf, err := jetstream.NewWithDomain(hnc, "leaf")
	require.NoError(t, err)
	for _, c := range []struct {
		js             jetstream.JetStream
		domain, stream string
	}{{toHub, "hub", "CORE"}, {toLeaf, "leaf", "EDGE"}} {
		jsUntil(t, "the "+c.domain+" domain across the link", func(ctx context.Context) error {
			info, err := c.js.AccountInfo(ctx)
			if err == nil && info.Domain != c.domain {
				return errors.New("domain " + info.Domain)
			}
			return err
		})
		names := c.js.StreamNames(ctx)
		var all []string
		for n := range names.Name() {
			all = append(all, n)
		}
		require.NoError(t, names.Err())
		require.Equal(t, []string{c.stream}, all)
	}

	// A stream of the hub's domain fed from the leaf: its subjects'
	// interest crosses, the acks name the hub's domain.
	jsUntil(t, "a publish from the leaf into the hub's stream", func(ctx context.Context) error {
		ack, err := toHub.Publish(ctx, "core.x", []byte("x"))
		if err == nil && (ack.Stream != "CORE" || ack.Domain != "hub") {
			return errors.New("ack from " + ack.Stream + "@" + ack.Domain)
		}
		return err
	})
	// The leaf's plain API never reaches the hub: no JetStream answers
	// $JS.API on the leaf but the leaf's, and a request the hub alone
	// could answer (its stream) is not found.
	_, err = ljs.Stream(ctx, "CORE")
	require.ErrorIs(t, err, jetstream.ErrStreamNotFound)

	// KV across domains, both ways.
	kv, err := toLeaf.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "edgecfg"})
	require.NoError(t, err)
	_, err = kv.Put(ctx, "k", []byte("from-hub"))
	require.NoError(t, err)
	lkv, err := ljs.KeyValue(ctx, "edgecfg")
	require.NoError(t, err)
	e, err := lkv.Get(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, "from-hub", string(e.Value()))
}

// The plain JetStream API never crosses a leaf connection without
// default_js_domain: a leaf without JetStream, hub with JetStream and no
// domain, the leaf's client gets no JetStream (as upstream since 2.7).
func TestLeafJetStreamPlainAPIDenied(t *testing.T) { plainDenied(t, binary, binary) }

func plainDenied(t *testing.T, hubBin, leafBin string) {
	dir := t.TempDir()
	hub := startBinary(t, hubBin, "-c", writeFile(t, filepath.Join(dir, "hub.conf"), `
jetstream { store_dir: "`+filepath.Join(dir, "hubjs")+`" }
leafnodes { listen: "127.0.0.1:-1" }
`))
	leaf := startBinary(t, leafBin, "-c", writeFile(t, filepath.Join(dir, "leaf.conf"), `
leafnodes { reconnect: "100ms", remotes: [ { url: "nats-leaf://`+hub.leafAddr()+`" } ] }
`))
	leaf.waitLog("Leafnode connection created for account: $G")
	leaf.waitLog(`JetStream using domains: local "", remote ""`)
	lnc := leaf.connect()
	// Interest that does cross: the leaf learned the hub's subscription.
	hnc := hub.connect()
	sub, err := hnc.SubscribeSync("probe")
	require.NoError(t, err)
	require.NoError(t, hnc.Flush())
	crosses(t, lnc, sub, "probe", []byte("p"))
	// The hub's $JS.API subscriptions did not.
	_, err = lnc.Request("$JS.API.INFO", nil, 2*time.Second)
	require.ErrorIs(t, err, nats.ErrNoResponders)
	ljs, err := jetstream.New(lnc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = ljs.AccountInfo(ctx)
	require.ErrorIs(t, err, jetstream.ErrJetStreamNotEnabled)
	require.False(t, strings.Contains(hub.log.String(), "panic"))
}
