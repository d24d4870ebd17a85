package main

import (
	"fmt"
	"log/slog"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"natsd.dev/server/logger"
)

// fakeEvents records what the event log handler writes.
type fakeEvents struct{ entries []string }

func (f *fakeEvents) Info(eid uint32, msg string) error {
	f.entries = append(f.entries, fmt.Sprintf("info %d %s", eid, msg))
	return nil
}

func (f *fakeEvents) Error(eid uint32, msg string) error {
	f.entries = append(f.entries, fmt.Sprintf("error %d %s", eid, msg))
	return nil
}

// TestEventLogHandler: -s on Windows writes upstream's event log entries:
// "pid[<pid>][<TAG>]: <message>", errors as error events, the rest as
// information events, with upstream's event ids; -D and -V decide which
// levels are written, as for every other log output.
func TestEventLogHandler(t *testing.T) {
	pid := fmt.Sprintf("pid[%d]", os.Getpid())
	for _, tc := range []struct {
		debug, trace bool
		want         []string
	}{
		{false, false, []string{
			"info 1 " + pid + "[NOTICE]: Server is ready",
			"info 1 " + pid + "[WARN]: careful",
			"error 2 " + pid + "[ERROR]: broken conn=7",
			"error 5 " + pid + "[FATAL]: gone",
		}},
		{true, true, []string{
			"info 4 " + pid + "[TRACE]: <<- [PING]",
			"info 3 " + pid + "[DEBUG]: detail",
			"info 1 " + pid + "[NOTICE]: Server is ready",
			"info 1 " + pid + "[WARN]: careful",
			"error 2 " + pid + "[ERROR]: broken conn=7",
			"error 5 " + pid + "[FATAL]: gone",
		}},
	} {
		f := &fakeEvents{}
		log := slog.New(newEventHandler(f, &logger.Options{Filter: logger.Switches(tc.debug, tc.trace)}))
		ctx := t.Context()
		log.Log(ctx, logger.LevelTrace, "<<- [PING]")
		log.Debug("detail")
		log.Info("Server is ready")
		log.Warn("careful")
		log.With("conn", 7).Error("broken")
		log.Log(ctx, logger.LevelFatal, "gone")
		require.Equal(t, tc.want, f.entries)
	}
}
