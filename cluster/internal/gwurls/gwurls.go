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
//     the gateway module (Learned), which dials them. Learned clusters
//     are kept (until ForgetLearned) and told to a learn watcher that
//     comes later: a route can register, and its peer tell of a cluster,
//     before this server's gateway module started.
//
// Watches run on the caller's goroutine, without the lock; each returns
// the function that ends it. Entries go away when nothing holds them.
package gwurls

import (
	"slices"
	"sync"

	"natsd.dev/cluster/internal/urlboard"
	"natsd.dev/server"
)

// local holds at most one URL per server.
var local, remote urlboard.Board

// SetLocal sets s's own gateway URL (host:port, "" for none); the local
// watchers (the route module) run when it changed.
func SetLocal(s *server.Server, u string) { local.Set(s, one(u)) }

// ClearLocal removes s's own URL if it is still u.
func ClearLocal(s *server.Server, u string) { local.Clear(s, one(u)) }

func one(u string) []string {
	if u == "" {
		return nil
	}
	return []string{u}
}

// Local is s's own gateway URL, "" when it has none.
func Local(s *server.Server) string {
	if l := local.Get(s); len(l) > 0 {
		return l[0]
	}
	return ""
}

// SetRemote sets the gateway URLs of s's cluster peers; the remote
// watchers (the gateway module) run when they changed.
func SetRemote(s *server.Server, urls []string) { remote.Set(s, urls) }

// Remote is the gateway URLs of s's cluster peers.
func Remote(s *server.Server) []string { return remote.Get(s) }

// WatchLocal runs f whenever s's own URL changes.
func WatchLocal(s *server.Server, f func()) (stop func()) { return local.Watch(s, f) }

// WatchRemote runs f whenever the peers' URLs change.
func WatchRemote(s *server.Server, f func()) (stop func()) { return remote.Watch(s, f) }

// clusterFunc receives a remote cluster's name and gateway URLs.
type clusterFunc = func(name string, urls []string)

type hooks struct {
	onAnn   map[int]clusterFunc
	onLearn map[int]clusterFunc
	known   func() map[string][]string
	learned map[string][]string // what Learned was told, by cluster name
}

var (
	mu     sync.Mutex
	byServ = map[*server.Server]*hooks{}
	nextID int
)

// hooksOf is s's hooks, made when missing. mu is held.
func hooksOf(s *server.Server) *hooks {
	h := byServ[s]
	if h == nil {
		h = &hooks{onAnn: map[int]clusterFunc{}, onLearn: map[int]clusterFunc{}, learned: map[string][]string{}}
		byServ[s] = h
	}
	return h
}

// tidy removes s's hooks once they hold nothing. mu is held.
func tidy(s *server.Server, h *hooks) {
	if len(h.onAnn) == 0 && len(h.onLearn) == 0 && h.known == nil && len(h.learned) == 0 {
		delete(byServ, s)
	}
}

// Announce tells s's announce watchers (the route module) of remote
// cluster name and its gateway URLs.
func Announce(s *server.Server, name string, urls []string) { fire(s, name, urls, true) }

// Learned tells s's learn watchers (the gateway module) of remote
// cluster name, as a cluster peer announced it, and keeps it for the
// watchers to come.
func Learned(s *server.Server, name string, urls []string) { fire(s, name, urls, false) }

// ForgetLearned drops what Learned kept for s (its route module stops).
func ForgetLearned(s *server.Server) {
	mu.Lock()
	defer mu.Unlock()
	if h := byServ[s]; h != nil {
		clear(h.learned)
		tidy(s, h)
	}
}

func fire(s *server.Server, name string, urls []string, ann bool) {
	mu.Lock()
	var fns []clusterFunc
	if !ann {
		hooksOf(s).learned[name] = slices.Clone(urls)
	}
	if h := byServ[s]; h != nil {
		m := h.onLearn
		if ann {
			m = h.onAnn
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

// WatchAnnounce runs f for every Announce.
func WatchAnnounce(s *server.Server, f clusterFunc) (stop func()) { return watch(s, f, true) }

// WatchLearned runs f for every cluster Learned kept (on the caller's
// goroutine, before it returns) and every later Learned.
func WatchLearned(s *server.Server, f clusterFunc) (stop func()) {
	stop = watch(s, f, false)
	mu.Lock()
	type entry struct {
		name string
		urls []string
	}
	var kept []entry
	if h := byServ[s]; h != nil {
		for name, urls := range h.learned {
			kept = append(kept, entry{name, slices.Clone(urls)})
		}
	}
	mu.Unlock()
	for _, e := range kept {
		f(e.name, e.urls)
	}
	return stop
}

func watch(s *server.Server, f clusterFunc, ann bool) func() {
	mu.Lock()
	defer mu.Unlock()
	h := hooksOf(s)
	nextID++
	id := nextID
	if ann {
		h.onAnn[id] = f
	} else {
		h.onLearn[id] = f
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			mu.Lock()
			defer mu.Unlock()
			if h := byServ[s]; h != nil {
				delete(h.onAnn, id)
				delete(h.onLearn, id)
				tidy(s, h)
			}
		})
	}
}

// SetKnown sets the function that lists the remote clusters s's gateway
// is connected to, with their gateway URLs (nil: none); the route module
// sends them to a new peer, as upstream does.
func SetKnown(s *server.Server, f func() map[string][]string) {
	mu.Lock()
	defer mu.Unlock()
	h := hooksOf(s)
	h.known = f
	tidy(s, h)
}

// Known lists the remote clusters s's gateway is connected to, by name.
func Known(s *server.Server) map[string][]string {
	mu.Lock()
	var f func() map[string][]string
	if h := byServ[s]; h != nil {
		f = h.known
	}
	mu.Unlock()
	if f == nil {
		return nil
	}
	return f()
}

// numEntries is how many entries gwurls holds (tests: nothing leaks).
func numEntries() int {
	mu.Lock()
	defer mu.Unlock()
	return local.Len() + remote.Len() + len(byServ)
}
