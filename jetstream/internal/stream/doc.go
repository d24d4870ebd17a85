// Package stream is a JetStream stream: its configuration rules, and the
// one apply path through which every change of its state goes (store a
// published message or an atomic batch, delete one, purge, update the
// configuration).
//
// Changes arrive as Ops. On a single server an Op is applied as soon as
// it is proposed; a replicated stream orders the same Ops through its Raft
// log first and applies them in log order on every replica. Apply is
// deterministic given the stream's state and the Op (the time of a
// message travels in the Op), so replicas stay identical.
//
// A publish is checked in upstream's order (required API level, header
// size, counter increment, expected stream, TTL, dedupe window, expected
// last sequence / subject sequence / msg id, rollup, max message size),
// stored, and acknowledged once the store reports it durable, or at once
// when the stream opted out of durability. Errors answer with the stream's
// name and the API error, as upstream.
//
// Features of the publish path: per-message TTL and subject delete
// markers (ADR-43, markers.go), counters (ADR-49, counter.go), atomic
// batches (ADR-50, batch.go: staged without the stream's lock, committed
// as one OpBatch that stores all of its messages or none).
//
// # Concurrency
//
// mu serializes Apply. ProcessMsg runs on the stream's capture goroutine
// and takes mu only to propose. The store's OnRemove may run on a
// goroutine that holds mu (a StoreMsg or UpdateConfig removing by limits),
// so it only queues; a marker goroutine writes markers under mu. Batch
// staging has its own lock, never held while taking mu. Lock order: mu,
// then the batch lock or the marker queue's lock.
package stream
