package memstore

import (
	"slices"
	"strings"
	"sync"

	"natsd.dev/jetstream/store"
	"natsd.dev/jetstream/store/internal/cstate"
)

// consumer is the in-memory store.ConsumerStore.
type consumer struct {
	s    *Store
	name string

	mu     sync.Mutex
	closed bool   // the stream store closed or this consumer was deleted
	data   []byte // the state in package cstate's encoding; nil: never set
	spare  []byte // the previous data's buffer, for the next encoding
}

func validConsumerName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "/\\.*> \t\r\n\f")
}

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
	if c, ok := s.consumers[name]; ok {
		return c, nil
	}
	if s.consumers == nil {
		s.consumers = make(map[string]*consumer)
	}
	c := &consumer{s: s, name: name}
	s.consumers[name] = c
	return c, nil
}

// SetState implements store.ConsumerStore. The state is kept encoded
// (varint deltas, about 4 bytes per pending ack rather than 24).
func (c *consumer) SetState(state *store.ConsumerState) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return store.ErrStoreClosed
	}
	if err := state.Check(); err != nil {
		return err
	}
	buf := c.spare
	if cap(buf) > 2*cstate.Size(state)+4096 {
		buf = nil // shrink after a backlog drained
	}
	c.spare = c.data
	c.data = cstate.Append(buf[:0], state)
	return nil
}

// State implements store.ConsumerStore.
func (c *consumer) State(into *store.ConsumerState) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return store.ErrStoreClosed
	}
	if c.data == nil {
		*into = store.ConsumerState{Pending: into.Pending[:0], Redelivered: into.Redelivered[:0]}
		return nil
	}
	return cstate.Decode(c.data, into)
}

// encoded returns a copy of the encoded state (an empty state's if never
// set).
func (c *consumer) encoded() ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, store.ErrStoreClosed
	}
	if c.data == nil {
		return cstate.Append(nil, &store.ConsumerState{}), nil
	}
	return slices.Clone(c.data), nil
}

func (c *consumer) Delete() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return store.ErrStoreClosed
	}
	c.closed = true
	c.data, c.spare = nil, nil
	c.mu.Unlock()

	c.s.mu.Lock()
	if c.s.consumers[c.name] == c {
		delete(c.s.consumers, c.name)
	}
	c.s.mu.Unlock()
	return nil
}

// close marks c closed; the store's mu is held.
func (c *consumer) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
}
