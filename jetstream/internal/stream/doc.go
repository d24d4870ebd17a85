// Package stream is a JetStream stream: its configuration rules, and the
// one apply path through which every change of its state goes (store a
// published message, delete one, purge, update the configuration).
//
// Changes arrive as Ops. On a single server an Op is applied as soon as
// it is proposed; a replicated stream orders the same Ops through its Raft
// log first and applies them in log order on every replica. Apply is
// deterministic given the stream's state and the Op (the time of a
// message travels in the Op), so replicas stay identical.
//
// A publish is checked (expected stream, last sequence, last subject
// sequence, last msg id, dedupe window, rollup, TTL, counters), stored,
// and acknowledged once the store reports it durable, or at once when the
// stream opted out of durability.
package stream
