package jetstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/jetstream/api"
	"natsd.dev/jetstream/internal/stream"
	"natsd.dev/jetstream/store"
	"natsd.dev/jetstream/store/filestore"
	"natsd.dev/jetstream/store/memstore"
	"natsd.dev/server"
)

// account is one account's JetStream: its API session and its streams.
// An account without JetStream still gets an API session, which answers
// "jetstream not enabled for account".
type account struct {
	js      *JetStream
	name    string
	enabled bool
	// limits are the account's limits; replaced when a new account JWT
	// changes them (jwt.go).
	limits atomic.Pointer[api.AccountLimits]
	dir    string
	api    *server.Session

	mu      sync.Mutex // guards streams and the create/delete of streams
	streams map[string]*streamEntry
	// restoring reserves the names of streams being restored
	// (api_snapshot.go): no stream of that name may be created meanwhile.
	restoring map[string]bool
	// list is a copy of streams' values for readers that must not take
	// mu (the publish path's storage check runs under a stream's lock).
	list atomic.Pointer[[]*streamEntry]

	apiTotal, apiErrors atomic.Uint64
	// fast serves DIRECT.GET on the requester's goroutine (serveDirect);
	// nil for an account without JetStream.
	fast   *server.InternalClient
	direct directRunner // batch direct gets in flight
	failed []string     // streams recover could not open (/healthz); set before the account is shared

	xfer transfers // snapshots and restores in progress
}

// streamEntry is a stream and the session that captures its subjects.
type streamEntry struct {
	*stream.Stream
	acc     *account
	storage api.StorageType // fixed for the stream's life
	sess    *server.Session
	subs    []*server.SessionSub
	// sources copy into the stream (its mirror or sources); guarded by
	// the account's mu, as the stream's create, update and delete.
	sources []*sourcer
	cons    consumerSet // the stream's consumers (consumer.go)

	newMu   sync.Mutex
	newCh   chan struct{} // closed at the next stored message; nil if nobody waits
	stopped bool
}

// waitNew returns a channel closed when the stream stores its next
// message (or stops).
func (se *streamEntry) waitNew() <-chan struct{} {
	se.newMu.Lock()
	defer se.newMu.Unlock()
	if se.newCh == nil {
		se.newCh = make(chan struct{})
		if se.stopped {
			close(se.newCh)
		}
	}
	return se.newCh
}

// notifyNew wakes the waiters of waitNew.
func (se *streamEntry) notifyNew() {
	se.newMu.Lock()
	if se.newCh != nil {
		close(se.newCh)
		se.newCh = nil
	}
	se.newMu.Unlock()
}

func (se *streamEntry) isStopped() bool {
	se.newMu.Lock()
	defer se.newMu.Unlock()
	return se.stopped
}

// lim returns the account's current limits.
func (a *account) lim() *api.AccountLimits { return a.limits.Load() }

// streamQueue bounds the messages waiting for a stream's capture: a
// publisher faster than the store is slowed, never answered with a lost
// message. A session's queue grows with its backlog, so an idle stream
// pays for a few slots only; 8192 holds two clients' default async
// publish windows.
const streamQueue = 1 << 13

func (js *JetStream) addAccount(name string, lim api.AccountLimits, on bool) (*account, error) {
	a := &account{js: js, name: name, enabled: on, dir: accountDir(js.dir, name), streams: make(map[string]*streamEntry)}
	a.limits.Store(&lim)
	sess, err := js.srv.Attach(server.SessionOptions{Kind: server.SessionJetStream, Account: name, Name: "JetStream API", QueueLen: 4096})
	if err != nil {
		return nil, fmt.Errorf("jetstream: account %q: %w", name, err)
	}
	a.api = sess
	if on {
		a.cleanRestores()
		if err := a.recover(); err != nil {
			sess.Close()
			return nil, err
		}
	}
	for _, subj := range js.apiSubjects() {
		if _, err := sess.Subscribe(subj, "", a.handleAPI); err != nil {
			a.close()
			return nil, fmt.Errorf("jetstream: account %q: %w", name, err)
		}
	}
	if on {
		if err := a.serveDirect(); err != nil {
			a.close()
			return nil, fmt.Errorf("jetstream: account %q: %w", name, err)
		}
		if err := a.serveDomainStores(); err != nil {
			a.close()
			return nil, fmt.Errorf("jetstream: account %q: %w", name, err)
		}
	}
	js.mu.Lock()
	js.accounts[name] = a
	js.mu.Unlock()
	return a, nil
}

// apiPrefixes are the prefixes the API is served under: $JS.API. and,
// with a domain, $JS.<domain>.API.
func (js *JetStream) apiPrefixes() []string {
	p := []string{"$JS.API."}
	if d := js.opts.Domain; d != "" {
		p = append(p, "$JS."+d+".API.")
	}
	return p
}

// apiSubjects are the subjects the account's API session serves: every
// call but DIRECT.GET, which serveDirect answers on the requester's
// goroutine. A subject outside these gets no responders, as upstream.
func (js *JetStream) apiSubjects() []string {
	var s []string
	for _, p := range js.apiPrefixes() {
		for _, t := range []string{"INFO", "STREAM.>", "CONSUMER.>", "ACCOUNT.>", "META.>", "SERVER.>"} {
			s = append(s, p+t)
		}
	}
	return s
}

func (a *account) close() error {
	if a.fast != nil {
		a.fast.Close()
	}
	a.direct.stop()
	a.xfer.stop()
	a.mu.Lock()
	streams := make([]*streamEntry, 0, len(a.streams))
	for _, s := range a.streams {
		streams = append(streams, s)
	}
	a.streams = map[string]*streamEntry{}
	a.publishListLocked()
	a.mu.Unlock()
	var errs []error
	for _, s := range streams {
		if err := s.stop(false); err != nil {
			errs = append(errs, err)
		}
	}
	if a.api != nil {
		a.api.Close()
	}
	return errors.Join(errs...)
}

// stop unsubscribes the stream and closes (or deletes) it.
func (se *streamEntry) stop(del bool) error {
	se.stopSources()
	se.stopConsumers(del)
	se.sess.Close()
	se.newMu.Lock()
	se.stopped = true
	se.newMu.Unlock()
	se.notifyNew()
	if del {
		return se.Delete()
	}
	return se.Close()
}

func (a *account) streamDir(name string) string { return filepath.Join(a.dir, "streams", name) }

// meta is what a stream keeps beside its messages: its configuration and
// creation time.
type meta struct {
	Config  api.StreamConfig `json:"config"`
	Created time.Time        `json:"created"`
}

const metaFile = "meta.json"

// writeMeta writes the stream's meta file atomically and durably.
func writeMeta(dir string, m meta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	tmp := filepath.Join(dir, metaFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, metaFile)); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// recover opens every stream found in the account's directory.
func (a *account) recover() error {
	root := filepath.Join(a.dir, "streams")
	ents, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		// The account's directory is not one (a file in its place, no
		// permission): the store directory is not usable.
		return fmt.Errorf("%w: account %q: %v", ErrStoreDir, a.name, err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		dir := filepath.Join(root, n)
		b, err := os.ReadFile(filepath.Join(dir, metaFile))
		if err != nil {
			a.js.log.Warn(fmt.Sprintf("  Error recovering stream %q in account %q: %v", n, a.name, err))
			a.failed = append(a.failed, n)
			continue
		}
		var m meta
		if err := json.Unmarshal(b, &m); err != nil {
			a.js.log.Warn(fmt.Sprintf("  Error unmarshalling stream metafile %q: %v", filepath.Join(dir, metaFile), err))
			a.failed = append(a.failed, n)
			continue
		}
		start := time.Now()
		se, err := a.openStream(m.Config, m.Created)
		if err != nil {
			a.js.log.Warn(fmt.Sprintf("  Error recreating stream %q: %v", n, err))
			a.failed = append(a.failed, n)
			continue
		}
		se.recoverConsumers()
		st := se.State()
		a.js.log.Info(fmt.Sprintf("  Restored %s messages for stream '%s > %s' in %v", comma(st.Msgs), a.name, n, time.Since(start).Round(time.Millisecond)))
	}
	return nil
}

func comma(n uint64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// openStream creates (or reopens) the stream of cfg, already normalized,
// and subscribes it to its subjects.
func (a *account) openStream(cfg api.StreamConfig, created time.Time) (*streamEntry, error) {
	return a.openStreamStore(cfg, created, nil)
}

// openStreamStore is openStream with the stream's store already open
// (filled by a restore); nil opens it as openStream does.
func (a *account) openStreamStore(cfg api.StreamConfig, created time.Time, have store.StreamStore) (*streamEntry, error) {
	js := a.js
	dir := a.streamDir(cfg.Name)
	sess, err := js.srv.Attach(server.SessionOptions{Kind: server.SessionJetStream, Account: a.name, Name: "JetStream stream " + cfg.Name, QueueLen: streamQueue, Traced: true, Inline: true})
	if err != nil {
		return nil, err
	}
	open := func(sc store.Config) (store.StreamStore, error) {
		if have != nil {
			if err := have.UpdateConfig(sc); err != nil {
				return nil, err
			}
			return have, nil
		}
		if cfg.Storage == api.MemoryStorage {
			return memstore.New(sc)
		}
		return filestore.Open(filestore.Config{Dir: dir, SyncInterval: js.opts.SyncInterval, FS: storeFS, Compress: cfg.Compression == api.S2Compression}, sc)
	}
	so := stream.Options{
		Domain:     js.opts.Domain,
		Out:        sess,
		AckOnWrite: js.opts.SyncInterval > 0 || cfg.PersistMode == api.AsyncPersistMode,
		Created:    created,
		Admit:      a.admit(cfg.Storage),
	}
	var entry *streamEntry
	so.Interest = func(seq uint64, subject string) bool { return entry != nil && entry.interest(seq, subject) }
	st, err := stream.New(cfg, open, so)
	if err != nil {
		sess.Close()
		return nil, err
	}
	se := &streamEntry{Stream: st, acc: a, sess: sess, storage: cfg.Storage}
	entry = se
	if err := se.subscribe(cfg.Subjects); err != nil {
		se.stop(false)
		return nil, err
	}
	a.mu.Lock()
	a.streams[cfg.Name] = se
	a.publishListLocked()
	se.startSources(&cfg)
	a.mu.Unlock()
	return se, nil
}

// subscribe replaces the stream's capture subscriptions with subjects.
func (se *streamEntry) subscribe(subjects []string) error {
	for _, sub := range se.subs {
		_ = sub.Unsubscribe()
	}
	se.subs = se.subs[:0]
	for _, subj := range subjects {
		sub, err := se.sess.Subscribe(subj, "", se.capture)
		if err != nil {
			return err
		}
		se.subs = append(se.subs, sub)
	}
	return nil
}

func (se *streamEntry) capture(m *server.Msg) {
	if !m.Traced() {
		se.ProcessMsg(string(m.Subject), string(m.Reply), m.Header, m.Data)
		se.notifyNew()
		return
	}
	// Message tracing (ADR-41): the stream reports what it did with the
	// message (trace only: what it would do, without storing it).
	subj := string(m.Subject)
	var errText string
	if !m.TraceOnly() {
		if err := se.ProcessMsg(subj, string(m.Reply), m.Header, m.Data); err != nil {
			errText = err.Description
		}
		se.notifyNew()
	}
	noInterest := errText == "" && se.retention() == api.InterestPolicy && !se.interest(0, subj)
	m.TraceJetStream(se.Name(), subj, noInterest, errText)
}

// usage sums the bytes the account's streams hold, by storage type.
func (a *account) usage() (mem, file uint64) {
	for _, s := range a.streamList() {
		b := s.State().Bytes
		if s.storage == api.MemoryStorage {
			mem += b
		} else {
			file += b
		}
	}
	return mem, file
}

// publishListLocked refreshes list from streams.
func (a *account) publishListLocked() {
	l := make([]*streamEntry, 0, len(a.streams))
	for _, s := range a.streams {
		l = append(l, s)
	}
	sort.Slice(l, func(i, j int) bool { return l[i].Name() < l[j].Name() })
	a.list.Store(&l)
}

// streamList returns the account's streams sorted by name.
func (a *account) streamList() []*streamEntry {
	if l := a.list.Load(); l != nil {
		return *l
	}
	return nil
}

// reserved sums the max_bytes of the account's streams, by storage type.
func (a *account) reservedLocked() (mem, file uint64) {
	for _, s := range a.streams {
		c := s.Config()
		if c.MaxBytes <= 0 {
			continue
		}
		if c.Storage == api.MemoryStorage {
			mem += uint64(c.MaxBytes)
		} else {
			file += uint64(c.MaxBytes)
		}
	}
	return mem, file
}

// admit returns the check a stream of storage t asks before storing a
// message: the account's storage limit of that type. An account built
// from a JWT, whose limits a new JWT may change (jwt.go), is always
// checked against its current limit.
func (a *account) admit(t api.StorageType) func(uint64) *api.Error {
	current := func() int64 {
		if t == api.MemoryStorage {
			return a.lim().MaxMemory
		}
		return a.lim().MaxStore
	}
	_, fromJWT := a.js.srv.JWTAccountJetStream(a.name)
	if !fromJWT && current() <= 0 {
		return nil
	}
	return func(size uint64) *api.Error {
		limit := current()
		if limit == 0 && fromJWT {
			return api.ErrAccountResourcesExceeded // a new JWT allows none
		}
		if limit <= 0 {
			return nil
		}
		mem, file := a.usage()
		used := file
		if t == api.MemoryStorage {
			used = mem
		}
		if used+size > uint64(limit) {
			return api.ErrAccountResourcesExceeded
		}
		return nil
	}
}
