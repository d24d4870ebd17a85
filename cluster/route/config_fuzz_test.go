package route_test

import (
	"testing"

	"natsd.dev/cluster/internal/linkconf/linkconftest"
	"natsd.dev/cluster/route"
)

// FuzzParseConfig parses arbitrary cluster blocks. Oracles: no panic;
// every error is a *confparse.Error with a position; a success gives
// Options that keep ParseConfig's promises (a port in range, a
// normalized compression mode, routes with a host and port).
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"cluster { name: a, listen: 127.0.0.1:6222, routes: [nats-route://u:p@h:1] }",
		"cluster { port: -1, compression: { mode: s2_auto, rtt_thresholds: [\"1ms\", \"0s\", \"5ms\"] } }",
		"cluster { authorization { user: u, password: p, timeout: 0.5 }, pool_size: -1, accounts: [A] }",
		"cluster { compression: true, ping_interval: 40, ping_max: 3, no_advertise: true }",
		"cluster: 1",
	} {
		f.Add(s)
	}
	modes := map[string]bool{
		route.CompressionOff: true, route.CompressionAccept: true, route.CompressionS2Fast: true,
		route.CompressionS2Better: true, route.CompressionS2Best: true, route.CompressionS2Auto: true, "": true,
	}
	f.Fuzz(func(t *testing.T, text string) {
		e := linkconftest.FuzzEntry(text, "cluster")
		if e == nil {
			return
		}
		o, warns, err := route.ParseConfig(e)
		if !linkconftest.CheckProblems(t, warns, err) {
			return
		}
		if o.Port < -1 || o.Port > 65535 || !modes[o.Compression.Mode] || o.PoolSize < -1 {
			t.Fatalf("options out of range: %+v", o)
		}
		for _, u := range o.Routes {
			if u.Host == "" || u.Port() == "" {
				t.Fatalf("route without host and port: %v", u)
			}
		}
	})
}
