package main

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"sync"

	"natsd.dev/server/logger"
)

// The Windows service and its event log. The service itself lives in
// service_windows.go; what is here builds on every platform so its tests
// run in ordinary CI.

// serviceName is the Windows service nats-server runs as and that
// --signal controls by default, as upstream documents:
//
//	sc.exe create nats-server binPath= "C:\nats\nats-server.exe -c C:\nats\nats.conf"
//	nats-server.exe --signal reload[=<service name>]
const serviceName = "nats-server"

// eventSource is the event log source -s (and -r) write as: upstream's.
const eventSource = "NATS-Server"

// eventWriter is the part of *eventlog.Log the event log handler uses.
type eventWriter interface {
	Info(eid uint32, msg string) error
	Error(eid uint32, msg string) error
}

// eventEntry says how a record of level is written to the event log, as
// upstream writes it: the event type (error or information), the event
// id and the tag of "pid[<pid>][<tag>]: <message>". Warnings are
// information events, as upstream's.
func eventEntry(level slog.Level) (isError bool, eid uint32, tag string) {
	switch {
	case level >= logger.LevelFatal:
		return true, 5, "FATAL"
	case level >= slog.LevelError:
		return true, 2, "ERROR"
	case level >= slog.LevelWarn:
		return false, 1, "WARN"
	case level >= slog.LevelInfo:
		return false, 1, "NOTICE"
	case level >= slog.LevelDebug:
		return false, 3, "DEBUG"
	}
	return false, 4, "TRACE"
}

// eventHandler is a slog.Handler writing each record as one event log
// entry (see eventEntry). Attributes follow the message as " key=value".
type eventHandler struct {
	out    *eventOut
	filter func(slog.Level) bool
	prefix string // "pid[<pid>]["
	attrs  string
	group  string
}

type eventOut struct {
	mu sync.Mutex
	w  eventWriter
}

// newEventHandler returns a handler writing to w the levels opts lets
// through (its Filter, else its Level, else info and above).
func newEventHandler(w eventWriter, opts *logger.Options) *eventHandler {
	h := &eventHandler{out: &eventOut{w: w}, prefix: "pid[" + strconv.Itoa(os.Getpid()) + "]["}
	var min slog.Leveler = slog.LevelInfo
	if opts != nil && opts.Level != nil {
		min = opts.Level
	}
	h.filter = func(l slog.Level) bool { return l >= min.Level() }
	if opts != nil && opts.Filter != nil {
		h.filter = opts.Filter
	}
	return h
}

func (h *eventHandler) Enabled(_ context.Context, level slog.Level) bool { return h.filter(level) }

func (h *eventHandler) Handle(_ context.Context, r slog.Record) error {
	isError, eid, tag := eventEntry(r.Level)
	msg := h.prefix + tag + "]: " + r.Message + h.attrs
	r.Attrs(func(a slog.Attr) bool {
		msg += " " + h.group + a.Key + "=" + a.Value.String()
		return true
	})
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	if isError {
		return h.out.w.Error(eid, msg)
	}
	return h.out.w.Info(eid, msg)
}

func (h *eventHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h2 := *h
	for _, a := range attrs {
		h2.attrs += " " + h.group + a.Key + "=" + a.Value.String()
	}
	return &h2
}

func (h *eventHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.group += name + "."
	return &h2
}
