package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"natsd.dev/server/snapshot"
)

func newTestServer(t testing.TB, opts Options) *Server {
	t.Helper()
	opts.Host = "127.0.0.1"
	opts.Port = RandomPort
	s, err := New(opts)
	require.NoError(t, err)
	require.NoError(t, s.Start())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		require.NoError(t, s.Shutdown(ctx))
	})
	return s
}

// netPipeClient connects a client through net.Pipe (no socket, no file
// descriptor) and drains what the server sends it. lines are sent first.
func netPipeClient(t testing.TB, s *Server, lines string) net.Conn {
	t.Helper()
	srvSide, cliSide := net.Pipe()
	go io.Copy(io.Discard, cliSide)
	s.createClient(srvSide, nil)
	if lines != "" {
		cliSide.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_, err := cliSide.Write([]byte(lines))
		require.NoError(t, err)
	}
	return cliSide
}

// waitClients waits until the server has n clients.
func waitClients(t testing.TB, s *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for s.NumClients() != n {
		if time.Now().After(deadline) {
			t.Fatalf("have %d clients, want %d", s.NumClients(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestClosedRingKeepsNewest(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SetMaxClosedClients(3)
	for range 5 {
		c := netPipeClient(t, s, "CONNECT {\"verbose\":false,\"name\":\"p\"}\r\nPING\r\n")
		require.Eventually(t, func() bool { // CONNECT processed
			cz, err := s.Connz(nil)
			return err == nil && cz.Total == 1 && cz.Conns[0].Name == "p"
		}, 5*time.Second, time.Millisecond)
		c.Close()
		waitClients(t, s, 0)
	}
	require.Eventually(t, func() bool {
		cz, err := s.Connz(&snapshot.ConnzOptions{State: snapshot.ConnClosed})
		return err == nil && cz.Total == 3
	}, 5*time.Second, 10*time.Millisecond)
	cz, err := s.Connz(&snapshot.ConnzOptions{State: snapshot.ConnClosed})
	require.NoError(t, err)
	var cids []uint64
	for _, c := range cz.Conns {
		cids = append(cids, c.Cid)
		require.Contains(t, []string{"Client Closed", "Write Error"}, c.Reason) // whichever side of the pipe notices first
		require.NotNil(t, c.Stop)
		require.Equal(t, "p", c.Name)
	}
	require.Equal(t, []uint64{3, 4, 5}, cids)
	s.SetMaxClosedClients(0)
	cz, err = s.Connz(&snapshot.ConnzOptions{State: snapshot.ConnClosed})
	require.NoError(t, err)
	require.Zero(t, cz.Total)
}

func TestConnzOptionErrors(t *testing.T) {
	s := newTestServer(t, Options{})
	_, err := s.Connz(&snapshot.ConnzOptions{Sort: "nope"})
	var me *snapshot.MonitorError
	require.ErrorAs(t, err, &me)
	require.Equal(t, "invalid sorting option: nope", me.Text)
	_, err = s.Accountz(&snapshot.AccountzOptions{Account: "nope"})
	require.ErrorIs(t, err, ErrUnknownAccount)
	require.ErrorAs(t, err, &me)
}

const manyConns = 10000

// startMany connects n idle pipe clients with one subscription each.
func startMany(t testing.TB, s *Server, n int) {
	t.Helper()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			netPipeClient(t, s, "CONNECT {\"verbose\":false,\"name\":\"idle\",\"lang\":\"test\"}\r\nSUB idle.x 1\r\n")
		}()
	}
	wg.Wait()
	waitClients(t, s, n)
}

// TestConnz10k checks that a /connz snapshot of ten thousand connections
// is built well under a second.
func TestConnz10k(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("ten thousand connections: not under -race or -short")
	}
	s := newTestServer(t, Options{})
	startMany(t, s, manyConns)
	for _, o := range []*snapshot.ConnzOptions{nil, {Sort: snapshot.BySubs}, {Subscriptions: true, Limit: manyConns}} {
		start := time.Now()
		cz, err := s.Connz(o)
		took := time.Since(start)
		require.NoError(t, err)
		require.Equal(t, manyConns, cz.Total)
		_, err = json.Marshal(cz)
		require.NoError(t, err)
		t.Logf("connz sort=%q subs=%v limit=%d: %v to build, %v with JSON", sortKey(o), o != nil && o.Subscriptions, len(cz.Conns), took, time.Since(start))
		require.Less(t, took, 500*time.Millisecond)
	}
}

func sortKey(o *snapshot.ConnzOptions) snapshot.SortOpt {
	if o == nil || o.Sort == "" {
		return snapshot.ByCid
	}
	return o.Sort
}

// BenchmarkConnz10k builds the default /connz page (1024 of 10,000
// connections, sorted by cid).
func BenchmarkConnz10k(b *testing.B) {
	if raceEnabled {
		b.Skip("too many goroutines for -race")
	}
	s := newTestServer(b, Options{})
	startMany(b, s, manyConns)
	for _, bc := range []struct {
		name string
		o    *snapshot.ConnzOptions
	}{
		{"default", nil},
		{"sort_subs", &snapshot.ConnzOptions{Sort: snapshot.BySubs}},
		{"subs_all", &snapshot.ConnzOptions{Subscriptions: true, Limit: manyConns}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Connz(bc.o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// deliveryRate publishes n messages of 128 bytes through a raw socket to a
// raw subscriber and returns the messages per second delivered. Both ends
// speak the protocol directly and allocate nothing per message, so the
// figure is the server's, not a client library's.
func deliveryRate(t testing.TB, s *Server, n int) float64 {
	t.Helper()
	dial := func() net.Conn {
		nc, err := net.DialTimeout("tcp", s.Addr().String(), 5*time.Second)
		require.NoError(t, err)
		nc.SetDeadline(time.Now().Add(60 * time.Second))
		return nc
	}
	// readUntil reads until the stream so far ends with suffix.
	readUntil := func(nc net.Conn, suffix string) {
		var got []byte
		buf := make([]byte, 4096)
		for !bytes.HasSuffix(got, []byte(suffix)) {
			k, err := nc.Read(buf)
			require.NoError(t, err)
			got = append(got, buf[:k]...)
		}
	}
	sub := dial()
	defer sub.Close()
	_, err := sub.Write([]byte("CONNECT {\"verbose\":false}\r\nSUB bench.delivery 1\r\nPING\r\n"))
	require.NoError(t, err)
	readUntil(sub, "PONG\r\n")
	pub := dial()
	defer pub.Close()
	_, err = pub.Write([]byte("CONNECT {\"verbose\":false}\r\nPING\r\n"))
	require.NoError(t, err)
	readUntil(pub, "PONG\r\n")

	payload := bytes.Repeat([]byte("x"), 128)
	one := append([]byte("PUB bench.delivery 128\r\n"), append(payload, "\r\n"...)...)
	batch := bytes.Repeat(one, 256)
	msgLen := len("MSG bench.delivery 1 128\r\n") + 128 + 2
	want := n * msgLen

	start := time.Now()
	errc := make(chan error, 1)
	go func() {
		for sent := 0; sent < n; sent += 256 {
			k := min(256, n-sent)
			if _, err := pub.Write(batch[:k*len(one)]); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	buf := make([]byte, 256<<10)
	for got := 0; got < want; {
		k, err := sub.Read(buf)
		require.NoError(t, err, "read %d of %d bytes", got, want)
		got += k
	}
	rate := float64(n) / time.Since(start).Seconds()
	require.NoError(t, <-errc)
	return rate
}

// pollConnz builds /connz (and its JSON) in a loop, pausing every between
// polls, until stop is closed; it returns the number of polls.
func pollConnz(s *Server, every time.Duration, stop chan struct{}) int {
	n := 0
	for {
		select {
		case <-stop:
			return n
		default:
		}
		cz, err := s.Connz(nil)
		if err == nil {
			json.Marshal(cz)
		}
		n++
		if every > 0 {
			select {
			case <-stop:
				return n
			case <-time.After(every):
			}
		}
	}
}

// BenchmarkDeliveryWhileConnzPolled measures message delivery with 10,000
// idle connections, alone and while Connz (and its JSON) is built ten
// times a second and in a tight loop, and reports the drops: the median
// of per-iteration ratios, each iteration running the three modes back to
// back so drift cancels. Run it with -benchtime=10x; ns/op is meaningless.
func BenchmarkDeliveryWhileConnzPolled(b *testing.B) {
	if raceEnabled {
		b.Skip("too many goroutines for -race")
	}
	s := newTestServer(b, Options{})
	startMany(b, s, manyConns)
	const n = 200_000
	deliveryRate(b, s, n/5) // warm up
	modes := []time.Duration{100 * time.Millisecond, 0}
	ratios := make([][]float64, len(modes))
	polls := make([]int, len(modes))
	for b.Loop() {
		alone := deliveryRate(b, s, n)
		for i, every := range modes {
			stop := make(chan struct{})
			done := make(chan int)
			go func() { done <- pollConnz(s, every, stop) }()
			rate := deliveryRate(b, s, n)
			close(stop)
			polls[i] += <-done
			ratios[i] = append(ratios[i], rate/alone)
		}
	}
	median := func(r []float64) float64 { slices.Sort(r); return r[len(r)/2] }
	b.ReportMetric(100*(1-median(ratios[0])), "drop-%-10/s")
	b.ReportMetric(100*(1-median(ratios[1])), "drop-%-loop")
	b.ReportMetric(float64(polls[1])/float64(len(ratios[1])), "connz/iter-loop")
}
