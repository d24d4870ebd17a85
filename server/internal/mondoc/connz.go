package mondoc

import (
	"cmp"
	"crypto/tls"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"natsd.dev/server/snapshot"
)

// Closed is a closed connection kept for /connz?state=closed. It is
// immutable once in the ring, so a Connz shares it without copying.
type Closed struct {
	Info snapshot.ConnInfo // Uptime, Idle, RTT, Stop and Reason already rendered
	RTT  time.Duration
	Acc  string
	User string
	Subs []snapshot.SubDetail
}

// Options validates o (nil means the defaults) and fills in its defaults;
// defLimit is the page size when o has none. filter is the subject filter
// in effect ("" for none). Errors are *snapshot.MonitorError.
func Options(opts *snapshot.ConnzOptions, defLimit int) (o snapshot.ConnzOptions, filter string, err error) {
	if opts != nil {
		o = *opts
	}
	if o.Sort == "" {
		o.Sort = snapshot.ByCid
	}
	switch {
	case !o.Sort.IsValid():
		return o, "", monitorErr("invalid sorting option: " + string(o.Sort))
	case o.State < snapshot.ConnOpen || o.State > snapshot.ConnAll:
		return o, "", monitorErr("invalid connection state")
	case o.Sort == snapshot.ByStop && o.State != snapshot.ConnClosed:
		return o, "", monitorErr("sort by stop only valid on closed connections")
	case o.Sort == snapshot.ByReason && o.State != snapshot.ConnClosed:
		return o, "", monitorErr("sort by reason only valid on closed connections")
	}
	if o.FilterSubject != "" && o.FilterSubject != ">" {
		if o.Account == "" {
			return o, "", monitorErr("filter by subject only valid with account filtering")
		}
		filter = o.FilterSubject
	}
	if o.Offset < 0 {
		o.Offset = 0
	}
	if o.Limit <= 0 {
		o.Limit = defLimit
	}
	if o.CID > 0 {
		o.Limit = 1
	}
	return o, filter, nil
}

func monitorErr(text string) error { return &snapshot.MonitorError{Text: text} }

// Key is one selected connection while Connz sorts: a small value without
// pointers, so sorting ten thousand of them is cheap. K is oriented so
// that every order is ascending on (K, Cid); Idx is the caller's (by
// convention an index into the open connections, or -1-i into the closed
// ones).
type Key struct {
	K   int64
	Cid uint64
	Idx int32
}

// Page sorts keys and returns the page [offset, offset+limit) of them,
// bounded to keys whatever the offset and limit: a request may carry any
// int, negative or near the maximum (GHSA-q59r-vq66-pxc2).
func Page(keys []Key, offset, limit int) []Key {
	slices.SortFunc(keys, func(a, b Key) int {
		if a.K != b.K {
			return cmp.Compare(a.K, b.K)
		}
		return cmp.Compare(a.Cid, b.Cid)
	})
	start := min(max(offset, 0), len(keys))
	return keys[start : start+min(max(limit, 0), len(keys)-start)]
}

// NeedsLock reports whether the sort key of an open connection lives
// under its lock (the others are atomics or immutable).
func NeedsLock(key snapshot.SortOpt) bool {
	switch key {
	case snapshot.BySubs, snapshot.ByPending, snapshot.ByOutMsgs, snapshot.ByOutBytes, snapshot.ByRTT:
		return true
	}
	return false
}

// Selected reports whether cc passes o's filters; filter is as Options
// returned it.
func (cc *Closed) Selected(o *snapshot.ConnzOptions, filter string) bool {
	switch {
	case o.CID > 0 && cc.Info.Cid != o.CID,
		o.Account != "" && cc.Acc != o.Account,
		o.User != "" && cc.User != o.User,
		o.MQTTClient != "" && cc.Info.MQTTClient != o.MQTTClient:
		return false
	}
	return filter == "" || slices.ContainsFunc(cc.Subs, func(sd snapshot.SubDetail) bool { return SubjectsCollide(filter, sd.Subject) })
}

// Key computes the sort key of a closed connection; reasons maps a reason
// to its alphabetical rank (see ReasonRanks).
func (cc *Closed) Key(key snapshot.SortOpt, reasons map[string]int64) int64 {
	ci := &cc.Info
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
		return -int64(cc.RTT)
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

// ReasonRanks numbers the distinct close reasons alphabetically.
func ReasonRanks(closed []*Closed) map[string]int64 {
	m := make(map[string]int64)
	for _, cc := range closed {
		m[cc.Info.Reason] = 0
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

// SetSubs puts subs into ci as o asks: with details, as subject names, or
// not at all.
func SetSubs(ci *snapshot.ConnInfo, subs []snapshot.SubDetail, o *snapshot.ConnzOptions) {
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
}

// SubjectsCollide reports whether some subject could match both a and b
// (either may hold wildcards).
func SubjectsCollide(a, b string) bool {
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

// FillTLS adds the TLS version and cipher suite of a TLS connection (or a
// transport's wrapper of one, with a NetConn method), named as upstream
// names them ("1.3", "TLS_AES_128_GCM_SHA256"). Call it only once the
// handshake is over: tls.Conn.ConnectionState waits for one in progress.
func FillTLS(ci *snapshot.ConnInfo, nc net.Conn) {
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

// FillTimes sets ci's Uptime and Idle as of at (now, or the close of a
// closed connection) from its Start and LastActivity, and its RTT.
func FillTimes(ci *snapshot.ConnInfo, at time.Time, rtt time.Duration) {
	ci.Uptime = FormatUptime(at.Sub(ci.Start))
	ci.Idle = FormatUptime(at.Sub(ci.LastActivity))
	ci.RTT = FormatRTT(rtt)
}

// FormatUptime renders d as upstream renders uptime and idle times: whole
// seconds split into years (of 365 days), days, hours, minutes and
// seconds, leading zero units left out ("3m7s", "1d2h0m5s").
func FormatUptime(d time.Duration) string {
	secs := int64(d / time.Second)
	if secs < 0 {
		secs = 0
	}
	b := make([]byte, 0, 24)
	units := [...]struct {
		n    int64
		name byte
	}{
		{secs / (365 * 86400), 'y'},
		{secs / 86400 % 365, 'd'},
		{secs / 3600 % 24, 'h'},
		{secs / 60 % 60, 'm'},
	}
	started := false
	for _, u := range units {
		if u.n > 0 || started {
			b = strconv.AppendInt(b, u.n, 10)
			b = append(b, u.name)
			started = true
		}
	}
	b = strconv.AppendInt(b, secs%60, 10)
	b = append(b, 's')
	return string(b)
}

// FormatRTT renders a round trip time as upstream: microsecond precision
// below a millisecond, full precision otherwise.
func FormatRTT(d time.Duration) string {
	if d > time.Microsecond && d < time.Millisecond {
		d = d.Truncate(time.Microsecond)
	}
	return d.String()
}
