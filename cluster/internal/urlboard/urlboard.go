// Package urlboard keeps, per server, URL lists that two modules of the
// server share, with watchers that run when a list changes: the route
// module and the leaf node or gateway module meet there over the URLs
// upstream gossips inside a cluster (packages leafurls and gwurls).
//
// Watchers run on the goroutine that made the change, without the
// board's lock; each Watch returns the function that ends it. A server's
// entry goes away when its list is empty and nothing watches it, so a
// board holds nothing for servers that are gone.
package urlboard

import (
	"slices"
	"sync"

	"natsd.dev/server"
)

// Board is a URL list per server. The zero Board is ready to use.
type Board struct {
	mu      sync.Mutex
	entries map[*server.Server]*entry
	nextID  int
}

type entry struct {
	urls  []string
	watch map[int]func()
}

func (b *Board) get(s *server.Server) *entry {
	if b.entries == nil {
		b.entries = map[*server.Server]*entry{}
	}
	e := b.entries[s]
	if e == nil {
		e = &entry{watch: map[int]func(){}}
		b.entries[s] = e
	}
	return e
}

// drop removes s's entry once it holds nothing. b.mu is held.
func (b *Board) drop(s *server.Server, e *entry) {
	if len(e.urls) == 0 && len(e.watch) == 0 {
		delete(b.entries, s)
	}
}

// Set sets s's list (a copy of urls); the watchers run when it changed.
func (b *Board) Set(s *server.Server, urls []string) {
	b.mu.Lock()
	e := b.get(s)
	if slices.Equal(e.urls, urls) {
		b.drop(s, e)
		b.mu.Unlock()
		return
	}
	e.urls = slices.Clone(urls)
	fns := make([]func(), 0, len(e.watch))
	for _, f := range e.watch {
		fns = append(fns, f)
	}
	b.drop(s, e)
	b.mu.Unlock()
	for _, f := range fns {
		f()
	}
}

// Clear empties s's list if it is still urls: a module that stops after
// another one took its place leaves the new one's list.
func (b *Board) Clear(s *server.Server, urls []string) {
	b.mu.Lock()
	e := b.entries[s]
	same := e != nil && slices.Equal(e.urls, urls)
	b.mu.Unlock()
	if same {
		b.Set(s, nil)
	}
}

// Get is a copy of s's list.
func (b *Board) Get(s *server.Server) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e := b.entries[s]; e != nil {
		return slices.Clone(e.urls)
	}
	return nil
}

// Watch runs f whenever s's list changes, until stop is called.
func (b *Board) Watch(s *server.Server, f func()) (stop func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.get(s)
	b.nextID++
	id := b.nextID
	e.watch[id] = f
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			if e := b.entries[s]; e != nil {
				delete(e.watch, id)
				b.drop(s, e)
			}
		})
	}
}

// Len is how many servers have an entry (tests: nothing leaks).
func (b *Board) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.entries)
}
