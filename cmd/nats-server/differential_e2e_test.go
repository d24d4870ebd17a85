package main

// A differential test of the client protocol: seeded random mutations of
// valid sessions go to natsd and to the upstream binary side by side, and
// what each sends back (normalised, see wireResult) and whether it closes
// must agree. Differences with a documented reason (docs/compatibility.md,
// "Differences on the wire") are logged, any other fails the test.

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"natsd.dev/server/servertest"
)

// diffCasesEnv names the number of mutated inputs to run (default
// diffCasesDefault); their seeds are 1..n, so a failure is reproducible.
const (
	diffCasesEnv     = "NATSD_WIRE_DIFF_CASES"
	diffCasesDefault = 1000
)

func pubOp(subj, reply, data string) string {
	if reply != "" {
		subj += " " + reply
	}
	return "PUB " + subj + " " + strconv.Itoa(len(data)) + "\r\n" + data + "\r\n"
}

func hpubOp(subj, hdr, data string) string {
	return "HPUB " + subj + " " + strconv.Itoa(len(hdr)) + " " + strconv.Itoa(len(hdr)+len(data)) + "\r\n" + hdr + data + "\r\n"
}

// diffCorpus holds valid sessions: the mutations start from them.
var diffCorpus = []string{
	`CONNECT {"verbose":false,"pedantic":false,"headers":true}` + "\r\nSUB foo 1\r\n" + pubOp("foo", "", "hello") + "PING\r\n",
	`CONNECT {"verbose":true,"pedantic":true,"headers":true,"protocol":1}` + "\r\nSUB foo.* q 2\r\n" +
		pubOp("foo.bar", "reply.1", "abc") + hpubOp("foo.baz", "NATS/1.0\r\n\r\n", "hi") + "UNSUB 2\r\nPING\r\n",
	"CONNECT {}\r\nSUB > 1\r\n" + pubOp("a.b.c", "", "") + "UNSUB 1 1\r\n" + pubOp("x", "", "y") + "PING\r\n",
	`CONNECT {"user":"a","pass":"a","verbose":true}` + "\r\nSUB foo.> 1\r\nSUB bar 2\r\n" + pubOp("foo.x", "", "hi") + pubOp("bar", "", "hi") + "PING\r\n",
	"SUB foo 1\r\n" + pubOp("foo", "", "hi") + "PING\r\n",
	`CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,"protocol":1}` + "\r\nSUB _INBOX.1 1\r\n" +
		pubOp("svc", "_INBOX.1", "hi") + "PING\r\n",
	`CONNECT {"verbose":false,"pedantic":false,"headers":true,"echo":false}` + "\r\nSUB foo 1\r\n" +
		hpubOp("foo", "NATS/1.0\r\nA: B\r\n\r\n", "hi") + "PING\r\n",
	`CONNECT {"verbose":false}` + "\r\nSUB a 1\r\nSUB a 1\r\nUNSUB 1 2\r\n" + pubOp("a", "", "x") + pubOp("a", "", "y") + pubOp("a", "", "z") + "PING\r\n",
	`connect {"verbose":false}` + "\r\nsub\tfoo\t1\r\npub foo 1\r\nx\r\nping\r\n",
	`CONNECT {"pedantic":true,"verbose":false}` + "\r\nSUB a.* 1\r\n" + pubOp("a.*", "", "x") + "SUB a..b 2\r\nPING\r\n",
	`CONNECT {"user":"a","pass":"a","verbose":false,"pedantic":true}` + "\r\nSUB a..x 1\r\n" + pubOp("_INBOX.*", "", "x") + "PING\r\n",
	`CONNECT {"verbose":false}` + "\r\nPONG\r\n+OK\r\nINFO {}\r\nPING\r\n",
	`CONNECT {"verbose":true,"headers":true,"name":"n","lang":"go","version":"1.0"}` + "\r\nSUB q.> grp 7\r\n" +
		hpubOp("q.1", "NATS/1.0\r\nK: V\r\n\r\n", "data") + "UNSUB 7 0\r\nPING\r\n",
	`CONNECT {"verbose":true,"pedantic":true,"headers":true}` + "\r\nSUB foo q 1\r\nSUB foo 2\r\nSUB foo.> 3\r\n" +
		"HPUB foo r.1 12 14\r\nNATS/1.0\r\n\r\nhi\r\nUNSUB 9\r\nUNSUB 2 1\r\n" + pubOp("foo", "", "x") + pubOp("foo", "", "y") + "PING\r\n",
	`CONNECT {"verbose":false}` + "\r\nSUB\tfoo   1\r\nPUB\tfoo\t\t5 \r\nhello\r\nPING\r\nPONG\r\n" + pubOp("foo", "", strings.Repeat("x", 40)) + "PING\r\n",
	`CONNECT {"user":"a","pass":"a","verbose":true,"pedantic":false}` + "\r\nSUB foo.* 1\r\n" + pubOp("foo.bar", "foo.reply", "x") +
		pubOp("foo.>", "", "y") + "UNSUB 1\r\n" + pubOp("foo.bar", "", "z") + "PING\r\n",
}

// sizeArg finds the total size of PUB and HPUB lines.
var sizeArg = regexp.MustCompile(`(?m)^(?:PUB|HPUB|pub) [^\r\n]* (\d+)\r$`)

// interesting are the bytes mutations prefer: separators, line ends,
// control bytes, subject syntax, digits, JSON syntax.
const interesting = " \t\r\n\x00\x01\x7f\xff.*>0123456789{}\":,aZ"

// mutate returns a mutation of a corpus entry chosen by rng, and the
// write boundaries to send it with.
func mutate(rng *rand.Rand) [][]byte {
	in := []byte(diffCorpus[rng.IntN(len(diffCorpus))])
	pick := func() byte {
		if rng.IntN(4) == 0 {
			return byte(rng.IntN(256))
		}
		return interesting[rng.IntN(len(interesting))]
	}
	for range 1 + rng.IntN(3) {
		if len(in) == 0 {
			break
		}
		i := rng.IntN(len(in))
		switch rng.IntN(6) {
		case 0: // flip a byte
			in[i] = pick()
		case 1: // insert a byte
			in = append(in[:i], append([]byte{pick()}, in[i:]...)...)
		case 2: // delete a byte
			in = append(in[:i], in[i+1:]...)
		case 3: // a size off by one
			if m := sizeArg.FindAllSubmatchIndex(in, -1); len(m) > 0 {
				loc := m[rng.IntN(len(m))]
				n, _ := strconv.Atoi(string(in[loc[2]:loc[3]]))
				n += 1 - 2*rng.IntN(2)
				if n < 0 {
					n = 0
				}
				in = append(append(append([]byte{}, in[:loc[2]]...), strconv.Itoa(n)...), in[loc[3]:]...)
			}
		case 4: // a control byte into a subject
			if j := bytes.Index(in[i:], []byte("SUB ")); j >= 0 {
				at := i + j + 4 + rng.IntN(2)
				in = append(in[:at], append([]byte{byte(rng.IntN(32))}, in[at:]...)...)
			}
		case 5: // repeat a line
			s := bytes.LastIndexByte(in[:i], '\n') + 1
			if e := bytes.IndexByte(in[i:], '\n'); e >= 0 {
				line := append([]byte{}, in[s:i+e+1]...)
				in = append(in[:s], append(line, in[s:]...)...)
			}
		}
	}
	// The session ends with a PING, after a line end that finishes a
	// control line a mutation left open.
	in = append(in, "\r\nPING\r\n"...)
	var chunks [][]byte
	for rest := in; len(rest) > 0; {
		n := len(rest)
		if rng.IntN(2) == 0 {
			n = 1 + rng.IntN(len(rest))
		}
		chunks = append(chunks, rest[:n])
		rest = rest[n:]
	}
	return chunks
}

// Patterns of knownDifference.
var (
	leadingZeroSize = regexp.MustCompile(`(?m)^H?MSG [^\r\n]* 0\d+\r$`)
	verbThenLF      = regexp.MustCompile(`(?i)(^|\n)((h?pub|sub|unsub)[ \t]+|(connect|info)[ \t]*)\n`)
)

// knownDifference returns the documented reason (docs/compatibility.md,
// "Differences on the wire") for a difference between natsd's answer na
// and upstream's up to input in, or "".
func knownDifference(in []byte, na, up wireResult) string {
	if na.closed == up.closed && sortedLines(na.out) == sortedLines(up.out) {
		return "order of one message's copies to several subscriptions"
	}
	if leadingZeroSize.MatchString(up.out) {
		return "size with leading zeros"
	}
	// Upstream warns again when the message spans two reads.
	const warn = "-ERR 'Invalid Publish Subject'\r\n"
	nw, uw := strings.Count(na.out, warn), strings.Count(up.out, warn)
	if nw > 0 && nw < uw && na.closed == up.closed &&
		strings.ReplaceAll(na.out, warn, "") == strings.ReplaceAll(up.out, warn, "") {
		return "pedantic warning repeated by upstream"
	}
	if strings.Contains(na.out, "-ERR 'Invalid Subject'") && bytes.Contains(in, []byte("\f")) {
		return "form feed in a SUB subject"
	}
	if verbThenLF.Match(in) {
		return "arguments starting with an LF"
	}
	return ""
}

func sortedLines(s string) string {
	lines := strings.SplitAfter(s, "\n")
	slices.Sort(lines)
	return strings.Join(lines, "")
}

// strictConf requires authentication and has small limits, so the
// mutations also meet authorization violations and limit errors.
const strictConf = `
max_payload: 16
max_subscriptions: 2
authorization { users [
  {user: free, password: free}
  {user: a, password: a, permissions: {publish: ["foo", "foo.>"], subscribe: ["foo", "foo.>"]}}
]}
`

func TestWireDifferential(t *testing.T) {
	servertest.UpstreamBinary(t)
	for _, conf := range []struct{ name, text string }{{"open", wireConf}, {"strict", strictConf}} {
		t.Run(conf.name, func(t *testing.T) { wireDifferential(t, startWireServers(t, conf.text)) })
	}
}

func wireDifferential(t *testing.T, servers []wireServer) {
	n := diffCasesDefault
	if v := os.Getenv(diffCasesEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatalf("%s=%q: %v", diffCasesEnv, v, err)
		}
	}
	// The corpus as it is first, then the mutations.
	type result struct {
		seed   int
		in     []byte
		na, up wireResult
	}
	var (
		mu      sync.Mutex
		diffs   []result
		known   = map[string]int{}
		skipped int
	)
	run := func(seed int, chunks [][]byte) {
		in := bytes.Join(chunks, nil)
		pongs, complete := expectedPongs(in)
		if !complete {
			// A size mutation made a payload swallow the final PING:
			// both servers wait for more.
			mu.Lock()
			skipped++
			mu.Unlock()
			return
		}
		wait := 2 * time.Second
		var res []wireResult
		for try := range 2 {
			var err error
			if res, err = runWire(servers, chunks, pongs, wait); err != nil {
				t.Errorf("seed %d: %v", seed, err)
				return
			}
			if res[0] == res[1] || try == 1 {
				break
			}
			// A slow moment is no difference: once more, longer.
			wait = 5 * time.Second
		}
		if res[0] == res[1] {
			return
		}
		why := knownDifference(in, res[0], res[1])
		if why == "" && len(chunks) > 1 {
			// Sent in one write, do both agree, and natsd with what it
			// answered to the split input? Then upstream's answer
			// depended on how its reads split the input.
			if whole, err := runWire(servers, [][]byte{in}, pongs, wait); err == nil &&
				whole[0] == whole[1] && whole[0] == res[0] {
				why = "upstream's answer depends on how reads split"
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if why != "" {
			known[why]++
			return
		}
		diffs = append(diffs, result{seed, in, res[0], res[1]})
	}
	// One case at a time: the sessions share an account, and a SUB >
	// of one must not see another's messages.
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seed := range jobs {
				if seed < 0 {
					run(seed, [][]byte{[]byte(diffCorpus[-seed-1])})
					continue
				}
				run(seed, mutate(rand.New(rand.NewPCG(uint64(seed), 21))))
			}
		}()
	}
	for i := range diffCorpus {
		jobs <- -i - 1
	}
	for seed := 1; seed <= n; seed++ {
		jobs <- seed
	}
	close(jobs)
	wg.Wait()
	t.Logf("%d corpus sessions and %d mutations; documented differences: %v; ended inside an operation (not compared): %d",
		len(diffCorpus), n, known, skipped)
	for _, d := range diffs {
		t.Errorf("seed %d: input %q\n  natsd:    %v\n  upstream: %v", d.seed, d.in, d.na, d.up)
	}
	if len(diffs) > 0 {
		t.Log(fmt.Sprintf("%d differences", len(diffs)))
	}
}
