package leaf_test

import (
	"bytes"
	"net"
	"sync"
	"testing"
	"time"

	"natsd.dev/cluster/leaf"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// FuzzLeafPeer sends what a leaf node peer may send, after a valid
// CONNECT bound to account A, to a hub that also has account B. The
// oracle, whatever the bytes: the hub survives and still answers a
// client; no interest the peer registers lands outside A (neither an
// interest event nor a subscription in B); and once the peer's
// connection is gone, so is every subscription it made in A.
func FuzzLeafPeer(f *testing.F) {
	for _, seed := range []string{
		"LS+ foo\r\nLS+ bar q 3\r\nLMSG foo 5\r\nhello\r\nLS- foo\r\n",
		"LS+ foo\r\nLS+ foo\r\nLS- foo\r\nLS- foo\r\nLS- never\r\nLS- bar q\r\n",
		"LS+ q.> workers 5\r\nLS+ q.> workers 7\r\nLS- q.> workers\r\n",
		"LMSG foo reply 5\r\nhello\r\nLMSG foo + reply q1 q2 5\r\nhello\r\nLMSG foo | q1 5\r\nhello\r\n",
		"HMSG foo + reply q1 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
		"HMSG foo 12 11\r\nNATS/1.0\r\n\r\nh\r\n",
		"LS+ $LDS.x\r\nLS+ >\r\nLS+ *.* q -1\r\n",
		"LMSG foo 999999999999\r\n",
		"LMSG foo -1\r\n\r\n",
		"PING\r\nPONG\r\nINFO {}\r\n-ERR 'x'\r\n",
		"CONNECT {\"user\":\"u\",\"pass\":\"p\",\"remote_account\":\"B\"}\r\nLS+ again\r\n",
		"INFO {\"remote_account\":\"B\",\"connect_info\":true}\r\nLS+ again\r\n",
		"RS+ B foo\r\nSUB foo 1\r\nPUB foo 0\r\n\r\nA+ foo\r\n",
		"LS+ \r\nLS+ a..b\r\nLS+ foo bar baz qux\r\nLMSG\r\n\x00\xff",
		"ls+ lower\r\nLs+ mixed\r\nLS+\tfoo\r\nLS+  foo  \r\n",
	} {
		f.Add([]byte(seed))
	}
	s := servertest.Start(f, server.Options{Accounts: []string{"A", "B"}})
	hub, err := leaf.Start(s, &leaf.Options{Host: "127.0.0.1", Port: leaf.RandomPort, Username: "u", Password: "p", Account: "A"})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(hub.Close)
	accA, accB := s.LookupAccount("A"), s.LookupAccount("B")
	baseA := accA.NumSubscriptions()
	var mu sync.Mutex
	var leaked []server.InterestEvent
	f.Cleanup(s.AddInterestListener(server.InterestFunc(func(ev server.InterestEvent) {
		if ev.Origin == server.ConnLeaf && ev.Account != "A" {
			mu.Lock()
			leaked = append(leaked, ev)
			mu.Unlock()
		}
	})))
	client := servertest.Connect(f, s)
	f.Fuzz(func(t *testing.T, data []byte) {
		nc, err := net.Dial("tcp", hub.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		// An input that leaves an operation open (a payload still to
		// come) swallows the PING: the deadline ends the wait.
		nc.SetDeadline(time.Now().Add(300 * time.Millisecond))
		buf := make([]byte, 4096)
		if _, err := nc.Read(buf); err != nil {
			t.Fatal(err)
		}
		if _, err := nc.Write([]byte(`CONNECT {"user":"u","pass":"p","name":"fuzz"}` + "\r\n")); err != nil {
			t.Fatal(err)
		}
		_, _ = nc.Write(data)
		_, _ = nc.Write([]byte("PING\r\n"))
		// Read until PONG or the hub closes: everything sent was handled.
		var got []byte
		for !bytes.Contains(got, []byte("PONG\r\n")) {
			n, err := nc.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				break
			}
		}
		if n := accB.NumSubscriptions(); n != 0 {
			t.Fatalf("the peer's interest reached account B: %d subscriptions", n)
		}
		nc.Close()
		mu.Lock()
		if len(leaked) > 0 {
			t.Fatalf("leaf interest leaked out of its account: %+v", leaked)
		}
		mu.Unlock()
		servertest.WaitUntil(t, "the peer's interest gone with its connection", func() bool {
			return accA.NumSubscriptions() == baseA && hub.NumConnections() == 0
		})
		if err := client.Flush(); err != nil {
			t.Fatalf("the hub no longer answers a client: %v", err)
		}
	})
}
