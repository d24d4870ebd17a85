package server

import (
	"slices"
	"sync"
)

// lameDuckHook is one AddLameDuckListener registration; a pointer, so
// that its remove func finds it again.
type lameDuckHook struct{ fn func() }

// AddLameDuckListener registers fn to run once when the server enters
// lame duck mode (LameDuck), and returns a func that removes it (safe to
// call more than once, from any goroutine, fn included). fn runs on the
// goroutine that called LameDuck, in the order of registration, with no
// server lock held, after INFO says ldm and before the listeners close
// and the clients hear of it; the grace period starts once every fn
// returned, so fn must not block for long. It may call any Server method
// but Shutdown (LameDuck shuts the server down itself). A module
// registers when it starts and removes its listener when it stops; see
// the Lame duck section of the package documentation.
func (s *Server) AddLameDuckListener(fn func()) (remove func()) {
	h := &lameDuckHook{fn: fn}
	s.mu.Lock()
	s.ldmHooks = append(s.ldmHooks, h)
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.ldmHooks = slices.DeleteFunc(s.ldmHooks, func(x *lameDuckHook) bool { return x == h })
			s.mu.Unlock()
		})
	}
}
