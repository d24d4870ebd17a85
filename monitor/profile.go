package monitor

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"sync"
	"time"
)

// ProfilePath is where the profiling server (prof_port, --profile)
// serves net/http/pprof's index; the profiles are below it
// (/debug/pprof/heap, /debug/pprof/profile?seconds=N, ...), as upstream.
const ProfilePath = "/debug/pprof/"

// Profiler is the pprof HTTP server of prof_port: upstream serves the
// Go runtime's profiles on a port of their own, apart from the monitoring
// endpoints, so that they can be firewalled separately. It is safe for
// concurrent use.
type Profiler struct {
	ln net.Listener
	hs *http.Server
	wg sync.WaitGroup
}

// StartProfiler listens on host:port (port -1 or 0 picks a free port)
// and serves the pprof endpoints in the background.
func StartProfiler(host string, port int) (*Profiler, error) {
	if port < -1 || port > 65535 {
		return nil, errors.Join(ErrBadOptions, errors.New("monitor: prof_port "+strconv.Itoa(port)+" out of range"))
	}
	if host == "" {
		host = "0.0.0.0"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(max(port, 0))))
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+ProfilePath, pprof.Index)
	mux.HandleFunc("GET "+ProfilePath+"cmdline", pprof.Cmdline)
	mux.HandleFunc("GET "+ProfilePath+"profile", pprof.Profile)
	mux.HandleFunc("GET "+ProfilePath+"symbol", pprof.Symbol)
	mux.HandleFunc("POST "+ProfilePath+"symbol", pprof.Symbol)
	mux.HandleFunc("GET "+ProfilePath+"trace", pprof.Trace)
	p := &Profiler{ln: ln, hs: &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		MaxHeaderBytes:    1 << 16,
		ErrorLog:          log.New(io.Discard, "", 0),
	}}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		_ = p.hs.Serve(ln) // http.ErrServerClosed after Shutdown
	}()
	return p, nil
}

// Addr returns the listener's address.
func (p *Profiler) Addr() net.Addr { return p.ln.Addr() }

// Shutdown stops the listener and waits for the requests in flight (a CPU
// profile lasts as long as it asked), or until ctx ends.
func (p *Profiler) Shutdown(ctx context.Context) error {
	err := p.hs.Shutdown(ctx)
	if err != nil {
		p.hs.Close()
	}
	p.wg.Wait()
	return err
}
