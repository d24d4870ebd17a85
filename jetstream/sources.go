package jetstream

import (
	"errors"
	"strconv"
	"sync"
	"time"

	"natsd.dev/jetstream/api"
	"natsd.dev/jetstream/internal/hdr"
	"natsd.dev/jetstream/internal/stream"
	"natsd.dev/jetstream/store"
	"natsd.dev/sublist"
)

// A sourcer copies the messages of an origin stream of the same account
// into a mirror or a stream with sources, in origin order, from where the
// copy left off. It reads the origin's store directly and waits for the
// origin's next message when it has caught up.
type sourcer struct {
	se     *streamEntry
	cfg    api.StreamSource
	mirror bool
	iname  string // the source's name in Nats-Stream-Source
	filter string // the store filter to read with ("" for all)
	xforms []*sublist.Transform

	mu     sync.Mutex
	next   uint64 // next origin sequence to read
	active time.Time
	err    *api.Error

	stop chan struct{}
	done chan struct{}
}

// startSources starts the stream's mirror or sources.
func (se *streamEntry) startSources(cfg *api.StreamConfig) {
	if cfg.Mirror != nil {
		se.sources = append(se.sources, newSourcer(se, *cfg.Mirror, true))
	}
	for _, s := range cfg.Sources {
		if s != nil {
			se.sources = append(se.sources, newSourcer(se, *s, false))
		}
	}
	for _, s := range se.sources {
		go s.run()
	}
}

// stopSources stops the stream's sourcers and waits for them.
func (se *streamEntry) stopSources() {
	for _, s := range se.sources {
		close(s.stop)
	}
	for _, s := range se.sources {
		<-s.done
	}
	se.sources = nil
}

func newSourcer(se *streamEntry, cfg api.StreamSource, mirror bool) *sourcer {
	s := &sourcer{se: se, cfg: cfg, mirror: mirror, iname: cfg.Name, filter: cfg.FilterSubject,
		stop: make(chan struct{}), done: make(chan struct{})}
	for _, t := range cfg.SubjectTransforms {
		src := t.Source
		if src == "" {
			src = ">"
		}
		if x, err := sublist.NewTransform(src, t.Destination); err == nil {
			s.xforms = append(s.xforms, x)
		}
	}
	if len(cfg.SubjectTransforms) == 1 && s.filter == "" {
		s.filter = cfg.SubjectTransforms[0].Source
	} else if len(cfg.SubjectTransforms) > 1 {
		s.filter = "" // several filters: read everything and match here
	}
	return s
}

// origin returns the stream to copy from, or nil with the error to show.
func (s *sourcer) origin() (*streamEntry, *api.Error) {
	if s.cfg.External != nil {
		return nil, api.ErrStreamGeneral.With("err", "sourcing through an external API prefix is not supported yet")
	}
	// The lock-free list: origin runs under the account's lock (info)
	// and while an update holding it waits for this sourcer to stop.
	for _, o := range s.se.acc.streamList() {
		if o.Name() == s.cfg.Name {
			return o, nil
		}
	}
	return nil, api.ErrStreamNotFound
}

// start computes the first origin sequence to read.
func (s *sourcer) start(o *streamEntry) uint64 {
	st := s.se.State()
	if s.mirror {
		if st.LastSeq > 0 {
			return st.LastSeq + 1
		}
	} else if seq, ok := s.resume(st); ok {
		return seq + 1
	}
	if s.cfg.OptStartSeq > 0 {
		return s.cfg.OptStartSeq
	}
	if t := s.cfg.OptStartTime; t != nil {
		var m store.StoredMsg
		return stream.SeqAtTime(o.Store(), t.UnixNano(), &m)
	}
	return 1
}

// resume finds the origin sequence of the last message this source
// stored, from the Nats-Stream-Source header of the stream's messages.
func (s *sourcer) resume(st store.StreamState) (uint64, bool) {
	var m store.StoredMsg
	prefix := s.iname + " "
	for seq := st.LastSeq; seq >= st.FirstSeq && seq > 0; seq-- {
		if s.se.Store().LoadMsg(seq, &m) != nil {
			continue
		}
		v := string(hdr.Get(m.Hdr, hdr.StreamSource))
		if len(v) > len(prefix) && v[:len(prefix)] == prefix {
			rest := v[len(prefix):]
			end := 0
			for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
				end++
			}
			if n, err := strconv.ParseUint(rest[:end], 10, 64); err == nil {
				return n, true
			}
		}
	}
	return 0, false
}

func (s *sourcer) setErr(e *api.Error) {
	s.mu.Lock()
	s.err = e
	s.active = time.Now()
	s.mu.Unlock()
}

// run copies until stop.
func (s *sourcer) run() {
	defer close(s.done)
	retry := time.NewTicker(time.Second)
	defer retry.Stop()
	var o *streamEntry
	var m store.StoredMsg
	// wait blocks until stop (false), wake or the retry tick.
	wait := func(wake <-chan struct{}) bool {
		select {
		case <-s.stop:
			return false
		case <-wake:
		case <-retry.C: // also: the origin may have been deleted
		}
		return true
	}
	for {
		if o == nil || o.isStopped() {
			var e *api.Error
			o, e = s.origin()
			s.setErr(e)
			if o == nil {
				if !wait(nil) {
					return
				}
				continue
			}
			s.mu.Lock()
			s.next = s.start(o)
			s.mu.Unlock()
		}
		wake := o.waitNew()
		s.mu.Lock()
		next := s.next
		s.mu.Unlock()
		err := o.Store().LoadNextMsg(s.filter, next, &m)
		switch {
		case errors.Is(err, store.ErrMsgNotFound):
			s.setErr(nil)
		case err != nil:
			s.setErr(api.ErrStreamGeneral.WithErr(err))
			wake = nil
		case s.copy(&m):
			s.mu.Lock()
			s.next = m.Seq + 1
			s.active = time.Now()
			s.mu.Unlock()
			select {
			case <-s.stop:
				return
			default:
			}
			continue
		default:
			wake = nil // the copy failed: retry on the tick
		}
		if !wait(wake) {
			return
		}
	}
}

// copy stores m in the stream; false if it must be retried.
func (s *sourcer) copy(m *store.StoredMsg) bool {
	subject := m.Subject
	if len(s.xforms) > 0 {
		matched := false
		for _, x := range s.xforms {
			if x.Match(subject) {
				if t, err := x.Apply(subject); err == nil {
					subject = t
				}
				matched = true
				break
			}
		}
		if !matched {
			return true // outside every filter: skip it
		}
	}
	op := &stream.Op{Kind: stream.OpSource, Subject: subject, Hdr: m.Hdr, Data: m.Data, TS: time.Now().UnixNano()}
	if s.mirror {
		op.Kind, op.Seq, op.TS = stream.OpMirror, m.Seq, m.Time
	} else {
		filter, dest := s.filter, ""
		if filter == "" {
			filter = ">"
		}
		if len(s.cfg.SubjectTransforms) == 1 {
			dest = s.cfg.SubjectTransforms[0].Destination
		}
		v := s.iname + " " + strconv.FormatUint(m.Seq, 10) + " " + filter + " " + dest
		op.Hdr = hdr.NewBuilder(nil, 0, "").AddFrom(m.Hdr, hdr.StreamSource).Add(hdr.StreamSource, v).Bytes()
	}
	res := s.se.Propose(op)
	if res.Err != nil {
		s.setErr(res.Err)
		return false
	}
	s.se.notifyNew()
	return true
}

// info reports the sourcer's progress.
func (s *sourcer) info() *api.StreamSourceInfo {
	s.mu.Lock()
	next, active, e := s.next, s.active, s.err
	s.mu.Unlock()
	si := &api.StreamSourceInfo{Name: s.cfg.Name, External: s.cfg.External, FilterSubject: s.cfg.FilterSubject,
		SubjectTransforms: s.cfg.SubjectTransforms, Error: e, Active: -1}
	if !active.IsZero() {
		si.Active = time.Since(active)
	}
	if o, _ := s.origin(); o != nil && next > 0 {
		if fs, err := o.Store().FilteredState(s.filter, next); err == nil {
			si.Lag = fs.Msgs
		}
	}
	return si
}
