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
	fail *atomic.Bool
}

func (f failFS) OpenFile(name string, flag int, perm os.FileMode) (filestore.File, error) {
	file, err := f.OSFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return failFile{File: file, fail: f.fail}, nil
}

type failFile struct {
	filestore.File
	fail *atomic.Bool
}

func (f failFile) WriteAt(p []byte, off int64) (int, error) {
	if f.fail.Load() {
		return 0, syscall.EIO
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
