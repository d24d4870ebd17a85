package main

import (
	"bufio"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// traceSession is a client session whose -V trace is compared with
// upstream's: verbose +OKs, a payload with bytes %q escapes, a header
// message, payloads at, past and under max_traced_msg_len (6), an empty
// one and a PING, whose PONG ends it.
const traceSession = `CONNECT {"verbose":true,"pedantic":false,"headers":true}` + "\r\n" +
	"SUB foo 1\r\n" +
	"PUB foo 9\r\nh\\\"llo\xc3\xa9x\r\n" +
	"HPUB foo 12 17\r\nNATS/1.0\r\n\r\nhello\r\n" +
	"PUB foo reply 6\r\nabcdef\r\n" +
	"PUB foo 7\r\nabcdefg\r\n" +
	"PUB bar 0\r\n\r\n" +
	"PING\r\n"

// traceWant is upstream 2.15.2's trace of traceSession with -V and
// --max_traced_msg_len 6, after each line's "host:port - cid:N - ".
var traceWant = []string{
	`<<- [CONNECT {"verbose":true,"pedantic":false,"headers":true}]`,
	`->> [OK]`,
	`<<- [SUB foo 1]`,
	`->> [OK]`,
	`<<- [PUB foo 9]`,
	`<<- MSG_PAYLOAD: ["h\\\"llo..."]`,
	`->> [OK]`,
	`->> [MSG foo 1 9]`,
	`->> MSG_PAYLOAD: ["h\\\"llo..."]`,
	`<<- [HPUB foo 12 17]`,
	`<<- MSG_PAYLOAD: ["NATS/1..."]`,
	`->> [OK]`,
	`->> [HMSG foo 1 12 17]`,
	`->> MSG_PAYLOAD: ["NATS/1..."]`,
	`<<- [PUB foo reply 6]`,
	`<<- MSG_PAYLOAD: ["abcdef"]`,
	`->> [OK]`,
	`->> [MSG foo 1 reply 6]`,
	`->> MSG_PAYLOAD: ["abcdef"]`,
	`<<- [PUB foo 7]`,
	`<<- MSG_PAYLOAD: ["abcdef..."]`,
	`->> [OK]`,
	`->> [MSG foo 1 7]`,
	`->> MSG_PAYLOAD: ["abcdef..."]`,
	`<<- [PUB bar 0]`,
	`->> [OK]`,
	`<<- [PING]`,
	`->> [PONG]`,
}

// delSubSession removes subscriptions each way upstream traces as
// DELSUB: an UNSUB, the last message of an UNSUB with a maximum, and the
// connection's close.
const delSubSession = `CONNECT {"verbose":false}` + "\r\nSUB foo 1\r\nSUB bar 2\r\nSUB baz 3\r\nUNSUB 1\r\nUNSUB 2 1\r\nPUB bar 1\r\nx\r\nPING\r\n"

var delSubWant = []string{
	`<<- [CONNECT {"verbose":false}]`,
	`<<- [SUB foo 1]`,
	`<<- [SUB bar 2]`,
	`<<- [SUB baz 3]`,
	`<<- [UNSUB 1]`,
	`<-> [DELSUB 1]`,
	`<<- [UNSUB 2 1]`,
	`<<- [PUB bar 1]`,
	`<<- MSG_PAYLOAD: ["x"]`,
	`->> [MSG bar 2 1]`,
	`->> MSG_PAYLOAD: ["x"]`,
	`<-> [DELSUB 2]`,
	`<<- [PING]`,
	`->> [PONG]`,
	`<-> [DELSUB 3]`,
}

var traceLine = regexp.MustCompile(`\[TRC\] 127\.0\.0\.1:\d+ - cid:\d+ - (.*)$`)

// runTraceSession plays script (ending with PING) on port, closes the
// connection once the PONG came, and returns the connection's trace
// lines from log up to the line last.
func runTraceSession(t *testing.T, port int, log *servertest.Logs, script, last string) []string {
	t.Helper()
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = c.Write([]byte(script))
	require.NoError(t, err)
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		if line == "PONG\r\n" {
			break
		}
	}
	c.Close()
	log.WaitFor(t, last)
	var got []string
	for _, l := range strings.Split(log.String(), "\n") {
		if m := traceLine.FindStringSubmatch(l); m != nil {
			got = append(got, m[1])
			if m[1] == last {
				break
			}
		}
	}
	return got
}

// TestTraceOutboundAndPayloads: -V traces what the server sends (+OK,
// MSG, HMSG, PONG), every payload, cut at max_traced_msg_len, and each
// subscription's removal (DELSUB), line for
// line as upstream does (compared with the upstream binary when
// NATSD_UPSTREAM_SERVER is set).
func TestTraceOutboundAndPayloads(t *testing.T) {
	p := start(t, "-V", "--max_traced_msg_len", "6")
	require.Equal(t, traceWant, runTraceSession(t, p.port, p.log, traceSession, "->> [PONG]"))
	q := start(t, "-V")
	require.Equal(t, delSubWant, runTraceSession(t, q.port, q.log, delSubSession, "<-> [DELSUB 3]"))

	if os.Getenv(servertest.UpstreamEnv) == "" {
		return
	}
	bin := servertest.UpstreamBinary(t)
	port := servertest.FreePorts(t, 1)[0]
	logs := servertest.StartProcess(t, bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-V", "--max_traced_msg_len", "6")
	servertest.WaitListening(t, "127.0.0.1:"+strconv.Itoa(port))
	require.Equal(t, traceWant, runTraceSession(t, port, logs, traceSession, "->> [PONG]"), "upstream's trace")
	port = servertest.FreePorts(t, 1)[0]
	logs = servertest.StartProcess(t, bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-V")
	servertest.WaitListening(t, "127.0.0.1:"+strconv.Itoa(port))
	require.Equal(t, delSubWant, runTraceSession(t, port, logs, delSubSession, "<-> [DELSUB 3]"), "upstream's trace")
}

// TestLogPrefixAfterConnect: after an accepted CONNECT the log prefix
// names the client ("v<version>:<lang>:<name>") and its identity
// ("<account>/user:<user>", token, nkey), as upstream 2.15.2 writes them;
// a CONNECT without them adds nothing (the sessions above).
func TestLogPrefixAfterConnect(t *testing.T) {
	const connect = `CONNECT {"verbose":false,"lang":"go","version":"1.2","name":"n","user":"x"}`
	script := connect + "\r\nPING\r\n"
	const tags = `"v1.2:go:n" - "$G/user:x" - `
	want := []string{`<<- [` + connect + `]`, tags + `<<- [PING]`, tags + `->> [PONG]`}
	p := start(t, "-V")
	require.Equal(t, want, runTraceSession(t, p.port, p.log, script, tags+"->> [PONG]"))

	token := start(t, "-V", "--auth", "tok")
	script = `CONNECT {"verbose":false,"lang":"py","auth_token":"tok"}` + "\r\nPING\r\n"
	got := runTraceSession(t, token.port, token.log, script, `"py" - "$G/token" - ->> [PONG]`)
	require.Equal(t, `"py" - "$G/token" - <<- [PING]`, got[len(got)-2])

	if os.Getenv(servertest.UpstreamEnv) == "" {
		return
	}
	bin := servertest.UpstreamBinary(t)
	port := servertest.FreePorts(t, 1)[0]
	logs := servertest.StartProcess(t, bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-V")
	servertest.WaitListening(t, "127.0.0.1:"+strconv.Itoa(port))
	require.Equal(t, want, runTraceSession(t, port, logs, connect+"\r\nPING\r\n", tags+"->> [PONG]"), "upstream's trace")
}

// TestTraceVerboseSystemAccount: -VV traces the system account's
// internal client as upstream's "SYSTEM": its subscriptions and what it
// publishes, e.g. the answer to a $SYS request; -V does not.
func TestTraceVerboseSystemAccount(t *testing.T) {
	dir := t.TempDir()
	const accounts = `accounts { SYS { users [{user: sys, password: sys}] } }
system_account: SYS
`
	conf := writeFile(t, dir+"/sys.conf", accounts)
	verbose := writeFile(t, dir+"/verbose.conf", accounts+"trace_verbose: true\n")
	for _, tc := range []struct {
		name    string
		args    []string
		verbose bool
	}{
		{"-VV", []string{"-c", conf, "-VV"}, true},
		{"-DVV", []string{"-c", conf, "-DVV"}, true},
		{"trace_verbose", []string{"-c", verbose}, true},
		{"-V", []string{"-c", conf, "-V"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := start(t, tc.args...)
			nc := p.connect(nats.UserInfo("sys", "sys"))
			_, err := nc.Request("$SYS.REQ.SERVER.PING.IDZ", nil, 5*time.Second)
			require.NoError(t, err)
			p.waitLog("->> MSG_PAYLOAD: [")
			if !tc.verbose {
				nc.Close()
				p.signal(syscall.SIGTERM)
				p.exitCode()
				require.NotContains(t, p.log.String(), "SYSTEM - ")
				return
			}
			p.waitLog("[TRC] SYSTEM - <<- [SUB $SYS.REQ.SERVER.PING.IDZ  ")
			p.waitLog("[TRC] SYSTEM - <<- [PUB _INBOX.")
			p.waitLog("[TRC] SYSTEM - <<- MSG_PAYLOAD: [\"{\\\"name\\\":")
		})
	}
}
