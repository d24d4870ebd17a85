package store

import (
	"time"
)

// NoExpiry is the per-message TTL of a message that never expires by age,
// whatever the stream's MaxAge ("Nats-TTL: never").
const NoExpiry time.Duration = -1

// MsgSize is the number of bytes a message counts for in StreamState.Bytes
// and against Config.MaxBytes: its subject, header and payload plus 16 bytes
// for its sequence and time. Every StreamStore accounts with it, whatever it
// really uses, so that limits behave the same on every store.
func MsgSize(subject string, hdr, data []byte) uint64 {
	return uint64(len(subject)+len(hdr)+len(data)) + 16
}

// StoredMsg is a message as loaded from a store. Load methods fill a
// StoredMsg the caller owns, so a caller that reuses one StoredMsg loads
// without allocating.
//
// Hdr and Data are copies in Buf, which the store grows as needed and
// reuses on the next load into the same StoredMsg: they stay valid until
// that next load, and the caller may modify them. Subject is an ordinary Go
// string and stays valid for ever.
type StoredMsg struct {
	Subject string
	Hdr     []byte // nil when the message has no header
	Data    []byte // nil when the payload is empty
	Seq     uint64
	Time    int64 // Unix nanoseconds

	// Buf is scratch space backing Hdr and Data; stores reuse its capacity.
	Buf []byte
}

// Set fills m with a copy of hdr and data in m.Buf, growing it only when it
// is too small. Store implementations use it to fill a caller's StoredMsg.
func (m *StoredMsg) Set(subject string, hdr, data []byte, seq uint64, ts int64) {
	n := len(hdr) + len(data)
	if cap(m.Buf) < n {
		m.Buf = make([]byte, n)
	}
	m.Buf = m.Buf[:n]
	copy(m.Buf, hdr)
	copy(m.Buf[len(hdr):], data)
	m.Hdr, m.Data = nil, nil
	if len(hdr) > 0 {
		m.Hdr = m.Buf[:len(hdr):len(hdr)]
	}
	if len(data) > 0 {
		m.Data = m.Buf[len(hdr):n:n]
	}
	m.Subject, m.Seq, m.Time = subject, seq, ts
}

// StreamState summarises a store. Its JSON form uses the field names of the
// upstream server's stream info, so it can be rendered as is.
//
// An empty store that never held a message has FirstSeq and LastSeq 0.
// Otherwise an empty store has FirstSeq == LastSeq+1, and FirstTime zero.
// LastSeq is the last sequence assigned (its message may have been removed
// since) and LastTime that message's time; after a Compact past the end or
// a Truncate, LastTime is the time of the highest remaining message, or zero.
type StreamState struct {
	Msgs        uint64    `json:"messages"`
	Bytes       uint64    `json:"bytes"` // sum of MsgSize over stored messages
	FirstSeq    uint64    `json:"first_seq"`
	FirstTime   time.Time `json:"first_ts"`
	LastSeq     uint64    `json:"last_seq"`
	LastTime    time.Time `json:"last_ts"`
	NumSubjects int       `json:"num_subjects,omitempty"`
	// NumDeleted counts the sequences in [FirstSeq, LastSeq] that hold no
	// message.
	NumDeleted int `json:"num_deleted,omitempty"`
	// Lost reports messages a persistent store found damaged and dropped
	// while recovering; nil if none.
	Lost      *LostData `json:"lost,omitempty"`
	Consumers int       `json:"consumer_count"`
}

// LostData lists messages dropped while recovering from damage.
type LostData struct {
	Msgs  []uint64 `json:"msgs"`
	Bytes uint64   `json:"bytes"`
}

// FilteredState is what FilteredState reports: how many messages match, and
// the lowest and highest matching sequence (both 0 when Msgs is 0).
type FilteredState struct {
	Msgs  uint64 `json:"messages"`
	First uint64 `json:"first_seq"`
	Last  uint64 `json:"last_seq"`
}

// PurgeRequest selects the messages Purge removes. Seq and Keep cannot both
// be set.
type PurgeRequest struct {
	// Filter restricts the purge to messages whose subject matches it; ""
	// means every subject.
	Filter string
	// Seq, if not 0, removes only the messages with a sequence below Seq.
	Seq uint64
	// Keep, if not 0, keeps the Keep messages with the highest sequences
	// among those matching Filter and removes the other matching ones.
	Keep uint64
}

// DiscardPolicy says what a full store does with a new message.
type DiscardPolicy uint8

const (
	// DiscardOld removes the oldest messages to make room (the default).
	DiscardOld DiscardPolicy = iota
	// DiscardNew rejects the new message with ErrMaxMsgs or ErrMaxBytes.
	DiscardNew
)

// String returns "old" or "new", as the upstream configuration spells them.
func (p DiscardPolicy) String() string {
	switch p {
	case DiscardOld:
		return "old"
	case DiscardNew:
		return "new"
	}
	return "unknown"
}

// RemoveReason says why a store removed a message by itself.
type RemoveReason uint8

const (
	RemovedMaxMsgs           RemoveReason = iota + 1 // Config.MaxMsgs with DiscardOld
	RemovedMaxBytes                                  // Config.MaxBytes with DiscardOld
	RemovedMaxAge                                    // Config.MaxAge
	RemovedMaxMsgsPerSubject                         // Config.MaxMsgsPerSubject
	RemovedTTL                                       // the message's own TTL
)

// String returns the limit's name as upstream's marker headers spell it
// ("MaxAge", ...).
func (r RemoveReason) String() string {
	switch r {
	case RemovedMaxMsgs:
		return "MaxMsgs"
	case RemovedMaxBytes:
		return "MaxBytes"
	case RemovedMaxAge:
		return "MaxAge"
	case RemovedMaxMsgsPerSubject:
		return "MaxMsgsPerSubject"
	case RemovedTTL:
		return "TTL"
	}
	return "unknown"
}

// Config is a store's configuration. The zero Config is a store without
// limits. Limits of zero or less mean "no limit". Constructors and
// UpdateConfig return ErrInvalidConfig when DiscardNewPerSubject is set
// without DiscardNew, or (UpdateConfig) when Name changes.
type Config struct {
	// Name names the stream; persistent stores may use it in errors and
	// files.
	Name string

	MaxMsgs           int64         // messages in the store
	MaxBytes          int64         // sum of MsgSize over the store
	MaxAge            time.Duration // age of a message, from its time
	MaxMsgsPerSubject int64         // messages per subject; the oldest go first
	MaxMsgSize        int           // len(hdr)+len(data) of one message

	// Discard applies to MaxMsgs and MaxBytes. MaxAge and, unless
	// DiscardNewPerSubject is set, MaxMsgsPerSubject always remove old
	// messages.
	Discard DiscardPolicy
	// DiscardNewPerSubject, with Discard == DiscardNew, rejects a message
	// whose subject already holds MaxMsgsPerSubject messages with
	// ErrMaxMsgsPerSubject instead of removing that subject's oldest.
	DiscardNewPerSubject bool

	// OnRemove, if set, is called for every message the store removes by
	// itself because of a limit or a TTL (never for RemoveMsg, EraseMsg,
	// Purge, Compact or Truncate). It is called without any store lock held,
	// after the removal, from the goroutine of the StoreMsg or UpdateConfig
	// that caused it or from a goroutine of the store (expiry); it may call
	// the store's methods, StoreMsg included (to write a delete marker), but
	// not Close or Delete. Calls from different goroutines may overlap.
	OnRemove func(seq uint64, subject string, reason RemoveReason)

	// OnDurable, if set, is called with a sequence once every message up to
	// and including it is durable (see Durable). Successive calls carry
	// increasing sequences, except after Truncate: it lowers the mark to
	// its seq, and the next call may carry a smaller sequence than the last
	// one before it. One call may cover many messages. It is called
	// without the store's data lock held; a store that makes messages
	// durable before StoreMsg returns calls it from StoreMsg. It must not
	// block or call the store's methods: hand the sequence to another
	// goroutine if acks need work. By the time Close returns without error,
	// OnDurable has reported the last stored sequence.
	OnDurable func(seq uint64)
}

// SequencePair is a consumer sequence and the stream sequence it delivered.
type SequencePair struct {
	Consumer uint64 `json:"consumer_seq"`
	Stream   uint64 `json:"stream_seq"`
}

// Pending is a delivered message that waits for its ack: 24 bytes.
type Pending struct {
	Stream    uint64 `json:"stream_seq"`   // stream sequence of the message
	Consumer  uint64 `json:"consumer_seq"` // consumer sequence of its last delivery
	Timestamp int64  `json:"ts"`           // Unix nanoseconds of its last delivery
}

// Redelivered counts the extra deliveries of one pending message.
type Redelivered struct {
	Stream uint64 `json:"stream_seq"` // stream sequence of the message
	Count  uint64 `json:"count"`      // deliveries after the first (> 0)
}

// ConsumerState is the delivery state of a consumer. It is compact: a
// pending ack costs one 24-byte Pending entry, not a map entry, and the
// file store encodes it in a few bytes (varint deltas).
type ConsumerState struct {
	// Delivered is the highest sequence pair delivered.
	Delivered SequencePair `json:"delivered"`
	// AckFloor is the highest pair such that it and everything before it
	// were acknowledged.
	AckFloor SequencePair `json:"ack_floor"`
	// Pending lists the messages delivered but not acked, in strictly
	// increasing Stream order.
	Pending []Pending `json:"pending,omitempty"`
	// Redelivered lists the pending messages delivered more than once, in
	// strictly increasing Stream order.
	Redelivered []Redelivered `json:"redelivered,omitempty"`
}

// Check reports ErrInvalidConsumerState unless Pending and Redelivered are
// in strictly increasing Stream order and every Redelivered.Count is
// positive.
func (st *ConsumerState) Check() error {
	var prev uint64
	for i, p := range st.Pending {
		if i > 0 && p.Stream <= prev {
			return ErrInvalidConsumerState
		}
		prev = p.Stream
	}
	for i, r := range st.Redelivered {
		if (i > 0 && r.Stream <= prev) || r.Count == 0 {
			return ErrInvalidConsumerState
		}
		prev = r.Stream
	}
	return nil
}
