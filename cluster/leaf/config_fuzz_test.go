package leaf_test

import (
	"testing"

	"natsd.dev/cluster/internal/linkconf/linkconftest"
	"natsd.dev/cluster/leaf"
)

// FuzzParseConfig parses arbitrary leafnodes blocks. Oracles: no panic;
// every error and warning is a *confparse.Error with a position; a
// success gives Options that keep ParseConfig's promises (a port in
// range, normalized compression modes, remotes with URLs of one kind,
// not both credentials and an nkey).
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"leafnodes { listen: 127.0.0.1:7422, remotes: [ { url: nats-leaf://u:p@h:1, account: A } ] }",
		"leafnodes { port: -1, compression: { mode: s2_auto, rtt_thresholds: [\"1ms\", \"0s\", \"5ms\"] } }",
		"leafnodes { authorization { users: [ { user: u, password: p, account: A } ], timeout: 0.5 } }",
		"leaf { reconnect: 2, min_version: \"2.8.0\", remotes: [ { urls: [ws://h:1, wss://h:2], ws_compression: true } ] }",
		"leafnodes { remotes: [ { url: \"h:1\", deny_imports: [a, \"b.>\"], compression: true, disabled: true } ] }",
		"leafnodes: 1",
	} {
		f.Add(s)
	}
	modes := map[string]bool{
		leaf.CompressionOff: true, leaf.CompressionAccept: true, leaf.CompressionS2Fast: true,
		leaf.CompressionS2Better: true, leaf.CompressionS2Best: true, leaf.CompressionS2Auto: true, "": true,
	}
	f.Fuzz(func(t *testing.T, text string) {
		e := linkconftest.FuzzEntry(text, "leafnodes", "leaf")
		if e == nil {
			return
		}
		o, warns, err := leaf.ParseConfig(e)
		if !linkconftest.CheckProblems(t, warns, err) {
			return
		}
		if o.Port < -1 || o.Port > 65535 || !modes[o.Compression.Mode] {
			t.Fatalf("options out of range: %+v", o)
		}
		if o.Username != "" && len(o.Users) > 0 {
			t.Fatalf("a single user and users: %+v", o)
		}
		if o.MinVersion != "" && leaf.CheckMinVersion(o.MinVersion) != nil {
			t.Fatalf("min_version %q kept", o.MinVersion)
		}
		for _, r := range o.Remotes {
			if !modes[r.Compression.Mode] || r.Credentials != "" && r.Nkey != "" {
				t.Fatalf("remote out of range: %+v", r)
			}
			for _, u := range r.URLs {
				if leaf.IsWebsocketURL(u) != leaf.IsWebsocketURL(r.URLs[0]) {
					t.Fatalf("mixed URLs: %v", r.URLs)
				}
			}
		}
	})
}
