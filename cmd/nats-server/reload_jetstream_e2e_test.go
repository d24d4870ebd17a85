package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// reloadWait rewrites conf, sends SIGHUP and waits for the n-th reload
// outcome and then for want in the log.
func reloadWait(p *proc, conf, text string, n int, want string) {
	p.t.Helper()
	writeFile(p.t, conf, text)
	p.signal(syscall.SIGHUP)
	servertest.WaitUntil(p.t, "reload outcome", func() bool {
		log := p.log.String()
		return strings.Count(log, "Reloaded server configuration")+strings.Count(log, "Failed to reload server configuration") >= n
	})
	p.waitLog(want)
}

// jetStreamOnOffScenario turns JetStream on, off and on again by reload
// under a client connected from the start: the stream it made before
// JetStream went off is there again after.
func jetStreamOnOffScenario(t *testing.T, bin string) {
	dir := t.TempDir()
	store := strconv.Quote(filepath.Join(dir, "store"))
	off := "jetstream { enabled: false, store_dir: " + store + " }\n"
	on := "jetstream { store_dir: " + store + " }\n"
	conf := writeFile(t, filepath.Join(dir, "js.conf"), off)
	p := startBinary(t, bin, "-c", conf)
	nc := p.connect()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	_, err = js.AccountInfo(t.Context())
	require.Error(t, err, "JetStream answers while off")

	reloadWait(p, conf, on, 1, "Reloaded: JetStream")
	p.waitLog("Starting JetStream")
	require.NotContains(t, p.log.String(), "Failed to reload")
	servertest.WaitUntil(t, "JetStream answering", func() bool {
		_, err := js.AccountInfo(t.Context())
		return err == nil
	})
	_, err = js.CreateStream(t.Context(), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	require.NoError(t, err)
	_, err = js.Publish(t.Context(), "s.1", []byte("one"))
	require.NoError(t, err)

	// A store directory may not change while JetStream stays on.
	reloadWait(p, conf, "jetstream { store_dir: "+strconv.Quote(filepath.Join(dir, "other"))+" }\n", 2,
		"Failed to reload server configuration: config reload not supported for jetstream storage dir")

	// The meta_compact keys reload without a word, as upstream's (natsd
	// ignores them, with a warning).
	reloadWait(p, conf, "jetstream { store_dir: "+store+", meta_compact: 200, meta_compact_size: 2MB, meta_compact_sync: true }\n", 3,
		"Reloaded server configuration")
	require.Equal(t, 2, strings.Count(p.log.String(), "Reloaded server configuration"), p.log.String())

	// "Initiating JetStream Shutdown..." is logged before the shutdown
	// runs: wait for JetStream to stop answering.
	reloadWait(p, conf, off, 4, "JetStream Shutdown")
	servertest.WaitUntil(t, "JetStream silent after it was turned off", func() bool {
		_, err := js.AccountInfo(t.Context())
		return err != nil
	})

	reloadWait(p, conf, on, 5, "Reloaded server configuration")
	servertest.WaitUntil(t, "the last reload", func() bool { return strings.Count(p.log.String(), "Reloaded server configuration") == 4 })
	require.Equal(t, 3, strings.Count(p.log.String(), "Reloaded: JetStream"), p.log.String())
	var msgs uint64
	servertest.WaitUntil(t, "stream S recovered", func() bool {
		s, err := js.Stream(t.Context(), "S")
		if err != nil {
			return false
		}
		info, err := s.Info(t.Context())
		if err != nil {
			return false
		}
		msgs = info.State.Msgs
		return true
	})
	require.Equal(t, uint64(1), msgs)
	nc.Close()
	p.signal(syscall.SIGTERM)
	require.Equal(t, 0, p.exitCode())
}

func TestReloadJetStreamOnOff(t *testing.T) {
	jetStreamOnOffScenario(t, binary)
}

// TestReloadJetStreamOnOffUpstream plays the scenario against upstream's
// binary: the same log lines and outcome.
func TestReloadJetStreamOnOffUpstream(t *testing.T) {
	up := os.Getenv("NATSD_UPSTREAM_SERVER")
	if up == "" {
		t.Skip("NATSD_UPSTREAM_SERVER is not set")
	}
	jetStreamOnOffScenario(t, up)
}
