package filestore_test

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"testing"

	"natsd.dev/jetstream/store"
	"natsd.dev/jetstream/store/filestore"
)

// faultFS wraps the OS file system and fails writes or syncs on demand.
type faultFS struct {
	filestore.OSFS
	writeErr atomic.Pointer[error]
	syncErr  atomic.Pointer[error]
	// partial, when set with writeErr, writes half of the buffer first
	// (a short write as a full disk produces).
	partial atomic.Bool
}

func (f *faultFS) OpenFile(name string, flag int, perm os.FileMode) (filestore.File, error) {
	if flag&os.O_CREATE != 0 {
		if e := f.writeErr.Load(); e != nil {
			return nil, &os.PathError{Op: "open", Path: name, Err: *e}
		}
	}
	file, err := f.OSFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f}, nil
}

type faultFile struct {
	filestore.File
	fs *faultFS
}

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	if e := f.fs.writeErr.Load(); e != nil {
		n := 0
		if f.fs.partial.Load() && len(p) > 1 {
			n, _ = f.File.WriteAt(p[:len(p)/2], off)
		}
		return n, &os.PathError{Op: "write", Path: "block", Err: *e}
	}
	return f.File.WriteAt(p, off)
}

func (f *faultFile) Sync() error {
	if e := f.fs.syncErr.Load(); e != nil {
		return &os.PathError{Op: "fsync", Path: "block", Err: *e}
	}
	return f.File.Sync()
}

func TestFaults(t *testing.T) {
	enospc := error(syscall.ENOSPC)
	eio := error(syscall.EIO)
	cases := []struct {
		name    string
		set     func(*faultFS)
		wantErr error
	}{
		{"ENOSPC", func(f *faultFS) { f.partial.Store(true); f.writeErr.Store(&enospc) }, filestore.ErrNoSpace},
		{"WriteEIO", func(f *faultFS) { f.writeErr.Store(&eio) }, filestore.ErrWriteFailed},
		{"SyncEIO", func(f *faultFS) { f.syncErr.Store(&eio) }, filestore.ErrWriteFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			ffs := &faultFS{}
			s := open(t, dir, filestore.Config{FS: ffs, BlockSize: 1024}, store.Config{})
			for i := range 50 {
				if _, err := s.StoreMsg("ok", nil, []byte(fmt.Sprint("durable-", i)), 0, 0); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.WaitDurable(t.Context(), 50); err != nil {
				t.Fatal(err)
			}
			_, want := dump(t, s)

			c.set(ffs)
			seq, err := s.StoreMsg("bad", nil, []byte("lost"), 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			err = s.WaitDurable(t.Context(), seq)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("WaitDurable = %v, want %v", err, c.wantErr)
			}
			if c.name == "ENOSPC" && !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("WaitDurable = %v, want it to wrap ENOSPC", err)
			}
			if s.DurableSeq() != 50 {
				t.Fatalf("DurableSeq = %d after failure", s.DurableSeq())
			}
			// The store refuses writes from now on, cleanly.
			if _, err := s.StoreMsg("more", nil, nil, 0, 0); !errors.Is(err, c.wantErr) {
				t.Fatalf("StoreMsg after failure = %v", err)
			}
			if err := s.RemoveMsg(1); !errors.Is(err, c.wantErr) {
				t.Fatalf("RemoveMsg after failure = %v", err)
			}
			if _, err := s.Purge(store.PurgeRequest{}); !errors.Is(err, c.wantErr) {
				t.Fatalf("Purge after failure = %v", err)
			}
			var m store.StoredMsg
			if err := s.LoadMsg(3, &m); err != nil {
				t.Fatalf("reads keep working: %v", err)
			}
			if err := s.Close(); !errors.Is(err, c.wantErr) {
				t.Fatalf("Close = %v", err)
			}
			// The disk recovers: everything durable is there.
			s = open(t, dir, filestore.Config{}, store.Config{})
			defer s.Close()
			_, got := dump(t, s)
			if len(got) < len(want) {
				t.Fatalf("lost durable messages: %d of %d left", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("message %d = %+v, want %+v", i, got[i], want[i])
				}
			}
			if rep := s.RecoveryReport(); rep.Err() != nil {
				t.Fatalf("recovery after fault: %v", rep.Err())
			}
		})
	}
}

func TestConsumerWriteFault(t *testing.T) {
	dir := t.TempDir()
	ffs := &faultFS{}
	s := open(t, dir, filestore.Config{FS: ffs}, store.Config{})
	defer s.Close()
	c, _ := s.Consumer("c")
	st := store.ConsumerState{Delivered: store.SequencePair{Consumer: 1, Stream: 1}}
	if err := c.SetState(&st); err != nil {
		t.Fatal(err)
	}
	enospc := error(syscall.ENOSPC)
	ffs.writeErr.Store(&enospc)
	st2 := store.ConsumerState{Delivered: store.SequencePair{Consumer: 2, Stream: 2}}
	if err := c.SetState(&st2); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("SetState on a full disk = %v", err)
	}
	ffs.writeErr.Store(nil)
	var got store.ConsumerState
	c.State(&got)
	if got.Delivered.Stream != 1 {
		t.Fatalf("state after failed SetState = %+v", got)
	}
}
