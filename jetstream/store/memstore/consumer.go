package memstore

import (
	"strings"
	"sync"

	"natsd.dev/jetstream/store"
)

// consumer is the in-memory store.ConsumerStore.
type consumer struct {
	s    *Store
	name string

	mu     sync.Mutex
	closed bool // the stream store closed or this consumer was deleted
	state  store.ConsumerState
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

// copyState copies src into dst, reusing dst's slices.
func copyState(dst, src *store.ConsumerState) {
	dst.Delivered, dst.AckFloor = src.Delivered, src.AckFloor
	dst.Pending = append(dst.Pending[:0], src.Pending...)
	dst.Redelivered = append(dst.Redelivered[:0], src.Redelivered...)
}

func (c *consumer) SetState(state *store.ConsumerState) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return store.ErrStoreClosed
	}
	if err := state.Check(); err != nil {
		return err
	}
	if cap(c.state.Pending) > 2*len(state.Pending)+64 {
		c.state.Pending = nil // shrink after a backlog drained
	}
	if cap(c.state.Redelivered) > 2*len(state.Redelivered)+64 {
		c.state.Redelivered = nil
	}
	copyState(&c.state, state)
	return nil
}

func (c *consumer) State(into *store.ConsumerState) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return store.ErrStoreClosed
	}
	copyState(into, &c.state)
	return nil
}

func (c *consumer) Delete() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return store.ErrStoreClosed
	}
	c.closed = true
	c.state = store.ConsumerState{}
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
