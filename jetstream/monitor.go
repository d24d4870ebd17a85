package jetstream

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"natsd.dev/jetstream/api"
	"natsd.dev/jetstream/store/filestore"
	"natsd.dev/server"
	"natsd.dev/server/snapshot"
)

// JetStream's monitoring: the JSZ provider (/jsz and $SYS.REQ.SERVER.*.JSZ
// answer from it), the "jetstream" section of /varz and the /healthz
// checks of streams, all registered in the server's monitoring registry
// from Start until Shutdown. The monitor module renders them, and its
// /metrics reads the per-stream gauges from the same JSZ documents.

// storeFS is the file system of the file stores; nil is the operating
// system's. Tests swap it to inject write errors.
var storeFS filestore.FS

// monitoredConsumer is what /jsz and /healthz need of a consumer.
type monitoredConsumer interface {
	Name() string
	// MonitorInfo returns the consumer's information (upstream's
	// ConsumerInfo, rendered as JSON), with its configuration when
	// config is set.
	MonitorInfo(config bool) any
	// Healthy returns nil, or why the consumer cannot deliver.
	Healthy() error
}

// streamConsumers lists a stream's consumers for /jsz consumer_detail and
// /healthz; the consumer code of the package sets it in an init, so that
// this file needs no change when consumers arrive. nil lists none.
var streamConsumers func(se *streamEntry) []monitoredConsumer

// jszProvider is the JSZ provider with the HealthChecker capability.
type jszProvider struct {
	server.Provider
	js *JetStream
}

func (p jszProvider) CheckHealth(o *snapshot.HealthzOptions) error { return p.js.checkHealth(o) }

// registerMonitoring registers the jsz provider, the varz section and the
// health checker.
func (js *JetStream) registerMonitoring() {
	js.srv.RegisterProvider(server.KindJsz, jszProvider{Provider: server.ProviderFunc(js.jsz), js: js})
	js.srv.RegisterVarz("jetstream", server.VarzFunc(js.contributeVarz))
}

// unregisterMonitoring removes what registerMonitoring registered.
func (js *JetStream) unregisterMonitoring() {
	js.srv.RegisterProvider(server.KindJsz, nil)
	js.srv.RegisterVarz("jetstream", nil)
}

// configDoc is the configuration part of /jsz and /varz.
func (js *JetStream) configDoc() snapshot.JetStreamConfig {
	o := &js.opts
	c := snapshot.JetStreamConfig{
		MaxMemory: js.maxMemory.Load(), MaxStore: js.maxStore.Load(), StoreDir: js.dir,
		Domain: o.Domain, UniqueTag: o.UniqueTag, Strict: !o.NonStrict,
	}
	// natsd's default is an fsync behind every acknowledgement, which
	// upstream calls sync_interval: always.
	if o.SyncInterval > 0 {
		c.SyncInterval = o.SyncInterval
	} else {
		c.SyncAlways = true
	}
	return c
}

func (js *JetStream) limitsDoc() *snapshot.JSLimitOpts {
	l := js.serverLimits()
	return &snapshot.JSLimitOpts{
		MaxRequestBatch: l.MaxRequestBatch, MaxAckPending: l.MaxAckPending,
		MaxHAAssets: l.MaxHAAssets, Duplicates: l.Duplicates,
	}
}

// stats sums the usage of accs (the server's JetStream accounts).
func (js *JetStream) stats(accs []*account) snapshot.JetStreamStats {
	st := snapshot.JetStreamStats{
		Accounts: len(accs),
		API:      snapshot.JetStreamAPIStats{Level: APILevel, Total: js.apiTotal.Load(), Errors: js.apiErrors.Load()},
	}
	for _, a := range accs {
		as := a.stats()
		st.Memory += as.Memory
		st.Store += as.Store
		st.ReservedMemory += as.ReservedMemory
		st.ReservedStore += as.ReservedStore
	}
	return st
}

// stats is the account's usage, as its AccountDetail shows it.
func (a *account) stats() snapshot.JetStreamStats {
	mem, file := a.usage()
	a.mu.Lock()
	rmem, rfile := a.reservedLocked()
	a.mu.Unlock()
	return snapshot.JetStreamStats{
		Memory: mem, Store: file, ReservedMemory: rmem, ReservedStore: rfile,
		API: snapshot.JetStreamAPIStats{Level: APILevel, Total: a.apiTotal.Load(), Errors: a.apiErrors.Load()},
	}
}

// sortedAccounts returns the JetStream accounts sorted by name.
func (js *JetStream) sortedAccounts() []*account {
	accs := js.accountList()
	slices.SortFunc(accs, func(x, y *account) int { return strings.Compare(x.name, y.name) })
	return accs
}

// contributeVarz fills the "jetstream" section of /varz.
func (js *JetStream) contributeVarz(v *snapshot.Varz) {
	v.JetStream.Config = rawJSON(js.configDoc())
	v.JetStream.Stats = rawJSON(js.stats(js.accountList()))
	v.JetStream.Limits = rawJSON(js.limitsDoc())
}

// jsz answers the JSZ kind: the server's totals, and the account details
// the options ask for (see snapshot.JszOptions). It never changes o.
func (js *JetStream) jsz(o *snapshot.JszOptions) (*snapshot.JSInfo, error) {
	opts := *o
	if opts.Consumers {
		opts.Streams = true
	}
	if opts.Streams && opts.Account == "" {
		opts.Accounts = true
	}
	accs := js.sortedAccounts()
	info := &snapshot.JSInfo{
		JetStreamStats: js.stats(accs),
		ID:             js.srv.ID(),
		Now:            time.Now().UTC(),
		Config:         js.configDoc(),
		Limits:         js.limitsDoc(),
		Total:          len(accs),
	}
	for _, a := range accs {
		for _, se := range a.streamList() {
			st := se.State()
			info.Streams++
			info.Consumers += se.numConsumers()
			info.Messages += st.Msgs
			info.Bytes += st.Bytes
		}
	}
	// An account that is not here gets no details, whatever else is
	// asked (upstream since 2.10.13).
	var sel []*account
	switch {
	case opts.Account != "":
		if i := slices.IndexFunc(accs, func(a *account) bool { return a.name == opts.Account }); i >= 0 {
			sel = accs[i : i+1]
		}
	case opts.Accounts:
		sel = accs[min(max(opts.Offset, 0), len(accs)):]
		if opts.Limit > 0 && opts.Limit < len(sel) {
			sel = sel[:opts.Limit]
		}
	}
	for _, a := range sel {
		info.AccountDetails = append(info.AccountDetails, a.detail(&opts))
	}
	return info, nil
}

// detail is the account's AccountDetail, with its streams when o asks.
func (a *account) detail(o *snapshot.JszOptions) *snapshot.AccountDetail {
	d := &snapshot.AccountDetail{Name: a.name, ID: a.name, JetStreamStats: a.stats()}
	if !o.Streams {
		return d
	}
	for _, se := range a.streamList() {
		d.Streams = append(d.Streams, se.detail(o))
	}
	return d
}

// detail is the stream's StreamDetail: its configuration when o.Config,
// its consumers when o.Consumers.
func (se *streamEntry) detail(o *snapshot.JszOptions) snapshot.StreamDetail {
	si, _, _ := se.info(nil)
	sd := snapshot.StreamDetail{
		Name:    si.Config.Name,
		Created: si.Created.UTC(),
		// A single server leads all its streams.
		Cluster: rawJSON(&api.ClusterInfo{Leader: se.acc.js.srv.Name()}),
		State:   si.State,
	}
	if o.Config {
		sd.Config = rawJSON(&si.Config)
	}
	if o.Consumers && streamConsumers != nil {
		for _, c := range streamConsumers(se) {
			sd.Consumers = append(sd.Consumers, rawJSON(c.MonitorInfo(o.Config)))
		}
	}
	return sd
}

// checkHealth is JetStream's part of /healthz. With js-enabled-only (or
// js-enabled) or js-server-only JetStream is healthy once it runs.
// js-meta-only asks only for the meta group, which a single server does
// not have: the checks go on as without it, as upstream's. Otherwise
// every stream (of the account, or the one stream, the options name) must
// have been recovered and have a usable store, and each of its consumers
// must be healthy; an account, stream or consumer the options name that
// does not exist is a 404, with upstream's texts.
func (js *JetStream) checkHealth(o *snapshot.HealthzOptions) error {
	if o.JSEnabledOnly || o.JSEnabled || o.JSServerOnly {
		return nil
	}
	accs := js.sortedAccounts()
	if o.Account != "" {
		a := js.account(o.Account)
		if a == nil {
			return notFound(snapshot.HealthzError{Type: snapshot.HealthzErrorAccount, Account: o.Account,
				Error: fmt.Sprintf("JetStream account %q not found", o.Account)})
		}
		accs = []*account{a}
	}
	var errs []snapshot.HealthzError
	for _, a := range accs {
		if o.Stream == "" {
			for _, n := range a.failed {
				if a.stillFailed(n) {
					errs = append(errs, unrecovered(a.name, n))
				}
			}
			for _, se := range a.streamList() {
				errs = append(errs, se.checkHealth("")...)
			}
			continue
		}
		se := a.lookupStream(o.Stream)
		if se == nil {
			if a.stillFailed(o.Stream) {
				return &snapshot.HealthError{Errors: []snapshot.HealthzError{unrecovered(a.name, o.Stream)}}
			}
			return notFound(snapshot.HealthzError{Type: snapshot.HealthzErrorStream, Account: a.name, Stream: o.Stream,
				Error: fmt.Sprintf("JetStream stream %q not found on account %q", o.Stream, a.name)})
		}
		if o.Consumer != "" && se.consumer(o.Consumer) == nil {
			return notFound(snapshot.HealthzError{Type: snapshot.HealthzErrorConsumer, Account: a.name, Stream: o.Stream, Consumer: o.Consumer,
				Error: fmt.Sprintf("JetStream consumer %q not found for stream %q on account %q", o.Consumer, o.Stream, a.name)})
		}
		errs = append(errs, se.checkHealth(o.Consumer)...)
	}
	if len(errs) > 0 {
		return &snapshot.HealthError{Errors: errs}
	}
	return nil
}

func notFound(e snapshot.HealthzError) error {
	return &snapshot.HealthError{StatusCode: 404, Errors: []snapshot.HealthzError{e}}
}

func unrecovered(acc, stream string) snapshot.HealthzError {
	return snapshot.HealthzError{Type: snapshot.HealthzErrorStream, Account: acc, Stream: stream,
		Error: fmt.Sprintf("JetStream stream '%s > %s' could not be recovered", acc, stream)}
}

// checkHealth returns the stream's problems: a store that failed a write
// (and so refuses more), and unhealthy consumers (only the one named
// consumer when it is not "").
func (se *streamEntry) checkHealth(consumer string) []snapshot.HealthzError {
	acc, name := se.acc.name, se.Name()
	var errs []snapshot.HealthzError
	if s, ok := se.Store().(interface{ Err() error }); ok {
		if err := s.Err(); err != nil {
			errs = append(errs, snapshot.HealthzError{Type: snapshot.HealthzErrorStream, Account: acc, Stream: name,
				Error: fmt.Sprintf("JetStream stream '%s > %s' is not current: %v", acc, name, err)})
		}
	}
	if streamConsumers == nil {
		return errs
	}
	for _, c := range streamConsumers(se) {
		if consumer != "" && c.Name() != consumer {
			continue
		}
		if err := c.Healthy(); err != nil {
			errs = append(errs, snapshot.HealthzError{Type: snapshot.HealthzErrorConsumer, Account: acc, Stream: name, Consumer: c.Name(),
				Error: fmt.Sprintf("JetStream consumer '%s > %s > %s' is not current: %v", acc, name, c.Name(), err)})
		}
	}
	return errs
}

// stillFailed reports whether the stream name failed recovery and was
// neither created again nor deleted since.
func (a *account) stillFailed(name string) bool {
	if !slices.Contains(a.failed, name) || a.lookupStream(name) != nil {
		return false
	}
	_, err := os.Stat(a.streamDir(name))
	return err == nil
}

// lookupStream returns the account's stream name, nil if it has none.
func (a *account) lookupStream(name string) *streamEntry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.streams[name]
}

// consumer returns the stream's consumer name, nil if it has none.
func (se *streamEntry) consumer(name string) monitoredConsumer {
	if streamConsumers == nil {
		return nil
	}
	for _, c := range streamConsumers(se) {
		if c.Name() == name {
			return c
		}
	}
	return nil
}

// rawJSON marshals v, a document of this module's own types.
func rawJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		// Our documents always marshal; say so rather than hide it.
		b, _ = json.Marshal(map[string]string{"error": err.Error()})
	}
	return b
}
