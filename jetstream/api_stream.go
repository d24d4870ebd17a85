package jetstream

import (
	"encoding/json"
	"errors"
	"os"
	"time"

	"natsd.dev/jetstream/api"
	"natsd.dev/jetstream/internal/stream"
	"natsd.dev/jetstream/store"
)

// Paging sizes of the list calls, as upstream.
const (
	namesPageSize    = 1024
	listPageSize     = 256
	subjectsPageSize = 100_000
)

func (c *apiCall) accountInfo(string) {
	if !c.emptyRequest() {
		c.fail(api.TypeAccountInfoResponse, api.ErrNotEmptyRequest)
		return
	}
	a := c.acc
	mem, file := a.usage()
	var consumers int
	streams := a.streamList()
	for _, s := range streams {
		consumers += s.numConsumers()
	}
	info := &api.AccountInfo{
		Tier: api.Tier{
			Memory: mem, Store: file, Streams: len(streams), Consumers: consumers,
			Limits: *a.lim(),
		},
		Domain: a.js.opts.Domain,
		API:    api.APIStats{Level: APILevel, Total: a.apiTotal.Load(), Errors: a.apiErrors.Load()},
	}
	a.mu.Lock()
	info.ReservedMemory, info.ReservedStore = a.reservedLocked()
	a.mu.Unlock()
	c.respond(api.AccountInfoResponse{Response: api.Response{Type: api.TypeAccountInfoResponse}, AccountInfo: info})
}

// streamLimits are the limits a stream configuration is checked against.
func (a *account) streamLimits() stream.Limits {
	return stream.Limits{
		MaxDuplicates:      a.js.serverLimits().Duplicates,
		MaxMemStreamBytes:  a.lim().MemoryMaxStreamBytes,
		MaxFileStreamBytes: a.lim().StoreMaxStreamBytes,
		MaxBytesRequired:   a.lim().MaxBytesRequired,
	}
}

// readConfig decodes and normalizes the configuration of a create or
// update call. As upstream 2.15.2: the body must name the stream of the
// subject (an empty body or a configuration without a name does not: a
// create answers 10056, an update 10052), and the server-set metadata
// keys (ADR-44) a request brings are dropped.
func (c *apiCall) readConfig(name string, update bool) (api.StreamConfig, *api.Error) {
	var cfg api.StreamConfig
	if e := c.decode(&cfg); e != nil {
		return cfg, e
	}
	if cfg.Name == "" && update {
		return cfg, api.ErrStreamInvalidConfig.With("err", `stream name is required and can not contain '.', '*', '>', '\', '/'`)
	}
	if cfg.Name != name {
		return cfg, api.ErrStreamMismatch
	}
	cfg.Metadata = stripVersionMeta(cfg.Metadata)
	if e := stream.Normalize(&cfg, c.acc.streamLimits()); e != nil {
		return cfg, e
	}
	return cfg, nil
}

// overlapLocked reports whether subjects overlap a stream other than
// except.
func (a *account) overlapLocked(subjects []string, except string) bool {
	for name, s := range a.streams {
		if name == except {
			continue
		}
		for _, x := range s.Config().Subjects {
			for _, y := range subjects {
				if stream.Overlap(x, y) {
					return true
				}
			}
		}
	}
	return false
}

// checkResourcesLocked checks that a stream of cfg fits the account's and
// the server's storage, counting max_bytes as reserved (except for the
// stream named except, being updated).
func (a *account) checkResourcesLocked(cfg *api.StreamConfig, except string) *api.Error {
	if a.storageOff(cfg.Storage) {
		if cfg.Storage == api.MemoryStorage {
			return api.ErrMemoryResourcesExceeded
		}
		return api.ErrStorageResourcesExceeded
	}
	if cfg.MaxBytes <= 0 {
		return nil
	}
	var mem, file uint64
	for name, s := range a.streams {
		if name == except {
			continue
		}
		c := s.Config()
		if c.MaxBytes > 0 {
			if c.Storage == api.MemoryStorage {
				mem += uint64(c.MaxBytes)
			} else {
				file += uint64(c.MaxBytes)
			}
		}
	}
	need, limit, server := file, a.lim().MaxStore, a.js.maxStore.Load()
	if cfg.Storage == api.MemoryStorage {
		need, limit, server = mem, a.lim().MaxMemory, a.js.maxMemory.Load()
	}
	need += uint64(cfg.MaxBytes)
	if limit > 0 && need > uint64(limit) {
		return api.ErrStorageResourcesExceeded
	}
	if server > 0 && need > uint64(server) {
		return api.ErrStorageResourcesExceeded
	}
	return nil
}

func sameConfig(a, b *api.StreamConfig) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func (c *apiCall) streamCreate(name string) {
	const rt = api.TypeStreamCreateResponse
	cfg, e := c.readConfig(name, false)
	if e != nil {
		c.fail(rt, e)
		return
	}
	a := c.acc
	a.mu.Lock()
	if cur := a.streams[name]; cur != nil {
		cc := cur.Config()
		a.mu.Unlock()
		if !sameConfig(&cc, &cfg) {
			c.fail(rt, api.ErrStreamNameExist)
			return
		}
		c.respondInfo(rt, cur, nil)
		return
	}
	if a.restoring[name] {
		a.mu.Unlock()
		c.fail(rt, api.ErrStreamNameExist)
		return
	}
	if a.lim().MaxStreams > 0 && len(a.streams)+len(a.restoring) >= a.lim().MaxStreams {
		a.mu.Unlock()
		c.fail(rt, api.ErrMaximumStreamsLimit)
		return
	}
	if a.overlapLocked(cfg.Subjects, "") {
		a.mu.Unlock()
		c.fail(rt, api.ErrStreamSubjectOverlap)
		return
	}
	if e := a.checkResourcesLocked(&cfg, ""); e != nil {
		a.mu.Unlock()
		c.fail(rt, e)
		return
	}
	created := time.Now().UTC()
	dir := a.streamDir(name)
	if err := writeMeta(dir, meta{Config: cfg, Created: created}); err != nil {
		a.mu.Unlock()
		c.fail(rt, api.ErrStreamCreate.WithErr(err))
		return
	}
	a.mu.Unlock()
	se, err := a.openStream(cfg, created)
	if err != nil {
		os.RemoveAll(dir)
		c.fail(rt, api.ErrStreamCreate.WithErr(err))
		return
	}
	a.streamAdvisory(name, "create")
	c.respondInfo(rt, se, nil)
}

func (c *apiCall) streamUpdate(name string) {
	const rt = api.TypeStreamUpdateResponse
	cfg, e := c.readConfig(name, true)
	if e != nil {
		c.fail(rt, e)
		return
	}
	a := c.acc
	a.mu.Lock()
	se := a.streams[name]
	if se == nil {
		a.mu.Unlock()
		c.fail(rt, api.ErrStreamNotFound)
		return
	}
	cur := se.Config()
	if e := stream.CheckUpdate(&cur, &cfg); e != nil {
		a.mu.Unlock()
		c.fail(rt, e)
		return
	}
	if a.overlapLocked(cfg.Subjects, name) {
		a.mu.Unlock()
		c.fail(rt, api.ErrStreamSubjectOverlap)
		return
	}
	if e := a.checkResourcesLocked(&cfg, name); e != nil {
		a.mu.Unlock()
		c.fail(rt, e)
		return
	}
	if err := writeMeta(a.streamDir(name), meta{Config: cfg, Created: se.Created()}); err != nil {
		a.mu.Unlock()
		c.fail(rt, api.ErrStreamUpdate.WithErr(err))
		return
	}
	res := se.Propose(&stream.Op{Kind: stream.OpUpdate, Config: &cfg})
	if res.Err == nil && !equalStrings(cur.Subjects, cfg.Subjects) {
		if err := se.subscribe(cfg.Subjects); err != nil {
			res.Err = api.ErrStreamUpdate.WithErr(err)
		}
	}
	if res.Err == nil && !sameSources(&cur, &cfg) {
		se.stopSources()
		se.startSources(&cfg)
	}
	a.mu.Unlock()
	if res.Err != nil {
		c.fail(rt, res.Err)
		return
	}
	a.streamAdvisory(name, "modify")
	c.respondInfo(rt, se, nil)
}

func sameSources(a, b *api.StreamConfig) bool {
	x, _ := json.Marshal([]any{a.Mirror, a.Sources})
	y, _ := json.Marshal([]any{b.Mirror, b.Sources})
	return string(x) == string(y)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (c *apiCall) streamDelete(name string) {
	const rt = api.TypeStreamDeleteResponse
	if !c.emptyRequest() {
		c.fail(rt, api.ErrNotEmptyRequest)
		return
	}
	a := c.acc
	a.mu.Lock()
	se := a.streams[name]
	if se == nil {
		a.mu.Unlock()
		c.fail(rt, api.ErrStreamNotFound)
		return
	}
	delete(a.streams, name)
	a.publishListLocked()
	a.mu.Unlock()
	err := se.stop(true)
	os.RemoveAll(a.streamDir(name))
	if err != nil && !errors.Is(err, store.ErrStoreClosed) {
		c.fail(rt, api.ErrStreamDelete.WithErr(err))
		return
	}
	a.streamAdvisory(name, "delete")
	c.respond(api.SuccessResponse{Response: api.Response{Type: rt}, Success: true})
}

// lookup returns the stream name or answers "stream not found".
func (c *apiCall) lookup(rt, name string) *streamEntry {
	c.acc.mu.Lock()
	se := c.acc.streams[name]
	c.acc.mu.Unlock()
	if se == nil {
		c.fail(rt, api.ErrStreamNotFound)
	}
	return se
}

func (c *apiCall) streamInfo(name string) {
	const rt = api.TypeStreamInfoResponse
	var req api.StreamInfoRequest
	if se := c.streamRequest(rt, name, &req, false); se != nil {
		c.respondInfo(rt, se, &req)
	}
}

// streamRequest decodes the body into req (which must be there when
// need) and finds the stream name, answering the failures itself (nil).
func (c *apiCall) streamRequest(rt, name string, req any, need bool) *streamEntry {
	decode := c.decode
	if need {
		decode = c.needBody
	}
	if e := decode(req); e != nil {
		c.fail(rt, e)
		return nil
	}
	return c.lookup(rt, name)
}

// numConsumers is the number of the stream's consumers, as upstream
// counts them: every one, also the ephemeral and memory ones that have no
// consumer store (the store's State().Consumers counts only those).
func (se *streamEntry) numConsumers() int {
	se.cons.mu.RLock()
	defer se.cons.mu.RUnlock()
	return len(se.cons.m)
}

// info renders the stream's information; req adds the subjects and
// deleted details.
func (se *streamEntry) info(req *api.StreamInfoRequest) (*api.StreamInfo, api.Paged, *api.Error) {
	cfg := se.Config()
	st := se.State()
	js := se.acc.js
	now := time.Now().UTC()
	si := &api.StreamInfo{
		Config:  cfg,
		Created: se.Created(),
		State: api.StreamState{
			Msgs: st.Msgs, Bytes: st.Bytes, FirstSeq: st.FirstSeq, LastSeq: st.LastSeq,
			NumSubjects: st.NumSubjects, NumDeleted: st.NumDeleted, Consumers: se.numConsumers(),
		},
		Domain:    js.opts.Domain,
		TimeStamp: now,
	}
	if !st.FirstTime.IsZero() {
		si.State.FirstTime = st.FirstTime.UTC()
	}
	if !st.LastTime.IsZero() {
		si.State.LastTime = st.LastTime.UTC()
	}
	se.acc.mu.Lock()
	for _, src := range se.sources {
		if src.mirror {
			si.Mirror = src.info()
		} else {
			si.Sources = append(si.Sources, src.info())
		}
	}
	se.acc.mu.Unlock()
	if st.Lost != nil {
		si.State.Lost = &api.LostStreamData{Msgs: st.Lost.Msgs, Bytes: st.Lost.Bytes}
	}
	var pg api.Paged
	if req == nil {
		return si, pg, nil
	}
	if req.SubjectsFilter != "" {
		totals, err := se.Store().SubjectsTotals(req.SubjectsFilter)
		if err != nil {
			return nil, pg, api.ErrStreamGeneral.WithErr(err)
		}
		pg = pageSubjects(totals, req.Offset, &si.State)
	}
	if req.DeletedDetails && st.NumDeleted > 0 {
		si.State.Deleted = deleted(se.Store(), st)
	}
	return si, pg, nil
}

// pageSubjects puts one page of totals (sorted by subject) into state.
func pageSubjects(totals map[string]uint64, offset int, state *api.StreamState) api.Paged {
	if len(totals) == 0 {
		return api.Paged{} // as upstream: no paging when nothing matches
	}
	pg := api.Paged{Total: len(totals), Offset: offset, Limit: subjectsPageSize}
	if len(totals) <= subjectsPageSize && offset <= 0 {
		state.Subjects = totals
		return pg
	}
	keys := sortedKeys(totals)
	if offset > len(keys) {
		offset = len(keys)
	}
	end := min(offset+subjectsPageSize, len(keys))
	state.Subjects = make(map[string]uint64, end-offset)
	for _, k := range keys[offset:end] {
		state.Subjects[k] = totals[k]
	}
	return pg
}

// maxDeletedDetails bounds deleted_details: a mirror or a restore may
// have skipped billions of sequences in one go.
const maxDeletedDetails = 1 << 20

// deleted lists the sequences in [FirstSeq, LastSeq] holding no message,
// the first maxDeletedDetails of them.
func deleted(st store.StreamStore, s store.StreamState) []uint64 {
	var out []uint64
	var m store.StoredMsg
	next := s.FirstSeq
	for next <= s.LastSeq && len(out) < maxDeletedDetails {
		err := st.LoadNextMsg("", next, &m)
		end := s.LastSeq + 1
		if err == nil {
			end = m.Seq
		}
		for q := next; q < end && len(out) < maxDeletedDetails; q++ {
			out = append(out, q)
		}
		if err != nil {
			break
		}
		next = m.Seq + 1
	}
	return out
}

func (c *apiCall) respondInfo(rt string, se *streamEntry, req *api.StreamInfoRequest) {
	si, pg, e := se.info(req)
	if e != nil {
		c.fail(rt, e)
		return
	}
	withStreamMeta(si, true)
	// As upstream's single server: create and update answer without
	// paging and cluster information, INFO with both (the leader only).
	switch rt {
	case api.TypeStreamCreateResponse:
		c.respond(api.StreamCreateResponse{Response: api.Response{Type: rt}, StreamInfo: si, DidCreate: true})
	case api.TypeStreamUpdateResponse:
		c.respond(api.StreamUpdateResponse{Response: api.Response{Type: rt}, StreamInfo: si})
	default:
		si.Cluster = &api.ClusterInfo{Leader: se.acc.js.srv.Name()}
		c.respond(api.StreamInfoResponse{Response: api.Response{Type: rt}, Paged: pg, StreamInfo: si})
	}
}

// matching returns the account's streams (by name) whose subjects overlap
// filter ("" matches all).
func (a *account) matching(filter string) []*streamEntry {
	var out []*streamEntry
	for _, s := range a.streamList() {
		if filter == "" || filter == ">" {
			out = append(out, s)
			continue
		}
		for _, x := range s.Config().Subjects {
			if stream.Overlap(x, filter) {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

func (c *apiCall) streamNames(string) {
	const rt = api.TypeStreamNamesResponse
	var req api.StreamNamesRequest
	if e := c.decode(&req); e != nil {
		c.fail(rt, e)
		return
	}
	all := c.acc.matching(req.Subject)
	off := min(max(req.Offset, 0), len(all))
	end := min(off+namesPageSize, len(all))
	names := make([]string, 0, end-off)
	for _, s := range all[off:end] {
		names = append(names, s.Name())
	}
	c.respond(api.StreamNamesResponse{
		Response: api.Response{Type: rt},
		Paged:    api.Paged{Total: len(all), Offset: off, Limit: namesPageSize},
		Streams:  names,
	})
}

func (c *apiCall) streamList(string) {
	const rt = api.TypeStreamListResponse
	var req api.StreamNamesRequest
	if e := c.decode(&req); e != nil {
		c.fail(rt, e)
		return
	}
	all := c.acc.matching(req.Subject)
	off := min(max(req.Offset, 0), len(all))
	end := min(off+listPageSize, len(all))
	infos := make([]*api.StreamInfo, 0, end-off)
	for _, s := range all[off:end] {
		si, _, _ := s.info(nil)
		withStreamMeta(si, false)
		infos = append(infos, si)
	}
	c.respond(api.StreamListResponse{
		Response: api.Response{Type: rt},
		Paged:    api.Paged{Total: len(all), Offset: off, Limit: listPageSize},
		Streams:  infos,
	})
}

func (c *apiCall) streamPurge(name string) {
	const rt = api.TypeStreamPurgeResponse
	var req api.StreamPurgeRequest
	if e := c.decode(&req); e != nil {
		c.fail(rt, e)
		return
	}
	if req.Sequence > 0 && req.Keep > 0 {
		c.fail(rt, api.ErrBadRequest)
		return
	}
	op := &stream.Op{Kind: stream.OpPurge, Purge: store.PurgeRequest{Filter: req.Subject, Seq: req.Sequence, Keep: req.Keep}}
	res, ok := c.change(rt, name, op, func(cfg *api.StreamConfig) *api.Error {
		if cfg.DenyPurge {
			return api.ErrStreamPurgeFailed.With("err", "stream purge not permitted")
		}
		return nil
	})
	if ok {
		c.respond(api.StreamPurgeResponse{Response: api.Response{Type: rt}, Success: true, Purged: res.Purged})
	}
}

func (c *apiCall) msgDelete(name string) {
	const rt = api.TypeStreamMsgDeleteResp
	var req api.MsgDeleteRequest
	if e := c.needBody(&req); e != nil {
		c.fail(rt, e)
		return
	}
	op := &stream.Op{Kind: stream.OpDelete, Seq: req.Seq, NoErase: req.NoErase}
	_, ok := c.change(rt, name, op, func(cfg *api.StreamConfig) *api.Error {
		if cfg.DenyDelete {
			return api.ErrStreamMsgDeleteFailed.With("err", "message delete not permitted")
		}
		return nil
	})
	if ok {
		c.respond(api.SuccessResponse{Response: api.Response{Type: rt}, Success: true})
	}
}

// change proposes op to the stream name unless it is sealed or deny
// refuses it; it answers the failures itself (ok false).
func (c *apiCall) change(rt, name string, op *stream.Op, deny func(*api.StreamConfig) *api.Error) (res stream.Result, ok bool) {
	se := c.lookup(rt, name)
	if se == nil {
		return res, false
	}
	cfg := se.Config()
	if cfg.Sealed {
		c.fail(rt, api.ErrStreamSealed)
		return res, false
	}
	if e := deny(&cfg); e != nil {
		c.fail(rt, e)
		return res, false
	}
	if res = se.Propose(op); res.Err != nil {
		c.fail(rt, res.Err)
		return res, false
	}
	return res, true
}

func (c *apiCall) msgGet(name string) {
	const rt = api.TypeStreamMsgGetResponse
	var req api.MsgGetRequest
	se := c.streamRequest(rt, name, &req, true)
	if se == nil {
		return
	}
	// Batches are direct get's alone. seq, last_by_subj and start_time
	// exclude each other; next_by_subj filters from seq or start_time (or
	// from the first message).
	last, start := req.LastFor != "", req.StartTime != nil
	if req.Batch > 0 || req.MaxBytes > 0 ||
		(req.Seq > 0 && last) || (req.Seq > 0 && start) || (start && last) || (last && req.NextFor != "") ||
		(req.Seq == 0 && !last && req.NextFor == "" && !start) {
		c.fail(rt, api.ErrBadRequest)
		return
	}
	var m store.StoredMsg
	var err error
	st := se.Store()
	seq := req.Seq
	if start {
		seq = stream.SeqAtTime(st, req.StartTime.UnixNano(), &m)
	}
	switch {
	case req.NextFor != "":
		err = st.LoadNextMsg(req.NextFor, seq, &m)
	case start:
		err = st.LoadNextMsg("", seq, &m)
	case seq > 0:
		err = st.LoadMsg(seq, &m)
	default:
		err = st.LoadLastMsg(req.LastFor, &m)
	}
	if err != nil {
		// Upstream answers every failed load so, a bad filter included.
		c.fail(rt, api.ErrNoMessageFound)
		return
	}
	msg := &api.StoredMsg{Subject: m.Subject, Sequence: m.Seq, Data: m.Data, Time: time.Unix(0, m.Time).UTC()}
	if !req.NoHeaders {
		msg.Header = m.Hdr
	}
	c.respond(api.MsgGetResponse{Response: api.Response{Type: rt}, Message: msg})
}

// streamStepdown answers a leader stepdown: a single server is the only
// possible leader, as upstream answers without clustering.
func (c *apiCall) streamStepdown(name string) {
	const rt = api.TypeStreamStepdownResponse
	if se := c.lookup(rt, name); se == nil {
		return
	}
	c.fail(rt, api.ErrClusterRequired)
}
