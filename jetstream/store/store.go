package store

import (
	"context"
	"io"
	"time"
)

// StreamStore holds the messages of one stream, in sequence order, and
// enforces the stream's limits.
//
// Sequences start at 1 and grow by one per stored message (SkipMsgs
// passes over a range without storing); a sequence is not reused after
// its message is removed (only Truncate, which rolls LastSeq back, hands
// sequences out again). Sequence 0 never names a message, and sequences
// stay below 2^63. Subjects given to StoreMsg are literal; every filter
// argument is a subject filter that may hold the wildcards "*" and ">", and the empty
// filter means every subject (the same as ">").
//
// All methods are safe for concurrent use. After Close or Delete every method
// returns ErrStoreClosed, except State, which returns the last known state.
type StreamStore interface {
	// StoreMsg appends a message and returns the sequence assigned to it,
	// which is the previous LastSeq plus one.
	//
	// ts is the message's time in Unix nanoseconds; 0 means now. ttl is the
	// per-message time to live (ADR-43) counted from ts: 0 means the stream's
	// MaxAge applies, NoExpiry means the message never expires by age, and a
	// positive value expires the message at ts+ttl even when that is earlier
	// or later than MaxAge allows.
	//
	// The store copies subject, hdr and data before returning; the caller may
	// reuse them at once. After the message is stored the store applies the
	// limits of its Config, which may remove older messages (reported through
	// Config.OnRemove). Returning a sequence does not mean the message is
	// durable: see Config.OnDurable and the Durable interface.
	//
	// Errors: ErrInvalidSubject if subject is empty or not a valid literal
	// subject; ErrMsgTooBig if len(hdr)+len(data) exceeds MaxMsgSize;
	// ErrMaxBytes if the message alone is larger than MaxBytes; with
	// DiscardNew, ErrMaxMsgs, ErrMaxBytes or (DiscardNewPerSubject)
	// ErrMaxMsgsPerSubject when storing would exceed that limit. A rejected
	// message consumes no sequence.
	//
	// MaxAge and TTL expiry happen on the store's own timer, in sequence
	// order for MaxAge: a message is not expired by age while an older one
	// (lower sequence, not exempt by its TTL) is still unexpired.
	StoreMsg(subject string, hdr, data []byte, ts int64, ttl time.Duration) (uint64, error)

	// LoadMsg fills into with the message stored at seq. A message past its
	// MaxAge or TTL loads until the store's timer has removed it. See
	// StoredMsg for how long the filled slices stay valid.
	//
	// Errors: ErrMsgNotFound if seq is 0, below FirstSeq, above LastSeq or
	// removed.
	LoadMsg(seq uint64, into *StoredMsg) error

	// LoadNextMsg fills into with the message of lowest sequence >= start
	// whose subject matches filter; into.Seq tells which one it was. A start
	// of 0 is treated as 1. Its cost does not grow with the number of
	// messages on subjects that do not match a literal filter.
	//
	// Errors: ErrMsgNotFound if no such message exists (the caller waits for
	// new messages and retries from the same start); ErrInvalidFilter.
	LoadNextMsg(filter string, start uint64, into *StoredMsg) error

	// LoadLastMsg fills into with the message of highest sequence whose
	// subject matches filter.
	//
	// Errors: ErrMsgNotFound if no message matches; ErrInvalidFilter.
	LoadLastMsg(filter string, into *StoredMsg) error

	// RemoveMsg removes the message at seq. Removing the first message moves
	// FirstSeq to the next stored message; removing any other leaves a gap
	// counted in StreamState.NumDeleted. OnRemove is not called.
	//
	// Errors: ErrMsgNotFound if seq holds no message.
	RemoveMsg(seq uint64) error

	// EraseMsg is RemoveMsg that also overwrites the message's bytes wherever
	// the store kept them, so they cannot be recovered from memory or disk.
	//
	// Errors: ErrMsgNotFound if seq holds no message.
	EraseMsg(seq uint64) error

	// Purge removes messages as described by req and returns how many it
	// removed. The zero PurgeRequest removes every message; afterwards
	// FirstSeq is LastSeq+1 and LastSeq is unchanged, so sequences continue.
	// Without a Filter, a Seq request is Compact(req.Seq). OnRemove is not
	// called.
	//
	// Errors: ErrInvalidPurge if both req.Seq and req.Keep are set;
	// ErrInvalidFilter.
	Purge(req PurgeRequest) (uint64, error)

	// Compact removes every message with a sequence below seq and returns
	// how many it removed. Afterwards FirstSeq is at least seq; when seq is
	// beyond LastSeq+1 the store is empty and LastSeq becomes seq-1, so the
	// next message gets sequence seq. Compact(0) and Compact(1) do nothing.
	Compact(seq uint64) (uint64, error)

	// Truncate removes every message with a sequence above seq; afterwards
	// LastSeq is seq and the next message gets seq+1. LastTime becomes the
	// time of the highest remaining message (zero if none). If seq >= LastSeq
	// Truncate does nothing. Truncate(0) removes everything and restarts
	// sequences at 1: FirstSeq is 1 and LastSeq 0 until the next message,
	// and a persistent store reopened in that state reports the same (a
	// store that never held a message reports 0 and 0). Truncate lowers the
	// durable mark to seq (see Config.OnDurable). Used to roll back a
	// replica's log.
	Truncate(seq uint64) error

	// SkipMsgs marks the n sequences seq..seq+n-1 as used without storing
	// messages, so that a mirror keeps its origin's sequence numbers across
	// the origin's gaps and a replica catches up over deleted ranges.
	// Afterwards LastSeq is seq+n-1 and the next StoreMsg gets seq+n;
	// LastTime is unchanged. If the store holds no message, FirstSeq
	// becomes seq+n (as after Compact(seq+n), but LastTime stays);
	// otherwise the skipped sequences are gaps counted in
	// StreamState.NumDeleted, which loads (LoadNextMsg) pass over and
	// FilteredState does not count. SkipMsgs(seq, 0) does nothing. OnRemove
	// is not called.
	//
	// Cost: O(1) in n. A store records a skipped range in a constant
	// amount of memory and disk; it neither writes nor indexes an entry
	// per sequence, and no later operation (loads, removals, Compact,
	// Truncate, Snapshot, Restore, recovery) walks the range sequence by
	// sequence, so skipping a million purged sequences is as cheap as
	// skipping one.
	//
	// Durability: like Purge, a persistent store makes the skip durable
	// before SkipMsgs returns: it survives a crash, and a reopened store
	// reports the same FirstSeq, LastSeq and NumDeleted. By then the
	// durable mark covers seq+n-1 (Durable.DurableSeq; Config.OnDurable is
	// called with it, from SkipMsgs if nothing else reported it first), so
	// a caller waiting for the mark, like a mirror acknowledging its
	// origin, sees skipped sequences become durable as stored ones do.
	//
	// Errors: ErrSequenceMismatch if n is not 0 and seq is not LastSeq+1,
	// or if seq+n-1 would reach 2^63; a persistent store's write error.
	SkipMsgs(seq, n uint64) error

	// State returns a summary of the stored messages. It never fails; after
	// Close it returns the state at Close.
	State() StreamState

	// FilteredState counts the messages with sequence >= start (0 means 1)
	// whose subject matches filter, and returns the lowest and highest such
	// sequence. Consumers use it for their pending counts.
	//
	// Errors: ErrInvalidFilter.
	FilteredState(filter string, start uint64) (FilteredState, error)

	// SubjectsTotals returns, for every stored subject matching filter, the
	// number of messages stored on it. The map is new and owned by the
	// caller; it is empty (not nil) when nothing matches.
	//
	// Errors: ErrInvalidFilter.
	SubjectsTotals(filter string) (map[string]uint64, error)

	// UpdateConfig replaces the store's Config. Tighter limits are applied
	// at once, removing messages (and calling the new OnRemove) as needed;
	// under DiscardNew, lower MaxMsgs and MaxBytes (and, with
	// DiscardNewPerSubject, MaxMsgsPerSubject) remove nothing and only
	// reject new messages until the store is back under them. Name cannot
	// change.
	//
	// Errors: ErrInvalidConfig.
	UpdateConfig(cfg Config) error

	// Snapshot writes a consistent point-in-time copy of the store (messages,
	// their times and TTLs, sequence gaps, and every consumer's state) to w.
	// Writes to the store may proceed while the snapshot is written. The
	// format belongs to the implementation; Restore of the same
	// implementation reads it.
	//
	// Errors: ctx.Err() if ctx ends first; any error from w, unwrapped.
	Snapshot(ctx context.Context, w io.Writer) error

	// Restore loads a snapshot written by Snapshot into a store that has
	// never held a message. Afterwards State, every message and every
	// consumer's state equal those of the snapshotted store.
	//
	// Errors: ErrNotEmpty if the store has ever held a message or skipped
	// sequences (LastSeq is not 0); an error
	// marked ErrCorrupt if r does not hold a valid snapshot; ctx.Err(); any
	// error from r.
	Restore(ctx context.Context, r io.Reader) error

	// Consumer opens the state store of the named consumer, creating
	// an empty one if none exists. Opening the same name twice returns
	// stores sharing one state.
	//
	// Errors: ErrInvalidConsumerName if name is empty or holds '/', '\\',
	// '.', '*', '>' or whitespace.
	Consumer(name string) (ConsumerStore, error)

	// Close releases the store's resources, waits for its goroutines to
	// exit and, for persistent stores, makes every stored message durable.
	// The data stays where it is. Closing twice returns ErrStoreClosed.
	Close() error

	// Delete closes the store and removes all of its data, including
	// consumer state.
	Delete() error
}

// ConsumerStore keeps the delivery state of one consumer of a stream. It is
// safe for concurrent use and is closed with its StreamStore.
type ConsumerStore interface {
	// SetState replaces the consumer's state with a copy of state; the
	// store keeps no reference to state's slices.
	//
	// Errors: ErrStoreClosed; ErrInvalidConsumerState if state fails
	// ConsumerState.Check.
	SetState(state *ConsumerState) error

	// State fills into with a copy of the consumer's state. It appends to
	// into.Pending[:0] and into.Redelivered[:0], so a caller may pass the
	// same ConsumerState again to reuse their capacity; the slices are
	// owned by the caller and set to nil when empty and without capacity. A
	// consumer never set reports the zero ConsumerState.
	//
	// Errors: ErrStoreClosed; ErrCorrupt if the persisted state cannot be
	// decoded.
	State(into *ConsumerState) error

	// Delete removes the consumer's state. The ConsumerStore cannot be used
	// afterwards, but Consumer(name) on the stream creates a fresh one.
	Delete() error
}

// Durable is implemented by stores whose writes become durable after
// StoreMsg returns (file stores with group commit). A store that does not
// implement it makes every message durable before StoreMsg returns.
//
// "Durable" means the message survives a crash of the process or the
// machine. The memory store is never durable across a restart, so it
// reports every message durable at once: it is as durable as it will get.
type Durable interface {
	// DurableSeq returns the highest sequence such that every message up to
	// and including it is durable. Removed messages count as durable.
	//
	// Removals: RemoveMsg and removals by limits or expiry become durable
	// with the next commit that covers a later store (or at Close); a crash
	// before it may bring the message back. Purge, Compact, Truncate,
	// EraseMsg, SkipMsgs and Restore are durable when they return.
	DurableSeq() uint64

	// WaitDurable blocks until DurableSeq() >= seq.
	//
	// Errors: ctx.Err() if ctx ends first; ErrStoreClosed if the store is
	// closed before seq becomes durable; a write or sync error that stopped
	// the store from making seq durable (the store is then unusable).
	WaitDurable(ctx context.Context, seq uint64) error
}
