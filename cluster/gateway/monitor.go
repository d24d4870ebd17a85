package gateway

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"natsd.dev/server"
	"natsd.dev/server/snapshot"
)

// varzSection is the section of /varz the gateway contributes.
const varzSection = "gateway"

// register puts the gateway on its server's monitoring registry: the
// GATEWAYZ provider (/gatewayz and $SYS...GATEWAYZ) and the gateway
// section of /varz. unregister takes them off.
func (gw *Gateway) register() {
	gw.s.RegisterProvider(server.KindGatewayz, server.ProviderFunc(gw.gatewayz))
	gw.s.RegisterVarz(varzSection, server.VarzFunc(gw.contributeVarz))
}

func (gw *Gateway) unregister() {
	gw.s.RegisterProvider(server.KindGatewayz, nil)
	gw.s.RegisterVarz(varzSection, nil)
}

// gatewayz is the GATEWAYZ provider: the outbound connection to each
// remote cluster and the inbound ones by cluster, with upstream's names;
// o.Name (gw_name) keeps one remote cluster; o.Accounts (accs), or
// o.AccountName (acc_name) for one account, adds each connection's
// accounts as upstream reports them: an outbound connection's accounts
// the remote told something (RS-, A-, a mode switch, queue interest),
// an inbound connection's accounts this server told the remote so.
func (gw *Gateway) gatewayz(o *snapshot.GatewayzOptions) (*snapshot.Gatewayz, error) {
	z := &snapshot.Gatewayz{
		ID:               gw.s.ID(),
		Now:              time.Now().UTC(),
		Name:             gw.o.Name,
		Host:             gw.o.Host,
		Port:             gw.ln.Addr().(*net.TCPAddr).Port,
		OutboundGateways: map[string]*snapshot.RemoteGatewayz{},
		InboundGateways:  map[string][]*snapshot.RemoteGatewayz{},
	}
	keep := func(name string) bool { return o == nil || o.Name == "" || o.Name == name }
	gw.mu.Lock()
	var out, in []*conn
	for c := range gw.all {
		if c.registered && keep(c.remoteName) {
			if c.outbound {
				out = append(out, c)
			} else {
				in = append(in, c)
			}
		}
	}
	configured := map[string]bool{}
	for name, r := range gw.remotes {
		configured[name] = !r.implicit
	}
	gw.mu.Unlock()
	var accName string
	doAccs, subs, detail := false, false, false
	if o != nil {
		accName = o.AccountName
		doAccs = o.Accounts || accName != ""
		subs, detail = o.AccountSubscriptions, !o.AccountSubscriptions && o.AccountSubscriptionsDetail
	}
	now := time.Now()
	for _, c := range out {
		rg := &snapshot.RemoteGatewayz{IsConfigured: configured[c.remoteName], Connection: c.connInfo(now)}
		if doAccs {
			rg.Accounts = c.outboundAccounts(accName, subs, detail)
		}
		z.OutboundGateways[c.remoteName] = rg
	}
	if o != nil && o.Name != "" && len(out) == 0 {
		z.OutboundGateways = nil // upstream's null for an unknown gw_name
	}
	for _, c := range in {
		rg := &snapshot.RemoteGatewayz{IsConfigured: configured[c.remoteName], Connection: c.connInfo(now)}
		if doAccs {
			rg.Accounts = c.inboundAccounts(accName)
		}
		z.InboundGateways[c.remoteName] = append(z.InboundGateways[c.remoteName], rg)
	}
	return z, nil
}

// outboundAccounts describes the accounts of outbound connection c the
// remote told something, or only account only when it is not "", with
// the subjects of the remote's interest (subs) or its subscriptions
// (detail), as upstream lists them: subject and queue group, no sid, the
// connection's cid.
func (c *conn) outboundAccounts(only string, subs, detail bool) []*snapshot.AccountGatewayz {
	c.niMu.Lock()
	recs := make(map[string]*noInterest, len(c.ni))
	for acc, n := range c.ni {
		if only == "" || acc == only {
			recs[acc] = n
		}
	}
	c.niMu.Unlock()
	threshold := int(c.gw.maxNoInterest.Load())
	var accs []*snapshot.AccountGatewayz
	for acc, n := range recs {
		n.mu.RLock()
		listed := n.all || n.mode != modeOptimistic || len(n.subs) > 0 || len(n.qsubs) > 0
		a := &snapshot.AccountGatewayz{
			Name:                  acc,
			InterestMode:          modeName(n.mode),
			NoInterestCount:       len(n.subs),
			InterestOnlyThreshold: threshold,
			TotalSubscriptions:    len(n.isubs) + len(n.qsubs),
			NumQueueSubscriptions: len(n.qsubs),
		}
		if subs || detail {
			a.Subs, a.SubsDetail = n.list(detail, c.link.ID())
		}
		n.mu.RUnlock()
		if listed {
			accs = append(accs, a)
		}
	}
	slices.SortFunc(accs, func(x, y *snapshot.AccountGatewayz) int { return strings.Compare(x.Name, y.Name) })
	return accs
}

// inboundAccounts describes the accounts inbound connection c told the
// remote it has no interest in (RS-, A-) or switched to interest-only
// mode, or only account only when it is not "".
func (c *conn) inboundAccounts(only string) []*snapshot.AccountGatewayz {
	threshold := int(c.gw.maxNoInterest.Load())
	c.sentMu.Lock()
	seen := make(map[string]*snapshot.AccountGatewayz)
	add := func(acc string) *snapshot.AccountGatewayz {
		if only != "" && acc != only {
			return nil
		}
		a := seen[acc]
		if a == nil {
			a = &snapshot.AccountGatewayz{Name: acc, InterestMode: modeName(modeOptimistic), InterestOnlyThreshold: threshold}
			seen[acc] = a
		}
		return a
	}
	for acc, m := range c.sentNI {
		if a := add(acc); a != nil {
			a.NoInterestCount = len(m)
		}
	}
	for acc, all := range c.sentANI {
		if all {
			add(acc)
		}
	}
	for acc, iom := range c.sentIOM {
		if a := add(acc); a != nil && iom {
			a.InterestMode = modeName(modeInterestOnly)
		}
	}
	c.sentMu.Unlock()
	accs := make([]*snapshot.AccountGatewayz, 0, len(seen))
	for _, a := range seen {
		accs = append(accs, a)
	}
	slices.SortFunc(accs, func(x, y *snapshot.AccountGatewayz) int { return strings.Compare(x.Name, y.Name) })
	return accs
}

// connInfo describes the connection as /gatewayz does.
func (c *conn) connInfo(now time.Time) *snapshot.ConnInfo {
	st := c.stats()
	ci := &snapshot.ConnInfo{
		Cid:          c.link.ID(),
		Start:        st.Start,
		LastActivity: st.LastActivity,
		Uptime:       now.Sub(st.Start).Round(time.Second).String(),
		Pending:      st.Pending,
		InMsgs:       st.InMsgs,
		OutMsgs:      st.OutMsgs,
		InBytes:      st.InBytes,
		OutBytes:     st.OutBytes,
		NumSubs:      uint32(st.NumSubs),
		Name:         c.remoteID,
	}
	if !st.LastActivity.IsZero() {
		ci.Idle = now.Sub(st.LastActivity).Round(time.Second).String()
	}
	if host, port, err := net.SplitHostPort(c.addr); err == nil {
		ci.IP = host
		ci.Port, _ = strconv.Atoi(port)
	}
	return ci
}

// contributeVarz fills the gateway section of /varz.
func (gw *Gateway) contributeVarz(v *snapshot.Varz) {
	g := snapshot.GatewayOptsVarz{
		Name:           gw.o.Name,
		Host:           gw.o.Host,
		Port:           gw.ln.Addr().(*net.TCPAddr).Port,
		AuthTimeout:    gw.o.AuthTimeout.Seconds(),
		TLSTimeout:     gw.o.TLSTimeout.Seconds(),
		TLSRequired:    gw.o.TLSConfig != nil,
		TLSVerify:      gw.o.TLSConfig != nil,
		Advertise:      gw.o.Advertise,
		ConnectRetries: gw.o.ConnectRetries,
		RejectUnknown:  gw.live().rejectUnknown,
		// The certificate in force (a reload may have changed it).
		TLSCertNotAfter: server.TLSCertNotAfter(gw.live().tls),
	}
	for _, rg := range gw.live().gateways {
		g.Gateways = append(g.Gateways, rg.Name)
	}
	v.Gateway = g
}

// list returns the remote's interest in the account: its subjects, or
// with detail its subscriptions, sorted. n.mu is held.
func (n *noInterest) list(detail bool, cid uint64) ([]string, []snapshot.SubDetail) {
	var subjects []string
	var details []snapshot.SubDetail
	add := func(subject, queue string) {
		if detail {
			details = append(details, snapshot.SubDetail{Subject: subject, Queue: queue, Cid: cid})
		} else {
			subjects = append(subjects, subject)
		}
	}
	for s := range n.isubs {
		add(s, "")
	}
	for k := range n.qsubs {
		s, q, _ := strings.Cut(k, " ")
		add(s, q)
	}
	slices.Sort(subjects)
	slices.SortFunc(details, func(x, y snapshot.SubDetail) int {
		if c := strings.Compare(x.Subject, y.Subject); c != 0 {
			return c
		}
		return strings.Compare(x.Queue, y.Queue)
	})
	if subjects == nil && !detail {
		subjects = []string{}
	}
	if details == nil && detail {
		details = []snapshot.SubDetail{}
	}
	return subjects, details
}
