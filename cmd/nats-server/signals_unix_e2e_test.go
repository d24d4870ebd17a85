//go:build unix

package main

// End-to-end tests of the signals that only Unix has (USR1, USR2); the
// Windows service gets the same commands through service control.

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

func TestSigusr1ReopensLogFile(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "nats.log")
	p := start(t, "-l", logFile)
	servertest.WaitUntil(t, "the banner in the log file", func() bool {
		b, _ := os.ReadFile(logFile)
		return bytes.Contains(b, []byte("[INF] Server is ready"))
	})
	require.NoError(t, os.Rename(logFile, logFile+".1"))
	p.signal(syscall.SIGUSR1)
	servertest.WaitUntil(t, "a new log file", func() bool {
		b, _ := os.ReadFile(logFile)
		return bytes.Contains(b, []byte("[INF] File log re-opened"))
	})
	old, err := os.ReadFile(logFile + ".1")
	require.NoError(t, err)
	require.Contains(t, string(old), `Trapped "user defined signal 1" signal`)
	require.Empty(t, p.log.String(), "nothing goes to stderr when logging to a file")
}

// TestSignalAsSoonAsPortsFile signals the process the moment its ports
// file exists: the signal is served (logged and acted on), never the
// default action that would kill the process.
func TestSignalAsSoonAsPortsFile(t *testing.T) {
	for range 5 {
		p := start(t)
		p.signal(syscall.SIGHUP)
		p.waitLog(`Trapped "hangup" signal`)
		p.connect()
		p.signal(syscall.SIGUSR1)
		p.waitLog(`Trapped "user defined signal 1" signal`)
		p.connect()
	}
}

func TestSigtermDuringLameDuckIsIgnored(t *testing.T) {
	dir := t.TempDir()
	conf := writeFile(t, filepath.Join(dir, "ldm.conf"), "lame_duck_grace_period: \"1s\"\nlame_duck_duration: \"30s\"\n")
	p := start(t, "-c", conf)
	closed := make(chan struct{})
	p.connect(nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	p.signal(syscall.SIGUSR2)
	p.waitLog("Entering lame duck mode")
	p.signal(syscall.SIGTERM)
	p.waitLog(`Trapped "terminated" signal`)
	select {
	case <-p.done:
		t.Fatal("SIGTERM stopped lame duck mode")
	case <-time.After(300 * time.Millisecond):
	}
	require.Equal(t, 0, p.exitCode())
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("client was not closed by lame duck mode")
	}
}
