package server_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

const reloadAccountsBase = `
accounts {
  A: { users: [ {user: a, password: a} ], exports: [ {service: svc}, {stream: "feed.>"} ] }
  B: { users: [ {user: b, password: b} ] }
}`

const reloadAccountsLinked = `
accounts {
  A: { users: [ {user: a, password: a} ], exports: [ {service: svc}, {stream: "feed.>"} ], mappings: { "m.in": "m.out" } }
  B: { users: [ {user: b, password: b} ], imports: [ {service: {account: A, subject: svc}}, {stream: {account: A, subject: "feed.>"}} ] }
}`

// TestReloadAccountsPendingResponse: a request in flight through a service
// import gets its answer after a reload rebuilt the links, and even after
// one that removed the import.
func TestReloadAccountsPendingResponse(t *testing.T) {
	s := servertest.StartConfig(t, reloadAccountsLinked)
	a := servertest.Connect(t, s, nats.UserInfo("a", "a"))
	b := servertest.Connect(t, s, nats.UserInfo("b", "b"))
	reqs := make(chan *nats.Msg, 1)
	_, err := a.Subscribe("svc", func(m *nats.Msg) { reqs <- m })
	require.NoError(t, err)
	require.NoError(t, a.Flush())

	for _, next := range []string{reloadAccountsLinked, reloadAccountsBase} {
		replies := make(chan *nats.Msg, 1)
		go func() {
			m, err := b.Request("svc", []byte("q"), 5*time.Second)
			if err != nil {
				m = &nats.Msg{Data: []byte(err.Error())}
			}
			replies <- m
		}()
		var req *nats.Msg
		select {
		case req = <-reqs:
		case <-time.After(5 * time.Second):
			t.Fatal("request not delivered")
		}
		require.NoError(t, s.Reload(servertest.ConfigOptions(t, next)))
		require.NoError(t, req.Respond([]byte("answer")))
		select {
		case m := <-replies:
			require.Equal(t, "answer", string(m.Data))
		case <-time.After(6 * time.Second):
			t.Fatal("no answer")
		}
	}
}

// TestReloadAccountsRace reloads links back and forth while clients
// publish through them (run with -race).
func TestReloadAccountsRace(t *testing.T) {
	s := servertest.StartConfig(t, reloadAccountsBase)
	a := servertest.Connect(t, s, nats.UserInfo("a", "a"))
	b := servertest.Connect(t, s, nats.UserInfo("b", "b"))
	_, err := a.Subscribe("svc", func(m *nats.Msg) { _ = m.Respond([]byte("ok")) })
	require.NoError(t, err)
	var got atomic.Int64
	_, err = b.Subscribe("feed.>", func(*nats.Msg) { got.Add(1) })
	require.NoError(t, err)
	_, err = a.Subscribe("m.out", func(*nats.Msg) { got.Add(1) })
	require.NoError(t, err)
	require.NoError(t, a.Flush())
	require.NoError(t, b.Flush())

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_ = a.Publish("feed.x", nil)
			_ = a.Publish("m.in", nil)
			if i%50 == 0 {
				_ = a.Flush()
			}
		}
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			_, _ = b.Request("svc", nil, time.Second)
		}
	}()
	for i := range 20 {
		conf := reloadAccountsBase
		if i%2 == 0 {
			conf = reloadAccountsLinked
		}
		require.NoError(t, s.Reload(servertest.ConfigOptions(t, conf)))
	}
	close(stop)
	wg.Wait()
	// Linked at last: messages cross again.
	require.NoError(t, s.Reload(servertest.ConfigOptions(t, reloadAccountsLinked)))
	before := got.Load()
	require.NoError(t, a.Publish("feed.y", nil))
	require.NoError(t, a.Publish("m.in", nil))
	servertest.WaitUntil(t, "the linked messages", func() bool { return got.Load() >= before+2 })
	r, err := b.Request("svc", nil, 3*time.Second)
	require.NoError(t, err)
	require.Equal(t, "ok", string(r.Data))
}

// TestReloadAccountMaxConnections: an account limit a reload sets below
// the account's clients closes the newest ones, as upstream.
func TestReloadAccountMaxConnections(t *testing.T) {
	s, logs := servertest.StartWithLogs(t, servertest.ConfigOptions(t, reloadAccountsBase))
	var conns []*nats.Conn
	for range 3 {
		conns = append(conns, servertest.Connect(t, s, nats.UserInfo("a", "a"), nats.NoReconnect()))
	}
	b := servertest.Connect(t, s, nats.UserInfo("b", "b"))
	require.NoError(t, s.Reload(servertest.ConfigOptions(t, `
accounts {
  A: { users: [ {user: a, password: a} ], limits: { max_connections: 1 } }
  B: { users: [ {user: b, password: b} ] }
}`)))
	for _, i := range []int{1, 2} {
		waitClosed(t, conns[i])
		require.ErrorContains(t, conns[i].LastError(), "maximum account active connections exceeded")
	}
	require.NoError(t, conns[0].Flush())
	require.NoError(t, b.Flush())
	logs.WaitFor(t, "maximum account active connections exceeded - Account: A")
}
