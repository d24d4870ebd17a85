//go:build windows

package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows/svc"
)

func TestStartupDelay(t *testing.T) {
	t.Setenv("NATS_STARTUP_DELAY", "")
	require.Equal(t, defaultStartupDelay, startupDelay())
	t.Setenv("NATS_STARTUP_DELAY", "45s")
	require.Equal(t, 45*time.Second, startupDelay())
	t.Setenv("NATS_STARTUP_DELAY", "soon")
	require.Equal(t, defaultStartupDelay, startupDelay())
}

// TestServiceCommands: --signal's commands are upstream's service
// controls; "term" is a Unix signal only.
func TestServiceCommands(t *testing.T) {
	require.Equal(t, svc.Stop, serviceCommands["stop"].cmd)
	require.Equal(t, svc.Stop, serviceCommands["quit"].cmd)
	require.Equal(t, svc.ParamChange, serviceCommands["reload"].cmd)
	require.Equal(t, svc.Cmd(128), serviceCommands["reopen"].cmd)
	require.Equal(t, svc.Cmd(129), serviceCommands["ldm"].cmd)
	require.Error(t, sendSignal("term"))
}
