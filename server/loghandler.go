package server

import (
	"context"
	"log/slog"
	"sync/atomic"
)

// swapHandler is the server logger's handler: it passes records to the
// handler of the logger in force, which Reload may swap while connections
// log, without a lock on the logging path.
type swapHandler struct {
	h atomic.Pointer[slog.Handler]
}

// set makes l's handler the one in force; nil discards.
func (s *swapHandler) set(l *slog.Logger) {
	var h slog.Handler = slog.DiscardHandler
	if l != nil {
		h = l.Handler()
	}
	s.h.Store(&h)
}

func (s *swapHandler) cur() slog.Handler { return *s.h.Load() }

func (s *swapHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return s.cur().Enabled(ctx, l)
}

func (s *swapHandler) Handle(ctx context.Context, r slog.Record) error {
	return s.cur().Handle(ctx, r)
}

// WithAttrs and WithGroup derive from the handler in force: a derived
// logger does not follow later swaps.
func (s *swapHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return s.cur().WithAttrs(attrs)
}

func (s *swapHandler) WithGroup(name string) slog.Handler { return s.cur().WithGroup(name) }
