//go:build windows

package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/windows/svc"
)

// trapSignals starts catching Ctrl-C and termination, before the pid and
// ports files are written.
func (p *process) trapSignals() {
	p.sigs = make(chan os.Signal, 1)
	signal.Notify(p.sigs, os.Interrupt, syscall.SIGTERM)
}

// waitForSignals shuts down on Ctrl-C or termination. Under the service
// manager it first reports the server ready, then serves the controls
// that stand in for Unix's signals: stop and shutdown stop the server,
// parameter change reloads the configuration (HUP), 128 reopens the log
// file (USR1) and 129 enters lame duck mode (USR2). It returns the exit
// code.
func (p *process) waitForSignals() int {
	var cmds chan svc.Cmd // nil unless a service: never ready
	if s := service; s != nil {
		cmds = s.cmds
		close(s.ready)
	}
	for {
		select {
		case <-p.ldmDone:
			return 0
		case sig := <-p.sigs:
			p.logs.log.Info(fmt.Sprintf("Trapped %q signal", sig))
			if !p.ldm {
				p.shutdown()
				return 0
			}
		case c := <-cmds:
			switch c {
			case svc.Stop, svc.Shutdown:
				p.logs.log.Info("Service stop requested")
				p.shutdown()
				return 0
			case svc.ParamChange:
				p.reload()
			case reopenLogCmd:
				p.logs.reopen()
			case ldmCmd:
				p.lameDuck()
			}
		}
	}
}
