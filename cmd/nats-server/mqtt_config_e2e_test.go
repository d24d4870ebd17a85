package main

// End-to-end tests of the mqtt {} block's configuration: the binary
// refuses what upstream refuses, with its words, and -t checks the block
// as upstream's does. With NATSD_UPSTREAM_SERVER set, upstream's binary
// runs on the same files and must say the same.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// runBin runs bin to completion (at most 10s) and returns its exit code
// and standard error.
func runBin(t *testing.T, bin string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), stderr.String()
		}
		require.NoError(t, err)
		return 0, stderr.String()
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s %v did not exit; stderr:\n%s", bin, args, stderr.String())
		return -1, ""
	}
}

func TestMQTTConfigRefusals(t *testing.T) {
	upstream := os.Getenv(servertest.UpstreamEnv)
	const users = "authorization { users: [{user: alice, password: x}] }\n"
	for _, tc := range []struct {
		name, text, want string
	}{
		{"standalone without JetStream", "mqtt { port: -1 }\n",
			"mqtt requires JetStream to be enabled if running in standalone mode"},
		{"cluster without server_name", "jetstream { store_dir: $DIR }\ncluster { listen: \"127.0.0.1:-1\" }\nmqtt { port: -1 }\n",
			"mqtt requires server name to be explicitly set"},
		{"no_auth_user without users", "mqtt { port: -1, no_auth_user: bob }\n",
			`no_auth_user: "bob" present, but users/nkeys are not defined`},
		{"no_auth_user not a user", users + "jetstream { store_dir: $DIR }\nmqtt { port: -1, no_auth_user: bob }\n",
			`no_auth_user: "bob" not present as user or nkey in authorization block or account configuration`},
		{"user next to users", users + "jetstream { store_dir: $DIR }\nmqtt { port: -1, authorization { user: a, password: b } }\n",
			"mqtt authentication username not compatible with presence of users/nkeys"},
		{"token next to account users", "accounts { A { users: [{user: carol, password: x}] } }\njetstream { store_dir: $DIR }\nmqtt { port: -1, authorization { token: t } }\n",
			"mqtt authentication token not compatible with presence of users/nkeys"},
		{"negative ack_wait", "mqtt { port: -1, ack_wait: \"-1s\" }\n", "ack wait must be a positive value"},
		{"negative js_api_timeout", "mqtt { port: -1, js_api_timeout: \"-1s\" }\n", "JS API timeout must be a positive value"},
		{"unknown key", "mqtt {\n  port: -1\n  foo: 1\n}\n", `$FILE:3:3: unknown field "foo"`},
		{"unknown authorization key", "mqtt {\n  port: -1\n  authorization {\n    users: []\n  }\n}\n", `$FILE:4:5: unknown field "users"`},
		{"bad duration", "mqtt {\n  port: -1\n  ack_wait: \"x\"\n}\n", `$FILE:3:3: error parsing ack_wait: time: invalid duration "x"`},
		{"seconds for a duration, then a refusal", "mqtt {\n  port: -1\n  consumer_auto_cleanup: 60\n}\n",
			"$FILE:3:3: invalid use of field \"consumer_inactive_threshold\": consumer_inactive_threshold should be converted to a duration\n" +
				"nats-server: mqtt requires JetStream to be enabled if running in standalone mode"},
		{"max_ack_pending out of range", "mqtt {\n  port: -1\n  max_ack_pending: 70000\n}\n", `$FILE:3:3: invalid value 70000, should in [0..65535] range`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			conf := filepath.Join(dir, "mqtt.conf")
			writeFile(t, conf, strings.ReplaceAll(tc.text, "$DIR", fmt.Sprintf("%q", filepath.Join(dir, "js"))))
			want := strings.ReplaceAll(tc.want, "$FILE", conf)
			code, stderr := runBin(t, binary, "-c", conf, "-a", "127.0.0.1", "-p", "-1")
			if !strings.Contains(want, "nats-server: ") {
				want = "nats-server: " + want
			}
			require.Equal(t, 1, code, stderr)
			require.Equal(t, want, strings.TrimRight(stderr, "\n"))
			if upstream == "" {
				return
			}
			code, stderr = runBin(t, upstream, "-c", conf, "-a", "127.0.0.1", "-p", "-1")
			require.Equal(t, 1, code, stderr)
			require.Equal(t, want, strings.TrimRight(stderr, "\n"), "upstream says otherwise")
		})
	}
}

// TestMQTTConfigCheck checks -t on an mqtt block: the checks that need
// the whole configuration wait for the start, as upstream's; errors in
// the block are reported, all of them.
func TestMQTTConfigCheck(t *testing.T) {
	dir := t.TempDir()
	conf := writeFile(t, filepath.Join(dir, "ok.conf"), "mqtt { port: -1, no_auth_user: bob }\n")
	code, stderr := runBin(t, binary, "-t", "-c", conf)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stderr, "configuration file "+conf+" is valid")

	conf = writeFile(t, filepath.Join(dir, "bad.conf"), "mqtt {\n  port: \"x\"\n  ack_wait: \"soon\"\n  bogus: true\n}\n")
	code, stderr = runBin(t, binary, "-t", "-c", conf)
	require.Equal(t, 1, code, stderr)
	require.Equal(t, "nats-server: "+strings.Join([]string{
		conf + `:2:9: mqtt port: expected an integer, got string "x"`,
		conf + `:3:3: error parsing ack_wait: time: invalid duration "soon"`,
		conf + `:4:3: unknown field "bogus"`,
	}, "\n"), strings.TrimRight(stderr, "\n"))
}
