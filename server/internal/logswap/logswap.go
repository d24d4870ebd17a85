// Package logswap is the server logger's handler: it passes records to
// the handler of the logger in force, which the server's Reload may swap
// while connections log, without a lock on the logging path.
package logswap

import (
	"context"
	"log/slog"
	"sync/atomic"
)

// Handler passes records to the handler in force. Use it through a
// pointer; Set it before the first record.
type Handler struct {
	h atomic.Pointer[slog.Handler]
}

// Set makes l's handler the one in force; nil discards. It is safe to
// call while records are handled.
func (s *Handler) Set(l *slog.Logger) {
	var h slog.Handler = slog.DiscardHandler
	if l != nil {
		h = l.Handler()
	}
	s.h.Store(&h)
}

func (s *Handler) cur() slog.Handler { return *s.h.Load() }

// Enabled asks the handler in force.
func (s *Handler) Enabled(ctx context.Context, l slog.Level) bool {
	return s.cur().Enabled(ctx, l)
}

// Handle passes r to the handler in force.
func (s *Handler) Handle(ctx context.Context, r slog.Record) error {
	return s.cur().Handle(ctx, r)
}

// WithAttrs and WithGroup derive from the handler in force: a derived
// logger does not follow later swaps.
func (s *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return s.cur().WithAttrs(attrs)
}

// WithGroup derives from the handler in force, as WithAttrs does.
func (s *Handler) WithGroup(name string) slog.Handler { return s.cur().WithGroup(name) }
