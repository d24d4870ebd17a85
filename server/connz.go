package server

import (
	"cmp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"weak"
)

// closedConn is a closed connection kept for /connz?state=closed. It is
// immutable once in the ring, so Connz shares it without copying.
type closedConn struct {
	info ConnInfo // Uptime, Idle, RTT, Stop and Reason already rendered
	rtt  time.Duration
	acc  string
	user string
	subs []SubDetail
}

// closedRing keeps the last max closed connections, oldest overwritten
// first.
type closedRing struct {
	mu   sync.Mutex
	max  int
	buf  []*closedConn
	next int // where the next entry goes once buf is full
}

func (r *closedRing) add(cc *closedConn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.max <= 0:
	case len(r.buf) < r.max:
		r.buf = append(r.buf, cc)
	default:
		r.buf[r.next] = cc
		r.next = (r.next + 1) % len(r.buf)
	}
}

// list returns the entries oldest first.
func (r *closedRing) list() []*closedConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*closedConn, 0, len(r.buf))
	out = append(out, r.buf[r.next:]...)
	return append(out, r.buf[:r.next]...)
}

func (r *closedRing) setMax(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	all := append(append([]*closedConn{}, r.buf[r.next:]...), r.buf[:r.next]...)
	if n < 0 {
		n = 0
	}
	if len(all) > n {
		all = all[len(all)-n:]
	}
	r.max, r.buf, r.next = n, all, 0
}

// monState is the monitoring state of a server. Server has no field for it
// (server.go belongs to the core), so it lives in a side table keyed by a
// weak pointer and is dropped when the server is collected.
// TODO(issue 5): move into a Server field.
type monState struct {
	closed closedRing
}

var monStates sync.Map // weak.Pointer[Server] -> *monState

func (s *Server) mon() *monState {
	key := weak.Make(s)
	if v, ok := monStates.Load(key); ok {
		return v.(*monState)
	}
	st := &monState{closed: closedRing{max: DefaultMaxClosedClients}}
	v, loaded := monStates.LoadOrStore(key, st)
	if !loaded {
		runtime.AddCleanup(s, func(k weak.Pointer[Server]) { monStates.Delete(k) }, key)
	}
	return v.(*monState)
}

// SetMaxClosedClients sets how many closed connections Connz remembers
// (upstream's max_closed_clients); 0 keeps none. The default is
// DefaultMaxClosedClients.
func (s *Server) SetMaxClosedClients(n int) { s.mon().closed.setMax(n) }

// recordClosed keeps a closed connection for /connz?state=closed. It runs
// from closeConnection once the client left the server map, with no lock
// held.
func (s *Server) recordClosed(c *client) {
	if c.kind != kindClient {
		return
	}
	ring := &s.mon().closed
	ring.mu.Lock()
	keep := ring.max > 0
	ring.mu.Unlock()
	if !keep {
		return
	}
	cc := &closedConn{acc: c.acc.Name}
	var e connEntry
	c.mu.Lock()
	c.fillLocked(&cc.info, &e, true, true)
	stop := c.stop
	reason := c.reason
	c.mu.Unlock()
	cc.subs, cc.rtt = e.subs, e.rtt
	cc.info.Stop = &stop
	cc.info.Reason = reason.String()
	cc.info.Uptime = FormatUptime(stop.Sub(cc.info.Start))
	cc.info.Idle = FormatUptime(stop.Sub(cc.info.LastActivity))
	cc.info.RTT = formatRTT(e.rtt)
	ring.add(cc)
}

// connEntry is one connection while Connz sorts and pages: the fields are
// raw so that only the returned page is formatted.
type connEntry struct {
	ci     *ConnInfo
	closed *closedConn // nil for an open connection
	rtt    time.Duration
	subs   []SubDetail
}

// fillLocked copies the connection's state into ci; c.mu is held. With
// subs it also copies the subscriptions into e.subs.
func (c *client) fillLocked(ci *ConnInfo, e *connEntry, subs bool, detail bool) {
	ci.Cid = c.cid
	ci.Kind = "Client"
	ci.Type = "nats"
	ci.IP = c.host
	ci.Port = c.port
	ci.Start = c.start
	ci.LastActivity = c.start
	if n := c.lastActive.Load(); n != 0 {
		ci.LastActivity = time.Unix(0, n)
	}
	ci.Pending = c.out.pending()
	ci.InMsgs = c.inMsgsTotal.Load()
	ci.InBytes = c.inBytesTotal.Load()
	ci.OutMsgs = c.outMsgs
	ci.OutBytes = c.outBytes
	ci.NumSubs = uint32(len(c.subs))
	ci.Name, ci.Lang, ci.Version = c.name, c.lang, c.version
	e.rtt = c.rtt
	if subs && len(c.subs) > 0 {
		e.subs = make([]SubDetail, 0, len(c.subs))
		for _, sub := range c.subs {
			sd := SubDetail{Subject: sub.subject, Queue: sub.queue, Sid: string(sub.sid), Cid: c.cid}
			if detail {
				sd.Msgs, sd.Max = sub.delivered, sub.max
			}
			e.subs = append(e.subs, sd)
		}
	}
}

// interestedLocked reports whether one of c's subscriptions could receive
// a message published to filter; c.mu is held.
func (c *client) interestedLocked(filter string) bool {
	for _, sub := range c.subs {
		if subjectsCollide(filter, sub.subject) {
			return true
		}
	}
	return false
}

// Connz returns one page of connections, selected, sorted and paged by
// opts (nil means the defaults). Errors are *MonitorError.
//
// It holds Server.mu only to copy the client list, then each client's lock
// only to copy its counters, and sorts without locks, so polling it does
// not stall delivery.
func (s *Server) Connz(opts *ConnzOptions) (*Connz, error) {
	var o ConnzOptions
	if opts != nil {
		o = *opts
	}
	if o.Sort == "" {
		o.Sort = ByCid
	}
	if !o.Sort.IsValid() {
		return nil, monitorErr("invalid sorting option: " + string(o.Sort))
	}
	if o.State < ConnOpen || o.State > ConnAll {
		return nil, monitorErr("invalid connection state")
	}
	if o.Sort == ByStop && o.State != ConnClosed {
		return nil, monitorErr("sort by stop only valid on closed connections")
	}
	if o.Sort == ByReason && o.State != ConnClosed {
		return nil, monitorErr("sort by reason only valid on closed connections")
	}
	filter := ""
	if o.FilterSubject != "" && o.FilterSubject != ">" {
		if o.Account == "" {
			return nil, monitorErr("filter by subject only valid with account filtering")
		}
		filter = o.FilterSubject
	}
	if o.Offset < 0 {
		o.Offset = 0
	}
	if o.Limit <= 0 {
		o.Limit = DefaultConnListSize
	}
	if o.CID > 0 {
		o.Limit = 1
	}
	wantSubs := o.Subscriptions || o.SubscriptionsDetail || o.MQTTClient != ""

	now := time.Now()
	cz := &Connz{ID: s.id, Now: now.UTC(), Offset: o.Offset, Limit: o.Limit}

	var open []*client
	if o.State != ConnClosed && o.MQTTClient == "" && o.User == "" {
		s.mu.Lock()
		if o.CID > 0 {
			if c := s.clients[o.CID]; c != nil {
				open = append(open, c)
			}
		} else {
			open = make([]*client, 0, len(s.clients))
			for _, c := range s.clients {
				if o.Account == "" || c.acc.Name == o.Account {
					open = append(open, c)
				}
			}
		}
		s.mu.Unlock()
	}
	var closed []*closedConn
	if o.State != ConnOpen {
		closed = s.mon().closed.list()
	}

	infos := make([]ConnInfo, len(open))
	entries := make([]connEntry, 0, len(open)+len(closed))
	for i, c := range open {
		var e connEntry
		ci := &infos[i]
		c.mu.Lock()
		if c.closed || (filter != "" && !c.interestedLocked(filter)) {
			c.mu.Unlock()
			continue
		}
		c.fillLocked(ci, &e, wantSubs, o.SubscriptionsDetail)
		c.mu.Unlock()
		e.ci = ci
		entries = append(entries, e)
	}
	for _, cc := range closed {
		switch {
		case o.CID > 0 && cc.info.Cid != o.CID,
			o.Account != "" && cc.acc != o.Account,
			o.User != "" && cc.user != o.User,
			o.MQTTClient != "" && cc.info.MQTTClient != o.MQTTClient:
			continue
		}
		if filter != "" && !slices.ContainsFunc(cc.subs, func(sd SubDetail) bool { return subjectsCollide(filter, sd.Subject) }) {
			continue
		}
		entries = append(entries, connEntry{ci: &cc.info, closed: cc, subs: cc.subs, rtt: cc.rtt})
	}

	sortConns(entries, o.Sort, now)

	cz.Total = len(entries)
	lo := min(o.Offset, len(entries))
	hi := min(o.Offset+o.Limit, len(entries))
	page := entries[lo:hi]
	cz.Conns = make([]*ConnInfo, len(page))
	for i := range page {
		cz.Conns[i] = page[i].render(now, &o)
	}
	cz.NumConns = len(cz.Conns)
	return cz, nil
}

// render returns the JSON-ready copy of e.
func (e *connEntry) render(now time.Time, o *ConnzOptions) *ConnInfo {
	ci := new(ConnInfo)
	*ci = *e.ci
	if e.closed == nil {
		ci.Uptime = FormatUptime(now.Sub(ci.Start))
		ci.Idle = FormatUptime(now.Sub(ci.LastActivity))
		ci.RTT = formatRTT(e.rtt)
	}
	if len(e.subs) > 0 {
		switch {
		case o.SubscriptionsDetail:
			ci.SubsDetail = slices.Clone(e.subs)
		case o.Subscriptions:
			ci.Subs = make([]string, len(e.subs))
			for i := range e.subs {
				ci.Subs[i] = e.subs[i].Subject
			}
		}
	}
	if o.Username {
		if e.closed != nil {
			ci.AuthorizedUser = e.closed.user
			if e.closed.acc != GlobalAccountName {
				ci.Account = e.closed.acc
			}
		}
	}
	return ci
}

func uptimeOf(e *connEntry, now time.Time) time.Duration {
	if e.ci.Stop != nil {
		return e.ci.Stop.Sub(e.ci.Start)
	}
	return now.Sub(e.ci.Start)
}

// sortConns orders entries by key; ties fall back to cid so pages are
// stable.
func sortConns(entries []connEntry, key SortOpt, now time.Time) {
	desc := func(f func(e *connEntry) int64) func(a, b connEntry) int {
		return func(a, b connEntry) int {
			if c := cmp.Compare(f(&b), f(&a)); c != 0 {
				return c
			}
			return cmp.Compare(a.ci.Cid, b.ci.Cid)
		}
	}
	var fn func(a, b connEntry) int
	switch key {
	case ByCid, ByStart:
		fn = func(a, b connEntry) int { return cmp.Compare(a.ci.Cid, b.ci.Cid) }
	case BySubs:
		fn = desc(func(e *connEntry) int64 { return int64(e.ci.NumSubs) })
	case ByPending:
		fn = desc(func(e *connEntry) int64 { return int64(e.ci.Pending) })
	case ByOutMsgs:
		fn = desc(func(e *connEntry) int64 { return e.ci.OutMsgs })
	case ByInMsgs:
		fn = desc(func(e *connEntry) int64 { return e.ci.InMsgs })
	case ByOutBytes:
		fn = desc(func(e *connEntry) int64 { return e.ci.OutBytes })
	case ByInBytes:
		fn = desc(func(e *connEntry) int64 { return e.ci.InBytes })
	case ByLast:
		fn = desc(func(e *connEntry) int64 { return e.ci.LastActivity.UnixNano() })
	case ByIdle:
		fn = desc(func(e *connEntry) int64 {
			end := now
			if e.ci.Stop != nil {
				end = *e.ci.Stop
			}
			return int64(end.Sub(e.ci.LastActivity))
		})
	case ByUptime: // shortest first, as upstream
		fn = func(a, b connEntry) int {
			if c := cmp.Compare(uptimeOf(&a, now), uptimeOf(&b, now)); c != 0 {
				return c
			}
			return cmp.Compare(a.ci.Cid, b.ci.Cid)
		}
	case ByStop:
		fn = desc(func(e *connEntry) int64 {
			if e.ci.Stop == nil {
				return 0
			}
			return e.ci.Stop.UnixNano()
		})
	case ByReason:
		fn = func(a, b connEntry) int {
			if c := strings.Compare(a.ci.Reason, b.ci.Reason); c != 0 {
				return c
			}
			return cmp.Compare(a.ci.Cid, b.ci.Cid)
		}
	case ByRTT:
		fn = desc(func(e *connEntry) int64 { return int64(e.rtt) })
	}
	slices.SortFunc(entries, fn)
}

// subjectsCollide reports whether some subject could match both a and b
// (either may hold wildcards).
func subjectsCollide(a, b string) bool {
	for {
		ta, ra, moreA := strings.Cut(a, ".")
		tb, rb, moreB := strings.Cut(b, ".")
		if ta == ">" || tb == ">" {
			return true
		}
		if ta != tb && ta != "*" && tb != "*" {
			return false
		}
		if !moreA || !moreB {
			return moreA == moreB
		}
		a, b = ra, rb
	}
}
