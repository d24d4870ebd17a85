package leaf_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"natsd.dev/server/servertest"
)

// upstreamPos is the "file:line:col: " of a message.
var upstreamPos = regexp.MustCompile(`^\S+:\d+:\d+: `)

// TestParseConfigMatchesUpstream checks each block against the upstream
// binary's configuration test (-t, NATSD_UPSTREAM_SERVER; skipped
// without it): upstream accepts what ParseConfig accepts, and refuses the
// others with the first message ParseConfig reports. (The checks
// upstream makes only when it starts, such as a compression mode or
// websocket and plain URLs mixed, are not part of -t: they are checked by
// TestParseConfigErrorsAllReported with the texts upstream prints then.)
func TestParseConfigMatchesUpstream(t *testing.T) {
	bin := servertest.UpstreamBinary(t)
	dir := t.TempDir()
	for _, block := range []string{
		`leafnodes { port: -1, authorization { users: [ { user: a, password: b, account: A } ], timeout: 0.5 } }`,
		`leaf { listen: "127.0.0.1:7422", advertise: "h:1", no_advertise: true, reconnect: "2s", min_version: "2.10.0", compression: s2_best }`,
		`leafnodes { remotes: [ { urls: ["nats-leaf://u:p@h:1", "tls://h:2"], account: A, hub: true, deny_imports: "a.>", deny_exports: [b, c], first_info_timeout: "1s", dial_timeout: "1s", disabled: true, no_randomize: true } ] }`,
		`leafnodes { remotes: [ { url: "wss://h:443", ws_compression: true, ws_no_masking: true, compression: { mode: s2_auto, rtt_thresholds: ["1ms", "2ms"] } } ] }`,
		`leafnodes { remotes: [ { url: "nats://h:1", credentials: "/nonexistent/x.creds" } ] }`,
		`leafnodes: 7422`,
		`leafnodes { listen: "0.0.0.0:XXXX" }`,
		`leafnodes { bogus: 1 }`,
		`leafnodes { min_version: "2.7.0" }`,
		`leafnodes { min_version: "abc" }`,
		`leafnodes { authorization { token: abc } }`,
		`leafnodes { authorization { users: a } }`,
		`leafnodes { authorization { users: [ a ] } }`,
		`leafnodes { authorization { timeout: "x" } }`,
		`leafnodes { authorization { timeout: true } }`,
		`leafnodes { authorization { user: a, users: [ { user: b } ] } }`,
		`leafnodes { authorization { users: [ { user: a }, { user: a } ] } }`,
		`leafnodes { remotes: { url: "nats://h:1" } }`,
		`leafnodes { remotes: [ "nats://h:7" ] }`,
		`leafnodes { remotes: [ { url: 1 } ] }`,
		`leafnodes { remotes: [ { url: "127.0.0.1:7422" } ] }`,
		`leafnodes { remotes: [ { url: "nats://h:1", nkey: "SUxxx" } ] }`,
		`leafnodes { remotes: [ { url: "nats://h:1", deny_exports: 1 } ] }`,
		`leafnodes { remotes: [ { url: "nats://h:1", deny_imports: "foo..bar" } ] }`,
		`leafnodes { remotes: [ { url: "nats://h:1", extra: 1 } ] }`,
		`leafnodes { remotes: [ { url: "nats://h:1" }, { url: "nats://h:1" } ] }`,
		`leafnodes { compression: 1 }`,
		`leafnodes { compression: { rtt: ["x"] } }`,
		`leafnodes { compression: { level: 3 } }`,
	} {
		_, _, err := parseLeaf(t, block)
		path := filepath.Join(dir, "u.conf")
		if err := os.WriteFile(path, []byte(block+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		out, uerr := exec.CommandContext(ctx, bin, "-c", path, "-t").CombinedOutput()
		cancel()
		line, _, _ := strings.Cut(strings.TrimPrefix(string(out), "nats-server: "), "\n")
		switch {
		case err == nil && uerr != nil:
			t.Errorf("%s: accepted, upstream refuses it: %s", block, out)
		case err != nil && uerr == nil:
			t.Errorf("%s: refused (%v), upstream accepts it", block, err)
		case err != nil:
			ours := upstreamPos.ReplaceAllString(strings.Split(err.Error(), "\n")[0], "")
			if theirs := upstreamPos.ReplaceAllString(line, ""); ours != theirs {
				t.Errorf("%s:\n ours     %s\n upstream %s", block, ours, theirs)
			}
		}
	}
}
