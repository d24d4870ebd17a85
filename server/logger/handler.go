package logger

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"
)

// Levels beyond the four of log/slog. LevelTrace equals server.LevelTrace;
// the value is repeated here because the server does not import this
// package (the command wires them together).
const (
	// LevelTrace is protocol tracing (-V), below debug.
	LevelTrace = slog.Level(-8)
	// LevelFatal is an error after which the process exits; the handler
	// only tags it FTL, exiting is the caller's business.
	LevelFatal = slog.Level(12)
)

// Options configure a Handler. The zero value logs info and above with no
// pid, no time and no colours; Defaults gives nats-server's defaults.
type Options struct {
	// Level is the minimum level written; nil means slog.LevelInfo. Pass a
	// *slog.LevelVar to change it while running.
	Level slog.Leveler
	// Filter, when set, decides instead of Level which levels are written;
	// see Switches.
	Filter func(slog.Level) bool
	// PID prefixes each line with "[pid] ".
	PID bool
	// Time adds "2006/01/02 15:04:05.000000 " (logtime).
	Time bool
	// UTC prints the time in UTC instead of the local zone (logtime_utc).
	UTC bool
	// Color wraps the level tag in ANSI colours, as nats-server does when
	// stderr is a terminal.
	Color bool
}

// Defaults returns the options nats-server uses for its stderr and file
// logs: pid and local time on, info level, no colours.
func Defaults() Options {
	return Options{PID: true, Time: true}
}

// Handler is a slog.Handler writing nats-server formatted lines.
type Handler struct {
	opts   Options
	out    *output
	prefix string // pid prefix, computed once
	attrs  []byte // preformatted " k=v" of WithAttrs
	group  string // dotted group prefix for later attrs
}

// output is shared by a handler and its derivatives.
type output struct {
	mu sync.Mutex
	w  io.Writer
}

// NewHandler returns a handler writing to w. If w is a *File, the handler
// also formats the file's rotation notices.
func NewHandler(w io.Writer, opts *Options) *Handler {
	var o Options
	if opts != nil {
		o = *opts
	}
	h := &Handler{opts: o, out: &output{w: w}}
	if o.PID {
		h.prefix = "[" + strconv.Itoa(os.Getpid()) + "] "
	}
	if f, ok := w.(*File); ok {
		f.setNotice(func(msg string) []byte {
			return h.appendRecord(nil, time.Now(), slog.LevelInfo, msg, nil)
		})
	}
	return h
}

// Enabled reports whether records at level are written.
func (h *Handler) Enabled(_ context.Context, level slog.Level) bool {
	return enabled(&h.opts, level)
}

func enabled(o *Options, level slog.Level) bool {
	if o.Filter != nil {
		return o.Filter(level)
	}
	min := slog.LevelInfo
	if o.Level != nil {
		min = o.Level.Level()
	}
	return level >= min
}

// Switches returns a Filter with nats-server's two independent switches:
// debug (-D) lets debug records through and trace (-V) trace records, so
// -V alone traces the protocol without the debug lines. Info and above
// always pass.
func Switches(debug, trace bool) func(slog.Level) bool {
	return func(l slog.Level) bool {
		switch {
		case l >= slog.LevelInfo:
			return true
		case l >= slog.LevelDebug:
			return debug
		default:
			return trace
		}
	}
}

// Handle formats r as one line and writes it with a single Write.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	buf := make([]byte, 0, 128+len(r.Message))
	buf = h.appendRecord(buf, r.Time, r.Level, r.Message, &r)
	h.out.mu.Lock()
	_, err := h.out.w.Write(buf)
	h.out.mu.Unlock()
	return err
}

// WithAttrs returns a handler that appends attrs to every line.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	h2.attrs = append([]byte(nil), h.attrs...)
	for _, a := range attrs {
		h2.attrs = appendAttr(h2.attrs, h.group, a)
	}
	return &h2
}

// WithGroup returns a handler that qualifies later attributes with name.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.group = h.group + name + "."
	return &h2
}

func (h *Handler) appendRecord(buf []byte, t time.Time, level slog.Level, msg string, r *slog.Record) []byte {
	buf = append(buf, h.prefix...)
	if h.opts.Time {
		if t.IsZero() {
			t = time.Now()
		}
		if h.opts.UTC {
			t = t.UTC()
		}
		buf = t.AppendFormat(buf, "2006/01/02 15:04:05.000000 ")
	}
	buf = appendLabel(buf, level, h.opts.Color)
	buf = append(buf, msg...)
	buf = append(buf, h.attrs...)
	if r != nil && r.NumAttrs() > 0 {
		r.Attrs(func(a slog.Attr) bool {
			buf = appendAttr(buf, h.group, a)
			return true
		})
	}
	return append(buf, '\n')
}

// Tag returns the three-letter tag nats-server prints for level.
func Tag(level slog.Level) string {
	switch {
	case level >= LevelFatal:
		return "FTL"
	case level >= slog.LevelError:
		return "ERR"
	case level >= slog.LevelWarn:
		return "WRN"
	case level >= slog.LevelInfo:
		return "INF"
	case level >= slog.LevelDebug:
		return "DBG"
	default:
		return "TRC"
	}
}

// ANSI colour codes of each tag, as nats-server prints them on a terminal.
func colorCode(tag string) string {
	switch tag {
	case "INF":
		return "32"
	case "DBG":
		return "36"
	case "WRN":
		return "0;93"
	case "TRC":
		return "33"
	default: // ERR, FTL
		return "31"
	}
}

func appendLabel(buf []byte, level slog.Level, color bool) []byte {
	tag := Tag(level)
	buf = append(buf, '[')
	if color {
		buf = append(buf, "\x1b["...)
		buf = append(buf, colorCode(tag)...)
		buf = append(buf, 'm')
		buf = append(buf, tag...)
		buf = append(buf, "\x1b[0m"...)
	} else {
		buf = append(buf, tag...)
	}
	return append(buf, "] "...)
}

func appendAttr(buf []byte, group string, a slog.Attr) []byte {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return buf
	}
	if a.Value.Kind() == slog.KindGroup {
		g := group
		if a.Key != "" {
			g += a.Key + "."
		}
		for _, ga := range a.Value.Group() {
			buf = appendAttr(buf, g, ga)
		}
		return buf
	}
	buf = append(buf, ' ')
	buf = append(buf, group...)
	buf = append(buf, a.Key...)
	buf = append(buf, '=')
	s := a.Value.String()
	if needsQuote(s) {
		buf = strconv.AppendQuote(buf, s)
	} else {
		buf = append(buf, s...)
	}
	return buf
}

func needsQuote(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == '"' || c == '=' || c >= 0x7f {
			return true
		}
	}
	return false
}

// IsTerminal reports whether f is a character device (a terminal), the
// test nats-server uses to decide on coloured output.
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
