package jetstream

import (
	"time"

	"natsd.dev/jetstream/api"
)

// Priority groups of pull consumers (ADR-42).
//
// overflow: a request with min_pending or min_ack_pending is served only
// while the consumer's num_pending or num_ack_pending reaches one of them;
// requests without conditions come first.
//
// pinned_client: the first request served pins its client (one pin per
// consumer, whichever of its groups the request names, as upstream): the
// server makes up an id, sends it in the Nats-Pin-Id header of every
// message to that client and serves only requests carrying it (or served
// under it); requests without an id wait as standbys, and a request that
// arrives with another id gets "423 Nats-Pin-Id mismatch". The pin ends
// when its client sent no request carrying the id for priority_timeout
// (counted from the pin or that client's last request: a request left
// waiting does not keep it), or on an UNPIN call; nothing is said then.
// Once a message can be delivered again, every waiting request that still
// holds the old id gets "423 Nats-Wrong-Pin-Id" and the first standby is
// pinned anew. Pins live in memory only: a restart forgets them, as
// upstream's do.
//
// prioritized: the waiting request with the lowest priority goes first.

// defaultPinnedTTL is priority_timeout when a pinned_client consumer sets none.
const defaultPinnedTTL = 2 * time.Minute

// idLen is the length of a pin id (newID).
const idLen = 22

const (
	pinnedAdvisoryType   = "io.nats.jetstream.advisory.v1.consumer_group_pinned"
	unpinnedAdvisoryType = "io.nats.jetstream.advisory.v1.consumer_group_unpinned"
)

// pin is a priority group's pinned client.
type pin struct {
	id       string
	group    string    // the group it was made through (advisories)
	ts       time.Time // when pinned
	lastPull time.Time // its last pull request
}

type pinnedAdvisory struct {
	event
	Account  string `json:"account,omitempty"`
	Stream   string `json:"stream"`
	Consumer string `json:"consumer"`
	Domain   string `json:"domain,omitempty"`
	Group    string `json:"group"`
	PinnedID string `json:"pinned_id"`
}

type unpinnedAdvisory struct {
	event
	Account  string `json:"account,omitempty"`
	Stream   string `json:"stream"`
	Consumer string `json:"consumer"`
	Domain   string `json:"domain,omitempty"`
	Group    string `json:"group"`
	Reason   string `json:"reason"`
}

func (c *consumer) pinned() bool { return c.cfg.PriorityPolicy == api.PriorityPinnedClient }

func (c *consumer) pinTTL() time.Duration {
	if c.cfg.PinnedTTL > 0 {
		return c.cfg.PinnedTTL
	}
	return defaultPinnedTTL
}

// pinOfLocked returns the consumer's pin (empty id when nobody is
// pinned). As upstream 2.15.2, a consumer has one pin whatever the group
// of the request: with several groups, the client pinned through one
// holds them all (a request of another group without its id waits).
func (c *consumer) pinOfLocked(string) *pin {
	if c.pins == nil {
		c.pins = make(map[string]*pin)
	}
	p := c.pins[""]
	if p == nil {
		p = &pin{}
		c.pins[""] = p
	}
	return p
}

// eligibleLocked reports whether request r can be served now, and
// whether it is conditional (overflow with min_pending/min_ack_pending).
func (c *consumer) eligibleLocked(r *pullReq) (ok, conditional bool) {
	switch c.cfg.PriorityPolicy {
	case api.PriorityOverflow:
		if r.minPending <= 0 && r.minAckPending <= 0 {
			return true, false
		}
		if r.minAckPending > 0 && int64(c.npend) >= r.minAckPending {
			return true, true
		}
		if r.minPending > 0 && int64(c.replyPendingLocked()) >= r.minPending {
			return true, true
		}
		return false, true
	case api.PriorityPinnedClient:
		p := c.pinOfLocked(r.group)
		if p.id == "" {
			return r.id == "" && r.pinned == "", false
		}
		return r.id == p.id || r.pinned == p.id, false
	}
	return true, false
}

// choosePullLocked picks the waiting request to serve next and moves it
// to the front of c.waiting; a chosen request whose client went away is
// dropped and the choice made again.
func (c *consumer) choosePullLocked() (*pullReq, bool) {
	for len(c.waiting) > 0 {
		best := 0
		if c.cfg.PriorityPolicy != api.PriorityNone {
			if best = c.bestPullLocked(); best < 0 {
				return nil, false
			}
		}
		r := c.waiting[best]
		copy(c.waiting[1:best+1], c.waiting[:best])
		c.waiting[0] = r
		if r != c.seenReq && c.sacc != nil && !c.sacc.HasInterest(r.reply) {
			c.dropFirst()
			continue
		}
		if c.inBatch {
			c.seenReq = r // its interest is checked once per batch
		}
		return r, true
	}
	return nil, false
}

// bestPullLocked returns the index of the waiting request a priority
// policy serves first, or -1 when none may be served now.
func (c *consumer) bestPullLocked() int {
	best, bestCond := -1, false
	for i, r := range c.waiting {
		ok, cond := c.eligibleLocked(r)
		if !ok {
			continue
		}
		switch {
		case best < 0:
		case c.cfg.PriorityPolicy == api.PriorityPrioritized:
			if r.priority >= c.waiting[best].priority {
				continue
			}
		case bestCond && !cond:
		default:
			continue
		}
		best, bestCond = i, cond
	}
	return best
}

// pinForLocked returns the pin id to send with a delivery to request r,
// pinning r's client when its group has nobody pinned.
func (c *consumer) pinForLocked(r *pullReq, now time.Time) string {
	if r == nil || !c.pinned() {
		return ""
	}
	p := c.pinOfLocked(r.group)
	if p.id == "" {
		p.id, p.group, p.ts, p.lastPull = newID(), r.group, now.UTC(), now
		c.queueEventLocked(advisoryPrefix+"CONSUMER.PINNED."+c.stream+"."+c.name, pinnedAdvisory{
			event: newEvent(pinnedAdvisoryType), Account: c.acc.name, Stream: c.stream, Consumer: c.name,
			Domain: c.acc.js.opts.Domain, Group: r.group, PinnedID: p.id,
		})
	}
	r.pinned = p.id
	return p.id
}

// unpinLocked frees the consumer's pin (group names the group in the
// advisory: the one of an UNPIN request, as upstream clears the pin
// whichever of the consumer's groups it names).
func (c *consumer) unpinLocked(group, reason string) {
	p := c.pins[""]
	if p == nil || p.id == "" {
		return
	}
	*p = pin{}
	c.queueEventLocked(advisoryPrefix+"CONSUMER.UNPINNED."+c.stream+"."+c.name, unpinnedAdvisory{
		event: newEvent(unpinnedAdvisoryType), Account: c.acc.name, Stream: c.stream, Consumer: c.name,
		Domain: c.acc.js.opts.Domain, Group: group, Reason: reason,
	})
}

// stalePinLocked reports whether waiting request r holds a pin id (its
// own or the one it was served under) that is not its group's pin.
func (c *consumer) stalePinLocked(r *pullReq) bool {
	held := r.id
	if held == "" {
		held = r.pinned
	}
	return held != "" && held != c.pinOfLocked(r.group).id
}

// pinsLocked ends pins whose client sent no request for priority_timeout,
// answers waiting requests that hold a pin no longer current with "423
// Nats-Wrong-Pin-Id" (at once when another client holds the group's pin,
// else once a message could go to a new one), and returns when a pin may
// time out next.
func (c *consumer) pinsLocked(now time.Time, outs []out) ([]out, time.Time) {
	if !c.pinned() {
		return outs, time.Time{}
	}
	var wake time.Time
	for _, p := range c.pins {
		if p.id == "" {
			continue
		}
		due := p.lastPull.Add(c.pinTTL())
		if !now.Before(due) {
			c.unpinLocked(p.group, "timeout")
			continue
		}
		if wake.IsZero() || due.Before(wake) {
			wake = due
		}
	}
	stale := false
	for _, r := range c.waiting {
		if c.stalePinLocked(r) {
			stale = true
			break
		}
	}
	if !stale {
		return outs, wake
	}
	avail, known := false, false
	kept := c.waiting[:0]
	for _, r := range c.waiting {
		if c.stalePinLocked(r) {
			if c.pinOfLocked(r.group).id == "" {
				if !known {
					avail, known = c.deliverableLocked(now), true
				}
				if !avail {
					kept = append(kept, r)
					continue
				}
			}
			outs = append(outs, out{subj: r.reply, hdr: statusHdr("423 Nats-Wrong-Pin-Id")})
			continue
		}
		kept = append(kept, r)
	}
	clear(c.waiting[len(kept):])
	c.waiting = kept
	return outs, wake
}

// deliverableLocked reports whether a message could be delivered now
// (something to redeliver or a matching message not yet delivered) if a
// request took it.
func (c *consumer) deliverableLocked(now time.Time) bool {
	if p := c.cfg.PauseUntil; p != nil && p.After(now) {
		return false
	}
	if len(c.rdq) > 0 {
		return true
	}
	if c.cfg.AckPolicy != api.AckNone && c.cfg.MaxAckPending > 0 && c.npend >= c.cfg.MaxAckPending {
		return false
	}
	if len(c.lps) > 0 {
		return true
	}
	st := c.se.Store()
	for _, f := range c.filterOrAll() {
		if f == ">" {
			f = ""
		}
		if err := st.LoadNextMsg(f, c.next, &c.sm); err == nil {
			return true
		}
	}
	return false
}

// noWaitLocked answers no_wait requests a priority policy does not let
// be served now (another client is pinned, overflow conditions unmet):
// they do not wait.
func (c *consumer) noWaitLocked(outs []out) []out {
	if c.cfg.PriorityPolicy == api.PriorityNone {
		return outs
	}
	kept := c.waiting[:0]
	for _, r := range c.waiting {
		if ok, _ := c.eligibleLocked(r); r.noWait && !ok {
			outs = append(outs, out{subj: r.reply, hdr: statusHdr("404 No Messages")})
			continue
		}
		kept = append(kept, r)
	}
	clear(c.waiting[len(kept):])
	c.waiting = kept
	return outs
}

// noWaitDoneLocked answers every no_wait request still waiting when
// nothing more can be delivered now: no_wait never waits, not even behind
// another client's long poll. Served in part or not at all, it ends with
// "404 No Messages", as upstream's.
func (c *consumer) noWaitDoneLocked(outs []out) []out {
	kept := c.waiting[:0]
	for _, r := range c.waiting {
		if !r.noWait {
			kept = append(kept, r)
			continue
		}
		outs = append(outs, out{subj: r.reply, hdr: statusHdr("404 No Messages")})
	}
	clear(c.waiting[len(kept):])
	c.waiting = kept
	return outs
}

// priorityInfoLocked is the priority_groups part of the consumer's info.
// As upstream 2.15.2 shows it (checked against its binary): one entry, for
// the first group, whatever the policy, with the consumer's pin.
func (c *consumer) priorityInfoLocked() []api.PriorityGroupState {
	if c.cfg.PriorityPolicy == api.PriorityNone || len(c.cfg.PriorityGroups) == 0 {
		return nil
	}
	s := api.PriorityGroupState{Group: c.cfg.PriorityGroups[0]}
	if p := c.pins[""]; p != nil && p.id != "" {
		s.PinnedClientID, s.PinnedTS = p.id, p.ts
	}
	return []api.PriorityGroupState{s}
}
