package main

// Wire fidelity: what the built binary answers to client protocol input,
// byte for byte, checked against the same expectations on the upstream
// nats-server binary when NATSD_UPSTREAM_SERVER names it (so the
// expectations are upstream's behaviour, not our reading of it).

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"natsd.dev/protocol"
	"natsd.dev/server/servertest"
)

// wireConf has a user without permissions (also the one a client without
// credentials gets) and a user limited to foo and foo.>.
const wireConf = `
no_auth_user: free
authorization {
  users [
    {user: free, password: free}
    {user: a, password: a, permissions: {
      publish: {allow: ["foo", "foo.>"]}
      subscribe: {allow: ["foo", "foo.>"]}
    }}
  ]
}
`

// wireServer is a server process under test: natsd, or upstream.
type wireServer struct {
	name string
	addr string
}

// startWireServers starts natsd and, when NATSD_UPSTREAM_SERVER is set,
// upstream, both with the configuration text.
func startWireServers(t *testing.T, text string) []wireServer {
	t.Helper()
	conf := writeFile(t, filepath.Join(t.TempDir(), "wire.conf"), text)
	p := start(t, "-c", conf)
	servers := []wireServer{{"natsd", "127.0.0.1:" + strconv.Itoa(p.port)}}
	if bin := os.Getenv(servertest.UpstreamEnv); bin != "" {
		port := servertest.FreePorts(t, 1)[0]
		addr := "127.0.0.1:" + strconv.Itoa(port)
		servertest.StartProcess(t, bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-c", conf)
		servertest.WaitListening(t, addr)
		servers = append(servers, wireServer{"upstream", addr})
	}
	return servers
}

// wireResult is what a server answered to one input.
type wireResult struct {
	// out is everything the server sent after its greeting, without the
	// lines that legitimately differ or depend on timing: INFO (server
	// ids, ports, the asynchronous INFO after the first PONG) and the
	// server's own PINGs.
	out string
	// closed: the server closed the connection (or reset it).
	closed bool
	// waiting: neither the expected PONGs nor a close came within the
	// time allowed: the server waits for more input.
	waiting bool
}

func (r wireResult) String() string {
	s := strconv.Quote(r.out)
	switch {
	case r.closed:
		s += " closed"
	case r.waiting:
		s += " waiting"
	}
	return s
}

// expectedPongs parses in as natsd's parser does and returns the number
// of PINGs a server answers, or -1 when the input is malformed (the
// server closes). complete is false when the input ends inside an
// operation or with something else than PING.
func expectedPongs(in []byte) (n int, complete bool) {
	var p protocol.Parser
	last := protocol.OpUnknown
	err := p.Parse(in, protocol.HandlerFunc(func(f *protocol.Frame) error {
		if last = f.Op; f.Op == protocol.OpPing {
			n++
		}
		return nil
	}))
	if err != nil {
		return -1, true
	}
	return n, bytes.HasSuffix(in, []byte("PING\r\n")) && last == protocol.OpPing
}

// wireExchange dials addr, reads the greeting, writes the chunks and reads
// until the server has answered pongs PINGs, or closes (pongs < 0), or
// wait passes.
func wireExchange(addr string, chunks [][]byte, pongs int, wait time.Duration) (wireResult, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return wireResult{}, err
	}
	defer c.Close()
	deadline := time.Now().Add(wait + 5*time.Second)
	c.SetDeadline(deadline)
	br := bufio.NewReader(c)
	if greet, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(greet, "INFO ") {
		return wireResult{}, errors.New("no INFO greeting: " + strconv.Quote(greet))
	}
	c.SetDeadline(time.Now().Add(wait))
	go func() {
		for _, ch := range chunks {
			if _, err := c.Write(ch); err != nil {
				return // the server closed: the reader sees it
			}
		}
	}()
	var res wireResult
	var out strings.Builder
	seen := 0
	for pongs < 0 || seen < pongs {
		line, err := br.ReadString('\n')
		switch {
		case line == "PONG\r\n":
			seen++
		case line == "PING\r\n", strings.HasPrefix(line, "INFO {"):
			continue
		}
		out.WriteString(line)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				res.waiting = true
			} else {
				res.closed = true
			}
			break
		}
	}
	res.out = out.String()
	return res, nil
}

// runWire sends in to each server and returns their results.
func runWire(servers []wireServer, chunks [][]byte, pongs int, wait time.Duration) ([]wireResult, error) {
	res := make([]wireResult, len(servers))
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i], errs[i] = wireExchange(s.addr, chunks, pongs, wait)
		}()
	}
	wg.Wait()
	return res, errors.Join(errs...)
}

// TestWireAnswersAsUpstream checks each answer issue 21 lists under
// "Answer as upstream does", on natsd and (when set) upstream alike.
func TestWireAnswersAsUpstream(t *testing.T) {
	servers := startWireServers(t, wireConf)
	const (
		quiet  = `CONNECT {"verbose":false,"pedantic":false,"headers":true}` + "\r\n"
		pedant = `CONNECT {"verbose":false,"pedantic":true,"headers":true}` + "\r\n"
		limitV = `CONNECT {"verbose":true,"pedantic":false,"user":"a","pass":"a"}` + "\r\n"
		limitP = `CONNECT {"verbose":false,"pedantic":true,"user":"a","pass":"a"}` + "\r\n"
	)
	cases := []wireCase{
		// Client options default to verbose and pedantic.
		{"CONNECT {} is verbose", "CONNECT {}\r\nPING\r\n", "+OK\r\nPONG\r\n", false},
		{"CONNECT null is verbose", "CONNECT null\r\nPING\r\n", "+OK\r\nPONG\r\n", false},
		{"CONNECT {} is pedantic", "CONNECT {}\r\nPUB a.* 1\r\nx\r\nPING\r\n",
			"+OK\r\n-ERR 'Invalid Publish Subject'\r\n+OK\r\nPONG\r\n", false},
		{"verbose before CONNECT", "SUB a 1\r\nPING\r\n", "+OK\r\nPONG\r\n", false},
		{"verbose +OK comes before the message", `CONNECT {"verbose":true}` + "\r\nSUB a 1\r\nPUB a 1\r\nx\r\nPING\r\n",
			"+OK\r\n+OK\r\n+OK\r\nMSG a 1 1\r\nx\r\nPONG\r\n", false},

		// Wildcard publish: silent without pedantic, warned (and still
		// delivered) with it.
		{"wildcard PUB without pedantic", quiet + "SUB a.* 1\r\nPUB a.* 1\r\nx\r\nPING\r\n", "MSG a.* 1 1\r\nx\r\nPONG\r\n", false},
		{"wildcard PUB with pedantic", pedant + "SUB a.* 1\r\nPUB a.* 1\r\nx\r\nPING\r\n",
			"-ERR 'Invalid Publish Subject'\r\nMSG a.* 1 1\r\nx\r\nPONG\r\n", false},
		{"empty token with pedantic", pedant + "PUB a..b 1\r\nx\r\nPING\r\n", "-ERR 'Invalid Publish Subject'\r\nPONG\r\n", false},
		{"control byte passes pedantic", pedant + "SUB > 1\r\nPUB a\x01b 1\r\nx\r\nPING\r\n", "MSG a\x01b 1 1\r\nx\r\nPONG\r\n", false},

		// HPUB needs headers: true in CONNECT.
		{"HPUB without headers closes", `CONNECT {"verbose":false}` + "\r\nHPUB a 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPING\r\n", "", true},
		{"HPUB before CONNECT closes", "HPUB a 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPING\r\n", "", true},
		{"HPUB with headers", quiet + "SUB a 1\r\nHPUB a 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPING\r\n",
			"HMSG a 1 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPONG\r\n", false},
		{"HPUB with an empty header block is a MSG", quiet + "SUB a 1\r\nHPUB a 0 2\r\nhi\r\nPING\r\n", "MSG a 1 2\r\nhi\r\nPONG\r\n", false},

		// Permissions are checked before subject validity.
		{"SUB a..x without permission", limitP + "SUB a..x 1\r\nPING\r\n",
			"-ERR 'Permissions Violation for Subscription to \"a..x\"'\r\nPONG\r\n", false},
		{"SUB foo..x without permission", limitV + "SUB foo..x 1\r\nPING\r\n",
			"+OK\r\n-ERR 'Permissions Violation for Subscription to \"foo..x\"'\r\nPONG\r\n", false},
		{"SUB a..x with permission", quiet + "SUB a..x 1\r\nPING\r\n", "-ERR 'Invalid Subject'\r\nPONG\r\n", false},
		{"SUB a..x on a SID in use", quiet + "SUB a 1\r\nSUB a..x 1\r\nPING\r\n", "PONG\r\n", false},
		{"pedantic warning before a malformed payload", pedant + "PUB a.* 2\r\nabc\r\nPING\r\n",
			"-ERR 'Invalid Publish Subject'\r\n-ERR 'Unknown Protocol Operation'\r\n", true},
		{"HPUB without headers closes before its payload", `CONNECT {"verbose":false}` + "\r\nHPUB a 2 5\r\nabcdefg\r\nPING\r\n", "", true},
		{"PUB _INBOX.* pedantic without permission", limitP + "PUB _INBOX.* 1\r\nx\r\nPING\r\n",
			"-ERR 'Invalid Publish Subject'\r\n-ERR 'Permissions Violation for Publish to \"_INBOX.*\"'\r\nPONG\r\n", false},

		// Malformed CONNECT: a silent close, or upstream's text.
		{"CONNECT bad JSON", "CONNECT {verbose\r\nPING\r\n", "", true},
		{"CONNECT wrong type", `CONNECT {"verbose":1}` + "\r\nPING\r\n", "", true},
		{"CONNECT trailing bytes", `CONNECT {"verbose":false} x` + "\r\nPING\r\n", "", true},
		{"CONNECT without JSON", "CONNECT\r\nPING\r\n", "", true},
		{"CONNECT protocol 2", `CONNECT {"verbose":false,"protocol":2}` + "\r\nPING\r\n", "-ERR 'invalid client protocol'\r\n", true},

		// HPUB sizes.
		{"HPUB header larger than total", quiet + "HPUB a 3 2\r\nab\r\nPING\r\n", "", true},
		{"HPUB header size not a number", quiet + "HPUB a x 2\r\nab\r\nPING\r\n", "", true},
		{"HPUB size of 10 digits", quiet + "HPUB a 1 0000000002\r\nab\r\nPING\r\n", "", true},
		{"HPUB missing CRLF", quiet + "HPUB a 1 2\r\nabc\r\nPING\r\n", "-ERR 'Unknown Protocol Operation'\r\n", true},

		// UNSUB and SUB split their arguments at a CR.
		{"UNSUB 3 10\\r*", quiet + "UNSUB 3 10\r*\r\nPING\r\n", "", true},
		{"UNSUB 1\\r", quiet + "SUB a 1\r\nUNSUB 1\r\r\nPUB a 1\r\nx\r\nPING\r\n", "PONG\r\n", false},
		{"SUB a\\rb is a queue", quiet + "SUB a\rb 1\r\nPUB a 1\r\nx\r\nPING\r\n", "MSG a 1 1\r\nx\r\nPONG\r\n", false},
		{"a CR drops a bare-LF line's last byte", `CONNECT {"verbose":false}` + "\ra\nSUB a 1\rZ\nPUB a 1\r\nx\r\nPING\r\n", "MSG a 1 1\r\nx\r\nPONG\r\n", false},
		{"a CR opening the arguments is one", quiet + "SUB \rfoo 1\nPUB foo 1\r\nx\r\nPING\r\n", "MSG foo 1 1\r\nx\r\nPONG\r\n", false},
		{"PUB keeps a CR in its subject", quiet + "SUB > 1\r\nPUB a\rb 1\r\nx\r\nPING\r\n", "MSG a\rb 1 1\r\nx\r\nPONG\r\n", false},

		// Control bytes in subjects are delivered as they are.
		{"control bytes in subjects", quiet + "SUB a\x01b 1\r\nPUB a\x01b r\x7f 1\r\nx\r\nPING\r\n", "MSG a\x01b 1 r\x7f 1\r\nx\r\nPONG\r\n", false},
		{"NUL in a subject", quiet + "SUB > 1\r\nPUB a\x00 1\r\nx\r\nPING\r\n", "MSG a\x00 1 1\r\nx\r\nPONG\r\n", false},
	}
	runWireCases(t, servers, cases)
}

// TestWireAuthAnswersAsUpstream: the same with authentication required.
func TestWireAuthAnswersAsUpstream(t *testing.T) {
	servers := startWireServers(t, strictConf)
	runWireCases(t, servers, []wireCase{
		// Refused at the first byte, before the line is parsed.
		{"garbage first", "SUB foo \r\nPING\r\n", "-ERR 'Authorization Violation'\r\n", true},
		{"not CONNECT first", "XYZ\r\n", "-ERR 'Authorization Violation'\r\n", true},
		{"CONNECT misspelled", "CONNEXT {}\r\n", "-ERR 'Unknown Protocol Operation'\r\n", true},
		// Credentials before the other options.
		{"no credentials and protocol 2", `CONNECT {"protocol":2}` + "\r\n", "-ERR 'Authorization Violation'\r\n", true},
		{"credentials and protocol 2", `CONNECT {"protocol":2,"user":"free","pass":"free"}` + "\r\n", "-ERR 'invalid client protocol'\r\n", true},
		{"no credentials and no_responders", `CONNECT {"no_responders":true}` + "\r\n", "-ERR 'Authorization Violation'\r\n", true},
		{"credentials and no_responders without headers", `CONNECT {"no_responders":true,"user":"free","pass":"free"}` + "\r\n",
			"-ERR 'no responders requires headers support'\r\n", true},
		{"bad JSON", `CONNECT {"user":"free",` + "\r\n", "", true},
		{"verbose by default", `CONNECT {"user":"free","pass":"free"}` + "\r\nPING\r\n", "+OK\r\nPONG\r\n", false},
	})
}

// wireCase is an input and the answer both servers give.
type wireCase struct {
	name, in, out string
	closed        bool
}

func runWireCases(t *testing.T, servers []wireServer, cases []wireCase) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					in := []byte(tc.in)
					pongs, complete := expectedPongs(in)
					if !complete {
						pongs = -1 // no final PING: read until the close
					}
					res, err := wireExchange(s.addr, [][]byte{in}, pongs, 5*time.Second)
					require.NoError(t, err)
					require.Equal(t, tc.out, res.out)
					require.Equal(t, tc.closed, res.closed, "closed")
					require.False(t, res.waiting, "the server waits for more input")
				})
			}
		})
	}
}
