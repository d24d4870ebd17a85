package server

import (
	"cmp"
	"runtime"
	"slices"
	"time"

	"natsd.dev/server/internal/mondoc"
	"natsd.dev/server/internal/procstat"
	"natsd.dev/server/snapshot"
	"natsd.dev/sublist"
)

// accountList copies the accounts, sorted by name; Server.mu must not be
// held.
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
	pcpu, rss := procstat.Usage()
	now := time.Now()

	s.mu.Lock()
	o := s.opts
	info := s.info
	conns := len(s.clients)
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
		Start:             s.startTime,
		Now:               now.UTC(),
		Uptime:            mondoc.FormatUptime(now.Sub(s.startTime)),
		Mem:               rss,
		Cores:             runtime.NumCPU(),
		MaxProcs:          runtime.GOMAXPROCS(0),
		CPU:               pcpu,
		Connections:       conns,
		TotalConnections:  uint64(s.stats.TotalConns.Load()),
		InMsgs:            s.stats.InMsgs.Load(),
		OutMsgs:           s.stats.OutMsgs.Load(),
		InBytes:           s.stats.InBytes.Load(),
		OutBytes:          s.stats.OutBytes.Load(),
		SlowConsumers:     s.stats.SlowConsumers.Load(),
		HTTPReqStats:      map[string]uint64{},
		ConfigLoadTime:    s.startTime,
		Tags:              slices.Clone(o.Tags),
		SlowConsumerStats: &snapshot.SlowConsumerStats{Clients: uint64(s.stats.SlowConsumers.Load())},
	}
	for _, a := range s.accountList() {
		v.Subscriptions += uint32(a.NumSubscriptions())
	}
	if t := s.mon().configTime.Load(); t != 0 {
		v.ConfigLoadTime = time.Unix(0, t)
	}
	s.contributeVarz(v)
	return v, nil
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
		mondoc.AddStats(&sz.Stats, a.sl.Stats())
		if !o.Subscriptions {
			continue
		}
		a.sl.All(func(subject, _ string, sub *subscription) bool {
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

// accountCounters are the summed numbers of an account's open clients.
type accountCounters struct {
	conns             int
	inMsgs, inBytes   int64
	outMsgs, outBytes int64
}

// accountCounts sums the open clients per account name. It copies the
// client list under Server.mu and locks each client on its own.
func (s *Server) accountCounts() map[string]*accountCounters {
	s.mu.Lock()
	clients := s.clientsLocked()
	s.mu.Unlock()
	m := make(map[string]*accountCounters)
	for _, c := range clients {
		c.mu.Lock()
		name := c.acc.Name
		outMsgs, outBytes := c.outMsgs, c.outBytes
		c.mu.Unlock()
		ac := m[name]
		if ac == nil {
			ac = &accountCounters{}
			m[name] = ac
		}
		ac.conns++
		ac.inMsgs += c.inMsgsTotal.Load()
		ac.inBytes += c.inBytesTotal.Load()
		ac.outMsgs += outMsgs
		ac.outBytes += outBytes
	}
	return m
}

// Accountz returns the /accountz snapshot: the account names, or with
// opts.Account the details of that account. An unknown account is a
// *MonitorError that wraps ErrUnknownAccount.
func (s *Server) Accountz(opts *snapshot.AccountzOptions) (*snapshot.Accountz, error) {
	az := &snapshot.Accountz{ID: s.id, Now: time.Now().UTC(), SystemAccount: s.systemAccountName()}
	if opts == nil || opts.Account == "" {
		az.Accounts = []string{}
		for _, a := range s.accountList() {
			az.Accounts = append(az.Accounts, a.Name)
		}
		return az, nil
	}
	a := s.LookupAccount(opts.Account)
	if a == nil {
		return nil, &snapshot.MonitorError{Text: "Account " + opts.Account + " does not exist", Err: ErrUnknownAccount}
	}
	st := a.sl.Stats()
	n := 0
	if ac := s.accountCounts()[a.Name]; ac != nil {
		n = ac.conns
	}
	az.Account = &snapshot.AccountInfo{
		AccountName: a.Name,
		LastUpdate:  s.startTime.UTC(),
		Complete:    true,
		ClientCnt:   n,
		SubCnt:      uint32(st.NumSubs),
		Sublist:     &st,
	}
	return az, nil
}

// AccountStatz returns the /accstatz snapshot.
func (s *Server) AccountStatz(opts *snapshot.AccountStatzOptions) (*snapshot.AccountStatz, error) {
	var o snapshot.AccountStatzOptions
	if opts != nil {
		o = *opts
	}
	az := &snapshot.AccountStatz{ID: s.id, Now: time.Now().UTC(), Accounts: []*snapshot.AccountStat{}}
	counts := s.accountCounts()
	for _, a := range s.accountList() {
		if len(o.Accounts) > 0 && !slices.Contains(o.Accounts, a.Name) {
			continue
		}
		ac := counts[a.Name]
		if ac == nil {
			if !o.IncludeUnused {
				continue
			}
			ac = &accountCounters{}
		}
		az.Accounts = append(az.Accounts, &snapshot.AccountStat{
			Account:    a.Name,
			Name:       a.Name,
			Conns:      ac.conns,
			TotalConns: ac.conns,
			NumSubs:    uint32(a.NumSubscriptions()),
			Sent:       snapshot.DataStats{Msgs: ac.outMsgs, Bytes: ac.outBytes},
			Received:   snapshot.DataStats{Msgs: ac.inMsgs, Bytes: ac.inBytes},
		})
	}
	return az, nil
}

// Healthz returns the /healthz status: "ok" while the server accepts
// connections and every registered HealthChecker (JetStream's, for
// instance) is content; "unavailable" with status code 503 otherwise.
// Without a HealthChecker the JetStream options change nothing, as
// upstream when JetStream is not configured.
func (s *Server) Healthz(opts *snapshot.HealthzOptions) *snapshot.HealthStatus {
	s.mu.Lock()
	started, shutdown := s.started, s.shutdown
	s.mu.Unlock()
	switch {
	case shutdown:
		return &snapshot.HealthStatus{Status: "unavailable", StatusCode: 503, Error: "server is shutting down"}
	case !started:
		return &snapshot.HealthStatus{Status: "unavailable", StatusCode: 503, Error: "server is not accepting connections"}
	}
	if opts == nil {
		opts = &snapshot.HealthzOptions{}
	}
	if err := s.checkHealth(opts); err != nil {
		return &snapshot.HealthStatus{Status: "unavailable", StatusCode: 503, Error: err.Error()}
	}
	return &snapshot.HealthStatus{Status: "ok"}
}
