//go:build unix

package main

// End-to-end tests of MQTT clients that do not read: the binary closes
// them as slow consumers and logs them with upstream's line, checked
// against upstream's binary (NATSD_UPSTREAM_SERVER) on the same
// configuration and the same client.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
	"natsd.dev/websocket"
)

// TestMQTTSlowConsumerLogAsUpstream: an MQTT client (raw TCP, and over
// the WebSocket listener's /mqtt path) with a small receive buffer
// subscribes and never reads; NATS messages to its topic fill its
// socket, and once a write waits past write_deadline the server logs
// `<ip:port> - mid:<N> - "<client id>" - Slow Consumer Detected:
// WriteDeadline of 1s exceeded with <n> chunks of <m> total bytes.`
// ("mid_ws:" over WebSocket), the line upstream logs, with the client's
// own address.
func TestMQTTSlowConsumerLogAsUpstream(t *testing.T) {
	bins := []struct{ name, path string }{{"natsd", binary}}
	if up := os.Getenv(servertest.UpstreamEnv); up != "" {
		bins = append(bins, struct{ name, path string }{"upstream", up})
	}
	for _, bin := range bins {
		for _, transport := range []string{"tcp", "websocket"} {
			t.Run(bin.name+"/"+transport, func(t *testing.T) {
				dir := t.TempDir()
				conf := writeFile(t, filepath.Join(dir, "slow.conf"), fmt.Sprintf(
					"write_deadline: \"1s\"\njetstream { store_dir: %q }\nmqtt { listen: \"127.0.0.1:-1\" }\n"+
						"websocket { listen: \"127.0.0.1:-1\", no_tls: true }\n", filepath.Join(dir, "js")))
				p := startBinary(t, bin.path, "-c", conf)
				var rw io.ReadWriter
				var local net.Addr
				tag := "mid"
				if transport == "tcp" {
					d := net.Dialer{Control: tinyRcvBuf}
					nc, err := d.Dial("tcp", p.mqttAddr())
					require.NoError(t, err)
					t.Cleanup(func() { nc.Close() })
					nc.SetDeadline(time.Now().Add(10 * time.Second))
					rw, local = nc, nc.LocalAddr()
				} else {
					ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
					defer cancel()
					wc, err := websocket.Dial(ctx, p.wsURL()+"/mqtt", websocket.DialConfig{
						Dialer: &net.Dialer{Control: tinyRcvBuf},
						Header: http.Header{"Sec-WebSocket-Protocol": {"mqtt"}},
					})
					require.NoError(t, err)
					t.Cleanup(func() { wc.NetConn().Close() })
					wc.SetDeadline(time.Now().Add(10 * time.Second))
					rw, local, tag = wc, wc.LocalAddr(), "mid_ws"
				}
				// CONNECT (3.1.1, clean session, keepalive 60 s, client id
				// "slowpoke"), then SUBSCRIBE foo at QoS 0.
				id := "slowpoke"
				vh := append([]byte{0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, byte(len(id))}, id...)
				_, err := rw.Write(append([]byte{0x10, byte(len(vh))}, vh...))
				require.NoError(t, err)
				connack := make([]byte, 4)
				_, err = io.ReadFull(rw, connack)
				require.NoError(t, err)
				require.Equal(t, []byte{0x20, 2, 0, 0}, connack)
				_, err = rw.Write([]byte{0x82, 8, 0, 1, 0, 3, 'f', 'o', 'o', 0})
				require.NoError(t, err)
				suback := make([]byte, 5)
				_, err = io.ReadFull(rw, suback)
				require.NoError(t, err)
				require.Equal(t, []byte{0x90, 3, 0, 1, 0}, suback)

				// From now on the client reads nothing. Publish at about
				// 10 MB/s (fast enough to fill its socket soon, slow
				// enough that max_pending is not what closes it).
				nc := p.connect()
				defer nc.Close()
				payload := make([]byte, 1000)
				re := regexp.MustCompile(`\[INF\] 127\.0\.0\.1:(\d+) - ` + tag + `:\d+ - "slowpoke" - ` +
					`Slow Consumer Detected: WriteDeadline of 1s exceeded with (\d+) chunks of (\d+) total bytes\.\n`)
				var m []string
				deadline := time.Now().Add(8 * time.Second)
				for m == nil {
					require.True(t, time.Now().Before(deadline), "no slow consumer line within 8s:\n%s", p.log.String())
					for range 10 {
						require.NoError(t, nc.Publish("foo", payload))
					}
					time.Sleep(time.Millisecond)
					m = re.FindStringSubmatch(p.log.String())
				}
				require.Equal(t, strconv.Itoa(local.(*net.TCPAddr).Port), m[1], "the client's port")
				chunks, _ := strconv.Atoi(m[2])
				bytes, _ := strconv.Atoi(m[3])
				require.Positive(t, chunks, m[0])
				require.Positive(t, bytes, m[0])
			})
		}
	}
}

// tinyRcvBuf is a net.Dialer's Control: a 4 KiB receive buffer.
func tinyRcvBuf(_, _ string, rc syscall.RawConn) error {
	return rc.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
	})
}

// TestMQTTSlowReaderOverWebsocketGetsWhatWasSent: an MQTT client over
// WebSocket that shrinks its receive buffer after connecting and floods
// the server with pings reads the answers more slowly than it asks for
// them. It is closed as a slow consumer, and what the server had sent
// before still reaches it: the server's side ends, it is not reset
// (closing a socket with input unread sends a reset, which drops what the
// client's system holds for it).
func TestMQTTSlowReaderOverWebsocketGetsWhatWasSent(t *testing.T) {
	dir := t.TempDir()
	conf := writeFile(t, filepath.Join(dir, "slow.conf"), fmt.Sprintf(
		"write_deadline: \"1s\"\njetstream { store_dir: %q }\nmqtt { listen: \"127.0.0.1:-1\" }\n"+
			"websocket { listen: \"127.0.0.1:-1\", no_tls: true }\n", filepath.Join(dir, "js")))
	p := start(t, "-c", conf)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	wc, err := websocket.Dial(ctx, p.wsURL()+"/mqtt", websocket.DialConfig{
		Header: http.Header{"Sec-WebSocket-Protocol": {"mqtt"}},
	})
	require.NoError(t, err)
	t.Cleanup(func() { wc.NetConn().Close() })
	id := "shrunk"
	vh := append([]byte{0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, byte(len(id))}, id...)
	wc.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = wc.Write(append([]byte{0x10, byte(len(vh))}, vh...))
	require.NoError(t, err)
	connack := make([]byte, 4)
	_, err = io.ReadFull(wc, connack)
	require.NoError(t, err)
	require.Equal(t, []byte{0x20, 2, 0, 0}, connack)
	rc, err := wc.NetConn().(*net.TCPConn).SyscallConn()
	require.NoError(t, err)
	rc.Control(func(fd uintptr) {
		require.NoError(t, syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096))
	})
	go func() {
		// Ends with an error once the server closes (or the test does).
		pings := make([]byte, 0, 8192)
		for range 4096 {
			pings = append(pings, 0xc0, 0)
		}
		wc.SetWriteDeadline(time.Now().Add(20 * time.Second))
		for range 1000 {
			if _, err := wc.Write(pings); err != nil {
				return
			}
		}
	}()
	// Read until the server has closed the connection (its log says so),
	// then 32 KB more: twice what the client's buffers may hold at the
	// close, all a reset leaves it.
	const more = 16384
	const line = `"shrunk" - Slow Consumer Detected`
	after := -1 // answers still to read once closed
	ans := make([]byte, 2)
	for i := 0; after != 0; i++ {
		wc.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(wc, ans); err != nil || ans[0] != 0xd0 || ans[1] != 0 {
			if after < 0 {
				t.Fatalf("answer %d, before the server closed: % x, %v", i, ans, err)
			}
			t.Fatalf("answer %d, %d after the server closed: % x, %v", i, more-after, ans, err)
		}
		if after > 0 {
			after--
			continue
		}
		if i%256 == 0 && p.log.Contains(line) {
			after = more
		}
	}
}
