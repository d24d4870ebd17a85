//go:build unix

package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// TestNATSSlowConsumerLogAsUpstream: a NATS client (raw TCP, 4 KiB
// receive buffer) subscribes and never reads; once a write to it waits
// past write_deadline the server logs `<ip:port> - cid:<N> - Slow
// Consumer Detected: WriteDeadline of 1s exceeded with <n> chunks of <m>
// total bytes.`, the line upstream logs, with the client's own address.
func TestNATSSlowConsumerLogAsUpstream(t *testing.T) {
	bins := []struct{ name, path string }{{"natsd", binary}}
	if up := os.Getenv(servertest.UpstreamEnv); up != "" {
		bins = append(bins, struct{ name, path string }{"upstream", up})
	}
	for _, bin := range bins {
		t.Run(bin.name, func(t *testing.T) {
			conf := writeFile(t, filepath.Join(t.TempDir(), "slow.conf"), "write_deadline: \"1s\"\n")
			p := startBinary(t, bin.path, "-c", conf)
			d := net.Dialer{Control: tinyRcvBuf}
			nc, err := d.Dial("tcp", strings.TrimPrefix(p.url(), "nats://"))
			require.NoError(t, err)
			t.Cleanup(func() { nc.Close() })
			nc.SetDeadline(time.Now().Add(10 * time.Second))
			r := bufio.NewReader(nc)
			_, err = r.ReadString('\n') // INFO
			require.NoError(t, err)
			_, err = fmt.Fprint(nc, "CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB foo 1\r\nPING\r\n")
			require.NoError(t, err)
			line, err := r.ReadString('\n')
			require.NoError(t, err)
			require.Equal(t, "PONG\r\n", line)

			// From now on the client reads nothing.
			pub := p.connect()
			defer pub.Close()
			payload := make([]byte, 1000)
			re := regexp.MustCompile(`\[INF\] 127\.0\.0\.1:(\d+) - cid:\d+ - ` +
				`Slow Consumer Detected: WriteDeadline of 1s exceeded with (\d+) chunks of (\d+) total bytes\.\n`)
			var m []string
			deadline := time.Now().Add(8 * time.Second)
			for m == nil {
				require.True(t, time.Now().Before(deadline), "no slow consumer line within 8s:\n%s", p.log.String())
				for range 10 {
					require.NoError(t, pub.Publish("foo", payload))
				}
				time.Sleep(time.Millisecond)
				m = re.FindStringSubmatch(p.log.String())
			}
			require.Equal(t, strconv.Itoa(nc.LocalAddr().(*net.TCPAddr).Port), m[1], "the client's port")
			chunks, _ := strconv.Atoi(m[2])
			bytes, _ := strconv.Atoi(m[3])
			require.Positive(t, chunks, m[0])
			require.Positive(t, bytes, m[0])
		})
	}
}
