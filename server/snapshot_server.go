package server

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"maps"
	"math"
	"runtime/debug"
	"slices"
	"sync/atomic"
	"time"

	"natsd.dev/server/internal/mondoc"
	"natsd.dev/server/snapshot"
	"natsd.dev/sublist"
)

// accountList copies the accounts, sorted by name; Server.mu must not be
// held.
// AccountNames returns the names of the server's accounts, sorted.
func (s *Server) AccountNames() []string {
	accs := s.accountList()
	names := make([]string, len(accs))
	for i, a := range accs {
		names[i] = a.Name
	}
	return names
}

func (s *Server) accountList() []*Account {
	s.mu.Lock()
	accs := make([]*Account, 0, len(s.accounts))
	for _, a := range s.accounts {
		accs = append(accs, a)
	}
	s.mu.Unlock()
	slices.SortFunc(accs, func(a, b *Account) int { return cmp.Compare(a.Name, b.Name) })
	return accs
}

// Varz returns the /varz snapshot: the core's fields, then the sections
// of the registered varz contributors (RegisterVarz). The HTTP fields
// (http_host, http_port, http_base_path, https_port, http_req_stats)
// belong to the monitor's "http" contributor; without a monitor they are
// zero and http_req_stats is empty.
func (s *Server) Varz(_ *snapshot.VarzOptions) (*snapshot.Varz, error) {
	s.mu.Lock()
	o := s.opts
	info := s.info
	conns := len(s.clients) + s.sessClients
	s.mu.Unlock()

	v := &snapshot.Varz{
		SystemAccount:     s.systemAccountName(),
		ID:                info.ID,
		Name:              info.Name,
		Version:           info.Version,
		Proto:             info.Proto,
		GitCommit:         info.GitCommit,
		GoVersion:         info.GoVersion,
		Host:              info.Host,
		Port:              info.Port,
		AuthRequired:      info.AuthRequired,
		TLSRequired:       info.TLSRequired,
		TLSVerify:         info.TLSVerify,
		TLSTimeout:        o.TLSTimeout.Seconds(),
		IP:                info.IP,
		ClientConnectURLs: slices.Clone(info.ClientConnectURLs),
		WSConnectURLs:     slices.Clone(info.WSConnectURLs),
		MaxConn:           o.MaxConn,
		MaxSubs:           o.MaxSubs,
		PingInterval:      o.PingInterval,
		MaxPingsOut:       o.MaxPingsOut,
		AuthTimeout:       o.AuthTimeout.Seconds(),
		MaxControlLine:    o.MaxControlLine,
		MaxPayload:        int(o.MaxPayload),
		MaxPending:        o.MaxPending,
		WriteDeadline:     o.WriteDeadline,
		WriteTimeout:      o.WriteTimeout,
		GoMemLimit:        goMemLimit(),
		StaleConnections:  s.stats.StaleConns.Load(),
		StalledClients:    s.stats.Stalls.Load(),
		ConfigDigest:      o.ConfigDigest,
		Metadata:          maps.Clone(o.Metadata),
		FeatureFlags:      featureFlags(o.FeatureFlags),
		DiskIOWaitStats:   &snapshot.DiskIOWaitStats{},
		TLSCertNotAfter:   TLSCertNotAfter(o.TLSConfig),
		Start:             s.startTime,
		Connections:       conns,
		TotalConnections:  uint64(s.stats.TotalConns.Load()),
		InMsgs:            s.stats.InMsgs.Load(),
		OutMsgs:           s.stats.OutMsgs.Load(),
		InBytes:           s.stats.InBytes.Load(),
		OutBytes:          s.stats.OutBytes.Load(),
		InClientMsgs:      s.stats.InClientMsgs.Load(),
		InClientBytes:     s.stats.InClientBytes.Load(),
		OutClientMsgs:     s.stats.OutClientMsgs.Load(),
		OutClientBytes:    s.stats.OutClientBytes.Load(),
		SlowConsumers:     s.stats.SlowConsumers.Load(),
		HTTPReqStats:      map[string]uint64{},
		ConfigLoadTime:    s.startTime,
		Tags:              slices.Clone(o.Tags),
		SlowConsumerStats: byKind(&s.stats.slowByKind),
		StaleConnStats:    byKind(&s.stats.staleByKind),
	}
	v.Unauthenticated = s.unauthVarz()
	mondoc.FillProcess(v, s.startTime)
	for _, a := range s.accountList() {
		v.Subscriptions += uint32(s.accountSubscriptions(a))
	}
	if t := s.mon().configTime.Load(); t != 0 {
		v.ConfigLoadTime = time.Unix(0, t)
	}
	s.contributeVarz(v)
	return v, nil
}

// byKind returns per-kind counts as /varz's slow_consumer_stats and
// stale_connection_stats show them.
func byKind(a *[numConnKinds]atomic.Int64) *snapshot.KindStats {
	return &snapshot.KindStats{
		Clients:  uint64(a[ConnClient].Load() + a[ConnInProcess].Load()),
		Routes:   uint64(a[ConnRoute].Load()),
		Gateways: uint64(a[ConnGateway].Load()),
		Leafs:    uint64(a[ConnLeaf].Load()),
	}
}

// TLSCertNotAfter returns when the first certificate of c expires, nil
// without one: the tls_cert_not_after of a listener's /varz section.
func TLSCertNotAfter(c *tls.Config) *time.Time {
	if c == nil || len(c.Certificates) == 0 {
		return nil
	}
	cert := &c.Certificates[0]
	leaf := cert.Leaf
	if leaf == nil && len(cert.Certificate) > 0 {
		var err error
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil
		}
	}
	if leaf == nil {
		return nil
	}
	t := leaf.NotAfter.UTC()
	return &t
}

// goMemLimit returns the Go runtime's memory limit (GOMEMLIMIT), 0 when
// there is none, as /varz's gomemlimit.
func goMemLimit() int64 {
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		return l
	}
	return 0
}

// Subsz returns the /subsz snapshot. Errors are *MonitorError.
func (s *Server) Subsz(opts *snapshot.SubszOptions) (*snapshot.Subsz, error) {
	o, err := mondoc.SubszOptions(opts, DefaultSubListSize)
	if err != nil {
		return nil, err
	}
	sz := &snapshot.Subsz{ID: s.id, Now: time.Now().UTC(), Offset: o.Offset, Limit: o.Limit}
	type found struct {
		acc *Account
		sub *subscription
	}
	var subs []found
	for _, a := range s.accountList() {
		if o.Account != "" && a.Name != o.Account {
			continue
		}
		mondoc.AddStats(&sz.Stats, s.accountStats(a))
		if !o.Subscriptions {
			continue
		}
		a.sl.All(func(subject, _ string, sub *subscription) bool {
			if sub.remote != nil && sub.remote.link.kind == ConnGateway {
				return true // upstream keeps gateways' interest apart
			}
			if o.Test == "" || sublist.SubjectMatchesFilter(o.Test, subject) {
				subs = append(subs, found{a, sub})
			}
			return true
		})
	}
	if !o.Subscriptions {
		return sz, nil
	}
	details := make([]snapshot.SubDetail, 0, len(subs))
	for _, f := range subs {
		sub := f.sub
		sd := snapshot.SubDetail{Account: f.acc.Name, Subject: sub.subject, Queue: sub.queue, Sid: string(sub.sid)}
		if c := sub.client; c != nil {
			sd.Cid = c.cid
			c.mu.Lock()
			sd.Msgs, sd.Max = sub.delivered, sub.max
			c.mu.Unlock()
		}
		details = append(details, sd)
	}
	mondoc.PageSubs(sz, details)
	return sz, nil
}

// Routez returns the /routez snapshot from the ROUTEZ provider (see
// RegisterProvider): without one, a document without routes.
func (s *Server) Routez(opts *snapshot.RoutezOptions) (*snapshot.Routez, error) {
	d, err := s.Snapshot(KindRoutez, opts)
	if err != nil {
		return nil, err
	}
	rz, ok := d.(*snapshot.Routez)
	if !ok || rz == nil {
		return nil, ErrWrongType
	}
	return rz, nil
}

// accountCounts sums the open clients per account name. It copies the
// client list under Server.mu and locks each client on its own.
func (s *Server) accountCounts() map[string]*mondoc.ClientSums {
	m, _ := s.accountTraffic()
	return m
}

// accountTraffic returns accountCounts and, read at the same time under
// Server.mu, what each account's closed clients sent and were sent.
func (s *Server) accountTraffic() (map[string]*mondoc.ClientSums, map[string]mondoc.ClientSums) {
	s.mu.Lock()
	clients := s.clientSessionsLocked(s.clientsLocked())
	closed := make(map[string]mondoc.ClientSums, len(s.accounts))
	for _, a := range s.accounts {
		cl := &a.closed
		closed[a.Name] = mondoc.ClientSums{InMsgs: cl.inMsgs.Load(), InBytes: cl.inBytes.Load(), OutMsgs: cl.outMsgs.Load(), OutBytes: cl.outBytes.Load()}
	}
	s.mu.Unlock()
	m := make(map[string]*mondoc.ClientSums)
	for _, c := range clients {
		c.mu.Lock()
		name := c.acc.Name
		outMsgs, outBytes := c.outMsgs, c.outBytes
		c.mu.Unlock()
		cs := m[name]
		if cs == nil {
			cs = &mondoc.ClientSums{}
			m[name] = cs
		}
		cs.Conns++
		cs.InMsgs += c.inMsgsTotal.Load()
		cs.InBytes += c.inBytesTotal.Load()
		cs.OutMsgs += outMsgs
		cs.OutBytes += outBytes
	}
	return m, closed
}

// Accountz returns the /accountz snapshot: the account names, or with
// opts.Account the details of that account. An unknown account is a
// *MonitorError that wraps ErrUnknownAccount.
func (s *Server) Accountz(opts *snapshot.AccountzOptions) (*snapshot.Accountz, error) {
	if opts == nil || opts.Account == "" {
		var names []string
		for _, a := range s.accountList() {
			names = append(names, a.Name)
		}
		return mondoc.AccountNames(s.id, s.systemAccountName(), names), nil
	}
	a := s.LookupAccount(opts.Account)
	if a == nil {
		return nil, &snapshot.MonitorError{Text: "Account " + opts.Account + " does not exist", Err: ErrUnknownAccount}
	}
	n := 0
	if cs := s.accountCounts()[a.Name]; cs != nil {
		n = cs.Conns
	}
	az := mondoc.AccountDetail(s.id, s.systemAccountName(), a.Name, s.accountStats(a), n, s.startTime)
	info := az.Account
	info.LeafCnt = a.NumLeafNodes()
	info.Expired = s.jwtExpired(a.Name)
	info.IsSystem = a == s.sysAcc
	s.accountLinksInfo(a, info)
	s.accountJWTInfo(a.Name, info)
	return az, nil
}

// accountSubscriptions counts a's subscriptions as upstream's monitoring
// does (/varz and statsz subscriptions, /accstatz num_subscriptions,
// /accountz subscriptions): its service imports are subscriptions in
// upstream's sublist, so they count; a deleted JWT account's are dropped
// until its JWT comes back, as upstream's.
func (s *Server) accountSubscriptions(a *Account) int {
	if s.jwtDeleted(a.Name) {
		return a.NumSubscriptions()
	}
	return a.numSubscriptionsUpstream()
}

// accountStats returns the statistics of a's subscription list as
// upstream's monitoring shows them (/subsz, /accountz sublist_stats):
// without gateways' interest, with the service imports that upstream's
// sublist holds counted as subscriptions inserted.
func (s *Server) accountStats(a *Account) sublist.Stats {
	st := a.visibleStats()
	imports := s.accountSubscriptions(a) - a.NumSubscriptions()
	st.NumSubs += imports
	st.NumInserts += uint64(imports)
	return st
}

// accountNameTag is the name upstream shows next to an account's key
// (/accstatz name, /accountz name_tag): the name in an operator mode
// account's JWT, the account's own name otherwise.
func (s *Server) accountNameTag(name string) string {
	if s.op != nil {
		if ac := s.op.cached(name); ac != nil && ac.Name != "" {
			return ac.Name
		}
	}
	return name
}

// AccountStatz returns the /accstatz snapshot.
func (s *Server) AccountStatz(opts *snapshot.AccountStatzOptions) (*snapshot.AccountStatz, error) {
	counts, closed := s.accountTraffic()
	accs := s.accountList()
	use := make([]mondoc.AccountUse, len(accs))
	for i, a := range accs {
		n := s.accountSubscriptions(a)
		use[i] = mondoc.AccountUse{Name: a.Name, NameTag: s.accountNameTag(a.Name), NumSubs: uint32(n), Clients: counts[a.Name], Closed: closed[a.Name], Leafs: a.NumLeafNodes()}
		for k := range a.traffic {
			t := &a.traffic[k]
			use[i].In[k] = snapshot.MsgBytes{Msgs: t.inMsgs.Load(), Bytes: t.inBytes.Load()}
			use[i].Out[k] = snapshot.MsgBytes{Msgs: t.outMsgs.Load(), Bytes: t.outBytes.Load()}
		}
	}
	return mondoc.AccountStatz(s.id, opts, use), nil
}

// Healthz returns the /healthz status: "ok" while the server accepts
// connections and every registered HealthChecker (JetStream's, for
// instance) is content; "unavailable" with status code 503 otherwise, or
// the code and problems of the checker's *snapshot.HealthError (404 for
// an account or stream opts names that does not exist). A stream without
// its account, or a consumer without its stream, is a bad request (400,
// "error"). With opts.Details the problems are listed in Errors. Without
// a HealthChecker the JetStream options change nothing, as upstream when
// JetStream is not configured.
func (s *Server) Healthz(opts *snapshot.HealthzOptions) *snapshot.HealthStatus {
	s.mu.Lock()
	started, shutdown := s.started, s.shutdown
	s.mu.Unlock()
	if opts == nil {
		opts = &snapshot.HealthzOptions{}
	}
	return mondoc.Health(started, shutdown, opts, func() error { return s.checkHealth(opts) })
}
