package leaf_test

import (
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
// oracle: the hub survives, and no interest the peer registers lands
// outside A.
func FuzzLeafPeer(f *testing.F) {
	for _, seed := range []string{
		"LS+ foo\r\nLS+ bar q 3\r\nLMSG foo 5\r\nhello\r\nLS- foo\r\n",
		"HMSG foo + reply q1 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
		"LS+ $LDS.x\r\nLS+ >\r\nLS+ *.* q -1\r\n",
		"LMSG foo 999999999999\r\n",
		"PING\r\nPONG\r\nINFO {}\r\n-ERR 'x'\r\n",
		"RS+ $G foo\r\nSUB foo 1\r\nPUB foo 0\r\n\r\n",
		"LS+ \r\nLS+ a..b\r\nLMSG\r\n\x00\xff",
	} {
		f.Add([]byte(seed))
	}
	s, logs := servertest.StartWithLogs(f, server.Options{Accounts: []string{"A", "B"}})
	hub, err := leaf.Start(s, &leaf.Options{Host: "127.0.0.1", Port: leaf.RandomPort, Username: "u", Password: "p", Account: "A"})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(hub.Close)
	var mu sync.Mutex
	var leaked []server.InterestEvent
	f.Cleanup(s.AddInterestListener(server.InterestFunc(func(ev server.InterestEvent) {
		if ev.Origin == server.ConnLeaf && ev.Account != "A" {
			mu.Lock()
			leaked = append(leaked, ev)
			mu.Unlock()
		}
	})))
	_ = logs
	f.Fuzz(func(t *testing.T, data []byte) {
		nc, err := net.Dial("tcp", hub.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(500 * time.Millisecond))
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
		for {
			n, err := nc.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil || containsPong(got) {
				break
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if len(leaked) > 0 {
			t.Fatalf("leaf interest leaked out of its account: %+v", leaked)
		}
	})
}

func containsPong(b []byte) bool {
	for i := 0; i+4 <= len(b); i++ {
		if string(b[i:i+4]) == "PONG" {
			return true
		}
	}
	return false
}
