//go:build !windows

package main

import (
	"io"
	"log/slog"
	"os"

	"natsd.dev/server/logger"
)

// runMain runs the command; only Windows has a service to run it under.
func runMain(args []string, stdout io.Writer, stderr *os.File) int {
	return run(args, stdout, stderr)
}

// openSyslog connects -s to the local syslog daemon and -r to a remote
// one (udp://, tcp:// or unix:// URL).
func openSyslog(remote string, opts *logger.Options) (slog.Handler, io.Closer, error) {
	h, err := logger.NewSyslogHandler(remote, opts)
	if err != nil {
		return nil, nil, err
	}
	return h, h, nil
}
