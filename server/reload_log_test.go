package server_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// lockedBuffer is a log sink safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestReloadLoggerWhileConnecting swaps the logger while clients connect
// and log (run with -race), and the new logger gets what follows.
func TestReloadLoggerWhileConnecting(t *testing.T) {
	var first, second lockedBuffer
	debug := &slog.HandlerOptions{Level: slog.LevelDebug}
	opts := server.Options{Host: "127.0.0.1", Port: server.RandomPort, Logger: slog.New(slog.NewTextHandler(&first, debug))}
	s := servertest.Start(t, opts)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 20 {
			nc, err := dialNats(s)
			if err == nil {
				nc.Close()
			}
		}
	}()
	opts.Logger = slog.New(slog.NewTextHandler(&second, debug))
	for range 5 {
		require.NoError(t, s.Reload(opts))
	}
	wg.Wait()
	require.Contains(t, second.String(), "Reloaded server configuration")
	require.NotContains(t, first.String(), "Reloaded server configuration")
	nc := servertest.Connect(t, s)
	nc.Close()
	require.Eventually(t, func() bool {
		return strings.Contains(second.String(), "Client connection closed")
	}, 2e9, 1e7)
}
