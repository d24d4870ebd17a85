// Package filestore is the file-backed store.StreamStore of JetStream: an
// append-only log of message blocks with checksummed records, an in-memory
// index rebuilt on open, group commit for durability, and crash recovery
// that keeps every message it reported durable.
//
// # Usage
//
//	s, err := filestore.Open(filestore.Config{Dir: "/data/ORDERS"}, store.Config{
//		Name:      "ORDERS",
//		MaxAge:    24 * time.Hour,
//		OnDurable: func(seq uint64) { acks <- seq },
//	})
//	seq, err := s.StoreMsg("orders.new", nil, payload, 0, 0)
//	err = s.WaitDurable(ctx, seq) // or wait for OnDurable(>= seq)
//
// Open recovers whatever a previous process left in Dir; RecoveryReport
// tells what it found, dropped and repaired.
//
// # Durability
//
// StoreMsg appends the encoded record to the active block's memory and
// returns; the message loads and counts at once. A flusher goroutine writes
// what has been appended and fsyncs (fdatasync on Linux) the files, then
// advances DurableSeq, wakes WaitDurable callers and calls
// store.Config.OnDurable. Writers that arrive while an fsync runs are
// covered by the next one, so many concurrent publishers share each fsync
// (group commit) without any configured delay: a lone writer waits one
// fsync, a crowd waits at most two.
//
// A message is durable once DurableSeq covers it: it then survives kill -9
// and the loss of power, as far as the disk honours fsync. Removals
// (RemoveMsg, limits, expiry) become durable with the next group commit;
// Purge, Compact, Truncate, EraseMsg, SkipMsgs, Restore and
// ConsumerStore.SetState are durable when they return. Close makes
// everything durable.
//
// Config.SyncInterval opts out, like upstream's sync_interval: the flusher
// then writes to the operating system every few milliseconds and fsyncs
// every SyncInterval. A process crash loses what was not yet written (the
// last few milliseconds); a machine crash what was not yet fsynced. DurableSeq and OnDurable
// still only report fsynced sequences, so callers that wait stay safe (and
// slow); callers that opt out acknowledge without waiting. Each block
// remembers that it holds bytes written without an fsync; the sync tick
// fsyncs every such block, sealed ones included, and only then moves the
// durable mark. Close does the same in both modes.
//
// Directory entries need an fsync of their directory to survive a loss of
// power, so every created or renamed file and directory has its parent
// fsynced before anything in it is reported durable: Open fsyncs msgs/,
// consumers/ and the parent of every directory it creates; the commit that
// first covers a new block fsyncs msgs/; rewrites, deleted blocks,
// set-aside blocks, consumer state files and Restore fsync their directory
// before they return. A directory is fsynced only after the blocks in it
// (maintenance fsyncs them first), so a power loss never brings back an
// entry whose data it dropped. Open fsyncs every block it recovers before
// it reports the recovered messages durable: a killed process leaves
// written data that no fsync covered.
//
// After a write or fsync error (a full disk gives ErrNoSpace, anything else
// ErrWriteFailed, both wrapping the system error) the store refuses every
// further write with that error; reads keep working and everything that was
// durable stays so. Reopen it once the disk is fixed.
//
// # Files
//
//	<Dir>/msgs/0000000000.blk    message blocks, numbered in write order
//	<Dir>/msgs/*.tmp             a block rewrite in progress (removed on open)
//	<Dir>/msgs/*.corrupt         a block whose header was damaged (set aside)
//	<Dir>/consumers/<name>.cs    one consumer's state ("NCS2", CRC, varint deltas; see consumer.go)
//
// # Block format
//
// A block is a 32-byte header followed by records. Blocks are bounded by
// Config.BlockSize (8 MiB by default); when a message does not fit, the
// active block is sealed and a new one started. Integers are little endian.
//
//	block file
//	+--------------+----------+----------+-----+----------+
//	| header (32B) | record 0 | record 1 | ... | record n |
//	+--------------+----------+----------+-----+----------+
//
//	header
//	0        8         9       10        12        16          24          32
//	+--------+---------+-------+---------+---------+-----------+-----------+
//	|NATSDBK1| version | flags | unused  | CRC-32C | base seq  | last time |
//	|        |   (1)   |  (0)  |         |         |   u64     |   i64     |
//	+--------+---------+-------+---------+---------+-----------+-----------+
//
// base seq is the lowest sequence the block may hold, so an empty block
// still fixes the stream's LastSeq (base-1); last time is the stream's
// LastTime when the block was started (LastTime of an empty store). The
// CRC-32C (Castagnoli) covers bytes 0-11 and 16-31.
//
//	record
//	0       4        8       16      24      32    33    34     36     40
//	+-------+--------+-------+-------+-------+-----+-----+------+------+---------+------+------+
//	|  len  | CRC-32C|  seq  |  ts   |  ttl  |flags|  0  | slen | hlen | subject | hdr  | data |
//	|  u32  |  u32   |  u64  |  i64  |  i64  | u8  |     | u16  | u32  |         |      |      |
//	+-------+--------+-------+-------+-------+-----+-----+------+------+---------+------+------+
//
// len is the whole record's length (40 bytes plus subject, header and
// payload); the CRC-32C covers bytes 8 to len. ts is Unix nanoseconds; ttl
// is the per-message TTL in nanoseconds (0: MaxAge applies, -1: never).
// flags:
//
//	0x01 tombstone  seq names a message removed earlier (no body)
//	0x02 erased     the body was overwritten with zeros by EraseMsg
//	0x04 marker     every message below seq is removed (no body)
//	0x08 sealed     the body is encrypted (see Encryption at rest)
//	0x10 compressed header and payload are one S2 block (see Compression)
//	0x20 skip       every sequence up to seq is used: LastSeq is at least
//	                seq (SkipMsgs; no body, ts is LastTime)
//
// Message sequences increase within a block and across blocks. Removing
// the oldest messages (limits, expiry, Purge, Compact) writes no
// tombstones: the flusher appends one marker to the active block when
// FirstSeq moved. A marker at sequence 1 in a store whose LastSeq is 0
// removes nothing: it tells a store emptied by Truncate(0) (FirstSeq 1,
// LastSeq 0) from one that never held a message (FirstSeq and LastSeq 0),
// which has no marker. Truncate and Restore write it, fsync it and fsync
// msgs/ before they return; when the block holding it is dropped, it is
// written to the active block first. Blocks without it read as before,
// and older versions read it as a marker that removes nothing. Other
// removals append a tombstone.
//
// SkipMsgs appends one skip record, whatever the number of sequences it
// skips, fsyncs it and returns. A skip record matters only while no later
// block exists: a later block's base is above it and fixes LastSeq by
// itself. So it needs no carrying when its block is deleted; a rewrite
// keeps the block's highest one, lowered to LastSeq after a Truncate.
// Versions without skip records would read one as a message with an
// empty subject: a store that skipped must not be opened by them. Sealed blocks without
// live messages are deleted (tombstones they hold for older blocks are
// first copied forward), and sealed blocks that are more than half dead are
// rewritten into <id>.blk.tmp, fsynced and renamed over the original.
//
// # Recovery
//
// Open reads every block in order, verifies each record's checksum and
// rebuilds the index: per sequence the block offset, length and time; per
// subject its sequences. A record cut short at the end of a block, or a
// damaged last record, is a write a crash interrupted: it is cut off
// (RecoveryReport.TornBytes) and was never reported durable. A damaged
// record between valid ones is skipped and reported (RecoveryReport.Errors
// wrap store.ErrCorrupt; the sequence goes to LostMsgs and
// State().Lost); if the damage makes the rest of the block unreadable, the
// rest is dropped and reported too. A block with a damaged header is
// renamed to <id>.blk.corrupt; the message records still readable in it
// and every sequence up to the next good block go to LostMsgs and
// State().Lost, with an error. A torn tail in a block that is not the last
// (possible only with SyncInterval after a power loss) is counted the same
// way, so a gap in the middle of the stream is never silent (skipped
// ranges are not counted as lost). Markers and tombstones are applied
// last; LastSeq is the highest of the last message record, the last
// block's base minus one, the highest marker minus one and the highest
// skip record. A store with no message and LastSeq 0
// opens as fresh (FirstSeq 0) unless a marker says it was emptied.
// Opening twice gives the same store.
//
// # Concurrency
//
// Every method is safe for concurrent use. Two goroutines run per store:
// the flusher (writes, fsyncs, deletes and rewrites blocks) and the expiry
// timer (one time.Timer set to the earliest of the oldest MaxAge deadline
// and the top of a TTL min-heap; no scans). Close stops both and waits.
// Locks, in the order they are taken: snapMu (Snapshot shares it; Purge,
// Compact, Truncate and block rewrites take it alone), ioMu (serializes
// writes to files other than StoreMsg's in-memory append), mu (the index).
// Loads hold mu while they read a record, from memory or with one pread.
//
// # Memory
//
// The index costs about 24 bytes per sequence plus 8 per message in its
// subject's list; a run of 64 or more sequences that never held a record
// (a skipped range, a hole in a restored snapshot) costs one 24-byte gap
// entry instead, however long it is. The active block is kept in memory; sealed blocks are
// cached up to Config.CacheSize (LRU), loaded whole when a consumer reads
// sequentially (LoadNextMsg) and read record by record otherwise.
//
// # Encryption at rest
//
// With Config.EncryptionKey (16, 24 or 32 bytes) every message record is
// written with flag 0x08 and its subject, header and payload replaced by a
// random 12-byte nonce, the AES-GCM ciphertext and its 16-byte tag; the
// additional data is bytes 8-39 of the record (sequence, time, TTL, flags,
// lengths), which stay in clear, as do tombstones and markers. Opening
// encrypted data without the key, or with another key, fails with ErrKey
// instead of treating the records as damaged. Snapshots carry plain
// records; Restore encrypts them with the restoring store's key. A
// compressed record is compressed first (see Compression).
//
// # Compression
//
// With Config.Compress (or after SetCompression(true)) a message record
// whose header and payload take 64 bytes or more is written with flag 0x10
// when S2 (github.com/klauspost/compress/s2, block format) makes it
// smaller:
//
//	0       40     44
//	+-------+------+---------+--------------------+
//	|  ...  | dlen | subject | S2(header|payload) |
//	+-------+------+---------+--------------------+
//
// The 40 header bytes are those of any record (hlen is the uncompressed
// header length); dlen (u32) is the uncompressed payload length. Records are
// compressed one by one, so every rule above holds unchanged: appends,
// checksums, torn tails, tombstones, rewrites. The index keeps a record's
// length uncompressed (what it would take written plain); message sizes,
// State().Bytes and the limits are counted from it, and since a record is
// only compressed when that makes it shorter, that length bounds the bytes
// a load reads. Records of both kinds mix freely in a block: switching
// compression changes only what is written next. With an EncryptionKey the
// record is compressed, then sealed: dlen stays in clear, after the header,
// and joins the additional data (bytes 8-43); nonce, ciphertext of subject
// and S2 block, and tag follow. EraseMsg zeroes a compressed record's body
// like any other. Snapshots carry plain records; Restore compresses them
// if its store compresses.
//
// # Not implemented
//
// Compression of whole blocks, which would find more redundancy between
// small messages; a checkpointed index for faster restarts (recovery reads
// every block: about 0.2 s per million small messages).
package filestore
