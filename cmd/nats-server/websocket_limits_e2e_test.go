package main

// End-to-end tests of the caps on compressed WebSocket messages, against
// the built binary with raw sockets, and side by side with upstream
// nats-server when NATSD_UPSTREAM_SERVER names it: a compressed message
// that never ends (empty deflate blocks in endless continuation frames,
// from connections that never authenticate) and a deflate bomb of small
// PUBs. natsd closes both with 1009; the tests report the server's RSS and
// a healthy client's request latency under attack, next to upstream's.

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	be "encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// wsLimitsConf is the configuration both servers run: users (so the
// attackers are connections that never authenticate; a long auth timeout
// keeps the timer out of the way) and a compressing ws:// listener. WSADDR
// is replaced by the listener's address.
const wsLimitsConf = `
authorization { user: good, password: pw, timeout: 60 }
websocket { listen: "WSADDR", no_tls: true, compression: true }
`

// limitsServer is one server under test: its client URL, WebSocket
// address and pid.
type limitsServer struct {
	name   string
	url    string
	wsAddr string
	pid    int
}

// startLimitsNatsd runs the natsd binary with wsLimitsConf.
func startLimitsNatsd(t *testing.T) limitsServer {
	t.Helper()
	conf := writeFile(t, filepath.Join(t.TempDir(), "ws.conf"), strings.Replace(wsLimitsConf, "WSADDR", "127.0.0.1:-1", 1))
	p := start(t, "-c", conf)
	return limitsServer{name: "natsd", url: p.url(), wsAddr: strings.TrimPrefix(p.websocketURL(), "ws://"), pid: p.cmd.Process.Pid}
}

// startLimitsUpstream runs upstream nats-server with wsLimitsConf, or
// returns false when NATSD_UPSTREAM_SERVER is not set.
func startLimitsUpstream(t *testing.T) (limitsServer, bool) {
	t.Helper()
	bin := os.Getenv(servertest.UpstreamEnv)
	if bin == "" {
		return limitsServer{}, false
	}
	ports := servertest.FreePorts(t, 2)
	ws := "127.0.0.1:" + strconv.Itoa(ports[1])
	conf := writeFile(t, filepath.Join(t.TempDir(), "up.conf"), strings.Replace(wsLimitsConf, "WSADDR", ws, 1))
	servertest.StartProcess(t, bin, "-c", conf, "-a", "127.0.0.1", "-p", strconv.Itoa(ports[0]))
	servertest.WaitListening(t, ws)
	url := "nats://127.0.0.1:" + strconv.Itoa(ports[0])
	servertest.WaitListening(t, strings.TrimPrefix(url, "nats://"))
	return limitsServer{name: "upstream", url: url, wsAddr: ws, pid: childPid(t, bin)}, true
}

// childPid finds the process of this test that runs bin (StartProcess
// does not tell its pid).
func childPid(t *testing.T, bin string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces: cut at ')'.
		_, rest, _ := strings.Cut(string(stat), ") ")
		f := strings.Fields(rest)
		if len(f) < 2 || f[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		if exe, _ := os.Readlink("/proc/" + e.Name() + "/exe"); exe == bin {
			return pid
		}
	}
	t.Fatalf("no child process runs %s", bin)
	return 0
}

// rssMiB is the resident set size of pid in MiB, 0 when unknown.
func rssMiB(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return float64(kb) / 1024
		}
	}
	return 0
}

// rssSampler records the peak RSS of a process until stopped.
type rssSampler struct {
	peak atomic.Uint64 // KiB
	stop chan struct{}
	done chan struct{}
}

func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if kb := uint64(rssMiB(pid) * 1024); kb > s.peak.Load() {
				s.peak.Store(kb)
			}
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// Stop ends sampling and returns the peak in MiB.
func (s *rssSampler) Stop() float64 {
	close(s.stop)
	<-s.done
	return float64(s.peak.Load()) / 1024
}

// wsClientConn is a raw WebSocket client: frames are built and read by
// hand. The tests here and in advisory_ws_e2e_test.go share it.
type wsClientConn struct {
	nc net.Conn
	br *bufio.Reader
}

// dialDeflate connects and upgrades on / with permessage-deflate.
func dialDeflate(addr string) (*wsClientConn, error) { return dialDeflatePath(addr, "/") }

// dialDeflatePath connects and upgrades on path with permessage-deflate.
func dialDeflatePath(addr, path string) (*wsClientConn, error) { return dialWS(addr, path, true) }

// dialWS connects to addr and upgrades on path, offering
// permessage-deflate when compress is set; an answer other than 101 (or,
// with compress, one that does not agree to compress) is an error.
func dialWS(addr, path string, compress bool) (*wsClientConn, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	ext := ""
	if compress {
		ext = "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_no_context_takeover\r\n"
	}
	_, err = fmt.Fprintf(nc, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n", path, addr, ext)
	if err != nil {
		nc.Close()
		return nil, err
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols || (compress && !strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate")) {
		nc.Close()
		return nil, fmt.Errorf("upgrade answered %s, extensions %q", resp.Status, resp.Header.Get("Sec-WebSocket-Extensions"))
	}
	nc.SetDeadline(time.Time{})
	return &wsClientConn{nc: nc, br: br}, nil
}

// appendMaskedFrame appends a client frame with the given first byte.
func appendMaskedFrame(dst []byte, b0 byte, payload []byte) []byte {
	return appendMaskedFrameLen(dst, b0, payload, uint64(len(payload)))
}

// appendMaskedFrameLen appends a client frame whose header announces n
// payload bytes, whatever len(payload) is (to lie about it).
func appendMaskedFrameLen(dst []byte, b0 byte, payload []byte, n uint64) []byte {
	key := [4]byte{0x5a, 0x17, 0xc3, 0x81}
	switch {
	case n < 126:
		dst = append(dst, b0, 0x80|byte(n))
	case n < 1<<16:
		dst = be.BigEndian.AppendUint16(append(dst, b0, 0x80|126), uint16(n))
	default:
		dst = be.BigEndian.AppendUint64(append(dst, b0, 0x80|127), n)
	}
	dst = append(dst, key[:]...)
	for i, b := range payload {
		dst = append(dst, b^key[i%4])
	}
	return dst
}

// closeCode reads server frames until a close frame and returns its code;
// 0 when the connection ended without one (see readClose).
func (c *wsClientConn) closeCode() int {
	code, _ := c.readClose()
	return code
}

// readClose reads server frames, skipping the payload of others, until a
// close frame, and returns its code (1005 for a close without one); 0 and
// the read error when the connection ended without a close frame.
func (c *wsClientConn) readClose() (int, error) {
	for {
		var h [2]byte
		if _, err := io.ReadFull(c.br, h[:]); err != nil {
			return 0, err
		}
		n := uint64(h[1] & 0x7F)
		switch n {
		case 126:
			var l [2]byte
			if _, err := io.ReadFull(c.br, l[:]); err != nil {
				return 0, err
			}
			n = uint64(be.BigEndian.Uint16(l[:]))
		case 127:
			var l [8]byte
			if _, err := io.ReadFull(c.br, l[:]); err != nil {
				return 0, err
			}
			n = be.BigEndian.Uint64(l[:])
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(c.br, p); err != nil {
			return 0, err
		}
		if h[0]&0x0F == 8 {
			if len(p) < 2 {
				return 1005, nil
			}
			return int(be.BigEndian.Uint16(p)), nil
		}
	}
}

// endlessMessage sends one compressed message that never ends: a first
// frame and continuation frames of 64 KiB of empty deflate blocks (which
// inflate to nothing), until the server closes or limit bytes went out.
// It returns the close code (0 for none) and the bytes written.
func endlessMessage(ctx context.Context, addr string, limit int, chunk []byte) (int, int, error) {
	c, err := dialDeflate(addr)
	if err != nil {
		return 0, 0, err
	}
	defer c.nc.Close()
	code := make(chan int, 1)
	go func() { code <- c.closeCode() }()
	first := appendMaskedFrame(nil, 0x42, chunk) // RSV1, binary, no FIN
	cont := appendMaskedFrame(nil, 0x00, chunk)  // continuation, no FIN
	sent := 0
	buf := first
	for sent < limit && ctx.Err() == nil {
		c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
		n, err := c.nc.Write(buf)
		sent += n
		if err != nil {
			break
		}
		buf = cont
	}
	if ctx.Err() != nil {
		c.nc.Close() // the attack is over: do not wait for the server
		<-code
		return 0, sent, ctx.Err()
	}
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	return <-code, sent, nil
}

// attackResult sums up an attack on one server.
type attackResult struct {
	conns    int         // connections that ran the attack to their end
	codes    map[int]int // close code -> connections
	peakRSS  float64     // MiB
	baseRSS  float64     // MiB, before the attack
	afterRSS float64     // MiB, when the attack ended
	maxLat   time.Duration
	medLat   time.Duration
	requests int
}

func (r attackResult) String() string {
	return fmt.Sprintf("%d connections closed with %v; RSS %.0f MiB before, peak %.0f MiB, %.0f MiB after; "+
		"healthy client: %d requests, median %v, max %v",
		r.conns, r.codes, r.baseRSS, r.peakRSS, r.afterRSS, r.requests, r.medLat.Round(time.Microsecond), r.maxLat.Round(time.Microsecond))
}

// attackEndless runs attackers connections, each sending endless
// compressed continuation frames and starting again when closed, for d,
// while a healthy client makes requests through the server.
func attackEndless(t *testing.T, s limitsServer, attackers int, d time.Duration) attackResult {
	t.Helper()
	nc, err := nats.Connect(s.url, nats.UserInfo("good", "pw"), nats.NoReconnect(), nats.Timeout(5*time.Second))
	require.NoError(t, err)
	defer nc.Close()
	responder, err := nats.Connect(s.url, nats.UserInfo("good", "pw"), nats.NoReconnect(), nats.Timeout(5*time.Second))
	require.NoError(t, err)
	defer responder.Close()
	_, err = responder.Subscribe("svc", func(m *nats.Msg) { m.Respond(m.Data) })
	require.NoError(t, err)
	require.NoError(t, responder.Flush())

	res := attackResult{codes: map[int]int{}, baseRSS: rssMiB(s.pid)}
	rss := sampleRSS(s.pid)
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	chunk := bytes.Repeat([]byte{0x00, 0x00, 0x00, 0xff, 0xff}, (64<<10)/5)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range attackers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				// 64 MiB is far beyond any cap: a connection not closed
				// by then is buffering without bound.
				code, _, err := endlessMessage(ctx, s.wsAddr, 64<<20, chunk)
				if err != nil || ctx.Err() != nil {
					return // the deadline cut it short: not counted
				}
				mu.Lock()
				res.conns++
				res.codes[code]++
				mu.Unlock()
			}
		}()
	}
	var lats []time.Duration
	for ctx.Err() == nil {
		start := time.Now()
		_, err := nc.Request("svc", []byte("ping"), 10*time.Second)
		require.NoError(t, err, "the healthy client's request under attack")
		lats = append(lats, time.Since(start))
		time.Sleep(10 * time.Millisecond)
	}
	wg.Wait()
	res.peakRSS = rss.Stop()
	res.afterRSS = rssMiB(s.pid)
	slices.Sort(lats)
	res.requests = len(lats)
	if len(lats) > 0 {
		res.medLat, res.maxLat = lats[len(lats)/2], lats[len(lats)-1]
	}
	return res
}

// attackDuration is how long the endless-message attack runs; set
// NATSD_WS_ATTACK_SECONDS for a longer run.
func attackDuration() time.Duration {
	if s, err := strconv.Atoi(os.Getenv("NATSD_WS_ATTACK_SECONDS")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 3 * time.Second
}

// TestWebsocketEndlessCompressedMessage: 16 connections that never
// authenticate send compressed messages that never end (empty deflate
// blocks). natsd inflates them as they come and closes each with 1009
// once it carried 64 KiB that inflated to nothing (at most 8 x max_payload
// in any case), holding no more than a decompressor per connection
// meanwhile, so its RSS stays flat; the figures are logged next to
// upstream's under the same attack (upstream buffers about 8.5 MiB per
// connection, then drops it without a close frame).
func TestWebsocketEndlessCompressedMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("an attack of several seconds")
	}
	const attackers = 16
	ours := attackEndless(t, startLimitsNatsd(t), attackers, attackDuration())
	t.Logf("natsd:    %s", ours)
	require.Greater(t, ours.conns, 0, "no connection ran to its close")
	require.Equal(t, map[int]int{1009: ours.conns}, ours.codes, "every connection closed with 1009")
	// The read buffers and decompressors of 16 connections are under
	// 1 MiB; leave room for the Go heap's growth and the healthy clients.
	require.Less(t, ours.peakRSS-ours.baseRSS, 64.0, "RSS grew by %.0f MiB under attack", ours.peakRSS-ours.baseRSS)

	if up, ok := startLimitsUpstream(t); ok {
		theirs := attackEndless(t, up, attackers, attackDuration())
		t.Logf("upstream: %s", theirs)
	}
}

// bombSegment is 1 MiB of small PUBs compressed on its own and ended with
// a sync flush, so that copies of it can follow each other in one deflate
// stream (no back-reference crosses a segment).
func bombSegment(pub []byte) []byte {
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, flate.BestCompression)
	for n := 0; n < 1<<20; n += len(pub) {
		w.Write(pub)
	}
	w.Flush()
	return z.Bytes()
}

// deflateBomb runs the bomb against s: a compressed message of a CONNECT
// and mib MiB of "PUB bomb 2" sent as 64 KiB frames. It returns the close
// code, the PUBs a subscriber got and how long until the close.
func deflateBomb(t *testing.T, s limitsServer, mib int) (code, got int, took time.Duration) {
	t.Helper()
	sub, err := nats.Connect(s.url, nats.UserInfo("good", "pw"), nats.NoReconnect(), nats.Timeout(5*time.Second))
	require.NoError(t, err)
	defer sub.Close()
	var n atomic.Int64
	_, err = sub.Subscribe("bomb", func(m *nats.Msg) {
		if string(m.Data) == "hi" {
			n.Add(1)
		}
	})
	require.NoError(t, err)
	require.NoError(t, sub.Flush())

	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, flate.BestCompression)
	w.Write([]byte(`CONNECT {"user":"good","pass":"pw","verbose":false,"pedantic":false}` + "\r\n"))
	w.Flush()
	seg := bombSegment([]byte("PUB bomb 2\r\nhi\r\n"))
	for range mib {
		z.Write(seg)
	}
	msg := z.Bytes()
	msg = msg[:len(msg)-4] // the sender strips the last sync marker
	var wire []byte
	for i := 0; i < len(msg); i += 64 << 10 {
		b0 := byte(0x00)
		if i == 0 {
			b0 = 0x42
		}
		end := min(i+64<<10, len(msg))
		if end == len(msg) {
			b0 |= 0x80
		}
		wire = appendMaskedFrame(wire, b0, msg[i:end])
	}
	t.Logf("%s: bomb of %d KiB compressed, %d MiB inflated", s.name, len(msg)>>10, mib)

	c, err := dialDeflate(s.wsAddr)
	require.NoError(t, err)
	defer c.nc.Close()
	codeCh := make(chan int, 1)
	go func() { codeCh <- c.closeCode() }()
	start := time.Now()
	c.nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
	c.nc.Write(wire) // fails once the server closed
	c.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	code = <-codeCh
	took = time.Since(start)
	// Every PUB the server took before closing is delivered before a
	// marker the subscriber publishes after the close.
	done := make(chan struct{})
	_, err = sub.Subscribe("marker", func(*nats.Msg) { close(done) })
	require.NoError(t, err)
	require.NoError(t, sub.Publish("marker", nil))
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("no marker")
	}
	return code, int(n.Load()), took
}

// TestWebsocketDeflateBomb: 150 MiB of small PUBs compressed to about
// 300 KiB in one WebSocket message. natsd inflates it as it arrives and
// closes with 1009 once it passes max_payload (1 MiB), having processed
// only the PUBs in that first MiB; upstream also stops at max_payload,
// and drops the connection without a close frame.
func TestWebsocketDeflateBomb(t *testing.T) {
	const mib = 150
	perMiB := (1 << 20) / len("PUB bomb 2\r\nhi\r\n")
	code, got, took := deflateBomb(t, startLimitsNatsd(t), mib)
	t.Logf("natsd:    close %d after %v, %d of %d PUBs processed", code, took.Round(time.Millisecond), got, mib*perMiB)
	require.Equal(t, 1009, code)
	require.LessOrEqual(t, got, perMiB+1, "PUBs beyond the first max_payload processed")
	if up, ok := startLimitsUpstream(t); ok {
		code, got, took := deflateBomb(t, up, mib)
		t.Logf("upstream: close %d after %v, %d of %d PUBs processed", code, took.Round(time.Millisecond), got, mib*perMiB)
	}
}

// TestMQTTOverWebsocketCompressedLimits: the same caps hold on /mqtt, with
// room for a PUBLISH's topic and properties: a compressed message that
// never ends and one that inflates past max_payload + 64 KiB are closed
// with 1009, while MQTT clients go on being served.
func TestMQTTOverWebsocketCompressedLimits(t *testing.T) {
	p := startMQTT(t, "  listen: \"127.0.0.1:-1\"",
		"max_payload: 4KB\nwebsocket { listen: \"127.0.0.1:-1\", no_tls: true, compression: true }\n")
	p.mqttAddr()
	addr := strings.TrimPrefix(p.websocketURL(), "ws://")

	chunk := bytes.Repeat([]byte{0x00, 0x00, 0x00, 0xff, 0xff}, (64<<10)/5)
	c, err := dialDeflatePath(addr, "/mqtt")
	require.NoError(t, err)
	defer c.nc.Close()
	codes := make(chan int, 1)
	go func() { codes <- c.closeCode() }()
	wire := appendMaskedFrame(nil, 0x42, chunk)
	for range 64 { // 4 MiB, far past any cap
		c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.nc.Write(wire); err != nil {
			break
		}
		wire = appendMaskedFrame(wire[:0], 0x00, chunk)
	}
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	require.Equal(t, 1009, <-codes, "endless compressed message on /mqtt")

	// A message with a CONNECT and the start of a PUBLISH of 200 KiB, in
	// all past 4 KiB + 64 KiB: closed as it passes the limit, before the
	// PUBLISH is complete.
	bomb, err := dialDeflatePath(addr, "/mqtt")
	require.NoError(t, err)
	defer bomb.nc.Close()
	go func() { codes <- bomb.closeCode() }()
	big := []byte("\x10\x0f\x00\x04MQTT\x04\x02\x00\x3c\x00\x03bmb" + // CONNECT, clean session
		"\x30\x80\xc0\x0c\x00\x01a") // PUBLISH QoS 0 to "a", 204800 bytes
	big = append(big, make([]byte, 100<<10)...)
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, flate.BestCompression)
	w.Write(big)
	w.Flush()
	bomb.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err = bomb.nc.Write(appendMaskedFrame(nil, 0xC2, z.Bytes()[:z.Len()-4]))
	require.NoError(t, err)
	bomb.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	require.Equal(t, 1009, <-codes, "compressed message past max_payload + 64 KiB on /mqtt")

	pahoToNATS(t, p, pahoConnect(t, p.websocketURL()+"/mqtt", "e2e-ws-after"), "ws/after", "ws.after")
}
