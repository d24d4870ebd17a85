package monitor_test

import (
	"net/http/httptest"
	"testing"

	"github.com/nats-io/nats.go"

	"natsd.dev/monitor"
	"natsd.dev/server"
)

// benchEnv runs a server with conns real connections, one subscription
// each, and returns its monitor (used in-process, without a listener).
func benchEnv(b *testing.B, conns int) *monitor.Server {
	b.Helper()
	e := start(b, server.Options{}, monitor.Options{})
	for i := range conns {
		nc := e.connect(b, nats.Name("bench"))
		if _, err := nc.SubscribeSync("bench." + string(rune('a'+i%26))); err != nil {
			b.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	return e.mon
}

// BenchmarkEndpoints measures whole requests through the handler: snapshot,
// JSON (or exposition) and response.
func BenchmarkEndpoints(b *testing.B) {
	mon := benchEnv(b, 200)
	for _, path := range []string{"/varz", "/connz", "/connz?subs=1&sort=msgs_to", "/subsz?subs=1", "/accstatz", "/metrics", "/healthz"} {
		b.Run(path, func(b *testing.B) {
			req := httptest.NewRequest("GET", path, nil)
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				mon.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatal(rec.Code, rec.Body.String())
				}
				b.SetBytes(int64(rec.Body.Len()))
			}
		})
	}
}
