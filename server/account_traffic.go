package server

import "sync/atomic"

// An account's traffic over links, for its statistics (/accstatz and the
// $SYS.ACCOUNT.<acc>.SERVER.CONNS events): as upstream's, the sent and
// received totals include what crossed routes, gateways and leaf node
// connections, which are also given apart by kind.
//
// The counters are added per batch, not per message: a link's reader
// sums what it received for the account of its last message (Link.deliver)
// and adds it when the account changes or the read ends (EndBatch); a
// publisher's pubCtx does the same for what it wrote to links
// (deliverRoute), added by flushStats.

// Indexes of linkTraffic by kind of link.
const (
	trafficRoutes = iota
	trafficGateways
	trafficLeafs
	numTraffic
)

// trafficIndex returns the linkTraffic index of a link of kind k.
func trafficIndex(k ConnKind) int {
	switch k {
	case ConnGateway:
		return trafficGateways
	case ConnLeaf, ConnHub:
		return trafficLeafs
	}
	return trafficRoutes
}

// linkTraffic counts messages and payload bytes (headers included) in
// and out over one kind of link.
type linkTraffic struct {
	inMsgs, inBytes, outMsgs, outBytes atomic.Int64
}

// trafficSum is a batch's count of messages and bytes, before it is
// added to an account.
type trafficSum struct{ msgs, bytes int64 }

// linkIn is what a link's reader received for one account since it last
// added it; reader-owned.
type linkIn struct {
	acc *Account
	trafficSum
}

// countIn counts a message of n bytes received over l for acc.
func (l *Link) countIn(acc *Account, n int) {
	in := &l.in
	if in.acc != acc {
		l.flushIn()
		in.acc = acc
	}
	in.msgs++
	in.bytes += int64(n)
}

// flushIn adds what l received to its account's traffic.
func (l *Link) flushIn() {
	in := &l.in
	if in.acc != nil && in.msgs != 0 {
		t := &in.acc.traffic[trafficIndex(l.kind)]
		t.inMsgs.Add(in.msgs)
		t.inBytes.Add(in.bytes)
	}
	in.acc, in.trafficSum = nil, trafficSum{}
}

// linkOut is what a publisher wrote to links for one account since it
// last added it, by kind of link.
type linkOut struct {
	acc *Account
	sum [numTraffic]trafficSum
}

// countLinkOut counts a message of n bytes that acc sent over a link of
// kind k.
func (pc *pubCtx) countLinkOut(acc *Account, k ConnKind, n int) {
	o := &pc.linkOut
	if o.acc != acc {
		pc.flushLinkOut()
		o.acc = acc
	}
	s := &o.sum[trafficIndex(k)]
	s.msgs++
	s.bytes += int64(n)
}

// flushLinkOut adds what the publisher wrote to links to the account's
// traffic.
func (pc *pubCtx) flushLinkOut() {
	o := &pc.linkOut
	if o.acc != nil {
		for i := range o.sum {
			if s := o.sum[i]; s.msgs != 0 {
				t := &o.acc.traffic[i]
				t.outMsgs.Add(s.msgs)
				t.outBytes.Add(s.bytes)
			}
		}
	}
	*o = linkOut{}
}
