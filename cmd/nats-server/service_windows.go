//go:build windows

package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/windows/registry"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"

	"natsd.dev/server/logger"
)

// The service control codes beyond Windows' own, as upstream's: --signal
// reopen and ldm send them (user-defined codes are 128 to 255).
const (
	reopenLogCmd = svc.Cmd(128)
	ldmCmd       = svc.Cmd(129)
)

// defaultStartupDelay is how long the server may take to be ready before
// the service reports a failed start; NATS_STARTUP_DELAY (a Go duration
// such as "30s") changes it, as upstream's.
const defaultStartupDelay = 10 * time.Second

// serviceControl connects the service handler to the running process:
// waitForSignals closes ready when the server serves, then takes the
// service control requests from cmds.
type serviceControl struct {
	ready chan struct{}
	cmds  chan svc.Cmd
}

// service is set while the command runs as a Windows service; the signal
// loop (waitForSignals) reads it.
var service *serviceControl

// runMain runs the command, under the service control manager when
// Windows started it as a service. NATS_DOCKERIZED=1 says a container
// runs it (where the service check misfires), as upstream's.
func runMain(args []string, stdout io.Writer, stderr *os.File) int {
	if os.Getenv("NATS_DOCKERIZED") == "1" {
		return run(args, stdout, stderr)
	}
	isService, err := svc.IsWindowsService()
	if err != nil {
		return fail(stderr, err)
	}
	if !isService {
		return run(args, stdout, stderr)
	}
	h := &winService{args: args, stdout: stdout, stderr: stderr, delay: startupDelay()}
	if err := svc.Run(serviceName, h); err != nil {
		return fail(stderr, err)
	}
	return h.code
}

func startupDelay() time.Duration {
	if v := os.Getenv("NATS_STARTUP_DELAY"); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			return d
		}
	}
	return defaultStartupDelay
}

// winService is the svc.Handler: it runs the command in the background and
// turns the service control requests into what the signals do on Unix.
type winService struct {
	args   []string
	stdout io.Writer
	stderr *os.File
	delay  time.Duration
	code   int // the command's exit code
}

func (w *winService) Execute(_ []string, reqs <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending, WaitHint: uint32(w.delay / time.Millisecond)}
	ctl := &serviceControl{ready: make(chan struct{}), cmds: make(chan svc.Cmd)}
	service = ctl
	done := make(chan int, 1)
	go func() { done <- run(w.args, w.stdout, w.stderr) }()

	timer := time.NewTimer(w.delay)
	defer timer.Stop()
	select {
	case <-ctl.ready:
	case w.code = <-done:
		return w.code != 0, uint32(w.code)
	case <-timer.C:
		// Not ready in time: the service manager is told the start
		// failed and the process exits with the server half started.
		w.code = 1
		return true, 1
	}
	status <- svc.Status{State: svc.Running,
		Accepts: svc.AcceptStop | svc.AcceptShutdown | svc.AcceptParamChange}
	for {
		select {
		case w.code = <-done: // lame duck mode ran its course
			return w.code != 0, uint32(w.code)
		case r := <-reqs:
			switch r.Cmd {
			case svc.Interrogate:
				status <- r.CurrentStatus
			case svc.Stop, svc.Shutdown:
				status <- svc.Status{State: svc.StopPending}
				select {
				case ctl.cmds <- r.Cmd:
					w.code = <-done
				case w.code = <-done:
				}
				return w.code != 0, uint32(w.code)
			case svc.ParamChange, reopenLogCmd, ldmCmd:
				select {
				case ctl.cmds <- r.Cmd:
				case w.code = <-done:
					return w.code != 0, uint32(w.code)
				}
			}
		}
	}
}

// serviceCommands maps the --signal commands to service controls and the
// state the service reaches after each, as upstream's (term is a Unix
// signal only).
var serviceCommands = map[string]struct {
	cmd svc.Cmd
	to  svc.State
}{
	"stop":   {svc.Stop, svc.Stopped},
	"quit":   {svc.Stop, svc.Stopped},
	"reopen": {reopenLogCmd, svc.Running},
	"reload": {svc.ParamChange, svc.Running},
	"ldm":    {ldmCmd, svc.Running},
}

// sendSignal implements --signal <command>[=<service name>] on Windows: it
// sends the command to the service (nats-server by default) and waits at
// most 10 seconds for the state the command leads to.
func sendSignal(arg string) error {
	command, name, _ := strings.Cut(arg, "=")
	if name == "" {
		name = serviceName
	}
	c, ok := serviceCommands[command]
	if !ok {
		return fmt.Errorf("unknown signal %q", command)
	}
	m, err := mgr.Connect()
	if err != nil {
		return err
	}
	defer m.Disconnect()
	s, err := m.OpenService(name)
	if err != nil {
		return fmt.Errorf("could not access service %q: %w", name, err)
	}
	defer s.Close()
	st, err := s.Control(c.cmd)
	if err != nil {
		return fmt.Errorf("could not send control %d to service %q: %w", c.cmd, name, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for st.State != c.to {
		if time.Now().After(deadline) {
			return fmt.Errorf("timeout waiting for service %q to go to state %d", name, c.to)
		}
		time.Sleep(300 * time.Millisecond)
		if st, err = s.Query(); err != nil {
			return fmt.Errorf("could not query service %q: %w", name, err)
		}
	}
	return nil
}

// openSyslog opens the Windows event log for -s (registering the
// NATS-Server source on first use, which needs administrator rights, as a
// service running as LocalSystem has) and, for -r, the event log of the
// host it names (a host name, or a URL whose host is used).
func openSyslog(remote string, opts *logger.Options) (slog.Handler, io.Closer, error) {
	var w *eventlog.Log
	var err error
	if remote == "" {
		if err := registerEventSource(); err != nil {
			return nil, nil, fmt.Errorf("could not access event log: %w", err)
		}
		w, err = eventlog.Open(eventSource)
	} else {
		// Upstream passes -r as the host; a syslog style URL
		// (udp://host:514) names its host.
		host := remote
		if u, err := url.Parse(remote); err == nil && u.Host != "" {
			host = u.Hostname()
		}
		w, err = eventlog.OpenRemote(host, eventSource)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("could not open event log: %w", err)
	}
	return newEventHandler(w, opts), w, nil
}

// registerEventSource adds the event source to the registry unless it is
// there already.
func registerEventSource() error {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE,
		`SYSTEM\CurrentControlSet\Services\EventLog\Application\`+eventSource, registry.QUERY_VALUE)
	if err == nil {
		k.Close()
		return nil
	}
	if !errors.Is(err, registry.ErrNotExist) {
		return err
	}
	return eventlog.InstallAsEventCreate(eventSource, eventlog.Info|eventlog.Warning|eventlog.Error)
}
