//go:build windows

package main

import (
	"errors"
	"os"
	"os/signal"
)

// sendSignal is not available on Windows, where nats-server uses service
// control instead.
func sendSignal(string) error {
	return errors.New("--signal is not supported on Windows")
}

// trapSignals starts catching Ctrl-C, before the pid and ports files are
// written.
func (p *process) trapSignals() {
	p.sigs = make(chan os.Signal, 1)
	signal.Notify(p.sigs, os.Interrupt)
}

// waitForSignals shuts down on Ctrl-C.
func (p *process) waitForSignals() int {
	ch := p.sigs
	select {
	case <-ch:
		p.shutdown()
	case <-p.ldmDone:
	}
	return 0
}
