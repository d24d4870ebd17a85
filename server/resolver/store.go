package resolver

import (
	"container/list"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"natsd.dev/auth"
)

// Errors of the store, with upstream's texts where a client sees them.
var (
	// ErrStoreFull is returned by Save when a store without eviction
	// (the full resolver's) holds its limit of JWTs.
	ErrStoreFull = errors.New("jwt store is full")
	// ErrDeleteDisabled is returned by Delete when the store was opened
	// without deletes (allow_delete false).
	ErrDeleteDisabled = errors.New("delete must be enabled in server config")
	// ErrDamaged marks a stored file that is not an account JWT for the
	// account its name says.
	ErrDamaged = errors.New("resolver: damaged jwt file")
)

// DeleteMode is what Delete does with a stored JWT.
type DeleteMode int

// Delete modes: NoDelete refuses deletes (allow_delete false),
// RenameDeleted renames the file to <pub>.jwt.deleted (allow_delete
// true), HardDelete removes it (hard_delete, and the cache's evictions).
const (
	NoDelete DeleteMode = iota
	RenameDeleted
	HardDelete
)

// String names the mode.
func (m DeleteMode) String() string {
	switch m {
	case NoDelete:
		return "NoDelete"
	case RenameDeleted:
		return "RenameDeleted"
	case HardDelete:
		return "HardDelete"
	}
	return fmt.Sprintf("DeleteMode(%d)", int(m))
}

const (
	fileExt       = ".jwt"
	deletedSuffix = ".deleted"
)

// StoreOptions configure a Store.
type StoreOptions struct {
	// Limit is the most JWTs the store holds; 0 for no limit.
	Limit int64
	// Evict makes a store at its limit drop its least recently used JWT
	// for a new one (the cache resolver) instead of refusing it with
	// ErrStoreFull (the full resolver).
	Evict bool
	// TTL, when not zero, is how long a JWT stays after it was last
	// saved or loaded (the cache resolver's ttl); Expire drops the
	// older ones.
	TTL time.Duration
	// Delete is what Delete does.
	Delete DeleteMode
}

// entry is one indexed JWT.
type entry struct {
	pub  string
	hash [sha256.Size]byte
	used time.Time
	elem *list.Element // in Store.lru
}

// Store keeps account JWTs in a directory, one file per account named
// <public key>.jwt as upstream's resolvers name them, so that a
// directory written by one can be read by the other. Safe for concurrent
// use.
type Store struct {
	dir  string
	opts StoreOptions
	// mu guards the index and the files.
	mu   sync.Mutex
	idx  map[string]*entry
	lru  *list.List // least recently used first
	hash [sha256.Size]byte
}

// OpenStore opens (creating it when missing) the directory dir as a
// store. Files that are not account JWTs for the account their name
// says are left out of the index and returned in damaged (each wrapping
// ErrDamaged, naming the file), not as a failure: the other accounts
// stay usable.
func OpenStore(dir string, o StoreOptions) (st *Store, damaged []error, err error) {
	if dir == "" {
		return nil, nil, errors.New("dir has no value and needs to point to a directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, nil, err
	}
	st = &Store{dir: abs, opts: o, idx: map[string]*entry{}, lru: list.New()}
	ents, err := os.ReadDir(abs)
	if err != nil {
		return nil, nil, err
	}
	for _, de := range ents {
		name := de.Name()
		if de.IsDir() || !strings.HasSuffix(name, fileExt) {
			continue
		}
		pub := strings.TrimSuffix(name, fileExt)
		b, err := os.ReadFile(filepath.Join(abs, name))
		if err == nil {
			err = checkFile(pub, string(b))
		}
		if err != nil {
			damaged = append(damaged, fmt.Errorf("%w %s: %v", ErrDamaged, filepath.Join(abs, name), err))
			continue
		}
		st.track(pub, sha256.Sum256(b))
	}
	return st, damaged, nil
}

// checkFile checks that token is a JWT whose subject is pub.
func checkFile(pub, token string) error {
	c, err := auth.DecodeClaims(strings.TrimSpace(token))
	if err != nil {
		return err
	}
	if c.Subject != pub {
		return fmt.Errorf("jwt is for %s", c.Subject)
	}
	return nil
}

// Dir returns the store's directory (absolute).
func (st *Store) Dir() string { return st.dir }

func (st *Store) path(pub string) string { return filepath.Join(st.dir, pub+fileExt) }

// validKey keeps public keys from naming paths outside the directory.
func validKey(pub string) bool {
	return len(pub) >= 2 && !strings.ContainsAny(pub, `/\.`) && pub != ".."
}

// track indexes pub with the given hash; st.mu is held (or st is new).
func (st *Store) track(pub string, h [sha256.Size]byte) {
	if e, ok := st.idx[pub]; ok {
		xor(&st.hash, e.hash)
		e.hash = h
		e.used = time.Now()
		st.lru.MoveToBack(e.elem)
	} else {
		e := &entry{pub: pub, hash: h, used: time.Now()}
		e.elem = st.lru.PushBack(e)
		st.idx[pub] = e
	}
	xor(&st.hash, h)
}

// untrack drops pub from the index; st.mu is held.
func (st *Store) untrack(pub string) {
	if e, ok := st.idx[pub]; ok {
		xor(&st.hash, e.hash)
		st.lru.Remove(e.elem)
		delete(st.idx, pub)
	}
}

func xor(dst *[sha256.Size]byte, v [sha256.Size]byte) {
	for i := range v {
		dst[i] ^= v[i]
	}
}

// Load returns the stored JWT of the account pub, or an error wrapping
// fs.ErrNotExist when there is none (ErrDamaged for a damaged file).
func (st *Store) Load(pub string) (string, error) {
	if !validKey(pub) {
		return "", fmt.Errorf("invalid public key %q: %w", pub, fs.ErrNotExist)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	e, ok := st.idx[pub]
	if !ok {
		return "", fmt.Errorf("account %s: %w", pub, fs.ErrNotExist)
	}
	b, err := os.ReadFile(st.path(pub))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			st.untrack(pub)
		}
		return "", err
	}
	tok := strings.TrimSpace(string(b))
	if err := checkFile(pub, tok); err != nil {
		return "", fmt.Errorf("%w %s: %v", ErrDamaged, st.path(pub), err)
	}
	e.used = time.Now()
	st.lru.MoveToBack(e.elem)
	return tok, nil
}

// Save stores token as the JWT of the account pub, whatever the stored
// one is; changed is false when it was already stored as is.
func (st *Store) Save(pub, token string) (changed bool, err error) {
	return st.save(pub, token, false)
}

// SaveIfNewer stores token unless the stored JWT of pub has the same ID
// or was issued later (the merge of another server's JWTs).
func (st *Store) SaveIfNewer(pub, token string) (changed bool, err error) {
	return st.save(pub, token, true)
}

func (st *Store) save(pub, token string, ifNewer bool) (bool, error) {
	if !validKey(pub) {
		return false, fmt.Errorf("invalid public key %q", pub)
	}
	token = strings.TrimSpace(token)
	st.mu.Lock()
	defer st.mu.Unlock()
	h := sha256.Sum256([]byte(token))
	e, exists := st.idx[pub]
	if exists && e.hash == h {
		e.used = time.Now()
		st.lru.MoveToBack(e.elem)
		return false, nil
	}
	if exists && ifNewer {
		if b, err := os.ReadFile(st.path(pub)); err == nil {
			old, err1 := auth.DecodeClaims(strings.TrimSpace(string(b)))
			nw, err2 := auth.DecodeClaims(token)
			if err1 == nil && err2 == nil && (old.ID == nw.ID || old.IssuedAt.After(nw.IssuedAt)) {
				return false, nil
			}
		}
	}
	if !exists && st.opts.Limit > 0 && int64(len(st.idx)) >= st.opts.Limit {
		if !st.opts.Evict {
			return false, ErrStoreFull
		}
		oldest := st.lru.Front().Value.(*entry)
		if err := os.Remove(st.path(oldest.pub)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, err
		}
		st.untrack(oldest.pub)
	}
	if err := writeFileAtomic(st.path(pub), []byte(token)); err != nil {
		return false, err
	}
	st.track(pub, h)
	return true, nil
}

// writeFileAtomic writes b to path through a temporary file and a
// rename, so that a crash leaves the old JWT or the new one.
func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// Delete removes the JWT of the account pub as the store's DeleteMode
// says; ErrDeleteDisabled under NoDelete.
func (st *Store) Delete(pub string) error {
	if st.opts.Delete == NoDelete {
		return ErrDeleteDisabled
	}
	if !validKey(pub) {
		return fmt.Errorf("invalid public key %q", pub)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.untrack(pub)
	p := st.path(pub)
	var err error
	if st.opts.Delete == RenameDeleted {
		err = os.Rename(p, p+deletedSuffix)
	} else {
		err = os.Remove(p)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// List returns the public keys of the stored accounts, sorted.
func (st *Store) List() []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]string, 0, len(st.idx))
	for pub := range st.idx {
		out = append(out, pub)
	}
	slices.Sort(out)
	return out
}

// Hash is the XOR of the SHA-256 of every stored JWT: two stores with
// the same JWTs have the same hash, whatever the order they came in.
func (st *Store) Hash() [sha256.Size]byte {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.hash
}

// Expire drops the JWTs not saved or loaded for the store's TTL, as of
// now, and returns their public keys (none without a TTL).
func (st *Store) Expire(now time.Time) []string {
	if st.opts.TTL <= 0 {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	var gone []string
	for pub, e := range st.idx {
		if now.Sub(e.used) >= st.opts.TTL {
			os.Remove(st.path(pub))
			st.untrack(pub)
			gone = append(gone, pub)
		}
	}
	slices.Sort(gone)
	return gone
}
