package logger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
)

// ErrSyslogUnsupported is returned by NewSyslogHandler on platforms without
// log/syslog (Windows, Plan 9).
var ErrSyslogUnsupported = errors.New("logger: syslog is not supported on this platform")

// syslogWriter is the part of *syslog.Writer the handler uses.
type syslogWriter interface {
	Debug(m string) error
	Info(m string) error
	Notice(m string) error
	Warning(m string) error
	Err(m string) error
	Crit(m string) error
	Close() error
}

// SyslogHandler is a slog.Handler that sends each record to syslog with a
// priority matching its level: trace and info as notice, debug as debug,
// warn as warning, error as err, fatal as crit (nats-server's mapping).
// Messages carry no pid, time or tag: syslog adds its own.
type SyslogHandler struct {
	opts  Options
	out   *syslogOut
	attrs []byte
	group string
}

type syslogOut struct {
	mu sync.Mutex
	w  syslogWriter
}

// SyslogTag is the tag records are sent with: the executable's base name,
// as nats-server uses.
func SyslogTag() string { return filepath.Base(os.Args[0]) }

// NewSyslogHandler connects to the local syslog daemon when remote is
// empty, otherwise to remote: "udp://host:port", "tcp://host:port" or
// "unix:///path/to/socket". Only the Level and Filter of opts are used
// (nil opts logs info and above).
func NewSyslogHandler(remote string, opts *Options) (*SyslogHandler, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	network, addr := "", ""
	if remote != "" {
		var err error
		if network, addr, err = ParseSyslogAddr(remote); err != nil {
			return nil, err
		}
	}
	w, err := dialSyslog(network, addr, SyslogTag())
	if err != nil {
		return nil, fmt.Errorf("logger: connecting to syslog: %w", err)
	}
	return &SyslogHandler{opts: o, out: &syslogOut{w: w}}, nil
}

// ParseSyslogAddr splits a remote syslog URL into the network and address
// log/syslog dials.
func ParseSyslogAddr(remote string) (network, addr string, err error) {
	u, err := url.Parse(remote)
	if err != nil {
		return "", "", fmt.Errorf("logger: invalid remote syslog address %q: %w", remote, err)
	}
	switch u.Scheme {
	case "udp", "tcp":
		if u.Host == "" {
			return "", "", fmt.Errorf("logger: invalid remote syslog address %q: missing host", remote)
		}
		return u.Scheme, u.Host, nil
	case "unix":
		return u.Scheme, u.Path, nil
	}
	return "", "", fmt.Errorf("logger: invalid remote syslog network type %q", u.Scheme)
}

// Enabled reports whether records at level are sent.
func (h *SyslogHandler) Enabled(_ context.Context, level slog.Level) bool {
	return enabled(&h.opts, level)
}

// Handle sends r to syslog.
func (h *SyslogHandler) Handle(_ context.Context, r slog.Record) error {
	buf := append([]byte(r.Message), h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		buf = appendAttr(buf, h.group, a)
		return true
	})
	msg := string(buf)
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	w := h.out.w
	switch {
	case r.Level >= LevelFatal:
		return w.Crit(msg)
	case r.Level >= slog.LevelError:
		return w.Err(msg)
	case r.Level >= slog.LevelWarn:
		return w.Warning(msg)
	case r.Level >= slog.LevelInfo:
		return w.Notice(msg)
	case r.Level >= slog.LevelDebug:
		return w.Debug(msg)
	default:
		return w.Notice(msg)
	}
}

// WithAttrs returns a handler that appends attrs to every message.
func (h *SyslogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h2 := *h
	h2.attrs = append([]byte(nil), h.attrs...)
	for _, a := range attrs {
		h2.attrs = appendAttr(h2.attrs, h.group, a)
	}
	return &h2
}

// WithGroup returns a handler that qualifies later attributes with name.
func (h *SyslogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.group = h.group + name + "."
	return &h2
}

// Close closes the connection to syslog.
func (h *SyslogHandler) Close() error {
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	return h.out.w.Close()
}
