package filestore_test

import (
	"testing"

	"natsd.dev/jetstream/store"
	"natsd.dev/jetstream/store/filestore"
	"natsd.dev/jetstream/store/filestore/fstest"
	"natsd.dev/jetstream/store/storetest"
)

func conformanceConfigs() []struct {
	name string
	cfg  filestore.Config
} {
	return []struct {
		name string
		cfg  filestore.Config
	}{
		{"GroupCommit", filestore.Config{}},
		{"SmallBlocks", filestore.Config{BlockSize: 256, CacheSize: 512}},
		{"Encrypted", filestore.Config{BlockSize: 4096, EncryptionKey: []byte("0123456789abcdef0123456789abcdef")}},
		{"Compressed", filestore.Config{BlockSize: 1024, CacheSize: 2048, Compress: true}},
		{"CompressedEncrypted", filestore.Config{BlockSize: 4096, Compress: true, EncryptionKey: []byte("0123456789abcdef")}},
		// The in-memory page-cache file system of the crash tests.
		{"MemFS", filestore.Config{BlockSize: 512, FS: fstest.New()}},
	}
}

func TestConformance(t *testing.T) {
	for _, c := range conformanceConfigs() {
		t.Run(c.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, cfg store.Config) store.StreamStore {
				fc := c.cfg
				fc.Dir = t.TempDir()
				s, err := filestore.Open(fc, cfg)
				if err != nil {
					t.Fatal(err)
				}
				return s
			})
		})
	}
}

// TestConformancePersistent runs the clean-restart suite in the same
// configurations; under MemFS every reopen of a directory shares the
// configuration's file system.
func TestConformancePersistent(t *testing.T) {
	for _, c := range conformanceConfigs() {
		t.Run(c.name, func(t *testing.T) {
			storetest.RunPersistent(t, func(t *testing.T, dir string, cfg store.Config) store.StreamStore {
				fc := c.cfg
				fc.Dir = dir
				s, err := filestore.Open(fc, cfg)
				if err != nil {
					t.Fatal(err)
				}
				return s
			})
		})
	}
}
