// Package gwurls is where a server's route and gateway modules meet, as
// upstream gossips gateways inside a cluster:
//
//   - the gateway module sets this server's own gateway URL (SetLocal);
//     the route module sends it to every peer in its INFO (gateway_url)
//     and sets the URLs the peers sent as the remote ones (SetRemote);
//     the gateway module lists own and remote URLs in its INFO
//     (gateway_urls), so a cluster that knows one server learns all;
//   - the gateway module announces a remote cluster it learned from a
//     connection (Announce); the route module sends it to every peer in
//     an INFO (gateway, gateway_urls), and hands the ones peers send to
//     the gateway module (Learned), which dials them.
//
// Watches run on the caller's goroutine, without the lock; each returns
// the function that ends it. Entries go away when nothing holds them.
package gwurls

import (
	"slices"
	"sync"

	"natsd.dev/server"
)

type entry struct {
	local    string
	remote   []string
	onLocal  map[int]func()
	onRemote map[int]func()
	onAnn    map[int]func(name string, urls []string)
	onLearn  map[int]func(name string, urls []string)
	known    func() map[string][]string
}

var (
	mu      sync.Mutex
	entries = map[*server.Server]*entry{}
	nextID  int
)

func get(s *server.Server) *entry {
	e := entries[s]
	if e == nil {
		e = &entry{
			onLocal:  map[int]func(){},
			onRemote: map[int]func(){},
			onAnn:    map[int]func(string, []string){},
			onLearn:  map[int]func(string, []string){},
		}
		entries[s] = e
	}
	return e
}

// drop removes s's entry once it holds nothing. mu is held.
func drop(s *server.Server, e *entry) {
	if e.local == "" && len(e.remote) == 0 && len(e.onLocal) == 0 && len(e.onRemote) == 0 &&
		len(e.onAnn) == 0 && len(e.onLearn) == 0 && e.known == nil {
		delete(entries, s)
	}
}

// SetLocal sets s's own gateway URL (host:port, "" for none); the local
// watchers (the route module) run when it changed.
func SetLocal(s *server.Server, u string) {
	mu.Lock()
	e := get(s)
	if e.local == u {
		drop(s, e)
		mu.Unlock()
		return
	}
	e.local = u
	fns := collect(e.onLocal)
	drop(s, e)
	mu.Unlock()
	for _, f := range fns {
		f()
	}
}

// ClearLocal removes s's own URL if it is still u.
func ClearLocal(s *server.Server, u string) {
	mu.Lock()
	e := entries[s]
	same := e != nil && e.local == u
	mu.Unlock()
	if same {
		SetLocal(s, "")
	}
}

// Local is s's own gateway URL, "" when it has none.
func Local(s *server.Server) string {
	mu.Lock()
	defer mu.Unlock()
	if e := entries[s]; e != nil {
		return e.local
	}
	return ""
}

// SetRemote sets the gateway URLs of s's cluster peers; the remote
// watchers (the gateway module) run when they changed.
func SetRemote(s *server.Server, urls []string) {
	mu.Lock()
	e := get(s)
	if slices.Equal(e.remote, urls) {
		drop(s, e)
		mu.Unlock()
		return
	}
	e.remote = slices.Clone(urls)
	fns := collect(e.onRemote)
	drop(s, e)
	mu.Unlock()
	for _, f := range fns {
		f()
	}
}

// Remote is the gateway URLs of s's cluster peers.
func Remote(s *server.Server) []string {
	mu.Lock()
	defer mu.Unlock()
	if e := entries[s]; e != nil {
		return slices.Clone(e.remote)
	}
	return nil
}

// Announce tells s's announce watchers (the route module) of remote
// cluster name and its gateway URLs.
func Announce(s *server.Server, name string, urls []string) { fire(s, name, urls, true) }

// Learned tells s's learn watchers (the gateway module) of remote
// cluster name, as a cluster peer announced it.
func Learned(s *server.Server, name string, urls []string) { fire(s, name, urls, false) }

func fire(s *server.Server, name string, urls []string, ann bool) {
	mu.Lock()
	var fns []func(string, []string)
	if e := entries[s]; e != nil {
		m := e.onLearn
		if ann {
			m = e.onAnn
		}
		for _, f := range m {
			fns = append(fns, f)
		}
	}
	mu.Unlock()
	for _, f := range fns {
		f(name, slices.Clone(urls))
	}
}

// SetKnown sets the function that lists the remote clusters s's gateway
// is connected to, with their gateway URLs (nil: none); the route module
// sends them to a new peer, as upstream does.
func SetKnown(s *server.Server, f func() map[string][]string) {
	mu.Lock()
	defer mu.Unlock()
	e := get(s)
	e.known = f
	drop(s, e)
}

// Known lists the remote clusters s's gateway is connected to, by name.
func Known(s *server.Server) map[string][]string {
	mu.Lock()
	var f func() map[string][]string
	if e := entries[s]; e != nil {
		f = e.known
	}
	mu.Unlock()
	if f == nil {
		return nil
	}
	return f()
}

// WatchLocal runs f whenever s's own URL changes.
func WatchLocal(s *server.Server, f func()) (stop func()) {
	return watch(s, func(e *entry, id int) { e.onLocal[id] = f })
}

// WatchRemote runs f whenever the peers' URLs change.
func WatchRemote(s *server.Server, f func()) (stop func()) {
	return watch(s, func(e *entry, id int) { e.onRemote[id] = f })
}

// WatchAnnounce runs f for every Announce.
func WatchAnnounce(s *server.Server, f func(name string, urls []string)) (stop func()) {
	return watch(s, func(e *entry, id int) { e.onAnn[id] = f })
}

// WatchLearned runs f for every Learned.
func WatchLearned(s *server.Server, f func(name string, urls []string)) (stop func()) {
	return watch(s, func(e *entry, id int) { e.onLearn[id] = f })
}

func watch(s *server.Server, add func(*entry, int)) func() {
	mu.Lock()
	defer mu.Unlock()
	e := get(s)
	nextID++
	id := nextID
	add(e, id)
	var once sync.Once
	return func() {
		once.Do(func() {
			mu.Lock()
			defer mu.Unlock()
			e := entries[s]
			if e == nil {
				return
			}
			delete(e.onLocal, id)
			delete(e.onRemote, id)
			delete(e.onAnn, id)
			delete(e.onLearn, id)
			drop(s, e)
		})
	}
}

func collect(m map[int]func()) []func() {
	out := make([]func(), 0, len(m))
	for _, f := range m {
		out = append(out, f)
	}
	return out
}

// numEntries is how many servers have an entry (tests: nothing leaks).
func numEntries() int {
	mu.Lock()
	defer mu.Unlock()
	return len(entries)
}
