package server

import (
	"slices"
	"sync/atomic"
	"time"

	"natsd.dev/server/internal/mondoc"
	"natsd.dev/server/snapshot"
)

// monState is the monitoring state of a server (Server.monitoring).
type monState struct {
	closed     mondoc.Ring
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
func (s *Server) SetMaxClosedClients(n int) { s.mon().closed.SetMax(n) }

// recordClosed keeps a closed connection for /connz?state=closed. It runs
// from closeConnection once the client left the server map, with no lock
// held.
func (s *Server) recordClosed(c *client) {
	if c.kind != kindClient && (c.sess == nil || c.sess.kind != SessionClient) {
		return
	}
	ring := &s.mon().closed
	if !ring.Keeps() {
		return
	}
	cc := &mondoc.Closed{}
	c.mu.Lock()
	cc.Acc = c.acc.Name
	cc.User = c.authUser
	cc.Subs, cc.RTT = c.fillLocked(&cc.Info, true, true)
	stop := c.stop
	reason := c.reason
	handshaken := c.connectSeenLocked()
	c.mu.Unlock()
	if handshaken {
		mondoc.FillTLS(&cc.Info, c.nc)
	}
	cc.Info.Stop = &stop
	cc.Info.Reason = reason.String()
	mondoc.FillTimes(&cc.Info, stop, cc.RTT)
	ring.Add(cc)
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
	if c.link != nil {
		// A leaf node connection, as upstream lists it: no type, and no
		// name on the spoke side.
		ci.Kind, ci.Type = "Leafnode", ""
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
	if c.link != nil && c.link.Origin() == ConnHub {
		ci.Name, ci.Version = "", ""
	}
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
		if mondoc.SubjectsCollide(filter, sub.subject) {
			return true
		}
	}
	return false
}

// openKey computes the sort key of an open client; c.mu is held when
// mondoc.NeedsLock(key).
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

// Connz returns one page of connections, selected, sorted and paged by
// opts (nil means the defaults). Errors are *MonitorError.
//
// It holds Server.mu only to copy the client pointers. Sorting by cid or
// start, or by a counter kept in an atomic, takes no client lock; other
// keys take each client's lock just to read the key. Only the returned
// page is then copied in full, so a poll costs little more than a sort of
// small keys and does not stall delivery.
func (s *Server) Connz(opts *snapshot.ConnzOptions) (*snapshot.Connz, error) {
	o, filter, err := mondoc.Options(opts, DefaultConnListSize)
	if err != nil {
		return nil, err
	}

	now := time.Now()
	if o.Account != "" && s.LookupAccount(o.Account) == nil {
		// As upstream: an account this server does not know gets an
		// empty page without the server's id ("server_id": "",
		// "connections": null). $SYS.REQ.ACCOUNT.PING.CONNZ from a
		// system user lands here too: upstream 2.15.2 takes PING for an
		// account name there (other accounts import it as their own).
		return &snapshot.Connz{Now: now.UTC(), Offset: o.Offset, Limit: o.Limit}, nil
	}
	cz := &snapshot.Connz{ID: s.id, Now: now.UTC(), Offset: o.Offset, Limit: o.Limit}

	var open []*client
	if o.State != snapshot.ConnClosed {
		s.mu.Lock()
		if o.CID > 0 {
			if c := s.clients[o.CID]; c != nil {
				open = append(open, c)
			} else if l := s.links[o.CID]; l != nil && l.kind == ConnLeaf && o.Account == "" {
				open = append(open, l.c)
			}
		} else {
			open = s.clientsLocked()
			// Leaf node connections are listed too (routes and
			// gateways are not), as upstream; not per account (the
			// core does not know the account a leaf node is bound to).
			for _, l := range s.links {
				if l.kind == ConnLeaf && o.Account == "" {
					open = append(open, l.c)
				}
			}
		}
		s.mu.Unlock()
		open = s.appendSessions(open, o.CID)
		if o.MQTTClient != "" {
			// Only sessions carry an MQTT client id.
			open = slices.DeleteFunc(open, func(c *client) bool { return c.sess == nil || c.sess.mqtt != o.MQTTClient })
		}
	}
	var closed []*mondoc.Closed
	if o.State != snapshot.ConnOpen {
		closed = s.mon().closed.List()
	}

	keys := make([]mondoc.Key, 0, len(open)+len(closed))
	// The account of a client is read under its lock: authentication may
	// set it on CONNECT.
	lock := mondoc.NeedsLock(o.Sort) || filter != "" || o.Account != "" || o.User != ""
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
		keys = append(keys, mondoc.Key{K: k, Cid: c.cid, Idx: int32(i)})
	}
	var reasons map[string]int64
	if o.Sort == snapshot.ByReason {
		reasons = mondoc.ReasonRanks(closed)
	}
	for i, cc := range closed {
		if cc.Selected(&o, filter) {
			keys = append(keys, mondoc.Key{K: cc.Key(o.Sort, reasons), Cid: cc.Info.Cid, Idx: int32(-1 - i)})
		}
	}

	cz.Total = len(keys)
	page := mondoc.Page(keys, o.Offset, o.Limit)
	infos := make([]snapshot.ConnInfo, len(page))
	cz.Conns = make([]*snapshot.ConnInfo, len(page))
	wantSubs := o.Subscriptions || o.SubscriptionsDetail
	for i, k := range page {
		ci := &infos[i]
		var subs []snapshot.SubDetail
		if k.Idx >= 0 {
			c := open[k.Idx]
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
				mondoc.FillTLS(ci, c.nc)
			}
			mondoc.FillTimes(ci, now, rtt)
		} else {
			cc := closed[-1-k.Idx]
			*ci = cc.Info
			subs = slices.Clone(cc.Subs)
			if o.Username {
				ci.AuthorizedUser = cc.User
				if cc.Acc != GlobalAccountName {
					ci.Account = cc.Acc
				}
			}
		}
		mondoc.SetSubs(ci, subs, &o)
		cz.Conns[i] = ci
	}
	cz.NumConns = len(cz.Conns)
	return cz, nil
}
