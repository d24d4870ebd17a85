// Package subjidx indexes the literal subjects a store holds, so that a
// store finds one subject's state with a map lookup and enumerates the
// subjects matching a wildcard filter without looking at the others.
//
// An Index is not safe for concurrent use; stores guard it with their lock.
package subjidx

import "strings"

// Index maps literal subjects to values and matches filters against them
// through a token trie. The zero Index is empty and ready to use.
type Index[V any] struct {
	m    map[string]V
	root node[V]
}

type node[V any] struct {
	children map[string]*node[V]
	val      V
	has      bool
}

// Len returns the number of subjects in the index.
func (x *Index[V]) Len() int { return len(x.m) }

// Get returns the value of subject and whether it is present.
func (x *Index[V]) Get(subject string) (V, bool) {
	v, ok := x.m[subject]
	return v, ok
}

// Insert adds subject with value v, replacing any earlier value. The index
// keeps subject (and substrings of it), so it should be a string the caller
// does not mutate through unsafe tricks.
func (x *Index[V]) Insert(subject string, v V) {
	if x.m == nil {
		x.m = make(map[string]V)
	}
	x.m[subject] = v
	n := &x.root
	for rest := subject; ; {
		tok, r, more := strings.Cut(rest, ".")
		c := n.children[tok]
		if c == nil {
			if n.children == nil {
				n.children = make(map[string]*node[V], 1)
			}
			c = &node[V]{}
			n.children[tok] = c
		}
		n = c
		if !more {
			break
		}
		rest = r
	}
	n.val, n.has = v, true
}

// Delete removes subject from the index, if present.
func (x *Index[V]) Delete(subject string) {
	if _, ok := x.m[subject]; !ok {
		return
	}
	delete(x.m, subject)
	x.root.remove(subject)
}

// remove clears subject below n and reports whether n became empty.
func (n *node[V]) remove(subject string) bool {
	tok, rest, more := strings.Cut(subject, ".")
	c := n.children[tok]
	if c == nil {
		return false
	}
	if more {
		if !c.remove(rest) {
			return false
		}
	} else {
		var zero V
		c.val, c.has = zero, false
	}
	if !c.has && len(c.children) == 0 {
		delete(n.children, tok)
	}
	return !n.has && len(n.children) == 0
}

// All calls fn for every subject's value, in no particular order, until fn
// returns false.
func (x *Index[V]) All(fn func(V) bool) {
	for _, v := range x.m {
		if !fn(v) {
			return
		}
	}
}

// Match calls fn for the value of every subject matching filter, in no
// particular order, until fn returns false. filter must be a valid filter;
// its cost is proportional to the trie nodes the filter can reach, not to
// the number of subjects.
func (x *Index[V]) Match(filter string, fn func(V) bool) {
	if filter == "" || filter == ">" {
		x.All(fn)
		return
	}
	x.root.match(filter, fn)
}

func (n *node[V]) match(filter string, fn func(V) bool) bool {
	tok, rest, more := strings.Cut(filter, ".")
	switch tok {
	case ">":
		for _, c := range n.children {
			if !c.walk(fn) {
				return false
			}
		}
		return true
	case "*":
		for _, c := range n.children {
			if !c.step(rest, more, fn) {
				return false
			}
		}
		return true
	}
	c := n.children[tok]
	if c == nil {
		return true
	}
	return c.step(rest, more, fn)
}

func (c *node[V]) step(rest string, more bool, fn func(V) bool) bool {
	if more {
		return c.match(rest, fn)
	}
	if c.has {
		return fn(c.val)
	}
	return true
}

func (n *node[V]) walk(fn func(V) bool) bool {
	if n.has && !fn(n.val) {
		return false
	}
	for _, c := range n.children {
		if !c.walk(fn) {
			return false
		}
	}
	return true
}
