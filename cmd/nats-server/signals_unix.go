//go:build !windows

package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// signals maps the --signal commands to what they send.
var signals = map[string]syscall.Signal{
	"stop":   syscall.SIGKILL,
	"quit":   syscall.SIGINT,
	"term":   syscall.SIGTERM,
	"reopen": syscall.SIGUSR1,
	"reload": syscall.SIGHUP,
	"ldm":    syscall.SIGUSR2,
}

// sendSignal implements --signal <command>[=<pid>].
func sendSignal(arg string) error {
	command, pid, err := signalTarget(arg)
	if err != nil {
		return err
	}
	sig, ok := signals[command]
	if !ok {
		return fmt.Errorf("unknown signal %q", command)
	}
	if err := syscall.Kill(pid, sig); err != nil {
		return fmt.Errorf("unable to send signal %q to process %d: %w", command, pid, err)
	}
	return nil
}

// trapSignals starts catching the signals waitForSignals serves. serve
// calls it before it writes the pid or ports file, so a signal sent as
// soon as either exists waits for the loop instead of killing the process
// with the default action.
func (p *process) trapSignals() {
	p.sigs = make(chan os.Signal, 4)
	p.reloads = make(chan chan error)
	signal.Notify(p.sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
}

// waitForSignals serves signals until the server is stopped: INT and TERM
// shut down (TERM is ignored while lame duck mode runs its course), USR1
// reopens the log file, HUP reloads the configuration (as does a RELOAD
// request, see requestReload), USR2 enters lame duck mode. It returns the exit code.
func (p *process) waitForSignals() int {
	ch := p.sigs
	for {
		select {
		case <-p.ldmDone:
			return 0
		case done := <-p.reloads:
			err := p.tryReload()
			if err != nil {
				p.logs.log.Error("Failed to reload server configuration: " + err.Error())
			}
			done <- err
		case sig := <-ch:
			p.logs.log.Info(fmt.Sprintf("Trapped %q signal", sig))
			switch sig {
			case syscall.SIGINT:
				p.shutdown()
				return 0
			case syscall.SIGTERM:
				if !p.ldm {
					p.shutdown()
					return 0
				}
			case syscall.SIGUSR1:
				p.logs.reopen()
			case syscall.SIGHUP:
				p.reload()
			case syscall.SIGUSR2:
				p.lameDuck()
			}
		}
	}
}
