package jetstream

// Direct get (ADR-31): reads of a stream's messages that answer with the
// raw message rather than JSON.
//
//	$JS.API.DIRECT.GET.<stream>            body: a MsgGetRequest
//	$JS.API.DIRECT.GET.<stream>.<subject>  no body: the last message on subject
//
// A found message comes back with its data as payload and its own headers
// followed by Nats-Stream, Nats-Subject, Nats-Sequence and Nats-Time-Stamp
// (RFC 3339, UTC). A batch (batch or multi_last) adds Nats-Num-Pending (the
// matching messages left after this one) and Nats-Last-Sequence (the
// sequence sent before this one, 0 for the first) to each message and ends
// with a "204 EOB" status carrying both (and Nats-UpTo-Sequence for
// multi_last). Everything else is a status message without payload.

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"

	"natsd.dev/jetstream/api"
	"natsd.dev/jetstream/internal/hdr"
	"natsd.dev/jetstream/internal/stream"
	"natsd.dev/jetstream/store"
	"natsd.dev/server"
)

const (
	// maxMultiLast bounds the subjects a multi_last request may match;
	// past it the answer is "413 Too Many Results", as upstream.
	maxMultiLast = 1024
	// maxDirectBatches bounds the batch requests of an account served at
	// once; a further one waits on the API goroutine for a free slot.
	maxDirectBatches = 32
)

// Status replies, as upstream sends them.
var (
	// statusNoResponders answers a direct get of a stream that does not
	// allow it (or does not exist). Upstream has no responder for it then;
	// since 2.10.28 the request, reaching nobody through the account's
	// import of the API, gets the core no-responders status, so clients
	// fail at once (nats.ErrNoResponders) instead of timing out. Our API
	// session listens on all of $JS.API.>, so it sends that status itself.
	statusNoResponders = []byte("NATS/1.0 503\r\n\r\n")
	statusNotFound     = []byte("NATS/1.0 404 Message Not Found\r\n\r\n")
	statusNoResults    = []byte("NATS/1.0 404 No Results\r\n\r\n")
	statusEmpty        = []byte("NATS/1.0 408 Empty Request\r\n\r\n")
	statusMalformed    = []byte("NATS/1.0 408 Malformed Request\r\n\r\n")
	statusBadRequest   = []byte("NATS/1.0 408 Bad Request\r\n\r\n")
	statusTooMany      = []byte("NATS/1.0 413 Too Many Results\r\n\r\n")
)

func init() {
	rawRoutes = append(rawRoutes, rawRoute{prefix: "DIRECT.GET.", fn: (*apiCall).directGet})
}

// directGet answers $JS.API.DIRECT.GET.<rest>. Single reads are answered
// on the API goroutine; batches, which may send up to max_pending bytes,
// run on a goroutine of the account's directRunner.
func (c *apiCall) directGet(rest string) {
	name, subject, appended := strings.Cut(rest, ".")
	se := c.directStream(name)
	if se == nil {
		c.status(statusNoResponders)
		return
	}
	var req api.MsgGetRequest
	if appended {
		// The subject-appended form takes no body (ADR-31: 408).
		if len(c.data) != 0 || subject == "" {
			c.status(statusBadRequest)
			return
		}
		req.LastFor = subject
	} else {
		if len(c.data) == 0 {
			c.status(statusEmpty)
			return
		}
		if err := json.Unmarshal(c.data, &req); err != nil {
			c.status(statusMalformed)
			return
		}
		if st := checkDirect(&req); st != nil {
			c.status(st)
			return
		}
	}
	if req.Batch <= 0 && len(req.MultiLastFor) == 0 {
		se.directSend(c, &req, nil)
		return
	}
	c.acc.direct.run(func(quit <-chan struct{}) {
		if len(req.MultiLastFor) > 0 {
			se.directMulti(c, &req, quit)
		} else {
			se.directSend(c, &req, quit)
		}
	})
}

// directStream returns the stream name if it exists and allows direct
// gets.
func (c *apiCall) directStream(name string) *streamEntry {
	a := c.acc
	if !a.enabled || name == "" {
		return nil
	}
	a.mu.Lock()
	se := a.streams[name]
	a.mu.Unlock()
	if se == nil || !se.AllowDirect() {
		return nil
	}
	return se
}

// checkDirect returns the status refusing req, nil if it is acceptable.
func checkDirect(r *api.MsgGetRequest) []byte {
	if r.Seq == 0 && r.LastFor == "" && r.NextFor == "" && len(r.MultiLastFor) == 0 && r.StartTime == nil {
		return statusEmpty
	}
	last, next, multi := r.LastFor != "", r.NextFor != "", len(r.MultiLastFor) > 0
	if (r.Seq > 0 && last) || (r.Seq > 0 && r.StartTime != nil) || (r.StartTime != nil && last) ||
		(last && next) || (last && r.Batch > 0) || (last && multi) || (next && multi) ||
		(r.UpToSeq > 0 && r.UpToTime != nil) {
		return statusBadRequest
	}
	return nil
}

// status sends a status message (no payload) to the caller.
func (c *apiCall) status(h []byte) {
	_ = c.acc.api.Publish(c.reply, "", h, nil)
}

// maxBytes is a batch's byte budget: the request's max_bytes or else the
// server's max_pending, as upstream.
func (c *apiCall) maxBytes(req *api.MsgGetRequest) int {
	if req.MaxBytes > 0 {
		return req.MaxBytes
	}
	if mp := c.acc.js.srv.Options().MaxPending; mp > 0 {
		return int(mp)
	}
	return server.DefaultMaxPending
}

// directReply carries the state of one answer: the message buffer reused
// for every load and the header scratch space. They come from a pool, so
// that a get allocates neither for the message it loads nor for the
// headers it sends.
type directReply struct {
	c      *apiCall
	stream string
	noHdr  bool
	m      store.StoredMsg
	hb     hdr.Builder
	buf    []byte
}

var directReplies = sync.Pool{New: func() any { return new(directReply) }}

// newDirectReply returns a pooled directReply for an answer to c.
func newDirectReply(c *apiCall, stream string, noHdr bool) *directReply {
	r := directReplies.Get().(*directReply)
	r.c, r.stream, r.noHdr = c, stream, noHdr
	return r
}

// release returns r to the pool; one that grew past a large message's
// size is left to the garbage collector.
func (r *directReply) release() {
	if cap(r.m.Buf) > 64<<10 || cap(r.buf) > 64<<10 {
		return
	}
	r.c, r.stream = nil, ""
	r.m = store.StoredMsg{Buf: r.m.Buf[:0]}
	directReplies.Put(r)
}

// send publishes r.m; batch adds the pending and last-sequence headers.
func (r *directReply) send(batch bool, pending, last uint64) {
	var h []byte
	if !r.noHdr {
		b := r.hb.Reset(r.buf, 0, "").AddFrom(r.m.Hdr).
			Add(hdr.Stream, r.stream).
			Add(hdr.Subject, r.m.Subject).
			AddUint(hdr.Sequence, r.m.Seq).
			AddTime(hdr.TimeStamp, r.m.Time)
		if batch {
			b.AddUint(hdr.NumPending, pending).
				AddUint(hdr.LastSequence, last)
		}
		h = b.Bytes()
		r.buf = h[:0]
	}
	_ = r.c.acc.api.Publish(r.c.reply, "", h, r.m.Data)
}

// eob ends a batch.
func (r *directReply) eob(pending, last uint64, upTo *uint64) {
	b := r.hb.Reset(r.buf, 204, "EOB").
		AddUint(hdr.NumPending, pending).
		AddUint(hdr.LastSequence, last)
	if upTo != nil {
		b.AddUint(hdr.UpToSequence, *upTo)
	}
	h := b.Bytes()
	r.buf = h[:0]
	_ = r.c.acc.api.Publish(r.c.reply, "", h, nil)
}

func stopped(quit <-chan struct{}) bool {
	select {
	case <-quit:
		return true
	default:
		return false
	}
}

// directSend answers a single get or a batch (seq, next_by_subj,
// start_time, last_by_subj). quit, when closed, stops a batch early.
func (se *streamEntry) directSend(c *apiCall, req *api.MsgGetRequest, quit <-chan struct{}) {
	st := se.Store()
	r := newDirectReply(c, se.Name(), req.NoHeaders)
	defer r.release()
	seq := req.Seq
	if req.StartTime != nil {
		seq = stream.SeqAtTime(st, req.StartTime.UnixNano(), &r.m)
	}
	batch := req.Batch > 0
	n := max(req.Batch, 1)
	var pending uint64
	if batch {
		if fs, err := st.FilteredState(req.NextFor, seq); err == nil {
			pending = fs.Msgs
		}
	}
	budget := 0 // a single get sends one message whatever its size
	if batch {
		budget = c.maxBytes(req)
	}
	var sent int
	var last uint64
	for i := 0; i < n; i++ {
		if stopped(quit) {
			return
		}
		var err error
		switch {
		case req.LastFor != "":
			err = st.LoadLastMsg(req.LastFor, &r.m)
		case i == 0 && req.NextFor == "" && req.StartTime == nil:
			// A sequence names exactly one message; the rest of a batch
			// steps over gaps.
			err = st.LoadMsg(seq, &r.m)
		default:
			err = st.LoadNextMsg(req.NextFor, seq, &r.m)
		}
		if err != nil {
			if i > 0 {
				break
			}
			c.status(statusNotFound)
			return
		}
		seq = r.m.Seq + 1
		if pending > 0 {
			pending--
		}
		r.send(batch, pending, last)
		last = r.m.Seq
		sent += len(r.m.Subject) + len(r.m.Hdr) + len(r.m.Data)
		if sent >= budget {
			break
		}
	}
	if !batch {
		return
	}
	// Count again: messages may have arrived (or gone) meanwhile.
	if fs, err := st.FilteredState(req.NextFor, last+1); err == nil {
		pending = fs.Msgs
	}
	r.eob(pending, last, nil)
}

// directMulti answers multi_last: the last message of every subject
// matching the filters, up to a sequence or time, in sequence order.
func (se *streamEntry) directMulti(c *apiCall, req *api.MsgGetRequest, quit <-chan struct{}) {
	st := se.Store()
	r := newDirectReply(c, se.Name(), req.NoHeaders)
	defer r.release()
	upTo := req.UpToSeq
	switch {
	case req.UpToTime != nil:
		// The messages strictly before the time.
		upTo = stream.SeqAtTime(st, req.UpToTime.UnixNano(), &r.m) - 1
	case upTo == 0:
		upTo = st.State().LastSeq
	}
	seqs, err := multiLastSeqs(st, req.MultiLastFor, upTo, &r.m)
	switch {
	case errors.Is(err, errTooManyResults):
		c.status(statusTooMany)
		return
	case err != nil:
		c.status(statusBadRequest) // an invalid filter
		return
	case len(seqs) == 0:
		c.status(statusNoResults)
		return
	}
	budget := c.maxBytes(req)
	var sent, count int
	var last uint64
	pending := uint64(len(seqs))
	for _, seq := range seqs {
		pending--
		if seq < req.Seq {
			continue
		}
		if stopped(quit) {
			return
		}
		if err := st.LoadMsg(seq, &r.m); err != nil {
			c.status(statusNotFound)
			return
		}
		r.send(true, pending, last)
		last = seq
		sent += len(r.m.Subject) + len(r.m.Hdr) + len(r.m.Data)
		count++
		if sent >= budget || (req.Batch > 0 && count >= req.Batch) {
			break
		}
	}
	r.eob(pending, last, &upTo)
}

var errTooManyResults = errors.New("jetstream: too many results")

// multiLastSeqs returns, sorted, the sequence of the last message at or
// below upTo of every subject matching one of filters; errTooManyResults
// past maxMultiLast subjects.
func multiLastSeqs(st store.StreamStore, filters []string, upTo uint64, m *store.StoredMsg) ([]uint64, error) {
	seen := make(map[string]struct{})
	var seqs []uint64
	for _, f := range filters {
		totals, err := st.SubjectsTotals(f)
		if err != nil {
			return nil, err
		}
		for subj := range totals {
			if _, ok := seen[subj]; ok {
				continue
			}
			seen[subj] = struct{}{}
			seq, ok := lastUpTo(st, subj, upTo, m)
			if !ok {
				continue
			}
			if seqs = append(seqs, seq); len(seqs) > maxMultiLast {
				return nil, errTooManyResults
			}
		}
	}
	slices.Sort(seqs)
	return seqs, nil
}

// lastUpTo returns the sequence of the last message on the literal
// subject at or below upTo.
func lastUpTo(st store.StreamStore, subject string, upTo uint64, m *store.StoredMsg) (uint64, bool) {
	fs, err := st.FilteredState(subject, 0)
	if err != nil || fs.Msgs == 0 || fs.First > upTo {
		return 0, false
	}
	if fs.Last <= upTo {
		return fs.Last, true
	}
	best := fs.First
	for st.LoadNextMsg(subject, best+1, m) == nil && m.Seq <= upTo {
		best = m.Seq
	}
	return best, true
}

// directRunner runs an account's batch direct gets off its API goroutine.
// Its zero value is ready; stop ends it.
type directRunner struct {
	mu     sync.Mutex
	closed bool
	slots  chan struct{} // at most maxDirectBatches at once
	quit   chan struct{}
	wg     sync.WaitGroup
}

func (d *directRunner) init() {
	if d.slots == nil {
		d.slots = make(chan struct{}, maxDirectBatches)
		d.quit = make(chan struct{})
	}
}

// run runs fn on a goroutine once a slot is free, waiting for one (on the
// caller's goroutine) when all are taken. fn stops early when quit is
// closed. After stop, run does nothing.
func (d *directRunner) run(fn func(quit <-chan struct{})) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.init()
	slots, quit := d.slots, d.quit
	d.wg.Add(1)
	d.mu.Unlock()
	select {
	case slots <- struct{}{}:
	case <-quit:
		d.wg.Done()
		return
	}
	go func() {
		defer d.wg.Done()
		defer func() { <-slots }()
		fn(quit)
	}()
}

// stop stops the running batches and waits for them.
func (d *directRunner) stop() {
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		d.init()
		close(d.quit)
	}
	d.mu.Unlock()
	d.wg.Wait()
}

// serveDirect answers DIRECT.GET through an internal client, on the
// goroutine of the connection that asked: a get is one store read (a
// batch hands itself to the direct runner), and skipping the hop to the
// API session's goroutine is most of a KV get's latency. An account
// without JetStream does not serve it: the requester gets no responders.
func (a *account) serveDirect() error {
	ic, err := a.js.srv.NewInternalClient(a.name)
	if err != nil {
		return err
	}
	a.fast = ic
	for _, p := range a.js.apiPrefixes() {
		if _, err := ic.Subscribe(p+"DIRECT.GET.>", "", a.handleAPI); err != nil {
			return err
		}
	}
	return nil
}
