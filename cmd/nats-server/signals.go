package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// signalTarget splits "<command>[=<pid or pid file>]" and resolves the pid.
// Without one, the pid of the only other running process with this
// executable's name is used, found with pgrep as nats-server does.
func signalTarget(arg string) (command string, pid int, err error) {
	command, target, hasTarget := strings.Cut(arg, "=")
	if !hasTarget || target == "" {
		pid, err = findProcess()
		return command, pid, err
	}
	if n, err := strconv.Atoi(target); err == nil {
		return command, n, nil
	}
	b, err := os.ReadFile(target)
	if err != nil {
		return "", 0, fmt.Errorf("could not read pid file %q: %w", target, err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return "", 0, fmt.Errorf("invalid pid file %q: %w", target, err)
	}
	return command, n, nil
}

// findProcess returns the pid of the one process named like this
// executable, other than this one.
func findProcess() (int, error) {
	name := filepath.Base(os.Args[0])
	out, err := exec.Command("pgrep", "-x", name).Output()
	var exitErr *exec.ExitError
	if err != nil && !(errors.As(err, &exitErr) && exitErr.ExitCode() == 1) {
		return 0, fmt.Errorf("unable to resolve pid, try providing one: %w", err)
	}
	var pids []int
	self := os.Getpid()
	for _, f := range strings.Fields(string(out)) {
		if n, err := strconv.Atoi(f); err == nil && n != self {
			pids = append(pids, n)
		}
	}
	switch len(pids) {
	case 0:
		return 0, fmt.Errorf("no %s processes running", name)
	case 1:
		return pids[0], nil
	}
	lines := make([]string, len(pids))
	for i, p := range pids {
		lines[i] = strconv.Itoa(p)
	}
	return 0, fmt.Errorf("multiple %s processes running:\n%s", name, strings.Join(lines, "\n"))
}
