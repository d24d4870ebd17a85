package stream

import (
	"encoding/json"
	"time"
)

// dedupe remembers the Nats-Msg-Id of the messages stored within the
// duplicate window, in time order so that expiry pops from the front.
type dedupe struct {
	window time.Duration
	ids    map[string]uint64
	queue  []dedupeEntry
	head   int
}

type dedupeEntry struct {
	id  string
	seq uint64
	ts  int64
}

func (d *dedupe) expire(now int64) {
	cut := now - int64(d.window)
	for d.head < len(d.queue) && d.queue[d.head].ts < cut {
		e := d.queue[d.head]
		if d.ids[e.id] == e.seq {
			delete(d.ids, e.id)
		}
		d.queue[d.head] = dedupeEntry{}
		d.head++
	}
	if d.head > 1024 && d.head*2 > len(d.queue) {
		d.queue = append(d.queue[:0], d.queue[d.head:]...)
		d.head = 0
	}
}

// lookup returns the sequence of id if it was stored within the window.
func (d *dedupe) lookup(id string, now int64) (uint64, bool) {
	if d.window <= 0 || d.ids == nil {
		return 0, false
	}
	d.expire(now)
	seq, ok := d.ids[id]
	return seq, ok
}

func (d *dedupe) add(id string, seq uint64, ts int64) {
	if d.window <= 0 {
		return
	}
	if d.ids == nil {
		d.ids = make(map[string]uint64)
	}
	d.ids[id] = seq
	d.queue = append(d.queue, dedupeEntry{id: id, seq: seq, ts: ts})
}

func (d *dedupe) reset() {
	d.ids, d.queue, d.head = nil, nil, 0
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
