package filestore

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"natsd.dev/jetstream/store"
	"natsd.dev/jetstream/store/internal/cstate"
)

// Consumer state files live in <Dir>/consumers/<name>.cs:
//
//	+---------+-------------+-------------------------------------+
//	| "NCS2"  | CRC-32C u32 | cstate encoding of the ConsumerState |
//	+---------+-------------+-------------------------------------+
//
// The body is package cstate's varint-delta encoding (about 5 bytes per
// pending ack). Files are replaced atomically: written to <name>.cs.tmp,
// fsynced, renamed over the old file, and the directory fsynced. The JSON
// body of "NCS1" was never released and is not read.
const consumerMagic = "NCS2"

// consumerState is the shared state of one consumer name. It keeps the
// state encoded as in its file (a few bytes per pending ack) and decodes it
// on State, which consumers call when they recover.
type consumerState struct {
	s    *Store
	name string
	path string

	mu      sync.Mutex
	data    []byte // the file's bytes; nil if never set
	spare   []byte // the previous data's buffer, for the next encoding
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
		var st store.ConsumerState
		if err := decodeConsumer(data, &st); err != nil {
			s.report.Errors = append(s.report.Errors, fmt.Errorf("filestore: consumer %q: %w", name, err))
			continue
		}
		s.consumers[name] = &consumerState{s: s, name: name, path: path, data: data}
	}
	return nil
}

// appendConsumer appends the file encoding of st to dst.
func appendConsumer(dst []byte, st *store.ConsumerState) []byte {
	dst = append(dst, consumerMagic...)
	dst = append(dst, 0, 0, 0, 0)
	dst = cstate.Append(dst, st)
	binary.LittleEndian.PutUint32(dst[4:], crc32.Checksum(dst[8:], castagnoli))
	return dst
}

// decodeConsumer decodes a consumer state file into into.
func decodeConsumer(b []byte, into *store.ConsumerState) error {
	if len(b) < 8 || string(b[:4]) != consumerMagic {
		return fmt.Errorf("filestore: bad consumer state header: %w", store.ErrCorrupt)
	}
	if crc32.Checksum(b[8:], castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return fmt.Errorf("filestore: consumer state checksum: %w", store.ErrCorrupt)
	}
	if err := cstate.Decode(b[8:], into); err != nil {
		return fmt.Errorf("filestore: consumer state: %w", err)
	}
	return nil
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
	if err := state.Check(); err != nil {
		return err
	}
	buf := cs.spare
	if cap(buf) > 2*cstate.Size(state)+4096 {
		buf = nil // shrink after a backlog drained
	}
	data := appendConsumer(buf[:0], state)
	if err := writeFileAtomic(cs.s.fs, cs.path, data); err != nil {
		cs.spare = data
		return fmt.Errorf("filestore: consumer %q: %w", cs.name, err)
	}
	cs.data, cs.spare = data, cs.data
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
	if cs.data == nil {
		*into = store.ConsumerState{Pending: into.Pending[:0], Redelivered: into.Redelivered[:0]}
		return nil
	}
	return decodeConsumer(cs.data, into)
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
