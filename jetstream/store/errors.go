package store

import "errors"

// Sentinel errors. Stores may wrap them with detail; compare with errors.Is.
var (
	// ErrStoreClosed: the store (or consumer store) was closed or deleted.
	ErrStoreClosed = errors.New("store: closed")
	// ErrMsgNotFound: no message at that sequence, or none matching.
	ErrMsgNotFound = errors.New("store: message not found")
	// ErrMaxMsgs: DiscardNew and the store holds MaxMsgs messages.
	ErrMaxMsgs = errors.New("store: maximum messages exceeded")
	// ErrMaxBytes: DiscardNew and the message would take Bytes past MaxBytes.
	ErrMaxBytes = errors.New("store: maximum bytes exceeded")
	// ErrMaxMsgsPerSubject: DiscardNewPerSubject and the subject is full.
	ErrMaxMsgsPerSubject = errors.New("store: maximum messages per subject exceeded")
	// ErrMsgTooBig: header plus payload exceed MaxMsgSize.
	ErrMsgTooBig = errors.New("store: message too big")
	// ErrInvalidSubject: a stored subject must be a valid literal subject.
	ErrInvalidSubject = errors.New("store: invalid subject")
	// ErrInvalidFilter: a filter is not a valid subject filter.
	ErrInvalidFilter = errors.New("store: invalid subject filter")
	// ErrInvalidPurge: a PurgeRequest sets both Seq and Keep.
	ErrInvalidPurge = errors.New("store: purge sequence and keep are exclusive")
	// ErrInvalidConfig: a Config value is out of range or Name changed.
	ErrInvalidConfig = errors.New("store: invalid config")
	// ErrInvalidConsumerName: see StreamStore.Consumer.
	ErrInvalidConsumerName = errors.New("store: invalid consumer name")
	// ErrInvalidConsumerState: see ConsumerState.Check.
	ErrInvalidConsumerState = errors.New("store: invalid consumer state")
	// ErrNotEmpty: Restore into a store that has held messages.
	ErrNotEmpty = errors.New("store: not empty")
	// ErrSequenceMismatch: SkipMsgs from a sequence other than LastSeq+1.
	ErrSequenceMismatch = errors.New("store: sequence mismatch")
	// ErrCorrupt marks data that failed a consistency check (a bad
	// checksum, a torn record, a malformed snapshot). Stores return it
	// wrapped with what and where, e.g.
	// fmt.Errorf("filestore: block 7 offset 4096: %w", store.ErrCorrupt), so
	// errors.Is(err, ErrCorrupt) finds it through any wrapping.
	ErrCorrupt = errors.New("store: corrupt data")
)
