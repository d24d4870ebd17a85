package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"natsd.dev/confparse"
)

// --reload-check: `nats-server -t -c new.conf --reload-check <pid|pidfile>`
// prints what a reload of the running server with new.conf would change
// and refuse, without applying it.
//
// The check needs the configuration the server runs with, which may no
// longer be what its files hold (they are usually edited before a
// reload). So the running process keeps a reload snapshot: its command
// line and the bytes of every file and environment variable its last
// successful parse read, in a file only its user can read,
// <tmp>/natsd_<pid>.reload.json (os.TempDir), rewritten after each
// reload and removed at exit. The check parses the snapshot as the
// server did, parses new.conf with the server's flags, and prints
// planReload's answer: the same diff a reload logs.

// recorder reads configuration files and environment variables for a
// parse and remembers what it read.
type recorder struct {
	mu    sync.Mutex
	Args  []string          `json:"args"`
	Files map[string][]byte `json:"files"`
	Env   map[string]string `json:"env"`
	// Unset are the variables the parse looked up and did not find.
	Unset map[string]bool `json:"unset,omitempty"`
}

func newRecorder(args []string) *recorder {
	return &recorder{Args: args, Files: map[string][]byte{}, Env: map[string]string{}, Unset: map[string]bool{}}
}

// options are the confparse options reading through r; a nil r reads
// without recording.
func (r *recorder) options() confparse.Options {
	if r == nil {
		return confparse.Options{}
	}
	return confparse.Options{
		ReadFile: func(name string) ([]byte, error) {
			b, err := os.ReadFile(name)
			if err == nil {
				r.mu.Lock()
				r.Files[name] = b
				r.mu.Unlock()
			}
			return b, err
		},
		Env: func(name string) (string, bool) {
			v, ok := os.LookupEnv(name)
			r.mu.Lock()
			if ok {
				r.Env[name] = v
			} else {
				r.Unset[name] = true
			}
			r.mu.Unlock()
			return v, ok
		},
	}
}

// replay are confparse options that read r's files and environment
// variables as recorded (a variable the server never looked up falls
// back to this process's environment).
func (r *recorder) replay() confparse.Options {
	return confparse.Options{
		ReadFile: func(name string) ([]byte, error) {
			if b, ok := r.Files[name]; ok {
				return b, nil
			}
			return nil, &os.PathError{Op: "open", Path: name, Err: errors.New("not in the reload snapshot")}
		},
		Env: func(name string) (string, bool) {
			if v, ok := r.Env[name]; ok {
				return v, true
			}
			if r.Unset[name] {
				return "", false
			}
			return os.LookupEnv(name)
		},
	}
}

// snapshotPath is where the process with the given pid keeps its reload
// snapshot.
func snapshotPath(pid int) string {
	return filepath.Join(os.TempDir(), "natsd_"+strconv.Itoa(pid)+".reload.json")
}

// writeSnapshot replaces the process's reload snapshot with r (written
// to a new file, mode 0600, then renamed). Without a configuration file
// there is nothing to reload and no snapshot. A failure is logged: only
// --reload-check needs the snapshot.
func (p *process) writeSnapshot(r *recorder) {
	if p.f.configFile == "" || r == nil {
		return
	}
	path := snapshotPath(os.Getpid())
	r.mu.Lock()
	b, err := json.Marshal(r)
	r.mu.Unlock()
	if err == nil {
		err = writeFileAtomic(path, b)
	}
	if err != nil {
		p.logs.log.Warn("Could not write the reload snapshot: " + err.Error())
		return
	}
	p.snapFile = path
}

// writeFileAtomic writes b to a new file (mode 0600) in path's directory
// and renames it to path.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// reloadCheck implements -t -c <file> --reload-check <pid|pidfile>. The
// exit code is 0 when the reload would be applied, 1 when it would be
// refused or the check could not be made.
func reloadCheck(f *flags, stdout, stderr io.Writer) int {
	_, pid, err := signalTarget("reload=" + f.reloadCheck)
	if err != nil {
		return fail(stderr, err)
	}
	b, err := os.ReadFile(snapshotPath(pid))
	if err != nil {
		return fail(stderr, fmt.Errorf("no reload snapshot of process %d (a natsd started with -c writes one): %w", pid, err))
	}
	snap := newRecorder(nil)
	if err := json.Unmarshal(b, snap); err != nil {
		return fail(stderr, fmt.Errorf("reload snapshot of process %d: %w", pid, err))
	}
	sf, err := parseFlags(snap.Args, io.Discard)
	if err != nil {
		return fail(stderr, fmt.Errorf("reload snapshot of process %d: its command line: %w", pid, err))
	}
	old, err := loadWith(sf, sf.configFile, snap.replay())
	if err != nil {
		return fail(stderr, fmt.Errorf("the running configuration of process %d: %w", pid, err))
	}
	// The new file is read as the server's reload would read it: from
	// disk, with the server's environment.
	live := snap.replay()
	live.ReadFile = os.ReadFile
	nu, err := loadWith(sf, f.configFile, live)
	if err != nil {
		return fail(stderr, err)
	}
	plan := planReload(old, nu)
	fmt.Fprintf(stdout, "Reload of process %d with %s (%s)\n", pid, f.configFile, nu.cfg.Digest)
	if len(plan.changed) == 0 && len(plan.refused) == 0 {
		fmt.Fprintln(stdout, "no changes")
	}
	for _, c := range plan.changed {
		fmt.Fprintln(stdout, "would reload: "+c.String())
	}
	for _, r := range plan.refused {
		fmt.Fprintln(stdout, "would refuse: "+r.key+": "+r.err.Error())
	}
	if len(plan.refused) > 0 {
		fmt.Fprintln(stdout, "the reload would fail and change nothing")
		return 1
	}
	return 0
}

// loadWith parses path as the process whose flags are sf would on a
// reload, reading files and the environment through po.
func loadWith(sf *flags, path string, po confparse.Options) (*loaded, error) {
	c, _, err := parseConfigFileWith(path, po)
	if err != nil {
		return nil, configError(err)
	}
	sf.apply(&c.Config)
	if err := sf.applyTLS(&c.Config); err != nil {
		return nil, err
	}
	return load(c, sf)
}
