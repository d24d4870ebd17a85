package memstore_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"natsd.dev/jetstream/store"
	"natsd.dev/jetstream/store/memstore"
	"natsd.dev/jetstream/store/storetest"
)

func open(t *testing.T, cfg store.Config) store.StreamStore {
	s, err := memstore.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, open)
}

// snapshotBacked makes a memory store persistent through Snapshot on Close
// and Restore on open, which is enough to check RunPersistent itself.
type snapshotBacked struct {
	*memstore.Store
	path string
}

func (s snapshotBacked) Close() error {
	var buf bytes.Buffer
	if err := s.Snapshot(context.Background(), &buf); err != nil {
		return err
	}
	if err := os.WriteFile(s.path, buf.Bytes(), 0o600); err != nil {
		return err
	}
	return s.Store.Close()
}

func TestPersistentSuite(t *testing.T) {
	storetest.RunPersistent(t, func(t *testing.T, dir string, cfg store.Config) store.StreamStore {
		s := open(t, cfg).(*memstore.Store)
		path := filepath.Join(dir, "snapshot")
		if b, err := os.ReadFile(path); err == nil {
			if err := s.Restore(t.Context(), bytes.NewReader(b)); err != nil {
				t.Fatal(err)
			}
		}
		return snapshotBacked{s, path}
	})
}
