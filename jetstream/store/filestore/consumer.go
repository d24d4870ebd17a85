package filestore

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"natsd.dev/jetstream/store"
)

// Consumer state files live in <Dir>/consumers/<name>.cs:
//
//	+---------+------------+-----------------------------+
//	| "NCS1"  | CRC-32C u32| JSON of store.ConsumerState |
//	+---------+------------+-----------------------------+
//
// They are replaced atomically: written to <name>.cs.tmp, fsynced, renamed
// over the old file, and the directory fsynced.
const consumerMagic = "NCS1"

// consumerState is the shared state of one consumer name.
type consumerState struct {
	s    *Store
	name string
	path string

	mu      sync.Mutex
	state   store.ConsumerState
	deleted bool
}

// consumerStore is the store.ConsumerStore handed out by Consumer.
type consumerStore struct{ cs *consumerState }

func validConsumerName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "/\\.*> \t\r\n\f\v")
}

func (s *Store) consumerDir() string { return filepath.Join(s.dir, "consumers") }

// Consumer implements store.StreamStore.
func (s *Store) Consumer(name string) (store.ConsumerStore, error) {
	if !validConsumerName(name) {
		return nil, store.ErrInvalidConsumerName
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, store.ErrStoreClosed
	}
	cs := s.consumers[name]
	if cs == nil {
		cs = &consumerState{s: s, name: name, path: filepath.Join(s.consumerDir(), name+".cs")}
		s.consumers[name] = cs
	}
	return consumerStore{cs}, nil
}

func (s *Store) loadConsumers() error {
	ents, err := s.fs.ReadDir(s.consumerDir())
	if err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".cs")
		if !ok || !validConsumerName(name) {
			if strings.HasSuffix(e.Name(), ".tmp") {
				s.fs.Remove(filepath.Join(s.consumerDir(), e.Name()))
			}
			continue
		}
		path := filepath.Join(s.consumerDir(), e.Name())
		data, err := readFile(s.fs, path)
		if err != nil {
			return fmt.Errorf("filestore: %w", err)
		}
		st, err := decodeConsumer(data)
		if err != nil {
			s.report.Errors = append(s.report.Errors, fmt.Errorf("filestore: consumer %q: %w", name, err))
			continue
		}
		s.consumers[name] = &consumerState{s: s, name: name, path: path, state: st}
	}
	return nil
}

func encodeConsumer(st *store.ConsumerState) ([]byte, error) {
	js, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 8, 8+len(js))
	copy(out, consumerMagic)
	binary.LittleEndian.PutUint32(out[4:], crc32.Checksum(js, castagnoli))
	return append(out, js...), nil
}

func decodeConsumer(b []byte) (store.ConsumerState, error) {
	var st store.ConsumerState
	if len(b) < 8 || string(b[:4]) != consumerMagic {
		return st, fmt.Errorf("filestore: bad consumer state header: %w", store.ErrCorrupt)
	}
	if crc32.Checksum(b[8:], castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return st, fmt.Errorf("filestore: consumer state checksum: %w", store.ErrCorrupt)
	}
	if err := json.Unmarshal(b[8:], &st); err != nil {
		return st, fmt.Errorf("filestore: consumer state: %v: %w", err, store.ErrCorrupt)
	}
	return st, nil
}

// writeFileAtomic replaces path with data durably.
func writeFileAtomic(fsys FS, path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := fsys.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err = f.WriteAt(data, 0); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsys.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(fsys, filepath.Dir(path))
	}
	if err != nil {
		fsys.Remove(tmp)
	}
	return err
}

func copyConsumerState(st *store.ConsumerState) store.ConsumerState {
	out := store.ConsumerState{Delivered: st.Delivered, AckFloor: st.AckFloor}
	if len(st.Pending) > 0 {
		out.Pending = make(map[uint64]store.Pending, len(st.Pending))
		for k, v := range st.Pending {
			out.Pending[k] = v
		}
	}
	if len(st.Redelivered) > 0 {
		out.Redelivered = make(map[uint64]uint64, len(st.Redelivered))
		for k, v := range st.Redelivered {
			out.Redelivered[k] = v
		}
	}
	return out
}

func (c consumerStore) check() error {
	if c.cs.deleted {
		return store.ErrStoreClosed
	}
	c.cs.s.mu.Lock()
	closed := c.cs.s.closed
	c.cs.s.mu.Unlock()
	if closed {
		return store.ErrStoreClosed
	}
	return nil
}

// SetState implements store.ConsumerStore: the state is on disk when it
// returns.
func (c consumerStore) SetState(state *store.ConsumerState) error {
	cs := c.cs
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if err := c.check(); err != nil {
		return err
	}
	st := copyConsumerState(state)
	data, err := encodeConsumer(&st)
	if err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	if err := writeFileAtomic(cs.s.fs, cs.path, data); err != nil {
		return fmt.Errorf("filestore: consumer %q: %w", cs.name, err)
	}
	cs.state = st
	return nil
}

// State implements store.ConsumerStore.
func (c consumerStore) State(into *store.ConsumerState) error {
	cs := c.cs
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if err := c.check(); err != nil {
		return err
	}
	*into = copyConsumerState(&cs.state)
	return nil
}

// Delete implements store.ConsumerStore.
func (c consumerStore) Delete() error {
	cs := c.cs
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if err := c.check(); err != nil {
		return err
	}
	cs.deleted = true
	s := cs.s
	s.mu.Lock()
	if s.consumers[cs.name] == cs {
		delete(s.consumers, cs.name)
	}
	s.mu.Unlock()
	if err := s.fs.Remove(cs.path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("filestore: consumer %q: %w", cs.name, err)
	}
	if err := syncDir(s.fs, s.consumerDir()); err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	return nil
}
