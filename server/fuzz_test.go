package server_test

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"natsd.dev/server"
)

// FuzzClientProtocol sends arbitrary bytes over a real connection. Oracle:
// the server answers every line with well-formed protocol (or closes), never
// crashes or hangs, and keeps serving other clients.
func FuzzClientProtocol(f *testing.F) {
	for _, seed := range []string{
		"CONNECT {\"verbose\":false,\"pedantic\":false}\r\nPING\r\n",
		"CONNECT {\"verbose\":true,\"headers\":true}\r\nSUB a.* q 1\r\nPUB a.b r 3\r\nabc\r\nHPUB a.b 12 14\r\nNATS/1.0\r\n\r\nhi\r\nUNSUB 1 5\r\n",
		"PUB foo 5\r\nhel",
		"SUB > 1\r\nPUB x -1\r\n",
		"HPUB x 100 10\r\n",
		"\x00\xff\r\n\r\n",
		"CONNECT {\"verbose\":false,\"no_responders\":true,\"headers\":true}\r\nSUB _I.* 1\r\nPUB nobody _I.x 0\r\n\r\n",
		"RS+ $G foo\r\nMSG foo 1 0\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort, MaxPayload: 4096, MaxControlLine: 512, PingInterval: time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	if err := s.Start(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Shutdown(f.Context()) })
	addr := s.Addr().String()

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
		// Read what comes back until the server closes or goes quiet.
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
				// Skip the payload line(s): the size is the last field.
				fields := strings.Fields(line)
				n := atoiOr(fields[len(fields)-1], -1)
				if n < 0 {
					t.Fatalf("bad size in %q", line)
				}
				if _, err := io.CopyN(io.Discard, br, int64(n)+2); err != nil {
					break
				}
			}
		}
		// The server still serves others.
		other, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatalf("server stopped accepting: %v", err)
		}
		defer other.Close()
		other.SetDeadline(time.Now().Add(3 * time.Second))
		obr := bufio.NewReader(other)
		if _, err := obr.ReadString('\n'); err != nil {
			t.Fatalf("no INFO for next client: %v", err)
		}
		other.Write([]byte("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nPING\r\n"))
		for {
			line, err := obr.ReadString('\n')
			if err != nil {
				t.Fatalf("no PONG for next client: %v", err)
			}
			if line == "PONG\r\n" {
				break
			}
		}
	})
}

func validServerLine(line string) bool {
	if !strings.HasSuffix(line, "\r\n") {
		return false
	}
	for _, p := range []string{"INFO {", "MSG ", "HMSG ", "PING\r\n", "PONG\r\n", "+OK\r\n", "-ERR '"} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

func atoiOr(s string, def int) int {
	n := 0
	if s == "" {
		return def
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return def
		}
		n = n*10 + int(c-'0')
	}
	return n
}
