package mondoc

import (
	"cmp"
	"errors"
	"runtime"
	"slices"
	"time"

	"natsd.dev/server/internal/procstat"
	"natsd.dev/server/snapshot"
	"natsd.dev/sublist"
)

// ClientSums are the summed counters of an account's open clients.
type ClientSums struct {
	Conns             int
	InMsgs, InBytes   int64
	OutMsgs, OutBytes int64
}

// AccountUse is what the core copies out of one account for /accstatz:
// its name, the subscriptions of its sublist and its clients' sums (nil
// when it has no open client).
type AccountUse struct {
	Name string
	// NameTag is the name shown next to Name: an operator mode
	// account's JWT name, else Name.
	NameTag string
	NumSubs uint32
	Clients *ClientSums
	// Closed is what the account's closed clients sent and were sent
	// (Conns unused): upstream's account statistics keep it.
	Closed ClientSums
	// Leafs is the number of leaf node connections bound to the account.
	Leafs int
	// In and Out are what the account received and sent over routes,
	// gateways and leaf node connections (in that order); the totals
	// include them, as upstream's.
	In, Out [3]snapshot.MsgBytes
}

// AccountStatz returns the /accstatz document of server id from accs
// (sorted by name): the accounts opts selects (nil means all), those
// without clients or leaf node connections only with IncludeUnused.
func AccountStatz(id string, opts *snapshot.AccountStatzOptions, accs []AccountUse) *snapshot.AccountStatz {
	var o snapshot.AccountStatzOptions
	if opts != nil {
		o = *opts
	}
	az := &snapshot.AccountStatz{ID: id, Now: time.Now().UTC(), Accounts: []*snapshot.AccountStat{}}
	for _, a := range accs {
		if len(o.Accounts) > 0 && !slices.Contains(o.Accounts, a.Name) {
			continue
		}
		cs := a.Clients
		if cs == nil {
			// An account with leaf node connections only is in use.
			if !o.IncludeUnused && a.Leafs == 0 {
				continue
			}
			cs = &ClientSums{}
		}
		az.Accounts = append(az.Accounts, &snapshot.AccountStat{
			Account:    a.Name,
			Name:       cmp.Or(a.NameTag, a.Name),
			Conns:      cs.Conns,
			LeafNodes:  a.Leafs,
			TotalConns: cs.Conns + a.Leafs,
			NumSubs:    a.NumSubs,
			Sent:       linkSplit(cs.OutMsgs+a.Closed.OutMsgs, cs.OutBytes+a.Closed.OutBytes, a.Out),
			Received:   linkSplit(cs.InMsgs+a.Closed.InMsgs, cs.InBytes+a.Closed.InBytes, a.In),
		})
	}
	return az
}

// AccountNames returns the /accountz document of server id (system
// account sys) that lists names.
func AccountNames(id, sys string, names []string) *snapshot.Accountz {
	if names == nil {
		names = []string{}
	}
	return &snapshot.Accountz{ID: id, Now: time.Now().UTC(), SystemAccount: sys, Accounts: names}
}

// AccountDetail returns the /accountz document of server id (system
// account sys) about account name: its sublist statistics st, its
// number of open clients, and updated (the server's start time, as
// accounts are not updated after it).
func AccountDetail(id, sys, name string, st sublist.Stats, conns int, updated time.Time) *snapshot.Accountz {
	az := &snapshot.Accountz{ID: id, Now: time.Now().UTC(), SystemAccount: sys}
	az.Account = &snapshot.AccountInfo{
		AccountName: name,
		LastUpdate:  updated.UTC(),
		Complete:    true,
		ClientCnt:   conns,
		SubCnt:      uint32(st.NumSubs),
		Sublist:     &st,
	}
	return az
}

// FillProcess sets v's process fields: Now, Uptime since start, the
// process's memory and CPU, the cores and GOMAXPROCS.
func FillProcess(v *snapshot.Varz, start time.Time) {
	pcpu, rss := procstat.Usage()
	now := time.Now()
	v.Now = now.UTC()
	v.Uptime = FormatUptime(now.Sub(start))
	v.Mem = rss
	v.CPU = pcpu
	v.Cores = runtime.NumCPU()
	v.MaxProcs = runtime.GOMAXPROCS(0)
}

// Health returns the /healthz status of a server that started (accepts
// connections) and is or is not shutting down, for the options o; check
// asks the health checkers once the server is up. A request naming a
// stream without its account, or a consumer without its stream, is
// answered 400 first, as upstream. A check's *snapshot.HealthError sets
// the status code and the problems; any other error is 503 "unavailable".
func Health(started, shutdown bool, o *snapshot.HealthzOptions, check func() error) *snapshot.HealthStatus {
	if o == nil {
		o = &snapshot.HealthzOptions{}
	}
	bad := func(msg string) *snapshot.HealthStatus {
		return healthFailed(o, "error", 400, snapshot.HealthzError{Type: snapshot.HealthzErrorBadRequest, Error: msg})
	}
	switch {
	case o.Stream != "" && o.Account == "":
		return bad(`"account" must not be empty when checking stream health`)
	case o.Consumer != "" && o.Stream == "":
		return bad(`"stream" must not be empty when checking consumer health`)
	}
	down := func(msg string) *snapshot.HealthStatus {
		return healthFailed(o, "unavailable", 503, snapshot.HealthzError{Type: snapshot.HealthzErrorConn, Error: msg})
	}
	switch {
	case shutdown:
		return down("server is shutting down")
	case !started:
		return down("server is not accepting connections")
	}
	if err := check(); err != nil {
		var he *snapshot.HealthError
		if errors.As(err, &he) && len(he.Errors) > 0 {
			status, code := he.Status, he.StatusCode
			if status == "" {
				status = "unavailable"
			}
			if code == 0 {
				code = 503
			}
			return healthFailed(o, status, code, he.Errors...)
		}
		return healthFailed(o, "unavailable", 503, snapshot.HealthzError{Type: snapshot.HealthzErrorJetStream, Error: err.Error()})
	}
	return &snapshot.HealthStatus{Status: "ok"}
}

// healthFailed is the status of a failed check: the first problem's text,
// or with details every problem and the status "error".
func healthFailed(o *snapshot.HealthzOptions, status string, code int, errs ...snapshot.HealthzError) *snapshot.HealthStatus {
	if o.Details {
		return &snapshot.HealthStatus{Status: "error", StatusCode: code, Errors: errs}
	}
	return &snapshot.HealthStatus{Status: status, StatusCode: code, Error: errs[0].Error}
}

// linkSplit returns the statistics of the clients' msgs and bytes plus
// the links' (routes, gateways, leafs), with the links' apart.
func linkSplit(msgs, bytes int64, links [3]snapshot.MsgBytes) snapshot.DataStats {
	d := snapshot.DataStats{Gateways: &snapshot.MsgBytes{}, Routes: &snapshot.MsgBytes{}, Leafs: &snapshot.MsgBytes{}}
	*d.Routes, *d.Gateways, *d.Leafs = links[0], links[1], links[2]
	d.Msgs, d.Bytes = msgs, bytes
	for _, l := range links {
		d.Msgs += l.Msgs
		d.Bytes += l.Bytes
	}
	return d
}
