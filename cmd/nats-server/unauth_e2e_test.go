package main

// End-to-end tests of the memory budget of connections that have not
// authenticated (max_unauthenticated_memory, natsd's own), against the
// built binary with raw sockets and nats.go; and, with
// NATSD_UNAUTH_FIGURES set, the figures of docs/configuration.md: RSS and
// goroutines of natsd and upstream nats-server under 2000 silent,
// trickling and WebSocket-fragmenting connections.

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/rand"
	"encoding/base64"
	binpkg "encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

const errTextUnauthMemory = "-ERR 'maximum unauthenticated memory exceeded'"

type unauthVarzDoc struct {
	Connections     int `json:"connections"`
	Unauthenticated struct {
		Connections int    `json:"connections"`
		Bytes       int64  `json:"bytes"`
		MaxMemory   int64  `json:"max_memory"`
		Refused     uint64 `json:"refused"`
		Closed      uint64 `json:"closed"`
	} `json:"unauthenticated"`
}

func getVarzInto(t *testing.T, httpPort int, into any) {
	t.Helper()
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(httpPort) + "/varz")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.NoError(t, json.NewDecoder(resp.Body).Decode(into))
}

// A few hundred silent connections against a small budget: past it new
// connections are refused and the oldest closed, each with the -ERR;
// /varz counts them, the log says so once, and a real client still gets
// in. A connection past its own budget is closed too.
func TestUnauthBudgetE2E(t *testing.T) {
	const n = 300
	mon := servertest.FreePorts(t, 1)[0]
	conf := writeFile(t, filepath.Join(t.TempDir(), "n.conf"), `
authorization { user: u, password: p, timeout: 60 }
max_unauthenticated_memory: 1MB
max_unauthenticated_conn_memory: 64KB
`)
	p := start(t, "-c", conf, "-m", strconv.Itoa(mon))
	addr := "127.0.0.1:" + strconv.Itoa(p.port)

	gotErr := make([]bool, n)
	var wg sync.WaitGroup
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range n {
		c, err := net.DialTimeout("tcp", addr, servertest.RawTimeout)
		require.NoError(t, err)
		conns = append(conns, c)
		br := bufio.NewReader(c)
		c.SetReadDeadline(time.Now().Add(servertest.RawTimeout))
		info, err := br.ReadString('\n')
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(info, "INFO "))
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Whatever comes next: the -ERR then the close, or nothing
			// until the test ends (closed below).
			c.SetReadDeadline(time.Now().Add(time.Minute))
			line, err := br.ReadString('\n')
			if err == nil {
				gotErr[i] = strings.TrimSuffix(line, "\r\n") == errTextUnauthMemory
				io.Copy(io.Discard, br)
			}
		}()
	}

	var v unauthVarzDoc
	servertest.WaitUntil(t, "refusals and closes counted", func() bool {
		getVarzInto(t, mon, &v)
		return v.Unauthenticated.Refused > 0 && v.Unauthenticated.Closed > 0
	})
	require.LessOrEqual(t, v.Unauthenticated.Bytes, v.Unauthenticated.MaxMemory)
	require.Equal(t, int64(1<<20), v.Unauthenticated.MaxMemory)
	open := v.Unauthenticated.Connections
	require.Less(t, open, n/2, "the budget holds far fewer than %d", n)

	// A real client gets in (at most a retry: the newcomer that finds the
	// budget full is refused, the next one finds room).
	var nc *nats.Conn
	var err error
	for range 3 {
		if nc, err = nats.Connect(p.url(), nats.UserInfo("u", "p")); err == nil {
			break
		}
	}
	require.NoError(t, err)
	defer nc.Close()
	sub, err := nc.SubscribeSync("x")
	require.NoError(t, err)
	require.NoError(t, nc.Publish("x", []byte("hi")))
	require.Equal(t, "hi", string(servertest.NextMsg(t, sub).Data))

	// One past its own budget: a PUB announcing a large payload, on a
	// server that needs no credentials (where they are needed, a first
	// byte that does not start CONNECT is refused at once).
	open2 := start(t, "-c", writeFile(t, filepath.Join(t.TempDir(), "open.conf"), "max_unauthenticated_conn_memory: 64KB\n"))
	rc := servertest.DialRaw(t, "127.0.0.1:"+strconv.Itoa(open2.port))
	require.True(t, strings.HasPrefix(rc.ReadLine(), "INFO "))
	rc.Send("PUB a 1000000\r\nxyz")
	require.Equal(t, errTextUnauthMemory, strings.TrimSuffix(rc.ReadLine(), "\r\n"))
	rc.ExpectClosed()

	// Everyone refused or closed got the -ERR and the close; the others
	// are still open.
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()
	got := 0
	for _, e := range gotErr {
		if e {
			got++
		}
	}
	getVarzInto(t, mon, &v)
	require.Equal(t, int(v.Unauthenticated.Refused+v.Unauthenticated.Closed), got)
	p.waitLog("Unauthenticated connections past their memory budget")
	require.Equal(t, 1, strings.Count(p.log.String(), "Unauthenticated connections past their memory budget"), "logged once per interval")
}

// TestUnauthMemoryFigures measures natsd and upstream nats-server with
// 2000 connections that do not authenticate: silent, trickling a CONNECT
// one byte a second, and WebSocket connections sending a compressed
// message as continuation frames that never end. It logs RSS, goroutines
// and bytes per connection (docs/configuration.md). Set
// NATSD_UNAUTH_FIGURES (and NATSD_UPSTREAM_SERVER) to run it; it takes
// about a minute.
func TestUnauthMemoryFigures(t *testing.T) {
	if os.Getenv("NATSD_UNAUTH_FIGURES") == "" {
		t.Skip("set NATSD_UNAUTH_FIGURES to measure")
	}
	n := 2000
	if s := os.Getenv("NATSD_UNAUTH_FIGURES_CONNS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	up := servertest.UpstreamBinary(t)
	for _, mode := range []string{"silent", "trickle", "wsfrag"} {
		for _, srv := range []struct{ name, bin, conf string }{
			{"natsd", binary, ""},
			{"upstream", up, ""},
			// The budget at work: room for about 640 silent connections.
			{"natsd/8MB", binary, "max_unauthenticated_memory: 8MB"},
		} {
			t.Run(mode+"/"+srv.name, func(t *testing.T) {
				f := measureUnauth(t, srv.bin, srv.conf, mode, n)
				t.Logf("FIGURES %-8s %-9s conns=%d rss_base=%.1fMiB rss=%.1fMiB per_conn=%.1fKiB goroutines=%d refused=%d closed=%d charged=%.1fMiB",
					mode, srv.name, f.open, float64(f.base)/(1<<20), float64(f.rss)/(1<<20),
					float64(f.rss-f.base)/float64(max(f.open, 1))/1024, f.goroutines, f.refused, f.closed, float64(f.charged)/(1<<20))
			})
		}
	}
}

type unauthFigures struct {
	base, rss        int64
	goroutines, open int
	refused, closed  uint64
	charged          int64 // natsd's estimate (/varz)
}

// wsFragChunk and wsFragFrames: what each WebSocket connection sends (a
// compressed message that never ends), bounded so that a server without
// a cap holds 2000 x 64 KiB.
const (
	wsFragChunk  = 4096
	wsFragFrames = 16
)

func measureUnauth(t *testing.T, bin, extra, mode string, n int) unauthFigures {
	ports := servertest.FreePorts(t, 3)
	conf := writeFile(t, filepath.Join(t.TempDir(), "m.conf"), fmt.Sprintf(`
listen: 127.0.0.1:%d
http: 127.0.0.1:%d
websocket { listen: "127.0.0.1:%d", no_tls: true, compression: true }
%s
`, ports[0], ports[1], ports[2], extra))
	dir := t.TempDir()
	servertest.StartProcess(t, bin, "-c", conf, "--ports_file_dir", dir)
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	wsAddr := "127.0.0.1:" + strconv.Itoa(ports[2])
	servertest.WaitListening(t, addr)
	servertest.WaitListening(t, wsAddr)
	nc := servertest.ConnectWhenReady(t, "nats://"+addr)
	defer nc.Close()
	// The ports file is named after the process id.
	var pid int
	servertest.WaitUntil(t, "the ports file", func() bool {
		m, _ := filepath.Glob(filepath.Join(dir, "*.ports"))
		if len(m) != 1 {
			return false
		}
		name := strings.TrimSuffix(filepath.Base(m[0]), ".ports")
		pid, _ = strconv.Atoi(name[strings.LastIndexByte(name, '_')+1:])
		return pid > 0
	})
	var f unauthFigures
	f.base = rssOf(t, pid)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	defer func() {
		close(stop)
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}()
	var ready sync.WaitGroup
	sem := make(chan struct{}, 64) // dial at most 64 at once
	for range n {
		ready.Add(1)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			a := addr
			if mode == "wsfrag" {
				a = wsAddr
			}
			c, err := net.DialTimeout("tcp", a, 10*time.Second)
			if err != nil {
				<-sem
				ready.Done()
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			switch mode {
			case "silent":
				<-sem
				ready.Done()
			case "trickle":
				<-sem
				ready.Done()
				line := []byte(`CONNECT {"verbose":false,"pedantic":false,"name":"trickle"}` + "\r\n")
				tk := time.NewTicker(time.Second)
				defer tk.Stop()
				for _, b := range line {
					select {
					case <-stop:
						return
					case <-tk.C:
					}
					if _, err := c.Write([]byte{b}); err != nil {
						return
					}
				}
			case "wsfrag":
				err := wsFragment(c)
				<-sem
				ready.Done()
				if err != nil {
					return
				}
			}
			io.Copy(io.Discard, c) // until closed by either side
		}()
	}
	ready.Wait()
	// Let the trickle run a few seconds (a few bytes each), the others
	// settle.
	settle := 2 * time.Second
	if mode == "trickle" {
		settle = 5 * time.Second
	}
	time.Sleep(settle)
	f.rss = rssOf(t, pid)
	f.goroutines = goroutinesOf(t, ports[1])
	var v unauthVarzDoc
	getVarzInto(t, ports[1], &v)
	f.open = v.Connections - 1 // the measuring client
	f.refused, f.closed = v.Unauthenticated.Refused, v.Unauthenticated.Closed
	f.charged = v.Unauthenticated.Bytes
	return f
}

// wsFragment upgrades c to WebSocket with permessage-deflate and sends
// the start of a compressed binary message as continuation frames
// without FIN.
func wsFragment(c net.Conn) error {
	key := make([]byte, 16)
	rand.Read(key)
	req := "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key) + "\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
	c.SetDeadline(time.Now().Add(10 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, req); err != nil {
		return err
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return fmt.Errorf("upgrade: %s", resp.Status)
	}
	// A valid deflate stream (about as long as its input: random bytes)
	// of a PUB whose payload never ends, cut into frames, the message
	// never ends either: a transport that buffers until FIN holds the
	// compressed bytes, one that inflates as frames arrive hands the PUB
	// to the server, whose parser holds its payload so far.
	raw := make([]byte, wsFragChunk*wsFragFrames)
	rand.Read(raw)
	copy(raw, "PUB x 100000\r\n")
	var z bytes.Buffer
	fw, _ := flate.NewWriter(&z, flate.BestSpeed)
	fw.Write(raw)
	fw.Flush()
	for i := range wsFragFrames {
		payload := z.Bytes()[i*wsFragChunk : (i+1)*wsFragChunk]
		var hdr [14]byte
		b0 := byte(0x00) // continuation, no FIN
		if i == 0 {
			b0 = 0x02 | 0x40 // binary, RSV1 (compressed), no FIN
		}
		hdr[0] = b0
		hdr[1] = 0x80 | 126 // masked, 16-bit length
		binpkg.BigEndian.PutUint16(hdr[2:], uint16(len(payload)))
		copy(hdr[4:8], key[:4])
		frame := append(hdr[:8:8], payload...) // copies: payload is z's
		for j := range payload {
			frame[8+j] ^= key[j%4]
		}
		if _, err := c.Write(frame); err != nil {
			return err
		}
	}
	return nil
}

// rssOf is the resident set size of pid, from /proc.
func rssOf(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			require.NoError(t, err)
			return kb * 1024
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// goroutinesOf counts the goroutines in /stacksz.
func goroutinesOf(t *testing.T, httpPort int) int {
	t.Helper()
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(httpPort) + "/stacksz")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "goroutine ") {
			n++
		}
	}
	return n
}

// As upstream: a connection that has not sent CONNECT gets no PING
// before a whole ping_interval; CONNECT brings the first PING forward to
// about 2s. Run against the binary and, when NATSD_UPSTREAM_SERVER is
// set, against upstream nats-server with the same file.
func TestNoPingBeforeConnectLikeUpstream(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a ping interval")
	}
	bins := []struct{ name, bin string }{{"natsd", binary}}
	if up := os.Getenv("NATSD_UPSTREAM_SERVER"); up != "" {
		bins = append(bins, struct{ name, bin string }{"upstream", up})
	}
	for _, b := range bins {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			port := servertest.FreePorts(t, 1)[0]
			conf := writeFile(t, filepath.Join(t.TempDir(), "p.conf"), fmt.Sprintf("listen: 127.0.0.1:%d\nping_interval: \"4s\"\n", port))
			servertest.StartProcess(t, b.bin, "-c", conf)
			addr := "127.0.0.1:" + strconv.Itoa(port)
			servertest.WaitListening(t, addr)
			silent := servertest.DialRaw(t, addr)
			require.True(t, strings.HasPrefix(silent.ReadLine(), "INFO "))
			start := time.Now()
			rc := servertest.DialRaw(t, addr)
			require.True(t, strings.HasPrefix(rc.ReadLine(), "INFO "))
			rc.Send("CONNECT {\"verbose\":false}\r\n")
			line, err := rc.TryReadLine(servertest.RawTimeout)
			require.NoError(t, err)
			require.Equal(t, "PING", line)
			require.Less(t, time.Since(start), 3500*time.Millisecond, "the first PING follows CONNECT")
			// The silent connection is older: a PING due at 2s would
			// have come first.
			line, err = silent.TryReadLine(20 * time.Millisecond)
			require.True(t, isTimeout(err), "silent connection got %q (%v)", line, err)
			// It gets one after the whole interval.
			line, err = silent.TryReadLine(servertest.RawTimeout)
			require.NoError(t, err)
			require.Equal(t, "PING", line)
		})
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
