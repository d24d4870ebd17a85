package gateway_test

import (
	"testing"

	"natsd.dev/cluster/gateway"
	"natsd.dev/cluster/internal/linkconf/linkconftest"
)

// FuzzParseConfig parses arbitrary gateway blocks. Oracles: no panic;
// every error is a *confparse.Error with a position and a kind; a
// success gives Options with a port in range and, when on, a name and
// remotes that each have a name and URLs with a host and a port.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"gateway { name: a, listen: 127.0.0.1:7222, gateways: [ { name: b, url: \"nats://u:p@h:1\" } ] }",
		"gateway { name: a, port: -1, reject_unknown_cluster: true, authorization { user: u, password: p, timeout: 1 } }",
		"gateway { name: a, port: -1, gateways: [ { name: b, urls: [\"nats://h:1\", \"nats://h:2\"] } ] }",
		"gateway { port: 1 }",
		"gateway: 1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		e := linkconftest.FuzzEntry(text, "gateway")
		if e == nil {
			return
		}
		o, warns, err := gateway.ParseConfig(e)
		if !linkconftest.CheckProblems(t, warns, err) {
			return
		}
		if o.Port < -1 || o.Port > 65535 || (o.On() && o.Name == "") {
			t.Fatalf("options out of range: %+v", o)
		}
		for _, g := range o.Gateways {
			if g.Name == "" || len(g.URLs) == 0 {
				t.Fatalf("remote without name or URLs: %+v", g)
			}
			for _, u := range g.URLs {
				if u.Host == "" || u.Port() == "" {
					t.Fatalf("URL without host and port: %v", u)
				}
			}
		}
	})
}
