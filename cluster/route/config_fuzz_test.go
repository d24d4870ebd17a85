package route_test

import (
	"errors"
	"testing"

	"natsd.dev/cluster/route"
	"natsd.dev/confparse"
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
		m, err := confparse.ParseWithOptions("f.conf", []byte(text), confparse.Options{
			Env:      func(string) (string, bool) { return "", false },
			ReadFile: func(string) ([]byte, error) { return nil, errors.New("no includes") },
		})
		if err != nil {
			return
		}
		e := m.Lookup("cluster")
		if e == nil {
			return
		}
		o, warns, err := route.ParseConfig(e)
		for _, w := range warns {
			if w.Pos.Line == 0 {
				t.Fatalf("warning without a position: %v", w)
			}
		}
		if err != nil {
			var list confparse.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T %v is not an ErrorList", err, err)
			}
			for _, e := range list {
				if e.Pos.Line == 0 || e.Err == nil {
					t.Fatalf("error without a position or kind: %v", e)
				}
			}
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
