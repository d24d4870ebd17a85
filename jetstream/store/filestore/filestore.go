package filestore

import (
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/jetstream/store"
	"natsd.dev/jetstream/store/internal/seqgap"
	"natsd.dev/sublist"
)

// Defaults of Config.
const (
	DefaultBlockSize = 8 << 20
	DefaultCacheSize = 64 << 20
)

// ErrNoSpace wraps the error of a write or sync that failed because the
// disk is full. The store refuses further writes after it.
var ErrNoSpace = errors.New("filestore: no space left on device")

// ErrWriteFailed wraps any other write or sync error. After one, the store
// refuses further writes: what it had not synced may or may not be on disk,
// and everything it reported durable is.
var ErrWriteFailed = errors.New("filestore: write failed")

// Config configures a file store. Only Dir is required.
type Config struct {
	// Dir holds the store's files; it is created if needed.
	Dir string
	// BlockSize bounds a message block file (a larger message gets a
	// block of its own). 0 means DefaultBlockSize.
	BlockSize int64
	// CacheSize bounds the bytes of sealed blocks kept in memory for
	// reads. 0 means DefaultCacheSize; negative disables the cache.
	CacheSize int64
	// SyncInterval opts out of group commit. 0 (the default) makes every
	// stored message durable by a shared fsync that the flusher issues as
	// soon as the previous one finished. A positive value writes messages
	// to the operating system within a few milliseconds but fsyncs only
	// every SyncInterval, like upstream's sync_interval: a crash of the
	// machine may lose what was written since the last fsync. DurableSeq
	// and OnDurable stay truthful in both modes: they only ever report
	// sequences covered by an fsync.
	SyncInterval time.Duration
	// FS is the file system; nil means OSFS.
	FS FS
	// EncryptionKey, if set, encrypts every message record written from
	// now on with AES-GCM (a 16, 24 or 32 byte key: AES-128, -192 or
	// -256). Subjects, headers and payloads are encrypted; sequences,
	// times, TTLs and lengths are not. Records written without a key stay
	// readable; records written with one need it (Open fails with ErrKey).
	EncryptionKey []byte
	// Compress stores the header and payload of every message record
	// written from now on S2-compressed, when that makes the record
	// smaller (bodies under 64 bytes are not tried); with EncryptionKey
	// they are compressed, then encrypted. Each record says whether it is
	// compressed, so records written with or without it (before, or since
	// SetCompression) read back alike. Sizes (State().Bytes, the limits)
	// stay those of the uncompressed messages.
	Compress bool
}

const (
	asyncWriteEvery = 5 * time.Millisecond
	asyncWriteBytes = 1 << 20
	// compactMin and compactRatio decide when a sealed block is rewritten:
	// at least compactMin bytes and more than half of it dead.
	compactMin = 64 << 10
)

// exemptBit in slot.rlen marks a message with its own TTL (or NoExpiry), to
// which MaxAge does not apply.
const exemptBit = 1 << 31

// sealedBit in slot.rlen marks an encrypted record.
const sealedBit = 1 << 30

// slot is the in-memory index entry of one sequence.
type slot struct {
	off uint32 // offset of the record in its block
	// rlen is the record's length uncompressed (record.full), 0 if no
	// record is on disk; | exemptBit | sealedBit. A compressed record is
	// shorter: it ends where its own length field says.
	rlen uint32
	ts   int64
	subj *psi // nil when the sequence holds no message
}

func (sl *slot) recLen() uint32 { return sl.rlen &^ (exemptBit | sealedBit) }

// msgSize is store.MsgSize of the message of a record, given the slot's
// rlen (the record length with the slot's flag bits).
func msgSize(rlen uint32) uint64 {
	n := uint64(rlen&^(exemptBit|sealedBit)) - recHdrSize + 16
	if rlen&sealedBit != 0 {
		n -= sealOverhead
	}
	return n
}

// block is one message block file.
type block struct {
	id       uint64
	base     uint64 // lowest sequence it may hold
	baseTime int64
	last     uint64 // highest message sequence in it, base-1 if none
	f        File   // nil until the flusher creates the file
	size     int64  // logical size including unflushed bytes
	flushed  int64  // bytes written to f
	unsynced bool   // f holds written bytes no fsync covered yet
	cache    []byte // the whole block, nil when not loaded
	use      uint64 // LRU clock of the cache
	dirty    bool   // in Store.dirtyBlks
	msgs     uint64 // live messages
	liveRec  int64  // bytes of live message records, counted uncompressed
	saved    int64  // bytes compression saved: size+saved is size uncompressed
	tombs    []uint64
	marker   uint64 // highest marker written to it
	skip     uint64 // highest skip record written to it
}

// mostlyDead reports whether b is worth rewriting: large enough and more
// than half dead (counting records at their uncompressed length).
func (b *block) mostlyDead() bool {
	return b.size >= compactMin && (b.size+b.saved-blkHdrSize)/2 > b.liveRec
}

// psi is the per-subject index: the subject's sequences in ascending order.
// Entries below head are dead; entries at or past head may be dead too
// (lazily dropped).
type psi struct {
	subj string
	seqs []uint64
	head int
	n    int // live messages
	dead int // dead entries at or past head
	// memo of the last wildcard filter matched against subj.
	mf   string
	mres bool
}

type removal struct {
	seq    uint64
	subj   string
	reason store.RemoveReason
}

// Store is a file-backed store.StreamStore. It implements store.Durable.
type Store struct {
	cfg    Config
	fs     FS
	dir    string
	msgDir string

	// ioMu serializes everything that writes to block files outside of
	// StoreMsg's in-memory append: the flusher, EraseMsg, rewrites and the
	// administrative operations. It is taken before mu.
	ioMu sync.Mutex
	// snapMu is held shared by Snapshot, which reads block files without
	// other locks; what rewrites or deletes blocks takes it exclusively
	// (the flusher only tries, and retries maintenance later). It is taken
	// before ioMu.
	snapMu sync.RWMutex

	mu        sync.Mutex
	scfg      store.Config
	closed    bool // refuses calls
	shut      bool // closed and the final flush is done
	werr      error
	blks      []*block
	dirtyBlks []*block
	nextID    uint64
	sbase     uint64 // sequence of slots[0], or of the gap before it
	slots     []slot
	// gaps holds the long runs of sequences without a record (SkipMsgs,
	// Restore's holes) that take no slot; see slot and padLocked. The index
	// ends at idxEnd(), which may lie below last+1: the sequences from there
	// to last hold nothing either.
	gaps      seqgap.Gaps
	first     uint64
	last      uint64
	lastTime  int64
	msgs      uint64
	bytes     uint64
	subjects  map[string]*psi
	ttls      ttlHeap
	ageSeq    uint64
	timerAt   int64
	cached    int64
	clock     uint64
	pending   int64
	needMaint bool
	removed   []removal
	durCh     chan struct{}
	consumers map[string]*consumerState
	lost      *store.LostData
	report    RecoveryReport
	rbuf      []byte
	dbuf      []byte // decrypted record scratch
	aead      cipher.AEAD
	compress  bool
	zc        compressor
	lastBlk   *block
	final     store.StreamState
	// dirUnsynced: msgs/ holds a created block file whose entry no fsync
	// of the directory covered yet. Flusher and ioMu holders only.
	dirUnsynced bool
	// unsyncedBlks lists the blocks written without an fsync since the
	// last sync (some may have been deleted or rewritten since).
	unsyncedBlks []*block

	durable  atomic.Uint64
	reported uint64 // last OnDurable call; flusher only (under ioMu)

	flushCh chan struct{}
	expCh   chan struct{}
	quit    chan struct{}
	wg      sync.WaitGroup
}

var (
	_ store.StreamStore = (*Store)(nil)
	_ store.Durable     = (*Store)(nil)
)

func validateConfig(c store.Config) error {
	if c.DiscardNewPerSubject && c.Discard != store.DiscardNew {
		return fmt.Errorf("filestore: DiscardNewPerSubject without DiscardNew: %w", store.ErrInvalidConfig)
	}
	return nil
}

// Open opens the store in cfg.Dir, creating it if needed and recovering
// whatever a previous process left there. Damage found while recovering
// does not fail Open: the store keeps every valid record and reports the
// rest in RecoveryReport and State().Lost.
func Open(cfg Config, scfg store.Config) (*Store, error) {
	if cfg.Dir == "" {
		return nil, fmt.Errorf("filestore: empty Dir: %w", store.ErrInvalidConfig)
	}
	if err := validateConfig(scfg); err != nil {
		return nil, err
	}
	if cfg.BlockSize <= 0 {
		cfg.BlockSize = DefaultBlockSize
	}
	if cfg.BlockSize > maxRecord {
		cfg.BlockSize = maxRecord
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.FS == nil {
		cfg.FS = OSFS{}
	}
	aead, err := newAEAD(cfg.EncryptionKey)
	if err != nil {
		return nil, err
	}
	s := &Store{
		cfg:       cfg,
		fs:        cfg.FS,
		dir:       cfg.Dir,
		msgDir:    filepath.Join(cfg.Dir, "msgs"),
		scfg:      scfg,
		subjects:  make(map[string]*psi),
		consumers: make(map[string]*consumerState),
		durCh:     make(chan struct{}),
		flushCh:   make(chan struct{}, 1),
		expCh:     make(chan struct{}, 1),
		quit:      make(chan struct{}),
		aead:      aead,
		compress:  cfg.Compress,
	}
	created, err := s.makeDirs()
	if err != nil {
		return nil, err
	}
	if err := s.recover(); err != nil {
		s.closeFiles()
		return nil, err
	}
	if err := s.loadConsumers(); err != nil {
		s.closeFiles()
		return nil, err
	}
	// Recovery fsynced every block it kept (a killed process leaves data
	// in the page cache that no fsync covered); the directories it changed
	// (torn and .tmp files removed, damaged blocks set aside) and those
	// Open created follow, before the recovered messages count as durable.
	if err := s.syncDirs(created); err != nil {
		s.closeFiles()
		return nil, err
	}
	s.durable.Store(s.last)
	s.reported = s.last
	s.ageSeq = s.first
	s.armLocked(1) // expire what aged while the store was closed
	if s.needMaint {
		s.kickLocked()
	}
	s.wg.Add(2)
	go s.flushLoop()
	go s.expireLoop()
	return s, nil
}

// makeDirs creates Dir, msgs/ and consumers/ as needed and returns the
// directories it created.
func (s *Store) makeDirs() ([]string, error) {
	var created []string
	for _, d := range []string{s.msgDir, s.consumerDir()} {
		for p := d; ; p = filepath.Dir(p) {
			if f, err := s.fs.OpenFile(p, os.O_RDONLY, 0); err == nil {
				f.Close()
				break
			}
			if !slices.Contains(created, p) {
				created = append(created, p)
			}
			if filepath.Dir(p) == p {
				break
			}
		}
		if err := s.fs.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("filestore: %w", err)
		}
	}
	return created, nil
}

// syncDirs makes the directory entries of the store durable: those in
// msgs/ and consumers/, and the entry of every directory in created in its
// parent.
func (s *Store) syncDirs(created []string) error {
	dirs := []string{s.msgDir, s.consumerDir()}
	for _, d := range created {
		if p := filepath.Dir(d); !slices.Contains(dirs, p) {
			dirs = append(dirs, p)
		}
	}
	for _, d := range dirs {
		if err := syncDir(s.fs, d); err != nil {
			return fmt.Errorf("filestore: %w", err)
		}
	}
	return nil
}

// blockPath names block id's file.
func (s *Store) blockPath(id uint64) string {
	return filepath.Join(s.msgDir, fmt.Sprintf("%010d.blk", id))
}

func (s *Store) active() *block { return s.blks[len(s.blks)-1] }

// newBlockLocked appends a fresh in-memory block; the flusher creates its
// file.
func (s *Store) newBlockLocked(base uint64) *block {
	b := &block{id: s.nextID, base: base, baseTime: s.lastTime, last: base - 1}
	s.nextID++
	b.cache = appendBlockHeader(make([]byte, 0, min(s.cfg.BlockSize+recHdrSize, 1<<16)), base, s.lastTime)
	b.size = int64(len(b.cache))
	s.blks = append(s.blks, b)
	s.markDirtyLocked(b)
	return b
}

// markDirtyLocked notes that b has bytes the flusher must write, and wakes
// the flusher when the sync mode wants it.
func (s *Store) markDirtyLocked(b *block) {
	if !b.dirty {
		b.dirty = true
		s.dirtyBlks = append(s.dirtyBlks, b)
	}
	if s.pending == 0 || (s.cfg.SyncInterval > 0 && s.pending >= asyncWriteBytes) {
		if s.cfg.SyncInterval == 0 || s.pending >= asyncWriteBytes {
			select {
			case s.flushCh <- struct{}{}:
			default:
			}
		}
	}
	s.pending++
}

// slot returns the slot of seq or nil if seq is outside the index.
func (s *Store) slot(seq uint64) *slot {
	if !s.gaps.Empty() {
		return s.slotGapped(seq)
	}
	if seq < s.sbase || seq-s.sbase >= uint64(len(s.slots)) {
		return nil
	}
	return &s.slots[seq-s.sbase]
}

// slotGapped is slot for an index with gaps, out of the gap-free path.
func (s *Store) slotGapped(seq uint64) *slot {
	if seq < s.sbase {
		return nil
	}
	i, ok := s.gaps.Pos(s.sbase, seq)
	if !ok || i >= uint64(len(s.slots)) {
		return nil
	}
	return &s.slots[i]
}

// padGap is the shortest run of sequences without records that the index
// keeps as a gap rather than as empty slots.
const padGap = 64

// idxEnd returns the sequence after the last one the index covers.
func (s *Store) idxEnd() uint64 {
	return s.sbase + uint64(len(s.slots)) + s.gaps.Skipped()
}

// padLocked extends the index with empty sequences up to seq (excluded),
// so that the next slot appended is seq's: a long run becomes one gap.
func (s *Store) padLocked(seq uint64) {
	end := s.idxEnd()
	if seq > end && seq-end >= padGap {
		s.gaps.Add(end, seq-1)
		return
	}
	for ; end < seq; end++ {
		s.slots = append(s.slots, slot{})
	}
}

// pos returns the index position of seq, or of the first slot after the
// gap holding seq: the number of slots below seq.
func (s *Store) pos(seq uint64) uint64 {
	var i uint64
	if seq <= s.sbase {
		return 0
	}
	if s.gaps.Empty() {
		i = seq - s.sbase
	} else {
		i = s.gaps.Count(s.sbase, seq)
	}
	return min(i, uint64(len(s.slots)))
}

// seqAt returns the sequence of the slot at position i.
func (s *Store) seqAt(i uint64) uint64 {
	if s.gaps.Empty() {
		return s.sbase + i
	}
	return s.gaps.Seq(s.sbase, i)
}

// nextLive returns the lowest live sequence >= seq, or 0. Skipped ranges
// cost nothing; removed messages one step each.
func (s *Store) nextLive(seq uint64) uint64 {
	if s.msgs == 0 || seq > s.last {
		return 0
	}
	for i := s.pos(max(seq, s.sbase)); i < uint64(len(s.slots)); i++ {
		if s.slots[i].subj != nil {
			return s.seqAt(i)
		}
	}
	return 0
}

// prevLive returns the highest live sequence <= seq, or 0.
func (s *Store) prevLive(seq uint64) uint64 {
	if s.msgs == 0 || seq < s.sbase {
		return 0
	}
	for i := s.pos(seq + 1); i > 0; i-- {
		if s.slots[i-1].subj != nil {
			return s.seqAt(i - 1)
		}
	}
	return 0
}

// slotsIn returns the slots of the sequences lo..hi that the index holds.
func (s *Store) slotsIn(lo, hi uint64) []slot {
	if hi < s.sbase || hi < lo {
		return nil
	}
	return s.slots[s.pos(max(lo, s.sbase)):s.pos(hi+1)]
}

func (s *Store) live(seq uint64) *slot {
	sl := s.slot(seq)
	if sl == nil || sl.subj == nil {
		return nil
	}
	return sl
}

// blockOf returns the block whose sequence range holds seq.
func (s *Store) blockOf(seq uint64) *block {
	if b := s.lastBlk; b != nil && seq >= b.base && seq <= b.last {
		return b
	}
	i := sort.Search(len(s.blks), func(i int) bool { return s.blks[i].base > seq }) - 1
	if i < 0 {
		return nil
	}
	b := s.blks[i]
	s.lastBlk = b
	return b
}

// StoreMsg implements store.StreamStore.
func (s *Store) StoreMsg(subject string, hdr, data []byte, ts int64, ttl time.Duration) (uint64, error) {
	if !sublist.ValidLiteralSubject(subject) || len(subject) > 0xffff {
		return 0, store.ErrInvalidSubject
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, store.ErrStoreClosed
	}
	if s.werr != nil {
		err := s.werr
		s.mu.Unlock()
		return 0, err
	}
	seq, err := s.storeLocked(subject, hdr, data, ts, ttl)
	s.checkLocked("StoreMsg")
	rm, cb := s.takeRemovedLocked()
	s.mu.Unlock()
	fire(rm, cb)
	return seq, err
}

func (s *Store) takeRemovedLocked() ([]removal, func(uint64, string, store.RemoveReason)) {
	if len(s.removed) == 0 {
		return nil, nil
	}
	rm := s.removed
	s.removed = nil
	return rm, s.scfg.OnRemove
}

func fire(rm []removal, cb func(uint64, string, store.RemoveReason)) {
	if cb == nil {
		return
	}
	for _, r := range rm {
		cb(r.seq, r.subj, r.reason)
	}
}

func (s *Store) storeLocked(subject string, hdr, data []byte, ts int64, ttl time.Duration) (uint64, error) {
	c := &s.scfg
	size := store.MsgSize(subject, hdr, data)
	if c.MaxMsgSize > 0 && len(hdr)+len(data) > c.MaxMsgSize {
		return 0, store.ErrMsgTooBig
	}
	if c.MaxBytes > 0 && size > uint64(c.MaxBytes) {
		return 0, store.ErrMaxBytes
	}
	p := s.subjects[subject]
	if c.Discard == store.DiscardNew {
		// A message that pushes out its subject's oldest replaces it rather
		// than adding to the totals.
		var freedMsgs, freedBytes uint64
		if c.MaxMsgsPerSubject > 0 && p != nil && int64(p.n) >= c.MaxMsgsPerSubject {
			if c.DiscardNewPerSubject {
				return 0, store.ErrMaxMsgsPerSubject
			}
			freedMsgs, freedBytes = 1, msgSize(s.slot(s.firstLive(p)).rlen)
		}
		if c.MaxMsgs > 0 && s.msgs+1-freedMsgs > uint64(c.MaxMsgs) {
			return 0, store.ErrMaxMsgs
		}
		if c.MaxBytes > 0 && s.bytes+size-freedBytes > uint64(c.MaxBytes) {
			return 0, store.ErrMaxBytes
		}
	}
	rl := recordLen(subject, hdr, data) + sealOverhead
	if rl > maxRecord-blkHdrSize {
		return 0, store.ErrMsgTooBig
	}
	if ts == 0 {
		ts = time.Now().UnixNano()
	}
	var ttlv int64
	switch {
	case ttl > 0:
		ttlv = int64(ttl)
	case ttl < 0:
		ttlv = -1
	}
	seq := s.last + 1
	s.appendMsgLocked(seq, ts, ttlv, 0, subject, hdr, data, p)
	if ttlv > 0 {
		s.ttls.push(ttlEntry{exp: ts + ttlv, seq: seq})
		s.armLocked(ts + ttlv)
	} else if ttlv == 0 && c.MaxAge > 0 {
		s.armLocked(ts + int64(c.MaxAge))
	}
	s.enforceLocked(s.subjects[subject])
	return seq, nil
}

// appendMsgLocked appends a message record with sequence seq (> s.last) to
// the active block and indexes it; p is the subject's index if known.
func (s *Store) appendMsgLocked(seq uint64, ts, ttlv int64, flags uint8, subject string, hdr, data []byte, p *psi) {
	rl := recordLen(subject, hdr, data)
	if s.aead != nil {
		rl += sealOverhead
	}
	disk := rl // bytes the record takes in the block
	var z []byte
	if s.compress {
		if z = s.zc.compress(hdr, data); z != nil {
			disk = compressedLen(subject, z, s.aead != nil)
		}
	}
	b := s.active()
	if b.size > blkHdrSize && b.size+int64(disk) > s.cfg.BlockSize {
		b = s.rollLocked(seq)
	}
	off := len(b.cache)
	switch {
	case z != nil:
		b.cache = appendCompressedRecord(b.cache, s.aead, seq, ts, ttlv, flags, subject, len(hdr), len(data), z)
	case s.aead != nil:
		b.cache = appendSealedRecord(b.cache, s.aead, seq, ts, ttlv, flags, subject, hdr, data)
	default:
		b.cache = appendRecord(b.cache, seq, ts, ttlv, flags, subject, hdr, data)
	}
	b.size = int64(len(b.cache))
	b.saved += int64(rl - disk)
	if p == nil {
		p = &psi{subj: strings.Clone(subject)}
		s.subjects[p.subj] = p
	}
	p.seqs = append(p.seqs, seq)
	p.n++
	rlen := uint32(rl)
	if ttlv != 0 {
		rlen |= exemptBit
	}
	if s.aead != nil {
		rlen |= sealedBit
	}
	// Fill the gap, if any (SkipMsgs, Restore).
	if s.idxEnd() != seq {
		s.padLocked(seq)
	}
	s.slots = append(s.slots, slot{off: uint32(off), rlen: rlen, ts: ts, subj: p})
	if s.msgs == 0 {
		s.first = seq
	}
	s.last, s.lastTime = seq, ts
	size := store.MsgSize(subject, hdr, data)
	s.msgs++
	s.bytes += size
	b.msgs++
	b.liveRec += int64(rl)
	b.last = seq
	s.markDirtyLocked(b)
}

// rollLocked seals the active block and starts a new one at base.
func (s *Store) rollLocked(base uint64) *block {
	old := s.active()
	old.tombs = old.tombs[:len(old.tombs):len(old.tombs)]
	b := s.newBlockLocked(base)
	if old.cache != nil {
		s.cached += old.size
		old.use = s.tick()
		s.evictLocked(nil)
	}
	return b
}

func (s *Store) tick() uint64 { s.clock++; return s.clock }

// evictLocked drops caches of sealed, clean blocks until the cache fits.
func (s *Store) evictLocked(keep *block) {
	for s.cached > s.cfg.CacheSize {
		var lru *block
		for _, b := range s.blks[:len(s.blks)-1] {
			if b != keep && b.cache != nil && !b.dirty && b.f != nil && b.flushed == b.size && (lru == nil || b.use < lru.use) {
				lru = b
			}
		}
		if lru == nil {
			return
		}
		lru.cache = nil
		s.cached -= lru.size
	}
}

// enforceLocked applies the count and size limits after a store.
func (s *Store) enforceLocked(p *psi) {
	c := &s.scfg
	if c.MaxMsgsPerSubject > 0 && !c.DiscardNewPerSubject {
		if p != nil {
			for int64(p.n) > c.MaxMsgsPerSubject {
				s.removeLocked(s.firstLive(p), store.RemovedMaxMsgsPerSubject, true)
			}
		} else {
			for _, p := range s.subjects {
				for int64(p.n) > c.MaxMsgsPerSubject {
					s.removeLocked(s.firstLive(p), store.RemovedMaxMsgsPerSubject, true)
				}
			}
		}
	}
	if c.Discard == store.DiscardOld {
		for c.MaxMsgs > 0 && s.msgs > uint64(c.MaxMsgs) {
			s.removeLocked(s.first, store.RemovedMaxMsgs, true)
		}
		for c.MaxBytes > 0 && s.bytes > uint64(c.MaxBytes) {
			s.removeLocked(s.first, store.RemovedMaxBytes, true)
		}
	}
}

// firstLive returns p's lowest live sequence, dropping dead entries.
func (s *Store) firstLive(p *psi) uint64 {
	for p.head < len(p.seqs) {
		q := p.seqs[p.head]
		if sl := s.slot(q); sl != nil && sl.subj == p {
			return q
		}
		p.head++
		p.dead--
	}
	return 0
}

// lastLive returns p's highest live sequence, dropping dead entries.
func (s *Store) lastLive(p *psi) uint64 {
	for len(p.seqs) > p.head {
		q := p.seqs[len(p.seqs)-1]
		if sl := s.slot(q); sl != nil && sl.subj == p {
			return q
		}
		p.seqs = p.seqs[:len(p.seqs)-1]
		p.dead--
	}
	return 0
}

// removeLocked removes the message at seq. tomb asks for a tombstone so the
// removal survives a restart (not needed when seq is the first message:
// the flusher's marker covers it). reason, when not 0, queues an OnRemove
// call.
func (s *Store) removeLocked(seq uint64, reason store.RemoveReason, tomb bool) bool {
	sl := s.live(seq)
	if sl == nil {
		return false
	}
	p := sl.subj
	sl.subj = nil
	rl := sl.recLen()
	size := msgSize(sl.rlen)
	s.msgs--
	s.bytes -= size
	p.n--
	if p.head < len(p.seqs) && p.seqs[p.head] == seq {
		p.head++
		s.firstLive(p)
	} else {
		p.dead++
	}
	if p.n == 0 {
		delete(s.subjects, p.subj)
	} else if p.dead > 32 && p.dead > p.n {
		s.compactPSI(p)
	} else if p.head > 64 && p.head > len(p.seqs)/2 {
		p.seqs = append(p.seqs[:0:0], p.seqs[p.head:]...)
		p.head = 0
	}
	b := s.blockOf(seq)
	if b != nil {
		b.msgs--
		b.liveRec -= int64(rl)
		if b.msgs == 0 && b != s.active() {
			s.needMaint = true
		} else if b != s.active() && b.mostlyDead() {
			s.needMaint = true
		}
	}
	if seq == s.first {
		s.advanceFirstLocked()
	} else if tomb && rl != 0 {
		s.appendTombLocked(seq)
	}
	if reason != 0 {
		s.removed = append(s.removed, removal{seq, p.subj, reason})
	}
	return true
}

func (s *Store) advanceFirstLocked() {
	if s.msgs == 0 {
		s.first = s.last + 1
		return
	}
	if q := s.nextLive(s.first); q != 0 {
		s.first = q
	}
}

// compactPSI drops p's dead entries.
func (s *Store) compactPSI(p *psi) {
	out := p.seqs[:0]
	for _, q := range p.seqs[p.head:] {
		if sl := s.slot(q); sl != nil && sl.subj == p {
			out = append(out, q)
		}
	}
	clear(p.seqs[len(out):])
	p.seqs, p.head, p.dead = out, 0, 0
}

// appendTombLocked writes a tombstone for seq into the active block.
func (s *Store) appendTombLocked(seq uint64) {
	b := s.active()
	b.cache = appendRecord(b.cache, seq, 0, 0, flagTombstone, "", nil, nil)
	b.size = int64(len(b.cache))
	if seq < b.base {
		b.tombs = append(b.tombs, seq)
	}
	s.markDirtyLocked(b)
}

// readRecord returns the record bytes of a slot, reading the block's file
// if its cache is not loaded (into s.rbuf) or loading the cache if
// wantCache. The bytes may run past the record (a compressed record is
// shorter than the slot's length): decodeRecord finds its end.
func (s *Store) readRecord(b *block, sl *slot, wantCache bool) ([]byte, error) {
	rl := int64(sl.recLen())
	off := int64(sl.off)
	if b.cache == nil && wantCache && s.cfg.CacheSize > 0 {
		if err := s.loadCacheLocked(b); err != nil {
			return nil, err
		}
	}
	if off+rl > b.size {
		rl = b.size - off
	}
	if rl < recHdrSize {
		return nil, fmt.Errorf("filestore: block %d offset %d: record past end: %w", b.id, off, store.ErrCorrupt)
	}
	if b.cache != nil {
		if off+rl > int64(len(b.cache)) {
			return nil, fmt.Errorf("filestore: block %d offset %d: record past end: %w", b.id, off, store.ErrCorrupt)
		}
		b.use = s.tick()
		return b.cache[off : off+rl], nil
	}
	if cap(s.rbuf) < int(rl) {
		s.rbuf = make([]byte, rl)
	}
	buf := s.rbuf[:rl]
	if _, err := b.f.ReadAt(buf, off); err != nil {
		return nil, fmt.Errorf("filestore: read block %d offset %d: %w", b.id, off, err)
	}
	return buf, nil
}

func (s *Store) loadCacheLocked(b *block) error {
	buf := make([]byte, b.size)
	if _, err := b.f.ReadAt(buf, 0); err != nil {
		return fmt.Errorf("filestore: read block %d: %w", b.id, err)
	}
	b.cache = buf
	b.use = s.tick()
	s.cached += b.size
	s.evictLocked(b)
	return nil
}

// fillLocked loads the live message at seq into m.
func (s *Store) fillLocked(seq uint64, sl *slot, m *store.StoredMsg, wantCache bool) error {
	b := s.blockOf(seq)
	if b == nil {
		return fmt.Errorf("filestore: sequence %d has no block: %w", seq, store.ErrCorrupt)
	}
	raw, err := s.readRecord(b, sl, wantCache)
	if err != nil {
		return err
	}
	var r record
	if err := decodeRecord(raw, &r); err != nil {
		return fmt.Errorf("filestore: block %d offset %d: %w", b.id, sl.off, err)
	}
	if r.seq != seq || r.flags&^(flagSealed|flagCompressed) != 0 {
		return fmt.Errorf("filestore: block %d offset %d: sequence %d, want %d: %w", b.id, sl.off, r.seq, seq, store.ErrCorrupt)
	}
	if r.flags&flagSealed != 0 {
		if s.dbuf, err = unseal(s.aead, raw, &r, s.dbuf); err != nil {
			return fmt.Errorf("filestore: block %d offset %d: sequence %d does not decrypt: %w", b.id, sl.off, seq, store.ErrCorrupt)
		}
	}
	if r.flags&flagCompressed != 0 {
		// Expand straight into m's buffer: Set then copies each part onto
		// itself.
		if m.Buf, err = expand(&r, m.Buf); err != nil {
			return fmt.Errorf("filestore: block %d offset %d: sequence %d: %w", b.id, sl.off, seq, err)
		}
	}
	m.Set(sl.subj.subj, r.hdr, r.data, seq, r.ts)
	return nil
}

// LoadMsg implements store.StreamStore.
func (s *Store) LoadMsg(seq uint64, into *store.StoredMsg) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrStoreClosed
	}
	sl := s.live(seq)
	if sl == nil {
		return store.ErrMsgNotFound
	}
	return s.fillLocked(seq, sl, into, false)
}

// matchLocked reports whether p's subject matches the wildcard filter,
// memoised per subject.
func matchPSI(p *psi, filter string) bool {
	if p.mf != filter {
		p.mf, p.mres = filter, sublist.SubjectMatchesFilter(p.subj, filter)
	}
	return p.mres
}

type filterKind uint8

const (
	filterAll filterKind = iota
	filterLiteral
	filterWild
)

func classify(filter string) (filterKind, error) {
	if filter == "" || filter == ">" {
		return filterAll, nil
	}
	if !sublist.ValidFilter(filter) {
		return 0, store.ErrInvalidFilter
	}
	if sublist.IsLiteral(filter) {
		return filterLiteral, nil
	}
	return filterWild, nil
}

// LoadNextMsg implements store.StreamStore.
func (s *Store) LoadNextMsg(filter string, start uint64, into *store.StoredMsg) error {
	kind, err := classify(filter)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrStoreClosed
	}
	seq := s.nextLocked(kind, filter, start)
	if seq == 0 {
		return store.ErrMsgNotFound
	}
	return s.fillLocked(seq, s.slot(seq), into, true)
}

// nextLocked returns the lowest live sequence >= start matching filter, or 0.
func (s *Store) nextLocked(kind filterKind, filter string, start uint64) uint64 {
	start = max(start, s.first, 1)
	if s.msgs == 0 || start > s.last {
		return 0
	}
	switch kind {
	case filterLiteral:
		p := s.subjects[filter]
		if p == nil {
			return 0
		}
		return s.nextInPSI(p, start)
	case filterAll:
		return s.nextLive(start)
	}
	// Wildcard: scan forward a bounded distance, then ask the subjects.
	limit := uint64(2*len(s.subjects) + 64)
	i := s.pos(max(start, s.sbase))
	for n := uint64(0); i < uint64(len(s.slots)) && n < limit; i, n = i+1, n+1 {
		if p := s.slots[i].subj; p != nil && matchPSI(p, filter) {
			return s.seqAt(i)
		}
	}
	if i == uint64(len(s.slots)) {
		return 0
	}
	q := s.seqAt(i)
	best := uint64(0)
	for _, p := range s.subjects {
		if matchPSI(p, filter) {
			if x := s.nextInPSI(p, q); x != 0 && (best == 0 || x < best) {
				best = x
			}
		}
	}
	return best
}

// nextInPSI returns p's lowest live sequence >= start, or 0.
func (s *Store) nextInPSI(p *psi, start uint64) uint64 {
	seqs := p.seqs[p.head:]
	i := 0
	if len(seqs) > 0 && seqs[0] < start {
		i = sort.Search(len(seqs), func(i int) bool { return seqs[i] >= start })
	}
	for ; i < len(seqs); i++ {
		if sl := s.slot(seqs[i]); sl != nil && sl.subj == p {
			return seqs[i]
		}
	}
	return 0
}

// LoadLastMsg implements store.StreamStore.
func (s *Store) LoadLastMsg(filter string, into *store.StoredMsg) error {
	kind, err := classify(filter)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrStoreClosed
	}
	seq := s.lastMatchLocked(kind, filter)
	if seq == 0 {
		return store.ErrMsgNotFound
	}
	return s.fillLocked(seq, s.slot(seq), into, true)
}

func (s *Store) lastMatchLocked(kind filterKind, filter string) uint64 {
	if s.msgs == 0 {
		return 0
	}
	switch kind {
	case filterLiteral:
		p := s.subjects[filter]
		if p == nil {
			return 0
		}
		return s.lastLive(p)
	case filterAll:
		return s.prevLive(s.last)
	}
	limit := uint64(2*len(s.subjects) + 64)
	for i, n := s.pos(s.last+1), uint64(0); i > 0 && n < limit; i, n = i-1, n+1 {
		if p := s.slots[i-1].subj; p != nil && matchPSI(p, filter) {
			return s.seqAt(i - 1)
		}
	}
	best := uint64(0)
	for _, p := range s.subjects {
		if matchPSI(p, filter) {
			best = max(best, s.lastLive(p))
		}
	}
	return best
}

// RemoveMsg implements store.StreamStore.
func (s *Store) RemoveMsg(seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrStoreClosed
	}
	if s.werr != nil {
		return s.werr
	}
	if !s.removeLocked(seq, 0, true) {
		return store.ErrMsgNotFound
	}
	s.checkLocked("RemoveMsg")
	s.kickLocked()
	return nil
}

// kickLocked wakes the flusher (for maintenance or a marker).
func (s *Store) kickLocked() {
	select {
	case s.flushCh <- struct{}{}:
	default:
	}
}

// EraseMsg implements store.StreamStore: the record's subject, header and
// payload are overwritten with zeros on disk (and in memory), and the
// record is resealed with the erased flag, before EraseMsg returns.
func (s *Store) EraseMsg(seq uint64) error {
	s.ioMu.Lock()
	defer s.ioMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return store.ErrStoreClosed
	}
	if s.werr != nil {
		err := s.werr
		s.mu.Unlock()
		return err
	}
	sl := s.live(seq)
	if sl == nil {
		s.mu.Unlock()
		return store.ErrMsgNotFound
	}
	b := s.blockOf(seq)
	off := int64(sl.off)
	raw, err := s.readRecord(b, sl, false)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	var r record
	if err := decodeRecord(raw, &r); err != nil || r.seq != seq {
		s.mu.Unlock()
		return fmt.Errorf("filestore: block %d offset %d: erase of sequence %d: %w", b.id, off, seq, store.ErrCorrupt)
	}
	rec := make([]byte, r.size)
	copy(rec, raw)
	eraseRecord(rec)
	if b.cache != nil {
		copy(b.cache[off:], rec)
	}
	s.removeLocked(seq, 0, true)
	onDisk := off < b.flushed
	f := b.f
	s.mu.Unlock()
	if !onDisk {
		// The flusher has not written it yet; it will write the erased copy.
		return nil
	}
	if _, err := f.WriteAt(rec, off); err != nil {
		return s.fail(err)
	}
	if err := f.Sync(); err != nil {
		return s.fail(err)
	}
	return nil
}

// fail records a write error; the store refuses writes afterwards.
func (s *Store) fail(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failLocked(err)
}

// failLocked is fail with mu held.
func (s *Store) failLocked(err error) error {
	if !errors.Is(err, ErrNoSpace) && !errors.Is(err, ErrWriteFailed) {
		if errors.Is(err, syscallENOSPC) {
			err = fmt.Errorf("%w: %w", ErrNoSpace, err)
		} else {
			err = fmt.Errorf("%w: %w", ErrWriteFailed, err)
		}
	}
	if s.werr == nil {
		s.werr = err
		close(s.durCh)
		s.durCh = make(chan struct{})
	}
	return s.werr
}

// Err returns the write or sync error after which the store refuses
// writes (wrapping ErrNoSpace or ErrWriteFailed), nil while it is
// healthy. Monitoring uses it to report a stream whose store failed.
func (s *Store) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.werr
}

// State implements store.StreamStore.
func (s *Store) State() store.StreamState {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.final
	}
	return s.stateLocked()
}

func (s *Store) stateLocked() store.StreamState {
	st := store.StreamState{
		Msgs:        s.msgs,
		Bytes:       s.bytes,
		FirstSeq:    s.first,
		LastSeq:     s.last,
		NumSubjects: len(s.subjects),
		Consumers:   len(s.consumers),
	}
	if s.lastTime != 0 {
		st.LastTime = time.Unix(0, s.lastTime).UTC()
	}
	if s.msgs > 0 {
		st.FirstTime = time.Unix(0, s.slot(s.first).ts).UTC()
		st.NumDeleted = int(s.last - s.first + 1 - s.msgs)
	}
	if s.lost != nil {
		l := *s.lost
		l.Msgs = append([]uint64(nil), l.Msgs...)
		st.Lost = &l
	}
	return st
}

// FilteredState implements store.StreamStore.
func (s *Store) FilteredState(filter string, start uint64) (store.FilteredState, error) {
	kind, err := classify(filter)
	if err != nil {
		return store.FilteredState{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.FilteredState{}, store.ErrStoreClosed
	}
	var fs store.FilteredState
	start = max(start, s.first, 1)
	if s.msgs == 0 || start > s.last {
		return fs, nil
	}
	add := func(p *psi) {
		seqs := p.seqs[p.head:]
		i := sort.Search(len(seqs), func(i int) bool { return seqs[i] >= start })
		for _, q := range seqs[i:] {
			if sl := s.slot(q); sl != nil && sl.subj == p {
				fs.Msgs++
				if fs.First == 0 || q < fs.First {
					fs.First = q
				}
				fs.Last = max(fs.Last, q)
			}
		}
	}
	switch kind {
	case filterAll:
		if start <= s.first {
			return store.FilteredState{Msgs: s.msgs, First: s.first, Last: s.lastMatchLocked(filterAll, "")}, nil
		}
		var first, last uint64
		for i, sl := range s.slotsIn(start, s.last) {
			if sl.subj != nil {
				fs.Msgs++
				if fs.Msgs == 1 {
					first = uint64(i)
				}
				last = uint64(i)
			}
		}
		if fs.Msgs > 0 {
			base := s.pos(start)
			fs.First, fs.Last = s.seqAt(base+first), s.seqAt(base+last)
		}
	case filterLiteral:
		if p := s.subjects[filter]; p != nil {
			add(p)
		}
	default:
		for _, p := range s.subjects {
			if matchPSI(p, filter) {
				add(p)
			}
		}
	}
	return fs, nil
}

// SubjectsTotals implements store.StreamStore.
func (s *Store) SubjectsTotals(filter string) (map[string]uint64, error) {
	kind, err := classify(filter)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, store.ErrStoreClosed
	}
	out := make(map[string]uint64)
	switch kind {
	case filterLiteral:
		if p := s.subjects[filter]; p != nil {
			out[p.subj] = uint64(p.n)
		}
	default:
		for _, p := range s.subjects {
			if kind == filterAll || matchPSI(p, filter) {
				out[p.subj] = uint64(p.n)
			}
		}
	}
	return out, nil
}

// UpdateConfig implements store.StreamStore.
func (s *Store) UpdateConfig(cfg store.Config) error {
	if err := validateConfig(cfg); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return store.ErrStoreClosed
	}
	if cfg.Name != s.scfg.Name {
		s.mu.Unlock()
		return fmt.Errorf("filestore: stream name cannot change: %w", store.ErrInvalidConfig)
	}
	s.scfg = cfg
	s.enforceLocked(nil)
	s.ageSeq = s.first
	s.timerAt = 0
	s.expireLocked(time.Now().UnixNano())
	s.kickLocked()
	rm, cb := s.takeRemovedLocked()
	s.mu.Unlock()
	fire(rm, cb)
	return nil
}

// SetCompression turns Config.Compress on or off for the records written
// from now on; the stored ones stay as they are and keep reading back.
func (s *Store) SetCompression(on bool) {
	s.mu.Lock()
	s.compress = on
	s.mu.Unlock()
}

// DurableSeq implements store.Durable.
func (s *Store) DurableSeq() uint64 { return s.durable.Load() }

// WaitDurable implements store.Durable.
func (s *Store) WaitDurable(ctx context.Context, seq uint64) error {
	for {
		if s.durable.Load() >= seq {
			return nil
		}
		s.mu.Lock()
		ch, werr, closed := s.durCh, s.werr, s.shut
		s.mu.Unlock()
		if s.durable.Load() >= seq {
			return nil
		}
		if werr != nil {
			return werr
		}
		if closed {
			return store.ErrStoreClosed
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// Close implements store.StreamStore: it stops the store's goroutines and
// makes every stored message durable.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return store.ErrStoreClosed
	}
	s.final = s.stateLocked()
	s.closed = true
	s.mu.Unlock()
	close(s.quit)
	s.wg.Wait()
	err := s.flush(true)
	s.ioMu.Lock()
	s.mu.Lock()
	s.shut = true
	close(s.durCh)
	s.durCh = make(chan struct{})
	s.mu.Unlock()
	s.closeFiles()
	s.ioMu.Unlock()
	return err
}

func (s *Store) closeFiles() {
	for _, b := range s.blks {
		if b.f != nil {
			b.f.Close()
			b.f = nil
		}
		b.cache = nil
	}
}

// Delete implements store.StreamStore.
func (s *Store) Delete() error {
	err := s.Close()
	if err != nil && !errors.Is(err, store.ErrStoreClosed) && !errors.Is(err, ErrWriteFailed) && !errors.Is(err, ErrNoSpace) {
		return err
	}
	if rerr := s.fs.RemoveAll(s.dir); rerr != nil {
		return fmt.Errorf("filestore: %w", rerr)
	}
	return nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }
