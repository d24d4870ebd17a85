package server

import (
	"cmp"
	"crypto/tls"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/server/snapshot"
)

// closedConn is a closed connection kept for /connz?state=closed. It is
// immutable once in the ring, so Connz shares it without copying.
type closedConn struct {
	info snapshot.ConnInfo // Uptime, Idle, RTT, Stop and Reason already rendered
	rtt  time.Duration
	acc  string
	user string
	subs []snapshot.SubDetail
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

// monState is the monitoring state of a server (Server.monitoring).
type monState struct {
	closed     closedRing
	reg        registry
	configTime atomic.Int64  // unix nanoseconds; 0 means the start time
	seq        atomic.Uint64 // of monitoring responses (ServerInfo.Seq)
}

func (s *Server) mon() *monState { return &s.monitoring }

// SetConfigLoadTime records when the configuration was (re)loaded, for
// Varz.ConfigLoadTime; until set it is the server's start time.
func (s *Server) SetConfigLoadTime(t time.Time) { s.mon().configTime.Store(t.UnixNano()) }

// SetMaxClosedClients sets how many closed connections Connz remembers
// (upstream's max_closed_clients); 0 keeps none. The default is
// DefaultMaxClosedClients.
func (s *Server) SetMaxClosedClients(n int) { s.mon().closed.setMax(n) }

// recordClosed keeps a closed connection for /connz?state=closed. It runs
// from closeConnection once the client left the server map, with no lock
// held.
func (s *Server) recordClosed(c *client) {
	if c.kind != kindClient && (c.sess == nil || c.sess.kind != SessionClient) {
		return
	}
	ring := &s.mon().closed
	ring.mu.Lock()
	keep := ring.max > 0
	ring.mu.Unlock()
	if !keep {
		return
	}
	cc := &closedConn{}
	c.mu.Lock()
	cc.acc = c.acc.Name
	cc.user = c.authUser
	cc.subs, cc.rtt = c.fillLocked(&cc.info, true, true)
	stop := c.stop
	reason := c.reason
	handshaken := c.connectSeenLocked()
	c.mu.Unlock()
	if handshaken {
		fillTLS(&cc.info, c.nc)
	}
	cc.info.Stop = &stop
	cc.info.Reason = reason.String()
	cc.info.Uptime = formatUptime(stop.Sub(cc.info.Start))
	cc.info.Idle = formatUptime(stop.Sub(cc.info.LastActivity))
	cc.info.RTT = formatRTT(cc.rtt)
	ring.add(cc)
}

// fillLocked copies the connection's state into ci and returns its round
// trip time and, with subs, its subscriptions; c.mu is held.
func (c *client) fillLocked(ci *snapshot.ConnInfo, subs, detail bool) ([]snapshot.SubDetail, time.Duration) {
	ci.Cid = c.cid
	ci.Kind = "Client"
	ci.Type = "nats"
	if c.ws {
		ci.Type = "websocket"
	}
	if c.sess != nil {
		ci.Kind, ci.Type, ci.MQTTClient = c.sess.kind, c.sess.typ, c.sess.mqtt
	}
	ci.IP = c.host
	ci.Port = c.port
	ci.Start = c.start
	ci.LastActivity = c.lastActivity()
	ci.Pending = c.out.pending()
	ci.InMsgs = c.inMsgsTotal.Load()
	ci.InBytes = c.inBytesTotal.Load()
	ci.OutMsgs = c.outMsgs
	ci.OutBytes = c.outBytes
	ci.NumSubs = uint32(len(c.subs))
	ci.Name, ci.Lang, ci.Version = c.name, c.lang, c.version
	var list []snapshot.SubDetail
	if subs && len(c.subs) > 0 {
		list = make([]snapshot.SubDetail, 0, len(c.subs))
		for _, sub := range c.subs {
			sd := snapshot.SubDetail{Subject: sub.subject, Queue: sub.queue, Sid: string(sub.sid), Cid: c.cid}
			if detail {
				sd.Msgs, sd.Max = sub.delivered, sub.max
			}
			list = append(list, sd)
		}
	}
	return list, c.rtt
}

// connectSeenLocked reports whether the client's CONNECT was processed,
// which over TLS means the handshake is over; c.mu is held. Only then may
// the TLS state be read: tls.Conn.ConnectionState waits for a handshake in
// progress.
func (c *client) connectSeenLocked() bool { return c.connectSeen }

// fillTLS adds the TLS version and cipher suite of a TLS connection, named
// as upstream names them ("1.3", "TLS_AES_128_GCM_SHA256").
func fillTLS(ci *snapshot.ConnInfo, nc net.Conn) {
	if _, isTLS := nc.(*tls.Conn); !isTLS {
		if wc, ok := nc.(interface{ NetConn() net.Conn }); ok {
			nc = wc.NetConn() // a transport's wrapper (WebSocket)
		}
	}
	tc, ok := nc.(*tls.Conn)
	if !ok {
		return
	}
	cs := tc.ConnectionState()
	if !cs.HandshakeComplete {
		return
	}
	switch cs.Version {
	case tls.VersionTLS10:
		ci.TLSVersion = "1.0"
	case tls.VersionTLS11:
		ci.TLSVersion = "1.1"
	case tls.VersionTLS12:
		ci.TLSVersion = "1.2"
	case tls.VersionTLS13:
		ci.TLSVersion = "1.3"
	default:
		ci.TLSVersion = "Unknown [0x" + strconv.FormatUint(uint64(cs.Version), 16) + "]"
	}
	ci.TLSCipher = tls.CipherSuiteName(cs.CipherSuite)
}

// lastActivity is the time of the last read batch (the start before any);
// it needs no lock.
func (c *client) lastActivity() time.Time {
	if n := c.lastActive.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return c.start
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

// connKey is one selected connection while Connz sorts: a small value
// without pointers, so sorting ten thousand of them is cheap. Keys are
// oriented so that every order is ascending on (k, cid).
type connKey struct {
	k   int64
	cid uint64
	idx int32 // index into the open clients, or -1-i into the closed ones
}

// needsLock reports whether the sort key lives under client.mu.
func needsLock(key snapshot.SortOpt) bool {
	switch key {
	case snapshot.BySubs, snapshot.ByPending, snapshot.ByOutMsgs, snapshot.ByOutBytes, snapshot.ByRTT:
		return true
	}
	return false
}

// openKey computes the sort key of an open client; c.mu is held when
// needsLock(key).
func openKey(c *client, key snapshot.SortOpt, now time.Time) int64 {
	switch key {
	case snapshot.BySubs:
		return -int64(len(c.subs))
	case snapshot.ByPending:
		return -int64(c.out.pending())
	case snapshot.ByOutMsgs:
		return -c.outMsgs
	case snapshot.ByOutBytes:
		return -c.outBytes
	case snapshot.ByRTT:
		return -int64(c.rtt)
	case snapshot.ByInMsgs:
		return -c.inMsgsTotal.Load()
	case snapshot.ByInBytes:
		return -c.inBytesTotal.Load()
	case snapshot.ByLast:
		return -c.lastActivity().UnixNano()
	case snapshot.ByIdle:
		return -int64(now.Sub(c.lastActivity()))
	case snapshot.ByUptime: // shortest first, as upstream
		return int64(now.Sub(c.start))
	}
	return 0 // cid, start; stop and reason sort closed connections only
}

// closedKey computes the sort key of a closed connection; reasons maps a
// reason to its alphabetical rank.
func closedKey(cc *closedConn, key snapshot.SortOpt, reasons map[string]int64) int64 {
	ci := &cc.info
	switch key {
	case snapshot.BySubs:
		return -int64(ci.NumSubs)
	case snapshot.ByPending:
		return -int64(ci.Pending)
	case snapshot.ByOutMsgs:
		return -ci.OutMsgs
	case snapshot.ByOutBytes:
		return -ci.OutBytes
	case snapshot.ByRTT:
		return -int64(cc.rtt)
	case snapshot.ByInMsgs:
		return -ci.InMsgs
	case snapshot.ByInBytes:
		return -ci.InBytes
	case snapshot.ByLast:
		return -ci.LastActivity.UnixNano()
	case snapshot.ByIdle:
		return -int64(ci.Stop.Sub(ci.LastActivity))
	case snapshot.ByUptime:
		return int64(ci.Stop.Sub(ci.Start))
	case snapshot.ByStop:
		return -ci.Stop.UnixNano()
	case snapshot.ByReason:
		return reasons[ci.Reason]
	}
	return 0
}

// Connz returns one page of connections, selected, sorted and paged by
// opts (nil means the defaults). Errors are *MonitorError.
//
// It holds Server.mu only to copy the client pointers. Sorting by cid or
// start, or by a counter kept in an atomic, takes no client lock; other
// keys take each client's lock just to read the key. Only the returned
// page is then copied in full, so a poll costs little more than a sort of
// small keys and does not stall delivery.
func (s *Server) Connz(opts *snapshot.ConnzOptions) (*snapshot.Connz, error) {
	var o snapshot.ConnzOptions
	if opts != nil {
		o = *opts
	}
	if o.Sort == "" {
		o.Sort = snapshot.ByCid
	}
	if !o.Sort.IsValid() {
		return nil, monitorErr("invalid sorting option: " + string(o.Sort))
	}
	if o.State < snapshot.ConnOpen || o.State > snapshot.ConnAll {
		return nil, monitorErr("invalid connection state")
	}
	if o.Sort == snapshot.ByStop && o.State != snapshot.ConnClosed {
		return nil, monitorErr("sort by stop only valid on closed connections")
	}
	if o.Sort == snapshot.ByReason && o.State != snapshot.ConnClosed {
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

	now := time.Now()
	cz := &snapshot.Connz{ID: s.id, Now: now.UTC(), Offset: o.Offset, Limit: o.Limit}

	var open []*client
	if o.State != snapshot.ConnClosed {
		s.mu.Lock()
		if o.CID > 0 {
			if c := s.clients[o.CID]; c != nil {
				open = append(open, c)
			}
		} else {
			open = make([]*client, 0, len(s.clients))
			for _, c := range s.clients {
				open = append(open, c)
			}
		}
		s.mu.Unlock()
		open = s.appendSessions(open, o.CID)
		if o.MQTTClient != "" {
			// Only sessions carry an MQTT client id.
			open = slices.DeleteFunc(open, func(c *client) bool { return c.sess == nil || c.sess.mqtt != o.MQTTClient })
		}
	}
	var closed []*closedConn
	if o.State != snapshot.ConnOpen {
		closed = s.mon().closed.list()
	}

	keys := make([]connKey, 0, len(open)+len(closed))
	// The account of a client is read under its lock: authentication may
	// set it on CONNECT.
	lock := needsLock(o.Sort) || filter != "" || o.Account != "" || o.User != ""
	for i, c := range open {
		var k int64
		if lock {
			c.mu.Lock()
			if c.closed || (o.Account != "" && c.acc.Name != o.Account) || (o.User != "" && c.authUser != o.User) ||
				(filter != "" && !c.interestedLocked(filter)) {
				c.mu.Unlock()
				continue
			}
			k = openKey(c, o.Sort, now)
			c.mu.Unlock()
		} else {
			k = openKey(c, o.Sort, now)
		}
		keys = append(keys, connKey{k: k, cid: c.cid, idx: int32(i)})
	}
	var reasons map[string]int64
	if o.Sort == snapshot.ByReason {
		reasons = reasonRanks(closed)
	}
	for i, cc := range closed {
		switch {
		case o.CID > 0 && cc.info.Cid != o.CID,
			o.Account != "" && cc.acc != o.Account,
			o.User != "" && cc.user != o.User,
			o.MQTTClient != "" && cc.info.MQTTClient != o.MQTTClient:
			continue
		}
		if filter != "" && !slices.ContainsFunc(cc.subs, func(sd snapshot.SubDetail) bool { return subjectsCollide(filter, sd.Subject) }) {
			continue
		}
		keys = append(keys, connKey{k: closedKey(cc, o.Sort, reasons), cid: cc.info.Cid, idx: int32(-1 - i)})
	}
	slices.SortFunc(keys, func(a, b connKey) int {
		if a.k != b.k {
			return cmp.Compare(a.k, b.k)
		}
		return cmp.Compare(a.cid, b.cid)
	})

	cz.Total = len(keys)
	lo := min(o.Offset, len(keys))
	hi := min(o.Offset+o.Limit, len(keys))
	page := keys[lo:hi]
	infos := make([]snapshot.ConnInfo, len(page))
	cz.Conns = make([]*snapshot.ConnInfo, len(page))
	wantSubs := o.Subscriptions || o.SubscriptionsDetail
	for i, k := range page {
		ci := &infos[i]
		var subs []snapshot.SubDetail
		if k.idx >= 0 {
			c := open[k.idx]
			var rtt time.Duration
			c.mu.Lock()
			subs, rtt = c.fillLocked(ci, wantSubs, o.SubscriptionsDetail)
			if o.Username {
				ci.AuthorizedUser = c.authUser
				if c.acc.Name != GlobalAccountName {
					ci.Account = c.acc.Name
				}
			}
			handshaken := c.connectSeenLocked()
			c.mu.Unlock()
			if handshaken {
				fillTLS(ci, c.nc)
			}
			ci.Uptime = formatUptime(now.Sub(ci.Start))
			ci.Idle = formatUptime(now.Sub(ci.LastActivity))
			ci.RTT = formatRTT(rtt)
		} else {
			cc := closed[-1-k.idx]
			*ci = cc.info
			subs = slices.Clone(cc.subs)
			if o.Username {
				ci.AuthorizedUser = cc.user
				if cc.acc != GlobalAccountName {
					ci.Account = cc.acc
				}
			}
		}
		switch {
		case len(subs) == 0:
		case o.SubscriptionsDetail:
			ci.SubsDetail = subs
		case o.Subscriptions:
			ci.Subs = make([]string, len(subs))
			for j := range subs {
				ci.Subs[j] = subs[j].Subject
			}
		}
		cz.Conns[i] = ci
	}
	cz.NumConns = len(cz.Conns)
	return cz, nil
}

// reasonRanks numbers the distinct close reasons alphabetically.
func reasonRanks(closed []*closedConn) map[string]int64 {
	m := make(map[string]int64)
	for _, cc := range closed {
		m[cc.info.Reason] = 0
	}
	names := make([]string, 0, len(m))
	for r := range m {
		names = append(names, r)
	}
	slices.Sort(names)
	for i, r := range names {
		m[r] = int64(i)
	}
	return m
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
