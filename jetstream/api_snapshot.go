package jetstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"natsd.dev/jetstream/api"
	"natsd.dev/jetstream/internal/hdr"
	"natsd.dev/jetstream/internal/snapshot"
	"natsd.dev/jetstream/internal/stream"
	"natsd.dev/jetstream/store"
	"natsd.dev/jetstream/store/filestore"
	"natsd.dev/jetstream/store/memstore"
	"natsd.dev/server"
	"natsd.dev/sublist"
)

// STREAM.SNAPSHOT and STREAM.RESTORE, as nats-server 2.15 serves them
// ("Stream Backup and Restore V2"): the archive is NATSARC1 (package
// internal/snapshot), sent in acknowledged chunks and received as
// requests, one reply per chunk.
//
// Snapshot: the API answers {config, state}; the chunks then go to the
// request's deliver_subject, each with a reply subject
// $JS.SNAPSHOT.ACK.<stream>.<id>.<size>.<n> the client answers to let
// another chunk go (window_size/chunk_size chunks may await their ack).
// An empty message ends the transfer: status 204 when it succeeded, 408
// "No Interest" or "No Flow Response", or 500 with the reason.
//
// Restore: the API answers {deliver_subject: $JS.SNAPSHOT.RESTORE.<stream>.<id>};
// the client sends the archive there as requests, each answered with an
// empty message, and an empty request to end, answered with a
// stream_create_response. Messages are stored as they arrive into a store
// that is not a stream yet; the stream exists only once the whole archive
// was read and checked, so a failed restore leaves nothing behind.

func init() {
	extraRoutes = append(extraRoutes,
		route{"STREAM.SNAPSHOT.", true, api.TypeStreamSnapshotResponse, (*apiCall).streamSnapshot},
		route{"STREAM.RESTORE.", true, api.TypeStreamRestoreResponse, (*apiCall).streamRestore},
	)
}

// Subjects and advisory types of snapshots and restores.
const (
	snapAckPrefix     = "$JS.SNAPSHOT.ACK."
	restorePrefix     = "$JS.SNAPSHOT.RESTORE."
	snapCreateType    = "io.nats.jetstream.advisory.v1.snapshot_create"
	snapCompleteType  = "io.nats.jetstream.advisory.v1.snapshot_complete"
	restoreCreateType = "io.nats.jetstream.advisory.v1.restore_create"
	restoreDoneType   = "io.nats.jetstream.advisory.v1.restore_complete"
)

// Chunk and window sizes, as upstream clamps them.
const (
	defaultChunk, minChunk, maxChunk    = 128 << 10, 1 << 10, 1 << 20
	defaultWindow, minWindow, maxWindow = 8 << 20, 1 << 10, 32 << 20
)

// Timeouts of the transfers (variables for tests).
var (
	// snapInterestWait is how long a snapshot waits for the client to
	// subscribe to the deliver subject.
	snapInterestWait = 2 * time.Second
	// snapFlowTimeout is how long a snapshot waits for an ack, counted
	// from the last chunk it sent.
	snapFlowTimeout = 5 * time.Second
	// restoreIdle ends a restore whose client sent nothing for so long.
	restoreIdle = 5 * time.Second
)

// restoreDir holds, inside an account's directory, the stores of the
// restores in progress; it is emptied when the account starts.
const restoreDir = "_restore"

var (
	errNoInterest = errors.New("no interest")
	errNoFlow     = errors.New("no flow response")
	errStopped    = errors.New("jetstream shutting down")
	errIdle       = errors.New("restore timed out")
)

// transfers tracks an account's snapshots and restores, so that closing
// the account stops them and waits for them. The zero value is ready.
type transfers struct {
	mu     sync.Mutex
	quit   chan struct{} // closed by stop
	closed bool
	wg     sync.WaitGroup
}

// start registers a transfer; it returns the channel closed when the
// account closes, or false if it already has.
func (t *transfers) start() (<-chan struct{}, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, false
	}
	if t.quit == nil {
		t.quit = make(chan struct{})
	}
	t.wg.Add(1)
	return t.quit, true
}

func (t *transfers) done() { t.wg.Done() }

func (t *transfers) stop() {
	t.mu.Lock()
	if !t.closed {
		t.closed = true
		if t.quit == nil {
			t.quit = make(chan struct{})
		}
		close(t.quit)
	}
	t.mu.Unlock()
	t.wg.Wait()
}

// Advisories.
type snapCreateAdvisory struct {
	event
	Stream string          `json:"stream"`
	State  api.StreamState `json:"state"`
	Client clientInfo      `json:"client"`
	Domain string          `json:"domain,omitempty"`
}

type snapCompleteAdvisory struct {
	event
	Stream string     `json:"stream"`
	Start  time.Time  `json:"start"`
	End    time.Time  `json:"end"`
	Client clientInfo `json:"client"`
	Domain string     `json:"domain,omitempty"`
	Error  string     `json:"error,omitempty"`
}

type restoreCreateAdvisory struct {
	event
	Stream string     `json:"stream"`
	Client clientInfo `json:"client"`
	Domain string     `json:"domain,omitempty"`
}

type restoreCompleteAdvisory struct {
	event
	Stream string     `json:"stream"`
	Start  time.Time  `json:"start"`
	End    time.Time  `json:"end"`
	Bytes  int64      `json:"bytes"`
	Client clientInfo `json:"client"`
	Domain string     `json:"domain,omitempty"`
}

func (c *apiCall) client() clientInfo {
	return clientInfo{Account: c.acc.name, User: c.req.User, Server: c.acc.js.srv.Name()}
}

func clamp(v, def, lo, hi int) int {
	if v <= 0 {
		return def
	}
	return min(max(v, lo), hi)
}

// ---- snapshot ----

func (c *apiCall) streamSnapshot(name string) {
	const rt = api.TypeStreamSnapshotResponse
	if len(strings.TrimSpace(string(c.data))) == 0 {
		c.fail(rt, api.ErrBadRequest)
		return
	}
	se := c.lookup(rt, name)
	if se == nil {
		return
	}
	var req api.SnapshotRequest
	if e := c.decode(&req); e != nil {
		c.fail(rt, e)
		return
	}
	if !sublist.ValidLiteralSubject(req.DeliverSubject) {
		c.fail(rt, api.ErrSnapshotDeliverSubjectInvalid)
		return
	}
	a := c.acc
	js := a.js
	chunk := clamp(req.ChunkSize, defaultChunk, minChunk, maxChunk)
	if mp := int(js.srv.Options().MaxPayload); mp > 0 && chunk > mp {
		chunk = mp
	}
	window := max(clamp(req.WindowSize, defaultWindow, minWindow, maxWindow), chunk)
	quit, ok := a.xfer.start()
	if !ok {
		c.fail(rt, api.ErrStreamSnapshot.WithErr(errStopped))
		return
	}
	j := &snapshotJob{
		acc: a, se: se, deliver: req.DeliverSubject, chunk: chunk, credit: uint64(window / chunk),
		ackPrefix: snapAckPrefix + name + "." + newID(), quit: quit, client: c.client(),
		signal: make(chan struct{}, 1), start: time.Now().UTC(),
	}
	sess, err := js.srv.Attach(server.SessionOptions{Kind: server.SessionJetStream, Account: a.name, Name: "JetStream snapshot " + name})
	if err == nil {
		j.sess = sess
		if _, err = sess.Subscribe(j.ackPrefix+".>", "", j.onAck); err != nil {
			sess.Close()
		}
	}
	if err != nil {
		a.xfer.done()
		c.fail(rt, api.ErrStreamSnapshot.WithErr(err))
		return
	}
	si, _, _ := se.info(nil)
	j.state = si.State
	if !req.NoConsumers {
		j.consumers = se.archiveConsumers()
	}
	j.state.Consumers = len(j.consumers)
	state := si.State
	c.respond(api.SnapshotResponse{Response: api.Response{Type: rt}, Config: &si.Config, State: &state})
	a.advise(advisoryPrefix+"STREAM.SNAPSHOT_CREATE."+name, snapCreateAdvisory{
		event: newEvent(snapCreateType), Stream: name,
		State: state, Client: j.client, Domain: js.opts.Domain,
	})
	go j.run()
}

// snapshotJob sends one snapshot.
type snapshotJob struct {
	consumers []archivedConsumer // the durable consumers, taken at the start
	acc       *account
	se        *streamEntry
	state     api.StreamState
	deliver   string
	ackPrefix string
	chunk     int
	credit    uint64 // chunks that may await their ack
	sess      *server.Session
	quit      <-chan struct{}
	client    clientInfo
	start     time.Time

	buf      []byte // the chunk being filled
	lastSent time.Time

	mu     sync.Mutex
	sent   uint64 // chunks sent
	acked  uint64 // highest chunk acknowledged
	signal chan struct{}
}

func (j *snapshotJob) run() {
	defer j.acc.xfer.done()
	defer j.sess.Close()
	err := j.waitInterest()
	if err == nil {
		err = j.write()
	}
	j.finish(err)
}

// waitInterest waits until the client subscribed to the deliver subject,
// which it does only once the API answered. A wildcard that covers it does
// not count at first: nats.go's request multiplexer holds "_INBOX.<id>.*",
// which would swallow the first chunks meant for a response inbox before
// the client's own subscription exists. Past snapInterestWait such
// interest is taken as the client's.
func (j *snapshotJob) waitInterest() error {
	srv := j.acc.js.srv
	acc := srv.LookupAccount(j.acc.name)
	if acc == nil {
		return errNoInterest
	}
	found := make(chan struct{})
	var once sync.Once
	remove := srv.AddInterestListener(server.InterestFunc(func(ev server.InterestEvent) {
		if ev.Added && ev.Account == j.acc.name && ev.Subject == j.deliver {
			once.Do(func() { close(found) })
		}
	}))
	defer remove()
	deadline := time.NewTimer(snapInterestWait)
	defer deadline.Stop()
	select {
	case <-found:
		return nil
	case <-deadline.C:
		if acc.HasInterest(j.deliver) {
			return nil
		}
		return errNoInterest
	case <-j.quit:
		return errStopped
	}
}

// write streams the archive through the chunker.
func (j *snapshotJob) write() error {
	w, zc := snapshot.Create(j)
	if err := w.WriteState(time.Now().UnixNano(), &j.state); err != nil {
		return err
	}
	for _, ac := range j.consumers {
		if err := w.WriteConsumer(ac.name, ac.meta); err != nil {
			return err
		}
	}
	st := j.se.Store()
	var m store.StoredMsg
	first, last := j.state.FirstSeq, j.state.LastSeq
	for seq, n := max(first, 1), 0; first > 0 && seq <= last; n++ {
		if n%256 == 0 {
			select {
			case <-j.quit:
				return errStopped
			default:
			}
		}
		err := st.LoadNextMsg("", seq, &m)
		if errors.Is(err, store.ErrMsgNotFound) || (err == nil && m.Seq > last) {
			break
		}
		if err != nil {
			return err
		}
		if err := w.WriteMsg(m.Subject, m.Seq, m.Time, m.Hdr, m.Data); err != nil {
			return err
		}
		seq = m.Seq + 1
	}
	if err := w.WriteEnd(); err != nil {
		return err
	}
	if err := zc.Close(); err != nil {
		return err
	}
	if len(j.buf) > 0 {
		return j.send(j.buf)
	}
	return nil
}

// Write collects the compressed archive into chunks and sends each full
// one.
func (j *snapshotJob) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if j.buf == nil {
			j.buf = make([]byte, 0, j.chunk)
		}
		k := min(j.chunk-len(j.buf), len(p))
		j.buf = append(j.buf, p[:k]...)
		p = p[k:]
		if len(j.buf) == j.chunk {
			if err := j.send(j.buf); err != nil {
				return 0, err
			}
			j.buf = j.buf[:0]
		}
	}
	return n, nil
}

// send sends one chunk once the window has room for it.
func (j *snapshotJob) send(b []byte) error {
	if j.lastSent.IsZero() {
		j.lastSent = time.Now()
	}
	for {
		j.mu.Lock()
		waiting := j.sent - j.acked
		j.mu.Unlock()
		if waiting < j.credit {
			break
		}
		left := snapFlowTimeout - time.Since(j.lastSent)
		if left <= 0 {
			return errNoFlow
		}
		t := time.NewTimer(left)
		select {
		case <-j.signal:
		case <-t.C:
		case <-j.quit:
			t.Stop()
			return errStopped
		}
		t.Stop()
	}
	j.mu.Lock()
	j.sent++
	n := j.sent
	j.mu.Unlock()
	reply := j.ackPrefix + "." + strconv.Itoa(len(b)) + "." + strconv.FormatUint(n, 10)
	if err := j.sess.Publish(j.deliver, reply, nil, b); err != nil {
		return err
	}
	j.lastSent = time.Now()
	return nil
}

// onAck counts a chunk's acknowledgement (…<size>.<n>).
func (j *snapshotJob) onAck(m *server.Msg) {
	subj := string(m.Subject)
	n, err := strconv.ParseUint(subj[strings.LastIndexByte(subj, '.')+1:], 10, 64)
	if err != nil {
		return
	}
	j.mu.Lock()
	if n > j.acked && n <= j.sent {
		j.acked = n
	}
	j.mu.Unlock()
	select {
	case j.signal <- struct{}{}:
	default:
	}
}

// finish sends the end of the transfer and the completion advisory.
func (j *snapshotJob) finish(err error) {
	var h []byte
	switch {
	case err == nil:
		h = []byte("NATS/1.0 204\r\n\r\n")
	case errors.Is(err, errNoInterest):
		h = []byte("NATS/1.0 408 No Interest\r\n\r\n")
	case errors.Is(err, errNoFlow):
		h = []byte("NATS/1.0 408 No Flow Response\r\n\r\n")
	default:
		h = []byte("NATS/1.0 500 " + oneLine(err.Error()) + "\r\n\r\n")
	}
	_ = j.sess.Publish(j.deliver, "", h, nil)
	a := j.acc
	name := j.se.Name()
	ev := snapCompleteAdvisory{
		event: newEvent(snapCompleteType), Stream: name,
		Start: j.start, End: time.Now().UTC(), Client: j.client, Domain: a.js.opts.Domain,
	}
	if err != nil {
		ev.Error = err.Error()
		a.js.log.Warn(fmt.Sprintf("Snapshot of stream '%s > %s' failed: %v", a.name, name, err))
	}
	a.advise(advisoryPrefix+"STREAM.SNAPSHOT_COMPLETE."+name, ev)
}

func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// ---- restore ----

func (c *apiCall) streamRestore(name string) {
	const rt = api.TypeStreamRestoreResponse
	var req api.RestoreRequest
	if e := c.needBody(&req); e != nil {
		c.fail(rt, e)
		return
	}
	a := c.acc
	cfg := req.Config
	if cfg.Name == "" {
		cfg.Name = name
	}
	if cfg.Name != name {
		c.fail(rt, api.ErrStreamMismatch)
		return
	}
	// An archive of upstream's carries its ADR-44 keys: not stored.
	cfg.Metadata = stripVersionMeta(cfg.Metadata)
	if e := stream.Normalize(&cfg, a.streamLimits()); e != nil {
		c.fail(rt, e)
		return
	}
	a.mu.Lock()
	e := a.admitRestoreLocked(&cfg, req.State.Bytes, false)
	if e == nil {
		if a.restoring == nil {
			a.restoring = make(map[string]bool)
		}
		a.restoring[name] = true
	}
	a.mu.Unlock()
	if e != nil {
		c.fail(rt, e)
		return
	}
	j, e := a.startRestore(cfg, c.client())
	if e != nil {
		a.release(name)
		c.fail(rt, e)
		return
	}
	c.respond(api.RestoreResponse{Response: api.Response{Type: rt}, DeliverSubject: j.subject})
	a.advise(advisoryPrefix+"STREAM.RESTORE_CREATE."+name, restoreCreateAdvisory{
		event: newEvent(restoreCreateType), Stream: name, Client: j.client, Domain: a.js.opts.Domain,
	})
}

// admitRestoreLocked checks that a stream of cfg holding about bytes may
// be created by a restore; self says the name is already reserved by this
// restore.
func (a *account) admitRestoreLocked(cfg *api.StreamConfig, bytes uint64, self bool) *api.Error {
	name := cfg.Name
	if a.streams[name] != nil || (a.restoring[name] && !self) {
		return api.ErrStreamNameExistRestoreFailed
	}
	n := len(a.streams) + len(a.restoring)
	if self {
		n--
	}
	if a.lim().MaxStreams > 0 && n >= a.lim().MaxStreams {
		return api.ErrMaximumStreamsLimit
	}
	if a.overlapLocked(cfg.Subjects, "") {
		return api.ErrStreamSubjectOverlap
	}
	if e := a.checkResourcesLocked(cfg, ""); e != nil {
		return e
	}
	if bytes > a.storageLeft(cfg.Storage) {
		if cfg.Storage == api.MemoryStorage {
			return api.ErrMemoryResourcesExceeded
		}
		return api.ErrStorageResourcesExceeded
	}
	return nil
}

// storageLeft is what the account and the server still have room for in
// storage of type t.
func (a *account) storageLeft(t api.StorageType) uint64 {
	mem, file := a.usage()
	used, acct, srv := file, a.lim().MaxStore, a.js.maxStore.Load()
	if t == api.MemoryStorage {
		used, acct, srv = mem, a.lim().MaxMemory, a.js.maxMemory.Load()
	}
	left := ^uint64(0)
	for _, lim := range []int64{acct, srv} {
		if lim <= 0 {
			continue
		}
		if uint64(lim) <= used {
			return 0
		}
		left = min(left, uint64(lim)-used)
	}
	return left
}

func (a *account) release(name string) {
	a.mu.Lock()
	delete(a.restoring, name)
	a.mu.Unlock()
}

// cleanRestores removes what restores interrupted by a crash left.
func (a *account) cleanRestores() {
	_ = os.RemoveAll(filepath.Join(a.dir, restoreDir))
}

// restoreJob receives one restore.
type restoreJob struct {
	acc     *account
	cfg     api.StreamConfig
	subject string
	id      string
	sess    *server.Session
	client  clientInfo
	start   time.Time
	pw      *io.PipeWriter
	result  chan restoreResult // the filler's outcome, sent once
	idle    *time.Timer
	done    chan struct{} // closed when the job ended

	mu       sync.Mutex // guards the fields below
	ended    bool
	received int64
}

type restoreResult struct {
	st        store.StreamStore
	dir       string // the staging directory of a file store
	err       error
	consumers []archivedConsumer
}

func (a *account) startRestore(cfg api.StreamConfig, ci clientInfo) (*restoreJob, *api.Error) {
	quit, ok := a.xfer.start()
	if !ok {
		return nil, api.ErrStreamRestore.WithErr(errStopped)
	}
	id := newID()
	j := &restoreJob{
		acc: a, cfg: cfg, id: id, subject: restorePrefix + cfg.Name + "." + id, client: ci,
		start: time.Now().UTC(), result: make(chan restoreResult, 1), done: make(chan struct{}),
	}
	sess, err := a.js.srv.Attach(server.SessionOptions{Kind: server.SessionJetStream, Account: a.name, Name: "JetStream restore " + cfg.Name})
	if err == nil {
		j.sess = sess
		if _, err = sess.Subscribe(j.subject, "", j.onChunk); err != nil {
			sess.Close()
		}
	}
	if err != nil {
		a.xfer.done()
		return nil, api.ErrRestoreSubscribeFailed.With("subject", j.subject, "err", err.Error())
	}
	pr, pw := io.Pipe()
	j.pw = pw
	go func() {
		res := j.fill(pr)
		if res.err != nil {
			pr.CloseWithError(res.err)
		}
		j.result <- res
	}()
	j.mu.Lock()
	j.idle = time.AfterFunc(restoreIdle, func() { j.end("", errIdle) })
	j.mu.Unlock()
	go func() {
		defer a.xfer.done()
		select {
		case <-quit:
			j.end("", errStopped)
		case <-j.done:
		}
		<-j.done
	}()
	return j, nil
}

// onChunk takes one request of the client: a chunk of the archive, or
// the empty message that ends it. It runs on the job's session.
func (j *restoreJob) onChunk(m *server.Msg) {
	reply := string(m.Reply)
	if reply == "" {
		return // every chunk must ask for its acknowledgement
	}
	j.mu.Lock()
	if j.ended {
		j.mu.Unlock()
		return
	}
	// The clock stops while the chunk is consumed (filling a long gap
	// may take a while) and restarts once it was.
	j.idle.Stop()
	j.received += int64(len(m.Data))
	j.mu.Unlock()
	if len(m.Data) == 0 {
		j.end(reply, nil)
		return
	}
	if _, err := j.pw.Write(m.Data); err != nil {
		j.end(reply, err)
		return
	}
	j.mu.Lock()
	if !j.ended {
		j.idle.Reset(restoreIdle)
	}
	j.mu.Unlock()
	_ = j.sess.Publish(reply, "", nil, nil)
}

// end finishes the job once: with err nil it waits for the filler and
// creates the stream; otherwise, or if the archive was bad, it drops what
// was restored. It answers reply (if any) with a stream_create_response.
func (j *restoreJob) end(reply string, err error) {
	j.mu.Lock()
	if j.ended {
		j.mu.Unlock()
		return
	}
	j.ended = true
	j.idle.Stop()
	received := j.received
	j.mu.Unlock()
	defer close(j.done)
	if err == nil {
		_ = j.pw.Close()
	} else {
		_ = j.pw.CloseWithError(err)
	}
	res := <-j.result
	if res.err != nil {
		err = res.err
	}
	a, name := j.acc, j.cfg.Name
	var se *streamEntry
	var e *api.Error
	if err != nil {
		res.discard()
		e = restoreError(err)
	} else {
		se, e = j.create(res)
	}
	a.release(name)
	const rt = api.TypeStreamCreateResponse
	if e != nil {
		a.js.log.Warn(fmt.Sprintf("Restore of stream '%s > %s' failed: %s", a.name, name, e.Description))
		if reply != "" {
			a.js.apiErrors.Add(1)
			a.apiErrors.Add(1)
			_ = j.sess.Publish(reply, "", nil, mustJSON(api.StreamInfoResponse{Response: api.Response{Type: rt, Error: e}}))
		}
		j.sess.Close()
		return
	}
	si, _, _ := se.info(nil)
	_ = j.sess.Publish(reply, "", nil, mustJSON(api.StreamInfoResponse{Response: api.Response{Type: rt}, StreamInfo: si}))
	j.sess.Close()
	a.js.log.Info(fmt.Sprintf("Completed restore of stream '%s > %s' in %v", a.name, name, time.Since(j.start).Round(time.Millisecond)))
	a.advise(advisoryPrefix+"STREAM.RESTORE_COMPLETE."+name, restoreCompleteAdvisory{
		event: newEvent(restoreDoneType), Stream: name,
		Start: j.start, End: time.Now().UTC(), Bytes: received, Client: j.client, Domain: a.js.opts.Domain,
	})
}

func restoreError(err error) *api.Error {
	var e *api.Error
	if errors.As(err, &e) {
		return e
	}
	return api.ErrStreamRestore.WithErr(err)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(`{"type":"` + api.TypeErrorResponse + `","error":{"code":500,"description":"` + oneLine(err.Error()) + `"}}`)
	}
	return b
}

func (r *restoreResult) discard() {
	if r.st != nil {
		_ = r.st.Delete()
	}
	if r.dir != "" {
		_ = os.RemoveAll(r.dir)
	}
}

// create turns the filled store into the stream.
func (j *restoreJob) create(res restoreResult) (*streamEntry, *api.Error) {
	a, cfg := j.acc, j.cfg
	created := time.Now().UTC()
	dir := a.streamDir(cfg.Name)
	file := res.dir != ""
	if file {
		// Closed, moved into place, and reopened by the stream.
		if err := res.st.Close(); err != nil {
			_ = os.RemoveAll(res.dir)
			return nil, restoreError(err)
		}
		res.st = nil
	}
	a.mu.Lock()
	if e := a.admitRestoreLocked(&cfg, 0, true); e != nil {
		a.mu.Unlock()
		res.discard()
		return nil, e
	}
	err := os.RemoveAll(dir) // a stale directory without a stream
	if err == nil && file {
		if err = os.MkdirAll(filepath.Dir(dir), 0o750); err == nil {
			err = os.Rename(res.dir, dir)
		}
	}
	if err == nil {
		err = writeMeta(dir, meta{Config: cfg, Created: created})
	}
	a.mu.Unlock()
	if err != nil {
		res.discard()
		_ = os.RemoveAll(dir)
		return nil, restoreError(err)
	}
	se, err := a.openStreamStore(cfg, created, res.st)
	if err != nil {
		if res.st != nil {
			_ = res.st.Delete()
		}
		_ = os.RemoveAll(dir)
		return nil, restoreError(err)
	}
	for _, ac := range res.consumers {
		if err := se.restoreConsumer(ac, created); err != nil {
			a.js.log.Warn(fmt.Sprintf("Restore of stream '%s > %s': consumer %q not restored: %v", a.name, cfg.Name, ac.name, err))
		}
	}
	return se, nil
}

// fill decodes the archive from r into a new store of the stream's
// storage type. On success the store holds the archive's messages at
// their sequences, with the archive's gaps.
func (j *restoreJob) fill(r io.Reader) (res restoreResult) {
	a, cfg := j.acc, j.cfg
	maxMsg := uint64(a.js.srv.Options().MaxPayload)
	if maxMsg == 0 {
		maxMsg = 1 << 20
	}
	if cfg.MaxMsgSize > 0 {
		maxMsg = min(maxMsg, uint64(cfg.MaxMsgSize))
	}
	d := snapshot.NewDecoder(snapshot.Open(r), maxMsg)
	it, err := d.Next()
	if err != nil {
		return restoreResult{err: archiveError(err)}
	}
	state := it.State
	left := a.storageLeft(cfg.Storage)
	if state.Bytes > left {
		return restoreResult{err: resourcesError(cfg.Storage)}
	}
	res = j.openStaging()
	if res.err != nil {
		return res
	}
	defer func() {
		if res.err != nil {
			res.discard()
			res.st, res.dir = nil, ""
		}
	}()
	st := res.st
	first, last := state.FirstSeq, state.LastSeq
	if first > 1 {
		if _, err := st.Compact(first); err != nil {
			res.err = err
			return res
		}
	}
	next := max(first, 1)
	var used uint64
	now := time.Now().UnixNano()
	for {
		it, err := d.Next()
		if errors.Is(err, io.EOF) {
			return res
		}
		if err != nil {
			res.err = archiveError(err)
			return res
		}
		switch it.Kind {
		case snapshot.KindMsg:
			var ttl time.Duration
			if v := hdr.Get(it.Hdr, hdr.TTL); v != nil {
				t, ok := stream.ParseTTL(string(v))
				if !ok {
					res.err = fmt.Errorf("message %d: invalid %s header %q", it.Seq, hdr.TTL, v)
					return res
				}
				ttl = t
			}
			if ttl > 0 && it.Time+int64(ttl) <= now {
				continue // expired: its sequence stays empty
			}
			if res.err = skipTo(st, next, it.Seq); res.err != nil {
				return res
			}
			if used += store.MsgSize(it.Subject, it.Hdr, it.Data); used > left {
				res.err = resourcesError(cfg.Storage)
				return res
			}
			seq, err := st.StoreMsg(it.Subject, it.Hdr, it.Data, it.Time, ttl)
			if err == nil && seq != it.Seq {
				err = fmt.Errorf("stored at sequence %d", seq)
			}
			if err != nil {
				res.err = fmt.Errorf("message %d: %w", it.Seq, err)
				return res
			}
			next = it.Seq + 1
		case snapshot.KindConsumer:
			ac, err := decodeArchivedConsumer(it.Name, it.Meta)
			if err != nil {
				res.err = err
				return res
			}
			res.consumers = append(res.consumers, ac)
		case snapshot.KindEnd:
			if last > 0 {
				if res.err = skipTo(st, next, last+1); res.err != nil {
					return res
				}
			}
		}
	}
}

// archiveError says what was wrong with the archive, legacy backups
// included.
func archiveError(err error) error {
	if errors.Is(err, snapshot.ErrNotArchive) {
		return errors.New("unsupported backup format: not a NATSARC1 archive (tar backups of servers before 2.15 cannot be restored)")
	}
	return err
}

func resourcesError(t api.StorageType) error {
	if t == api.MemoryStorage {
		return api.ErrMemoryResourcesExceeded
	}
	return api.ErrStorageResourcesExceeded
}

// skipTo leaves the sequences from next (the store's LastSeq+1) up to
// target-1 without messages.
func skipTo(st store.StreamStore, next, target uint64) error {
	if target <= next {
		return nil
	}
	return st.SkipMsgs(next, target-next)
}

// openStaging opens the empty store a restore fills: in memory, or in a
// directory of its own under the account's, moved into place at the end.
func (j *restoreJob) openStaging() restoreResult {
	sc := store.Config{Name: j.cfg.Name}
	if j.cfg.Storage == api.MemoryStorage {
		st, err := memstore.New(sc)
		if err != nil {
			return restoreResult{err: err}
		}
		return restoreResult{st: st}
	}
	dir := filepath.Join(j.acc.dir, restoreDir, j.id)
	st, err := filestore.Open(filestore.Config{Dir: dir, SyncInterval: j.acc.js.opts.SyncInterval, Compress: j.cfg.Compression == api.S2Compression}, sc)
	if err != nil {
		_ = os.RemoveAll(dir)
		return restoreResult{err: err}
	}
	return restoreResult{st: st, dir: dir}
}
