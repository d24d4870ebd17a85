package filestore_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"natsd.dev/jetstream/store"
	"natsd.dev/jetstream/store/filestore"
)

// noSyncFS skips fsyncs, which the fuzzer does not need and which would
// make each execution cost milliseconds.
type noSyncFS struct{ filestore.OSFS }

func (noSyncFS) OpenFile(name string, flag int, perm os.FileMode) (filestore.File, error) {
	f, err := filestore.OSFS{}.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return noSyncFile{f}, nil
}

type noSyncFile struct{ filestore.File }

func (noSyncFile) Sync() error { return nil }

// seedBlock returns the block file of a small store with messages,
// removals, an erase, a purge marker and skip records.
func seedBlock(f *testing.F) []byte {
	dir := f.TempDir()
	s, err := filestore.Open(filestore.Config{Dir: dir}, store.Config{})
	if err != nil {
		f.Fatal(err)
	}
	for i, subj := range []string{"a", "b.c", "a", "d", "b.c", "e"} {
		s.StoreMsg(subj, []byte("h"), []byte{byte(i), 1, 2}, int64(i+1), 0)
	}
	s.RemoveMsg(3)
	s.SkipMsgs(7, 100)
	s.StoreMsg("f", nil, []byte("after skip"), 200, 0)
	s.SkipMsgs(108, 3)
	s.EraseMsg(5)
	s.Compact(2)
	s.Close()
	names, _ := filepath.Glob(filepath.Join(dir, "msgs", "*.blk"))
	data, err := os.ReadFile(names[len(names)-1])
	if err != nil {
		f.Fatal(err)
	}
	return data
}

// seedCompressedBlock returns the block file of a compressed store, with
// plain records (too small to compress) between compressed ones and one
// compressed record erased.
func seedCompressedBlock(f *testing.F) []byte {
	dir := f.TempDir()
	s, err := filestore.Open(filestore.Config{Dir: dir, Compress: true}, store.Config{})
	if err != nil {
		f.Fatal(err)
	}
	for i, subj := range []string{"a", "b.c", "a", "d"} {
		s.StoreMsg(subj, []byte("NATS/1.0\r\n\r\n"), bytes.Repeat([]byte{byte('a' + i)}, 100), int64(i+1), 0)
		s.StoreMsg(subj, nil, []byte{byte(i)}, int64(i+1), 0)
	}
	s.EraseMsg(3)
	s.Close()
	names, _ := filepath.Glob(filepath.Join(dir, "msgs", "*.blk"))
	data, err := os.ReadFile(names[len(names)-1])
	if err != nil {
		f.Fatal(err)
	}
	return data
}

// FuzzRecover opens a store whose only block holds arbitrary bytes. Oracle:
// no panic; every recovered message loads (so its checksum is valid) in
// increasing sequence order; reopening gives the same store (recovery is
// idempotent) and the store accepts new messages after the last one.
func FuzzRecover(f *testing.F) {
	seed := seedBlock(f)
	f.Add(seed)
	f.Add(seed[:len(seed)-7])
	f.Add(seed[:32])
	f.Add([]byte{})
	flipped := append([]byte(nil), seed...)
	flipped[len(flipped)/2] ^= 0xff
	f.Add(flipped)
	f.Add(seedCompressedBlock(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "msgs"), 0o755)
		if err := os.WriteFile(filepath.Join(dir, "msgs", "0000000000.blk"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := filestore.Config{Dir: dir, FS: noSyncFS{}}
		s, err := filestore.Open(cfg, store.Config{})
		if errors.Is(err, filestore.ErrKey) {
			return // a valid encrypted record, and no key
		}
		if err != nil {
			t.Fatalf("Open failed on damaged data: %v", err)
		}
		st1, m1 := dump(t, s)
		for i := 1; i < len(m1); i++ {
			if m1[i].Seq <= m1[i-1].Seq {
				t.Fatalf("sequences out of order: %d after %d", m1[i].Seq, m1[i-1].Seq)
			}
		}
		if st1.Msgs != uint64(len(m1)) {
			t.Fatalf("State().Msgs = %d, loaded %d", st1.Msgs, len(m1))
		}
		s.Close()
		s, err = filestore.Open(cfg, store.Config{})
		if err != nil {
			t.Fatalf("second Open: %v", err)
		}
		st2, m2 := dump(t, s)
		if !reflect.DeepEqual(st1, st2) || !reflect.DeepEqual(m1, m2) {
			t.Fatalf("recovery not idempotent:\n%+v\n%+v", st1, st2)
		}
		seq, err := s.StoreMsg("new", nil, []byte("x"), 0, 0)
		if err != nil || seq != st2.LastSeq+1 {
			t.Fatalf("StoreMsg after recovery = %d, %v (last %d)", seq, err, st2.LastSeq)
		}
		s.Close()
	})
}
