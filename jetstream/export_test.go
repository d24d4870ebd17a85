package jetstream

import (
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"natsd.dev/jetstream/store/filestore"
)

// FailStoreWrites makes the file stores opened from now on fail every
// write and sync with EIO while the returned flag is set, as a dying disk
// would. Call it before Start; the operating system's file system is back
// for the stores opened after the test.
func FailStoreWrites(tb testing.TB) *atomic.Bool {
	fail := new(atomic.Bool)
	storeFS = failFS{fail: fail}
	tb.Cleanup(func() { storeFS = nil })
	return fail
}

type failFS struct {
	filestore.OSFS
	fail  *atomic.Bool
	space *atomic.Int64 // free bytes; nil: unlimited
}

func (f failFS) OpenFile(name string, flag int, perm os.FileMode) (filestore.File, error) {
	file, err := f.OSFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return failFile{File: file, fail: f.fail, space: f.space}, nil
}

type failFile struct {
	filestore.File
	fail  *atomic.Bool
	space *atomic.Int64
}

func (f failFile) WriteAt(p []byte, off int64) (int, error) {
	if f.fail.Load() {
		return 0, syscall.EIO
	}
	if f.space != nil {
		if left := f.space.Add(-int64(len(p))); left < 0 {
			// Write what fits (a torn write), give the rest back.
			fit := max(int64(len(p))+left, 0)
			f.space.Add(int64(len(p)) - fit)
			n, err := f.File.WriteAt(p[:fit], off)
			if err != nil {
				return n, err
			}
			return n, syscall.ENOSPC
		}
	}
	return f.File.WriteAt(p, off)
}

func (f failFile) Sync() error {
	if f.fail.Load() {
		return syscall.EIO
	}
	return f.File.Sync()
}

// SetTransferTimeouts changes the snapshot and restore timeouts for a
// test and returns what restores them.
func SetTransferTimeouts(interest, flow, idle time.Duration) (undo func()) {
	i, f, d := snapInterestWait, snapFlowTimeout, restoreIdle
	snapInterestWait, snapFlowTimeout, restoreIdle = interest, flow, idle
	return func() { snapInterestWait, snapFlowTimeout, restoreIdle = i, f, d }
}

// FailStoreSpace makes the file stores opened from now on share a disk
// with space bytes free: a write that does not fit writes what does and
// fails with ENOSPC, as a full disk. Store a larger value in the returned
// counter to free space.
func FailStoreSpace(tb testing.TB, space int64) *atomic.Int64 {
	free := new(atomic.Int64)
	free.Store(space)
	storeFS = failFS{fail: new(atomic.Bool), space: free}
	tb.Cleanup(func() { storeFS = nil })
	return free
}
