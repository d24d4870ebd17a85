package server_test

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nats-io/nkeys"

	"natsd.dev/auth"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

func TestSessionConformanceHandler(t *testing.T) {
	servertest.RunSessions(t, servertest.HandlerSessions, servertest.SessionCaps{FlowControl: true})
}

func TestSessionConformanceHandlerJetStreamKind(t *testing.T) {
	servertest.RunSessions(t, servertest.HandlerSessions, servertest.SessionCaps{FlowControl: true, Kind: server.SessionJetStream})
}

func TestSessionConformanceConn(t *testing.T) {
	servertest.RunSessions(t, servertest.ConnSessions, servertest.SessionCaps{Kind: server.SessionClient, Type: "mqtt"})
}

// TestSessionDropMode: a best-effort session drops what its full queue
// cannot take and counts it; its publisher is never refused.
func TestSessionDropMode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := server.New(server.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Shutdown(t.Context())
		svc, err := s.Attach(server.SessionOptions{Kind: server.SessionSystem, QueueLen: 2, Drop: true})
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Close()
		gate := make(chan struct{})
		var got atomic.Int64
		if _, err := svc.Subscribe("svc", "", func(*server.Msg) { <-gate; got.Add(1) }); err != nil {
			t.Fatal(err)
		}
		pub, err := s.Attach(server.SessionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer pub.Close()
		for range 10 {
			if err := pub.Publish("svc", "", nil, []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		close(gate)
		synctest.Wait()
		if got.Load()+svc.Dropped() != 10 || svc.Dropped() == 0 {
			t.Fatalf("handled %d, dropped %d of 10", got.Load(), svc.Dropped())
		}
	})
}

// TestSessionQueueGroupSkipsFullMember: a queue group member whose queue
// is full passes the message to another member instead of refusing it.
func TestSessionQueueGroupSkipsFullMember(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	stuck, err := s.Attach(server.SessionOptions{QueueLen: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	gate := make(chan struct{})
	defer close(gate)
	if _, err := stuck.Subscribe("q", "workers", func(*server.Msg) { <-gate }); err != nil {
		t.Fatal(err)
	}
	free, err := s.Attach(server.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer free.Close()
	var got atomic.Int64
	if _, err := free.Subscribe("q", "workers", func(*server.Msg) { got.Add(1) }); err != nil {
		t.Fatal(err)
	}
	pub, err := s.Attach(server.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	for range 100 {
		if err := pub.Publish("q", "", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	// stuck holds one message in its handler and one queued at most.
	servertest.WaitUntil(t, "the free member's share", func() bool { return got.Load() >= 98 })
}

// TestSessionPublishAllocs: Publish from inside the server allocates
// nothing in steady state, with and without a handler subscriber.
func TestSessionPublishAllocs(t *testing.T) {
	if underRace {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	s := servertest.Start(t, server.Options{})
	const queue = 2048
	sess, err := s.Attach(server.SessionOptions{QueueLen: queue})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var got atomic.Int64
	hold := make(chan struct{})
	if _, err := sess.Subscribe("allocs.in", "", func(*server.Msg) { <-hold; got.Add(1) }); err != nil {
		t.Fatal(err)
	}
	ic, err := s.NewInternalClient("")
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	var icGot atomic.Int64
	if _, err := ic.Subscribe("allocs.ic", "", func(*server.Msg) { icGot.Add(1) }); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 64)
	hdr := []byte("NATS/1.0\r\nK: v\r\n\r\n")
	// The queue grows to its full length, and every slot gets its
	// buffer once, while the handler holds the first message.
	for range queue {
		if err := sess.Publish("allocs.in", "reply", hdr, data); err != nil {
			t.Fatal(err)
		}
	}
	close(hold)
	servertest.WaitUntil(t, "warm-up delivered", func() bool { return got.Load() == queue })
	for _, tc := range []struct {
		name string
		pub  func() error
	}{
		{"session/no-subscriber", func() error { return sess.Publish("allocs.none", "reply", hdr, data) }},
		{"session/handler", func() error { return sess.Publish("allocs.in", "reply", hdr, data) }},
		{"internal/handler", func() error { return ic.Publish("allocs.ic", "reply", hdr, data) }},
	} {
		n := testing.AllocsPerRun(1000, func() {
			if err := tc.pub(); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("%s: %v allocs/op, want 0", tc.name, n)
		}
	}
}

// TestSessionAuthChain: sessions authenticate through the same chain as
// CONNECT: token, nkey (the session signs the nonce), a user's allowed
// connection types, and the account's connection and subscription limits.
func TestSessionAuthChain(t *testing.T) {
	t.Run("Token", func(t *testing.T) {
		s := servertest.Start(t, server.Options{Authorization: &auth.Config{Token: "s3cr3t"}})
		if _, err := s.Attach(server.SessionOptions{Token: "wrong"}); err == nil {
			t.Fatal("wrong token accepted")
		}
		sess, err := s.Attach(server.SessionOptions{Token: "s3cr3t"})
		if err != nil {
			t.Fatal(err)
		}
		sess.Close()
	})
	t.Run("Nkey", func(t *testing.T) {
		kp, err := nkeys.CreateUser()
		if err != nil {
			t.Fatal(err)
		}
		other, _ := nkeys.CreateUser()
		pub, _ := kp.PublicKey()
		s := servertest.Start(t, server.Options{Authorization: &auth.Config{Users: []auth.User{{Nkey: pub}}}})
		if _, err := s.Attach(server.SessionOptions{Nkey: pub, Sign: other.Sign}); err == nil {
			t.Fatal("signature of another key accepted")
		}
		sess, err := s.Attach(server.SessionOptions{Nkey: pub, Sign: kp.Sign})
		if err != nil {
			t.Fatal(err)
		}
		sess.Close()
	})
	t.Run("AllowedConnectionTypes", func(t *testing.T) {
		s := servertest.Start(t, server.Options{Authorization: &auth.Config{Users: []auth.User{
			{Name: "mq", Password: "p", AllowedConnectionTypes: []auth.ConnKind{auth.KindMQTT}},
		}}})
		if _, err := s.Attach(server.SessionOptions{User: "mq", Password: "p"}); err == nil {
			t.Fatal("a STANDARD session of an MQTT-only user was accepted")
		}
		sess, err := s.Attach(server.SessionOptions{User: "mq", Password: "p", ConnKind: auth.KindMQTT, Type: "mqtt"})
		if err != nil {
			t.Fatal(err)
		}
		sess.Close()
	})
	t.Run("AccountLimits", func(t *testing.T) {
		s := servertest.Start(t, server.Options{
			Accounts:      []string{"A"},
			AccountLimits: map[string]server.AccountLimits{"A": {MaxConnections: 1, MaxSubscriptions: 1}},
		})
		sess, err := s.Attach(server.SessionOptions{Account: "A"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Attach(server.SessionOptions{Account: "A"}); err == nil {
			t.Fatal("a second session past max_connections 1")
		}
		if _, err := sess.Subscribe("a", "", func(*server.Msg) {}); err != nil {
			t.Fatal(err)
		}
		if _, err := sess.Subscribe("b", "", func(*server.Msg) {}); !errors.Is(err, server.ErrTooManySubs) {
			t.Fatalf("second subscription past max_subscriptions 1: %v", err)
		}
		sess.Close()
		// The slot is free again.
		again, err := s.Attach(server.SessionOptions{Account: "A"})
		if err != nil {
			t.Fatal(err)
		}
		again.Close()
	})
}

// TestSessionRefusesSocketPublisher: a socket client publishing into a
// full must-not-lose session waits up to the write deadline, then gets
// -ERR for the refused message (never a silent drop), and the server logs
// it.
func TestSessionRefusesSocketPublisher(t *testing.T) {
	s, logs := servertest.StartWithLogs(t, server.Options{WriteDeadline: 20 * time.Millisecond})
	slow, err := s.Attach(server.SessionOptions{QueueLen: 1})
	if err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	defer close(gate)
	defer slow.Close()
	if _, err := slow.Subscribe("full", "", func(*server.Msg) { <-gate }); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// One message in the handler, one in the queue, the third refused.
	if _, err := conn.Write([]byte("CONNECT {\"verbose\":false}\r\nPUB full 1\r\na\r\nPUB full 1\r\nb\r\nPUB full 1\r\nc\r\nPING\r\n")); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("no -ERR before %v", err)
		}
		if strings.HasPrefix(line, "-ERR") {
			if !strings.Contains(line, "Session Queue Full") {
				t.Fatalf("got %q", line)
			}
			break
		}
		if strings.HasPrefix(line, "PONG") {
			t.Fatal("PONG without -ERR: the refused message vanished")
		}
	}
	logs.WaitFor(t, `publish to "full" refused`)
}

// TestSessionSubDrain: messages already queued for a handler subscription
// are dropped by Unsubscribe and handed to the handler, in order, by
// Drain; after either, nothing new is queued for it.
func TestSessionSubDrain(t *testing.T) {
	for _, drain := range []bool{false, true} {
		name := "unsubscribe"
		if drain {
			name = "drain"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s, err := server.New(server.Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Shutdown(t.Context())
				cons, err := s.Attach(server.SessionOptions{})
				if err != nil {
					t.Fatal(err)
				}
				defer cons.Close()
				gate := make(chan struct{})
				var got []string
				sub, err := cons.Subscribe("d", "", func(m *server.Msg) {
					if len(got) == 0 {
						<-gate // the first holds the rest in the queue
					}
					got = append(got, string(m.Data))
				})
				if err != nil {
					t.Fatal(err)
				}
				pub, err := s.Attach(server.SessionOptions{})
				if err != nil {
					t.Fatal(err)
				}
				defer pub.Close()
				for _, d := range []string{"1", "2", "3"} {
					if err := pub.Publish("d", "", nil, []byte(d)); err != nil {
						t.Fatal(err)
					}
				}
				synctest.Wait() // "1" in the handler, "2" and "3" queued
				if drain {
					err = sub.Drain()
				} else {
					err = sub.Unsubscribe()
				}
				if err != nil {
					t.Fatal(err)
				}
				if err := pub.Publish("d", "", nil, []byte("4")); err != nil {
					t.Fatal(err)
				}
				close(gate)
				synctest.Wait()
				want := "[1]"
				if drain {
					want = "[1 2 3]"
				}
				if g := fmt.Sprint(got); g != want {
					t.Fatalf("handled %s, want %s", g, want)
				}
			})
		})
	}
}
