package memstore

import (
	"maps"
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

func copyState(dst, src *store.ConsumerState) {
	dst.Delivered, dst.AckFloor = src.Delivered, src.AckFloor
	dst.Pending, dst.Redelivered = nil, nil
	if len(src.Pending) > 0 {
		dst.Pending = maps.Clone(src.Pending)
	}
	if len(src.Redelivered) > 0 {
		dst.Redelivered = maps.Clone(src.Redelivered)
	}
}

func (c *consumer) SetState(state *store.ConsumerState) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return store.ErrStoreClosed
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
