package logger_test

import (
	"context"
	"log/slog"
	"os"

	"natsd.dev/server/logger"
)

// A handler without pid and time, as after -T=false on a process whose pid
// is left out for the example's sake.
func ExampleNewHandler() {
	h := logger.NewHandler(os.Stdout, &logger.Options{Level: slog.LevelDebug})
	log := slog.New(h)
	log.Info("Server is ready")
	log.Debug("Client connection created", "cid", 1)
	log.Warn("Maximum payloads over 8388608 bytes are not recommended")
	// Output:
	// [INF] Server is ready
	// [DBG] Client connection created cid=1
	// [WRN] Maximum payloads over 8388608 bytes are not recommended
}

// Protocol tracing uses LevelTrace, below debug.
func ExampleLevelTrace() {
	log := slog.New(logger.NewHandler(os.Stdout, &logger.Options{Level: logger.LevelTrace}))
	log.Log(context.Background(), logger.LevelTrace, `127.0.0.1:51234 - cid:1 - <<- [PING]`)
	// Output:
	// [TRC] 127.0.0.1:51234 - cid:1 - <<- [PING]
}

// A rotating log file: past 10 MB the file is renamed with a timestamp
// suffix and at most 5 files are kept.
func ExampleOpenFile() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	f, err := logger.OpenFile(dir+"/nats-server.log", 10<<20, 5)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	log := slog.New(logger.NewHandler(f, new(logger.Defaults())))
	log.Info("Starting nats-server")
	// Output:
}
