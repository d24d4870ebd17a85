package jetstream

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"natsd.dev/jetstream/api"
	"natsd.dev/jetstream/store"
)

// archivedConsumer is a consumer entry of a NATSARC1 archive.
type archivedConsumer struct {
	name string
	meta []byte // the entry: {"config": ..., "state": ...}
	cfg  api.ConsumerConfig
	st   store.ConsumerState
}

// archiveState is a consumer's state as archives carry it, in upstream's
// shape: pending and redelivered keyed by stream sequence.
type archiveState struct {
	Delivered   store.SequencePair        `json:"delivered"`
	AckFloor    store.SequencePair        `json:"ack_floor"`
	Pending     map[string]archivePending `json:"pending,omitempty"`
	Redelivered map[string]uint64         `json:"redelivered,omitempty"`
}

type archivePending struct {
	Sequence  uint64 `json:"sequence"`
	Timestamp int64  `json:"ts"`
}

type archiveEntry struct {
	Config api.ConsumerConfig `json:"config"`
	State  archiveState       `json:"state"`
}

// archiveConsumers returns the entries of the stream's durable consumers,
// with their state now (ephemeral consumers are not archived).
func (se *streamEntry) archiveConsumers() []archivedConsumer {
	var out []archivedConsumer
	for _, c := range se.cons.list() {
		if c.ephem {
			continue
		}
		c.flushMu.Lock()
		c.mu.Lock()
		cfg := c.cfg
		st := c.stateLocked()
		e := archiveEntry{Config: cfg, State: archiveState{Delivered: st.Delivered, AckFloor: st.AckFloor}}
		if len(st.Pending) > 0 {
			e.State.Pending = make(map[string]archivePending, len(st.Pending))
			for _, p := range st.Pending {
				e.State.Pending[strconv.FormatUint(p.Stream, 10)] = archivePending{Sequence: p.Consumer, Timestamp: p.Timestamp}
			}
		}
		if len(st.Redelivered) > 0 {
			e.State.Redelivered = make(map[string]uint64, len(st.Redelivered))
			for _, r := range st.Redelivered {
				e.State.Redelivered[strconv.FormatUint(r.Stream, 10)] = r.Count
			}
		}
		c.mu.Unlock()
		c.flushMu.Unlock()
		b, err := json.Marshal(e)
		if err != nil {
			continue
		}
		out = append(out, archivedConsumer{name: c.name, meta: b})
	}
	slices.SortFunc(out, func(a, b archivedConsumer) int {
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
	return out
}

// decodeArchivedConsumer reads a consumer entry of an archive.
func decodeArchivedConsumer(name string, meta []byte) (archivedConsumer, error) {
	var e archiveEntry
	if err := json.Unmarshal(meta, &e); err != nil {
		return archivedConsumer{}, fmt.Errorf("consumer %q: %w", name, err)
	}
	ac := archivedConsumer{name: name, meta: meta, cfg: e.Config}
	ac.st.Delivered, ac.st.AckFloor = e.State.Delivered, e.State.AckFloor
	for k, p := range e.State.Pending {
		seq, err := strconv.ParseUint(k, 10, 64)
		if err != nil {
			return archivedConsumer{}, fmt.Errorf("consumer %q: pending sequence %q", name, k)
		}
		ac.st.Pending = append(ac.st.Pending, store.Pending{Stream: seq, Consumer: p.Sequence, Timestamp: p.Timestamp})
	}
	slices.SortFunc(ac.st.Pending, func(a, b store.Pending) int { return cmpU64(a.Stream, b.Stream) })
	for k, n := range e.State.Redelivered {
		seq, err := strconv.ParseUint(k, 10, 64)
		if err != nil || n == 0 {
			return archivedConsumer{}, fmt.Errorf("consumer %q: redelivered entry %q", name, k)
		}
		ac.st.Redelivered = append(ac.st.Redelivered, store.Redelivered{Stream: seq, Count: n})
	}
	slices.SortFunc(ac.st.Redelivered, func(a, b store.Redelivered) int { return cmpU64(a.Stream, b.Stream) })
	if err := ac.st.Check(); err != nil {
		return archivedConsumer{}, fmt.Errorf("consumer %q: %w", name, err)
	}
	return ac, nil
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// restoreConsumer recreates an archived consumer on a restored stream,
// with its configuration checked as a create's and its delivery state.
func (se *streamEntry) restoreConsumer(ac archivedConsumer, created time.Time) error {
	cfg := ac.cfg
	cfg.Metadata = stripVersionMeta(cfg.Metadata)
	if cfg.Name == "" {
		cfg.Name = ac.name
	}
	if cfg.Name != ac.name || (cfg.Durable != "" && cfg.Durable != ac.name) {
		return fmt.Errorf("entry name %q does not match its configuration", ac.name)
	}
	if e := se.checkConsumerConfig(&cfg); e != nil {
		return e
	}
	if !cfg.MemoryStorage || se.storage == api.MemoryStorage {
		cs, err := se.Store().Consumer(ac.name)
		if err != nil {
			return err
		}
		if err := cs.SetState(&ac.st); err != nil {
			return err
		}
	}
	if se.persistent() && !cfg.MemoryStorage {
		if err := writeConsumerMeta(se.consumerDir(), ac.name, consumerMeta{Config: cfg, Created: created}); err != nil {
			return err
		}
	}
	_, err := se.newConsumer(cfg, created, true)
	return err
}
