package server_test

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/auth"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

var benchSizes = []int{16, 128, 4096}

func benchConnect(b *testing.B, s *server.Server) *nats.Conn {
	b.Helper()
	nc, err := nats.Connect(s.ClientURL(), nats.NoReconnect())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	return nc
}

// BenchmarkPublish measures publish-only throughput through a real socket.
func BenchmarkPublish(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			s := servertest.Start(b, server.Options{})
			nc := benchConnect(b, s)
			data := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				if err := nc.Publish("bench", data); err != nil {
					b.Fatal(err)
				}
			}
			if err := nc.Flush(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}

// benchFan publishes b.N messages from npub publishers and waits until nsub
// subscribers (or one queue group of nsub) got them all.
func benchFan(b *testing.B, size, npub, nsub int, queue bool) {
	s := servertest.Start(b, server.Options{})
	var got atomic.Int64
	want := int64(b.N) * int64(nsub)
	if queue {
		want = int64(b.N)
	}
	done := make(chan struct{})
	var once sync.Once
	for range nsub {
		nc := benchConnect(b, s)
		cb := func(*nats.Msg) {
			if got.Add(1) == want {
				once.Do(func() { close(done) })
			}
		}
		var sub *nats.Subscription
		var err error
		if queue {
			sub, err = nc.QueueSubscribe("bench", "q", cb)
		} else {
			sub, err = nc.Subscribe("bench", cb)
		}
		if err != nil {
			b.Fatal(err)
		}
		sub.SetPendingLimits(-1, -1)
		if err := nc.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	pubs := make([]*nats.Conn, npub)
	for i := range pubs {
		pubs[i] = benchConnect(b, s)
	}
	data := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i, nc := range pubs {
		n := b.N / npub
		if i == 0 {
			n += b.N % npub
		}
		wg.Go(func() {
			for range n {
				if err := nc.Publish("bench", data); err != nil {
					b.Error(err)
					return
				}
			}
			nc.Flush()
		})
	}
	wg.Wait()
	if want > 0 {
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			b.Fatalf("delivered %d of %d", got.Load(), want)
		}
	}
	b.ReportMetric(float64(want)/time.Since(start).Seconds(), "msgs/s")
}

func BenchmarkPubSub(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) { benchFan(b, size, 1, 1, false) })
	}
}

func BenchmarkFanOut4(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) { benchFan(b, size, 1, 4, false) })
	}
}

func BenchmarkFanIn4(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) { benchFan(b, size, 4, 1, false) })
	}
}

func BenchmarkQueue4(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) { benchFan(b, size, 1, 4, true) })
	}
}

// BenchmarkRequestReply reports round-trip latency percentiles.
func BenchmarkRequestReply(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			s := servertest.Start(b, server.Options{})
			srv := benchConnect(b, s)
			if _, err := srv.Subscribe("rr", func(m *nats.Msg) { m.Respond(m.Data) }); err != nil {
				b.Fatal(err)
			}
			srv.Flush()
			nc := benchConnect(b, s)
			data := make([]byte, size)
			lat := make([]time.Duration, 0, 1024)
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				if _, err := nc.Request("rr", data, 5*time.Second); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds())
			}
			b.ReportMetric(pct(0.50), "p50-us")
			b.ReportMetric(pct(0.99), "p99-us")
			b.ReportMetric(pct(0.999), "p99.9-us")
		})
	}
}

// benchPermissions is a realistic publish permission set: ten allow
// entries, literal and wildcard, and a deny entry.
var benchPermissions = &auth.Permissions{Publish: &auth.SubjectPermission{
	Allow: []string{
		"orders.>", "metrics.*.cpu", "metrics.*.mem", "svc.*.req", "_INBOX.>",
		"events.user.created", "events.user.deleted", "logs.*.*", "telemetry.>", "bench.*",
	},
	Deny: []string{"orders.*.secret"},
}}

// BenchmarkPublishPermissionSet compares, end to end through nats.go, a
// publisher without permissions (user=free) and one with
// benchPermissions (user=limited), publishing 128-byte messages to four
// allowed subjects in turn with nobody subscribed, so that the server
// does little besides parsing and the checks: the worst case for the
// overhead. Compare the two with benchstat -col /user.
func BenchmarkPublishPermissionSet(b *testing.B) {
	s := servertest.Start(b, server.Options{Authorization: &auth.Config{Users: []auth.User{
		{Name: "free", Password: "f"},
		{Name: "limited", Password: "l", Permissions: benchPermissions},
	}}})
	subjects := []string{"orders.eu.new", "metrics.h1.cpu", "svc.billing.req", "bench.x"}
	for _, user := range []string{"free", "limited"} {
		b.Run("user="+user, func(b *testing.B) {
			var violations atomic.Int64
			nc, err := nats.Connect(s.ClientURL(), nats.NoReconnect(), nats.UserInfo(user, user[:1]),
				nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) { violations.Add(1) }))
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			data := make([]byte, 128)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			start := time.Now()
			i := 0
			for b.Loop() {
				if err := nc.Publish(subjects[i&3], data); err != nil {
					b.Fatal(err)
				}
				i++
			}
			if err := nc.Flush(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
			if n := violations.Load(); n > 0 {
				b.Fatalf("%d permission violations: the subjects must all be allowed", n)
			}
		})
	}
}

// BenchmarkPublishPermissionRatio is BenchmarkPublishPermissionSet with
// the two publishers taking turns, 2048 messages (and a flush) each, so
// that both see the same machine load; it reports each one's rate and
// limited/free in percent (the issue asks for at least 90).
func BenchmarkPublishPermissionRatio(b *testing.B) {
	s := servertest.Start(b, server.Options{Authorization: &auth.Config{Users: []auth.User{
		{Name: "free", Password: "f"},
		{Name: "limited", Password: "l", Permissions: benchPermissions},
	}}})
	subjects := []string{"orders.eu.new", "metrics.h1.cpu", "svc.billing.req", "bench.x"}
	var conns [2]*nats.Conn
	var violations atomic.Int64
	for i, user := range []string{"free", "limited"} {
		nc, err := nats.Connect(s.ClientURL(), nats.NoReconnect(), nats.UserInfo(user, user[:1]),
			nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) { violations.Add(1) }))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(nc.Close)
		conns[i] = nc
	}
	data := make([]byte, 128)
	const chunk = 2048
	var spent [2]time.Duration
	var sent [2]int
	b.SetBytes(chunk * int64(len(data)))
	b.ReportAllocs()
	turn := 0
	for b.Loop() {
		nc := conns[turn]
		start := time.Now()
		for i := range chunk {
			if err := nc.Publish(subjects[i&3], data); err != nil {
				b.Fatal(err)
			}
		}
		if err := nc.Flush(); err != nil {
			b.Fatal(err)
		}
		spent[turn] += time.Since(start)
		sent[turn] += chunk
		turn ^= 1
	}
	if n := violations.Load(); n > 0 {
		b.Fatalf("%d permission violations: the subjects must all be allowed", n)
	}
	if sent[1] == 0 {
		return // one round is not a comparison
	}
	free := float64(sent[0]) / spent[0].Seconds()
	limited := float64(sent[1]) / spent[1].Seconds()
	b.ReportMetric(free, "free-msgs/s")
	b.ReportMetric(limited, "limited-msgs/s")
	b.ReportMetric(100*limited/free, "ratio-%")
}
