package stream

import (
	"time"

	"natsd.dev/jetstream/internal/hdr"
	"natsd.dev/jetstream/store"
)

// Subject delete markers (ADR-43). With subject_delete_marker_ttl set,
// when age (MaxAge, or a message's own Nats-TTL) removes the last message
// of a subject, the stream stores an empty message on that subject with
//
//	Nats-Marker-Reason: MaxAge
//	Nats-TTL: <subject_delete_marker_ttl>
//	Nats-Rollup: sub
//
// so that watchers learn about the removal. The reason is MaxAge for both
// triggers, as upstream. A marker that expires in turn leaves no marker.
//
// The store reports removals through Config.OnRemove, possibly on the
// goroutine of a StoreMsg or UpdateConfig the stream makes under mu, so
// onRemove only queues; the marker writer stores markers under mu, through
// the same publish path as any message.

// MarkerReasonMaxAge is the Nats-Marker-Reason of a marker left by age.
const MarkerReasonMaxAge = "MaxAge"

type removal struct {
	seq     uint64
	subject string
	reason  store.RemoveReason
}

// onRemove is the store's OnRemove.
func (s *Stream) onRemove(seq uint64, subject string, reason store.RemoveReason) {
	if f := s.opts.OnRemove; f != nil {
		f(seq, subject)
	}
	if s.sdmTTL.Load() <= 0 {
		return
	}
	s.markMu.Lock()
	s.markQ = append(s.markQ, removal{seq: seq, subject: subject, reason: reason})
	s.markMu.Unlock()
	select {
	case s.markKick <- struct{}{}:
	default:
	}
}

// markerLoop writes the markers the store's removals call for.
func (s *Stream) markerLoop() {
	defer s.bgWG.Done()
	for {
		select {
		case <-s.markKick:
			s.writeMarkers()
		case <-s.done:
			return
		}
	}
}

func (s *Stream) writeMarkers() {
	s.markMu.Lock()
	q := s.markQ
	s.markQ = nil
	s.markMu.Unlock()
	for _, r := range q {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		s.markLocked(r)
		s.mu.Unlock()
	}
}

// markLocked stores a marker for r if r removed the last message of its
// subject by age and was not itself a marker.
func (s *Stream) markLocked(r removal) {
	if _, ok := s.markers[r.seq]; ok {
		delete(s.markers, r.seq)
		return
	}
	ttl := s.cfg.SubjectDeleteMarkerTTL
	if ttl <= 0 || (r.reason != store.RemovedMaxAge && r.reason != store.RemovedTTL) {
		return
	}
	if err := s.st.LoadLastMsg(r.subject, &s.scratch); err == nil {
		return // the subject still holds a message
	}
	h := hdr.NewBuilder(nil, 0, "").
		Add(hdr.MarkerReason, MarkerReasonMaxAge).
		Add(hdr.TTL, ttl.Truncate(time.Second).String()).
		Add(hdr.Rollup, "sub").
		Bytes()
	s.applyLocked(&Op{Kind: OpMsg, Subject: r.subject, Hdr: h, TS: time.Now().UnixNano(), Marker: true})
}
