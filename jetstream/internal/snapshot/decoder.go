package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"natsd.dev/jetstream/api"
	"natsd.dev/jetstream/internal/stream"
	"natsd.dev/sublist"
)

// Entry names of the metadata entries.
const (
	StateEntry     = "state.json"
	ConsumerPrefix = "consumers/"
)

// WriteState writes the leading state.json entry.
func (w *Writer) WriteState(ts int64, st *api.StreamState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return w.WriteEntry(Header{Name: StateEntry, Timestamp: ts}, nil, b)
}

// WriteConsumer writes the entry of the consumer name: meta is its JSON
// {"config": ..., "state": ...}.
func (w *Writer) WriteConsumer(name string, meta []byte) error {
	return w.WriteEntry(Header{Name: ConsumerPrefix + name}, nil, meta)
}

// WriteMsg writes a message entry.
func (w *Writer) WriteMsg(subject string, seq uint64, ts int64, hdr, data []byte) error {
	return w.WriteEntry(Header{Name: subject, Sequence: seq, Timestamp: ts}, hdr, data)
}

// Kind is what an Item holds.
type Kind uint8

// Kinds of items, in the order they come.
const (
	KindState Kind = iota + 1
	KindConsumer
	KindMsg
	KindEnd
)

// Item is one decoded entry.
type Item struct {
	Kind Kind
	// State is the stream state (KindState).
	State api.StreamState
	// Name is the consumer's name (KindConsumer).
	Name string
	// Subject, Seq and Time (Unix nanoseconds) are a message's
	// (KindMsg).
	Subject string
	Seq     uint64
	Time    int64
	// Hdr and Data are a message's header block and body; Meta is a
	// metadata entry's JSON. They are views valid until the next call.
	Hdr, Data, Meta []byte
}

// Decoder reads an archive's items and enforces the rules of the format:
// state.json first, exactly consumer_count consumers, messages in strictly
// ascending sequence within the state's range, then the sentinel and
// nothing after it.
type Decoder struct {
	r      *Reader
	maxMsg uint64
	phase  Kind // the kind of the last item returned; 0 before any
	state  api.StreamState
	left   int    // consumer entries still expected
	prev   uint64 // the last message's sequence, or first_seq-1
	done   bool
}

// NewDecoder decodes the items of r. maxMsg bounds a message's header
// block plus body.
func NewDecoder(r *Reader, maxMsg uint64) *Decoder {
	return &Decoder{r: r, maxMsg: maxMsg}
}

// Next returns the next item. After KindEnd it returns io.EOF if the input
// ends there. Errors about the archive are marked ErrInvalid.
func (d *Decoder) Next() (Item, error) {
	var it Item
	limit := d.maxMsg
	if d.phase < KindMsg && limit < MaxMetaLen {
		limit = MaxMetaLen
	}
	h, p, err := d.r.Next(limit)
	if errors.Is(err, io.EOF) {
		if d.phase == KindEnd && !d.done {
			d.done = true
			return it, io.EOF
		}
		return it, truncated("no end-of-archive sentinel")
	}
	if err != nil {
		return it, err
	}
	switch {
	case d.phase == KindEnd:
		return it, invalid("data after the end-of-archive sentinel")
	case d.phase == 0:
		return d.stateItem(h, p)
	case h.IsEnd():
		if d.left > 0 {
			return it, invalid("%d consumer entries missing", d.left)
		}
		d.phase = KindEnd
		return Item{Kind: KindEnd}, nil
	case d.left > 0:
		return d.consumerItem(h, p)
	default:
		return d.msgItem(h, p)
	}
}

func (d *Decoder) stateItem(h Header, p []byte) (Item, error) {
	if h.Name != StateEntry || h.Sequence != 0 || h.HeaderSize != 0 {
		return Item{}, invalid("first entry is %q, not %s", h.Name, StateEntry)
	}
	var st api.StreamState
	if err := json.Unmarshal(p, &st); err != nil {
		return Item{}, invalid("%s: %v", StateEntry, err)
	}
	f, l := st.FirstSeq, st.LastSeq
	switch {
	case st.Consumers < 0:
		return Item{}, invalid("negative consumer count")
	case f == 0 && (l != 0 || st.Msgs != 0):
		return Item{}, invalid("inconsistent sequences: first %d, last %d, %d messages", f, l, st.Msgs)
	case f > 0 && (f > l+1 || l == ^uint64(0) || st.Msgs > l+1-f || (st.Msgs == 0 && f != l+1)):
		return Item{}, invalid("inconsistent sequences: first %d, last %d, %d messages", f, l, st.Msgs)
	}
	d.state, d.left, d.phase = st, st.Consumers, KindState
	if f > 0 {
		d.prev = f - 1
	}
	return Item{Kind: KindState, State: st, Meta: p}, nil
}

func (d *Decoder) consumerItem(h Header, p []byte) (Item, error) {
	name, ok := strings.CutPrefix(h.Name, ConsumerPrefix)
	if !ok || h.Sequence != 0 || h.HeaderSize != 0 {
		return Item{}, invalid("entry %q where a consumer was expected", h.Name)
	}
	if !stream.ValidName(name) {
		return Item{}, invalid("invalid consumer name %q", name)
	}
	var c struct {
		Config json.RawMessage `json:"config"`
		State  json.RawMessage `json:"state"`
	}
	if err := json.Unmarshal(p, &c); err != nil {
		return Item{}, invalid("consumer %q: %v", name, err)
	}
	if isNull(c.Config) || isNull(c.State) {
		return Item{}, invalid("consumer %q without config or state", name)
	}
	d.left--
	d.phase = KindConsumer
	return Item{Kind: KindConsumer, Name: name, Meta: p}, nil
}

func isNull(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || string(b) == "null"
}

func (d *Decoder) msgItem(h Header, p []byte) (Item, error) {
	if h.Sequence == 0 || h.Sequence <= d.prev || h.Sequence > d.state.LastSeq {
		return Item{}, invalid("message sequence %d out of order (after %d, last %d)", h.Sequence, d.prev, d.state.LastSeq)
	}
	if !sublist.ValidLiteralSubject(h.Name) {
		return Item{}, invalid("message %d: invalid subject %q", h.Sequence, h.Name)
	}
	if h.HeaderSize+h.PayloadSize > d.maxMsg {
		return Item{}, invalid("message %d of %d bytes", h.Sequence, h.HeaderSize+h.PayloadSize)
	}
	hdr := p[:h.HeaderSize]
	if len(hdr) > 0 && (!bytes.HasPrefix(hdr, []byte("NATS/1.0")) || !bytes.HasSuffix(hdr, []byte("\r\n\r\n"))) {
		return Item{}, invalid("message %d: malformed header block", h.Sequence)
	}
	d.prev = h.Sequence
	d.phase = KindMsg
	return Item{Kind: KindMsg, Subject: h.Name, Seq: h.Sequence, Time: h.Timestamp, Hdr: hdr, Data: p[h.HeaderSize:]}, nil
}
