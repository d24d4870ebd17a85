// Package fstest provides FS, an in-memory filestore.FS that models what an
// operating system's page cache keeps and loses, so crash tests can cut the
// power at any moment without a real disk.
//
// # Model
//
// Reads see every write at once. What survives a loss of power is less:
//
//   - a file's bytes (WriteAt, Truncate, O_TRUNC) survive once Sync of that
//     file covers them;
//   - a directory entry (a file or directory created, renamed or removed)
//     survives once Sync of a handle on its directory, opened with
//     os.O_RDONLY, covers it. A rename touches two directories; each keeps
//     its own side until it is synced. A file whose data was synced but
//     whose entry was not is gone after a power loss, and an entry synced
//     before its file's data comes back with the file's older contents
//     (possibly empty). This is strict POSIX: ext4 and XFS often do better,
//     tests should not count on it.
//
// Kill returns the file system as a process killed right now leaves it:
// everything written is still there and still not durable. PowerLoss
// returns what a power loss right now leaves: the durable state, plus, when
// given a random source, a random prefix of each file's unsynced writes in
// the order they were made, the last one possibly torn (cut to a random
// prefix of its bytes), as a disk writing back its cache in order would.
// SetSyncLatency makes syncs take time, so that a cut often falls
// between a write and its fsync, as it does on a real disk. Both leave the receiver unchanged, so the store under test keeps running
// on it while the copy is reopened.
//
// # Concurrency
//
// An FS and its files are safe for concurrent use; one mutex guards them,
// so Kill and PowerLoss see every operation either wholly or not at all.
package fstest

import (
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"natsd.dev/jetstream/store/filestore"
)

// FS is an in-memory filestore.FS with a page-cache model (see the package
// documentation). The zero value is not usable; call New.
type FS struct {
	syncDelay atomic.Int64 // nanoseconds each Sync sleeps first

	mu   sync.Mutex
	root *node
}

// SetSyncLatency makes every Sync sleep d before it takes effect, as a
// disk's flush takes time: writes made meanwhile are not covered, and a
// Kill or PowerLoss during the sleep finds the data written and not synced.
func (f *FS) SetSyncLatency(d time.Duration) { f.syncDelay.Store(int64(d)) }

var _ filestore.FS = (*FS)(nil)

// node is a file or a directory.
type node struct {
	dir bool
	// A file: data is what reads see, durable what a power loss keeps,
	// pending the changes made since the last Sync, in order.
	data    []byte
	durable []byte
	pending []change
	// A directory: kids is what lookups see, dkids what a power loss keeps.
	kids  map[string]*node
	dkids map[string]*node
}

// change is one write (data != nil) or truncation of a file.
type change struct {
	off   int64
	data  []byte
	trunc bool
}

func (c change) apply(b []byte) []byte {
	if c.trunc {
		if c.off <= int64(len(b)) {
			return b[:c.off]
		}
		return append(b, make([]byte, c.off-int64(len(b)))...)
	}
	if end := c.off + int64(len(c.data)); end > int64(len(b)) {
		b = append(b, make([]byte, end-int64(len(b)))...)
	}
	copy(b[c.off:], c.data)
	return b
}

func newDir() *node {
	return &node{dir: true, kids: map[string]*node{}, dkids: map[string]*node{}}
}

// New returns an empty file system holding only its root directory.
func New() *FS { return &FS{root: newDir()} }

// split turns a name into its cleaned path elements; "" and "/" are the
// root. Relative names are relative to the root.
func split(name string) []string {
	p := path.Clean("/" + filepath.ToSlash(name))
	if p == "/" {
		return nil
	}
	return strings.Split(p[1:], "/")
}

func pathErr(op, name string, err error) error { return &os.PathError{Op: op, Path: name, Err: err} }

// walk returns the node of elems, or nil.
func (f *FS) walk(elems []string) *node {
	n := f.root
	for _, e := range elems {
		if !n.dir {
			return nil
		}
		if n = n.kids[e]; n == nil {
			return nil
		}
	}
	return n
}

// parent returns the directory holding name and name's last element.
func (f *FS) parent(op, name string) (*node, string, error) {
	elems := split(name)
	if len(elems) == 0 {
		return nil, "", pathErr(op, name, syscall.EINVAL)
	}
	d := f.walk(elems[:len(elems)-1])
	if d == nil {
		return nil, "", pathErr(op, name, fs.ErrNotExist)
	}
	if !d.dir {
		return nil, "", pathErr(op, name, syscall.ENOTDIR)
	}
	return d, elems[len(elems)-1], nil
}

// OpenFile implements filestore.FS. It honours os.O_CREATE, os.O_EXCL,
// os.O_TRUNC and the access mode; a directory opens with os.O_RDONLY only,
// and its handle's Sync makes the directory's entries durable.
func (f *FS) OpenFile(name string, flag int, perm os.FileMode) (filestore.File, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.walk(split(name))
	if n == nil {
		if flag&os.O_CREATE == 0 {
			return nil, pathErr("open", name, fs.ErrNotExist)
		}
		d, base, err := f.parent("open", name)
		if err != nil {
			return nil, err
		}
		n = &node{}
		d.kids[base] = n
	} else if flag&(os.O_CREATE|os.O_EXCL) == os.O_CREATE|os.O_EXCL {
		return nil, pathErr("open", name, fs.ErrExist)
	}
	write := flag&(os.O_WRONLY|os.O_RDWR) != 0
	if n.dir && write {
		return nil, pathErr("open", name, syscall.EISDIR)
	}
	if flag&os.O_TRUNC != 0 && write {
		n.truncate(0)
	}
	return &file{fs: f, n: n, name: name, write: write, read: flag&os.O_WRONLY == 0}, nil
}

func (n *node) truncate(size int64) {
	c := change{off: size, trunc: true}
	n.data = c.apply(n.data)
	n.pending = append(n.pending, c)
}

// Rename implements filestore.FS. It replaces newpath if it exists (an
// empty directory only by a directory).
func (f *FS) Rename(oldpath, newpath string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	od, obase, err := f.parent("rename", oldpath)
	if err != nil {
		return err
	}
	n := od.kids[obase]
	if n == nil {
		return pathErr("rename", oldpath, fs.ErrNotExist)
	}
	nd, nbase, err := f.parent("rename", newpath)
	if err != nil {
		return err
	}
	if t := nd.kids[nbase]; t != nil && t != n {
		if t.dir != n.dir {
			return pathErr("rename", newpath, syscall.EEXIST)
		}
		if t.dir && len(t.kids) > 0 {
			return pathErr("rename", newpath, syscall.ENOTEMPTY)
		}
	}
	delete(od.kids, obase)
	nd.kids[nbase] = n
	return nil
}

// Remove implements filestore.FS: it removes a file or an empty directory.
func (f *FS) Remove(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, base, err := f.parent("remove", name)
	if err != nil {
		return err
	}
	n := d.kids[base]
	if n == nil {
		return pathErr("remove", name, fs.ErrNotExist)
	}
	if n.dir && len(n.kids) > 0 {
		return pathErr("remove", name, syscall.ENOTEMPTY)
	}
	delete(d.kids, base)
	return nil
}

// RemoveAll implements filestore.FS. Only the entry in path's parent
// changes, so a power loss before that directory is synced brings the
// whole tree back.
func (f *FS) RemoveAll(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, base, err := f.parent("removeall", name)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	delete(d.kids, base)
	return nil
}

// ReadDir implements filestore.FS: the entries sorted by name.
func (f *FS) ReadDir(name string) ([]os.DirEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.walk(split(name))
	if n == nil {
		return nil, pathErr("readdir", name, fs.ErrNotExist)
	}
	if !n.dir {
		return nil, pathErr("readdir", name, syscall.ENOTDIR)
	}
	names := make([]string, 0, len(n.kids))
	for k := range n.kids {
		names = append(names, k)
	}
	slices.Sort(names)
	out := make([]os.DirEntry, len(names))
	for i, k := range names {
		out[i] = fs.FileInfoToDirEntry(n.kids[k].info(k))
	}
	return out, nil
}

// MkdirAll implements filestore.FS.
func (f *FS) MkdirAll(name string, perm os.FileMode) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.root
	for _, e := range split(name) {
		k := n.kids[e]
		if k == nil {
			k = newDir()
			n.kids[e] = k
		} else if !k.dir {
			return pathErr("mkdir", name, syscall.ENOTDIR)
		}
		n = k
	}
	return nil
}

// ReadFile returns a copy of a file's contents as reads see them.
func (f *FS) ReadFile(name string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.walk(split(name))
	if n == nil {
		return nil, pathErr("open", name, fs.ErrNotExist)
	}
	if n.dir {
		return nil, pathErr("read", name, syscall.EISDIR)
	}
	return slices.Clone(n.data), nil
}

// Unsynced reports how many files hold changes that no Sync covered and how
// many directories hold entries that no Sync covered, counting only what
// can be reached from the root.
func (f *FS) Unsynced() (files, dirs int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var visit func(n *node)
	visit = func(n *node) {
		if !n.dir {
			if len(n.pending) > 0 {
				files++
			}
			return
		}
		if !sameKids(n.kids, n.dkids) {
			dirs++
		}
		for _, k := range n.kids {
			visit(k)
		}
	}
	visit(f.root)
	return files, dirs
}

func sameKids(a, b map[string]*node) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Kill returns a copy of the file system as a process killed now leaves
// it: every change is kept, and what was not synced is still not durable
// (a later PowerLoss of the copy drops it).
func (f *FS) Kill() *FS {
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := map[*node]*node{}
	var cp func(n *node) *node
	cp = func(n *node) *node {
		if c := seen[n]; c != nil {
			return c
		}
		c := &node{dir: n.dir}
		seen[n] = c
		if !n.dir {
			c.data = slices.Clone(n.data)
			c.durable = slices.Clone(n.durable)
			c.pending = slices.Clone(n.pending) // changes are never mutated
			return c
		}
		c.kids = make(map[string]*node, len(n.kids))
		c.dkids = make(map[string]*node, len(n.dkids))
		for k, v := range n.kids {
			c.kids[k] = cp(v)
		}
		for k, v := range n.dkids {
			c.dkids[k] = cp(v)
		}
		return c
	}
	return &FS{root: cp(f.root)}
}

// PowerLoss returns a copy of the file system as a loss of power now
// leaves it: the directory entries and file contents that Sync covered.
// With r not nil, each file also keeps a random prefix of its unsynced
// changes, the last of them possibly torn; with r nil every unsynced
// change is dropped.
func (f *FS) PowerLoss(r *rand.Rand) *FS { return f.powerLoss(r, false) }

// PowerLossKeepEntries is PowerLoss on a file system that keeps every
// directory entry, synced or not (as if it journaled them in order): only
// file contents are lost. Tests use it to tell lost data from lost entries.
func (f *FS) PowerLossKeepEntries(r *rand.Rand) *FS { return f.powerLoss(r, true) }

func (f *FS) powerLoss(r *rand.Rand, keepEntries bool) *FS {
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := map[*node]*node{}
	var cp func(n *node) *node
	cp = func(n *node) *node {
		if c := seen[n]; c != nil {
			return c
		}
		c := &node{dir: n.dir}
		seen[n] = c
		if !n.dir {
			data := slices.Clone(n.durable)
			if r != nil && len(n.pending) > 0 {
				keep := r.IntN(len(n.pending) + 1)
				for i, ch := range n.pending[:keep] {
					if i == keep-1 && !ch.trunc && r.IntN(2) == 0 {
						ch.data = ch.data[:r.IntN(len(ch.data)+1)]
					}
					data = ch.apply(data)
				}
			}
			c.data, c.durable = data, slices.Clone(data)
			return c
		}
		ents := n.dkids
		if keepEntries {
			ents = n.kids
		}
		c.kids = make(map[string]*node, len(ents))
		c.dkids = make(map[string]*node, len(ents))
		for k, v := range ents {
			k2 := cp(v)
			c.kids[k], c.dkids[k] = k2, k2
		}
		return c
	}
	return &FS{root: cp(f.root)}
}

func (n *node) info(name string) fileInfo {
	fi := fileInfo{name: name, size: int64(len(n.data)), mode: 0o644}
	if n.dir {
		fi.size, fi.mode = 0, fs.ModeDir|0o755
	}
	return fi
}

type fileInfo struct {
	name string
	size int64
	mode fs.FileMode
}

func (fi fileInfo) Name() string       { return fi.name }
func (fi fileInfo) Size() int64        { return fi.size }
func (fi fileInfo) Mode() fs.FileMode  { return fi.mode }
func (fi fileInfo) ModTime() time.Time { return time.Time{} }
func (fi fileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi fileInfo) Sys() any           { return nil }

// file is an open file or directory.
type file struct {
	fs          *FS
	n           *node
	name        string
	read, write bool
	closed      bool
}

func (h *file) check(op string, write bool) error {
	switch {
	case h.closed:
		return pathErr(op, h.name, os.ErrClosed)
	case h.n.dir && op != "sync" && op != "stat":
		return pathErr(op, h.name, syscall.EISDIR)
	case write && !h.write, !write && op == "read" && !h.read:
		return pathErr(op, h.name, syscall.EBADF)
	}
	return nil
}

// ReadAt implements filestore.File.
func (h *file) ReadAt(p []byte, off int64) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.check("read", false); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, pathErr("read", h.name, syscall.EINVAL)
	}
	if off >= int64(len(h.n.data)) {
		return 0, io.EOF
	}
	n := copy(p, h.n.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// WriteAt implements filestore.File.
func (h *file) WriteAt(p []byte, off int64) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.check("write", true); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, pathErr("write", h.name, syscall.EINVAL)
	}
	c := change{off: off, data: slices.Clone(p)}
	h.n.data = c.apply(h.n.data)
	h.n.pending = append(h.n.pending, c)
	return len(p), nil
}

// Sync implements filestore.File: a file's changes, or a directory's
// entries, become durable.
func (h *file) Sync() error {
	if d := h.fs.syncDelay.Load(); d > 0 {
		time.Sleep(time.Duration(d))
	}
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.check("sync", false); err != nil {
		return err
	}
	n := h.n
	if n.dir {
		clear(n.dkids)
		for k, v := range n.kids {
			n.dkids[k] = v
		}
		return nil
	}
	for _, c := range n.pending {
		n.durable = c.apply(n.durable)
	}
	n.pending = nil
	return nil
}

// Truncate implements filestore.File.
func (h *file) Truncate(size int64) error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.check("truncate", true); err != nil {
		return err
	}
	if size < 0 {
		return pathErr("truncate", h.name, syscall.EINVAL)
	}
	h.n.truncate(size)
	return nil
}

// Stat implements filestore.File.
func (h *file) Stat() (os.FileInfo, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.check("stat", false); err != nil {
		return nil, err
	}
	return h.n.info(path.Base("/" + filepath.ToSlash(h.name))), nil
}

// Close implements filestore.File.
func (h *file) Close() error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if h.closed {
		return pathErr("close", h.name, os.ErrClosed)
	}
	h.closed = true
	return nil
}
