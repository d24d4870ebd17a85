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

// waitForSignals shuts down on Ctrl-C.
func (p *process) waitForSignals() int {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	defer signal.Stop(ch)
	select {
	case <-ch:
		p.shutdown()
	case <-p.ldmDone:
	}
	return 0
}
