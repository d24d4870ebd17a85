package main

import (
	"io"
	"log/slog"
	"os"

	"natsd.dev/server/config"
	"natsd.dev/server/logger"
)

// logging is the process's log output, rebuilt on reload.
type logging struct {
	log    *slog.Logger
	file   *logger.File // set when logging to a file, for SIGUSR1
	closer io.Closer    // the file or the syslog connection
}

// newLogging builds the log output nats-server would for c: a file (-l)
// first, then remote syslog (-r), then local syslog (-s), else stderr.
func newLogging(c config.LogConfig, stderr *os.File) (*logging, error) {
	filter := logger.Switches(c.Debug, c.Trace)
	opts := &logger.Options{Filter: filter, PID: true, Time: c.Logtime, UTC: c.LogtimeUTC}
	switch {
	case c.File != "":
		f, err := logger.OpenFile(c.File, c.SizeLimit, c.MaxFiles)
		if err != nil {
			return nil, err
		}
		return &logging{log: slog.New(logger.NewHandler(f, opts)), file: f, closer: f}, nil
	case c.RemoteSyslog != "" || c.Syslog:
		// syslog on Unix, the event log on Windows (openSyslog).
		h, closer, err := openSyslog(c.RemoteSyslog, opts)
		if err != nil {
			return nil, err
		}
		return &logging{log: slog.New(h), closer: closer}, nil
	}
	opts.Color = logger.IsTerminal(stderr)
	return &logging{log: slog.New(logger.NewHandler(stderr, opts))}, nil
}

// reopen reopens the log file after an external rotation (SIGUSR1).
func (l *logging) reopen() {
	if l.file == nil {
		l.log.Info("File log re-open ignored, not a file logger")
		return
	}
	if err := l.file.Reopen(); err != nil {
		l.log.Error("Unable to re-open the log file: " + err.Error())
		return
	}
	l.log.Info("File log re-opened")
}

func (l *logging) close() {
	if l.closer != nil {
		l.closer.Close()
	}
}
