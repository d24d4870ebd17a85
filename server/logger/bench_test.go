package logger_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"natsd.dev/server/logger"
)

// BenchmarkTraceLine measures one protocol trace line as -V writes it for
// every operation: pid, time, level tag and message.
func BenchmarkTraceLine(b *testing.B) {
	log := slog.New(logger.NewHandler(io.Discard, &logger.Options{Level: logger.LevelTrace, PID: true, Time: true}))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		log.Log(ctx, logger.LevelTrace, "127.0.0.1:51234 - cid:7 - <<- [PUB foo.bar 16]")
	}
}

// BenchmarkDisabled is the cost of a trace call when tracing is off.
func BenchmarkDisabled(b *testing.B) {
	log := slog.New(logger.NewHandler(io.Discard, &logger.Options{PID: true, Time: true}))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if log.Enabled(ctx, logger.LevelTrace) {
			b.Fatal("trace enabled")
		}
	}
}
