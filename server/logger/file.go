package logger

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// ErrClosed is returned by writes to a closed File.
var ErrClosed = errors.New("logger: file closed")

// File is a log file that rotates itself. It is an io.Writer; give it to
// NewHandler. The zero value is not usable; call OpenFile.
type File struct {
	mu       sync.Mutex
	path     string
	f        *os.File
	size     int64 // bytes in the current file
	limit    int64 // rotate past this many bytes; 0 never
	maxFiles int   // files kept, the current one included; 0 keeps all
	closed   bool
	notice   func(msg string) []byte // formats a rotation notice
}

// FilePerm is the mode of log files created by OpenFile, as nats-server.
const FilePerm = 0o640

// OpenFile opens (or creates) path for appending. When limit > 0 the file
// is rotated once it grows past limit bytes: it is renamed to
// "<path>.YYYY.MM.DD.hh.mm.ss.nnnnnnnnn" and a new file is started with the
// line `Rotated log, backup saved as "<backup>"`. When maxFiles > 0 the
// oldest backups are removed so that at most maxFiles files remain, the
// current one included (logfile_max_num).
func OpenFile(path string, limit int64, maxFiles int) (*File, error) {
	f, err := openAppend(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &File{path: path, f: f, size: st.Size(), limit: limit, maxFiles: maxFiles}, nil
}

func openAppend(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, FilePerm)
}

// Name returns the path the file was opened with.
func (l *File) Name() string { return l.path }

// SetLimits changes the rotation size limit and the number of files kept.
func (l *File) SetLimits(limit int64, maxFiles int) {
	l.mu.Lock()
	l.limit, l.maxFiles = limit, maxFiles
	l.mu.Unlock()
}

func (l *File) setNotice(fn func(string) []byte) {
	l.mu.Lock()
	l.notice = fn
	l.mu.Unlock()
}

// Write appends p, then rotates if the file passed its limit.
func (l *File) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	if err != nil {
		return n, err
	}
	if l.limit > 0 && l.size > l.limit {
		if rerr := l.rotate(); rerr != nil {
			// Keep logging to whatever file we have; try again at twice the
			// size so a persistent failure does not retry on every line.
			l.limit *= 2
			l.writeNotice(fmt.Sprintf("Unable to rotate log file (%v), will attempt next rotation at size %d", rerr, l.limit))
		}
	}
	return n, nil
}

// rotate renames the current file to a timestamped backup and opens a new
// one. l.mu is held.
func (l *File) rotate() error {
	now := time.Now()
	backup := fmt.Sprintf("%s.%04d.%02d.%02d.%02d.%02d.%02d.%09d", l.path,
		now.Year(), now.Month(), now.Day(), now.Hour(), now.Minute(), now.Second(), now.Nanosecond())
	if err := l.f.Close(); err != nil {
		return err
	}
	renameErr := os.Rename(l.path, backup)
	f, err := openAppend(l.path)
	if err != nil {
		return err
	}
	l.f = f
	l.size = 0
	if renameErr != nil {
		return renameErr
	}
	l.writeNotice(fmt.Sprintf("Rotated log, backup saved as %q", backup))
	if l.maxFiles > 0 {
		l.purge()
	}
	return nil
}

// writeNotice writes one info line of the logger's own. l.mu is held.
func (l *File) writeNotice(msg string) {
	var line []byte
	if l.notice != nil {
		line = l.notice(msg)
	} else {
		line = []byte("[INF] " + msg + "\n")
	}
	n, _ := l.f.Write(line)
	l.size += int64(n)
}

// purge removes the oldest backups beyond maxFiles-1. l.mu is held.
func (l *File) purge() {
	dir, base := filepath.Dir(l.path), filepath.Base(l.path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		l.writeNotice(fmt.Sprintf("Unable to read directory %q for log purge (%v)", dir, err))
		return
	}
	var backups []string
	for _, e := range entries {
		stamp, ok := strings.CutPrefix(e.Name(), base+".")
		if !ok || e.IsDir() || !isBackupStamp(stamp) {
			continue
		}
		backups = append(backups, e.Name())
	}
	slices.Sort(backups) // the stamp sorts oldest first
	for len(backups) > l.maxFiles-1 {
		if err := os.Remove(filepath.Join(dir, backups[0])); err != nil {
			l.writeNotice(fmt.Sprintf("Unable to remove backup log file %q (%v)", backups[0], err))
			return
		}
		backups = backups[1:]
	}
}

// isBackupStamp reports whether s is "YYYY.MM.DD.hh.mm.ss.nnnnnnnnn".
func isBackupStamp(s string) bool {
	_, err := time.Parse("2006.01.02.15.04.05.000000000", s)
	return err == nil
}

// Reopen closes the file and opens its path again, so that after a log
// rotation tool renamed the file (and sent SIGUSR1) writes go to a fresh
// file at the configured path.
func (l *File) Reopen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	f, err := openAppend(l.path)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	old := l.f
	l.f, l.size = f, st.Size()
	return old.Close()
}

// Close closes the file; later writes fail with ErrClosed.
func (l *File) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	return l.f.Close()
}
