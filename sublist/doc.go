// Package sublist implements NATS subjects: validation, wildcard matching,
// a subscription trie with a bounded match cache, and subject transforms
// (mappings). It has no dependencies and is generic over the subscription
// value, so it can be used outside natsd.
//
// # Subject syntax
//
// A subject is a string of tokens separated by dots ("orders.eu.12345").
// Tokens are non-empty and contain no space, tab, CR, LF or form feed;
// other bytes, including non-ASCII ones, are allowed. A filter may use two
// wildcards, each a whole token:
//
//	"orders.*"  '*' matches exactly one token:       "orders.eu"
//	"orders.>"  '>' matches one or more last tokens: "orders.eu", "orders.eu.1"
//
// '>' must be the last token. A '*' or '>' inside a longer token ("a*",
// "b>") is an ordinary character. These are upstream's non-pedantic rules
// (nats-server's IsValidSubject): ValidSubject and ValidFilter check them,
// ValidLiteralSubject also refuses wildcard tokens (what a publisher may
// use in pedantic mode), SubjectMatchesFilter and IsSubsetMatch compare
// subjects and filters without allocating, and Tokens iterates over tokens
// without allocating.
//
// # Usage
//
// A Sublist maps filters to values of any comparable type T, typically a
// pointer to the server's subscription:
//
//	subs := sublist.New[*Subscription]()
//	subs.Insert("orders.*", "", sub1)          // plain subscription
//	subs.Insert("orders.eu", "workers", sub2)  // member of queue group "workers"
//
//	r := subs.Match("orders.eu")
//	for _, s := range r.Plain { deliver(s) }           // every plain subscriber
//	for _, g := range r.Queues { deliver(pick(g.Members)) } // one per group
//
//	subs.Remove("orders.*", "", sub1)
//
// When a connection closes, RemoveBatch removes its subscriptions under one
// lock acquisition. HasInterest answers "does anyone listen" without
// building a result. Stats reports the numbers of upstream's /subsz.
//
// # Concurrency
//
// A Sublist is safe for concurrent use. Insert, Remove and RemoveBatch are
// serialized by a mutex; cache misses walk the trie under its read lock, so
// they run in parallel with each other. A cache hit takes no lock at all:
// the cache is a fixed-size table of atomically published entries, and a
// hit is one hash, one or two atomic loads and a string comparison. Writers
// drop the cached results they affect before they return (a literal filter
// drops one entry, a wildcard filter every cached subject it matches), so a
// Match that starts after Insert or Remove returns sees the change; a Match
// running concurrently with a writer sees the state before or after it.
// A wildcard insert or remove checks the cached subjects against its
// filter through a 64-bit signature per slot, dereferencing only the
// candidates. The cache holds at most Options.CacheSize results (1024 by
// default, as upstream); each subject may live in one of two sets of 8
// slots and, when both are full, evicts a slot, so no sweeper goroutine is
// needed. The package starts no goroutines.
//
// # What is cached
//
// Match and MatchBytes cache the result of a subject on its second miss
// within a recent window, not its first: subjects used once (JetStream ack
// subjects, fresh reply inboxes) would cost an entry and a copy of the
// subject each and evict the results of hot subjects. A doorkeeper, a
// Bloom filter of 32 bits per cache slot, remembers the subjects seen; it
// is cleared every CacheSize misses, so a subject is cached when its
// second miss comes within about CacheSize misses of its first. About one
// first-seen subject in 500 is a false positive and is cached at once. A
// first-seen subject costs the trie walk and its Result, nothing for the
// cache (no allocation, no eviction). A subject whose cached result was
// invalidated or evicted is cached again on its second miss, or on its
// first if it also missed shortly before. Results for subjects without interest
// are cached like others; HasInterest reads the cache but never fills it.
// The doorkeeper keeps no results, so it never needs invalidation.
//
// Stats count what this does: NumCache is the number of cached results,
// NumMatches every Match, MatchBytes and HasInterest call, and
// CacheHitRate the fraction of them answered by the cache, so the first
// two matches of a subject count as misses.
//
// # Memory
//
// A Result is shared: the same *Result is cached and handed to every
// caller matching the same subject, so it must be treated as read-only,
// including its slices. It stays valid and unchanged after later inserts
// and removes, which build new results instead of modifying published
// ones; callers may keep it as long as they like. Results for subjects with
// no interest share one empty Result.
//
// To keep misses cheap, a Result whose values all come from one large set
// (more than 32 plain subscribers on one filter, or a queue group) shares
// that set's array instead of copying it, clipped so that appending to it
// copies. The set is then copy-on-write: the next Remove from it copies the
// array first, so a Remove on a hot subject costs O(subscribers) once per
// publication, where upstream pays that copy on every cache miss.
//
// The trie keeps per subscription a map slot, a node of 40 bytes shared by
// all subscriptions on the same filter (a leaf holds its first value in the
// same allocation) and the value; filter strings are copied once on first
// insert so that the caller's buffers are not retained. Levels with a
// single literal child keep it inline instead of in a map, so long filters
// cost little. Nodes left empty by Remove are freed. Sets larger than 32
// values get a map index so that Remove stays O(1). An inbox-like
// subscription ("_INBOX.<22 characters>", one subscriber) costs about
// 70-125 bytes of heap including the copy of its subject (see
// BenchmarkMemoryPerSubscription); the cache adds about 20 bytes per slot
// (1024 slots by default, with the doorkeeper) once the first Match
// misses, and each cached result holds a copy of its subject.
//
// # Transforms
//
// Transform implements upstream's subject mapping syntax, used by account
// mappings, imports and exports, and JetStream streams: a source filter and
// a destination that refers to the source's wildcards with $n or with
// {{wildcard(n)}}, {{partition(p,n...)}}, {{split(n,d)}},
// {{splitFromLeft(n,i)}}, {{splitFromRight(n,i)}}, {{sliceFromLeft(n,i)}},
// {{sliceFromRight(n,i)}}, {{left(n,i)}}, {{right(n,i)}} and
// {{random(p)}}. Partition numbers are computed exactly as upstream
// computes them (FNV-1a, 32 bit, over the referenced tokens concatenated,
// modulo p), so natsd and nats-server servers agree on partitions. See
// Transform for the details and NewTransformStrict for import rules.
//
// # Errors
//
// Insert and Remove return ErrInvalidSubject for malformed filters and
// Remove returns ErrNotFound for unknown subscriptions. Transform
// constructors return errors wrapping ErrInvalidSubject (bad source) or
// ErrBadMapping with a specific ErrMapping... sentinel, as a *MappingError
// naming the token at fault; Apply returns ErrNoTransform when the source
// does not match. Use errors.Is.
package sublist
