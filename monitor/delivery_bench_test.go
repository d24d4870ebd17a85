package monitor_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"natsd.dev/monitor"
	"natsd.dev/server"
)

// rawDeliveryRate publishes n 128-byte messages from a raw publisher to a
// raw subscriber and returns the messages per second delivered; neither
// end allocates per message, so the figure is the server's.
func rawDeliveryRate(t testing.TB, addr string, n int) float64 {
	t.Helper()
	dial := func(greeting string) net.Conn {
		nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
		require.NoError(t, err)
		nc.SetDeadline(time.Now().Add(60 * time.Second))
		_, err = nc.Write([]byte(greeting + "PING\r\n"))
		require.NoError(t, err)
		var got []byte
		buf := make([]byte, 4096)
		for !bytes.HasSuffix(got, []byte("PONG\r\n")) {
			k, err := nc.Read(buf)
			require.NoError(t, err)
			got = append(got, buf[:k]...)
		}
		return nc
	}
	sub := dial("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB bench.delivery 1\r\n")
	defer sub.Close()
	pub := dial("CONNECT {\"verbose\":false,\"pedantic\":false}\r\n")
	defer pub.Close()

	one := append([]byte("PUB bench.delivery 128\r\n"), append(bytes.Repeat([]byte("x"), 128), "\r\n"...)...)
	batch := bytes.Repeat(one, 256)
	want := n * (len("MSG bench.delivery 1 128\r\n") + 130)
	start := time.Now()
	errc := make(chan error, 1)
	go func() {
		for sent := 0; sent < n; sent += 256 {
			if _, err := pub.Write(batch[:min(256, n-sent)*len(one)]); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	buf := make([]byte, 256<<10)
	for got := 0; got < want; {
		k, err := sub.Read(buf)
		require.NoError(t, err)
		got += k
	}
	rate := float64(n) / time.Since(start).Seconds()
	require.NoError(t, <-errc)
	return rate
}

// BenchmarkDeliveryWhileHTTPPolled measures delivery with 3000 idle
// connections, alone and while a client fetches /connz over HTTP in a
// tight loop, and reports the drop (median of the per-iteration ratios;
// each iteration runs both modes back to back so drift cancels). The
// monitor runs one heavy snapshot at a time and spaces them (heavyDuty),
// which is what keeps the drop small on two cores. Run it with
// -benchtime=10x; ns/op is meaningless here.
func BenchmarkDeliveryWhileHTTPPolled(b *testing.B) {
	e := start(b, server.Options{}, monitor.Options{})
	const idle = 3000
	for range idle {
		nc, err := net.DialTimeout("tcp", e.srv.Addr().String(), 5*time.Second)
		require.NoError(b, err)
		b.Cleanup(func() { nc.Close() })
		_, err = nc.Write([]byte("CONNECT {\"verbose\":false,\"name\":\"idle\"}\r\nSUB idle 1\r\n"))
		require.NoError(b, err)
	}
	require.Eventually(b, func() bool { return e.srv.NumClients() == idle }, 20*time.Second, 10*time.Millisecond)

	const n = 200_000
	addr := e.srv.Addr().String()
	rawDeliveryRate(b, addr, n/5) // warm up
	var alone, polled, ratios []float64
	polls := 0
	for b.Loop() {
		alone = append(alone, rawDeliveryRate(b, addr, n))
		stop := make(chan struct{})
		done := make(chan int)
		go func() {
			k := 0
			for {
				select {
				case <-stop:
					done <- k
					return
				default:
				}
				resp, err := httpClient.Get(e.base + "/connz")
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						k++
					}
				}
			}
		}()
		polled = append(polled, rawDeliveryRate(b, addr, n))
		close(stop)
		polls += <-done
		ratios = append(ratios, polled[len(polled)-1]/alone[len(alone)-1])
	}
	median := func(r []float64) float64 { slices.Sort(r); return r[len(r)/2] }
	b.ReportMetric(median(alone), "msgs/s-alone")
	b.ReportMetric(median(polled), "msgs/s-polled")
	b.ReportMetric(100*(1-median(ratios)), "drop-%")
	b.ReportMetric(float64(polls)/float64(len(ratios)), "connz/iter")
}
