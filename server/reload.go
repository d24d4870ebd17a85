package server

import (
	"errors"
	"slices"
	"sync"
)

// Reloading the configuration: what Reload applies and how the running
// process that owns the configuration file is asked to reload.
//
// Lowering MaxConn closes the excess client connections, newest first
// (highest connection id), as upstream does: each gets -ERR 'maximum
// connections exceeded' and is closed with reason Maximum Connections
// Exceeded. Sessions (in-process users) do not count.

// ErrNoReloader is ReloadConfig's error when no configuration owner set a
// reloader (a server built without a configuration file).
var ErrNoReloader = errors.New("server: no configuration to reload")

// reloader is the function ReloadConfig runs; see SetReloader.
type reloader struct {
	mu sync.Mutex
	fn func() error
}

// SetReloader sets what ReloadConfig runs: the owner of the configuration
// file (the nats-server command) re-reads it and calls Reload. fn is
// called on the goroutine asking ($SYS.REQ.SERVER.<id>.RELOAD is answered
// on the system goroutine), so it must not wait for that goroutine.
func (s *Server) SetReloader(fn func() error) {
	s.reloader.mu.Lock()
	s.reloader.fn = fn
	s.reloader.mu.Unlock()
}

// ReloadConfig reloads the configuration as the owner set by SetReloader
// does, as SIGHUP would; it returns the reload's error, ErrNoReloader
// without an owner.
func (s *Server) ReloadConfig() error {
	s.reloader.mu.Lock()
	fn := s.reloader.fn
	s.reloader.mu.Unlock()
	if fn == nil {
		return ErrNoReloader
	}
	return fn()
}

// excessClientsLocked returns the client connections over opts.MaxConn,
// newest first. s.mu is held.
func (s *Server) excessClientsLocked() []*client {
	n := len(s.clients) - s.opts.MaxConn
	if s.opts.MaxConn <= 0 || n <= 0 {
		return nil
	}
	cs := s.clientsLocked()
	slices.SortFunc(cs, func(a, b *client) int {
		switch {
		case a.cid > b.cid:
			return -1
		case a.cid < b.cid:
			return 1
		}
		return 0
	})
	return cs[:n]
}

// closeExcess closes the connections a lowered max_connections leaves
// over the limit, as a connection over it is refused.
func (s *Server) closeExcess(cs []*client) {
	for _, c := range cs {
		s.log.Error(c.logPrefix() + " - maximum connections exceeded")
		c.sendErrAndClose(errTextMaxConns, reasonMaxConnections)
	}
}

// WithDefaults returns o with the zero fields set to upstream's defaults,
// as New and Reload read them: two Options that configure the same server
// compare equal this way (port 4222 written out or left implicit).
func (o Options) WithDefaults() Options {
	o.setDefaults()
	return o
}
