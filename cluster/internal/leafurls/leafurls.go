// Package leafurls is where a server's route and leaf node modules meet
// over the leaf node URLs of its cluster, as upstream gossips them: the
// leaf node module sets this server's own URL (the address leaf nodes
// dial, unless leafnodes { no_advertise }); the route module sends it to
// every peer in its INFO (leafnode_urls) and sets the URLs the peers sent
// as the remote ones; the leaf node module lists own and remote URLs in
// the INFO it sends leaf nodes, and sends it again when they change.
//
// Entries are per server and go away when neither side holds them: each
// side's Watch returns the function that ends its registration.
package leafurls

import (
	"slices"
	"sync"

	"natsd.dev/server"
)

type entry struct {
	local    []string
	remote   []string
	onLocal  map[int]func()
	onRemote map[int]func()
}

var (
	mu      sync.Mutex
	entries = map[*server.Server]*entry{}
	nextID  int
)

func get(s *server.Server) *entry {
	e := entries[s]
	if e == nil {
		e = &entry{onLocal: map[int]func(){}, onRemote: map[int]func(){}}
		entries[s] = e
	}
	return e
}

// drop removes s's entry once it holds nothing. mu is held.
func drop(s *server.Server, e *entry) {
	if len(e.local) == 0 && len(e.remote) == 0 && len(e.onLocal) == 0 && len(e.onRemote) == 0 {
		delete(entries, s)
	}
}

// SetLocal sets s's own leaf node URLs (host:port); the watchers of the
// local URLs (the route module, which tells its peers) run when they
// changed, on the caller's goroutine, without the lock.
func SetLocal(s *server.Server, urls []string) {
	mu.Lock()
	e := get(s)
	if slices.Equal(e.local, urls) {
		drop(s, e)
		mu.Unlock()
		return
	}
	e.local = slices.Clone(urls)
	fns := collect(e.onLocal)
	drop(s, e)
	mu.Unlock()
	for _, f := range fns {
		f()
	}
}

// ClearLocal removes s's own URLs if they are still urls (a Leaf that
// shuts down after another one took its place leaves the new one's).
func ClearLocal(s *server.Server, urls []string) {
	mu.Lock()
	e := entries[s]
	same := e != nil && slices.Equal(e.local, urls)
	mu.Unlock()
	if same {
		SetLocal(s, nil)
	}
}

// SetRemote sets the leaf node URLs of s's cluster peers; the watchers
// of the remote URLs (the leaf node module) run when they changed.
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

// Local is s's own leaf node URLs.
func Local(s *server.Server) []string {
	mu.Lock()
	defer mu.Unlock()
	if e := entries[s]; e != nil {
		return slices.Clone(e.local)
	}
	return nil
}

// Remote is the leaf node URLs of s's cluster peers.
func Remote(s *server.Server) []string {
	mu.Lock()
	defer mu.Unlock()
	if e := entries[s]; e != nil {
		return slices.Clone(e.remote)
	}
	return nil
}

// WatchLocal runs f whenever s's own URLs change, until the returned
// function is called.
func WatchLocal(s *server.Server, f func()) (stop func()) { return watch(s, f, true) }

// WatchRemote runs f whenever the peers' URLs change, until the returned
// function is called.
func WatchRemote(s *server.Server, f func()) (stop func()) { return watch(s, f, false) }

func watch(s *server.Server, f func(), local bool) func() {
	mu.Lock()
	defer mu.Unlock()
	e := get(s)
	nextID++
	id := nextID
	if local {
		e.onLocal[id] = f
	} else {
		e.onRemote[id] = f
	}
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
