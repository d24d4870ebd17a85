// Package store defines StreamStore, the storage seam of JetStream: what a
// stream needs from the place its messages live, whether memory or disk.
//
// The stream and consumer code consume this interface; the memstore and
// filestore packages implement it; the storetest package holds the
// conformance suite that every implementation must pass.
//
// # Usage
//
// A store is opened by its implementation's constructor with a Config that
// carries the stream's limits and two callbacks:
//
//	s, err := memstore.New(store.Config{
//		Name:     "ORDERS",
//		MaxMsgs:  1_000_000,
//		MaxAge:   24 * time.Hour,
//		OnRemove: func(seq uint64, subj string, why store.RemoveReason) { ... },
//	})
//
// Then:
//
//  1. StoreMsg appends a message and returns its sequence. Sequences start
//     at 1, grow by one and are not reused. The store then applies its
//     limits; messages it removes by itself are reported to OnRemove.
//  2. The caller acknowledges the publish once the sequence is durable: it
//     waits for Config.OnDurable to report a sequence at least as high, or
//     calls WaitDurable if the store implements Durable (see Durability).
//  3. Consumers read with LoadNextMsg(filter, start, &m), advancing start to
//     m.Seq+1; on ErrMsgNotFound they wait for new messages and retry with
//     the same start. LoadMsg reads one sequence, LoadLastMsg the newest
//     message on a subject (KV "get").
//  4. Administrative operations are RemoveMsg, EraseMsg, Purge, Compact,
//     Truncate and UpdateConfig; State, FilteredState and SubjectsTotals
//     report. SkipMsgs uses up sequences without storing messages: a
//     mirror keeps its origin's numbering across the origin's gaps.
//  5. Consumer(name) opens the small ConsumerStore that keeps a consumer's
//     delivered and ack state with the stream's data. The state is compact:
//     pending acks are a sorted slice (24 bytes each in memory), and both
//     stores keep it encoded with varint deltas (about 4 bytes each).
//  6. Snapshot writes a consistent copy; Restore fills a fresh store from
//     it. Close stops the store, Delete also drops its data.
//
// # Concurrency
//
// Every method of StreamStore and ConsumerStore is safe for concurrent use.
// Stores never call OnRemove with a lock held, so it may call back into the
// store (to write a delete marker, say). A store may run goroutines of its
// own (expiry timers, flushers); Close stops them and waits for them, so
// after Close returns the store's own goroutines run no callback.
//
// Time-driven behaviour (MaxAge, per-message TTL) uses the time package's
// clock and timers, so tests drive it with testing/synctest.
//
// # Memory
//
// Every argument slice is copied before the method returns: the caller may
// reuse subject, header and payload buffers at once. Loads fill a StoredMsg
// that the caller owns; the header and payload are copied into its Buf,
// whose capacity the next load into the same StoredMsg reuses. A caller that
// keeps one StoredMsg per reader therefore loads without allocating, and
// must copy Hdr or Data it wants to keep beyond its next load. Maps returned
// by SubjectsTotals are new and owned by the caller; ConsumerStore.State
// appends to the caller's slices, which it then owns.
//
// Byte accounting (StreamState.Bytes, Config.MaxBytes) uses MsgSize, the
// same for every implementation.
//
// # Errors
//
// Methods return the sentinel errors of this package, possibly wrapped with
// detail; test them with errors.Is. ErrMsgNotFound means "no such message"
// for loads and removes alike. ErrMaxMsgs, ErrMaxBytes and
// ErrMaxMsgsPerSubject happen only under DiscardNew; ErrMsgTooBig under
// MaxMsgSize. ErrCorrupt is a mark: any error caused by damaged data wraps
// it, so recovery code finds it through any amount of wrapping. After Close
// or Delete, methods return ErrStoreClosed.
//
// # Durability
//
// A sequence returned by StoreMsg names a stored message that loads and
// counts immediately, but it is not necessarily durable: durable means it
// survives a crash of the process or of the machine. A persistent store
// makes messages durable in batches (group commit: one fsync covers every
// message written before it, shared by concurrent writers) and reports
// progress two ways:
//
//   - Config.OnDurable(seq): every message up to seq is durable. The calls
//     carry increasing sequences; one call may cover thousands of messages.
//   - the optional Durable interface, found by type assertion:
//     DurableSeq() reports the same watermark and WaitDurable(ctx, seq)
//     blocks until it reaches seq.
//
// A store that does not implement Durable makes every message as durable as
// it can be before StoreMsg returns and calls OnDurable from StoreMsg. The
// memory store does this: its messages never survive a restart, so nothing
// is gained by waiting.
package store
