package server

import (
	"slices"
	"sync"
)

// InterestEvent is one change of interest in an account's subscription
// list.
type InterestEvent struct {
	// Account, Subject and Queue (empty for plain interest) name the
	// interest.
	Account, Subject, Queue string
	// Origin is where the interest came from: a client, an in-process
	// user, or a link of some kind (then Link is that link).
	Origin ConnKind
	// Link is the link that registered the interest, nil for local
	// interest.
	Link *Link
	// OriginCluster is the cluster of the leaf node the interest came
	// from: the peer's cluster (Link.SetRemoteCluster) for a link's own
	// interest, the origin a route named for the interest it holds on
	// behalf of a leaf node (AddRemoteSubFrom); empty otherwise. A leaf
	// kind never announces it to a peer of that cluster.
	OriginCluster string
	// Added is true when the interest appeared, false when it went away
	// (UNSUB, auto-unsubscribe, RS-, the connection or link closing).
	Added bool
}

// InterestListener is told when interest changes. Calls may come from any
// goroutine, concurrently; the listener counts and must not block, nor
// subscribe or unsubscribe from inside the call, nor keep ev.
type InterestListener interface {
	InterestChanged(ev InterestEvent)
}

// InterestFunc adapts a function to an InterestListener.
type InterestFunc func(ev InterestEvent)

// InterestChanged calls f(ev).
func (f InterestFunc) InterestChanged(ev InterestEvent) { f(ev) }

// listenerSlot is one registration (the same listener may be added twice).
type listenerSlot struct{ l InterestListener }

// AddInterestListener registers l and, atomically with the registration,
// reports every existing interest to l as added (local subscriptions and
// the interest links hold, each with its origin), so l never misses or
// double-counts one. The returned function unregisters l; after it
// returns l is not called again. Any number of listeners may be
// registered.
func (s *Server) AddInterestListener(l InterestListener) (remove func()) {
	slot := &listenerSlot{l: l}
	s.interestMu.Lock()
	s.listeners = append(slices.Clip(s.listeners), slot)
	s.publishListeners()
	s.mu.Lock()
	accs := make([]*Account, 0, len(s.accounts))
	for _, a := range s.accounts {
		accs = append(accs, a)
	}
	s.mu.Unlock()
	for _, a := range accs {
		a.sl.All(func(subject, queue string, sub *subscription) bool {
			ev := InterestEvent{Account: a.Name, Subject: subject, Queue: queue, Added: true}
			ev.Origin, ev.Link = sub.origin()
			if sub.remote != nil {
				ev.OriginCluster = sub.remote.cluster
			}
			l.InterestChanged(ev)
			return true
		})
	}
	s.interestMu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.interestMu.Lock()
			s.listeners = slices.DeleteFunc(slices.Clone(s.listeners), func(x *listenerSlot) bool { return x == slot })
			s.publishListeners()
			s.interestMu.Unlock()
		})
	}
}

// publishListeners makes s.listeners what notifications see; the caller
// holds s.interestMu for writing.
func (s *Server) publishListeners() {
	if len(s.listeners) == 0 {
		s.interest.Store(nil)
		return
	}
	list := s.listeners
	s.interest.Store(&list)
}

// origin says where a subscription in a sublist came from.
func (sub *subscription) origin() (ConnKind, *Link) {
	switch {
	case sub.remote != nil:
		return sub.remote.link.Origin(), sub.remote.link
	case sub.client == nil || sub.client.kind == kindInternal || sub.client.kind == kindSession:
		return ConnInProcess, nil
	}
	return ConnClient, nil
}

// notify reports ev to every listener; the caller holds s.interestMu for
// reading around the sublist change and this call.
func (s *Server) notify(ev InterestEvent) {
	p := s.interest.Load()
	if p == nil {
		return
	}
	for _, slot := range *p {
		slot.l.InterestChanged(ev)
	}
}

// notifyInterest reports one in-process subscription change; the caller
// holds s.interestMu for reading around the sublist change and this call.
func (s *Server) notifyInterest(acc *Account, subject, queue string, added bool) {
	s.notifyFrom(ConnInProcess, nil, acc, subject, queue, added)
}

// notifyFrom reports one change of interest of the given origin.
func (s *Server) notifyFrom(origin ConnKind, l *Link, acc *Account, subject, queue string, added bool) {
	if s.interest.Load() == nil {
		return
	}
	ev := InterestEvent{Account: acc.Name, Subject: subject, Queue: queue, Origin: origin, Link: l, Added: added}
	s.notify(ev)
}

// notifyRemote reports one change of a link's interest r.
func (s *Server) notifyRemote(l *Link, r *remoteSub, subject, queue string, added bool) {
	if s.interest.Load() == nil {
		return
	}
	s.notify(InterestEvent{Account: r.acc.Name, Subject: subject, Queue: queue, Origin: l.Origin(), Link: l, OriginCluster: r.cluster, Added: added})
}
