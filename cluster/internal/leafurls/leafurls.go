// Package leafurls is where a server's route and leaf node modules meet
// over the leaf node URLs of its cluster, as upstream gossips them: the
// leaf node module sets this server's own URL (the address leaf nodes
// dial, unless leafnodes { no_advertise }); the route module sends it to
// every peer in its INFO (leafnode_urls) and sets the URLs the peers sent
// as the remote ones; the leaf node module lists own and remote URLs in
// the INFO it sends leaf nodes, and sends it again when they change.
//
// Watchers run on the caller's goroutine, without a lock; each Watch
// returns the function that ends it. Entries are per server and go away
// when nothing holds them (package urlboard).
package leafurls

import (
	"natsd.dev/cluster/internal/urlboard"
	"natsd.dev/server"
)

var local, remote urlboard.Board

// SetLocal sets s's own leaf node URLs (host:port); the local watchers
// (the route module, which tells its peers) run when they changed.
func SetLocal(s *server.Server, urls []string) { local.Set(s, urls) }

// ClearLocal removes s's own URLs if they are still urls (a Leaf that
// shuts down after another one took its place leaves the new one's).
func ClearLocal(s *server.Server, urls []string) { local.Clear(s, urls) }

// SetRemote sets the leaf node URLs of s's cluster peers; the remote
// watchers (the leaf node module) run when they changed.
func SetRemote(s *server.Server, urls []string) { remote.Set(s, urls) }

// Local is s's own leaf node URLs.
func Local(s *server.Server) []string { return local.Get(s) }

// Remote is the leaf node URLs of s's cluster peers.
func Remote(s *server.Server) []string { return remote.Get(s) }

// WatchLocal runs f whenever s's own URLs change, until the returned
// function is called.
func WatchLocal(s *server.Server, f func()) (stop func()) { return local.Watch(s, f) }

// WatchRemote runs f whenever the peers' URLs change, until the returned
// function is called.
func WatchRemote(s *server.Server, f func()) (stop func()) { return remote.Watch(s, f) }

// numEntries is how many entries the boards hold (tests: nothing leaks).
func numEntries() int { return local.Len() + remote.Len() }
