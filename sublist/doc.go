// Package sublist implements NATS subjects: validation, wildcard matching and
// a subscription trie with a bounded match cache.
package sublist
