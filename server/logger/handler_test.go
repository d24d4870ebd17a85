package logger_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"natsd.dev/server/logger"
)

func record(level slog.Level, msg string, t time.Time, attrs ...slog.Attr) slog.Record {
	r := slog.NewRecord(t, level, msg, 0)
	r.AddAttrs(attrs...)
	return r
}

func TestFormat(t *testing.T) {
	pid := "[" + strconv.Itoa(os.Getpid()) + "] "
	at := time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.FixedZone("X", 3600))
	tests := []struct {
		name  string
		opts  logger.Options
		level slog.Level
		attrs []slog.Attr
		want  string
	}{
		{"defaults", logger.Defaults(), slog.LevelInfo, nil, pid + "2026/03/04 05:06:07.891234 [INF] hello\n"},
		{"utc", logger.Options{PID: true, Time: true, UTC: true}, slog.LevelInfo, nil, pid + "2026/03/04 04:06:07.891234 [INF] hello\n"},
		{"no time", logger.Options{PID: true}, slog.LevelWarn, nil, pid + "[WRN] hello\n"},
		{"bare", logger.Options{}, slog.LevelError, nil, "[ERR] hello\n"},
		{"fatal", logger.Options{}, logger.LevelFatal, nil, "[FTL] hello\n"},
		{"debug", logger.Options{Level: slog.LevelDebug}, slog.LevelDebug, nil, "[DBG] hello\n"},
		{"trace", logger.Options{Level: logger.LevelTrace}, logger.LevelTrace, nil, "[TRC] hello\n"},
		{"color", logger.Options{Color: true}, slog.LevelInfo, nil, "[\x1b[32mINF\x1b[0m] hello\n"},
		{"attrs", logger.Options{}, slog.LevelInfo, []slog.Attr{slog.Int("cid", 5), slog.String("name", "a b")}, "[INF] hello cid=5 name=\"a b\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			h := logger.NewHandler(&buf, &tt.opts)
			if err := h.Handle(context.Background(), record(tt.level, "hello", at, tt.attrs...)); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTags(t *testing.T) {
	for level, want := range map[slog.Level]string{
		-12: "TRC", logger.LevelTrace: "TRC", -5: "TRC", slog.LevelDebug: "DBG", -1: "DBG",
		slog.LevelInfo: "INF", slog.LevelWarn: "WRN", slog.LevelError: "ERR", logger.LevelFatal: "FTL", 20: "FTL",
	} {
		if got := logger.Tag(level); got != want {
			t.Errorf("Tag(%d) = %s, want %s", level, got, want)
		}
	}
}

func TestLevelFilterAndGroups(t *testing.T) {
	var buf bytes.Buffer
	lv := new(slog.LevelVar)
	log := slog.New(logger.NewHandler(&buf, &logger.Options{Level: lv}))
	log.Debug("hidden")
	lv.Set(logger.LevelTrace)
	log.Log(context.Background(), logger.LevelTrace, "shown")
	log.WithGroup("g").With("a", 1).Info("x", "b", 2)
	want := "[TRC] shown\n[INF] x g.a=1 g.b=2\n"
	if buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

func TestSwitches(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(logger.NewHandler(&buf, &logger.Options{Filter: logger.Switches(false, true)}))
	log.Debug("no")
	log.Log(context.Background(), logger.LevelTrace, "trace")
	log.Info("info")
	if want := "[TRC] trace\n[INF] info\n"; buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

func TestFileRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nats.log")
	f, err := logger.OpenFile(path, 200, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	log := slog.New(logger.NewHandler(f, &logger.Options{PID: true, Time: true}))
	for i := range 40 {
		log.Info("line number " + strconv.Itoa(i) + " with some padding to grow the file")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	stamp := regexp.MustCompile(`^nats\.log\.\d{4}\.\d{2}\.\d{2}\.\d{2}\.\d{2}\.\d{2}\.\d{9}$`)
	var backups int
	for _, e := range entries {
		switch {
		case e.Name() == "nats.log":
		case stamp.MatchString(e.Name()):
			backups++
		default:
			t.Errorf("unexpected file %s", e.Name())
		}
	}
	if backups != 2 { // logfile_max_num 3 counts the current file
		t.Errorf("%d backups, want 2", backups)
	}
	cur, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\[\d+\] \d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{6} \[INF\] Rotated log, backup saved as "`).Match(cur) {
		t.Errorf("current file does not start with the rotation notice:\n%s", cur)
	}
}

func TestFileReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nats.log")
	f, err := logger.OpenFile(path, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(logger.NewHandler(f, nil))
	log.Info("before")
	if err := os.Rename(path, path+".old"); err != nil {
		t.Fatal(err)
	}
	log.Info("still old")
	if err := f.Reopen(); err != nil {
		t.Fatal(err)
	}
	log.Info("after")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("x")); err != logger.ErrClosed {
		t.Errorf("write after close: %v", err)
	}
	old, _ := os.ReadFile(path + ".old")
	cur, _ := os.ReadFile(path)
	if string(old) != "[INF] before\n[INF] still old\n" || string(cur) != "[INF] after\n" {
		t.Errorf("old %q, new %q", old, cur)
	}
}

func TestRemoteSyslog(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no syslog")
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	h, err := logger.NewSyslogHandler("udp://"+pc.LocalAddr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	slog.New(h).Warn("disk almost full", "pct", 97)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1024)
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	msg := string(buf[:n])
	// <priority> is facility*8+severity; LOG_DEBUG facility is kern (0), warning is 4.
	if !strings.HasPrefix(msg, "<4>") || !strings.HasSuffix(strings.TrimSpace(msg), "disk almost full pct=97") {
		t.Errorf("unexpected syslog datagram %q", msg)
	}
}

func TestParseSyslogAddr(t *testing.T) {
	for in, want := range map[string]string{
		"udp://localhost:514": "udp localhost:514",
		"tcp://10.0.0.1:601":  "tcp 10.0.0.1:601",
		"unix:///dev/log":     "unix /dev/log",
		"http://x:1":          "error",
		"udp://":              "error",
	} {
		n, a, err := logger.ParseSyslogAddr(in)
		got := n + " " + a
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("%s: got %q, want %q", in, got, want)
		}
	}
}
