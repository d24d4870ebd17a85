package auth

import (
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"natsd.dev/sublist"
)

// Defaults of allow_responses when it is true or leaves a field out; they
// are upstream's.
const (
	DefaultResponseMaxMsgs = 1
	DefaultResponseExpires = 2 * time.Minute
)

// ErrInvalidPermission is wrapped by NewChecker's errors: a permission
// subject is not a valid subject, or a subscribe entry is not
// "<subject>" or "<subject> <queue>".
var ErrInvalidPermission = errors.New("auth: invalid permission")

// Permissions are what a user may publish and subscribe to.
type Permissions struct {
	// Publish restricts the subjects the user may publish to; nil allows
	// all.
	Publish *SubjectPermission
	// Subscribe restricts the subjects (and queue groups) the user may
	// subscribe to; nil allows all.
	Subscribe *SubjectPermission
	// Response, when set, lets the user publish to the reply subjects of
	// messages it received, within limits, whatever Publish says. The
	// server tracks those reply subjects (see the package doc).
	Response *ResponsePermission
}

// SubjectPermission is an allow list and a deny list of subjects, which
// may use wildcards. A subject is permitted if it matches the allow list
// and does not match the deny list: deny wins.
//
// A nil Allow allows every subject. For Publish, a non-nil empty Allow
// allows none (upstream's allow_responses sets that when no publish
// allow list is given); for Subscribe an empty Allow allows all.
//
// Subscribe entries may name a queue group after the subject, separated
// by a blank: "orders.* workers" allows (or denies) subscriptions to
// "orders.*" in queue groups matching "workers". The queue part may use
// wildcards too ("foo *.dev"), matched against the group name as if it
// were a subject.
type SubjectPermission struct {
	Allow []string
	Deny  []string
}

// ResponsePermission is allow_responses: a user that received a message
// with a reply subject may publish up to MaxMsgs messages to that subject
// within Expires. A negative value means no limit.
type ResponsePermission struct {
	MaxMsgs int
	Expires time.Duration
}

// Checker is compiled Permissions: it answers "may this user publish to /
// subscribe to / receive this subject". It is immutable apart from its
// caches and safe for concurrent use; build one per distinct Permissions
// and share it among the user's connections (Users does so).
//
// CanPublish and CanDeliver are served from a bounded cache of recent
// decisions (512 subjects each): a hit is a hash, an atomic load and a
// string comparison and allocates nothing. A nil *Checker allows
// everything.
type Checker struct {
	perms              *Permissions
	pubAllow, pubDeny  *sublist.Sublist[int]
	subAllow, subDeny  *sublist.Sublist[int]
	subAllowSubj       []string              // subject part of each subscribe allow entry
	denyPlain          []string              // subscribe deny entries without a queue
	msgDeny            *sublist.Sublist[int] // denyPlain, for CanDeliver
	pubCache, msgCache *decisionCache
}

// NewChecker compiles p. It returns nil and no error for nil Permissions
// (nothing to check), and an error wrapping ErrInvalidPermission for a
// malformed entry.
func NewChecker(p *Permissions) (*Checker, error) {
	if p == nil {
		return nil, nil
	}
	c := &Checker{perms: p, pubCache: new(decisionCache)}
	var err error
	if pp := p.Publish; pp != nil {
		if pp.Allow != nil {
			if c.pubAllow, err = compile(pp.Allow, false); err != nil {
				return nil, err
			}
		}
		if len(pp.Deny) > 0 {
			if c.pubDeny, err = compile(pp.Deny, false); err != nil {
				return nil, err
			}
		}
	}
	if sp := p.Subscribe; sp != nil {
		if len(sp.Allow) > 0 {
			if c.subAllow, err = compile(sp.Allow, true); err != nil {
				return nil, err
			}
			for _, a := range sp.Allow {
				subj, _, _ := splitQueue(a)
				c.subAllowSubj = append(c.subAllowSubj, subj)
			}
		}
		if len(sp.Deny) > 0 {
			if c.subDeny, err = compile(sp.Deny, true); err != nil {
				return nil, err
			}
			for _, d := range sp.Deny {
				if s, q, _ := splitQueue(d); q == "" {
					c.denyPlain = append(c.denyPlain, s)
				}
			}
			if len(c.denyPlain) > 0 {
				c.msgDeny, _ = compile(c.denyPlain, false) // validated above
				c.msgCache = new(decisionCache)
			}
		}
	}
	return c, nil
}

// splitQueue splits a subscribe permission entry into its subject and
// optional queue. ok is false if it has more than two fields.
func splitQueue(entry string) (subject, queue string, ok bool) {
	f := strings.Fields(entry)
	switch len(f) {
	case 1:
		return f[0], "", true
	case 2:
		return f[0], f[1], true
	}
	return entry, "", false
}

func compile(entries []string, queues bool) (*sublist.Sublist[int], error) {
	s := sublist.NewWithOptions[int](sublist.Options{NoCache: true})
	for i, e := range entries {
		subject, queue := e, ""
		if queues {
			var ok bool
			if subject, queue, ok = splitQueue(e); !ok {
				return nil, fmt.Errorf("%w: %q is not a subject and an optional queue", ErrInvalidPermission, e)
			}
		}
		if !sublist.ValidSubject(subject) || (queue != "" && !sublist.ValidSubject(queue)) {
			return nil, fmt.Errorf("%w: subject %q is not a valid subject", ErrInvalidPermission, e)
		}
		if err := s.Insert(subject, queue, i); err != nil {
			return nil, fmt.Errorf("%w: subject %q: %v", ErrInvalidPermission, e, err)
		}
	}
	return s, nil
}

// Permissions returns the Permissions c was compiled from.
func (c *Checker) Permissions() *Permissions {
	if c == nil {
		return nil
	}
	return c.perms
}

// Response returns the allow_responses settings, nil when replies get no
// special treatment.
func (c *Checker) Response() *ResponsePermission {
	if c == nil {
		return nil
	}
	return c.perms.Response
}

// CanPublish reports whether the publish permissions allow subject. It
// does not know about reply subjects allowed by Response: when it says
// false and Response is set, the server checks its own table of replies.
// subject is not retained; a cache hit allocates nothing.
func (c *Checker) CanPublish(subject []byte) bool {
	if c == nil || (c.pubAllow == nil && c.pubDeny == nil) {
		return true
	}
	if allowed, ok := c.pubCache.get(subject); ok {
		return allowed
	}
	s := string(subject)
	allowed := (c.pubAllow == nil || c.pubAllow.HasInterest(s)) &&
		(c.pubDeny == nil || !c.pubDeny.HasInterest(s))
	c.pubCache.put(s, allowed)
	return allowed
}

// CanSubscribe reports whether the subscribe permissions allow a
// subscription to subject (a filter, possibly with wildcards) in queue
// group queue ("" for none). subject should be a valid filter; the server
// checks that first.
//
// An allow entry allows a filter it covers entirely: with "foo.*" allowed,
// "foo.bar" and "foo.*" may be subscribed but "foo.>" may not, and with
// only "foo.bar" allowed, "foo.*" may not. (Upstream matches the filter's
// tokens against the entries as if they were literal, which lets "foo.>"
// through an allowed "foo.*"; natsd closes that gap.) When allow entries
// with a queue cover the filter, a queue subscription must be in a group
// one of them names. A deny entry denies a filter it matches token by
// token, as upstream: "foo.*" denies "foo.bar", "foo.*" and "foo.>"; a
// deny entry with a queue denies only queue subscriptions in matching
// groups. Deny wins. A wildcard subscription that merely overlaps a deny
// entry ("foo.*" with "foo.bar" denied) is allowed, and the server
// filters what it delivers with CanDeliver (see NeedsDeliveryFilter).
func (c *Checker) CanSubscribe(subject, queue string) bool {
	if c == nil {
		return true
	}
	if c.subAllow != nil {
		// The trie finds the entries matching subject token by token;
		// of those, only entries covering all of subject count.
		covers := func(i int) bool { return sublist.IsSubsetMatch(subject, c.subAllowSubj[i]) }
		r := c.subAllow.Match(subject)
		allowed := slices.ContainsFunc(r.Plain, covers)
		if queue != "" {
			inGroup := false
			for _, g := range r.Queues {
				if slices.ContainsFunc(g.Members, covers) {
					allowed = false // entries with a queue name the groups allowed
					if inGroup = queueMatches(queue, g.Name); inGroup {
						break
					}
				}
			}
			allowed = allowed || inGroup
		}
		if !allowed {
			return false
		}
	}
	if c.subDeny != nil {
		r := c.subDeny.Match(subject)
		if len(r.Plain) > 0 {
			return false
		}
		if queue != "" {
			for _, g := range r.Queues {
				if queueMatches(queue, g.Name) {
					return false
				}
			}
		}
	}
	return true
}

// queueMatches reports whether queue is the group name of a permission
// entry, or is covered by it when the name has wildcards.
func queueMatches(queue, name string) bool {
	return queue == name || (!sublist.IsLiteral(name) && sublist.IsSubsetMatch(queue, name))
}

// NeedsDeliveryFilter reports whether messages delivered to an allowed
// subscription on subject must be checked with CanDeliver: subject has
// wildcards and some subject it matches is denied by a subscribe deny
// entry. Call it once, when the subscription is made.
func (c *Checker) NeedsDeliveryFilter(subject string) bool {
	if c == nil || c.msgDeny == nil || sublist.IsLiteral(subject) {
		return false
	}
	for _, d := range c.denyPlain {
		if overlaps(subject, d) {
			return true
		}
	}
	return false
}

// CanDeliver reports whether a message on subject (a literal subject) may
// be delivered to the user through a subscription for which
// NeedsDeliveryFilter was true: it is false when a subscribe deny entry
// matches subject. subject is not retained; a cache hit allocates nothing.
func (c *Checker) CanDeliver(subject []byte) bool {
	if c == nil || c.msgDeny == nil {
		return true
	}
	if allowed, ok := c.msgCache.get(subject); ok {
		return allowed
	}
	s := string(subject)
	allowed := !c.msgDeny.HasInterest(s)
	c.msgCache.put(s, allowed)
	return allowed
}

// overlaps reports whether some literal subject matches both filters.
func overlaps(a, b string) bool {
	for {
		ta, ra, ma := sublist.NextToken(a)
		tb, rb, mb := sublist.NextToken(b)
		if ta == ">" || tb == ">" {
			return true
		}
		if ta != "*" && tb != "*" && ta != tb {
			return false
		}
		if !ma || !mb {
			return ma == mb
		}
		a, b = ra, rb
	}
}

// decisionCache remembers recent allow/deny decisions by subject. It is a
// 2-way set-associative table of atomically published entries: readers
// take no lock, writers replace entries whole, so a reader sees an old or
// a new decision, both of them right for the immutable permissions.
type decisionCache struct {
	slots [2 * cacheSets]atomic.Pointer[decision]
}

const cacheSets = 256 // a power of two

type decision struct {
	subject string
	allowed bool
}

var cacheSeed = maphash.MakeSeed()

func (d *decisionCache) get(subject []byte) (allowed, ok bool) {
	i := 2 * (maphash.Bytes(cacheSeed, subject) & (cacheSets - 1))
	if e := d.slots[i].Load(); e != nil && e.subject == string(subject) {
		return e.allowed, true
	}
	if e := d.slots[i+1].Load(); e != nil && e.subject == string(subject) {
		return e.allowed, true
	}
	return false, false
}

func (d *decisionCache) put(subject string, allowed bool) {
	h := maphash.String(cacheSeed, subject)
	i := 2 * (h & (cacheSets - 1))
	e := &decision{subject: subject, allowed: allowed} // callers pass a copy
	switch {
	case d.slots[i].Load() == nil:
		d.slots[i].Store(e)
	case d.slots[i+1].Load() == nil:
		d.slots[i+1].Store(e)
	default:
		d.slots[i+uint64(h>>32)&1].Store(e)
	}
}

// Publisher is one connection's front to Checker.CanPublish: it
// remembers the decisions for the last few subjects the connection
// published to (publisherSlots of them), so that a client cycling over a
// handful of subjects pays a few integer comparisons and one byte
// comparison per publish instead of a hash and a lookup in the Checker's
// shared cache. It also remembers which subject followed which, so that a
// client publishing to its subjects in a fixed order (or to one subject
// again and again) finds the right slot at the first try. It belongs to
// the connection's read loop and is not safe for concurrent use. The zero
// Publisher, like one made from a nil Checker, allows everything.
type Publisher struct {
	c *Checker
	// last is the slot that answered the previous call.
	last uint8
	// victim is the slot the next miss overwrites (round robin).
	victim uint8
	slots  [publisherSlots]publisherSlot
}

// publisherSlots is how many subjects a Publisher remembers. Eight covers
// the usual "a few subjects in turn" publisher, and a scan of them stays
// cheaper than hashing the subject.
const publisherSlots = 8

type publisherSlot struct {
	// key is the subject's length and last byte, never 0 for a used slot:
	// most slots are skipped on it without touching the subject.
	key     uint32
	allowed bool
	// next is the slot whose subject followed this one the last time: the
	// first guess for the next call.
	next    uint8
	subject []byte // reused buffer; grows to the longest subject stored
}

// slotKey is the key of a non-empty subject.
func slotKey(subject []byte) uint32 {
	return uint32(len(subject))<<8 | uint32(subject[len(subject)-1])
}

// NewPublisher returns a Publisher for c, which may be nil.
func (c *Checker) NewPublisher() *Publisher {
	return &Publisher{c: c}
}

// CanPublish is Checker.CanPublish with a memory of the last few
// subjects: a subject it holds is answered from its slots, one it does
// not goes to the Checker and replaces the oldest slot. It copies subject
// into a buffer it reuses, so it allocates only when a subject is longer
// than the one its slot held before (and on a Checker cache miss); a hit
// allocates nothing and touches no memory shared with other connections.
func (p *Publisher) CanPublish(subject []byte) bool {
	if p.c == nil {
		return true
	}
	if len(subject) == 0 {
		return p.c.CanPublish(subject)
	}
	k := slotKey(subject)
	prev := &p.slots[p.last&(publisherSlots-1)] // the masks spare bounds checks
	i := prev.next & (publisherSlots - 1)
	if e := &p.slots[i]; e.key == k && string(e.subject) == string(subject) {
		p.last = i
		return e.allowed
	}
	for i := range p.slots {
		if e := &p.slots[i]; e.key == k && string(e.subject) == string(subject) {
			prev.next, p.last = uint8(i), uint8(i)
			return e.allowed
		}
	}
	allowed := p.c.CanPublish(subject)
	i = p.victim & (publisherSlots - 1)
	p.victim = (i + 1) % publisherSlots
	e := &p.slots[i]
	e.key, e.allowed, e.next = k, allowed, i
	e.subject = append(e.subject[:0], subject...)
	prev.next, p.last = i, i
	return allowed
}
