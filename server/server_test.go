package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/protocol"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
)

func TestPubSub(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	nc := servertest.Connect(t, s)
	sub, err := nc.SubscribeSync("foo")
	require.NoError(t, err)
	require.NoError(t, nc.Publish("foo", []byte("hello")))
	m, err := sub.NextMsg(2 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "hello", string(m.Data))
	require.Equal(t, "foo", m.Subject)
}

func TestWildcards(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	nc := servertest.Connect(t, s)
	cases := []struct {
		filter string
		match  []string
		miss   []string
	}{
		{"a.*", []string{"a.b", "a.c"}, []string{"a", "a.b.c", "b.a"}},
		{"a.>", []string{"a.b", "a.b.c"}, []string{"a", "b.a"}},
		{"*.b.*", []string{"a.b.c", "x.b.y"}, []string{"a.b", "a.c.c"}},
		{">", []string{"a", "a.b.c"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.filter, func(t *testing.T) {
			sub, err := nc.SubscribeSync(tc.filter)
			require.NoError(t, err)
			defer sub.Unsubscribe()
			require.NoError(t, nc.Flush())
			for _, subj := range append(append([]string{}, tc.miss...), tc.match...) {
				require.NoError(t, nc.Publish(subj, []byte(subj)))
			}
			for _, want := range tc.match {
				m, err := sub.NextMsg(2 * time.Second)
				require.NoError(t, err)
				require.Equal(t, want, m.Subject)
			}
			servertest.ExpectNoMsg(t, sub, nc)
		})
	}
}

func TestQueueGroupSpread(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	nc := servertest.Connect(t, s)
	const members, msgs = 4, 2000
	var counts [members]atomic.Int64
	var total atomic.Int64
	var queues []*nats.Subscription
	for i := range members {
		q, err := nc.QueueSubscribe("work", "q", func(*nats.Msg) {
			counts[i].Add(1)
			total.Add(1)
		})
		require.NoError(t, err)
		queues = append(queues, q)
	}
	plain, err := nc.SubscribeSync("work")
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	pub := servertest.Connect(t, s)
	for range msgs {
		require.NoError(t, pub.Publish("work", nil))
	}
	require.NoError(t, pub.Flush())
	require.Eventually(t, func() bool { return total.Load() == msgs }, 5*time.Second, 10*time.Millisecond)
	// After a round trip every MSG the server sent nc is either waiting in
	// a subscription's queue or handed to its handler: none is extra.
	require.NoError(t, nc.Flush())
	var received int64
	for _, q := range queues {
		delivered, err := q.Delivered()
		require.NoError(t, err)
		pending, _, err := q.Pending()
		require.NoError(t, err)
		received += delivered + int64(pending)
	}
	require.EqualValues(t, msgs, received, "each message goes to exactly one member")
	for i := range members {
		n := counts[i].Load()
		require.Greater(t, n, int64(msgs/members/2), "member %d got %d", i, n)
	}
	got, _, err := plain.Pending()
	require.NoError(t, err)
	require.Equal(t, msgs, got, "plain subscribers get every message")
}

func TestRequestReply(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	nc := servertest.Connect(t, s)
	_, err := nc.Subscribe("svc", func(m *nats.Msg) { m.Respond(append([]byte("re:"), m.Data...)) })
	require.NoError(t, err)
	// The SUB must reach the server before another connection's request.
	require.NoError(t, nc.Flush())
	client := servertest.Connect(t, s)
	for i := range 10 {
		resp, err := client.Request("svc", []byte(fmt.Sprint(i)), 2*time.Second)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("re:%d", i), string(resp.Data))
	}
}

func TestNoResponders(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	nc := servertest.Connect(t, s)
	start := time.Now()
	_, err := nc.Request("nobody.home", nil, 5*time.Second)
	require.ErrorIs(t, err, nats.ErrNoResponders)
	require.Less(t, time.Since(start), 2*time.Second)
}

func TestHeaders(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	nc := servertest.Connect(t, s)
	sub, err := nc.SubscribeSync("h")
	require.NoError(t, err)
	msg := nats.NewMsg("h")
	msg.Header.Set("X-Test", "one")
	msg.Header.Add("X-Multi", "a")
	msg.Header.Add("X-Multi", "b")
	msg.Data = []byte("body")
	require.NoError(t, nc.PublishMsg(msg))
	m, err := sub.NextMsg(2 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "one", m.Header.Get("X-Test"))
	require.Equal(t, []string{"a", "b"}, m.Header.Values("X-Multi"))
	require.Equal(t, "body", string(m.Data))
}

func TestNoEcho(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	nc := servertest.Connect(t, s, nats.NoEcho())
	sub, err := nc.SubscribeSync("e")
	require.NoError(t, err)
	other := servertest.Connect(t, s)
	osub, err := other.SubscribeSync("e")
	require.NoError(t, err)
	require.NoError(t, other.Flush())
	require.NoError(t, nc.Publish("e", []byte("x")))
	_, err = osub.NextMsg(2 * time.Second)
	require.NoError(t, err)
	servertest.ExpectNoMsg(t, sub, nc)
}

func TestAutoUnsubscribe(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	nc := servertest.Connect(t, s)
	sub, err := nc.SubscribeSync("u")
	require.NoError(t, err)
	require.NoError(t, sub.AutoUnsubscribe(2))
	for range 5 {
		require.NoError(t, nc.Publish("u", nil))
	}
	require.NoError(t, nc.Flush())
	for range 2 {
		_, err := sub.NextMsg(2 * time.Second)
		require.NoError(t, err)
	}
	// The client has read every MSG (flushed above); a third would wait.
	_, err = sub.NextMsg(time.Second)
	require.ErrorIs(t, err, nats.ErrMaxMessages)
	require.Eventually(t, func() bool { return s.GlobalAccount().NumSubscriptions() == 0 }, 2*time.Second, 10*time.Millisecond)
}

func TestDrainAndLargePayload(t *testing.T) {
	s := servertest.Start(t, server.Options{MaxPayload: 8 << 20, MaxPending: 64 << 20})
	nc := servertest.Connect(t, s)
	require.EqualValues(t, 8<<20, nc.MaxPayload())
	var got atomic.Int64
	_, err := nc.Subscribe("big", func(m *nats.Msg) { got.Add(int64(len(m.Data))) })
	require.NoError(t, err)
	pub := servertest.Connect(t, s)
	payload := make([]byte, 4<<20)
	for i := range payload {
		payload[i] = byte(i)
	}
	require.NoError(t, pub.Publish("big", payload))
	require.NoError(t, pub.Flush())
	require.Eventually(t, func() bool { return got.Load() == int64(len(payload)) }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, nc.Drain())
	require.Eventually(t, nc.IsClosed, 5*time.Second, 10*time.Millisecond)
}

func TestManySubscriptions(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	nc := servertest.Connect(t, s)
	const n = 10000
	var got atomic.Int64
	for i := range n {
		_, err := nc.Subscribe(fmt.Sprintf("many.%d", i), func(*nats.Msg) { got.Add(1) })
		require.NoError(t, err)
	}
	require.NoError(t, nc.Flush())
	require.Equal(t, n, s.GlobalAccount().NumSubscriptions())
	for i := range n {
		require.NoError(t, nc.Publish(fmt.Sprintf("many.%d", i), nil))
	}
	require.Eventually(t, func() bool { return got.Load() == n }, 10*time.Second, 10*time.Millisecond)
	nc.Close()
	require.Eventually(t, func() bool { return s.GlobalAccount().NumSubscriptions() == 0 }, 5*time.Second, 10*time.Millisecond)
}

func TestReconnectAfterRestart(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	port := s.Addr().(*net.TCPAddr).Port
	reconnected := make(chan struct{}, 1)
	nc, err := nats.Connect(s.ClientURL(), nats.ReconnectWait(50*time.Millisecond), nats.MaxReconnects(100),
		nats.ReconnectHandler(func(*nats.Conn) { reconnected <- struct{}{} }))
	require.NoError(t, err)
	defer nc.Close()
	sub, err := nc.SubscribeSync("r")
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, s.Shutdown(ctx))

	s2 := servertest.Start(t, server.Options{Port: port})
	select {
	case <-reconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("no reconnect")
	}
	require.Eventually(t, func() bool { return s2.GlobalAccount().NumSubscriptions() == 1 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, nc.Publish("r", []byte("again")))
	m, err := sub.NextMsg(2 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "again", string(m.Data))
}

func TestRawInfo(t *testing.T) {
	s := servertest.Start(t, server.Options{ServerName: "raw"})
	nc, err := net.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	defer nc.Close()
	line, err := bufio.NewReader(nc).ReadString('\n')
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(line, "\r\n"))
	var info map[string]any
	require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(strings.TrimSpace(line), "INFO ")), &info))
	for _, k := range []string{"server_id", "server_name", "version", "proto", "go", "host", "port", "headers", "max_payload", "client_id", "client_ip"} {
		require.Contains(t, info, k)
	}
	require.NotContains(t, info, "nonce")
	require.Equal(t, "raw", info["server_name"])
	require.Equal(t, true, info["headers"])
	require.EqualValues(t, 1048576, info["max_payload"])
	require.True(t, strings.HasPrefix(info["server_id"].(string), "N"))
	require.Len(t, info["server_id"].(string), 56)
}

func TestRawProtocol(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	t.Run("verbose", func(t *testing.T) {
		rc := servertest.DialClient(t, s)
		rc.Send("CONNECT {\"verbose\":true}\r\n")
		require.Equal(t, "+OK", rc.ReadLine())
		rc.Send("SUB foo 1\r\n")
		require.Equal(t, "+OK", rc.ReadLine())
		rc.Send("PUB foo 5\r\nhello\r\n")
		lines := []string{rc.ReadLine(), rc.ReadLine(), rc.ReadLine()}
		require.Contains(t, lines, "+OK")
		require.Contains(t, lines, "MSG foo 1 5")
		require.Contains(t, lines, "hello")
	})
	t.Run("connect_info after first pong", func(t *testing.T) {
		rc := servertest.DialClient(t, s)
		rc.Send("CONNECT {\"verbose\":false,\"protocol\":1,\"headers\":true,\"no_responders\":true}\r\nPING\r\n")
		require.Equal(t, "PONG", rc.ReadLine())
		info := rc.ReadLine()
		require.True(t, strings.HasPrefix(info, "INFO "), info)
		require.Contains(t, info, `"connect_info":true`)
		require.Contains(t, info, `"remote_account":"$G"`)
	})
	t.Run("no responders bytes", func(t *testing.T) {
		rc := servertest.DialClient(t, s)
		rc.Send("CONNECT {\"verbose\":false,\"protocol\":1,\"headers\":true,\"no_responders\":true}\r\nSUB _INBOX.x 2\r\nPUB nobody _INBOX.x 0\r\n\r\nPING\r\n")
		for {
			line := rc.ReadLine()
			if strings.HasPrefix(line, "INFO") || line == "PONG" {
				continue
			}
			require.Equal(t, "HMSG _INBOX.x 2 38 38", line)
			require.Equal(t, "NATS/1.0 503", rc.ReadLine())
			require.Equal(t, "Nats-Subject: nobody", rc.ReadLine())
			require.Equal(t, "", rc.ReadLine())
			break
		}
	})
	t.Run("reply and headers", func(t *testing.T) {
		rc := servertest.DialClient(t, s)
		rc.Send("CONNECT {\"verbose\":false,\"headers\":true}\r\nSUB a.* q 7\r\nHPUB a.b r.1 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPING\r\n")
		require.Equal(t, "HMSG a.b 7 r.1 12 14", rc.ReadLine())
		require.Equal(t, "NATS/1.0", rc.ReadLine())
		require.Equal(t, "", rc.ReadLine())
		require.Equal(t, "hi", rc.ReadLine())
		require.Equal(t, "PONG", rc.ReadLine())
	})
	t.Run("headers stripped for old clients", func(t *testing.T) {
		rc := servertest.DialClient(t, s)
		rc.Send("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB old 1\r\nPING\r\n")
		require.Equal(t, "PONG", rc.ReadLine())
		pub := servertest.DialClient(t, s)
		pub.Send("CONNECT {\"verbose\":false,\"headers\":true}\r\nHPUB old 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPING\r\n")
		require.Equal(t, "PONG", pub.ReadLine())
		require.Equal(t, "MSG old 1 2", rc.ReadLine())
		require.Equal(t, "hi", rc.ReadLine())
	})
	t.Run("wildcard publish without pedantic", func(t *testing.T) {
		// As upstream: the subject is delivered as it is to the
		// subscriptions that match it.
		rc := servertest.DialClient(t, s)
		rc.Send("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB foo.> 1\r\nPUB foo.* 2\r\nhi\r\nPING\r\n")
		require.Equal(t, "MSG foo.* 1 2", rc.ReadLine())
		require.Equal(t, "hi", rc.ReadLine())
		require.Equal(t, "PONG", rc.ReadLine())
	})
	t.Run("case insensitive ops and tabs", func(t *testing.T) {
		rc := servertest.DialClient(t, s)
		rc.Send("connect {\"verbose\":false,\"pedantic\":false}\r\nsub\tx  9\r\npub x\t2\r\nok\r\nping\r\n")
		require.Equal(t, "MSG x 9 2", rc.ReadLine())
		require.Equal(t, "ok", rc.ReadLine())
		require.Equal(t, "PONG", rc.ReadLine())
	})
}

func TestRawErrors(t *testing.T) {
	s := servertest.Start(t, server.Options{MaxPayload: 1024, MaxControlLine: 256, MaxSubs: 2})
	cases := []struct {
		name   string
		send   string
		err    string
		closes bool
	}{
		{"unknown op", "FOO bar\r\n", "-ERR 'Unknown Protocol Operation'", true},
		{"max payload", "PUB foo 2000\r\n", "-ERR 'Maximum Payload Violation'", true},
		{"max control line", "PUB " + strings.Repeat("a", 300) + " 1\r\n", "-ERR '" + protocol.TextMaxControlLine + "'", true},
		{"pedantic wildcard publish", "CONNECT {\"verbose\":false,\"pedantic\":true}\r\nPUB foo.* 1\r\nx\r\n", "-ERR 'Invalid Publish Subject'", false},
		{"invalid sub", "CONNECT {\"verbose\":false}\r\nSUB a..b 1\r\n", "-ERR 'Invalid Subject'", false},
		{"no responders needs headers", "CONNECT {\"verbose\":false,\"no_responders\":true}\r\n", "-ERR 'no responders requires headers support'", true},
		{"max subs", "CONNECT {\"verbose\":false}\r\nSUB a 1\r\nSUB b 2\r\nSUB c 3\r\n", "-ERR 'maximum subscriptions exceeded'", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc := servertest.DialClient(t, s)
			rc.Send(tc.send)
			require.Equal(t, tc.err, rc.ReadLine())
			if tc.closes {
				rc.ExpectClosed()
				return
			}
			rc.Send("PING\r\n")
			require.Equal(t, "PONG", rc.ReadLine())
		})
	}
}

func TestMaxConnections(t *testing.T) {
	s := servertest.Start(t, server.Options{MaxConn: 1})
	servertest.Connect(t, s)
	rc := servertest.DialClient(t, s)
	require.Equal(t, "-ERR 'maximum connections exceeded'", rc.ReadLine())
	rc.ExpectClosed()
	_, err := nats.Connect(s.ClientURL(), nats.NoReconnect())
	require.Error(t, err)
}

func TestStaleConnection(t *testing.T) {
	s := servertest.Start(t, server.Options{PingInterval: 100 * time.Millisecond, MaxPingsOut: 1})
	nc, err := net.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	defer nc.Close()
	_, err = nc.Write([]byte("CONNECT {\"verbose\":false,\"pedantic\":false}\r\n"))
	require.NoError(t, err)
	br := bufio.NewReader(nc)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var lines []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			break
		}
		lines = append(lines, strings.TrimSpace(line))
	}
	require.Contains(t, lines, "PING")
	require.Equal(t, "-ERR 'Stale Connection'", lines[len(lines)-1])
	require.EqualValues(t, 1, s.Counters().StaleConns.Load())
	v, err := s.Varz(nil)
	require.NoError(t, err)
	require.EqualValues(t, 1, v.StaleConnections)
	require.Equal(t, &snapshot.KindStats{Clients: 1}, v.StaleConnStats)
}

func TestSlowConsumerDoesNotBlockPublisher(t *testing.T) {
	s := servertest.Start(t, server.Options{MaxPayload: 64 * 1024, MaxPending: 256 * 1024, WriteDeadline: 500 * time.Millisecond})
	// A subscriber that never reads.
	slow, err := net.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	defer slow.Close()
	_, err = slow.Write([]byte("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB slow 1\r\nPING\r\n"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return s.GlobalAccount().NumSubscriptions() == 1 }, 2*time.Second, 5*time.Millisecond)

	pub := servertest.Connect(t, s)
	payload := make([]byte, 1024)
	start := time.Now()
	for range 20000 {
		require.NoError(t, pub.Publish("slow", payload))
	}
	require.NoError(t, pub.FlushTimeout(5*time.Second))
	require.Less(t, time.Since(start), 5*time.Second)
	require.Eventually(t, func() bool { return s.Counters().SlowConsumers.Load() >= 1 }, 5*time.Second, 10*time.Millisecond)
	require.True(t, pub.IsConnected())
	v, err := s.Varz(nil)
	require.NoError(t, err)
	require.Equal(t, uint64(v.SlowConsumers), v.SlowConsumerStats.Clients)
	require.Zero(t, v.SlowConsumerStats.Routes)
	require.NotZero(t, v.StalledClients, "the publisher was held back before the consumer was cut off")
}

func TestLameDuck(t *testing.T) {
	s := servertest.Start(t, server.Options{LameDuckGracePeriod: 10 * time.Millisecond, LameDuckDuration: 200 * time.Millisecond})
	var ldm atomic.Bool
	nc := servertest.Connect(t, s, nats.LameDuckModeHandler(func(*nats.Conn) { ldm.Store(true) }))
	closed := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.LameDuck(ctx))
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("client not closed")
	}
	require.True(t, ldm.Load())
}

func TestShutdownFlushesPending(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	rc := servertest.DialClient(t, s)
	rc.Send("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB f 1\r\nPING\r\n")
	require.Equal(t, "PONG", rc.ReadLine())
	pub := servertest.Connect(t, s)
	for i := range 100 {
		require.NoError(t, pub.Publish("f", []byte(fmt.Sprint(i))))
	}
	require.NoError(t, pub.Flush())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, s.Shutdown(ctx))
	n := 0
	for {
		line, err := rc.TryReadLine(2 * time.Second)
		if err != nil {
			break
		}
		if strings.HasPrefix(line, "MSG f 1") {
			n++
		}
	}
	require.Equal(t, 100, n)
}

func TestInternalClient(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	ic, err := s.NewInternalClient("")
	require.NoError(t, err)
	defer ic.Close()
	var mu sync.Mutex
	var got []string
	_, err = ic.Subscribe("svc.>", "", func(m *server.Msg) {
		mu.Lock()
		got = append(got, string(m.Subject)+":"+string(m.Data))
		mu.Unlock()
		if len(m.Reply) > 0 {
			_ = ic.Publish(string(m.Reply), "", nil, []byte("pong"))
		}
	})
	require.NoError(t, err)
	nc := servertest.Connect(t, s)
	resp, err := nc.Request("svc.ping", []byte("ping"), 2*time.Second)
	require.NoError(t, err)
	require.Equal(t, "pong", string(resp.Data))

	sub, err := nc.SubscribeSync("out")
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	require.NoError(t, ic.Publish("out", "", []byte("NATS/1.0\r\nK: V\r\n\r\n"), []byte("data")))
	m, err := sub.NextMsg(2 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "V", m.Header.Get("K"))
	require.Equal(t, "data", string(m.Data))
	mu.Lock()
	require.Equal(t, []string{"svc.ping:ping"}, got)
	mu.Unlock()
}

func TestNoFastProducerStallDrops(t *testing.T) {
	s := servertest.Start(t, server.Options{MaxPayload: 64 * 1024, MaxPending: 256 * 1024, NoFastProducerStall: true})
	slow, err := net.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	defer slow.Close()
	_, err = slow.Write([]byte("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB slow 1\r\nPING\r\n"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return s.GlobalAccount().NumSubscriptions() == 1 }, 2*time.Second, 5*time.Millisecond)
	pub := servertest.Connect(t, s)
	payload := make([]byte, 1024)
	for range 5000 {
		require.NoError(t, pub.Publish("slow", payload))
	}
	require.NoError(t, pub.FlushTimeout(5*time.Second))
	// The backlog stays under max_pending: messages are dropped for the
	// slow consumer instead of cutting it off.
	require.EqualValues(t, 0, s.Counters().SlowConsumers.Load())
	require.Zero(t, s.Counters().Stalls.Load())
	require.Equal(t, 2, s.NumClients())
}

func TestClosedConnectionKeepsSubscriptions(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	nc := servertest.Connect(t, s, nats.Name("leaver"))
	_, err := nc.SubscribeSync("keep.a")
	require.NoError(t, err)
	_, err = nc.QueueSubscribe("keep.b", "q", func(*nats.Msg) {})
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	nc.Close()
	// The client leaves the open list just before its closed record is
	// added: wait for the record.
	var cz *snapshot.Connz
	require.Eventually(t, func() bool {
		cz, err = s.Connz(&snapshot.ConnzOptions{State: snapshot.ConnClosed, Subscriptions: true})
		return err == nil && len(cz.Conns) == 1
	}, 2*time.Second, 5*time.Millisecond)
	require.Zero(t, s.NumClients())
	ci := cz.Conns[0]
	require.Equal(t, "leaver", ci.Name)
	require.Equal(t, "Client Closed", ci.Reason)
	require.ElementsMatch(t, []string{"keep.a", "keep.b"}, ci.Subs)
}

// A control line longer than an outbound chunk (possible with a large
// max_control_line) must not disturb what is already queued.
func TestHugeSubjectDelivery(t *testing.T) {
	s := servertest.Start(t, server.Options{MaxControlLine: 128 * 1024})
	nc := servertest.Connect(t, s)
	small, err := nc.SubscribeSync("small")
	require.NoError(t, err)
	for _, n := range []int{32700, 32710, 32760, 40000} {
		subj := "big." + strings.Repeat("x", n)
		sub, err := nc.SubscribeSync(subj)
		require.NoError(t, err)
		require.NoError(t, nc.Flush())
		for i := range 3 {
			require.NoError(t, nc.Publish("small", []byte(fmt.Sprint(i))))
			require.NoError(t, nc.Publish(subj, []byte("payload")))
		}
		for i := range 3 {
			m, err := small.NextMsg(2 * time.Second)
			require.NoError(t, err, "size %d", n)
			require.Equal(t, fmt.Sprint(i), string(m.Data))
			m, err = sub.NextMsg(2 * time.Second)
			require.NoError(t, err, "size %d", n)
			require.Equal(t, subj, m.Subject)
			require.Equal(t, "payload", string(m.Data))
		}
		require.NoError(t, sub.Unsubscribe())
	}
}

func TestVarzClientCounters(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	nc := servertest.Connect(t, s)
	sub, err := nc.SubscribeSync("c.>")
	require.NoError(t, err)
	// An in-process handler's deliveries are not a client's.
	ic, err := s.NewInternalClient(s.GlobalAccount().Name)
	require.NoError(t, err)
	_, err = ic.Subscribe("c.>", "", func(*server.Msg) {})
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	for range 3 {
		require.NoError(t, nc.Publish("c.x", []byte("hello")))
	}
	for range 3 {
		servertest.NextMsg(t, sub)
	}
	require.NoError(t, nc.Flush())
	var v *snapshot.Varz
	servertest.WaitUntil(t, "the counters", func() bool {
		v, err = s.Varz(nil)
		require.NoError(t, err)
		return v.OutMsgs == 6
	})
	require.EqualValues(t, 3, v.InClientMsgs)
	require.EqualValues(t, 15, v.InClientBytes)
	require.EqualValues(t, 3, v.OutClientMsgs)
	require.EqualValues(t, 15, v.OutClientBytes)
}
