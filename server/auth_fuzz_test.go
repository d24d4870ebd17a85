package server_test

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/auth"
	"natsd.dev/server"
)

// FuzzAuthProtocol sends arbitrary bytes, as a client of a server that
// requires authentication, over a real connection. The only user the
// input can log in as may publish and subscribe to "ok" alone; the other
// user's password is random. Oracles: every line back is well-formed
// protocol; the client receives no message on another subject; an
// observer subscribed to everything sees nothing from the client but "ok";
// the server keeps serving.
func FuzzAuthProtocol(f *testing.F) {
	for _, seed := range []string{
		"CONNECT {\"verbose\":false,\"user\":\"limited\",\"pass\":\"l\"}\r\nPUB ok 2\r\nhi\r\nPUB secret 2\r\nhi\r\nSUB > 1\r\nSUB ok 2\r\n",
		"CONNECT {\"verbose\":true,\"headers\":true,\"user\":\"limited\",\"pass\":\"l\"}\r\nHPUB secret 12 14\r\nNATS/1.0\r\n\r\nhi\r\nSUB secret q 3\r\n",
		"PUB secret 2\r\nhi\r\n",
		"CONNECT {\"verbose\":false,\"user\":\"free\",\"pass\":\"f\"}\r\nPUB secret 0\r\n\r\n",
		"CONNECT {\"verbose\":false,\"auth_token\":\"x\",\"nkey\":\"UABC\",\"sig\":\"!!\"}\r\n",
		"CONNECT {\"verbose\":false,\"user\":\"limited\",\"pass\":\"l\"}\r\nCONNECT {\"verbose\":false,\"user\":\"limited\",\"pass\":\"x\"}\r\nPUB ok 0\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	var secret [16]byte
	rand.Read(secret[:])
	freePass := hex.EncodeToString(secret[:])
	s, err := server.New(server.Options{
		Host: "127.0.0.1", Port: server.RandomPort, MaxPayload: 4096, MaxControlLine: 512, PingInterval: time.Hour,
		AuthTimeout: 2 * time.Second,
		Authorization: &auth.Config{Users: []auth.User{
			{Name: "limited", Password: "l", Permissions: &auth.Permissions{
				Publish:   &auth.SubjectPermission{Allow: []string{"ok"}},
				Subscribe: &auth.SubjectPermission{Allow: []string{"ok"}},
			}},
			{Name: "free", Password: freePass},
		}},
	})
	if err != nil {
		f.Fatal(err)
	}
	if err := s.Start(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Shutdown(f.Context()) })
	addr := s.Addr().String()
	observer, err := nats.Connect(s.ClientURL(), nats.UserInfo("free", freePass), nats.NoEcho(), nats.NoReconnect())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(observer.Close)
	seen, err := observer.SubscribeSync(">")
	if err != nil {
		f.Fatal(err)
	}
	if err := observer.Flush(); err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		br := bufio.NewReader(nc)
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "INFO ") {
			t.Fatalf("no INFO: %q %v", line, err)
		}
		go func() {
			nc.Write(data)
			nc.Write([]byte("\r\nPING\r\n"))
		}()
		// Something the client may not see, were it subscribed to it.
		observer.Publish("secret", []byte("x"))
		observer.Flush()
		nc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() || err == io.EOF || strings.Contains(err.Error(), "reset") {
					break
				}
				t.Fatalf("read: %v", err)
			}
			if !validServerLine(line) {
				t.Fatalf("malformed server line %q", line)
			}
			if strings.HasPrefix(line, "MSG ") || strings.HasPrefix(line, "HMSG ") {
				fields := strings.Fields(line)
				if fields[1] != "ok" {
					t.Fatalf("delivered a message on %q to a client allowed only ok", fields[1])
				}
				n := atoiOr(fields[len(fields)-1], -1)
				if n < 0 {
					t.Fatalf("bad size in %q", line)
				}
				if _, err := io.CopyN(io.Discard, br, int64(n)+2); err != nil {
					break
				}
			}
		}
		for {
			m, err := seen.NextMsg(time.Millisecond)
			if err != nil {
				break
			}
			if m.Subject != "ok" {
				t.Fatalf("the client published to %q", m.Subject)
			}
		}
	})
}
