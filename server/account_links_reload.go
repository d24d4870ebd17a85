package server

import (
	"bytes"
	"maps"
	"slices"
)

// Link interest across account reloads. A peer announces interest in an
// account this server may not have (yet): a route's RS+ for an account
// only the peer configures, or one a reload just removed here. The link
// keeps that interest aside ("parked") instead of forgetting it, and
// keeps its RS- too; when a reload adds the account, the parked interest
// is registered as if the peer announced it again, so messages published
// here in the account reach the peer's subscribers without the link
// reconnecting. Interest in an account a reload removes is taken out of
// the old account's sublist and parked, for the day the account comes
// back. A link parks at most maxParked interests; past that, interest in
// unknown accounts is forgotten as before (upstream forgets all of it).
//
// A removed account also loses its internal response subscription
// (subscribeResponses) and the client that published its trace events,
// so that nothing of it stays in memory.

// maxParked bounds the interest one link keeps for unknown accounts.
const maxParked = 1 << 16

// parkedSub is one interest of a peer in an account this server does not
// have.
type parkedSub struct {
	origin  string // the leaf node cluster, for AddRemoteSubFrom
	leaf    bool
	keyed   bool // keyed by origin (AddRemoteSubByOrigin)
	account string
	subject string
	queue   string
	weight  int32
}

// park keeps p under key (routeSubKey), replacing what was there (a new
// weight).
func (l *Link) park(key string, p parkedSub) {
	c := l.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if _, ok := l.parked[key]; !ok && len(l.parked) >= maxParked {
		return
	}
	if l.parked == nil {
		l.parked = make(map[string]parkedSub)
	}
	l.parked[key] = p
}

// NumParkedSubs returns the number of interests the peer announced in
// accounts this server does not have, which a reload that adds them
// registers.
func (l *Link) NumParkedSubs() int {
	l.c.mu.Lock()
	defer l.c.mu.Unlock()
	return len(l.parked)
}

// parkRemoved takes the link's interest in the accounts removed out of
// their sublists and parks it.
func (l *Link) parkRemoved(removed map[*Account]bool) {
	c := l.c
	var out []*subscription
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	for key, sub := range c.subs {
		r := sub.remote
		if r == nil || !removed[r.acc] {
			continue
		}
		sub.closed = true
		delete(c.subs, key)
		out = append(out, sub)
		if len(l.parked) < maxParked {
			if l.parked == nil {
				l.parked = make(map[string]parkedSub)
			}
			keyed := bytes.HasPrefix(sub.sid, []byte{1})
			p := parkedSub{leaf: keyed || bytes.HasPrefix(sub.sid, []byte{0}), keyed: keyed, account: r.acc.Name, subject: sub.subject, queue: sub.queue, weight: r.weight.Load()}
			if p.leaf {
				p.origin = r.cluster
			}
			l.parked[key] = p
		}
	}
	c.mu.Unlock()
	for _, sub := range out {
		l.removeSub(sub)
	}
}

// unpark registers the parked interest in accounts that exist now.
func (l *Link) unpark() {
	c := l.c
	c.mu.Lock()
	parked := l.parked
	l.parked = nil
	c.mu.Unlock()
	// Sorted, so that interest is announced in a stable order.
	for _, key := range slices.Sorted(maps.Keys(parked)) {
		p := parked[key]
		// An interest whose account is still unknown is parked again.
		_ = l.addRemoteSub([]byte(p.origin), p.leaf, p.keyed, []byte(p.account), []byte(p.subject), []byte(p.queue), p.weight)
	}
}

// relinkAccounts applies a reload's accounts to the links: interest in
// removed accounts is parked, parked interest in added ones registered.
// It also releases what the server kept for the removed accounts. No
// lock is held.
func (s *Server) relinkAccounts(r *accountsReload) {
	if !r.changed() {
		return
	}
	for a := range r.removed {
		s.releaseAccount(a)
	}
	s.mu.Lock()
	links := slices.Collect(maps.Values(s.links))
	s.mu.Unlock()
	for _, l := range links {
		if len(r.removed) > 0 {
			l.parkRemoved(r.removed)
		}
		if len(r.added) > 0 {
			l.unpark()
		}
	}
}

// releaseAccount drops the server's internal clients of a removed
// account: its response subscription and its trace publisher.
func (s *Server) releaseAccount(a *Account) {
	if ic := a.respIC; ic != nil {
		a.respIC = nil
		ic.Close()
	}
	tc := &s.traceClients
	tc.mu.Lock()
	ic := tc.m[a]
	delete(tc.m, a)
	tc.mu.Unlock()
	if ic != nil {
		ic.Close()
	}
}
