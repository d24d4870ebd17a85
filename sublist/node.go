package sublist

import (
	"slices"
	"sync/atomic"
)

// The trie. A level holds the children of one node position: literal tokens
// in a map (created on first use) and the two wildcards in their own
// fields, so matching a token costs one map lookup plus two nil checks.
// A node holds the subscriptions whose filter ends at it and, if longer
// filters pass through it, the next level. Nodes are kept small because
// most subjects have one subscriber (inboxes): a leaf with one plain
// subscription costs the map slot, a 48-byte node and one value.

type level[T comparable] struct {
	// A level with one literal child keeps it inline (key, child): long
	// filters like "$JS.API.CONSUMER.INFO.x.y" are chains of such levels,
	// and a map per link would cost more than the rest of the node.
	key   string
	child *node[T]
	nodes map[string]*node[T] // literal children once there are two or more
	pwc   *node[T]
	fwc   *node[T]
}

// get returns the literal child for tok, or nil.
func (l *level[T]) get(tok string) *node[T] {
	if l.nodes != nil {
		return l.nodes[tok]
	}
	if l.child != nil && l.key == tok {
		return l.child
	}
	return nil
}

// put adds the literal child n for tok, which must not be there yet.
func (l *level[T]) put(tok string, n *node[T]) {
	switch {
	case l.nodes != nil:
		l.nodes[tok] = n
	case l.child == nil:
		l.key, l.child = tok, n
	default:
		l.nodes = map[string]*node[T]{l.key: l.child, tok: n}
		l.key, l.child = "", nil
	}
}

// del removes the literal child for tok.
func (l *level[T]) del(tok string) {
	if l.nodes == nil {
		if l.key == tok {
			l.key, l.child = "", nil
		}
		return
	}
	delete(l.nodes, tok)
	if len(l.nodes) == 1 {
		for k, n := range l.nodes {
			l.key, l.child = k, n
		}
		l.nodes = nil
	}
}

// literals calls fn for every literal child.
func (l *level[T]) literals(fn func(tok string, n *node[T])) {
	if l.child != nil {
		fn(l.key, l.child)
	}
	for k, n := range l.nodes {
		fn(k, n)
	}
}

func (l *level[T]) empty() bool {
	return l.child == nil && l.nodes == nil && l.pwc == nil && l.fwc == nil
}

type node[T comparable] struct {
	next  *level[T]
	plain []T
	more  *nodeMore[T] // nil unless the node has queue subscribers or many plain ones
}

// nodeMore holds the rarely needed parts of a node.
type nodeMore[T comparable] struct {
	plainIdx map[T]int // position in plain; only when plain is large
	// plainShared is set when a published Result aliases plain's array
	// (only done while plainIdx is set); the next remove copies first.
	plainShared atomic.Bool
	queues      []*qgroup[T]
}

type qgroup[T comparable] struct {
	name    string
	members []T
	idx     map[T]int   // position in members; only when members is large
	shared  atomic.Bool // a published Result aliases members' array
}

func (n *node[T]) hasSubs() bool {
	return len(n.plain) > 0 || (n.more != nil && len(n.more.queues) > 0)
}

// add adds v to n as a plain (queue == "") or queue subscriber. It reports
// false if v was already there.
func (n *node[T]) add(queue string, v T) bool {
	if queue == "" {
		if n.more == nil && len(n.plain) >= indexMin {
			n.more = &nodeMore[T]{}
		}
		if n.more == nil {
			return setAdd(&n.plain, nil, nil, v)
		}
		return setAdd(&n.plain, &n.more.plainIdx, &n.more.plainShared, v)
	}
	if n.more == nil {
		n.more = &nodeMore[T]{}
	}
	for _, g := range n.more.queues {
		if g.name == queue {
			return setAdd(&g.members, &g.idx, &g.shared, v)
		}
	}
	n.more.queues = append(n.more.queues, &qgroup[T]{name: queue, members: []T{v}})
	return true
}

// remove removes v and reports whether it was there.
func (n *node[T]) remove(queue string, v T) bool {
	if queue == "" {
		if n.more == nil {
			return setRemove(&n.plain, nil, nil, v)
		}
		ok := setRemove(&n.plain, &n.more.plainIdx, &n.more.plainShared, v)
		n.shrinkMore()
		return ok
	}
	if n.more == nil {
		return false
	}
	qs := n.more.queues
	for i, g := range qs {
		if g.name != queue {
			continue
		}
		if !setRemove(&g.members, &g.idx, &g.shared, v) {
			return false
		}
		if len(g.members) == 0 {
			last := len(qs) - 1
			qs[i] = qs[last]
			qs[last] = nil
			n.more.queues = qs[:last]
			if last == 0 {
				n.more.queues = nil
			}
			n.shrinkMore()
		}
		return true
	}
	return false
}

func (n *node[T]) shrinkMore() {
	if m := n.more; m != nil && m.plainIdx == nil && len(m.queues) == 0 && !m.plainShared.Load() {
		n.more = nil
	}
}

// indexMin is the set size from which a map index replaces linear search,
// so that removing one of many subscribers on a hot subject stays O(1).
const indexMin = 32

// setAdd appends v to *items unless present. idx, when not nil, points to
// the optional index, which setAdd builds once the set is large. shared,
// when not nil, tells whether a published Result aliases the array;
// appending never writes inside a published (clipped) view, so it only
// notes when the append moved to a new array.
func setAdd[T comparable](items *[]T, idx *map[T]int, shared *atomic.Bool, v T) bool {
	if idx != nil && *idx != nil {
		if _, ok := (*idx)[v]; ok {
			return false
		}
		(*idx)[v] = len(*items)
	} else if slices.Contains(*items, v) {
		return false
	}
	old := cap(*items)
	*items = append(*items, v)
	if shared != nil && cap(*items) != old {
		shared.Store(false)
	}
	if idx != nil && *idx == nil && len(*items) > indexMin {
		m := make(map[T]int, len(*items))
		for i, x := range *items {
			m[x] = i
		}
		*idx = m
	}
	return true
}

// setRemove removes v from *items by moving the last element into its
// place, after copying the array if a published Result aliases it.
func setRemove[T comparable](items *[]T, idx *map[T]int, shared *atomic.Bool, v T) bool {
	s := *items
	i := -1
	if idx != nil && *idx != nil {
		j, ok := (*idx)[v]
		if !ok {
			return false
		}
		i = j
		delete(*idx, v)
	} else if i = slices.Index(s, v); i < 0 {
		return false
	}
	if shared != nil && shared.Load() {
		s = slices.Clone(s)
		shared.Store(false)
	}
	last := len(s) - 1
	if i != last {
		s[i] = s[last]
		if idx != nil && *idx != nil {
			(*idx)[s[i]] = i
		}
	}
	var zero T
	s[last] = zero // let the value be collected
	s = s[:last]
	switch {
	case last == 0:
		s = nil
	case cap(s) > 64 && last < cap(s)/4:
		s = slices.Clone(s)
	}
	if idx != nil && *idx != nil && last < indexMin/2 {
		*idx = nil
	}
	*items = s
	return true
}
